"""Read YAML into plain Python data while remembering where each value stood.

Scalars become ``str``, ``int``, ``Decimal`` (never ``float``: ``0.1`` in a pack
is exactly one tenth), ``bool``, ``None`` or ``datetime.date``.  ``lines`` maps
each path (a tuple of keys and list indexes) to its 1-based line, so a schema
error can say "rules/x.yaml:123 items[4].deductions[0].points".

Hostile input is bounded: nesting deeper than :data:`MAX_DEPTH`, an alias that
refers to itself (``a: &a [*a]``) and aliases that expand to more than
:data:`MAX_ALIAS_NODES` extra values ("billion laughs") are errors, and so are
numbers longer than :data:`MAX_NUMBER_TEXT` characters and scalars a tag
cannot mean (``1:30``, YAML 1.1's base 60; ``!!int abc``).  Every error is
Chinese and names the file and line, never a YAML node.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from .._files import read_text
from ..errors import InputFileError, Problem

try:  # libyaml when available (wheels ship it); pure Python otherwise
    _Loader = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

_BOOL = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
MAX_DEPTH = 64  # a pack nests about 8 levels, a facts file 4
MAX_ALIAS_NODES = 100_000  # values added by expanding aliases, beyond the file's own
MAX_NUMBER_TEXT = 100  # characters of one number
MAX_NODES = 1_000_000  # values in one file (a 20,000-row ledger has about 400,000)
_SCAN_ABOVE = 2 ** 20  # texts larger than this are counted before they are composed


class _Bad(Exception):
    """A scalar its tag cannot mean; the message is Chinese."""


def _scalar(node: yaml.ScalarNode) -> Any:
    tag, text = node.tag, node.value
    if tag.endswith(":null"):
        return None
    if tag.endswith((":bool", ":int", ":float")) and len(text) > MAX_NUMBER_TEXT:
        raise _Bad(f"数值超出范围（{text[:20]}…共 {len(text)} 个字符）")
    if tag.endswith(":bool"):
        if text.lower() not in _BOOL:
            raise _Bad(f"“{text[:40]}”不是 true/false")
        return _BOOL[text.lower()]
    if tag.endswith(":int"):
        if ":" in text:
            raise _Bad(f"无法识别的数值“{text[:40]}”（YAML 1.1 的六十进制写法）；如为文字或时间请加引号，如 \"{text[:40]}\"")
        try:
            return int(text.replace("_", ""), 0)
        except ValueError:
            pass
        try:
            return int(text.replace("_", ""))  # 012: decimal, as people mean it
        except ValueError:
            raise _Bad(f"“{text[:40]}”不是整数") from None
    if tag.endswith(":float"):
        try:
            return Decimal(text.replace("_", ""))
        except InvalidOperation:
            return text  # .inf / .nan: left as text, rejected by the schema
    if tag.endswith(":timestamp"):
        try:
            return _dt.date.fromisoformat(text)
        except ValueError:
            return text
    return text


class Located:
    """Parsed data plus a path → line map."""

    def __init__(self, data: Any, lines: dict[tuple, int], source: str):
        self.data = data
        self.lines = lines
        self.source = source

    def line_of(self, path: tuple) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def where(self, path: tuple, line_path: tuple | None = None) -> str:
        """``file:line a.b[0]`` of *path*; the line looked up by *line_path* when
        given (the same place, spelt as the YAML spells its keys)."""
        line = self.line_of(path if line_path is None else line_path)
        p = format_path(path)
        head = f"{self.source}:{line}" if line else self.source
        return f"{head} {p}" if p else head


def format_path(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _count_nodes(root: yaml.Node) -> int:
    """The number of distinct nodes (each alias target counted once)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.extend((k, v))
    return len(seen)


class _Builder:
    """Nodes → plain data, within the bounds of the module docstring."""

    def __init__(self, source: str, lines: dict, budget: int):
        self.source = source
        self.lines = lines
        self.budget = budget  # values still allowed to be built
        self.open: set[int] = set()  # nodes being built: the path from the root

    def fail(self, node: yaml.Node, path: tuple, title: str, msg: str) -> InputFileError:
        shown = format_path(path)
        shown = shown if len(shown) <= 80 else shown[:80] + "…"
        where = f"{self.source}:{node.start_mark.line + 1} {shown}".rstrip()
        return InputFileError(title, [Problem(where, msg)])

    def build(self, node: yaml.Node, path: tuple, depth: int = 0) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise self.fail(node, path, "YAML 别名展开过多", f"别名（*引用）展开后的数据超过 {MAX_ALIAS_NODES} 项，"
                            "文件可能是恶意构造的；请不要用别名重复大段内容")
        if depth > MAX_DEPTH:
            raise self.fail(node, path, "YAML 嵌套过深", f"嵌套超过 {MAX_DEPTH} 层")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            try:
                return _scalar(node)
            except _Bad as exc:
                raise self.fail(node, path, "YAML 数值格式错误", str(exc)) from None
        if id(node) in self.open:
            raise self.fail(node, path, "YAML 别名循环引用", "别名（*引用）指向包含它自身的内容，无法展开")
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(child, path + (i,), depth + 1) for i, child in enumerate(node.value)]
            out: dict = {}
            for knode, vnode in node.value:
                if not isinstance(knode, yaml.ScalarNode):
                    raise self.fail(knode, path, "YAML 格式错误", "键应为文字或数字，不能是列表或映射")
                key = self.build(knode, path, depth + 1)
                if isinstance(key, (Decimal, _dt.date)):
                    key = str(knode.value)
                if key in out:
                    raise self.fail(knode, path + (key,), "YAML 中有重复的键", f"键 {key!r} 重复出现")
                out[key] = self.build(vnode, path + (key,), depth + 1)
            return out
        finally:
            self.open.discard(id(node))


_PROBLEMS = {  # libyaml's words, in Chinese
    "exceeded maximum nesting depth": f"嵌套层数过多（最多 {MAX_DEPTH} 层）",
    "found undefined alias": "别名（*引用）未定义",
    "second occurrence": "锚点（&名称）重复定义",
    "found character that cannot start any token": "此处有不能作为 YAML 开头的字符（如制表符缩进或 @、`）",
    "mapping values are not allowed in this context": "此处不能出现“键: 值”（缩进不对，或文字中的冒号后有空格时请加引号）",
    "did not find expected key": "缩进不对：此处应为“键: 值”",
    "did not find expected '-' indicator": "缩进不对：列表的每一项应以“- ”开头",
    "did not find expected ',' or ']'": "方括号列表没有正确结束（缺少 , 或 ]）",
    "did not find expected ',' or '}'": "大括号映射没有正确结束（缺少 , 或 }）",
    "found unexpected end of stream": "文件意外结束（引号或括号没有闭合？）",
    "but found another document": "文件中只能有一个 YAML 文档（不要用 --- 分隔多个）",
    "did not find expected <document start>": "文档结束后还有多余的内容（多了括号？）",
    "found unknown escape character": "双引号中有无效的转义（\\ 后的字符）；文字中的反斜杠请写作 \\\\ 或改用单引号",
    "found invalid Unicode character escape code": "双引号中有无效的 Unicode 转义",
    "found incompatible YAML document": "不支持的 YAML 版本声明",
}


def _problem_text(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    if problem in _PROBLEMS:
        return _PROBLEMS[problem]
    if isinstance(exc, yaml.reader.ReaderError):
        return f"含有 YAML 文件中不允许的字符（U+{exc.character:04X}，如控制字符）" \
            if isinstance(exc.character, int) else "含有 YAML 文件中不允许的字符"
    return f"YAML 语法错误（{problem or exc}）"


def _count_events(text: str, source: str) -> None:
    """Refuse a text of more than :data:`MAX_NODES` values before composing it
    (composing keeps every node in memory; parsing streams)."""
    n = 0
    for ev in yaml.parse(text, Loader=_Loader):
        if isinstance(ev, (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            n += 1
            if n > MAX_NODES:
                raise InputFileError("YAML 文件过大", [Problem(f"{source}:{ev.start_mark.line + 1}",
                                                         f"超过 {MAX_NODES} 个值，请拆分文件")])


def load_text(text: str, source: str) -> Located:
    try:
        if len(text) > _SCAN_ABOVE:
            _count_events(text, source)
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        if isinstance(exc, yaml.reader.ReaderError) and isinstance(exc.character, int) \
                and chr(exc.character) in text:  # (its position counts bytes or characters)
            where = f"{source}:{text.count(chr(10), 0, text.index(chr(exc.character))) + 1}"
        raise InputFileError("YAML 格式错误", [Problem(where, f"无法解析：{_problem_text(exc)}")]) from None
    except RecursionError:  # the pure-Python composer on very deep nesting
        raise InputFileError("YAML 嵌套过深", [Problem(source, f"嵌套超过 {MAX_DEPTH} 层")]) from None
    lines: dict[tuple, int] = {}
    if root is None:
        return Located(None, lines, source)
    data = _Builder(source, lines, _count_nodes(root) + MAX_ALIAS_NODES).build(root, ())
    return Located(data, lines, source)


def load_file(path: str | Path, what: str = "文件") -> Located:
    """*path* read (at most 16 MB, see :func:`rubric_xl._files.read_text`) and loaded."""
    return load_text(read_text(path, what), str(path))
