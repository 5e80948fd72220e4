"""Read a facts file: YAML or JSON mapping fact id → value.

Numbers are read exactly (JSON floats and YAML decimals become ``Decimal``);
YAML dates stay dates.  Problems raise :class:`InputFileError` in Chinese:
a key given twice in one JSON object (JSON would keep the last), ``NaN`` or
``Infinity``, a number longer than 100 characters, nesting too deep.  The
range of each value is the engine's check (``engine.facts``).
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._files import read_text
from .errors import InputFileError, Problem
from .rules.yamlsrc import MAX_NUMBER_TEXT, load_file


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _Bad(Exception):
    """A JSON value refused while parsing; the message is Chinese."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Bad(f"键 {key!r} 在同一个对象中重复出现（只能出现一次）")
        out[key] = value
    return out


def _number(text: str) -> Decimal:
    if len(text) > MAX_NUMBER_TEXT:
        raise _Bad(f"数值超出范围（{text[:20]}…共 {len(text)} 个字符）")
    return Decimal(text)


def _integer(text: str) -> int:
    return int(_number(text))


def _constant(text: str) -> Any:
    raise _Bad(f"{text} 不是有效的数值（JSON 中不允许 NaN、Infinity）")


def _surrogates(data: Any, source: str) -> None:
    """JSON may spell half a character (``"\\ud800"``); no file or report can hold it."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, dict):
            stack.extend((f"{path}.{k}" if path else str(k), x) for k, x in v.items())
            texts = list(v)
        elif isinstance(v, list):
            stack.extend((f"{path}[{i + 1}]", x) for i, x in enumerate(v))
            continue
        else:
            texts = [v]
        for t in texts:
            if isinstance(t, str):
                try:
                    t.encode("utf-8")
                except UnicodeEncodeError as exc:
                    bad = f"U+{ord(t[exc.start]):04X}"
                    where = f"{source}: {path.encode('utf-8', 'backslashreplace').decode()}".rstrip(": ")
                    raise InputFileError("JSON 格式错误", [Problem(
                        where, f"含有无效的字符 {bad}（不成对的 \\u 转义，只有半个字符），请检查此处的文字")]) from None


def load_json(text: str, source: str) -> Any:
    """JSON text → data, exactly and strictly (see the module docstring)."""
    try:
        data = json.loads(text, parse_float=_number, parse_int=_integer, parse_constant=_constant,
                          object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise InputFileError("JSON 格式错误",
                             [Problem(f"{source}:{exc.lineno}", f"无法解析：{exc.msg}")]) from None
    except _Bad as exc:
        raise InputFileError("JSON 格式错误", [Problem(source, str(exc))]) from None
    except RecursionError:
        raise InputFileError("JSON 嵌套过深", [Problem(source, "嵌套层数过多")]) from None
    if _SURROGATE_ESCAPE.search(text):  # only then can a string hold half a character
        _surrogates(data, source)
    return data


def load_facts_file(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if p.suffix.lower() == ".json":
        data = load_json(read_text(p, "事实文件"), str(p))
    else:
        data = load_file(p, "事实文件").data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputFileError("事实文件格式错误",
                             [Problem(str(p), "顶层应为“事实id: 值”的映射")])
    return {str(k): v for k, v in data.items()}
