"""Score a ledger (台账): per-row derived values, decisions, status, checks; roll-ups.

A pack has one ledger per table (``ledger:`` or ``ledgers:``); each is lowered
once (:func:`rubric_xl.rules.lowered.lowered_ledgers`) and scored by a
:class:`TablePlan`; :class:`LedgerPlan` runs them all, in pack order, on one
submission.  Each row is evaluated in an environment of the submission's
top-level facts, the pack's deadlines and top-level derived values, the row's
columns, its derived values, decisions and ``status``.  Roll-ups evaluate the
lowered metrics (:class:`rubric_xl.rules.lowered.MOp`) over groups of rows — by a
column, a decision, the status or a top-level fact such as the reporting body —
plus an all-groups line; several submissions (one per reporting body) roll up
together for the city, ranked where the pack asks.

A submission with no rows is valid: when grouping by a top-level fact, it still
makes its group (e.g. a county that found nothing shows 0 listed, 清零).

The rows of a table run as one generated function (``_ledger_code``: locals,
pre-built statuses, texts and problems), which yields per row its result and a
roll-up record (row terms, then grouping values); the closures
(:meth:`TablePlan._evaluate`, one environment per row) are the reference and the
fallback, and another executor's environments become records through
:meth:`TablePlan.records`.
"""
from __future__ import annotations

from decimal import Decimal
from operator import itemgetter
from typing import Any, Callable, Sequence

from ..errors import FactsError, Problem, ProblemList
from ..rules import expr
from ..rules.model import Fact
from ..rules.pack import RulePack
from ..rules import lowered
from ..rules import wording
from ..rules.contract import Invalid
from . import _ledger_code, num
from .card import LedgerCard, PackInfo, Rollup, RowProblem, RowResult, TableResult

ZERO = Decimal(0)
_ROW_METRICS = "\x00metrics"  # env key of a row's row-term values (not a valid pack name)
HUNDRED = Decimal(100)
BLANK_GROUP = wording.BLANK_GROUP

Where = Callable[[str], str]


class _Group:
    """How one grouping finds its key: from a row value or from a top-level fact."""

    def __init__(self, g: lowered.LGrouping, fact: Fact | None, options: tuple[str, ...] | None):
        self.g = g
        self.fact = fact
        self.top = g.by_kind == "fact"
        known = options or (tuple(fact.options) if fact is not None and fact.options else ())
        self.order = {o: i for i, o in enumerate(known)}
        self.slot: int | None = None  # its value's place in a roll-up record (see TablePlan.slots)

    def key(self, value: Any) -> str:
        if value is None:
            return (self.fact.blank_label if self.fact is not None else None) or BLANK_GROUP
        return value if isinstance(value, str) else num.value(value)

    def sort(self, keys: list[str]) -> list[str]:
        """Known options in the pack's order; anything else (blank) after, as first seen."""
        if not self.order:
            return keys
        n, seen = len(self.order), {k: i for i, k in enumerate(keys)}
        return sorted(keys, key=lambda k: (self.order.get(k, n), seen[k]))


def _aggregate(metrics: tuple[lowered.LMetric, ...], compiled: dict, rows: list[list], top: dict,
               subs: Sequence[dict] = ()) -> dict[str, Any]:
    """Every metric of a group: *rows* are the group's row-term values, *subs* the
    top-level values of each submission the line spans."""
    vals: dict[str, Any] = {}

    def ev(op: lowered.MOp):
        k = op.op
        if k == "count":
            t, want = op.value
            if t is None:
                return Decimal(len(rows))
            held = sum(map(bool, map(itemgetter(t), rows)))  # rows whose term is true
            return Decimal(held if want else len(rows) - held)
        if k == "sum":
            t = op.value
            conds = op.args
            return sum((r[t] for r in rows if all(r[c] for c in conds)), ZERO)
        if k == "zero":
            return ev(op.args[0]) == 0
        if k == "pct":  # rate in percent, 0.01 half up; None when the denominator is 0
            n, d = ev(op.args[0]), ev(op.args[1])
            return None if not d or n is None else num.q2(n * HUNDRED / d)
        if k == "metric":
            return vals[op.value]
        if k == "facts":  # once per submission; blank when one left it blank
            got = [s.get(op.value) for s in subs]
            return None if not got or any(v is None for v in got) else sum(got, ZERO)
        # expr: blank when an operand is blank (a rate not computed, a blank fact, or a
        # top-level fact of a line that spans several submissions)
        env = {**top, **vals}
        if any(env.get(n) is None for n in op.value.names()):
            return None
        return compiled[id(op)](env)

    for m in metrics:
        vals[m.id] = ev(m.op)
    return vals


class TablePlan:
    """One lowered ledger (table), ready to run."""

    def __init__(self, pack: RulePack, lg: lowered.Ledger, info: PackInfo):
        self.pack = pack
        self.lg = lg
        self.info = info
        self.table = lg.table
        self.key = lg.key
        self.table_fact = pack.facts[lg.table]
        columns = lg.columns
        self.required = list(lg.required)  # (column, message)
        self.labels = {c.id: c.label for c in columns.values()}
        self.derived = [(did, expr.compile_py(n)) for did, n in lg.derived]
        self.decisions = [(did, [(v, expr.compile_py(n)) for v, n in rules]) for did, _, rules in lg.decisions]
        self.statuses = [(name, expr.compile_py(n)) for name, n in lg.statuses]
        self.invalid_status = lg.invalid_status
        self.checks = [(c, expr.compile_py(n)) for c, n in lg.checks]
        self.terms = [expr.compile_py(n) for _, n in lg.row_terms]
        self.shown_ids = [d for d, _ in self.derived] + [d for d, _ in self.decisions]  # a row shows them too
        self.metrics = list(lg.metrics)  # (pack metric, node): ids and labels
        self.aggregates = lg.aggregates
        self.compiled = {id(m.op): expr.compile_py(m.op.value) for m in lg.aggregates if m.op.op == "expr"}
        opts = lg.decision_options
        self.groups: list[_Group] = []
        for g in lg.groupings:
            fact = columns.get(g.by) if g.by_kind == "column" else \
                pack.facts[g.by] if g.by_kind == "fact" else None
            self.groups.append(_Group(g, fact, g.options or opts.get(g.by or "")))
        # a roll-up record: the row terms, then the row value of each grouping by a
        # column, decision or status (its slot)
        self.slots = list(dict.fromkeys(gr.g.by for gr in self.groups if gr.g.by is not None and not gr.top))
        n = len(self.terms)
        for gr in self.groups:
            gr.slot = n + self.slots.index(gr.g.by) if gr.g.by in self.slots else None
        base_names = list(dict.fromkeys([*(f.id for f in pack.model.facts if f.type != "table"),
                                         *(d.id for d in pack.model.deadlines), *(did for did, _ in lg.top_derived)]))
        self.code = _ledger_code.row_code(lg, base_names, self.slots, self._other_row)

    # --- rows -----------------------------------------------------------------

    def _invalid_row(self, i: int, row: dict) -> RowResult:
        """有误: the reasons, nothing evaluated, in no roll-up."""
        bad = [v for v in row.values() if v.__class__ is Invalid]
        res = RowResult(i, row.get(self.key) if isinstance(row.get(self.key), str) else None,
                        self.invalid_status, {k: (v.shown if v.__class__ is Invalid else v) for k, v in row.items()})
        res.errors.extend(RowProblem("invalid", "error", b.reason(), [b.fact.rpartition(".")[2]]) for b in bad)
        return res

    def evaluate(self, values: dict, base: dict) -> tuple[list[RowResult], list[list | None]]:
        """Every row: its result and its roll-up record (None when 有误) — the
        generated row loop (``_ledger_code``), else the closures (:meth:`_evaluate`)."""
        rows = values.get(self.table) or []
        if self.code is not None:
            return self.code(rows, base)
        return self.records(self._evaluate(values, base))

    def records(self, evaluated: list[tuple[RowResult, dict | None]]) -> tuple[list[RowResult], list[list | None]]:
        """(result, row environment) pairs → results and roll-up records."""
        return [r for r, _ in evaluated], [self._record(env) for _, env in evaluated]

    def _record(self, env: dict | None) -> list | None:
        return None if env is None else [*env[_ROW_METRICS], *(env.get(s) for s in self.slots)]

    def _other_row(self, i: int, row: dict, base: dict) -> tuple[RowResult, list | None]:
        """One row through the closures, for the generated loop (a row 有误 or not of the table's shape)."""
        res, env = self._row(i, row, base)
        return res, self._record(env)

    def _evaluate(self, values: dict, base: dict) -> list[tuple[RowResult, dict | None]]:
        """The rows through the closures, one environment per row (the reference)."""
        return [self._row(i, row, base) for i, row in enumerate(values.get(self.table) or [], start=1)]

    def _row(self, i: int, row: dict, base: dict) -> tuple[RowResult, dict | None]:
        if Invalid in map(type, row.values()):  # 有误: the reasons, nothing evaluated, in no roll-up
            return self._invalid_row(i, row), None
        env = {**base, **row}
        for did, fn in self.derived:
            env[did] = fn(env)
        for did, rules in self.decisions:
            env[did] = next(v for v, fn in rules if fn(env))  # the last rule is always true
        status = None
        for name, fn in self.statuses:
            if fn(env):
                status = name
                break
        env["status"] = status
        shown = dict(row)
        for d in self.shown_ids:
            shown[d] = env[d]
        res = RowResult(i, row.get(self.key), status or "", shown)
        for col, msg in self.required:
            if row.get(col) is None:
                res.errors.append(RowProblem(f"required_{col}", "error", msg, [col]))
        for chk, fn in self.checks:
            if fn(env):
                p = RowProblem(chk.id, chk.level, chk.message, list(chk.columns))
                (res.errors if chk.level == "error" else res.warnings).append(p)
        # each row term, evaluated once per row; the roll-ups only aggregate
        env[_ROW_METRICS] = [fn(env) for fn in self.terms]
        return res, env

    # --- roll-ups -------------------------------------------------------------

    def _metrics(self, records: list[list], top: dict, subs: Sequence[dict] = ()) -> dict[str, Any]:
        return _aggregate(self.aggregates, self.compiled, records, top, subs)

    def _rollups(self, submissions: Sequence[tuple[dict, list[list | None]]]) -> list[Rollup]:
        """*submissions*: (top-level values, roll-up records) per submission."""
        out = []
        submissions = [(facts, [env for env in envs if env is not None]) for facts, envs in submissions]
        everything = [env for _, envs in submissions for env in envs]
        # expr metrics of lines spanning several submissions have no top-level values:
        # those reading one are blank there
        common = submissions[0][0] if len(submissions) == 1 else {}
        body = next((gr for gr in self.groups if gr.top), None)
        every = [facts for facts, _ in submissions]
        whole: list[dict] = []  # the metrics of every row (the total line), made once

        def of_everything() -> dict[str, Any]:
            if not whole:
                whole.append(self._metrics(everything, common, every))
            return dict(whole[0])
        for gr in self.groups:
            g = gr.g
            groups: dict[str, list[dict]] = {}
            tops: dict[str, dict] = {}
            subs: dict[str, list[dict]] = {}  # by a top-level fact: the submissions of each line
            flagged: dict[str, list[str]] | None = {} if g.flag else None
            for o in g.options or ():
                groups[o] = []
            if g.by is not None:
                for facts, envs in submissions:
                    if gr.top:  # one group per submission, even an empty one
                        k = gr.key(facts.get(g.by))
                        groups.setdefault(k, []).extend(envs)
                        tops[k] = facts if k not in tops else {}
                        subs.setdefault(k, []).append(facts)
                    else:
                        mine = _bucket(gr, envs)
                        for k, rows in mine.items():
                            groups.setdefault(k, []).extend(rows)
                        if flagged is not None:  # per reporting body: the groups where the flag holds
                            who = body.key(facts.get(body.g.by)) if body is not None else f"第{len(flagged) + 1}份"
                            hits = [k for k in gr.sort(list(mine))
                                    if self._metrics(mine[k], facts, [facts]).get(g.flag) is True]
                            flagged.setdefault(who, []).extend(hits)
            keys = gr.sort(list(groups))
            # by a top-level fact in one submission: its line is every row (as the total)
            only = gr.key(submissions[0][0].get(g.by)) if gr.top and len(submissions) == 1 else None
            metrics = {k: of_everything() if k == only else
                       self._metrics(groups[k], tops.get(k, common), subs.get(k, []) if gr.top else every)
                       for k in keys}
            total = of_everything() if (g.by is None or g.total_label) else None
            ranks = _rank(metrics, g.rank) if g.rank else None
            if ranks is not None:
                metrics = {k: metrics[k] for k in ranks}
            empty = [k for k in keys if not groups[k]] if g.options else []
            out.append(Rollup(g.by, g.label, metrics, total, g.total_label or (None if g.by else g.label),
                              ranks, flagged, empty, g.empty_label))
        return out


def _bucket(gr: _Group, records: list[list]) -> dict[str, list[list]]:
    """One submission's rows by *gr*'s key (a column, decision or status): its
    listed options first, then each key as first seen, each group's rows in order.
    The rows are bucketed by their raw value and each distinct value keyed once;
    should two values share a key, row by row instead."""
    slot = gr.slot
    buckets: dict[Any, list[list]] = {}
    for rec in records:
        v = rec[slot]
        b = buckets.get(v)
        if b is None:
            buckets[v] = [rec]
        else:
            b.append(rec)
    out: dict[str, list[list]] = {o: [] for o in gr.g.options or ()}
    keyed = [(gr.key(v), b) for v, b in buckets.items()]
    if len({k for k, _ in keyed}) < len(keyed):
        for rec in records:
            out.setdefault(gr.key(rec[slot]), []).append(rec)
        return out
    for k, b in keyed:
        if k in out:
            out[k].extend(b)
        else:
            out[k] = b
    return out


def _rank(groups: dict[str, dict], keys: tuple[tuple[str, bool], ...]) -> dict[str, int | None]:
    """Competition ranking (1, 2, 2, 4) by *keys* in order; ties share a rank; a
    group whose ranking metric is not computed comes after, unranked (None)."""
    ranked = [k for k, v in groups.items() if all(v.get(m) is not None for m, _ in keys)]
    unranked = [k for k in groups if k not in ranked]

    def sort_key(k: str):
        return tuple(-groups[k][m] if desc else groups[k][m] for m, desc in keys)

    ranked.sort(key=sort_key)  # stable: equal groups keep their order
    out: dict[str, int | None] = {}
    prev = None
    for pos, k in enumerate(ranked, start=1):
        sk = sort_key(k)
        out[k] = out[ranked[pos - 2]] if prev == sk else pos
        prev = sk
    out.update((k, None) for k in unranked)
    return out


class LedgerPlan:
    """Every table of a ledger pack.  The attributes of the first table
    (``table``, ``key``, ``metrics``, ``groups`` …) stay available for callers
    that know one table only."""

    def __init__(self, pack: RulePack):
        m = pack.model
        assert pack.ledgers, "not a ledger pack"
        self.pack = pack
        self.info = PackInfo(m.id, m.title, m.version, pack.hash)
        self.tables = [TablePlan(pack, lg, self.info) for lg in lowered.lowered_ledgers(pack)]
        first = self.tables[0]
        self.table, self.key, self.table_fact = first.table, first.key, first.table_fact
        self.required, self.labels, self.metrics, self.groups = first.required, first.labels, first.metrics, first.groups
        self.derived, self.statuses, self.checks = first.derived, first.statuses, first.checks
        self.invalid_status = first.invalid_status
        self.deadlines = {d.id: d.date for d in m.deadlines}
        self.top_facts = [f.id for f in m.facts if f.type != "table"]
        self.top_derived = [(d.id, expr.compile_py(n)) for d, n in pack.derived]
        # top-level facts a ledger cannot do without (e.g. 填报单位: it names the group)
        self.top_required = list(first.lg.top_required)  # (fact, message)
        # checks of the whole submission (lowered.Check), on the rows' starting environment
        self.submission_checks = [(c, expr.compile_py(c.node)) for c in lowered.lowered_checks(pack)]

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

    def base(self, values: dict, where: Where | None = None) -> dict:
        """The environment every row starts from: top-level facts, deadlines and
        the pack's top-level derived values (after :meth:`check_facts`)."""
        env = {f: values.get(f) for f in self.top_facts}
        env.update(self.deadlines)
        for did, fn in self.top_derived:
            try:
                env[did] = fn(env)
            except ZeroDivisionError:
                where = where or (lambda k: f"facts: {k}")
                raise FactsError("计算派生值时除数为0", [Problem(where(did), "派生值的除数为0，无法计算")]) from None
            except TypeError:  # a blank value it reads (allowed blank): not computed
                env[did] = None
        return env

    def _evaluate(self, values: dict, table: int = 0) -> list[tuple[RowResult, dict]]:
        """The rows of one table (default the first): (result, environment or None when 有误)."""
        return self.tables[table]._evaluate(values, self.base(values))

    def rows(self, values: dict, table: int = 0) -> list[RowResult]:
        return self.tables[table].evaluate(values, self.base(values))[0]

    def _all(self, values: dict, evaluate) -> list[tuple[list[RowResult], list[list | None]]]:
        """Per table: the row results and their roll-up records."""
        if evaluate is None:
            base = self.base(values)
            return [tp.evaluate(values, base) for tp in self.tables]
        return [tp.records(evaluate(values, table=k) if k else evaluate(values)) for k, tp in enumerate(self.tables)]

    def check_submission(self, top: dict) -> list[RowProblem]:
        """The submission checks that fire on *top* (:meth:`base`), pack order; a
        blank condition does not fire."""
        return [RowProblem(c.id, c.level, c.message, list(c.facts)) for c, fn in self.submission_checks if fn(top)]

    # --- entry points ---------------------------------------------------------

    def run(self, values: dict, where: Where | None = None, evaluate=None, checks=None) -> LedgerCard:
        """Score one converted submission: every table, pack order.  Raises
        FactsError (see check_facts).  *evaluate(values, table=k)* decides each
        row of table *k* and *checks(top)* the submission checks (default this
        plan's own; the durable-rules executor passes its own) — the card is
        assembled here, once."""
        self.check_facts(values, where)
        top = self.base(values, where)  # a top-level derived value that cannot be computed: FactsError
        fired = (checks or self.check_submission)(top) if self.submission_checks else []
        facts = {f: values.get(f) for f in self.top_facts}
        results = []
        for tp, (rows, records) in zip(self.tables, self._all(values, evaluate)):
            rollups = tp._rollups([(top, records)])
            labels = {mt.id: mt.label for mt, _ in tp.metrics}
            results.append(TableResult(tp.table, tp.lg.label, rows, rollups, labels))
        first = results[0]
        return LedgerCard(self.info, facts, first.rows, first.rollups, first.metric_labels,
                          first.table, first.label, results[1:], fired)

    def combine_tables(self, submissions: list[dict], sources: list[str] | None = None,
                       evaluate=None) -> list[list[Rollup]]:
        """Roll several converted submissions up together (e.g. the whole city):
        the roll-ups of every table, pack order; groupings with ``rank`` ranked.

        *sources* names each submission in error locations (default 第n份);
        *evaluate* as for :meth:`run`.
        """
        problems = ProblemList()
        prepared: list[list[tuple[dict, list]]] = [[] for _ in self.tables]
        for n, values in enumerate(submissions, start=1):
            src = sources[n - 1] if sources else f"第{n}份"
            try:
                self.check_facts(values, lambda k, src=src: f"{src}: {k}")
                top = self.base(values, lambda k, src=src: f"{src}: {k}")
            except FactsError as exc:
                problems.items.extend(exc.problems)
                continue
            for k, (_, records) in enumerate(self._all(values, evaluate)):
                prepared[k].append((top, records))
        if problems.errors:
            raise FactsError("提交的数据不完整", problems.errors)
        return [tp._rollups(p) for tp, p in zip(self.tables, prepared)]

    def combine(self, submissions: list[dict], sources: list[str] | None = None,
                evaluate=None) -> list[Rollup]:
        """The first table's roll-ups of :meth:`combine_tables`."""
        return self.combine_tables(submissions, sources, evaluate)[0]


def plan_for(pack: RulePack) -> LedgerPlan:
    plan = getattr(pack, "_ledger_plan", None)
    if plan is None:
        plan = LedgerPlan(pack)
        pack._ledger_plan = plan  # type: ignore[attr-defined]
    return plan
