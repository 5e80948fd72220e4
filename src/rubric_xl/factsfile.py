"""Read a facts file: YAML or JSON mapping fact id → value.

Numbers are read exactly (JSON floats and YAML decimals become ``Decimal``);
YAML dates stay dates.  Problems raise :class:`InputFileError` in Chinese.
"""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._files import read_text
from .errors import InputFileError, Problem
from .rules.yamlsrc import load_file


def load_facts_file(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if p.suffix.lower() == ".json":
        text = read_text(p, "事实文件")
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise InputFileError("JSON 格式错误",
                                 [Problem(f"{p}:{exc.lineno}", f"无法解析：{exc.msg}")]) from None
    else:
        data = load_file(p).data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputFileError("事实文件格式错误",
                             [Problem(str(p), "顶层应为“事实id: 值”的映射")])
    return {str(k): v for k, v in data.items()}
