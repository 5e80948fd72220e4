"""Compile a ledger pack (台账) to Excel formulas that match
:mod:`rubric_xl.engine.ledger`: per row the status, the errors and the warnings
(text), and the roll-ups of the pack's metrics for the 汇总 sheet.

Row formulas are templates holding :data:`ROW` (``{row}``) and read the row's
cells by column letter (``$F{row}``).  Roll-ups are ``SUMPRODUCT`` formulas over
the columns' defined names (``<table>__<column>``) and the status column
(``ledger_status``), built without ``IF``/``AND``/``OR`` so that Excel 2010
evaluates them element by element without array entry.  A row exists when any
of its input cells is not blank (as the reader reads it).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.utils import column_index_from_string, get_column_letter
from typing import Callable

from ..errors import PackError, Problem
from ..rules import expr as E
from ..rules.model import Fact
from ..rules.pack import RulePack
from ..conventions import LEDGER_SHEET
from ..rules import lowered as L
from ..rules import wording as W
from . import _inputs as I
from . import _xl as X
from ._expr import Compiler, Unsupported, V, blank_test

STATUS_NAME = "ledger_status"  # defined name of the status result column
BLANK_GROUP = W.BLANK_GROUP  # the key of a blank group value (the lowered form's)


def column_name(table: str, column: str) -> str:
    return f"{table}__{column}"


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

    def row(self, which: str, row: int) -> str:
        """``which`` = status | errors | warnings, for sheet row *row*."""
        return getattr(self, which).replace(X.ROW, str(row))


class _Ledger:
    def __init__(self, pack: RulePack, column_ref: Callable[[str], str]):
        m = pack.model
        led = m.ledger
        assert led is not None and pack.ledger is not None
        self.pack = pack
        self.led = led
        self.cl = pack.ledger
        self.table: Fact = pack.facts[led.table]
        self.cols = {c.id: c for c in self.table.columns or []}
        self.letters = {cid: column_ref(cid) for cid in self.cols}
        self.deadlines = {d.id: d.date for d in m.deadlines}
        self.derived = {d.id: node for d, node in self.cl.derived}
        self.top = {f.id: f for f in m.facts if f.type != "table"}
        self.row_c = Compiler(self._row_name)
        self.arr_c = Compiler(self._arr_name, array=True)
        self._memo: dict[tuple[bool, str], V] = {}

    # --- names ------------------------------------------------------------------

    def cell(self, cid: str) -> str:
        return f"${self.letters[cid]}{X.ROW}"

    def rng(self, cid: str) -> str:
        return column_name(self.led.table, cid)

    def _common(self, name: str, array: bool) -> V | None:
        if name in self.top:
            return I.scalar(self.top[name], name, True)
        if name in self.deadlines:
            return V(X.date(self.deadlines[name]), E.DATE, plain=True)
        if name in self.derived:
            c = self.arr_c if array else self.row_c
            return c.compile(self.derived[name])
        return None

    def _row_name(self, name: str) -> V:
        key = (False, name)
        if key not in self._memo:
            if name in self.cols:
                v = I.scalar(self.cols[name], self.cell(name), True)
            elif name == "status":
                v = V(self.status_chain(), E.TEXT, plain=True)
            else:
                v = self._common(name, False)
                if v is None:
                    raise Unsupported(f"台账表达式中不能使用 {name}（引擎逐行计算时没有这个值）")
            self._memo[key] = v
        return self._memo[key]

    def _arr_name(self, name: str) -> V:
        key = (True, name)
        if key not in self._memo:
            if name in self.cols:
                v = I.array(self.cols[name], self.rng(name))
            elif name == "status":
                v = V(STATUS_NAME, E.TEXT, plain=True)
            else:
                v = self._common(name, True)
                if v is None:
                    raise Unsupported(f"台账表达式中不能使用 {name}（引擎逐行计算时没有这个值）")
            self._memo[key] = v
        return self._memo[key]

    # --- rows ---------------------------------------------------------------------

    def empty(self) -> str:
        return f'(TRIM({"&".join(self.cell(c) for c in self.cols)})="")'

    def status_chain(self) -> str:
        out = '""'
        for name, node in reversed(self.cl.statuses):
            cond = self.row_c.truth(self.row_c.compile(node))
            out = X.text(name) if cond == "TRUE" else f"IF({cond},{X.text(name)},{out})"
        return out

    def row_formulas(self) -> tuple[str, str, str]:
        """A row with a cell that breaks the input contract is 有误: its errors are
        the reasons (cell, value, expectation), nothing else is evaluated, and it
        counts in no roll-up — as in the engine."""
        empty = self.empty()
        bad = [(I.invalid(c, self.cell(cid), errors=False),
                I.reason(c, self.cell(cid), LEDGER_SHEET, cell=f"{self.letters[cid]}{X.ROW}", errors=False))
               for cid, c in self.cols.items()]
        any_bad = X.any_of([b for b, _ in bad])
        # the status column comes right after the input columns (docs/ARCHITECTURE.md)
        is_bad = f"${get_column_letter(max(map(column_index_from_string, self.letters.values())) + 1)}{X.ROW}" \
                 f"={X.text(W.INVALID)}"
        errors: list[tuple[str, str]] = []
        for cid, msg in L.lowered_ledger(self.pack).required:
            errors.append((blank_test(self.cell(cid)), X.text(msg)))
        warnings: list[tuple[str, str]] = []
        for chk, node in self.cl.checks:
            cond = self.row_c.truth(self.row_c.compile(node))
            (errors if chk.level == "error" else warnings).append((cond, X.text(chk.message)))
        inv = X.text(W.INVALID)
        status = f'=IF({empty},"",IF({any_bad},{inv},{self.status_chain()}))'
        err = f'=IF({empty},"",IF({is_bad},{X.joined(bad, W.INVALID_SEP)},{X.joined(errors, "；")}))'
        warn = f'=IF({empty},"",IF({is_bad},"",{X.joined(warnings, "；")}))'
        return status, err, warn

    # --- roll-ups -----------------------------------------------------------------

    def row_mask(self) -> str:
        return f'(TRIM({"&".join(self.rng(c) for c in self.cols)})<>"")'

    def metrics(self, group: list[str]) -> dict[str, str]:
        """Metric formulas over the rows selected by the *group* factors (arrays)."""
        sums: dict[str, str] = {}  # metric id -> SUMPRODUCT text (count/sum)
        out: dict[str, str] = {}
        group = group + [f"({STATUS_NAME}<>{X.text(W.INVALID)})"]  # 有误 rows count nowhere

        def sp(extra: str | None) -> str:
            factors = group + ([extra] if extra else [])
            if len(factors) == 1:
                factors = ["1"] + factors
            return f"SUMPRODUCT({'*'.join(factors)})"

        for mt, node in self.cl.metrics:
            w = None
            if node is not None:
                v = self.arr_c.compile(node)
                w = self.arr_c.truth(v) if v.t == E.BOOL else v.f
            if mt.kind == "count":
                sums[mt.id] = sp(w)
                out[mt.id] = "=" + sums[mt.id]
            elif mt.kind == "sum":
                sums[mt.id] = f"ROUND({sp(w)},{X.EPS_DIGITS})"
                out[mt.id] = "=" + sums[mt.id]
            elif mt.kind == "all":  # 是/否 (vacuously 是 for no rows)
                out[mt.id] = f'=IF({sp(f"(1-{w})")}=0,"{I.YES}","{I.NO}")'
            elif mt.kind == "none":
                out[mt.id] = f'=IF({sp(w)}=0,"{I.YES}","{I.NO}")'
            else:  # rate, in percent, 0.01 half up; blank when the denominator is 0
                if mt.numerator not in sums or mt.denominator not in sums:
                    raise Unsupported(f"比率指标 {mt.id} 的分子、分母必须是计数或求和指标")
                n, d = sums[mt.numerator], sums[mt.denominator]
                out[mt.id] = f'=IF({d}=0,"",ROUND({n}*100/{d},2))'
        return out

    def group_factors(self, by: str, key: str) -> list[str]:
        """Array factors selecting the rows whose column *by* is *key* ("" = blank)."""
        c = self.cols[by]
        r = self.rng(by)
        val = f"TRIM({r})"
        if key == "":
            if c.default is not None:
                return ["0"]  # a column with a default is never blank
            return [self.row_mask(), f'({val}="")']
        eq = f"({val}={X.text(key)})"
        if c.default is not None and str(c.default) == key:
            return [self.row_mask(), f'(({eq}+({val}=""))>0)']
        return [eq]

    def fact_label(self, f: Fact) -> str:
        v = I.scalar(f, f.id, True)
        if f.type in ("enum", "text"):
            shown = v.f
        elif f.type == "bool":
            shown = f'IF({v.f},"是","否")'
        elif f.type == "date":
            shown = X.date_text(f.id)
        else:
            shown = X.value_text(f.id)
        blank = X.text(f.blank_label or BLANK_GROUP)
        return f"=IF({blank_test(f.id)},{blank},{shown})"

    def rollups(self) -> list[RollupFormulas]:
        out = []
        everything = [self.row_mask()]
        for g in self.led.groupings:
            total = None
            if g.by is None or g.total_label:
                total = GroupFormulas(None, None, self.metrics(everything))
            if g.by is None:
                kind, groups = None, []
                build = (lambda key, t=total: t)
            elif g.by in self.cols:
                kind = "column"
                c = self.cols[g.by]
                if c.type != "enum":
                    raise Unsupported(f"按列 {g.by} 分组：只有枚举列（有固定可选值）的分组能事先排成汇总表的行")
                keys = list(c.options or [])
                if c.default is None:
                    keys.append("")

                def build(key, by=g.by):
                    return GroupFormulas(key, None, self.metrics(self.group_factors(by, key or "")))

                groups = [build(k) for k in keys]
            else:
                kind = "fact"
                f = self.top[g.by]

                def build(key, f=f):
                    return GroupFormulas(None, self.fact_label(f), self.metrics(everything))

                groups = [build(None)]
            out.append(RollupFormulas(g.by, kind, g.label, groups, total, build))
        return out


def compile_ledger(pack: RulePack, column_ref: Callable[[str], str]) -> LedgerFormulas:
    """Row and roll-up formulas of a ledger *pack*.

    *column_ref(column_id)* gives the column letter of each input column of the
    ledger table on the 台账 sheet (for the per-row templates).  Raises
    :class:`PackError` when a check, status or metric cannot be expressed.
    """
    if pack.model.ledger is None or pack.ledger is None:
        raise PackError("规则包没有台账（ledger）部分", [Problem(pack.source, "kind 应为 ledger")])
    from ..workbook.names import check_pack_names  # the names the formulas rely on

    check_pack_names(pack)
    where = f"{pack.source}: ledger"
    try:
        lc = _Ledger(pack, column_ref)
        status, errors, warnings = lc.row_formulas()
        rollups = lc.rollups()
    except Unsupported as exc:
        raise PackError("台账规则无法编译为 Excel 公式", [Problem(where, str(exc))]) from None
    problems = []
    named = {"status": status, "errors": errors, "warnings": warnings}
    for ru in rollups:
        for gf in ru.groups + ([ru.total] if ru.total else []):
            for mid, f in gf.metrics.items():
                named[f"{ru.label}/{gf.key}/{mid}"] = f
            if gf.label:
                named[f"{ru.label}/label"] = gf.label
    for what, f in named.items():
        problems += [Problem(where, f"{what}：{msg}") for msg in X.problems_in(f.replace(X.ROW, "3"))]
    if problems:
        raise PackError("台账规则无法编译为 Excel 公式", problems)
    labels = {mt.id: mt.label for mt, _ in pack.ledger.metrics}
    return LedgerFormulas(pack.model.ledger.table, status, errors, warnings, rollups, labels)
