"""``campaign diff`` and ``campaign rescore``: what changed, and why.

* 自评 vs 核定 of one campaign: per unit, the facts a 核定 or 抽查 changed
  (with the reason) and the items whose points moved.
* Two periods: per unit, the 核定 facts and item points that differ.
* ``rescore``: every unit's 核定 facts scored with another pack version,
  side by side with the stored pack's result; nothing is stored or published.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..engine import score_values
from ..engine.card import LedgerCard, ScoreCard
from ..engine.facts import convert_facts
from ..errors import FactsError, Problem
from ..rules import RulePack
from ..engine import num
from .codec import decode, encode, show
from .report import item_changes
from .state import STATUS_TEXT, CampaignState


def _amt(d: Decimal | None) -> str | None:
    return None if d is None else num.amount(d)


def _facts(state: CampaignState, u) -> list[dict]:
    return [{"fact": c.fact, "label": state.pack.facts[c.fact].label, "kind": "核定" if c.kind == "review" else "抽查",
             "before": show(state.pack.facts[c.fact], c.self_value),
             "after": show(state.pack.facts[c.fact], c.value), "reason": c.reason, "evidence": c.evidence,
             "by": c.reviewer} for c in u.changes.values()]


def _ledger_totals(card: LedgerCard) -> dict[str, Any]:
    """metric label → value of the card's first roll-up total (the unit's own 合计), as text."""
    for ru in card.rollups:
        if ru.total is not None:
            return {card.metric_labels.get(k, k): show_metric(v) for k, v in ru.total.items()}
    return {}


def show_metric(v: Any) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        return num.amount(v) if v != v.to_integral_value() else str(int(v))
    return "—" if v is None else str(v)


def _ledger_rows_diff(a: LedgerCard, b: LedgerCard) -> list[dict]:
    """Rows by key: added, removed, or whose status changed (动态清零, 回头看)."""
    old = {r.key: r for r in a.rows if r.key}
    new = {r.key: r for r in b.rows if r.key}
    out = []
    for key, r in new.items():
        if key not in old:
            out.append({"key": key, "before": None, "after": r.status, "change": "新增"})
        elif old[key].status != r.status:
            out.append({"key": key, "before": old[key].status, "after": r.status, "change": "状态变化"})
    out += [{"key": k, "before": r.status, "after": None, "change": "不再列入"} for k, r in old.items() if k not in new]
    return out


def review_diff(state: CampaignState, unit: str | None = None) -> list[dict]:
    out = []
    for u in state.units.values():
        if unit and u.unit != unit or u.card is None:
            continue
        if not isinstance(u.card, ScoreCard):
            out.append({"unit": u.unit, "before_total": None, "after_total": None, "items": [],
                        "facts": _facts(state, u)})
            continue
        facts = _facts(state, u)
        items = [{"item": x["item"], "title": x["title"], "before": x["self_points"], "after": x["points"]}
                 for x in item_changes(state, u)]
        out.append({"unit": u.unit, "before_total": _amt(u.self_card.total),  # type: ignore[union-attr]
                    "after_total": _amt(u.card.total), "facts": facts, "items": items})
    return out


def period_diff(old: CampaignState, new: CampaignState, unit: str | None = None) -> list[dict]:
    out = []
    names = list(dict.fromkeys(list(new.campaign.units) + list(old.campaign.units)))
    for name in names:
        if unit and name != unit:
            continue
        a, b = old.units.get(name), new.units.get(name)
        row: dict[str, Any] = {"unit": name,
                               "before_status": STATUS_TEXT[a.status] if a else "不在名单中",
                               "after_status": STATUS_TEXT[b.status] if b else "不在名单中",
                               "before_total": _amt(getattr(a.card, "total", None)) if a else None,
                               "after_total": _amt(getattr(b.card, "total", None)) if b else None,
                               "facts": [], "items": []}
        if a and b and isinstance(a.card, LedgerCard) and isinstance(b.card, LedgerCard):
            ta, tb = _ledger_totals(a.card), _ledger_totals(b.card)
            row["metrics"] = [{"metric": k, "before": ta.get(k), "after": v} for k, v in tb.items() if ta.get(k) != v]
            row["rows"] = _ledger_rows_diff(a.card, b.card)
        elif a and b and isinstance(a.card, ScoreCard) and isinstance(b.card, ScoreCard):
            ea, eb = encode(old.pack, a.values), encode(new.pack, b.values)
            for fid, f in new.pack.facts.items():
                if fid in ea and ea[fid] != eb.get(fid):
                    why = b.changes.get(fid)
                    row["facts"].append({"fact": fid, "label": f.label, "before": show(f, ea[fid]),
                                         "after": show(f, eb.get(fid)), "reason": why.reason if why else ""})
            pa = {it.id: it for it in a.card.items}
            for it in b.card.items:
                if it.id in pa and pa[it.id].points != it.points:
                    row["items"].append({"item": it.id, "title": it.title, "before": _amt(pa[it.id].points),
                                         "after": _amt(it.points), "explanation": it.explanation})
        out.append(row)
    return out


def rescore(state: CampaignState, new_pack: RulePack) -> tuple[list[dict], list[Problem]]:
    """Each scored unit's 核定 facts under *new_pack*; problems for facts the new pack rejects."""
    rows, problems = [], []
    for u in state.units.values():
        if u.card is None:
            continue
        stored = encode(state.pack, u.values)
        raw = decode(new_pack, stored)
        try:
            values = convert_facts(new_pack, raw, f"{u.unit}（按新规则包）")
        except FactsError as exc:
            problems += exc.problems
            continue
        card = score_values(new_pack, values)
        if not isinstance(card, ScoreCard) or not isinstance(u.card, ScoreCard):
            if isinstance(card, LedgerCard) and isinstance(u.card, LedgerCard):
                rows.append({"unit": u.unit, "status": STATUS_TEXT[u.status], "before_total": None,
                             "after_total": None, "before_grade": None, "after_grade": None, "grade_changed": False,
                             "provisional": False, "items": [],
                             "before_errors": u.card.error_count, "after_errors": card.error_count,
                             "before_metrics": _ledger_totals(u.card), "after_metrics": _ledger_totals(card)})
            continue
        olds = {it.id: it for it in u.card.items}
        moved = [{"item": it.id, "title": it.title,
                  "before": _amt(olds[it.id].points) if it.id in olds else None, "after": _amt(it.points)}
                 for it in card.items if it.id not in olds or olds[it.id].points != it.points]
        rows.append({"unit": u.unit, "status": STATUS_TEXT[u.status], "before_total": _amt(u.card.total),
                     "after_total": _amt(card.total), "before_grade": u.card.grade, "after_grade": card.grade,
                     "grade_changed": u.card.grade != card.grade, "provisional": card.provisional,
                     "items": moved})
    return rows, problems
