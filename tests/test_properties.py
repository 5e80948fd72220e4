"""Invariants of the 2005 pack over random submissions (hypothesis).

Strategies are derived from the pack's own facts (type, options, range), so a
new fact is covered without editing this file.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import SHANXI_PATH
from rubric_xl import load_pack, score

PACK = load_pack(SHANXI_PATH)  # strategies need it at import time; scoring uses the fixture
CENT = Decimal("0.01")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# the seed's 说明: ≥90 优秀, 80–90 优良, 70–80 合格, <70 不合格; only 优秀 may be 先进集体
BANDS = [(Decimal(90), "优秀"), (Decimal(80), "优良"), (Decimal(70), "合格"), (None, "不合格")]


def band(total: Decimal) -> str:
    return next(name for lo, name in BANDS if lo is None or total >= lo)


def value_strategy(f):
    if f.type == "bool":
        return st.booleans()
    if f.type == "int":
        return st.integers(min_value=int(f.min or 0), max_value=60)
    if f.type == "percent":
        # the input contract: above 0 and at most 1 is a "95%" stored as 0.95, invalid
        return st.decimals(min_value=f.min or 0, max_value=f.max or 100, places=2).filter(
            lambda d: not 0 < d <= 1)
    if f.type == "decimal":
        return st.decimals(min_value=f.min or 0, max_value=f.max or 80, places=2)
    if f.type == "date":   # blank = 未报, a valid complete answer
        return st.none() | st.dates(dt.date(2005, 6, 1), dt.date(2006, 1, 31))
    if f.type == "enum":
        return st.sampled_from(f.options)
    raise AssertionError(f"no strategy for {f.type}")


FACTS = [f for f in PACK.model.facts if f.type != "table"]
complete = st.fixed_dictionaries({f.id: value_strategy(f) for f in FACTS})
partial = st.fixed_dictionaries({f.id: st.none() | value_strategy(f) for f in FACTS})


def caps():
    """Most each item can score: its max plus its bonus cap (None = uncapped)."""
    return {ci.id: (None if ci.bonus_cap is None else ci.item.max + ci.bonus_cap) for ci in PACK.items}


CAPS = caps()


def test_the_caps_are_the_seeds():
    assert CAPS["20"] == 5 and CAPS["43"] == 7 and CAPS["44"] is None
    assert all(CAPS[i] == PACK.item(i).item.max for i in CAPS if i not in ("20", "43", "44"))


@SETTINGS
@given(facts=complete)
def test_complete_submission_invariants(shanxi, facts):
    card = score(shanxi, facts)
    assert not card.provisional
    for it in card.items:
        assert it.status == "scored"
        assert type(it.points) is Decimal
        assert it.points == it.points.quantize(CENT)   # an exact multiple of 0.01
        assert it.points >= 0
        if CAPS[it.id] is not None:
            assert it.points <= CAPS[it.id], (it.id, it.points, it.explanation)
        assert it.explanation
    assert type(card.total) is Decimal and card.total == card.total.quantize(CENT)
    assert card.total == sum((it.points for it in card.items), Decimal(0))
    for cat in card.categories:
        assert cat.points == sum((it.points for it in card.items if it.category == cat.name), Decimal(0))
    base = sum((min(it.points, it.max) for it in card.items), Decimal(0))
    assert base <= 100
    assert card.grade == band(card.total)
    assert card.eligible is (card.grade == "优秀")
    assert card.flags == [f"第{it.id}项：{fl}" for it in card.items for fl in it.flags]


@SETTINGS
@given(facts=partial)
def test_provisional_iff_an_item_is_incomplete(shanxi, facts):
    card = score(shanxi, facts)
    incomplete = [it for it in card.items if it.status == "incomplete"]
    assert card.provisional is bool(incomplete)
    started = any(v is not None for v in facts.values())  # shanxi-2005 has no unit fact
    for it in card.items:
        ci = shanxi.item(it.id)
        # a blank date is 未报 (scorable); any other blank input → 待填; nothing entered → all 待填
        blanks = [f for f in ci.facts if facts[f] is None and shanxi.facts[f].type != "date"]
        assert (it.status == "incomplete") is (bool(blanks) or not started), (it.id, blanks)
        assert (it.explanation == "待填：尚未开始填报") is (not started)
        if blanks:
            assert it.points is None and sorted(it.missing) == sorted(blanks)
    assert card.total == sum((it.points for it in card.items if it.points is not None), Decimal(0))
    assert card.grade == band(card.total)


def _points(pack, facts, iid, **changes):
    return score(pack, {**facts, **changes}).item(iid).points


@SETTINGS
@given(facts=complete, a=st.integers(0, 40), b=st.integers(0, 40))
def test_more_weekly_reports_never_lower_item10(shanxi, facts, a, b):
    lo, hi = sorted((a, b))
    assert _points(shanxi, facts, "10", weekly_reports_count=lo) <= \
        _points(shanxi, facts, "10", weekly_reports_count=hi)


RATE_ITEMS = [("28", "three_simultaneous_rate"), ("30", "complaint_handling_rate"),
              ("32", "violation_handling_rate"), ("33", "penalty_execution_rate"),
              ("34", "referred_petition_closure_rate"), ("36", "key_enterprise_compliance_rate"),
              ("37", "three_simultaneous_rate"), ("40", "hotline_county_coverage_rate")]
rates = st.decimals(min_value=0, max_value=100, places=2).filter(lambda d: not 0 < d <= 1)  # input contract


@SETTINGS
@given(facts=complete, which=st.sampled_from(RATE_ITEMS), a=rates, b=rates)
def test_higher_rates_never_lower_items(shanxi, facts, which, a, b):
    iid, fact = which
    lo, hi = sorted((a, b))
    p_lo = _points(shanxi, facts, iid, **{fact: lo})
    p_hi = _points(shanxi, facts, iid, **{fact: hi})
    assert p_lo <= p_hi, (iid, lo, hi, p_lo, p_hi)


@SETTINGS
@given(facts=complete, a=st.integers(15, 200), b=st.integers(15, 200))
def test_more_supervised_cases_never_lower_item20(shanxi, facts, a, b):
    lo, hi = sorted((a, b))
    assert _points(shanxi, facts, "20", supervised_cases_count=lo) <= \
        _points(shanxi, facts, "20", supervised_cases_count=hi)


funding = st.decimals(min_value=0, max_value=10_000, places=2)


@SETTINGS
@given(facts=complete, a=funding, b=funding)
def test_more_funding_never_lowers_item44(shanxi, facts, a, b):
    lo, hi = sorted((a, b))
    p_lo = _points(shanxi, facts, "44", gov_special_funding_wan=lo)
    p_hi = _points(shanxi, facts, "44", gov_special_funding_wan=hi)
    assert p_lo <= p_hi
    assert p_hi % 2 == 0 and p_hi <= hi   # 2 points per complete 2万元, never more


@SETTINGS
@given(facts=complete)
def test_scoring_is_deterministic_and_order_free(shanxi, facts):
    a = score(shanxi, facts)
    b = score(shanxi, dict(reversed(list(facts.items()))))
    assert [(it.id, it.points, it.explanation) for it in a.items] == \
        [(it.id, it.points, it.explanation) for it in b.items]
    assert a.total == b.total
