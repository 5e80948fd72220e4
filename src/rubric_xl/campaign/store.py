"""The campaign store: campaigns and their append-only events.

Appending is safe with several writers (two auditors at once): the
campaign's chain head (``head_seq``) is an optimistic version; a writer whose
head moved under it (or whose new ``seq`` collided on the unique key) rolls
back and retries on the new head, so no event is ever lost or forked.
"""
from __future__ import annotations

import datetime as _dt
import json
import random
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..errors import InputFileError, Problem
from ..rules import RulePack, load_pack_text
from .chain import canonical, event_hash, genesis, verify_rows
from .db import open_engine
from .models import CampaignRow, EventRow

RETRIES = 200


class StoreError(InputFileError):
    """The store refused the request: no such campaign or unit, a duplicate period,
    nothing to publish, lost contention.  An :class:`InputFileError` (exit code 1)."""


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Campaign:
    id: int
    period: str
    pack_id: str
    pack_version: str
    pack_hash: str
    pack_text: str
    units: tuple[str, ...]
    created_at: str
    head_seq: int
    head_hash: str

    def pack(self) -> RulePack:
        """The stored pack, rebuilt from its stored text (never from rules/*.yaml)."""
        return _pack(self.pack_text)


_PACKS: dict[str, RulePack] = {}


def _pack(text: str) -> RulePack:
    hit = _PACKS.get(text)
    if hit is None:
        hit = _PACKS[text] = load_pack_text(text, "考核记录中保存的规则包")
    return hit


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    unit: str | None
    actor: str
    at: str
    payload: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class NewEvent:
    kind: str
    unit: str | None
    payload: dict[str, Any]
    actor: str = "rubric-xl"


def _campaign(row: CampaignRow) -> Campaign:
    return Campaign(row.id, row.period, row.pack_id, row.pack_version, row.pack_hash, row.pack_text,
                    tuple(json.loads(row.units)), row.created_at, row.head_seq, row.head_hash)


class _Moved(Exception):
    """The chain head moved while we appended: retry."""


class Store:
    def __init__(self, db: str | None = None, engine: Engine | None = None):
        self.engine = engine if engine is not None else open_engine(db)

    def close(self) -> None:
        self.engine.dispose()

    # --- campaigns ----------------------------------------------------------
    def create(self, pack: RulePack, pack_text: str, period: str, units: list[str]) -> Campaign:
        period = period.strip()
        if not period:
            raise StoreError("考核期次不能为空", [Problem("--period", "例如 2005 或 2024-03")])
        with Session(self.engine) as s, s.begin():
            if s.scalar(select(CampaignRow.id).where(CampaignRow.period == period)) is not None:
                raise StoreError("考核期次已存在", [Problem(period, "该期次已建档；换一个期次名称，或直接导入上报文件")])
            row = CampaignRow(period=period, pack_id=pack.id, pack_version=pack.version, pack_hash=pack.hash,
                              pack_text=pack_text, units=canonical(list(units)), created_at=now(),
                              head_seq=0, head_hash=genesis(period, pack.hash, list(units)))
            s.add(row)
            s.flush()
            return _campaign(row)

    def campaigns(self) -> list[Campaign]:
        with Session(self.engine) as s:
            return [_campaign(r) for r in s.scalars(select(CampaignRow).order_by(CampaignRow.id))]

    def campaign(self, period: str | None = None) -> Campaign:
        """The campaign of *period*, or the newest one."""
        allc = self.campaigns()
        if not allc:
            raise StoreError("考核记录库中还没有考核", [Problem("", "先运行 rubric-xl campaign init --rules 规则包 --period 期次")])
        if period is None:
            return allc[-1]
        for c in allc:
            if c.period == period:
                return c
        names = "、".join(c.period for c in allc)
        raise StoreError("找不到考核期次", [Problem(period, f"库中的期次有：{names}")])

    # --- events -------------------------------------------------------------
    def append(self, campaign: Campaign, events: list[NewEvent]) -> list[Event]:
        """Append *events* in order, atomically, retrying when another writer moved the head."""
        if not events:
            return []
        for attempt in range(RETRIES):
            try:
                return self._append_once(campaign.id, events)
            except (_Moved, IntegrityError, OperationalError) as exc:
                if isinstance(exc, OperationalError) and not _transient(exc):
                    raise
                time.sleep(random.uniform(0.001, 0.01 * min(attempt + 1, 10)))
        raise StoreError("记录库繁忙，写入失败", [Problem(campaign.period, "同时写入的人太多，请稍后重试")])

    def _append_once(self, cid: int, events: list[NewEvent]) -> list[Event]:
        out = []
        with Session(self.engine) as s, s.begin():
            head = s.execute(select(CampaignRow.head_seq, CampaignRow.head_hash)
                             .where(CampaignRow.id == cid)).one()
            seq, prev = head.head_seq, head.head_hash
            at = now()
            rows = []
            for ev in events:
                seq += 1
                text = canonical(ev.payload)
                h = event_hash(prev, seq, ev.kind, ev.unit, ev.actor, at, text)
                rows.append(EventRow(campaign_id=cid, seq=seq, kind=ev.kind, unit=ev.unit, actor=ev.actor,
                                     at=at, payload=text, prev_hash=prev, hash=h))
                out.append(Event(seq, ev.kind, ev.unit, ev.actor, at, json.loads(text), h))
                prev = h
            s.add_all(rows)
            s.flush()
            moved = s.execute(update(CampaignRow)
                              .where(CampaignRow.id == cid, CampaignRow.head_seq == head.head_seq)
                              .values(head_seq=seq, head_hash=prev))
            if moved.rowcount != 1:
                raise _Moved()
        return out

    def events(self, campaign: Campaign, unit: str | None = None) -> list[Event]:
        q = select(EventRow).where(EventRow.campaign_id == campaign.id).order_by(EventRow.seq)
        if unit is not None:
            q = q.where(EventRow.unit == unit)
        with Session(self.engine) as s:
            out = []
            for r in s.scalars(q):
                try:
                    payload = json.loads(r.payload)
                except ValueError:
                    raise InputFileError("考核记录已损坏", [Problem(f"考核 {campaign.period}",
                                         f"第{r.seq}号记录的内容不是有效的 JSON；请运行 campaign verify")]) from None
                out.append(Event(r.seq, r.kind, r.unit, r.actor, r.at, payload, r.hash))
            return out

    def count(self, campaign: Campaign) -> int:
        with Session(self.engine) as s:
            return s.scalar(select(func.count()).select_from(EventRow)
                            .where(EventRow.campaign_id == campaign.id)) or 0

    def verify(self, campaign: Campaign) -> list[Problem]:
        with Session(self.engine) as s:
            row = s.get(CampaignRow, campaign.id)
            if row is None:
                return [Problem(f"考核 {campaign.period}", "考核已被删除")]
            rows = list(s.scalars(select(EventRow).where(EventRow.campaign_id == campaign.id)
                                  .order_by(EventRow.id)))
            return verify_rows(row, rows)


def _transient(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return any(w in text for w in ("locked", "busy", "serialization", "deadlock"))
