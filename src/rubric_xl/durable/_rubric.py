"""A points rubric on durable-rules: the lowered items compiled to one ruleset.

Rules per item (the ruleset is data: rule name → condition):

* ``<i>.invalid`` / ``<i>.incomplete`` / ``<i>.zero<k>`` / ``<i>.scored`` — the
  item's state bands, mutually exclusive by construction (有误 → 待填, also while
  the submission is not started (a posted ``started`` term, ``lowered.Totals``) →
  the first zeroing condition that holds → scored); exactly one must fire;
* ``<i>.tier<k>`` — one per option of a tiered item; exactly one must fire when scored;
* ``<i>.d<k>`` / ``<i>.b<k>`` — a deduction / bonus applies; ``….cap`` — its cap applies.

The items are packed into a few facts (``ev = "r0"``, ``"r1"`` …; durable-rules
takes at most :data:`MAX_FIELDS` fields per fact), each with an always-true
``<ev>.seen`` rule so that every posted fact is handled.  What fired is read
back and turned into the same :class:`ScoreCard` as the engine's; amounts and
wording come from the lowered form (:mod:`rubric_xl.rules.lowered`).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from ..engine import num
from ..engine.card import Adjustment, ItemResult, ScoreCard
from ..engine._rule_code import _OPS
from ..engine.rubric import plan_for as engine_plan
from ..errors import FactsError, Problem
from ..rules import expr
from ..rules import lowered
from ..rules import wording
from ..rules.contract import Invalid
from ..rules.pack import RulePack
from . import _host
from ._terms import TRUE, Compiler, Terms, both, cmp, either, negate, num_cmp, present, scaled, to_json

ZERO = Decimal(0)
EV = "r"
MAX_FIELDS = 200  # fields per posted fact (durable-rules fails on large objects)


def op_fn(op: lowered.Op) -> tuple[Callable, set[str]]:
    """A lowered amount expression as a closure over the environment, and the names it reads."""
    if op.op == "const":
        v = op.value
        return (lambda env: v), set()
    if op.op == "expr":
        return expr.compile_py(op.value), op.value.names()
    parts = [op_fn(a) for a in op.args]
    f = _OPS[op.op]
    fns = [p[0] for p in parts]
    return (lambda env: f(*[g(env) for g in fns])), set().union(*[p[1] for p in parts])


class _RuleCode:
    """One lowered deduction / bonus: its rule names and how its amount and text are made."""

    def __init__(self, name: str, lr: lowered.Rule, comp: Compiler):
        self.name, self.lr = name, lr
        self.raw, self.raw_reads = op_fn(lr.raw)
        self.applies = self._cond(lr.applies, comp)
        self.cap_cond = None
        if lr.cap is not None:
            t = comp.amount(("raw", id(lr.raw)), self.raw, self.raw_reads)
            self.cap_cond = both(self.applies, present(t), num_cmp(t.name, "gt", scaled(lr.cap)[0]))
        self.fields = {k: (f, op_fn(f.amount)[0] if f.amount is not None else None)
                       for k, f in lr.fields.items() if any(k == p[1] for p in lr.pieces)}

    def _cond(self, c: lowered.Cond, comp: Compiler) -> tuple:
        if c.kind == "expr":
            return comp.cond(c.node)
        if c.kind == "positive":
            fn, reads = op_fn(c.amount)
            t = comp.amount(("raw", id(c.amount)), fn, reads)
            return both(present(t), num_cmp(t.name, "gt", 0))
        if c.kind == "late":
            dl = c.deadline.toordinal()
            out = []
            for d in c.dates:
                t = comp.term(expr.Node("name", d, type="date", nullable=True))
                out.append(both(present(t), cmp("gt", t.name, dl)))
            return either(*out)
        return both(*[self._cond(p, comp) for p in c.parts])

    def adjustment(self, env: dict, capped: bool) -> Adjustment:
        lr = self.lr
        amt = lr.cap if capped else self.raw(env)
        fields: dict[str, Any] = {"amount": num.amount(amt)}
        for k, (f, fn) in self.fields.items():
            if f.fmt == "text":
                fields[k] = f.text
            elif f.fmt == "amount":
                fields[k] = num.amount(fn(env))
            elif f.fmt == "date":
                dl = f.latest.deadline
                fields[k] = max(env[d] for d in f.latest.dates if env[d] is not None and env[d] > dl).isoformat()
            else:
                fields[k] = num.value(fn(env))
        text = lr.template.format_map(fields) + (lr.cap_text if capped else "")
        return Adjustment(lr.kind, amt, text, capped)


class _ItemCode:
    def __init__(self, idx: int, li: lowered.Item, comp: Compiler, rules: dict[str, tuple], started: Callable):
        self.li = li
        p = f"i{idx}"
        self.prefix = p
        self.ev = ""  # the fact it is posted in (set by the ruleset)
        comp.terms.used = set()
        valid = []
        for f in li.inputs:
            t = comp.terms.add(("valid", f), "bool", (lambda env, f=f: env.get(f).__class__ is not Invalid), ())
            valid.append(cmp("eq", t.name, True))
        ok = both(*valid)
        # not started (no input but the unit holds a value): 待填 like a blank required fact
        st = comp.terms.add(("started",), "bool", started, ())
        missing = [cmp("eq", st.name, False)]
        for f in li.required:
            t = comp.term(expr.Node("name", f, type="text", nullable=True))
            missing.append(cmp("eq", t.name + "p", 0))
        complete = negate(either(*missing))
        rules[p + ".invalid"] = negate(ok)
        rules[p + ".incomplete"] = both(ok, either(*missing))
        gate = both(ok, complete)
        self.zero = []
        for k, (node, text, flag) in enumerate(li.zero):
            c = comp.cond(node)
            rules[f"{p}.zero{k}"] = both(gate, c)
            self.zero.append((text, flag))
            gate = both(gate, negate(c))
        rules[p + ".scored"] = gate
        self.tiers = []
        if li.tiers:
            fact, points = li.tiers
            t = comp.term(expr.Node("name", fact, type="text", nullable=True))
            for k, opt in enumerate(points):
                rules[f"{p}.tier{k}"] = both(present(t), cmp("eq", t.name, opt))
                self.tiers.append((opt, points[opt]))
        self.rules: list[_RuleCode] = []
        for role, lrs in (("d", li.deductions), ("b", li.bonuses)):
            for k, lr in enumerate(lrs):
                rc = _RuleCode(f"{p}.{role}{k}", lr, comp)
                rules[rc.name] = rc.applies
                if rc.cap_cond is not None:
                    rules[rc.name + ".cap"] = rc.cap_cond
                self.rules.append(rc)
        self.terms = [t for t in comp.terms.terms if t.name in comp.terms.used]
        self.bands = [p + ".invalid", p + ".incomplete"] + [f"{p}.zero{k}" for k in range(len(self.zero))] + [p + ".scored"]

    def result(self, env: dict, fired: set[str], errors: bool, waiting: str | None) -> ItemResult:
        """*waiting*: the 待填 text of a submission not started, else ``None``."""
        li, p = self.li, self.prefix
        hit = [b for b in self.bands if b in fired]
        if len(hit) != 1:
            raise _host.DurableError(
                f"durable-rules 执行器内部错误：第{li.id}项命中了{len(hit)}个状态分档（应恰为1个），未给出分数")
        band = hit[0]
        if band == p + ".invalid":
            bad = [env[f] for f in li.inputs if env.get(f).__class__ is Invalid]
            return ItemResult(li.id, li.title, li.category, li.max, li.bonus_cap, "invalid",
                              invalid=[b.fact for b in bad],
                              explanation=wording.INVALID + wording.STATE_SEP + wording.INVALID_SEP.join(b.reason() for b in bad))
        if band == p + ".incomplete":
            missing = [f for f in li.required if env[f] is None]
            return ItemResult(li.id, li.title, li.category, li.max, li.bonus_cap, "incomplete", missing=missing,
                              explanation=waiting or
                              wording.INCOMPLETE + wording.STATE_SEP + wording.MISSING_SEP.join(li.labels[f] for f in missing))
        if band != p + ".scored":
            text, flag = self.zero[int(band[len(p) + 5:])]
            return ItemResult(li.id, li.title, li.category, li.max, li.bonus_cap, "scored", ZERO, True,
                              flags=[flag] if flag else (), explanation=text)
        if errors:
            raise FactsError(f"第{li.id}项计算时除数为0", [Problem(f"第{li.id}项", "表达式中的除数为0，请检查相关数据")])
        base = li.max
        tier = None
        if self.tiers:
            hit = [k for k in range(len(self.tiers)) if f"{p}.tier{k}" in fired]
            if len(hit) != 1:
                raise _host.DurableError(
                    f"durable-rules 执行器内部错误：第{li.id}项命中了{len(hit)}个档次（应恰为1个），未给出分数")
            tier, base = self.tiers[hit[0]]
        deductions, bonuses = [], []
        for rc in self.rules:
            if rc.name in fired:
                (bonuses if rc.lr.is_bonus else deductions).append(rc.adjustment(env, rc.name + ".cap" in fired))
            elif rc.name + ".cap" in fired:
                raise _host.DurableError(f"durable-rules 执行器内部错误：第{li.id}项的封顶规则单独命中，未给出分数")
        if not deductions and not bonuses and base == li.max:
            return ItemResult(li.id, li.title, li.category, li.max, li.bonus_cap, "scored", num.q2(li.max),
                              explanation=li.full_text)
        after = base - sum((a.amount for a in deductions), ZERO)
        floored = li.floor and after < ZERO
        if floored:
            after = ZERO
        after += sum((a.amount for a in bonuses), ZERO)
        points = num.q2(after)
        parts = [li.tier_text(tier, base)] if base != li.max else []
        parts += [a.text for a in deductions] + [a.text for a in bonuses]
        if floored:
            parts.append(wording.FLOORED)
        parts.append(wording.GOT.format(points=num.amount(points)))
        return ItemResult(li.id, li.title, li.category, li.max, li.bonus_cap, "scored", points,
                          deductions=deductions, bonuses=bonuses, explanation=wording.PART_SEP.join(parts))


class RubricRuleset:
    def __init__(self, pack: RulePack):
        self.pack = pack
        self.name = f"rubric-{pack.hash}"
        self.terms = Terms()
        comp = Compiler(self.terms)
        self.items: list[_ItemCode] = []
        conds: list[dict[str, tuple]] = []
        started = engine_plan(pack).started
        for i, li in enumerate(lowered.lowered(pack)):
            conds.append({})
            self.items.append(_ItemCode(i, li, comp, conds[-1], started))
        # pack items into facts of at most MAX_FIELDS fields (3 per term)
        self.chunks: list[tuple[str, list[_ItemCode], list]] = []
        names: set[str] = set()
        for ic in self.items:
            mine = {t.name for t in ic.terms}
            if not self.chunks or 3 * len(names | mine) + 4 > MAX_FIELDS:
                self.chunks.append((f"{EV}{len(self.chunks)}", [], []))
                names = set()
            names |= mine
            ev, members, _ = self.chunks[-1]
            members.append(ic)
            ic.ev = ev
        self.chunks = [(ev, members, [t for t in self.terms.terms if any(t in m.terms for m in members)])
                       for ev, members, _ in self.chunks]
        self.rules: dict[str, dict] = {f"{ev}.seen": to_json(TRUE, ev) for ev, _, _ in self.chunks}
        for ic, cs in zip(self.items, conds):
            self.rules.update({name: to_json(c, ic.ev) for name, c in cs.items()})

    def facts(self, values: dict) -> tuple[dict, list[dict], list[set[str]]]:
        """(environment, one posted fact per item, terms that failed per item) for converted *values*."""
        env = engine_plan(self.pack).env(values)  # derived values: the shared arithmetic
        facts, failed = [], set()
        for k, (ev, _, terms) in enumerate(self.chunks):
            fact = self.terms.fields(env, failed, terms)
            fact.update(ev=ev, rid=k)
            facts.append(fact)
        return env, facts, [{t.name for t in ic.terms} & failed for ic in self.items]

    def card(self, env: dict, fired: list, errors: list[set[str]]) -> ScoreCard:
        # a rule whose condition has several ``$or`` branches fires once per matching branch:
        # what counts is whether it matched, so the set of names is read
        seen = {n for n, _ in fired}
        if any(f"{ev}.seen" not in seen for ev, _, _ in self.chunks):
            raise _host.DurableError("durable-rules 执行器内部错误：有提交的事实未被匹配，未给出分数")
        plan = engine_plan(self.pack)
        waiting = None if plan.started(env) else plan.not_started_text
        items = [ic.result(env, seen, bool(err), waiting) for ic, err in zip(self.items, errors)]
        return plan.card(items)  # totals, grade, eligibility: the engine's one assembly

    def run(self, values: dict) -> ScoreCard:
        _host.ensure(self.name, self.rules)
        env, facts, errors = self.facts(values)
        (fired,) = _host.evaluate(self.name, [facts])
        return self.card(env, fired, errors)
