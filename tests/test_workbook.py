"""The generated submission workbook: structure, distribution, filling.

Workbooks are re-opened with openpyxl and checked against the pack and the
conventions of docs/ARCHITECTURE.md; filled workbooks are read back with the
auditor's reader (``rubric_xl.reader``), so the writer and the reader are held
to the same contract.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from rubric_xl import FactsError, InputFileError, PackError, convert_facts, load_pack, load_pack_text
from rubric_xl.factsfile import load_facts_file
from rubric_xl.reader import extract_facts
from rubric_xl.rules.catalog import require_pack
from rubric_xl.samples import random_facts
from rubric_xl.workbook import (BUILTIN_UNITS, TEMPLATE_VERSION, build_template, distribute,
                                fill_template, fingerprint, load_units, parse_units,
                                safe_filename, template_bytes)

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "rules"
EXAMPLES = REPO / "examples"
TEMPLATES = REPO / "workbook_templates"
META_KEYS = ["pack_id", "pack_version", "pack_hash", "template_version", "unit", "generator"]

SMALL_LEDGER = """
id: tiny-ledger
title: 小台账
version: "1"
kind: ledger
source: {document: 测试文件, title: 测试}
facts:
  - {id: body, label: 填报单位, type: enum, options: [甲县, 乙县]}
  - {id: headcount, label: 人数, type: int, min: 1, max: 50}
  - id: sites
    label: 点位清单
    type: table
    columns:
      - {id: site_name, label: 点位名称, type: text}
      - {id: kind, label: 类型, type: enum, required: false, options: [%s]}
      - {id: checked, label: 已检查, type: bool, required: false, default: false}
      - {id: rate, label: 达标率, type: percent, required: false}
      - {id: amount, label: 金额, type: decimal, min: 0, required: false}
      - {id: seen, label: 检查日期, type: date, required: false}
  - id: staff
    label: 人员
    type: table
    columns:
      - {id: person, label: 姓名, type: text}
ledger:
  table: sites
  key: site_name
  statuses:
    - {name: 已查, when: checked}
    - {name: 未查, when: "true"}
  metrics:
    - {id: n, label: 点位数, kind: count}
  groupings:
    - {by: body, label: 按单位, total_label: 合计}
    - {by: kind, label: 按类型}
"""
LONG_OPTIONS = [f"很长很长的类型名称第{i}号用于测试隐藏列表" for i in range(1, 21)]


def tiny_ledger(options=("工业", "生活")):
    return load_pack_text(SMALL_LEDGER % ", ".join(options), "tiny-ledger.yaml")


def reopen(data: bytes):
    return load_workbook(io.BytesIO(data))


def target(wb, name):
    dests = list(wb.defined_names[name].destinations)
    assert len(dests) == 1, name
    sheet, ref = dests[0]
    return wb[sheet], range_boundaries(ref.replace("$", ""))


def validations_at(ws, coord):
    return [dv for dv in ws.data_validations.dataValidation if coord in dv.sqref]


@pytest.fixture(scope="module")
def sx():
    return load_pack(RULES / "shanxi-2005.yaml")


@pytest.fixture(scope="module")
def xz():
    return load_pack(RULES / "xinzhou-2024.yaml")


@pytest.fixture(scope="module")
def sx_bytes(sx):
    return template_bytes(sx, "太原市")


@pytest.fixture(scope="module")
def sx_wb(sx_bytes):
    return reopen(sx_bytes)


@pytest.fixture(scope="module")
def xz_wb(xz):
    return reopen(template_bytes(xz, "忻府区"))


# --- structure: rubric pack --------------------------------------------------------


def test_sheets_in_convention_order(sx_wb, xz_wb):
    assert sx_wb.sheetnames == ["填报说明", "基本信息", "填报", "评分", "_meta"]
    assert xz_wb.sheetnames == ["填报说明", "基本信息", "填报", "台账", "汇总", "_meta"]
    for wb in (sx_wb, xz_wb):
        assert wb["_meta"].sheet_state == "veryHidden"
        assert all(ws.sheet_state == "visible" for ws in wb if ws.title != "_meta")
        assert wb.active.title == "填报说明"


def test_every_fact_is_a_named_unlocked_cell_with_blocking_validation(sx, sx_wb):
    facts = [f for f in sx.model.facts if f.type != "table"]
    for f in facts:
        ws, (c1, r1, c2, r2) = target(sx_wb, f.id)
        assert ws.title == "填报" and (c1, r1) == (c2, r2), f.id
        cell = ws.cell(r1, c1)
        assert cell.protection.locked is False, f.id
        dvs = validations_at(ws, cell.coordinate)
        assert len(dvs) == 1, f.id
        dv = dvs[0]
        assert dv.showErrorMessage and dv.errorStyle == "stop" and dv.error and dv.prompt, f.id
        assert dv.promptTitle == f.label[:32] or dv.promptTitle.endswith("…")
        expected = {"bool": "list", "enum": "list", "int": "whole", "decimal": "decimal",
                    "percent": "custom", "date": "date", "text": "textLength"}[f.type]
        assert dv.type == expected, f.id
        if f.type == "bool":
            assert dv.formula1 == '"是,否"'
        if f.type == "enum":
            assert dv.formula1.strip('"').split(",") == f.options
        if f.type == "percent":  # 0–100, and not what a typed "95%" becomes (0.95): the input contract
            c = cell.coordinate
            assert dv.formula1 == f"AND(ISNUMBER({c}),{c}>=0,{c}<=100,NOT(AND({c}>0,{c}<=1)))"
            assert "不带 % 号" in dv.error
        if f.type == "int":
            assert (dv.operator, dv.formula1) == ("greaterThanOrEqual", "0")
        if f.type == "date":
            assert cell.number_format == "yyyy-mm-dd"
    # nothing else on 填报 is editable but the 备注 (column F) of each fact row
    ws = sx_wb["填报"]
    unlocked = [c.coordinate for row in ws.iter_rows() for c in row
                if c.protection.locked is False and c.coordinate]
    notes = [c for c in unlocked if c.startswith("F")]
    assert len(unlocked) - len(notes) == len(facts) and len(notes) == len(facts)
    assert "不影响评分" in ws["F3"].value


def test_decimal_fact_validation_keeps_its_minimum(sx_wb):
    ws, (c, r, _, _) = target(sx_wb, "gov_special_funding_wan")
    dv = validations_at(ws, ws.cell(r, c).coordinate)[0]
    assert (dv.type, dv.operator, dv.formula1) == ("decimal", "greaterThanOrEqual", "0")


def test_input_rows_carry_label_unit_and_type_hint(sx, sx_wb):
    ws = sx_wb["填报"]
    hints = {}
    for f in sx.model.facts:
        _, (c, r, _, _) = target(sx_wb, f.id)
        assert ws.cell(r, 2).value == f.label
        assert (ws.cell(r, 3).value or None) == f.unit
        hints[f.id] = ws.cell(r, 5).value
    assert "是/否" in hints["leading_group_established"]
    assert "0–100" in hints["three_simultaneous_rate"]
    assert "留空表示未报" in hints["survey_report_date"] and "YYYY-MM-DD" in hints["survey_report_date"]
    assert "整数" in hints["weekly_reports_count"] and "≥0" in hints["weekly_reports_count"]
    assert "周报总期数" in hints["weekly_reports_count"]  # the fact's own hint is kept
    assert all(o in hints["supervision_standard_level"] for o in ("一级", "二级", "三级", "未达标"))


def test_shared_fact_listed_once_under_its_first_item(sx_wb):
    ws = sx_wb["填报"]
    labels = [ws.cell(r, 2).value for r in range(1, ws.max_row + 1)]
    assert labels.count("环保“三同时”制度执行合格率") == 1
    _, (c, r, _, _) = target(sx_wb, "three_simultaneous_rate")
    assert "37" in ws.cell(r, 6).value
    heading = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith("第37项"))
    assert "第28项" in ws.cell(heading + 1, 2).value and "三同时" in ws.cell(heading + 1, 2).value
    assert ws.cell(heading + 1, 4).protection.locked is not False  # no second input cell
    # items are grouped under their categories, in pack order
    texts = [str(ws.cell(r, 1).value or "") for r in range(1, ws.max_row + 1)]
    sections = [t for t in texts if t[1:2] == "、"]
    assert [s.split("、")[1].split("（")[0] for s in sections] == [
        "组织领导", "信息报送", "案件督办", "污染反弹控制", "能力建设", "宣传教育", "加分奖励"]


def test_score_sheet_is_the_official_table(sx, sx_wb):
    ws = sx_wb["评分"]
    assert [ws.cell(3, c).value for c in range(1, 9)] == [
        "序号", "考核内容", "考核标准", "分值", "评分细则", "依据", "得分", "扣分说明"]
    for i, ci in enumerate(sx.items):
        row = 4 + i
        it = ci.item
        assert ws.cell(row, 1).value == int(it.id)
        assert ws.cell(row, 3).value == (it.standard or it.title)
        assert Decimal(str(ws.cell(row, 4).value)) == it.max
        assert ws.cell(row, 5).value == it.criteria
        for name, col in ((f"item_{it.id}_points", 7), (f"item_{it.id}_explain", 8)):
            s, (c1, r1, c2, r2) = target(sx_wb, name)
            assert (s.title, c1, r1, c2, r2) == ("评分", col, row, col, row)
            assert s.cell(r1, c1).protection.locked is True
    # category merged cells start where the category starts
    assert ws.cell(4, 2).value == "组织领导" and ws.cell(12, 2).value == "信息报送"


def test_result_names_exist_and_point_at_locked_cells(sx, sx_wb):
    names = ["total_points", "grade", "eligible", "provisional"]
    names += [f"category_{n}_points" for n in range(1, len(sx.model.categories) + 1)]
    rows = []
    for name in names:
        ws, (c1, r1, c2, r2) = target(sx_wb, name)
        assert ws.title == "评分" and c1 == c2 == 7 and r1 == r2, name
        assert ws.cell(r1, c1).protection.locked
        rows.append(r1)
    assert min(rows) > 4 + len(sx.items)  # below the item rows
    assert len(set(rows)) == len(rows)
    first_cat = rows[4]
    assert ws.cell(first_cat, 2).value == "组织领导"
    assert ws.cell(first_cat, 4).value == 20




def test_layout_matches_defined_names(sx, xz):
    for pack in (sx, xz):
        wb, layout = build_template(pack)
        for name, ref in layout.names.items():
            assert wb.defined_names[name].attr_text == ref
        for fid, cell in layout.inputs.items():
            assert layout.names[fid] == cell.absolute
        assert set(layout.inputs) == {f.id for f in pack.model.facts if f.type != "table"}
        assert set(layout.info) == {"info_unit", "info_filler", "info_phone", "info_date"}
    wb, layout = build_template(sx)
    assert list(layout.items) == [ci.id for ci in sx.items]
    assert layout.items["28"].facts == ("three_simultaneous_rate",)
    assert [c.index for c in layout.categories] == list(range(1, 8))
    assert layout.categories[6].bonus_only and layout.categories[6].item_ids == ("44",)


def test_info_sheet_and_unit(sx, sx_wb):
    ws, (c, r, _, _) = target(sx_wb, "info_unit")
    assert ws.title == "基本信息" and ws.cell(r, c).value == "太原市"
    assert ws.cell(r, c).protection.locked is True
    for name in ("info_filler", "info_phone", "info_date"):
        ws, (c, r, _, _) = target(sx_wb, name)
        assert ws.cell(r, c).protection.locked is False and ws.cell(r, c).value is None
        assert validations_at(ws, ws.cell(r, c).coordinate)[0].showErrorMessage
    wb = reopen(template_bytes(sx))
    ws, (c, r, _, _) = target(wb, "info_unit")
    assert ws.cell(r, c).value is None and ws.cell(r, c).protection.locked is False


def test_protection_fonts_freeze_and_print(sx_wb, xz_wb):
    for wb in (sx_wb, xz_wb):
        assert wb.security.lockStructure
        for ws in wb:
            assert ws.protection.sheet, ws.title
            assert not ws.protection.password, ws.title  # documented: no password
    ws = sx_wb["填报"]
    assert ws.freeze_panes == "A4" and ws.print_title_rows == "$3:$3"
    assert sx_wb["评分"].freeze_panes == "A4" and sx_wb["评分"].page_setup.orientation == "landscape"
    assert xz_wb["台账"].freeze_panes == "C3"
    _, (c, r, _, _) = target(sx_wb, "weekly_reports_count")
    assert ws.cell(r, c).font.name == "宋体" and ws.cell(r, c).font.sz == 11
    assert ws.column_dimensions["B"].width >= 30 and ws.column_dimensions["D"].width >= 12


def test_guide_names_pack_source_notes_and_discrepancies(sx, sx_wb):
    text = "\n".join(str(c.value) for c in sx_wb["填报说明"]["A"] if c.value)
    m = sx.model
    for needle in [m.title, m.version, m.source.document, *m.notes, *m.discrepancies]:
        assert needle in text
    assert "太原市" in text and "无密码" in text


def test_meta_sheet_and_document_properties(sx, sx_wb):
    ws = sx_wb["_meta"]
    rows = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    assert [ws.cell(r, 1).value for r in range(1, 7)] == META_KEYS
    assert rows["pack_id"] == "shanxi-2005" and rows["pack_version"] == sx.version
    assert rows["pack_hash"] == sx.hash and len(rows["pack_hash"]) == 64
    assert rows["template_version"] == TEMPLATE_VERSION and rows["unit"] == "太原市"
    assert rows["generator"].startswith("rubric-xl ")
    assert rows["fingerprint"] == fingerprint(sx)
    props = {p.name: p.value for p in sx_wb.custom_doc_props.props}
    for key in META_KEYS:
        assert props[f"rubric_xl_{key}"] == rows[key]


def test_output_is_reproducible(sx, sx_bytes, sx_wb):
    assert template_bytes(sx, "太原市") == sx_bytes
    assert template_bytes(sx, "大同市") != sx_bytes
    assert sx_wb.properties.created == sx_wb.properties.modified == dt.datetime(2000, 1, 1)


def test_fingerprint_follows_pack_content(sx):
    text = (RULES / "shanxi-2005.yaml").read_text(encoding="utf-8")
    same = load_pack_text(text + "\n# a comment\n", "x.yaml")
    changed = load_pack_text(text.replace('version: "2005.1"', 'version: "2005.2"'), "x.yaml")
    assert fingerprint(same) == fingerprint(sx)
    assert fingerprint(changed) != fingerprint(sx)


# --- structure: ledger packs ---------------------------------------------------------


def test_ledger_table_columns_names_and_validation(xz, xz_wb):
    ws = xz_wb["台账"]
    table_fact = xz.facts["enterprises"]
    assert list(ws.tables) == ["enterprises"]
    c1, r1, c2, r2 = range_boundaries(ws.tables["enterprises"].ref)
    assert r1 == 2 and r2 - 2 >= 500
    for col in table_fact.columns:
        s, (a, first, b, last) = target(xz_wb, f"enterprises__{col.id}")
        assert s.title == "台账" and a == b and first == 3 and last - first + 1 == 500
        assert c1 <= a <= c2
        assert ws.cell(2, a).value == col.label
        dvs = validations_at(ws, f"{ws.cell(3, a).coordinate}")
        assert len(dvs) == 1 and dvs[0].showErrorMessage
        assert ws.cell(last, a).coordinate in dvs[0].sqref
        assert ws.cell(3, a).protection.locked is False and ws.cell(last, a).protection.locked is False
        if col.type == "date":
            assert ws.cell(last, a).number_format == "yyyy-mm-dd"
    headers = [ws.cell(2, c).value for c in range(c1, c2 + 1)]
    assert headers[-3:] == ["状态", "错误", "警告"]
    for name, header in (("ledger_status", "状态"), ("ledger_errors", "错误"), ("ledger_warnings", "警告")):
        s, (a, first, b, last) = target(xz_wb, name)
        assert ws.cell(2, a).value == header and ws.cell(3, a).protection.locked is True
    assert ws.cell(3, 1).value == 1 and ws.cell(502, 1).value == 500


def test_ledger_unit_prefills_reporting_body(xz, xz_wb):
    # 填报单位 is asked once: the reporting_body fact is the 基本信息 cell of info_unit
    ws, (c, r, _, _) = target(xz_wb, "reporting_body")
    assert (ws.title, c, r) == (target(xz_wb, "info_unit")[0].title, *target(xz_wb, "info_unit")[1][:2])
    assert ws.title == "基本信息" and ws.cell(r, c).value == "忻府区"
    assert ws.cell(r, c).protection.locked is True  # pre-filled by the office that distributes it
    labels = [c.value for c in xz_wb["填报"]["B"]]
    assert "填报单位" not in labels
    blank = reopen(template_bytes(xz))
    ws, (c, r, _, _) = target(blank, "reporting_body")
    assert ws.title == "基本信息" and ws.cell(r, c).protection.locked is False
    dv = validations_at(ws, ws.cell(r, c).coordinate)[0]
    assert dv.type == "list" and dv.showErrorMessage


def test_summary_sheet_blocks(xz):
    wb, layout = build_template(xz)
    ws = wb["汇总"]
    assert layout.summary_sheet == "汇总" and len(layout.summary) == 2
    by_body, by_industry = layout.summary
    assert by_body.by_kind == "fact" and by_body.group_rows[0][0] is None
    assert ws.cell(by_body.total_row, 1).value == "全市"
    industry = next(c for c in xz.facts["enterprises"].columns if c.id == "industry")
    assert [k for k, _ in by_industry.group_rows] == industry.options + [""]
    metrics = [m.id for m in xz.model.ledger.metrics]
    assert list(by_body.metric_cols) == metrics
    assert ws.cell(by_body.header_row, by_body.metric_cols["listed"]).value == "列入清单企业数"


def test_two_tables_and_hidden_option_list():
    pack = tiny_ledger(LONG_OPTIONS)
    data = template_bytes(pack, ledger_rows=12)
    wb = reopen(data)
    assert wb.sheetnames[-1] == "_lists" and wb["_lists"].sheet_state == "veryHidden"
    assert wb.sheetnames[-2] == "_meta"
    ws = wb["台账"]
    assert set(ws.tables) == {"sites", "staff"}
    s, (a, first, _, last) = target(wb, "sites__kind")
    dv = validations_at(ws, ws.cell(first, a).coordinate)[0]
    assert dv.type == "list" and dv.formula1 == "_list_sites__kind"
    ls, (la, lr1, _, lr2) = target(wb, "_list_sites__kind")
    assert [ls.cell(r, la).value for r in range(lr1, lr2 + 1)] == LONG_OPTIONS
    s, (a, first, _, last) = target(wb, "staff__person")
    assert last - first + 1 == 12 and a > range_boundaries(ws.tables["sites"].ref)[2]
    # the staff table has no result columns; int fact bounds reach the validation
    assert "ledger_status" in wb.defined_names
    s, (c, r, _, _) = target(wb, "headcount")
    dv = validations_at(s, s.cell(r, c).coordinate)[0]
    assert (dv.type, dv.operator, dv.formula1, dv.formula2) == ("whole", "between", "1", "50")


def test_short_option_list_is_inline():
    wb = reopen(template_bytes(tiny_ledger(), ledger_rows=3))
    assert "_lists" not in wb.sheetnames
    s, (a, first, _, _) = target(wb, "sites__kind")
    assert validations_at(s, s.cell(first, a).coordinate)[0].formula1 == '"工业,生活"'


@pytest.mark.parametrize("fact_id, needle", [("abc1", "ABC1"), ("r1c1", "R1C1"), ("info_unit", "重复")])
def test_ids_that_cannot_be_excel_names_are_pack_errors(fact_id, needle):
    text = SMALL_LEDGER % "工业" + ""
    text = text.replace("id: headcount", f"id: {fact_id}")
    pack = load_pack_text(text, "bad.yaml")
    with pytest.raises(PackError) as exc:
        build_template(pack)
    assert needle in str(exc.value) and fact_id in str(exc.value)


TINY_RUBRIC = """
id: tiny-rubric
title: 小考核
version: "1"
source: {document: 测试文件, title: 测试}
total: 5
categories: [{name: 甲类, cap: 5}]
facts:
  - {id: rate, label: 合格率, type: percent}
  - {id: done, label: 是否完成, type: bool}
items:
  - {id: "%s", category: 甲类, title: 合格率达标, max: 2, criteria: 每低1%%扣0.2分, evidence: 报表,
     deductions: [{kind: step, value: rate, threshold: 90, step: 1, points: 0.2}]}
  - {id: "2", category: 甲类, title: 完成任务, max: 3, criteria: 未完成不得分, evidence: 报表,
     zero_if: [{when: not done, reason: 未完成}],
     deductions: [{kind: step, value: rate, threshold: 95, step: 1, points: 0.1}]}
"""


def test_partly_shared_facts_and_pack_without_grades():
    pack = load_pack_text(TINY_RUBRIC % "1", "tiny.yaml")
    wb, layout = build_template(pack)
    ws = wb["填报"]
    heading = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith("第2项"))
    assert ws.cell(heading + 1, 2).value == "是否完成"
    assert ws.cell(heading + 2, 2).value == "本项另使用第1项已填报的数据：合格率"
    assert layout.eligible is None and "eligible" in wb.defined_names
    score = wb["评分"]
    assert score[layout.grade.coord].value is None
    assert "未设等次" in score.cell(layout.grade.row, 8).value


def test_item_ids_that_cannot_be_excel_names():
    pack = load_pack_text(TINY_RUBRIC % "1-a", "tiny.yaml")
    with pytest.raises(PackError, match="item_1-a_points"):
        build_template(pack)


def test_unit_too_long_is_an_error(sx):
    with pytest.raises(PackError, match="过长"):
        build_template(sx, "县" * 101)


# --- distribute --------------------------------------------------------------------


def test_distribute_writes_workbooks_and_verifiable_manifest(sx, tmp_path):
    units = ["太原市", "晋中市", "某/区:试点"]
    rows = distribute(sx, units, tmp_path / "out")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted([r.file for r in rows] + ["manifest.csv"])
    with open(out / "manifest.csv", encoding="utf-8-sig", newline="") as fh:
        manifest = list(csv.DictReader(fh))
    assert [m["单位"] for m in manifest] == units  # Chinese header (issue 14)
    for m in manifest:
        data = (out / m["文件"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == m["SHA-256"]
        wb = reopen(data)
        ws, (c, r, _, _) = target(wb, "info_unit")
        assert ws.cell(r, c).value == m["单位"]
        assert wb["_meta"]["B5"].value == m["单位"]
    assert "/" not in rows[2].file and ":" not in rows[2].file and rows[2].file.endswith(".xlsx")
    assert not list(out.glob(".*.tmp"))


def test_distribute_rejects_file_name_clashes(sx, tmp_path):
    with pytest.raises(InputFileError, match="文件名重复"):
        distribute(sx, ["某区/一", "某区:一"], tmp_path)
    assert not (tmp_path / "manifest.csv").exists()


def test_builtin_unit_lists(xz):
    assert load_units("shanxi-cities") == list(BUILTIN_UNITS["shanxi-cities"])
    assert len(BUILTIN_UNITS["shanxi-cities"]) == 11 and "运城市" in BUILTIN_UNITS["shanxi-cities"]
    body = xz.facts["reporting_body"]
    assert load_units("xinzhou-bodies") == body.options  # the pack agrees with the spec's list


def test_unit_files(tmp_path):
    assert parse_units("\ufeff# 单位\n\n 太原市 \n大同市  # 注释\n\u200b\n", "u.txt") == ["太原市", "大同市"]
    with pytest.raises(InputFileError) as exc:
        parse_units("太原市\n大同市\n太原市\n", "u.txt")
    assert "u.txt:3" in str(exc.value) and "第1行" in str(exc.value)
    with pytest.raises(InputFileError, match="为空"):
        parse_units("# nothing\n", "u.txt")
    (tmp_path / "gbk.txt").write_bytes("太原市".encode("gbk"))
    with pytest.raises(InputFileError, match="UTF-8"):
        load_units(str(tmp_path / "gbk.txt"))
    with pytest.raises(InputFileError, match="内置列表"):
        load_units(str(tmp_path / "missing.txt"))


def test_safe_filename():
    assert safe_filename('a/b\\c:d*e?f"g<h>i|j') == "a_b_c_d_e_f_g_h_i_j"
    assert safe_filename("CON") == "_CON" and safe_filename(" 县. ") == "县"


# --- fill -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sx_template(sx, sx_bytes, tmp_path_factory):
    path = tmp_path_factory.mktemp("tpl") / "太原市.xlsx"
    path.write_bytes(sx_bytes)
    return path


def test_fill_writes_named_cells_and_never_touches_the_template(sx, sx_template, tmp_path):
    before = hashlib.sha256(sx_template.read_bytes()).hexdigest()
    facts_file = EXAMPLES / "shanxi-2005-full.yaml"
    data = fill_template(sx_template, facts_file, info={"filler": "李四", "date": "2005-11-12"})
    assert hashlib.sha256(sx_template.read_bytes()).hexdigest() == before
    wb = reopen(data)
    raw = load_facts_file(facts_file)
    values = convert_facts(sx, raw)
    for f in sx.model.facts:
        ws, (c, r, _, _) = target(wb, f.id)
        cell = ws.cell(r, c).value
        v = values[f.id]
        if f.type == "bool":
            assert cell == ("是" if v else "否"), f.id
        elif f.type == "date":
            assert cell.date() == v, f.id
        elif f.type in ("int", "decimal", "percent"):
            assert isinstance(cell, (int, float)) and Decimal(str(cell)) == v, f.id
        else:
            assert cell == v, f.id
    ws, (c, r, _, _) = target(wb, "info_filler")
    assert ws.cell(r, c).value == "李四"
    ws, (c, r, _, _) = target(wb, "info_date")
    assert ws.cell(r, c).value.date() == dt.date(2005, 11, 12)
    # the auditor's reader gets exactly the facts file back
    out = tmp_path / "filled.xlsx"
    out.write_bytes(data)
    pack, read_back, _ = extract_facts(out)
    assert pack.hash == sx.hash and read_back == values


def test_fill_blank_facts_clear_cells(sx, sx_template, tmp_path):
    full = tmp_path / "full.xlsx"
    full.write_bytes(fill_template(sx_template, EXAMPLES / "shanxi-2005-full.yaml"))
    data = fill_template(full, {"weekly_reports_count": 3})
    wb = reopen(data)
    ws, (c, r, _, _) = target(wb, "weekly_reports_count")
    assert ws.cell(r, c).value == 3
    ws, (c, r, _, _) = target(wb, "leading_group_established")
    assert ws.cell(r, c).value is None


def test_fill_rejects_bad_values_naming_the_fact(sx_template):
    with pytest.raises(FactsError) as exc:
        fill_template(sx_template, {"three_simultaneous_rate": 120, "weekly_reports_count": "很多"})
    text = str(exc.value)
    assert "three_simultaneous_rate" in text and "0–100" in text and "weekly_reports_count" in text


def test_fill_rejects_other_units_data(xz, tmp_path):
    path = tmp_path / "忻府区.xlsx"
    path.write_bytes(template_bytes(xz, "忻府区", ledger_rows=5))
    with pytest.raises(FactsError, match="忻府区"):
        fill_template(path, {"reporting_body": "代县"})
    with pytest.raises(InputFileError, match="不能改为"):
        fill_template(path, {"reporting_body": "忻府区"}, info={"unit": "代县"})


def test_fill_ledger_rows_and_grow_past_reserved_rows(xz, tmp_path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(template_bytes(xz, ledger_rows=5))
    rows = [{"enterprise_name": f"企业{i}", "listed_date": dt.date(2024, 3, 1 + i),
             "criterion_policy": i % 2 == 0, "industry": "砖瓦"} for i in range(8)]
    out = tmp_path / "o.xlsx"
    out.write_bytes(fill_template(path, {"reporting_body": "代县", "enterprises": rows}))
    wb = load_workbook(out)
    ws = wb["台账"]
    assert range_boundaries(ws.tables["enterprises"].ref)[3] == 10
    for name in ("enterprises__listed_date", "ledger_warnings"):
        assert target(wb, name)[1][3] == 10
    s, (a, first, _, last) = target(wb, "enterprises__industry")
    assert ws.cell(10, a).coordinate in validations_at(ws, ws.cell(10, a).coordinate)[0].sqref
    assert ws.cell(10, a).protection.locked is False and ws.cell(10, 1).value == 8
    assert ws.cell(10, 2).value == "企业7" and ws.cell(10, a).value == "砖瓦"
    _, values, _ = extract_facts(out)
    assert values["enterprises"] == convert_facts(xz, {"enterprises": rows})["enterprises"]
    # refilling with fewer rows leaves no stale rows behind
    again = tmp_path / "again.xlsx"
    again.write_bytes(fill_template(out, {"reporting_body": "代县", "enterprises": rows[:2]}))
    _, values, _ = extract_facts(again)
    assert [r["enterprise_name"] for r in values["enterprises"]] == ["企业0", "企业1"]


def test_fill_needs_the_packs_exact_content(sx, tmp_path):
    text = (RULES / "shanxi-2005.yaml").read_text(encoding="utf-8")
    other = load_pack_text(text.replace('version: "2005.1"', 'version: "2005.9"'), "old.yaml")
    path = tmp_path / "old.xlsx"
    path.write_bytes(template_bytes(other))
    with pytest.raises(PackError, match="版本不一致"):
        fill_template(path, {})
    pack_file = tmp_path / "old.yaml"
    pack_file.write_text(text.replace('version: "2005.1"', 'version: "2005.9"'), encoding="utf-8")
    fill_template(path, {}, rules=pack_file)  # the right pack given explicitly
    fill_template(path, {}, rules=other)
    with pytest.raises(PackError):
        fill_template(path, {}, rules=sx)


def test_fill_rejects_files_that_are_not_templates(tmp_path):
    plain = tmp_path / "plain.xlsx"
    from openpyxl import Workbook

    Workbook().save(plain)
    with pytest.raises(InputFileError, match="_meta"):
        fill_template(plain, {})
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a zip")
    with pytest.raises(InputFileError, match="不是有效的"):
        fill_template(junk, {})
    with pytest.raises(InputFileError, match="找不到模板"):
        fill_template(tmp_path / "none.xlsx", {})


def test_find_pack(sx, tmp_path, monkeypatch):
    pack, path = require_pack("shanxi-2005", pack_hash=sx.hash)
    assert pack.hash == sx.hash and path.name == "shanxi-2005.yaml"
    pack, _ = require_pack("shanxi-2005", [RULES])
    assert pack.id == "shanxi-2005"
    with pytest.raises(PackError, match="找不到规则包"):
        require_pack("no-such-pack", [tmp_path])
    with pytest.raises(PackError, match="xinzhou-2024"):
        require_pack("shanxi-2005", [RULES / "xinzhou-2024.yaml"])
    monkeypatch.chdir(tmp_path)  # ./rules need not exist; the checkout's rules/ still counts
    assert require_pack("xinzhou-2024")[0].id == "xinzhou-2024"


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), which=st.sampled_from(["shanxi-2005", "xinzhou-2024", "shanxi-2019-qingling"]))
def test_fill_then_read_gives_the_same_facts(seed, which, tmp_path_factory):
    """For any valid submission, reading a filled workbook gives back exactly the
    converted facts (ledger templates with 12 rows, so longer ledgers grow)."""
    pack = load_pack(RULES / f"{which}.yaml")
    folder = tmp_path_factory.mktemp("prop")
    tpl = folder / "t.xlsx"
    tpl.write_bytes(template_bytes(pack, ledger_rows=12))
    raw = random_facts(pack, seed, blank_rate=0.15, rows=None)
    out = folder / "o.xlsx"
    out.write_bytes(fill_template(tpl, raw))
    _, values, _ = extract_facts(out)
    assert values == convert_facts(pack, raw)


# --- checked-in files ----------------------------------------------------------------


@pytest.mark.parametrize("pack_file", sorted(RULES.glob("*.yaml")), ids=lambda p: p.stem)
def test_checked_in_templates_are_fresh(pack_file):
    pack = load_pack(pack_file)
    path = TEMPLATES / f"{pack.id}.xlsx"
    regen = f"rubric-xl template build --rules {pack_file.relative_to(REPO)} -o {path.relative_to(REPO)}"
    assert path.exists(), f"缺少 {path.name}；请运行：{regen}"
    wb = load_workbook(path)
    meta = {wb["_meta"].cell(r, 1).value: wb["_meta"].cell(r, 2).value for r in range(1, 9)}
    assert meta["pack_hash"] == pack.hash, f"{path.name} 与规则包不符；请运行：{regen}"
    assert meta["fingerprint"] == fingerprint(pack), f"{path.name} 已过期；请运行：{regen}"
    assert not meta["unit"]  # not pre-filled for any unit


@pytest.mark.parametrize("name", ["shanxi-2005-full", "yuncheng-2004-seed", "xinzhou-2024-xinfu",
                                  "changzhi-2019-luzhou", "shanxi-2019-qingling-datong"])
def test_examples_are_filled_from_their_facts(name):
    facts_file = EXAMPLES / f"{name}.yaml"
    book = EXAMPLES / f"{name}.xlsx"
    pack, values, _ = extract_facts(book)
    assert values == convert_facts(pack, load_facts_file(facts_file)), f"请按 examples/README.md 重新生成 {book.name}"
    wb = load_workbook(book)
    meta = {wb["_meta"].cell(r, 1).value: wb["_meta"].cell(r, 2).value for r in range(1, 9)}
    assert meta["fingerprint"] == fingerprint(pack), f"{book.name} 由旧版模板生成；请按 examples/README.md 重新生成"


def test_seed_example_uses_the_seed_figures():
    raw = load_facts_file(EXAMPLES / "yuncheng-2004-seed.yaml")
    assert raw["weekly_reports_count"] == 14
    assert raw["supervised_cases_count"] == 12
    months = [raw[f"media_reports_2005_{m:02d}"] for m in range(6, 12)]
    assert sum(months) == 22 + 17 + 18
    assert raw["rebound_cases_found"] == 1
