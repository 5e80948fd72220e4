"""The reader with any number of table facts, each on its own sheet.

A pack may have several table facts; a template may put each on its own
ledger sheet (its columns named ``<table>__<column>``, as today's single
table).  The workbook here is built with openpyxl the way the generator lays
out a table: a header row, then one named column range per column.
"""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
import yaml
from openpyxl.workbook.defined_name import DefinedName

from rubric_xl import load_pack
from rubric_xl.conventions import column_name
from rubric_xl.reader import extract_facts
from rubric_xl.reader._container import open_bytes
from rubric_xl.reader._submission import read_submission

ROOT = Path(__file__).resolve().parents[1]
FIRST, LAST = 3, 502  # the generator's data rows
INSPECTIONS = {"id": "inspections", "label": "检查记录", "type": "table", "columns": [
    {"id": "inspected", "label": "检查对象", "type": "text"},
    {"id": "visit_date", "label": "检查日期", "type": "date"},
    {"id": "passed", "label": "是否合格", "type": "bool", "required": False, "default": False},
]}


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    spec = yaml.safe_load((ROOT / "rules" / "xinzhou-2024.yaml").read_text(encoding="utf-8"))
    spec["id"] = "two-tables"
    spec["facts"].append(INSPECTIONS)
    path = tmp_path_factory.mktemp("pack") / "two-tables.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return load_pack(path)


def _name(wb, name: str, sheet: str, col: int, rows: tuple[int, int] | None = None) -> None:
    letter = openpyxl.utils.get_column_letter(col)
    ref = f"'{sheet}'!${letter}${rows[0]}:${letter}${rows[1]}" if rows else f"'{sheet}'!${letter}${col}"
    wb.defined_names[name] = DefinedName(name, attr_text=ref)


def _book(pack, rows: dict[str, list[dict]], below: bool = False) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "填报"
    ws["B2"], ws["B3"] = "忻府区", dt.date(2024, 6, 30)
    ws["B3"].number_format = "yyyy-mm-dd"
    wb.defined_names["reporting_body"] = DefinedName("reporting_body", attr_text="'填报'!$B$2")
    wb.defined_names["report_date"] = DefinedName("report_date", attr_text="'填报'!$B$3")
    for t in (f for f in pack.model.facts if f.type == "table"):
        sheet = wb.create_sheet(t.label)
        for c, col in enumerate(t.columns, start=2):
            sheet.cell(FIRST - 1, c, col.label)
            _name(wb, column_name(t.id, col.id), t.label, c, (FIRST, LAST))
            for r, row in enumerate(rows.get(t.id, []), start=FIRST):
                cell = sheet.cell(r, c, row.get(col.id))
                if col.type == "date":
                    cell.number_format = "yyyy-mm-dd"
        if below and t.id == "inspections":
            sheet.cell(LAST + 3, 2, "区域外的数据")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


ENTERPRISES = [{"enterprise_name": "甲厂", "industry": "砖瓦", "listed_date": dt.date(2024, 3, 20),
                "water_cut": "是"},
               {"enterprise_name": "乙厂", "industry": "水泥", "listed_date": dt.date(2024, 4, 1)}]
VISITS = [{"inspected": "甲厂", "visit_date": dt.date(2024, 5, 6), "passed": "是"},
          {"inspected": "乙厂", "visit_date": dt.date(2024, 5, 7)},
          {"inspected": "丙厂", "visit_date": dt.date(2024, 5, 8), "passed": "否"}]


def test_each_table_is_read_from_its_own_sheet(pack):
    book = open_bytes(_book(pack, {"enterprises": ENTERPRISES, "inspections": VISITS}), "两表.xlsx")
    sub = read_submission(book, pack)
    assert [p for p in sub.problems if p.level == "error"] == []
    assert [r["enterprise_name"] for r in sub.raw["enterprises"]] == ["甲厂", "乙厂"]
    assert [r["inspected"] for r in sub.raw["inspections"]] == ["甲厂", "乙厂", "丙厂"]
    assert sub.raw["inspections"][0]["visit_date"] == dt.date(2024, 5, 6)
    assert sub.locs["inspections[3].passed"] == "检查记录!D5"
    assert sub.locs["enterprises[2].listed_date"] == "散乱污企业台账!G4"
    assert book._cal is None  # every sheet was read in the one pass, without calamine


def test_two_tables_convert(pack, tmp_path):
    path = tmp_path / "两表.xlsx"
    path.write_bytes(_book(pack, {"enterprises": ENTERPRISES, "inspections": VISITS}))
    _, values, _ = extract_facts(path, pack)
    assert [r["passed"] for r in values["inspections"]] == [True, False, False]
    assert values["enterprises"][0]["water_cut"] is True and len(values["enterprises"]) == 2


def test_data_below_the_second_table_is_reported_on_its_sheet(pack):
    book = open_bytes(_book(pack, {"inspections": VISITS}, below=True), "两表.xlsx")
    sub = read_submission(book, pack)
    (p,) = [p for p in sub.problems if "填报区域" in p.msg]
    assert p.loc == f"两表.xlsx 检查记录!B{LAST + 3}" and "检查记录" in p.msg
    assert sub.raw["enterprises"] == []


def test_a_column_of_one_table_pointing_at_the_other_tables_sheet_is_refused(pack):
    data = _book(pack, {"enterprises": ENTERPRISES, "inspections": VISITS})
    wb = openpyxl.load_workbook(io.BytesIO(data))
    wb.defined_names[column_name("inspections", "passed")] = DefinedName(
        column_name("inspections", "passed"), attr_text=f"'散乱污企业台账'!$R${FIRST}:$R${LAST}")
    out = io.BytesIO()
    wb.save(out)
    sub = read_submission(open_bytes(out.getvalue(), "两表.xlsx"), pack)
    (p,) = [p for p in sub.problems if column_name("inspections", "passed") in p.loc]
    assert p.level == "error" and "检查记录" in p.msg
    assert all("passed" not in r for r in sub.raw["inspections"])
