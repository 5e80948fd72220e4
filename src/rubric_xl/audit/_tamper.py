"""Compare the result cells a workbook shows with the engine's re-computation.

A template's 评分 sheet has result cells named ``item_<id>_points``,
``category_<n>_points``, ``total_points``, ``grade``, ``eligible`` and
``provisional``.  Their cached values are what the unit saw (or typed over the
formulas); each one that disagrees with the recomputed score is reported as a
warning.  The recomputed score is always the one that counts.  Cells without a
cached value (a file never opened in Excel) are not compared.  A result name
that is missing, or does not point at one cell of the 评分 sheet, cannot be
compared: that is reported too (deleting a name must not hide a change).
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from .._decimal import plain
from ..conventions import SCORE_SHEET, category_points_name, item_points_name
from ..engine import num
from ..engine.card import ScoreCard
from ..engine.facts import FALSE_WORDS, TRUE_WORDS
from ..errors import Problem
from ..reader import Workbook
from ..reader._cells import float_decimal
from ..reader._submission import check_ref, role_sheet

TRUE_TEXT = TRUE_WORDS | {"具备", "有"}
FALSE_TEXT = FALSE_WORDS | {"不具备", "无"}


item_name = item_points_name


def _where(book: Workbook, name: str, sheet: str) -> tuple[str, str, int, int] | str:
    """(cell, sheet, row, column) of result name *name*, or why it cannot be compared."""
    ref, why = check_ref(book, name, "结果单元格", sheet)
    if ref is not None and not ref.is_cell:
        why = f"名称 {name}（结果单元格）应指向单个单元格，实际为 {ref.cell()}:{ref.cell(ref.row2, ref.col2)}"
    if why or ref is None:
        return f"{why}；无法核对工作簿显示的这一结果"
    return ref.cell(), ref.sheet, ref.row1, ref.col1


def _compare_points(cached: Any, engine: Decimal | None) -> tuple[bool | None, str]:
    return _points_agree(cached, engine), _points_text(engine)


def _compare_text(cached: Any, engine: str | None) -> tuple[bool | None, str]:
    text = "" if cached is None else str(cached).strip()
    return (None if not text else text == (engine or "")), (f"“{engine}”" if engine else "（无）")


def _compare_flag(cached: Any, engine: bool) -> tuple[bool | None, str]:
    flag = _flag(cached)
    return (None if flag is None else flag == engine), ("是" if engine else "否")


# kind of result cell -> (does the cached value agree with the engine's?, the engine's value as shown)
_COMPARE: dict[str, Callable[[Any, Any], tuple[bool | None, str]]] = {
    "points": _compare_points, "text": _compare_text, "flag": _compare_flag,
}


def _points_text(d: Decimal | None) -> str:
    return "待填" if d is None else num.amount(d)


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return plain(float_decimal(v))
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


def _checks(card: ScoreCard) -> list[tuple[str, str]]:
    """(result name, kind) of every result cell, in the order of :func:`_engine`."""
    checks = [(item_name(it.id), "points") for it in card.items]
    checks += [(category_points_name(n), "points") for n in range(1, len(card.categories) + 1)]
    checks += [("total_points", "points"), ("grade", "text")]
    if card.eligible is not None:
        checks.append(("eligible", "flag"))
    checks.append(("provisional", "flag"))
    return checks


def _engine(card: ScoreCard) -> list[Any]:
    """The engine's value of every result cell, in the order of :func:`_checks`."""
    values: list[Any] = [it.points for it in card.items]
    values += [cat.points for cat in card.categories]
    values += [card.total, card.grade]
    if card.eligible is not None:
        values.append(card.eligible)
    values.append(card.provisional)
    return values


def compare_results(book: Workbook, card: ScoreCard) -> list[Problem]:
    """One warning per result cell whose cached value disagrees with *card*.
    Where each result cell is depends on workbook.xml and the pack alone: found
    once (``book.derived``); a cell without a cached value is not compared."""
    key = ("result cells", card.pack.hash, card.eligible is not None)
    plan = book.derived.get(key)
    if plan is None:
        checks = _checks(card)
        sheet = role_sheet(book, SCORE_SHEET, (book.name(name) for name, _ in checks))
        plan = book.derived[key] = [(name, kind, _where(book, name, sheet)) for name, kind in checks]
    out: list[Problem] = []
    content: dict[str, Any] = {}  # sheet -> the cells that may hold a value (None: any may)
    for (name, kind, where), engine in zip(plan, _engine(card)):
        if isinstance(where, str):
            out.append(Problem(f"{book.path}: {name}", where, "warning"))
            continue
        cell, sheet, row, col = where
        if sheet not in content:
            content[sheet] = book.cells_with_content(sheet)
        if content[sheet] is not None and (row, col) not in content[sheet]:
            continue  # no cached value: nothing to compare
        cached = book.value(sheet, row, col)
        agree, shown = _COMPARE[kind](cached, engine)
        if agree is False:
            out.append(Problem(f"{book.path} {cell}", (
                f"结果单元格 {name} 显示 {_show(cached)}，重新计算为 {shown}；"
                "以重新计算的结果为准（单元格可能被改动）"), "warning"))
    return out
