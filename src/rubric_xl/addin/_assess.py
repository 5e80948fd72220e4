"""Score one submitted workbook for the task pane, the custom functions and the
写入得分 script: the engine's card plus every input problem, located by cell.

Invalid inputs (the input contract, rules/contract.py) do not stop the live
score: they are listed as problems *and* their items are 有误 (not scored, the
engine's reason naming cell, value and expectation), so the total is provisional — never a silently wrong score.  Workbook-level
problems (not a template, another pack) give ``ok = False`` and a Chinese message.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..conventions import category_points_name, item_explain_name, item_points_name
from ..engine import score_values
from ..engine.facts import read_facts
from ..engine.ledger import plan_for as ledger_plan
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
        """The item's explanation: the engine's own (有误 names cell, value, expectation)."""
        return it.explanation

    def status_text(self) -> str:
        if not self.ok:
            return "无法评分"
        if isinstance(self.card, LedgerCard):
            tables = self.card.tables
            # the pack's checks of the whole submission that fired (逾期报送) follow the counts
            fired = "".join(f"；{p.message}" for p in self.card.checks)
            if len(tables) > 1:  # several tables: each one's rows, then the problems of all
                rows = "，".join(f"{t.label}{len(t.rows)}行" for t in tables)
                return f"台账：{rows}，错误{self.card.error_count}处，提醒{self.card.warning_count}处{fired}"
            return f"台账：{len(self.card.rows)}行，错误{self.card.error_count}处，提醒{self.card.warning_count}处{fired}"
        bad = sum(1 for i in self.issues if i.kind in ("type", "range"))
        pending = sum(1 for it in self.card.items if it.status == "incomplete")
        wrong = sum(1 for it in self.card.items if it.status == "invalid")
        if bad:
            return f"暂定：有{bad}处输入错误，{wrong}项有误、{pending}项待填，无法评分"
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
                d["invalid"] = list(it.invalid)
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

    ref_of = {k: c.ref for k, c in cells.items()}
    values, problems = read_facts(pack, raw, source, locate, ref_of.get)
    for p in problems:
        key = key_of(p.loc)
        if key is None:  # not a value (e.g. an unknown fact): cannot happen for a workbook
            a.issues.append(InputIssue("type", p.loc, p.loc, p.msg, _cell_at(p.loc, cells)))
            continue
        fid = key.split("[")[0]
        a.invalid.add(fid)
        a.issues.append(InputIssue(_kind(pack, key, raw), fid, _label(pack, key), p.msg, cells.get(key)))
    try:
        card = score_values(pack, values) if pack.model.kind == "rubric" else \
            ledger_plan(pack).run(values, locate)
    except FactsError as exc:  # e.g. a division by zero: nothing sensible to show
        a.ok = False
        a.message = exc.message
        said = {i.msg for i in a.issues}  # a top-level value read as invalid is refused again: said once
        a.issues.extend(InputIssue("type", p.loc, p.loc, p.msg, _cell_at(p.loc, cells))
                        for p in exc.problems if p.msg not in said)
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
        for prob in card.checks:  # an error of the whole submission: at the first fact it reads
            if prob.level == "error":
                fid = prob.columns[0] if prob.columns else ""
                a.issues.append(InputIssue("check", fid, pack.facts[fid].label if fid else "报送检查",
                                           prob.message, cells.get(fid) if fid else None))
        tables = card.tables
        for t in tables:  # every table, pack order; several: the row names its table
            where = t.label if len(tables) > 1 else ""
            for row in t.rows:
                for prob in row.errors:
                    col = prob.columns[0] if prob.columns else None
                    key = f"{t.table}[{row.index}].{col}" if col else None
                    a.issues.append(InputIssue("check", key or "", f"{where}第{row.index}行",
                                               f"{where}第{row.index}行：{prob.message}",
                                               cells.get(key) if key else None))
    order = {"type": 0, "range": 0, "check": 0, "missing": 1, "template": 2}
    a.issues.sort(key=lambda i: order[i.kind])


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


def _cell_at(loc: str, cells: dict[str, Cell]) -> Cell | None:
    for c in cells.values():
        if c.ref == loc:
            return c
    return None


__all__ = ["Assessment", "InputIssue", "assess_payload", "assess_book"]
