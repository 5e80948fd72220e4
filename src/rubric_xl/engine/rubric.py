"""Score a points rubric: items → categories → total, grade, eligibility.

The checked pack is compiled once into a plan of closures (cached on the pack);
scoring one submission then runs each item's plan over the converted facts.

Per item, in order:
0. any input that breaks the input contract → *invalid* (有误), naming cell, value, expectation;
0½. the submission not started (no input but the unit fact holds a value,
   ``lowered.Totals``) → *incomplete* (待填：尚未开始填报);
1. any required fact blank → *incomplete* (待填), listing the missing facts;
2. the first zeroing condition that holds → 0 (不得分), with its flag;
3. base points (``max``, or the tier of an enum fact);
4. every deduction and bonus that applies, each with amount and explanation;
5. points = max(0, base − deductions) + bonuses (no floor when ``floor: false``).
"""
from __future__ import annotations

import operator
from decimal import Decimal
from typing import Any, Callable

from ..errors import FactsError, Problem
from ..rules import expr
from ..rules.pack import RulePack
from ..rules import lowered
from ..rules import wording
from ..rules.contract import Invalid
from . import num
from .card import Adjustment, CategoryResult, ItemResult, PackInfo, ScoreCard, scored_head, shared_json
from ._rule_code import _ANY_INVALID, _GOT_HEAD, _GOT_TAIL, ZERO, _RuleSource, _rule_function, _test
from ._rubric_code import _pack_function

MEMO_SIZE = 4096  # results remembered per item
BUILD_AFTER = 1  # the pack function is generated on the pack's first submission (compiling it costs
# less than compiling every item's own function, which is compiled only when first needed)


class _ItemPlan:
    __slots__ = ("ci", "id", "title", "category", "max", "bonus_cap", "required", "labels",
                 "tiers", "floor", "full_points", "full_text", "inputs", "key", "memo", "full", "zeroed", "head",
                 "fulls", "run", "result", "index", "memoise")

    def __init__(self, li: lowered.Item, index: int = 0, memoise: bool = True):
        self.ci = li
        self.id, self.title, self.category, self.max = li.id, li.title, li.category, li.max
        self.bonus_cap = li.bonus_cap
        self.required = list(li.required)
        self.labels = li.labels
        self.tiers = li.tiers
        self.floor = li.floor
        self.full_points = num.q2(li.max)
        self.full_text = li.full_text
        # results that depend on no value (full points, each zeroing) are made once
        # and shared by every card, as memoised results are
        # (their JSON scalars made now as well: card.shared_json)
        self.full = shared_json(ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap,
                                           "scored", self.full_points, explanation=self.full_text))
        self.zeroed = [shared_json(ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap,
                                              "scored", ZERO, True, flags=[flag] if flag else (), explanation=text,
                                              zero_rule=z)) for z, (_, text, flag) in enumerate(li.zero)]
        self.head = scored_head(self.id, self.title, self.category, self.max, self.bonus_cap)
        # full points record the tier read (coverage): one shared result per
        # option worth the item's max (and the untiered one for a blank tier)
        self.fulls: dict[str | None, ItemResult] = {None: self.full}
        for opt, pts in (li.tiers[1].items() if li.tiers else ()):
            if pts == li.max:
                self.fulls[opt] = shared_json(ItemResult(self.id, self.title, self.category, self.max,
                                                         self.bonus_cap, "scored", self.full_points,
                                                         explanation=self.full_text, tier=opt))
        # An item is a pure function of the facts it reads (deadlines are
        # constants), so results are memoised on those values — when they are
        # few (yes/no, options, dates; a number's hash costs more than the
        # item, and near-threshold numbers seldom repeat).  Results are
        # shared between score cards and must be treated as immutable.
        self.inputs = li.inputs
        self.key = operator.itemgetter(*li.inputs) if li.inputs else (lambda env: ())
        self.memo: dict[Any, ItemResult] = {}
        self.index, self.memoise = index, memoise
        # the item's own function, compiled when first called (a submission with an invalid
        # value, one not started, one the pack function declines, coverage, durable-rules)
        self.run: Callable[[dict], ItemResult] = self._compile_run
        self.result: Callable[[dict], ItemResult] = self._memoised if memoise else self._compile_run

    def _compile_run(self, env: dict) -> ItemResult:
        fn = self._function(self.ci, self.index)
        self.run = fn
        if not self.memoise:
            self.result = fn
        return fn(env)

    def _function(self, li: lowered.Item, index: int) -> Callable[[dict], ItemResult]:
        """The item as one generated function ``env -> ItemResult``, in the order of
        the lowered form: 有误 → 待填 → 不得分 → deductions, bonuses → full points or
        the points and text (inline; :meth:`_finish` for tiers) — see
        :class:`_RuleSource` for what its source may hold."""
        src = _RuleSource()
        if li.inputs:
            src.line(f"if env.get({src.bind(_ANY_INVALID)}):")
            src.line(f"    res = {src.bind(self._invalid)}(env)")
            src.line("    if res is not None: return res")
        if li.required:
            blank = " or ".join(f"env[{src.bind(f)}] is None" for f in li.required)
            src.line(f"if {blank}: return {src.bind(self._incomplete)}(env)")
        for (node, _, _), zeroed in zip(li.zero, self.zeroed):
            src.line(f"if {_test(src, node)}: return {src.bind(zeroed)}")
        if li.tiers:  # the base is the tier's: deductions, bonuses, then _finish
            for role, rules in (("deduction", li.deductions), ("bonus", li.bonuses)):
                src.line(f"{role} = []")
                for j, r in enumerate(rules):
                    src.line(f"a = {src.bind(_rule_function(r, f'item{index}_{role}{j}', j))}(env)")
                    src.line(f"if a is not None: {role}.append(a)")
            src.line(f"tier = env[{src.bind(li.tiers[0])}]")
            src.line(f"return {src.bind(self.outcome)}(tier, deduction, bonus)")
            return src.function(f"item{index}")
        if not li.deductions and not li.bonuses:
            src.line(f"return {src.bind(self.full)}")
            return src.function(f"item{index}")
        # no tiers: the finish inline — max − deductions, floor 扣完为止, + bonuses, 0.01
        src.line(f"after = {src.bind(li.max)}")
        src.line("parts = []")
        for role, rules in (("deduction", li.deductions), ("bonus", li.bonuses)):
            src.line(f"{role} = []")
            sign = "-" if role == "deduction" else "+"
            for j, r in enumerate(rules):
                src.line(f"a = {src.bind(_rule_function(r, f'item{index}_{role}{j}', j))}(env)")
                src.line("if a is not None:")
                src.line(f"    {role}.append(a)")
                src.line(f"    after {sign}= a.amount")
                src.line("    parts.append(a.text)")
            if role == "deduction" and li.floor:
                src.line("floored = after < ZERO")
                src.line("if floored: after = ZERO")
        src.line(f"if not deduction and not bonus: return {src.bind(self.full)}")
        if li.floor:
            src.line(f"if floored: parts.append({src.bind(wording.FLOORED)})")
        src.line("points = q2(after)")
        src.line("shown = str(points)")  # = num.amount(points): two places already, never an exponent
        src.line(f'parts.append(f"{{{src.bind(_GOT_HEAD)}}}{{shown}}{{{src.bind(_GOT_TAIL)}}}")')
        # positional: id … status, points, zeroed, missing, deductions, bonuses, flags, explanation, invalid
        src.line(f"res = ItemResult({src.bind(self.id)}, {src.bind(self.title)}, {src.bind(self.category)}, "
                 f"{src.bind(self.max)}, {src.bind(self.bonus_cap)}, 'scored', points, False, (), deduction, "
                 f"bonus, (), {src.bind(wording.PART_SEP)}.join(parts), ())")
        src.line("res.points_text = shown")  # set, not passed: cheaper than a keyword
        if li.floor:
            src.line("res.floored = floored")  # whether 扣完为止 bit (coverage); tier stays None
        src.line("return res")
        return src.function(f"item{index}")

    def _memoised(self, env: dict) -> ItemResult:
        key = self.key(env)
        res = self.memo.get(key)
        if res is None:
            res = self.run(env)
            if len(self.memo) >= MEMO_SIZE:
                self.memo.clear()
            self.memo[key] = res
        return res

    def outcome(self, tier: str | None, deductions: list[Adjustment], bonuses: list[Adjustment]) -> ItemResult:
        """The result once the rules that apply are known: the shared full points
        (per tier option) when none applies and the base is the max, else :meth:`_finish`."""
        if not deductions and not bonuses:
            full = self.fulls.get(tier) if self.tiers else self.full
            if full is not None:
                return full
        return self._finish(tier, deductions, bonuses)

    def _finish(self, tier: str | None, deductions: list[Adjustment], bonuses: list[Adjustment]) -> ItemResult:
        """Base (or tier), deductions, floor 扣完为止, bonuses, 0.01 — and the text."""
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
        shown = str(points)  # = num.amount(points): two places already, never an exponent
        parts = [a.text for a in deductions]
        if bonuses:
            parts += [a.text for a in bonuses]
        if base != self.max:
            parts.insert(0, self.ci.tier_text(tier, base))
        if floored:
            parts.append(wording.FLOORED)
        parts.append(f"{_GOT_HEAD}{shown}{_GOT_TAIL}")
        return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "scored",
                          points, deductions=deductions, bonuses=bonuses, explanation=wording.PART_SEP.join(parts),
                          tier=tier, floored=floored, points_text=shown, json=self.head)

    def _invalid(self, env: dict) -> ItemResult | None:
        bad = [env[f] for f in self.inputs if env[f].__class__ is Invalid]
        if not bad:
            return None
        return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "invalid",
                          invalid=[b.fact for b in bad],
                          explanation=wording.INVALID + wording.STATE_SEP + wording.INVALID_SEP.join(b.reason() for b in bad))

    def not_started(self, env: dict, text: str) -> ItemResult:
        """The item of a submission not yet started: 有误 when an input is invalid, else 待填 (*text*)."""
        res = self._invalid(env) if env.get(_ANY_INVALID) else None
        return res or ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "incomplete",
                                 missing=[f for f in self.required if env[f] is None], explanation=text)

    def _incomplete(self, env: dict) -> ItemResult:
        return self.incomplete_of([env[f] for f in self.required])

    def incomplete_of(self, values: tuple | list) -> ItemResult:
        """待填, listing the required facts whose *values* (in ``required`` order) are blank."""
        missing = [f for f, v in zip(self.required, values) if v is None]
        return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "incomplete",
                          missing=missing,
                          explanation=wording.INCOMPLETE + wording.STATE_SEP + wording.MISSING_SEP.join(self.labels[f] for f in missing))




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
            (d.id, expr.compile_py(node),
             [f for f in pack.derived_facts[d.id] if not pack.facts[f].blank_allowed])
            for d, node in pack.derived
        ]
        self.derived_reads = {did: list(pack.derived_facts[did]) for did, _, _ in self.derived}
        few = {fid for fid, f in pack.facts.items() if f.type in ("bool", "enum", "date")}
        self.items = [_ItemPlan(li, i, memoise=all(f in few for f in li.inputs))
                      for i, li in enumerate(lowered.lowered(pack))]
        totals = lowered.lowered_totals(pack)
        self.categories = [(name, cap, bonus_only) for name, cap, bonus_only, _ in totals.categories]
        self.grades = list(totals.grades)
        self.eligible_grades = set(totals.eligible_grades) if totals.eligible_grades is not None else None
        self.eligibility_label = totals.eligibility_label
        self.total_max = totals.total_max
        self.started_facts, self.not_started_text = totals.started_facts, totals.not_started_text
        # the pack function is generated on the pack's BUILD_AFTER-th submission
        self.fast: Callable[[dict], ScoreCard | None] | None = None
        self.uses = 0

    def env(self, values: dict) -> dict:
        env = dict(values)
        env.update(self.deadlines)
        bad = Invalid in map(type, values.values())
        if bad:
            env[_ANY_INVALID] = True
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

    def started(self, env: dict) -> bool:
        """Whether any input but the unit fact holds a value (an invalid one counts)."""
        return any(env[f] is not None for f in self.started_facts)

    def build_fast(self) -> Callable[[dict], ScoreCard | None] | None:
        """The pack function, generated now if not yet (None: the pack uses an
        expression the generator does not know, and is scored item by item)."""
        if self.fast is None and self.uses >= 0:
            self.uses = -1  # built (or refused): never again
            try:
                self.fast = _pack_function(self, self.pack)
            except NotImplementedError:
                self.fast = None
        return self.fast

    def run(self, values: dict) -> ScoreCard:
        fast = self.fast
        if fast is None and self.uses >= 0:
            self.uses += 1
            if self.uses >= BUILD_AFTER:
                fast = self.build_fast()
        if fast is not None:
            try:
                card = fast(values)
            except (ArithmeticError, KeyError):
                card = None  # the per-item path decides (and names a division by 0)
            if card is not None:
                return card
        return self._run(values)

    def _run(self, values: dict) -> ScoreCard:
        """Item by item over an environment: submissions with an invalid value, not
        started, or that the pack function declines."""
        env = self.env(values)
        if not self.started(env):  # not started: every item 待填 (lowered.Totals)
            return self.card([ip.not_started(env, self.not_started_text) for ip in self.items])
        try:
            items = [ip.result(env) for ip in self.items]
        except ZeroDivisionError:
            for ip in self.items:  # which item divided by 0
                try:
                    ip.run(env)
                except ZeroDivisionError:
                    raise FactsError(f"第{ip.id}项计算时除数为0",
                                     [Problem(f"第{ip.id}项", "表达式中的除数为0，请检查相关数据")]) from None
            raise
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
            if it.flags:
                flags += [f"第{it.id}项：{fl}" for fl in it.flags]
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
