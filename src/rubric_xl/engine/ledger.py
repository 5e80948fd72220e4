"""Score a ledger (台账): per-row derived values, status, checks; roll-ups.

Each row is evaluated in an environment of the submission's top-level facts, the
pack's deadlines, the row's columns, its derived values and its ``status``.
Roll-ups compute the pack's metrics over groups of rows — by a column, or by a
top-level fact such as the reporting body — plus an all-groups line; several
submissions (one per reporting body) roll up together for the city.

A submission with no rows is valid: when grouping by a top-level fact, it still
makes its group (e.g. a county that found nothing shows 0 listed, 清零).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Sequence

from ..errors import FactsError, ProblemList
from ..rules import expr as E
from ..rules.model import Fact
from ..rules.pack import RulePack
from ..rules import lowered as L
from ..rules import wording as W
from ..rules.contract import Invalid
from . import num
from .card import LedgerCard, PackInfo, Rollup, RowProblem, RowResult

ZERO = Decimal(0)
_ROW_METRICS = "\x00metrics"  # env key of a row's metric values (not a valid pack name)
HUNDRED = Decimal(100)
BLANK_GROUP = W.BLANK_GROUP

Where = Callable[[str], str]


class _Group:
    """How one grouping finds its key: from a column or from a top-level fact."""

    def __init__(self, grouping, fact: Fact | None, top: bool):
        self.g = grouping
        self.fact = fact
        self.top = top
        self.order = {o: i for i, o in enumerate(fact.options)} if fact is not None and fact.options else {}

    def key(self, value: Any) -> str:
        if value is None:
            return (self.fact.blank_label if self.fact is not None else None) or BLANK_GROUP
        return value if isinstance(value, str) else num.value(value)

    def sort(self, keys: list[str]) -> list[str]:
        """Enum options in the pack's order; anything else (blank) after, as first seen."""
        if not self.order:
            return keys
        n, seen = len(self.order), {k: i for i, k in enumerate(keys)}
        return sorted(keys, key=lambda k: (self.order.get(k, n), seen[k]))


class LedgerPlan:
    def __init__(self, pack: RulePack):
        m = pack.model
        led = m.ledger
        cl = pack.ledger
        assert led is not None and cl is not None
        lg = L.lowered_ledger(pack)
        self.pack = pack
        self.info = PackInfo(m.id, m.title, m.version, pack.hash)
        self.table = led.table
        self.key = led.key
        self.table_fact = pack.facts[led.table]
        columns = {c.id: c for c in self.table_fact.columns or []}
        self.required = list(lg.required)  # (column, message)
        self.labels = {c.id: c.label for c in columns.values()}
        self.deadlines = {d.id: d.date for d in m.deadlines}
        self.derived = [(did, E.compile_py(n)) for did, n in lg.derived]
        self.statuses = [(name, E.compile_py(n)) for name, n in lg.statuses]
        self.invalid_status = lg.invalid_status
        self.checks = [(c, E.compile_py(n)) for c, n in lg.checks]
        self.metrics: list[tuple[Any, Callable | None]] = [
            (mt, E.compile_py(n) if n is not None else None) for mt, n in lg.metrics
        ]
        self.top_facts = [f.id for f in m.facts if f.type != "table"]
        # top-level facts a ledger cannot do without (e.g. 填报单位: it names the group)
        self.top_required = list(lg.top_required)  # (fact, message)
        self.groups: list[_Group] = []
        for g in led.groupings:
            if g.by is None:
                self.groups.append(_Group(g, None, False))
            elif g.by in columns:
                self.groups.append(_Group(g, columns[g.by], False))
            else:
                self.groups.append(_Group(g, pack.facts[g.by], True))

    # --- rows -----------------------------------------------------------------

    def check_facts(self, values: dict, where: Where | None = None) -> None:
        """Raise FactsError when a top-level fact the ledger needs is blank."""
        where = where or (lambda k: f"facts: {k}")
        problems = ProblemList()
        for fid, msg in self.top_required:
            if values.get(fid) is None:
                problems.add(where(fid), msg)
        for f in self.top_facts:
            if isinstance(values.get(f), Invalid):  # a top-level value names the group: no guess
                problems.add(where(f), values[f].reason())
        if problems.errors:
            raise FactsError("提交的数据不完整", problems.errors)

    def _evaluate(self, values: dict) -> list[tuple[RowResult, dict]]:
        base = {f: values.get(f) for f in self.top_facts}
        base.update(self.deadlines)
        out: list[tuple[RowResult, dict]] = []
        for i, row in enumerate(values.get(self.table) or [], start=1):
            bad = [v for v in row.values() if v.__class__ is Invalid]
            if bad:  # 有误: the reasons, nothing evaluated, in no roll-up (as the formulas)
                res = RowResult(i, row.get(self.key) if isinstance(row.get(self.key), str) else None,
                                self.invalid_status, {k: (v.shown if v.__class__ is Invalid else v) for k, v in row.items()})
                res.errors.extend(RowProblem("invalid", "error", b.reason(), [b.fact.rpartition(".")[2]])
                                  for b in bad)
                out.append((res, None))
                continue
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
            res = RowResult(i, row.get(self.key), status or "",
                            {**row, **{d: env[d] for d, _ in self.derived}})
            for col, msg in self.required:
                if row.get(col) is None:
                    res.errors.append(RowProblem(f"required_{col}", "error", msg, [col]))
            for chk, fn in self.checks:
                if fn(env):
                    p = RowProblem(chk.id, chk.level, chk.message, list(chk.columns))
                    (res.errors if chk.level == "error" else res.warnings).append(p)
            # each metric's row condition/value, evaluated once per row; the
            # roll-ups then only aggregate (several groupings share them)
            env[_ROW_METRICS] = [fn(env) if fn is not None else None for _, fn in self.metrics]
            out.append((res, env))
        return out

    def rows(self, values: dict) -> list[RowResult]:
        return [r for r, _ in self._evaluate(values)]

    # --- roll-ups -------------------------------------------------------------

    def _metrics(self, envs: list[dict]) -> dict[str, Any]:
        vals: dict[str, Any] = {}
        rows = [env[_ROW_METRICS] for env in envs]
        for i, (mt, fn) in enumerate(self.metrics):
            kind = mt.kind
            if kind == "count":
                vals[mt.id] = Decimal(len(rows) if fn is None else sum(1 for r in rows if r[i]))
            elif kind == "sum":
                vals[mt.id] = sum((r[i] or ZERO for r in rows), ZERO)
            elif kind == "all":  # vacuously true for no rows
                vals[mt.id] = all(r[i] for r in rows)
            elif kind == "none":
                vals[mt.id] = not any(r[i] for r in rows)
            else:  # rate in percent, 0.01 half up; None when the denominator is 0 or blank
                n, d = vals[mt.numerator], vals[mt.denominator]
                vals[mt.id] = None if not d or n is None else num.q2(n * HUNDRED / d)
        return vals

    def _rollups(self, submissions: Sequence[tuple[dict, list[dict]]]) -> list[Rollup]:
        """*submissions*: (top-level facts, row environments) per submission."""
        out = []
        submissions = [(facts, [env for env in envs if env is not None]) for facts, envs in submissions]
        everything = [env for _, envs in submissions for env in envs]
        for gr in self.groups:
            g = gr.g
            groups: dict[str, list[dict]] = {}
            if g.by is not None:
                for facts, envs in submissions:
                    if gr.top:  # one group per submission, even an empty one
                        groups.setdefault(gr.key(facts.get(g.by)), []).extend(envs)
                    else:
                        for env in envs:
                            groups.setdefault(gr.key(env.get(g.by)), []).append(env)
            metrics = {k: self._metrics(groups[k]) for k in gr.sort(list(groups))}
            total = self._metrics(everything) if (g.by is None or g.total_label) else None
            out.append(Rollup(g.by, g.label, metrics, total,
                              g.total_label or (None if g.by else g.label)))
        return out

    # --- entry points ---------------------------------------------------------

    def run(self, values: dict, where: Where | None = None, evaluate=None) -> LedgerCard:
        """Score one converted submission.  Raises FactsError (see check_facts).
        *evaluate* decides each row (default this plan's own; the durable-rules
        executor passes its own) — the card is assembled here, once."""
        self.check_facts(values, where)
        evaluated = (evaluate or self._evaluate)(values)
        facts = {f: values.get(f) for f in self.top_facts}
        rollups = self._rollups([(facts, [env for _, env in evaluated])])
        labels = {mt.id: mt.label for mt, _ in self.metrics}
        return LedgerCard(self.info, facts, [r for r, _ in evaluated], rollups, labels)

    def combine(self, submissions: list[dict], sources: list[str] | None = None,
                evaluate=None) -> list[Rollup]:
        """Roll several converted submissions up together (e.g. the whole city).

        *sources* names each submission in error locations (default 第n份);
        *evaluate* as for :meth:`run`.
        """
        evaluate = evaluate or self._evaluate
        problems = ProblemList()
        prepared = []
        for n, values in enumerate(submissions, start=1):
            src = sources[n - 1] if sources else f"第{n}份"
            try:
                self.check_facts(values, lambda k, src=src: f"{src}: {k}")
            except FactsError as exc:
                problems.items.extend(exc.problems)
                continue
            facts = {f: values.get(f) for f in self.top_facts}
            prepared.append((facts, [env for _, env in evaluate(values)]))
        if problems.errors:
            raise FactsError("提交的数据不完整", problems.errors)
        return self._rollups(prepared)


def plan_for(pack: RulePack) -> LedgerPlan:
    plan = getattr(pack, "_ledger_plan", None)
    if plan is None:
        plan = LedgerPlan(pack)
        pack._ledger_plan = plan  # type: ignore[attr-defined]
    return plan
