"""Small Chinese text helpers shared by the sheet builders."""
from __future__ import annotations

from decimal import Decimal

from ..sheettext import clean_text

_DIGITS = "零一二三四五六七八九"


def num(d: Decimal) -> str:
    """``Decimal('2.50')`` → ``2.5``; ``Decimal('3')`` → ``3``."""
    return format(d.normalize(), "f") if d != d.to_integral_value() else str(int(d))


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _DIGITS[tens]
    return head + "十" + (_DIGITS[ones] if ones else "")


def grade_text(grades) -> str:
    """The pack's grade bands in words, highest first."""
    parts = []
    upper = None
    for g in grades:
        if g.min is None:
            parts.append(f"低于{num(upper)}分为{g.name}" if upper is not None else g.name)
        else:
            parts.append(f"{num(g.min)}分及以上为{g.name}" if upper is None
                         else f"{num(g.min)}分及以上、低于{num(upper)}分为{g.name}")
            upper = g.min
    return "；".join(parts)


def put(cell, value):
    """Set *cell* to *value*, keeping text as text: openpyxl would otherwise
    store a user's text that starts with ``=`` (a unit name, an enterprise
    name) as a formula.  Characters an xlsx cannot hold (a vertical tab) become
    spaces (:func:`rubric_xl.sheettext.clean_text`).  Returns the cell."""
    if isinstance(value, str):
        value = clean_text(value)
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    return cell
