"""Small Chinese text helpers shared by the sheet builders."""
from __future__ import annotations

from .._decimal import plain
from ..sheettext import clean_text

_DIGITS = "零一二三四五六七八九"


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
            parts.append(f"低于{plain(upper)}分为{g.name}" if upper is not None else g.name)
        else:
            parts.append(f"{plain(g.min)}分及以上为{g.name}" if upper is None
                         else f"{plain(g.min)}分及以上、低于{plain(upper)}分为{g.name}")
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


def _strings(data) -> set[str]:
    out: set[str] = set()
    stack = [data]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            out.add(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
    return out


def keep_pack_text(wb, pack, sheets=None) -> int:
    """Pack text that starts with ``=`` (a title, label, category, criteria,
    evidence, note, option or version) stays text in every sheet: the cells
    holding it, alone or at the start, are made text cells.  Call it before
    the formulas are written, when the only formulas are the sheet builders'
    own (or pass *sheets*, those without compiled formulas).  Returns the
    number of cells changed."""
    texts = tuple(sorted(t for t in _strings(pack.model.model_dump()) if t.startswith("=")))
    if not texts:
        return 0
    changed = 0
    for ws in wb.worksheets if sheets is None else sheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and isinstance(cell.value, str) and cell.value.startswith(texts):
                    cell.data_type = "s"
                    changed += 1
    return changed
