"""Chinese for click's own messages (usage errors, help headings) and help pages.

click looks its messages up through ``gettext``; we route those look-ups in
click's modules through a small catalogue, so "Missing option" reaches the user
as 缺少选项.  Unknown messages pass through unchanged.

What click does not look up — the usage line's ``[OPTIONS] COMMAND [ARGS]...``,
metavars such as ``TEXT`` or ``INTEGER RANGE``, argument names and the ASCII
colon after headings — comes from :class:`ChineseGroup`, the class of the
top-level group: every command and group below it uses :class:`ChineseCommand`
or :class:`ChineseGroup` (click's ``command_class``/``group_class``).
"""
from __future__ import annotations

import copy
import importlib
import re

import click
from click.formatting import wrap_text
from rich.cells import cell_len

CATALOGUE = {
    "Usage:": "用法：",
    "(Deprecated)": "（已停用）",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "位置参数",
    "Show this message and exit.": "显示帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing command.": "缺少命令。",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such option: {name}": "没有选项：{name}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不接受取值。",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个取值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个取值。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "Invalid value: {message}": "取值无效：{message}",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Did you mean {possibility}?": "是否应为 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是否应为以下之一：{possibilities}？）",
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{value!r} is not one of {choices}.": "{value!r} 不是以下之一：{choices}。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "integer": "整数",
    "float": "数值",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是目录。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "Aborted!": "已取消。",
    "required": "必填",
    "unknown error": "未知错误",
}


def _gettext(message: str) -> str:
    return CATALOGUE.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _gettext(singular if n == 1 else plural)


def install() -> None:
    for name in ("core", "exceptions", "parser", "types", "decorators", "formatting", "termui"):
        mod = importlib.import_module(f"click.{name}")
        if hasattr(mod, "_"):
            mod._ = _gettext
        if hasattr(mod, "ngettext"):
            mod.ngettext = _ngettext
    _full_stop(click.exceptions.MissingParameter)


def _full_stop(cls: type) -> None:
    """click ends "缺少参数 '规则包...'" with an ASCII full stop; make it 。."""
    if getattr(cls.format_message, "_rubric_xl", False):
        return
    original = cls.format_message

    def format_message(self) -> str:
        text = original(self)
        return text[:-1] + "。" if text.endswith(".") and re.search(r"[\u4e00-\u9fff]", text) else text

    format_message._rubric_xl = True  # type: ignore[attr-defined]
    cls.format_message = format_message


# metavars by click type name (ParamType.name); choices and paths already read well
TYPE_METAVARS = {
    "text": "文字",
    "integer": "整数",
    "integer range": "整数",
    "float": "数值",
    "float range": "数值",
    "boolean": "是/否",
    "uuid": "编号",
    "datetime": "日期时间",
}
# positional arguments by parameter name
ARGUMENT_METAVARS = {
    "paths": "工作簿或目录",
    "packs": "规则包",
    "pack_path": "规则包",
    "workbook": "工作簿",
    "template": "模板",
}
OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]..."


class ChineseFormatter(click.HelpFormatter):
    """Headings end in a full-width colon; the usage prefix has no extra space;
    option and command lists are aligned by display width (Chinese metavars)."""

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        widths = [cell_len(first) for first, _ in rows]  # Chinese characters take two columns
        first_col = min(max(widths, default=0), col_max) + col_spacing
        indent = " " * self.current_indent
        for (first, second), w in zip(rows, widths):
            self.write(f"{indent}{first}")
            if not second:
                self.write("\n")
                continue
            if w <= first_col - col_spacing:
                self.write(" " * (first_col - w))
            else:
                self.write("\n" + indent + " " * first_col)
            text_width = max(self.width - first_col - 2, 10)
            lines = wrap_text(second, text_width, preserve_paragraphs=True).splitlines() or [""]
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{indent}{' ' * first_col}{line}\n")

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _gettext("Usage:") if prefix is None else prefix)


class ChineseContext(click.Context):
    formatter_class = ChineseFormatter


_NUM = r"-?\d+(?:\.\d+)?"
# click writes a range as ``1<=x<=64``, ``0<x<=1024``, ``x>=1`` or ``x<5``
_RANGE = re.compile(rf"(?:(?<![\w.])({_NUM})(<=|<))?x(?:(<=|<)({_NUM})\b)?(?:(>=|>)({_NUM})\b)?")
_LOW = {"<=": "不小于", "<": "大于", ">=": "不小于", ">": "大于"}
_HIGH = {"<=": "不大于", "<": "小于"}


def _range_text(m: re.Match) -> str:
    lo, lo_op, hi_op, hi, ge_op, ge = m.groups()
    if lo is None and hi is None and ge is None:
        return m.group(0)
    if lo_op == "<=" and hi_op == "<=":
        return f"范围 {lo}–{hi}"
    parts = []
    if lo is not None:
        parts.append(f"{_LOW[lo_op]} {lo}")
    if ge is not None:
        parts.append(f"{_LOW[ge_op]} {ge}")
    if hi is not None:
        parts.append(f"{_HIGH[hi_op]} {hi}")
    return "、".join(parts)


_EXTRA = re.compile(r"  \[([^\[\]]*)\]$")


def chinese_extra(help_text: str) -> str:
    """``…  [默认：1; 1<=x<=64]`` → ``…  [默认：1；范围 1–64]``."""
    m = _EXTRA.search(help_text) or (re.match(r"^\[([^\[\]]*)\]$", help_text))
    if not m:
        return help_text
    extra = m.group(1).replace("; ", "；")
    extra = _RANGE.sub(_range_text, extra)
    return help_text[:m.start(1)] + extra + help_text[m.end(1):]


def _chinese_help_record(p: click.Option) -> None:
    original = p.get_help_record

    def record(ctx):
        rec = original(ctx)
        return rec if rec is None else (rec[0], chinese_extra(rec[1]))

    p.get_help_record = record  # type: ignore[method-assign]


def _localise(params: list[click.Parameter]) -> None:
    for p in params:
        if isinstance(p, click.Option):
            _chinese_help_record(p)
        if p.metavar is not None or getattr(p, "is_flag", False) or isinstance(p.type, click.Choice):
            continue
        if isinstance(p, click.Argument):
            var = ARGUMENT_METAVARS.get(p.name or "", TYPE_METAVARS.get(p.type.name, p.type.name))
            if not p.required:
                var = f"[{var}]"
            if p.nargs != 1:
                var += "..."
            p.metavar = var
        elif p.type.name in TYPE_METAVARS:
            p.metavar = TYPE_METAVARS[p.type.name] + ("..." if p.nargs != 1 else "")
        if p.type.name in TYPE_METAVARS:  # error messages name the type ("不是有效的整数")
            p.type = copy.copy(p.type)  # never rename click's shared INT/FLOAT/STRING
            p.type.name = TYPE_METAVARS[p.type.name]


class ChineseCommand(click.Command):
    context_class = ChineseContext

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        super().__init__(*args, **kwargs)
        _localise(self.params)


class ChineseGroup(click.Group):
    context_class = ChineseContext
    command_class = ChineseCommand
    group_class = type  # subgroups are ChineseGroup too

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        kwargs.setdefault("subcommand_metavar", SUBCOMMAND_METAVAR)
        super().__init__(*args, **kwargs)
        _localise(self.params)
