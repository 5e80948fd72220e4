"""Red-team of issue 8's fixes: the spellings the first round did not test.

Each test is one attack; it reuses the corpus plumbing of tests/hostile.py and
asserts the real outcome (status, location, Chinese message, input unchanged).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import hostile
from conftest import full_marks_facts
from hostile import INPUT_FACT, change, name_cell, parts, rezip, sheet_part
from rubric_xl.audit import score_workbooks
from test_reader import filled, sha256


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    return filled(tmp_path_factory.mktemp("good"), full_marks_facts()).read_bytes()


def _score(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    before = sha256(path)
    (res,) = score_workbooks([str(path)], jobs=1, timeout=60)
    assert sha256(path) == before
    assert all("内部错误" not in p.msg and "Traceback" not in p.msg for p in res.problems)
    return path, res


def _with_formula(xml: bytes, cell: str) -> bytes:
    return hostile.replace_cell(xml, cell, b'<c r="' + cell.encode() + b'"><f>3+4</f><v>7</v></c>')


# --- attributes calamine reads raw (no entity decoding) ---------------------------------------------
#
# calamine takes a relationship's Id and Target, a <sheet>'s r:id and state and
# <workbookPr date1904> as the raw bytes of the attribute; ElementTree decodes
# character references.  `worksheets/s&#49;.xml` is `worksheets/s1.xml` to the
# container check but a part literally named `s&#49;.xml` to calamine.


def _shadow(good: bytes, spelling: str) -> bytes:
    """填报's relationship target spelled with a character reference: the checked
    part is a clean copy, the part calamine reads holds a formula, and that part is
    scanned, as a hidden sheet another defined name points at."""
    sheet, cell = name_cell(good, INPUT_FACT)
    files = parts(good)
    part = sheet_part(good, sheet)
    clean = files[part]
    folder, _, _ = part.rpartition("/")
    raw_target, decoded, literal = {
        "char_ref": ("shadow&#49;.xml", "shadow1.xml", "shadow&#49;.xml"),
        "hex_ref": ("shadow&#x31;.xml", "shadow1.xml", "shadow&#x31;.xml"),
    }[spelling]
    files[f"{folder}/{decoded}"] = clean
    files[f"{folder}/{literal}"] = _with_formula(clean, cell)
    rels = files["xl/_rels/workbook.xml.rels"].decode()
    rid = re.search(r'<sheet [^>]*name="' + sheet + r'"[^>]*r:id="([^"]+)"', files["xl/workbook.xml"].decode()).group(1)
    rel = re.search(r'<Relationship [^>]*Id="' + rid + r'"[^>]*>', rels).group(0)
    rels = rels.replace(rel, re.sub(r'Target="[^"]+"', 'Target="/' + folder + "/" + raw_target + '"', rel))
    rels = rels.replace("</Relationships>", '<Relationship Id="rId99" Type="' + hostile.WORKSHEET_TYPE
                        + '" Target="/' + folder + "/" + literal.replace("&", "&amp;") + '"/></Relationships>')
    files["xl/_rels/workbook.xml.rels"] = rels.encode()
    files["xl/workbook.xml"] = files["xl/workbook.xml"].replace(
        b"</sheets>", '<sheet name="影子" sheetId="99" state="veryHidden" r:id="rId99"/></sheets>'.encode(), 1)
    files["xl/workbook.xml"] = files["xl/workbook.xml"].replace(
        b"</definedNames>", "<definedName name=\"影子名\">'影子'!$A$1</definedName></definedNames>".encode(), 1)
    return rezip(files)


@pytest.mark.parametrize("spelling", ["char_ref", "hex_ref"])
def test_a_character_reference_in_a_sheet_target_cannot_hide_a_formula(good, tmp_path, spelling):
    path, res = _score(tmp_path, f"shadow_{spelling}.xlsx", _shadow(good, spelling))
    assert res.status == "failed", (res.status, res.problems)
    assert any(p.loc == str(path) and "字符引用" in p.msg for p in res.problems), res.problems


def _minimal_book() -> bytes:
    import io
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.title = "R&D"  # a sheet name with "&": written as R&amp;D, and fine
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("part, old, new", [
    ("xl/_rels/workbook.xml.rels", b'Id="rId1"', b'Id="rId&#49;"'),
    ("xl/_rels/workbook.xml.rels", b"/relationships/worksheet", b"/relationships&#47;worksheet"),
    ("xl/workbook.xml", b'r:id="rId1"', b'r:id="rId&#x31;"'),
    ("xl/workbook.xml", b'state="visible"', b'state="&#118;isible"'),
    ("xl/workbook.xml", b"<workbookPr", b'<workbookPr date1904="&#49;"'),  # 1904 here, 1900 in calamine
    ("_rels/.rels", b"xl/workbook.xml", b"xl/workbook&#46;xml"),
])
def test_references_in_attributes_calamine_reads_as_written_are_refused(part, old, new):
    from rubric_xl.errors import InputFileError
    from rubric_xl.reader._container import open_bytes
    data = _minimal_book()
    assert open_bytes(data, "x.xlsx").sheet("R&D") is not None  # "&amp;" where calamine decodes it is fine
    with pytest.raises(InputFileError) as exc:
        open_bytes(change(data, part, lambda b: b.replace(old, new, 1)), "x.xlsx")
    (problem,) = exc.value.problems
    assert problem.loc == "x.xlsx" and "字符引用" in problem.msg and part in problem.msg, problem


# --- the 填报单位 fact asked once, on 基本信息 --------------------------------------------------------
#
# Found while red-teaming: "names confined to their template sheet" refused the
# unit fact the template itself puts on 基本信息 (it shares info_unit's cell), so
# every good workbook of a pack with a 填报单位 fact failed.  Only that cell is
# allowed; the same name pointed anywhere else off 填报 is still an error.


def _ledger(tmp_path: Path) -> Path:
    from test_reader import XINZHOU, ledger_facts
    return filled(tmp_path, ledger_facts(), XINZHOU, unit="忻府区")


def test_the_unit_fact_on_the_info_sheet_is_read(tmp_path):
    path = _ledger(tmp_path)
    assert name_cell(path.read_bytes(), "reporting_body") == name_cell(path.read_bytes(), "info_unit")
    (res,) = score_workbooks([str(path)])
    assert res.status == "ok" and res.problems == [], res.problems
    assert res.unit == "忻府区"


@pytest.mark.parametrize("target, message", [
    ("'基本信息'!$C$3", "应指向“填报”工作表"),  # another cell of 基本信息
    ("'_meta'!$B$2", "应指向“填报”工作表"),
])
def test_the_unit_fact_elsewhere_is_still_refused(tmp_path, target, message):
    path = _ledger(tmp_path)
    path.write_bytes(hostile.set_name(path.read_bytes(), "reporting_body", target))
    (res,) = score_workbooks([str(path)])
    assert res.status == "failed"  # no reporting body: the ledger cannot be grouped
    assert any(p.loc == f"{path}: reporting_body" and message in p.msg for p in res.problems), res.problems


def test_info_unit_moved_to_a_hidden_sheet_does_not_carry_the_unit_fact(tmp_path):
    path = _ledger(tmp_path)
    data = hostile.set_name(path.read_bytes(), "info_unit", "'_meta'!$B$2")
    path.write_bytes(hostile.set_name(data, "reporting_body", "'_meta'!$B$2"))
    (res,) = score_workbooks([str(path)])
    assert res.status == "failed"
    assert any(p.loc == f"{path}: reporting_body" and "应指向“填报”工作表" in p.msg for p in res.problems), res.problems


# --- a named pipe as a text input ------------------------------------------------------------------
#
# The reader refused a FIFO workbook, but a facts file, pack, unit list or
# template given as a FIFO nobody writes to hung the command in open() forever.


def _fifo(tmp_path: Path, name: str) -> Path:
    import os
    path = tmp_path / name
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("args, name", [
    (("score", "--rules", "{SHANXI}", "--facts", "{fifo}"), "facts.json"),
    (("score", "--rules", "{SHANXI}", "--facts", "{fifo}"), "facts.yaml"),
    (("score", "--rules", "{fifo}", "--facts", "{FULL}"), "pack.yaml"),
    (("rules", "check", "{fifo}"), "pack.yml"),
    (("template", "distribute", "--rules", "{SHANXI}", "--units", "{fifo}", "-o", "{out}"), "units.txt"),
    (("template", "fill", "{fifo}", "--facts", "{FULL}", "-o", "{out}/x.xlsx"), "template.xlsx"),
])
def test_a_fifo_nobody_writes_to_is_an_error_not_a_hang(tmp_path, args, name):
    import stat
    from test_hostile_io import FULL, SHANXI, cli
    fifo = _fifo(tmp_path, name)
    out = tmp_path / "out"
    r = cli(*(a.format(SHANXI=SHANXI, FULL=FULL, fifo=fifo, out=out) for a in args))
    assert r.code == 1 and r.seconds < 60, r.text
    assert "命名管道（FIFO）" in r.text and str(fifo) in r.text, r.text
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_fifo_with_a_writer_is_read(tmp_path):
    import threading
    from test_hostile_io import FULL, SHANXI, cli
    fifo = _fifo(tmp_path, "facts.yaml")
    def write() -> None:
        import time
        time.sleep(1.5)  # the writer comes after the command opened the pipe
        fifo.write_bytes(FULL.read_bytes())
    writer = threading.Thread(target=write)
    writer.start()
    r = cli("score", "--rules", SHANXI, "--facts", fifo)
    writer.join(30)
    assert r.code == 0 and "总分" in r.out, r.text


# --- distribute: two units, one file ------------------------------------------------------------------
#
# File names were compared case-insensitively only; on macOS (APFS, HFS+) a
# composed and a decomposed spelling of one name are one file, so the second
# unit's workbook silently replaced the first's while the manifest listed both.


@pytest.mark.parametrize("first, second", [
    ("\u00c5县", "\u212b县"),  # Å and the Ångström sign
    ("\u00e9县", "e\u0301县"),  # é composed and decomposed
    ("ǅ县", "ǆ县"),  # title case and lower case of one letter
])
def test_distribute_refuses_two_units_that_would_be_one_file(tmp_path, first, second):
    from test_hostile_io import SHANXI, cli
    units = tmp_path / "u.txt"
    units.write_text(f"{first}\n{second}\n", encoding="utf-8")
    out = tmp_path / "out"
    r = cli("template", "distribute", "--rules", SHANXI, "--units", units, "-o", out)
    assert r.code == 1 and "文件名" in r.err and "相同" in r.err, r.text
    assert not out.exists() or not any(out.iterdir())


# --- formula injection into CSV reports and the manifest ------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1+1", "-1+1", "@SUM(1)", "\t=1", "\r=1", "\n=1",
                                  "\uff1d1+1", "\uff0b1", "\uff0d1+1", "\uff20SUM(1)", "\x0b\uff1d1"])
def test_safe_text_guards_every_formula_start(text):
    from rubric_xl.sheettext import clean_text, safe_text
    out = safe_text(text)
    assert out == "'" + clean_text(text) or (clean_text(text).startswith(" ") and out == clean_text(text))


def test_csv_report_of_files_named_like_formulas(tmp_path):
    import csv
    import io
    from test_hostile_io import REPO, cli, copy
    names = ["=HYPERLINK(1).xlsx", "\uff1dHYPERLINK(1).xlsx", "@SUM(1).xlsx", "-2+3.xlsx"]
    for name in names:
        copy(REPO / "examples" / "shanxi-2005-full.xlsx", tmp_path / name)
    r = cli("score", "--format", "csv", "-o", "r.csv", "--", *names, cwd=tmp_path)
    assert r.code == 0, r.text
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text("utf-8-sig"))))
    assert sorted(row[0] for row in rows[1:]) == sorted("'" + n for n in names)


# --- the add-in: xlwings Server's generic routes ------------------------------------------------------
#
# The add-in answers its own routes in Chinese, but xlwings Server's generic
# custom-scripts route answered any other script name with xlwings' own English
# error ("The interactive mode of xlwings is only supported on Windows…").


@pytest.fixture(scope="module")
def addin():
    from fastapi.testclient import TestClient
    from rubric_xl.addin import _worker, create_app
    from test_hostile_addin import SHANXI, XINZHOU
    app = create_app([SHANXI, XINZHOU])
    _worker.configure([str(SHANXI), str(XINZHOU)], isolate=False)
    yield TestClient(app, raise_server_exceptions=False)
    _worker.configure([str(SHANXI), str(XINZHOU)], isolate=True)


@pytest.mark.parametrize("route, body", [
    ("/xlwings/custom-scripts-call/nope", b"{}"),
    ("/xlwings/custom-scripts-call/__init__", b"{}"),
    ("/xlwings/custom-scripts-call/%0b%3dHYPERLINK", b"{}"),
    ("/xlwings/custom-scripts-call/write_scores%00", b"{}"),
])
def test_other_script_names_answer_in_chinese(addin, route, body):
    r = addin.post(route, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 404, (r.status_code, r.text)
    assert "评分助手" in r.text and "An error occurred" not in r.text and "xlwings" not in r.text.lower()
    assert "\x0b" not in r.text


def test_write_scores_is_still_answered_by_the_add_in(addin):
    r = addin.post("/xlwings/custom-scripts-call/write_scores", content=b"not json",
                   headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.text and "评分助手没有" not in r.text


# --- the xlsx report: control characters and formula-like names, in the print layout -------------
#
# tests/test_hostile_io.py reads the report's row 2 and column C from row 2,
# which the A4 print layout (title rows, data from row 4) moved; here the same
# attack, one more spelling each (_x000b_ in lower case, a full-width ＝ name).


def test_xlsx_report_keeps_hostile_text_as_text(tmp_path):
    import openpyxl
    from test_hostile_io import REPO, _rezip, cli, copy
    folder = tmp_path / "上报"
    folder.mkdir()
    _rezip(REPO / "examples" / "shanxi-2005-full.xlsx", folder / "vt.xlsx",
           lambda x: x.replace("示例市", "示例_x000b_市"))
    copy(REPO / "examples" / "shanxi-2005-full.xlsx", folder / "=HYPERLINK(1).xlsx")
    copy(REPO / "examples" / "shanxi-2005-full.xlsx", folder / "\uff1dSUM(1).xlsx")
    r = cli("score", folder, "--format", "xlsx", "-o", tmp_path / "r.xlsx")
    assert r.code == 0, r.text
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["排名"]
    head = [c.value for c in ws[3]]
    unit, file = head.index("单位") + 1, head.index("文件") + 1
    rows = {Path(ws.cell(i, file).value).name: ws.cell(i, unit) for i in range(4, 7)}
    assert set(rows) == {"vt.xlsx", "=HYPERLINK(1).xlsx", "\uff1dSUM(1).xlsx"}
    assert rows["vt.xlsx"].value == "示例 市"
    for i in range(4, 7):
        assert ws.cell(i, file).data_type == "s" and ws.cell(i, unit).data_type == "s"


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","a")', "\uff1d1+1", "@SUM(1)", "_x000b_=1"])
def test_fill_writes_formula_like_ledger_text_as_text(tmp_path, text):
    import json
    from test_hostile_io import REPO, XINFU, cli
    from rubric_xl.rules.yamlsrc import load_file
    facts = load_file(XINFU, "事实文件").data
    facts["enterprises"][0]["enterprise_name"] = text
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts, ensure_ascii=False, default=str), encoding="utf-8")
    out = tmp_path / "filled.xlsx"
    r = cli("template", "fill", REPO / "workbook_templates" / "xinzhou-2024.xlsx", "--facts", path,
            "--unit", "忻府区", "-o", out)
    assert r.code == 0, r.text
    import openpyxl
    from rubric_xl.sheettext import clean_text
    cells = [c for ws in openpyxl.load_workbook(out) for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and clean_text(text).strip() in c.value]
    assert cells and all(c.data_type == "s" for c in cells), [(c.coordinate, c.value, c.data_type) for c in cells]


# --- static files: segments Windows trims to ".." ------------------------------------------------


@pytest.mark.parametrize("sep", ["/", "\\"])
@pytest.mark.parametrize("path, ok", [
    (".. {s}x", False), ("...{s}x", False), ("..  .{s}x", False), ("a{s}. .{s}x", False), ("a{s}.. ", False),
    ("a{s}.{s}b.js", True), ("rubric{s}taskpane.js", True), ("a..b{s}c.js", True), ("..a{s}x", True),
])
def test_segments_of_dots_and_spaces_are_refused(sep, path, ok):
    from rubric_xl.addin._static import safe_relative
    assert safe_relative(path.replace("{s}", sep), sep) is ok


def test_dots_and_spaces_on_the_real_server(addin):
    for target in ("/static/.. /.. /.. /.. /pyproject.toml", "/static/...%20/x", "/static/%2e%2e%20/%2e%2e%20/x",
                   "/static/.%2e./rubric/taskpane.js"):
        r = addin.get(target)
        assert r.status_code == 404 and b"[build-system]" not in r.content, target
    assert addin.get("/static/rubric/taskpane.js").status_code == 200
