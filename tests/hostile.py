"""A corpus of hostile submission workbooks, made from a good one by code.

Each case is a function ``good xlsx bytes -> hostile bytes`` plus the exact
outcome the auditor must give: the file's status, where the problem is
(``填报!XFD1048576``, ``_meta``, a fact id …, or ``""`` for the file itself)
and a fragment of the Chinese message.  Cases come in families, each with
more than one spelling of the same attack.  Importable by any test:

    from hostile import CASES, build
    data = build("huge_cell_xfd", good_bytes)
"""
from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass
from typing import Callable

INPUT_FACT = "weekly_reports_count"  # an int fact on 填报 (item 10)
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_TYPE = REL_NS + "/worksheet"


# -- zip plumbing ------------------------------------------------------------------------


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def rezip(files: dict[str, bytes] | list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    items = files.items() if isinstance(files, dict) else files
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, body in items:
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), body, compress_type=method)
    return out.getvalue()


def change(data: bytes, part: str, edit: Callable[[bytes], bytes]) -> bytes:
    files = parts(data)
    new = edit(files[part])
    assert new != files[part], f"the edit of {part} changed nothing"
    files[part] = new
    return rezip(files)


def sheet_part(data: bytes, sheet: str) -> str:
    """The zip path of *sheet* (read with regular expressions: test plumbing only)."""
    files = parts(data)
    book = files["xl/workbook.xml"].decode()
    rid = re.search(r'<sheet [^>]*name="' + re.escape(sheet) + r'"[^>]*r:id="([^"]+)"', book).group(1)
    rels = files["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(r'<Relationship [^>]*Id="' + rid + r'"[^>]*/?>', rels).group(0)
    target = re.search(r'Target="([^"]+)"', target).group(1)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def name_cell(data: bytes, name: str) -> tuple[str, str]:
    """(sheet, ``D28``) of a workbook-scoped defined name."""
    book = parts(data)["xl/workbook.xml"].decode()
    text = re.search(r'<definedName name="' + name + r'"[^>]*>([^<]+)<', book).group(1)
    sheet, cell = text.rsplit("!", 1)
    return sheet.strip("'"), cell.replace("$", "")


def replace_cell(xml: bytes, ref: str, new: bytes) -> bytes:
    """Replace the ``<c r="ref">`` element (empty or not) of a sheet's XML by *new*."""
    pat = re.compile(rb'<c r="' + ref.encode() + rb'"(?:[^>]*?/>|[^>]*?>.*?</c>)', re.S)
    out, n = pat.subn(new.replace(b"\\", b"\\\\"), xml, count=1)
    assert n == 1, ref
    return out


def append_row(xml: bytes, row: bytes) -> bytes:
    return xml.replace(b"</sheetData>", row + b"</sheetData>", 1)


def set_name(data: bytes, name: str, text: str) -> bytes:
    def edit(book: bytes) -> bytes:
        return re.sub(rb'(<definedName name="' + name.encode() + rb'"[^>]*>)[^<]*(<)',
                      lambda m: m.group(1) + text.encode() + m.group(2), book, count=1)
    return change(data, "xl/workbook.xml", edit)


def drop_name(data: bytes, name: str) -> bytes:
    return change(data, "xl/workbook.xml",
                  lambda b: re.sub(rb'<definedName name="' + name.encode() + rb'"[^>]*>[^<]*</definedName>', b"", b))


def input_sheet_edit(data: bytes, edit: Callable[[bytes, str], bytes]) -> bytes:
    sheet, cell = name_cell(data, INPUT_FACT)
    return change(data, sheet_part(data, sheet), lambda x: edit(x, cell))


def bad_crc(data: bytes, part: str) -> bytes:
    """*data* with the CRC-32 of *part* wrong in both the local and the central header."""
    raw = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(part)
        pos = zf.start_dir  # the central directory
    wrong = struct.pack("<I", (info.CRC ^ 0xDEADBEEF) & 0xFFFFFFFF)
    raw[info.header_offset + 14:info.header_offset + 18] = wrong
    while pos >= 0:
        name_len = struct.unpack("<H", raw[pos + 28:pos + 30])[0]
        if raw[pos + 46:pos + 46 + name_len] == part.encode():
            raw[pos + 16:pos + 20] = wrong
            break
        pos = raw.find(b"PK\x01\x02", pos + 4)
    return bytes(raw)


def add_sheet(data: bytes, name: str, state: str, body: bytes, part: str = "xl/worksheets/sheet99.xml") -> bytes:
    """A new sheet (with its relationship and part) appended to the workbook."""
    files = parts(data)
    files["xl/workbook.xml"] = files["xl/workbook.xml"].replace(
        b"</sheets>", f'<sheet name="{name}" sheetId="99" state="{state}" r:id="rId99"/></sheets>'.encode(), 1)
    files["xl/_rels/workbook.xml.rels"] = files["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rId99" Type="{WORKSHEET_TYPE}" Target="/{part}"/></Relationships>'.encode(), 1)
    files[part] = body
    return rezip(files)


def sheet_xml(cells: bytes, dimension: bytes = b"A1") -> bytes:
    return (b'<worksheet xmlns="' + MAIN_NS.encode() + b'"><dimension ref="' + dimension + b'"/><sheetData>'
            + cells + b"</sheetData></worksheet>")


# -- the cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One hostile workbook and the outcome it must get."""

    build: Callable[[bytes], bytes]
    status: str  # "failed" (cannot be scored) | "error" (scored, with an error) | "ok"/"provisional" (warning)
    where: str  # the problem's location after the file name: "填报!XFD1048576", ": total_points", "" (the file)
    msg: str  # a fragment of the Chinese message
    level: str = "error"


def _far_cell(ref: bytes, value: bytes = b"<v>1</v>") -> Callable[[bytes], bytes]:
    return lambda d: input_sheet_edit(d, lambda x, _: append_row(x, b'<row r="' + re.sub(rb"[A-Za-z]", b"", ref)
                                                                 + b'"><c r="' + ref + b'">' + value + b"</c></row>"))


def _formula(tag: bytes) -> Callable[[bytes], bytes]:
    """A formula typed into the input cell, with its cached result 20, the <c …> tag spelled *tag*."""
    return lambda d: input_sheet_edit(d, lambda x, cell: replace_cell(
        x, cell, tag.replace(b"{cell}", cell.encode()) + b"<f>10+10</f><v>20</v></c>"))


def _formula_without_r(d: bytes) -> bytes:
    """The input cell's row rewritten so the cells carry no r: positions come from order."""
    def edit(x: bytes, cell: str) -> bytes:
        col = re.match(r"[A-Z]+", cell).group(0)
        row = cell[len(col):]
        n = sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(col)))
        cells = b"".join(b"<c/>" for _ in range(n - 1)) + b"<c><f>10+10</f><v>20</v></c>"
        new, k = re.subn(rb'<row r="' + row.encode() + rb'"[^>]*>.*?</row>',
                         b'<row r="' + row.encode() + b'">' + cells + b"</row>", x, count=1, flags=re.S)
        assert k == 1
        return new
    return input_sheet_edit(d, edit)


def _case_rels(d: bytes) -> bytes:
    """The input sheet's relationship target spelled in upper case, and a formula in the cell."""
    d = _formula(b'<c r="{cell}">')(d)
    sheet, _ = name_cell(d, INPUT_FACT)
    part = sheet_part(d, sheet)
    target = part[len("xl/"):].encode()
    return change(d, "xl/_rels/workbook.xml.rels", lambda x: x.replace(b'"' + target + b'"', b'"' + target.upper() + b'"')
                  .replace(b'"/' + part.encode() + b'"', b'"/' + part.upper().encode() + b'"'))


def _case_entry(d: bytes) -> bytes:
    """The input sheet's zip entry renamed to upper case (the relationship unchanged), with a formula."""
    d = _formula(b'<c r="{cell}">')(d)
    sheet, _ = name_cell(d, INPUT_FACT)
    part = sheet_part(d, sheet)
    return rezip([(n.upper() if n == part else n, b) for n, b in parts(d).items()])


def _crc(d: bytes) -> bytes:
    d = _formula(b'<c r="{cell}">')(d)
    sheet, _ = name_cell(d, INPUT_FACT)
    return bad_crc(d, sheet_part(d, sheet))


def _duplicate_cell(first_formula: bool) -> Callable[[bytes], bytes]:
    def build(d: bytes) -> bytes:
        def edit(x: bytes, cell: str) -> bytes:
            f = b'<c r="' + cell.encode() + b'"><f>10+10</f><v>20</v></c>'
            v = b'<c r="' + cell.encode() + b'"><v>20</v></c>'
            return replace_cell(x, cell, f + v if first_formula else v + f)
        return input_sheet_edit(d, edit)
    return build


def _name_at(sheet_expr: str) -> Callable[[bytes], bytes]:
    return lambda d: set_name(d, INPUT_FACT, sheet_expr)


def _hidden_sheet(state: str) -> Callable[[bytes], bytes]:
    """A (very) hidden sheet holding a clean value, and the input's name pointed at it."""
    def build(d: bytes) -> bytes:
        d = add_sheet(d, "备用", state, sheet_xml(b'<row r="1"><c r="A1"><v>20</v></c></row>'))
        return set_name(d, INPUT_FACT, "'备用'!$A$1")
    return build


def _duplicate_sheet(second: str) -> Callable[[bytes], bytes]:
    def build(d: bytes) -> bytes:
        sheet, _ = name_cell(d, INPUT_FACT)
        return add_sheet(d, second, "visible", parts(d)[sheet_part(d, sheet)])
    return build


def _broken_target(d: bytes) -> bytes:
    sheet, _ = name_cell(d, INPUT_FACT)
    part = sheet_part(d, sheet)
    return rezip({n: b for n, b in parts(d).items() if n != part})


def _retarget(d: bytes, target: str) -> bytes:
    """The input sheet's relationship pointed at another part of the package."""
    sheet, _ = name_cell(d, INPUT_FACT)
    part = sheet_part(d, sheet)
    return change(d, "xl/_rels/workbook.xml.rels", lambda x: x.replace(
        f'Target="/{part}"'.encode(), f'Target="/xl/{target}"'.encode()).replace(
        f'Target="{part[3:]}"'.encode(), f'Target="{target}"'.encode()))


def _missing_rel(d: bytes) -> bytes:
    sheet, _ = name_cell(d, INPUT_FACT)
    rid = re.search(rb'<sheet [^>]*name="' + sheet.encode() + rb'"[^>]*r:id="([^"]+)"',
                    parts(d)["xl/workbook.xml"]).group(1)
    return change(d, "xl/_rels/workbook.xml.rels",
                  lambda x: re.sub(rb'<Relationship [^>]*Id="' + rid + rb'"[^>]*/>', b"", x))


def _duplicate_entry(case_changed: bool) -> Callable[[bytes], bytes]:
    def build(d: bytes) -> bytes:
        sheet, _ = name_cell(d, INPUT_FACT)
        part = sheet_part(d, sheet)
        clean = parts(d)[part]
        dirty = parts(_formula(b'<c r="{cell}">')(d))[part]
        items = list(parts(d).items()) + [(part.upper() if case_changed else part, dirty)]
        items = [(n, clean if n == part else b) for n, b in items]
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
            return rezip(items)
    return build


def _strings_bomb(count: bytes) -> Callable[[bytes], bytes]:
    """A shared-strings table that declares *count* strings (calamine reserves that many)."""
    def build(d: bytes) -> bytes:
        files = parts(d)
        sst = b'<sst xmlns="' + MAIN_NS.encode() + b'" count="1" uniqueCount="' + count + b'"><si><t>x</t></si></sst>'
        files["xl/sharedStrings.xml"] = sst
        return rezip(files)
    return build


def _ratio_bomb(d: bytes) -> bytes:
    files = parts(d)
    files["xl/styles.xml"] = files["xl/styles.xml"].replace(
        b"</styleSheet>", b"<!--" + b" " * (40 * 1024 * 1024) + b"--></styleSheet>")
    return rezip(files)


def _entity_bomb(part_of: Callable[[bytes], str]) -> Callable[[bytes], bytes]:
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;'
           b'&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')

    def build(d: bytes) -> bytes:
        part = part_of(d)
        return change(d, part, lambda x: lol + re.sub(rb"^<\?xml[^>]*\?>", b"", x).replace(b"<row ", b"<row x=\"&lol3;\" ", 1)
                      if b"<row " in x else lol + re.sub(rb"^<\?xml[^>]*\?>", b"", x))
    return build


def _renamed_then_hidden(d: bytes) -> bytes:
    """填报 renamed to 数据 (names follow), a hidden sheet added, every input name pointed at it."""
    sheet, _ = name_cell(d, INPUT_FACT)
    d = change(d, "xl/workbook.xml", lambda b: b.replace(f'name="{sheet}"'.encode(), 'name="数据"'.encode())
               .replace(f"'{sheet}'!".encode(), "'数据'!".encode()))
    d = add_sheet(d, "备用", "hidden", sheet_xml(b'<row r="1"><c r="A1"><v>20</v></c></row>'))
    return change(d, "xl/workbook.xml", lambda b: re.sub(
        rb"(<definedName name=\"(?!info_|item_|category_|total|grade|eligible|provisional)[^\"]+\"[^>]*>)'\xe6\x95\xb0\xe6\x8d\xae'!",
        lambda m: m.group(1) + "'备用'!".encode(), b))


def _utf16(d: bytes) -> bytes:
    part = _input_part(d)
    return change(d, part, lambda x: ('<?xml version="1.0" encoding="UTF-16"?>' + re.sub(
        r"^<\?xml[^>]*\?>", "", x.decode())).encode("utf-16"))


def _array_spill(kind: bytes) -> Callable[[bytes], bytes]:
    """The label cell left of the input becomes an array formula (or data table) covering the
    input too; the input cell then holds only a cached 20, with no <f> of its own."""
    def build(d: bytes) -> bytes:
        def edit(x: bytes, cell: str) -> bytes:
            col = re.match(r"[A-Z]+", cell).group(0)
            row = cell[len(col):]
            left = chr(ord(col) - 1) + row
            x = replace_cell(x, left, b'<c r="' + left.encode() + b'"><f t="' + kind + b'" ref="' + left.encode()
                             + b":" + cell.encode() + b'">{10,20}</f><v>10</v></c>')
            return replace_cell(x, cell, b'<c r="' + cell.encode() + b'"><v>20</v></c>')
        return input_sheet_edit(d, edit)
    return build


def _name_twice(d: bytes, spelled: str) -> bytes:
    """A second workbook-scoped definition of the input's name (pointing at a clean cell)."""
    return change(d, "xl/workbook.xml", lambda b: b.replace(
        b"</definedNames>", f"<definedName name=\"{spelled}\">'_meta'!$B$9</definedName></definedNames>".encode(), 1))


def _input_part(d: bytes) -> str:
    return sheet_part(d, name_cell(d, INPUT_FACT)[0])


def _many_entries(d: bytes) -> bytes:
    files = parts(d)
    for i in range(5000):
        files[f"customXml/item{i}.xml"] = b"<a/>"
    return rezip(files, zipfile.ZIP_STORED)


D = "填报!"
CASES: dict[str, Case] = {
    # issue 8 part 3: cells and dimensions far outside the template
    "huge_cell_xfd": Case(_far_cell(b"XFD1048576"), "failed", D + "XFD1048576", "超出模板的范围"),
    "huge_cell_zz": Case(_far_cell(b"ZZ200000"), "failed", D + "ZZ200000", "超出模板的范围"),
    "huge_cell_lower_case": Case(_far_cell(b"xfd1048576"), "failed", D + "XFD1048576", "超出模板的范围"),
    "huge_cell_text": Case(_far_cell(b"AA20000", b'<is><t>x</t></is>'), "failed", D + "AA20000", "超出模板的范围"),
    "huge_dimension": Case(lambda d: input_sheet_edit(d, lambda x, _: re.sub(
        rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', x)), "failed", D + "A1:XFD1048576", "已用区域"),
    "huge_row_without_cells_r": Case(lambda d: input_sheet_edit(d, lambda x, _: append_row(
        x, b'<row r="1048576"><c><v>1</v></c></row>')), "failed", D + "A1048576", "超出模板的范围"),
    "bad_reference": Case(lambda d: input_sheet_edit(d, lambda x, _: append_row(
        x, b'<row r="200"><c r="D$200"><v>1</v></c></row>')), "failed", D + "D$200", "单元格引用"),
    "bad_row_number": Case(lambda d: input_sheet_edit(d, lambda x, _: append_row(
        x, b'<row r="2e2"><c><v>1</v></c></row>')), "failed", "填报", "行号"),
    # part 6: a formula typed into an input cell, however the tag is spelled
    "formula_plain": Case(_formula(b'<c r="{cell}">'), "error", "@cell", "输入单元格中是公式"),
    "formula_spaces": Case(_formula(b'<c r = "{cell}" >'), "error", "@cell", "输入单元格中是公式"),
    "formula_tab_newline": Case(_formula(b'<c\t\nr="{cell}"\n>'), "error", "@cell", "输入单元格中是公式"),
    "formula_prefixed": Case(lambda d: input_sheet_edit(d, lambda x, cell: replace_cell(
        x.replace(b"<worksheet ", b'<worksheet xmlns:x="' + MAIN_NS.encode() + b'" ', 1), cell,
        b'<x:c r="' + cell.encode() + b'"><x:f>10+10</x:f><x:v>20</x:v></x:c>')), "error", "@cell", "输入单元格中是公式"),
    "formula_without_r": Case(_formula_without_r, "error", "@cell", "输入单元格中是公式"),
    "formula_shared": Case(lambda d: input_sheet_edit(d, lambda x, cell: replace_cell(
        x, cell, b'<c r="' + cell.encode() + b'"><f t="shared" si="7"/><v>20</v></c>')), "error", "@cell",
        "输入单元格中是公式"),
    "formula_array_spill": Case(_array_spill(b"array"), "error", "@cell", "输入单元格中是公式"),
    "formula_data_table_spill": Case(_array_spill(b"dataTable"), "error", "@cell", "输入单元格中是公式"),
    "formula_rels_case": Case(_case_rels, "error", "@cell", "输入单元格中是公式"),
    "formula_entry_case": Case(_case_entry, "error", "@cell", "输入单元格中是公式"),
    "formula_bad_crc": Case(_crc, "failed", "", "无法解压或校验失败"),
    "formula_then_value": Case(_duplicate_cell(True), "failed", "@cell", "出现了两次"),
    "value_then_formula": Case(_duplicate_cell(False), "failed", "@cell", "出现了两次"),
    "formula_tag_upper_case": Case(lambda d: input_sheet_edit(d, lambda x, cell: replace_cell(
        x, cell, b'<c r="' + cell.encode() + b'"><F>10+10</F><v>20</v></c>')), "failed", "@cell", "无法识别的内容"),
    "sheet_in_utf16": Case(_utf16, "failed", "填报", "不是 UTF-8"),
    "sheet_declared_latin1": Case(lambda d: input_sheet_edit(d, lambda x, _: b'<?xml version="1.0" encoding="ISO-8859-1"?>'
                                  + re.sub(rb"^<\?xml[^>]*\?>", b"", x)), "failed", "填报", "编码"),
    "unparsable_sheet": Case(lambda d: input_sheet_edit(d, lambda x, _: x.replace(b"</sheetData>", b"</sheetdata>", 1)),
                             "failed", "填报", "XML 格式错误"),
    "entity_bomb_sheet": Case(_entity_bomb(_input_part), "failed", "填报", "文档类型声明"),
    "entity_bomb_workbook": Case(_entity_bomb(lambda d: "xl/workbook.xml"), "failed", "", "无法解析"),
    # part 7: names pointing elsewhere, or gone
    "name_at_meta": Case(_name_at("'_meta'!$B$2"), "error", ": " + INPUT_FACT, "应指向“填报”工作表"),
    "name_at_score": Case(_name_at("'评分'!$G$57"), "error", ": " + INPUT_FACT, "应指向“填报”工作表"),
    "name_at_score_unquoted": Case(_name_at("评分!G57"), "error", ": " + INPUT_FACT, "应指向“填报”工作表"),
    # only the 填报单位 fact lives on 基本信息 (conventions.unit_fact); any other input is refused there
    "name_at_info_unit_cell": Case(_name_at("'基本信息'!$B$3"), "error", ": " + INPUT_FACT, "应指向“填报”工作表"),
    "name_at_info_sheet_unquoted": Case(_name_at("基本信息!B4"), "error", ": " + INPUT_FACT, "应指向“填报”工作表"),
    "name_at_hidden_sheet": Case(_hidden_sheet("hidden"), "error", ": " + INPUT_FACT, "应指向“填报”工作表"),
    "name_at_very_hidden_sheet": Case(_hidden_sheet("veryHidden"), "error", ": " + INPUT_FACT, "应指向“填报”工作表"),
    "names_at_hidden_after_rename": Case(_renamed_then_hidden, "error", ": " + INPUT_FACT, "指向隐藏的工作表"),
    "name_at_range": Case(lambda d: set_name(d, INPUT_FACT, "'{0}'!${1}:${2}".format(
        name_cell(d, INPUT_FACT)[0], name_cell(d, INPUT_FACT)[1], "F200")), "error", ": " + INPUT_FACT, "应指向单个单元格"),
    "name_shared_cell": Case(lambda d: set_name(d, INPUT_FACT, "'{0}'!${1}".format(
        *name_cell(d, "survey_report_inaccurate_items"))), "error", ": survey_report_inaccurate_items",
        "与名称 weekly_reports_count 指向同一位置"),
    "name_sheet_scoped": Case(lambda d: change(d, "xl/workbook.xml", lambda b: re.sub(
        rb'<definedName name="' + INPUT_FACT.encode() + rb'"', b'<definedName name="' + INPUT_FACT.encode()
        + b'" localSheetId="2"', b, count=1)), "error", ": " + INPUT_FACT, "只定义在某个工作表内"),
    "name_defined_twice": Case(lambda d: _name_twice(d, INPUT_FACT), "failed", "", "被定义了两次"),
    "name_defined_twice_other_case": Case(lambda d: _name_twice(d, INPUT_FACT.upper()), "failed", "",
                                          "被定义了两次"),
    "total_points_deleted": Case(lambda d: drop_name(d, "total_points"), "ok", ": total_points",
                                 "找不到名称 total_points", "warning"),
    "item_points_deleted": Case(lambda d: drop_name(d, "item_10_points"), "ok", ": item_10_points",
                                "找不到名称 item_10_points", "warning"),
    "total_points_moved": Case(lambda d: set_name(d, "total_points", "'填报'!$A$1"), "ok", ": total_points",
                               "应指向“评分”工作表", "warning"),
    # part 10: structure
    "duplicate_sheet_name": Case(_duplicate_sheet("填报"), "failed", "", "两个名为“填报”的工作表"),
    "duplicate_sheet_name_case": Case(_duplicate_sheet("_META"), "failed", "", "两个名为“_META”的工作表"),
    "broken_sheet_target": Case(_broken_target, "failed", "", "在文件中不存在"),
    "sheet_target_not_a_sheet": Case(lambda d: _retarget(d, "styles.xml"), "failed", "填报", "内容不是工作表"),
    "sheet_target_is_rels": Case(lambda d: _retarget(d, "_rels/workbook.xml.rels"), "failed", "填报",
                                 "内容不是工作表"),
    "missing_sheet_relationship": Case(_missing_rel, "failed", "", "在工作簿关系中找不到"),
    "duplicate_zip_entry": Case(_duplicate_entry(False), "failed", "", "重复或无效"),
    "duplicate_zip_entry_case": Case(_duplicate_entry(True), "failed", "", "重复或无效"),
    # zip and XML bombs
    "shared_strings_bomb": Case(_strings_bomb(b"99999999999999"), "failed", "", "字符串个数"),
    "shared_strings_bomb_plus": Case(_strings_bomb(b"+99999999999"), "failed", "", "字符串个数"),
    "ratio_bomb": Case(_ratio_bomb, "failed", "", "压缩比异常"),
    "too_many_entries": Case(_many_entries, "failed", "", "个部件"),
}


def build(case: str, good: bytes) -> bytes:
    return CASES[case].build(good)


def where(case: str, good: bytes) -> str:
    """The expected location after the file name (``@cell`` resolved to the input cell)."""
    w = CASES[case].where
    if w == "@cell":
        sheet, cell = name_cell(good, INPUT_FACT)
        return f"{sheet}!{cell}"
    return w

