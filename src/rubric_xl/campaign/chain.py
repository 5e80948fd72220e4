"""The event hash chain: canonical JSON of each event plus the hash before it.

The first event of a campaign chains onto the campaign's genesis hash, which
covers its period, pack hash and unit list.  ``verify`` recomputes the whole
chain and reports the first row that was edited, deleted or reordered.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from ..errors import Problem
from ..rules import load_pack_text


def canonical(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, Chinese kept (the hashed text)."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def genesis(period: str, pack_hash: str, units: list[str]) -> str:
    return sha(canonical({"campaign": period, "pack_hash": pack_hash, "units": units}))


def event_hash(prev: str, seq: int, kind: str, unit: str | None, actor: str, at: str,
               payload: str) -> str:
    """*payload* is the event's canonical JSON text as stored."""
    head = canonical({"seq": seq, "kind": kind, "unit": unit, "actor": actor, "at": at})
    return sha(prev + "\n" + head + "\n" + payload)


KIND_TEXT = {"submit": "自评上报", "reject": "退回文件", "review": "核定", "confirm": "核定确认",
             "spotcheck": "抽查", "publish": "通报发布"}


def _what(row) -> str:
    return f"第{row.seq}号记录（{KIND_TEXT.get(row.kind, row.kind)}{'，' + row.unit if row.unit else ''}）"


def verify_rows(campaign, rows: list) -> list[Problem]:
    """Problems with the stored chain of *campaign* (rows ordered by id)."""
    where = f"考核 {campaign.period}"
    out: list[Problem] = []
    try:
        units = json.loads(campaign.units)
        pack = load_pack_text(campaign.pack_text, "stored pack")
        if pack.hash != campaign.pack_hash:
            out.append(Problem(where, "保存的规则包文本已被改动：其校验码与建档时记录的不一致"))
    except Exception:
        units = None
        out.append(Problem(where, "保存的规则包文本或单位名单已损坏，无法读取"))
    prev = genesis(campaign.period, campaign.pack_hash, units if units is not None else [])
    expect = 1
    by_seq = sorted(rows, key=lambda r: r.seq)
    if [r.id for r in by_seq] != sorted(r.id for r in rows):
        out.append(Problem(where, "记录的顺序被打乱：记录编号与写入顺序不一致"))
    for row in by_seq:
        if row.seq != expect:
            if row.seq > expect:
                gap = f"第{expect}号" if row.seq == expect + 1 else f"第{expect}–{row.seq - 1}号"
                out.append(Problem(where, f"{gap}记录已被删除（{_what(row)}之前缺少记录）"))
            else:
                out.append(Problem(where, f"{_what(row)}的编号重复或被改动"))
            return out
        if row.prev_hash != prev:
            out.append(Problem(where, f"{_what(row)}之前的记录被删除、改动或调换了顺序（前一记录的校验码不符）"))
            return out
        try:
            json.loads(row.payload)
        except ValueError:
            out.append(Problem(where, f"{_what(row)}的内容已损坏（不是有效的 JSON）"))
            return out
        if event_hash(prev, row.seq, row.kind, row.unit, row.actor, row.at, row.payload) != row.hash:
            out.append(Problem(where, f"{_what(row)}已被改动：内容与其校验码不符"))
            return out
        prev = row.hash
        expect += 1
    if campaign.head_seq != expect - 1:
        if campaign.head_seq > expect - 1:
            gap = f"第{expect}号" if campaign.head_seq == expect else f"第{expect}–{campaign.head_seq}号"
            out.append(Problem(where, f"末尾的{gap}记录已被删除（共应有 {campaign.head_seq} 条记录）"))
        else:
            out.append(Problem(where, f"记录数（{expect - 1}）与考核的记录链头（{campaign.head_seq}）不一致"))
    elif campaign.head_hash != prev:
        out.append(Problem(where, "最后一条记录已被替换：记录链头的校验码不符"))
    return out
