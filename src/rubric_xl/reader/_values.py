"""A plainly written cell's value, decoded from the sheet XML as python-calamine
would return it, or :data:`UNSURE`.

The byte-level scan (:func:`._scan.fast_scan`) keeps each cell's attributes,
``<v>`` text and inline string; this module turns the ones a template holds
into calamine's values: numbers as floats, ``t="b"`` as bools, ``t="str"``
and one-run inline strings as text, error values and cells without a value as
``""``, and a whole serial number in a cell whose number format is a date as
a ``date``.  Anything else (shared strings, rich text, times, fractional or
out-of-range dates, a style whose format is not surely a number or a date, a
carriage return, an ``_xHHHH_`` escape, an inline string with whitespace at an
end and no ``xml:space="preserve"`` (calamine trims it) …) is :data:`UNSURE`: the sheet is then read by calamine, the
reference (``tests/test_reader_values.py`` compares both).
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from ._scan import CELL_T, CELL_TYPES, ScanError, by_content, parse, safe_parser

UNSURE = object()  # "ask calamine"

NUMBER, DATE, OTHER = "number", "date", "other"  # what a style's number format makes of a number
_NUMBER_IDS = frozenset({0, 1, 2, 3, 4, 9, 10, 11, 37, 38, 39, 40, 48, 49})  # built-in, never dates
_DATE_IDS = frozenset({14, 15, 16, 17})  # built-in dates without a time part
_NUM = re.compile(rb"-?[0-9]{1,17}(?:\.[0-9]{1,17})?(?:[eE][-+]?[0-9]{1,3})?")
_S = re.compile(rb'[ \t\r\n]s="([0-9]{1,6})"')
_ONE_RUN = re.compile(rb'<t( xml:space="preserve")?>([^<]*)</t>')
_XESC = re.compile(rb"_[xX][0-9A-Fa-f]{4}_")  # Excel's ST_Xstring escape: calamine decodes it
_REF = re.compile(r"&(?:#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6})|(lt|gt|amp|quot|apos));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_EPOCH = {False: _dt.date(1899, 12, 30), True: _dt.date(1904, 1, 1)}
SERIAL_MIN, SERIAL_MAX = 61, 2_958_465  # 1900-03-01 … 9999-12-31 (rules.contract)


def format_kind(code: str) -> str:
    """:data:`DATE` for a custom format that surely shows a date without a
    time, :data:`NUMBER` for one that surely shows a number, else :data:`OTHER`."""
    first = code.split(";", 1)[0]
    if "[" in first or "*" in first:
        return OTHER  # colours, conditions, elapsed times, fills: not worth guessing
    plain = re.sub(r'"[^"]*"|\\.|_.', "", first)
    if '"' in plain or "\\" in plain:
        return OTHER
    letters = {ch for ch in plain.lower() if ch.isalpha()}
    if not letters - {"e"} and re.fullmatch(r"[0#?.,%eE+\- ()@/]*", plain):
        return NUMBER if "/" not in plain and "@" not in plain or plain == "@" else OTHER
    if letters <= {"y", "m", "d"} and letters & {"y", "d"} and re.fullmatch(r"[ymdYMD\-/. ]*", plain):
        return DATE
    return OTHER


@by_content
def style_kinds(data: bytes) -> tuple[str, ...]:
    """The kind of each cell style (``cellXfs`` index) of a styles part, in one
    expat pass that also checks the part (DTD refused).  Raises ScanError."""
    codes: dict[int, str] = {}
    kinds: list[str] = []
    inside = [False]

    def start(name, attrs):
        local = name.rpartition(":")[2]
        if local == "numFmt":
            fid = attrs.get("numFmtId", "")
            if fid.isascii() and fid.isdigit():
                codes[int(fid)] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            inside[0] = True
        elif local == "xf" and inside[0]:
            fid = attrs.get("numFmtId", "0")
            if not (fid.isascii() and fid.isdigit()):
                kinds.append(OTHER)
            elif int(fid) in codes:
                kinds.append(format_kind(codes[int(fid)]))
            else:
                n = int(fid)
                kinds.append(NUMBER if n in _NUMBER_IDS else DATE if n in _DATE_IDS else OTHER)

    def end(name):
        if name.rpartition(":")[2] == "cellXfs":
            inside[0] = False

    p = safe_parser()
    p.StartElementHandler = start
    p.EndElementHandler = end
    parse(data, p)
    return tuple(kinds)


def _text(raw: bytes) -> str | object:
    if b"\r" in raw or _XESC.search(raw):
        return UNSURE
    if b"&" not in raw:
        return raw.decode("utf-8")

    def ref(m: re.Match) -> str:
        if m.group(3):
            return _NAMED[m.group(3)]
        n = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
        return chr(n) if n <= 0x10FFFF else "\ufffd"

    return _REF.sub(ref, raw.decode("utf-8"))  # expat checked every reference: no DTD, so no others


def decode(attrs: bytes, v: bytes, inline: bytes, kinds: tuple[str, ...] | None,
           date1904: bool) -> Any:
    """The value calamine returns for one cell (see the module text), or UNSURE.
    *v* is the ``<v>`` element (``b""`` without one), *inline* the ``<is>`` element (or ``b""``)."""
    m = CELL_T.search(attrs) if attrs else None
    t = m.group(1) if m else b"n"
    if t not in CELL_TYPES:
        return UNSURE  # calamine refuses an unknown type (with or without a value)
    if t == b"inlineStr":
        if v:
            return UNSURE
        if not inline:
            return ""
        one = _ONE_RUN.fullmatch(inline, 4, len(inline) - 5)
        if not one:
            return UNSURE
        text = _text(one.group(2))
        if not one.group(1) and isinstance(text, str) and text != text.strip(" \t\n\r"):
            return UNSURE  # calamine trims an inline string that does not preserve space
        return text
    if inline:
        return UNSURE
    v = v[3:-4] if v.startswith(b"<v>") else b""
    if not v:
        return ""
    if t == b"n":
        if not _NUM.fullmatch(v):
            return UNSURE
        s = _S.search(attrs) if attrs else None
        index = int(s.group(1)) if s else 0
        if kinds is None or index >= len(kinds):
            return UNSURE
        kind = kinds[index]
        if kind == NUMBER:
            return float(v)
        if kind == DATE:
            x = float(v)
            if x != int(x) or not (1 if date1904 else SERIAL_MIN) <= x <= SERIAL_MAX - (1462 if date1904 else 0):
                return UNSURE
            return _EPOCH[date1904] + _dt.timedelta(days=int(x))
        return UNSURE
    if t == b"str":
        return _text(v)
    if t == b"b":
        return True if v == b"1" else False if v == b"0" else UNSURE
    if t == b"e":
        return ""
    return UNSURE


__all__ = ["UNSURE", "decode", "style_kinds", "format_kind", "ScanError"]
