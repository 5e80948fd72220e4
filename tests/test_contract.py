"""The input contract (rules/contract.py, docs/input-contract.md) and the one
invalid state: boundaries of every accepted spelling, hostile spellings (each
with one more spelling of it), and the engine's 有误 items.  That the native
formulas and the add-in agree is proven in test_messy_parity.py."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rubric_xl import FactsError, score
from rubric_xl.engine import score_values
from rubric_xl.engine.facts import read_facts
from rubric_xl.reader._cells import error_cells
from rubric_xl.rules import contract as C
from rubric_xl.rules.model import Fact
from rubric_xl.samples import random_facts


def fact(t: str, **kw) -> Fact:
    return Fact(id="x", label="某项", type=t, **kw)


def ok(f: Fact, v, **kw):
    return C.accept(f, v, **kw)


def bad(f: Fact, v, **kw) -> bool:
    try:
        C.accept(f, v, **kw)
    except C.BadValue as exc:
        assert str(exc) == C.expected(f)
        return True
    return False


@pytest.mark.parametrize("v,want", [("是", True), ("否", False), (" 是 ", True), ("否  ", False),
                                    ("TRUE", True), ("true", True), ("False", False), (True, True), (False, False),
                                    (1, True), (0.0, False), (" 1", True), ("0", False), (Decimal("1.0"), True)])
def test_yes_no_spellings_accepted(v, want):
    assert ok(fact("bool"), v) is want


@pytest.mark.parametrize("v", ["√", "×", "对", "错", "yes", "No", "y", "n", "2", 0.5, -1, "1.0", "是的", "有",
                               "TRUE.", "#N/A", " #DIV/0! ", "否\u3000", "\t是", "是\n"])
def test_yes_no_look_alikes_are_invalid(v):
    assert bad(fact("bool"), v)


def test_whole_numbers_and_their_boundaries():
    f = fact("int", min=Decimal(0), max=Decimal(20))
    assert ok(f, 18) == 18 and ok(f, 18.0) == 18 and ok(f, 0) == 0 and ok(f, Decimal("20.0")) == 20
    for v in (20.5, 21, -1, -0.0001, " 18", "18", "１８", "十八", True, float("nan"), float("inf"), "#VALUE!"):
        assert bad(f, v), v
    assert C.expected(f) == "应为整数（0–20）"


def test_percent_typed_with_a_percent_sign_is_never_guessed():
    f = fact("percent")
    for v in (0, 100, 93.5, 1.01, Decimal("1.0000001"), 50):
        assert ok(f, v) == Decimal(repr(v) if isinstance(v, float) else v)
    # what Excel stores for "95%", "100%", "1%": above 0 and at most 1
    for v in (0.95, 1, 1.0, 0.01, Decimal("0.0001"), "95%", " 95", "９５", 100.01, -0.01, 150):
        assert bad(f, v), v
    assert "不带 % 号" in C.expected(f)


def test_dates_in_cells_and_in_facts_files():
    f = fact("date")
    d = dt.date(2005, 7, 20)
    assert ok(f, d) == d and ok(f, dt.datetime(2005, 7, 20)) == d
    assert ok(f, "2005-07-20", facts_file=True) == d
    # text is never a date in a cell, not even ISO; in a facts file only YYYY-MM-DD
    for v in ("2005-07-20", "2005.7.20", "2005/7/20", "2005年7月20日", "七月二十日"):
        assert bad(f, v), v
    for v in ("2005-W29-3", "20050720", "2005-7-20", "2005-07-20T00:00", "2005-02-30", " 2005年7月20日"):
        assert bad(f, v, facts_file=True), v
    assert bad(f, dt.datetime(2005, 7, 20, 12, 0)) and bad(f, True)


@pytest.mark.parametrize("serial,want", [(61, dt.date(1900, 3, 1)), (38553, dt.date(2005, 7, 20)),
                                         (2958465, dt.date(9999, 12, 31))])
def test_date_serials_at_the_boundaries(serial, want):
    f = fact("date")
    assert ok(f, C.cell_value(float(serial), f)) == want


@pytest.mark.parametrize("serial", [60, 0, -1, 2958466, 20050720, 38553.5])
def test_date_serials_outside_or_with_a_time_are_invalid(serial):
    f = fact("date")
    assert bad(f, C.cell_value(float(serial), f))


def test_enum_and_text():
    f = fact("enum", options=["一级", "二级", "10"])
    assert ok(f, " 二级 ") == "二级" and ok(f, 10.0) == "10" and C.is_blank("   ") and not C.is_blank("\u3000")
    for v in ("2级", "二 级", "四级", 2, True, "#N/A"):
        assert bad(f, v), v
    t = fact("text")
    assert ok(t, " 优秀 ") == "优秀" and ok(t, 18.0) == "18" and ok(t, "优秀   良好") == "优秀 良好"
    for v in (True, "#REF!", " #NAME? "):
        assert bad(t, v), v


@pytest.mark.parametrize("err", C.ERROR_VALUES)
@pytest.mark.parametrize("t", ["bool", "int", "decimal", "percent", "date", "enum", "text"])
def test_error_values_are_invalid_for_every_type(err, t):
    f = fact(t, options=["甲"] if t == "enum" else None)
    assert bad(f, err) and bad(f, f" {err}")


def test_shown_values_match_the_sheet():
    assert C.shown(" 18") == "“ 18”" and C.shown(0.95) == "0.95" and C.shown(20050714.0) == "20050714"
    assert C.shown(True) == "TRUE" and C.shown(dt.datetime(2005, 7, 20, 18, 0)) == "2005-07-20 18:00"
    assert C.shown(Decimal("1E-7")) == "0.0000001" and C.shown("#N/A") == "“#N/A”"
    assert C.reason("甲", "填报!D9", "“√”", "应为 是 或 否") == "甲（填报!D9）为“√”，应为 是 或 否"


def test_error_cells_are_found_in_sheet_xml_either_attribute_order():
    xml = (b'<sheetData><row r="9"><c r="D9" s="3" t="e"><v>#DIV/0!</v></c>'
           b'<c t="e" r="E9"><f>1/0</f><v>#N/A</v></c><c r="F9" t="s"><v>3</v></c></row></sheetData>')
    assert error_cells(xml) == {(9, 4): "#DIV/0!", (9, 5): "#N/A"}
    assert error_cells(b'<c r="A1" t="s"><v>0</v></c>') == {}


# --- the engine's one invalid state -------------------------------------------------------


def test_facts_files_still_refuse_invalid_values(shanxi):
    facts = random_facts(shanxi, 3)
    with pytest.raises(FactsError) as exc:
        score(shanxi, {**facts, "weekly_reports_count": " 18", "leading_group_established": "√"})
    msgs = sorted(p.msg for p in exc.value.problems)
    assert msgs == ["是否成立环保专项行动领导组为“√”，应为 是 或 否", "每周工作进度上报期数为“ 18”，应为整数（不小于 0）"]


def test_invalid_is_neither_blank_nor_未报(shanxi):
    """A Chinese date in a date that may be blank (blank = 未报) makes its items 有误."""
    facts = random_facts(shanxi, 5)
    values, problems = read_facts(shanxi, {**facts, "survey_report_date": "七月十日"},
                                  cells={"survey_report_date": "填报!D30"}.get)
    assert [p.msg for p in problems] == [
        "摸底排查情况及第一批挂牌督办名单报送日期（填报!D30）为“七月十日”，应为日期，格式 YYYY-MM-DD"]
    card = score_values(shanxi, values)
    blank = score_values(shanxi, read_facts(shanxi, {**facts, "survey_report_date": None})[0])
    readers = {ci.id for ci in shanxi.items if "survey_report_date" in ci.facts}
    assert readers
    for it, b in zip(card.items, blank.items):
        if it.id in readers:
            assert it.status == "invalid" and it.points is None and it.invalid == ["survey_report_date"]
            assert it.explanation == "有误：" + problems[0].msg
            assert b.status == "scored"  # blank is 未报: scored, with its deduction
        else:
            assert (it.status, it.points, it.explanation) == (b.status, b.points, b.explanation)
    assert card.provisional and not blank.provisional
    assert card.total == blank.total - sum(b.points for b in blank.items if b.id in readers)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), which=st.integers(0, 10_000), blank=st.integers(0, 10_000))
def test_an_invalid_input_makes_exactly_its_readers_invalid(shanxi, seed, which, blank):
    facts = random_facts(shanxi, seed)
    ids = [f.id for f in shanxi.model.facts if f.type != "table"]
    bad_id, blank_id = ids[which % len(ids)], ids[blank % len(ids)]
    raw = {**facts, blank_id: None, bad_id: "#N/A"}
    values, problems = read_facts(shanxi, raw)
    assert len(problems) == 1 and "为“#N/A”" in problems[0].msg
    card = score_values(shanxi, values)
    for it, ci in zip(card.items, shanxi.items, strict=True):
        if bad_id in ci.facts:  # 有误 wins over 待填: never scored, never blank
            assert it.status == "invalid" and it.points is None and it.explanation.startswith("有误：")
        else:
            assert it.status in ("scored", "incomplete")
    scored = [it.points for it in card.items if it.points is not None]
    assert card.total == sum(scored, Decimal(0)) and card.provisional


@pytest.mark.parametrize("points,status,shown", [
    (None, "invalid", "有误"), (None, "incomplete", "待填"), (Decimal("0.00"), "scored", "0.00"),
    (Decimal("2.5"), "scored", "2.50"),
])
def test_reports_show_an_invalid_item_as_invalid_not_pending(points, status, shown):
    """The terminal table and the xlsx report show 有误 where the 评分 sheet does (one wording)."""
    from rubric_xl.audit._terminal import _pts
    from rubric_xl.rules.wording import INCOMPLETE, INVALID, points_state

    assert _pts(points, status) == shown
    assert points_state(points, status) == (points if points is not None else
                                            INVALID if status == "invalid" else INCOMPLETE)
