"""``campaign publish``: record the 通报 as an event (the ranking as computed
now, from the events before it).  ``verify`` recomputes every publication
and reports one whose recorded results no longer follow from the events."""
from __future__ import annotations

import json

from ..errors import Problem
from .chain import canonical
from .report import report_data
from .state import derive
from .store import Campaign, Event, NewEvent, Store, StoreError


def _results(data: dict) -> dict:
    out = {"ranking": [{k: r[k] for k in ("rank", "unit", "total", "grade", "flags")} for r in data["ranking"]],
           "apart": [{k: a[k] for k in ("unit", "status", "total")} for a in data["apart"]]}
    if data.get("ledger"):  # as the JSON text reads back (numbers as text), so a re-check compares alike
        out["ledger"] = json.loads(canonical({"units": data["ledger"]["units"], "rollups": data["ledger"]["rollups"]}))
    return out


def publish(store: Store, campaign: Campaign, actor: str) -> Event:
    events = store.events(campaign)
    state = derive(campaign, events)
    if not state.draft:
        raise StoreError("没有需要发布的变化", [Problem(campaign.period, f"第{state.published.seq}号记录已发布当前结果")])  # type: ignore[union-attr]
    if not state.ranked() and not (state.ledger and any(u.status == "final" for u in state.units.values())):
        raise StoreError("没有可排名的正式结果", [Problem(campaign.period, "所有单位均为暂定、有错误或未上报；请先完成核定")])
    data = report_data(state)
    payload = {"as_of": state.seq, "title": data["title"], "pack_hash": campaign.pack_hash, **_results(data)}
    return store.append(campaign, [NewEvent("publish", None, payload, actor)])[0]


def check_publications(campaign: Campaign, events: list[Event]) -> list[Problem]:
    out = []
    for ev in events:
        if ev.kind != "publish":
            continue
        state = derive(campaign, events, upto=ev.payload.get("as_of", ev.seq - 1))
        again = _results(report_data(state))
        if any(again.get(k) != ev.payload.get(k) for k in ("ranking", "apart", "ledger")):
            out.append(Problem(f"考核 {campaign.period}",
                               f"第{ev.seq}号记录（通报发布）中的结果与按此前记录重新计算的结果不一致"))
    return out


def published_state(campaign: Campaign, events: list[Event]):
    """The state as the last 通报 published it (the events up to its ``as_of``)."""
    pubs = [ev for ev in events if ev.kind == "publish" and isinstance(ev.payload.get("as_of"), int)]
    if not pubs:
        raise StoreError("尚未发布通报", [Problem(campaign.period, "先运行 rubric-xl campaign publish")])
    pub = pubs[-1]
    state = derive(campaign, events, upto=pub.payload["as_of"])
    state.published, state.seq, state.head = pub, pub.seq, pub.hash
    return state
