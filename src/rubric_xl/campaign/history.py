"""``campaign history UNIT``: everything that happened to one unit, in order."""
from __future__ import annotations

from .chain import KIND_TEXT
from .codec import show
from .state import well_formed
from .store import Campaign, Event, Store


def _text(campaign: Campaign, ev: Event) -> str:
    p = ev.payload
    pack = campaign.pack()
    if ev.kind == "submit":
        card = p.get("self_card", {})
        errs = sum(1 for x in p.get("problems", []) if x.get("level") == "error")
        what = f"台账 {card.get('rows')} 条" if card.get("kind") == "ledger" else f"自评总分 {card.get('total')}"
        return (f"上报 {p.get('file')}（sha256 {p.get('sha256', '')[:12]}），{what}"
                + ("（暂定）" if card.get("provisional") else "") + (f"，{errs} 个错误" if errs else ""))
    if ev.kind == "reject":
        return f"文件 {p.get('file')} 未导入：" + "；".join(x.get("msg", "") for x in p.get("problems", [])[:3])
    if ev.kind == "review":
        parts = []
        for c in p.get("corrections", []):
            f = pack.facts.get(c["fact"])
            label = f.label if f else c["fact"]
            parts.append(f"{label} {show(f, c.get('self_value')) if f else c.get('self_value')}"
                         f" → {show(f, c.get('value')) if f else c.get('value')}（理由：{c.get('reason')}"
                         + (f"；依据：{c['evidence']}" if c.get("evidence") else "") + "）")
        return f"核定（{p.get('source', '')}，针对第{p.get('submission')}号上报）：" + "；".join(parts)
    if ev.kind == "confirm":
        return f"核定确认第{p.get('submission')}号上报无误" + (f"：{p['note']}" if p.get("note") else "")
    if ev.kind == "spotcheck":
        f = pack.facts.get(p.get("fact", ""))
        return (f"抽查{('第' + p['item'] + '项') if p.get('item') else ''}：{p.get('finding')}"
                f"（{f.label if f else p.get('fact')} = {show(f, p.get('value')) if f else p.get('value')}）")
    if ev.kind == "publish":
        return f"发布通报：{len(p.get('ranking', []))} 个单位排名"
    return ev.kind


def history(store: Store, campaign: Campaign, unit: str | None) -> list[dict]:
    events = store.events(campaign, unit)
    return [{"seq": ev.seq, "kind": ev.kind, "kind_text": KIND_TEXT.get(ev.kind, ev.kind), "unit": ev.unit,
             "by": ev.actor, "at": ev.at, "text": _safe_text(campaign, ev), "payload": ev.payload} for ev in events]


def _safe_text(campaign: Campaign, ev: Event) -> str:
    if not well_formed(ev):
        return f"（第{ev.seq}号记录已损坏，无法读取；请运行 rubric-xl campaign verify）"
    return _text(campaign, ev)
