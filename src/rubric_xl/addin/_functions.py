"""Worksheet functions RUBRIC.ITEM / EXPLAIN / TOTAL / GRADE / CATEGORY / STATUS.

Declared with xlwings' ``@func`` (so xlwings-server publishes their Office.js
metadata under the RUBRIC namespace) and evaluated with
``xlwings.server.custom_functions_call``.  Office.js custom functions only receive
their own arguments — never the workbook — so the task-pane runtime sends the
workbook payload along with a batch of calls (see ``static/rubric/functions.js``
and ``/rubric/functions-call``); the server scores it once and injects the
:class:`Assessment` through a registered, hidden ``WorkbookScore`` argument.

Every failure is returned as readable Chinese text in the cell, never a traceback.
Numbers leave the engine as ``Decimal`` and become Excel numbers only here.
"""
from __future__ import annotations

import logging
import types
from decimal import Decimal
from typing import Annotated, Any, Optional

from . import _env

_env.ensure()

import xlwings as xw  # noqa: E402
import xlwings.server as xs  # noqa: E402

from ._assess import Assessment  # noqa: E402


logger = logging.getLogger(__name__)


class WorkbookScore(Assessment):
    """Type hint for the injected assessment (hidden from Excel's signature)."""


xs.register_injectable_typehint(WorkbookScore)

NO_BOOK = "错误：未收到工作簿数据。请在 Excel 中打开“评分助手”加载项后使用 RUBRIC 函数。"

ItemId = Annotated[Any, {"doc": "评分项序号，例如 \"10\"（第10项）"}]
CategoryRef = Annotated[Any, {"doc": "类别名称（如 \"信息报送\"）或类别序号（1 起）"}]


def _excel_number(d: Decimal) -> float:
    return float(d)  # display boundary: the cell shows the engine's exact 2-decimal value


def _id_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _problem(score: Optional[Assessment]) -> str | None:
    if score is None:
        return NO_BOOK
    if not score.ok:
        return "错误：" + score.message
    if score.card is None or score.card.kind != "rubric":
        return "错误：此工作簿的规则包是台账类，没有评分项和总分。"
    return None


def _item(score: Assessment, item_id: Any):
    iid = _id_text(item_id)
    if not iid:
        return None, "错误：请给出评分项序号，例如 RUBRIC.ITEM(\"10\")"
    for it in score.card.items:
        if it.id == iid:
            return it, None
    return None, f"错误：规则包“{score.pack.model.title}”中没有第{iid}项"


@xs.func(volatile=True)
def item(item_id: ItemId, score: WorkbookScore = None):
    """评分助手：某一评分项的得分（待填或输入有误时显示原因）。"""
    if (msg := _problem(score)) is not None:
        return msg
    it, msg = _item(score, item_id)
    if msg is not None:
        return msg
    if it.points is None:
        return score.item_text(it)
    return _excel_number(it.points)


@xs.func(volatile=True)
def explain(item_id: ItemId, score: WorkbookScore = None):
    """评分助手：某一评分项的扣分说明（为什么得这个分）。"""
    if (msg := _problem(score)) is not None:
        return msg
    it, msg = _item(score, item_id)
    if msg is not None:
        return msg
    return score.item_text(it)


@xs.func(volatile=True)
def total(score: WorkbookScore = None):
    """评分助手：总分（有待填项时为暂定分，见 RUBRIC.STATUS）。"""
    if (msg := _problem(score)) is not None:
        return msg
    return _excel_number(score.card.total)


@xs.func(volatile=True)
def grade(score: WorkbookScore = None):
    """评分助手：考核等级（有待填项时标注“暂定”）。"""
    if (msg := _problem(score)) is not None:
        return msg
    g = score.card.grade or ""
    return f"{g}（暂定）" if score.card.provisional else g


@xs.func(volatile=True)
def category(name: CategoryRef, score: WorkbookScore = None):
    """评分助手：某一类别的得分小计。"""
    if (msg := _problem(score)) is not None:
        return msg
    cats = score.card.categories
    key = _id_text(name)
    if key.isdigit() and 1 <= int(key) <= len(cats):
        return _excel_number(cats[int(key) - 1].points)
    for c in cats:
        if c.name == key:
            return _excel_number(c.points)
    return f"错误：没有类别“{key}”（可用：{'、'.join(c.name for c in cats)}）"


@xs.func(volatile=True)
def status(score: WorkbookScore = None):
    """评分助手：评分状态（已完成 / 暂定及原因）。"""
    if score is None:
        return NO_BOOK
    if not score.ok:
        return "错误：" + score.message
    return score.status_text()


FUNCTIONS = (item, explain, total, grade, category, status)
FUNCTIONS_MODULE = types.SimpleNamespace(**{f.__name__: f for f in FUNCTIONS})


async def call_all(data: dict, score: Assessment, current_user) -> list:
    """One result per call of a ``/rubric/functions-call`` batch (*data*), each as
    xlwings' ``custom_functions_call`` returns it, errors as Chinese text."""
    return [await _one_call(call, data, score, current_user) for call in data["calls"]]


async def _one_call(call: Any, body: dict, score: Assessment, current_user) -> list:
    from ._worker import INTERNAL

    name = call.get("func_name") if isinstance(call, dict) else None
    if not isinstance(name, str) or not hasattr(FUNCTIONS_MODULE, name):
        return [[f"错误：没有这个函数（{name}）"]]
    args = call.get("args")
    data = {
        "func_name": name, "args": args if isinstance(args, list) else [],
        "client": "Office.js", "version": xw.__version__,
        "runtime": str(body.get("runtime") or "1.4"),
        "caller_address": call.get("caller_address"),
        "culture_info_name": body.get("culture_info_name"), "date_format": body.get("date_format"),
    }
    try:
        return await xs.custom_functions_call(data, FUNCTIONS_MODULE, current_user,
                                              typehint_to_value={WorkbookScore: score})
    except Exception:  # noqa: BLE001
        logger.exception("custom function %s failed", name)
        return [["错误：" + INTERNAL]]
