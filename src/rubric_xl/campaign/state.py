"""The current state of a campaign, derived from its events alone.

Nothing cached is trusted: each unit's 自评 card is scored from the facts of
its current submission, and its 核定 card from those facts with every 核定
correction (on that submission) and every 抽查 finding applied, always with
the campaign's stored pack.  A re-submission supersedes the earlier one; the
earlier one and its corrections stay in history.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from ..engine import score_values
from ..engine.card import LedgerCard, ScoreCard
from ..engine.facts import convert_facts
from ..errors import Problem, RubricError
from ..rules import RulePack
from .codec import decode, decode_one
from .store import Campaign, Event

STATUS_TEXT = {"final": "正式", "provisional": "暂定", "error": "有错误", "failed": "文件无法评分",
               "missing": "未上报"}


def local_time(at: str) -> str:
    """An event time (stored in UTC) as the user reads it: this computer's local time, to the minute."""
    try:
        return _dt.datetime.fromisoformat(at).astimezone().strftime("%Y-%m-%d %H:%M")
    except (ValueError, TypeError):
        return str(at)


@dataclass
class Correction:
    fact: str
    self_value: Any  # stored (encoded) form
    value: Any
    reason: str
    evidence: str
    reviewer: str
    at: str
    seq: int
    kind: str = "review"  # review | spotcheck


@dataclass
class UnitState:
    unit: str
    submission: Event | None = None
    superseded: list[Event] = field(default_factory=list)
    rejected: list[Event] = field(default_factory=list)
    reviews: list[Event] = field(default_factory=list)  # on the current submission
    confirm: Event | None = None
    findings: list[Event] = field(default_factory=list)
    self_card: ScoreCard | LedgerCard | None = None
    card: ScoreCard | LedgerCard | None = None  # 核定 (final) card
    self_values: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Correction] = field(default_factory=dict)  # fact -> the correction in force
    errors: list[Problem] = field(default_factory=list)  # outstanding errors

    @property
    def status(self) -> str:
        if self.submission is None:
            return "failed" if self.rejected else "missing"
        if self.errors:
            return "error"
        if self.card is not None and getattr(self.card, "provisional", False):
            return "provisional"
        return "final"

    @property
    def reviewed(self) -> bool:
        return bool(self.reviews) or self.confirm is not None

    @property
    def pending(self) -> list[str]:
        """What still has to be done for this unit (Chinese)."""
        s = self.status
        if s == "missing":
            return ["未上报"]
        if s == "failed":
            return ["上报文件无法评分，需重新上报"]
        out = []
        if s == "error":
            out.append("数据有错误，需更正或重新上报")
        if s == "provisional":
            out.append("有待填项目（暂定分）")
        if not self.reviewed:
            out.append("待核定")
        return out


@dataclass
class CampaignState:
    campaign: Campaign
    pack: RulePack
    units: dict[str, UnitState]
    unknown: list[Event]  # rejected files whose unit is not known
    published: Event | None
    seq: int  # events folded
    head: str = ""  # hash of the last event folded (printed on the 通报: anchors the chain on paper)

    @property
    def draft(self) -> bool:
        """True when something happened after the last 通报 (or none was published)."""
        return self.published is None or self.published.seq != self.seq

    def ranked(self) -> list[tuple[int, UnitState]]:
        """Final units by 核定 total, highest first; ties share a rank (1, 2, 2, 4)."""
        final = [u for u in self.units.values() if u.status == "final" and isinstance(u.card, ScoreCard)]
        order = {name: i for i, name in enumerate(self.campaign.units)}
        final.sort(key=lambda u: (-u.card.total, order.get(u.unit, 0)))  # type: ignore[union-attr]
        return list(zip(competition_ranks([u.card.total for u in final]), final))  # type: ignore[union-attr]

    def apart(self) -> list[UnitState]:
        """Units not ranked: provisional, erroneous, unreadable, missing (in list order).
        Ledger campaigns have no ranking: their final units are reported with the roll-ups."""
        return [u for u in self.units.values() if u.status != "final"]

    @property
    def ledger(self) -> bool:
        return self.pack.model.kind == "ledger"


def competition_ranks(totals: list) -> list[int]:
    """Ranks of *totals* sorted highest first: equal totals share a rank, the next
    rank skips (1, 2, 2, 4) — each rank is 1 + the number of strictly higher totals."""
    out: list[int] = []
    for i, t in enumerate(totals):
        out.append(out[-1] if i and totals[i - 1] == t else i + 1)
    return out


def _score(pack: RulePack, raw: dict[str, Any]) -> tuple[dict[str, Any], ScoreCard | LedgerCard]:
    values = convert_facts(pack, raw, "考核记录")
    return values, score_values(pack, values)


SHAPE = {"submit": {"file": str, "sha256": str, "facts": dict, "problems": list},
         "reject": {"file": str, "problems": list},
         "review": {"submission": int, "corrections": list},
         "confirm": {"submission": int},
         "spotcheck": {"fact": str},
         "publish": {"as_of": int, "ranking": list}}
CORRECTION = {"fact": str, "reason": str}


def well_formed(ev: Event) -> bool:
    """True when the event's payload has the fields its kind needs (a row edited by hand may not)."""
    want = SHAPE.get(ev.kind)
    if want is None or not isinstance(ev.payload, dict):
        return False
    if not all(isinstance(ev.payload.get(k), t) for k, t in want.items()):
        return False
    if ev.kind == "review":
        return all(isinstance(c, dict) and all(isinstance(c.get(k), t) for k, t in CORRECTION.items())
                   and "value" in c for c in ev.payload["corrections"])
    return True


def derive(campaign: Campaign, events: list[Event], upto: int | None = None) -> CampaignState:
    """Fold *events* (up to seq *upto*) into the state of every unit."""
    pack = campaign.pack()
    units = {u: UnitState(u) for u in campaign.units}
    unknown: list[Event] = []
    published = None
    broken: set[str] = set()
    seq, head = 0, ""
    for ev in events:
        if upto is not None and ev.seq > upto:
            break
        seq, head = ev.seq, ev.hash
        u = units.get(ev.unit) if ev.unit else None
        if not well_formed(ev):
            if u is not None:
                broken.add(u.unit)
            continue
        if ev.kind == "publish":
            published = ev
        elif u is None:
            unknown.append(ev)
        elif ev.kind == "submit":
            if u.submission is not None:
                u.superseded.append(u.submission)
            u.submission, u.reviews, u.confirm = ev, [], None
        elif ev.kind == "reject":
            u.rejected.append(ev)
        elif ev.kind == "review" and u.submission and ev.payload.get("submission") == u.submission.seq:
            u.reviews.append(ev)
        elif ev.kind == "confirm" and u.submission and ev.payload.get("submission") == u.submission.seq:
            u.confirm = ev
        elif ev.kind == "spotcheck":
            u.findings.append(ev)
    for u in units.values():
        try:
            if u.unit in broken:
                raise ValueError("malformed event")
            _compute(pack, u)
        except (KeyError, TypeError, ValueError, AttributeError, RubricError):
            # a stored row that no longer reads (edited behind the tool's back): say so, never guess
            u.self_card = u.card = None
            u.errors = [Problem(f"考核 {campaign.period} {u.unit}",
                                "此单位的记录已损坏，无法重新计算得分；请运行 rubric-xl campaign verify")]
    return CampaignState(campaign, pack, units, unknown, published, seq, head)


def _compute(pack: RulePack, u: UnitState) -> None:
    if u.submission is None:
        return
    stored = u.submission.payload.get("facts", {})
    u.self_values, u.self_card = _score(pack, decode(pack, stored))
    changes: dict[str, Correction] = {}
    for ev in sorted(u.reviews + u.findings, key=lambda e: e.seq):  # the later word on a fact wins
        if ev.kind == "review":
            for c in ev.payload.get("corrections", []):
                changes[c["fact"]] = Correction(c["fact"], c.get("self_value"), c.get("value"), c.get("reason", ""),
                                                c.get("evidence", ""), ev.actor, ev.at, ev.seq)
        else:
            p = ev.payload
            changes[p["fact"]] = Correction(p["fact"], stored.get(p["fact"]), p.get("value"), p.get("finding", ""),
                                            p.get("evidence", ""), ev.actor, ev.at, ev.seq, "spotcheck")
    changes = {k: c for k, c in changes.items() if k in pack.facts}
    u.changes = changes
    if changes:
        raw = decode(pack, stored)
        for fid, c in changes.items():
            raw[fid] = decode_one(pack.facts[fid], c.value)
        u.values, u.card = _score(pack, raw)
    else:
        u.values, u.card = u.self_values, u.self_card
    u.errors = [Problem(p.get("loc", ""), p.get("msg", ""), "error")
                for p in u.submission.payload.get("problems", [])
                if p.get("level") == "error" and not (p.get("fact") and p["fact"] in changes)]
