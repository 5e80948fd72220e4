"""The 核定表: a workbook per unit for auditors who work in Excel or WPS.

Generated from the store: every fact of the pack with the unit's 自评 value
(locked), a 核定值 column (validated from the pack like the submission
template), 理由 and 依据 columns.  A very hidden ``_meta`` sheet names the
campaign, the unit, the pack hash and the submission it was made for.  Read
back with the same reader and the same hostile-file handling as submissions:
the file is never written, a formula is never a value, and every problem
names the file and the cell.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Callable

from openpyxl import Workbook

from ..errors import FactsError, Problem, RubricError
from ..reader import open_workbook
from ..workbook import safe_filename, workbook_bytes
from ..workbook.fill import cell_value
from ..workbook.inputs import inline_list, validation
from ..workbook.styles import BOLD, HEADER_FILL, INPUT_FILL, TITLE, print_setup, protect, set_widths, style
from ..workbook.text import put
from .codec import decode_one
from .identity import name_unit
from .review import Change, corrections
from .state import derive
from .store import Campaign, NewEvent, Store, StoreError

SHEET, META, LISTS = "核定", "_meta", "_lists"
KIND = "rubric-xl-review-sheet"
HEAD_ROW, FIRST_ROW = 4, 5
COLS = {"id": 1, "label": 2, "items": 3, "self": 4, "value": 5, "reason": 6, "evidence": 7}
HEADERS = ("事实编号", "核定内容", "所属项目", "自评值", "核定值", "理由", "依据")
MAX_ROWS = 2000  # bounded work per file: a pack has at most a few hundred facts


def _items_of(pack) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {}
    for ci in pack.items:
        for fid in ci.facts:
            users.setdefault(fid, []).append(ci.id)
    return users


def sheet_bytes(campaign: Campaign, unit: str, submission) -> bytes:
    pack = campaign.pack()
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    # column A (the fact ids the import reads) is hidden: the title starts in B
    put(ws.cell(1, 2), f"核定表：{unit}（{campaign.period}）").font = TITLE
    put(ws.cell(2, 2), f"规则包 {pack.id} 版本 {pack.version}（校验码 {pack.short_hash}）；自评文件 "
                       f"{submission.payload.get('file')}（第{submission.seq}号上报）。只填写需要更正的行：核定值、理由（必填）和依据。")
    for j, h in enumerate(HEADERS, start=1):
        style(put(ws.cell(HEAD_ROW, j), h), font=BOLD, fill=HEADER_FILL)
    users = _items_of(pack)
    stored = submission.payload.get("facts", {})
    lists = None
    row = FIRST_ROW
    for f in pack.model.facts:
        if f.type == "table":
            continue
        vals = {"id": f.id, "label": f.label, "items": "、".join(users.get(f.id, [])),
                "self": cell_value(f, decode_one(f, stored.get(f.id)))}
        for key, col in COLS.items():
            cell = ws.cell(row, col)
            if key in vals:
                put(cell, vals[key])
            editable = key in ("value", "reason", "evidence")
            style(cell, locked=not editable, fill=INPUT_FILL if editable else None,
                  fmt="yyyy-mm-dd" if f.type == "date" and key in ("self", "value") else None)
        ref = None
        if f.type == "enum" and inline_list(f.options or []) is None:
            lists = lists or wb.create_sheet(LISTS)
            col = lists.max_column + (1 if lists.max_row > 1 or lists.cell(1, 1).value else 0)
            for i, opt in enumerate(f.options or [], start=1):
                put(lists.cell(i, col), opt)
            from openpyxl.utils import get_column_letter
            letter = get_column_letter(col)
            ref = f"'{LISTS}'!${letter}$1:${letter}${len(f.options or [])}"
        dv = validation(f, ref)
        ws.add_data_validation(dv)
        dv.add(ws.cell(row, COLS["value"]).coordinate)
        row += 1
    set_widths(ws, {1: 14, 2: 44, 3: 10, 4: 14, 5: 14, 6: 30, 7: 24})
    ws.column_dimensions["A"].hidden = True
    ws.freeze_panes = ws.cell(FIRST_ROW, 3)
    protect(ws)
    print_setup(ws, f"{HEAD_ROW}:{HEAD_ROW}", landscape=True)
    meta = wb.create_sheet(META)
    for i, (k, v) in enumerate((("kind", KIND), ("period", campaign.period), ("unit", unit),
                                ("pack_id", pack.id), ("pack_hash", pack.hash),
                                ("submission", str(submission.seq)),
                                ("submission_sha256", submission.payload.get("sha256", ""))), start=1):
        put(meta.cell(i, 1), k)
        put(meta.cell(i, 2), v)
    meta.sheet_state = "veryHidden"
    protect(meta)
    if lists is not None:
        lists.sheet_state = "veryHidden"
    return workbook_bytes(wb)


def write_sheets(store: Store, campaign: Campaign, units: list[str] | None, out_dir: str,
                 write: Callable[[Path, bytes], None]) -> list[dict]:
    """One 核定表 per unit (default: every unit with a submission) into *out_dir*; *write*
    writes one file atomically (the CLI passes its ``write_atomic``)."""
    state = derive(campaign, store.events(campaign))
    names = units or [u.unit for u in state.units.values() if u.submission]
    problems = [Problem(u, f"不在本次考核的单位名单中（{'、'.join(campaign.units)}）") for u in names if u not in state.units]
    problems += [Problem(u, "该单位尚无可核定的上报") for u in names if u in state.units and not state.units[u].submission]
    if problems:
        raise StoreError("无法生成核定表", problems)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise StoreError("输出位置应为目录", [Problem(str(out), "这是一个文件")])
    paths = {name: out / (safe_filename(f"核定表_{campaign.period}_{name}") + ".xlsx") for name in names}
    there = [Problem(str(p), "文件已存在（可能已填写），不会覆盖；请换一个输出目录或先移走此文件")
             for p in paths.values() if p.exists()]
    if there:
        raise StoreError("核定表已存在", there)
    files = []
    for name in names:
        u = state.units[name]
        path = paths[name]
        write(path, sheet_bytes(campaign, name, u.submission))
        files.append({"unit": name, "file": str(path)})
    return files


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_sheet(campaign: Campaign, path: str) -> tuple[str, int, list[Change]]:
    """(unit, submission seq, changes) of a filled 核定表.  Raises RubricError naming the file and cell."""
    shown = Path(path).name
    book = open_workbook(path, shown, (SHEET,))

    def fail(msg: str, loc: str = "") -> RubricError:
        return FactsError(f"核定表有误：{shown}", [Problem(f"{shown} {loc}".strip(), msg)])

    if book.sheet(META) is None or book.sheet(SHEET) is None:
        raise fail("不是由 rubric-xl campaign review-sheet 生成的核定表（缺少“核定”或 _meta 工作表）")
    meta = {_text(r[0]): _text(r[1]) for r in book.grid(META) if len(r) >= 2}
    if meta.get("kind") != KIND:
        raise fail("不是核定表（_meta 中没有核定表标记）", META)
    if meta.get("period") != campaign.period:
        raise fail(f"此核定表属于考核期次“{meta.get('period')}”，不是“{campaign.period}”", META)
    if meta.get("pack_hash") != campaign.pack_hash:
        raise fail("此核定表的规则包与本次考核保存的规则包不同", META)
    unit = meta.get("unit", "")
    if unit not in campaign.units:
        raise fail(f"单位“{unit}”不在本次考核的单位名单中", META)
    by_name = name_unit(shown, campaign.units)
    if by_name and by_name != unit:
        raise fail(f"文件名表明是“{by_name}”的核定表，但表内单位为“{unit}”；请核实")
    try:
        seq = int(meta.get("submission", ""))
    except ValueError:
        raise fail("_meta 中的上报编号无效", META) from None
    pack = campaign.pack()
    grid = book.grid(SHEET)
    if len(grid) > MAX_ROWS:
        raise fail(f"行数过多（{len(grid)} 行），不是核定表")
    formulas = book.formula_cells(SHEET)
    changes, problems = [], []
    seen: set[str] = set()
    for r in range(FIRST_ROW, len(grid) + 1):
        row = grid[r - 1]
        cells = {k: (row[c - 1] if c - 1 < len(row) else None) for k, c in COLS.items()}
        filled = [k for k in ("value", "reason", "evidence") if _text(cells[k])]
        bad = [k for k in ("value", "reason", "evidence") if (r, COLS[k]) in formulas]
        fid = _text(cells["id"])
        loc = f"{SHEET}!E{r}"
        if bad:
            problems.append(Problem(f"{shown} {SHEET}!{'EFG'[COLS[bad[0]] - 5]}{r}",
                                    "单元格中是公式，公式不作为核定内容；请直接填写"))
            continue
        if not filled:
            continue
        if fid not in pack.facts or pack.facts[fid].type == "table":
            problems.append(Problem(f"{shown} {SHEET}!A{r}", f"第{r}行的事实编号“{fid}”不在规则包中（核定表被改动？）"))
            continue
        if fid in seen:
            problems.append(Problem(f"{shown} {SHEET}!A{r}", f"事实 {fid} 重复出现"))
            continue
        seen.add(fid)
        value = cells["value"]
        if isinstance(value, _dt.datetime) and value.time() == _dt.time(0):
            value = value.date()
        if not _text(value):
            problems.append(Problem(f"{shown} {loc}", f"{pack.facts[fid].label}：填写了理由或依据，但核定值为空"))
            continue
        changes.append(Change(fid, value, _text(cells["reason"]), _text(cells["evidence"]), f"{shown} {loc}"))
    if problems:
        raise FactsError(f"核定表有误：{shown}", problems)
    return unit, seq, changes


def import_sheets(store: Store, campaign: Campaign, paths: list[str], reviewer: str) -> tuple[list[dict], list[Problem]]:
    """Import every filled 核定表; a bad file is reported and the others still import."""
    done: list[dict] = []
    problems: list[Problem] = []
    for path in paths:
        shown = Path(path).name
        try:
            unit, seq, changes = read_sheet(campaign, path)
            state = derive(campaign, store.events(campaign))
            u = state.units[unit]
            if u.submission is None or u.submission.seq != seq:
                now = u.submission.seq if u.submission else "无"
                raise StoreError("核定表已过期", [Problem(shown, f"此核定表针对第{seq}号上报生成，{unit} 当前的上报为第{now}号；"
                                                             "请重新生成核定表")])
            stored = u.submission.payload.get("facts", {})
            checked = [c for c in corrections(campaign.pack(), u, changes)
                       if c["value"] != stored.get(c["fact"])]  # a 核定值 equal to the 自评值 changes nothing
            if checked:
                store.append(campaign, [NewEvent("review", unit, {"submission": seq, "corrections": checked,
                                                                  "source": f"核定表 {shown}"}, reviewer)])
            done.append({"file": shown, "unit": unit, "corrections": len(checked)})
        except RubricError as exc:
            problems += exc.problems or [Problem(shown, exc.message)]
    return done, problems


__all__ = ["sheet_bytes", "write_sheets", "read_sheet", "import_sheets"]
