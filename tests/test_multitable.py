"""Two or more table facts in one ledger pack (``ledgers:``, e.g. changzhi-2019):
one ledger sheet per table in the generated workbook, both read back, scored,
reported (terminal, JSON, CSV, xlsx and the combined roll-up), shown by the
add-in and imported by the campaign — while a one-table pack keeps its single
台账 sheet and names."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import yaml

from rubric_xl import load_pack, load_pack_text, score
from rubric_xl.addin._assess import assess_payload
from rubric_xl.addin._payload import payload_from_xlsx
from rubric_xl.audit import combine_ledgers, render, score_workbook, score_workbooks
from rubric_xl.engine.card import to_dict
from rubric_xl.errors import PackError
from rubric_xl.reader import extract_facts
from rubric_xl.workbook import build_template, fill_template
from rubric_xl.workbook.sheet_ledger import sheet_title


@pytest.fixture(autouse=True)
def _server_packs(monkeypatch):
    """The add-in's packs are the checkout's rules/ for these tests, whatever an
    earlier test in the same worker configured (create_app sets them)."""
    from rubric_xl.addin import _packs

    monkeypatch.setattr(_packs, "_registry", None)
    monkeypatch.delenv(_packs.ENV_RULES, raising=False)

from test_campaign import db_url, store  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
CHANGZHI = ROOT / "rules" / "changzhi-2019.yaml"
XINZHOU = ROOT / "rules" / "xinzhou-2024.yaml"
EXAMPLE = ROOT / "examples" / "changzhi-2019-luzhou.yaml"
PACK = load_pack(CHANGZHI)
SELF, CASES = "排污单位自查和整改情况表", "违法排污行为大整治工作台账"


def example(body: str = "潞州区") -> dict:
    facts = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    facts["reporting_body"] = body
    for t in ("self_checks", "cases"):
        for row in facts[t]:
            key = "unit_name" if t == "self_checks" else "case_unit"
            row[key] = row[key].replace("潞州区", body)
    return facts


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("multitable")
    template = root / "template.xlsx"
    wb, _ = build_template(PACK)
    wb.save(template)
    out = {}
    for body in ("潞州区", "上党区"):
        path = root / "上报" / f"{body}.xlsx"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(fill_template(template, example(body)))
        out[body] = path
    return out


# --- the workbook ------------------------------------------------------------------


def test_one_sheet_per_table_named_by_its_label_with_its_own_results_and_names():
    wb, layout = build_template(PACK, ledger_rows=40)
    assert wb.sheetnames[:6] == ["填报说明", "基本信息", "填报", SELF, CASES, "汇总"]
    assert layout.ledger_tables == ["self_checks", "cases"] and layout.ledger_table == "self_checks"
    for table, sheet in (("self_checks", SELF), ("cases", CASES)):
        tl = layout.tables[table]
        ws = wb[sheet]
        assert tl.sheet == sheet and list(ws.tables) == [table]
        heads = [ws.cell(2, c).value for c in range(tl.first_col, tl.last_col + 1)]
        labels = [c.label for c in PACK.facts[table].columns]
        extra = ["状态", "处罚建议", "错误", "警告"] if table == "cases" else ["状态", "错误", "警告"]
        assert heads == labels + extra
        # print setup like 台账: landscape, title rows, print area on the blank form, frozen key column
        assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$2"
        assert ws.print_area and ws.freeze_panes == "C3" and ws.protection.sheet
        assert tl.rows == 40
    names = layout.names
    assert names["ledger_status"].startswith(f"'{SELF}'!") and names["cases__status"].startswith(f"'{CASES}'!")
    assert "cases__penalty_advice" in names and "cases__errors" in names and "self_checks__penalty_advice" not in names
    first = wb[SELF].cell(3, layout.tables["self_checks"].results["status"].data.col).value
    second = wb[CASES].cell(3, layout.tables["cases"].results["penalty_advice"].data.col).value
    assert str(first).startswith("=") and "依法高限处罚" in str(second)


def test_the_summary_sheet_heads_each_tables_roll_ups_with_its_label():
    wb, layout = build_template(PACK)
    ws = wb["汇总"]
    col_a = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert col_a.index(SELF) < col_a.index(CASES)
    assert [(b.table, b.by) for b in layout.summary] == [(None, "reporting_body"), ("cases", "reporting_body"),
                                                         ("cases", "found_by")]
    ways = layout.summary[2]
    assert [k for k, _ in ways.group_rows] == ["排污单位自查", "属地排查", "交叉执法检查", "督察反馈问题", "群众举报"]
    assert ws.cell(ways.header_row, ways.metric_cols["fines"]).value == "罚款金额合计（万元）"


def test_a_one_table_pack_keeps_its_single_台账_sheet():
    pack = load_pack(XINZHOU)
    wb, layout = build_template(pack)
    assert "台账" in wb.sheetnames and layout.ledger_sheet == "台账" and layout.ledger_tables == ["enterprises"]
    assert layout.names["ledger_status"].startswith("'台账'!") and not any("__status" in n for n in layout.names)
    assert [b.table for b in layout.summary] == [None, None]


@pytest.mark.parametrize("label, sheet", [("附件1/自查:表", "附件1_自查_表"), ("附件[2]*台账?", "附件_2__台账_"),
                                          ("'引号表'", "引号表"), ("长" * 40, "长" * 31)])
def test_a_table_label_becomes_a_valid_sheet_name(label, sheet):
    assert sheet_title(label) == sheet


def test_two_labels_that_are_the_same_sheet_name_are_a_pack_error():
    text = CHANGZHI.read_text(encoding="utf-8")
    long = "违法排污行为大整治工作台账" * 3
    # cut to 31 characters / cleaned alike / the same but for case / another sheet's name
    for a, b in ((long + "甲", long + "乙"), ("附件:一", "附件/一"), ("Annex A", "ANNEX A"), ("汇总", "附件二"),
                 ("附件一", "填报")):
        clash = text.replace("label: 排污单位自查和整改情况表\n", f"label: {a}\n").replace(
            "label: 违法排污行为大整治工作台账\n", f"label: {b}\n")
        with pytest.raises(PackError) as exc:
            build_template(load_pack_text(clash, "clash.yaml"))
        assert "工作表名称重复" in str(exc.value)


# --- read back and scored ---------------------------------------------------------


def test_both_tables_read_back_and_score_as_the_facts_file(books):
    pack, values, problems = extract_facts(books["潞州区"])
    want = score(PACK, example())
    assert len(values["self_checks"]) == 6 and len(values["cases"]) == 4
    res = score_workbook(books["潞州区"])
    assert res.status == "ok", res.problems
    assert to_dict(res.card) == to_dict(want)
    assert [t.table for t in res.card.tables] == ["self_checks", "cases"]
    warned = [p.msg for p in res.problems if p.level == "warning"]
    assert any(m.startswith(f"{CASES}第3条") for m in warned), warned
    assert any(m.startswith(f"{SELF}第4条") for m in warned), warned


def test_a_wrong_cell_on_the_second_sheet_is_an_error_naming_its_sheet(tmp_path, books):
    wb = openpyxl.load_workbook(books["潞州区"])
    _, layout = build_template(PACK)
    for bad in ("很多", "-2"):  # two spellings of a wrong 群众投诉次数
        ref = layout.tables["cases"].columns["complaints"].data.cell(1)
        wb[ref.sheet].cell(ref.row, ref.col).value = bad
        path = tmp_path / f"bad-{bad}.xlsx"
        wb.save(path)
        res = score_workbook(path)
        (row,) = [r for r in res.card.tables[1].rows if r.status == "有误"]
        assert row.index == 2 and bad in row.errors[0].message
        errors = [p for p in res.problems if p.level == "error"]
        assert errors and all(CASES in p.loc for p in errors), errors
        assert res.card.tables[0].rows[0].status == "已整改"  # the other table is scored as before


# --- reports ------------------------------------------------------------------------


def test_reports_of_a_batch_show_every_table(books):
    results = score_workbooks([str(p.parent) for p in list(books.values())[:1]])
    assert [r.unit for r in results] == ["上党区", "潞州区"]
    (c,) = combine_ledgers(results)
    assert [t.label for t in c.tables] == [SELF, CASES]
    city = next(r for r in c.tables[1].rollups if r.by == "reporting_body")
    assert list(city.groups) == ["潞州区", "上党区"] and city.total["cases"] == 8
    assert str(city.total["fines"]) == "75.70"
    data = json.loads(render(results, "json"))
    (comb,) = data["combined"]
    assert [t["label"] for t in comb["tables"]] == [SELF, CASES]
    assert [t["table"] for t in data["files"][0]["tables"]] == ["self_checks", "cases"]
    rows = list(csv.reader(io.StringIO(render(results, "csv").lstrip("\ufeff"))))
    head = rows[0]
    assert head[head.index("台账条数"):head.index("台账条数") + 3] == ["台账条数", f"{SELF}条数", f"{CASES}条数"]
    i = head.index("台账条数")
    assert rows[1][i:i + 3] == ["10", "6", "4"]
    text = render(results, "table")
    assert SELF in text and CASES in text and "罚款金额合计（万元）" in text
    wb = openpyxl.load_workbook(io.BytesIO(render(results, "xlsx")))
    col_a = [c.value for c in wb["台账汇总"]["A"]]
    assert SELF in col_a and CASES in col_a
    cells = [[c.value for c in row] for row in wb["台账情况"].iter_rows(max_row=8)]
    (head,) = [r for r in cells if "台账条数" in r]
    assert head[head.index("台账条数"):head.index("台账条数") + 3] == ["台账条数", f"{SELF}条数", f"{CASES}条数"]


def test_the_terminal_card_of_one_workbook_names_each_table_and_its_decision(books):
    text = render([score_workbook(books["潞州区"])], "table")
    assert f"{SELF}：共 6 行" in text and f"{CASES}：共 4 行" in text
    assert "处罚建议" in text and "从轻或不予处罚" in text


# --- add-in and campaign -------------------------------------------------------------


def test_the_add_in_scores_both_tables(books):
    a = assess_payload(payload_from_xlsx(books["潞州区"]))
    assert a.ok, a.message
    assert a.status_text() == f"台账：{SELF}6行，{CASES}4行，错误0处，提醒2处"
    data = a.to_json()
    assert [t["label"] for t in data["tables"]] == [SELF, CASES]
    assert data["tables"][1]["rows"][0]["values"]["penalty_advice"] == "依法高限处罚"


def test_the_add_in_names_the_table_of_a_row_error(tmp_path, books):
    facts = example()
    facts["cases"][0]["closed_date"] = dt.date(2019, 6, 1)  # before 发现日期 2019-06-13
    wb, _ = build_template(PACK)
    wb.save(tmp_path / "t.xlsx")
    path = tmp_path / "closed.xlsx"
    path.write_bytes(fill_template(tmp_path / "t.xlsx", facts))
    a = assess_payload(payload_from_xlsx(path))
    (issue,) = [i for i in a.issues if i.kind == "check"]
    assert issue.label == f"{CASES}第1行" and "结案日期早于发现日期" in issue.msg


def test_the_campaign_stores_both_tables_and_reports_each(store, books):  # noqa: F811
    from rubric_xl.campaign import derive, import_files
    from rubric_xl.campaign.codec import decode
    from rubric_xl.campaign.report import csv_text, report_data, table_text, xlsx_bytes

    text = CHANGZHI.read_text(encoding="utf-8")
    bodies = list(PACK.facts["reporting_body"].options)
    c = store.create(load_pack_text(text, str(CHANGZHI)), text, "2019-06", bodies)
    folder = str(books["潞州区"].parent)
    rep = import_files(store, c, [folder], {f"{b}.xlsx": b for b in bodies})
    assert sorted(f.outcome for f in rep.files) == ["new", "new"]
    (ev,) = [e for e in store.events(c) if e.unit == "潞州区" and "facts" in e.payload]
    stored = decode(PACK, ev.payload["facts"])
    assert len(stored["self_checks"]) == 6 and len(stored["cases"]) == 4  # both tables' rows
    assert stored["cases"][3]["fine_wan"] == Decimal("12.35")
    assert [t["rows"] for t in ev.payload["self_card"]["tables"]] == [6, 4]
    state = derive(c, store.events(c))
    data = report_data(state)
    led = data["ledger"]
    assert [t["label"] for t in led["tables"]] == [SELF, CASES]
    u = next(x for x in led["units"] if x["unit"] == "潞州区")
    assert u["table_rows"] == {SELF: 6, CASES: 4}
    lines = table_text(data)
    assert f"{SELF} 6 条，{CASES} 4 条" in lines and f"{CASES} 按填报单位" in lines
    assert "6" in csv_text(data)
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(data)))
    assert f"{CASES} 按发现途径" in [c.value for c in wb["台账汇总"]["A"]]
