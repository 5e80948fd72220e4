"""Check and convert submitted facts to their declared types.

A facts mapping comes from a YAML/JSON file or a workbook.  Every value is
converted to its fact's type — ``bool``, ``Decimal``, ``date``, ``str`` or a list
of row dicts — or reported as a problem naming the fact, its label, the value
and what was expected.  Blank (``None``, empty text) stays ``None``; whether a
blank is acceptable is the engine's business, not this module's.

Problems are collected for every fact, then raised together as one
:class:`FactsError`: a submission is never scored from half-checked data.
"""
from __future__ import annotations

import datetime as _dt
import difflib
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping

from ..errors import FactsError, ProblemList
from ..rules.model import Fact, number_problem
from ..rules.pack import RulePack

TRUE_WORDS = {"是", "true", "yes", "y", "对", "√"}
FALSE_WORDS = {"否", "false", "no", "n", "错", "×"}


class BadValue(Exception):
    """Raised by a converter with the Chinese text of what was expected."""


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"“{value}”"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _to_bool(v: Any, f: Fact) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in TRUE_WORDS:
        return True
    if isinstance(v, str) and v.strip().lower() in FALSE_WORDS:
        return False
    raise BadValue("应为 是 或 否")


def _to_decimal(v: Any) -> Decimal:
    if isinstance(v, bool):
        raise BadValue("应为数值")
    if isinstance(v, Decimal):
        d = v
    elif isinstance(v, int):
        d = Decimal(v)
    elif isinstance(v, float):
        d = Decimal(repr(v))  # shortest round-trip text: 93.5 stays 93.5
    else:
        raise BadValue("应为数值")
    if not d.is_finite():
        raise BadValue("应为有限的数值")
    return d


RANGE_WHAT = {"int": "整数", "decimal": "数值", "percent": "百分数"}


def expected_range(f: Fact) -> str | None:
    """"应为 0–100 之间的百分数" for a bounded numeric fact, else ``None``.
    The same text is shown by the workbook's formulas (rubric_xl.formulas)."""
    lo, hi = f.bounds()
    what = RANGE_WHAT.get(f.type, "数值")
    if lo is not None and hi is not None:
        return f"应为 {_num(lo)}–{_num(hi)} 之间的{what}"
    if lo is not None:
        return f"应为不小于 {_num(lo)} 的{what}"
    if hi is not None:
        return f"应为不大于 {_num(hi)} 的{what}"
    return None


def _range(d: Decimal, f: Fact) -> Decimal:
    lo, hi = f.bounds()
    if lo is not None and d < lo or hi is not None and d > hi:
        raise BadValue(expected_range(f))
    return d


def _num(d: Decimal) -> str:
    return format(d.normalize(), "f") if d != d.to_integral_value() else str(int(d))


def _within_bound(d: Decimal) -> Decimal:
    """The one numeric bound of rubric-xl (:func:`rubric_xl.rules.model.number_problem`):
    ``1e30`` or a 41-digit decimal is 超出范围 / 格式错误, whatever it came from."""
    why = number_problem(d)
    if why:
        raise BadValue(why)
    return d


def _to_int(v: Any, f: Fact) -> Decimal:
    try:
        d = _to_decimal(v)
    except BadValue:
        raise BadValue("应为不小于 0 的整数" if f.min == 0 else "应为整数") from None
    _within_bound(d)
    if d != d.to_integral_value():
        raise BadValue("应为整数，不能有小数")
    return _range(d.quantize(Decimal(1)), f)


def _to_number(v: Any, f: Fact) -> Decimal:
    try:
        d = _to_decimal(v)
    except BadValue:
        if f.type == "percent":
            raise BadValue("应为 0–100 之间的百分数（如 93.5 表示 93.5%）") from None
        raise
    return _range(_within_bound(d), f)


def _to_date(v: Any, f: Fact) -> _dt.date:
    if isinstance(v, _dt.datetime):
        if v.time() != _dt.time(0):
            raise BadValue("应为日期（不含时间）")
        return v.date()
    if isinstance(v, _dt.date):
        return v
    if isinstance(v, str):
        try:
            return _dt.date.fromisoformat(v.strip())
        except ValueError:
            pass
    raise BadValue("应为日期，格式 YYYY-MM-DD（如 2005-07-15）")


def _to_enum(v: Any, f: Fact) -> str:
    if isinstance(v, str) and v.strip() in (f.options or []):
        return v.strip()
    raise BadValue(f"应为以下之一：{'、'.join(f.options or [])}")


def _to_text(v: Any, f: Fact) -> str:
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    raise BadValue("应为文字")


CONVERT: dict[str, Callable[[Any, Fact], Any]] = {
    "bool": _to_bool, "int": _to_int, "decimal": _to_number, "percent": _to_number,
    "date": _to_date, "enum": _to_enum, "text": _to_text,
}


def is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def convert_value(f: Fact, raw: Any) -> Any:
    """Convert one non-table value; ``None`` for blank; raises :class:`BadValue`."""
    if is_blank(raw):
        return None
    return CONVERT[f.type](raw, f)


def _unknown(key: str, known: list[str]) -> str:
    near = difflib.get_close_matches(key, known, n=1)
    hint = f"，是否应为 {near[0]}？" if near else ""
    return f"未知的事实 {key!r}（规则包中没有此事实{hint}）"


_MISS = object()


def _plan(pack: RulePack) -> list[tuple[str, Fact, dict]]:
    plan = getattr(pack, "_convert_plan", None)
    if plan is None:
        # per fact a conversion memo; for a table fact, one memo per column
        plan = [(fid, f, {c.id: {} for c in f.columns or []} if f.type == "table" else {})
                for fid, f in pack.facts.items()]
        pack._convert_plan = plan  # type: ignore[attr-defined]
    return plan


def convert_facts(pack: RulePack, raw: Mapping[str, Any], source: str = "facts",
                  locate: Callable[[str], str] | None = None) -> dict[str, Any]:
    """Convert a whole submission.  Missing facts are blank.  Raises FactsError.

    *locate* maps a fact id (or ``table[i].column``) to a location such as
    ``填报!C12``; by default the location is ``source: fact_id``.
    """
    problems = ProblemList()
    where = locate or (lambda key: f"{source}: {key}")
    if not isinstance(raw, Mapping):
        raise FactsError(f"事实文件格式错误：{source}", [])
    out: dict[str, Any] = {}
    for key in raw:
        if key not in pack.facts:
            problems.add(f"{source}: {key}", _unknown(str(key), list(pack.facts)))
    for fid, f, memo in _plan(pack):
        value = raw.get(fid)
        if f.type == "table":
            out[fid] = _convert_table(f, value, where, problems, memo)
            continue
        try:
            # converted values are memoised per fact on (type, raw value): raw
            # values repeat across submissions and conversion is pure
            key = (value.__class__, value)
            hit = memo.get(key, _MISS)
        except TypeError:  # unhashable raw value: convert (and fail) below
            key, hit = None, _MISS
        if hit is not _MISS:
            out[fid] = hit
            continue
        try:
            out[fid] = conv = convert_value(f, value)
        except BadValue as exc:
            problems.add(where(fid), f"{f.label}：{exc}，实际为 {_show(value)}")
            continue
        if key is not None:
            if len(memo) >= 1024:
                memo.clear()
            memo[key] = conv
    if problems.errors:
        raise FactsError(f"提交的数据有误：{source}", problems.errors)
    return out


def _convert_table(f: Fact, value: Any, where, problems: ProblemList,
                   memos: dict[str, dict]) -> list[dict]:
    if is_blank(value):
        return []
    if not isinstance(value, list):
        problems.add(where(f.id), f"{f.label}：应为行的列表（每行一个映射）")
        return []
    cols = {c.id: c for c in f.columns or []}
    rows: list[dict] = []
    for i, row in enumerate(value):
        if not isinstance(row, Mapping):
            problems.add(where(f"{f.id}[{i + 1}]"), f"{f.label} 第{i + 1}行：应为映射（列: 值）")
            continue
        for key in row:
            if key not in cols:
                problems.add(where(f"{f.id}[{i + 1}].{key}"),
                             f"{f.label} 第{i + 1}行：" + _unknown(str(key), list(cols)).replace("事实", "列"))
        out: dict[str, Any] = {}
        for cid, c in cols.items():
            raw = row.get(cid)
            cls = raw.__class__
            if cls is bool and c.type == "bool" or cls is _dt.date and c.type == "date":
                out[cid] = raw  # already the right type: nothing to convert
                continue
            memo = memos[cid]
            try:
                key = (raw.__class__, raw)
                v = memo.get(key, _MISS)
            except TypeError:
                key, v = None, _MISS
            if v is not _MISS:
                out[cid] = v
                continue
            try:
                v = convert_value(c, raw)
                if key is not None and v is not None:
                    if len(memo) >= 1024:
                        memo.clear()
                    memo[key] = v
            except BadValue as exc:
                problems.add(where(f"{f.id}[{i + 1}].{cid}"),
                             f"{f.label} 第{i + 1}行 {c.label}：{exc}，实际为 {_show(raw)}")
                v = None
            if v is None and c.default is not None:
                v = c.default if not isinstance(c.default, (int, Decimal)) or isinstance(c.default, bool) \
                    else Decimal(c.default)
            out[cid] = v
        rows.append(out)
    return rows


def parse_decimal_text(text: str) -> Decimal:
    """Parse user text such as ``'93.5'`` exactly (used by readers)."""
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise BadValue("应为数值") from None
