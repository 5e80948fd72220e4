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

from decimal import Decimal
from typing import Any, Callable

from ..errors import FactsError, Problem
from ..rules import expr as E
from ..rules.pack import RulePack
from ..rules import lowered as L
from ..rules import wording as W
from ..rules.contract import Invalid
from . import num
from .card import Adjustment, CategoryResult, ItemResult, PackInfo, ScoreCard

ZERO = Decimal(0)
MEMO_SIZE = 4096  # results remembered per item
_ANY_INVALID = "\x00invalid"  # env key: some value breaks the input contract (not a pack name)



_OPS: dict[str, Callable] = {
    "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "ceil": num.ceil, "floor": num.floor, "round2": num.q2,
}


def _program(roots: list[L.Op]) -> tuple[list[tuple], dict[int, int]]:
    """The amount expressions as a list of steps, each distinct node once
    (slot, kind, payload, argument slots), and the slot of each node (by id)."""
    slots: dict[int, int] = {}
    steps: list[tuple] = []

    def visit(op: L.Op) -> int:
        if id(op) in slots:
            return slots[id(op)]
        args = tuple(visit(a) for a in op.args)
        if op.op == "const":
            payload = op.value
        elif op.op == "expr":
            payload = E.compile_py(op.value)
        else:
            payload = _OPS[op.op]
        slots[id(op)] = len(steps)
        steps.append((op.op, payload, args))
        return slots[id(op)]

    for r in roots:
        visit(r)
    return steps, slots


class _RulePlan:
    """One lowered deduction or bonus (:class:`rubric_xl.rules.lowered.Rule`),
    evaluated: its amount expressions run as one small program per call."""

    __slots__ = ("role", "kind", "template", "when", "positive", "late", "steps", "raw", "fields",
                 "cap", "cap_text", "need", "is_bonus", "static", "run", "index")

    def __init__(self, lr: L.Rule, index: int | None = None):
        self.index = index  # position among the item's deductions / bonuses (recorded on the card)
        self.role, self.kind, self.is_bonus = lr.role, lr.kind, lr.is_bonus
        self.template = lr.template
        self.cap, self.cap_text, self.static = lr.cap, lr.cap_text, lr.static
        conds = lr.applies.parts if lr.applies.kind == "both" else (lr.applies,)
        self.when = self.positive = self.late = None
        roots = [lr.raw]
        for c in conds:
            if c.kind == "expr" and c.node is not None:
                self.when = E.compile_py(c.node)
            elif c.kind == "positive":
                self.positive = c.amount
                roots.append(c.amount)
            elif c.kind == "late":
                self.late = (list(c.dates), c.deadline)
        # only the placeholders the template names are formatted at scoring time
        self.need = {name for _, name, _, _ in lr.pieces if name}
        fields = {k: f for k, f in lr.fields.items() if k in self.need}
        roots += [f.amount for f in fields.values() if f.amount is not None]
        self.steps, slots = _program(roots)
        self.raw = slots[id(lr.raw)]
        if self.positive is not None:
            self.positive = slots[id(self.positive)]
        self.fields = [(k, f.fmt, f.text if f.fmt == "text" else slots.get(id(f.amount)))
                       for k, f in fields.items()]
        # a constant amount with constant texts (flat, late) needs no program run
        self.run = self.static is None or self.positive is not None or \
            any(fmt not in ("text", "date") for _, fmt, _ in self.fields)

    def apply(self, env: dict) -> Adjustment | None:
        if self.when is not None and not self.when(env):
            return None
        late = None
        if self.late is not None:
            dates, deadline = self.late
            late = [env[d] for d in dates if env[d] is not None and env[d] > deadline]
            if not late:
                return None
        if not self.run:
            regs = None
            amt = self.static
        else:
            regs = []
            for kind, payload, args in self.steps:
                if kind == "const":
                    regs.append(payload)
                elif kind == "expr":
                    regs.append(payload(env))
                else:
                    regs.append(payload(*[regs[a] for a in args]))
            if self.positive is not None and regs[self.positive] <= ZERO:
                return None
            amt = regs[self.raw]
        capped = False
        if self.cap is not None and amt > self.cap:
            amt, capped = self.cap, True
        fields: dict[str, Any] = {"amount": num.amount(amt)}
        for name, fmt, x in self.fields:
            if fmt == "text":
                fields[name] = x
            elif fmt == "amount":
                fields[name] = num.amount(regs[x])
            elif fmt == "date":
                fields[name] = max(late).isoformat()
            else:  # value, whole
                fields[name] = num.value(regs[x])
        text = self.template.format_map(fields)
        if capped:
            text += self.cap_text
        return Adjustment(self.kind, amt, text, capped, self.index)


class _ItemPlan:
    __slots__ = ("ci", "id", "title", "category", "max", "bonus_cap", "required", "labels",
                 "zero", "deductions", "bonuses", "tiers", "floor", "full_points", "full_text",
                 "inputs", "memo")

    def __init__(self, li: L.Item):
        self.ci = li
        self.id, self.title, self.category, self.max = li.id, li.title, li.category, li.max
        self.bonus_cap = li.bonus_cap
        self.required = list(li.required)
        self.labels = li.labels
        self.zero = [(E.compile_py(node), text, flag) for node, text, flag in li.zero]
        self.deductions = [_RulePlan(r, i) for i, r in enumerate(li.deductions)]
        self.bonuses = [_RulePlan(r, i) for i, r in enumerate(li.bonuses)]
        self.tiers = li.tiers
        self.floor = li.floor
        self.full_points = num.q2(li.max)
        self.full_text = li.full_text
        # An item is a pure function of the facts it reads (deadlines are
        # constants), so results are memoised on those values.  Results are
        # shared between score cards and must be treated as immutable.
        self.inputs = li.inputs
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
        for z, (cond, text, flag) in enumerate(self.zero):
            if cond(env):
                return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap,
                                  "scored", ZERO, True, flags=[flag] if flag else (), explanation=text,
                                  zero_rule=z)
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
                              "scored", self.full_points, explanation=self.full_text, tier=tier)
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
        parts = [self.ci.tier_text(tier, base)] if base != self.max else []
        parts += [a.text for a in deductions]
        parts += [a.text for a in bonuses]
        if floored:
            parts.append(W.FLOORED)
        parts.append(W.GOT.format(points=num.amount(points)))
        return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "scored",
                          points, deductions=deductions, bonuses=bonuses, explanation=W.PART_SEP.join(parts),
                          tier=tier, floored=floored)

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
        self.items = [_ItemPlan(li) for li in L.lowered(pack)]
        totals = L.lowered_totals(pack)
        self.categories = [(name, cap, bonus_only) for name, cap, bonus_only, _ in totals.categories]
        self.grades = list(totals.grades)
        self.eligible_grades = set(totals.eligible_grades) if totals.eligible_grades is not None else None
        self.eligibility_label = totals.eligibility_label
        self.total_max = totals.total_max

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
        return self.card(items)

    def card(self, items: list[ItemResult]) -> ScoreCard:
        """The score card of scored *items* (pack order): category subtotals, total,
        grade, eligibility, provisional, flags — also for the durable-rules executor."""
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
