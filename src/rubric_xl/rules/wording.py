"""Default Chinese wording of explanations, per rule role and kind.

A rule's ``explain`` template overrides these.  The engine formats them with
Python; the formula compiler rebuilds the same text with spreadsheet formulas —
both read this one table.
"""
from __future__ import annotations

DEFAULT_TEMPLATES = {
    ("deduction", "flat"): "{reason}，扣{amount}分",
    ("deduction", "per_unit"): "{reason}{count}{unit}，扣{amount}分",
    ("deduction", "step"): "{reason}{value}{unit}，低于{threshold}{unit}，扣{amount}分",
    ("deduction", "late"): "逾期报送（{date}，期限{deadline}），扣{amount}分",
    ("bonus", "flat"): "{reason}，加{amount}分",
    ("bonus", "per_unit"): "{reason}{count}{unit}，加{amount}分",
    ("bonus", "step"): "{reason}{value}{unit}，超过{threshold}{unit}，加{amount}分",
}

# Item states and the fixed pieces of an explanation (engine and formulas alike).
INCOMPLETE = "待填"  # a required input is blank
NOT_STARTED = "尚未开始填报"  # 待填：尚未开始填报 — no input but the unit holds a value (lowered.Totals)
INVALID = "有误"  # an input breaks the input contract (rules/contract.py)
STATE_SEP = "："  # 待填：甲、乙 / 有误：<reason>；<reason>
MISSING_SEP = "、"
INVALID_SEP = "；"
PART_SEP = "；"  # between the pieces of a scored item's explanation


def points_state(points, status: str):
    """An item's points as a report shows them: the number, or 有误 / 待填."""
    if points is not None:
        return points
    return INVALID if status == "invalid" else INCOMPLETE
ZEROED = "{reason}，不得分"
ZEROED_FLAG = "，{flag}"
FULL = "符合要求，得{points}分"
TIER_BASE = "{tier}，基础分{points}分"
FLOORED = "扣完为止"
GOT = "得{points}分"
CAPPED = {"deduction": "（扣分以{cap}分为限）", "bonus": "（加分以{cap}分为限）"}

# Ledgers
REQUIRED = "{label}为必填项，不能为空"  # a required column (or top-level fact) left blank
BLANK_GROUP = "（空白）"  # the roll-up line of rows whose grouping column is blank
