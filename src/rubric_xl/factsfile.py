"""Read a facts file: YAML or JSON mapping fact id → value.

Numbers are read exactly (JSON floats and YAML decimals become ``Decimal``);
YAML dates stay dates.  Problems raise :class:`InputFileError` in Chinese:
a key given twice in one JSON object (JSON would keep the last), ``NaN`` or
``Infinity``, a number longer than 100 characters, nesting too deep.  The
range of each value is the engine's check (``engine.facts``).
"""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._files import read_text
from .errors import InputFileError, Problem
from .rules.yamlsrc import MAX_NUMBER_TEXT, load_file


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


def load_json(text: str, source: str) -> Any:
    """JSON text → data, exactly and strictly (see the module docstring)."""
    try:
        return json.loads(text, parse_float=_number, parse_int=_integer, parse_constant=_constant,
                          object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise InputFileError("JSON 格式错误",
                             [Problem(f"{source}:{exc.lineno}", f"无法解析：{exc.msg}")]) from None
    except _Bad as exc:
        raise InputFileError("JSON 格式错误", [Problem(source, str(exc))]) from None
    except RecursionError:
        raise InputFileError("JSON 嵌套过深", [Problem(source, "嵌套层数过多")]) from None


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
