"""What the terminal shows: Chinese help pages, and readable score output."""
from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from rubric_xl.cli import cli
from rubric_xl.cli.i18n import display_width

# Words that may stay in help text: product and format names, and what the user types.
ALLOWED = {
    "rubric", "xl", "YAML", "JSON", "Excel", "WPS", "xlwings", "Server", "uvicorn", "Office",
    "Microsoft", "HTTPS", "https", "pingfen", "example", "gov", "cn", "manifest", "xml", "csv",
    "xlsx", "SHA", "UTF", "YYYY", "MM", "DD", "RUBRIC_XL_RULES", "Markdown", "_meta", "meta",
    "rules", "cases", "yaml", "shanxi", "xinzhou", "cities", "bodies",
}


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    yield path, group
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path + (name,))
        else:
            yield path + (name,), cmd


ALL = list(_commands(cli))
NAMES = {n for path, _ in ALL for n in path}


def _english_words(text: str, cmd: click.Command) -> set[str]:
    text = re.sub(r"(?<![\w-])-{1,2}[\w-]+", " ", text)  # option names
    text = re.sub(r"\[[\w|-]+\]", " ", text)  # choice lists [table|json]
    choices = {c for p in cmd.params if isinstance(p.type, click.Choice) for c in p.type.choices}
    words = set(re.findall(r"[A-Za-z_][A-Za-z_]+", text))
    return {w for w in words if w not in ALLOWED and w not in NAMES and w not in choices}


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=lambda p: " ".join(p) or "rubric-xl")
def test_help_is_chinese(path):
    cmd = dict(ALL)[path]
    res = CliRunner().invoke(cli, [*path, "--help"], prog_name="rubric-xl")
    assert res.exit_code == 0, res.output
    out = res.output
    assert out.startswith("用法：rubric-xl")
    assert "[选项]" in out and "[OPTIONS]" not in out
    assert "选项：" in out and not re.search(r"^\S.*:$", out, re.M)  # headings: full-width colon
    for bad in ("TEXT", "INTEGER", "RANGE", "COMMAND", "ARGS", "PATH", "Usage", "Options", "Show"):
        assert bad not in out
    assert not _english_words(out, cmd), out
    if isinstance(cmd, click.Group):
        assert "命令 [参数]..." in out and "命令：" in out


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=lambda p: " ".join(p) or "rubric-xl")
def test_help_columns_line_up_by_display_width(path):
    out = CliRunner().invoke(cli, [*path, "--help"], prog_name="rubric-xl").output
    block = out.split("选项：\n", 1)[1].split("\n\n", 1)[0]
    starts = set()
    for line in block.splitlines():
        m = re.match(r"^  (\S.*?\S)  +(\S)", line)
        if m and line.lstrip().startswith("-"):
            starts.add(display_width(line[:m.start(2)]))
    assert len(starts) == 1, block  # every description starts in the same column


@pytest.mark.parametrize("args, message", [
    (["score", "--jobs", "x"], "'x' 不是有效的整数"),
    (["score", "--jobs", "多"], "不是有效的整数"),
    (["score", "--jobs", "0"], "不在范围"),
    (["rules", "check"], "缺少参数 '规则包...'"),
    (["template", "build", "--rules"], "需要一个取值"),
    (["nosuch"], "没有命令"),
])
def test_usage_errors_are_chinese(args, message):
    res = CliRunner().invoke(cli, args, prog_name="rubric-xl")
    assert res.exit_code == 2
    assert message in res.output and "Usage" not in res.output and "Error" not in res.output
    assert "integer" not in res.output


def test_click_shared_types_are_not_renamed():
    # the Chinese type names live on copies; other click programs see click's own
    assert click.INT.name == "integer" and click.STRING.name == "text"


def test_rules_check_names_the_ledger_in_chinese():
    res = CliRunner().invoke(cli, ["rules", "check", "xinzhou-2024"])
    assert res.exit_code == 0
    assert "台账“散乱污企业台账”" in res.output and "enterprises" not in res.output
