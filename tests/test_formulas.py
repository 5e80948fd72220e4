"""The formula compiler without LibreOffice: function set, Excel limits, the
name-only contract, the template hook, and build errors for rules that cannot
be expressed.  (Equality with the engine is proven in test_formulas_lo.py.)"""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.worksheet.formula import ArrayFormula

from rubric_xl import PackError, load_pack, load_pack_text
from rubric_xl.formulas import (ALLOWED_FUNCTIONS, ROW, compile_ledger, compile_rubric, functions_in,
                                problems_in, write_formulas)
from rubric_xl.workbook import build_template

ROOT = Path(__file__).resolve().parents[1]
PACKS = {p.stem: p for p in (ROOT / "rules").glob("*.yaml")}
SAFE = {"IF", "AND", "OR", "NOT", "IFERROR", "ISBLANK", "ISNUMBER", "ISTEXT", "N", "SUM", "SUMIF", "SUMIFS",
        "SUMPRODUCT", "COUNT", "COUNTA", "COUNTIF", "COUNTIFS", "COUNTBLANK", "AVERAGE", "MAX", "MIN", "ROUND",
        "ROUNDUP", "ROUNDDOWN", "INT", "ABS", "MOD", "INDEX", "MATCH", "VLOOKUP", "CHOOSE", "LOOKUP", "LEN",
        "LEFT", "MID", "RIGHT", "TRIM", "TEXT", "VALUE", "DATE", "YEAR", "MONTH", "DAY",
        # the input contract (有误 reasons): all in Excel 2007+, WPS and LibreOffice
        "ISERROR", "ISLOGICAL", "ERROR.TYPE", "UPPER", "ADDRESS", "ROW", "COLUMN", "HOUR", "MINUTE"}


@pytest.fixture(scope="module")
def shanxi():
    return load_pack(PACKS["shanxi-2005"])


@pytest.fixture(scope="module")
def xinzhou():
    return load_pack(PACKS["xinzhou-2024"])


def _letters(pack):
    from openpyxl.utils import get_column_letter

    cols = pack.facts[pack.model.ledger.table].columns
    return {c.id: get_column_letter(i + 2) for i, c in enumerate(cols)}.__getitem__


def compiled(pack) -> dict[str, str]:
    """Every formula the compiler produces for *pack*, by a readable key."""
    out = {}
    if pack.model.kind == "rubric":
        out.update(compile_rubric(pack).names)
    else:
        lf = compile_ledger(pack, _letters(pack))
        out.update(status=lf.status, errors=lf.errors, warnings=lf.warnings)
        for ru in lf.rollups:
            for gf in ru.groups + ([ru.total] if ru.total else []):
                out.update({f"{ru.label}/{gf.key}/{m}": f for m, f in gf.metrics.items()})
                if gf.label:
                    out[f"{ru.label}/label"] = gf.label
    return out


def template_formulas(pack) -> dict[str, str]:
    """Every formula in the generated template: cells and conditional formats."""
    wb, _ = build_template(pack)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    out[f"{ws.title}!{c.coordinate}"] = c.value
        for rng in ws.conditional_formatting:
            for i, rule in enumerate(rng.rules):
                for j, f in enumerate(rule.formula or []):
                    out[f"{ws.title} 条件格式 {rng.sqref} {i}.{j}"] = "=" + f
    return out


# --- the Excel 2010 / WPS function set ----------------------------------------------------


def test_the_allowed_list_is_the_measured_list():
    assert ALLOWED_FUNCTIONS == SAFE


def test_functions_in_finds_every_call():
    f = '=IF(TRIM(a)="",SUMPRODUCT((TRIM(b)="x")*1),MAX(1,MIN(2,IFS(c,1))))&"SUM(not a call)"'
    assert functions_in(f) == ["IF", "TRIM", "SUMPRODUCT", "TRIM", "MAX", "MIN", "IFS"]
    assert any("IFS" in p for p in problems_in(f))


@pytest.mark.parametrize("stem", sorted(PACKS))
def test_only_excel_2010_functions_in_compiled_formulas_and_templates(stem):
    pack = load_pack(PACKS[stem])
    formulas = {**compiled(pack), **template_formulas(pack)}
    used: set[str] = set()
    bad = []
    for where, f in formulas.items():
        names = functions_in(f.replace(ROW, "3"))
        used.update(names)
        bad += [f"{where}: {n}" for n in names if n not in SAFE]
    assert not bad, bad[:20]
    # the scan really saw the compiled formulas
    assert {"IF", "ROUND", "TEXT", "TRIM"} <= used if pack.model.kind == "rubric" else \
        {"IF", "SUMPRODUCT", "TRIM", "MID"} <= used
    assert len(formulas) > 50


@pytest.mark.parametrize("stem", sorted(PACKS))
def test_formulas_stay_within_excel_limits(stem):
    pack = load_pack(PACKS[stem])
    for where, f in {**compiled(pack), **template_formulas(pack)}.items():
        assert problems_in(f.replace(ROW, "3")) == [], where
        assert len(f) <= 8192


def test_limits_are_checked():
    deep = "=" + "ABS(" * 65 + "1" + ")" * 65
    assert any("嵌套" in p for p in problems_in(deep))
    assert any("8192" in p for p in problems_in("=" + "+".join(["1"] * 5000)))
    assert any("255" in p for p in problems_in("=SUM(" + ",".join(["1"] * 256) + ")"))
    assert any("255" in p for p in problems_in('="' + "字" * 256 + '"'))
    assert problems_in('="' + "字" * 255 + '"') == []


# --- the name-only contract ---------------------------------------------------------------


def _operands(formula: str) -> set[str]:
    return {t.value for t in Tokenizer(formula).items if t.type == Token.OPERAND and t.subtype == Token.RANGE}


def test_rubric_formulas_read_inputs_and_results_by_defined_name_only(shanxi):
    rf = compile_rubric(shanxi)
    allowed = set(shanxi.facts) | set(rf.names) | {"TRUE", "FALSE"}
    for name, f in rf.names.items():
        refs = _operands(f)
        assert refs <= allowed, (name, refs - allowed)
        assert not any(re.fullmatch(r"\$?[A-Z]{1,3}\$?\d+", r) for r in refs), name
    # the explanation shows the item's own points through its name
    assert "item_10_points" in rf.item("10").explain
    assert rf.categories[0].startswith("=ROUND(SUM(item_1_points,")
    assert rf.grade.startswith("=IF(total_points>=90,")


def test_ledger_rows_read_their_own_row_and_rollups_read_named_columns(xinzhou):
    lf = compile_ledger(xinzhou, _letters(xinzhou))
    for which in ("status", "errors", "warnings"):
        refs = _operands(getattr(lf, which).replace(ROW, "7"))
        cells = {r for r in refs if r not in ("TRUE", "FALSE")}
        assert cells and all(re.fullmatch(r"\$[A-Z]+7", r) for r in cells), (which, cells)
        assert lf.row(which, 12) == getattr(lf, which).replace(ROW, "12")
    names = {f"enterprises__{c.id}" for c in xinzhou.facts["enterprises"].columns}
    allowed = names | {"ledger_status", "reporting_body", "report_date", "TRUE", "FALSE"}
    for ru in lf.rollups:
        for gf in ru.groups + ([ru.total] if ru.total else []):
            for f in gf.metrics.values():
                assert _operands(f) <= allowed


# --- the template hook --------------------------------------------------------------------


def test_the_template_builder_writes_every_result_cell(shanxi, xinzhou):
    wb, layout = build_template(shanxi)
    for il in layout.items.values():
        assert str(wb[il.points.sheet][il.points.coord].value).startswith("=IF(")
        assert str(wb[il.explain.sheet][il.explain.coord].value).startswith("=")
    for ref in (layout.total, layout.grade, layout.eligible, layout.provisional, *[c.points for c in layout.categories]):
        assert str(wb[ref.sheet][ref.coord].value).startswith("=")
    assert write_formulas(wb, shanxi, layout) == 2 * 44 + 7 + 4
    ws = wb[layout.score_sheet]
    item_ranges = {f"{il.points.coord}:{il.explain.coord}" for il in layout.items.values()}
    blocks = {str(cf.sqref) for cf in ws.conditional_formatting}
    assert item_ranges <= blocks and len(item_ranges) == 44  # one block of rules per item row (G:H)
    # the rest mark the provisional total, grade, eligibility and the 是否暂定 cell
    others = blocks - item_ranges
    assert others == {r.coord for r in (layout.total, layout.grade, layout.eligible, layout.provisional)}

    wb, layout = build_template(xinzhou, ledger_rows=20)
    tl = layout.tables["enterprises"]
    for key, col in tl.results.items():
        for r in range(col.data.first_row, col.data.last_row + 1):
            # an empty row is one whose cells are all blank — an error value (#N/A) is not blank
            assert wb[col.data.sheet].cell(r, col.data.col).value.startswith('=IF(IF(OR(ISERROR($B')
    ws = wb[layout.summary_sheet]
    for block in layout.summary:
        rows = [r for _, r in block.group_rows] + ([block.total_row] if block.total_row else [])
        for r in rows:
            for c in block.metric_cols.values():
                # array formulas: IF(ISERROR(column)) element by element keeps an error value out
                cell = ws.cell(r, c)
                assert isinstance(cell.value, ArrayFormula) and cell.value.ref == cell.coordinate
                assert cell.value.text.startswith("=") and "IF(ISERROR(enterprises__" in cell.value.text
    (fact_row,) = [r for k, r in layout.summary[0].group_rows if k is None]
    assert ws.cell(fact_row, 1).value == '=IF((TRIM(reporting_body)=""),"（空白）",TRIM(reporting_body))'


# --- what cannot be expressed is a build error --------------------------------------------

RUBRIC = """
id: t
title: 测试
version: "1"
source: {document: 测试, title: 测试}
categories: [{name: 甲, cap: 5}]
facts:
  - {id: n, label: 数量, type: int}
  - {id: date_a, label: 报送日期, type: date, blank_allowed: true}
derived:
  - {id: sent, label: 已报, expr: "count_true(present(date_a))"}
items:
  - id: "1"
    category: 甲
    title: 项目
    max: 5
    criteria: 测试
    evidence: 测试
    deductions:
      - %s
"""


@pytest.mark.parametrize("rule, says", [
    ('{kind: flat, when: "n > 1", points: 1, reason: 多, explain: "{reason}扣{amount:>6}分"}', "{amount:>6} 不能带格式说明"),
    ('{kind: flat, when: "n > 1", points: 1, reason: 多, explain: "{reason!r}扣{amount}分"}', "{reason!r} 不能带格式说明"),
])
def test_inexpressible_rules_are_pack_errors_naming_the_item(rule, says):
    # format specs and conversions are refused when the pack loads (issue 8, part 9),
    # before they could reach the engine or the formula compiler
    with pytest.raises(PackError) as ei:
        load_pack_text(RUBRIC % rule, "t.yaml")
    (p,) = ei.value.problems
    assert "items[0].deductions[0].explain" in p.loc and says in p.msg


def test_derived_counts_over_blank_allowed_facts_compile():
    """count_true(present(date)) is never blank, so it can be counted (as in the engine)."""
    pack = load_pack_text(RUBRIC % "{kind: per_unit, count: sent, points: 1, reason: 已报}", "t.yaml")
    formulas = compile_rubric(pack)
    assert "date_a" in formulas.items["1"].points


def test_a_count_that_may_be_blank_is_refused_when_the_pack_loads():
    text = (RUBRIC % "{kind: per_unit, count: m, points: 1, reason: 多}").replace(
        "facts:\n", "facts:\n  - {id: m, label: 可空数量, type: int, blank_allowed: true}\n")
    with pytest.raises(PackError) as ei:
        load_pack_text(text, "t.yaml")
    (p,) = ei.value.problems
    assert "items[0].deductions[0].count" in p.loc and "可能为空" in p.msg


def test_a_formula_over_excel_limits_is_a_pack_error_naming_the_item():
    long = "n_" + "x" * 60  # a 62-character fact id, read 40 times in one value
    rule = f'{{kind: step, value: "{" + ".join([long] * 40)}", threshold: 100, step: 1, points: 0.1}}'
    text = (RUBRIC % rule).replace("facts:\n", f"facts:\n  - {{id: {long}, label: 长名, type: int}}\n")
    pack = load_pack_text(text, "t.yaml")
    with pytest.raises(PackError) as ei:
        compile_rubric(pack)
    assert any("第1项" in p.loc and "8192" in p.msg for p in ei.value.problems)


LEDGER = """
id: l
title: 台账
version: "1"
kind: ledger
source: {document: 测试, title: 测试}
facts:
  - {id: body, label: 单位, type: text}
  - id: rows
    label: 清单
    type: table
    columns:
      - {id: name, label: 名称, type: text}
      - {id: kind, label: 类别, type: text, required: false}
ledger:
  table: rows
  key: name
  statuses: [{name: 有, when: "true"}]
  metrics: [{id: n, label: 数量, kind: count}]
  groupings: [{by: kind, label: 按类别}]
"""


def test_an_id_that_is_a_cell_address_is_a_pack_error():
    pack = load_pack_text((RUBRIC % '{kind: flat, when: "n > 1", points: 1, reason: 多}').replace("id: n,", "id: ab12,")
                          .replace('"n > 1"', '"ab12 > 1"').replace('"count_true(present(date_a))"', '"ab12 + 1"'),
                          "t.yaml")
    with pytest.raises(PackError) as ei:
        compile_rubric(pack)
    assert any("AB12" in p.msg for p in ei.value.problems)


def test_grouping_by_a_free_text_column_is_a_pack_error():
    pack = load_pack_text(LEDGER, "l.yaml")
    with pytest.raises(PackError) as ei:
        compile_ledger(pack, {"name": "B", "kind": "C"}.__getitem__)
    assert "kind" in ei.value.problems[0].msg and "枚举" in ei.value.problems[0].msg


# --- property: any pack of the rule language compiles to valid, safe formulas --------------

_num = st.decimals(min_value=0, max_value=50, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def _rules(draw):
    kind = draw(st.sampled_from(["flat", "per_unit", "step", "late"]))
    pts = draw(_num)
    cap = draw(st.one_of(st.none(), _num))
    extra = f", cap: {cap}" if cap is not None else ""
    tmpl = draw(st.sampled_from(["", ', explain: "{reason}：{amount}/{points}"']))
    if kind == "flat":
        when = draw(st.sampled_from(["flag", "not flag", "rate >= 90 and flag", "level in ['一级', '二级']",
                                     "present(date_a) or n > 3", "blank(date_a)"]))
        return f'{{kind: flat, when: "{when}", points: {pts}, reason: 甲{extra}{tmpl}}}'
    if kind == "per_unit":
        count = draw(st.sampled_from(["n", "n - 2", "max(n, 3)", "abs(n - 5)", "count_true(flag, n > 1)"]))
        return f'{{kind: per_unit, count: "{count}", points: {pts}, reason: 乙{extra}{tmpl}}}'
    if kind == "step":
        value = draw(st.sampled_from(["rate", "n / 3", "min(rate, 95)", "rate - n"]))
        step = draw(st.decimals(min_value=Decimal("0.1"), max_value=10, places=1))
        partial = draw(st.sampled_from(["", ", partial: ceil", ", partial: floor", ", partial: prorate"]))
        tmpl = draw(st.sampled_from(["", ', explain: "{value}{unit}/{threshold}/{shortfall}/{excess}/{steps}/{step}扣{amount}"']))
        return (f'{{kind: step, value: "{value}", threshold: {draw(_num)}, step: {step}, points: {pts}'
                f'{partial}{extra}{tmpl}}}')
    return f"{{kind: late, dates: [date_a, date_b], deadline: dl, points: {pts}{extra}}}"


PROPERTY_PACK = """
id: p
title: 性质
version: "1"
source: {document: 测试, title: 测试}
categories: [{name: 甲, cap: %(max)s}]
deadlines: [{id: dl, date: 2024-05-31, label: 期限}]
facts:
  - {id: n, label: 数量, type: int}
  - {id: rate, label: 比率, type: percent}
  - {id: flag, label: 是否, type: bool}
  - {id: level, label: 等级, type: enum, options: [一级, 二级, 三级]}
  - {id: date_a, label: 日期一, type: date, blank_allowed: true}
  - {id: date_b, label: 日期二, type: date}
items:
  - id: "1"
    category: 甲
    title: 项目
    max: %(max)s
    criteria: 测试
    evidence: 测试
    floor: %(floor)s
    zero_if: [{when: "n > 40", reason: 太多, flag: 通报批评}]
    deductions: [%(ded)s]
    bonuses: [%(bon)s]
"""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ded=st.lists(_rules(), min_size=0, max_size=4), bon=st.lists(_rules(), min_size=0, max_size=3),
       mx=st.integers(min_value=0, max_value=20), floor=st.booleans())
def test_every_pack_compiles_to_safe_formulas_or_a_pack_error(ded, bon, mx, floor):
    bon = [b for b in bon if "late" not in b]  # late rules are deductions only
    text = PROPERTY_PACK % {"max": mx, "floor": str(floor).lower(), "ded": ", ".join(ded), "bon": ", ".join(bon)}
    pack = load_pack_text(text, "p.yaml")
    try:
        rf = compile_rubric(pack)
    except PackError as exc:  # only for a reason it names
        assert all(p.loc.endswith("第1项") for p in exc.problems), exc.problems
        return
    for name, f in rf.names.items():
        assert f.startswith("=") and problems_in(f) == [], name
        assert set(functions_in(f)) <= SAFE
        assert _operands(f) <= set(pack.facts) | set(rf.names) | {"TRUE", "FALSE"}
