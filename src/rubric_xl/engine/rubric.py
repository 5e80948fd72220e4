"""Score a points rubric: items → categories → total, grade, eligibility.

The checked pack is compiled once into a plan of closures (cached on the pack);
scoring one submission then runs each item's plan over the converted facts.

Per item, in order:
0. any input that breaks the input contract → *invalid* (有误), naming cell, value, expectation;
1. any required fact blank → *incomplete* (待填), listing the missing facts;
2. the first zeroing condition that holds → 0 (不得分), with its flag;
3. base points (``max``, or the tier of an enum fact);
4. every deduction and bonus that applies, each with amount and explanation;
5. points = max(0, base − deductions) + bonuses (no floor when ``floor: false``).
"""
from __future__ import annotations

import string
from decimal import Decimal
from typing import Any, Callable

from ..errors import FactsError, Problem
from ..rules import expr as E
from ..rules.model import LateRule
from ..rules.pack import CheckedItem, CheckedRule, RulePack
from ..rules import wording as W
from ..rules.contract import Invalid
from ..rules.wording import DEFAULT_TEMPLATES
from . import num
from .card import Adjustment, CategoryResult, ItemResult, PackInfo, ScoreCard

ZERO = Decimal(0)
MEMO_SIZE = 4096  # results remembered per item
_ANY_INVALID = "\x00invalid"  # env key: some value breaks the input contract (not a pack name)



class _RulePlan:
    """One deduction or bonus, with the rule's fields copied into slots (the
    hot path touches no pydantic objects)."""

    __slots__ = ("role", "kind", "template", "when", "count", "value", "dates", "deadline",
                 "deadline_text", "cap", "points", "reason", "need", "points_text", "unit",
                 "threshold", "step", "partial", "is_bonus")

    def __init__(self, cr: CheckedRule):
        r = cr.rule
        self.role = cr.role
        self.is_bonus = cr.role == "bonus"
        self.kind = r.kind
        self.template = r.explain or DEFAULT_TEMPLATES[(cr.role, r.kind)]
        self.reason = r.reason or ""
        self.cap = r.cap
        self.points = r.points
        self.points_text = num.amount(r.points)
        self.unit = getattr(r, "unit", "")
        self.threshold = getattr(r, "threshold", None)
        self.step = getattr(r, "step", None)
        self.partial = getattr(r, "partial", None)
        self.when = E.compile_py(cr.nodes["when"]) if "when" in cr.nodes else None
        self.count = E.compile_py(cr.nodes["count"]) if "count" in cr.nodes else None
        self.value = E.compile_py(cr.nodes["value"]) if "value" in cr.nodes else None
        self.dates = list(r.dates) if isinstance(r, LateRule) else []
        self.deadline = cr.deadline.date if cr.deadline is not None else None
        self.deadline_text = self.deadline.isoformat() if self.deadline else ""
        # only the placeholders the template names are formatted at scoring time
        self.need = {f for _, f, _, _ in string.Formatter().parse(self.template) if f}

    def apply(self, env: dict) -> Adjustment | None:
        if self.when is not None and not self.when(env):
            return None
        kind = self.kind
        fields: dict[str, Any] = {"reason": self.reason, "points": self.points_text, "unit": self.unit}
        if kind == "flat":
            amt = self.points
        elif kind == "per_unit":
            count = self.count(env)
            if count <= ZERO:
                return None
            amt = count * self.points
            if "count" in self.need:
                fields["count"] = num.value(count)
        elif kind == "step":
            v = self.value(env)
            gap = (v - self.threshold) if self.is_bonus else (self.threshold - v)
            if gap <= ZERO:
                return None
            ratio = gap / self.step
            if self.partial == "ceil":
                steps = num.ceil(ratio)
                amt = steps * self.points
            elif self.partial == "floor":
                steps = num.floor(ratio)
                amt = steps * self.points
            else:
                steps = ratio
                amt = num.q2(ratio * self.points)
            if amt <= ZERO:
                return None
            need = self.need
            if "value" in need:
                fields["value"] = num.value(v)
            if "threshold" in need:
                fields["threshold"] = num.value(self.threshold)
            if "shortfall" in need or "excess" in need:
                fields["shortfall"] = fields["excess"] = num.value(gap)
            if "steps" in need:
                fields["steps"] = num.value(steps)
            if "step" in need:
                fields["step"] = num.value(self.step)
        else:  # late
            deadline = self.deadline
            late = [env[d] for d in self.dates if env[d] is not None and env[d] > deadline]
            if not late:
                return None
            amt = self.points
            fields["date"] = max(late).isoformat()
            fields["deadline"] = self.deadline_text
        capped = False
        if self.cap is not None and amt > self.cap:
            amt, capped = self.cap, True
        fields["amount"] = num.amount(amt)
        text = self.template.format_map(fields)
        if capped:
            text += W.CAPPED[self.role].format(cap=num.amount(self.cap))
        return Adjustment(kind, amt, text, capped)


class _ItemPlan:
    __slots__ = ("ci", "id", "title", "category", "max", "bonus_cap", "required", "labels",
                 "zero", "deductions", "bonuses", "tiers", "floor", "full_points", "full_text",
                 "inputs", "memo")

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
        self.full_points = num.q2(it.max)
        self.full_text = W.FULL.format(points=num.amount(it.max))
        # An item is a pure function of the facts it reads (deadlines are
        # constants), so results are memoised on those values.  Results are
        # shared between score cards and must be treated as immutable.
        self.inputs = tuple(ci.facts)
        self.memo: dict[tuple, ItemResult] = {}

    def result(self, env: dict) -> ItemResult:
        key = tuple([env[f] for f in self.inputs])
        res = self.memo.get(key)
        if res is None:
            res = self.run(env)
            if len(self.memo) >= MEMO_SIZE:
                self.memo.clear()
            self.memo[key] = res
        return res

    def run(self, env: dict) -> ItemResult:
        if env.get(_ANY_INVALID):
            bad = [env[f] for f in self.inputs if env[f].__class__ is Invalid]
            if bad:
                return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "invalid",
                                  invalid=[b.fact for b in bad],
                                  explanation=W.INVALID + W.STATE_SEP + W.INVALID_SEP.join(b.reason() for b in bad))
        for f in self.required:
            if env[f] is None:
                return self._incomplete(env)
        for cond, reason, flag in self.zero:
            if cond(env):
                text = W.ZEROED.format(reason=reason)
                if flag:
                    return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap,
                                      "scored", ZERO, True, flags=[flag],
                                      explanation=text + W.ZEROED_FLAG.format(flag=flag))
                return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap,
                                  "scored", ZERO, True, explanation=text)
        deductions: list[Adjustment] = []
        for rp in self.deductions:
            a = rp.apply(env)
            if a is not None:
                deductions.append(a)
        bonuses: list[Adjustment] = []
        for rp in self.bonuses:
            a = rp.apply(env)
            if a is not None:
                bonuses.append(a)
        tier = env[self.tiers[0]] if self.tiers else None
        if not deductions and not bonuses and (tier is None or self.tiers[1][tier] == self.max):
            return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap,
                              "scored", self.full_points, explanation=self.full_text)
        base = self.tiers[1][tier] if self.tiers else self.max
        after = base
        for a in deductions:
            after -= a.amount
        floored = self.floor and after < ZERO
        if floored:
            after = ZERO
        for a in bonuses:
            after += a.amount
        points = num.q2(after)
        parts = [W.TIER_BASE.format(tier=tier, points=num.amount(base))] if base != self.max else []
        parts += [a.text for a in deductions]
        parts += [a.text for a in bonuses]
        if floored:
            parts.append(W.FLOORED)
        parts.append(W.GOT.format(points=num.amount(points)))
        return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "scored",
                          points, deductions=deductions, bonuses=bonuses, explanation=W.PART_SEP.join(parts))

    def _incomplete(self, env: dict) -> ItemResult:
        missing = [f for f in self.required if env[f] is None]
        return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "incomplete",
                          missing=missing,
                          explanation=W.INCOMPLETE + W.STATE_SEP + W.MISSING_SEP.join(self.labels[f] for f in missing))


class RubricPlan:
    """Everything needed to score one submission quickly."""

    def __init__(self, pack: RulePack):
        m = pack.model
        self.pack = pack
        self.info = PackInfo(m.id, m.title, m.version, pack.hash)
        self.deadlines = {d.id: d.date for d in m.deadlines}
        # a derived value is computed when every fact it needs is present; facts
        # that may be blank (blank_allowed) are read as blank (present()/blank())
        self.derived: list[tuple[str, Callable, list[str]]] = [
            (d.id, E.compile_py(node),
             [f for f in pack.derived_facts[d.id] if not pack.facts[f].blank_allowed])
            for d, node in pack.derived
        ]
        self.derived_reads = {did: list(pack.derived_facts[did]) for did, _, _ in self.derived}
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
        bad = False
        for v in values.values():
            if v.__class__ is Invalid:
                bad = env[_ANY_INVALID] = True
                break
        for did, fn, deps in self.derived:
            if bad and any(env[f].__class__ is Invalid for f in self.derived_reads[did]):
                env[did] = None  # never computed from an invalid value (its items are 有误)
            elif all(env[f] is not None for f in deps):
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
                items.append(ip.result(env))
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
