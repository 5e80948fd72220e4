"""Malformed rule packs: every mistake is a PackError whose problems say
file:line, the YAML path and what was expected (in Chinese)."""
from __future__ import annotations

import pytest

from rubric_xl import PackError, load_pack, load_pack_text

GOOD = """\
id: tiny
title: 小规则包
version: "1"
source: {document: 测试文件, title: 测试}
total: 5
categories:
  - {name: 甲类, cap: 3}
  - {name: 乙类, cap: 2}
settings:
  grades:
    - {name: 好, min: 4}
    - {name: 中, min: 2}
    - {name: 差}
  eligibility: {label: 资格, grades: [好]}
facts:
  - {id: count, label: 次数, type: int}
  - {id: sent, label: 报送日期, type: date, blank_allowed: true}
  - {id: level, label: 等级, type: enum, options: [高, 低]}
deadlines:
  - {id: due, date: 2005-07-15, label: 期限}
items:
  - id: "1"
    category: 甲类
    title: 第一项
    max: 3
    criteria: 少一次扣0.5分，逾期扣0.2分
    evidence: 文件
    zero_if:
      - {when: blank(sent), reason: 未报}
    deductions:
      - {kind: step, value: count, threshold: 10, step: 1, points: 0.5, explain: "少{shortfall}次，扣{amount}分"}
      - {kind: late, dates: [sent], deadline: due, points: 0.2}
  - id: "2"
    category: 乙类
    title: 第二项
    max: 2
    criteria: 高2分，低1分
    evidence: 文件
    tiers:
      value: level
      points: {高: 2, 低: 1}
"""


def test_good_pack_loads():
    pack = load_pack_text(GOOD, "tiny.yaml")
    assert [it.id for it in pack.items] == ["1", "2"]


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the *nth* line containing *needle*."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


def problems_of(text: str, source="tiny.yaml") -> list[str]:
    with pytest.raises(PackError) as ei:
        load_pack_text(text, source)
    assert ei.value.problems, str(ei.value)
    return [str(p) for p in ei.value.problems]


def mutate(old: str, new: str, text: str = GOOD) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def assert_problem(text: str, needle, path: str, msg: str):
    """A problem at tiny.yaml:<line of needle> <path> whose message has *msg*;
    *needle* may be (text, n) for the n-th line holding text."""
    needle, nth = needle if isinstance(needle, tuple) else (needle, 1)
    loc = f"tiny.yaml:{line_of(text, needle, nth)} {path}"
    found = problems_of(text)
    assert any(p.startswith(loc + ":") and msg in p for p in found), (loc, msg, found)


@pytest.mark.parametrize("old,new,needle,path,msg", [
    # category caps that do not add up
    ("{name: 甲类, cap: 3}", "{name: 甲类, cap: 4}", "甲类, cap", "categories[0].cap", "合计为 3"),
    ("total: 5", "total: 6", "total:", "total", "各类别分值合计为 5"),
    # an item in a category that does not exist
    ("    category: 乙类\n", "    category: 丙类\n", "丙类", "items[1].category", "未在 categories 中定义"),
    # duplicate ids
    ('  - id: "2"', '  - id: "1"', ('- id: "1"', 2), "items[1].id", "重复"),
    ("{id: level, label", "{id: count, label", ("{id: count, label", 2), "facts[2].id", "重复"),
    ("{id: due, date", "{id: count, date", "{id: count, date", "deadlines[0].id", "重复"),
    # bad expressions
    ("{when: blank(sent), reason", "{when: count >, reason", "count >", "items[0].zero_if[0].when", "结尾"),
    ("{when: blank(sent), reason", "{when: count > '3', reason", "count >", "items[0].zero_if[0].when",
     "不能比较"),
    ("{when: blank(sent), reason", "{when: level == '中', reason", "level ==", "items[0].zero_if[0].when",
     "不是 level 的可选值"),
    ("{when: blank(sent), reason", "{when: cont > 1, reason", "cont >", "items[0].zero_if[0].when",
     "未知的名称 'cont'"),
    ("value: count, threshold", "value: sent, threshold", "value: sent", "items[0].deductions[0].value",
     "结果应为数值，实际为日期"),
    # unknown placeholder in an explanation template
    ('"少{shortfall}次', '"少{shortfal}次', "shortfal", "items[0].deductions[0].explain", "{shortfal} 不可用"),
    ('"少{shortfall}次', '"少{shortfall次', "shortfall次", "items[0].deductions[0].explain", "模板格式错误"),
    # an unknown field (typo)
    ("    max: 3\n", "    max: 3\n    maxx: 3\n", "maxx", "items[0].maxx", "未知字段"),
    ("threshold: 10, step: 1", "threshold: 10, stepp: 1", "stepp", "items[0].deductions[0].stepp", "未知字段"),
    # wrong kinds and values
    ("{kind: late, dates", "{kind: later, dates", "kind: later", "items[0].deductions[1]", "kind 取值无效"),
    ("points: 0.2}", "points: 0.215}", "0.215", "items[0].deductions[1].points", "最多两位小数"),
    ("points: 0.2}", "points: -1}", "points: -1", "items[0].deductions[1].points", "数值太小"),
    ("type: int}", "type: integer}", "integer", "facts[0].type", "取值不在允许范围内"),
    ("{id: count, label", "{id: Count, label", "Count", "facts[0].id", "格式不符"),
    # tiers that do not cover the enum's options
    ("points: {高: 2, 低: 1}", "points: {高: 2, 中: 1}", "中: 1", "items[1].tiers.points", "高、低"),
    ("points: {高: 2, 低: 1}", "points: {高: 2}", "{高: 2}", "items[1].tiers.points", "每个可选值"),
    ("value: level\n", "value: count\n", ("value: count", 2), "items[1].tiers.value", "不是本规则包中的枚举事实"),
    # a late rule on a non-date fact, or an unknown deadline
    ("dates: [sent]", "dates: [count]", "dates: [count]", "items[0].deductions[1].dates[0]",
     "不是本规则包中的日期事实"),
    ("deadline: due,", "deadline: dew,", "dew", "items[0].deductions[1].deadline", "未在 deadlines 中定义"),
    # grades out of order, or the last band bounded
    ("{name: 中, min: 2}", "{name: 中, min: 4.5}", "min: 4.5", "settings.grades[1].min", "从高到低"),
    ("{name: 差}", "{name: 差, min: 0}", "{name: 差, min: 0}", "settings.grades[2].min", "不设下限"),
    ("grades: [好]", "grades: [优]", "grades: [优]", "settings.eligibility.grades[0]", "未在 grades 中定义"),
    # facts with impossible shapes
    ("options: [高, 低]}", "options: [高, 高]}", "options: [高, 高]", "facts[2]", "重复的可选值"),
    ("{id: count, label: 次数, type: int}", "{id: count, label: 次数, type: percent, max: 120}", "max: 120",
     "facts[0]", "0–100"),
])
def test_malformed_pack(old, new, needle, path, msg):
    assert_problem(mutate(old, new), needle, path, msg)


def test_missing_required_field():
    text = mutate("    evidence: 文件\n    zero_if:", "    zero_if:")
    assert_problem(text, '- id: "1"', "items[0].evidence", "缺少必填字段")


def test_tiers_max_must_equal_item_max():
    text = mutate("points: {高: 2, 低: 1}", "points: {高: 1.5, 低: 1}")
    found = problems_of(text)
    assert any("items[1]" in p and "tiers 中的最高分必须等于 max" in p for p in found), found


def test_every_problem_is_reported_at_once():
    text = mutate("{name: 甲类, cap: 3}", "{name: 甲类, cap: 4}")
    text = mutate("dates: [sent]", "dates: [count]", text)
    text = mutate('"少{shortfall}次', '"少{x}次', text)
    found = problems_of(text)
    assert len(found) >= 3
    assert any("categories[0].cap" in p for p in found)
    assert any("dates[0]" in p for p in found)
    assert any("explain" in p for p in found)


@pytest.mark.parametrize("text,line,msg", [
    (GOOD.replace("  - {name: 乙类, cap: 2}", "  - {name: 乙类, cap: 2"), None, "无法解析"),
    (GOOD.replace("facts:\n", "facts:\n\t- x\n"), None, "无法解析"),
    (GOOD.replace("version: \"1\"\n", "version: \"1\"\nversion: \"2\"\n"), 4, "重复出现"),
])
def test_bad_yaml(text, line, msg):
    found = problems_of(text)
    assert any(p.startswith("tiny.yaml:") and msg in p for p in found), found
    if line is not None:
        assert any(p.startswith(f"tiny.yaml:{line} version") for p in found), found


@pytest.mark.parametrize("text,msg", [
    ("", "顶层应为映射"),
    ("- a\n- b\n", "顶层应为映射"),
    ("id: x\n", "缺少必填字段"),
])
def test_not_a_pack(text, msg):
    assert any(msg in p for p in problems_of(text))


def test_rubric_without_items_and_ledger_without_ledger():
    text = GOOD[:GOOD.index("items:")]
    assert any("必须有 items" in p for p in problems_of(text))
    text = mutate("version: \"1\"\n", "version: \"1\"\nkind: ledger\n")
    assert any("必须有 ledger" in p for p in problems_of(text))


def test_item_without_any_fact():
    text = GOOD + """  - id: "3"
    category: 乙类
    title: 空项
    max: 0
    criteria: 无
    evidence: 无
"""
    assert_problem(text, '- id: "3"', "items[2]", "没有用到任何事实")


def test_load_pack_file_errors(tmp_path):
    with pytest.raises(PackError) as ei:
        load_pack(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(ei.value) and "找不到此文件" in str(ei.value)
    p = tmp_path / "bad.yaml"
    p.write_text(mutate("{name: 甲类, cap: 3}", "{name: 甲类, cap: 4}"), encoding="utf-8")
    with pytest.raises(PackError) as ei:
        load_pack(p)
    assert f"{p}:{line_of(GOOD, '甲类, cap')} categories[0].cap" in str(ei.value)
    p.write_bytes("id: 测试\n".encode("gbk"))
    with pytest.raises(PackError) as ei:
        load_pack(p)
    assert "UTF-8" in str(ei.value)


def test_shanxi_pack_loads_clean():
    # guard: the real pack passes every check above
    from conftest import SHANXI_PATH
    pack = load_pack(SHANXI_PATH)
    assert len(pack.items) == 44
