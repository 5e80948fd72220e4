"""What offices print: every generated template, filled example and audit report
goes through headless LibreOffice to PDF, and the pages are checked.

* page counts per sheet (A4, the sheet name printed top right on every page
  tells which sheet a page belongs to);
* every cell's text appears whole (``pdftotext``): each non-empty cell of the
  print area — formula cells with LibreOffice's recalculated values, shown in
  their number format — is found in the text of its sheet's pages, all
  whitespace removed on both sides (wrapped text breaks lines anywhere); text
  cut at a page edge or shown as ``###`` fails;
* no two words of a page body overlap (text spilling out of a row too low for
  it runs into the next row);
* the helpers that size rows from text, and the yes/no questions marked as
  costing points, are tested against the engine.

This test never skips: without LibreOffice or poppler-utils it fails and says
how to install them.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

import lo
from conftest import full_marks_facts
from rubric_xl import load_pack, score
from rubric_xl._print import CJK_UNITS, lines_needed, row_height, text_units
from rubric_xl.cli import cli
from rubric_xl.workbook import template_bytes
from rubric_xl.workbook.sheet_input import COSTS, costly_answers

ROOT = Path(__file__).resolve().parents[1]
SHANXI = load_pack(ROOT / "rules" / "shanxi-2005.yaml")
XINZHOU = load_pack(ROOT / "rules" / "xinzhou-2024.yaml")
TEMPLATES = sorted((ROOT / "workbook_templates").glob("*.xlsx"))
EXAMPLES = sorted((ROOT / "examples").glob("*.xlsx"))
A4 = (595, 842)  # points, either orientation


# --- row heights from text --------------------------------------------------------


def test_cjk_counts_double_and_a_line_holds_what_fits():
    assert text_units("考核") == 2 * CJK_UNITS and text_units("ab") == 2 * 1.1 and CJK_UNITS > 1.9
    width = 5 * CJK_UNITS + 0.8  # room for exactly five CJK characters
    assert lines_needed("一二三四五", width) == 1
    assert lines_needed("一二三四五六", width) == 2  # one more character wraps
    assert lines_needed("一二三四五" * 3, width) == 3
    assert lines_needed("一二\n三", width) == 2  # explicit line breaks count
    assert lines_needed("", width) == lines_needed(None, width) == 1
    assert lines_needed("一二三四五", width, size=16) == 2  # bigger type, fewer per line


def test_row_height_fits_the_tallest_cell():
    one = row_height([("短", 10, 11)])
    assert one == 14.4 + 4  # one line and its padding
    assert row_height([("短", 10, 11)], minimum=30) == 30
    assert row_height([("", 10, 11)]) == 18.0  # empty: the minimum
    tall = row_height([("短", 10, 11), ("很长的文字" * 6, 10, 11)])
    assert tall == round(lines_needed("很长的文字" * 6, 10) * 14.4 + 4, 1) > one
    # Excel refuses rows over 409 pt: 28 lines of 14.4 pt fit (407.2), 29 lines are capped
    five = 5 * CJK_UNITS + 0.8  # five characters a line
    assert row_height([("字" * (5 * 28), five, 11)]) == round(28 * 14.4 + 4, 1)
    assert row_height([("字" * (5 * 29), five, 11)]) == 409.0
    assert row_height([("字" * 100_000, five, 11)]) == 409.0


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="考核评分细则abc 12，。", max_size=80), st.text(alphabet="扣分x", max_size=20),
       st.floats(min_value=3, max_value=120))
def test_more_text_or_a_narrower_column_never_needs_fewer_lines(text, more, width):
    assert lines_needed(text + more, width) >= lines_needed(text, width)
    assert lines_needed(text, width) >= lines_needed(text, width + 5)
    assert row_height([(text, width, 11)]) >= lines_needed(text, width) * 14.4


# --- yes/no questions whose 是 costs points ---------------------------------------


def test_negative_questions_are_the_ones_where_yes_costs_points():
    costly = costly_answers(SHANXI)
    base = full_marks_facts()
    full = score(SHANXI, base)
    bools = [f.id for f in SHANXI.model.facts if f.type == "bool"]
    for fid in bools:
        flipped = score(SHANXI, {**base, fid: not base[fid]})
        lost = flipped.total < full.total
        answer = "否" if base[fid] else "是"  # the flipped answer
        assert lost == (costly.get(fid) == answer), fid
    # the cells the issue names (填报!D26, D66, D68, D69, D72, D81, D103) are negative questions
    wb = load_workbook(ROOT / "workbook_templates" / "shanxi-2005.xlsx")
    ws = wb["填报"]
    by_cell = {dn.attr_text.split("!")[1].replace("$", ""): name for name, dn in wb.defined_names.items()
               if dn.attr_text.startswith("'填报'!")}
    for coord in ("D26", "D66", "D68", "D69", "D72", "D81", "D103"):
        fid = by_cell[coord]
        assert costly.get(fid) == "是", (coord, fid)
        hint = ws[coord.replace("D", "E")]
        assert COSTS["是"] in hint.value and hint.font.color.rgb.endswith("C00000"), coord
        rules = [r for cf in ws.conditional_formatting if coord in str(cf.sqref) for r in cf.rules]
        assert [r.formula for r in rules] == [[f'{coord}="是"']], coord  # a typed 是 turns the cell red
    positive = next(f for f, a in costly.items() if a == "否")
    hint = ws.cell(range_boundaries(wb.defined_names[positive].attr_text.split("!")[1].replace("$", ""))[1], 5)
    assert COSTS["否"] in hint.value and COSTS["是"] not in hint.value
    assert sum(v == "是" for v in costly.values()) >= 7 and "否" in costly.values()


# --- rendering ----------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise AssertionError(f"{name} 未安装：请运行 `bash scripts/setup.sh --system`（安装 poppler-utils）")
    return path


def _to_pdf(files: list[Path], outdir: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="rxl-pdf-") as tmp:
        env = dict(os.environ, HOME=tmp)
        cmd = [lo.soffice(), f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}", "--headless",
               "--norestore", "--convert-to", "pdf", "--outdir", str(outdir), *map(str, files)]
        subprocess.run(cmd, env=env, capture_output=True, timeout=600)
    missing = [f.name for f in files if not (outdir / f"{f.stem}.pdf").is_file()]
    assert not missing, f"LibreOffice 没有输出 PDF：{missing}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, tuple[Path, Path, Path]]:
    """name → (workbook, LibreOffice-recalculated copy, PDF)."""
    root = tmp_path_factory.mktemp("print")
    books = root / "books"
    books.mkdir()
    for f in TEMPLATES + EXAMPLES:
        shutil.copy(f, books / f.name)
    # an audit report over the examples and two untouched templates (one unit twice)
    batch = root / "batch"
    batch.mkdir()
    for f in EXAMPLES:
        shutil.copy(f, batch / f.name)
    (batch / "运城市-空白.xlsx").write_bytes(template_bytes(SHANXI, "运城市"))
    (batch / "大同市.xlsx").write_bytes(template_bytes(SHANXI, "大同市"))
    res = CliRunner().invoke(cli, ["score", str(batch), "--format", "xlsx", "-o", str(books / "report.xlsx")])
    assert res.exit_code == 0, res.output
    files = sorted(books.glob("*.xlsx"))
    pdfs = root / "pdf"
    pdfs.mkdir()
    _to_pdf(files, pdfs)
    recalced = lo.recalc(files, root / "recalc", workers=1)
    return {f.stem: (f, r, pdfs / f"{f.stem}.pdf") for f, r in zip(files, recalced)}


def _pages(pdf: Path, sheets: list[str]) -> list[tuple[str, str]]:
    """(sheet, raw text) per page; the sheet is the one named in the page header."""
    text = subprocess.run([_tool("pdftotext"), "-raw", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    out = []
    for page in text.split("\f")[:-1]:
        head = page.split("\n", 1)[0]
        sheet = next((s for s in sorted(sheets, key=len, reverse=True) if head.endswith(" " + s)), "")
        out.append((sheet, page))
    return out


def _page_sizes(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run([_tool("pdfinfo"), "-f", "1", "-l", "999", str(pdf)], capture_output=True,
                          text=True, check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]


def _words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    out = subprocess.run([_tool("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
    return [[(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in word.findall(page)]
            for page in out.split("<page ")[1:]]


def _overlaps(words, top: float, bottom: float) -> list[tuple[str, str]]:
    """Pairs of words in the page body (between the header and footer) that overlap."""
    body = sorted(w for w in words if w[1] >= top and w[3] <= bottom)
    bad = []
    for i, a in enumerate(body):
        for b in body[i + 1:]:
            if b[0] >= a[2] - 1:
                break
            dx = min(a[2], b[2]) - max(a[0], b[0])
            dy = min(a[3], b[3]) - max(a[1], b[1])
            if dx > 1 and dy > 0.3 * min(a[3] - a[1], b[3] - b[1]):
                bad.append((a[4], b[4]))
    return bad


def _shown(value, fmt: str) -> str:
    """A cell value as the sheet shows it (the number formats the project writes)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (int, float)):
        if fmt == "0.00":
            return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"
        if fmt == "0":
            return str(round(value))
        d = Decimal(str(value))
        return format(d.normalize(), "f") if d != d.to_integral_value() else str(int(d))
    return str(value)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _print_area(ws) -> tuple[int, int, int, int]:
    if ws.print_area:
        return range_boundaries(ws.print_area.split("!")[-1].replace("$", ""))
    return 1, 1, ws.max_column, ws.max_row


def _cells(book: Path, recalced: Path):
    """(sheet, coordinate, text shown) for every non-empty cell of every visible sheet's print area."""
    from python_calamine import CalamineWorkbook

    wb = load_workbook(book)
    values = CalamineWorkbook.from_path(str(recalced))
    provisional = None
    if "provisional" in wb.defined_names:
        sheet, ref = next(iter(wb.defined_names["provisional"].destinations))
        rows = values.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        c, r, _, _ = range_boundaries(ref.replace("$", ""))
        provisional = lo.at(rows, r, c) == "是"
    shown_as_provisional = set()
    for name in ("grade", "eligible"):
        if provisional and name in wb.defined_names:
            for sheet, ref in wb.defined_names[name].destinations:
                shown_as_provisional.add((sheet, ref.replace("$", "")))
    for ws in wb:
        if ws.sheet_state != "visible":
            continue
        rows = values.get_sheet_by_name(ws.title).to_python(skip_empty_area=False)
        c1, r1, c2, r2 = _print_area(ws)
        for row in ws.iter_rows(min_row=r1, max_row=r2, min_col=c1, max_col=c2):
            for cell in row:
                if cell.value is None:
                    continue
                if (ws.title, cell.coordinate) in shown_as_provisional:
                    yield ws.title, cell.coordinate, "暂定"  # the grade reads 暂定 while the total is
                    continue
                value = lo.at(rows, cell.row, cell.column)
                yield ws.title, cell.coordinate, _shown(value, cell.number_format)


# Most pages each sheet may take: (book, sheet) → pages.  The 评分 table of 45
# items fits three landscape pages; a ledger prints its rows in use on one.
MAX_PAGES = {
    "填报说明": 2, "基本信息": 1, "填报": 5, "评分": 3, "台账": 1, "汇总": 1,
    "排名": 2, "各项得分": 4, "问题清单": 40, "台账情况": 1, "台账汇总": 2,
}


def _table_sheets() -> dict[str, int]:
    """A pack with several tables prints each on a sheet named by the table's
    label (docs/ARCHITECTURE.md): each has the budget of 台账."""
    from rubric_xl.rules.catalog import load_cached as _load

    out = {}
    for path in sorted((ROOT / "rules").glob("*.yaml")):
        pack = _load(path)
        ledgers = pack.model.ledgers if pack.model.kind == "ledger" else []
        if len(ledgers) > 1:
            out.update({pack.facts[led.table].label: MAX_PAGES["台账"] for led in ledgers})
    return out


MAX_PAGES.update(_table_sheets())


def test_every_sheet_prints_on_a4_within_its_page_budget(rendered):
    for name, (book, _, pdf) in rendered.items():
        wb = load_workbook(book)
        visible = [ws.title for ws in wb if ws.sheet_state == "visible"]
        sizes = _page_sizes(pdf)
        assert sizes and all(sorted((round(w), round(h))) == sorted(A4) for w, h in sizes), name
        pages = _pages(pdf, visible)
        assert len(pages) == len(sizes)
        counts = {s: sum(1 for p, _ in pages if p == s) for s in visible}
        assert all(p for p, _ in pages), f"{name}: a page without its sheet name in the header"
        assert [s for s in visible if counts[s]] == visible, f"{name}: every visible sheet prints"
        for sheet, n in counts.items():
            # a report of several ledger packs has one 台账汇总-<pack id> sheet each
            budget = MAX_PAGES[sheet] if sheet in MAX_PAGES else MAX_PAGES[sheet.split("-", 1)[0]]
            assert n <= budget, f"{name} {sheet}: {n} pages"
        for ws in wb:
            if ws.sheet_state == "visible":
                assert ws.page_setup.paperSize == 9 and ws.page_setup.fitToWidth == 1, (name, ws.title)
                wide = ws.title not in ("填报说明", "基本信息")  # the two one-column-ish sheets are portrait
                assert (ws.page_setup.orientation == "landscape") == wide, (name, ws.title)


def test_every_cells_text_appears_whole(rendered):
    for name, (book, recalced, pdf) in rendered.items():
        wb = load_workbook(book, read_only=True)
        sheets = [ws.title for ws in wb if ws.sheet_state == "visible"]
        wb.close()
        text: dict[str, str] = {}
        for sheet, page in _pages(pdf, sheets):
            text[sheet] = text.get(sheet, "") + _squash(page)
        missing = []
        checked = 0
        for sheet, coord, shown in _cells(book, recalced):
            if not shown.strip():
                continue
            checked += 1
            if _squash(shown) not in text.get(sheet, ""):
                missing.append(f"{sheet}!{coord} {shown[:40]!r}")
        assert checked > 50, name
        assert not missing, f"{name}: {len(missing)} cells not printed whole, e.g. {missing[:5]}"
        assert "###" not in "".join(text.values()), name


def test_no_text_overlaps_on_any_page(rendered):
    for name, (_, _, pdf) in rendered.items():
        for n, words in enumerate(_words(pdf), start=1):
            # the body lies between the page header (0.3 in) and footer zones
            bottom = max((w[3] for w in words), default=0) - 20
            bad = _overlaps(words, top=40, bottom=bottom)
            assert not bad, f"{name} 第{n}页：文字重叠 {bad[:3]}"


def test_untouched_template_prints_provisional_not_failed(rendered):
    _, recalced, pdf = rendered["shanxi-2005"]
    rows = lo.sheet_rows(recalced, "评分")
    total_row = next(i for i, r in enumerate(rows, start=1) if r[1] == "总分")
    assert lo.at(rows, total_row + 3, 7) == "是"  # 是否暂定
    score_pages = "".join(p for s, p in _pages(pdf, ["填报说明", "基本信息", "填报", "评分"]) if s == "评分")
    lines = [ln for ln in score_pages.splitlines()]
    assert any(re.search(r"暂定\s*0\.00", ln) for ln in lines)  # the total reads 暂定 0.00
    grade_line = next(ln for ln in lines if ln.startswith("等次"))
    assert "不合格" not in grade_line.split("有“待填”")[0]  # the grade cell reads 暂定, not 不合格
    full = rendered["shanxi-2005-full"][2]
    full_pages = "".join(p for s, p in _pages(full, ["填报说明", "基本信息", "填报", "评分"]) if s == "评分")
    assert not re.search(r"暂定\s*\d", full_pages)  # a complete submission is final


def test_ledger_prints_the_rows_in_use_with_headers_on_every_page():
    wb = load_workbook(ROOT / "examples" / "xinzhou-2024-xinfu.xlsx")
    ws = wb["台账"]
    names = wb.defined_names
    _, ref = next(iter(names["enterprises__enterprise_name"].destinations))
    c, first, _, last = range_boundaries(ref.replace("$", ""))
    used = max(r for r in range(first, last + 1) if ws.cell(r, c).value is not None)
    assert ws.print_area.endswith(f"${used}") and ws.print_title_rows == "$1:$2"
    assert ws.page_setup.orientation == "landscape"
    blank = load_workbook(ROOT / "workbook_templates" / "xinzhou-2024.xlsx")["台账"]
    assert blank.print_area.endswith("$22")  # an empty ledger prints as a 20-row blank form
    # errors and warnings wrap
    for key in ("ledger_errors", "ledger_warnings"):
        _, ref = next(iter(names[key].destinations))
        c, r, _, _ = range_boundaries(ref.replace("$", ""))
        assert ws.cell(r, c).alignment.wrap_text


def test_each_template_speaks_of_its_own_pack():
    for pack, other in ((XINZHOU, "2005-07-15"), (SHANXI, "2024-04-15")):
        wb = load_workbook(ROOT / "workbook_templates" / f"{pack.id}.xlsx")
        texts = " ".join(str(c.value) for ws in wb if ws.sheet_state == "visible"
                         for row in ws.iter_rows() for c in row if isinstance(c.value, str))
        texts += " ".join(f"{dv.prompt} {dv.error}" for ws in wb for dv in ws.data_validations.dataValidation)
        assert other not in texts, pack.id
        if pack is XINZHOU:
            assert "留空表示未报" not in texts and "2024-04-15" in texts
        assert texts.count(f"（如 {pack.model.deadlines[0].date.isoformat()}）") >= 2  # guide and messages


def test_report_charts_print_whole_on_a_page_of_their_own(rendered):
    book, _, pdf = rendered["report"]
    wb = load_workbook(book)
    ws = wb["排名"]
    units = [ws.cell(r, 2).value for r in range(4, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, int)]
    cats = [c.value for c in ws[3]][9:]
    pages = _pages(pdf, wb.sheetnames)
    charts = [_squash(p) for s, p in pages if s == "排名" and "各单位总分" in p]
    assert len(charts) == 1, "the two charts share one page"
    page = charts[0]
    assert "各单位分类得分" in page and all(_squash(u) in page for u in units) and all(c in page for c in cats)
    table = [_squash(p) for s, p in pages if s == "排名" and "各单位总分" not in p]
    assert table and all(_squash(u) in "".join(table) for u in units)  # the table prints before the charts


def test_page_header_text_is_never_a_header_code():
    from openpyxl import Workbook

    from rubric_xl._print import page_setup

    for title, printed in (("甲&乙考核", "甲&&乙考核"), ("&P&N&[Page]", "&&P&&N&&[Page]")):
        ws = Workbook().active
        page_setup(ws, header=title)
        assert ws.oddHeader.left.text == printed
        assert ws.oddHeader.right.text == "&A" and "&P" in ws.oddFooter.center.text


def test_ledger_print_area_follows_the_rows_filled(tmp_path):
    from rubric_xl.samples import random_facts
    from rubric_xl.workbook import fill_workbook

    for rows, last in ((600, 602), (3, 5), (0, 22)):  # past the 500 reserved rows, fewer, none
        wb = load_workbook(ROOT / "workbook_templates" / "xinzhou-2024.xlsx")
        facts = random_facts(XINZHOU, rows, rows=rows)
        fill_workbook(wb, XINZHOU, facts)
        ws = wb["台账"]
        assert ws.print_area.endswith(f"${last}"), rows
        if rows:  # each filled row is at least as high as its longest wrapped cell needs
            card = score(XINZHOU, facts)
            _, ref = next(iter(wb.defined_names["ledger_warnings"].destinations))
            col = range_boundaries(ref.replace("$", ""))[0]
            width = ws.cell(3, col).parent.column_dimensions[ws.cell(3, col).column_letter].width
            for i, row in enumerate(card.rows[:50]):
                text = "；".join(p.message for p in row.warnings)
                assert ws.row_dimensions[3 + i].height >= lines_needed(text, width) * 14.4, i


def test_report_tells_units_apart_and_numbers_items(rendered):
    wb = load_workbook(rendered["report"][0])
    items = wb["各项得分"]
    heads = [c.value for c in items[3]]
    units = heads[3:]
    assert len(units) == len(set(units)) and sum(u.startswith("运城市") for u in units) == 2
    seqs = [items.cell(r, 1).value for r in range(4, items.max_row + 1)]
    assert seqs == list(range(1, len(seqs) + 1))  # 序号 numbers, in pack order
    for ws in wb:
        assert "审核结果" in ws["A1"].value and "版本" in ws["A2"].value and "生成时间" in ws["A2"].value


def test_grade_note_keeps_hostile_grade_names_as_text():
    from rubric_xl import load_pack_text
    from rubric_xl.workbook import build_template

    text = (ROOT / "rules" / "shanxi-2005.yaml").read_text(encoding="utf-8")
    for name in ('优"秀', '=优秀"&"x'):  # a quote, and a quote that would end the literal
        pack = load_pack_text(text.replace("name: 优秀", f"name: '{name}'", 1).replace("[优秀]", f"['{name}']"),
                              "hostile.yaml")
        assert any(g.name == name for g in pack.model.settings.grades)
        wb, layout = build_template(pack)
        note = wb["评分"].cell(layout.grade.row, 8).value
        assert note.startswith("=IF(provisional=") and name.replace('"', '""') in note
        assert note.count('"') % 2 == 0


def test_pack_text_that_looks_like_a_formula_stays_text():
    from rubric_xl import load_pack_text
    from rubric_xl.workbook import build_template

    text = (ROOT / "rules" / "shanxi-2005.yaml").read_text(encoding="utf-8")
    for evil in ("=1+1", '=HYPERLINK("http://x","点我")'):
        quoted = "'" + evil.replace("'", "''") + "'"
        src = text.replace("title: 山西省", f"title: {quoted}\n# ", 1)
        src = src.replace("label: 是否成立环保专项行动领导组", f"label: {quoted}", 1)
        pack = load_pack_text(src, "evil.yaml")
        assert pack.model.title == evil
        wb, layout = build_template(pack)
        cells = [c for ws in wb for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and c.value.startswith(evil)]
        assert len(cells) >= 3, evil  # the titles of 填报说明 and 评分, the fact's label on 填报
        assert all(c.data_type == "s" for c in cells), [c.coordinate for c in cells if c.data_type != "s"]


def test_remarks_column_is_free_and_never_scored(tmp_path):
    from rubric_xl.reader import extract_facts

    book = ROOT / "examples" / "shanxi-2005-full.xlsx"
    _, before, _ = extract_facts(book)
    wb = load_workbook(book)
    ws = wb["填报"]
    typed = 0
    for r in range(4, ws.max_row + 1):
        cell = ws.cell(r, 6)
        if cell.protection.locked is False:
            cell.value = "=1/0" if r % 2 else "本单位说明：数据来自年报"  # a formula-looking remark too
            typed += 1
    assert typed == len([f for f in SHANXI.model.facts if f.type != "table"])
    out = tmp_path / "备注.xlsx"
    wb.save(out)
    _, after, _ = extract_facts(out)
    assert after == before
