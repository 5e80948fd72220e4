"""The 通报: ranking over final results only, everything else listed apart,
自评 vs 核定 per item with the reasons, flags such as 通报批评.

:func:`report_data` builds the report as plain data (the JSON form); the
CSV and xlsx forms are rendered from it.  The xlsx prints on A4 with the
title, the date and the pack version on every page.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
from decimal import Decimal
from typing import Any

from ..audit import safe_text
from ..audit._reports import FIRST, HEAD_ROW, _Doc, _header, _put, _widths  # the auditor's xlsx cell helpers (text never a formula)
from ..engine import num
from ..engine.card import LedgerCard, ScoreCard, to_dict
from ..engine.ledger import plan_for
from ..workbook.styles import fit_row
from .codec import show
from .state import STATUS_TEXT, CampaignState, UnitState

KIND_TEXT = {"review": "核定", "spotcheck": "抽查"}
WIDTHS = {1: 6, 2: 16, 3: 10, 4: 10, 5: 8, 6: 9, 7: 48}  # 通报 sheet columns


def _amt(d: Decimal | None) -> str | None:
    return None if d is None else num.amount(d)


def _reasons(state: CampaignState, u: UnitState, facts: list[str]) -> list[dict]:
    out = []
    for fid in facts:
        c = u.changes.get(fid)
        if c is None:
            continue
        f = state.pack.facts[fid]
        out.append({"fact": fid, "label": f.label, "kind": KIND_TEXT[c.kind],
                    "self_value": show(f, c.self_value), "value": show(f, c.value),
                    "reason": c.reason, "evidence": c.evidence, "by": c.reviewer, "at": c.at, "seq": c.seq})
    return out


def item_changes(state: CampaignState, u: UnitState) -> list[dict]:
    """Items whose 核定 points differ from the 自评 points, with the corrections behind them."""
    if not isinstance(u.card, ScoreCard) or not isinstance(u.self_card, ScoreCard):
        return []
    out = []
    for it, mine in zip(u.card.items, u.self_card.items):
        if it.points == mine.points and list(it.flags) == list(mine.flags):
            continue
        checked = state.pack.item(it.id)
        out.append({"unit": u.unit, "item": it.id, "title": it.title, "max": _amt(it.max),
                    "self_points": _amt(mine.points), "points": _amt(it.points),
                    "explanation": it.explanation, "flags": list(it.flags),
                    "reasons": _reasons(state, u, checked.facts)})
    return out


def flags(u: UnitState) -> list[dict]:
    if not isinstance(u.card, ScoreCard):
        return []
    return [{"item": it.id, "flag": fl, "explanation": it.explanation}
            for it in u.card.items for fl in it.flags]


def _apart_reason(state: CampaignState, u: UnitState) -> str:
    s = u.status
    if s == "missing":
        return "未上报"
    if s == "failed":
        last = u.rejected[-1].payload
        msg = "；".join(p.get("msg", "") for p in last.get("problems", [])[:2])
        return f"上报文件 {last.get('file')} 无法评分：{msg}"
    if s == "error":
        return "；".join(p.msg for p in u.errors[:3]) + ("…" if len(u.errors) > 3 else "")
    missing = list(dict.fromkeys(m for it in u.card.items for m in it.missing)) \
        if isinstance(u.card, ScoreCard) else []
    labels = [state.pack.facts[m].label if m in state.pack.facts else m for m in missing]
    return f"{len(labels)} 项数据待填：" + "、".join(labels[:5]) + ("等" if len(labels) > 5 else "")


def report_data(state: CampaignState, today: _dt.date | None = None) -> dict[str, Any]:
    pack = state.pack
    day = (today or _dt.date.today()).isoformat()
    ranking = []
    for rank, u in state.ranked():
        card = u.card
        ranking.append({"rank": rank, "unit": u.unit, "total": _amt(card.total),  # type: ignore[union-attr]
                        "self_total": _amt(u.self_card.total),  # type: ignore[union-attr]
                        "grade": card.grade, "eligible": card.eligible,  # type: ignore[union-attr]
                        "reviewed": u.reviewed, "flags": [f["flag"] for f in flags(u)],
                        "file": u.submission.payload.get("file")})  # type: ignore[union-attr]
    apart = []
    for u in state.apart():
        reason = _apart_reason(state, u)
        rubric = isinstance(u.card, ScoreCard)
        apart.append({"unit": u.unit, "status": u.status, "status_text": STATUS_TEXT[u.status],
                      "total": _amt(u.card.total) if rubric else None,  # type: ignore[union-attr]
                      "grade": u.card.grade if rubric else None, "reason": reason,  # type: ignore[union-attr]
                      "file": u.submission.payload.get("file") if u.submission else None})
    items = [x for u in state.units.values() for x in item_changes(state, u)]
    flagged = [{"unit": u.unit, **f} for u in state.units.values() for f in flags(u)]
    pub = state.published
    ledger = ledger_data(state) if state.ledger else None
    return {"kind": pack.model.kind, "ledger": ledger, **_common(state, ranking, apart, items, flagged, pub, day)}


def ledger_data(state: CampaignState) -> dict:
    """Ledger campaigns: per unit rows/errors/warnings, and the roll-ups over every final unit."""
    units = []
    final = []
    for u in state.units.values():
        card = u.card if isinstance(u.card, LedgerCard) else None
        line = {"unit": u.unit, "status": u.status, "status_text": STATUS_TEXT[u.status],
                "rows": len(card.rows) if card else None, "errors": card.error_count if card else None,
                "warnings": card.warning_count if card else None}
        if card is not None and card.more:  # several tables: the rows of each (``rows``: the first's)
            line["table_rows"] = {t.label: len(t.rows) for t in card.tables}
        units.append(line)
        if u.status == "final" and card is not None:
            final.append(u)
    plan = plan_for(state.pack)
    tables = []
    if final:
        per_table = plan.combine_tables([u.values for u in final], [u.unit for u in final])
        for tp, combined in zip(plan.tables, per_table):
            d = to_dict(LedgerCard(plan.info, {}, [], combined, {mt.id: mt.label for mt, _ in tp.metrics}))
            tables.append({"table": tp.table, "label": tp.lg.label, "rollups": d["rollups"], "metrics": d["metrics"]})
    first = tables[0] if tables else {"rollups": [], "metrics": {}}
    out = {"units": units, "rollups": first["rollups"], "metrics": first["metrics"],
           "combined_units": [u.unit for u in final]}
    if len(plan.tables) > 1:
        out["tables"] = tables  # every table, pack order (the first one also above)
    return out


def _common(state: CampaignState, ranking, apart, items, flagged, pub, day) -> dict:
    pack, c = state.pack, state.campaign
    return {
        "title": f"{pack.model.title}考核结果通报", "period": c.period, "date": day,
        "pack": {"id": pack.id, "version": pack.version, "hash": pack.hash},
        "draft": state.draft, "chain": {"seq": state.seq, "hash": state.head},
        "published": None if pub is None else {"seq": pub.seq, "at": pub.at, "by": pub.actor},
        "units": len(c.units), "ranked": len(ranking),
        "ranking": ranking, "apart": apart, "items": items, "flags": flagged,
    }


def table_text(data: dict) -> str:
    lines = [f"{data['title']}（{data['period']}）",
             f"规则包 {data['pack']['id']} 版本 {data['pack']['version']}；日期 {data['date']}；"
             + ("草稿（未发布）" if data["draft"] else f"已发布（第{data['published']['seq']}号记录）")
             + f"；记录链第{data['chain']['seq']}号，校验码 {data['chain']['hash'][:16]}", ""]
    if not data.get("ledger"):
        lines.append("名次  单位            核定总分  自评总分  等次    标记")
    for r in data["ranking"]:
        lines.append(f"{r['rank']:>4}  {r['unit']:<12}  {r['total']:>8}  {r['self_total']:>8}  "
                     f"{r['grade'] or '':<6}  {'、'.join(r['flags'])}")
    if data.get("ledger"):
        lines += _ledger_lines(data["ledger"])
    if data["apart"]:
        lines += ["", "未参加排名：" if not data.get("ledger") else "未纳入汇总："]
        for a in data["apart"]:
            tot = f"（{a['total']}分）" if a["total"] else ""
            lines.append(f"  {a['unit']}：{a['status_text']}{tot}  {a['reason']}")
    if data["items"]:
        lines += ["", "自评与核定不同的项目："]
        for x in data["items"]:
            why = "；".join(f"{r['kind']}：{r['label']} {r['self_value']}→{r['value']}，理由：{r['reason']}"
                           for r in x["reasons"])
            lines.append(f"  {x['unit']} 第{x['item']}项 {x['self_points']}→{x['points']}  {why}")
    return "\n".join(lines)


def _metric(v: Any) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    return "—" if v is None else str(v)


def _ledger_lines(led: dict) -> list[str]:
    lines = ["台账：单位、状态、条数、错误、警告"]
    for u in led["units"]:
        if u["rows"] is not None:
            count = "，".join(f"{k} {n} 条" for k, n in u["table_rows"].items()) if u.get("table_rows") \
                else f"{u['rows']} 条"
            lines.append(f"  {u['unit']}：{u['status_text']}，{count}，错误 {u['errors']}，警告 {u['warnings']}")
    for t in _ledger_tables(led):
        for ru in t["rollups"]:
            head = f"{t['label']} " if t.get("label") else ""
            lines += ["", f"{head}{ru['label']}（{len(led['combined_units'])} 个单位的正式台账）"]
            rows = list(ru["groups"]) + ([ru["total"]] if ru.get("total") else [])
            for g in rows:
                vals = "，".join(f"{t['metrics'][k]} {_metric(v)}" for k, v in g.items() if k in t["metrics"])
                lines.append(f"  {g['key'] or '（空）'}：{vals}")
    return lines


def _ledger_tables(led: dict) -> list[dict]:
    """The roll-ups of every table: ``tables`` (several tables) or the one table's."""
    return led.get("tables") or [{"label": "", "rollups": led["rollups"], "metrics": led["metrics"]}]


def csv_text(data: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if data.get("ledger"):
        w.writerow(["单位", "状态", "台账条数", "错误数", "警告数", "说明"])
        why = {a["unit"]: a["reason"] for a in data["apart"]}
        for u in data["ledger"]["units"]:
            w.writerow([safe_text(u["unit"]), u["status_text"], "" if u["rows"] is None else u["rows"],
                        "" if u["errors"] is None else u["errors"], "" if u["warnings"] is None else u["warnings"],
                        safe_text(why.get(u["unit"], ""))])
        return "\ufeff" + buf.getvalue()
    w.writerow(["名次", "单位", "状态", "核定总分", "自评总分", "等次", "标记", "说明"])
    for r in data["ranking"]:
        w.writerow([r["rank"], safe_text(r["unit"]), "正式", r["total"], r["self_total"], r["grade"] or "",
                    "、".join(r["flags"]), ""])
    for a in data["apart"]:
        w.writerow(["", safe_text(a["unit"]), a["status_text"], a["total"] or "", "", a["grade"] or "", "",
                    safe_text(a["reason"])])
    return "\ufeff" + buf.getvalue()


def _yes(b: bool | None) -> str:
    return "" if b is None else ("是" if b else "否")


def xlsx_bytes(data: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "通报"
    title = f"{data['title']}（{data['period']}）"
    sub = (f"规则包 {data['pack']['id']} 版本 {data['pack']['version']}（校验码 {data['pack']['hash'][:12]}）"
           f"　日期 {data['date']}　" + ("草稿，未发布" if data["draft"] else "已发布")
           + f"　记录链第{data['chain']['seq']}号（校验码 {data['chain']['hash'][:16]}）")
    _put(ws, 1, 1, title).font = Font(bold=True, size=16)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=7)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    _put(ws, 2, 1, sub)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=7)
    head = ["名次", "单位", "核定总分", "自评总分", "等次", "评选资格", "标记"]
    for j, v in enumerate(head, start=1):
        _put(ws, 4, j, v).font = Font(bold=True)
    row = 5
    for r in data["ranking"]:
        vals = [r["rank"], r["unit"], Decimal(r["total"]), Decimal(r["self_total"]), r["grade"] or "",
                _yes(r["eligible"]), "、".join(r["flags"])]
        for j, v in enumerate(vals, start=1):
            _put(ws, row, j, v, "0.00" if isinstance(v, Decimal) else None)
        row += 1
    last_ranked = row - 1
    if data["apart"]:
        row += 1
        _put(ws, row, 1, "未参加排名的单位（暂定、有错误、文件无法评分、未上报）").font = Font(bold=True)
        row += 1
        for j, v in enumerate(["", "单位", "暂定总分", "", "状态", "", "说明"], start=1):
            _put(ws, row, j, v).font = Font(bold=True)
        row += 1
        for a in data["apart"]:
            vals = ["", a["unit"], Decimal(a["total"]) if a["total"] else "", "", a["status_text"], "",
                    a["reason"]]
            for j, v in enumerate(vals, start=1):
                _put(ws, row, j, v, "0.00" if isinstance(v, Decimal) else None)
                ws.cell(row=row, column=j).alignment = Alignment(wrap_text=True, vertical="top")
            fit_row(ws, row, {7: a["reason"]}, WIDTHS)
            row += 1
    _widths(ws, WIDTHS)
    ws.print_title_rows = "4:4"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = title
    ws.oddFooter.left.text = f"规则包 {data['pack']['id']} 版本 {data['pack']['version']}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.right.text = data["date"]
    if data["ranking"]:
        chart = BarChart()
        chart.type = "col"
        chart.title = "核定总分（正式结果）"
        chart.add_data(Reference(ws, min_col=3, min_row=4, max_row=last_ranked), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=2, min_row=5, max_row=last_ranked))
        chart.legend = None
        chart.width, chart.height = 16, 8
        cs = wb.create_sheet("图表")
        cs.add_chart(chart, "A1")
        cs.page_setup.paperSize = cs.PAPERSIZE_A4
        cs.page_setup.orientation = "landscape"
    ds = wb.create_sheet("自评与核定")
    _header(ds, ["单位", "序号", "考核标准", "分值", "自评得分", "核定得分", "核定/抽查", "事实", "自评值",
                 "核定值", "理由", "依据", "核定人", "时间"], _Doc(title, sub))
    i = FIRST
    for x in data["items"]:
        for r in x["reasons"] or [None]:
            vals = [x["unit"], x["item"], x["title"], Decimal(x["max"]),
                    Decimal(x["self_points"]) if x["self_points"] else "待填",
                    Decimal(x["points"]) if x["points"] else "待填"]
            vals += [r["kind"], r["label"], r["self_value"], r["value"], r["reason"], r["evidence"], r["by"],
                     r["at"]] if r else ["", "", "", "", "", "", "", ""]
            for j, v in enumerate(vals, start=1):
                _put(ds, i, j, v, "0.00" if isinstance(v, Decimal) else None)
            i += 1
    _widths(ds, {1: 12, 3: 36, 8: 28, 11: 30, 12: 24})
    ds.page_setup.paperSize = ds.PAPERSIZE_A4
    ds.page_setup.orientation = "landscape"
    ds.page_setup.fitToWidth = 1
    ds.page_setup.fitToHeight = 0
    ds.sheet_properties.pageSetUpPr.fitToPage = True
    ds.print_title_rows = f"{HEAD_ROW}:{HEAD_ROW}"
    fs = wb.create_sheet("通报批评等标记")
    doc = _Doc(title, sub)
    _header(fs, ["单位", "序号", "标记", "说明"], doc)
    for i, f in enumerate(data["flags"], start=FIRST):
        for j, v in enumerate([f["unit"], f["item"], f["flag"], f["explanation"]], start=1):
            _put(fs, i, j, v)
    _widths(fs, {1: 12, 3: 12, 4: 60})
    if data.get("ledger"):
        _ledger_sheet(wb, data["ledger"], doc)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _ledger_sheet(wb, led: dict, doc: _Doc) -> None:
    ws = wb.create_sheet("台账汇总", 1)
    _header(ws, ["单位", "状态", "台账条数", "错误数", "警告数"], doc)
    r = FIRST
    for u in led["units"]:
        for j, v in enumerate([u["unit"], u["status_text"], u["rows"], u["errors"], u["warnings"]], start=1):
            _put(ws, r, j, "" if v is None else v)
        r += 1
    for t in _ledger_tables(led):
        r = _ledger_rollups(ws, t, r)
    _widths(ws, {1: 22, 2: 12})
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"


def _ledger_rollups(ws, t: dict, r: int) -> int:
    """One table's roll-ups below row *r*; the last row written."""
    for ru in t["rollups"]:
        r += 1
        _put(ws, r, 1, f"{t['label']} {ru['label']}" if t.get("label") else ru["label"])
        r += 1
        keys = list(t["metrics"])
        for j, v in enumerate(["分组"] + [t["metrics"][k] for k in keys], start=1):
            _put(ws, r, j, v)
        r += 1
        for g in list(ru["groups"]) + ([ru["total"]] if ru.get("total") else []):
            _put(ws, r, 1, g["key"] or "（空）")
            for j, k in enumerate(keys, start=2):
                v = g.get(k)
                _put(ws, r, j, _metric(v) if isinstance(v, bool) or v is None else Decimal(str(v)))
            r += 1
    return r
