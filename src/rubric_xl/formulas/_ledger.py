"""Compile one lowered ledger (台账, one table: :class:`rubric_xl.rules.lowered.Ledger`)
to Excel formulas that match :mod:`rubric_xl.engine.ledger`: per row the status,
each decision, the errors and the warnings (text), and the roll-ups of the
pack's metrics (their lowered :class:`~rubric_xl.rules.lowered.MOp` trees) for
the 汇总 sheet.  A pack with several tables compiles each one (the generator
gives each its own sheet and result names, :func:`result_name`).

Row formulas are templates holding :data:`ROW` (``{row}``) and read the row's
cells by column letter (``$F{row}``).  Roll-ups are ``SUMPRODUCT`` formulas over
the columns' defined names (``<table>__<column>``) and the status column
(:func:`result_name`), built without ``IF``/``AND``/``OR`` so that Excel 2010
evaluates them element by element without array entry.  A row exists when any
of its input cells is not blank (as the reader reads it).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.utils import column_index_from_string, get_column_letter
from typing import Callable

from ..errors import PackError, Problem
from ..rules.contract import NUMERIC
from ..rules import expr
from ..rules.model import Fact
from ..rules.pack import RulePack
from ..conventions import LEDGER_RESULTS, LEDGER_SHEET
from ..rules import lowered
from ..rules import wording
from ..rules.names import check_pack_names  # the names the formulas rely on
from . import _inputs as inputs
from . import _xl as xl
from ._expr import Compiler, Unsupported, V, blank_test

STATUS_NAME = LEDGER_RESULTS["status"]  # defined name of the first table's status result column
BLANK_GROUP = wording.BLANK_GROUP  # the key of a blank group value (the lowered form's)


def column_name(table: str, column: str) -> str:
    return f"{table}__{column}"


def result_name(lg: lowered.Ledger, which: str) -> str:
    """Defined name of a row-result column of the ledger *lg*: ``status``,
    ``errors``, ``warnings`` (the first table: ``ledger_status`` …, a further
    table ``<table>__status`` …) or a decision id (``<table>__<decision>``)."""
    if which in LEDGER_RESULTS and lg.index == 0:
        return LEDGER_RESULTS[which]
    return column_name(lg.table, which)


@dataclass(frozen=True)
class GroupFormulas:
    """One line of a roll-up: its key and a formula per metric id."""

    key: str | None  # option text; "" = blank cells; None = this submission's value of a fact
    label: str | None  # formula for the line's label cell (fact groupings), else None
    metrics: dict[str, str]


@dataclass(frozen=True)
class RollupFormulas:
    by: str | None
    by_kind: str | None  # "column" | "fact" | None (overall)
    label: str
    groups: list[GroupFormulas]  # column: each option (+ "" when the column may be blank)
    total: GroupFormulas | None  # the all-groups line (None when the grouping has none)
    _build: Callable[[str | None], GroupFormulas] = field(repr=False, compare=False, default=None)

    def group(self, key: str | None) -> GroupFormulas:
        """The line for any *key* (e.g. the keys of the builder's layout)."""
        return self._build(key)


@dataclass(frozen=True)
class LedgerFormulas:
    table: str
    status: str  # "=…{row}…": the row's status text ("" for an empty row)
    errors: str  # the row's errors, "；"-separated ("" when none)
    warnings: str  # the row's warnings, "；"-separated
    rollups: list[RollupFormulas]  # pack order of ledger.groupings
    metric_labels: dict[str, str]
    decisions: dict[str, str] = field(default_factory=dict)  # decision id → "=…{row}…" ("" for an empty or 有误 row)
    names: dict[str, str] = field(default_factory=dict)  # status / errors / warnings / decision id → defined name
    array: bool = True  # the roll-up formulas are array formulas (entered with Ctrl+Shift+Enter)
    reasons: list[str] = field(default_factory=list)
    # a wide table's hidden helper columns (:func:`reason_columns`), each "=…{row}…": its
    # share of a 有误 row's reasons, each led by "；" ("" otherwise); the errors formula joins them
    constants: dict[str, str] = field(default_factory=lambda: {inputs.ERROR_CODES_NAME: inputs.error_codes_constant()})
    # defined names the formulas read that the workbook must define (name → value)

    def row(self, which: str | int, row: int) -> str:
        """``which`` = status | errors | warnings | a decision id | the index of a
        helper column (:attr:`reasons`), for sheet row *row*."""
        if isinstance(which, int):
            template = self.reasons[which]
        else:
            template = self.decisions[which] if which in self.decisions else getattr(self, which)
        return template.replace(xl.ROW, str(row))


class _Ledger:
    def __init__(self, pack: RulePack, lg: lowered.Ledger, column_ref: Callable[[str], str], sheet: str,
                 helper_ref: Callable[[int], str] | None = None):
        m = pack.model
        self.pack = pack
        self.lg = lg
        self.sheet = sheet
        self.table: Fact = pack.facts[lg.table]
        self.cols = dict(lg.columns)
        self.letters = {cid: column_ref(cid) for cid in self.cols}
        self.helper_ref = helper_ref or self._helper_after_results
        self.deadlines = {d.id: d.date for d in m.deadlines}
        self.derived = dict(lg.derived)
        self.top_derived = dict(lg.top_derived)
        self.decisions = {did: rules for did, _, rules in lg.decisions}
        self.top = {f.id: f for f in m.facts if f.type != "table"}
        self.status_name = result_name(lg, "status")
        self.row_c = Compiler(self._row_name)
        self.arr_c = Compiler(self._arr_name, array=True)
        self.top_c = Compiler(self._top_name)
        self._memo: dict[tuple[str, str], V] = {}

    # --- names ------------------------------------------------------------------

    def cell(self, cid: str) -> str:
        return f"${self.letters[cid]}{xl.ROW}"

    def rng(self, cid: str) -> str:
        """A column's text for the roll-ups: an error value (#N/A) reads as blank —
        its row is 有误 and counts nowhere, but one error in an array would make the
        whole SUMPRODUCT an error.  (IF over an array: the roll-ups are array
        formulas, :attr:`LedgerFormulas.array`.)"""
        name = column_name(self.lg.table, cid)
        return f'IF(ISERROR({name}),"",{name}&"")'

    def val(self, cid: str) -> str:
        """A column's values for the roll-ups' arithmetic and comparisons: an error
        value reads as 0, and so does text in a number or date column (２, 很多:
        the contract rejects it, the row is 有误 and counts nowhere, but one text
        in an array would make the whole SUMPRODUCT #VALUE!)."""
        name = column_name(self.lg.table, cid)
        if self.cols[cid].type in NUMERIC or self.cols[cid].type == "date":
            return f"IF(ISNUMBER({name}),{name},0)"
        return f"IF(ISERROR({name}),0,{name})"

    def _top_name(self, name: str) -> V:
        """A top-level name: a fact's defined name, a deadline, a top-level derived value."""
        key = ("top", name)
        if key not in self._memo:
            if name in self.top:
                v = inputs.scalar(self.top[name], name, True)
            elif name in self.deadlines:
                v = V(xl.date(self.deadlines[name]), expr.DATE, plain=True)
            elif name in self.top_derived:
                v = self.top_c.compile(self.top_derived[name])
            else:
                raise Unsupported(f"台账表达式中不能使用 {name}（引擎计算时没有这个值）")
            self._memo[key] = v
        return self._memo[key]

    def _row_name(self, name: str) -> V:
        key = ("row", name)
        if key not in self._memo:
            if name in self.cols:
                v = inputs.scalar(self.cols[name], self.cell(name), True)
            elif name == "status":
                v = V(self.chain(self.lg.statuses), expr.TEXT, plain=True)
            elif name in self.decisions:
                v = V(self.chain(self.decisions[name]), expr.TEXT, plain=True)
            elif name in self.derived:
                v = self.row_c.compile(self.derived[name])
            else:
                v = self._top_name(name)
            self._memo[key] = v
        return self._memo[key]

    def _arr_name(self, name: str) -> V:
        key = ("arr", name)
        if key not in self._memo:
            if name in self.cols:
                c = self.cols[name]
                v = inputs.array(c, self.rng(name) if c.type in ("enum", "text") else self.val(name), self.rng(name))
            elif name == "status":
                v = V(self.status_name, expr.TEXT, plain=True)
            elif name in self.decisions:  # the decision's result column
                v = V(result_name(self.lg, name), expr.TEXT, plain=True)
            elif name in self.derived:
                v = self.arr_c.compile(self.derived[name])
            else:
                v = self._top_name(name)
            self._memo[key] = v
        return self._memo[key]

    # --- rows ---------------------------------------------------------------------

    def empty(self) -> str:
        """The row is empty (every input cell blank); never an error (a cell holding #N/A is not empty)."""
        errors = xl.any_of([f"ISERROR({self.cell(c)})" for c in self.cols])
        return f'IF({errors},FALSE,TRIM({"&".join(self.cell(c) for c in self.cols)})="")'

    def chain(self, rules) -> str:
        """The value of the first rule that holds (status, decisions); "" when none."""
        out = '""'
        for name, node in reversed(rules):
            cond = self.row_c.truth(self.row_c.compile(node))
            out = xl.text(name) if cond == "TRUE" else f"IF({cond},{xl.text(name)},{out})"
        return out

    def status_chain(self) -> str:
        return self.chain(self.lg.statuses)

    def _helper_after_results(self, i: int) -> str:
        """Default place of helper column *i*: right after the row's result columns
        (status, each decision, errors, warnings), which follow the input columns."""
        last = max(map(column_index_from_string, self.letters.values()))
        return get_column_letter(last + 3 + len(self.decisions) + 1 + i)

    def reason_pieces(self, errors: bool = True) -> list[tuple[str, str]]:
        """(condition, reason) of each input cell: the cell breaks the contract, and why."""
        return [(inputs.invalid(c, self.cell(cid), errors=errors),
                 inputs.reason(c, self.cell(cid), self.sheet, cell=f"{self.letters[cid]}{xl.ROW}", errors=errors,
                          codes_name=inputs.ERROR_CODES_NAME))
                for cid, c in self.cols.items()]

    def reason_chunks(self) -> list[list[int]]:
        """The input cells' reasons split into helper columns, in column order
        ([] when the errors formula holds them itself): each helper formula fits
        Excel's formula length at row 9999 even with three-letter columns."""
        wide = _Ledger(self.pack, self.lg, lambda cid: "XFD", self.sheet, lambda i: "XFD")
        status, err, *_ = wide.row_formulas(chunks=[])
        if len(err.replace(xl.ROW, "9999")) <= xl.MAX_LENGTH:
            return []
        chunks: list[list[int]] = [[]]
        used = 0
        budget = xl.MAX_LENGTH - 200  # the IF(status="有误",…,"") around each helper's pieces
        for i, (cond, why) in enumerate(wide.reason_pieces()):
            n = len(f'IF({cond},{xl.concat([xl.text(wording.INVALID_SEP), why])},"")&'.replace(xl.ROW, "9999"))
            if used + n > budget and chunks[-1]:
                chunks.append([])
                used = 0
            chunks[-1].append(i)
            used += n
        return chunks

    def row_formulas(self, chunks: list[list[int]] | None = None) -> tuple[str, str, str, dict[str, str], list[str]]:
        """A row with a cell that breaks the input contract — also a spreadsheet
        error value (#N/A) — is 有误: its errors are the reasons (cell, value,
        expectation), nothing else is evaluated, and it counts in no roll-up — as
        in the engine.  The last item tells whether the errors formula names error
        values too: a wide table's reasons with error values may not fit Excel's
        formula length at row 9999; then the reasons go to hidden helper columns
        (the last item: their formulas, :meth:`reason_chunks`) and the errors
        formula joins them (docs/input-contract.md)."""
        empty = self.empty()
        cells = [(cid, c, self.cell(cid), f"{self.letters[cid]}{xl.ROW}") for cid, c in self.cols.items()]
        any_bad = xl.any_of([inputs.invalid(c, ref) for _, c, ref, _ in cells])
        # the status column comes right after the input columns (docs/ARCHITECTURE.md)
        is_bad = f"${get_column_letter(max(map(column_index_from_string, self.letters.values())) + 1)}{xl.ROW}" \
                 f"={xl.text(wording.INVALID)}"
        errors: list[tuple[str, str]] = []
        for cid, msg in self.lg.required:
            errors.append((blank_test(self.cell(cid)), xl.text(msg)))
        warnings: list[tuple[str, str]] = []
        for chk, node in self.lg.checks:
            cond = self.row_c.truth(self.row_c.compile(node))
            (errors if chk.level == "error" else warnings).append((cond, xl.text(chk.message)))
        inv = xl.text(wording.INVALID)
        status = f'=IF({empty},"",IF({any_bad},{inv},{self.status_chain()}))'
        good = xl.joined(errors, "；")

        chunks = self.reason_chunks() if chunks is None else chunks
        pieces = self.reason_pieces()
        helpers = []
        if not chunks:
            err = f'=IF({empty},"",IF({is_bad},{xl.joined(pieces, wording.INVALID_SEP)},{good}))'
        else:  # each helper: its cells' reasons, each led by the separator; the errors cell joins them
            for chunk in chunks:
                body = xl.concat([f'IF({c},{xl.concat([xl.text(wording.INVALID_SEP), t])},"")'
                                 for c, t in (pieces[i] for i in chunk)])
                helpers.append(f'=IF({is_bad},{body},"")')
            joined = xl.concat([f"${self.helper_ref(i)}{xl.ROW}" for i in range(len(chunks))])
            err = f'=IF({empty},"",IF({is_bad},MID({joined},{len(wording.INVALID_SEP) + 1},32767),{good}))'
        warn = f'=IF({empty},"",IF({is_bad},"",{xl.joined(warnings, "；")}))'
        decisions = {did: f'=IF({empty},"",IF({is_bad},"",{self.chain(rules)}))'
                     for did, rules in self.decisions.items()}
        return status, err, warn, decisions, helpers

    # --- roll-ups -----------------------------------------------------------------

    def row_mask(self) -> str:
        return f'(TRIM({"&".join(self.rng(c) for c in self.cols)})<>"")'

    def metric_values(self, group: list[str]) -> dict[str, V]:
        """Each lowered metric as a value over the rows selected by the *group* factors (arrays)."""
        group = group + [f"({self.status_name}<>{xl.text(wording.INVALID)})"]  # 有误 rows count nowhere
        terms = self.lg.row_terms
        vals: dict[str, V] = {}

        def term(t: int) -> str:
            kind, node = terms[t]
            v = self.arr_c.compile(node)
            return self.arr_c.truth(v) if kind == "cond" else v.f

        def sp(extra: list[str]) -> str:
            factors = group + extra
            if len(factors) == 1:
                factors = ["1"] + factors
            return f"SUMPRODUCT({'*'.join(factors)})"

        def ev(op: lowered.MOp) -> V:
            k = op.op
            if k == "count":
                t, want = op.value
                extra = [] if t is None else [term(t) if want else f"(1-{term(t)})"]
                return V(sp(extra), expr.NUMBER, plain=True)
            if k == "sum":
                return V(f"ROUND({sp([term(c) for c in op.args] + [term(op.value)])},{xl.EPS_DIGITS})",
                         expr.NUMBER, plain=True)
            if k == "zero":
                return V(f"({ev(op.args[0]).f}=0)", expr.BOOL)
            if k == "pct":  # in percent, 0.01 half up; not computed when the denominator is 0
                n, d = ev(op.args[0]), ev(op.args[1])
                return V(f"ROUND({n.f}*100/{d.f},2)", expr.NUMBER, f"({d.f}=0)", plain=True, risky=True)
            if k == "metric":
                return vals[op.value]
            if k == "facts":  # one workbook: the fact itself (blank when left blank)
                v = self._top_name(op.value)
                return V(v.f, expr.NUMBER, v.null, plain=True)
            # expr: blank when any operand that may be blank is
            def resolve(name: str) -> V:
                if name in vals:
                    return V(vals[name].f, vals[name].t, None, plain=vals[name].plain)
                v = self._top_name(name)
                return V(v.f, v.t, None, plain=v.plain)

            c = Compiler(resolve)
            body = c.compile(op.value)
            nulls = [n for n in ((vals[a].null if a in vals else self._top_name(a).null) for a in op.args) if n]
            f = c.truth(body) if body.t == expr.BOOL else body.f
            return V(f, body.t, xl.any_of(nulls) if nulls else None, plain=body.plain, risky=True)

        for mt in self.lg.aggregates:
            vals[mt.id] = ev(mt.op)
        return vals

    def metrics(self, group: list[str], empty_label: str | None = None) -> dict[str, str]:
        """Metric cell formulas over the rows selected by the *group* factors; with
        *empty_label*, an all / none metric of a group without rows shows that text."""
        vals = self.metric_values(group)
        out: dict[str, str] = {}
        count = "SUMPRODUCT(" + "*".join((group or ["1"]) + [f"({self.status_name}<>{xl.text(wording.INVALID)})"]) + ")"
        for mt in self.lg.aggregates:
            v = vals[mt.id]
            f = f'IF({v.f},"{inputs.YES}","{inputs.NO}")' if v.t == expr.BOOL else v.f
            if mt.kind in ("all", "none") and empty_label is not None:  # vacuously true: the label instead
                f = f"IF({count}=0,{xl.text(empty_label)},{f})"
            if v.null:
                f = f'IF({v.null},"",{f})'
            out[mt.id] = "=" + f
        return out

    def group_factors(self, by: str, key: str) -> list[str]:
        """Array factors selecting the rows whose column *by* is *key* ("" = blank)."""
        if by not in self.cols:  # a decision or the status: its result column
            return [f"(TRIM({self._arr_name(by).f})={xl.text(key)})"]
        c = self.cols[by]
        r = self.rng(by)
        val = f"TRIM({r})"
        if key == "":
            if c.default is not None:
                return ["0"]  # a column with a default is never blank
            return [self.row_mask(), f'({val}="")']
        eq = f"({val}={xl.text(key)})"
        if c.default is not None and str(c.default) == key:
            return [self.row_mask(), f'(({eq}+({val}=""))>0)']
        return [eq]

    def fact_label(self, f: Fact) -> str:
        v = inputs.scalar(f, f.id, True)
        if f.type in ("enum", "text"):
            shown = v.f
        elif f.type == "bool":
            shown = f'IF({v.f},"是","否")'
        elif f.type == "date":
            shown = xl.date_text(f.id)
        else:
            shown = xl.value_text(f.id)
        blank = xl.text(f.blank_label or BLANK_GROUP)
        return f"=IF({blank_test(f.id)},{blank},{shown})"

    def rollups(self) -> list[RollupFormulas]:
        out = []
        everything = [self.row_mask()]
        opts = self.lg.decision_options
        for g in self.lg.groupings:
            total = None
            if g.by is None or g.total_label:
                total = GroupFormulas(None, None, self.metrics(everything))
            if g.by is None:
                kind, groups = None, []
                build = (lambda key, t=total: t)
            elif g.by_kind in ("column", "decision", "status"):
                kind = "column"
                if g.by_kind == "column":
                    c = self.cols[g.by]
                    if c.type != "enum":
                        raise Unsupported(f"按列 {g.by} 分组：只有枚举列（有固定可选值）的分组能事先排成汇总表的行")
                    keys = list(c.options or [])
                    if c.default is None:
                        keys.append("")
                else:
                    keys = list(opts[g.by])

                def build(key, by=g.by, el=g.empty_label):
                    return GroupFormulas(key, None, self.metrics(self.group_factors(by, key or ""), el))

                groups = [build(k) for k in keys]
            else:
                kind = "fact"
                f = self.top[g.by]

                def build(key, f=f):
                    return GroupFormulas(None, self.fact_label(f), self.metrics(everything))

                groups = [build(None)]
            out.append(RollupFormulas(g.by, kind, g.label, groups, total, build))
        return out


def reason_columns(pack: RulePack, ledger: lowered.Ledger) -> int:
    """How many hidden helper columns the table *ledger* needs for its rows'
    有误 reasons (0: its errors formula holds them; the layout places that many
    columns right after the table's result columns)."""
    try:
        return len(_Ledger(pack, ledger, lambda cid: "XFD", LEDGER_SHEET).reason_chunks())
    except Unsupported:
        return 0  # compile_ledger reports it


def compile_ledger(pack: RulePack, column_ref: Callable[[str], str], ledger: lowered.Ledger | None = None,
                   sheet: str | None = None, helper_ref: Callable[[int], str] | None = None) -> LedgerFormulas:
    """Row and roll-up formulas of one ledger (table) of a ledger *pack*: *ledger*
    (one of :func:`rubric_xl.rules.lowered.lowered_ledgers`; default the first),
    on the sheet named *sheet* (default the 台账 sheet for the first table, the
    table's label for a further one).

    *column_ref(column_id)* gives the column letter of each input column of the
    ledger table on its sheet (for the per-row templates); *helper_ref(i)* the
    letter of helper column *i* (:func:`reason_columns`; default: right after
    the result columns).  Raises
    :class:`PackError` when a check, status or metric cannot be expressed.
    """
    if not pack.ledgers:
        raise PackError("规则包没有台账（ledger）部分", [Problem(pack.source, "kind 应为 ledger")])
    check_pack_names(pack)
    lg = ledger or lowered.lowered_ledger(pack)
    sheet = sheet or (LEDGER_SHEET if lg.index == 0 else lg.label)
    where = f"{pack.source}: " + ("ledger" if len(pack.ledgers) == 1 else f"ledgers[{lg.index}]")
    try:
        lc = _Ledger(pack, lg, column_ref, sheet, helper_ref)
        status, errors, warnings, decisions, helpers = lc.row_formulas()
        rollups = lc.rollups()
    except Unsupported as exc:
        raise PackError("台账规则无法编译为 Excel 公式", [Problem(where, str(exc))]) from None
    problems = []
    named = {"status": status, "errors": errors, "warnings": warnings, **decisions,
             **{f"有误原因{i + 1}": h for i, h in enumerate(helpers)}}
    for ru in rollups:
        for gf in ru.groups + ([ru.total] if ru.total else []):
            for mid, f in gf.metrics.items():
                named[f"{ru.label}/{gf.key}/{mid}"] = f
            if gf.label:
                named[f"{ru.label}/label"] = gf.label
    for what, f in named.items():
        problems += [Problem(where, f"{what}：{msg}") for msg in xl.problems_in(f.replace(xl.ROW, "3"))]
    if problems:
        raise PackError("台账规则无法编译为 Excel 公式", problems)
    labels = {mt.id: mt.label for mt in lg.aggregates}
    names = {w: result_name(lg, w) for w in ("status", "errors", "warnings", *decisions)}
    return LedgerFormulas(lg.table, status, errors, warnings, rollups, labels, decisions, names, reasons=helpers)


CHECKS_NAME = "rxl.checks"  # defined name of the cell showing the submission checks (no pack id has a dot)


def compile_checks(pack: RulePack) -> str | None:
    """The formula of the cell showing a ledger pack's checks of the whole
    submission (:func:`rubric_xl.rules.lowered.lowered_checks`): the message of
    each check that holds, pack order, "；"-separated; "" when none holds.  As in
    the engine a blank condition does not hold, and a check reading a top-level
    fact whose cell breaks the input contract (text in a date cell, #N/A) shows
    nothing (the engine scores no such submission).  ``None`` when the pack has
    no such check.  Raises :class:`PackError` when a check cannot be expressed."""
    checks = lowered.lowered_checks(pack)
    if not checks:
        return None
    lc = _Ledger(pack, lowered.lowered_ledger(pack), lambda cid: "XFD", LEDGER_SHEET)
    pieces = []
    try:
        for c in checks:
            cond = lc.top_c.truth(lc.top_c.compile(c.node))
            bad = [inputs.invalid(pack.facts[f], f) for f in c.facts]
            pieces.append((f"IF({xl.any_of(bad)},FALSE,{cond})" if bad else cond, xl.text(c.message)))
    except Unsupported as exc:
        raise PackError("报送检查无法编译为 Excel 公式", [Problem(f"{pack.source}: checks", str(exc))]) from None
    formula = "=" + xl.joined(pieces, "；")
    problems = [Problem(f"{pack.source}: checks", msg) for msg in xl.problems_in(formula)]
    if problems:
        raise PackError("报送检查无法编译为 Excel 公式", problems)
    return formula
