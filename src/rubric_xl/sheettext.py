"""Text bound for a spreadsheet or a terminal: one sanitiser for every xlsx
writer, one formula-injection guard for every CSV and report, one guard for
text printed to a terminal.

An xlsx file (XML 1.0) cannot hold C0 control characters other than tab,
line feed and carriage return; openpyxl raises ``IllegalCharacterError`` on
them.  :func:`clean_text` turns each such character — a vertical tab pasted
from Word, a form feed, ``\\x00`` — into a space, and so does the OOXML escape
of one (``_x000B_``), which Excel would otherwise decode back into the
character.  Lone surrogates and U+FFFE/U+FFFF (not XML either) become spaces
too.  Everything else of the text survives unchanged.
"""
from __future__ import annotations

import re

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# _xHHHH_ escapes of those control characters (case-insensitive hex)
_ESCAPED = re.compile(r"_x(?:000[0-8bBcCeEfF]|001[0-9a-fA-F])_")
# what starts a formula, and the full-width forms a Chinese input method types
# instead (＝ ＋ － ＠): guarded too, in case a spreadsheet program folds them
_INJECT = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
MAX_CELL = 32767  # characters Excel shows in one cell
# what a terminal would act on rather than show: C0 controls but tab and line
# feed (ESC starts a colour, cursor or title sequence; BEL ends one; a CR
# not followed by a line feed overwrites the line), DEL, the C1 controls (U+009B is an 8-bit CSI), and the
# bidirectional controls that reorder what is shown (U+202A–U+202E,
# U+2066–U+2069, U+200E/U+200F, U+061C), and the lone surrogates a file name's undecodable bytes
# become (U+DC9B would go out as the raw byte 0x9B, an 8-bit CSI, and is not UTF-8)
_TERMINAL = re.compile("\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                       "\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(s: str) -> str:
    """*s* with every character an xlsx cannot hold (or its ``_xHHHH_``
    escape) replaced by a space."""
    if "_x" in s:
        s = _ESCAPED.sub(" ", s)
    return _ILLEGAL.sub(" ", s)


def safe_text(s: str) -> str:
    """Text a spreadsheet will not run as a formula (``'`` before = + - @ tab
    CR LF, and full-width ＝ ＋ － ＠), cleaned with :func:`clean_text`."""
    s = clean_text(s)
    return "'" + s if s.startswith(_INJECT) else s


def report_text(s: str) -> str:
    """Text for a report cell: cleaned, and cut (with “…”) to what one cell holds."""
    s = clean_text(s)
    return s if len(s) <= MAX_CELL else s[:MAX_CELL - 1] + "…"


def terminal_text(s: str) -> str:
    """*s* safe to print to a terminal: every control character a terminal
    would act on (see ``_TERMINAL``) is shown as its escape ``\\u001b`` —
    visible, and still valid inside a JSON string."""
    return _TERMINAL.sub(_escape, s)


def encodable_text(s: str) -> str:
    """*s* with each lone surrogate (an undecodable byte of a file name) shown as
    its escape ``\\udc9b``, so that it can be written as UTF-8."""
    return _SURROGATE.sub(_escape, s)


def _escape(m: re.Match) -> str:
    return "\\u%04x" % ord(m.group())
