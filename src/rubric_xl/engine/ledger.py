"""Score a ledger (台账): per-row derived values, status, checks; roll-ups.

Each row is evaluated in an environment of the submission's top-level facts, the
pack's deadlines, the row's columns, its derived values and its ``status``.
Roll-ups compute the pack's metrics over groups of rows — by a column, or by a
top-level fact such as the reporting body — plus an all-groups line; several
submissions (one per reporting body) roll up together for the city.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Iterable

from ..rules import expr as E
from ..rules.pack import RulePack
from .card import LedgerCard, PackInfo, Rollup, RowProblem, RowResult

ZERO = Decimal(0)


class LedgerPlan:
    def __init__(self, pack: RulePack):
        m = pack.model
        led = m.ledger
        cl = pack.ledger
        assert led is not None and cl is not None
        self.pack = pack
        self.info = PackInfo(m.id, m.title, m.version, pack.hash)
        self.table = led.table
        self.key = led.key
        self.table_fact = pack.facts[led.table]
        self.required = [c.id for c in self.table_fact.columns or [] if c.required and c.default is None]
        self.labels = {c.id: c.label for c in self.table_fact.columns or []}
        self.deadlines = {d.id: d.date for d in m.deadlines}
        self.derived = [(d.id, E.compile_py(n)) for d, n in cl.derived]
        self.statuses = [(name, E.compile_py(n)) for name, n in cl.statuses]
        self.checks = [(c, E.compile_py(n)) for c, n in cl.checks]
        self.metrics: list[tuple[Any, Callable | None]] = [
            (mt, E.compile_py(n) if n is not None else None) for mt, n in cl.metrics
        ]
        self.groupings = led.groupings
        self.top_facts = [f.id for f in m.facts if f.type != "table"]

    def rows(self, values: dict) -> list[RowResult]:
        base = {f: values[f] for f in self.top_facts}
        base.update(self.deadlines)
        out: list[RowResult] = []
        for i, row in enumerate(values[self.table], start=1):
            env = dict(base)
            env.update(row)
            for did, fn in self.derived:
                env[did] = fn(env)
            status = None
            for name, fn in self.statuses:
                if fn(env):
                    status = name
                    break
            env["status"] = status
            key = row.get(self.key)
            res = RowResult(i, key, status or "", {**row, **{d: env[d] for d, _ in self.derived}})
            for col in self.required:
                if row.get(col) is None:
                    res.errors.append(RowProblem(f"required_{col}", "error",
                                                 f"{self.labels[col]}为必填项，不能为空", [col]))
            for chk, fn in self.checks:
                if fn(env):
                    p = RowProblem(chk.id, chk.level, chk.message, list(chk.columns))
                    (res.errors if chk.level == "error" else res.warnings).append(p)
            res.values["__env__"] = env  # for roll-ups; stripped before output
            out.append(res)
        return out

    def _metrics(self, envs: list[dict]) -> dict[str, Any]:
        vals: dict[str, Any] = {}
        for mt, fn in self.metrics:
            if mt.kind == "count":
                vals[mt.id] = Decimal(len(envs) if fn is None else sum(1 for e in envs if fn(e)))
            elif mt.kind == "sum":
                vals[mt.id] = sum((fn(e) or ZERO for e in envs), ZERO)
            elif mt.kind == "all":
                vals[mt.id] = all(fn(e) for e in envs)
            elif mt.kind == "none":
                vals[mt.id] = not any(fn(e) for e in envs)
            else:  # rate: None when the denominator is 0
                num, den = vals[mt.numerator], vals[mt.denominator]
                vals[mt.id] = None if not den else (num / den * 100).quantize(Decimal("0.01"))
        return vals

    def rollups(self, entries: Iterable[tuple[dict, RowResult]]) -> list[Rollup]:
        """*entries*: (top-level facts, row) pairs, from one or many submissions."""
        entries = list(entries)
        out = []
        for g in self.groupings:
            groups: dict[str, list[dict]] = {}
            if g.by is not None:
                for facts, row in entries:
                    env = row.values["__env__"]
                    key = env.get(g.by) if g.by in env else facts.get(g.by)
                    groups.setdefault("" if key is None else str(key), []).append(env)
            metrics = {k: self._metrics(v) for k, v in groups.items()}
            total = self._metrics([row.values["__env__"] for _, row in entries]) \
                if (g.by is None or g.total_label) else None
            out.append(Rollup(g.by, g.label, metrics, total, g.total_label or (None if g.by else g.label)))
        return out

    def run(self, values: dict) -> LedgerCard:
        rows = self.rows(values)
        facts = {f: values[f] for f in self.top_facts}
        rollups = self.rollups((facts, r) for r in rows)
        for r in rows:
            r.values.pop("__env__", None)
        labels = {mt.id: mt.label for mt, _ in self.metrics}
        return LedgerCard(self.info, facts, rows, rollups, labels)

    def combine(self, submissions: list[dict]) -> list[Rollup]:
        """Roll several converted submissions up together (e.g. the whole city)."""
        entries = []
        for values in submissions:
            facts = {f: values[f] for f in self.top_facts}
            entries.extend((facts, r) for r in self.rows(values))
        return self.rollups(entries)


def plan_for(pack: RulePack) -> LedgerPlan:
    plan = getattr(pack, "_ledger_plan", None)
    if plan is None:
        plan = LedgerPlan(pack)
        pack._ledger_plan = plan  # type: ignore[attr-defined]
    return plan
