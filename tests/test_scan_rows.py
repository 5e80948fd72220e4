"""The byte-level pass reads a worksheet in pieces and remembers rows by their
bytes (``reader/_scan.py``): the part without its rows is checked once, the
rows not remembered are read together, and each row read is remembered.  The
answer must be the same the first and second time a sheet is read (and with
some of its rows remembered), must be the expat pass's, and a remembered row
must never be read where it does not sit (inside a cell, inside another row).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

import hostile
from rubric_xl.reader import _scan
from rubric_xl.reader._scan import ScanError, fast_scan, full_scan

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted((ROOT / "workbook_templates").glob("*.xlsx")) + sorted((ROOT / "examples").glob("*.xlsx"))


@pytest.fixture
def memo(monkeypatch):
    """Empty row memos for one test (the module's are shared by the process)."""
    done: dict = {}
    monkeypatch.setattr(_scan, "_ROW_DONE", done)
    return done


def _seen(scan) -> tuple:
    return scan.formulas, scan.errors, scan.rows, scan.cols, scan.cells, scan.raw


def _agrees(xml: bytes) -> bool | None:
    """None: the fast pass gave up; True: it agrees with the expat pass (which must not refuse)."""
    fast = fast_scan(xml)
    if fast is None:
        return None
    try:
        full = full_scan(xml)
    except ScanError as exc:
        pytest.fail(f"the fast pass accepted a part the expat pass refuses: {exc.msg}")
    return (fast.formulas, fast.errors, fast.rows, fast.cols, fast.cells) == (
        full.formulas, full.errors, full.rows, full.cols, full.cells)


def test_every_template_sheet_reads_the_same_together_and_remembered(memo):
    done = memo
    sheets = 0
    for path in TEMPLATES:
        with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zf:
            parts = [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        for xml in parts:
            done.clear()
            first = fast_scan(xml)  # every row read together, and remembered
            if first is None:
                continue
            rows = xml.count(b"</row>")
            assert len(done) >= min(rows, 1) - 1  # (a row longer than ROW_MEMO_BYTES is not kept)
            second = fast_scan(xml)  # the rows taken from the memo
            for key in list(done)[::2]:  # half of them forgotten: read together among the others
                del done[key]
            third = fast_scan(xml)
            assert _seen(first) == _seen(second) == _seen(third), path.name
            assert _agrees(xml) is True, path.name
            sheets += 1
    assert sheets >= 20  # the templates' and examples' sheets really take this pass


ROW = b'<row r="6"><c r="A6" s="1" t="n"><v>4</v></c><c r="B6" s="2"/>'  # remembered, without its </row>


def _prime() -> None:
    xml = hostile.sheet_xml(ROW + b"</row>")
    for _ in range(3):
        assert _agrees(xml) is True
    assert ROW in _scan._ROW_DONE


# a remembered row where it does not sit in the part: inside an inline string, inside
# another row (two spellings each), and rows the memo must not make legal
MISPLACED = {
    "inside an inline string": b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t><row r="2">'
                               b"</row>" + ROW + b"</row></is></c></row>",
    "inside an inline string, no row before": b'<row r="1"><c r="A1" t="inlineStr"><is><r><t>x</t></r>'
                                              + ROW + b"</row></is></c></row>",
    "inside another row": b'<row r="1"><row r="2"></row>' + ROW + b"</row></row>",
    "inside another row, after a cell": b'<row r="1"><c r="A1"><v>1</v></c>' + ROW + b"</row></row>",
    "inside a cell": b'<row r="1"><c r="A1"><v>1</v>' + ROW + b"</row></c></row>",
    "inside a cell's formula": b'<row r="1"><c r="A1"><f>1</f><row r="2">' + b"</row>" + ROW + b"</row></c></row>",
}


@pytest.mark.parametrize("case", sorted(MISPLACED))
def test_a_remembered_row_is_never_read_where_it_does_not_sit(memo, case):
    _prime()
    xml = hostile.sheet_xml(MISPLACED[case])
    for _ in range(3):  # together, remembered
        assert _agrees(xml) is not False


@pytest.mark.parametrize("body", [
    ROW + b"</row>" + ROW + b"</row>",  # the same row twice
    b'<row r="7"><c r="A6"><v>1</v></c></row>' + ROW + b"</row>",  # another row holding A6
    ROW + b"</row>" + b'<row r="6"><c r="A6"><v>2</v></c></row>',  # the same row number again
], ids=["row twice", "a cell of it in another row", "its number again"])
def test_a_cell_written_twice_around_a_remembered_row_is_refused(memo, body):
    _prime()
    xml = hostile.sheet_xml(body)
    with pytest.raises(ScanError):
        full_scan(xml)
    for _ in range(3):
        assert fast_scan(xml) is None


@pytest.mark.parametrize("tag", [b'<sheetData a="x>y">', b"<sheetData a='>'>", b'<sheetData\n a="1">'])
def test_sheet_data_written_with_attributes_goes_to_the_expat_pass(memo, tag):
    xml = hostile.sheet_xml(ROW + b"</row>").replace(b"<sheetData>", tag)
    assert fast_scan(xml) is None
    assert full_scan(xml).cells == 2


@pytest.mark.parametrize("after", [b"text", b"<row r=\"9\"/>", b"<c r=\"A9\"/>"])
def test_anything_after_the_last_row_goes_to_the_expat_pass(memo, after):
    xml = hostile.sheet_xml(ROW + b"</row>" + after)
    for _ in range(2):
        assert _agrees(xml) is None


def test_the_memo_stays_bounded(memo, monkeypatch):
    done = memo
    monkeypatch.setattr(_scan, "ROW_MEMO", 8)
    body = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (r, r, r) for r in range(1, 41))
    xml = hostile.sheet_xml(body, b"A1:A40")
    scans = [_seen(fast_scan(xml)) for _ in range(4)]
    assert all(s == scans[0] for s in scans) and scans[0][4] == 40
    assert len(done) <= 8
    long_row = b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + b"x" * (_scan.ROW_MEMO_BYTES + 1) + b"</t></is></c>"
    done.clear()
    for _ in range(3):
        assert _agrees(hostile.sheet_xml(long_row + b"</row>")) is True
    assert not done  # a row longer than ROW_MEMO_BYTES is never remembered


def test_a_cell_outside_its_rows_number_goes_to_the_expat_pass(memo):
    for body in (b'<row r="1"><c r="A2"><v>1</v></c></row>', b'<row r="2"/><row r="1"><c r="A2"><v>1</v></c></row>'):
        xml = hostile.sheet_xml(body)
        for _ in range(2):
            assert fast_scan(xml) is None
        assert full_scan(xml).cells == 1


# what a red-team pass found (each with one more spelling): cells nested in a cell, another
# <sheetData> among the rows, a decoy before the declaration, a CR in an error value, a row
# closed with "</row >" so that a remembered row lands inside an inline string
H = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
     b'spreadsheetml/2006/main"><dimension ref="A1:B2"/><sheetData>')
T = b"</sheetData></worksheet>"
FOUND = {
    "empty cell in an inline string": H + b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t><c r="B2"/></is></c></row>' + T,
    "full cell in a rich inline string": H + b'<row r="1"><c r="A1" t="inlineStr"><is><r><t>x</t></r>'
                                         b'<c r="B2"><v>1</v></c></is></c></row>' + T,
    "cell in a value": H + b'<row r="1"><c r="A1"><v>1<c r="B2"/></v></c></row>' + T,
    "cell after a value": H + b'<row r="1"><c r="A1"><v>1</v><c r="B2"/></c></row>' + T,
    "follower in a formula": H + b'<row r="1"><c r="A1"><f>1+<c r="B2"><f t="shared" si="0"/></c></f><v>1</v></c></row>' + T,
    "sheetData in a row": H + b'<row r="1"><sheetData/><c r="A1"><v>1</v></c></row>' + T,
    "sheetData in a row, spelled open": H + b'<row r="1"><sheetData></sheetData ><c r="A1"><v>1</v></c></row>' + T,
    "decoy in a comment at 0": b'<!--<sheetData></sheetData>--><worksheet><dimension ref="A1:B2"/><sheetData>'
                               b'<row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>',
    "decoy in an instruction at 0": b'<?x <sheetData></sheetData>?><worksheet><dimension ref="A1:B2"/><sheetData>'
                                    b'<row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>',
    "decoy hides a dimension out of bounds": b'<!--<sheetData></sheetData>--><worksheet><dimension ref="A1:ZZZ99999"/>'
                                             b"<sheetData></sheetData></worksheet>",
    "decoy before an empty sheetData": b'<!--<sheetData/>--><worksheet><dimension ref="ZZZ1"/><sheetData/></worksheet>',
    "CR in an error value": H + b'<row r="1"><c r="A1" t="e"><v>#N\rA</v></c></row>' + T,
    "CR LF in an error value": H + b'<row r="1"><c r="A1" t="e"><v>#DIV/0!\r\n</v></c></row>' + T,
}
PRIMED = {
    "remembered row in an inline string, row closed with a space":
        H + b'<row r="1"><c r="A1" t="inlineStr"><is><row r="9"></row><row r="5"><c r="C5"><v>7</v></c></row>'
            b'<row r="2"></row ></is></c></row>' + T,
    "remembered row in an inline string, row closed with a newline":
        H + b'<row r="1"><c r="A1" t="inlineStr"><is><row r="9"></row><row r="5"><c r="C5"><v>7</v></c></row>'
            b'<row r="2"></row\n></is></c></row>' + T,
    "remembered row after a sheetData in a row":
        H + b'<row r="1"><sheetData></sheetData ><row r="3"></row><row r="5"><c r="C5"><v>7</v></c></row>'
            b'<row r="2"></row ></row>' + T,
}


def _exact(xml: bytes) -> bool:
    """The fast pass gave up, or found exactly what the expat pass finds (which must not refuse)."""
    fast = fast_scan(xml)
    if fast is None:
        return True
    try:
        full = full_scan(xml)
    except ScanError:
        return False
    return (fast.formulas, fast.errors, fast.rows, fast.cols, fast.cells) == (
        full.formulas, full.errors, full.rows, full.cols, full.cells)


@pytest.mark.parametrize("case", sorted(FOUND))
def test_what_the_red_team_found_is_read_as_the_expat_pass_reads_it(memo, case):
    for _ in range(3):
        assert _exact(FOUND[case]), case


@pytest.mark.parametrize("case", sorted(PRIMED))
def test_a_remembered_row_cannot_be_smuggled_into_a_cell(memo, case):
    primer = H + b'<row r="5"><c r="C5"><v>7</v></c></row>' + T
    for _ in range(3):
        assert _agrees(primer) is True
    for _ in range(3):
        assert _exact(PRIMED[case]), case


@pytest.mark.parametrize("inner", [b"<is>", b'<is><r><rPr><b/></rPr><t>x</t></r>'])
def test_nested_inline_strings_are_linear(memo, inner):
    import time

    def took(n: int) -> float:
        xml = H + b'<row r="1">' + b'<c r="A1" t="inlineStr">' + inner * n + b"<t/>" + b"</is></c>" * n + b"</row>" + T
        best = 1e9
        for _ in range(3):
            t = time.perf_counter()
            assert _exact(xml)
            best = min(best, time.perf_counter() - t)
        return best
    small, big = took(500), took(4000)  # quadratic, 4,000 took 3.7 s
    assert big < 1.0 and big < 25 * max(small, 0.002)


# a second red-team pass: the end of <sheetData> written with white space was taken for
# <sheetData/> (no rows: every input read as blank, formulas and bad cells hidden)
ROWS = b'<row r="1"><c r="A1"><f>1</f><v>1</v></c></row>'


@pytest.mark.parametrize("xml", [
    b"<worksheet><sheetData>" + ROWS + b"</sheetData ></worksheet>",
    b"<worksheet><sheetData>" + ROWS + b"</sheetData\n></worksheet>",
    b"<worksheet><sheetData>" + ROWS + b"</sheetData\t\r\n></worksheet>",
    b"<worksheet><sheetData a='/>'>" + ROWS + b"</sheetData ></worksheet>",
    b'<worksheet><sheetData a="/">' + ROWS + b"</sheetData></worksheet>",
    b"<worksheet><sheetData>" + b'<row r="1"><c r="A1"/><c r="A1"/><c r="ZZZ99999"/></row>' + b"</sheetData ></worksheet>",
    b"<worksheet><sheetData/></worksheet>",
    b"<worksheet><sheetData />" + b"</worksheet>",
], ids=["space", "newline", "tab-cr-lf", "attribute holding />", "attribute holding /", "bad cells hidden",
        "empty", "empty with space"])
def test_the_end_of_sheet_data_is_found_however_it_is_written(memo, xml):
    for _ in range(3):
        assert _exact(xml)
    if b"ZZZ" not in xml and b"<sheetData/>" not in xml and b"<sheetData />" not in xml:
        full = full_scan(xml)
        fast = fast_scan(xml)
        assert full.formulas == {(1, 1)} and (fast is None or fast.formulas == {(1, 1)})


# a third red-team pass: a cell carrying another row's number, read in one run with that row,
# was remembered as part of it (one workbook adding a cell to another's identical row); an <f>
# whose t= follows a tab or a line break skipped the formula-kind check
@pytest.mark.parametrize("planted,honest", [
    (b'<row r="1"><c r="A2"><f>1+1</f><v>2</v></c></row><row r="2"><c r="B1" t="e"><v>#N/A</v></c></row>',
     b'<row r="1"><c r="A2"><f>1+1</f><v>2</v></c></row>'),
    (b'<row r="30"><c r="A30"><v>28</v></c></row><row r="31"><c r="B30" t="inlineStr"><is><t>FAKE</t></is></c>'
     b'<c r="A31"><v>29</v></c></row>',
     b'<row r="30"><c r="A30"><v>28</v></c></row>'),
], ids=["formula and error swapped", "an entry added to a ledger row"])
def test_a_cell_planted_in_another_rows_number_never_reaches_a_remembered_row(memo, planted, honest):
    for _ in range(2):
        assert _exact(hostile.sheet_xml(planted))
    for _ in range(2):
        assert _exact(hostile.sheet_xml(honest))
        fast = fast_scan(hostile.sheet_xml(honest))
        assert fast is None or fast.cells == 1


@pytest.mark.parametrize("f", [
    b'<f\tt="array" ref="A1:C3">1</f><v>1</v>',
    b'<f\nt="dataTable" ref="A1:C3"/><v>1</v>',
    b'<f\r\nt="array" ref="A1:B2">1</f>',
    b'<f\rt="shared" si="0" ref="A1:A99999">1</f><v>1</v>',
], ids=["array after a tab", "data table after a line feed", "array after CR LF", "shared out of bounds after a CR"])
def test_a_formulas_kind_is_read_whatever_space_comes_before_it(memo, f):
    xml = hostile.sheet_xml(b'<row r="1"><c r="A1">' + f + b"</c></row>")
    for _ in range(2):
        assert _exact(xml)


@pytest.mark.parametrize("v", [b"<v/>", b"<v></v>", b"<v>1</v>"])
def test_a_cell_of_an_unknown_type_is_left_to_calamine_with_or_without_a_value(v):
    import openpyxl

    from rubric_xl.errors import InputFileError
    from rubric_xl.reader._container import open_bytes
    from rubric_xl.reader._values import UNSURE, decode
    assert decode(b' t="x"', v, b"", ("number",), False) is UNSURE
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    data = hostile.add_sheet(out.getvalue(), "表", "visible", hostile.sheet_xml(b'<row r="1"><c r="A1" t="x">' + v + b"</c></row>"))
    book = open_bytes(data, "r.xlsx", ("表",))
    with pytest.raises(InputFileError):  # python-calamine refuses the sheet: so does the reader
        book.value("表", 1, 1)
