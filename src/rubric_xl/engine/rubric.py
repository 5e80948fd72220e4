"""Score a points rubric: items → categories → total, grade, eligibility.

The checked pack is compiled once into a plan of closures (cached on the pack);
scoring one submission then runs each item's plan over the converted facts.

Per item, in order:
1. any required fact blank → *incomplete* (待填), listing the missing facts;
2. the first zeroing condition that holds → 0 (不得分), with its flag;
3. base points (``max``, or the tier of an enum fact);
4. every deduction and bonus that applies, each with amount and explanation;
5. points = max(0, base − deductions) + bonuses (no floor when ``floor: false``).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from ..errors import FactsError, Problem
from ..rules import expr as E
from ..rules.model import FlatRule, LateRule, PerUnitRule, StepRule
from ..rules.pack import CheckedItem, CheckedRule, RulePack
from . import num
from .card import Adjustment, CategoryResult, ItemResult, PackInfo, ScoreCard

ZERO = Decimal(0)

DEFAULT_TEMPLATES = {
    ("deduction", "flat"): "{reason}，扣{amount}分",
    ("deduction", "per_unit"): "{reason}{count}{unit}，扣{amount}分",
    ("deduction", "step"): "{reason}{value}{unit}，低于{threshold}{unit}，扣{amount}分",
    ("deduction", "late"): "逾期报送（{date}，期限{deadline}），扣{amount}分",
    ("bonus", "flat"): "{reason}，加{amount}分",
    ("bonus", "per_unit"): "{reason}{count}{unit}，加{amount}分",
    ("bonus", "step"): "{reason}{value}{unit}，超过{threshold}{unit}，加{amount}分",
}


class _RulePlan:
    __slots__ = ("rule", "role", "kind", "template", "when", "count", "value", "dates",
                 "deadline", "cap", "points", "reason")

    def __init__(self, cr: CheckedRule):
        r = cr.rule
        self.rule = r
        self.role = cr.role
        self.kind = r.kind
        self.template = r.explain or DEFAULT_TEMPLATES[(cr.role, r.kind)]
        self.reason = r.reason or ""
        self.cap = r.cap
        self.points = r.points
        self.when = E.compile_py(cr.nodes["when"]) if "when" in cr.nodes else None
        self.count = E.compile_py(cr.nodes["count"]) if "count" in cr.nodes else None
        self.value = E.compile_py(cr.nodes["value"]) if "value" in cr.nodes else None
        self.dates = list(r.dates) if isinstance(r, LateRule) else []
        self.deadline = cr.deadline

    def apply(self, env: dict) -> Adjustment | None:
        r = self.rule
        fields: dict[str, Any]
        if self.when is not None and not self.when(env):
            return None
        if isinstance(r, FlatRule):
            amt = r.points
            fields = {}
        elif isinstance(r, PerUnitRule):
            count = self.count(env)
            if count <= 0:
                return None
            amt = count * r.points
            fields = {"count": num.value(count), "unit": r.unit}
        elif isinstance(r, StepRule):
            v = self.value(env)
            gap = (r.threshold - v) if self.role == "deduction" else (v - r.threshold)
            if gap <= 0:
                return None
            ratio = gap / r.step
            if r.partial == "ceil":
                steps = num.ceil(ratio)
                amt = steps * r.points
            elif r.partial == "floor":
                steps = num.floor(ratio)
                amt = steps * r.points
            else:
                steps = ratio
                amt = num.q2(ratio * r.points)
            if amt <= 0:
                return None
            fields = {"value": num.value(v), "threshold": num.value(r.threshold),
                      "shortfall": num.value(gap), "excess": num.value(gap),
                      "steps": num.value(steps), "step": num.value(r.step), "unit": r.unit}
        else:  # LateRule
            deadline = self.deadline.date
            late = [env[d] for d in self.dates if env[d] is not None and env[d] > deadline]
            if not late:
                return None
            amt = r.points
            fields = {"date": max(late).isoformat(), "deadline": deadline.isoformat()}
        capped = False
        if self.cap is not None and amt > self.cap:
            amt, capped = self.cap, True
        fields["amount"] = num.amount(amt)
        fields["points"] = num.amount(r.points)
        fields["reason"] = self.reason
        text = self.template.format_map(fields)
        if capped:
            text += f"（{'加' if self.role == 'bonus' else '扣'}分以{num.amount(self.cap)}分为限）"
        return Adjustment(self.kind, num.q2(amt), text, capped)


class _ItemPlan:
    __slots__ = ("ci", "id", "title", "category", "max", "bonus_cap", "required", "labels",
                 "zero", "deductions", "bonuses", "tiers", "floor")

    def __init__(self, ci: CheckedItem, pack: RulePack):
        it = ci.item
        self.ci = ci
        self.id, self.title, self.category, self.max = it.id, it.title, it.category, it.max
        self.bonus_cap = ci.bonus_cap
        self.required = ci.required
        self.labels = {f: pack.facts[f].label for f in ci.facts}
        self.zero = [(E.compile_py(node), z.reason, z.flag) for node, z in ci.zero_if]
        self.deductions = [_RulePlan(r) for r in ci.rules if r.role == "deduction"]
        self.bonuses = [_RulePlan(r) for r in ci.rules if r.role == "bonus"]
        self.tiers = (it.tiers.value, it.tiers.points) if it.tiers else None
        self.floor = it.floor

    def run(self, env: dict) -> ItemResult:
        res = ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "scored")
        missing = [f for f in self.required if env[f] is None]
        if missing:
            res.status = "incomplete"
            res.missing = missing
            res.explanation = "待填：" + "、".join(self.labels[f] for f in missing)
            return res
        for cond, reason, flag in self.zero:
            if cond(env):
                res.points = ZERO
                res.zeroed = True
                res.explanation = f"{reason}，不得分"
                if flag:
                    res.flags.append(flag)
                    res.explanation += f"，{flag}"
                return res
        base = self.tiers[1][env[self.tiers[0]]] if self.tiers else self.max
        ded = ZERO
        for rp in self.deductions:
            adj = rp.apply(env)
            if adj is not None:
                res.deductions.append(adj)
                ded += adj.amount
        bon = ZERO
        for rp in self.bonuses:
            adj = rp.apply(env)
            if adj is not None:
                res.bonuses.append(adj)
                bon += adj.amount
        after = base - ded
        floored = False
        if self.floor and after < 0:
            after, floored = ZERO, True
        res.points = num.q2(after + bon)
        parts = []
        if self.tiers and base != self.max:
            parts.append(f"{env[self.tiers[0]]}，基础分{num.amount(base)}分")
        parts.extend(a.text for a in res.deductions)
        parts.extend(a.text for a in res.bonuses)
        if floored:
            parts.append("扣完为止")
        if parts:
            res.explanation = "；".join(parts) + f"；得{num.amount(res.points)}分"
        else:
            res.explanation = f"符合要求，得{num.amount(res.points)}分"
        return res


class RubricPlan:
    """Everything needed to score one submission quickly."""

    def __init__(self, pack: RulePack):
        m = pack.model
        self.pack = pack
        self.info = PackInfo(m.id, m.title, m.version, pack.hash)
        self.deadlines = {d.id: d.date for d in m.deadlines}
        self.derived: list[tuple[str, Callable, list[str]]] = [
            (d.id, E.compile_py(node), pack.derived_facts[d.id]) for d, node in pack.derived
        ]
        self.items = [_ItemPlan(ci, pack) for ci in pack.items]
        self.categories = [(c.name, c.cap, c.bonus_only) for c in m.categories]
        self.grades = [(g.name, g.min) for g in m.settings.grades]
        el = m.settings.eligibility
        self.eligible_grades = set(el.grades) if el else None
        self.eligibility_label = el.label if el else None
        self.total_max = m.total if m.total is not None else sum(
            (c.cap for c in m.categories), ZERO)

    def env(self, values: dict) -> dict:
        env = dict(values)
        env.update(self.deadlines)
        for did, fn, deps in self.derived:
            if all(env[f] is not None for f in deps):
                try:
                    env[did] = fn(env)
                except ZeroDivisionError:
                    raise FactsError("计算派生值时除数为0", [Problem(did, "派生值的除数为0")]) from None
            else:
                env[did] = None
        return env

    def grade(self, total: Decimal) -> str | None:
        for name, lo in self.grades:
            if lo is None or total >= lo:
                return name
        return None

    def run(self, values: dict) -> ScoreCard:
        env = self.env(values)
        items: list[ItemResult] = []
        for ip in self.items:
            try:
                items.append(ip.run(env))
            except ZeroDivisionError:
                raise FactsError(f"第{ip.id}项计算时除数为0",
                                 [Problem(f"第{ip.id}项", "表达式中的除数为0，请检查相关数据")]) from None
        by_cat: dict[str, CategoryResult] = {
            name: CategoryResult(name, ZERO, cap, bonus_only) for name, cap, bonus_only in self.categories
        }
        total = ZERO
        flags: list[str] = []
        provisional = False
        for it in items:
            cat = by_cat[it.category]
            if it.points is None:
                provisional = True
                cat.complete = False
                continue
            cat.points += it.points
            total += it.points
            for fl in it.flags:
                flags.append(f"第{it.id}项：{fl}")
        grade = self.grade(total) if self.grades else None
        eligible = None
        if self.eligible_grades is not None:
            eligible = grade in self.eligible_grades
        return ScoreCard(self.info, num.q2(total), self.total_max, grade, eligible,
                         self.eligibility_label, provisional, list(by_cat.values()), items, flags)


def plan_for(pack: RulePack) -> RubricPlan:
    plan = getattr(pack, "_rubric_plan", None)
    if plan is None:
        plan = RubricPlan(pack)
        pack._rubric_plan = plan  # type: ignore[attr-defined]
    return plan
