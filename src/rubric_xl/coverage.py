"""Pack coverage (``rubric-xl rules test --coverage``), as OPA has for its policies.

What *can* fire is enumerated from the lowered form (:mod:`rubric_xl.rules.lowered`),
one :class:`Target` each:

- items: 计分 (the item scored by its rules, not zeroed), each 不得分条件, each
  档次 option, each 扣分 and 加分, each rule's 封顶 (its cap biting), the floor
  扣完为止 when the item's deductions can exceed its base;
- ledgers, per table: each 决策 value (first rule that applies), each 状态 of the
  chain, 有误 rows, each 必填列 left blank, each 行检查 (error and warning), each
  指标条件 (the row condition of a count / sum with ``where``, all, none metric);
  each 报送检查 of the whole submission (a ledger pack's top-level ``checks:``).

What *did* fire is read from the score cards the engine returns, never from the
explanation text: ``ItemResult.zero_rule`` / ``tier`` / ``floored``,
``Adjustment.rule`` / ``capped``; per table of a ledger card ``RowResult.status``,
its decision values, the check ids of its errors and warnings, and the roll-ups
for metric conditions (a count > 0, a sum ≠ 0 — a sum of zeros shows nothing —,
none false, all true on a line with rows); the card's ``checks`` for the
submission checks.

Only cases that passed count (a failing case proves nothing); a pack with no
passing case is at 0 %.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from .rules import lowered
from .rules import wording
from .rules.pack import RulePack

HUNDRED = Decimal(100)

# category ids → the Chinese names shown in the table (the JSON form keeps both)
CATEGORY = {
    "scored": "计分", "zero": "不得分条件", "tier": "档次", "deduction": "扣分", "bonus": "加分",
    "cap": "封顶", "floor": "扣完为止",
    "status": "状态", "invalid": "有误行", "required": "必填列", "error": "行检查（错误）",
    "warning": "行检查（提醒）", "metric": "指标条件", "decision": "决策",
    "submission_error": "报送检查（错误）", "submission_warning": "报送检查（提醒）",
}


@dataclass
class Target:
    """One thing a pack can do; *hits* names the passing cases that made it fire."""

    category: str  # a key of CATEGORY
    location: str  # 第10项 扣分1, 台账 状态“已销号”, …
    description: str
    key: tuple  # what a card shows when it fired (see fired)
    hits: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return CATEGORY[self.category]


@dataclass
class Coverage:
    pack_id: str
    cases: int  # passing cases counted
    targets: list[Target]

    @property
    def covered(self) -> int:
        return sum(1 for t in self.targets if t.hits)

    @property
    def missed(self) -> list[Target]:
        return [t for t in self.targets if not t.hits]

    @property
    def percent(self) -> Decimal:
        """Covered share in percent, two decimals, rounded down (never 100 before all fire)."""
        if not self.cases:
            return Decimal("0.00")
        if not self.targets:  # pragma: no cover - every item has 计分, every ledger a status
            return Decimal("100.00")
        return (Decimal(self.covered) * HUNDRED / len(self.targets)).quantize(Decimal("0.01"), ROUND_DOWN)


# --- what can fire -------------------------------------------------------------


def _rule_text(r: lowered.Rule) -> str:
    """The rule's reason, else its explanation template with the constant fields
    filled in and the amounts that depend on the facts shown as …"""
    reason = r.fields.get("reason")
    if reason is not None and reason.text:
        return reason.text
    out = []
    for lit, name, _, _ in r.pieces:
        out.append(lit)
        if name:
            f = r.fields.get(name)
            out.append(f.text if f is not None and f.fmt == "text" else "…")
    return "".join(out)


def _range(op: lowered.Op, pack: RulePack) -> tuple[Decimal, Decimal] | None:
    """The interval an amount expression can take, from the facts' allowed ranges
    (``min``/``max``, percentages 0–100); None when a part is unbounded."""
    if op.op == "const":
        return op.value, op.value
    if op.op == "expr":
        node = op.value
        if node.kind == "num":
            return Decimal(node.value), Decimal(node.value)
        fact = pack.facts.get(node.value) if node.kind == "name" else None
        lo, hi = fact.bounds() if fact is not None and fact.type in ("int", "decimal", "percent") else (None, None)
        return None if lo is None or hi is None else (lo, hi)
    parts = [_range(a, pack) for a in op.args]
    if any(p is None for p in parts):
        return None
    if op.op == "sub":
        (a, b), (c, d) = parts
        return a - d, b - c
    if op.op in ("mul", "div"):
        (a, b), (c, d) = parts
        if op.op == "div":
            if c <= 0 <= d:
                return None
            c, d = 1 / d, 1 / c
        ends = [a * c, a * d, b * c, b * d]
        return min(ends), max(ends)
    fn = {"ceil": lambda x: x.to_integral_value(ROUND_CEILING), "floor": lambda x: x.to_integral_value(ROUND_FLOOR),
          "round2": lambda x: x.quantize(Decimal("0.01"), ROUND_HALF_UP)}[op.op]
    (a, b), = parts
    return fn(a), fn(b)  # each is monotone


def _bound(r: lowered.Rule, pack: RulePack) -> Decimal | None:
    """The most a rule can take away (its cap, else its amount's upper end), when
    known without the facts."""
    rng = _range(r.raw, pack)
    hi = None if rng is None else rng[1]
    if r.cap is not None:
        return r.cap if hi is None else min(r.cap, hi)
    return hi


def _can_exceed(r: lowered.Rule, pack: RulePack) -> bool:
    """Whether the rule's amount can go past its cap (else its 封顶 is no target)."""
    rng = _range(r.raw, pack)
    return rng is None or rng[1] > r.cap


def _floor_can_bite(it: lowered.Item, pack: RulePack) -> bool:
    """Whether the item's deductions together can exceed its lowest base."""
    if not it.floor or not it.deductions:
        return False
    bounds = [_bound(r, pack) for r in it.deductions]
    if any(b is None for b in bounds):
        return True
    base = min(it.tiers[1].values()) if it.tiers else it.max
    return sum(bounds, Decimal(0)) > base


def item_targets(pack: RulePack) -> list[Target]:
    out: list[Target] = []
    for it in lowered.lowered(pack):
        at = f"第{it.id}项"
        out.append(Target("scored", at, f"{it.title}：按评分细则计分（未判为不得分）", ("scored", it.id)))
        for k, (_, text, _) in enumerate(it.zero):
            out.append(Target("zero", f"{at} 不得分条件{k + 1}", text, ("zero", it.id, k)))
        if it.tiers:
            for opt, pts in it.tiers[1].items():
                out.append(Target("tier", f"{at} 档次“{opt}”", it.tier_text(opt, pts), ("tier", it.id, opt)))
        for role, rules in (("deduction", it.deductions), ("bonus", it.bonuses)):
            word = CATEGORY[role]
            for k, r in enumerate(rules):
                out.append(Target(role, f"{at} {word}{k + 1}", _rule_text(r), (role, it.id, k)))
                if r.cap is not None and _can_exceed(r, pack):
                    out.append(Target("cap", f"{at} {word}{k + 1} 封顶", f"{_rule_text(r)}{r.cap_text}",
                                      ("cap", it.id, role, k)))
        if _floor_can_bite(it, pack):
            out.append(Target("floor", f"{at} 扣完为止", wording.FLOORED, ("floor", it.id)))
    return out


METRIC_CONDITION = ("count", "sum", "all", "none")  # metric kinds with a row condition


def _conditions(lg: lowered.Ledger) -> list:
    """The metrics of a table with a row condition: count / sum with ``where``, all, none."""
    out = []
    for m in lg.aggregates:
        if m.kind == "count" and m.op.value[0] is None or m.kind == "sum" and not m.op.args:
            continue
        if m.kind in METRIC_CONDITION:
            out.append(m)
    return out


def ledger_targets(pack: RulePack) -> list[Target]:
    """Per table (pack order): each decision value, each status, 有误 rows, each
    required column, each row check, each metric's row condition."""
    out: list[Target] = []
    for lg in lowered.lowered_ledgers(pack):
        at, tb = lg.label, lg.table
        for did, label, rules in lg.decisions:
            for value in dict.fromkeys(v for v, _ in rules):
                out.append(Target("decision", f"{at} 决策 {did}“{value}”", f"{label}为{value}",
                                  ("decision", tb, did, value)))
        out += [Target("status", f"{at} 状态“{name}”", f"状态为{name}", ("status", tb, name))
                for name, _ in lg.statuses]
        out.append(Target("invalid", f"{at} 有误行", f"一行中有不合要求的单元格（{lg.invalid_status}）",
                          ("status", tb, lg.invalid_status)))
        out += [Target("required", f"{at} 必填列 {col}", msg, ("check", tb, f"required_{col}"))
                for col, msg in lg.required]
        out += [Target(chk.level, f"{at} 检查 {chk.id}", chk.message, ("check", tb, chk.id)) for chk, _ in lg.checks]
        out += [Target("metric", f"{at} 指标 {m.id}", f"{m.label}（{m.kind}）的行条件成立", ("metric", tb, m.id, m.kind))
                for m in _conditions(lg)]
    out += [Target(f"submission_{c.level}", f"报送检查 {c.id}", c.message, ("submission", c.id))
            for c in lowered.lowered_checks(pack)]
    return out


def targets(pack: RulePack) -> list[Target]:
    """Everything *pack* can fire, in pack order."""
    return item_targets(pack) if pack.model.kind == "rubric" else ledger_targets(pack)


# --- what did fire -------------------------------------------------------------


def _rubric_fired(card) -> set[tuple]:
    fired: set[tuple] = set()
    for it in card.items:
        if it.status != "scored":
            continue
        if it.zeroed:
            if it.zero_rule is not None:
                fired.add(("zero", it.id, it.zero_rule))
            continue
        fired.add(("scored", it.id))
        if it.tier is not None:
            fired.add(("tier", it.id, it.tier))
        for role, adjs in (("deduction", it.deductions), ("bonus", it.bonuses)):
            for a in adjs:
                if a.rule is not None:
                    fired.add((role, it.id, a.rule))
                    if a.capped:
                        fired.add(("cap", it.id, role, a.rule))
        if it.floored:
            fired.add(("floor", it.id))
    return fired


def _ledger_fired(card, pack: RulePack) -> set[tuple]:
    fired: set[tuple] = {("submission", p.check) for p in card.checks}
    tables = {t.table: t for t in card.tables}
    for lg in lowered.lowered_ledgers(pack):
        t = tables.get(lg.table)
        if t is None:  # pragma: no cover - the card has every table of its pack
            continue
        tb = t.table
        for r in t.rows:
            fired.add(("status", tb, r.status))
            for p in list(r.errors) + list(r.warnings):
                fired.add(("check", tb, p.check))
            if r.status != lg.invalid_status:  # an 有误 row decides nothing
                for did, _, _ in lg.decisions:
                    fired.add(("decision", tb, did, r.values.get(did)))
        # a metric's row condition held on some row: a count > 0, a sum ≠ 0, none
        # false, or all true over a line with rows (a group listed without rows —
        # all_options — is in ``empty``; every other line of one card has rows
        # when the table has a row that is not 有误)
        rows = any(r.status != lg.invalid_status for r in t.rows)
        kinds = {m.id: m.kind for m in _conditions(lg)}
        for ru in t.rollups:
            lines = [v for k, v in ru.groups.items() if k not in ru.empty]
            if ru.total is not None:
                lines.append(ru.total)
            for line in lines:
                for mid, kind in kinds.items():
                    v = line.get(mid)
                    if kind in ("count", "sum") and v is not None and not isinstance(v, bool) and v != 0 \
                            or kind == "none" and v is False or kind == "all" and v is True and rows:
                        fired.add(("metric", tb, mid, kind))
    return fired


def fired(card: Any, pack: RulePack) -> set[tuple]:
    """The keys of every target of *pack* that fired on one of its score cards."""
    return _rubric_fired(card) if card.kind == "rubric" else _ledger_fired(card, pack)


def measure(pack: RulePack, cards: Iterable[tuple[str, Any]]) -> Coverage:
    """Coverage of *pack* by the score cards of its passing cases ((name, card) pairs)."""
    ts = targets(pack)
    by_key: dict[tuple, list[Target]] = {}
    for t in ts:
        by_key.setdefault(t.key, []).append(t)
    n = 0
    for name, card in cards:
        n += 1
        for key in fired(card, pack):
            for t in by_key.get(key, ()):
                t.hits.append(name)
    return Coverage(pack.model.id, n, ts)


def to_dict(cov: Coverage) -> dict:
    return {
        "pack": cov.pack_id, "cases": cov.cases, "targets": len(cov.targets), "covered": cov.covered,
        "percent": cov.percent,  # Decimal: a JSON number through engine.card.dumps
        "lines": [{"category": t.category, "label": t.label, "location": t.location,
                   "description": t.description, "hits": len(t.hits), "cases": t.hits} for t in cov.targets],
        "missed": [t.location for t in cov.missed],
    }


__all__ = ["CATEGORY", "Coverage", "Target", "fired", "measure", "targets", "to_dict"]
