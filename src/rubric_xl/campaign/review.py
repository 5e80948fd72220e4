"""核定 and 抽查: corrections and findings appended as events.

A correction names the fact, the 核定 value, the reason and the evidence; the
自评 value is taken from the unit's current submission.  A spot-check finding
sets a fact (by default the 抽查 condition of an item, such as item 38's
``spot_check_rebound_found``) and so can zero the item and raise 通报批评.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import FactsError, Problem
from ..rules import RulePack
from .codec import encode_one, parse_text
from .state import UnitState, derive
from .store import Campaign, Event, NewEvent, Store, StoreError


@dataclass
class Change:
    fact: str
    value: Any  # as typed (text) or a cell value
    reason: str
    evidence: str = ""
    where: str = ""  # for messages: "--set 第1项" or "核定表 核定!D5"


def _unit(store: Store, campaign: Campaign, unit: str) -> UnitState:
    state = derive(campaign, store.events(campaign))
    u = state.units.get(unit)
    if u is None:
        raise StoreError("未知的单位", [Problem(unit, f"不在本次考核的单位名单中（{'、'.join(campaign.units)}）")])
    return u


def corrections(pack: RulePack, u: UnitState, changes: list[Change]) -> list[dict]:
    """Checked corrections (FactsError lists every bad one)."""
    out, problems = [], []
    stored = u.submission.payload.get("facts", {}) if u.submission else {}
    for ch in changes:
        where = ch.where or ch.fact
        try:
            value = parse_text(pack, ch.fact, ch.value, where)
        except FactsError as exc:
            problems += exc.problems
            continue
        if not (ch.reason or "").strip():
            problems.append(Problem(where, f"{pack.facts[ch.fact].label}：核定须写明理由"))
            continue
        f = pack.facts[ch.fact]
        out.append({"fact": ch.fact, "self_value": stored.get(ch.fact), "value": encode_one(f, value),
                    "reason": ch.reason.strip(), "evidence": (ch.evidence or "").strip()})
    if problems:
        raise FactsError("核定内容有误，未保存任何核定", problems)
    return out


def review(store: Store, campaign: Campaign, unit: str, changes: list[Change], reviewer: str,
           source: str = "命令行") -> Event:
    u = _unit(store, campaign, unit)
    if u.submission is None:
        raise StoreError("该单位尚无可核定的上报", [Problem(unit, "请先导入该单位的自评工作簿（campaign import）")])
    checked = corrections(campaign.pack(), u, changes)
    if not checked:
        raise StoreError("没有核定内容", [Problem(unit, "请用 --set 事实=核定值 给出核定，或用 --confirm 确认自评无误")])
    ev = NewEvent("review", unit, {"submission": u.submission.seq, "corrections": checked, "source": source},
                  reviewer)
    return store.append(campaign, [ev])[0]


def confirm(store: Store, campaign: Campaign, unit: str, reviewer: str, note: str = "") -> Event:
    u = _unit(store, campaign, unit)
    if u.submission is None:
        raise StoreError("该单位尚无可核定的上报", [Problem(unit, "请先导入该单位的自评工作簿（campaign import）")])
    ev = NewEvent("confirm", unit, {"submission": u.submission.seq, "note": note}, reviewer)
    return store.append(campaign, [ev])[0]


def spot_fact(pack: RulePack, item_id: str) -> str:
    """The 抽查 fact of an item: a yes/no fact that alone zeroes the item (with a flag when the pack has one)."""
    try:
        item = pack.item(item_id)
    except StopIteration:
        raise StoreError("未知的评分项目", [Problem(f"--item {item_id}", f"规则包 {pack.id} 中没有第{item_id}项")]) from None
    found = []
    for node, z in item.zero_if:
        if node is not None and node.kind == "name" and pack.facts.get(node.value) is not None \
                and pack.facts[node.value].type == "bool":
            found.append((z.flag is None, node.value))
    if not found:
        raise StoreError("此项目没有抽查条件", [Problem(f"--item {item_id}",
                         f"第{item_id}项没有“抽查发现即不得分”的条件；请用 --fact 指定事实")])
    return sorted(found)[0][1]


def spotcheck(store: Store, campaign: Campaign, unit: str, finding: str, inspector: str, *,
              item: str | None = None, fact: str | None = None, value: str = "是",
              evidence: str = "") -> Event:
    pack = campaign.pack()
    if not (item or fact):
        raise StoreError("请指定抽查的项目或事实", [Problem("--item/--fact", "例如 --item 38")])
    fid = fact or spot_fact(pack, item)  # type: ignore[arg-type]
    _unit(store, campaign, unit)
    if not finding.strip():
        raise StoreError("请写明抽查发现的问题", [Problem("--finding", "例如 抽查发现某企业死灰复燃")])
    v = parse_text(pack, fid, value, f"--fact {fid}")
    ev = NewEvent("spotcheck", unit, {"fact": fid, "item": item, "value": encode_one(pack.facts[fid], v),
                                      "finding": finding.strip(), "evidence": evidence.strip()}, inspector)
    return store.append(campaign, [ev])[0]
