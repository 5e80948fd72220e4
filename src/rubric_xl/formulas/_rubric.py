"""Compile a rubric pack's items to Excel formulas that score exactly like
:mod:`rubric_xl.engine.rubric`, explanation texts included.

Per item (engine order): an input of the wrong type → 有误; a submission not
started (the named formula ``submission_started`` is FALSE: no input but the
unit holds a value) or a blank required input → 待填 (the points cell holds
text, so totals skip it); the first
``zero_if`` that holds → 0; otherwise base (``max`` or the tier) minus the
deductions, floored at 0 unless ``floor: false``, plus the bonuses, rounded to
0.01.  Inputs are read by their defined names (fact ids), other results by
theirs (``item_<id>_points`` …), never by cell address.
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from decimal import Decimal

from ..conventions import category_points_name as category_name
from ..conventions import item_explain_name as explain_name
from ..conventions import item_points_name as points_name
from ..errors import PackError, Problem
from ..rules import expr
from ..rules.model import FlatRule, LateRule, PerUnitRule, StepRule
from ..rules.pack import CheckedItem, CheckedRule, RulePack
from ..conventions import INPUT_SHEET, STARTED_NAME
from ..rules import lowered
from ..rules import wording
from ..rules.wording import DEFAULT_TEMPLATES
from ..rules.names import check_pack_names  # the names the formulas rely on
from . import _inputs as inputs
from . import _xl as xl
from ._expr import Compiler, Unsupported, V, blank_test
from ._inputs import NO, YES

INCOMPLETE = wording.INCOMPLETE
INVALID = wording.INVALID




@dataclass(frozen=True)
class ItemFormulas:
    """The two result cells of one item (formulas start with ``=``)."""

    id: str
    points: str  # → item_<id>_points: a number, or the text 待填 / 有误
    explain: str  # → item_<id>_explain: the engine's explanation text
    points_name: str
    explain_name: str


@dataclass(frozen=True)
class RubricFormulas:
    """Every result formula of a rubric pack, keyed for the 评分 sheet."""

    items: dict[str, ItemFormulas]  # pack order
    categories: list[str]  # category_<n>_points, n = index + 1, pack order
    total: str  # total_points
    grade: str | None  # the grade's name; None when the pack has no grades
    eligible: str | None  # 是/否; None when the pack has no eligibility setting
    provisional: str  # 是 when any item is 待填 or 有误 (the total counts only scored items), else 否
    names: dict[str, str] = field(default_factory=dict)  # defined name → formula
    started: str = "=FALSE"  # submission_started, a named formula (no cell): any input but the unit filled

    def item(self, item_id: str) -> ItemFormulas:
        return self.items[item_id]


@dataclass
class _Rule:
    applies: str  # condition
    amount: str  # points after the cap (number)
    text: str  # explanation text (formula)


def _num(d: Decimal) -> str:
    """``num.value`` of a constant."""
    return xl.number(d)


def _amount(d: Decimal) -> str:
    """``num.amount`` of a constant: two decimals, half up."""
    from ..engine import num  # the engine's own formatting of constants

    return num.amount(d)


class _ItemCompiler:
    def __init__(self, pack: RulePack, li: lowered.Item):
        self.pack = pack
        self.li = li
        self.not_started_text = lowered.lowered_totals(pack).not_started_text
        self.where = f"{pack.source}: 第{li.id}项"
        self.may_blank = {f for f in li.inputs if f not in li.required}
        self.derived = {d.id: node for d, node in pack.derived}
        self.deadlines = {d.id: d.date for d in pack.model.deadlines}
        self._memo: dict[str, V] = {}
        self.c = Compiler(self.resolve)

    # --- names ------------------------------------------------------------------

    def resolve(self, name: str) -> V:
        if name in self._memo:
            return self._memo[name]
        pack = self.pack
        if name in pack.facts:
            v = inputs.scalar(pack.facts[name], name, name in self.may_blank)
        elif name in self.deadlines:
            v = V(xl.date(self.deadlines[name]), expr.DATE, plain=True)
        elif name in self.derived:
            # like the engine: computed whenever the item is scorable (its required
            # facts are present); blank-allowed facts are read as blank inside it
            v = self.c.compile(self.derived[name])
        else:
            raise Unsupported(f"未知的名称 {name}")
        self._memo[name] = v
        return v

    def cond(self, node: expr.Node) -> V:
        v = self.c.compile(node)
        return V(self.c.truth(v), expr.BOOL, risky=v.risky)

    def number(self, node: expr.Node, what: str) -> V:
        v = self.c.compile(node)
        if v.null is not None:
            raise Unsupported(f"{what}可能为空（依赖可留空的输入），引擎对此无定义")
        return v

    # --- rules --------------------------------------------------------------------

    def template(self, lr: lowered.Rule, fields: dict[str, str]) -> str:
        parts = []
        for literal, name, spec, conv in lr.pieces:
            if literal:
                parts.append(xl.text(literal))
            if name is None:
                continue
            if spec or conv or name not in fields:
                raise Unsupported(f"说明模板 {lr.template!r} 中的 {{{name}{'!' + conv if conv else ''}"
                                  f"{':' + spec if spec else ''}}} 无法用公式表达")
            parts.append(fields[name])
        return xl.concat(parts)

    def op(self, o: lowered.Op, risky: list[bool]) -> str:
        """An amount expression of the lowered form as a formula."""
        k = o.op
        if k == "const":
            return xl.number(o.value)
        if k == "expr":
            v = self.number(o.value, "数值表达式")
            risky[0] = risky[0] or v.risky
            return self.c.num(v)
        a = [self.op(x, risky) for x in o.args]
        if k == "sub":
            return f"({a[0]}-{a[1]})"
        if k == "mul":
            return f"({a[0]}*{a[1]})"
        if k == "div":  # exact in the engine: round the binary noise away
            return f"ROUND({a[0]}/{a[1]},{xl.EPS_DIGITS})"
        if k in ("ceil", "floor"):
            return f"{'ROUNDUP' if k == 'ceil' else 'ROUNDDOWN'}({a[0]},0)"
        if k == "round2":
            inner = a[0][1:-1] if o.args[0].op == "mul" else a[0]
            return f"ROUND({inner},2)"
        raise Unsupported(f"未知的运算 {k}")  # pragma: no cover

    def applies(self, c: lowered.Cond, risky: list[bool]) -> str:
        if c.kind == "expr":
            return "TRUE" if c.node is None else self.cond(c.node).f
        if c.kind == "positive":
            return f"({self.op(c.amount, risky)}>0)"
        if c.kind == "both":
            first = self.applies(c.parts[0], risky)
            inner = [False]
            second = self.applies(c.parts[1], inner)
            # the second part is only evaluated when the first holds (a division by zero)
            return f"IF({first},{second},FALSE)" if inner[0] else f"AND({first},{second})"
        # late: any date after the deadline
        lates = []
        for d in c.dates:
            dv = self.resolve(d)
            lates.append((self.c.guard([dv.null] if dv.null else [], f"({d}>{xl.date(c.deadline)})"), d))
        return xl.any_of([cond for cond, _ in lates])

    def latest(self, c: lowered.Cond) -> str:
        """The latest of a late condition's dates after its deadline (a date serial)."""
        if len(c.dates) == 1:
            return c.dates[0]
        lates = []
        for d in c.dates:
            dv = self.resolve(d)
            lates.append(f"IF({self.c.guard([dv.null] if dv.null else [], f'({d}>{xl.date(c.deadline)})')},{d},0)")
        return xl.call("MAX", *lates)

    def rule(self, lr: lowered.Rule) -> _Rule:
        risky = [False]
        applies = self.applies(lr.applies, risky)
        raw = self.op(lr.raw, risky) if lr.static is None else xl.number(lr.static)
        fields: dict[str, str] = {}
        need = {name for _, name, _, _ in lr.pieces if name}
        for name, f in lr.fields.items():
            if name not in need:
                continue
            if f.fmt == "text":
                fields[name] = xl.text(f.text)
            elif f.fmt == "date":
                fields[name] = xl.date_text(self.latest(f.latest))
            elif f.fmt == "whole":
                fields[name] = f'{self.op(f.amount, [False])}&""'
            elif f.fmt == "amount":
                fields[name] = xl.amount_text(self.op(f.amount, [False]))
            else:
                fields[name] = xl.value_text(self.op(f.amount, [False]))
        if lr.cap is None:
            amount, capped = raw, None
        elif lr.static is not None:
            over = lr.static > lr.cap
            amount, capped = (xl.number(lr.cap) if over else raw), ("TRUE" if over else None)
        else:
            capped = f"(ROUND({raw},{xl.EPS_DIGITS})>{xl.number(lr.cap)})"
            amount = f"MIN({raw},{xl.number(lr.cap)})"
        fields["amount"] = xl.amount_text(amount)
        text = self.template(lr, fields)
        if capped == "TRUE":
            text = xl.concat([text, xl.text(lr.cap_text)])
        elif capped is not None:
            text = xl.concat([text, f'IF({capped},{xl.text(lr.cap_text)},"")'])
        return _Rule(applies, amount, text)

    # --- the item -----------------------------------------------------------------

    def compile(self) -> ItemFormulas:
        it, pack = self.li, self.pack
        missing = [(blank_test(f), xl.text(it.labels[f])) for f in it.required]
        bad = [(inputs.invalid(pack.facts[f], f), inputs.reason(pack.facts[f], f, INPUT_SHEET)) for f in it.inputs]
        zero = [(self.cond(node).f, text) for node, text, _ in it.zero]
        ded = [self.rule(r) for r in it.deductions]
        bon = [self.rule(r) for r in it.bonuses]

        def total(rs: list[_Rule]) -> str:
            return "+".join(f"IF({r.applies},{r.amount},0)" for r in rs)

        max_ = xl.number(it.max)
        tier_cond = None
        if it.tiers:
            f, tier_points = it.tiers
            opts = list(pack.facts[f].options or [])
            base = xl.number(tier_points[opts[-1]])
            for o in reversed(opts[:-1]):
                base = f"IF(TRIM({f})={xl.text(o)},{xl.number(tier_points[o])},{base})"
            below = [o for o in opts if tier_points[o] != it.max]
            if below:
                tier_cond = xl.any_of([f"TRIM({f})={xl.text(o)}" for o in below])
        else:
            base = max_
        after = f"({base}-({total(ded)}))" if ded else base
        if it.floor and ded:
            kept = f"MAX(0,{after})"
            floored = f"(ROUND({after},{xl.EPS_DIGITS})<0)"
        else:
            kept, floored = after, None
        score = f"ROUND({kept}+{total(bon)},2)" if bon else f"ROUND({kept},2)"

        points = score
        for cond, _ in reversed(zero):
            points = f"IF({cond},0,{points})"
        waiting = [f"NOT({STARTED_NAME})"] + [m for m, _ in missing]  # not started, or a blank required input
        points = f"IF({xl.any_of(waiting)},{xl.text(INCOMPLETE)},{points})"
        if bad:  # outermost: an invalid input is 有误, never 待填 (and never evaluated)
            points = f"IF({xl.any_of([b for b, _ in bad])},{xl.text(INVALID)},{points})"

        pname, ename = points_name(it.id), explain_name(it.id)
        parts: list[tuple[str, str]] = []
        if tier_cond:
            pre, post = wording.TIER_BASE.split("{tier}")
            mid, end = post.split("{points}")
            parts.append((tier_cond, xl.concat([xl.text(pre), f"TRIM({it.tiers[0]})", xl.text(mid),
                                               xl.amount_text(base), xl.text(end)])))
        parts += [(r.applies, r.text) for r in ded + bon]
        if floored:
            parts.append((floored, xl.text(wording.FLOORED)))
        got_pre, got_post = wording.GOT.split("{points}")
        got = xl.concat([xl.text(wording.PART_SEP + got_pre), xl.amount_text(pname), xl.text(got_post)])
        full = xl.text(it.full_text)
        if parts:
            explain = f"IF({xl.any_of([c for c, _ in parts])},{xl.concat([xl.joined(parts, wording.PART_SEP), got])},{full})"
        else:
            explain = full
        for cond, msg in reversed(zero):
            explain = f"IF({cond},{xl.text(msg)},{explain})"
        if missing:
            explain = (f"IF({pname}={xl.text(INCOMPLETE)},"
                       f"{xl.concat([xl.text(INCOMPLETE + wording.STATE_SEP), xl.joined(missing, wording.MISSING_SEP)])},{explain})")
        explain = f"IF(NOT({STARTED_NAME}),{xl.text(self.not_started_text)},{explain})"
        if bad:
            explain = (f"IF({pname}={xl.text(INVALID)},"
                       f"{xl.concat([xl.text(INVALID + wording.STATE_SEP), xl.joined(bad, wording.INVALID_SEP)])},{explain})")
        return ItemFormulas(it.id, "=" + points, "=" + explain, pname, ename)


def _check_all(out: dict[str, str], where: dict[str, str]) -> None:
    problems: list[Problem] = []
    for name, formula in out.items():
        for msg in xl.problems_in(formula):
            problems.append(Problem(where[name], f"{name}：{msg}"))
    if problems:
        raise PackError("规则包无法编译为 Excel 公式", problems)


def compile_rubric(pack: RulePack) -> RubricFormulas:
    """Every result formula of a rubric *pack*.  Raises :class:`PackError` naming
    the item when a rule cannot be expressed in Excel 2010-safe formulas."""
    check_pack_names(pack)
    m = pack.model
    items: dict[str, ItemFormulas] = {}
    problems: list[Problem] = []
    for li in lowered.lowered(pack):
        try:
            items[li.id] = _ItemCompiler(pack, li).compile()
        except Unsupported as exc:
            problems.append(Problem(f"{pack.source}: 第{li.id}项", str(exc)))
    if problems:
        raise PackError("规则包无法编译为 Excel 公式", problems)
    totals = lowered.lowered_totals(pack)
    cats = [f"=ROUND({xl.call('SUM', *map(points_name, ids))},2)" if ids else "=0"
            for _, _, _, ids in totals.categories]
    pnames = [points_name(ci.id) for ci in pack.items]
    total = f"=ROUND({xl.call('SUM', *pnames)},2)"
    counts = [xl.call("COUNT", *pnames[i:i + xl.MAX_ARGS]) for i in range(0, len(pnames), xl.MAX_ARGS)]
    scored = counts[0] if len(counts) == 1 else xl.call("SUM", *counts)
    provisional = f'=IF({scored}<{len(pnames)},"{YES}","{NO}")'
    # filled: not blank (the engine's blank: only spaces); an error value is a value too
    started = "=" + xl.any_of([f'IF(ISERROR({f}),TRUE,TRIM({f})<>"")' for f in totals.started_facts])
    grade = eligible = None
    if totals.grades:
        g = '""'
        for name, lo in reversed(totals.grades):
            g = xl.text(name) if lo is None else f"IF(total_points>={xl.number(lo)},{xl.text(name)},{g})"
        grade = "=" + g
    if totals.eligible_grades is not None:
        eligible = f'=IF({xl.any_of([f"grade={xl.text(n)}" for n in totals.eligible_grades])},"{YES}","{NO}")'
    names: dict[str, str] = {}
    where: dict[str, str] = {}
    for it in items.values():
        names[it.points_name] = it.points
        names[it.explain_name] = it.explain
        where[it.points_name] = where[it.explain_name] = f"{pack.source}: 第{it.id}项"
    for n, f in enumerate(cats, start=1):
        names[category_name(n)] = f
        where[category_name(n)] = f"{pack.source}: categories[{n - 1}]"
    names["total_points"] = total
    names["provisional"] = provisional
    names[STARTED_NAME] = started
    where["total_points"] = where["provisional"] = where[STARTED_NAME] = f"{pack.source}: items"
    if grade:
        names["grade"] = grade
        where["grade"] = f"{pack.source}: settings.grades"
    if eligible:
        names["eligible"] = eligible
        where["eligible"] = f"{pack.source}: settings.eligibility"
    _check_all(names, where)
    return RubricFormulas(items, cats, total, grade, eligible, provisional, names, started)
