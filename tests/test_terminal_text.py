"""Text printed to a terminal cannot drive it: a submitted file's name (or a
value in it) with an escape sequence is shown, not obeyed (issue 8: hostile
input; noted last session as rich passing ESC through)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from rubric_xl.sheettext import terminal_text

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "shanxi-2005-full.xlsx"
RULES = REPO / "rules"

# the characters a terminal acts on: ESC (7-bit CSI/OSC), BEL, CR, BS, DEL,
# the 8-bit CSI and OSC, and the bidi overrides that reorder a line
ACTIVE = ["\x1b", "\x07", "\r", "\x08", "\x7f", "\x9b", "\x9d", "\u202e", "\u2066", "\u200f"]

# two spellings of each attack: a 7-bit and an 8-bit control sequence, and a bidi reordering
NAMES = [
    "\x1b]0;pwned\x07运城市.xlsx",      # OSC: set the window title
    "\x1b[2J\x1b[H太原市.xlsx",         # CSI: clear the screen
    "\x9b2J大同市.xlsx",                # 8-bit CSI
    "\u202exslx.市州忻.xlsx",           # right-to-left override: shows a different name
]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from rubric_xl.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=300, errors="surrogateescape")


def _active(text: str) -> list[str]:
    return [c for c in ACTIVE if c in text]


@pytest.mark.parametrize("name", NAMES)
def test_a_file_name_with_a_control_sequence_is_shown_not_obeyed(tmp_path, name):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / name)
    (folder / ("坏" + name)).write_bytes(b"not a zip")  # an error message names it too
    for fmt in ("table", "json", "csv"):
        r = _cli("score", str(folder), "--rules", str(RULES), "--format", fmt)
        assert r.returncode == 1, r.stderr  # the broken file fails, the batch goes on
        assert not _active(r.stdout), (fmt, r.stdout[:500])
        assert not _active(r.stderr), (fmt, r.stderr[:500])
        assert "内部错误" not in r.stderr and "Traceback" not in r.stderr
        if fmt == "json":
            json.loads(r.stdout)  # the escapes keep it valid JSON
        shown = r.stdout + r.stderr
        if fmt != "csv":  # csv cells replace a control character by a space (sheettext.clean_text)
            assert "\\u%04x" % ord(name[0]) in shown, shown[:800]


def _quiet(c: str) -> bool:
    o = ord(c)
    return c in "\n\t" or not (o < 0x20 or 0x7f <= o <= 0x9f or c in "\u061c\u200e\u200f"
                                 or 0x202a <= o <= 0x202e or 0x2066 <= o <= 0x2069)


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2100), max_size=40))
def test_terminal_text_leaves_no_active_character_and_keeps_the_rest(s):
    out = terminal_text(s)
    assert not _active(out.replace("\r\n", "\n"))
    assert terminal_text(out) == out  # idempotent: an escape is itself quiet text
    quiet = "".join(c for c in s if _quiet(c) and c != "\r")
    assert terminal_text(quiet) == quiet  # quiet text is never touched
    assert len(out) >= len(s)


def test_a_line_ending_is_kept_but_a_bare_carriage_return_is_shown():
    assert terminal_text("a,b\r\nc") == "a,b\r\nc"
    assert terminal_text("总分 95\r总分 100") == "总分 95\\u000d总分 100"


def test_plain_chinese_text_is_unchanged():
    s = "第19项（评分!H31）：0.00分\t未报\n总分 95.50"
    assert terminal_text(s) == s


# a value that looks like rich markup: a closing tag that matches nothing made
# rich raise MarkupError (a crash), an opening one would restyle the text
MARKUP = ["[/red]某砖瓦厂", "[bold]某洗煤厂[/bold]", "\\[/]某厂[link=file:///etc/passwd]"]


@pytest.mark.parametrize("name", MARKUP)
def test_a_value_that_looks_like_markup_is_printed_as_written(tmp_path, name):
    import yaml

    facts = yaml.safe_load((REPO / "examples" / "xinzhou-2024-xinfu.yaml").read_text(encoding="utf-8"))
    facts["enterprises"][0]["enterprise_name"] = name
    # a row check fires on it, so the name appears in the problems table too
    facts["enterprises"][0]["deregistered_date"] = facts["enterprises"][0]["listed_date"].replace(day=1)
    path = tmp_path / "facts.yaml"
    path.write_text(yaml.safe_dump(facts, allow_unicode=True), encoding="utf-8")
    r = _cli("score", "--rules", str(RULES / "xinzhou-2024.yaml"), "--facts", str(path), "--format", "table")
    assert "内部错误" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert name.replace("\\[", "[")[:6] in r.stdout.replace("\n", "") or name[:6] in r.stdout, r.stdout[:1500]
