"""Score one submitted workbook for the task pane, the custom functions and the
写入得分 script: the engine's card plus every input problem, located by cell.

Invalid inputs (wrong type, out of range) do not stop the live score: they are
listed as problems *and* their items are shown as not scorable (输入有误), so the
total is marked provisional — never a silently wrong score.  Workbook-level
problems (not a template, another pack) give ``ok = False`` and a Chinese message.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..conventions import category_points_name, item_explain_name, item_points_name
from ..engine import score
from ..engine.card import LedgerCard, ScoreCard, to_dict
from ..errors import FactsError, RubricError
from ..rules import RulePack
from . import _packs
from ._book import FORMAT_MESSAGE, BookView, Cell, open_book

logger = logging.getLogger(__name__)
KIND_LABELS = {"type": "类型错误", "range": "超出范围", "missing": "未填写", "check": "台账校验",
               "template": "模板问题"}
_TABLE_KEY = re.compile(r"^(?P<table>[a-z][a-z0-9_]*)\[(?P<row>\d+)\]\.(?P<col>[a-z][a-z0-9_]*)$")


@dataclass
class InputIssue:
    kind: str  # type | range | missing | check | template
    fact: str
    label: str
    msg: str
    cell: Cell | None = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "kind_label": KIND_LABELS[self.kind], "fact": self.fact,
                "label": self.label, "msg": self.msg,
                "sheet": self.cell.sheet if self.cell else None,
                "address": self.cell.address if self.cell else None,
                "ref": self.cell.ref if self.cell else None}


@dataclass
class Assessment:
    """The result for one workbook. ``ok`` is False when it cannot be scored at all."""

    ok: bool
    message: str = ""
    workbook: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    pack: RulePack | None = None
    card: ScoreCard | LedgerCard | None = None
    issues: list[InputIssue] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)  # fact ids whose value was rejected
    result_cells: dict[str, Cell] = field(default_factory=dict)  # item_10_points → cell

    # -- helpers for the custom functions and the script ---------------------------
    def item_text(self, it) -> str:
        """The item's explanation, saying 输入有误 when a rejected input blocks it."""
        bad = [f for f in it.missing if f in self.invalid]
        if bad and self.pack is not None:
            labels = "、".join(self.pack.facts[f].label for f in bad)
            rest = [f for f in it.missing if f not in self.invalid]
            text = f"输入有误：{labels}"
            if rest:
                text += "；待填：" + "、".join(self.pack.facts[f].label for f in rest)
            return text
        return it.explanation

    def status_text(self) -> str:
        if not self.ok:
            return "无法评分"
        if isinstance(self.card, LedgerCard):
            return f"台账：{len(self.card.rows)}行，错误{self.card.error_count}处，提醒{self.card.warning_count}处"
        bad = sum(1 for i in self.issues if i.kind in ("type", "range"))
        pending = sum(1 for it in self.card.items if it.status == "incomplete")
        if bad:
            return f"暂定：有{bad}处输入错误，{pending}项无法评分"
        if pending:
            return f"暂定：{pending}项待填"
        return "已完成"

    def to_json(self) -> dict[str, Any]:
        """The task pane's view: numbers as exact decimal text (``"2.80"``)."""
        if not self.ok:
            return {"ok": False, "message": self.message, "workbook": self.workbook,
                    "issues": [i.as_dict() for i in self.issues]}
        data = to_dict(self.card)
        data.update(ok=True, workbook=self.workbook, status=self.status_text(),
                    unit=self.meta.get("unit") or None,
                    template_version=self.meta.get("template_version") or None,
                    issues=[i.as_dict() for i in self.issues])
        if isinstance(self.card, ScoreCard):
            by_id = {it.id: it for it in self.card.items}
            for d in data["items"]:
                it = by_id[d["id"]]
                d["explanation"] = self.item_text(it)
                d["invalid"] = [f for f in it.missing if f in self.invalid]
                d["deducted"] = f"{it.deducted:.2f}" if it.deductions else None
                cell = self.result_cells.get(item_points_name(it.id))
                d["ref"] = cell.ref if cell else None
                d["sheet"] = cell.sheet if cell else None
                d["address"] = cell.address if cell else None
        return data


def assess_payload(payload: dict) -> Assessment:
    """Score the workbook in an xlwings JS client payload.  Never raises RubricError."""
    name = ""
    if isinstance(payload, dict) and isinstance(payload.get("book"), dict):
        name = str(payload["book"].get("name") or "")
    try:
        with open_book(payload) as book:
            return assess_book(BookView(book))
    except RubricError as exc:
        return _failed(exc, name)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError):
        # a payload xlwings cannot read (not from the xlwings JS client)
        logger.warning("unreadable workbook payload", exc_info=True)
        return Assessment(ok=False, message=FORMAT_MESSAGE, workbook=name)


def assess_book(view: BookView) -> Assessment:
    try:
        meta = view.meta()
        pack = _packs.registry().resolve(meta, view.title)
    except RubricError as exc:
        return _failed(exc, view.title)
    raw, cells, template_problems = view.read_facts(pack)
    a = Assessment(ok=True, workbook=view.title, meta=meta, pack=pack)
    for p in template_problems:
        f = pack.facts.get(p.loc.split("__")[0])
        a.issues.append(InputIssue("template", p.loc, f.label if f else p.loc, p.msg, None))
    if pack.model.kind == "rubric":
        for it in pack.items:
            for key in (item_points_name(it.item.id), item_explain_name(it.item.id)):
                cell = view.cell(key)
                if cell is not None:
                    a.result_cells[key] = cell
        for n in range(1, len(pack.model.categories) + 1):
            key = category_points_name(n)
            if (cell := view.cell(key)) is not None:
                a.result_cells[key] = cell
        for key in ("total_points", "grade", "eligible", "provisional"):
            if (cell := view.cell(key)) is not None:
                a.result_cells[key] = cell
    _score_into(a, pack, raw, cells, view.title)
    return a


def _failed(exc: RubricError, workbook: str) -> Assessment:
    issues = [InputIssue("template", p.loc, p.loc, p.msg) for p in exc.problems]
    return Assessment(ok=False, message=exc.message, workbook=workbook, issues=issues)


def _score_into(a: Assessment, pack: RulePack, raw: dict, cells: dict[str, Cell], source: str) -> None:
    refs = {c.ref: key for key, c in cells.items()}

    def locate(key: str) -> str:
        c = cells.get(key)
        return c.ref if c else f"{source}: {key}"

    def key_of(loc: str) -> str | None:
        if loc in refs:
            return refs[loc]
        prefix = f"{source}: "
        return loc[len(prefix):] if loc.startswith(prefix) else None

    cleaned = dict(raw)
    _refuse_huge_numbers(a, pack, cleaned, cells)
    try:
        card = score(pack, cleaned, source=source, locate=locate)
    except FactsError as exc:
        unplaced = []
        for p in exc.problems:
            key = key_of(p.loc)
            if key is None or not _blank_out(cleaned, key):
                unplaced.append(p)
                continue
            fid = key.split("[")[0]
            a.invalid.add(fid)
            a.issues.append(InputIssue(_kind(pack, key, raw), fid, _label(pack, key), p.msg, cells.get(key)))
        try:
            if unplaced:
                raise FactsError(exc.message, unplaced)
            card = score(pack, cleaned, source=source, locate=locate)
        except FactsError as exc2:  # e.g. a division by zero: nothing sensible to show
            a.ok = False
            a.message = exc2.message
            a.issues.extend(InputIssue("type", p.loc, p.loc, p.msg, _cell_at(p.loc, cells)) for p in exc2.problems)
            return
    a.card = card
    if isinstance(card, ScoreCard):
        missing: dict[str, list[str]] = {}
        for it in card.items:
            for f in it.missing:
                if f not in a.invalid:
                    missing.setdefault(f, []).append(it.id)
        for fid, items in missing.items():
            f = pack.facts[fid]
            ids = "、".join(f"第{i}项" for i in items)
            a.issues.append(InputIssue("missing", fid, f.label, f"{f.label}（{ids}待填）", cells.get(fid)))
    else:
        for row in card.rows:
            for prob in row.errors:
                col = prob.columns[0] if prob.columns else None
                key = f"{_ledger_table(pack)}[{row.index}].{col}" if col else None
                a.issues.append(InputIssue("check", key or "", f"第{row.index}行",
                                           f"第{row.index}行：{prob.message}", cells.get(key) if key else None))
    order = {"type": 0, "range": 0, "check": 0, "missing": 1, "template": 2}
    a.issues.sort(key=lambda i: order[i.kind])


EXCEL_DIGITS = 15
HUGE = 10 ** EXCEL_DIGITS


def _refuse_huge_numbers(a: Assessment, pack: RulePack, raw: dict, cells: dict[str, Cell]) -> None:
    """A cell number of 10^15 or more (Excel keeps 15 significant digits; no count,
    percentage or amount of a rubric comes near it) is an input out of range,
    reported at its cell and treated as blank, before the engine sees it."""
    keys = []
    for fid, value in raw.items():
        if isinstance(value, list):
            keys.extend(f"{fid}[{i}].{col}" for i, row in enumerate(value, 1) if isinstance(row, dict)
                        for col, v in row.items() if _huge(v))
        elif _huge(value):
            keys.append(fid)
    for key in keys:
        value = _value_at(raw, key)
        shown = "无穷大" if value in (math.inf, -math.inf) else f"{value:.6g}"
        label = _label(pack, key)
        _blank_out(raw, key)
        fid = key.split("[")[0]
        a.invalid.add(fid)
        a.issues.append(InputIssue(
            "range", fid, label,
            f"{label}：数值超出范围（绝对值应小于 10^{EXCEL_DIGITS}，Excel 只能精确保存 {EXCEL_DIGITS} 位数字），"
            f"实际为 {shown}", cells.get(key)))


def _huge(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not abs(v) < HUGE  # also NaN


def _blank_out(raw: dict, key: str) -> bool:
    """Treat the rejected value at *key* as blank; False if *key* is not a value."""
    m = _TABLE_KEY.match(key)
    if m:
        rows = raw.get(m["table"])
        i = int(m["row"]) - 1
        if isinstance(rows, list) and 0 <= i < len(rows) and isinstance(rows[i], dict):
            rows[i] = {**rows[i], m["col"]: None}
            raw[m["table"]] = list(rows)
            return True
        return False
    if key in raw:
        raw[key] = None
        return True
    return False


def _value_at(raw: dict, key: str) -> Any:
    m = _TABLE_KEY.match(key)
    if m:
        try:
            return raw[m["table"]][int(m["row"]) - 1].get(m["col"])
        except (KeyError, IndexError, AttributeError, TypeError):
            return None
    return raw.get(key)


def _fact_for(pack: RulePack, key: str):
    m = _TABLE_KEY.match(key)
    if m:
        table = pack.facts.get(m["table"])
        return next((c for c in (table.columns or []) if c.id == m["col"]), None) if table else None
    return pack.facts.get(key)


def _label(pack: RulePack, key: str) -> str:
    f = _fact_for(pack, key)
    m = _TABLE_KEY.match(key)
    if m and f is not None:
        return f"{pack.facts[m['table']].label} 第{m['row']}行 {f.label}"
    return f.label if f is not None else key


def _kind(pack: RulePack, key: str, raw: dict) -> str:
    """``range`` for a number outside the allowed range, else ``type``."""
    f = _fact_for(pack, key)
    v = _value_at(raw, key)
    if f is None or f.type not in ("int", "decimal", "percent"):
        return "type"
    if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
        return "type"
    if f.type == "int" and v != int(v):
        return "type"
    return "range"


def _ledger_table(pack: RulePack) -> str:
    return pack.model.ledger.table if pack.model.ledger else ""


def _cell_at(loc: str, cells: dict[str, Cell]) -> Cell | None:
    for c in cells.values():
        if c.ref == loc:
            return c
    return None


__all__ = ["Assessment", "InputIssue", "assess_payload", "assess_book"]
