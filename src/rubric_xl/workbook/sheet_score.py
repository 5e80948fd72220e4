"""The 评分 sheet: the official table (header row 3, one row per item from row 4
in pack order), then the category block, total, grade, eligibility and the
provisional flag.  Result cells carry the convention's defined names and stay
empty here; :func:`rubric_xl.formulas.write_formulas` fills them."""
from __future__ import annotations

from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill
from openpyxl.styles.numbers import NumberFormat
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.worksheet.worksheet import Worksheet

from ..conventions import STARTED_NAME
from ..engine import score
from ..errors import RubricError
from ..formulas._xl import text as xl_text
from ..samples import random_facts
from . import names, styles
from .context import Ctx
from ..layout import CategoryLayout, CellRef, ItemLayout
from .text import grade_text

SHEET = "评分"
HEADERS = ("序号", "考核内容", "考核标准", "分值", "评分细则", "依据", "得分", "扣分说明")
WIDTHS = {1: 6, 2: 12, 3: 30, 4: 7, 5: 46, 6: 20, 7: 10, 8: 40}
A, B, C, D, E, F, G, H = range(1, 9)
HEADER_ROW, FIRST_ROW = 3, 4
POINTS_FMT = "0.00"
PROVISIONAL_FILL = PatternFill("solid", start_color="FFFFF2CC", end_color="FFFFF2CC")
# conditional number formats (own ids, above any the workbook uses for cells)
PROVISIONAL_TOTAL_FMT = (300, '"暂定 "0.00')
PROVISIONAL_TEXT_FMT = (301, '0.00;-0.00;0.00;"暂定"')  # a text result (等次, 评选资格) reads 暂定


SAMPLES = 40  # submissions scored to find each item's longest 扣分说明


_EXPLAIN_CACHE: dict[str, dict[str, str]] = {}  # pack hash → texts (a batch builds one pack many times)


def explain_texts(pack) -> dict[str, str]:
    """Item id → the longest 扣分说明 its formula shows across an untouched
    template and :data:`SAMPLES` random submissions (fixed seeds: the same
    pack gives the same heights), for the row height."""
    if pack.hash not in _EXPLAIN_CACHE:
        if len(_EXPLAIN_CACHE) > 16:
            _EXPLAIN_CACHE.clear()
        _EXPLAIN_CACHE[pack.hash] = _longest_explanations(pack)
    return _EXPLAIN_CACHE[pack.hash]


def _longest_explanations(pack) -> dict[str, str]:
    cards = [score(pack, {})]
    for seed in range(SAMPLES):
        facts = random_facts(pack, seed, blank_rate=0.2 if seed % 2 else 0.0)
        try:
            cards.append(score(pack, facts))
        except RubricError:  # a sample the pack rejects says nothing about lengths
            continue
    return {ci.id: max((c.item(ci.id).explanation or "" for c in cards), key=styles.text_units)
            for ci in pack.items}


def _fit_run(ws: Worksheet, first: int, last: int, text: str, width: float) -> None:
    """Grow the rows first..last evenly until *text* (merged over them) fits."""
    need = styles.row_height([(text, width, 11)], minimum=0)
    have = sum(ws.row_dimensions[r].height or 18 for r in range(first, last + 1))
    if need > have:
        extra = (need - have) / (last - first + 1)
        for r in range(first, last + 1):
            ws.row_dimensions[r].height = round((ws.row_dimensions[r].height or 18) + extra, 1)


def _merge_runs(ws: Worksheet, col: int, rows: list[tuple[int, str]]) -> list[tuple[int, int]]:
    """Merge vertical runs of equal text in *col* (the official table does);
    return every run as (first row, last row), single rows included."""
    runs = []
    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1][1] == rows[i][1] and rows[j + 1][0] == rows[j][0] + 1:
            j += 1
        if j > i:
            ws.merge_cells(start_row=rows[i][0], start_column=col, end_row=rows[j][0], end_column=col)
        runs.append((rows[i][0], rows[j][0]))
        i = j + 1
    return runs


def build_score_sheet(ctx: Ctx) -> Worksheet:
    wb, pack, layout = ctx.wb, ctx.pack, ctx.layout
    m = pack.model
    ws = wb.create_sheet(SHEET)
    layout.score_sheet = SHEET
    styles.set_widths(ws, WIDTHS)
    ws.merge_cells(start_row=1, start_column=A, end_row=1, end_column=H)
    styles.style(ws.cell(1, A, m.title), font=styles.TITLE, border=False, align=styles.CENTER)
    ws.row_dimensions[1].height = 30
    ws.merge_cells(start_row=2, start_column=A, end_row=2, end_column=H)
    styles.style(ws.cell(2, A, '="填报单位："&info_unit'), font=styles.SUBTITLE, border=False, align=styles.LEFT,
                 formula=True)
    for col, text in enumerate(HEADERS, start=1):
        styles.style(ws.cell(HEADER_ROW, col, text), font=styles.BOLD, fill=styles.HEADER_FILL, align=styles.CENTER)
    ws.row_dimensions[HEADER_ROW].height = 22

    cat_index = {c.name: i for i, c in enumerate(m.categories, start=1)}
    cat_runs: list[tuple[int, str]] = []
    evidence_runs: list[tuple[int, str]] = []
    row = FIRST_ROW
    explains = explain_texts(pack)
    texts: dict[int, dict[int, str]] = {}
    for ci in pack.items:
        it = ci.item
        seq = int(it.id) if it.id.isdigit() else it.id
        styles.style(ws.cell(row, A, seq), align=styles.CENTER)
        styles.style(ws.cell(row, B, it.category), align=styles.CENTER)
        standard = it.standard or it.title
        styles.style(ws.cell(row, C, standard))
        styles.style(ws.cell(row, D, it.max), align=styles.CENTER, fmt="0.##")
        crit = ws.cell(row, E, it.criteria)
        styles.style(crit)
        if it.note:
            crit.comment = Comment(f"说明：{it.note}", "rubric-xl", width=300, height=120)
        styles.style(ws.cell(row, F, it.evidence))
        styles.style(ws.cell(row, G), font=styles.RESULT, fill=styles.RESULT_FILL, align=styles.CENTER,
                     fmt=POINTS_FMT)
        styles.style(ws.cell(row, H), font=styles.RESULT, fill=styles.RESULT_FILL)
        texts[row] = {C: standard, E: it.criteria, H: explains[it.id]}
        styles.fit_row(ws, row, texts[row], WIDTHS)
        cat_runs.append((row, it.category))
        evidence_runs.append((row, f"{it.category}\0{it.evidence}"))
        points, explain = CellRef(SHEET, row, G), CellRef(SHEET, row, H)
        pn, en = names.item_points_name(it.id), names.item_explain_name(it.id)
        ctx.define(pn, points.absolute)
        ctx.define(en, explain.absolute)
        layout.items[it.id] = ItemLayout(it.id, row, cat_index[it.category], CellRef(SHEET, row, D),
                                         points, explain, pn, en, tuple(ci.facts))
        row += 1
    for col, runs, width in ((B, _merge_runs(ws, B, cat_runs), WIDTHS[B]),
                             (F, _merge_runs(ws, F, evidence_runs), WIDTHS[F])):
        for first, last in runs:  # a merged run's text gets the height it needs, spread over its rows
            _fit_run(ws, first, last, str(ws.cell(first, col).value or ""), width)

    row += 1  # a blank line, then the category block
    for col, text in ((A, ""), (B, "分类汇总"), (D, "分值"), (G, "得分"), (H, "说明")):
        styles.style(ws.cell(row, col, text), font=styles.BOLD, fill=styles.HEADER_FILL, align=styles.CENTER)
    for col in (C, E, F):
        styles.style(ws.cell(row, col), fill=styles.HEADER_FILL)
    ws.merge_cells(start_row=row, start_column=B, end_row=row, end_column=C)
    ws.merge_cells(start_row=row, start_column=D, end_row=row, end_column=F)
    row += 1
    for n, cat in enumerate(m.categories, start=1):
        ids = tuple(ci.id for ci in pack.items if ci.item.category == cat.name)
        span = f"第{ids[0]}–{ids[-1]}项" if len(ids) > 1 else (f"第{ids[0]}项" if ids else "")
        cap: object = "加分项" if cat.bonus_only else cat.cap
        points = _summary_row(ws, row, cat.name, cap, span)
        name = names.category_points_name(n)
        ctx.define(name, points.absolute)
        layout.categories.append(CategoryLayout(n, cat.name, row, CellRef(SHEET, row, D), points, name,
                                                cat.bonus_only, ids))
        row += 1
    total_max = m.total if m.total is not None else sum((c.cap for c in m.categories), 0)
    layout.total = _summary_row(ws, row, "总分", total_max, "各项得分合计（含加分，可超过满分）", bold=True)
    layout.total_max = CellRef(SHEET, row, D)
    ctx.define("total_points", layout.total.absolute)
    row += 1
    grades = m.settings.grades
    layout.grade = _summary_row(ws, row, "等次", None, grade_text(grades) if grades else "规则包未设等次",
                                fmt="General")
    ctx.define("grade", layout.grade.absolute)
    row += 1
    el = m.settings.eligibility
    cell = _summary_row(ws, row, el.label if el else "评选资格", None,
                        (el.basis or "") if el else "规则包未设评选资格", fmt="General")
    layout.eligible = cell if el else None
    ctx.define("eligible", cell.absolute)
    row += 1
    layout.provisional = _summary_row(ws, row, "是否暂定", None, "有“待填”或“有误”项目时，总分只计已完成的项目，为暂定分",
                                      fmt="General")
    ctx.define("provisional", layout.provisional.absolute)
    _mark_provisional(ws, layout)
    if grades:  # the note says what the grade would be once the total is final
        note = ws.cell(layout.grade.row, H)
        bands = grade_text(grades)
        note.value = (f'=IF(provisional="是",IF({STARTED_NAME},"有“待填”项目，等次暂定；按已填项目为"&grade&"。",'
                      f'"尚未开始填报，等次暂定。"),"")&{xl_text(bands)}')  # submission_started: formulas/_write
        styles.fit_row(ws, layout.grade.row, {H: "有“待填”项目，等次暂定；按已填项目为不合格。" + bands},
                       WIDTHS, sizes={H: 10})

    ws.freeze_panes = "A4"
    styles.print_setup(ws, title_rows="3:3", landscape=True, header=m.title)
    styles.protect(ws)
    return ws


def _mark_provisional(ws: Worksheet, layout) -> None:
    """While the total is provisional the total reads "暂定 12.50" and the
    grade and eligibility read 暂定, on amber instead of green (only the display
    changes: the values stay, for readers and the auditor)."""
    for ref, (fmt_id, fmt) in ((layout.total, PROVISIONAL_TOTAL_FMT), (layout.grade, PROVISIONAL_TEXT_FMT),
                               (layout.eligible, PROVISIONAL_TEXT_FMT)):
        if ref is None:
            continue
        rule = FormulaRule(formula=['provisional="是"'], stopIfTrue=True)
        rule.dxf = DifferentialStyle(fill=PROVISIONAL_FILL, numFmt=NumberFormat(numFmtId=fmt_id, formatCode=fmt))
        ws.conditional_formatting.add(ref.coord, rule)
    ws.conditional_formatting.add(layout.provisional.coord, FormulaRule(  # 是否暂定: 是 on amber too
        formula=['provisional="是"'], fill=PROVISIONAL_FILL, stopIfTrue=True))


def _summary_row(ws: Worksheet, row: int, label: str, cap, note: str, bold: bool = False,
                 fmt: str = POINTS_FMT) -> CellRef:
    font = styles.BOLD if bold else styles.BODY
    styles.style(ws.cell(row, A))
    ws.merge_cells(start_row=row, start_column=B, end_row=row, end_column=C)
    styles.style(ws.cell(row, B, label), font=font, align=styles.CENTER)
    styles.style(ws.cell(row, C))
    ws.merge_cells(start_row=row, start_column=D, end_row=row, end_column=F)
    styles.style(ws.cell(row, D, cap), font=font, align=styles.CENTER, fmt="0.##")
    for col in (E, F):
        styles.style(ws.cell(row, col))
    styles.style(ws.cell(row, G), font=styles.RESULT, fill=styles.RESULT_FILL, align=styles.CENTER, fmt=fmt)
    styles.style(ws.cell(row, H, note), font=styles.SMALL)
    styles.fit_row(ws, row, {B: label, H: note}, {B: WIDTHS[B] + WIDTHS[C], H: WIDTHS[H]})
    return CellRef(SHEET, row, G)

