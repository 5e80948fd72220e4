"""The lowered form: every checked item lowered once into a small intermediate
representation that each executor consumes — the engine evaluates it
(:mod:`rubric_xl.engine.rubric`), the formula compiler emits Excel formulas from
it (:mod:`rubric_xl.formulas._rubric`), the add-in shows the engine's results.

What a rule *kind* means (flat, per_unit, step with ceil / floor / prorate,
late: its condition, amount expression and explanation fields), caps and their
text, zeroing texts, tiers, floor and every piece of explanation wording are
decided here and nowhere else.  Consumers only know the few generic operations
below and apply an :class:`Item` in the order of its fields (有误 → 待填 → 不得分
→ base or tier → deductions → floor 扣完为止 → bonuses → 0.01); a further
back-end is one more consumer of the same form.  Ledgers are lowered to
:class:`Ledger`, one per table (row states, derived values, decisions, status
chain, required-column texts, checks, row terms; metrics as :class:`MOp` trees
of a few generic aggregations, groupings as :class:`LGrouping`): what a metric
kind means (count, sum, all, none, rate, expr) is decided here only.  A ledger
pack's checks of the whole submission are lowered to :class:`Check`
(:func:`lowered_checks`).

Amount expressions (:class:`Op`):

``const`` a Decimal · ``expr`` a checked pack expression (a number) ·
``sub`` / ``mul`` a − b, a × b · ``div`` a ÷ b (exact; formulas round the binary
noise away) · ``ceil`` / ``floor`` to a whole number · ``round2`` to 0.01 half up.

Conditions (:class:`Cond`): ``expr`` (a checked boolean expression, or always
when ``None``), ``positive`` (an amount > 0), ``late`` (any of some dates after a
deadline), ``both`` (a and b, b only evaluated when a holds).

Explanation text: a template parsed into literal text and fields; a field is
text (a constant), or an amount shown as ``value`` (``93.5``), ``amount`` (points,
``1.00``), ``whole`` (a whole number) or ``date`` (ISO).
"""
from __future__ import annotations

import datetime as _dt
import string
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..conventions import unit_fact
from . import expr
from . import wording
from .model import FlatRule, LateRule, PerUnitRule, StepRule
from .pack import CheckedItem, CheckedRule, RulePack

CENT = Decimal("0.01")


def amount_text(d: Decimal) -> str:
    """Points as users see them: two decimals, half up (``1.00``)."""
    return str(d.quantize(CENT, rounding=ROUND_HALF_UP))


def number_text(d: Decimal) -> str:
    """A constant as shown in explanations (``90``, ``0.5``)."""
    d = Decimal(d)
    return str(int(d)) if d == d.to_integral_value() else format(d.normalize(), "f")


@dataclass(frozen=True)
class Op:
    """A node of an amount expression (see the module docstring)."""

    op: str  # const | expr | sub | mul | div | ceil | floor | round2
    args: tuple = ()
    value: Any = None  # const: Decimal; expr: the checked expr.Node


def const(d: Decimal) -> Op:
    return Op("const", value=Decimal(d))


@dataclass(frozen=True)
class Cond:
    kind: str  # expr | positive | late | both
    node: expr.Node | None = None  # expr (None: always)
    amount: Op | None = None  # positive
    dates: tuple[str, ...] = ()  # late
    deadline: _dt.date | None = None  # late
    parts: tuple["Cond", ...] = ()  # both

    def tests(self) -> tuple[expr.Node | None, "Op | None", tuple[tuple[str, ...], _dt.date | None] | None]:
        """``(condition, positive amount, (dates, deadline) of late)``, each None
        when this condition has no such test (what an executor checks, in order)."""
        when = positive = late = None
        for c in (self.parts if self.kind == "both" else (self,)):
            if c.kind == "expr" and c.node is not None:
                when = c.node
            elif c.kind == "positive":
                positive = c.amount
            elif c.kind == "late":
                late = (c.dates, c.deadline)
        return when, positive, late


@dataclass(frozen=True)
class Field:
    """One explanation field: a constant text, or an amount / date shown in a format."""

    fmt: str  # text | value | amount | whole | date
    text: str = ""  # text
    amount: Op | None = None  # value | amount | whole
    latest: Cond | None = None  # date: the latest of a late condition's dates after its deadline


@dataclass(frozen=True)
class Rule:
    """One deduction or bonus, lowered."""

    role: str  # deduction | bonus
    kind: str  # the pack's kind, for the score card only
    applies: Cond
    raw: Op  # the amount before the cap
    static: Decimal | None  # the amount when it does not depend on the facts
    cap: Decimal | None
    cap_text: str  # appended to the text when the cap applies
    template: str  # the explanation template ({reason}{count}{unit}，扣{amount}分)
    pieces: tuple[tuple[str, str | None, str, str | None], ...]  # parsed: literal, field, spec, conversion
    fields: dict[str, Field] = field(default_factory=dict)  # every field but {amount} (after the cap)

    @property
    def is_bonus(self) -> bool:
        return self.role == "bonus"


@dataclass(frozen=True)
class Item:
    """One item, lowered: states, zeroing, base, rules, floor and wording."""

    id: str
    title: str
    category: str
    max: Decimal
    bonus_cap: Decimal | None
    inputs: tuple[str, ...]  # every fact read (an invalid one makes the item 有误)
    required: tuple[str, ...]  # a blank one makes it 待填
    labels: dict[str, str]
    zero: tuple[tuple[expr.Node, str, str | None], ...]  # (condition, explanation, flag)
    tiers: tuple[str, dict[str, Decimal]] | None  # (enum fact, base points per option)
    deductions: tuple[Rule, ...]
    bonuses: tuple[Rule, ...]
    floor: bool
    full_text: str  # 符合要求，得5.00分

    def tier_text(self, tier: str, base: Decimal) -> str:
        return wording.TIER_BASE.format(tier=tier, points=amount_text(base))


def parse_template(tmpl: str) -> tuple[tuple[str, str | None, str, str | None], ...]:
    """(literal text, field name, format spec, conversion) pieces of a template."""
    return tuple((lit, name, spec or "", conv) for lit, name, spec, conv in string.Formatter().parse(tmpl))


def lower_rule(cr: CheckedRule) -> Rule:
    r = cr.rule
    bonus = cr.role == "bonus"
    tmpl = r.explain or wording.DEFAULT_TEMPLATES[(cr.role, r.kind)]
    fields: dict[str, Field] = {"reason": Field("text", r.reason or ""),
                                "points": Field("text", amount_text(r.points))}
    pts = const(r.points)
    static = None
    when = Cond("expr", cr.nodes.get("when"))
    if isinstance(r, FlatRule):
        applies, raw, static = when, pts, r.points
    elif isinstance(r, PerUnitRule):
        count = Op("expr", value=cr.nodes["count"])
        raw = Op("mul", (count, pts))
        positive = Cond("positive", amount=count)
        applies = Cond("both", parts=(when, positive)) if when.node is not None else positive
        fields.update(count=Field("value", amount=count), unit=Field("text", r.unit))
    elif isinstance(r, StepRule):
        value = Op("expr", value=cr.nodes["value"])
        t = const(r.threshold)
        gap = Op("sub", (value, t) if bonus else (t, value))
        ratio = Op("div", (gap, const(r.step)))
        if r.partial in ("ceil", "floor"):
            steps = Op(r.partial, (ratio,))
            raw = Op("mul", (steps, pts))
            steps_field = Field("whole", amount=steps)
        else:  # prorate
            raw = Op("round2", (Op("mul", (ratio, pts)),))
            steps_field = Field("value", amount=ratio)
        applies = Cond("positive", amount=raw)
        fields.update(value=Field("value", amount=value), threshold=Field("text", number_text(r.threshold)),
                      shortfall=Field("value", amount=gap), excess=Field("value", amount=gap),
                      steps=steps_field, step=Field("text", number_text(r.step)), unit=Field("text", r.unit))
    elif isinstance(r, LateRule):
        applies = Cond("late", dates=tuple(r.dates), deadline=cr.deadline.date)
        raw, static = pts, r.points
        fields.update(date=Field("date", latest=applies), deadline=Field("text", cr.deadline.date.isoformat()))
    else:  # pragma: no cover - the schema has no other kinds
        raise ValueError(f"未知的规则类型 {r.kind}")
    cap_text = wording.CAPPED[cr.role].format(cap=amount_text(r.cap)) if r.cap is not None else ""
    return Rule(cr.role, r.kind, applies, raw, static, r.cap, cap_text, tmpl, parse_template(tmpl), fields)


def lower_item(ci: CheckedItem, pack: RulePack) -> Item:
    it = ci.item
    zero = tuple((node, wording.ZEROED.format(reason=z.reason) + (wording.ZEROED_FLAG.format(flag=z.flag) if z.flag else ""),
                  z.flag) for node, z in ci.zero_if)
    return Item(
        it.id, it.title, it.category, it.max, ci.bonus_cap, tuple(ci.facts), tuple(ci.required),
        {f: pack.facts[f].label for f in ci.facts}, zero,
        (it.tiers.value, dict(it.tiers.points)) if it.tiers else None,
        tuple(lower_rule(r) for r in ci.rules if r.role == "deduction"),
        tuple(lower_rule(r) for r in ci.rules if r.role == "bonus"),
        it.floor, wording.FULL.format(points=amount_text(it.max)))


def lowered(pack: RulePack) -> list[Item]:
    """Every item of *pack*, lowered once (cached on the pack)."""
    items = getattr(pack, "_lowered", None)
    if items is None:
        items = [lower_item(ci, pack) for ci in pack.items]
        pack._lowered = items  # type: ignore[attr-defined]
    return items


@dataclass(frozen=True)
class MOp:
    """A node of a metric (see :class:`Ledger`).

    ``count`` rows of the group where row term *value[0]* is *value[1]* (``None``:
    every row) · ``sum`` of row term *value* (a number) over the rows where row
    term *args*… hold · ``zero`` a count is 0 (yes/no) · ``pct`` a ÷ b × 100, 0.01
    half up, not computed (blank) when b is 0 · ``metric`` an earlier metric by id
    · ``facts`` the top-level number fact *value* summed once per submission of
    the line (in one workbook: the fact; blank when a submission left it blank)
    · ``expr`` a checked expression over earlier metrics and top-level names,
    blank when any operand it reads is blank (*args*: the names that may be blank).
    """

    op: str  # count | sum | zero | pct | metric | facts | expr
    args: tuple = ()
    value: Any = None


@dataclass(frozen=True)
class LMetric:
    id: str
    label: str
    kind: str  # the pack's kind, for display only
    type: str  # expr.NUMBER | expr.BOOL | …
    nullable: bool  # may be not computed (blank)
    op: MOp


@dataclass(frozen=True)
class LGrouping:
    by: str | None
    by_kind: str | None  # column | fact | decision | status | None (overall)
    label: str
    total_label: str | None
    options: tuple[str, ...] | None  # the keys listed also without rows (all_options), pack order
    empty_label: str | None
    rank: tuple[tuple[str, bool], ...]  # (metric id, descending)
    flag: str | None


@dataclass(frozen=True)
class Ledger:
    """A ledger (one table), lowered.

    Per row: 有误 when a cell breaks the input contract (nothing else evaluated,
    in no roll-up); else the row environment (the submission's top-level facts,
    the pack's deadlines and top-level derived values, the row's cells), then
    ``derived`` in order, then each decision (the value of its first rule that
    holds; the last is always true), then the status chain (first that holds;
    blank when none), then the required columns and the checks in pack order,
    then the ``row_terms`` (a condition → yes/no, or a value → number) once per
    row.  The roll-ups aggregate only row terms, through each metric's
    :class:`MOp` tree (count, sum, zero, pct, metric, expr): no consumer knows
    what a metric kind means.
    """

    index: int  # position in the pack (0: the first table)
    table: str
    label: str  # the table fact's label (its sheet's name)
    key: str
    columns: dict[str, Any]  # column id → Fact
    derived: tuple[tuple[str, expr.Node], ...]
    decisions: tuple[tuple[str, str, tuple[tuple[str, expr.Node], ...]], ...]  # (id, label, (value, when)…)
    statuses: tuple[tuple[str, expr.Node], ...]
    invalid_status: str
    required: tuple[tuple[str, str], ...]  # (column, message) for a required column left blank
    checks: tuple[tuple[Any, expr.Node], ...]  # (check, condition): errors and warnings, pack order
    metrics: tuple[tuple[Any, expr.Node | None], ...]  # (pack metric, its node) — for display
    top_required: tuple[tuple[str, str], ...]  # (top-level fact, message) it cannot do without
    blank_group: str
    top_derived: tuple[tuple[str, expr.Node], ...] = ()  # the pack's top-level derived values
    row_terms: tuple[tuple[str, expr.Node], ...] = ()  # (cond | value, node), evaluated once per row
    aggregates: tuple[LMetric, ...] = ()
    groupings: tuple[LGrouping, ...] = ()

    @property
    def decision_options(self) -> dict[str, tuple[str, ...]]:
        """Every row value a decision (and ``status``) can take, pack order."""
        out = {did: tuple(dict.fromkeys(v for v, _ in rules)) for did, _, rules in self.decisions}
        out["status"] = tuple(n for n, _ in self.statuses)
        return out


def _lower_metrics(cl, top_names) -> tuple[tuple, tuple]:
    terms: list[tuple[str, expr.Node]] = []

    def term(kind: str, node: expr.Node) -> int:
        terms.append((kind, node))
        return len(terms) - 1

    out: list[LMetric] = []
    for mt, node in cl.metrics:
        typ, nullable = cl.metric_types.get(mt.id, (expr.NUMBER, False))
        k = mt.kind
        if k == "count":
            op = MOp("count", value=(None if node is None else term("cond", node), True))
        elif k == "sum":
            w = cl.wheres.get(mt.id)
            op = MOp("sum", args=() if w is None else (term("cond", w),), value=term("value", node))
        elif k == "all":  # no row where it fails (true for no rows)
            op = MOp("zero", (MOp("count", value=(term("cond", node), False)),))
        elif k == "none":  # no row where it holds
            op = MOp("zero", (MOp("count", value=(term("cond", node), True)),))
        elif k == "rate":
            op = MOp("pct", (MOp("metric", value=mt.numerator), MOp("metric", value=mt.denominator)))
        elif k == "facts_sum":
            op = MOp("facts", value=str(mt.value).strip())
        else:  # expr
            may_blank = tuple(sorted(n for n in node.names() if n in top_names or
                                     cl.metric_types.get(n, (None, False))[1]))
            op = MOp("expr", may_blank, node)
        out.append(LMetric(mt.id, mt.label, k, typ, nullable, op))
    return tuple(terms), tuple(out)


def lowered_ledgers(pack: RulePack) -> tuple[Ledger, ...]:
    """Every ledger (table) of *pack*, lowered once, pack order (cached on the pack)."""
    lgs = getattr(pack, "_lowered_ledgers", None)
    if lgs is None:
        m = pack.model
        top_required = tuple((f.id, wording.REQUIRED.format(label=f.label)) for f in m.facts
                             if f.type != "table" and not f.blank_allowed)
        nullable_top = {f.id for f in m.facts if f.type != "table" and f.blank_allowed} | \
                       {d.id for d, n in pack.derived if n.nullable}
        out = []
        for index, cl in enumerate(pack.ledgers):
            led = cl.model
            fact = pack.facts[led.table]
            cols = {c.id: c for c in fact.columns or []}
            terms, aggs = _lower_metrics(cl, nullable_top)
            opts = {dc.id: tuple(dict.fromkeys(v for v, _ in rules)) for dc, rules in cl.decisions}
            opts["status"] = tuple(n for n, _ in cl.statuses)
            groupings = []
            for g in led.groupings:
                kind = None if g.by is None else "column" if g.by in cols else "status" if g.by == "status" \
                    else "decision" if g.by in opts else "fact"
                options = None
                if g.all_options:
                    options = tuple(cols[g.by].options or ()) if kind == "column" else opts[g.by]
                groupings.append(LGrouping(g.by, kind, g.label, g.total_label, options, g.empty_label,
                                           tuple((r.metric, r.order == "desc") for r in g.rank), g.flag))
            out.append(Ledger(
                index, led.table, fact.label, led.key, cols, tuple((d.id, n) for d, n in cl.derived),
                tuple((dc.id, dc.label, tuple(rules)) for dc, rules in cl.decisions),
                tuple(cl.statuses), wording.INVALID,
                tuple((c.id, wording.REQUIRED.format(label=c.label)) for c in cols.values() if c.required and c.default is None),
                tuple(cl.checks), tuple(cl.metrics), top_required, wording.BLANK_GROUP,
                tuple((d.id, n) for d, n in pack.derived), terms, aggs, tuple(groupings)))
        lgs = tuple(out)
        pack._lowered_ledgers = lgs  # type: ignore[attr-defined]
    return lgs


@dataclass(frozen=True)
class Check:
    """A check of the whole submission (a ledger pack's top-level ``checks:``),
    lowered once: evaluated after the top-level facts are accepted, in the
    environment every row starts from (top-level facts, deadlines, top-level
    derived values; parameters folded).  It fires when *node* holds — a blank
    condition (a blank input it reads) does not fire.  *facts*: the top-level
    facts it reads (derived values expanded), pack order — where it points, and
    the inputs whose invalid value leaves it unevaluated."""

    id: str
    level: str  # error | warning
    message: str
    node: expr.Node
    facts: tuple[str, ...]


def lowered_checks(pack: RulePack) -> tuple[Check, ...]:
    """The submission checks of *pack*, pack order (cached on the pack)."""
    out = getattr(pack, "_lowered_checks", None)
    if out is None:
        checks = []
        for c, node in getattr(pack, "checks", ()):
            deps: set[str] = set()
            for n in node.names():
                deps.update(pack.derived_facts.get(n, [n] if n in pack.facts else []))
            checks.append(Check(c.id, c.level, c.message, node,
                                tuple(f.id for f in pack.model.facts if f.id in deps)))
        out = tuple(checks)
        pack._lowered_checks = out  # type: ignore[attr-defined]
    return out


def lowered_ledger(pack: RulePack) -> Ledger:
    """The first ledger of *pack* (the only one of a ``ledger:`` pack)."""
    return lowered_ledgers(pack)[0]


@dataclass(frozen=True)
class Totals:
    """How item points roll up: category subtotals (the items of each, pack
    order), the total (every scored item; bonuses uncapped), the grade (first
    band whose minimum the total reaches), eligibility (the grade is one of
    these), provisional (any item not scored: 待填 or 有误).

    Not started: while no fact of ``started_facts`` (every top-level input but
    the unit fact, ``conventions.unit_fact``, which a distributed template
    prefills) holds a value — an invalid value counts as one — the submission
    has not been started and every item is 待填 (``not_started_text``; an item
    with an invalid input stays 有误), whatever blanks would otherwise mean (a
    blank 未报 date).  Consumers apply it between 有误 and the item's own 待填."""

    categories: tuple[tuple[str, Decimal, bool, tuple[str, ...]], ...]  # (name, cap, bonus_only, item ids)
    grades: tuple[tuple[str, Decimal | None], ...]  # (name, minimum; None = any total)
    eligible_grades: tuple[str, ...] | None
    eligibility_label: str | None
    total_max: Decimal
    started_facts: tuple[str, ...] = ()
    not_started_text: str = wording.INCOMPLETE + wording.STATE_SEP + wording.NOT_STARTED


def started_facts(pack: RulePack) -> tuple[str, ...]:
    """The inputs whose value means the submission has been started (see :class:`Totals`)."""
    unit = unit_fact(pack.model.facts)
    return tuple(f.id for f in pack.model.facts if f.type != "table" and f is not unit)


def lowered_totals(pack: RulePack) -> Totals:
    t = getattr(pack, "_lowered_totals", None)
    if t is None:
        m = pack.model
        by_cat: dict[str, list[str]] = {c.name: [] for c in m.categories}
        for ci in pack.items:
            by_cat.setdefault(ci.item.category, []).append(ci.id)
        el = m.settings.eligibility
        t = Totals(tuple((c.name, c.cap, c.bonus_only, tuple(by_cat[c.name])) for c in m.categories),
                   tuple((g.name, g.min) for g in m.settings.grades),
                   tuple(el.grades) if el else None, el.label if el else None,
                   m.total if m.total is not None else sum((c.cap for c in m.categories), Decimal(0)),
                   started_facts(pack))
        pack._lowered_totals = t  # type: ignore[attr-defined]
    return t
