"""Compare the result cells a workbook shows with the engine's re-computation.

A template's 评分 sheet has result cells named ``item_<id>_points``,
``category_<n>_points``, ``total_points``, ``grade``, ``eligible`` and
``provisional``.  Their cached values are what the unit saw (or typed over the
formulas); each one that disagrees with the recomputed score is reported as a
warning.  The recomputed score is always the one that counts.  Cells without a
cached value (a file never opened in Excel) are not compared.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ..conventions import category_points_name, item_points_name
from ..engine import num
from ..engine.card import ScoreCard
from ..engine.facts import FALSE_WORDS, TRUE_WORDS
from ..errors import Problem
from ..reader import Workbook
from ..reader._cells import float_decimal
from ..reader._refs import parse_ref

TRUE_TEXT = TRUE_WORDS | {"具备", "有"}
FALSE_TEXT = FALSE_WORDS | {"不具备", "无"}


item_name = item_points_name


def _cached(book: Workbook, name: str) -> tuple[str, Any] | None:
    text = book.name(name)
    ref = parse_ref(text) if text else None
    if ref is None or book.sheet(ref.sheet) is None:
        return None
    return ref.cell(), book.value(ref.sheet, ref.row1, ref.col1)


def _points_text(d: Decimal | None) -> str:
    return "待填" if d is None else num.amount(d)


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return format(float_decimal(v).normalize(), "f")
    return f"“{v}”" if isinstance(v, str) else str(v)


def _number(v: Any) -> Decimal | None:
    """The number a cached value shows; ``None`` for text such as 待填."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float_decimal(v)
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _points_agree(cached: Any, engine: Decimal | None) -> bool | None:
    """``None`` when the cell has no cached value to compare."""
    if cached is None or (isinstance(cached, str) and not cached.strip()):
        return None
    got = _number(cached)
    if got is None or engine is None:  # text (待填) agrees only with an incomplete result
        return got is None and engine is None
    return num.q2(got) == num.q2(engine)


def _flag(cached: Any) -> bool | None:
    if isinstance(cached, bool):
        return cached
    if isinstance(cached, str):
        t = cached.strip().lower()
        if t in TRUE_TEXT:
            return True
        if t in FALSE_TEXT:
            return False
    return None


def compare_results(book: Workbook, card: ScoreCard) -> list[Problem]:
    """One warning per result cell whose cached value disagrees with *card*."""
    checks: list[tuple[str, str, Any]] = []  # (name, kind, engine value)
    for it in card.items:
        checks.append((item_name(it.id), "points", it.points))
    for n, cat in enumerate(card.categories, start=1):
        checks.append((category_points_name(n), "points", cat.points))
    checks.append(("total_points", "points", card.total))
    checks.append(("grade", "text", card.grade))
    if card.eligible is not None:
        checks.append(("eligible", "flag", card.eligible))
    checks.append(("provisional", "flag", card.provisional))
    out: list[Problem] = []
    for name, kind, engine in checks:
        found = _cached(book, name)
        if found is None:
            continue
        cell, cached = found
        if kind == "points":
            agree = _points_agree(cached, engine)
            shown = _points_text(engine)
        elif kind == "text":
            text = "" if cached is None else str(cached).strip()
            agree = None if not text else text == (engine or "")
            shown = f"“{engine}”" if engine else "（无）"
        else:
            flag = _flag(cached)
            agree = None if flag is None else flag == engine
            shown = "是" if engine else "否"
        if agree is False:
            out.append(Problem(f"{book.path} {cell}", (
                f"结果单元格 {name} 显示 {_show(cached)}，重新计算为 {shown}；"
                "以重新计算的结果为准（单元格可能被改动）"), "warning"))
    return out
