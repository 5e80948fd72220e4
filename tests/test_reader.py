"""Reading submission workbooks back: by defined name, exact values, Chinese
problems with file, sheet and cell.  Workbooks are made by the real template
builder and filler (rubric_xl.workbook), then changed the way users change them.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import openpyxl
import pytest
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from conftest import full_marks_facts
from rubric_xl import FactsError, InputFileError, convert_facts, load_pack
from rubric_xl.reader import extract_facts, read_workbook
from rubric_xl.reader._cells import serial_date
from rubric_xl.reader._refs import parse_ref
from rubric_xl.workbook import fill_template, template_bytes

ROOT = Path(__file__).resolve().parents[1]
SHANXI = load_pack(ROOT / "rules" / "shanxi-2005.yaml")
XINZHOU = load_pack(ROOT / "rules" / "xinzhou-2024.yaml")
PACKS = {SHANXI.id: SHANXI, XINZHOU.id: XINZHOU}


# --- helpers (also used by test_audit.py and test_extract_roundtrip.py) -----------------


@functools.lru_cache(maxsize=None)
def template(pack_id: str, unit: str | None = None) -> bytes:
    return template_bytes(PACKS[pack_id], unit)


def filled(folder: Path, facts: dict, pack=SHANXI, name: str = "县甲.xlsx",
           unit: str | None = "太原市") -> Path:
    """A workbook made the way a unit makes it: the template, filled in."""
    folder.mkdir(parents=True, exist_ok=True)
    tag = hashlib.sha256(str(unit).encode()).hexdigest()[:8]
    tpl = folder / f"_template_{pack.id}_{tag}.xlsx.tpl"  # not a .xlsx: folder scans skip it
    if not tpl.exists():
        tpl.write_bytes(template(pack.id, unit))
    path = folder / name
    path.write_bytes(fill_template(tpl, facts, rules=pack))
    return path


def edit_zip(path: Path, part: str, change: Callable[[bytes], bytes]) -> None:
    """Rewrite one part of the workbook's zip (what Excel would write differently)."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, change(data) if info.filename == part else data)
    path.write_bytes(out.getvalue())


def edit_book(path: Path, change: Callable[[openpyxl.Workbook], Any]) -> None:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)


def name_target(wb: openpyxl.Workbook, name: str) -> tuple[Any, int, int]:
    """(sheet, row, column) of a defined name's top-left cell."""
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    col, row, _, _ = range_boundaries(ref.replace("$", ""))
    return wb[sheet], row, col


def set_cells(path: Path, values: dict[str, Any], fmt: str | None = None) -> None:
    """Type *values* into the cells named by fact ids (as a user would)."""
    def change(wb):
        for name, value in values.items():
            ws, row, col = name_target(wb, name)
            ws.cell(row, col).value = value
            if fmt:
                ws.cell(row, col).number_format = fmt
    edit_book(path, change)


def cell_of(path: Path, name: str) -> str:
    wb = openpyxl.load_workbook(path)
    ws, row, col = name_target(wb, name)
    return f"{ws.title}!{ws.cell(row, col).coordinate}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problems_text(problems) -> str:
    return "\n".join(f"{p.level} {p.loc} {p.msg}" for p in problems)


def ledger_facts(body: str = "忻府区", rows: list[dict] | None = None) -> dict:
    six = dict(water_cut=True, power_cut=True, materials_cleared=True, equipment_cleared=True,
               site_cleared=True, site_restored=True)
    return {"reporting_body": body, "report_date": dt.date(2024, 6, 5), "enterprises": rows if rows is not None else [
        {"enterprise_name": "甲砖厂", "industry": "砖瓦", "criterion_policy": True,
         "listed_date": dt.date(2024, 4, 1), **six, "shutdown_date": dt.date(2024, 5, 20)},
        {"enterprise_name": "乙化工", "industry": "化工", "criterion_emissions": True,
         "listed_date": dt.date(2024, 4, 2)},
        {"enterprise_name": "丙铸造", "industry": "铸造", "criterion_permits": True,
         "listed_date": dt.date(2024, 4, 3), **six, "shutdown_date": dt.date(2024, 5, 1),
         "verified_date": dt.date(2024, 5, 10), "deregistered_date": dt.date(2024, 5, 15)},
    ]}


# --- references --------------------------------------------------------------------------


def test_parse_ref_forms():
    r = parse_ref("'填报'!$D$12")
    assert (r.sheet, r.row1, r.col1, r.is_cell) == ("填报", 12, 4, True)
    r = parse_ref("台账!$F$3:$F$502")
    assert (r.sheet, r.row1, r.row2, r.col1, r.is_column) == ("台账", 3, 502, 6, True)
    assert parse_ref("'It''s 表'!B2").sheet == "It's 表"
    assert parse_ref("=Sheet1!$AB$7").col1 == 28
    for bad in ("#REF!", "'填报'!#REF!", "[1]Sheet!$A$1", "Sheet!$A$1,Sheet!$B$2", "$A$1", "Sheet!$F:$F", "42"):
        assert parse_ref(bad) is None, bad


def test_serial_dates_1900_and_1904():
    assert serial_date(38548.0, False) == dt.date(2005, 7, 15)
    assert serial_date(61.0, False) == dt.date(1900, 3, 1)
    assert serial_date(60.0, False) is None  # 1900-02-29 never existed
    assert serial_date(0.0, True) == dt.date(1904, 1, 1)
    assert serial_date(38548.5, False) == dt.datetime(2005, 7, 15, 12, 0)


# --- reading a filled template -------------------------------------------------------------


def test_full_marks_round_trip_and_locations(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    pack, values, warnings = extract_facts(path)
    assert pack.hash == SHANXI.hash  # found from _meta in the repo's rules/
    assert values == convert_facts(SHANXI, full_marks_facts())
    assert warnings == []
    r = read_workbook(path)
    assert r.submission.unit == "太原市"
    assert r.meta["pack_id"] == "shanxi-2005" and r.meta["pack_hash"] == SHANXI.hash
    assert r.submission.where("weekly_reports_count") == f"{path} {cell_of(path, 'weekly_reports_count')}"


def test_exact_decimals_bools_and_dates(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    set_cells(path, {"three_simultaneous_rate": 10.1, "key_enterprise_compliance_rate": 93.5,
                     "gov_special_funding_wan": 2.675, "supervised_cases_count": 16.0,
                     "leading_group_established": "否", "phase_meetings_held": " 是 "})
    set_cells(path, {"survey_report_date": 38548}, fmt="General")  # a date typed as a serial number
    _, v, _ = extract_facts(path)
    # the decimal the user typed, not the binary float (2.675 is 2.67499999… as a float)
    assert v["three_simultaneous_rate"] == Decimal("10.1")
    assert v["key_enterprise_compliance_rate"] == Decimal("93.5")
    assert v["gov_special_funding_wan"] == Decimal("2.675")
    assert v["supervised_cases_count"] == Decimal(16)
    assert v["leading_group_established"] is False and v["phase_meetings_held"] is True
    assert v["survey_report_date"] == dt.date(2005, 7, 15)


def test_numbers_and_dates_typed_as_text_are_invalid_as_in_the_formulas(tmp_path):
    """The input contract (docs/input-contract.md): text is never a number or a date."""
    path = filled(tmp_path, full_marks_facts())
    set_cells(path, {"weekly_reports_count": " 18", "complaint_handling_rate": "95.5%",
                     "survey_report_date": "2005年7月14日", "wwtp_report_date": "2005.7.20"}, fmt="@")
    with pytest.raises(FactsError) as exc:
        extract_facts(path)
    text = problems_text(exc.value.problems)
    cell = cell_of(path, "weekly_reports_count")
    assert f"{path} {cell} 每周工作进度上报期数（{cell}）为“ 18”，应为整数（不小于 0）" in text
    assert "群众环境污染投诉查处率" in text and "为“95.5%”，应为 0–100 之间的百分数" in text
    assert "为“2005年7月14日”，应为日期" in text and "为“2005.7.20”，应为日期" in text
    assert len(exc.value.problems) == 4


def test_blank_cells_are_blank(tmp_path):
    path = filled(tmp_path, {**full_marks_facts(), "weekly_reports_count": None, "survey_report_date": None})
    set_cells(path, {"collective_petitions": "   "})
    _, v, _ = extract_facts(path)
    assert v["weekly_reports_count"] is None and v["survey_report_date"] is None
    assert v["collective_petitions"] is None


def test_bad_values_are_errors_naming_file_sheet_and_cell(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    set_cells(path, {"weekly_reports_count": "十八", "complaint_handling_rate": 120,
                     "supervision_standard_level": "四级", "leading_group_established": "有",
                     "annual_summary_date": dt.datetime(2005, 11, 1, 9, 30)})
    with pytest.raises(FactsError) as exc:
        extract_facts(path)
    text = problems_text(exc.value.problems)
    cell = cell_of(path, 'weekly_reports_count')
    assert f"error {path} {cell} 每周工作进度上报期数（{cell}）为“十八”，应为整数（不小于 0）" in text
    cell = cell_of(path, 'complaint_handling_rate')
    assert f"{cell} 群众环境污染投诉查处率（{cell}）为120，应为 0–100 之间的百分数" in text
    assert "环境监察机构标准化建设达标等级（" in text and "）为“四级”，应为以下之一：一级、二级、三级、未达标" in text
    assert "是否成立环保专项行动领导组（" in text and "）为“有”，应为 是 或 否" in text
    assert "为2005-11-01 09:30，应为日期" in text
    assert len(exc.value.problems) == 5


def test_formula_in_an_input_cell_is_not_trusted(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    cell = cell_of(path, "weekly_reports_count")  # 填报!D28 or wherever the builder put it
    coord = cell.split("!")[1]
    wb = openpyxl.load_workbook(path)
    sheet_index = wb.sheetnames.index(cell.split("!")[0]) + 1

    def with_cached_formula(xml: bytes) -> bytes:  # what Excel saves: the formula and its result
        import re
        pat = re.compile(rb'<c r="' + coord.encode() + rb'"([^>]*?)(/>|>.*?</c>)', re.S)
        new, n = pat.subn(b'<c r="' + coord.encode() + b'" t="n"><f>10+10</f><v>20</v></c>', xml, count=1)
        assert n == 1
        return new

    edit_zip(path, f"xl/worksheets/sheet{sheet_index}.xml", with_cached_formula)
    with pytest.raises(FactsError) as exc:
        extract_facts(path)
    (p,) = exc.value.problems
    assert p.loc == f"{path} {cell}" and "输入单元格中是公式" in p.msg


def test_renamed_sheet_still_reads(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    # Excel renames the sheet and rewrites every defined name that points at it
    edit_zip(path, "xl/workbook.xml",
             lambda x: x.replace('name="填报"'.encode(), 'name="数据 填报"'.encode())
             .replace("'填报'!".encode(), "'数据 填报'!".encode()).replace(">填报!".encode(), ">'数据 填报'!".encode()))
    pack, values, _ = extract_facts(path)
    assert values == convert_facts(SHANXI, full_marks_facts())
    assert read_workbook(path).submission.locs["weekly_reports_count"].startswith("数据 填报!")


def test_moved_rows_still_read(tmp_path):
    path = filled(tmp_path, full_marks_facts())

    def insert_rows(wb):  # three rows inserted at the top of 填报: cells and names move down
        ws, _, _ = name_target(wb, "weekly_reports_count")
        ws.move_range(f"A1:{openpyxl.utils.get_column_letter(ws.max_column)}{ws.max_row}", rows=3)
        for name, dn in list(wb.defined_names.items()):
            dests = list(dn.destinations)
            if len(dests) == 1 and dests[0][0] == ws.title:
                c1, r1, c2, r2 = range_boundaries(dests[0][1].replace("$", ""))
                a, b = openpyxl.utils.get_column_letter(c1), openpyxl.utils.get_column_letter(c2)
                rng = f"${a}${r1 + 3}" if (c1, r1) == (c2, r2) else f"${a}${r1 + 3}:${b}${r2 + 3}"
                dn.attr_text = f"'{ws.title}'!{rng}"

    before = cell_of(path, "weekly_reports_count")
    edit_book(path, insert_rows)
    after = cell_of(path, "weekly_reports_count")
    assert int(after.split("!D")[1]) == int(before.split("!D")[1]) + 3
    _, values, _ = extract_facts(path)
    assert values == convert_facts(SHANXI, full_marks_facts())


def test_ledger_reordered_columns_and_blank_rows(tmp_path):
    facts = ledger_facts()
    path = filled(tmp_path, facts, XINZHOU, unit="忻府区")

    def swap(wb):  # swap the 行业 and 入账日期 columns, names included; blank a row in between
        ws, _, c_ind = name_target(wb, "enterprises__industry")
        _, _, c_date = name_target(wb, "enterprises__listed_date")
        for r in range(3, 503):
            a, b = ws.cell(r, c_ind), ws.cell(r, c_date)
            a.value, b.value = b.value, a.value
            a.number_format, b.number_format = b.number_format, a.number_format
        for name, col in (("enterprises__industry", c_date), ("enterprises__listed_date", c_ind)):
            letter = openpyxl.utils.get_column_letter(col)
            wb.defined_names[name].attr_text = f"'台账'!${letter}$3:${letter}$502"
        ws.insert_rows(4)  # an empty row between the first and second entry (names not moved:
        # the inserted row shifts data down inside the named range, as in Excel)

    edit_book(path, swap)
    _, values, _ = extract_facts(path)
    assert values == convert_facts(XINZHOU, facts)
    r = read_workbook(path)
    assert r.submission.locs["enterprises[2].enterprise_name"].endswith("5")  # row 5 after the blank row 4


def test_rows_below_the_named_range_are_reported(tmp_path):
    path = filled(tmp_path, ledger_facts(), XINZHOU, unit="忻府区")

    def below(wb):
        ws, _, col = name_target(wb, "enterprises__enterprise_name")
        ws.cell(503, col).value = "丁水泥"
        ws.cell(505, col).value = "戊洗煤"

    edit_book(path, below)
    with pytest.raises(FactsError) as exc:
        extract_facts(path)
    (p,) = exc.value.problems
    assert p.loc.endswith("503") and "第503行起有 2 行数据在填报区域（第3–502行）之外，未被读取" in p.msg


def test_date1904_workbook(tmp_path):
    path = filled(tmp_path, full_marks_facts())

    def to_1904(wb):
        wb.epoch = CALENDAR_MAC_1904
        ws, row, col = name_target(wb, "survey_report_date")
        ws.cell(row, col).value = 37086  # 2005-07-15 in the 1904 system
        ws.cell(row, col).number_format = "General"

    edit_book(path, to_1904)
    _, v, _ = extract_facts(path)
    assert v["survey_report_date"] == dt.date(2005, 7, 15)


# --- which pack ----------------------------------------------------------------------------


def test_pack_from_custom_properties_when_meta_sheet_is_gone(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    edit_book(path, lambda wb: wb.remove(wb["_meta"]))
    pack, values, _ = extract_facts(path)
    assert pack.hash == SHANXI.hash and values == convert_facts(SHANXI, full_marks_facts())


def _set_meta(path: Path, **changes: str) -> None:
    def change(wb):
        ws = wb["_meta"]
        for row in ws.iter_rows(min_col=1, max_col=2):
            if row[0].value in changes:
                row[1].value = changes[row[0].value]
        wb.custom_doc_props.props = [p for p in wb.custom_doc_props.props
                                     if p.name.removeprefix("rubric_xl_") not in changes]
    edit_book(path, change)


def test_other_pack_version_is_an_error_naming_it(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    _set_meta(path, pack_hash="ab" * 32, pack_version="2005.0")
    r = read_workbook(path)
    (p,) = [p for p in r.problems if p.level == "error"]
    assert p.loc == f"{path} _meta"
    assert "由规则包 shanxi-2005 版本 2005.0（校验码 abababababab）生成" in p.msg
    assert f"与当前规则包 shanxi-2005 版本 2005.1（校验码 {SHANXI.short_hash}）不同" in p.msg


def test_unknown_pack(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    _set_meta(path, pack_id="nowhere-2030", pack_version="1")
    with pytest.raises(InputFileError) as exc:
        read_workbook(path)
    assert "未知的规则包 nowhere-2030（版本 1）" in str(exc.value) and "--rules" in str(exc.value)


def test_explicit_rules_of_another_pack(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    with pytest.raises(InputFileError) as exc:
        read_workbook(path, ROOT / "rules" / "xinzhou-2024.yaml")
    assert "此工作簿属于规则包 shanxi-2005，不是 --rules 指定的 xinzhou-2024" in str(exc.value)


def test_pack_found_in_current_folder_rules(tmp_path, monkeypatch):
    (tmp_path / "rules").mkdir()
    shutil.copy(ROOT / "rules" / "shanxi-2005.yaml", tmp_path / "rules" / "本地.yaml")
    path = filled(tmp_path, full_marks_facts())
    monkeypatch.chdir(tmp_path)
    r = read_workbook(path)
    assert Path(r.pack.source).resolve() == (tmp_path / "rules" / "本地.yaml").resolve()


# --- files that are not submissions ----------------------------------------------------------


def _read_error(path: Path) -> str:
    with pytest.raises(InputFileError) as exc:
        read_workbook(path)
    (p,) = exc.value.problems
    assert p.loc == str(path)
    return p.msg


def test_not_a_workbook_corrupt_empty(tmp_path):
    (tmp_path / "a.xlsx").write_text("填报说明", encoding="utf-8")
    assert "不是 Excel 工作簿" in _read_error(tmp_path / "a.xlsx")
    (tmp_path / "b.xlsx").write_bytes(b"")
    assert "文件为空" in _read_error(tmp_path / "b.xlsx")
    good = filled(tmp_path, full_marks_facts()).read_bytes()
    (tmp_path / "c.xlsx").write_bytes(good[: len(good) // 2])  # a truncated download
    assert "文件已损坏" in _read_error(tmp_path / "c.xlsx")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    (tmp_path / "d.xlsx").write_bytes(z.getvalue())
    assert "没有 xl/workbook.xml" in _read_error(tmp_path / "d.xlsx")
    assert "找不到此文件" in _read_error(tmp_path / "missing.xlsx")


def test_legacy_xls_says_save_as_xlsx(tmp_path):
    src = filled(tmp_path, full_marks_facts())
    profile = tmp_path / "lo"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                    "--convert-to", "xls:MS Excel 97", "--outdir", str(tmp_path / "xls"), str(src)],
                   check=True, capture_output=True, timeout=180, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    xls = tmp_path / "xls" / "县甲.xls"
    assert xls.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    msg = _read_error(xls)
    assert "旧版 Excel 97-2003（.xls）" in msg and "另存为" in msg and ".xlsx" in msg


def test_encrypted_workbook(tmp_path):
    # An encrypted .xlsx is an OLE compound file holding an EncryptedPackage stream
    # (MS-OFFCRYPTO); a header plus that directory entry name is what we sniff.
    entry = "EncryptedPackage".encode("utf-16-le").ljust(64, b"\0")
    (tmp_path / "e.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + entry + bytes(448))
    assert "工作簿已加密" in _read_error(tmp_path / "e.xlsx")


def test_plain_workbook_is_not_a_template(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "自己做的表"
    wb.save(tmp_path / "own.xlsx")
    assert "不是由 rubric-xl 模板生成的工作簿" in _read_error(tmp_path / "own.xlsx")


def test_template_without_meta_and_properties_needs_rules(tmp_path):
    path = filled(tmp_path, full_marks_facts())

    def strip(wb):
        wb.remove(wb["_meta"])
        wb.custom_doc_props.props = []
    edit_book(path, strip)
    assert "缺少 _meta 工作表" in _read_error(path)
    r = read_workbook(path, ROOT / "rules" / "shanxi-2005.yaml")  # the auditor names the pack
    assert [p.level for p in r.problems] == ["warning"]


def test_deleted_input_cell_is_reported(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    edit_book(path, lambda wb: setattr(wb.defined_names["weekly_reports_count"], "attr_text", "'填报'!#REF!"))
    with pytest.raises(FactsError) as exc:
        extract_facts(path)
    (p,) = exc.value.problems
    assert p.loc == f"{path}: weekly_reports_count" and "引用无效" in p.msg


def test_reading_never_modifies_the_file(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    before, mtime = sha256(path), path.stat().st_mtime_ns
    extract_facts(path)
    read_workbook(path)
    assert sha256(path) == before and path.stat().st_mtime_ns == mtime


def test_unknown_template_version_is_a_warning(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    _set_meta(path, template_version="9")
    r = read_workbook(path)
    (p,) = r.problems
    assert p.level == "warning" and "模板版本 9 不是本程序支持的版本" in p.msg


def test_formula_cells_found_in_any_attribute_order():
    from rubric_xl.reader._scan import scan_sheet
    usual = (b'<worksheet><sheetData><row r="12"><c r="C12" t="s"><v>0</v></c><c r="D12" s="1"><f>10+10</f><v>20</v></c>'
             b'<c r="E12" s="2"/></row><row r="13"><c r="AB13"><f t="shared" si="0"/><v>1</v></c></row></sheetData></worksheet>')
    assert scan_sheet(usual).formulas == {(12, 4), (13, 28)}
    odd = (b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
           b'<x:row r="3"><x:c s="1" r="E3" t="n"><x:f>1+1</x:f><x:v>2</x:v></x:c>'
           b'<x:c r="F3"><x:v>5</x:v></x:c><x:c r="G3"><x:f>A1</x:f></x:c></x:row></x:sheetData></x:worksheet>')
    assert scan_sheet(odd).formulas == {(3, 5), (3, 7)}
    assert scan_sheet(b'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>').formulas == set()


def test_where_inputs_are_is_found_once_per_workbook_xml_and_never_leaks(tmp_path):
    """Where each input is read from is decided by workbook.xml alone and found
    once for every workbook that shares it byte for byte; a workbook whose
    names differ gets its own answer, before and after the others."""
    from rubric_xl.reader import read_workbook
    good = filled(tmp_path, full_marks_facts(), name="好.xlsx")
    twin = filled(tmp_path, {**full_marks_facts(), "weekly_reports_count": 3}, name="同.xlsx")
    moved = filled(tmp_path, full_marks_facts(), name="改.xlsx")

    def move(wb):  # weekly_reports_count's name now points at another input's cell
        wb.defined_names["weekly_reports_count"].attr_text = wb.defined_names["leading_group_established"].attr_text
    edit_book(moved, move)
    first = read_workbook(good)
    assert not [p for p in first.problems if p.level == "error"]
    same = read_workbook(twin)
    assert same.book.derived is first.book.derived  # the same workbook.xml: decided once
    assert same.submission.raw["weekly_reports_count"] == 3
    other = read_workbook(moved)
    assert other.book.derived is not first.book.derived
    said = [p.msg for p in other.problems if "weekly_reports_count" in p.msg]
    assert said and "指向同一位置" in said[0] and other.submission.raw["weekly_reports_count"] is None
    again = read_workbook(good)
    assert again.submission.raw == first.submission.raw and again.problems == first.problems
