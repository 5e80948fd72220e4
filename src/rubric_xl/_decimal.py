"""The one Decimal-to-text helper for exact numbers (no rounding).

Points shown to users (two decimals, half up) and values in explanations are the
engine's (``engine.num.amount`` / ``engine.num.value``); this is the exact text of
a number wherever it is echoed back: messages about a value, ``_meta`` cells,
ranges in templates, facts files.
"""
from __future__ import annotations

from decimal import Decimal


def plain(d: Decimal | int) -> str:
    """Exact and shortest, never an exponent: ``2.50`` → ``2.5``, ``3.00`` → ``3``,
    ``1E+2`` → ``100``, ``-0`` → ``0``, ``1E-7`` → ``0.0000001``."""
    d = Decimal(d)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")
