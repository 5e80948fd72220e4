"""Store filled-down formulas once: OOXML shared formulas.

openpyxl writes every formula in full, so a ledger's 500 prepared rows each
carry the same ~5 KB status formula shifted by one row.  Excel itself stores
such a column once: ``<f t="shared" ref="R3:R502" si="0">…</f>`` in the first
cell and ``<f t="shared" si="0"/>`` in the others; Excel, WPS, LibreOffice,
openpyxl and calamine all read it.  :func:`share_formulas` rewrites a sheet
part openpyxl has just written that way: consecutive cells of a column whose
formula is exactly the row translation of the first one (checked with
openpyxl's own :class:`~openpyxl.formula.translate.Translator`, the one
openpyxl uses to expand shared formulas when it reads them) become one group.
Array formulas, data tables and formulas already shared are left as written;
cached values (``<v>``) are kept.  The part is parsed and written with
ElementTree (the main namespace stays the default one, as openpyxl wrote it).
"""
from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from defusedxml.ElementTree import fromstring
from openpyxl.formula.tokenizer import Token, TokenizerError
from openpyxl.formula.translate import Translator, TranslatorError

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROW, _C, _F = f"{{{MAIN}}}row", f"{{{MAIN}}}c", f"{{{MAIN}}}f"
_REF = re.compile(r"([A-Z]{1,3})([0-9]+)")
MIN_GROUP = 2  # a formula shared by fewer cells is written in full


def _plain_formula(cell: ET.Element) -> ET.Element | None:
    """The cell's ``<f>`` when it is an ordinary formula with text."""
    f = cell.find(_F)
    if f is None or f.attrib or not f.text:
        return None
    return f


def share_formulas(xml: bytes) -> bytes:
    """*xml* (a worksheet part written by openpyxl) with each run of
    row-translated formulas of a column stored as one shared formula; the
    part unchanged when nothing can be shared."""
    if b"<f>" not in xml:
        return xml
    root = fromstring(xml)
    if root.tag != f"{{{MAIN}}}worksheet":
        return xml
    # column -> [(row, cell, <f>)] in row order (cells of a column appear in row order)
    columns: dict[str, list[tuple[int, ET.Element, ET.Element]]] = {}
    for row in root.iter(_ROW):
        for cell in row.iter(_C):
            f = _plain_formula(cell)
            m = _REF.fullmatch(cell.get("r", ""))
            if f is None or m is None:
                continue
            columns.setdefault(m.group(1), []).append((int(m.group(2)), cell, f))
    si = 0
    for col, cells in columns.items():
        for start, end in _runs(cells):
            if end - start < MIN_GROUP:
                continue
            first_row, _, anchor = cells[start]
            last_row = cells[end - 1][0]
            text = anchor.text
            anchor.attrib.update({"t": "shared", "ref": f"{col}{first_row}:{col}{last_row}", "si": str(si)})
            for _, _, f in cells[start + 1:end]:
                f.text = None
                f.attrib.update({"t": "shared", "si": str(si)})
            anchor.text = text
            si += 1
    if si == 0:
        return xml
    return _write(root)


def _write(root: ET.Element) -> bytes:
    """*root* written as openpyxl writes a sheet: the main namespace the
    default one (elements unprefixed), any other one with its usual prefix."""
    cut = len(MAIN) + 2
    for el in root.iter():
        if el.tag.startswith("{" + MAIN + "}"):
            el.tag = el.tag[cut:]
    root.set("xmlns", MAIN)
    return ET.tostring(root, encoding="unicode").encode("utf-8")


class _Shifted:
    """A formula and its row translations, as :class:`Translator` makes them
    (``translate_formula(row_delta=k)``), each distinct reference translated once."""

    def __init__(self, formula: str, row: int):
        tokens = Translator("=" + formula, origin=f"A{row}").get_tokens()
        self.ok = bool(tokens) and tokens[0].type != Token.LITERAL
        self.pieces: list[tuple[str, bool]] = []  # (text, is a reference); neighbouring texts joined
        for t in tokens:
            is_range = t.type == Token.OPERAND and t.subtype == Token.RANGE
            if not is_range and self.pieces and not self.pieces[-1][1]:
                self.pieces[-1] = (self.pieces[-1][0] + t.value, False)
            else:
                self.pieces.append((t.value, is_range))
        self._refs: dict[tuple[str, int], str] = {}

    def at(self, delta: int) -> str:
        refs, out = self._refs, ["="]
        for value, is_range in self.pieces:
            if is_range:
                key = (value, delta)
                shifted = refs.get(key)
                if shifted is None:
                    shifted = refs[key] = Translator.translate_range(value, delta, 0)
                value = shifted
            out.append(value)
        return "".join(out)


_LITERAL = re.compile(r'"(?:[^"]|"")*"')
_DIGITS = re.compile(r"[0-9]+")


def _may_translate(a: str, b: str) -> bool:
    """A cheap necessary condition for *b* to be a row translation of *a*:
    only digits outside text literals may differ."""
    return _DIGITS.sub("", a) == _DIGITS.sub("", b) and _LITERAL.findall(a) == _LITERAL.findall(b)


def _runs(cells: list[tuple[int, ET.Element, ET.Element]]) -> list[tuple[int, int]]:
    """[start, end) index ranges of *cells* (one column, row order): consecutive
    rows, each holding exactly the row translation of the run's first formula."""
    out = []
    i = 0
    while i < len(cells):
        row0, _, f0 = cells[i]
        j = i + 1
        shifted: _Shifted | None = None
        while j < len(cells) and cells[j][0] == row0 + (j - i):
            text = cells[j][2].text or ""
            try:
                if shifted is None:
                    if not _may_translate(f0.text or "", text):  # spares tokenizing in vain
                        break
                    shifted = _Shifted(f0.text or "", row0)
                same = shifted.ok and shifted.at(j - i) == "=" + text
            except (TokenizerError, TranslatorError):
                same = False
            if not same:
                break
            j += 1
        out.append((i, j))
        i = j
    return out
