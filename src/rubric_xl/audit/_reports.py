"""Batch reports: JSON (a list), CSV (one row per workbook), xlsx (ranking,
item points, problems, charts).  Text destined for spreadsheets is guarded
against formula injection."""
from __future__ import annotations

import csv
import datetime as _dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from .._print import page_setup, row_height, text_units
from ..engine import num
from ..engine.card import LedgerCard, PackInfo, Rollup, ScoreCard, TableResult, dumps, to_dict
from ..rules.wording import points_state
from ..sheettext import report_text, safe_text  # noqa: F401  (safe_text re-exported)
from ._one import STATUS_TEXT, FileResult
from ._terminal import flagged_lines, marks, rank_text, shown

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
class CombinedTable:
    """One table's roll-ups over several submissions."""

    table: str
    label: str
    rollups: list[Rollup]
    labels: dict[str, str]  # metric id -> label
    flags: dict[str, str] = field(default_factory=dict)  # grouping label -> label of its flag metric


@dataclass
class Combined:
    """The roll-ups of several ledger submissions of one pack (e.g. the city).
    ``rollups`` / ``labels`` are the first table's; ``more`` the further
    tables' of a pack with several (pack order)."""

    info: PackInfo
    files: list[str]
    rollups: list[Rollup]
    labels: dict[str, str]  # metric id -> label
    table: str = ""
    label: str = ""
    more: list[CombinedTable] = field(default_factory=list)
    flags: dict[str, str] = field(default_factory=dict)  # grouping label -> label of its flag metric

    @property
    def tables(self) -> list[CombinedTable]:
        return [CombinedTable(self.table, self.label, self.rollups, self.labels, self.flags), *self.more]

    def to_dict(self) -> dict:
        card = LedgerCard(self.info, {}, [], self.rollups, self.labels, self.table, self.label,
                          [TableResult(t.table, t.label, [], t.rollups, t.labels) for t in self.more])
        d = to_dict(card)
        out = {"kind": "ledger_combined", "pack": d["pack"], "files": self.files,
               "rollups": d["rollups"], "metrics": d["metrics"]}
        if self.more:  # every table, pack order (the first one also above)
            out["tables"] = [{k: t[k] for k in ("table", "label", "rollups", "metrics")} for t in d["tables"]]
        return out


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


def file_json(result: FileResult) -> str:
    """One workbook's object in the batch JSON: on one line (``dumps(…, indent=None)``)."""
    return dumps(result.to_dict(), indent=None)


def file_json_tail(result: FileResult) -> str:
    """How :func:`file_json`'s text ends: its last two fields, ``status`` and
    ``problems`` (``FileResult.to_dict`` puts them last)."""
    return dumps({"status": result.status, "problems": [p.as_dict() for p in result.problems]}, indent=None)[1:]


def json_text(results: list[FileResult], combined: list[Combined]) -> str:
    """One object, whatever the number of workbooks (docs/audit.md "Results")::

        {"kind": "batch", "summary": {files, scored, provisional, failed, with_errors},
         "files": [one object per workbook, in input order],
         "combined": [one ``ledger_combined`` object per ledger pack]}

    Indented as ``dumps`` indents, except that each workbook's object is on
    one line (:func:`file_json`, made where the workbook was scored): a batch
    of hundreds is read a workbook a line, and written several times faster."""
    files = [r.encoded or file_json(r) for r in results]
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


def _rubric_packs(results: Iterable[FileResult]) -> list[str]:
    return sorted({r.card.pack.id for r in results if isinstance(r.card, ScoreCard)})


def _table_labels(results: Iterable[FileResult]) -> list[str]:
    """The labels of the tables of ledger cards with several tables (first seen
    order): their row counts get a column each; a one-table ledger needs none."""
    out: dict[str, None] = {}
    for r in results:
        if isinstance(r.card, LedgerCard) and r.card.more:
            out.update((t.label, None) for t in r.card.tables)
    return list(out)


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
    tables = _table_labels(results)
    if ledger:
        head += ["台账条数"] + [f"{label}条数" for label in tables] + ["错误数", "警告数"]
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
                counts = {t.label: len(t.rows) for t in card.tables}
                row += [str(sum(counts.values()))] + [str(counts[x]) if x in counts else "" for x in tables] \
                    + [str(card.error_count), str(card.warning_count)]
            else:
                row += [""] * (3 + len(tables))
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


HEAD_ROW = 3  # rows 1-2: title and 规则包/生成时间 line; row 3: column headers; data from row 4
FIRST = HEAD_ROW + 1


@dataclass
class _Doc:
    """What every sheet of the report prints above its table."""

    title: str
    line: str  # 规则包 … 版本 …；生成时间 …；共 N 份


def _doc(results: list[FileResult]) -> _Doc:
    packs = {(r.card.pack.id, r.card.pack.version, r.card.pack.title) for r in results if r.card is not None}
    titles = sorted({t for _, _, t in packs})
    which = "；".join(f"{i} 版本 {v}" for i, v, _ in sorted(packs)) or "无"
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    title = (titles[0] if len(titles) == 1 else "考核评分") + "——审核结果"
    return _Doc(title, f"规则包：{which}；生成时间：{when}；共 {len(results)} 份工作簿")


def _header(ws, values: list[str], doc: _Doc, widths: dict[int, float] | None = None) -> None:
    """Title, pack/date line and the column headers (row 3, wrapped, frozen, filterable)."""
    from openpyxl.styles import Alignment, Font, PatternFill

    last = max(len(values), 1)
    _put(ws, 1, 1, f"{doc.title}（{ws.title}）").font = Font(bold=True, size=14)
    _put(ws, 2, 1, doc.line).font = Font(size=9, color="595959")
    for r in (1, 2):
        if last > 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=last)
        ws.cell(r, 1).alignment = Alignment(horizontal="left", vertical="center")
    ws.row_dimensions[1].height = 22
    fill = PatternFill("solid", fgColor="DDEBF7")
    for j, v in enumerate(values, start=1):
        c = _put(ws, HEAD_ROW, j, v)
        c.font = Font(bold=True)
        c.fill = fill
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths = {**{j: 10.0 for j in range(1, last + 1)}, **(widths or {})}
    _widths(ws, widths)
    ws.row_dimensions[HEAD_ROW].height = row_height([(v, widths[j], 11) for j, v in enumerate(values, start=1)])
    if values:  # a sheet of blocks (台账汇总) has no single header row
        ws.freeze_panes = ws.cell(FIRST, 1).coordinate
        ws.auto_filter.ref = f"A{HEAD_ROW}:{_col(last)}{HEAD_ROW}"


def _col(j: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(j)


def _print(ws, doc: _Doc, last_row: int, *, title_cols: str | None = None, wrap: tuple[int, ...] = (),
           center: tuple[int, ...] = ()) -> None:
    """Landscape A4 fit to the page width, the header row repeated on every
    page, the *wrap* columns wrapped with rows as high as their text needs,
    the *center* columns (名次, 序号) centred."""
    from openpyxl.styles import Alignment

    wrapped, plain = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    middle = Alignment(horizontal="center", vertical="top")
    for r in range(FIRST, last_row + 1):
        texts = []
        for j in range(1, ws.max_column + 1):
            cell = ws.cell(r, j)
            cell.alignment = wrapped if j in wrap else (middle if j in center else plain)
            if j in wrap:
                texts.append((str(cell.value or ""), ws.column_dimensions[_col(j)].width or 10, 11))
        if texts:
            ws.row_dimensions[r].height = row_height(texts, minimum=15)
    if ws.auto_filter.ref:
        ws.auto_filter.ref = f"A{HEAD_ROW}:{_col(ws.max_column)}{max(last_row, HEAD_ROW)}"
    page_setup(ws, landscape=True, title_rows=f"{HEAD_ROW}:{HEAD_ROW}", title_cols=title_cols,
               header=doc.title)


def _widths(ws, widths: dict[int, float]) -> None:
    for col, w in widths.items():
        ws.column_dimensions[_col(col)].width = w


def _fit(values: list[str], floor: float = 8.0, cap: float = 30.0) -> float:
    """A column width for *values*: the longest, within floor..cap (longer text wraps)."""
    return min(max([floor] + [text_units(v) + 2 for v in values]), cap)


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


def _ranking_sheet(wb, results: list[FileResult], doc: _Doc) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.worksheet.pagebreak import Break

    ws = wb.active
    ws.title = "排名"
    cats = _categories(results)
    several = len(_rubric_packs(results)) > 1  # a 规则包 column only when rubric packs differ
    head = ["名次", "单位", "文件"] + (["规则包"] if several else []) + \
        ["总分", "等次", "评选资格", "暂定", "状态"] + cats
    rows = ranked(results)
    failed = [r for r in results if r.card is None]
    units = [_unit_label(r) for _, r in rows] + [_unit_label(r) for r in failed]
    files = [r.file for _, r in rows] + [r.file for r in failed]
    widths = {1: 6.0, 2: _fit(units, 10, 20), 3: _fit(files, 12, 36)}
    if several:
        widths[4] = _fit(_rubric_packs(results), 10, 20)
    widths.update({j: _fit([h], 8, 12) for j, h in enumerate(head, start=1) if j not in widths})
    _header(ws, head, doc, widths)
    total_col = head.index("总分") + 1
    first_cat = len(head) - len(cats) + 1
    for i, (rank, r) in enumerate(rows, start=FIRST):
        card: ScoreCard = r.card  # type: ignore[assignment]
        vals: list[Any] = [rank, _unit_label(r), r.file] + ([card.pack.id] if several else [])
        vals += [card.total, card.grade or "", _yes(card.eligible), _yes(card.provisional),
                 STATUS_TEXT[r.status]]
        pts = {c.name: c.points for c in card.categories}
        vals += [pts.get(c) for c in cats]
        for j, v in enumerate(vals, start=1):
            _put(ws, i, j, v, "0.00" if isinstance(v, Decimal) else None)
    n = len(rows)
    for k, r in enumerate(failed, start=n + FIRST):
        for j, v in enumerate(["", _unit_label(r), r.file], start=1):
            _put(ws, k, j, v)
        _put(ws, k, head.index("状态") + 1, STATUS_TEXT["failed"])
    last = n + len(failed) + HEAD_ROW
    _print(ws, doc, last, wrap=(2, 3), center=(1,))
    if not n:
        return
    # the charts go below the table, on a page of their own, side by side
    ws.row_breaks.append(Break(id=last + 1))
    anchor_row = last + 3
    units_ref = Reference(ws, min_col=2, min_row=FIRST, max_row=n + HEAD_ROW)
    bar = BarChart()
    bar.type = "col"
    bar.title = "各单位总分"
    bar.y_axis.title = "总分"
    bar.add_data(Reference(ws, min_col=total_col, min_row=HEAD_ROW, max_row=n + HEAD_ROW), titles_from_data=True)
    bar.set_categories(units_ref)
    bar.legend = None
    bar.width, bar.height = CHART_W, CHART_H
    ws.add_chart(bar, f"A{anchor_row}")
    if cats:
        stack = BarChart()
        stack.type = "col"
        stack.grouping = "stacked"
        stack.overlap = 100
        stack.title = "各单位分类得分"
        stack.add_data(Reference(ws, min_col=first_cat, max_col=first_cat + len(cats) - 1,
                                 min_row=HEAD_ROW, max_row=n + HEAD_ROW), titles_from_data=True)
        stack.set_categories(units_ref)
        stack.width, stack.height = CHART_W, CHART_H
        ws.add_chart(stack, ws.cell(anchor_row, _column_at(ws, len(head), CHART_W + 0.5)).coordinate)


CHART_W, CHART_H = 12.5, 9.0  # cm: two side by side fit a landscape A4 page


def _column_at(ws, columns: int, cm: float) -> int:
    """The first column that starts at least *cm* from the left edge."""
    x = 0.0
    for j in range(1, columns + 40):
        if x >= cm:
            return j
        w = ws.column_dimensions[_col(j)].width or 8.43
        x += (w * 7 + 5) / 96 * 2.54
    return columns + 1


def _unique_labels(results: list[FileResult]) -> list[str]:
    """Unit labels for column headers; a unit met more than once gets its file name."""
    labels = [_unit_label(r) for r in results]
    seen = {x for x in labels if labels.count(x) > 1}
    return [f"{x}（{r.file.replace(chr(92), '/').rsplit('/', 1)[-1]}）" if x in seen else x
            for x, r in zip(labels, results)]


def _items_sheet(wb, results: list[FileResult], doc: _Doc) -> None:
    ws = wb.create_sheet("各项得分")
    scored = [r for _, r in ranked(results)]
    several = len(_rubric_packs(results)) > 1
    units = _unique_labels(scored)
    head = (["规则包"] if several else []) + ["序号", "考核内容", "分值"] + units
    keys: list[tuple[str, str]] = []
    meta: dict[tuple[str, str], tuple[str, Decimal]] = {}
    points: dict[tuple[str, str], dict[int, Decimal | str]] = {}
    for j, r in enumerate(scored):
        for it in r.card.items:  # type: ignore[union-attr]
            key = (r.card.pack.id, it.id)  # type: ignore[union-attr]
            if key not in meta:
                keys.append(key)
                meta[key] = (it.title, it.max)
            points.setdefault(key, {})[j] = points_state(it.points, it.status)  # 有误 / 待填
    base = len(head) - len(scored)
    widths = {base - 2: 6.0, base - 1: 44.0, base: 6.0}
    if several:
        widths[1] = _fit(_rubric_packs(results), 10, 20)
    widths.update({base + j + 1: _fit([u], 8, 12) for j, u in enumerate(units)})
    _header(ws, head, doc, widths)
    for i, key in enumerate(keys, start=FIRST):
        title, mx = meta[key]
        seq: Any = int(key[1]) if key[1].isdigit() else key[1]  # 序号 is a number when it is one
        lead: list[Any] = ([key[0]] if several else []) + [seq, title, mx]
        for j, v in enumerate(lead, start=1):
            _put(ws, i, j, v, "0.00" if isinstance(v, Decimal) else None)
        for j in range(len(scored)):
            if j in points[key]:
                v = points[key][j]
                _put(ws, i, base + j + 1, v, "0.00")
    _print(ws, doc, len(keys) + HEAD_ROW, title_cols=f"A:{_col(base)}", wrap=(base - 1,), center=(base - 2,))


def _problems_sheet(wb, results: list[FileResult], doc: _Doc) -> None:
    ws = wb.create_sheet("问题清单")
    _header(ws, ["文件", "单位", "位置", "问题", "级别"], doc, {1: 30, 2: 14, 3: 18, 4: 70, 5: 6})
    i = FIRST
    for r in results:
        for p in r.problems:
            for j, v in enumerate([r.file, r.unit or "", _short_loc(r, p.loc), p.msg,
                                   LEVEL_TEXT.get(p.level, p.level)], start=1):
                _put(ws, i, j, v)
            i += 1
    _print(ws, doc, i - 1, wrap=(1, 2, 3, 4))


def _metric_value(v: Any) -> Any:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        return num.q2(v)  # as the JSON report gives it (an expr metric such as 序时进度 may be unrounded)
    return "—" if v is None else v


def _ledger_sheets(wb, results: list[FileResult], combined: list[Combined], doc: _Doc) -> None:
    ledgers = [r for r in results if isinstance(r.card, LedgerCard)]
    if not ledgers:
        return
    ws = wb.create_sheet("台账情况")
    tables = _table_labels(ledgers)
    counted = [f"{label}条数" for label in tables]
    _header(ws, ["文件", "单位", "台账条数", *counted, "错误数", "警告数", "状态"], doc,
            {1: 30, 2: 16, **{j: _fit([x], 10, 16) for j, x in enumerate(counted, start=4)}})
    for i, r in enumerate(ledgers, start=FIRST):
        card: LedgerCard = r.card  # type: ignore[assignment]
        counts = {t.label: len(t.rows) for t in card.tables}
        for j, v in enumerate([r.file, _unit_label(r), sum(counts.values()), *[counts.get(x, "") for x in tables],
                               card.error_count, card.warning_count, STATUS_TEXT[r.status]], start=1):
            _put(ws, i, j, v)
    _print(ws, doc, len(ledgers) + HEAD_ROW, wrap=(1, 2))
    for c in combined:
        ws = wb.create_sheet("台账汇总" if len(combined) == 1 else f"台账汇总-{c.info.id}"[:31])
        widest = max((t.labels for t in c.tables), key=len)
        _header(ws, [], doc, {1: 22, **{j: _fit([x], 10, 14) for j, x in enumerate(widest.values(), start=2)}})
        row = HEAD_ROW
        for t in c.tables:
            if len(c.tables) > 1:  # several tables: each one's roll-ups under its label
                _put(ws, row, 1, t.label).font = _bold()
                row += 1
            row = _combined_rollups(ws, t, row)
        page_setup(ws, landscape=True, header=doc.title)


def _combined_rollups(ws, c: "CombinedTable", row: int) -> int:
    """One table's combined roll-ups from *row* on; the row after them: a rank
    column (and each body's flagged groups, e.g. 进度滞后 areas) beside a
    ranked grouping, the flagged groups listed under an unranked one."""
    labels = ["分组"] + list(c.labels.values())
    for ru in c.rollups:
        _put(ws, row, 1, ru.label).font = _bold()
        row += 1
        ranked_ = ru.ranks is not None
        extra = marks(c.rollups, c.flags) if ranked_ else []  # e.g. 进度滞后 areas beside the rank
        head = labels + (["名次"] if ranked_ else []) + [h for h, _ in extra]
        for j, v in enumerate(head, start=1):
            cell = _put(ws, row, j, v)
            cell.font = _bold()
        ws.row_dimensions[row].height = row_height(
            [(v, ws.column_dimensions[_col(j)].width or 10, 11) for j, v in enumerate(labels, 1)])
        for j in range(1, len(labels) + 1):
            ws.cell(row, j).alignment = _wrap()
        row += 1
        lines = list(ru.groups.items())
        if ru.total is not None:
            lines.append((ru.total_label or "合计", ru.total))
        for key, vals in lines:
            _put(ws, row, 1, key or "（空）").alignment = _wrap()
            ws.row_dimensions[row].height = row_height([(key or "（空）", 22, 11)], minimum=15)
            for j, mid in enumerate(c.labels, start=2):
                v = _metric_value(shown(ru, key, vals.get(mid)))
                _put(ws, row, j, v, "0.00" if isinstance(v, Decimal) and v != v.to_integral_value() else None)
            if ranked_ and key != (ru.total_label or "合计"):
                rank = (ru.ranks or {}).get(key)
                _put(ws, row, len(labels) + 1, rank_text(ru, key) if rank is None else rank)
                for j, (_, by_body) in enumerate(extra, start=len(labels) + 2):
                    _put(ws, row, j, by_body.get(key, ""))
            row += 1
        if ru.flagged is not None and not any(r.ranks is not None for r in c.rollups):
            _put(ws, row, 1, f"{c.flags.get(ru.label, '标记')}的分组（{ru.label}）").font = _bold()
            row += 1
            for line in flagged_lines(ru) or ["无"]:
                _put(ws, row, 1, line)
                row += 1
        row += 1
    return row


def _wrap():
    from openpyxl.styles import Alignment

    return Alignment(wrap_text=True, vertical="center")


def _bold():
    from openpyxl.styles import Font

    return Font(bold=True)


def xlsx_bytes(results: list[FileResult], combined: list[Combined]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    doc = _doc(results)
    _ranking_sheet(wb, results, doc)
    _items_sheet(wb, results, doc)
    _problems_sheet(wb, results, doc)
    _ledger_sheets(wb, results, combined, doc)
    wb.properties.title = doc.title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
