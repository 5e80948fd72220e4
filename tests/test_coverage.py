"""Pack coverage (rubric_xl.coverage, ``rubric-xl rules test --coverage``): what can
fire is enumerated from the lowered form, what did fire is read from the engine's
score cards; every pack in rules/ reaches 100 % with its example cases."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import RULES
from rubric_xl import PackError, load_pack, load_pack_text, score
from rubric_xl.caserun import run_cases_cards
from rubric_xl.cli import cli
from rubric_xl.coverage import Coverage, fired, measure, targets
from rubric_xl.rules.cases import cases_from_located, cases_path, load_cases
from rubric_xl.rules.yamlsrc import load_text

PACKS = sorted(RULES.glob("*.yaml"))

TINY = """\
id: tiny-cov
title: 覆盖率测试
version: "1"
source: {document: 测试, title: 测试}
categories: [{name: 甲, cap: 5}]
facts:
  - {id: done, label: 已落实, type: bool}
  - {id: n, label: 少报次数, type: int}
  - {id: extra, label: 多报次数, type: int}
  - {id: level, label: 等级, type: enum, options: [高, 中, 低]}
  - {id: bad, label: 有问题, type: bool}
  - {id: rate, label: 完成率, type: percent}
items:
  - id: "1"
    category: 甲
    title: 第一项
    max: 2
    criteria: 未落实不得分；超过50次不得分并通报批评；少报一次扣0.5分；多报一次加0.5分，最多加1分
    evidence: 文件
    zero_if:
      - {when: not done, reason: 未落实}
      - {when: n > 50, reason: 少报过多, flag: 通报批评}
    deductions:
      - {kind: per_unit, count: n, points: 0.5, unit: 次, reason: 少报}
    bonuses:
      - {kind: step, value: extra, threshold: 0, step: 1, points: 0.5, cap: 1, reason: 多报}
  - id: "2"
    category: 甲
    title: 第二项
    max: 2
    criteria: 高2分、中1分、低0分；有问题扣0.5分
    evidence: 文件
    tiers: {value: level, points: {高: 2, 中: 1, 低: 0}}
    deductions:
      - {kind: flat, when: bad, points: 0.5, reason: 有问题}
  - id: "3"
    category: 甲
    title: 第三项
    max: 1
    criteria: 完成率每低于100%的10%扣0.1分
    evidence: 文件
    deductions:
      - {kind: step, value: rate, threshold: 100, step: 10, points: 0.1, cap: 2, reason: 完成率}
"""

BASE = {"done": True, "n": 0, "extra": 0, "level": "高", "bad": False, "rate": 100}

# every target of TINY, in pack order (item 3's floor and cap cannot bite: 0–100 %
# costs at most 10 steps × 0.1 = 1 = its max, below the cap of 2)
TINY_TARGETS = [
    ("scored", "第1项"), ("zero", "第1项 不得分条件1"), ("zero", "第1项 不得分条件2"),
    ("deduction", "第1项 扣分1"), ("bonus", "第1项 加分1"), ("cap", "第1项 加分1 封顶"), ("floor", "第1项 扣完为止"),
    ("scored", "第2项"), ("tier", "第2项 档次“高”"), ("tier", "第2项 档次“中”"), ("tier", "第2项 档次“低”"),
    ("deduction", "第2项 扣分1"), ("floor", "第2项 扣完为止"),
    ("scored", "第3项"), ("deduction", "第3项 扣分1"),
]


@pytest.fixture(scope="module")
def tiny():
    return load_pack_text(TINY, "tiny-cov.yaml")


def _card(pack, **facts):
    return score(pack, {**BASE, **facts})


def _f(pack, **facts) -> set[tuple]:
    return fired(_card(pack, **facts), pack)


def _cov(pack, *facts_list) -> Coverage:
    return measure(pack, [(f"用例{i + 1}", _card(pack, **f)) for i, f in enumerate(facts_list)])


def test_targets_are_enumerated_from_the_lowered_form(tiny):
    assert [(t.category, t.location) for t in targets(tiny)] == TINY_TARGETS
    keys = [t.key for t in targets(tiny)]
    assert len(keys) == len(set(keys))


def test_what_fired_is_what_the_engine_recorded(tiny):
    # n = 5: 2.5 > 2 → 扣完为止; extra = 3 → 1.5, capped at 1; level 低 with a deduction → floored
    card = _card(tiny, n=5, extra=3, level="低", bad=True, rate=55)
    assert fired(card, tiny) == {
        ("scored", "1"), ("deduction", "1", 0), ("bonus", "1", 0), ("cap", "1", "bonus", 0), ("floor", "1"),
        ("scored", "2"), ("tier", "2", "低"), ("deduction", "2", 0), ("floor", "2"),
        ("scored", "3"), ("deduction", "3", 0),
    }
    assert card.item("1").points == Decimal(1)  # max(0, 2 − 2.5) + 1


def test_the_zeroing_condition_that_held_is_the_one_reported(tiny):
    # both conditions hold for n = 60 when not done: the first one wins
    assert ("zero", "1", 0) in _f(tiny, done=False, n=60)
    assert ("zero", "1", 1) not in _f(tiny, done=False, n=60)
    # done, n = 51: only the second (boundary: n = 50 is not zeroed)
    assert {k for k in _f(tiny, n=51) if k[0] == "zero"} == {("zero", "1", 1)}
    assert {k for k in _f(tiny, n=50) if k[0] == "zero"} == set()
    assert ("scored", "1") not in _f(tiny, n=51)  # a zeroed item is not 计分


def test_floor_and_cap_boundaries(tiny):
    # exactly used up is not 扣完为止 (2 − 4 × 0.5 = 0); one more is
    assert ("floor", "1") not in _f(tiny, n=4)
    assert ("floor", "1") in _f(tiny, n=5)
    # 2 × 0.5 = 1 is the cap itself, not above it
    assert ("cap", "1", "bonus", 0) not in _f(tiny, extra=2)
    assert ("cap", "1", "bonus", 0) in _f(tiny, extra=3)
    # a tier option worth the maximum is read on the full-marks path too
    assert ("tier", "2", "高") in _f(tiny)


def test_a_deliberately_uncovered_rule_is_reported(tiny):
    cov = _cov(tiny,  # 高 is the base's level: every case here names another one
               dict(done=False, level="中"), dict(n=51, level="中"), dict(n=5, extra=2, level="中", rate=50),
               dict(level="低", bad=True))
    assert [t.location for t in cov.missed] == ["第1项 加分1 封顶", "第2项 档次“高”"]
    assert cov.covered == len(TINY_TARGETS) - 2
    assert cov.percent == Decimal("86.66")  # 13 / 15, rounded down
    hits = {t.location: t.hits for t in cov.targets}
    assert hits["第1项 不得分条件1"] == ["用例1"]
    assert hits["第1项"] == ["用例3", "用例4"]  # 用例1 and 用例2 are zeroed
    # one more case makes it 100
    full = _cov(tiny, dict(done=False), dict(n=51), dict(n=5, extra=3, level="中", rate=50),
                dict(level="低", bad=True), dict())
    assert full.missed == [] and full.percent == Decimal("100.00")


def test_no_case_is_never_full_coverage(tiny):
    for pack in [tiny] + [load_pack(p) for p in PACKS]:
        cov = measure(pack, [])
        assert cov.percent == Decimal("0.00") and cov.covered == 0
        assert cov.targets and len(cov.missed) == len(cov.targets)


def test_percent_rounds_down_never_up(tiny):
    cov = _cov(tiny, dict())
    n = len(cov.targets)
    assert cov.percent == (Decimal(cov.covered) * 100 / n).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    assert cov.percent < 100


# --- every pack in rules/ (the 2019 packs included when they land) --------------


@pytest.mark.parametrize("path", PACKS, ids=[p.stem for p in PACKS])
def test_every_pack_reaches_full_coverage(path):
    pack = load_pack(path)
    results = run_cases_cards(pack, load_cases(cases_path(path), pack))
    assert [r.name for r, _ in results if not r.ok] == []
    cov = measure(pack, [(r.name, card) for r, card in results if card is not None])
    assert [f"{t.label} {t.location}：{t.description}" for t in cov.missed] == []
    assert cov.percent == Decimal("100.00")


def _value(f):
    if f.type == "bool":
        return st.booleans()
    if f.type == "int":
        return st.integers(min_value=int(f.min or 0), max_value=int(f.max) if f.max is not None else 80)
    if f.type == "percent":  # above 0 and at most 1 is refused by the input contract
        return st.decimals(min_value=f.min or 0, max_value=f.max or 100, places=2).filter(lambda d: not 0 < d <= 1)
    if f.type == "decimal":
        return st.decimals(min_value=f.min or 0, max_value=f.max if f.max is not None else 80, places=2)
    if f.type == "date":
        return st.none() | st.dates(dt.date(2005, 1, 1), dt.date(2025, 12, 31))
    if f.type == "enum":
        return st.sampled_from(f.options)
    return st.none()


RUBRICS = [load_pack(p) for p in PACKS if load_pack(p).model.kind == "rubric"]


@pytest.mark.parametrize("pack", RUBRICS, ids=[p.id for p in RUBRICS])
def test_whatever_fires_was_enumerated(pack):
    """Invariant: on any submission, everything the engine records as fired is a
    target (so a floor or cap judged unable to bite never bites)."""
    known = {t.key for t in targets(pack)}
    facts = st.fixed_dictionaries({f.id: _value(f) for f in pack.model.facts})

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(facts=facts)
    def check(facts):
        assert fired(score(pack, facts), pack) <= known

    check()


# --- ledgers ---------------------------------------------------------------------

LEDGER = """\
id: tiny-led
title: 台账覆盖率测试
version: "1"
kind: ledger
source: {document: 测试, title: 测试}
facts:
  - {id: body, label: 填报单位, type: enum, options: [甲县, 乙县]}
  - id: rows
    label: 企业台账
    type: table
    columns:
      - {id: name, label: 企业名称, type: text}
      - {id: ok, label: 已整改, type: bool, required: false, default: false}
      - {id: closed, label: 销号日期, type: date, required: false}
ledger:
  table: rows
  key: name
  statuses:
    - {name: 已销号, when: present(closed)}
    - {name: 待整改, when: "true"}
  checks:
    - {id: closed_not_ok, level: error, when: present(closed) and not ok, message: 未整改就销号, columns: [closed]}
    - {id: not_ok, level: warning, when: not ok, message: 尚未整改, columns: [ok]}
  metrics:
    - {id: listed, label: 企业数, kind: count}
    - {id: done, label: 已整改数, kind: count, where: ok}
    - {id: all_closed, label: 全部销号, kind: all, where: "status == '已销号'"}
    - {id: none_open, label: 无待整改, kind: none, where: "status == '待整改'"}
  groupings:
    - {by: body, label: 按填报单位, total_label: 合计}
"""


@pytest.fixture(scope="module")
def led():
    return load_pack_text(LEDGER, "tiny-led.yaml")


def test_ledger_targets(led):
    assert [(t.category, t.location) for t in targets(led)] == [
        ("status", "企业台账 状态“已销号”"), ("status", "企业台账 状态“待整改”"), ("invalid", "企业台账 有误行"),
        ("required", "企业台账 必填列 name"), ("error", "企业台账 检查 closed_not_ok"),
        ("warning", "企业台账 检查 not_ok"), ("metric", "企业台账 指标 done"),
        ("metric", "企业台账 指标 all_closed"), ("metric", "企业台账 指标 none_open"),
    ]


def test_ledger_fired(led):
    card = score(led, {"body": "甲县", "rows": [{"name": "A", "ok": True, "closed": dt.date(2024, 5, 1)},
                                                {"ok": False}]})
    assert fired(card, led) >= {("status", "rows", "已销号"), ("status", "rows", "待整改"),
                                ("check", "rows", "required_name"), ("check", "rows", "not_ok"),
                                ("metric", "rows", "done", "count"), ("metric", "rows", "none_open", "none")}
    assert ("metric", "rows", "all_closed", "all") not in fired(card, led)  # one row is 待整改
    assert ("check", "rows", "closed_not_ok") not in fired(card, led)


def test_an_empty_ledger_fires_no_metric_condition(led):
    # all() over no rows is true, none() too — but no row made a condition hold
    card = score(led, {"body": "乙县", "rows": []})
    assert card.rollups[0].groups["乙县"]["all_closed"] is True
    assert {k for k in fired(card, led) if k[0] == "metric"} == set()
    one = score(led, {"body": "乙县", "rows": [{"name": "A", "ok": True, "closed": dt.date(2024, 5, 1)}]})
    assert ("metric", "rows", "all_closed", "all") in fired(one, led)


def test_invalid_rows_are_reached_by_keep_invalid_cases(led):
    text = """pack: tiny-led
cases:
  - name: 日期写成文字
    keep_invalid: true
    facts: {body: 甲县, rows: [{name: A, ok: 是, closed: 五月}]}
    expect: {rows: [{row: 1, key: A, status: 有误, errors: [invalid]}]}
  - name: 同样的数据不按工作簿读取即报错
    facts: {body: 甲县, rows: [{name: A, ok: 是, closed: 五月}]}
    expect: {error: 销号日期}
"""
    results = run_cases_cards(led, cases_from_located(load_text(text, "t.yaml"), led))
    assert [r.ok for r, _ in results] == [True, True], [r.failures for r, _ in results]
    assert results[1][1] is None
    cov = measure(led, [(r.name, c) for r, c in results if c is not None])
    assert {t.location for t in cov.targets if t.hits} == {"企业台账 有误行"}


# --- the command ------------------------------------------------------------------


def _pack_dir(tmp_path, cases: str):
    (tmp_path / "cases").mkdir()
    (tmp_path / "tiny-cov.yaml").write_text(TINY, encoding="utf-8")
    base = "\n".join(f"  {k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in BASE.items())
    (tmp_path / "cases" / "tiny-cov.yaml").write_text(f"pack: tiny-cov\nbase:\n{base}\ncases:\n{cases}",
                                                     encoding="utf-8")
    return str(tmp_path / "tiny-cov.yaml")


PARTIAL = """\
  - name: 未落实
    facts: {done: false}
    expect: {items: {"1": {points: 0, zeroed: true}}}
  - name: 满分
    expect: {total: 5}
"""


def test_cli_table_lists_never_fired_and_fails_under_100(tmp_path):
    path = _pack_dir(tmp_path, PARTIAL)
    res = CliRunner().invoke(cli, ["rules", "test", path, "--coverage"])
    assert res.exit_code == 1, res.output
    out = res.output
    for word in ("类别", "位置", "描述", "命中用例数", "从未触发", "不得分条件", "档次", "扣完为止"):
        assert word in out
    assert "第1项 加分1 封顶" in out.split("从未触发")[1]
    # 计分 1, 2, 3; 不得分条件1; 档次“高” = 5 of 15
    assert "覆盖率：33.33%（5/15，计入 2 个通过的用例）" in out
    assert "✗ tiny-cov：规则覆盖率 33.33%，低于要求的 100%（10 处从未触发）" in res.output
    assert "tiny-cov：2 个用例通过，0 个失败" in out


def test_cli_fail_under_threshold(tmp_path):
    path = _pack_dir(tmp_path, PARTIAL)
    assert CliRunner().invoke(cli, ["rules", "test", path, "--coverage", "--fail-under", "33.33"]).exit_code == 0
    assert CliRunner().invoke(cli, ["rules", "test", path, "--coverage", "--fail-under", "33.34"]).exit_code == 1


def test_cli_a_failing_case_counts_for_nothing(tmp_path):
    path = _pack_dir(tmp_path, PARTIAL + """\
  - name: 写错的期望
    facts: {level: 中}
    expect: {total: 5}
""")
    res = CliRunner().invoke(cli, ["rules", "test", path, "--coverage", "--format", "json"])
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    (entry,) = data["packs"]
    assert entry["failed"] == 1 and entry["failures"][0]["case"] == "写错的期望"
    cov = entry["coverage"]
    assert cov["cases"] == 2 and cov["covered"] == 5 and cov["targets"] == 15 and cov["percent"] == 33.33
    line = next(x for x in cov["lines"] if x["location"] == "第2项 档次“中”")
    assert line == {"category": "tier", "label": "档次", "location": "第2项 档次“中”",
                    "description": "中，基础分1.00分", "hits": 0, "cases": []}
    assert "第2项 档次“中”" in cov["missed"]
    assert data["fail_under"] == 100
    assert '"percent": 33.33,' in res.stdout  # a JSON number, written exactly


@pytest.mark.parametrize("path", PACKS, ids=[p.stem for p in PACKS])
def test_cli_every_pack_at_100(path):
    res = CliRunner().invoke(cli, ["rules", "test", str(path), "--coverage", "--format", "json"])
    assert res.exit_code == 0, res.output
    (entry,) = json.loads(res.stdout)["packs"]
    assert entry["coverage"]["percent"] == 100 and entry["coverage"]["missed"] == []


@pytest.mark.parametrize("args, says", [
    (["--fail-under", "90"], "--fail-under 只能与 --coverage 一起使用"),
    (["--coverage", "--engine", "durable"], "不能与 --engine durable 同用"),
    (["--coverage", "--fail-under", "101"], "101"),
    (["--coverage", "--fail-under", "-1"], "-1"),
])
def test_cli_usage_errors(args, says):
    res = CliRunner().invoke(cli, ["rules", "test", str(PACKS[0])] + args)
    assert res.exit_code == 2
    assert says in res.output


def test_without_coverage_the_command_is_unchanged(tmp_path):
    path = _pack_dir(tmp_path, PARTIAL)
    res = CliRunner().invoke(cli, ["rules", "test", path])
    assert res.exit_code == 0 and res.output == "tiny-cov：2 个用例通过，0 个失败\n"


# --- decisions and several tables (tests/packs/lang-demo.yaml) ------------------


@pytest.fixture(scope="module")
def demo():
    return load_pack(RULES.parent / "tests" / "packs" / "lang-demo.yaml")


def test_every_decision_value_of_every_table_is_a_target(demo):
    ts = [(t.category, t.location) for t in targets(demo) if t.category == "decision"]
    assert ts == [("decision", "清零任务 决策 attention“黑名单”"), ("decision", "清零任务 决策 attention“逾期”"),
                  ("decision", "清零任务 决策 attention“正常”"),
                  ("decision", "执法案件 决策 penalty_advice“依法高限处罚”"),
                  ("decision", "执法案件 决策 penalty_advice“严查重处”"),
                  ("decision", "执法案件 决策 penalty_advice“从轻或不予处罚”"),
                  ("decision", "执法案件 决策 penalty_advice“依法处罚”")]
    # the second table's statuses and checks are its own targets, not the first's
    assert ("status", "执法案件 状态“已登记”") in [(t.category, t.location) for t in targets(demo)]
    # sum with where is a metric condition; expr and rate metrics have none
    metrics = [t.location for t in targets(demo) if t.category == "metric"]
    assert metrics == ["清零任务 指标 done", "清零任务 指标 overdue", "清零任务 指标 spent", "清零任务 指标 cleared",
                       "执法案件 指标 strict", "执法案件 指标 none_high"]


def _demo_fired(demo, tasks, cases):
    card = score(demo, {"reporting_body": "甲县", "report_date": dt.date(2019, 6, 30), "planned": 3,
                        "tasks": tasks, "cases": cases})
    return fired(card, demo)


def test_decisions_fired_per_table(demo):
    got = _demo_fired(demo, [
        # complaints 3 ≥ blacklist 3 → 黑名单; done → 已完成; 2 万元 spent on a 已完成 row
        {"task_name": "T1", "category": "水", "complaints": 3, "done_date": dt.date(2019, 6, 1), "amount": 2},
        # due 2019-03-01, not done: 2019-06-30 − 2019-03-01 = 121 days late → 逾期
        {"task_name": "T2", "category": "气", "deadline": dt.date(2019, 3, 1)},
    ], [
        {"case_name": "C1", "found_by": "交叉执法检查", "violation": "超标排放"},  # → 严查重处
        {"case_name": "C2", "found_by": "排污单位自查", "violation": "偷排漏排", "rectified_voluntarily": True},  # → 从轻
    ])
    assert {k for k in got if k[0] == "decision"} == {
        ("decision", "tasks", "attention", "黑名单"), ("decision", "tasks", "attention", "逾期"),
        ("decision", "cases", "penalty_advice", "严查重处"), ("decision", "cases", "penalty_advice", "从轻或不予处罚")}
    assert {k for k in got if k[0] == "status"} == {("status", "tasks", "已完成"), ("status", "tasks", "进行中"),
                                                   ("status", "cases", "已登记")}
    # the 水 line holds only the 已完成 row: 清零 holds there; none_high is true (no 高限)
    assert {k for k in got if k[0] == "metric"} == {
        ("metric", "tasks", "done", "count"), ("metric", "tasks", "overdue", "count"),
        ("metric", "tasks", "spent", "sum"), ("metric", "tasks", "cleared", "all"),
        ("metric", "cases", "strict", "count")}


def test_groups_listed_without_rows_fire_no_condition(demo):
    # only a 气 task, not done: 水 and 土 (all_options) are listed empty with 清零 true
    got = _demo_fired(demo, [{"task_name": "T2", "category": "气", "deadline": dt.date(2019, 3, 1)}],
                      [{"case_name": "C3", "found_by": "日常检查", "violation": "偷排漏排"}])  # → 依法高限处罚
    assert ("metric", "tasks", "cleared", "all") not in got
    assert ("metric", "cases", "none_high", "none") in got  # a 高限 row: none() is false
    assert ("decision", "cases", "penalty_advice", "依法高限处罚") in got
    # a 已完成 task with 0 万元: the sum is 0, so its row condition is not shown to hold
    zero = _demo_fired(demo, [{"task_name": "T1", "category": "水", "done_date": dt.date(2019, 6, 1), "amount": 0}], [])
    assert ("metric", "tasks", "spent", "sum") not in zero and ("metric", "tasks", "done", "count") in zero


LEDGERS = [load_pack(p) for p in PACKS if load_pack(p).model.kind == "ledger"] + \
    [load_pack(RULES.parent / "tests" / "packs" / "lang-demo.yaml")]


@pytest.mark.parametrize("pack", LEDGERS, ids=[p.id for p in LEDGERS])
def test_whatever_fires_in_a_ledger_was_enumerated(pack):
    """Invariant over random ledgers (rubric_xl.samples): every status, check,
    decision value and metric condition that fires is a target."""
    import random

    from rubric_xl import FactsError
    from rubric_xl.samples import random_facts

    known = {t.key for t in targets(pack)}
    rng = random.Random(f"coverage-{pack.id}")
    seen = 0
    for n in range(60):
        try:
            card = score(pack, random_facts(pack, rng, blank_rate=(0.0, 0.1)[n % 2], rows=rng.choice([0, 3, 12])))
        except FactsError:
            continue  # e.g. a blank top-level fact the ledger needs
        got = fired(card, pack)
        assert got <= known, got - known
        seen += len(got)
    assert seen > 60  # the submissions did fire things


@pytest.mark.parametrize("reason", ["[/red]漏报[bold]", "[link=https://example.com]点此[/link]\\\\[x]"])
def test_pack_text_is_never_read_as_markup(tmp_path, reason):
    text = TINY.replace("reason: 少报}", f"reason: {json.dumps(reason, ensure_ascii=False)}}}")
    text = text.replace("reason: 未落实}", f"reason: {json.dumps('[' + reason, ensure_ascii=False)}}}")
    assert text != TINY
    path = _pack_dir(tmp_path, PARTIAL)
    (tmp_path / "tiny-cov.yaml").write_text(text, encoding="utf-8")
    res = CliRunner().invoke(cli, ["rules", "test", path, "--coverage"])
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert f"第1项 扣分1：{reason}" in res.output  # the never-fired line, verbatim
    assert "Traceback" not in res.output


def test_keep_invalid_item_expectations(tiny):
    from rubric_xl.rules.cases import cases_from_located

    def run(body: str):
        text = "pack: tiny-cov\nbase: " + json.dumps(BASE, ensure_ascii=False) + "\ncases:\n" + body
        return [r for r, _ in run_cases_cards(tiny, cases_from_located(load_text(text, "t.yaml"), tiny))]

    ok, wrong, plain = run("""\
  - {name: 有误, keep_invalid: true, facts: {n: 两次}, expect: {items: {"1": {status: invalid}, "2": 2}, total: 3}}
  - {name: 期望有误实际得分, keep_invalid: true, facts: {n: 1}, expect: {items: {"1": {status: invalid}}}}
  - {name: 不按工作簿读取即报错, facts: {n: 两次}, expect: {error: 少报次数}}
""")
    assert ok.ok and plain.ok, (ok.failures, plain.failures)
    assert wrong.failures == ["第1项：期望 有误，实际 少报1次，扣0.50分；得1.50分"]
    with pytest.raises(PackError, match="示例用例文件校验失败") as exc:
        run('  - {name: x, keep_invalid: true, facts: {n: 两次}, expect: {items: {"1": {status: invalid, points: 0}}}}\n')
    assert "有误（invalid）的评分项没有得分" in str(exc.value)
