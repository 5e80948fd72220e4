"""Invariants of the campaign store, checked with hypothesis:

* facts survive the store exactly: converting, storing as JSON and decoding
  gives the very same score card (no float anywhere);
* the hash chain finds any single edited, deleted or swapped row, and the
  first row it names is the first row that was changed.
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from rubric_xl import convert_facts, load_pack, score_values, to_dict
from rubric_xl.campaign.chain import canonical, event_hash, genesis, verify_rows
from rubric_xl.campaign.codec import decode, encode
from rubric_xl.samples import random_facts

ROOT = Path(__file__).resolve().parents[1]
SHANXI = ROOT / "rules" / "shanxi-2005.yaml"
PACK = load_pack(SHANXI)
TEXT = SHANXI.read_text(encoding="utf-8")


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), blanks=st.sampled_from([0.0, 0.1, 0.5]))
def test_stored_facts_score_exactly_as_read(seed, blanks):
    raw = random_facts(PACK, random.Random(seed), blank_rate=blanks)
    values = convert_facts(PACK, raw)
    stored = json.loads(json.dumps(encode(PACK, values)))  # what the database keeps
    again = convert_facts(PACK, decode(PACK, stored))
    assert again == values
    assert to_dict(score_values(PACK, again)) == to_dict(score_values(PACK, values))


def _chain(n: int, units: list[str]) -> tuple[SimpleNamespace, list[SimpleNamespace]]:
    prev = genesis("2005", PACK.hash, units)
    rows = []
    for seq in range(1, n + 1):
        payload = canonical({"n": seq, "facts": {"weekly_reports_count": str(seq)}})
        h = event_hash(prev, seq, "review", units[seq % len(units)], "张三", f"2026-01-01T00:00:{seq:02d}", payload)
        rows.append(SimpleNamespace(id=seq, seq=seq, kind="review", unit=units[seq % len(units)], actor="张三",
                                    at=f"2026-01-01T00:00:{seq:02d}", payload=payload, prev_hash=prev, hash=h))
        prev = h
    camp = SimpleNamespace(period="2005", units=canonical(units), pack_text=TEXT, pack_hash=PACK.hash,
                           head_seq=n, head_hash=prev)
    return camp, rows


UNITS = ["太原市", "大同市", "朔州市"]


@settings(max_examples=80, deadline=None)
@given(n=st.integers(2, 12), data=st.data())
def test_any_single_tampering_is_found_at_its_row(n, data):
    camp, rows = _chain(n, UNITS)
    assert verify_rows(camp, rows) == []
    i = data.draw(st.integers(0, n - 1))
    how = data.draw(st.sampled_from(["payload", "unit", "actor", "at", "kind", "delete", "swap"]))
    target = rows[i].seq
    if how == "delete":
        del rows[i]
    elif how == "swap":
        j = (i + 1) % n
        rows[i].seq, rows[j].seq = rows[j].seq, rows[i].seq
        target = min(rows[i].seq, rows[j].seq)
    elif how == "payload":
        rows[i].payload = rows[i].payload.replace('"n":', '"m":')
    else:
        setattr(rows[i], how, getattr(rows[i], how) + "x")
    problems = verify_rows(camp, rows)
    assert problems, how
    text = problems[0].msg
    if how in ("payload", "unit", "actor", "at", "kind"):
        assert f"第{target}号记录" in text
    elif how == "delete":
        assert "删除" in text and str(target) in text
    else:
        assert "顺序" in text or "调换" in text or f"第{target}号" in text


@given(st.lists(st.decimals(min_value=0, max_value=120, places=2, allow_nan=False), max_size=30))
def test_competition_ranks(totals):
    from rubric_xl.campaign.state import competition_ranks

    ordered = sorted(totals, reverse=True)
    ranks = competition_ranks(ordered)
    assert ranks == [1 + sum(1 for o in ordered if o > t) for t in ordered]
    assert ranks == sorted(ranks) and (not ranks or ranks[0] == 1)
