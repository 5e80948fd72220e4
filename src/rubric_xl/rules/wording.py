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
