"""Decimal helpers: rounding to 0.01 and Chinese-friendly number text."""
from __future__ import annotations

import datetime as _dt
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal(0)


def q2(d: Decimal) -> Decimal:
    """Round to 0.01, half up (the spreadsheet's ROUND)."""
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def ceil(d: Decimal) -> Decimal:
    return d.to_integral_value(rounding=ROUND_CEILING)


def floor(d: Decimal) -> Decimal:
    return d.to_integral_value(rounding=ROUND_FLOOR)


def amount(d: Decimal) -> str:
    """Points as shown to users: always two decimals (``1.00``), half up."""
    s = str(d)
    if "E" not in s:
        dot = s.find(".")
        if dot < 0:
            return s + ".00"
        places = len(s) - dot - 1
        if places == 2:
            return s
        if places == 1:
            return s + "0"
    return str(d.quantize(CENT, rounding=ROUND_HALF_UP))


def value(v: Any) -> str:
    """A fact or derived value as shown in explanations: ``93.5``, ``20``,
    ``11.67`` (at most two decimals), ``2005-07-20``."""
    cls = v.__class__
    if cls is bool:
        return "是" if v else "否"
    if cls is Decimal or isinstance(v, Decimal):
        s = str(v)
        if "E" in s or "e" in s:
            s = format(v, "f")
        dot = s.find(".")
        if dot < 0:
            return "0" if s == "-0" else s
        if len(s) - dot - 1 > 2:
            s = str(q2(v))
        s = s.rstrip("0").rstrip(".")
        return "0" if s == "-0" else s  # -0.001 shows as 0, as in the spreadsheet
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v)


def metric(v: Any) -> str:
    """A roll-up value as shown in reports: ``—`` for none (a rate of 0 rows)."""
    return "—" if v is None else value(v)
