"""The rule language's growth (docs/rule-language.md) in the engine and the
durable-rules executor: several tables, parameters, days(), coalesce(),
decisions, expr metrics, all_options / empty_label, ranking and flags."""
from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

import pytest

from lang_demo import PACK, random_submission
from rubric_xl import FactsError, PackError, convert_facts, dumps, load_pack_text, score, to_dict
from rubric_xl.engine.ledger import plan_for
from rubric_xl.rules import expr as E
from rubric_xl.rules.lowered import lowered_ledger, lowered_ledgers


def _card(raw: dict):
    return score(PACK, convert_facts(PACK, raw))


def _json(card) -> dict:
    return json.loads(dumps(to_dict(card)), parse_float=Decimal, parse_int=Decimal)


def _sub(tasks=(), cases=(), body="甲县", report="2019-11-30", planned=5) -> dict:
    return {"reporting_body": body, "report_date": report, "planned": planned,
            "tasks": list(tasks), "cases": list(cases)}


# --- several tables --------------------------------------------------------------------


def test_two_tables_are_lowered_and_scored_in_pack_order():
    lgs = lowered_ledgers(PACK)
    assert [lg.table for lg in lgs] == ["tasks", "cases"] and [lg.index for lg in lgs] == [0, 1]
    assert lowered_ledger(PACK) is lgs[0] and [lg.label for lg in lgs] == ["清零任务", "执法案件"]
    card = _card(_sub([{"task_name": "甲", "category": "水"}],
                      [{"case_name": "乙", "found_by": "日常检查", "violation": "超标排放"}] * 2))
    assert [t.table for t in card.tables] == ["tasks", "cases"]
    assert [len(t.rows) for t in card.tables] == [1, 2] and card.rows is card.tables[0].rows
    doc = _json(card)
    assert [t["table"] for t in doc["tables"]] == ["tasks", "cases"]
    assert doc["rows"] == doc["tables"][0]["rows"] and doc["tables"][1]["rows"][1]["row"] == 2
    assert doc["tables"][1]["rollups"][0]["total"]["cases_total"] == 2


def test_a_single_ledger_pack_has_no_tables_list_in_json():
    from test_ledger import PACK as XZ
    from rubric_xl import score_values  # noqa: F401
    card = score(XZ, convert_facts(XZ, {"reporting_body": "代县", "report_date": "2024-06-30", "enterprises": []}))
    assert len(card.tables) == 1 and "tables" not in to_dict(card)


BASE = """
id: t
title: 测试
version: "1"
kind: ledger
source: {document: 测试, title: 测试}
facts:
  - {id: body, label: 填报单位, type: enum, options: [甲, 乙]}
  - {id: t1, label: 表一, type: table, columns: [{id: a, label: 甲列, type: int}, {id: k, label: 类, type: enum, options: [x, y]}]}
  - {id: t2, label: 表二, type: table, columns: [{id: b, label: 乙列, type: int}]}
"""


def _err(text: str) -> str:
    with pytest.raises(PackError) as ei:
        load_pack_text(text, "p.yaml")
    return "\n".join(f"{p.loc} {p.msg}" for p in ei.value.problems)


def test_ledger_and_ledgers_together_or_one_table_twice_are_refused():
    one = "{table: t1, key: a, statuses: [{name: 有, when: 'true'}]}"
    assert "ledger 与 ledgers 只能写一个" in _err(BASE + f"ledger: {one}\nledgers: [{one}]\n")
    msg = _err(BASE + f"ledgers: [{one}, {one}]\n")
    assert "ledgers[1].table" in msg and "已有台账规则" in msg
    msg = _err(BASE + "ledgers: [{table: t1, key: a, statuses: [{name: 有, when: 'true'}]}, "
               "{table: t2, key: zz, statuses: [{name: 有, when: 'b > '}]}]\n")
    assert "ledgers[1].key" in msg and "ledgers[1].statuses[0].when" in msg


# --- parameters ------------------------------------------------------------------------


def test_parameters_are_constants_in_rows_metrics_and_items():
    lg = lowered_ledger(PACK)
    (_, _, rules), = lg.decisions
    assert "blacklist_complaints" not in rules[0][1].names()  # folded at load
    rows = _card(_sub([{"task_name": n, "category": "水", "complaints": c} for n, c in (("a", 2), ("b", 3), ("c", 4))])).rows
    assert [r.values["attention"] for r in rows][0] != "黑名单"
    assert [r.values["attention"] for r in rows][1:] == ["黑名单", "黑名单"]  # 3 = the parameter: boundary
    rubric = """
id: r
title: 测试
version: "1"
source: {document: 测试, title: 测试}
settings: {parameters: [{id: pass_line, label: 合格线, value: 60}]}
categories: [{name: 甲, cap: 10}]
facts: [{id: rate, label: 比例, type: percent}]
items:
  - {id: "1", category: 甲, title: 比例, max: 10, criteria: 比例, evidence: 无,
     deductions: [{kind: flat, when: "rate < pass_line", points: 10, reason: 低于合格线}]}
"""
    pack = load_pack_text(rubric, "r.yaml")
    assert score(pack, convert_facts(pack, {"rate": 59})).total == 0
    assert score(pack, convert_facts(pack, {"rate": 60})).total == 10
    msg = _err(rubric.replace("facts: [{id: rate", "facts: [{id: pass_line, label: 重, type: int}, {id: rate"))
    assert "settings.parameters[0].id" in msg and "重名" in msg
    assert "应为数值" in _err(rubric.replace("value: 60", "value: 六十"))


# --- days() and coalesce() -------------------------------------------------------------


def _days(a, b):
    syms = {"a": E.Symbol(E.DATE, True), "b": E.Symbol(E.DATE, True)}
    return E.compile_py(E.check("days(a, b)", syms))({"a": a, "b": b})


@pytest.mark.parametrize("a, b, want", [
    (dt.date(2019, 1, 31), dt.date(2019, 2, 1), 1), (dt.date(2019, 2, 28), dt.date(2019, 3, 1), 1),
    (dt.date(2020, 2, 28), dt.date(2020, 3, 1), 2), (dt.date(2019, 12, 31), dt.date(2020, 1, 1), 1),
    (dt.date(2019, 3, 1), dt.date(2019, 2, 28), -1), (dt.date(2019, 6, 30), dt.date(2019, 6, 30), 0),
    (None, dt.date(2019, 6, 30), None), (dt.date(2019, 6, 30), None, None)])
def test_days_are_b_minus_a_across_month_and_year_ends(a, b, want):
    assert _days(a, b) == (None if want is None else Decimal(want))


def test_days_and_coalesce_types_are_checked_at_load():
    syms = {"d": E.Symbol(E.DATE, True), "n": E.Symbol(E.NUMBER), "e": E.Symbol(E.DATE)}
    assert E.check("days(d, e)", syms).nullable and not E.check("days(e, e)", syms).nullable
    assert not E.check("coalesce(d, e)", syms).nullable and E.check("coalesce(d, d)", syms).nullable
    for bad, word in (("days(n, e)", "需要日期"), ("coalesce(d, n)", "类型应一致"), ("days(d)", "参数个数"),
                      ("days(d, e) + 1", "可能为空")):
        with pytest.raises(Exception) as ei:
            E.check(bad, syms)
        assert word in str(ei.value), bad


def test_coalesce_and_top_level_derived_values_reach_the_rows():
    card = _card(_sub([{"task_name": "a", "category": "水"},
                       {"task_name": "b", "category": "水", "deadline": "2019-11-29"},
                       {"task_name": "c", "category": "气", "deadline": "2019-11-29", "done_date": "2019-11-30"}],
                      report="2019-11-30"))
    a, b, c = card.rows
    assert a.values["due"] == dt.date(2019, 12, 31) and a.values["late_days"] == Decimal(-31)
    assert b.values["late_days"] == 1 and b.values["attention"] == "逾期"
    assert c.values["late_days"] == 1 and c.status == "已完成"
    # campaign_days (a top-level derived value) = 333 > 300: the warning on unfinished rows
    assert [bool(r.warnings) for r in card.rows] == [True, True, False]
    early = _card(_sub([{"task_name": "a", "category": "水"}], report="2019-10-28"))  # day 300
    assert not early.rows[0].warnings


# --- decisions -------------------------------------------------------------------------


@pytest.mark.parametrize("found, violation, voluntary, want", [
    ("交叉执法检查", "偷排漏排", None, "依法高限处罚"), ("日常检查", "监测数据弄虚作假", "是", "依法高限处罚"),
    ("交叉执法检查", "超标排放", None, "严查重处"), ("排污单位自查", "偷排漏排", "是", "从轻或不予处罚"),
    ("排污单位自查", "超标排放", "否", "依法处罚"), ("排污单位自查", "超标排放", None, "依法处罚"),
    ("日常检查", "超标排放", "是", "依法处罚")])
def test_every_branch_of_a_decision(found, violation, voluntary, want):
    row = {"case_name": "甲", "found_by": found, "violation": violation}
    if voluntary:
        row["rectified_voluntarily"] = voluntary
    card = _card(_sub(cases=[row]))
    (r,) = card.tables[1].rows
    assert r.values["penalty_advice"] == want
    by = card.tables[1].rollups[1].groups
    assert [k for k, g in by.items() if g["cases_total"]] == [want]
    assert card.tables[1].rollups[0].total["strict"] == (want == "严查重处")


def test_a_decision_must_end_with_true_and_names_stay_unique():
    led = ("ledger: {table: t1, key: a, statuses: [{name: 有, when: 'true'}], decisions: "
           "[{id: d, label: 决策, rules: [{value: 大, when: 'a > 1'}, {value: 小, when: 'a <= 1'}]}]}\n")
    msg = _err(BASE + led)
    assert "ledger.decisions[0].rules[1].when" in msg and '必须是 "true"' in msg
    msg = _err(BASE + led.replace("id: d,", "id: a,").replace("'a <= 1'", "'true'"))
    assert "ledger.decisions[0].id" in msg and "重复" in msg
    msg = _err(BASE + led.replace("'a <= 1'", "'true'").replace("statuses: [{name: 有, when: 'true'}]",
                                                                   "statuses: [{name: 有, when: \"d == '中'\"}]"))
    assert "'中' 不是 d 的可选值" in msg


# --- metrics, groupings ----------------------------------------------------------------


def test_empty_groups_rates_of_zero_rows_and_expr_metrics():
    card = _card(_sub([{"task_name": "a", "category": "水", "done_date": "2019-05-01"}], planned=0))
    by_body, by_cat, by_attention = card.rollups
    assert list(by_cat.groups) == ["水", "气", "土"] and by_cat.empty == ["气", "土"]
    soil = by_cat.groups["土"]
    assert soil["total"] == 0 and soil["cleared"] is True and soil["completion_rate"] is None
    assert soil["lagging"] is None  # blank: the rate it reads is not computed
    assert by_cat.groups["水"]["completion_rate"] == 100 and by_cat.groups["水"]["lagging"] is False
    assert by_body.groups["甲县"]["behind_plan"] is False  # 1 < 0 is false
    doc = _json(card)
    soil_json = next(g for g in doc["rollups"][1]["groups"] if g["key"] == "土")
    assert soil_json["empty"] is True and soil_json["empty_label"] == "无任务"
    assert soil_json["completion_rate"] is None
    nothing = _card(_sub([]))
    assert nothing.rollups[0].groups["甲县"]["completion_rate"] is None
    assert nothing.rollups[0].groups["甲县"]["lagging"] is None


def test_rate_boundary_against_the_schedule_parameter():
    def lagging(done: int, total: int):
        tasks = [{"task_name": f"t{i}", "category": "水", **({"done_date": "2019-05-01"} if i < done else {})}
                 for i in range(total)]
        return _card(_sub(tasks)).rollups[0].groups["甲县"]["lagging"]
    assert lagging(1, 2) is False and lagging(1, 3) is True and lagging(2, 4) is False and lagging(4, 9) is True


def test_metric_and_grouping_references_are_checked():
    head = BASE + "ledger: {table: t1, key: a, statuses: [{name: 有, when: 'true'}], metrics: ["
    msg = _err(head + "{id: n, label: 数, kind: count}, {id: e, label: 式, kind: expr, expr: 'later > 1'}, "
               "{id: later, label: 后, kind: count}]}\n")
    assert "ledger.metrics[1].expr" in msg and "later" in msg
    msg = _err(head + "{id: n, label: 数, kind: count}], groupings: [{by: k, label: 类, rank: [{metric: n}]}, "
               "{by: body, label: 单位, flag: n}, {by: a, label: 甲, all_options: true}, "
               "{by: k, label: 类, empty_label: 无}]}\n")
    for where, word in (("groupings[0].rank", "rank 只适用于按顶层事实"), ("groupings[1].flag", "是/否指标"),
                        ("groupings[2].all_options", "枚举"), ("groupings[3].empty_label", "all_options")):
        assert f"ledger.{where}" in msg and word in msg, (where, msg)
    msg = _err(head + "{id: n, label: 数, kind: count, where: 'a > 1'}, {id: r, label: 率, kind: rate, "
               "numerator: n, denominator: s}, {id: s, label: 和, kind: sum, value: a}]}\n")
    assert "ledger.metrics[1].denominator" in msg and "之前定义" in msg
    msg = _err(head + "{id: s, label: 和, kind: sum, value: a, expr: 'n > 1'}]}\n")
    assert "ledger.metrics[0]" in msg and "sum 指标不能有 expr" in msg


# --- ranking and flags across workbooks ------------------------------------------------


def _tasks(done: int, total: int, overdue: int = 0, cat: str = "水") -> list[dict]:
    out = []
    for i in range(total):
        row = {"task_name": f"t{i}", "category": cat, "deadline": "2019-12-31"}
        if i < done:
            row["done_date"] = "2019-05-01"
        elif i - done < overdue:
            row["deadline"] = "2019-06-30"
        out.append(row)
    return out


def test_ranking_shares_ties_and_puts_not_computed_last():
    subs = [_sub(_tasks(1, 2, 1), body="甲县"), _sub([], body="乙县"), _sub(_tasks(2, 4, 0), body="丙县")]
    plan = plan_for(PACK)
    by_body = plan.combine([convert_facts(PACK, s) for s in subs])[0]
    # 甲县 50% / 1 overdue, 丙县 50% / 0 overdue: 丙县 first; 乙县 has no rate
    assert list(by_body.groups) == ["丙县", "甲县", "乙县"]
    assert by_body.ranks == {"丙县": 1, "甲县": 2, "乙县": None}
    tie = plan.combine([convert_facts(PACK, s) for s in
                        (_sub(_tasks(1, 2), body="甲县"), _sub(_tasks(2, 4), body="乙县"), _sub(_tasks(1, 4), body="丙县"))])[0]
    assert tie.ranks == {"甲县": 1, "乙县": 1, "丙县": 3}
    doc = [g["rank"] for g in json.loads(dumps(to_dict_rollup(tie)))["groups"]]
    assert doc == [1, 1, 3]


def to_dict_rollup(ru):
    from rubric_xl.engine.card import rollup_dict
    return rollup_dict(ru)


def test_flags_list_each_bodys_lagging_areas():
    subs = [_sub(_tasks(1, 1) + _tasks(0, 2, cat="气"), body="甲县"), _sub(_tasks(0, 1), body="乙县"),
            _sub([], body="丙县")]
    rollups = plan_for(PACK).combine([convert_facts(PACK, s) for s in subs])
    by_cat = rollups[1]
    assert by_cat.flagged == {"甲县": ["气"], "乙县": ["水"], "丙县": []}
    # the combined 气 line: 0 of 2 done → lagging; 土 is empty, never flagged
    assert by_cat.groups["气"]["lagging"] is True and by_cat.groups["土"]["lagging"] is None
    both = plan_for(PACK).combine_tables([convert_facts(PACK, s) for s in subs])
    assert len(both) == 2 and both[0][1].flagged == by_cat.flagged


def test_a_blank_required_top_level_fact_still_stops_the_submission():
    with pytest.raises(FactsError):
        _card({**_sub([]), "report_date": None})


# --- the durable-rules executor decides the same ----------------------------------------


def test_durable_rules_agrees_on_random_demo_submissions():
    durable = pytest.importorskip("rubric_xl.durable")
    if not durable.available():
        pytest.fail("durable-rules 未安装：请运行 bash scripts/setup.sh")
    rng = random.Random(12)
    subs = [random_submission(rng) for _ in range(40)]
    for raw in subs:
        assert dumps(to_dict(durable.score(PACK, raw))) == dumps(to_dict(_card(raw))), raw
    values = [convert_facts(PACK, s) for s in subs]
    rs = durable.ruleset_for(PACK)
    assert rs.combine_tables(values) == plan_for(PACK).combine_tables(values)


# --- rules show --------------------------------------------------------------------------


def test_rules_show_renders_the_new_kinds_in_chinese():
    from rubric_xl.cli.render import pack_markdown
    text = pack_markdown(PACK)
    for want in ("## 台账：清零任务（tasks）", "## 台账：执法案件（cases）", "| blacklist_complaints | 纳入黑名单的群众投诉次数 | 3 |",
                 "决策“处罚建议”（penalty_advice，取第一条满足的规则）", "| 依法处罚 | 其余情形 |",
                 "| lagging | 进度滞后 | 由其他指标计算 |", "没有行时显示“无任务”",
                 "多份汇总时排名：完成率（%）从高到低、逾期数从低到高", "标出“进度滞后”为是的分组",
                 "分母为 0 时不计算", "| campaign_days | 已开展天数 |"):
        assert want in text, want


def test_durable_rules_refuses_a_status_reading_a_decision_in_chinese():
    durable = pytest.importorskip("rubric_xl.durable")
    if not durable.available():
        pytest.fail("durable-rules 未安装：请运行 bash scripts/setup.sh")
    text = BASE + ("ledger: {table: t1, key: a, decisions: [{id: size, label: 大小, rules: "
                   "[{value: 大, when: 'a > 1'}, {value: 小, when: 'true'}]}], "
                   "statuses: [{name: 大行, when: \"size == '大'\"}, {name: 其他, when: 'true'}]}\n")
    pack = load_pack_text(text, "p.yaml")
    raw = {"body": "甲", "t1": [{"a": 2, "k": "x"}, {"a": 1, "k": "y"}]}
    assert [r.status for r in score(pack, convert_facts(pack, raw)).rows] == ["大行", "其他"]
    with pytest.raises(durable.DurableError) as ei:
        durable.score(pack, raw)
    assert "引用决策的状态" in str(ei.value) and "t1" in str(ei.value) and "--engine default" in str(ei.value)


# --- the formulas of several tables ------------------------------------------------------


def test_each_table_compiles_with_its_own_result_names_and_fits_excel():
    from openpyxl.utils import get_column_letter

    from rubric_xl.formulas import ROW, compile_ledger
    from rubric_xl.formulas._xl import MAX_LENGTH
    from test_ledger import PACK as XZ
    seen = {}
    for pack in (PACK, XZ):
        for lg in lowered_ledgers(pack):
            letters = {c: get_column_letter(i + 1) for i, c in enumerate(lg.columns)}
            lf = compile_ledger(pack, letters.__getitem__, lg)
            seen[lg.table] = lf
            for which in ("status", "errors", "warnings", *lf.decisions):
                assert len(lf.row(which, 9999)) <= MAX_LENGTH, (lg.table, which)
            for ru in lf.rollups:
                for gf in ru.groups + ([ru.total] if ru.total else []):
                    for f in gf.metrics.values():  # columns only through the error-safe forms
                        for c, col in lg.columns.items():
                            name = f"{lg.table}__{c}"
                            if col.type in ("int", "decimal", "percent", "date"):
                                # text (２, 很多) reads as 0 too: its row is 有误 and counts nowhere
                                safe = f"IF(ISNUMBER({name}),{name},0)"
                                as_text = f'IF(ISERROR({name}),"",{name}&"")'  # blank tests: text never fails
                                assert f.count(name) == (f.count(safe) + f.count(as_text)) * 2, (lg.table, c, f[:200])
                                assert f"IF(ISERROR({name}),0," not in f, (lg.table, c)
                            else:
                                assert f.count(name) == f.count(f"ISERROR({name})") * 2, (lg.table, c, f[:200])
    assert seen["tasks"].names["status"] == "ledger_status" and seen["cases"].names["status"] == "cases__status"
    assert seen["cases"].names["penalty_advice"] == "cases__penalty_advice"
    assert "cases__penalty_advice" in seen["cases"].rollups[1].groups[0].metrics["cases_total"]
    assert not seen["tasks"].reasons and not seen["cases"].reasons  # the errors formula holds every reason
    # 16 columns: the reasons (error values named too) go to a hidden helper column, the errors cell joins it
    assert len(seen["enterprises"].reasons) == 1
    for i in range(len(seen["enterprises"].reasons)):
        assert len(seen["enterprises"].row(i, 9999)) <= MAX_LENGTH
        assert "rxl.errors" in seen["enterprises"].row(i, 9999)  # error values named as the engine does
    assert "执法案件!" in seen["cases"].row("errors", 5) and ROW not in seen["cases"].row("errors", 5)


def test_a_very_wide_table_splits_its_reasons_over_several_helper_columns_within_excel_limits():
    """Boundary: 12 more columns than xinzhou's — more reasons than one helper column
    holds; every helper formula and the errors formula still fit Excel's length at
    row 9999, and the errors formula reads every helper, in order."""
    import re
    from pathlib import Path

    from openpyxl.utils import get_column_letter

    from rubric_xl.formulas import compile_ledger
    from rubric_xl.formulas._ledger import reason_columns
    from rubric_xl.formulas._xl import MAX_LENGTH
    from rubric_xl.rules.pack import load_pack_text

    src = (Path(__file__).resolve().parents[1] / "rules" / "xinzhou-2024.yaml").read_text(encoding="utf-8")
    extra = "".join(f"      - {{id: note{i}, label: 备注第{i}项说明文字, type: decimal, min: 0}}\n" for i in range(12))
    anchor = "      - {id: enterprise_name, label: 企业名称, type: text}\n"
    pack = load_pack_text(src.replace(anchor, anchor + extra), "wide.yaml")
    (lg,) = lowered_ledgers(pack)
    letters = {c: get_column_letter(i + 2) for i, c in enumerate(lg.columns)}
    n = reason_columns(pack, lg)
    assert n >= 2
    lf = compile_ledger(pack, letters.__getitem__, lg, helper_ref=lambda i: f"Z{'ABCDEFGH'[i]}")
    assert len(lf.reasons) == n
    for i in range(n):
        assert len(lf.row(i, 9999)) <= MAX_LENGTH
    errors = lf.row("errors", 9999)
    assert len(errors) <= MAX_LENGTH
    assert re.findall(r"\$Z[A-H]9999", errors) == [f"$Z{'ABCDEFGH'[i]}9999" for i in range(n)]
    # every input cell is named in exactly one helper, column order
    cells = [re.findall(r'（台账!([A-Z]+)"&ROW\(\)&"）', lf.row(i, 9999)) for i in range(n)]  # the row's own number
    assert [c for part in cells for c in part] == list(letters.values())
