"""The 填报说明 (instructions) and 基本信息 (who reports) sheets."""
from __future__ import annotations

from openpyxl.worksheet.worksheet import Worksheet

from . import inputs, styles
from .context import Ctx
from ..layout import CellRef
from ..conventions import SUMMARY_SHEET
from .meta import TEMPLATE_VERSION, generator
from .sheet_ledger import BLANK_PRINT_ROWS, ledger_sheets
from .text import chinese_number, grade_text, put

GUIDE_SHEET = "填报说明"
INFO_SHEET = "基本信息"
GUIDE_WIDTH = 84  # fits A4 portrait at 100 % in Excel and LibreOffice: nothing to shrink, nothing clipped


def create_guide_sheet(ctx: Ctx) -> Worksheet:
    """Create the sheet first (it comes first); its text is written last."""
    return ctx.wb.create_sheet(GUIDE_SHEET)


def _steps(ctx: Ctx, formulas: bool) -> list[str]:
    pack = ctx.pack
    rubric = pack.model.kind == "rubric"
    steps = ["先在“基本信息”工作表填写填报单位、填报人、联系电话和填报日期"
             + ("（填报单位已预先填好，不能修改）。" if ctx.unit else "。"),
             "在“填报”工作表的黄色单元格中逐项填写数据；“单位”和“填写说明”列给出要求，选中单元格时也会显示提示。"]
    kinds = {f.type for f in pack.model.facts} | {c.type for f in pack.model.facts for c in f.columns or []}
    if "bool" in kinds:
        steps.append("“是/否”类项目请从下拉列表选择“是”或“否”。")
    if "date" in kinds:
        steps.append(_date_step(ctx))
    if "percent" in kinds:
        steps.append("百分比填写 0–100 之间的数字，不带 % 号（如 93.5 表示 93.5%）。")
    if "enum" in kinds:
        steps.append("带下拉箭头的项目只能从列表中选择。")
    steps.append("输入不符合要求时 Excel/WPS 会拒绝并提示原因，请按提示改正。")
    if rubric:
        steps.append("除可留空的日期外，其他项目留空时，该项评分显示为“待填”，总分为暂定分。")
    else:
        sheets = ledger_sheets(pack)
        for sheet, tables in sheets:
            for t in tables:
                steps.append(f"在“{sheet}”工作表填写{t.label}：每行一条，从第3行开始，已预留{ctx.ledger_rows}行；"
                             "如不够用，请联系上级获取行数更多的模板。")
        shown = "、".join(f"“{sheet}”" for sheet, tables in sheets if tables)
        if shown:
            steps.append(f"{shown}的打印区域为已填写的行（空白模板为前{BLANK_PRINT_ROWS}行，可打印后手工填写）；"
                         "在表中直接增加行后，打印前请选中表头和所有已填写的行，"
                         "在“页面布局—打印区域—设置打印区域”中重新设置。")
    ledgers = "、".join(f"“{sheet}”" for sheet, _ in ledger_sheets(pack)) if not rubric else ""
    if formulas:
        target = "“评分”工作表" if rubric else f"{ledgers}的状态、错误、警告列和“汇总”工作表"
        steps.append(f"{target}由公式自动计算，打开文件后即可查看（如未更新，请按 F9 重新计算）。")
    else:
        target = "“评分”工作表的得分" if rubric else f"{ledgers}的状态、错误、警告列和“汇总”"
        steps.append(f"{target}由审核程序（rubric-xl）根据填报数据计算，本模板中不填写。")
    steps.append("各工作表已保护（无密码），只有黄色单元格可以填写；请勿删除、重命名或新增工作表，不要修改表格结构。")
    steps.append("请保存为 .xlsx 格式报送，文件名建议包含填报单位名称。")
    return steps


def _date_step(ctx: Ctx) -> str:
    pack, example = ctx.pack, ctx.date_example
    text = "日期按 YYYY-MM-DD 格式填写" + (f"（如 {example}）" if example else "")
    top = [f for f in pack.model.facts if f.type == "date" and f.blank_allowed]
    labels = sorted({f.blank_label or "未报" for f in top})
    if labels:
        text += "；注明" + "、".join(f"“留空表示{x}”" for x in labels) + "的日期可以留空"
    cols = [c for f in pack.model.facts for c in f.columns or []
            if c.type == "date" and (c.blank_allowed or not c.required)]
    if cols:
        text += ("；" if labels else "；台账中") + "、".join(
            f"{c.label}{'（' + c.blank_label + '）' if c.blank_label else ''}" for c in cols) + "可以留空"
    return text + "。"


def write_guide(ctx: Ctx, ws: Worksheet, formulas: bool) -> None:
    m = ctx.pack.model
    ws.column_dimensions["A"].width = GUIDE_WIDTH
    lines: list[tuple[str, object]] = [(m.title, styles.TITLE), ("填报说明", styles.BOLD), ("", None)]
    src = m.source
    issued = f"（{src.issued.isoformat()}）" if src.issued else ""
    lines += [(f"依据文件：{src.document}《{src.title}》{issued}" if src.title else f"依据文件：{src.document}", None),
              (f"规则包：{m.id}，版本 {m.version}；模板版本 {TEMPLATE_VERSION}（{generator()}）", None),
              (f"填报单位：{ctx.unit}" if ctx.unit else "填报单位：请在“基本信息”工作表填写", None),
              ("", None), ("一、填报方法", styles.BOLD)]
    lines += [(f"{i}. {s}", None) for i, s in enumerate(_steps(ctx, formulas), start=1)]
    section = 2

    def heading(text: str) -> None:
        nonlocal section
        lines.extend([("", None), (f"{chinese_number(section)}、{text}", styles.BOLD)])
        section += 1

    if m.notes:
        heading("评分说明")
        lines += [(f"{i}. {n}", None) for i, n in enumerate(m.notes, start=1)]
    if m.deadlines:
        heading("报送期限")
        for d in m.deadlines:
            note = f"（{d.note}）" if d.note else ""
            lines.append((f"{d.date.isoformat()}　{d.label}{note}", None))
    if m.checks:
        heading("报送检查")
        lines.append((f"以下情形在“{SUMMARY_SHEET}”工作表顶部的“提示”行显示：", None))
        lines += [(f"{i}. {'【错误】' if c.level == 'error' else '【提醒】'}{c.message}", None)
                  for i, c in enumerate(m.checks, start=1)]
    if m.settings.grades:
        heading("等次")
        lines.append((grade_text(m.settings.grades) + "。", None))
        el = m.settings.eligibility
        if el:
            lines.append((f"{el.label}：{'、'.join(el.grades)}可参评。{el.basis or ''}", None))
    if m.discrepancies:
        heading("原文件中的不一致及处理")
        lines += [(f"{i}. {d}", None) for i, d in enumerate(m.discrepancies, start=1)]
    for row, (text, font) in enumerate(lines, start=1):
        cell = ws.cell(row, 1, text or None)
        styles.style(cell, font=font or styles.BODY, border=False,
                     align=styles.CENTER if row == 1 else styles.WRAP)
        if text:
            size = 16 if row == 1 else 11
            styles.fit_row(ws, row, {1: text}, {1: GUIDE_WIDTH}, minimum=30 if row == 1 else 18, sizes={1: size})
    styles.print_setup(ws, header=m.title)
    styles.protect(ws)


INFO_ROWS = (("info_unit", "填报单位", "填写本单位全称"),
             ("info_filler", "填报人", "填报人姓名"),
             ("info_phone", "联系电话", "手机或固定电话（如 0351-1234567）"),
             ("info_date", "填报日期", "日期 YYYY-MM-DD"))


def build_info_sheet(ctx: Ctx) -> Worksheet:
    ws = ctx.wb.create_sheet(INFO_SHEET)
    widths = {1: 14, 2: 36, 3: 44}
    styles.set_widths(ws, widths)
    ws.merge_cells("A1:C1")
    styles.style(ws.cell(1, 1, "基本信息"), font=styles.TITLE, border=False, align=styles.CENTER)
    ws.row_dimensions[1].height = 30
    for col, text in enumerate(("项目", "填写内容", "说明"), start=1):
        styles.style(ws.cell(2, col, text), font=styles.BOLD, fill=styles.HEADER_FILL, align=styles.CENTER)
    for row, (name, label, hint) in enumerate(INFO_ROWS, start=3):
        styles.style(ws.cell(row, 1, label), font=styles.BOLD, align=styles.CENTER)
        cell = ws.cell(row, 2)
        ref = CellRef(INFO_SHEET, row, 2)
        fixed = name == "info_unit" and bool(ctx.unit)
        shared = ctx.unit_fact if name == "info_unit" else None
        if fixed:
            put(cell, ctx.unit)
            hint = "已由上级预先填写，不能修改"
            styles.style(cell, font=styles.BOLD, align=styles.LEFT, fmt="@")
        elif shared is not None:
            hint = "从下拉列表选择本单位"
            styles.style(cell, fill=styles.INPUT_FILL, locked=False, align=styles.LEFT, fmt="@")
            ctx.validate(ws, shared, ref.coord, owner=shared.id)
        else:
            fmt = "yyyy-mm-dd" if name == "info_date" else "@"
            styles.style(cell, fill=styles.INPUT_FILL, locked=False, align=styles.LEFT, fmt=fmt)
            dv = (ctx.date_error(inputs.date_validation(label, hint)) if name == "info_date"
                  else inputs.text_validation(label, hint, 30 if name == "info_phone" else 100))
            dv.add(cell.coordinate)
            ws.add_data_validation(dv)
        styles.style(ws.cell(row, 3, hint), font=styles.SMALL)
        styles.fit_row(ws, row, {3: hint}, widths, minimum=24, sizes={3: 10})
        ctx.layout.info[name] = ref
        ctx.define(name, ref.absolute)
        if shared is not None:  # the unit fact is this same cell (asked once)
            ctx.layout.inputs[shared.id] = ref
            ctx.define(shared.id, ref.absolute)
    m = ctx.pack.model
    row = 3 + len(INFO_ROWS) + 1
    for label, value in (("考核文件", m.title), ("规则包版本", f"{m.id} {m.version}")):
        styles.style(ws.cell(row, 1, label), font=styles.SMALL, align=styles.CENTER)
        styles.style(ws.cell(row, 2, value), font=styles.SMALL)
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
        styles.fit_row(ws, row, {2: value}, {2: widths[2] + widths[3]}, sizes={2: 10})
        row += 1
    styles.print_setup(ws, header=m.title)
    styles.protect(ws)
    return ws
