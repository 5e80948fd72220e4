"""Check and convert submitted facts to their declared types.

A facts mapping comes from a YAML/JSON file or a workbook.  Every value is
converted to its fact's type — ``bool``, ``Decimal``, ``date``, ``str`` or a list
of row dicts — or reported as a problem naming the fact, its label, the value
and what was expected.  Blank (``None``, empty text) stays ``None``; whether a
blank is acceptable is the engine's business, not this module's.

What each type accepts is the input contract (rules/contract.py).  Problems are
collected for every fact: :func:`convert_facts` (facts files) raises them
together as one :class:`FactsError`; :func:`read_facts` (workbooks) keeps each
invalid value as a :class:`~rubric_xl.rules.contract.Invalid`, whose items are
有误, and returns the problems.
"""
from __future__ import annotations

import datetime as _dt
import difflib
import math
import operator
from decimal import Decimal
from typing import Any, Callable, Mapping

from ..errors import FactsError, ProblemList
from ..rules import contract
from ..rules.contract import NOT_QUICK, BadValue, Invalid, quick_number, quick_text  # noqa: F401  (re-exported)
from ..rules.model import Fact
from ..rules.pack import RulePack
from ._table_code import table_code

# Spellings of yes/no accepted in cached *result* cells by the tamper check (not
# inputs: what an input may hold is the input contract, rules/contract.py).
TRUE_WORDS = {"是", "true", "yes", "y", "对", "√"}
FALSE_WORDS = {"否", "false", "no", "n", "错", "×"}
is_blank = contract.is_blank


def convert_value(f: Fact, raw: Any) -> Any:
    """Convert one non-table value (facts-file rules); ``None`` for blank;
    raises :class:`BadValue` (the input contract's expectation)."""
    if is_blank(raw):
        return None
    return contract.accept(f, raw, facts_file=True)


def _bad(f: Fact, raw: Any, key: str, cells: Callable[[str], str | None] | None, exc: contract.BadValue,
         label: str | None = None) -> contract.Invalid:
    """The invalid value, with what the contract said of it (``contract.expected(f)``,
    and, for a number ≥ 10^15, that it is out of range)."""
    why = str(exc) or contract.expected(f)
    return contract.Invalid(key, label or f.label, contract.shown(raw), why, cells(key) if cells else None)


def _unknown(key: str, known: list[str]) -> str:
    near = difflib.get_close_matches(key, known, n=1)
    hint = f"，是否应为 {near[0]}？" if near else ""
    return f"未知的事实 {key!r}（规则包中没有此事实{hint}）"


_MISS = object()


def _quick(f: Fact) -> tuple | None:
    """What a value of *f* may be taken as without the general path: ``("same",
    type)`` a raw value already of the fact's type (a ``bool`` for yes/no, a ``date``
    for a date); ``("number", bounds…)`` for ``contract.quick_number`` (an int or Decimal
    plainly valid); ``("text", options)`` for ``contract.quick_text`` (text with nothing to
    trim).  Anything else — or any doubt — goes through the input contract (``contract.accept``)."""
    if f.type == "bool":
        return ("same", bool)
    if f.type == "date":
        return ("same", _dt.date)
    if f.type in contract.NUMERIC:
        return ("number",) + contract.number_bounds(f)
    if f.type == "text":
        return ("text", None)
    if f.type == "enum":
        return ("text", frozenset(f.options or ()))
    return None


def _default(c: Fact) -> Any:
    """A column's default value (``None`` for none), as its type holds it."""
    d = c.default
    return d if d is None or not isinstance(d, (int, Decimal)) or isinstance(d, bool) else Decimal(d)


class _Plan:
    """How a pack's facts are read: every fact in pack order with its conversion
    memo (a table: its columns by id and per column id, column, memo, quick form,
    default); the facts a value already of their type may skip the general path
    for (``same``: position, id, type; ``numbers``: position, id, bounds, percent);
    the positions of every other fact (tables, options, text, decimals)."""

    def __init__(self, pack: RulePack):
        self.facts: list[tuple[str, Fact, Any]] = []
        self.same: list[tuple[int, str, type]] = []
        self.numbers: list[tuple[int, str, Any, Any, bool]] = []
        self.rest: list[int] = []
        for i, (fid, f) in enumerate(pack.facts.items()):
            table = f.type == "table"
            if table:
                cells = [(c.id, c, {}, _quick(c), _default(c)) for c in f.columns or []]
                self.facts.append((fid, f, ({c.id: c for c in f.columns or []}, cells, table_code(cells))))
            else:
                self.facts.append((fid, f, {}))
            quick = _quick(f)
            if quick is None or quick[0] == "text":  # one value per submission: the memo serves it
                self.rest.append(i)
            elif quick[0] == "same":
                self.same.append((i, fid, quick[1]))
            else:
                self.numbers.append((i, fid) + quick[1:])
        self.ids = list(pack.facts)
        # the quick reader is generated on the pack's BUILD_AFTER-th submission
        self.quick: Callable[[dict, bool], dict | None] | None = None
        self.uses = 0


BUILD_AFTER = 3  # submissions read by the general path before the quick reader is generated
_SMALL = tuple(Decimal(i) for i in range(1024))  # Decimal(i) made once for the commonest counts


def _quick_reader(pack: RulePack) -> Callable[[dict, bool], dict | None]:
    """One generated function ``(raw, facts_file) -> values`` for a submission whose
    every value is blank (``None``) or quick (:func:`_quick`: already of its type, a
    plainly valid number, an option or text with nothing to trim): the values
    :func:`read_facts` gives it, in pack order.  Anything else — an unknown key, a
    table with rows, a value in doubt — returns None: the general path decides.
    Pack values (fact ids, bounds, options) are bound names, never source text."""
    ns: dict[str, Any] = {"Decimal": Decimal, "quick_number": quick_number, "quick_text": quick_text,
                          "NOT_QUICK": NOT_QUICK, "LIMIT": contract.quick_limit(), "within": contract.within_digits,
                          "blanks": dict.fromkeys(pack.facts), "n": len(pack.facts), "SMALL": _SMALL}

    def bind(v: Any) -> str:
        name = f"k{len(ns)}"
        ns[name] = v
        return name

    def getter(ids: list[str]) -> str:  # a tuple of the values of *ids*
        return bind(operator.itemgetter(*ids) if len(ids) > 1 else (lambda d, k=ids[0]: (d[k],)))

    # the raw values over every fact blank, in pack order (an unknown key makes it
    # longer); only values that change are stored
    lines = ["    if raw.__class__ is not dict: return None",
             "    out = blanks.copy()",
             "    out.update(raw)",
             "    if len(out) != n: return None"]
    same: dict[type, list[str]] = {}
    each: list[tuple[str, Fact, tuple | None]] = []
    for fid, f in pack.facts.items():
        quick = _quick(f) if f.type != "table" else None
        if quick is not None and quick[0] == "same":
            same.setdefault(quick[1], []).append(fid)
        else:
            each.append((fid, f, quick))
    for cls, ids in same.items():  # values already of their type (or blank): one test per type, in C
        lines.append(f"    if not {{*map(type, {getter(ids)}(out))}} <= {bind(frozenset((cls, type(None))))}: "
                     "return None")
    if each:  # every other value in one call
        lines.append("    " + "".join(f"x{i}, " for i in range(len(each))) + f"= {getter([e[0] for e in each])}(out)")
    for i, (fid, f, quick) in enumerate(each):
        x, k = f"x{i}", bind(fid)
        if f.type == "table":
            lines.append(f"    if {x} is None: out[{k}] = []")
            lines.append("    else: return None")
        elif quick is None:
            lines.append(f"    if {x} is not None: return None")
        elif quick[0] == "text":
            if quick[1] is None:
                lines.append(f"    if {x} is not None and quick_text({x}, None) is NOT_QUICK: return None")
            else:  # an option with nothing to trim (an option quick_text would decline is never quick)
                plain = frozenset(o for o in quick[1] if quick_text(o, quick[1]) is not NOT_QUICK)
                lines.append(f"    if {x} is not None and ({x}.__class__ is not str or {x} not in {bind(plain)}): "
                             "return None")
        else:
            lo, hi, percent, whole = quick[1:]
            test = [f"{x}.__class__ is int", f"-LIMIT < {x} < LIMIT"]
            if lo is not None:
                test.append(f"{x} >= {bind(lo)}")
            if hi is not None:
                test.append(f"{x} <= {bind(hi)}")
            if percent:
                test.append(f"{x} != 1")
            a = 0 if lo is None else max(0, math.ceil(lo))
            b = len(_SMALL) if hi is None else min(len(_SMALL), math.floor(hi) + 1)
            head = "if"
            if not percent and a < b:  # the commonest: a small count within bounds, one test
                lines.append(f"    if {x}.__class__ is int and {bind(a)} <= {x} < {bind(b)}: out[{k}] = SMALL[{x}]")
                head = "elif"
            lines.append(f"    {head} {' and '.join(test)}: out[{k}] = SMALL[{x}] if 0 <= {x} < {len(_SMALL)} "
                         f"else Decimal({x})")
            if not whole and lo is not None and hi is not None and -contract.quick_limit() < lo \
                    and hi < contract.quick_limit():
                # quick_number of a Decimal within bounds written out (they keep it below 10^15)
                dec = [f"{x}.__class__ is Decimal", f"{x}.is_finite()", f"{bind(lo)} <= {x} <= {bind(hi)}"]
                if percent:
                    amb = contract.PERCENT_AMBIGUOUS
                    dec.append(f"not ({bind(amb[0])} < {x} <= {bind(amb[1])})")
                dec.append(f"(not facts_file or within({x}))")
                lines.append(f"    elif {' and '.join(dec)}: pass")
            lines.append(f"    elif {x} is not None:")
            lines.append(f"        {x} = quick_number({x}, {bind(lo)}, {bind(hi)}, {bind(percent)}, {bind(whole)}, "
                         "facts_file)")
            lines.append(f"        if {x} is NOT_QUICK: return None")
            lines.append(f"        out[{k}] = {x}")
    lines.append("    return out")
    src = "def quick(raw, facts_file):\n" + "\n".join(lines) + "\n"
    exec(compile(src, "<rubric-xl facts>", "exec"), ns)  # noqa: S102 - generated, see the docstring
    return ns["quick"]


def _plan(pack: RulePack) -> _Plan:
    plan = getattr(pack, "_convert_plan", None)
    if plan is None:
        plan = pack._convert_plan = _Plan(pack)  # type: ignore[attr-defined]
    return plan


def convert_facts(pack: RulePack, raw: Mapping[str, Any], source: str = "facts",
                  locate: Callable[[str], str] | None = None) -> dict[str, Any]:
    """Convert a whole facts file.  Missing facts are blank.  Raises FactsError
    listing every value that breaks the input contract.

    *locate* maps a fact id (or ``table[i].column``) to a location such as
    ``填报!C12``; by default the location is ``source: fact_id``.
    """
    values, problems = read_facts(pack, raw, source, locate, facts_file=True)
    if problems:
        raise FactsError(f"提交的数据有误：{source}", problems)
    return values


def read_facts(pack: RulePack, raw: Mapping[str, Any], source: str = "facts",
               locate: Callable[[str], str] | None = None,
               cells: Callable[[str], str | None] | None = None,
               facts_file: bool = False) -> tuple[dict[str, Any], list]:
    """Convert a submission without stopping at a bad value: a value that breaks
    the input contract is kept as an :class:`~rubric_xl.rules.contract.Invalid`
    (its items are 有误) and reported.  Returns (values, error problems).

    *cells* maps a key to the cell it was read from (``填报!D12``), named in the
    reason; *facts_file*: ISO date text is a date (facts files only).
    """
    plan = _plan(pack)
    quick = plan.quick
    if quick is None:
        plan.uses += 1
        if plan.uses >= BUILD_AFTER:
            quick = plan.quick = _quick_reader(pack)
    if quick is not None:
        values = quick(raw, facts_file)
        if values is not None:  # every value blank or plainly valid
            return values, []
    return _read(pack, plan, raw, source, locate, cells, facts_file)


def _read(pack: RulePack, plan: _Plan, raw: Mapping[str, Any], source: str,
          locate: Callable[[str], str] | None, cells: Callable[[str], str | None] | None,
          facts_file: bool) -> tuple[dict[str, Any], list]:
    """:func:`read_facts` by the general path (every value checked on its own)."""
    problems = ProblemList()
    where = locate or (lambda key: f"{source}: {key}")
    if raw.__class__ is not dict and not isinstance(raw, Mapping):
        raise FactsError(f"事实文件格式错误：{source}", [])
    facts = pack.facts
    for key in [k for k in raw if k not in facts]:
        problems.add(f"{source}: {key}", _unknown(str(key), list(facts)))
    get = raw.get
    out: dict[str, Any] = dict.fromkeys(plan.ids)  # pack order; blank until read
    slow = list(plan.rest)  # positions for the general path, in pack order below
    for i, fid, cls in plan.same:  # already of the fact's type (bool, date)
        value = get(fid)
        if value.__class__ is cls:
            out[fid] = value
        elif value is not None:
            slow.append(i)
    for i, fid, lo, hi, percent, whole in plan.numbers:  # a plainly valid int or Decimal
        value = get(fid)
        if value is not None:
            v = quick_number(value, lo, hi, percent, whole, facts_file)
            if v is NOT_QUICK:
                slow.append(i)
            else:
                out[fid] = v
    slow.sort()
    for i in slow:
        fid, f, memo = plan.facts[i]
        value = get(fid)
        if value is None:
            if f.type == "table":
                out[fid] = []
            continue
        if f.type == "table":
            out[fid] = _convert_table(f, value, where, problems, memo, cells, facts_file)
            continue
        if value.__class__ is contract.Invalid:  # kept from an earlier reading (a campaign's stored facts)
            out[fid] = value
            continue
        try:
            # converted values are memoised per fact on (type, raw value): raw
            # values repeat across submissions and conversion is pure
            key = (value.__class__, value, facts_file)
            hit = memo.get(key, _MISS)
        except TypeError:  # unhashable raw value: convert (and fail) below
            key, hit = None, _MISS
        if hit is not _MISS:
            out[fid] = hit
            continue
        try:
            out[fid] = conv = None if is_blank(value) else contract.accept(f, value, facts_file=facts_file)
        except contract.BadValue as exc:
            bad = out[fid] = _bad(f, value, fid, cells, exc)
            problems.add(where(fid), bad.reason())
            continue
        if key is not None:
            if len(memo) >= 1024:
                memo.clear()
            memo[key] = conv
    return out, problems.errors


def _convert_table(f: Fact, value: Any, where, problems: ProblemList,
                   columns: tuple[dict, list[tuple], Any], cells, facts_file: bool) -> list[dict]:
    """Every row of a table fact: through the table's generated converter
    (``_table_code``: blanks, defaults and plainly valid values inline) with
    :func:`slow` for any other cell and :func:`odd` for a row that is no mapping of
    known columns; without one, row by row."""
    if is_blank(value):
        return []
    if not isinstance(value, list):
        problems.add(where(f.id), f"{f.label}：应为行的列表（每行一个映射）")
        return []
    cols, plan, code = columns

    def slow(n: int, raw: Any, i: int) -> Any:
        """Cell *n* of row *i* (1-based) by the general path: kept 有误, memo, input contract."""
        cid, c, memo, _, default = plan[n]
        cls = raw.__class__
        if cls is contract.Invalid:
            return raw
        try:
            key = (cls, raw, facts_file)
            v = memo.get(key, _MISS)
        except TypeError:
            key, v = None, _MISS
        if v is not _MISS:
            return v
        try:
            v = None if is_blank(raw) else contract.accept(c, raw, facts_file=facts_file)
            if key is not None and v is not None:
                if len(memo) >= 1024:
                    memo.clear()
                memo[key] = v
        except contract.BadValue as exc:
            k = f"{f.id}[{i}].{cid}"
            v = _bad(c, raw, k, cells, exc, c.label)
            problems.add(where(k), f"{f.label} 第{i}行 {v.reason()}")
        return default if v is None else v

    def odd(i: int, row: Any) -> dict | None:
        """Row *i* (1-based) cell by cell: not a mapping (a problem, no row), unknown keys."""
        if row.__class__ is not dict and not isinstance(row, Mapping):
            problems.add(where(f"{f.id}[{i}]"), f"{f.label} 第{i}行：应为映射（列: 值）")
            return None
        if not row.keys() <= cols.keys():
            for key in row:
                if key not in cols:
                    problems.add(where(f"{f.id}[{i}].{key}"),
                                 f"{f.label} 第{i}行：" + _unknown(str(key), list(cols)).replace("事实", "列"))
        out: dict[str, Any] = {}
        for n, (cid, c, memo, quick, default) in enumerate(plan):
            raw = row.get(cid)
            if raw is None:
                out[cid] = default
                continue
            if quick is not None:
                kind = quick[0]
                if kind == "same":
                    if raw.__class__ is quick[1]:  # already the right type: nothing to convert
                        out[cid] = raw
                        continue
                else:
                    v = quick_text(raw, quick[1]) if kind == "text" else quick_number(raw, *quick[1:], facts_file)
                    if v is not NOT_QUICK:
                        out[cid] = v
                        continue
            out[cid] = slow(n, raw, i)
        return out

    if code is not None:
        return code(value, slow, odd, facts_file)
    return [r for r in (odd(i, row) for i, row in enumerate(value, start=1)) if r is not None]
