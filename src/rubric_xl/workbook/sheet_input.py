"""The 填报 sheet: one input cell per non-table fact, grouped by category and item.

A fact read by several items is listed once, under its first item; its 备注 names
the other items, and an item whose facts were all listed earlier gets a line
saying where they are.  Each input cell is the defined name of its fact id.
"""
from __future__ import annotations

from openpyxl.formatting.rule import FormulaRule
from openpyxl.worksheet.worksheet import Worksheet

from ..rules.model import Fact
from . import inputs, styles
from .context import Ctx
from ..layout import CellRef
from .._decimal import plain
from .text import chinese_number, put

SHEET = "填报"
COLS = {"seq": 1, "label": 2, "unit": 3, "value": 4, "hint": 5, "note": 6}
WIDTHS = {1: 6, 2: 46, 3: 8, 4: 18, 5: 42, 6: 24}
HEADERS = ("序号", "填报内容", "单位", "填报值", "填写说明", "备注（可填写，不影响评分）")
COSTS = {"是": "注意：选“是”会扣分（反向问题）", "否": "选“否”会扣分"}
FIRST_ROW = 4

def costly_answers(pack) -> dict[str, str]:
    """Yes/no fact id → the answer that costs points (``"是"`` or ``"否"``), from
    the zeroing, deduction and bonus conditions (derived values followed): a fact
    named without negation in a zeroing or deduction condition costs on 是, a
    negated one on 否; bonus conditions the other way round.  A fact used both
    ways, or only inside comparisons, is left out."""
    derived = {d.id: node for d, node in pack.derived}
    bools = {f.id for f in pack.model.facts if f.type == "bool"}
    signs: dict[str, set[int]] = {}

    def walk(node, sign: int, seen: frozenset) -> None:
        if node.kind == "name":
            if node.value in bools:
                signs.setdefault(node.value, set()).add(sign)
            elif node.value in derived and node.value not in seen:
                walk(derived[node.value], sign, seen | {node.value})
        elif node.kind == "not":
            walk(node.args[0], -sign, seen)
        elif node.kind in ("and", "or"):
            for a in node.args:
                walk(a, sign, seen)

    for ci in pack.items:
        for node, _ in ci.zero_if:
            walk(node, 1, frozenset())
        for r in ci.rules:
            when = r.nodes.get("when")
            if when is not None:
                walk(when, 1 if r.role == "deduction" else -1, frozenset())
    return {f: ("是" if s == {1} else "否") for f, s in signs.items() if len(s) == 1}


Groups = list[tuple[str, list[tuple[str | None, list[str], str]]]]


def _groups(ctx: Ctx) -> tuple[Groups, dict[str, list[str]]]:
    """([(section title, [(item heading | None, fact ids, note), …]), …],
    fact id → ids of the items reading it)."""
    pack = ctx.pack
    asked = ctx.unit_fact.id if ctx.unit_fact else None  # on 基本信息
    top = [f.id for f in pack.model.facts if f.type != "table" and f.id != asked]
    if pack.model.kind != "rubric":
        tables = [f for f in pack.model.facts if f.type == "table"]
        notes = [f"{t.label}请在“台账”工作表中填写，每行一条" for t in tables]
        if asked:
            notes.insert(0, f"{pack.facts[asked].label}在“基本信息”工作表填写")
        return [("一、基本数据", [(None, top, "；".join(notes))])], {}
    users: dict[str, list[str]] = {}
    for ci in pack.items:
        for fid in ci.facts:
            users.setdefault(fid, []).append(ci.id)
    placed: set[str] = set()
    order = [ci.id for ci in pack.items]
    out = []
    n = 0
    for cat in pack.model.categories:
        entries = []
        for ci in pack.items:
            if ci.item.category != cat.name:
                continue
            it = ci.item
            worth = "加分项" if cat.bonus_only and it.max == 0 else f"{plain(it.max)}分"
            heading = f"第{it.id}项　{it.title}（{worth}）"
            new = [f for f in ci.facts if f not in placed and f != asked]
            earlier = [f for f in ci.facts if f in placed]
            placed.update(new)
            note = ""
            if earlier:
                where = sorted({users[f][0] for f in earlier}, key=order.index)
                labels = "、".join(pack.facts[f].label for f in earlier)
                note = f"本项{'另' if new else ''}使用第{'、'.join(where)}项已填报的数据：{labels}"
            if asked in ci.facts:
                note = "；".join(x for x in (note, f"{pack.facts[asked].label}在“基本信息”工作表填写") if x)
            entries.append((heading, new, note))
        if entries:
            n += 1
            worth = "加分项" if cat.bonus_only else f"{plain(cat.cap)}分"
            out.append((f"{chinese_number(n)}、{cat.name}（{worth}）", entries))
    rest = [f for f in top if f not in placed]
    if rest:
        n += 1
        out.append((f"{chinese_number(n)}、其他数据", [(None, rest, "")]))
    return out, users


def build_input_sheet(ctx: Ctx) -> Worksheet:
    wb, pack, layout = ctx.wb, ctx.pack, ctx.layout
    ws = wb.create_sheet(SHEET)
    styles.set_widths(ws, WIDTHS)
    last = len(WIDTHS)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    styles.style(ws.cell(1, 1, f"{pack.model.title}——数据填报"), font=styles.TITLE, border=False, align=styles.CENTER)
    ws.row_dimensions[1].height = 30
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last)
    note = "黄色单元格为填报项，其余单元格已锁定；选中填报单元格可看到填写要求。"
    if pack.model.kind == "rubric":
        blanks = sorted({f.blank_label or "未报" for f in pack.model.facts if f.type == "date" and f.blank_allowed})
        unless = "、".join(f"“留空表示{b}”" for b in blanks)
        note += (f"除注明{unless}的日期外，" if unless else "") + "留空的项目评分时显示为“待填”。"
        costly = costly_answers(pack)
        if "是" in costly.values():
            note += "“是/否”题大多选“是”得分，但注明“选‘是’会扣分”的反向问题（红字）选“是”扣分，请逐题核对。"
    else:
        note += "、".join(f.label for f in pack.model.facts if f.type == "table") + "在“台账”工作表填写。"
    styles.style(ws.cell(2, 1, note), font=styles.SUBTITLE, border=False)
    styles.fit_row(ws, 2, {1: note}, {1: sum(WIDTHS.values())})
    for col, text in enumerate(HEADERS, start=1):
        styles.style(ws.cell(3, col, text), font=styles.BOLD, fill=styles.HEADER_FILL, align=styles.CENTER)
    ws.row_dimensions[3].height = 22
    row, seq = FIRST_ROW, 0
    groups, users = _groups(ctx)
    costly = costly_answers(pack) if pack.model.kind == "rubric" else {}
    for section, entries in groups:
        _band(ws, row, section, styles.BOLD, styles.SECTION_FILL)
        row += 1
        for heading, fids, note in entries:
            if heading:
                _band(ws, row, heading, styles.BODY, styles.ITEM_FILL)
                row += 1
            for fid in fids:
                seq += 1
                others = users.get(fid, [])[1:]
                remark = f"同时用于第{'、'.join(others)}项" if others else ""
                _fact_row(ctx, ws, row, seq, pack.facts[fid], remark, costly.get(fid))
                row += 1
            if note:
                ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=last)
                styles.style(ws.cell(row, 1), border=True)
                styles.style(ws.cell(row, 2, note), font=styles.SMALL)
                styles.fit_row(ws, row, {2: note}, {2: sum(WIDTHS.values()) - WIDTHS[1]})
                row += 1
    ws.freeze_panes = "A4"
    styles.print_setup(ws, title_rows="3:3", landscape=True, header=pack.model.title)
    styles.protect(ws)
    layout.input_sheet = SHEET
    return ws


def _band(ws: Worksheet, row: int, text: str, font, fill) -> None:
    last = len(WIDTHS)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
    styles.style(ws.cell(row, 1, text), font=font, fill=fill, align=styles.LEFT)
    for col in range(2, last + 1):
        styles.style(ws.cell(row, col), fill=fill)
    ws.row_dimensions[row].height = 20


def _fact_row(ctx: Ctx, ws: Worksheet, row: int, seq: int, f: Fact, remark: str,
              costly: str | None = None) -> None:
    """One input row; *costly* is the yes/no answer that costs points, if any."""
    hint = inputs.type_hint(f)
    if costly:
        hint = f"{hint}。{COSTS[costly]}"
    styles.style(ws.cell(row, COLS["seq"], seq), align=styles.CENTER)
    styles.style(ws.cell(row, COLS["label"], f.label))
    styles.style(ws.cell(row, COLS["unit"], f.unit or ""), align=styles.CENTER)
    cell = ws.cell(row, COLS["value"])
    styles.style(cell, fill=styles.INPUT_FILL, locked=False, align=styles.LEFT, fmt=inputs.FORMATS[f.type])
    if f.id in ctx.prefill:
        put(cell, ctx.prefill[f.id])
    styles.style(ws.cell(row, COLS["hint"], hint), font=styles.WARN if costly == "是" else styles.SMALL)
    # 备注 is the unit's own remark: editable, never read by any score
    styles.style(ws.cell(row, COLS["note"], remark), font=styles.SMALL, locked=False)
    styles.fit_row(ws, row, {2: f.label, 5: hint, 6: remark}, WIDTHS, sizes={5: 10, 6: 10})
    ref = CellRef(SHEET, row, COLS["value"])
    ctx.layout.inputs[f.id] = ref
    ctx.define(f.id, ref.absolute)
    dv = ctx.validate(ws, f, ref.coord, owner=f.id)
    if costly == "是":
        dv.prompt = f"{COSTS[costly]}。{dv.prompt or ''}"[:250]
        # a 是 typed out of habit turns the cell red at once
        ws.conditional_formatting.add(ref.coord, FormulaRule(
            formula=[f'{ref.column}{ref.row}="是"'], fill=styles.COSTLY_FILL, font=styles.COSTLY_FONT))
