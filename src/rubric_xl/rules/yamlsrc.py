"""Read YAML into plain Python data while remembering where each value stood.

Scalars become ``str``, ``int``, ``Decimal`` (never ``float``: ``0.1`` in a pack
is exactly one tenth), ``bool``, ``None`` or ``datetime.date``.  ``lines`` maps
each path (a tuple of keys and list indexes) to its 1-based line, so a schema
error can say "rules/x.yaml:123 items[4].deductions[0].points".
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


def _scalar(node: yaml.ScalarNode) -> Any:
    tag, text = node.tag, node.value
    if tag.endswith(":null"):
        return None
    if tag.endswith(":bool"):
        return _BOOL[text.lower()]
    if tag.endswith(":int"):
        try:
            return int(text.replace("_", ""), 0)
        except ValueError:
            return int(text)
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

    def where(self, path: tuple) -> str:
        line = self.line_of(path)
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


def _build(node: yaml.Node, path: tuple, lines: dict, source: str = "") -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, path + (i,), lines, source) for i, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for knode, vnode in node.value:
            key = _scalar(knode) if isinstance(knode, yaml.ScalarNode) else str(knode)
            if isinstance(key, (Decimal, _dt.date)):
                key = str(knode.value)
            if key in out:
                raise InputFileError(
                    "YAML 中有重复的键",
                    [Problem(f"{source}:{knode.start_mark.line + 1} {format_path(path + (key,))}".rstrip(),
                             f"键 {key!r} 重复出现")],
                )
            out[key] = _build(vnode, path + (key,), lines, source)
        return out
    raise InputFileError(f"不支持的 YAML 节点 {node!r}")  # pragma: no cover


def load_text(text: str, source: str) -> Located:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputFileError("YAML 格式错误", [Problem(where, f"无法解析：{problem}")]) from None
    lines: dict[tuple, int] = {}
    data = None if root is None else _build(root, (), lines, source)
    return Located(data, lines, source)


def load_file(path: str | Path) -> Located:
    return load_text(read_text(path), str(path))
