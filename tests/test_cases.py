"""Example cases: the case file (rubric_xl.rules.cases), the runner
(rubric_xl.caserun) and every case file under rules/cases/: each case is a test of its own, so a failure names the case."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from conftest import RULES, SHANXI_PATH
from rubric_xl import PackError, load_pack, load_pack_text, score
from rubric_xl.caserun import run_cases, run_combined
from rubric_xl.rules.cases import Case, CombinedCase, cases_path, load_case_file, load_cases
from rubric_xl.rules.cases import cases_from_located
from rubric_xl.rules.yamlsrc import load_text

CASE_DIR = RULES / "cases"


def _collect():
    params = []
    for cf in sorted(CASE_DIR.glob("*.yaml")):
        pack_path = RULES / cf.name
        try:
            pack = load_pack(pack_path)
            cases, combined = load_case_file(cf, pack)
        except Exception as exc:  # reported by the test below, not at collection
            params.append(pytest.param(None, exc, id=f"{cf.stem}::加载失败"))
            continue
        for case in [*cases, *combined]:
            params.append(pytest.param(pack, case, id=f"{cf.stem}::{case.name}"))
    return params


@pytest.mark.parametrize("pack,case", _collect())
def test_case_file(pack, case):
    if pack is None:
        raise case
    if isinstance(case, CombinedCase):
        (result,) = run_combined(pack, [case])
    else:
        (result,) = run_cases(pack, [case], score)
    assert result.ok, f"{case.loc} {case.name}:\n" + "\n".join(result.failures)


def test_every_pack_has_a_case_file():
    packs = sorted(p.stem for p in RULES.glob("*.yaml"))
    assert "shanxi-2005" in packs
    assert [p for p in packs if not (CASE_DIR / f"{p}.yaml").exists()] == []


def test_cases_path():
    assert cases_path("rules/shanxi-2005.yaml") == Path("rules/cases/shanxi-2005.yaml")
    assert cases_path(Path("/x/y/my.pack.yaml")) == Path("/x/y/cases/my.pack.yaml")


def test_shanxi_cases_cover_every_item(shanxi):
    cases = load_cases(cases_path(SHANXI_PATH), shanxi)
    covered = {iid for c in cases for iid in c.expect.items}
    assert sorted(covered, key=int) == [str(i) for i in range(1, 45)]
    # and every grade band and both eligibility answers
    assert {c.expect.grade for c in cases} >= {"优秀", "优良", "合格", "不合格"}
    assert {c.expect.eligible for c in cases} >= {True, False}
    assert sum(1 for c in cases if c.expect.error) >= 5


# --- the runner reports wrong expectations ---------------------------------------

def _cases(pack, text: str, source="t.yaml") -> list[Case]:
    return cases_from_located(load_text(text, source), pack)


def _run1(pack, text: str):
    (r,) = run_cases(pack, _cases(pack, text), score)
    return r


SHANXI_HEAD = "pack: shanxi-2005\n"


@pytest.fixture
def base_yaml(full_facts):
    lines = ["base:"]
    for k, v in full_facts.items():
        lines.append(f"  {k}: {v.isoformat() if hasattr(v, 'isoformat') else str(v).lower() if isinstance(v, bool) else v}")
    return SHANXI_HEAD + "\n".join(lines) + "\n"


def test_base_is_full_marks(shanxi, base_yaml):
    r = _run1(shanxi, base_yaml + """cases:
  - name: ok
    expect: {total: 100, grade: 优秀, eligible: true, provisional: false, flags: []}
""")
    assert r.ok, r.failures


def test_wrong_points_are_a_failure(shanxi, base_yaml):
    r = _run1(shanxi, base_yaml + """cases:
  - name: 第10项 写错
    facts: {weekly_reports_count: 17}
    expect:
      items: {"10": 2.00}
""")
    assert (r.name, r.ok) == ("第10项 写错", False)
    assert r.failures == ["第10项：期望 2.00 分，实际 1.50 分"]
    assert r.loc.startswith("t.yaml:")


def test_every_kind_of_wrong_expectation(shanxi, base_yaml):
    r = _run1(shanxi, base_yaml + """cases:
  - name: 全错
    facts: {weekly_reports_count: 18, spot_check_uncorrected_practice: true}
    expect:
      items:
        "10": {points: 2, zeroed: true, explain: 少报3期}
        "29": {flags: []}
        "12": incomplete
      categories: {信息报送: 25}
      total: 97
      grade: 优良
      eligible: true
      provisional: true
      flags: []
""")
    # right: item 10 = 2, total 100 − 1 − 2 = 97, eligible (优秀)
    assert not r.ok
    assert r.failures == [
        "第10项：期望判为不得分，实际未判为不得分（少报2期，扣1.00分；得2.00分）",
        "第10项：说明应包含“少报3期”，实际说明为“少报2期，扣1.00分；得2.00分”",
        "第29项：期望标记 无，实际 通报批评",
        "第12项：期望 待填，实际 2.00 分（符合要求，得2.00分）",
        "类别“信息报送”：期望 25.00 分，实际 24.00 分",
        "等次：期望 优良，实际 优秀",
        "暂定分：期望 是，实际 否",
        "标记：期望 无，实际 第29项：通报批评",
    ]


def test_wrong_total_and_eligibility(shanxi, base_yaml):
    r = _run1(shanxi, base_yaml + """cases:
  - name: 总分写错
    facts: {weekly_reports_count: 0}
    expect: {total: 96.5, eligible: false}
""")
    assert r.failures == ["总分：期望 96.50 分，实际 97.00 分",
                          "省环保专项整治行动先进集体评选资格：期望 否，实际 是"]


def test_expected_incomplete_but_scored_and_vice_versa(shanxi, base_yaml):
    r = _run1(shanxi, base_yaml + """cases:
  - name: a
    facts: {weekly_reports_count: null}
    expect:
      items: {"10": 3, "11": {missing: [survey_report_date]}}
""")
    assert r.failures[0] == "第10项：期望 3.00 分，实际 待填：每周工作进度上报期数"
    assert r.failures[1] == "第11项：期望待填事实 survey_report_date，实际 无"


def test_error_expectations(shanxi, base_yaml):
    cases = _cases(shanxi, base_yaml + """cases:
  - name: 报错且含关键字
    facts: {complaint_handling_rate: n/a}
    expect: {error: complaint_handling_rate}
  - name: 报错但不含关键字
    facts: {complaint_handling_rate: n/a}
    expect: {error: weekly_reports_count}
  - name: 期望报错却未报错
    expect: {error: complaint_handling_rate}
  - name: 未期望报错却报错
    facts: {complaint_handling_rate: n/a}
    expect: {total: 100}
""")
    ok, wrong_text, no_error, unexpected = run_cases(shanxi, cases, score)
    assert ok.ok and ok.failures == []
    assert not wrong_text.ok and wrong_text.failures[0].startswith("期望报错信息包含“weekly_reports_count”，实际报错为：")
    assert "complaint_handling_rate" in wrong_text.failures[0]
    assert no_error.failures == ["期望报错（含“complaint_handling_rate”），实际未报错"]
    assert unexpected.failures[0].startswith("意外报错：") and "93.5" in unexpected.failures[0]


def test_base_is_merged_and_null_blanks_a_fact(shanxi, base_yaml):
    cases = _cases(shanxi, base_yaml + """cases:
  - name: 留空
    facts: {weekly_reports_count: null, survey_report_date: null}
    expect:
      items: {"10": incomplete, "11": {points: 0, zeroed: true}}
      total: 95
      provisional: true
""")
    assert cases[0].facts["weekly_reports_count"] is None
    assert cases[0].facts["leading_group_established"] is True
    assert run_cases(shanxi, cases, score)[0].ok


def test_runner_never_raises_on_engine_defects(shanxi, base_yaml):
    def boom(*a, **k):
        raise RuntimeError("坏了")
    (r,) = run_cases(shanxi, _cases(shanxi, base_yaml + "cases:\n  - name: x\n    expect: {total: 100}\n"), boom)
    assert not r.ok and r.failures == ["程序内部错误 RuntimeError：坏了"]


def test_numbers_compare_after_quantizing(shanxi, base_yaml):
    r = _run1(shanxi, base_yaml + """cases:
  - name: 第43项
    facts: {media_reports_2005_06: 32}  # 60 − 8 + 32 = 84, average 14
    expect: {items: {"43": 5.2}, total: 100.20}
""")
    assert r.ok, r.failures


# --- load-time problems ----------------------------------------------------------

def _load_problems(pack, text):
    with pytest.raises(PackError) as ei:
        _cases(pack, text)
    return [str(p) for p in ei.value.problems]


@pytest.mark.parametrize("body,loc,msg", [
    ("pack: xinzhou-2024\ncases:\n  - {name: a, expect: {total: 1}}\n", "t.yaml:1 pack", "'xinzhou-2024'"),
    (SHANXI_HEAD + "cases:\n  - name: a\n    expect:\n      items: {\"45\": 1}\n",
     "t.yaml:5 cases[0].expect.items.45", "没有第45项"),
    (SHANXI_HEAD + "cases:\n  - name: a\n    expect:\n      items:\n        7: 1\n        99: 1\n",
     "t.yaml:7 cases[0].expect.items.99", "没有第99项"),
    (SHANXI_HEAD + "cases:\n  - name: a\n    facts: {weekly_report_count: 3}\n    expect: {total: 1}\n",
     "t.yaml:4 cases[0].facts.weekly_report_count", "未知的事实"),
    (SHANXI_HEAD + "base: {nope: 1}\ncases:\n  - {name: a, expect: {total: 1}}\n", "t.yaml:2 base.nope", "未知的事实"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {grade: 良好}}\n", "t.yaml:3 cases[0].expect.grade", "良好"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {items: {\"1\": incomplet}}}\n",
     "t.yaml:3 cases[0].expect.items.1", "incomplete"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {items: {\"1\": true}}}\n", "t.yaml:3 cases[0].expect.items.1",
     "应为分数"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {total: 98.555}}\n", "t.yaml:3 cases[0].expect.total", "两位小数"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {totl: 98}}\n", "t.yaml:3 cases[0].expect.totl", "未知字段"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {}}\n", "t.yaml:3 cases[0].expect", "没有写出任何期望"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {items: {\"1\": {}}}}\n", "t.yaml:3 cases[0].expect.items.1",
     "没有写出任何期望"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {error: x, total: 1}}\n", "t.yaml:3 cases[0].expect.error",
     "不能再期望"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {total: 1}}\n  - {name: a, expect: {total: 2}}\n",
     "t.yaml:4 cases[1].name", "重复"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {rows: [{row: 1, status: x}]}}\n", "t.yaml:3 cases[0].expect.rows",
     "台账类才有"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {eligible: 是}}\n", "t.yaml:3 cases[0].expect.eligible",
     "true/false"),
    (SHANXI_HEAD + "cases: []\n", "t.yaml:2 cases", "不能为空"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {items: {\"1\": {status: incomplete, points: 1}}}}\n",
     "t.yaml:3 cases[0].expect.items.1", "待填"),
    (SHANXI_HEAD + "cases:\n  - {name: a, expect: {items: {\"1\": {missing: [nope]}}}}\n",
     "t.yaml:3 cases[0].expect.items.1.missing[0]", "未知的事实"),
])
def test_load_problems(shanxi, body, loc, msg):
    problems = _load_problems(shanxi, body)
    assert any(p.startswith(loc + ":") and msg in p for p in problems), problems


def test_unknown_fact_allowed_when_an_error_is_expected(shanxi):
    cases = _cases(shanxi, SHANXI_HEAD + "cases:\n  - {name: a, facts: {weekly_report_count: 3}, "
                                         "expect: {error: weekly_reports_count}}\n")
    assert run_cases(shanxi, cases, score)[0].ok  # the engine suggests the right name


def test_load_cases_file_errors(shanxi, tmp_path):
    with pytest.raises(PackError) as ei:
        load_cases(tmp_path / "missing.yaml", shanxi)
    assert "missing.yaml" in str(ei.value)
    bad = tmp_path / "bad.yaml"
    bad.write_text("pack: shanxi-2005\ncases:\n  - name: [unclosed\n", encoding="utf-8")
    with pytest.raises(PackError) as ei:
        load_cases(bad, shanxi)
    assert f"{bad}:" in str(ei.value)
    top = tmp_path / "top.yaml"
    top.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(PackError) as ei:
        load_cases(top, shanxi)
    assert "顶层应为映射" in str(ei.value)


# --- ledger packs ----------------------------------------------------------------

LEDGER = """
id: tiny-ledger
title: 小台账
version: "1"
kind: ledger
source: {document: 测试, title: 测试}
facts:
  - {id: reporting_body, label: 填报单位, type: enum, options: [甲县, 乙县]}
  - id: enterprises
    label: 企业台账
    type: table
    columns:
      - {id: enterprise_name, label: 企业名称, type: text}
      - {id: water_cut, label: 断水, type: bool, required: false, default: false}
      - {id: power_cut, label: 断电, type: bool, required: false, default: false}
      - {id: deregistered_date, label: 销号日期, type: date, blank_allowed: true, required: false}
deadlines:
  - {id: phase_end, date: 2024-05-31, label: 关停期限}
ledger:
  table: enterprises
  key: enterprise_name
  derived:
    - {id: shutdown_complete, label: 取缔到位, expr: water_cut and power_cut}
  statuses:
    - {name: 已销号, when: present(deregistered_date)}
    - {name: 已取缔, when: shutdown_complete}
    - {name: 待取缔, when: "true"}
  checks:
    - {id: dereg_without_shutdown, level: error, when: present(deregistered_date) and not shutdown_complete,
       message: 未取缔到位就销号, columns: [deregistered_date]}
    - {id: late_dereg, level: warning, when: deregistered_date > phase_end, message: 超期销号,
       columns: [deregistered_date]}
  metrics:
    - {id: listed, label: 入账数, kind: count}
    - {id: done, label: 取缔到位数, kind: count, where: shutdown_complete}
    - {id: completion_rate, label: 完成率, kind: rate, numerator: done, denominator: listed}
    - {id: cleared, label: 清零, kind: all, where: "status == '已销号'"}
  groupings:
    - {by: reporting_body, label: 按填报单位, total_label: 合计}
    - {label: 全市}
"""

ROWS = """
    facts:
      reporting_body: 甲县
      enterprises:
        - {enterprise_name: A, water_cut: true, power_cut: true, deregistered_date: 2024-05-01}
        - {enterprise_name: B, water_cut: true, deregistered_date: 2024-06-10}
        - {enterprise_name: C, water_cut: true, power_cut: true}
        - {water_cut: false}
"""


@pytest.fixture(scope="module")
def ledger_pack():
    return load_pack_text(LEDGER, "tiny-ledger.yaml")


def test_ledger_case_passes(ledger_pack):
    r = _run1(ledger_pack, "pack: tiny-ledger\ncases:\n  - name: 四行\n" + ROWS + """
    expect:
      rows:
        - {row: 1, key: A, status: 已销号, errors: [], warnings: []}
        - {row: 2, status: 已销号, errors: [dereg_without_shutdown], warnings: [late_dereg]}
        - {row: 3, status: 已取缔}
        - {row: 4, status: 待取缔, errors: [required_enterprise_name]}
      rollups:
        reporting_body:
          甲县: {listed: 4, done: 2, completion_rate: 50, cleared: false}
          _total: {listed: 4}
        overall:
          _total: {listed: 4, done: 2, completion_rate: 50.00}
""")
    assert r.ok, r.failures


def test_ledger_case_failures(ledger_pack):
    r = _run1(ledger_pack, "pack: tiny-ledger\ncases:\n  - name: 写错\n" + ROWS + """
    expect:
      rows:
        - {row: 1, key: X, status: 已取缔}
        - {row: 2, errors: [late_dereg], warnings: []}
        - {row: 9, status: 待取缔}
      rollups:
        reporting_body:
          甲县: {listed: 3, completion_rate: 66.67, cleared: true}
          乙县: {listed: 0}
        全市:
          _total: {done: 3}
""")
    assert not r.ok
    assert r.failures == [
        "第1行：期望名称 X，实际 A",
        "第1行：期望状态 已取缔，实际 已销号",
        "第2行：期望错误 late_dereg，实际 dereg_without_shutdown",
        "第2行：期望提醒 无，实际 late_dereg",
        "第9行：台账中没有这一行（共 4 行）",
        "汇总“按填报单位” 甲县：listed 期望 3，实际 4",
        "汇总“按填报单位” 甲县：completion_rate 期望 66.67，实际 50",
        "汇总“按填报单位” 甲县：cleared 期望 是，实际 否",
        "汇总“按填报单位” 乙县：没有这一组（实有：甲县）",
        "汇总“全市” 合计：done 期望 3，实际 2",
    ]


def test_ledger_empty_rate_is_null(ledger_pack):
    r = _run1(ledger_pack, """pack: tiny-ledger
cases:
  - name: 无企业
    facts: {reporting_body: 乙县, enterprises: []}
    expect:
      rollups:
        reporting_body:
          乙县: {listed: 0, completion_rate: null, cleared: true}
""")
    assert r.ok, r.failures
    r = _run1(ledger_pack, """pack: tiny-ledger
cases:
  - name: 无企业但期望了数值
    facts: {reporting_body: 乙县, enterprises: []}
    expect:
      rollups:
        reporting_body:
          乙县: {completion_rate: 0}
""")
    assert r.failures == ["汇总“按填报单位” 乙县：completion_rate 期望 0，实际 无（null）"]


@pytest.mark.parametrize("expect,loc,msg", [
    ("{rollups: {industry: {甲: {listed: 1}}}}", "cases[0].expect.rollups.industry", "没有汇总方式"),
    ("{rollups: {reporting_body: {甲县: {lisst: 1}}}}", "cases[0].expect.rollups.reporting_body.甲县.lisst",
     "未知的指标"),
    ("{rollups: {reporting_body: {甲县: {cleared: 1}}}}", "cases[0].expect.rollups.reporting_body.甲县.cleared",
     "true/false"),
    ("{rollups: {reporting_body: {甲县: {listed: true}}}}", "cases[0].expect.rollups.reporting_body.甲县.listed",
     "应为数值"),
    ("{rollups: {reporting_body: {甲县: {completion_rate: 66.667}}}}",
     "cases[0].expect.rollups.reporting_body.甲县.completion_rate", "两位小数"),
    ("{rollups: {overall: {甲县: {listed: 1}}}}", "cases[0].expect.rollups.overall.甲县", "_total"),
    ("{rows: [{row: 1, status: 已关停}]}", "cases[0].expect.rows[0].status", "已关停"),
    ("{rows: [{row: 1, errors: [no_such_check]}]}", "cases[0].expect.rows[0].errors[0]", "未知的检查"),
    ("{rows: [{row: 0}]}", "cases[0].expect.rows[0].row", "数值太小"),
    ("{total: 100}", "cases[0].expect.total", "评分类才有"),
])
def test_ledger_load_problems(ledger_pack, expect, loc, msg):
    problems = _load_problems(ledger_pack, f"pack: tiny-ledger\ncases:\n  - {{name: a, expect: {expect}}}\n")
    assert any(f"t.yaml:3 {loc}:" in p and msg in p for p in problems), problems


def test_case_objects_are_plain_data(shanxi, base_yaml):
    (case,) = _cases(shanxi, base_yaml + "cases:\n  - {name: a, facts: {weekly_reports_count: 18}, "
                                         "expect: {items: {\"10\": 2, \"12\": incomplete}}}\n")
    assert case.name == "a" and case.facts["weekly_reports_count"] == 18
    assert case.expect.items["10"].points == Decimal(2)
    assert case.expect.items["12"].status == "incomplete"
