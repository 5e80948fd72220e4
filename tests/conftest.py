"""Shared fixtures: the 2005 pack (loaded once per session) and a complete
submission worth exactly 100 base points with no bonus."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rubric_xl import RulePack, load_pack

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "rules"
SHANXI_PATH = RULES / "shanxi-2005.yaml"


def full_marks_facts() -> dict:
    """A fresh, complete 2005 submission: every item at its maximum, no bonus
    (15 supervised cases, a monthly average of exactly 10 reports, no funding)."""
    d = dt.date
    return {
        # 组织领导
        "leading_group_established": True,
        "group_led_by_gov_leader": True,
        "implementation_plan_issued": True,
        "joint_meeting_system_established": True,
        "phase_meetings_held": True,
        "case_transfer_system_established": True,
        "accountability_system_established": True,
        "publicity_plan_issued": True,
        "info_reporting_staff_assigned": True,
        "member_units_staffed_and_clear": True,
        # 信息报送
        "plan_report_submitted": True,
        "plan_report_late": False,
        "weekly_reports_count": 20,
        "survey_report_date": d(2005, 7, 14),
        "survey_report_inaccurate_items": 0,
        "wwtp_report_date": d(2005, 7, 25),
        "wwtp_report_omitted_plants": 0,
        "batch2_list_report_date": d(2005, 8, 19),
        "batch2_list_inaccurate_items": 0,
        "textile_report_date": d(2005, 8, 25),
        "textile_report_inaccurate": False,
        "rebound_report_date": d(2005, 8, 24),
        "rebound_report_inaccurate": False,
        "batch2_rectification_report_date": d(2005, 9, 15),
        "batch2_rectification_inaccurate_items": 0,
        "water_source_report_date": d(2005, 9, 25),
        "water_source_report_inaccurate": False,
        "key_industry_report_date": d(2005, 10, 24),
        "key_industry_report_inaccurate": False,
        "annual_summary_date": d(2005, 11, 15),
        "three_year_summary_date": d(2005, 11, 14),
        # 案件督办
        "supervised_cases_count": 15,
        "supervised_cases_published": True,
        "wwtp_malfunction_supervised": True,
        "wwtp_online_monitoring": True,
        "water_source_plan_made": True,
        "water_source_cleanup_incomplete": False,
        "key_industry_shutdown_incomplete": False,
        "key_industry_baseline_unclear": False,
        "textile_violators_published": True,
        "textile_investigation_incomplete": False,
        "project_baseline_unclear_items": 0,
        "illegal_projects_handled_properly": True,
        "three_simultaneous_rate": 96.5,
        "wrong_practices_all_corrected": True,
        "spot_check_uncorrected_practice": False,
        "complaint_handling_rate": 100,
        "investigation_penalty_separated": True,
        "violation_handling_rate": 97,
        "penalty_execution_rate": 100,
        "referred_petition_closure_rate": 100,
        "referred_petition_results_reported": True,
        "collective_petitions": 0,
        "skip_level_petitions": 0,
        # 污染反弹控制
        "key_enterprise_compliance_rate": 92.3,
        "rebound_cases_found": 0,
        "spot_check_rebound_found": False,
        # 能力建设
        "supervision_standard_level": "一级",
        "hotline_county_coverage_rate": 90,
        "complaints_unresolved": 0,
        "complaint_results_fed_back": True,
        "reward_reporting_system": True,
        # 宣传教育: 8+12+9+11+10+10 = 60 → monthly average exactly 10
        "media_reports_2005_06": 8,
        "media_reports_2005_07": 12,
        "media_reports_2005_08": 9,
        "media_reports_2005_09": 11,
        "media_reports_2005_10": 10,
        "media_reports_2005_11": 10,
        # 加分奖励
        "gov_special_funding_wan": 0,
    }


@pytest.fixture(scope="session")
def shanxi() -> RulePack:
    return load_pack(SHANXI_PATH)


@pytest.fixture
def full_facts() -> dict:
    return full_marks_facts()


# --- the 2005 pack and its template for 太原市 (add-in tests) -------------------
# A test module's own `pack`/`template` fixtures take precedence over these.


@pytest.fixture(scope="module")
def pack(shanxi):
    return shanxi


@pytest.fixture(scope="module")
def template(pack, tmp_path_factory) -> Path:
    from rubric_xl.workbook import template_bytes

    path = tmp_path_factory.mktemp("tpl") / "太原市.xlsx"
    path.write_bytes(template_bytes(pack, "太原市"))
    return path
