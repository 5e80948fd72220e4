"""The 写入得分 script: write the engine's points and explanations into the 评分
sheet and highlight deductions.

Run from the task pane button (``xw-click="write_scores"``) or the ribbon; the
xlwings JS client sends the workbook, the script queues cell writes as actions
which the client applies.  Result cells are found by their defined names
(``item_<id>_points``, ``item_<id>_explain``, ``category_<n>_points``,
``total_points``, ``grade``, ``eligible``, ``provisional``).  Values replace what
those cells held (the template's native formulas), i.e. the sheet shows a
snapshot of the score at the time of writing.
"""
from __future__ import annotations

import json

from . import _env

_env.ensure()

import xlwings as xw  # noqa: E402
import xlwings.server as xs  # noqa: E402

from ..errors import RubricError  # noqa: E402
from ..conventions import category_points_name, item_explain_name, item_points_name  # noqa: E402

from ._assess import Assessment, assess_book  # noqa: E402
from ._book import FORMAT_MESSAGE, BookView, check_xlwings, open_book  # noqa: E402
from ._json import parse_json  # noqa: E402

DEDUCTED = "#F8CBAD"  # light red: the item lost points or was zeroed
PENDING = "#FFE699"  # light yellow: 待填
INVALID = "#FFC7CE"  # light red: 有误 (as the 评分 sheet marks it: formulas/_write.INVALID_FILL), not 待填's colour


FORMULA_START = ("=", "+", "-", "@")


def as_cell_text(value):
    """Text that Excel would take for a formula (``=…``, ``+…``, ``-…``, ``@…``, e.g.
    from a pack's wording) is written with Excel's text prefix ``'``: it shows as
    written and never runs."""
    if isinstance(value, str) and value.lstrip().startswith(FORMULA_START):
        return "'" + value
    return value


def write_results(book: xw.Book, a: Assessment) -> int:
    """Queue the writes for *a* on *book*; returns the number of cells written."""
    if not a.ok:
        raise xw.XlwingsError(a.message)
    if a.card.kind != "rubric":
        raise xw.XlwingsError("此工作簿的规则包是台账类，没有评分表可写入。")
    if not a.result_cells:
        raise xw.XlwingsError("此工作簿没有评分表的结果单元格（名称 item_1_points 等），无法写入得分。"
                              "请使用上级下发的标准填报模板。")
    view = BookView(book)
    written = 0

    def put(name: str, value, color: str | None = "keep") -> None:
        nonlocal written
        if name not in a.result_cells:
            return
        rng = view.range(name)
        if rng is None:
            return
        rng.value = as_cell_text(value)
        if color != "keep":
            rng.color = color
        written += 1

    for it in a.card.items:
        if it.status == "invalid":
            color = INVALID
        elif it.points is None:
            color = PENDING
        elif it.zeroed or it.deductions:
            color = DEDUCTED
        else:
            color = None
        points = float(it.points) if it.points is not None else None  # display boundary
        put(item_points_name(it.id), points, color)
        put(item_explain_name(it.id), a.item_text(it), color)
    for n, c in enumerate(a.card.categories, 1):
        put(category_points_name(n), float(c.points))
    put("total_points", float(a.card.total))
    put("grade", a.card.grade or "")
    if a.card.eligible is not None:
        put("eligible", "是" if a.card.eligible else "否")
    put("provisional", "是" if a.card.provisional else "否")
    return written


def score_and_write(book: xw.Book) -> None:
    check_xlwings()
    try:
        view = BookView(book)
    except RubricError as exc:  # a payload not from the xlwings JS client
        raise xw.XlwingsError(exc.message) from None
    write_results(book, assess_book(view))


@xs.script
def write_scores(book: xw.Book):
    """写入得分"""
    score_and_write(book)


def write_scores_body(body: bytes) -> tuple[int, str]:
    """(HTTP status, answer) for ``POST /xlwings/custom-scripts-call/write_scores``:
    the JSON actions for the client, or a Chinese message (status 400, plain text
    as xlwings Server answers a failed script).  Runs in a worker thread, so the
    body is parsed (as JavaScript reads numbers) and the book opened off the event
    loop; :mod:`._routes` serves it ahead of xlwings Server's generic route."""
    try:
        data = parse_json(body)
    except ValueError as exc:
        return 400, str(exc)
    if not isinstance(data, dict):
        return 400, FORMAT_MESSAGE
    if data.pop("args", None) not in (None, []):
        return 400, "写入得分不需要参数。"
    try:
        with open_book(data) as book:
            score_and_write(book)
            return 200, json.dumps(book.json(), ensure_ascii=False)
    except RubricError as exc:
        return 400, exc.message
    except xw.XlwingsError as exc:
        return 400, str(exc)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError):
        return 400, FORMAT_MESSAGE
