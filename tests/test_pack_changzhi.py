"""The 长治 2019 违法排污行为大整治 pack (rules/changzhi-2019.yaml): two tables,
the decision 处罚建议, 黑名单 with its parameter, report-date comparisons and the
roll-ups' boundaries — against the spec (shared/rubrics/changzhi-2019.md)
restated here, not against the engine's own output."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rubric_xl import load_pack, load_pack_text
from rubric_xl.caserun import run_cases
from rubric_xl.engine import score
from rubric_xl.errors import FactsError, PackError
from rubric_xl.rules.cases import cases_path, load_cases
from rubric_xl.workbook.units import BUILTIN_UNITS

ROOT = Path(__file__).resolve().parents[1]
PACK_PATH = ROOT / "rules" / "changzhi-2019.yaml"
PACK = load_pack(PACK_PATH)
FOUND_BY = ["排污单位自查", "属地排查", "交叉执法检查", "督察反馈问题", "群众举报"]
VIOLATIONS = ["超标排放", "偷排漏排", "监测数据弄虚作假", "拒不改正违法行为", "无证排污", "未批先建", "其他"]
SEVERE = {"偷排漏排", "监测数据弄虚作假", "拒不改正违法行为"}
BASE = {"reporting_body": "潞州区", "report_date": dt.date(2019, 6, 28), "units_total": 10,
        "summary_submitted": True, "self_checks": [], "cases": []}


def facts(**kw) -> dict:
    return {**BASE, **kw}


def tables(card) -> dict:
    return {t.table: t for t in card.tables}


def body_line(card, table: str, key: str = "潞州区") -> dict:
    ru = next(r for r in tables(card)[table].rollups if r.by == "reporting_body")
    return ru.groups[key]


def test_the_pack_has_two_tables_in_the_specs_order_and_the_13_bodies():
    assert [cl.model.table for cl in PACK.ledgers] == ["self_checks", "cases"]
    bodies = PACK.facts["reporting_body"].options
    assert len(bodies) == 13 and bodies[-1] == "长治高新区"
    assert tuple(bodies) == BUILTIN_UNITS["changzhi-bodies"]
    assert PACK.model.discrepancies, "the spec's departures from the seed are listed in the pack"


def test_every_example_case_passes():
    cases = load_cases(cases_path(PACK_PATH), PACK)
    results = run_cases(PACK, cases)
    assert len(results) >= 8
    assert [r.failures for r in results if not r.ok] == []


# --- 处罚建议 (first rule that applies) and 黑名单 ---------------------------------


def advice(found_by: str, violation: str, voluntarily: bool) -> str:
    """The spec's four rules, in order."""
    if found_by != "排污单位自查" and violation in SEVERE:
        return "依法高限处罚"
    if found_by == "交叉执法检查":
        return "严查重处"
    if found_by == "排污单位自查" and voluntarily:
        return "从轻或不予处罚"
    return "依法处罚"


case_rows = st.fixed_dictionaries({
    "case_unit": st.sampled_from(["甲", "乙", "丙"]),
    "found_date": st.dates(dt.date(2019, 5, 25), dt.date(2019, 7, 31)),
    "found_by": st.sampled_from(FOUND_BY),
    "violation": st.sampled_from(VIOLATIONS),
    "rectified_voluntarily": st.booleans(),
    "repeat_offence": st.booleans(),
    "complaints": st.integers(0, 6),
    "fine_wan": st.one_of(st.none(), st.decimals(0, 500, places=2)),
    "daily_fine": st.booleans(), "seized": st.booleans(), "production_limited": st.booleans(),
    "detention": st.booleans(), "crime_transferred": st.booleans(), "exposed": st.booleans(),
})


@settings(max_examples=150, deadline=None)
@given(st.lists(case_rows, max_size=8))
def test_advice_blacklist_and_case_counts_follow_the_spec(rows):
    card = score(PACK, facts(cases=rows))
    got = tables(card)["cases"].rows
    for row, r in zip(rows, got):
        assert r.values["penalty_advice"] == advice(row["found_by"], row["violation"], row["rectified_voluntarily"])
        assert r.values["blacklist"] is (row["repeat_offence"] or row["complaints"] >= 3)
        warned = {p.check for p in r.warnings}
        measures = any(row[k] for k in ("daily_fine", "seized", "production_limited", "detention",
                                        "crime_transferred"))
        no_fine = row["fine_wan"] is None or row["fine_wan"] == 0
        assert ("severe_without_measures" in warned) is (
            r.values["penalty_advice"] in ("依法高限处罚", "严查重处") and no_fine and not measures)
        assert ("blacklist_not_exposed" in warned) is (r.values["blacklist"] and not row["exposed"])
        assert ("found_before_campaign" in warned) is (row["found_date"] < dt.date(2019, 6, 3))
    line = body_line(card, "cases")
    assert line["cases"] == len(rows)
    by = {"by_self": "排污单位自查", "by_local": "属地排查", "by_cross": "交叉执法检查",
          "by_inspection": "督察反馈问题", "by_public": "群众举报"}
    for mid, way in by.items():
        assert line[mid] == sum(1 for r in rows if r["found_by"] == way)
    assert sum(line[m] for m in by) == len(rows)  # the five ways cover every case
    assert line["fines"] == sum((r["fine_wan"] or Decimal(0) for r in rows), Decimal(0))
    assert line["blacklisted"] == sum(1 for r in rows if r["repeat_offence"] or r["complaints"] >= 3)
    ways = next(r for r in tables(card)["cases"].rollups if r.by == "found_by")
    assert list(ways.groups) == FOUND_BY  # all five ways listed, also the empty ones


@pytest.mark.parametrize("complaints, listed", [(0, False), (2, False), (3, True), (4, True)])
def test_blacklist_boundary_at_three_complaints(complaints, listed):
    row = {"case_unit": "甲", "found_date": dt.date(2019, 6, 10), "found_by": "属地排查", "violation": "超标排放",
           "complaints": complaints}
    (r,) = tables(score(PACK, facts(cases=[row])))["cases"].rows
    assert r.values["blacklist"] is listed


def test_the_blacklist_parameter_is_the_packs_setting():
    text = PACK_PATH.read_text(encoding="utf-8").replace(
        "{id: blacklist_complaints, label: 纳入黑名单的群众投诉次数, value: 3}",
        "{id: blacklist_complaints, label: 纳入黑名单的群众投诉次数, value: 5}")
    five = load_pack_text(text, "changzhi-5.yaml")
    rows = [{"case_unit": "甲", "found_date": dt.date(2019, 6, 10), "found_by": "属地排查", "violation": "超标排放",
             "complaints": n} for n in (3, 4, 5)]
    got = [r.values["blacklist"] for r in tables(score(five, facts(cases=rows)))["cases"].rows]
    assert got == [False, False, True]


def test_a_decision_whose_last_rule_is_not_true_is_refused():
    text = PACK_PATH.read_text(encoding="utf-8").replace(
        """{value: 依法处罚, when: "true"}""", """{value: 依法处罚, when: "found_by == '群众举报'"}""")
    with pytest.raises(PackError) as exc:
        load_pack_text(text, "changzhi-bad.yaml")
    assert "true" in str(exc.value.problems)


# --- 附件1: statuses, report-date comparisons, roll-up boundaries ---------------


def check_row(**kw) -> dict:
    return {"unit_name": "甲厂", "permit_held": True, "self_check_date": dt.date(2019, 6, 10), **kw}


@pytest.mark.parametrize("deadline, status", [
    (dt.date(2019, 6, 27), "逾期未整改"), (dt.date(2019, 6, 28), "整改中"), (dt.date(2019, 6, 29), "整改中")])
def test_overdue_means_a_deadline_before_the_report_date(deadline, status):
    row = check_row(problems_found=1, plan_filed_date=dt.date(2019, 6, 11), rectify_deadline=deadline)
    (r,) = tables(score(PACK, facts(self_checks=[row])))["self_checks"].rows
    assert r.status == status and r.errors == []


@pytest.mark.parametrize("day, on_time", [(dt.date(2019, 6, 27), True), (dt.date(2019, 6, 28), True),
                                          (dt.date(2019, 6, 29), False), (dt.date(2019, 7, 28), False)])
def test_on_time_is_on_or_before_june_28(day, on_time):
    card = score(PACK, facts(report_date=day, self_checks=[check_row()]))
    assert body_line(card, "self_checks")["on_time"] is on_time


@pytest.mark.parametrize("units_total, coverage", [
    (0, None), (None, None), (2, Decimal("100.00")), (3, Decimal("66.67")), (6, Decimal("33.33"))])
def test_coverage_is_not_computed_for_no_or_blank_units_total(units_total, coverage):
    rows = [check_row(unit_name="甲"), check_row(unit_name="乙"), check_row(unit_name="丙", self_check_date=None)]
    card = score(PACK, facts(units_total=units_total, self_checks=rows))
    assert body_line(card, "self_checks")["coverage"] == coverage


def test_rectification_rate_counts_rectified_units_of_those_with_problems():
    plan = {"plan_filed_date": dt.date(2019, 6, 11), "rectify_deadline": dt.date(2019, 6, 30)}
    rows = [check_row(unit_name="甲", problems_found=2, rectified_date=dt.date(2019, 6, 20),
                      rectification_verified=True, **plan),
            check_row(unit_name="乙", problems_found=1, rectified_date=dt.date(2019, 6, 20), **plan),
            check_row(unit_name="丙", problems_found=1, **plan),
            check_row(unit_name="丁", problems_found=0)]
    line = body_line(score(PACK, facts(self_checks=rows)), "self_checks")
    assert (line["problems"], line["with_problems"], line["rectified"]) == (4, 3, 1)
    assert line["rectify_rate"] == Decimal("33.33")
    none = body_line(score(PACK, facts(self_checks=rows[3:])), "self_checks")
    assert none["rectify_rate"] is None


@pytest.mark.parametrize("day, late", [(dt.date(2019, 7, 3), False), (dt.date(2019, 7, 4), True)])
def test_a_self_check_after_july_3_is_a_warning(day, late):
    (r,) = tables(score(PACK, facts(self_checks=[check_row(self_check_date=day)])))["self_checks"].rows
    assert ("late_self_check" in {p.check for p in r.warnings}) is late


def test_a_blank_permit_is_a_row_error_not_a_guess():
    row = check_row()
    del row["permit_held"]
    (r,) = tables(score(PACK, facts(self_checks=[row])))["self_checks"].rows
    assert "required_permit_held" in {p.check for p in r.errors}


@pytest.mark.parametrize("value, shown", [("三个", "三个"), (Decimal("2.5"), "2.5"), (-1, "-1")])
def test_a_wrong_cell_in_a_facts_file_names_table_row_column_and_value(value, shown):
    case = {"case_unit": "甲", "found_date": dt.date(2019, 6, 10), "found_by": "属地排查", "violation": "超标排放"}
    with pytest.raises(FactsError) as exc:
        score(PACK, facts(self_checks=[check_row(), check_row(problems_found=value)], cases=[case]))
    (p,) = exc.value.problems
    assert p.loc.endswith("self_checks[2].problems_found")
    assert "排污单位自查和整改情况表 第2行 自查发现问题数" in p.msg and shown in p.msg and "整数" in p.msg


def test_a_number_column_defaults_to_the_number_0_not_to_no():
    (r,) = tables(score(PACK, facts(self_checks=[{"unit_name": "甲厂", "permit_held": True}])))["self_checks"].rows
    assert r.values["problems_found"] == 0 and r.values["problems_found"] is not False
    assert type(r.values["problems_found"]) is Decimal
    (c,) = tables(score(PACK, facts(cases=[{"case_unit": "甲", "found_date": dt.date(2019, 6, 10),
                                            "found_by": "属地排查", "violation": "超标排放"}])))["cases"].rows
    assert type(c.values["complaints"]) is Decimal and c.values["complaints"] == 0
