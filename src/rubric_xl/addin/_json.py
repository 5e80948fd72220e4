"""Parse a request body as the xlwings JS client's JSON, the way JavaScript would.

Numbers in a workbook payload are Excel cell values, i.e. doubles written by
``JSON.stringify`` (at most 17 significant digits, large integers as ``1e+28``).
A literal no Excel cell can hold — a 29- or 4,301-digit integer, a 41-digit
decimal, ``1e999999999`` — is refused with a Chinese 格式错误 message naming it
(:class:`BadNumber`), instead of an unreadable-JSON error or Python's integer
digit limit.  ``NaN``/``Infinity`` are not JSON.  Nesting too deep for the parser
is refused as invalid JSON.  Values that are real doubles but far too large for a
rubric (1e30, 1e300) are judged per cell later (:mod:`._assess`).

:func:`dumps` renders an answer in pieces: one ``json.dumps`` call of a 2,000-row
ledger's answer (~5 MB) holds the interpreter lock for ~150 ms, during which no
other request can run; piece by piece, the other threads get their turns.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

class BadNumber(ValueError):
    """A JSON number no Excel cell can hold (the message is for the user)."""


_NON_DIGITS = re.compile(r"[^0-9]")


def _number_error(text: str) -> BadNumber:
    shown = text if len(text) <= 24 else f"{text[:24]}…（共 {len(text)} 个字符）"
    return BadNumber(f"收到的数据格式错误：数值 {shown} 不是 Excel 单元格能保存的数"
                     "（Excel 的数值最多 15 位有效数字，绝对值小于 1E+308）。请确认数据来自评分助手。")


def _js_int(text: str) -> int:
    # JavaScript's JSON.stringify writes at most 17 significant digits (integers
    # up to 1e21 in full, larger ones as 1e+28), so more digits, or more than a
    # double's 309, are not from Excel; checked before int(), which refuses
    # 4,301 digits with an unrelated error.
    if len(text) <= 17:
        return int(text)
    digits = _NON_DIGITS.sub("", text)
    if len(digits) > 309 or len(digits.strip("0")) > 17:
        raise _number_error(text)
    return int(text)


def _js_float(text: str) -> float:
    mantissa = text.lower().split("e")[0]
    if len(_NON_DIGITS.sub("", mantissa).strip("0")) > 17:
        raise _number_error(text)
    value = float(text)
    if not math.isfinite(value):  # 1e999999999
        raise _number_error(text)
    return value


def _no_constant(name: str):
    raise ValueError(name)  # NaN / Infinity are not JSON


def parse_json(body: bytes) -> Any:
    if not body:
        raise ValueError("请求中没有工作簿数据。")
    try:
        return json.loads(body, parse_int=_js_int, parse_float=_js_float, parse_constant=_no_constant)
    except BadNumber:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError("收到的数据不是有效的 JSON。") from None


_BIG = 64  # containers with more entries are rendered entry by entry


def dumps(obj: Any) -> bytes:
    """``json.dumps(obj, ensure_ascii=False)`` (compact) as UTF-8, in pieces."""
    return "".join(_pieces(obj)).encode()


def _pieces(obj: Any):
    if isinstance(obj, dict) and len(obj) > 4:
        yield "{"
        for i, (k, v) in enumerate(obj.items()):
            yield ("," if i else "") + _one(str(k)) + ":"
            yield from _pieces(v)
        yield "}"
    elif isinstance(obj, list) and len(obj) > _BIG:
        yield "["
        for i, v in enumerate(obj):
            if i:
                yield ","
            yield from _pieces(v)
        yield "]"
    else:
        yield _one(obj)


def _one(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
