"""A ledger (台账) on durable-rules: row statuses, row checks and metric conditions,
compiled from the lowered ledger (:func:`rubric_xl.rules.lowered.lowered_ledger`).

Two rulesets per pack, each fact one row:

* ``s`` (status): ``row.invalid`` (a value breaks the input contract), one band
  per status in the pack's order (the first that holds), ``row.none`` — exactly
  one fires per row;
* ``c`` (checks, posted with the row's status): ``req.<col>`` a required column
  is blank, ``chk<k>`` a check holds, ``m<k>`` a row term's condition holds (the lowered
``row_terms``).

Derived row values and metric sums are the shared arithmetic; the roll-ups
aggregate the per-row decisions made here with the engine's aggregation.
"""
from __future__ import annotations

from decimal import Decimal

from ..engine.card import LedgerCard, RowProblem, RowResult
from ..engine.ledger import _ROW_METRICS, plan_for as engine_plan
from ..rules import expr as E
from ..rules import lowered as L
from ..rules.contract import Invalid
from ..rules.pack import RulePack
from . import _host
from ._terms import TRUE, Compiler, Terms, both, cmp, negate, to_json

ZERO = Decimal(0)
ROW_BATCH = 1000  # rows asserted per session (one session at a time, each deleted afterwards)


def _batched(name: str, facts: list[dict]) -> list:
    batches = [facts[i:i + ROW_BATCH] for i in range(0, len(facts), ROW_BATCH)]
    return [hit for fired in _host.evaluate(name, batches) for hit in fired]


class LedgerRuleset:
    def __init__(self, pack: RulePack):
        self.pack = pack
        self.plan = engine_plan(pack)  # shared: top-level checks, derived arithmetic, aggregation
        lg = self.lg = L.lowered_ledger(pack)
        self.name = f"ledger-{pack.hash}"
        self.columns = list(lg.columns)
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
        # checks and metric conditions
        self.c_terms = Terms()
        comp = Compiler(self.c_terms)
        cconds: dict[str, tuple] = {"c.seen": TRUE}
        for col, _ in lg.required:
            t = comp.term(E.Node("name", col, type="text", nullable=True))
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
                self.metric_kinds.append(("value", E.compile_py(node)))
        self.rules = {**{n: to_json(c, "s") for n, c in conds.items()},
                      **{n: to_json(c, "c") for n, c in cconds.items()}}

    def _rows(self, values: dict) -> list[tuple[RowResult, dict | None]]:
        plan = self.plan
        base = {f: values.get(f) for f in plan.top_facts}
        base.update(plan.deadlines)
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
            res = RowResult(i, row.get(self.lg.key), status or "", {**row, **{d: env[d] for d, _ in plan.derived}})
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

    def run(self, values: dict, where=None) -> LedgerCard:
        """The engine's card assembly (:meth:`LedgerPlan.run`) with durable-rules deciding each row."""
        return self.plan.run(values, where, evaluate=self._rows)

    def combine(self, submissions: list[dict], sources: list[str] | None = None):
        """Like :meth:`rubric_xl.engine.ledger.LedgerPlan.combine`, rows decided by durable-rules."""
        return self.plan.combine(submissions, sources, evaluate=self._rows)
