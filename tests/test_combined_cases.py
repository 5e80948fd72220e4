"""Combined cases of a case file: several submissions rolled up together (the
province's / city's view) with roll-ups, ranks and flagged groups compared."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from conftest import RULES
from rubric_xl import load_pack
from rubric_xl.caserun import run_combined
from rubric_xl.cli import cli
from rubric_xl.errors import PackError
from rubric_xl.rules.cases import load_case_file
from rubric_xl.rules.yamlsrc import load_text
from rubric_xl.rules.cases import _from_located

QINGLING = RULES / "shanxi-2019-qingling.yaml"


@pytest.fixture(scope="module")
def qingling():
    return load_pack(QINGLING)


def _city(body, date, *tasks):
    return {"reporting_body": body, "report_date": date, "tasks": list(tasks)}


def _file(expect: str, subs: str | None = None) -> str:
    subs = subs or """
      - {reporting_body: 太原市, report_date: 2019-08-31, tasks: [{category: 督察反馈问题, task_name: 一, completed_date: 2019-08-01}, {category: 督察反馈问题, task_name: 二}]}
      - {reporting_body: 大同市, report_date: 2019-08-31, tasks: [{category: 散乱污企业, task_name: 一, completed_date: 2019-08-01}, {category: 散乱污企业, task_name: 二, deadline: 2019-08-15}]}
"""
    return f"""pack: shanxi-2019-qingling
cases:
  - name: 占位
    facts: {{reporting_body: 太原市, report_date: 2019-08-31, tasks: []}}
    expect: {{rollups: {{reporting_body: {{太原市: {{tasks: 0}}}}}}}}
combined:
  - name: 合并
    submissions:{subs}
    expect:
{expect}
"""


def _combined(pack, text):
    return _from_located(load_text(text, "c.yaml"), pack)[1]


def _run(pack, expect, subs=None):
    (r,) = run_combined(pack, _combined(pack, _file(expect, subs)))
    return r


def test_right_expectations_pass(qingling):
    r = _run(qingling, """      rollups: {reporting_body: {太原市: {completion_rate: 50, overdue: 0}, 大同市: {overdue: 1}}}
      ranks: {reporting_body: {太原市: 1, 大同市: 2}}
      flagged: {category: {太原市: [督察反馈问题], 大同市: [散乱污企业]}}""")
    assert r.ok, r.failures


@pytest.mark.parametrize("expect,needle", [
    ("      ranks: {reporting_body: {太原市: 2}}", "排名“按填报单位” 太原市：期望第 2 名，实际第 1 名"),
    ("      ranks: {reporting_body: {大同市: 1}}", "大同市：期望第 1 名，实际第 2 名"),
    ("      ranks: {reporting_body: {太原市: null}}", "期望第 无（null） 名，实际第 1 名"),
    ("      ranks: {reporting_body: {朔州市: 3}}", "排名“按填报单位”：没有 朔州市"),
    ("      flagged: {category: {太原市: []}}", "标记“按清零领域” 太原市：期望 无，实际 督察反馈问题"),
    ("      flagged: {category: {大同市: [散乱污企业, 督察反馈问题]}}", "大同市：期望 散乱污企业、督察反馈问题，实际 散乱污企业"),
    ("      flagged: {category: {朔州市: []}}", "标记“按清零领域”：没有 朔州市"),
    ("      rollups: {reporting_body: {太原市: {completion_rate: 40}}}", "太原市：completion_rate 期望 40，实际 50"),
    ("      rollups: {category: {督察反馈问题: {lagging: false}}}", "督察反馈问题：lagging 期望 否，实际 无（null）"),
    ("      rollups: {reporting_body: {_total: {tasks: 3}}}", None),  # no 合计 line: a load error instead
])
def test_every_wrong_expectation_fails_in_chinese(qingling, expect, needle):
    if needle is None:
        with pytest.raises(PackError, match="合计行"):
            _combined(qingling, _file(expect))
        return
    r = _run(qingling, expect)
    assert not r.ok
    assert any(needle in f for f in r.failures), r.failures


def test_an_engine_error_in_one_submission_is_a_failure_not_a_crash(qingling):
    subs = """
      - {reporting_body: 太原市, report_date: 2019-08-31, tasks: []}
      - {reporting_body: 大同市, report_date: 2019-08-31, tasks: [{category: 散乱污企业, task_name: 一, deadline: 十月底}]}
"""
    r = _run(qingling, "      ranks: {reporting_body: {太原市: null}}", subs)
    assert not r.ok and "意外报错" in r.failures[0] and "合并 第2份" in r.failures[0] and "十月底" in r.failures[0]


@pytest.mark.parametrize("expect,subs,msg", [
    ("      ranks: {category: {督察反馈问题: 1}}", None, "汇总方式 category 没有设置排名（rank）"),
    ("      flagged: {reporting_body: {太原市: []}}", None, "汇总方式 reporting_body 没有设置标记（flag）"),
    ("      ranks: {area: {太原市: 1}}", None, "没有汇总方式 'area'"),
    ("      flagged: {按领域: {太原市: []}}", None, "没有汇总方式 '按领域'"),
    ("      ranks: {reporting_body: {太原市: 0}}", None, "太原市: 数值太小"),
    ("      ranks: {}", None, "没有写出任何期望"),
    ("      tables: {nosuch: {ranks: {reporting_body: {太原市: 1}}}}", None, "没有表格 'nosuch'"),
    ("      ranks: {reporting_body: {太原市: 1}}", "\n      - {reporting_body: 太原市, report_date: 2019-08-31, tasks: []}\n", "submissions"),
    ("      ranks: {reporting_body: {太原市: 1}}",
     "\n      - {reporting_body: 太原市, report_date: 2019-08-31, tasks: []}\n      - {reporting_body: 大同市, reprot_date: 2019-08-31, tasks: []}\n",
     "未知的事实 'reprot_date'"),
])
def test_bad_combined_cases_are_load_errors(qingling, expect, subs, msg):
    with pytest.raises(PackError) as ei:
        _combined(qingling, _file(expect, subs))
    text = str(ei.value) + "\n".join(str(p) for p in ei.value.problems)
    assert "combined" in text and msg in text, text


def test_rubric_packs_have_no_combined_cases(shanxi):
    text = ("pack: shanxi-2005\ncases:\n  - {name: 一, facts: {}, expect: {total: 0}}\ncombined:\n"
            "  - name: 合并\n    submissions: [{}, {}]\n    expect: {ranks: {reporting_body: {太原市: 1}}}\n")
    with pytest.raises(PackError) as ei:
        _from_located(load_text(text, "c.yaml"), shanxi)
    assert any("只有台账类规则包有合并汇总用例" in p.msg for p in ei.value.problems)


def test_bundled_packs_state_their_combined_roll_ups():
    """The 2019 packs' case files carry the province's ranking and the city's coverage."""
    for name in ("shanxi-2019-qingling", "changzhi-2019"):
        pack = load_pack(RULES / f"{name}.yaml")
        _, combined = load_case_file(RULES / "cases" / f"{name}.yaml", pack)
        assert len(combined) >= 2
        assert all(r.ok for r in run_combined(pack, combined)), name
    _, combined = load_case_file(RULES / "cases" / "shanxi-2019-qingling.yaml", load_pack(QINGLING))
    assert any(c.expect.ranks and c.expect.flagged for c in combined)


def test_rules_test_counts_combined_cases_and_fails_on_a_wrong_one(tmp_path):
    (tmp_path / "cases").mkdir()
    (tmp_path / "shanxi-2019-qingling.yaml").write_text(QINGLING.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "cases" / "shanxi-2019-qingling.yaml").write_text(
        _file("      ranks: {reporting_body: {太原市: 2, 大同市: 2}}"), encoding="utf-8")
    res = CliRunner().invoke(cli, ["rules", "test", str(tmp_path / "shanxi-2019-qingling.yaml")])
    assert res.exit_code == 1
    assert "✗ 合并" in res.output and "太原市：期望第 2 名，实际第 1 名" in res.output
    assert "1 个用例通过，1 个失败（含 1 个合并汇总用例）" in res.output
