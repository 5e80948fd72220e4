"""The reader's one pass against its references.

The byte-level scan (``_scan.fast_scan``) must find what the expat pass
(``_scan.full_scan``) finds, or give up; the values it decodes
(``_values.decode``) must be the values python-calamine returns, or be left
to calamine.  Checked over the example workbooks, filled templates of both
packs, the whole hostile corpus, every number format a template uses and
many it does not, and random sheets (hypothesis).
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile
from conftest import full_marks_facts
from rubric_xl.errors import InputFileError
from rubric_xl.reader._container import open_bytes
from rubric_xl.reader._scan import ScanError, fast_scan, full_scan
from rubric_xl.reader._values import DATE, NUMBER, OTHER, UNSURE, decode, format_kind
from test_reader import filled

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.xlsx")) + sorted((ROOT / "workbook_templates").glob("*.xlsx"))


def _calamine(data: bytes, sheet: str) -> dict[tuple[int, int], object]:
    grid = pc.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(sheet).to_python(
        skip_empty_area=False)
    return {(r + 1, c + 1): v for r, row in enumerate(grid) for c, v in enumerate(row) if v != ""}


def _plain(book, sheet: str) -> dict | None:
    """The values of *sheet* the reader decoded itself (every cell), or None
    when it handed the sheet to calamine."""
    if sheet not in book._values:
        return None
    book.grid(sheet)
    values = book._values.get(sheet)
    return None if values is None else {k: v for k, v in values.items() if v != ""}


def _same(a: dict, b: dict) -> bool:
    return a == b and all(type(a[k]) is type(b[k]) for k in a)


def _scans_agree(data: bytes) -> bool | None:
    """None: the fast pass gave up; True: it agrees with the expat pass."""
    fast = fast_scan(data)
    if fast is None:
        return None
    full = full_scan(data)  # raises if the fast pass accepted what the expat pass refuses
    return (fast.formulas, fast.errors, fast.rows, fast.cols, fast.cells) == (
        full.formulas, full.errors, full.rows, full.cols, full.cells)


def _worksheets(data: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    return filled(tmp_path_factory.mktemp("good"), full_marks_facts()).read_bytes()


def _books(good: bytes) -> list[tuple[str, bytes]]:
    books = [(p.name, p.read_bytes()) for p in EXAMPLES]
    books.append(("good", good))
    books += [(case, hostile.build(case, good)) for case in sorted(hostile.CASES)]
    return books


def test_fast_scan_agrees_with_the_expat_pass(good):
    taken = 0
    for name, data in _books(good):
        try:
            sheets = _worksheets(data)
        except zipfile.BadZipFile:
            continue
        for xml in sheets:
            try:
                agree = _scans_agree(xml)
            except ScanError as exc:
                pytest.fail(f"{name}: the fast pass accepted a sheet the expat pass refuses: {exc.msg}")
            assert agree is not False, name
            taken += agree is True
    assert taken > 100  # the templates' sheets really take the fast pass


def test_plain_values_are_calamines(good):
    """Every sheet the reader decodes itself has exactly calamine's values and types."""
    plain = 0
    for name, data in _books(good):
        try:
            book = open_bytes(data, name)
        except InputFileError:
            continue
        for sheet in list(book._values):
            values = _plain(book, sheet)
            if values is not None:
                assert _same(values, _calamine(data, sheet)), (name, sheet)
                plain += 1
    assert plain > 100
    for path in EXAMPLES:  # every sheet of a generated workbook is read without calamine
        book = open_bytes(path.read_bytes(), path.name)
        assert all(_plain(book, s) is not None for s in book._scans) and book._cal is None, path


def test_filled_ledger_values_are_calamines(tmp_path):
    from rubric_xl import load_pack
    from rubric_xl.samples import random_facts
    import random
    pack = load_pack(ROOT / "rules" / "xinzhou-2024.yaml")
    facts = random_facts(pack, random.Random(7), blank_rate=0.05, rows=30)
    data = filled(tmp_path, facts, pack=pack).read_bytes()
    book = open_bytes(data, "台账.xlsx")
    for sheet in list(book._scans):
        values = _plain(book, sheet)
        assert values is not None and _same(values, _calamine(data, sheet)), sheet
    assert book._cal is None


FORMATS = ["General", "0", "0.00", "#,##0", "#,##0.00", "0%", "0.00%", "0.00E+00", "# ?/?", "@",
           "yyyy-mm-dd", "yyyy/m/d", "m/d/yy", "d-mmm-yy", "mm-dd-yy", "yyyy\"年\"m\"月\"d\"日\"", "0.##",
           '"暂定 "0.00', '0.00;-0.00;0.00;"暂定"', "h:mm", "hh:mm:ss", "[h]:mm:ss", "yyyy-mm-dd hh:mm",
           "mm:ss", "[Red]0.00", "0.00_);(0.00)", "#,##0.00 \"元\"", "dd/mm/yyyy", "d", "m", "yy"]
VALUES = [0, 1, 30, 60, 61, 45000, 45000.5, 2958465, 2958466, -3, 93.5, 0.1, 1234567.891]  # (calamine overflows on 1e20 as a date)


@pytest.mark.parametrize("date1904", [False, True])
def test_number_formats_decode_as_calamine(tmp_path, date1904):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904 if date1904 else openpyxl.utils.datetime.CALENDAR_WINDOWS_1900
    for r, fmt in enumerate(FORMATS, start=1):
        for c, v in enumerate(VALUES, start=1):
            ws.cell(r, c, v).number_format = fmt
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue()
    book = open_bytes(data, "f.xlsx", ("S",))
    ref = _calamine(data, "S")
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    scan = fast_scan(xml)
    assert scan is not None and scan.raw
    decided = 0
    for rc, (attrs, v, inline) in scan.raw.items():
        got = decode(attrs, v, inline, book._kinds, book.date1904)
        if got is not UNSURE:
            decided += 1
            assert got == ref.get(rc, "") and type(got) is type(ref.get(rc, "")), (FORMATS[rc[0] - 1], VALUES[rc[1] - 1])
    assert decided > len(VALUES) * 10
    # the formats the templates use are decided, never left to calamine
    for fmt, kind in (("yyyy-mm-dd", DATE), ("0.##", NUMBER), ('"暂定 "0.00', NUMBER),
                      ('0.00;-0.00;0.00;"暂定"', NUMBER), ("h:mm", OTHER), ("[h]:mm:ss", OTHER)):
        assert format_kind(fmt) == kind, fmt


def test_text_cells_decode_as_calamine():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    texts = ["  两边有空格  ", "a & b < c > d \"q\" 'a'", "第一行\n第二行", "=不是公式", "#DIV/0!", "TRUE", "",
             "\t制表", "😀 emoji", "x" * 300]
    for r, t in enumerate(texts, start=1):
        ws.cell(r, 1, t)
        ws.cell(r, 2, r % 2 == 0)
    ws.cell(1, 3, "=1+1")
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue()
    book = open_bytes(data, "t.xlsx", ("S",))
    values = _plain(book, "S")
    assert values is not None and _same(values, _calamine(data, "S"))


# -- random sheets ------------------------------------------------------------------------

_REFS = st.sampled_from(["A1", "B2", "C3", "AB7", "a1", "$B$2", "D0", "", "XFD1", "A99999", "GR10000"])
_CONTENT = st.sampled_from([
    "", "<v>1</v>", "<v>2.5</v>", "<v/>", "<v></v>", "<v>#N/A</v>", "<v>1e3</v>", "<v> 7</v>",
    "<f>1+1</f><v>2</v>", '<f t="shared" si="0"/><v>3</v>', '<f t="array" ref="A1:B2">1</f><v>1</v>',
    '<f t="array" ref="A1">1</f><v>1</v>', '<f t="array" ref="B2">2</f><v>#N/A</v>', '<f ref="C3" t="array">3</f><v>x</v>',
    '<f t="array" ref="b2">2</f><v>2</v>', '<f t="array" ref="B2:B2">2</f><v>2</v>', '<f t="array">1</f><v>1</v>',
    "<is><t>x</t></is>", '<is><t xml:space="preserve"> y </t></is>', "<is><r><t>a</t></r><r><t>b</t></r></is>",
    "<v>a&amp;b</v>", "<v>&#49;</v>", "<is><t>&lt;&#x41;&gt;</t></is>", "<F>1</F>", "<x:v>1</x:v>",
    "<!-- c --><v>1</v>", "<v>1</v><is><t>z</t></is>", "<v>1\r\n2</v>",
])
_TYPES = st.sampled_from(["", ' t="n"', ' t="str"', ' t="b"', ' t="e"', ' t="inlineStr"', ' t="d"', " t='str'"])
_STYLE = st.sampled_from(["", ' s="0"', ' s="1"', ' s="9"', ' s="x"'])


@st.composite
def _cell(draw) -> str:
    ref = draw(_REFS)
    r = f' r="{ref}"' if ref else ""
    attrs = [r, draw(_TYPES), draw(_STYLE)]
    if draw(st.booleans()):
        attrs = attrs[1:] + attrs[:1]  # r not first
    sep = draw(st.sampled_from([" ", "\t", "\n "]))
    head = "<c" + "".join(a.replace(" ", sep, 1) for a in attrs if a)
    content = draw(_CONTENT)
    return head + ("/>" if not content and draw(st.booleans()) else f">{content}</c>")


@st.composite
def _sheet(draw) -> bytes:
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        r = draw(st.sampled_from(['', ' r="1"', ' r="2"', ' r="7"', ' r="x"', ' spans="1:3" r="3"']))
        rows.append(f"<row{r}>" + "".join(draw(st.lists(_cell(), max_size=4))) + "</row>")
    body = "".join(rows)
    dim = draw(st.sampled_from(['<dimension ref="A1"/>', '<dimension ref="A1:XFD9"/>', "", '<dimension/>']))
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    if "x:" in body:
        ns += ' xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    return f"<worksheet {ns}>{dim}<sheetData>{body}</sheetData></worksheet>".encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_sheet())
def test_random_sheets_fast_scan_agrees_or_gives_up(xml):
    try:
        assert _scans_agree(xml) is not False
    except ScanError:
        pytest.fail("the fast pass accepted a sheet the expat pass refuses")


@pytest.fixture(scope="module")
def minimal() -> bytes:
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    return out.getvalue()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(_sheet())
def test_random_sheets_values_are_calamines(minimal, xml):
    data = hostile.add_sheet(minimal, "表", "visible", xml)
    try:
        book = open_bytes(data, "r.xlsx", ("表",))
    except InputFileError:
        return  # refused: nothing is read
    try:
        values = _plain(book, "表")
    except InputFileError as exc:  # calamine, handed the sheet, refuses it too (<c t="b"><v>2.5</v>)
        assert "无法读取" in exc.problems[0].msg
        with pytest.raises(Exception):
            _calamine(data, "表")
        return
    if values is not None:
        assert _same(values, _calamine(data, "表"))


def test_a_date_cell_reads_as_a_date_without_calamine(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"] = dt.date(2024, 4, 15)
    ws["A1"].number_format = "yyyy-mm-dd"
    ws["A2"] = dt.datetime(2024, 4, 15, 12, 30)
    ws["A2"].number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    wb.save(out)
    book = open_bytes(out.getvalue(), "d.xlsx", ("S",))
    assert book.value("S", 1, 1) == dt.date(2024, 4, 15) and book._cal is None
    assert book.value("S", 2, 1) == dt.datetime(2024, 4, 15, 12, 30)  # the time part is left to calamine …
    assert "S" not in book._values and book._cal is not None  # … which then reads the whole sheet
    assert book.value("S", 1, 1) == dt.date(2024, 4, 15)
    ws["A2"] = None
    out = io.BytesIO()
    wb.save(out)
    book = open_bytes(out.getvalue(), "d.xlsx", ("S",))
    assert _plain(book, "S") == {(1, 1): dt.date(2024, 4, 15)} and book._cal is None


@pytest.mark.parametrize("unit", [b"<a", b"</a"])
def test_fast_scan_is_linear_on_runs_of_unclosed_tags(unit):
    """Before expat has seen the part, the byte-level expressions must not go
    quadratic on text that is not XML."""
    import time

    def took(n: int) -> float:  # the best of three (the machine is shared)
        data = b"<worksheet><sheetData>" + unit * n + b"</sheetData></worksheet>"
        best = 1e9
        for _ in range(3):
            t = time.perf_counter()
            assert fast_scan(data) is None
            best = min(best, time.perf_counter() - t)
        return best
    small, big = took(20_000), took(200_000)  # quadratic, 20,000 took 8 s
    assert big < 2.0 and big < 25 * max(small, 0.01)


def test_parts_are_remembered_by_exact_content_only():
    from rubric_xl.reader._scan import scan_sheet
    ok = hostile.sheet_xml(b'<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>')
    first = scan_sheet(ok)
    assert scan_sheet(bytes(ok)) is first  # the same bytes: the same (read-only) result
    changed = ok.replace(b'<c r="A1"><f>1+1</f>', b'<c r="B1"><f>1+1</f>')
    assert scan_sheet(changed).formulas == {(1, 2)}
    bad = ok.replace(b'r="A1"', b'r="A1" t="x" t="y"')  # malformed: refused every time, never remembered
    for _ in range(2):
        with pytest.raises(ScanError):
            scan_sheet(bad)
    big = hostile.sheet_xml(b"".join(b'<row r="%d">' % r + b"".join(b'<c r="%s%d"><v>1</v></c>' % (bytes([c]), r) for c in b"ABCDEFGHIJ")
                                     + b"</row>" for r in range(1, 8_000)), b"A1:J7999")
    assert len(big) > 1024 * 1024 and scan_sheet(big) is not scan_sheet(big)  # large parts are not kept


def test_scores_are_the_same_when_calamine_reads_every_sheet(good, tmp_path, monkeypatch):
    """End to end: the auditor's result for every example and hostile workbook is
    the same whether the reader decodes the cells or calamine reads them all."""
    from rubric_xl.audit._one import score_workbook
    from rubric_xl.reader import _container
    paths = []
    for name, data in _books(good):
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        paths.append(path)
    opened = []
    real_open = _container.Workbook._open_calamine
    monkeypatch.setattr(_container.Workbook, "_open_calamine", lambda self: opened.append(1) or real_open(self))
    ours = [score_workbook(p).to_dict() for p in paths]
    plain = len(opened)  # only the hostile sheets that are not plainly written needed calamine …
    monkeypatch.setattr(_container, "decode", lambda *a: UNSURE)
    theirs = [score_workbook(p).to_dict() for p in paths]
    assert plain < 10 and len(opened) - plain > 20  # … and now calamine read them all
    assert ours == theirs
    assert sum(r["status"] != "failed" for r in ours) > 20
