"""An untouched submission reads 待填 / 暂定, not as a failed unit (issue 14).

While no input but the unit fact (填报单位, prefilled in a distributed template)
holds a value — an invalid value counts as one — every item is 待填
(待填：尚未开始填报) and the total provisional; once one value is entered, blanks
mean what the pack says (shanxi-2005 item 19: a blank 未报 date → 0 不得分).
Checked in the engine, the durable-rules executor, the auditor (reader + engine,
and the CLI's exit code), the add-in server and the LibreOffice-recalculated
template (formulas), and in the 评分 sheet LibreOffice prints.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import lo
import test_formulas_lo as FL
import test_print as PR
from rubric_xl import load_pack, load_pack_text, score
from rubric_xl.audit import score_workbooks
from rubric_xl.cli import cli
from rubric_xl.conventions import STARTED_NAME
from rubric_xl.engine import score_values
from rubric_xl.engine.facts import read_facts
from rubric_xl.rules import lowered as L
from rubric_xl.samples import random_facts
from rubric_xl.workbook.build import build_template

ROOT = Path(__file__).resolve().parents[1]
SHANXI = load_pack(ROOT / "rules" / "shanxi-2005.yaml")
WAITING = "待填：尚未开始填报"
ITEM19 = "年度工作总结与三年工作总结有一项未报，不得分"

# One value typed into one input cell, per fact type (and invalid values, two spellings each);
# None: the cell stays blank by the input contract (spaces only), so the submission is not started.
ONE_VALUE = {
    "bool-yes": ("leading_group_established", "是"),
    "bool-no": ("plan_report_late", "否"),
    "bool-false-cell": ("plan_report_late", False),
    "int-zero": ("weekly_reports_count", 0),
    "decimal-zero": ("gov_special_funding_wan", 0),
    "percent": ("three_simultaneous_rate", 100),
    "date": ("survey_report_date", dt.datetime(2005, 7, 1)),
    "enum": ("supervision_standard_level", "未达标"),
    "invalid-text-in-int": ("weekly_reports_count", "十八"),
    "invalid-percent-typed": ("three_simultaneous_rate", "95%"),
    "invalid-date-text": ("survey_report_date", "2005年7月1日"),
    "invalid-enum": ("supervision_standard_level", "2级"),
    "invalid-error-text": ("collective_petitions", "#N/A"),
}
STILL_BLANK = {
    "spaces-only": ("weekly_reports_count", "   "),
    "one-space-in-a-date": ("annual_summary_date", " "),
}


def assert_untouched(card, pack=SHANXI, filled=()) -> None:
    """Every item 待填：尚未开始填报, the total provisional; *filled*: facts holding a value (the unit)."""
    assert card.provisional is True
    assert [(it.id, it.status, it.points, it.explanation) for it in card.items] == \
        [(ci.id, "incomplete", None, WAITING) for ci in pack.items]
    assert card.total == Decimal("0.00")
    # the blank required facts are still listed, so reports say what to fill in
    for it, li in zip(card.items, L.lowered(pack)):
        assert list(it.missing) == [f for f in li.required if f not in filled]


def assert_started(card) -> None:
    it = card.item("19")
    assert (it.status, it.points, it.explanation) == ("scored", Decimal("0"), ITEM19)
    assert not any(i.explanation == WAITING for i in card.items)
    assert card.provisional is True  # still most inputs blank


# --- the lowered form and the engine ---------------------------------------------------


def test_started_facts_are_every_input_but_the_unit():
    t = L.lowered_totals(SHANXI)
    assert set(t.started_facts) == {f.id for f in SHANXI.model.facts if f.type != "table"}
    assert t.not_started_text == WAITING
    pack = unit_pack()
    assert L.lowered_totals(pack).started_facts == ("sent", "n", "lvl")


def test_engine_untouched_is_waiting_and_one_value_starts_it():
    assert_untouched(score(SHANXI, {}))
    assert_untouched(score(SHANXI, {f.id: None for f in SHANXI.model.facts}))
    assert_started(score(SHANXI, {"weekly_reports_count": 18}))
    assert_started(score(SHANXI, {"plan_report_late": False}))  # 否 is a value


def test_engine_one_invalid_value_starts_it_and_is_有误():
    values, problems = read_facts(SHANXI, {"weekly_reports_count": "十八"})
    assert problems
    card = score_values(SHANXI, values)
    assert_started(card)
    reading = [li.id for li in L.lowered(SHANXI) if "weekly_reports_count" in li.inputs]
    assert reading and all(card.item(i).status == "invalid" for i in reading)


UNIT_PACK = """
id: unit-pack
title: 单位测试
version: "1"
source: {document: 测试, title: 测试}
categories: [{name: 甲, cap: 6}]
settings:
  grades:
    - {name: 合格, min: 4}
    - {name: 不合格}
facts:
  - {id: body, label: 填报单位, type: enum, options: [甲县, 乙县]}
  - {id: sent, label: 报告报送日期, type: date, blank_allowed: true, blank_label: 未报}
  - {id: n, label: 问题件数, type: int, min: 0}
  - {id: lvl, label: 等级, type: enum, options: [高, 低]}
items:
  - id: "1"
    category: 甲
    title: 报告
    max: 2
    criteria: 未报不得分
    evidence: 文件
    zero_if:
      - {when: "blank(sent)", reason: 报告未报}
  - id: "2"
    category: 甲
    title: 问题
    max: 2
    criteria: 每件扣0.5分
    evidence: 台账
    deductions:
      - {kind: per_unit, count: n, points: 0.5, reason: 问题, unit: 件}
  - id: "3"
    category: 甲
    title: 单位
    max: 2
    criteria: 乙县不得分
    evidence: 文件
    zero_if:
      - {when: "body == '乙县'", reason: 乙县}
"""


def unit_pack():
    return load_pack_text(UNIT_PACK, "unit-pack.yaml")


def test_the_unit_fact_alone_does_not_start_a_submission():
    pack = unit_pack()
    assert_untouched(score(pack, {}), pack)
    for facts in ({"body": "甲县"}, {"body": "乙县"}):
        assert_untouched(score(pack, facts), pack, filled={"body"})
    # an invalid unit: the item reading it is 有误, the others still 待填
    values, _ = read_facts(pack, {"body": "丙县"})
    card = score_values(pack, values)
    assert [it.status for it in card.items] == ["incomplete", "incomplete", "invalid"]
    assert card.item("1").explanation == WAITING
    # one value anywhere else: the blank 未报 date means 未报
    for facts in ({"body": "甲县", "n": 0}, {"lvl": "低"}, {"sent": "2005-01-01"}):
        card = score(pack, facts)
        assert card.item("1").explanation == ("符合要求，得2.00分" if "sent" in facts else "报告未报，不得分")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), keep=st.integers(1, 5))
def test_any_value_starts_and_only_values_start(seed, keep):
    """Invariant: a card is all 待填：尚未开始填报 exactly when no input holds a value;
    once started, an item is 待填 only for a blank required input it lists."""
    facts = random_facts(SHANXI, seed, blank_rate=0.0)
    ids = sorted(f for f, v in facts.items() if v is not None)  # a sample date may be 未报 (None)
    kept = {f: facts[f] for f in ids[seed % len(ids):][:keep]}
    card = score(SHANXI, kept)
    assert not any(it.explanation == WAITING for it in card.items)
    for it in card.items:
        if it.status == "incomplete":
            assert it.missing and all(kept.get(f) is None for f in it.missing)
    assert_untouched(score(SHANXI, {f: None for f in kept}))


# --- durable-rules: the same bands -------------------------------------------------------


def test_durable_executor_agrees():
    from rubric_xl.durable import _rubric as D
    from rubric_xl.engine.card import to_dict
    from rubric_xl.engine.facts import convert_facts

    rs = D.RubricRuleset(SHANXI)
    cases = [{}, {"weekly_reports_count": 0}, {"annual_summary_date": "2005-11-01"},
             {"leading_group_established": False}]
    for facts in cases:
        values = convert_facts(SHANXI, facts)
        assert to_dict(rs.run(values)) == to_dict(score_values(SHANXI, values)), facts
    values, _ = read_facts(SHANXI, {"supervision_standard_level": "2级"})
    assert to_dict(rs.run(values)) == to_dict(score_values(SHANXI, values))
    assert_untouched(rs.run(convert_facts(SHANXI, {})))
    pack = unit_pack()
    rs = D.RubricRuleset(pack)
    for facts in ({"body": "甲县"}, {"body": "甲县", "n": 1}):
        values = convert_facts(pack, facts)
        assert to_dict(rs.run(values)) == to_dict(score_values(pack, values)), facts


# --- workbooks: auditor, add-in, formulas (LibreOffice), print ----------------------------


def _fill(wb, name: str, value) -> None:
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    wb[sheet][ref.replace("$", "")].value = value


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """name → (path, layout, pack): untouched (no unit), distributed (unit prefilled),
    each one-value case, and the unit pack's distributed template with and without a value."""
    root = tmp_path_factory.mktemp("untouched")
    out: dict[str, tuple[Path, object, object]] = {}
    wb, layout = build_template(SHANXI)
    out["untouched"] = (FL._save(wb, root / "untouched.xlsx"), layout, SHANXI)
    wb, layout = build_template(SHANXI, "太原市")
    out["distributed"] = (FL._save(wb, root / "distributed.xlsx"), layout, SHANXI)
    for case, (fid, value) in {**ONE_VALUE, **STILL_BLANK}.items():
        _fill(wb, fid, value)
        out[case] = (FL._save(wb, root / f"{case}.xlsx"), layout, SHANXI)
        _fill(wb, fid, None)
    pack = unit_pack()
    wb, layout = build_template(pack, "甲县")
    out["unit-only"] = (FL._save(wb, root / "unit-only.xlsx"), layout, pack)
    _fill(wb, "n", 0)
    out["unit-and-one"] = (FL._save(wb, root / "unit-and-one.xlsx"), layout, pack)
    return out


UNTOUCHED = ("untouched", "distributed", *STILL_BLANK)


@pytest.fixture(scope="module")
def audited(books):
    results = score_workbooks([str(p) for p, _, pack in books.values() if pack is SHANXI], SHANXI)
    return {Path(r.file).stem: r for r in results}


def test_auditor_reads_untouched_as_provisional(books, audited):
    for name in UNTOUCHED:
        r = audited[name]
        assert r.status == "provisional", name
        assert_untouched(r.card)
        assert not r.errors, (name, r.errors)
    for name in ONE_VALUE:
        r = audited[name]
        assert_started(r.card)
        assert r.status == ("error" if name.startswith("invalid") else "provisional"), name
    # the durable executor on the workbooks, too
    from rubric_xl.audit._one import score_workbook
    for name in (*UNTOUCHED, *ONE_VALUE):
        a, b = score_workbook(books[name][0], SHANXI), score_workbook(books[name][0], SHANXI, executor="durable")
        assert [(i.status, i.points, i.explanation) for i in a.card.items] == \
            [(i.status, i.points, i.explanation) for i in b.card.items], name


def test_auditor_exit_code_is_that_of_any_provisional_total(books, tmp_path):
    """An untouched workbook in a batch is 暂定 and exits like a partly filled one."""
    for strict in ([], ["--strict"]):
        codes = {}
        for name in ("distributed", "int-zero"):
            res = CliRunner().invoke(cli, ["score", str(books[name][0]), "--rules",
                                           str(ROOT / "rules" / "shanxi-2005.yaml"), *strict])
            codes[name] = res.exit_code
            assert "暂定" in res.output, res.output
        assert codes["distributed"] == codes["int-zero"], (strict, codes)
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("untouched", "distributed", "date"):
        (batch / f"{name}.xlsx").write_bytes(books[name][0].read_bytes())
    res = CliRunner().invoke(cli, ["score", str(batch), "--format", "json", "-o", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["summary"]["provisional"] == 3 and report["summary"]["failed"] == 0


def test_addin_shows_the_engines_waiting_card(books, tmp_path):
    from fastapi.testclient import TestClient

    from rubric_xl.addin import create_app
    from rubric_xl.addin._payload import payload_from_xlsx

    client = TestClient(create_app([ROOT / "rules" / "shanxi-2005.yaml"]))
    for name in (*UNTOUCHED, *ONE_VALUE):
        book = payload_from_xlsx(books[name][0])
        r = client.post("/rubric/score", content=json.dumps(book, ensure_ascii=False).encode())
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["ok"] is True and got["provisional"] is True, name
        i19 = next(i for i in got["items"] if i["id"] == "19")
        if name in UNTOUCHED:
            assert {(i["status"], i["explanation"]) for i in got["items"]} == {("incomplete", WAITING)}, name
        else:
            assert (i19["status"], Decimal(str(i19["points"])), i19["explanation"]) == \
                ("scored", Decimal(0), ITEM19), name


@pytest.fixture(scope="module")
def recalced(books, tmp_path_factory):
    out = tmp_path_factory.mktemp("untouched-lo")
    paths = [p for p, _, _ in books.values()]
    done = lo.recalc(paths, out, workers=1)
    return {p.stem: r for p, r in zip(paths, done)}


def test_libreoffice_formulas_show_waiting_until_one_value(books, audited, recalced):
    bad: list[str] = []
    for name, (path, layout, pack) in books.items():
        if pack is SHANXI:
            card = audited[name].card
        else:
            from rubric_xl.audit._one import score_workbook
            card = score_workbook(path, pack).card
        bad += FL.compare_rubric(pack, layout, recalced[name], card)
        rows = lo.sheet_rows(recalced[name], layout.score_sheet)
        explains = [lo.at(rows, il.explain.row, il.explain.col) for il in layout.items.values()]
        if name in UNTOUCHED or name == "unit-only":
            assert set(explains) == {WAITING}, name
            assert lo.at(rows, layout.provisional.row, layout.provisional.col) == "是"
        else:
            assert WAITING not in explains, name
    assert not bad, bad[:10]
    il = books["date"][1].items["19"]
    rows = lo.sheet_rows(recalced["date"], "评分")
    assert (lo.at(rows, il.points.row, il.points.col), lo.at(rows, il.explain.row, il.explain.col)) == (0, ITEM19)


def test_the_started_name_is_a_formula_over_every_input_but_the_unit(books):
    wb = load_workbook(books["unit-only"][0])
    text = wb.defined_names[STARTED_NAME].attr_text
    assert "body" not in text and all(f in text for f in ("sent", "n", "lvl"))
    assert load_workbook(books["distributed"][0]).defined_names[STARTED_NAME].attr_text.count("TRIM(") == \
        len(L.lowered_totals(SHANXI).started_facts)


def test_untouched_score_sheet_prints_待填_and_暂定(books, tmp_path):
    files = [books[n][0] for n in ("untouched", "distributed", "date")]
    PR._to_pdf(files, tmp_path)
    # the 评分细则 column says 不得分 itself: count what the results add to the printed text
    ws = load_workbook(books["untouched"][0])["评分"]
    static = sum(PR._squash(str(c.value)).count("不得分") for row in ws.iter_rows() for c in row
                 if c.value is not None and not str(c.value).startswith("="))
    assert static > 0
    for name in ("untouched", "distributed", "date"):
        pages = "".join(p for s, p in PR._pages(tmp_path / f"{name}.pdf", ["填报说明", "基本信息", "填报", "评分"])
                        if s == "评分")
        squashed = PR._squash(pages)
        if name == "date":  # one value entered: item 19 (and the other 未报 items) print 不得分
            assert squashed.count("不得分") > static and WAITING not in squashed
            assert PR._squash(ITEM19) in squashed
            continue
        assert squashed.count(WAITING) == len(SHANXI.items), name
        assert squashed.count("不得分") == static, name
        assert "暂定" in squashed, name
        grade_line = next(ln for ln in pages.splitlines() if ln.startswith("等次"))
        assert "不合格" not in grade_line.split("优秀")[0], name  # before the bands' text: 暂定, no grade
        assert "尚未开始填报，等次暂定。" in squashed and "按已填项目为" not in squashed, name
    date = PR._squash("".join(p for _, p in PR._pages(tmp_path / "date.pdf", ["评分"])))
    assert "按已填项目为不合格" in date and "尚未开始填报，等次暂定" not in date
