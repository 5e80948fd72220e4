"""Batch reports: JSON (a list), CSV (one row per workbook), xlsx (ranking,
item points, problems, charts).  Text destined for spreadsheets is guarded
against formula injection."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

from ..engine import num
from ..engine.card import LedgerCard, PackInfo, Rollup, ScoreCard, dumps, to_dict
from ..sheettext import report_text, safe_text  # noqa: F401  (safe_text re-exported)
from ._one import STATUS_TEXT, FileResult

LEVEL_TEXT = {"error": "错误", "warning": "警告"}


def _short_loc(r: FileResult, loc: str) -> str:
    """``填报!D12`` for ``file.xlsx 填报!D12``: the file has its own column."""
    if loc.startswith(r.file):
        return loc[len(r.file):].lstrip(" :") or loc
    return loc


def problem_lines(r: FileResult) -> list[str]:
    return [f"[{LEVEL_TEXT.get(p.level, p.level)}] {_short_loc(r, p.loc)}：{p.msg}" for p in r.problems]


# --- ledger roll-ups across files -------------------------------------------


@dataclass
class Combined:
    """The roll-ups of several ledger submissions of one pack (e.g. the city)."""

    info: PackInfo
    files: list[str]
    rollups: list[Rollup]
    labels: dict[str, str]  # metric id -> label

    def to_dict(self) -> dict:
        card = LedgerCard(self.info, {}, [], self.rollups, self.labels)
        d = to_dict(card)
        return {"kind": "ledger_combined", "pack": d["pack"], "files": self.files,
                "rollups": d["rollups"], "metrics": d["metrics"]}


# --- JSON ---------------------------------------------------------------------


def batch_counts(results: list[FileResult]) -> dict[str, int]:
    """files, scored, provisional, failed, with_errors (scored files with errors)."""
    scored = [r for r in results if r.card is not None]
    return {"files": len(results), "scored": len(scored),
            "provisional": sum(1 for r in scored if getattr(r.card, "provisional", False)),
            "failed": len(results) - len(scored),
            "with_errors": sum(1 for r in scored if r.errors)}


def _json_list(parts: list[str], indent: str) -> str:
    if not parts:
        return "[]"
    inner = ",\n".join(indent + "  " + p.replace("\n", "\n" + indent + "  ") for p in parts)
    return "[\n" + inner + "\n" + indent + "]"


def json_text(results: list[FileResult], combined: list[Combined]) -> str:
    """One object, whatever the number of workbooks (docs/audit.md "Results")::

        {"kind": "batch", "summary": {files, scored, provisional, failed, with_errors},
         "files": [one object per workbook, in input order],
         "combined": [one ``ledger_combined`` object per ledger pack]}

    The same text as ``dumps({...})``, assembled from each workbook's own text."""
    files = [r.encoded or dumps(r.to_dict()) for r in results]
    both = [dumps(c.to_dict()) for c in combined]
    summary = dumps(batch_counts(results)).replace("\n", "\n  ")
    return ('{\n  "kind": "batch",\n  "summary": ' + summary + ',\n  "files": ' + _json_list(files, "  ")
            + ',\n  "combined": ' + _json_list(both, "  ") + "\n}")


# --- CSV ------------------------------------------------------------------------


def _amount(d: Decimal | None) -> str:
    return "" if d is None else num.amount(d)


def _yes(b: bool | None) -> str:
    return "" if b is None else ("是" if b else "否")


def _categories(results: Iterable[FileResult]) -> list[str]:
    names: list[str] = []
    for r in results:
        if isinstance(r.card, ScoreCard):
            for c in r.card.categories:
                if c.name not in names:
                    names.append(c.name)
    return names


def _packs(results: Iterable[FileResult]) -> list[str]:
    return sorted({r.card.pack.id for r in results if r.card is not None})


def csv_text(results: list[FileResult]) -> str:
    """One row per workbook, UTF-8 with BOM so Excel opens it in Chinese."""
    rubric = any(isinstance(r.card, ScoreCard) for r in results) or not any(
        isinstance(r.card, LedgerCard) for r in results)
    ledger = any(isinstance(r.card, LedgerCard) for r in results)
    cats = _categories(results)
    several = len(_packs(results)) > 1
    head = ["文件", "单位"] + (["规则包"] if several else [])
    if rubric:
        head += ["总分", "等次", "评选资格", "暂定"] + cats
    if ledger:
        head += ["台账条数", "错误数", "警告数"]
    head += ["状态", "问题"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([safe_text(h) for h in head])
    for r in results:
        row: list[Any] = [safe_text(r.file), safe_text(r.unit or "")]
        if several:
            row.append(r.card.pack.id if r.card else "")
        card = r.card
        if rubric:
            if isinstance(card, ScoreCard):
                pts = {c.name: c.points for c in card.categories}
                row += [_amount(card.total), safe_text(card.grade or ""), _yes(card.eligible),
                        _yes(card.provisional)] + [_amount(pts.get(c)) for c in cats]
            else:
                row += [""] * (4 + len(cats))
        if ledger:
            if isinstance(card, LedgerCard):
                row += [str(len(card.rows)), str(card.error_count), str(card.warning_count)]
            else:
                row += ["", "", ""]
        row += [STATUS_TEXT[r.status], safe_text("\n".join(problem_lines(r)))]
        w.writerow(row)
    return "\ufeff" + buf.getvalue()


# --- xlsx -------------------------------------------------------------------------


def _unit_label(r: FileResult) -> str:
    if r.unit:
        return r.unit
    return r.file.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _put(ws, row: int, col: int, value: Any, fmt: str | None = None):
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = report_text(value)  # no character an xlsx cannot hold (a pasted vertical tab)
        cell.data_type = "s"  # never a formula, whatever the text starts with
    else:
        cell.value = value
        if fmt:
            cell.number_format = fmt
    return cell


def _header(ws, values: list[str]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    fill = PatternFill("solid", fgColor="DDEBF7")
    for j, v in enumerate(values, start=1):
        c = _put(ws, 1, j, v)
        c.font = Font(bold=True)
        c.fill = fill
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = "A2"


def _widths(ws, widths: dict[int, float]) -> None:
    from openpyxl.utils import get_column_letter

    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = w


def ranked(results: list[FileResult]) -> list[tuple[int, FileResult]]:
    """Rubric results by pack, then total, highest first; ties share a rank (1, 2, 2, 4)."""
    scored = [r for r in results if isinstance(r.card, ScoreCard)]
    scored.sort(key=lambda r: (r.card.pack.id, -r.card.total))  # type: ignore[union-attr]
    out: list[tuple[int, FileResult]] = []
    start = 0
    for i, r in enumerate(scored):
        prev = scored[i - 1].card if i else None
        if prev is not None and prev.pack.id != r.card.pack.id:  # type: ignore[union-attr]
            start = i
        if i > start and prev.total == r.card.total:  # type: ignore[union-attr]
            rank = out[-1][0]
        else:
            rank = i - start + 1
        out.append((rank, r))
    return out


def _ranking_sheet(wb, results: list[FileResult]) -> None:
    from openpyxl.chart import BarChart, Reference

    ws = wb.active
    ws.title = "排名"
    cats = _categories(results)
    several = len(_packs(results)) > 1
    head = ["名次", "单位", "文件"] + (["规则包"] if several else []) + \
        ["总分", "等次", "评选资格", "暂定", "状态"] + cats
    _header(ws, head)
    total_col = head.index("总分") + 1
    first_cat = len(head) - len(cats) + 1
    rows = ranked(results)
    for i, (rank, r) in enumerate(rows, start=2):
        card: ScoreCard = r.card  # type: ignore[assignment]
        vals: list[Any] = [rank, _unit_label(r), r.file] + ([card.pack.id] if several else [])
        vals += [card.total, card.grade or "", _yes(card.eligible), _yes(card.provisional),
                 STATUS_TEXT[r.status]]
        pts = {c.name: c.points for c in card.categories}
        vals += [pts.get(c) for c in cats]
        for j, v in enumerate(vals, start=1):
            _put(ws, i, j, v, "0.00" if isinstance(v, Decimal) else None)
    n = len(rows)
    for k, r in enumerate([r for r in results if r.card is None], start=n + 2):
        for j, v in enumerate(["", _unit_label(r), r.file], start=1):
            _put(ws, k, j, v)
        _put(ws, k, head.index("状态") + 1, STATUS_TEXT["failed"])
    _widths(ws, {1: 6, 2: 18, 3: 30, total_col: 9})
    if not n:
        return
    units = Reference(ws, min_col=2, min_row=2, max_row=n + 1)
    bar = BarChart()
    bar.type = "col"
    bar.title = "各单位总分"
    bar.y_axis.title = "总分"
    bar.add_data(Reference(ws, min_col=total_col, min_row=1, max_row=n + 1), titles_from_data=True)
    bar.set_categories(units)
    bar.legend = None
    bar.width, bar.height = max(16, n * 0.8), 9
    anchor = ws.cell(row=2, column=len(head) + 2).coordinate
    ws.add_chart(bar, anchor)
    if cats:
        stack = BarChart()
        stack.type = "col"
        stack.grouping = "stacked"
        stack.overlap = 100
        stack.title = "各单位分类得分"
        stack.add_data(Reference(ws, min_col=first_cat, max_col=first_cat + len(cats) - 1,
                                 min_row=1, max_row=n + 1), titles_from_data=True)
        stack.set_categories(units)
        stack.width, stack.height = max(16, n * 0.8), 10
        ws.add_chart(stack, ws.cell(row=22, column=len(head) + 2).coordinate)


def _items_sheet(wb, results: list[FileResult]) -> None:
    ws = wb.create_sheet("各项得分")
    scored = [r for _, r in ranked(results)]
    several = len(_packs(results)) > 1
    head = (["规则包"] if several else []) + ["序号", "考核内容", "分值"] + [_unit_label(r) for r in scored]
    _header(ws, head)
    keys: list[tuple[str, str]] = []
    meta: dict[tuple[str, str], tuple[str, Decimal]] = {}
    points: dict[tuple[str, str], dict[int, Decimal | None]] = {}
    for j, r in enumerate(scored):
        for it in r.card.items:  # type: ignore[union-attr]
            key = (r.card.pack.id, it.id)  # type: ignore[union-attr]
            if key not in meta:
                keys.append(key)
                meta[key] = (it.title, it.max)
            points.setdefault(key, {})[j] = it.points
    base = len(head) - len(scored)
    for i, key in enumerate(keys, start=2):
        title, mx = meta[key]
        lead: list[Any] = ([key[0]] if several else []) + [key[1], title, mx]
        for j, v in enumerate(lead, start=1):
            _put(ws, i, j, v, "0.00" if isinstance(v, Decimal) else None)
        for j in range(len(scored)):
            if j in points[key]:
                v = points[key][j]
                _put(ws, i, base + j + 1, "待填" if v is None else v, "0.00")
    _widths(ws, {base - 1: 40})


def _problems_sheet(wb, results: list[FileResult]) -> None:
    ws = wb.create_sheet("问题清单")
    _header(ws, ["文件", "单位", "位置", "问题", "级别"])
    i = 2
    for r in results:
        for p in r.problems:
            for j, v in enumerate([r.file, r.unit or "", _short_loc(r, p.loc), p.msg,
                                   LEVEL_TEXT.get(p.level, p.level)], start=1):
                _put(ws, i, j, v)
            i += 1
    _widths(ws, {1: 30, 2: 16, 3: 18, 4: 80, 5: 8})


def _metric_value(v: Any) -> Any:
    if isinstance(v, bool):
        return "是" if v else "否"
    return "—" if v is None else v


def _ledger_sheets(wb, results: list[FileResult], combined: list[Combined]) -> None:
    ledgers = [r for r in results if isinstance(r.card, LedgerCard)]
    if not ledgers:
        return
    ws = wb.create_sheet("台账情况")
    _header(ws, ["文件", "单位", "台账条数", "错误数", "警告数", "状态"])
    for i, r in enumerate(ledgers, start=2):
        card: LedgerCard = r.card  # type: ignore[assignment]
        for j, v in enumerate([r.file, _unit_label(r), len(card.rows), card.error_count,
                               card.warning_count, STATUS_TEXT[r.status]], start=1):
            _put(ws, i, j, v)
    _widths(ws, {1: 30, 2: 16})
    for c in combined:
        ws = wb.create_sheet("台账汇总" if len(combined) == 1 else f"台账汇总-{c.info.id}"[:31])
        row = 1
        for ru in c.rollups:
            _put(ws, row, 1, ru.label).font = _bold()
            row += 1
            for j, v in enumerate(["分组"] + list(c.labels.values()), start=1):
                _put(ws, row, j, v).font = _bold()
            row += 1
            lines = list(ru.groups.items())
            if ru.total is not None:
                lines.append((ru.total_label or "合计", ru.total))
            for key, vals in lines:
                _put(ws, row, 1, key or "（空）")
                for j, mid in enumerate(c.labels, start=2):
                    v = _metric_value(vals.get(mid))
                    _put(ws, row, j, v, "0.00" if isinstance(v, Decimal) and v != v.to_integral_value() else None)
                row += 1
            row += 1
        _widths(ws, {1: 22})


def _bold():
    from openpyxl.styles import Font

    return Font(bold=True)


def xlsx_bytes(results: list[FileResult], combined: list[Combined]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    _ranking_sheet(wb, results)
    _items_sheet(wb, results)
    _problems_sheet(wb, results)
    _ledger_sheets(wb, results, combined)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
