"""Red-team of the s3 changes (several tables, the 百日清零 pack, the grown rule
language, the one-pass reader, coverage, terminal text): hostile input through
the real CLI and the reader, each asserting the exact outcome.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import hostile
from conftest import full_marks_facts
from hostile import INPUT_FACT
from rubric_xl.cli import cli
from test_reader import filled, sha256


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    return filled(tmp_path_factory.mktemp("good"), full_marks_facts()).read_bytes()


def _run(args: list[str]) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, args)
    assert "Traceback" not in res.stdout + res.stderr and "内部错误" not in res.stdout + res.stderr
    return res.exit_code, res.stdout, res.stderr


def _score_json(path: Path) -> tuple[int, dict]:
    before = sha256(path)
    code, out, _ = _run(["score", str(path), "--format", "json"])
    assert sha256(path) == before
    return code, json.loads(out)


def _with_input_cell(good: bytes, cell_xml: bytes) -> bytes:
    return hostile.input_sheet_edit(
        good, lambda xml, ref: hostile.replace_cell(xml, ref, cell_xml.replace(b"REF", ref.encode())))


# --- the fast value decoder against calamine (and Excel) ---------------------------------------
#
# Excel writes a character it cannot put in XML as `_xHHHH_` (ST_Xstring) and
# shows the character; calamine decodes it, and trims the text of an inline
# string that has no xml:space="preserve".  The fast decoder did neither: a
# cell Excel shows as 3 read as "_x0033_", and "  " (blank to Excel and
# calamine) read as text.

@pytest.mark.parametrize("cell", [
    b'<c r="REF" t="inlineStr"><is><t>_x0033_</t></is></c>',
    b'<c r="REF" t="str"><v>_x0033_</v></c>',
    b'<c r="REF" t="inlineStr"><is><t>  </t></is></c>',
    b'<c r="REF" t="inlineStr"><is><t>&#32;3&#10;</t></is></c>',
])
def test_fast_reader_reads_text_cells_as_calamine(good, tmp_path, monkeypatch, cell):
    from rubric_xl.reader import _container
    from rubric_xl.reader._values import UNSURE
    path = tmp_path / "县甲.xlsx"
    path.write_bytes(_with_input_cell(good, cell))
    code, ours = _score_json(path)
    monkeypatch.setattr(_container, "decode", lambda *a: UNSURE)  # the reference: calamine reads every cell
    ref_code, theirs = _score_json(path)
    assert (code, ours) == (ref_code, theirs)


def test_an_escaped_digit_is_named_as_excel_shows_it(good, tmp_path):
    path = tmp_path / "县甲.xlsx"
    path.write_bytes(_with_input_cell(good, b'<c r="REF" t="inlineStr"><is><t>_x0033_</t></is></c>'))
    code, out = _score_json(path)
    (f,) = out["files"]
    assert code == 1 and [p["msg"] for p in f["problems"]] == ["每周工作进度上报期数（填报!D28）为“3”，应为整数（不小于 0）"]
    assert f["problems"][0]["loc"].endswith("县甲.xlsx 填报!D28")


@pytest.mark.parametrize("cell", [
    '<c r="A1" t="inlineStr"><is><t> a </t></is></c>', '<c r="A1" t="inlineStr"><is><t>\ta</t></is></c>',
    '<c r="A1" t="inlineStr"><is><t>&#32;&#32;</t></is></c>', '<c r="A1" t="inlineStr"><is><t>a&#10;</t></is></c>',
    '<c r="A1" t="inlineStr"><is><t xml:space="preserve"> a </t></is></c>',
    '<c r="A1" t="str"><v>_x00e9_</v></c>', '<c r="A1" t="str"><v>_x005F_x0041_</v></c>',
    '<c r="A1" t="str"><v>x_x0009_y</v></c>', '<c r="A1" t="str"><v>_x12_</v></c>', '<c r="A1" t="str"><v> a </v></c>',
])
def test_decoded_text_is_calamines(cell):
    import io

    import openpyxl
    import python_calamine as pc

    from rubric_xl.reader._container import open_bytes
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    # in a row, as Excel writes it (a cell outside any row is left to calamine: checked below)
    data = hostile.add_sheet(out.getvalue(), "表", "visible", hostile.sheet_xml(b'<row r="1">' + cell.encode() + b"</row>"))
    book = open_bytes(data, "r.xlsx", ("表",))
    book.grid("表")
    ref = pc.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("表").to_python()
    mine = book._values.get("表")
    if mine is not None:  # decoded without calamine: must be calamine's value
        assert mine.get((1, 1), "") == ref[0][0]
    else:
        assert "_x" in cell or "preserve" not in cell  # only the spellings calamine reads differently are left to it
    rowless = hostile.add_sheet(out.getvalue(), "表", "visible", hostile.sheet_xml(cell.encode()))
    book = open_bytes(rowless, "r.xlsx", ("表",))
    assert book.value("表", 1, 1) == pc.CalamineWorkbook.from_filelike(io.BytesIO(rowless)).get_sheet_by_name(
        "表").to_python()[0][0]


# --- a pack author: parameters ---------------------------------------------------------------

QINGLING = Path(__file__).resolve().parents[1] / "rules" / "shanxi-2019-qingling.yaml"


def _pack_with(tmp_path: Path, old: str, new: str) -> Path:
    text = QINGLING.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "p.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("value", ["'NaN'", "'-Infinity'", "'sNaN'", "'inf'"])
def test_a_parameter_that_is_not_finite_is_named_in_chinese(tmp_path, value):
    path = _pack_with(tmp_path, "value: 107}", f"value: {value}}}")
    code, out, err = _run(["rules", "check", str(path)])
    assert code == 1
    text = out + err
    assert f"{path}:37 settings.parameters[0].value: 应为有限的数值（不能是 NaN 或无穷大）" in text
    assert "Input should" not in text


# --- a city submitting twice: the province's roll-up and ranking ---------------------------------
#
# Two files of one reporting body were both added in: 太原市 counted 8 tasks
# instead of 4, its lagging areas listed twice and no 序时进度 — a silently
# wrong ranking.  Now both copies get an error naming the other and neither is
# in the roll-up.

def _qingling_folder(tmp_path: Path, copies: dict[str, str]) -> Path:
    import shutil

    import test_pack_qingling as q
    from rubric_xl.rules import load_pack
    from rubric_xl.workbook import build_template, fill_workbook
    pack = load_pack(q.PACK)
    folder = tmp_path / "prov"
    folder.mkdir()
    for city in ("太原市", "大同市"):
        wb, _ = build_template(pack, unit=city)
        fill_workbook(wb, pack, q.province_facts(city))
        wb.save(folder / f"{city}.xlsx")
    for copy, of in copies.items():
        (folder / copy).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / of, folder / copy)
    return folder


@pytest.mark.parametrize("copy", ["太原市（重报）.xlsx", "sub/太原市.xlsx"])
def test_a_city_submitting_twice_is_not_counted_twice(tmp_path, copy):
    import test_pack_qingling as q
    folder = _qingling_folder(tmp_path, {copy: "太原市.xlsx"})
    before = {p: sha256(p) for p in folder.rglob("*.xlsx")}
    code, out, _ = _run(["score", str(folder), "--rules", str(q.PACK), "--format", "json"])
    assert {p: sha256(p) for p in folder.rglob("*.xlsx")} == before
    data = json.loads(out)
    by_file = {Path(f["file"]).relative_to(folder).as_posix(): f for f in data["files"]}
    a, b = "太原市.xlsx", Path(copy).as_posix()
    want = "填报单位“太原市”提交了 2 份台账（{}、{}），均未计入汇总和排名；请只保留一份后重新评分"
    listed = sorted([str(folder / a), str(folder / b)])
    for name in (a, b):
        f = by_file[name]
        assert f["status"] == "error"
        assert [p["msg"] for p in f["problems"]] == [want.format(*listed)]
    assert by_file["大同市.xlsx"]["status"] == "ok"
    assert code == 1
    (combined,) = data["combined"]
    assert combined["files"] == [str(folder / "大同市.xlsx")]


# --- file names that are not UTF-8 (a byte 0x9B is an 8-bit CSI) -------------------------------
#
# A name with an undecodable byte reached the terminal raw (0x9B: a C1 control
# sequence introducer on 8-bit terminals; also invalid UTF-8 in the JSON), and
# `-o report.json` failed with 内部错误：UnicodeEncodeError (exit 3).

def _cli(args: list[str]) -> tuple[int, bytes, bytes]:
    import subprocess
    import sys
    exe = Path(sys.executable).parent / "rubric-xl"
    p = subprocess.run([str(exe), *args], capture_output=True, timeout=120,
                       env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
    assert b"Traceback" not in p.stdout + p.stderr and "内部错误".encode() not in p.stdout + p.stderr
    return p.returncode, p.stdout, p.stderr


@pytest.mark.parametrize("raw", [b"\x9b2J", b"\xff\xfe", b"\xe5\x8e"])  # C1 CSI byte, not UTF-8, a cut character
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_an_undecodable_file_name_is_shown_escaped(tmp_path, raw, fmt):
    import os
    folder = tmp_path / "in"
    folder.mkdir()
    bad = os.fsencode(folder) + b"/" + "县".encode() + raw + b".xlsx"
    with open(bad, "wb") as fh:
        fh.write(b"PK\x03\x04 truncated")
    shown = "县" + "".join("\\u%04x" % ord(c) if c >= "\ud800" else c
                          for c in raw.decode("utf-8", "surrogateescape")) + ".xlsx"
    code, out, err = _cli(["score", str(folder), "--format", fmt])
    assert code == 1
    assert shown in out.decode("utf-8") and err.decode("utf-8")  # valid UTF-8: never the raw byte
    if fmt == "json":
        (f,) = json.loads(out)["files"]
        assert f["file"] == str(folder) + "/县" + raw.decode("utf-8", "surrogateescape") + ".xlsx"
        assert f["status"] == "failed"
    report = tmp_path / f"report.{fmt}"
    code, out, err = _cli(["score", str(folder), "--format", fmt, "-o", str(report)])
    assert code == 1
    text = report.read_bytes().decode("utf-8")
    assert shown in text
    with open(bad, "rb") as fh:
        assert fh.read() == b"PK\x03\x04 truncated"


# --- two tables: every column of one moved onto the other table's sheet --------------------------
#
# One name pointing at the other table's sheet is refused (test_reader_tables);
# all of a table's names moved together (empty columns of the other sheet)
# were followed silently: the rows on the table's own sheet were dropped
# without a word.

@pytest.fixture(scope="module")
def two_tables(tmp_path_factory):
    import yaml

    import test_reader_tables as t
    from rubric_xl import load_pack
    spec = yaml.safe_load((t.ROOT / "rules" / "xinzhou-2024.yaml").read_text(encoding="utf-8"))
    spec["id"] = "two-tables"
    spec["facts"].append(t.INSPECTIONS)
    path = tmp_path_factory.mktemp("pack") / "two-tables.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return load_pack(path)


def _moved(two_tables, table: str, onto: str, rename_own: bool):
    import io

    import openpyxl
    from openpyxl.workbook.defined_name import DefinedName

    import test_reader_tables as t
    from rubric_xl.conventions import column_name
    from rubric_xl.reader._container import open_bytes
    from rubric_xl.reader._submission import read_submission
    data = t._book(two_tables, {"enterprises": t.ENTERPRISES, "inspections": t.VISITS})
    wb = openpyxl.load_workbook(io.BytesIO(data))
    fact = next(f for f in two_tables.model.facts if f.id == table)
    if rename_own:
        wb[fact.label].title = "改名"
    for i, col in enumerate(fact.columns):
        letter = openpyxl.utils.get_column_letter(40 + i)
        name = column_name(table, col.id)
        wb.defined_names[name] = DefinedName(name, attr_text=f"'{onto}'!${letter}${t.FIRST}:${letter}${t.LAST}")
    out = io.BytesIO()
    wb.save(out)
    sub = read_submission(open_bytes(out.getvalue(), "两表.xlsx"), two_tables)
    assert sub.raw[table] == [] and sub.raw[next(f.id for f in two_tables.model.facts
                                                 if f.type == "table" and f.id != table)]
    return fact, [(p.loc, p.msg) for p in sub.problems if p.level == "error"]


@pytest.mark.parametrize("table,onto", [("inspections", "散乱污企业台账"), ("enterprises", "检查记录"),
                                        ("inspections", "填报")])
def test_a_table_moved_onto_another_sheet_is_refused(two_tables, table, onto):
    import test_reader_tables as t
    from rubric_xl.conventions import column_name
    fact, errors = _moved(two_tables, table, onto, rename_own=False)
    assert errors == [
        (f"两表.xlsx: {column_name(table, c.id)}",
         f"名称 {column_name(table, c.id)}（{fact.label}的“{c.label}”列）应指向“{fact.label}”工作表，"
         f"实际指向 {onto}!{__import__('openpyxl').utils.get_column_letter(40 + i)}{t.FIRST}:"
         f"{__import__('openpyxl').utils.get_column_letter(40 + i)}{t.LAST}；模板可能被改动，请用原模板重新填报")
        for i, c in enumerate(fact.columns)]


@pytest.mark.parametrize("table,onto", [("inspections", "散乱污企业台账"), ("enterprises", "检查记录")])
def test_a_renamed_table_sheet_moved_onto_the_other_tables_sheet_is_refused(two_tables, table, onto):
    from rubric_xl.conventions import column_name
    fact, errors = _moved(two_tables, table, onto, rename_own=True)
    other = next(f.label for f in two_tables.model.facts if f.type == "table" and f.id != table)
    assert errors == [
        (f"两表.xlsx: {column_name(table, c.id)}",
         f"名称 {column_name(table, c.id)}（{fact.label}的“{c.label}”列）指向“{onto}”工作表，那是{other}的工作表；"
         f"{fact.label}应在自己的工作表（如“{fact.label}”）中，模板可能被改动，请用原模板重新填报")
        for c in fact.columns]


# --- a case file with control characters in a case name: rules test (--coverage) -----------------
#
# The failing case's name went to stderr raw (✗ then ESC [2J clears the
# screen, U+009B is an 8-bit CSI, U+202E reverses the line), and the JSON
# report printed U+009B and U+202E raw.

HOSTILE_NAME = "[/red][bold]\x1b[2J\x9b31m\u202e坏名字"
SHOWN_NAME = "[/red][bold]\\u001b[2J\\u009b31m\\u202e坏名字"


@pytest.mark.parametrize("args", [[], ["--coverage", "--fail-under", "0"], ["--coverage", "--format", "json"]])
def test_a_case_name_with_control_characters_is_shown_escaped(tmp_path, args):
    root = Path(__file__).resolve().parents[1]
    (tmp_path / "cases").mkdir()
    (tmp_path / QINGLING.name).write_bytes(QINGLING.read_bytes())
    cases = (root / "rules" / "cases" / QINGLING.name).read_text(encoding="utf-8")
    first = "name: 五种状态各一行（反弹优先于已销号）；其余九个领域列为无任务"
    assert first in cases and "{row: 1, key: 推进中任务, status: 推进中" in cases
    cases = cases.replace(first, "name: " + json.dumps(HOSTILE_NAME), 1)
    cases = cases.replace("{row: 1, key: 推进中任务, status: 推进中", "{row: 1, key: 推进中任务, status: 已销号", 1)
    (tmp_path / "cases" / QINGLING.name).write_text(cases, encoding="utf-8")
    code, out, err = _run(["rules", "test", *args, str(tmp_path / QINGLING.name)])
    assert code == 1
    text = out + err
    assert not any(ch in text for ch in "\x1b\x9b\u202e")
    if "json" in args:
        assert SHOWN_NAME in out and json.loads(out)["packs"][0]["failures"][0]["case"] == HOSTILE_NAME
    else:
        assert f"✗ {SHOWN_NAME}" in err


# --- extract: a warning quoting a hostile document property --------------------------------------
#
# `extract` printed its warnings raw: a custom property rubric_xl_pack_hash set
# to U+009B 31m … (quoted by the _meta mismatch warning) reached the terminal.

@pytest.mark.parametrize("value", ["&#x7f;&#x85;&#x2066;换行", "&#x9b;31m&#x202e;倒序"])
def test_extract_warnings_are_shown_escaped(good, tmp_path, value):
    import re
    data = hostile.change(good, "docProps/custom.xml", lambda b: re.sub(
        rb'(name="rubric_xl_pack_hash"[^>]*><vt:lpwstr>)[^<]*', lambda m: m.group(1) + value.encode(), b, count=1))
    path = tmp_path / "县甲.xlsx"
    path.write_bytes(data)
    before = sha256(path)
    code, out, err = _run(["extract", str(path)])
    assert sha256(path) == before
    assert code == 0, err
    assert "警告：" in err and "不一致，以 _meta 为准" in err
    assert not any(ch in err for ch in "\x7f\x85\u2066\x9b\u202e")
    shown = re.sub(r"&#x([0-9a-f]+);", lambda m: "\\u%04x" % int(m.group(1), 16), value)
    assert f"文档属性 rubric_xl_pack_hash（{shown}）" in err


# --- rules check: a pack file named with control characters ---------------------------------------

@pytest.mark.parametrize("name", ["p\x1b[2J.yaml", "p\u202e\x9b.yaml"])
def test_rules_check_shows_a_hostile_pack_path_escaped(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(QINGLING.read_bytes())
    code, out, err = _run(["rules", "check", str(path)])
    assert code == 0
    shown = "".join("\\u%04x" % ord(c) if c in "\x1b\u202e\x9b" else c for c in str(path))
    assert out.startswith(f"✓ {shown}：shanxi-2019-qingling 版本 2019.1，台账“清零任务台账”")
    assert not any(ch in out + err for ch in "\x1b\u202e\x9b")


def test_a_repeated_citys_json_line_is_made_again_with_its_new_status(tmp_path):
    """The batch JSON line made in the worker is patched where the repeated
    unit changes it (status, problems): the very text of the line made anew."""
    import test_pack_qingling as q
    from rubric_xl.audit import score_workbooks
    from rubric_xl.audit._reports import file_json
    folder = _qingling_folder(tmp_path, {"太原市（重报）.xlsx": "太原市.xlsx"})
    results = score_workbooks([str(folder)], rules=str(q.PACK), jobs=2, encode_json=True)
    assert sorted(r.status for r in results) == ["error", "error", "ok"]
    for r in results:
        assert r.encoded is not None and r.encoded == file_json(r)
        assert json.loads(r.encoded)["status"] == r.status
