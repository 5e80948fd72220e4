"""The 台账 sheet (one Excel table per table fact, header row 2, data from row 3,
pre-formatted rows, one defined name per column) and the 汇总 sheet (room for
the roll-ups, filled by the formula compiler)."""
from __future__ import annotations

import re

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from ..conventions import sheet_title  # noqa: F401  (the name of a table's sheet)
from ..errors import PackError, Problem, RubricError
from ..rules.model import Fact
from . import inputs, names, styles
from .context import Ctx
from ..conventions import TEMPLATE_SHEETS
from ..layout import ColumnLayout, RangeRef, SummaryBlock, TableLayout

SHEET = "台账"
SUMMARY_SHEET = "汇总"
HEADER_ROW, FIRST_ROW = 2, 3
RESULT_COLUMNS = (("status", "状态"), ("errors", "错误"), ("warnings", "警告"))
# narrow columns (long text wraps): the whole table prints across one landscape A4 page
RESULT_WIDTHS = {"status": 10, "errors": 24, "warnings": 24}
DECISION_WIDTH = 12  # a decision's value (处罚建议)
TYPE_WIDTHS = {"text": 18, "date": 11, "bool": 5, "int": 8, "decimal": 10, "percent": 9}
SUMMARY_LABEL_WIDTH = 30
BLANK_PRINT_ROWS = 20  # an empty ledger prints as a blank form of this many rows
WRAP_TYPES = {"text", "enum", "result"}


def _width(f: Fact) -> float:
    if f.type == "enum":
        longest = max((styles.text_units(o) for o in f.options or []), default=8)
        return min(max(10.0, longest + 2), 18.0)
    if f.type == "bool":  # wide enough for its header in at most about four lines
        return min(max(TYPE_WIDTHS["bool"], round(styles.text_units(f.label) / 4 + 1.5)), 10.0)
    return TYPE_WIDTHS[f.type]


def print_rows_in_use(ws: Worksheet, last_used: int) -> None:
    """Set the print area of a 台账 sheet to its columns (not the hidden 有误原因
    helpers after them), rows 1 to *last_used* (an empty ledger:
    :data:`BLANK_PRINT_ROWS` blank rows, a form to fill by hand)."""
    last_col = ws.max_column
    for t in ws.tables.values():
        last_col = max(last_col, range_boundaries(t.ref)[2])
    while last_col > 1 and ws.column_dimensions[get_column_letter(last_col)].hidden:
        last_col -= 1
    last = last_used if last_used > HEADER_ROW else HEADER_ROW + BLANK_PRINT_ROWS
    ws.print_area = f"A1:{get_column_letter(last_col)}{last}"


def fit_filled_ledger(wb, pack, values: dict) -> None:
    """After a ledger is filled: on each ledger sheet, print area on the rows in
    use, and each filled row as high as its wrapped text — the typed cells and
    the row's results (状态, decisions, 错误/警告), which the formulas show once
    recalculated (their text is the engine's)."""
    scored = scored_tables(pack)
    if not scored:
        return
    from ..engine import score_values  # noqa: PLC0415  (the engine is below the workbook)

    try:
        results = {t.table: t.rows for t in score_values(pack, values).tables}
    except RubricError:  # e.g. a blank top-level fact: the formulas show 有误; size by the typed text
        results = {}
    for sheet, tables in ledger_sheets(pack):
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        widths = {c: ws.column_dimensions[get_column_letter(c)].width or 10 for c in range(1, ws.max_column + 1)}
        heads = {ws.cell(HEADER_ROW, c).value: c for c in range(1, ws.max_column + 1)}
        count = 0
        for t in tables:
            rows = results.get(t.id, [])
            result_cols = {key: heads.get(label) for key, label in result_columns(pack, t.id)}
            n = len(values.get(t.id) or [])
            count = max(count, n)
            for i in range(n):
                r = FIRST_ROW + i
                texts = {c: str(ws.cell(r, c).value) for c in range(2, ws.max_column + 1)
                         if ws.cell(r, c).data_type == "s" and ws.cell(r, c).value}  # typed text, not formulas
                if i < len(rows):
                    row = rows[i]
                    shown = {"status": row.status, "errors": "；".join(p.message for p in row.errors),
                             "warnings": "；".join(p.message for p in row.warnings)}
                    texts.update({c: shown.get(key, str(row.values.get(key) or "")) for key, c in result_cols.items()
                                  if c and t.id in scored})
                styles.fit_row(ws, r, texts, widths, minimum=16)
        print_rows_in_use(ws, FIRST_ROW + count - 1)


def _unique_headers(cols: list[Fact]) -> dict[str, str]:
    seen: dict[str, int] = {}
    out = {}
    for c in cols:
        label = c.label
        if label in seen:
            label = f"{label}（{c.id}）"
        seen[label] = 1
        out[c.id] = label
    return out


def scored_tables(pack) -> list[str]:
    """The table facts a ledger pack scores, pack order (``ledger:`` or ``ledgers:``)."""
    return [led.table for led in getattr(pack.model, "ledgers", None) or
            ([pack.model.ledger] if pack.model.ledger else [])]


def ledger_sheets(pack) -> list[tuple[str, list[Fact]]]:
    """(sheet name, the table facts on it), in order.  A pack with one ledger
    keeps every table fact side by side on one 台账 sheet; a pack with several
    ledgers gets one sheet per table fact, named by the table's label."""
    tables = [f for f in pack.model.facts if f.type == "table"]
    if len(scored_tables(pack)) <= 1:
        return [(SHEET, tables)]
    return [(sheet_title(t.label), [t]) for t in tables]


def result_name(pack, table: str, which: str) -> str:
    """The defined name of *table*'s result column *which* (status, errors,
    warnings or a decision id; the first ledger's status is ledger_status …)."""
    first = scored_tables(pack)[:1] == [table] and which in names.LEDGER_RESULTS
    return names.ledger_result_name(which, None if first else table)


def result_columns(pack, table: str) -> list[tuple[str, str]]:
    """(key, header) of *table*'s result columns: 状态, each decision of its
    ledger (e.g. 处罚建议), 错误, 警告 — the status right after the inputs."""
    led = next((led for led in getattr(pack.model, "ledgers", None) or [] if led.table == table), None)
    decisions = [(d.id, d.label) for d in getattr(led, "decisions", None) or []]
    return [RESULT_COLUMNS[0], *decisions, *RESULT_COLUMNS[1:]]


def build_ledger_sheet(ctx: Ctx) -> list[Worksheet]:
    """Every ledger sheet of the pack (see :func:`ledger_sheets`)."""
    scored = scored_tables(ctx.pack)
    ctx.layout.ledger_table = scored[0] if scored else None
    ctx.layout.ledger_tables = list(scored)
    sheets = ledger_sheets(ctx.pack)
    taken = {name.casefold() for name in TEMPLATE_SHEETS if name != SHEET} if len(sheets) > 1 else set()
    clash = [name for name, _ in sheets if name.casefold() in taken]
    if len({name.casefold() for name, _ in sheets}) != len(sheets) or clash:
        why = (f"表格名称“{clash[0]}”与模板的其他工作表同名" if clash
               else "多张表格的名称（label）作为工作表名（去掉 :\\/?*[]、取前31个字）后相同")
        raise PackError("台账工作表名称重复", [Problem(ctx.pack.source, why + "，请修改表格的 label")])
    out = [_build_sheet(ctx, name, tables, scored) for name, tables in sheets]
    ctx.layout.ledger_sheet = out[0].title if out else SHEET
    return out


def _build_sheet(ctx: Ctx, sheet: str, tables: list[Fact], scored: list[str]) -> Worksheet:
    wb, pack, layout = ctx.wb, ctx.pack, ctx.layout
    ws = wb.create_sheet(sheet)
    last_row = FIRST_ROW + ctx.ledger_rows - 1
    styles.style(ws.cell(HEADER_ROW, 1, "序号"), font=styles.BOLD, fill=styles.HEADER_FILL, align=styles.CENTER)
    ws.column_dimensions["A"].width = 6
    for r in range(FIRST_ROW, last_row + 1):
        styles.style(ws.cell(r, 1, r - FIRST_ROW + 1), font=styles.SMALL, border=False, align=styles.TOP_CENTER)
    col = 2
    header_lines = 1
    for t in tables:
        cols = list(t.columns or [])
        headers = _unique_headers(cols)
        first_col = col
        columns: dict[str, ColumnLayout] = {}
        widths: dict[int, float] = {}
        for c in cols:
            rng = RangeRef(sheet, col, FIRST_ROW, last_row)
            name = names.column_name(t.id, c.id)
            columns[c.id] = ColumnLayout(c.id, headers[c.id], c.type, rng, name)
            ctx.define(name, rng.absolute)
            widths[col] = _width(c)
            _format_column(ws, col, FIRST_ROW, last_row, inputs.FORMATS[c.type], locked=False,
                           wrap=c.type in WRAP_TYPES)
            ctx.validate(ws, c, rng.coord, owner=name, column=True)
            col += 1
        results: dict[str, ColumnLayout] = {}
        if t.id in scored:
            for key, label in result_columns(pack, t.id):
                rng = RangeRef(sheet, col, FIRST_ROW, last_row)
                name = result_name(pack, t.id, key)
                results[key] = ColumnLayout(key, label, "result", rng, name)
                headers[key] = label
                ctx.define(name, rng.absolute)
                widths[col] = RESULT_WIDTHS.get(key, DECISION_WIDTH)
                _format_column(ws, col, FIRST_ROW, last_row, "@", locked=True, wrap=True)
                col += 1
        last_col = col - 1
        helpers = _helper_columns(ctx, ws, sheet, t.id, col, last_row) if t.id in scored else {}
        for cl in [*columns.values(), *results.values()]:
            cell = ws.cell(HEADER_ROW, cl.data.col, cl.label)
            styles.style(cell, font=styles.BOLD, align=styles.CENTER)
            header_lines = max(header_lines, styles.lines_needed(cl.label, widths[cl.data.col]))
        styles.set_widths(ws, widths)
        col += len(helpers)
        tl = TableLayout(t.id, sheet, t.id, HEADER_ROW, FIRST_ROW, last_row, first_col, last_col, columns, results,
                         helpers)
        table = Table(displayName=t.id, ref=tl.ref)
        table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(table)
        layout.tables[t.id] = tl
        title = f"{t.label}：每行填写一条，从第{FIRST_ROW}行开始（已预留{ctx.ledger_rows}行）"
        if t.hint:
            title += f"；{t.hint}"
        styles.style(ws.cell(1, first_col, title), font=styles.BOLD, border=False, align=styles.LEFT)
        col += 1  # a gap column between tables
    ws.row_dimensions[1].height = 22
    ws.row_dimensions[HEADER_ROW].height = max(30.0, header_lines * styles.LINE_HEIGHT + 6)
    first = layout.tables[tables[0].id] if tables else None
    keys = {led.table: led.key for led in getattr(pack.model, "ledgers", None) or
            ([pack.model.ledger] if pack.model.ledger else [])}
    key = keys.get(tables[0].id) if tables else None
    if first is not None and len(tables) == 1 and next(iter(first.columns), None) == key:
        ws.freeze_panes = "C3"
    else:
        ws.freeze_panes = "B3"
    styles.print_setup(ws, title_rows=f"1:{HEADER_ROW}", landscape=True, header=pack.model.title)
    print_rows_in_use(ws, HEADER_ROW)
    styles.protect(ws)
    return ws


HELPER_LABEL = "有误原因"  # header of a hidden helper column (formulas/_ledger.py reason_columns)


def _helper_columns(ctx: Ctx, ws: Worksheet, sheet: str, table: str, col: int,
                    last_row: int) -> dict[str, ColumnLayout]:
    """The hidden helper columns of a table too wide for its errors formula to
    hold every 有误 reason (``reasons1`` …), right after its result columns,
    outside the Excel table; locked."""
    from ..formulas._ledger import reason_columns  # noqa: PLC0415
    from ..rules.lowered import lowered_ledgers  # noqa: PLC0415

    lg = next((lg for lg in lowered_ledgers(ctx.pack) if lg.table == table), None)
    out: dict[str, ColumnLayout] = {}
    for i in range(reason_columns(ctx.pack, lg) if lg is not None else 0):
        key = f"reasons{i + 1}"
        rng = RangeRef(sheet, col + i, FIRST_ROW, last_row)
        out[key] = ColumnLayout(key, HELPER_LABEL, "result", rng, names.column_name(table, f"_{key}"))
        ws.cell(HEADER_ROW, col + i, HELPER_LABEL)
        _format_column(ws, col + i, FIRST_ROW, last_row, "@", locked=True)
        ws.column_dimensions[get_column_letter(col + i)].hidden = True
    return out


def _format_column(ws: Worksheet, col: int, first: int, last: int, fmt: str, locked: bool,
                   wrap: bool = False) -> None:
    font = styles.BODY if not locked else styles.RESULT
    prot = styles.UNLOCKED if not locked else styles.LOCKED
    for r in range(first, last + 1):
        cell = ws.cell(r, col)
        cell.font = font
        cell.number_format = fmt
        cell.protection = prot
        # wrapped text grows the row (Excel/WPS as one types; fill sets the height)
        cell.alignment = styles.WRAP_TOP if wrap else styles.TOP


def build_summary_sheet(ctx: Ctx) -> Worksheet | None:
    """The 汇总 sheet: the groupings of every ledger, pack order (a pack with
    several ledgers heads each table's groupings with the table's label)."""
    pack, layout = ctx.pack, ctx.layout
    ledgers = getattr(pack.model, "ledgers", None) or ([pack.model.ledger] if pack.model.ledger else [])
    if not ledgers:
        return None
    ws = ctx.wb.create_sheet(SUMMARY_SHEET)
    layout.summary_sheet = SUMMARY_SHEET
    last_col = 1 + max(len(led.metrics) for led in ledgers)
    ws.column_dimensions["A"].width = SUMMARY_LABEL_WIDTH
    for i in range(2, last_col + 1):
        ws.column_dimensions[get_column_letter(i)].width = 14
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(last_col, 2))
    styles.style(ws.cell(1, 1, f"{pack.model.title}——汇总（根据台账自动计算）"), font=styles.TITLE, border=False,
                 align=styles.LEFT)
    ws.row_dimensions[1].height = 30
    _checks_line(ctx, ws, max(last_col, 2))
    row = 3
    several = len(ledgers) > 1
    for li, led in enumerate(ledgers):
        table = pack.facts[led.table]
        if several:
            styles.style(ws.cell(row, 1, table.label), font=styles.TITLE, border=False, align=styles.LEFT)
            row += 1
        row = _summary_blocks(ctx, ws, led, table, row, None if li == 0 else led.table)
    styles.print_setup(ws, landscape=True, header=pack.model.title)
    styles.protect(ws)
    return ws


CHECKS_ROW = 2  # the 提示 line of the 汇总 sheet: the pack's checks of the whole submission


def _checks_line(ctx: Ctx, ws: Worksheet, last_col: int) -> None:
    """Row 2 of 汇总 when the pack has checks of the whole submission (逾期报送):
    提示 in A, the message of each check that holds in B (merged to the last
    metric column; blank when none holds), defined name ``rxl.checks``."""
    from ..formulas._ledger import CHECKS_NAME, compile_checks  # noqa: PLC0415

    formula = compile_checks(ctx.pack)
    if formula is None:
        return
    r = CHECKS_ROW
    styles.style(ws.cell(r, 1, "提示"), font=styles.BOLD, fill=styles.HEADER_FILL, align=styles.CENTER)
    cell = ws.cell(r, 2)
    if last_col > 2:
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=last_col)
    styles.style(cell, font=styles.WARN, fill=styles.RESULT_FILL, align=styles.WRAP, formula=True)
    cell.value = formula
    ws.row_dimensions[r].height = 2 * styles.LINE_HEIGHT
    ctx.define(CHECKS_NAME, f"'{ws.title}'!$B${r}")


def _summary_blocks(ctx: Ctx, ws: Worksheet, led, table: Fact, row: int, table_id: str | None) -> int:
    """One ledger's groupings from *row* on; the row after the last one."""
    pack, layout = ctx.pack, ctx.layout
    cols = {c.id: c for c in table.columns or []}
    metrics = list(led.metrics)
    last_col = 1 + len(metrics)
    decisions = {d.id: d for d in getattr(led, "decisions", None) or []}
    for gi, g in enumerate(led.groupings):
        title_row = row
        styles.style(ws.cell(row, 1, g.label), font=styles.BOLD, border=False, align=styles.LEFT)
        row += 1
        header_row = row
        if g.by is None:
            by_kind, head = None, "范围"
        elif g.by in cols:
            by_kind, head = "column", cols[g.by].label
        elif g.by in decisions:
            by_kind, head = "decision", decisions[g.by].label
        elif g.by == "status":
            by_kind, head = "status", "状态"
        else:
            by_kind, head = "fact", pack.facts[g.by].label
        styles.style(ws.cell(row, 1, head), font=styles.BOLD, fill=styles.HEADER_FILL, align=styles.CENTER)
        metric_cols = {}
        for j, mt in enumerate(metrics, start=2):
            styles.style(ws.cell(row, j, mt.label), font=styles.BOLD, fill=styles.HEADER_FILL, align=styles.CENTER)
            metric_cols[mt.id] = j
        styles.fit_row(ws, row, {j: mt.label for j, mt in enumerate(metrics, start=2)},
                       {j: 14 for j in range(2, last_col + 1)})
        row += 1
        group_rows: list[tuple[str | None, int]] = []
        keys: list[str] | None = None
        if by_kind == "column" and cols[g.by].type == "enum":
            c = cols[g.by]
            keys = list(c.options or [])
            if not c.required or c.blank_allowed:
                keys.append("")
            blank = f"（{c.blank_label or '未填'}）"
        elif by_kind == "decision":
            keys, blank = list(dict.fromkeys(r.value for r in decisions[g.by].rules)), ""
        elif by_kind == "status":
            keys, blank = list(dict.fromkeys(s.name for s in led.statuses)), ""
        if keys is not None:
            for k in keys:
                _summary_line(ws, row, k or blank, metrics, cols=cols)
                group_rows.append((k, row))
                row += 1
        elif by_kind == "fact":
            _summary_line(ws, row, None, metrics, cols=cols)
            group_rows.append((None, row))
            row += 1
        total_row = None
        if g.by is None or g.total_label:
            _summary_line(ws, row, g.total_label or g.label, metrics, bold=True, cols=cols)
            total_row = row
            row += 1
        layout.summary.append(SummaryBlock(gi, g.by, by_kind, g.label, title_row, header_row, metric_cols,
                                           group_rows, total_row, table_id))
        row += 1
    return row


def _summary_line(ws: Worksheet, row: int, label: str | None, metrics, bold: bool = False,
                  cols: dict | None = None) -> None:
    styles.style(ws.cell(row, 1, label), font=styles.BOLD if bold else styles.BODY)
    styles.fit_row(ws, row, {1: label or ""}, {1: SUMMARY_LABEL_WIDTH})
    for j, mt in enumerate(metrics, start=2):
        styles.style(ws.cell(row, j), font=styles.RESULT, fill=styles.RESULT_FILL, align=styles.CENTER,
                     fmt=_metric_format(mt, cols or {}))


def _metric_format(mt, cols: dict) -> str:
    """Rates and sums of decimal columns (罚款金额（万元）) with two decimals, counts whole."""
    if mt.kind == "sum" and mt.value and any(
            c.type in ("decimal", "percent") and re.search(rf"\b{c.id}\b", mt.value) for c in cols.values()):
        return "0.00"
    return {"rate": "0.00", "count": "0"}.get(mt.kind, "General")
