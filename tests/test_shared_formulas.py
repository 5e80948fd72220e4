"""Shared formulas: the template writer stores filled-down formulas once
(``workbook/_shared.py``), and the reader reads shared formulas — its own and
those Excel or LibreOffice write anywhere — as the formula cells they are.

Writer: a run is consecutive rows of one column, each formula exactly the row
translation of the run's first (openpyxl's Translator, which openpyxl also uses
to expand them when it reads the file); whatever breaks a run (a different
formula, a gap, a row-specific text) ends it; array formulas are untouched and
cached values kept.  Reader: a shared formula in an input cell is a formula in
an input cell, like its expanded form; result cells holding shared formulas are
compared with the recomputation like any others; a broken shared formula (an
``si`` no formula defines, ``si`` as text, a ``ref`` outside the sheet) is
never read as a value.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given, settings, strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula

import hostile
from rubric_xl import load_pack
from rubric_xl.audit._one import score_workbook
from rubric_xl.reader import open_workbook
from rubric_xl.reader._scan import ScanError, fast_scan, full_scan
from rubric_xl.workbook import build_template, workbook_bytes
from rubric_xl.workbook._shared import share_formulas

ROOT = Path(__file__).resolve().parents[1]
NS = {"m": hostile.MAIN_NS}
EXAMPLE_2005 = ROOT / "examples" / "shanxi-2005-full.xlsx"


def _sheet_xml(data: bytes, index: int = 1) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(f"xl/worksheets/sheet{index}.xml")


def _formulas(xml: bytes) -> dict[str, tuple[str | None, str | None, str | None, str | None]]:
    """cell -> (t, ref, si, text) of every <f> of a sheet part."""
    root = ET.fromstring(xml)
    out = {}
    for c in root.iter(f"{{{hostile.MAIN_NS}}}c"):
        f = c.find("m:f", NS)
        if f is not None:
            out[c.get("r")] = (f.get("t"), f.get("ref"), f.get("si"), f.text)
    return out


def _book(cells: dict[str, object]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for ref, value in cells.items():
        ws[ref] = value
    return workbook_bytes(wb)


def _expanded(data: bytes) -> dict[str, object]:
    """Every cell's value as openpyxl reads the file (shared formulas expanded)."""
    ws = load_workbook(io.BytesIO(data)).active
    out = {}
    for row in ws.iter_rows():
        for c in row:
            v = c.value
            out[c.coordinate] = (v.ref, v.text) if isinstance(v, ArrayFormula) else v
    return {k: v for k, v in out.items() if v is not None}


# -- the writer --------------------------------------------------------------------------


def test_a_different_formula_in_the_middle_splits_the_column():
    cells = {f"B{r}": f"=A{r}*2+$A$1" for r in range(2, 11)}
    cells["B6"] = "=A6+1"  # breaks the run: B2:B5, B6 in full, B7:B10
    data = _book(cells)
    got = _formulas(_sheet_xml(data))
    assert got["B2"] == ("shared", "B2:B5", "0", "A2*2+$A$1")
    assert [got[f"B{r}"] for r in (3, 4, 5)] == [("shared", None, "0", None)] * 3
    assert got["B6"] == (None, None, None, "A6+1")
    assert got["B7"] == ("shared", "B7:B10", "1", "A7*2+$A$1")
    assert [got[f"B{r}"] for r in (8, 9, 10)] == [("shared", None, "1", None)] * 3
    assert _expanded(data) == cells


def test_runs_need_two_consecutive_rows():
    cells = {"C2": "=A2", "C3": "=A3", "C5": "=A5", "C6": "=A6", "C8": "=A8", "D2": "=A2"}
    data = _book(cells)
    got = _formulas(_sheet_xml(data))
    assert got["C2"][:3] == ("shared", "C2:C3", "0")  # the shortest run: two rows
    assert got["C5"][:3] == ("shared", "C5:C6", "1")  # a gap (C4) ends a run
    assert got["C8"] == (None, None, None, "A8")  # a single row stays in full
    assert got["D2"] == (None, None, None, "A2")  # one formula of a column: in full
    assert _expanded(data) == cells


def test_a_row_number_inside_a_text_is_not_a_translation():
    cells = {f"E{r}": f'="第{r}行："&A{r}' for r in range(2, 6)}
    cells.update({f"F{r}": '="第"&ROW()&"行："&A' + str(r) for r in range(2, 6)})
    data = _book(cells)
    got = _formulas(_sheet_xml(data))
    assert all(got[f"E{r}"][0] is None for r in range(2, 6))  # each text names its own row
    assert got["F2"][:3] == ("shared", "F2:F5", "0")  # ROW() keeps the formula one translation
    assert _expanded(data) == cells


def test_array_formulas_are_left_alone_and_cached_values_kept():
    wb = Workbook()
    ws = wb.active
    for r in range(2, 6):
        ws[f"G{r}"] = ArrayFormula(f"G{r}", f"=SUM(A{r}:B{r}*2)")
        ws[f"H{r}"] = f"=A{r}+1"
    raw = io.BytesIO()
    wb.save(raw)
    xml = _sheet_xml(raw.getvalue())
    cached = re.sub(rb"(<c r=\"H[0-9]+\"[^>]*>)(<f>[^<]*</f>)<v\s*/>", rb"\1\2<v>7</v>", xml)
    assert cached != xml
    out = share_formulas(cached)
    got = _formulas(out)
    assert [got[f"G{r}"] for r in range(2, 6)] == [("array", f"G{r}", None, f"SUM(A{r}:B{r}*2)") for r in range(2, 6)]
    assert got["H2"] == ("shared", "H2:H5", "0", "A2+1")
    values = {c.get("r"): c.findtext("m:v", namespaces=NS) for c in ET.fromstring(out).iter(f"{{{hostile.MAIN_NS}}}c")}
    assert [values[f"H{r}"] for r in range(2, 6)] == ["7"] * 4  # every cached value kept
    assert share_formulas(out) == out  # shared formulas are not shared again
    assert full_scan(out).formulas == {(r, c) for r in range(2, 6) for c in (7, 8)}


def test_a_single_row_ledger_has_nothing_to_share():
    pack = load_pack(ROOT / "rules" / "xinzhou-2024.yaml")
    wb, layout = build_template(pack, ledger_rows=1)
    data = workbook_bytes(wb)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheets = [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    assert all(b't="shared"' not in x for x in sheets)


def test_the_ledger_template_stores_each_row_formula_once():
    path = ROOT / "workbook_templates" / "xinzhou-2024.xlsx"
    data = path.read_bytes()
    book = open_workbook(path)
    part = book.sheet("台账").part
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        xml = zf.read(part)
    got = _formulas(xml)
    anchors = {c: v for c, v in got.items() if v[1]}
    assert len(anchors) >= 4 and all(v[1].endswith("502") for v in anchors.values())
    assert all(v[0] == "shared" for v in got.values() if v[3] is None)
    assert len(xml) < 1_000_000  # was 8.7 MB with every formula in full
    # every row's status, errors and warnings cell is still a formula cell, with no cached value
    cols = sorted({c for _, c in book.formula_cells("台账")})
    assert len(cols) >= 4
    for col in cols:
        rows = {r for r, c in book.formula_cells("台账") if c == col}
        assert rows == set(range(3, 503))
        assert all(book.value("台账", r, col) == "" for r in (3, 4, 502))
    assert book._scans["台账"].raw is not None  # read by the byte-level pass, not the fallback


def test_small_ledger_expands_to_the_formulas_openpyxl_wrote():
    """The regenerated template, read back by openpyxl (which expands shared
    formulas), holds exactly the formulas the generator wrote."""
    pack = load_pack(ROOT / "rules" / "xinzhou-2024.yaml")
    wb, _ = build_template(pack, ledger_rows=12)
    written = {ws.title: {c.coordinate: (c.value.ref, c.value.text) if isinstance(c.value, ArrayFormula) else c.value
                          for row in ws.iter_rows() for c in row if c.value not in (None, "")} for ws in wb.worksheets}
    back = load_workbook(io.BytesIO(workbook_bytes(wb)))
    for ws in back.worksheets:
        got = {c.coordinate: (c.value.ref, c.value.text) if isinstance(c.value, ArrayFormula) else c.value
               for row in ws.iter_rows() for c in row if c.value is not None}
        assert got == written[ws.title], ws.title


_PATTERNS = ["=A{r}+1", "=$A$1*B{r}", "=SUM($A$2:A{r})", '=IF(A{r}="","",A{r}&"元")', "=B{r}", "=A{r}+2"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_PATTERNS) - 1), st.integers(0, 1)), min_size=1, max_size=14))
def test_any_column_expands_to_what_was_written(column):
    """Random columns of formulas (with gaps): openpyxl reads back every formula as written."""
    cells, r = {}, 2
    for pattern, gap in column:
        r += gap
        cells[f"C{r}"] = _PATTERNS[pattern].format(r=r)
        r += 1
    data = _book(cells)
    assert _expanded(data) == cells
    xml = _sheet_xml(data)
    shared = _formulas(xml)
    for cell, (t, ref, si, text) in shared.items():  # each group's cells are consecutive rows of its ref
        if ref:
            first, last = (int(x[1:]) for x in ref.split(":"))
            assert all(shared[f"C{k}"][2] == si for k in range(first, last + 1))
    agree = fast_scan(xml)
    assert agree is not None and agree.formulas == full_scan(xml).formulas


# -- the reader ---------------------------------------------------------------------------

MEDIA = [f"D{r}" for r in range(116, 122)]  # six consecutive input cells (media_reports_2005_06 …)


def _edit_sheet(data: bytes, sheet: str, edit) -> bytes:
    return hostile.change(data, hostile.sheet_part(data, sheet), edit)


def _as_formulas(xml: bytes, cells: list[str], shared: bool, value: str = "3",
                 anchor: bytes | None = None, dependent: bytes | None = None) -> bytes:
    """Each of *cells* becomes a formula showing *value*: one shared formula
    (first cell the anchor) or each written in full."""
    first, last = cells[0], cells[-1]
    for i, cell in enumerate(cells):
        if not shared:
            f = b"<f>1+2</f>"
        elif i == 0:
            f = anchor or f'<f t="shared" ref="{first}:{last}" si="0">1+2</f>'.encode()
        else:
            f = dependent or b'<f t="shared" si="0"/>'
        xml = hostile.replace_cell(xml, cell, f'<c r="{cell}">'.encode() + f + f"<v>{value}</v></c>".encode())
    return xml


def _score(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    res = score_workbook(path)
    return res, [(p.loc.replace(str(path), "F"), p.msg, p.level) for p in res.problems]


def _scans_of(data: bytes, sheet: str):
    xml = hostile.parts(data)[hostile.sheet_part(data, sheet)]
    fast = fast_scan(xml)
    try:
        full = full_scan(xml)
    except ScanError as exc:
        assert fast is None  # the byte-level pass never accepts what the expat pass refuses
        return None, exc
    assert fast is None or (fast.formulas, fast.errors, fast.cells) == (full.formulas, full.errors, full.cells)
    return full, None


def test_shared_formulas_in_input_cells_are_reported_like_full_ones(tmp_path):
    good = EXAMPLE_2005.read_bytes()
    shared = _edit_sheet(good, "填报", lambda x: _as_formulas(x, MEDIA, True))
    full = _edit_sheet(good, "填报", lambda x: _as_formulas(x, MEDIA, False))
    res_s, shown_s = _score(tmp_path, "s.xlsx", shared)
    res_f, shown_f = _score(tmp_path, "f.xlsx", full)
    assert shown_s == shown_f
    hits = [p for p in shown_s if "输入单元格中是公式" in p[1]]
    assert sorted(p[0] for p in hits) == sorted(f"F 填报!{c}" for c in MEDIA)  # each cell, by name
    assert res_s.status == "error" and res_s.to_dict()["total"] == res_f.to_dict()["total"]
    formula_cells, _ = _scans_of(shared, "填报")
    assert {(r, 4) for r in range(116, 122)} <= formula_cells.formulas


def _engine_points(tmp_path: Path) -> dict[str, str]:
    res = score_workbook(EXAMPLE_2005)
    return {f"G{4 + i}": str(it.points) for i, it in enumerate(res.card.items[:8])}


def test_result_cells_holding_shared_formulas_are_compared_like_full_ones(tmp_path):
    """Excel, saving the 评分 sheet, may share any filled-down formulas: the
    cached results are compared with the recomputation all the same."""
    good = EXAMPLE_2005.read_bytes()
    points = _engine_points(tmp_path)
    cells = list(points)

    def cached(shared: bool, wrong: str | None = None):
        def edit(x: bytes) -> bytes:
            x = _as_formulas(x, cells, shared)
            for c in cells:  # each cell's own cached result
                value = "0.5" if c == wrong else points[c]
                x = re.sub(rb'(<c r="' + c.encode() + rb'">.*?<v>)3(</v>)', rb"\g<1>" + value.encode() + rb"\2", x)
            return x
        return lambda d: _edit_sheet(d, "评分", edit)

    for wrong in (None, "G6"):
        res_s, shown_s = _score(tmp_path, "s.xlsx", cached(True, wrong)(good))
        res_f, shown_f = _score(tmp_path, "f.xlsx", cached(False, wrong)(good))
        assert shown_s == shown_f
        tamper = [p for p in shown_s if "重新计算为" in p[1]]
        assert [p[0] for p in tamper] == ([] if wrong is None else ["F 评分!G6"])
        assert res_s.to_dict()["total"] == res_f.to_dict()["total"]


@pytest.mark.parametrize("anchor, dependent", [
    (b'<f t="shared" ref="D116:D121" si="0">1+2</f>', b'<f t="shared" si="7"/>'),  # no formula has si 7
    (b"<f>1+2</f>", b'<f t="shared" si="0"/>'),  # the anchor is not shared: si 0 is defined nowhere
    (b'<f t="shared" ref="D116:D121" si="x">1+2</f>', b'<f t="shared" si="x"/>'),  # si as text
    (b'<f t="shared" ref="D116:D121" si="\xd9\xa3">1+2</f>', b'<f t="shared" si="\xd9\xa3"/>'),  # an Arabic-Indic 3
    (b'<f t="shared" ref="D116:D121" si="0">1+2</f>', b'<f t="shared" si=" 0"/>'),  # si with a space
])
def test_broken_shared_formulas_are_never_read_as_values(anchor, dependent, tmp_path):
    good = EXAMPLE_2005.read_bytes()
    data = _edit_sheet(good, "填报", lambda x: _as_formulas(x, MEDIA, True, "3", anchor, dependent))
    res, shown = _score(tmp_path, "x.xlsx", data)
    hits = {p[0] for p in shown if "输入单元格中是公式" in p[1] and p[2] == "error"}
    assert hits == {f"F 填报!{c}" for c in MEDIA}  # the cached 3 counts nowhere
    assert all("内部错误" not in p[1] and "Traceback" not in p[1] for p in shown)
    _scans_of(data, "填报")


@pytest.mark.parametrize("ref, message", [
    ("D116:D20000", "超出模板的范围"),  # past the last row
    ("D116:GS121", "超出模板的范围"),  # past the last column (GR = 200)
    ("D116:D", "无效"),
    ("D116:D121:D122", "无效"),
])
def test_a_shared_formula_range_outside_the_sheet_is_refused(ref, message, tmp_path):
    good = EXAMPLE_2005.read_bytes()
    data = _edit_sheet(good, "填报", lambda x: _as_formulas(
        x, MEDIA, True, "3", f'<f t="shared" ref="{ref}" si="0">1+2</f>'.encode()))
    res, shown = _score(tmp_path, "x.xlsx", data)
    assert res.status == "failed"
    assert any(p[0] == "F 填报!D116" and "共享公式范围" in p[1] and message in p[1] for p in shown), shown
    _, err = _scans_of(data, "填报")
    assert err is not None and err.where == "D116"


# -- parts unpacked once per process -------------------------------------------------------


def test_an_entry_stored_like_one_read_before_is_still_checked(tmp_path):
    """The 评分 part of every workbook of a batch is stored byte for byte alike
    and unpacked once; the same stored bytes with a wrong CRC, or other stored
    bytes under the same CRC, are still refused."""
    good = EXAMPLE_2005.read_bytes()
    part = hostile.sheet_part(good, "评分")
    first, _ = _score(tmp_path, "a.xlsx", good)
    again, _ = _score(tmp_path, "b.xlsx", good)
    assert first.to_dict()["total"] == again.to_dict()["total"]
    for name, data in [("crc.xlsx", hostile.bad_crc(good, part)),
                       ("other.xlsx", _flip_stored_byte(good, part))]:
        res, shown = _score(tmp_path, name, data)
        assert res.status == "failed", shown
        assert any("无法解压或校验失败" in p[1] for p in shown), shown


def _flip_stored_byte(data: bytes, part: str) -> bytes:
    """One byte in the middle of *part*'s compressed bytes changed (its CRC left as it was)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(part)
    raw = bytearray(data)
    n, m = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    at = info.header_offset + 30 + n + m + info.compress_size // 2
    raw[at] ^= 0x55
    return bytes(raw)


def test_a_table_read_by_its_filled_rows_equals_reading_every_row(tmp_path):
    """Reading only the rows where the table's columns hold cells gives what
    reading every row through calamine gives (rows, values, locations, and data
    below the table reported), shared formulas or not."""
    from rubric_xl.reader import read_meta, read_submission, resolve_pack

    example = ROOT / "examples" / "xinzhou-2024-xinfu.xlsx"
    below = _edit_sheet(example.read_bytes(), "台账", lambda x: hostile.append_row(
        x, '<row r="700"><c r="B700" t="inlineStr"><is><t>表外企业</t></is></c></row>'.encode()))
    for data in (example.read_bytes(), below):
        path = tmp_path / "l.xlsx"
        path.write_bytes(data)
        got = []
        for via_calamine in (False, True):
            book = open_workbook(path)
            if via_calamine:
                book._values.pop("台账")  # as when a cell of it is not plainly written
                assert book.rows_in("台账", {2}) is None
            meta, _ = read_meta(book)
            pack, _ = resolve_pack(book, meta, None)
            sub = read_submission(book, pack, meta)
            got.append((sub.raw, sub.locs, [(p.loc, p.msg) for p in sub.problems]))
        assert got[0] == got[1]
        assert len(got[0][0]["enterprises"]) >= 3
    assert any("之外" in msg for _, msg in got[0][2])  # the row below the table, reported both ways


def test_extract_refuses_shared_formula_inputs_like_full_ones(tmp_path):
    from rubric_xl.errors import FactsError
    from rubric_xl.reader import extract_facts

    good = EXAMPLE_2005.read_bytes()
    seen = []
    for shared in (True, False):
        path = tmp_path / f"{shared}.xlsx"
        path.write_bytes(_edit_sheet(good, "填报", lambda x: _as_formulas(x, MEDIA, shared)))
        with pytest.raises(FactsError) as exc:
            extract_facts(path)
        seen.append(sorted((p.loc.replace(str(path), "F"), p.msg) for p in exc.value.problems))
    assert seen[0] == seen[1]
    assert {loc for loc, msg in seen[0] if "输入单元格中是公式" in msg} >= {f"F 填报!{c}" for c in MEDIA}
