"""A ledger (台账) on durable-rules: row statuses, row checks and metric conditions,
compiled from the lowered ledger (:func:`rubric_xl.rules.lowered.lowered_ledger`).

Two rulesets per pack, each fact one row:

* ``s`` (status): ``row.invalid`` (a value breaks the input contract), one band
  per status in the pack's order (the first that holds), ``row.none`` — exactly
  one fires per row;
* ``c`` (checks, posted with the row's status): ``req.<col>`` a required column
  is blank, ``chk<k>`` a check holds, ``m<k>`` a row term's condition holds (the lowered
``row_terms``).

The first table's ruleset also holds the pack's checks of the whole submission
(:func:`rubric_xl.rules.lowered.lowered_checks`): one fact ``p`` per submission
(its top-level values), ``sub<k>`` when check *k* holds.

Derived row values and metric sums are the shared arithmetic; the roll-ups
aggregate the per-row decisions made here with the engine's aggregation.
"""
from __future__ import annotations

from decimal import Decimal

from ..engine.card import LedgerCard, RowProblem, RowResult
from ..engine.ledger import _ROW_METRICS, plan_for as engine_plan
from ..rules import expr
from ..rules import lowered
from ..rules.contract import Invalid
from ..rules.pack import RulePack
from . import _host
from ._terms import TRUE, Compiler, Terms, both, cmp, negate, to_json

ZERO = Decimal(0)
ROW_BATCH = 1000  # rows asserted per session (one session at a time, each deleted afterwards)


def _batched(name: str, facts: list[dict]) -> list:
    batches = [facts[i:i + ROW_BATCH] for i in range(0, len(facts), ROW_BATCH)]
    return [hit for fired in _host.evaluate(name, batches) for hit in fired]


class _TableRuleset:
    """The two rulesets of one ledger table."""

    def __init__(self, pack: RulePack, lg: lowered.Ledger):
        self.pack = pack
        self.plan = engine_plan(pack)  # shared: top-level checks, derived arithmetic, aggregation
        self.tplan = self.plan.tables[lg.index]
        self.lg = lg
        self.name = f"ledger-{pack.hash}" + (f"-{lg.index}" if lg.index else "")
        self.columns = list(lg.columns)
        decided = {did for did, _, _ in lg.decisions}
        for did, _, rules in lg.decisions:
            for _, node in rules:
                if not decided.isdisjoint(node.names()):
                    raise _host.DurableError(
                        f"durable-rules 执行器暂不支持引用其他决策的决策（{lg.table} 的 {did}）；请改用默认引擎（--engine default）")
        for _, node in lg.statuses:
            if not decided.isdisjoint(node.names()):
                raise _host.DurableError(
                    f"durable-rules 执行器暂不支持引用决策的状态（{lg.table}）；请改用默认引擎（--engine default）")
        # statuses
        self.s_terms = Terms()
        comp = Compiler(self.s_terms)
        valid = []
        for col in self.columns:
            t = self.s_terms.add(("valid", col), "bool", (lambda env, col=col: env.get(col).__class__ is not Invalid), ())
            valid.append(cmp("eq", t.name, True))
        ok = both(*valid)
        conds: dict[str, tuple] = {"s.seen": TRUE, "row.invalid": negate(ok)}
        gate = ok
        self.status_names = []
        for k, (name, node) in enumerate(lg.statuses):
            c = comp.cond(node)
            conds[f"st{k}"] = both(gate, c)
            self.status_names.append(name)
            gate = both(gate, negate(c))
        conds["row.none"] = gate
        self.bands = ["row.invalid"] + [f"st{k}" for k in range(len(lg.statuses))] + ["row.none"]
        # decisions: one band per rule (the first that holds; the last always does)
        self.decision_bands: list[tuple[str, list[str]]] = []
        for d, (did, _, rules) in enumerate(lg.decisions):
            dgate = ok
            values = []
            for j, (value, node) in enumerate(rules):
                c = comp.cond(node)
                conds[f"d{d}.{j}"] = both(dgate, c)
                dgate = both(dgate, negate(c))
                values.append(value)
            self.decision_bands.append((did, values))
        # checks and metric conditions
        self.c_terms = Terms()
        comp = Compiler(self.c_terms)
        cconds: dict[str, tuple] = {"c.seen": TRUE}
        for col, _ in lg.required:
            t = comp.term(expr.Node("name", col, type="text", nullable=True))
            cconds[f"req.{col}"] = cmp("eq", t.name + "p", 0)
        self.checks = []
        for k, (chk, node) in enumerate(lg.checks):
            cconds[f"chk{k}"] = comp.cond(node)
            self.checks.append(chk)
        self.metric_kinds = []  # the lowered row terms: a condition decided here, a value by arithmetic
        for k, (kind, node) in enumerate(lg.row_terms):
            if kind == "cond":
                cconds[f"m{k}"] = comp.cond(node)
                self.metric_kinds.append("cond")
            else:
                self.metric_kinds.append(("value", expr.compile_py(node)))
        self.rules = {**{n: to_json(c, "s") for n, c in conds.items()},
                      **{n: to_json(c, "c") for n, c in cconds.items()}}

    def _rows(self, values: dict) -> list[tuple[RowResult, dict | None]]:
        plan = self.tplan
        base = self.plan.base(values)  # top-level facts, deadlines, top-level derived values
        rows = values.get(self.lg.table) or []
        envs, s_facts = [], []
        for i, row in enumerate(rows, start=1):
            env = dict(base)
            env.update(row)
            for col in self.columns:
                env.setdefault(col, None)
            clean = not any(v.__class__ is Invalid for v in row.values())
            for did, fn in plan.derived:  # the shared arithmetic; never from an invalid value
                env[did] = fn(env) if clean else None
            failed: set[str] = set()
            fact = self.s_terms.fields(env, failed)
            if failed and clean:  # the engine would not score this row either
                raise _host.DurableError(f"durable-rules 执行器内部错误：第{i}行的状态条件无法计算，未给出结果")
            fact.update(ev="s", rid=i)
            envs.append(env)
            s_facts.append(fact)
        _host.ensure(self.name, self.rules)
        s_fired = _batched(self.name, s_facts)
        status_of = self._one_per_row(s_fired, len(rows), "s", set(self.bands))
        decided: dict[tuple[int, int], str] = {}
        for name, rid in set(s_fired):
            if name.startswith("d") and "." in name:
                d, j = map(int, name[1:].split("."))
                if (rid, d) in decided:
                    raise _host.DurableError(f"durable-rules 执行器内部错误：第{rid}行的决策命中了多条规则，未给出结果")
                decided[(rid, d)] = self.decision_bands[d][1][j]
        out: list = []
        c_facts = []
        for i, (row, env) in enumerate(zip(rows, envs), start=1):
            band = status_of[i]
            if band == "row.invalid":
                bad = [v for v in row.values() if v.__class__ is Invalid]
                key = row.get(self.lg.key)
                res = RowResult(i, key if isinstance(key, str) else None, self.lg.invalid_status,
                                {k: (v.shown if v.__class__ is Invalid else v) for k, v in row.items()})
                res.errors.extend(RowProblem("invalid", "error", b.reason(), [b.fact.rpartition(".")[2]]) for b in bad)
                out.append((res, None))
                continue
            status = None if band == "row.none" else self.status_names[int(band[2:])]
            env["status"] = status
            for d, (did, _) in enumerate(self.decision_bands):
                if (i, d) not in decided:
                    raise _host.DurableError(f"durable-rules 执行器内部错误：第{i}行的决策 {did} 未命中任何规则，未给出结果")
                env[did] = decided[(i, d)]
            res = RowResult(i, row.get(self.lg.key), status or "",
                            {**row, **{d: env[d] for d, _ in plan.derived},
                             **{did: env[did] for did, _ in self.decision_bands}})
            out.append((res, env))
            errors: set[str] = set()
            fact = self.c_terms.fields(env, errors)
            if errors:
                raise _host.DurableError(f"durable-rules 执行器内部错误：第{i}行的检查无法计算，未给出结果")
            fact.update(ev="c", rid=i)
            c_facts.append(fact)
        c_fired = _batched(self.name, c_facts)
        by_row: dict[int, set[str]] = {}
        for name, rid in c_fired:  # a rule with $or branches fires once per matching branch
            by_row.setdefault(rid, set()).add(name)
        for res, env in out:
            if env is None:
                continue
            fired = by_row.get(res.index, set())
            if "c.seen" not in fired:
                raise _host.DurableError(f"durable-rules 执行器内部错误：第{res.index}行未被检查，未给出结果")
            for col, msg in self.lg.required:
                if f"req.{col}" in fired:
                    res.errors.append(RowProblem(f"required_{col}", "error", msg, [col]))
            for k, chk in enumerate(self.checks):
                if f"chk{k}" in fired:
                    p = RowProblem(chk.id, chk.level, chk.message, list(chk.columns))
                    (res.errors if chk.level == "error" else res.warnings).append(p)
            env[_ROW_METRICS] = [
                (f"m{k}" in fired) if kind == "cond" else kind[1](env)
                for k, kind in enumerate(self.metric_kinds)]
        return out

    def _one_per_row(self, fired: list, n: int, ev: str, bands: set[str]) -> dict[int, str]:
        out: dict[int, str] = {}
        seen: dict[int, int] = {}
        for name, rid in set(fired):  # $or branches: one match per (rule, row)
            if name == ev + ".seen":
                seen[rid] = seen.get(rid, 0) + 1
            elif name in bands:
                if rid in out:
                    raise _host.DurableError(f"durable-rules 执行器内部错误：第{rid}行命中了多个状态分档，未给出结果")
                out[rid] = name
        for i in range(1, n + 1):
            if i not in out or seen.get(i) != 1:
                raise _host.DurableError(f"durable-rules 执行器内部错误：第{i}行未恰好命中1个状态分档，未给出结果")
        return out



class LedgerRuleset(_TableRuleset):
    """Every table of a ledger pack (this object is the first table's rulesets)."""

    def __init__(self, pack: RulePack):
        lgs = lowered.lowered_ledgers(pack)
        super().__init__(pack, lgs[0])
        self.tables = [self] + [_TableRuleset(pack, lg) for lg in lgs[1:]]
        # the submission checks: one ``p`` fact per submission, over its top-level values
        self.sub_checks = lowered.lowered_checks(pack)
        self.p_terms = Terms()
        comp = Compiler(self.p_terms)
        pconds: dict[str, tuple] = {"p.seen": TRUE}
        for k, c in enumerate(self.sub_checks):
            pconds[f"sub{k}"] = comp.cond(c.node)
        self.rules.update({n: to_json(c, "p") for n, c in pconds.items()})

    def _check_submission(self, top: dict) -> list[RowProblem]:
        """The submission checks that hold on *top* (the engine's :meth:`LedgerPlan.base`), decided by durable-rules."""
        errors: set[str] = set()
        fact = self.p_terms.fields(top, errors)
        if errors:
            raise _host.DurableError("durable-rules 执行器内部错误：报送检查的条件无法计算，未给出结果")
        fact.update(ev="p", rid=0)
        _host.ensure(self.name, self.rules)
        fired = {name for name, _ in _batched(self.name, [fact])}
        if "p.seen" not in fired:
            raise _host.DurableError("durable-rules 执行器内部错误：报送检查未被执行，未给出结果")
        return [RowProblem(c.id, c.level, c.message, list(c.facts))
                for k, c in enumerate(self.sub_checks) if f"sub{k}" in fired]

    def _evaluate(self, values: dict, table: int = 0):
        return _TableRuleset._rows(self.tables[table], values)

    def run(self, values: dict, where=None) -> LedgerCard:
        """The engine's card assembly (:meth:`LedgerPlan.run`) with durable-rules deciding each row."""
        return self.plan.run(values, where, evaluate=self._evaluate, checks=self._check_submission)

    def combine(self, submissions: list[dict], sources: list[str] | None = None):
        """Like :meth:`rubric_xl.engine.ledger.LedgerPlan.combine`, rows decided by durable-rules."""
        return self.plan.combine(submissions, sources, evaluate=self._evaluate)

    def combine_tables(self, submissions: list[dict], sources: list[str] | None = None):
        return self.plan.combine_tables(submissions, sources, evaluate=self._evaluate)
