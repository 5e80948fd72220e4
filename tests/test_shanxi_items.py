"""Boundary tests of every item of the 2005 pack, worked out by hand from the
seed (晋政办发〔2005〕55号 附件1) and shared/rubrics/shanxi-2005.md.

The values here differ on purpose from rules/cases/shanxi-2005.yaml so the two
sets check each other.  Each test changes a few facts of a full-marks submission
(100 points, no bonus) and looks at one item, the total and the explanation.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from conftest import full_marks_facts
from rubric_xl import FactsError, load_pack_text, score

D = Decimal


def run(pack, **changes):
    facts = full_marks_facts()
    facts.update(changes)
    return score(pack, facts)


def check_item(pack, iid, expected, also=(), **changes):
    """Score full marks with *changes*; item *iid* must score *expected* and no
    item other than it (and those in *also*) may lose or gain a point."""
    card = run(pack, **changes)
    it = card.item(iid)
    assert it.status == "scored", it.explanation
    assert isinstance(it.points, Decimal)
    assert it.points == D(expected), f"第{iid}项 {changes}: {it.explanation}"
    others = [o for o in card.items if o.id != iid and o.id not in also]
    assert [(o.id, o.points) for o in others if o.points != o.max] == []
    assert card.total == sum((o.points for o in card.items), D(0))
    return it


def test_full_marks_is_100_without_bonus(shanxi):
    card = run(shanxi)
    assert card.total == D("100.00")
    assert not card.provisional and card.flags == []
    assert [it.points == it.max for it in card.items] == [True] * 44
    assert all(it.explanation.startswith("符合要求") for it in card.items)
    assert (card.grade, card.eligible) == ("优秀", True)


# --- yes/no items: (item, fact, value, points, zeroed) --------------------------

BOOL_ITEMS = [
    ("1", "leading_group_established", False, "0", True),
    ("1", "group_led_by_gov_leader", False, "2", False),
    ("2", "implementation_plan_issued", False, "0", True),
    ("3", "joint_meeting_system_established", False, "0", True),
    ("3", "phase_meetings_held", False, "2", False),
    ("4", "case_transfer_system_established", False, "0", True),
    ("5", "accountability_system_established", False, "0", True),
    ("6", "publicity_plan_issued", False, "0", True),
    ("7", "info_reporting_staff_assigned", False, "0", True),
    ("8", "member_units_staffed_and_clear", False, "0", True),
    ("9", "plan_report_submitted", False, "0", True),
    ("9", "plan_report_late", True, "1.5", False),
    ("14", "textile_report_inaccurate", True, "1.8", False),
    ("15", "rebound_report_inaccurate", True, "1.8", False),
    ("17", "water_source_report_inaccurate", True, "1.8", False),
    ("18", "key_industry_report_inaccurate", True, "2.8", False),
    ("21", "supervised_cases_published", False, "0", True),
    ("22", "wwtp_malfunction_supervised", False, "0", True),
    ("22", "wwtp_online_monitoring", False, "1.5", False),
    ("23", "water_source_plan_made", False, "0", True),
    ("23", "water_source_cleanup_incomplete", True, "2.8", False),
    ("24", "key_industry_shutdown_incomplete", True, "0", True),
    ("24", "key_industry_baseline_unclear", True, "2.8", False),
    ("25", "textile_violators_published", False, "0", True),
    ("25", "textile_investigation_incomplete", True, "2.8", False),
    ("27", "illegal_projects_handled_properly", False, "0", True),
    ("29", "wrong_practices_all_corrected", False, "0", True),
    ("31", "investigation_penalty_separated", False, "0", True),
    ("34", "referred_petition_results_reported", False, "0", True),
    ("41", "complaint_results_fed_back", False, "0.8", False),
    ("42", "reward_reporting_system", False, "0", True),
]


@pytest.mark.parametrize("iid,fact,value,points,zeroed", BOOL_ITEMS,
                         ids=[f"{r[0]}-{r[1]}" for r in BOOL_ITEMS])
def test_yes_no_items(shanxi, iid, fact, value, points, zeroed):
    it = check_item(shanxi, iid, points, **{fact: value})
    assert it.zeroed is zeroed
    assert ("不得分" in it.explanation) is zeroed
    if not zeroed:
        assert f"扣{D(it.max) - D(points):.2f}分" in it.explanation


@pytest.mark.parametrize("text,expected", [("是", "3"), ("否", "0"), ("true", "3"), (" FALSE ", "0")])
def test_yes_no_written_as_text(shanxi, text, expected):
    check_item(shanxi, "2", expected, implementation_plan_issued=text)


def test_zeroing_wins_over_deduction(shanxi):
    it = check_item(shanxi, "1", "0", leading_group_established=False, group_led_by_gov_leader=False)
    assert it.zeroed and not it.deductions


# --- item 10: 20 weekly reports, −0.5 per missing ---------------------------------

@pytest.mark.parametrize("count,points,text", [
    (30, "3", "符合要求，得3.00分"),
    (20, "3", None),
    (17, "1.5", "少报3期，扣1.50分"),
    (16, "1", "少报4期，扣2.00分"),
    (15, "0.5", "少报5期，扣2.50分"),
    (12, "0", "少报8期，扣4.00分；扣完为止"),
    (1, "0", "少报19期"),
])
def test_item10_weekly_reports(shanxi, count, points, text):
    it = check_item(shanxi, "10", points, weekly_reports_count=count)
    if text:
        assert text in it.explanation
    assert it.points >= 0


# --- dated reports: on the deadline, the day after, long after -------------------

LATE_ITEMS = [  # item, date fact, deadline, late deduction (None: no late rule)
    ("11", "survey_report_date", dt.date(2005, 7, 15), D("0.2")),
    ("12", "wwtp_report_date", dt.date(2005, 7, 25), None),
    ("13", "batch2_list_report_date", dt.date(2005, 8, 20), D("0.2")),
    ("14", "textile_report_date", dt.date(2005, 8, 25), None),
    ("15", "rebound_report_date", dt.date(2005, 8, 25), None),
    ("16", "batch2_rectification_report_date", dt.date(2005, 9, 15), D("0.2")),
    ("17", "water_source_report_date", dt.date(2005, 9, 25), None),
    ("18", "key_industry_report_date", dt.date(2005, 10, 25), None),
]


@pytest.mark.parametrize("iid,fact,deadline,late", LATE_ITEMS, ids=[r[0] for r in LATE_ITEMS])
def test_report_dates(shanxi, iid, fact, deadline, late):
    mx = shanxi.item(iid).item.max
    check_item(shanxi, iid, mx, **{fact: deadline})
    check_item(shanxi, iid, mx, **{fact: deadline - dt.timedelta(days=30)})
    after = deadline + dt.timedelta(days=1)
    it = check_item(shanxi, iid, mx - (late or 0), **{fact: after})
    if late:
        assert f"逾期报送（{after.isoformat()}，期限{deadline.isoformat()}），扣0.20分" in it.explanation
    else:
        assert "逾期" not in it.explanation
    check_item(shanxi, iid, mx - (late or 0), **{fact: dt.date(2006, 3, 1)})  # late once only
    it = check_item(shanxi, iid, "0", **{fact: None})
    assert it.zeroed and it.explanation.startswith("未报")
    check_item(shanxi, iid, mx - (late or 0), **{fact: after.isoformat()})  # ISO text works too


@pytest.mark.parametrize("iid,count_fact,date_fact,deadline,count,late,points", [
    ("11", "survey_report_inaccurate_items", "survey_report_date", "2005-07-15", 4, False, "1.6"),
    ("11", "survey_report_inaccurate_items", "survey_report_date", "2005-07-16", 4, True, "1.4"),
    ("11", "survey_report_inaccurate_items", "survey_report_date", "2005-07-16", 19, True, "0"),
    ("13", "batch2_list_inaccurate_items", "batch2_list_report_date", "2005-08-20", 5, False, "1.5"),
    ("13", "batch2_list_inaccurate_items", "batch2_list_report_date", "2005-08-21", 5, True, "1.3"),
    ("16", "batch2_rectification_inaccurate_items", "batch2_rectification_report_date", "2005-09-16", 7,
     True, "1.1"),
    ("16", "batch2_rectification_inaccurate_items", "batch2_rectification_report_date", "2005-09-15",
     21, False, "0"),
])
def test_inaccurate_entries_and_late(shanxi, iid, count_fact, date_fact, deadline, count, late, points):
    it = check_item(shanxi, iid, points, **{count_fact: count, date_fact: deadline})
    assert f"报表不准确{count}项，扣{D(count) / 10:.2f}分" in it.explanation
    assert ("逾期" in it.explanation) is late


@pytest.mark.parametrize("omitted,points", [(0, "2"), (3, "1.4"), (9, "0.2"), (10, "0"), (40, "0")])
def test_item12_omitted_plants(shanxi, omitted, points):
    check_item(shanxi, "12", points, wwtp_report_omitted_plants=omitted)


@pytest.mark.parametrize("annual,three_year,points,zeroed", [
    ("2005-11-15", "2005-11-15", "3", False),
    ("2005-12-01", "2005-11-15", "1.5", False),
    ("2005-11-01", "2005-11-16", "1.5", False),
    ("2005-11-30", "2005-12-31", "1.5", False),  # −1.5 once
    (None, "2005-11-01", "0", True),
    ("2005-11-01", None, "0", True),
])
def test_item19_summaries(shanxi, annual, three_year, points, zeroed):
    it = check_item(shanxi, "19", points, annual_summary_date=annual, three_year_summary_date=three_year)
    assert it.zeroed is zeroed
    if points == "1.5":
        assert it.explanation.count("扣1.50分") == 1


# --- item 20: 15 supervised cases = 3, +0.2 each above, bonus ≤ 2 ----------------

@pytest.mark.parametrize("cases,points,capped", [
    (1, "0", False), (10, "0", False), (15, "3", False), (17, "3.4", False), (20, "4", False),
    (24, "4.8", False), (25, "5", False), (30, "5", True), (500, "5", True),
])
def test_item20_supervised_cases(shanxi, cases, points, capped):
    card = run(shanxi, supervised_cases_count=cases)
    it = card.item("20")
    assert it.points == D(points)
    assert card.total == D(97) + it.points
    assert it.zeroed is (cases < 15)
    assert any(b.capped for b in it.bonuses) is capped
    if 15 < cases:
        assert f"挂牌督办案件{cases}个，超过15个{cases - 15}个，加" in it.explanation


# --- percentage steps ---------------------------------------------------------------

RATE_CASES = [  # item, fact, rate, points
    ("28", "three_simultaneous_rate", "95", "3"),
    ("28", "three_simultaneous_rate", "80.01", "2.6"),
    ("28", "three_simultaneous_rate", "80", "2.6"),
    ("28", "three_simultaneous_rate", "79.99", "2.4"),
    ("28", "three_simultaneous_rate", "70", "2.2"),
    ("28", "three_simultaneous_rate", "50", "1.4"),
    ("28", "three_simultaneous_rate", "15.01", "0"),
    ("28", "three_simultaneous_rate", "15", "0"),
    ("30", "complaint_handling_rate", "99.5", "1.8"),
    ("30", "complaint_handling_rate", "97", "1.4"),
    ("30", "complaint_handling_rate", "96.5", "1.2"),
    ("30", "complaint_handling_rate", "91", "0.2"),
    ("30", "complaint_handling_rate", "90.01", "0"),
    ("32", "violation_handling_rate", "96", "2"),
    ("32", "violation_handling_rate", "92", "1.4"),
    ("32", "violation_handling_rate", "91.2", "1.2"),
    ("32", "violation_handling_rate", "86", "0.2"),
    ("32", "violation_handling_rate", "85.5", "0"),
    ("33", "penalty_execution_rate", "95", "1.8"),
    ("33", "penalty_execution_rate", "80", "1.6"),
    ("33", "penalty_execution_rate", "79.5", "1.4"),
    ("33", "penalty_execution_rate", "10", "0.2"),
    ("33", "penalty_execution_rate", "9.99", "0"),
    ("34", "referred_petition_closure_rate", "99", "0.8"),
    ("34", "referred_petition_closure_rate", "90", "0.6"),
    ("34", "referred_petition_closure_rate", "85.5", "0.4"),
    ("34", "referred_petition_closure_rate", "80.01", "0.2"),
    ("34", "referred_petition_closure_rate", "0", "0"),
    ("36", "key_enterprise_compliance_rate", "95", "3"),
    ("36", "key_enterprise_compliance_rate", "89", "2.8"),
    ("36", "key_enterprise_compliance_rate", "86.3", "2.2"),
    ("36", "key_enterprise_compliance_rate", "76", "0.2"),
    ("36", "key_enterprise_compliance_rate", "75.5", "0"),
    ("40", "hotline_county_coverage_rate", "95", "1"),
    ("40", "hotline_county_coverage_rate", "80", "0.6"),
    ("40", "hotline_county_coverage_rate", "75", "0.4"),
    ("40", "hotline_county_coverage_rate", "74", "0.2"),
    ("40", "hotline_county_coverage_rate", "65", "0"),
]


@pytest.mark.parametrize("iid,fact,rate,points", RATE_CASES,
                         ids=[f"{r[0]}-{r[2]}" for r in RATE_CASES])
def test_rate_steps(shanxi, iid, fact, rate, points):
    also = ("37",) if iid == "28" else ()  # one rate, two items
    it = check_item(shanxi, iid, points, also, **{fact: D(rate)})
    if D(points) < it.max:
        assert f"{D(rate).normalize():f}%，低于" in it.explanation


@pytest.mark.parametrize("rate,p28,p37", [
    ("96.5", "3", "3"), ("88", "2.8", "2.6"), ("80", "2.6", "1.0"), ("77.5", "2.4", "0.4"),
    ("75.01", "2.4", "0"), ("45", "1.2", "0"),
])
def test_items_28_and_37_share_one_rate(shanxi, rate, p28, p37):
    card = run(shanxi, three_simultaneous_rate=D(rate))
    assert (card.item("28").points, card.item("37").points) == (D(p28), D(p37))
    assert card.total == D(94) + D(p28) + D(p37)


def test_rate_given_as_float_is_exact(shanxi):
    # 89.99 as a binary float must not become 89.98999… and lose a second step
    check_item(shanxi, "36", "2.8", key_enterprise_compliance_rate=89.99)
    check_item(shanxi, "30", "1.8", complaint_handling_rate=99.1)


# --- counted deductions --------------------------------------------------------------

@pytest.mark.parametrize("iid,changes,points,zeroed", [
    ("26", {"project_baseline_unclear_items": 3}, "1.4", False),
    ("26", {"project_baseline_unclear_items": 9}, "0.2", False),
    ("26", {"project_baseline_unclear_items": 12}, "0", False),
    ("35", {"skip_level_petitions": 2}, "0.6", False),
    ("35", {"skip_level_petitions": 7}, "0", False),
    ("35", {"collective_petitions": 3}, "0", True),
    ("35", {"collective_petitions": 1, "skip_level_petitions": 1}, "0", True),
    ("38", {"rebound_cases_found": 2}, "2", False),
    ("38", {"rebound_cases_found": 3}, "1", False),
    ("38", {"rebound_cases_found": 9}, "0", False),
    ("41", {"complaints_unresolved": 3}, "0.4", False),
    ("41", {"complaints_unresolved": 3, "complaint_results_fed_back": False}, "0.2", False),
    ("41", {"complaints_unresolved": 5, "complaint_results_fed_back": False}, "0", False),
])
def test_counted_deductions(shanxi, iid, changes, points, zeroed):
    it = check_item(shanxi, iid, points, **changes)
    assert it.zeroed is zeroed
    assert not it.flags


def test_item35_explanation(shanxi):
    it = check_item(shanxi, "35", "0.4", skip_level_petitions=3)
    assert "越级上访3次，扣0.60分" in it.explanation


# --- zeroing with 通报批评 ----------------------------------------------------------

@pytest.mark.parametrize("iid,changes", [
    ("29", {"spot_check_uncorrected_practice": True}),
    ("29", {"spot_check_uncorrected_practice": True, "wrong_practices_all_corrected": False}),
    ("38", {"spot_check_rebound_found": True}),
    ("38", {"spot_check_rebound_found": True, "rebound_cases_found": 2}),
])
def test_public_criticism_flag(shanxi, iid, changes):
    card = run(shanxi, **changes)
    it = card.item(iid)
    assert (it.points, it.zeroed, it.flags) == (D(0), True, ["通报批评"])
    assert it.explanation.endswith("不得分，通报批评")
    assert card.flags == [f"第{iid}项：通报批评"]


def test_no_flag_without_spot_check(shanxi):
    card = run(shanxi, wrong_practices_all_corrected=False, rebound_cases_found=6)
    assert not card.item("29").flags and not card.item("38").flags and card.flags == []


# --- item 39 tiers --------------------------------------------------------------------

@pytest.mark.parametrize("level,points", [("一级", "2"), ("二级", "1.5"), ("三级", "1"), ("未达标", "0")])
def test_item39_levels(shanxi, level, points):
    it = check_item(shanxi, "39", points, supervision_standard_level=level)
    assert not it.zeroed
    if level != "一级":
        assert f"{level}，基础分{D(points):.2f}分" in it.explanation


@pytest.mark.parametrize("bad", ["1级", "特级", "一", 1])
def test_item39_unknown_level_is_an_error(shanxi, bad):
    with pytest.raises(FactsError) as ei:
        run(shanxi, supervision_standard_level=bad)
    assert "supervision_standard_level" in str(ei.value)
    assert "一级、二级、三级、未达标" in str(ei.value)


# --- item 43: monthly average of six months ---------------------------------------

@pytest.mark.parametrize("months,points,text", [
    ([11] * 6, "5", "符合要求"),
    ([13] * 6, "5.1", "月均报道13件，超过10件，加0.10分"),
    ([13, 13, 13, 13, 13, 12], "5.1", "月均报道12.83件"),
    ([16] * 6, "5.3", None),
    ([30] * 6, "6", None),
    ([45] * 6, "6.7", None),
    ([70, 60, 50, 40, 30, 10], "6.6", "月均报道43.33件"),  # 260 / 6 → 16 complete steps
    ([100] * 6, "7", "加分以2.00分为限"),
    ([9] * 6, "4", "月均报道不足10件，扣1.00分"),
    ([20, 0, 20, 0, 20, 0], "5", None),
    ([0, 0, 0, 0, 0, 59], "4", None),
    ([1, 0, 0, 0, 0, 0], "4", None),
])
def test_item43_media_reports(shanxi, months, points, text):
    keys = [f"media_reports_2005_{m:02d}" for m in range(6, 12)]
    card = run(shanxi, **dict(zip(keys, months)))
    it = card.item("43")
    assert it.points == D(points)
    if text:
        assert text in it.explanation
    assert card.total == D(95) + it.points


# --- item 44: +2 per complete 2万元, uncapped ---------------------------------------

@pytest.mark.parametrize("wan,points", [
    ("0", "0"), ("0.5", "0"), ("5", "4"), ("6", "6"), ("7.99", "6"), ("8", "8"), ("8.01", "8"),
    ("1000", "1000"),
])
def test_item44_funding(shanxi, wan, points):
    card = run(shanxi, gov_special_funding_wan=D(wan))
    it = card.item("44")
    assert it.points == D(points)
    assert card.total == D(100) + D(points)
    cat = next(c for c in card.categories if c.name == "加分奖励")
    assert cat.points == D(points)
    if D(points):
        assert f"同级政府补助{D(wan).normalize():f}万元，加{D(points):.2f}分" in it.explanation


# --- blanks, incomplete items, provisional totals ----------------------------------

@pytest.mark.parametrize("fact,items", [
    ("weekly_reports_count", ["10"]),
    ("survey_report_inaccurate_items", ["11"]),
    ("three_simultaneous_rate", ["28", "37"]),
    ("supervision_standard_level", ["39"]),
    ("media_reports_2005_08", ["43"]),
    ("phase_meetings_held", ["3"]),
    ("gov_special_funding_wan", ["44"]),
])
def test_blank_non_date_makes_item_incomplete(shanxi, fact, items):
    card = run(shanxi, **{fact: None})
    for iid in items:
        it = card.item(iid)
        assert (it.status, it.points, it.missing) == ("incomplete", None, [fact])
        assert it.explanation.startswith("待填：") and shanxi.facts[fact].label in it.explanation
    assert card.provisional is True
    assert card.total == D(100) - sum(card.item(i).max for i in items)
    assert [it.id for it in card.items if it.status == "incomplete"] == items


def test_empty_text_is_blank(shanxi):
    assert run(shanxi, weekly_reports_count="  ").item("10").status == "incomplete"


def test_blank_date_is_not_submitted_not_incomplete(shanxi):
    card = run(shanxi, wwtp_report_date=None)
    assert card.item("12").status == "scored" and card.item("12").points == 0
    assert card.provisional is False


# --- total, grade, eligibility -------------------------------------------------------

@pytest.mark.parametrize("changes,total,grade", [
    ({"supervised_cases_count": 10, "reward_reporting_system": False, "hotline_county_coverage_rate": 40,
      "weekly_reports_count": 16}, "93", "优秀"),   # −3 −1 −1 (floored) −2
    ({"leading_group_established": False, "supervised_cases_published": False,
      "annual_summary_date": None, "investigation_penalty_separated": False}, "90", "优秀"),
    ({"leading_group_established": False, "supervised_cases_published": False,
      "annual_summary_date": None, "investigation_penalty_separated": False,
      "wwtp_report_omitted_plants": 1}, "89.8", "优良"),
    ({"rebound_cases_found": 4, "key_enterprise_compliance_rate": 0, "complaint_handling_rate": 0,
      "referred_petition_results_reported": False, "violation_handling_rate": 0,
      "penalty_execution_rate": 0, "accountability_system_established": False, "plan_report_late": True,
      "survey_report_inaccurate_items": 5}, "83", "优良"),  # −4 −3 −2 −1 −2 −2 −2 −0.5 −0.5
])
def test_grades(shanxi, changes, total, grade):
    card = run(shanxi, **changes)
    assert card.total == D(total)
    assert card.grade == grade
    assert card.eligible is (grade == "优秀")


GRADES_PACK = """
id: grades-probe
title: 等次探针
version: "1"
source: {{document: 测试, title: 测试}}
total: 100
categories: [{{name: 全部, cap: 100}}]
settings:
  grades:
{grades}
  eligibility: {{label: 资格, grades: [{eligible}]}}
facts:
  - {{id: cents, label: 扣分（0.01分）, type: int}}
items:
  - id: "1"
    category: 全部
    title: 探针
    max: 100
    criteria: 每个单位扣0.01分
    evidence: 无
    deductions:
      - {{kind: per_unit, count: cents, points: 0.01, reason: 扣分}}
"""


@pytest.fixture(scope="module")
def grade_probe(shanxi):
    """A one-item pack with the 2005 pack's own grade bands and eligibility, able
    to produce any total to the cent (every 2005 item moves in steps of 0.1)."""
    s = shanxi.model.settings
    grades = "\n".join(
        f"    - {{name: {g.name}" + (f", min: {g.min}}}" if g.min is not None else "}") for g in s.grades)
    return load_pack_text(GRADES_PACK.format(grades=grades, eligible=", ".join(s.eligibility.grades)))


@pytest.mark.parametrize("cents,total,grade", [
    (0, "100", "优秀"), (1000, "90", "优秀"), (1001, "89.99", "优良"), (2000, "80", "优良"),
    (2001, "79.99", "合格"), (3000, "70", "合格"), (3001, "69.99", "不合格"), (10000, "0", "不合格"),
])
def test_grade_bands_to_the_cent(grade_probe, cents, total, grade):
    card = score(grade_probe, {"cents": cents})
    assert card.total == D(total)
    assert card.grade == grade
    assert card.eligible is (grade == "优秀")  # 优良以下 不得评为先进集体


def test_eligibility_only_for_excellent(shanxi):
    assert shanxi.model.settings.eligibility.grades == ["优秀"]


def test_points_are_decimal_and_exact(shanxi):
    card = run(shanxi, survey_report_inaccurate_items=3, project_baseline_unclear_items=1,
               media_reports_2005_06=14)   # 0.1×3, 0.2; avg 11
    assert card.item("11").points == D("1.70") and card.item("26").points == D("1.80")
    assert card.total == D("99.50")
    for it in card.items:
        assert type(it.points) is Decimal and it.points.as_tuple().exponent == -2
    assert type(card.total) is Decimal
