"""The Xinzhou 2024 “散乱污” ledger pack: rows, statuses, checks and roll-ups.

Expected values are worked out by hand from shared/rubrics/xinzhou-2024.md; the
example cases live in rules/cases/xinzhou-2024.yaml and are run here through the
public API (score → to_dict → dumps → JSON).
"""
from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rubric_xl import FactsError, convert_facts, dumps, load_pack, score, to_dict
from rubric_xl.engine.ledger import plan_for
from rubric_xl.rules.yamlsrc import load_file

ROOT = Path(__file__).resolve().parents[1]
PACK_PATH = ROOT / "rules" / "xinzhou-2024.yaml"
CASES_PATH = ROOT / "rules" / "cases" / "xinzhou-2024.yaml"

BODIES = ["忻府区", "原平市", "定襄县", "五台县", "代县", "繁峙县", "宁武县", "静乐县", "神池县", "五寨县",
          "岢岚县", "河曲县", "保德县", "偏关县", "忻州经济开发区", "五台山风景名胜区"]
SCOPE = ["有色金属熔炼", "耐火材料", "砖瓦", "独立球团", "水泥", "化工", "法兰", "铸造", "橡胶生产", "废塑料加工",
         "小洗煤厂", "小选矸厂", "小储煤厂", "使用涂料油墨胶粘剂有机溶剂的小型制造加工企业"]
SIX = ["water_cut", "power_cut", "materials_cleared", "equipment_cleared", "site_cleared", "site_restored"]
ROW_FACTS = ["enterprise_name", "industry", "criterion_policy", "criterion_emissions", "criterion_permits",
             "listed_date", *SIX, "shutdown_date", "verified_date", "deregistered_date", "revisit_rebound"]
COUNTS = ["listed", "shutdown_complete", "deregistered", "overdue", "rebound"]


PACK = load_pack(PACK_PATH)


@pytest.fixture(scope="module")
def pack():
    return PACK


def _json(card) -> dict:
    """The card as a consumer sees it: JSON text parsed back, numbers exact."""
    return json.loads(dumps(to_dict(card)), parse_float=Decimal, parse_int=Decimal)


def _rollup(doc: dict, by: str) -> dict:
    (ru,) = [r for r in doc["rollups"] if r["by"] == by]
    return ru


def _done(**extra) -> dict:
    """A row whose 两断三清一恢复 is complete."""
    return {**{c: "是" for c in SIX}, **extra}


# --- the pack honours the spec's contract -------------------------------------------


def test_pack_facts_follow_the_spec(pack):
    assert pack.model.kind == "ledger"
    assert [f.id for f in pack.model.facts] == ["reporting_body", "report_date", "enterprises"]
    assert pack.fact("reporting_body").options == BODIES
    assert pack.fact("report_date").type == "date"
    cols = {c.id: c for c in pack.fact("enterprises").columns}
    assert list(cols) == ROW_FACTS
    assert cols["industry"].options == SCOPE + ["其他"]
    assert {c for c, f in cols.items() if f.required and f.default is None} == {"enterprise_name", "listed_date"}
    for c in ("criterion_policy", "criterion_emissions", "criterion_permits", *SIX, "revisit_rebound"):
        assert cols[c].type == "bool" and cols[c].default is False, c
    for c in ("listed_date", "shutdown_date", "verified_date", "deregistered_date"):
        assert cols[c].type == "date", c
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in f.label) for f in cols.values())
    assert {d.id: d.date for d in pack.model.deadlines} == {
        "survey_deadline": dt.date(2024, 4, 15), "shutdown_deadline": dt.date(2024, 5, 31),
        "verification_deadline": dt.date(2024, 6, 30)}
    assert [s.name for s in pack.model.ledger.statuses] == ["复燃", "已销号", "已验收", "已取缔待验收", "待取缔"]


def test_every_check_has_chinese_message_and_points_at_columns(pack):
    checks = pack.model.ledger.checks
    errors = {c.id for c in checks if c.level == "error"}
    warnings = {c.id for c in checks if c.level == "warning"}
    assert errors == {"no_criterion", "deregistered_not_shutdown", "deregistered_not_verified",
                      "verified_not_shutdown", "shutdown_before_listed", "verified_before_listed",
                      "deregistered_before_listed", "deregistered_before_verified"}
    assert warnings == {"industry_other", "shutdown_after_deadline", "verification_after_deadline",
                        "listed_after_survey"}
    for c in checks:
        assert c.columns, c.id
        assert any("\u4e00" <= ch <= "\u9fff" for ch in c.message), c.id


# --- the example cases ---------------------------------------------------------------

CASES = load_file(CASES_PATH).data


def test_case_file_shape():
    assert CASES["pack"] == "xinzhou-2024"
    names = [c["name"] for c in CASES["cases"]]
    assert len(names) == len(set(names))
    # every status, error and warning appears in some case's expectations
    seen_status, seen_checks = set(), set()
    for c in CASES["cases"]:
        for r in c["expect"].get("rows", []):
            seen_status.add(r["status"])
            seen_checks.update(r["errors"], r["warnings"])
    pack = PACK
    # 有误: a keep_invalid case (read as a workbook is) has rows with an invalid cell
    assert seen_status == {s.name for s in pack.model.ledger.statuses} | {"有误"}
    assert {c.id for c in pack.model.ledger.checks} <= seen_checks


# the facts-file cases (a keep_invalid case or an expected error runs in tests/test_cases.py)
FACTS_CASES = [c for c in CASES["cases"] if not c.get("keep_invalid") and "error" not in c["expect"]]


@pytest.mark.parametrize("case", FACTS_CASES, ids=[c["name"] for c in FACTS_CASES])
def test_example_case(pack, case):
    doc = _json(score(pack, case["facts"], source=case["name"]))
    expect = case["expect"]
    assert len(doc["rows"]) == len(expect["rows"])
    for want in expect["rows"]:
        got = doc["rows"][want["row"] - 1]
        assert got["row"] == want["row"]
        assert got["status"] == want["status"], want
        assert {p["check"] for p in got["errors"]} == set(want["errors"]), want
        assert {p["check"] for p in got["warnings"]} == set(want["warnings"]), want
    assert doc["errors"] == sum(len(r["errors"]) for r in expect["rows"])
    assert doc["warnings"] == sum(len(r["warnings"]) for r in expect["rows"])
    for by, groups in expect.get("rollups", {}).items():
        ru = _rollup(doc, by)
        got_groups = {g["key"]: g for g in ru["groups"]}
        for key, metrics in groups.items():
            got = ru["total"] if key == "_total" else got_groups[key]
            for mid, value in metrics.items():
                assert got[mid] == value, (by, key, mid)


def test_cases_pass_the_case_runner(pack):
    from rubric_xl.caserun import run_cases
    from rubric_xl.rules.cases import load_cases

    results = run_cases(pack, load_cases(CASES_PATH, pack), score)
    assert len(results) == len(CASES["cases"])
    assert [(r.name, r.failures) for r in results if not r.ok] == []


# --- JSON shape -----------------------------------------------------------------------


def test_json_rows_and_rollups(pack):
    facts = {"reporting_body": "忻府区", "report_date": "2024-06-30", "enterprises": [
        _done(enterprise_name="甲", industry="砖瓦", criterion_policy="是", listed_date="2024-04-10",
              shutdown_date="2024-04-09"),
        {"enterprise_name": "乙", "industry": "其他", "listed_date": "2024-04-20"},
    ]}
    text = dumps(to_dict(score(pack, facts)))
    assert '"completion_rate": 50' in text  # a bare JSON number, not a string
    doc = json.loads(text)
    assert doc["kind"] == "ledger" and doc["pack"]["id"] == "xinzhou-2024"
    r1, r2 = doc["rows"]
    assert (r1["row"], r1["key"], r1["status"]) == (1, "甲", "已取缔待验收")
    assert r1["errors"] == [{"check": "shutdown_before_listed", "msg": "关停取缔完成日期早于入账日期，请核对日期",
                             "columns": ["shutdown_date", "listed_date"]}]
    assert r1["values"]["shutdown_complete"] is True and r1["values"]["shutdown_date"] == "2024-04-09"
    assert [p["check"] for p in r2["errors"]] == ["no_criterion"]
    assert r2["errors"][0]["columns"] == ["criterion_policy", "criterion_emissions", "criterion_permits"]
    assert {p["check"] for p in r2["warnings"]} == {"industry_other", "listed_after_survey"}
    body = _rollup(doc, "reporting_body")
    assert body["label"] == "按填报单位"
    assert [g["key"] for g in body["groups"]] == ["忻府区"]
    assert body["total"]["key"] == "全市"
    assert body["total"]["listed"] == 2 and body["total"]["cleared"] is False
    industry = _rollup(doc, "industry")
    assert [g["key"] for g in industry["groups"]] == ["砖瓦", "其他"]  # the pack's option order
    assert industry["total"] is None
    assert doc["metrics"]["completion_rate"] == "取缔完成率（%）"


def test_empty_ledger_json_is_cleared_with_null_rate(pack):
    doc = json.loads(dumps(to_dict(score(pack, {"reporting_body": "代县", "report_date": "2024-06-30",
                                                   "enterprises": []}))))
    assert doc["rows"] == [] and doc["errors"] == 0
    (g,) = _rollup(doc, "reporting_body")["groups"]
    assert g == {"key": "代县", "listed": 0, "shutdown_complete": 0, "completion_rate": None,
                 "deregistered": 0, "overdue": 0, "rebound": 0, "cleared": True}
    assert _rollup(doc, "industry")["groups"] == []


def test_completion_rate_rounds_half_up(pack):
    # 1/32 = 3.125 % and 5/32 = 15.625 %: half up gives 3.13 and 15.63 (half even would not)
    for done, want in ((1, Decimal("3.13")), (5, Decimal("15.63")), (32, Decimal(100)), (0, Decimal(0))):
        rows = [(_done if i < done else dict)(enterprise_name=f"企业{i}", criterion_policy="是",
                                              listed_date="2024-04-01") for i in range(32)]
        card = score(pack, {"reporting_body": "忻府区", "report_date": "2024-06-30", "enterprises": rows})
        assert card.rollups[0].groups["忻府区"]["completion_rate"] == want


# --- bad input ------------------------------------------------------------------------


def _problems(exc: FactsError) -> list[str]:
    return [f"{p.loc} | {p.msg}" for p in exc.problems]


def test_wrong_typed_cells_name_row_and_column(pack):
    facts = {"reporting_body": "忻府区", "report_date": "2024-06-30", "enterprises": [
        {"enterprise_name": "好企业", "criterion_policy": "是", "listed_date": "2024-04-01"},
        {"enterprise_name": "坏日期", "criterion_policy": "是", "listed_date": "abc"},
        {"enterprise_name": "坏行业", "industry": "钢铁", "criterion_policy": "是", "listed_date": "2024-04-01"},
        {"enterprise_name": "多一列", "criterion_policy": "是", "listed_date": "2024-04-01", "contact": "张三"},
        {"enterprise_name": "坏是否", "water_cut": "也许", "listed_date": "2024-04-01"},
    ]}
    with pytest.raises(FactsError) as ei:
        score(pack, facts, source="xinfu.yaml")
    got = _problems(ei.value)
    assert len(got) == 4, got
    date, enum, col, boolean = got
    assert date.startswith("xinfu.yaml: enterprises[2].listed_date |")
    assert "第2行" in date and "入账日期" in date and "abc" in date and "YYYY-MM-DD" in date
    assert enum.startswith("xinfu.yaml: enterprises[3].industry |")
    assert "第3行" in enum and "行业" in enum and "钢铁" in enum and "砖瓦" in enum
    assert col.startswith("xinfu.yaml: enterprises[4].contact |")
    assert "第4行" in col and "contact" in col
    assert boolean.startswith("xinfu.yaml: enterprises[5].water_cut |")
    assert "第5行" in boolean and "断水" in boolean and "是 或 否" in boolean


def test_ledger_not_a_list_and_row_not_a_mapping(pack):
    with pytest.raises(FactsError) as ei:
        score(pack, {"reporting_body": "忻府区", "report_date": "2024-06-30", "enterprises": "无"})
    assert "应为行的列表" in str(ei.value)
    with pytest.raises(FactsError) as ei:
        score(pack, {"reporting_body": "忻府区", "report_date": "2024-06-30", "enterprises": ["甲企业"]})
    assert "enterprises[1]" in str(ei.value) and "第1行" in str(ei.value)


def test_reporting_body_and_date_are_required(pack):
    with pytest.raises(FactsError) as ei:
        score(pack, {"enterprises": []}, source="empty.yaml")
    assert _problems(ei.value) == ["empty.yaml: reporting_body | 填报单位为必填项，不能为空",
                                   "empty.yaml: report_date | 报送日期为必填项，不能为空"]
    with pytest.raises(FactsError) as ei:
        score(pack, {"reporting_body": "太原市", "report_date": "2024-06-30"})
    assert "填报单位" in str(ei.value) and "太原市" in str(ei.value) and "忻府区" in str(ei.value)


# --- scale --------------------------------------------------------------------------------

STATUS_CYCLE = ["待取缔", "已取缔待验收", "已验收", "已销号", "复燃"]


def _cycle_row(i: int) -> dict:
    """Row i's status is STATUS_CYCLE[i % 5]; rows with i % 10 == 1 shut down late."""
    stage = i % 5
    row = {"enterprise_name": f"企业{i:04d}", "industry": SCOPE[i % len(SCOPE)],
           "criterion_policy": "是", "listed_date": "2024-04-01"}
    if stage >= 1:
        row.update(_done(shutdown_date="2024-06-01" if i % 10 == 1 else "2024-05-20"))
    if stage >= 2:
        row["verified_date"] = "2024-06-10"
    if stage >= 3:
        row["deregistered_date"] = "2024-06-15"
    if stage == 4:
        row["revisit_rebound"] = "是"
    return row


def test_two_thousand_rows(pack):
    rows = [_cycle_row(i) for i in range(2000)]
    t0 = time.perf_counter()
    card = score(pack, {"reporting_body": "原平市", "report_date": "2024-07-30", "enterprises": rows})
    elapsed = time.perf_counter() - t0
    assert [r.status for r in card.rows] == [STATUS_CYCLE[i % 5] for i in range(2000)]
    late = {i for i in range(2000) if i % 10 == 1}  # 200 rows, all 已取缔待验收
    for i, r in enumerate(card.rows):
        assert r.errors == []
        assert [w.check for w in r.warnings] == (["shutdown_after_deadline"] if i in late else [])
    g = card.rollups[0].groups["原平市"]
    assert g == {"listed": 2000, "shutdown_complete": 1600, "completion_rate": Decimal("80.00"),
                 "deregistered": 400, "overdue": 200, "rebound": 400, "cleared": False}
    assert card.rollups[0].total == g
    by_industry = card.rollups[1].groups
    assert list(by_industry) == SCOPE  # 2000 rows spread over the 14 scope industries
    assert sum(v["listed"] for v in by_industry.values()) == 2000
    assert elapsed < 5, elapsed


# --- combining several bodies ------------------------------------------------------------


def test_combine_bodies_into_city(pack):
    plan = plan_for(pack)
    xinfu = convert_facts(pack, {"reporting_body": "忻府区", "report_date": "2024-06-30", "enterprises": [
        _done(enterprise_name="甲", industry="砖瓦", criterion_policy="是", listed_date="2024-04-01",
              shutdown_date="2024-05-20", verified_date="2024-06-10", deregistered_date="2024-06-15"),
        {"enterprise_name": "乙", "industry": "水泥", "criterion_policy": "是", "listed_date": "2024-04-01"},
    ]})
    yuanping = convert_facts(pack, {"reporting_body": "原平市", "report_date": "2024-06-30", "enterprises": [
        _done(enterprise_name="丙", industry="砖瓦", criterion_policy="是", listed_date="2024-04-01",
              shutdown_date="2024-06-03", verified_date="2024-06-10", deregistered_date="2024-06-15"),
    ]})
    wutai = convert_facts(pack, {"reporting_body": "五台县", "report_date": "2024-06-30", "enterprises": []})
    body, industry = plan.combine([wutai, yuanping, xinfu])
    assert body.by == "reporting_body" and body.total_label == "全市"
    assert list(body.groups) == ["忻府区", "原平市", "五台县"]  # the pack's order, not arrival order
    assert body.groups["忻府区"] == {"listed": 2, "shutdown_complete": 1, "completion_rate": Decimal(50),
                                  "deregistered": 1, "overdue": 0, "rebound": 0, "cleared": False}
    assert body.groups["原平市"] == {"listed": 1, "shutdown_complete": 1, "completion_rate": Decimal(100),
                                  "deregistered": 1, "overdue": 1, "rebound": 0, "cleared": True}
    assert body.groups["五台县"] == {"listed": 0, "shutdown_complete": 0, "completion_rate": None,
                                  "deregistered": 0, "overdue": 0, "rebound": 0, "cleared": True}
    assert body.total == {"listed": 3, "shutdown_complete": 2, "completion_rate": Decimal("66.67"),
                          "deregistered": 2, "overdue": 1, "rebound": 0, "cleared": False}
    assert list(industry.groups) == ["砖瓦", "水泥"]
    assert industry.groups["砖瓦"]["listed"] == 2 and industry.groups["砖瓦"]["cleared"] is True
    assert industry.groups["水泥"]["cleared"] is False


def test_combine_of_nothing_and_of_empty_ledgers_is_cleared(pack):
    plan = plan_for(pack)
    (body, industry) = plan.combine([])
    assert body.groups == {} and body.total["cleared"] is True and body.total["completion_rate"] is None
    empties = [convert_facts(pack, {"reporting_body": b, "report_date": "2024-06-30"}) for b in BODIES]
    body, _ = plan.combine(empties)
    assert list(body.groups) == BODIES
    assert body.total["listed"] == 0 and body.total["cleared"] is True


def test_combine_reports_a_submission_without_body(pack):
    plan = plan_for(pack)
    good = convert_facts(pack, {"reporting_body": "代县", "report_date": "2024-06-30"})
    bad = convert_facts(pack, {"report_date": "2024-06-30"})
    with pytest.raises(FactsError) as ei:
        plan.combine([good, bad], sources=["daixian.xlsx", "unknown.xlsx"])
    assert _problems(ei.value) == ["unknown.xlsx: reporting_body | 填报单位为必填项，不能为空"]


# --- properties --------------------------------------------------------------------------

DATES = st.one_of(st.none(), st.dates(dt.date(2024, 3, 1), dt.date(2024, 8, 31)))
ROWS = st.fixed_dictionaries({
    "enterprise_name": st.text("甲乙丙丁", min_size=1, max_size=3),
    "industry": st.one_of(st.none(), st.sampled_from(SCOPE + ["其他"])),
    "criterion_policy": st.booleans(), "criterion_emissions": st.booleans(),
    "criterion_permits": st.booleans(),
    "listed_date": st.dates(dt.date(2024, 3, 1), dt.date(2024, 6, 30)),
    **{c: st.booleans() for c in SIX},
    "shutdown_date": DATES, "verified_date": DATES, "deregistered_date": DATES,
    "revisit_rebound": st.booleans(),
})
SUBMISSIONS = st.lists(st.fixed_dictionaries({
    "reporting_body": st.sampled_from(BODIES),
    "report_date": st.just(dt.date(2024, 7, 31)),
    "enterprises": st.lists(ROWS, max_size=8),
}), max_size=5)


def _spec_status(row: dict) -> str:
    if row["revisit_rebound"]:
        return "复燃"
    if row["deregistered_date"] is not None:
        return "已销号"
    if row["verified_date"] is not None:
        return "已验收"
    if all(row[c] for c in SIX):
        return "已取缔待验收"
    return "待取缔"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SUBMISSIONS)
def test_rollups_add_up(submissions):
    pack = PACK
    plan = plan_for(pack)
    converted = [convert_facts(pack, s) for s in submissions]
    body, industry = plan.combine(converted)
    rows_by_body: dict[str, list[dict]] = {}
    for s in submissions:
        rows_by_body.setdefault(s["reporting_body"], []).extend(s["enterprises"])
    assert set(body.groups) == set(rows_by_body)
    for grouping in (body, industry):
        for mid in COUNTS:
            assert sum(g[mid] for g in grouping.groups.values()) == body.total[mid], mid
    every = [r for s in submissions for r in s["enterprises"]]
    assert body.total["listed"] == len(every)
    assert body.total["rebound"] == sum(r["revisit_rebound"] for r in every)
    assert body.total["shutdown_complete"] == sum(all(r[c] for c in SIX) for r in every)
    assert body.total["cleared"] == all(_spec_status(r) == "已销号" for r in every)
    for key, g in body.groups.items():
        rows = rows_by_body[key]
        assert g["listed"] == len(rows)
        assert g["cleared"] == all(_spec_status(r) == "已销号" for r in rows)
        assert g["deregistered"] == sum(_spec_status(r) == "已销号" for r in rows)
    for grouping in (body, industry):
        for g in [*grouping.groups.values(), *([grouping.total] if grouping.total else [])]:
            rate = g["completion_rate"]
            if g["listed"] == 0:
                assert rate is None
            else:
                assert Decimal(0) <= rate <= Decimal(100)
                assert rate == (g["shutdown_complete"] * 100 / g["listed"]).quantize(Decimal("0.01"),
                                                                                     rounding="ROUND_HALF_UP")


@settings(max_examples=100, deadline=None)
@given(st.lists(ROWS, max_size=10))
def test_row_status_and_checks_follow_the_spec(rows):
    pack = PACK
    card = score(pack, {"reporting_body": "静乐县", "report_date": dt.date(2024, 7, 31), "enterprises": rows})
    for row, res in zip(rows, card.rows, strict=True):
        assert res.status == _spec_status(row)
        errors = {p.check for p in res.errors}
        warnings = {p.check for p in res.warnings}
        done = all(row[c] for c in SIX)
        listed, shut, ver, dereg = (row[c] for c in ("listed_date", "shutdown_date", "verified_date",
                                                     "deregistered_date"))
        assert ("no_criterion" in errors) == (not (row["criterion_policy"] or row["criterion_emissions"]
                                                   or row["criterion_permits"]))
        assert ("deregistered_not_shutdown" in errors) == (dereg is not None and not done)
        assert ("deregistered_not_verified" in errors) == (dereg is not None and ver is None)
        assert ("verified_not_shutdown" in errors) == (ver is not None and not done)
        assert ("shutdown_before_listed" in errors) == (shut is not None and shut < listed)
        assert ("verified_before_listed" in errors) == (ver is not None and ver < listed)
        assert ("deregistered_before_listed" in errors) == (dereg is not None and dereg < listed)
        assert ("deregistered_before_verified" in errors) == (None not in (dereg, ver) and dereg < ver)
        assert ("industry_other" in warnings) == (row["industry"] == "其他")
        assert ("shutdown_after_deadline" in warnings) == (shut is not None and shut > dt.date(2024, 5, 31))
        assert ("verification_after_deadline" in warnings) == (ver is not None and ver > dt.date(2024, 6, 30))
        assert ("listed_after_survey" in warnings) == (listed > dt.date(2024, 4, 15))

