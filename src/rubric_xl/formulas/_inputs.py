"""Input cells as formula values: how a fact or a ledger column reads, when it is
blank, and when what the user typed is not of the fact's type.

Conventions (docs/ARCHITECTURE.md): booleans are typed 是/否, percentages as
numbers 0–100, dates as Excel dates, enums as one of their options.  A cell that
is empty or holds only spaces is blank, as in the engine.
"""
from __future__ import annotations

from decimal import Decimal

from ..engine.facts import RANGE_WHAT, expected_range
from ..rules import expr as E
from ..rules.model import Fact
from ..rules.pack import TYPE_OF
from . import _xl as X
from ._expr import Unsupported, V, blank_test

YES, NO = "是", "否"


def scalar(f: Fact, ref: str, nullable: bool) -> V:
    """The value of one cell *ref* (a defined name or ``$F{row}``)."""
    t = f.type
    blank = blank_test(ref)
    d = f.default
    if t == "bool":
        val = f'(TRIM({ref})="{YES}")'
        if d is True:
            val = f"IF({blank},TRUE,{val})"
        v = V(val, E.BOOL)
    elif t in ("int", "decimal", "percent"):
        val = ref if d is None else f"IF({blank},{X.number(Decimal(d))},{ref})"
        v = V(val, E.NUMBER, plain=True)
    elif t == "date":
        if d is not None:
            raise Unsupported(f"日期列 {f.id} 不能设默认值")
        v = V(ref, E.DATE, plain=True)
    elif t in ("enum", "text"):
        val = f"TRIM({ref})" if d is None else f"IF({blank},{X.text(str(d))},TRIM({ref}))"
        v = V(val, TYPE_OF[t], plain=True)
    else:
        raise Unsupported(f"{f.id} 的类型 {t} 不能作为单元格输入")
    if nullable and d is None:
        return V(v.f, v.t, blank, v.plain)
    return v


def array(f: Fact, rng: str) -> V:
    """The values of a whole ledger column *rng* (a defined name), element-wise."""
    t = f.type
    blank = blank_test(rng)
    d = f.default
    if t == "bool":
        val = f'(TRIM({rng})="{YES}")'
        if d is True:
            val = f"(({val}+{blank})>0)"
        v = V(val, E.BOOL)
    elif t in ("int", "decimal", "percent"):
        v = V(rng, E.NUMBER, plain=True) if d is None else \
            V(f"({rng}+{blank}*{X.number(Decimal(d))})", E.NUMBER)
    elif t == "date":
        if d is not None:
            raise Unsupported(f"日期列 {f.id} 不能设默认值")
        v = V(rng, E.DATE, plain=True)
    elif t in ("enum", "text"):
        if d is None:
            v = V(f"TRIM({rng})", TYPE_OF[t], plain=True)
        else:  # no IF in array formulas: LEFT(default, blank*len) & value
            s = str(d)
            v = V(f"(LEFT({X.text(s)},{blank}*{len(s)})&TRIM({rng}))", TYPE_OF[t], plain=True)
    else:
        raise Unsupported(f"{f.id} 的类型 {t} 不能作为表格列")
    return V(v.f, v.t, blank if d is None else None, v.plain)


def invalid(f: Fact, ref: str) -> str | None:
    """Condition: *ref* is not blank and not a valid value of *f* (``None``: any text is valid)."""
    t = f.type
    if t == "bool":
        bad = f'NOT(OR(TRIM({ref})="{YES}",TRIM({ref})="{NO}"))'
    elif t == "enum":
        bad = "NOT(" + X.any_of([f"TRIM({ref})={X.text(o)}" for o in f.options or []]) + ")"
    elif t in ("int", "decimal", "percent"):
        lo, hi = f.bounds()
        conds = [f"{ref}=INT({ref})"] if t == "int" else []
        if lo is not None:
            conds.append(f"{ref}>={X.number(lo)}")
        if hi is not None:
            conds.append(f"{ref}<={X.number(hi)}")
        bad = f"IF(ISNUMBER({ref}),NOT({X.all_of(conds)}),TRUE)" if conds else f"NOT(ISNUMBER({ref}))"
    elif t == "date":
        bad = f"IF(ISNUMBER({ref}),{ref}<>INT({ref}),TRUE)"
    else:
        return None
    return f'AND(TRIM({ref})<>"",{bad})'


def expected(f: Fact) -> str:
    """What *f* should hold, in Chinese (shown when a cell is invalid)."""
    t = f.type
    if t == "bool":
        return "应为 是 或 否"
    if t == "enum":
        return "应为以下之一：" + "、".join(f.options or [])
    if t == "date":
        return "应为日期"
    if t not in RANGE_WHAT:
        return "应为文字"
    return expected_range(f) or f"应为{RANGE_WHAT[t]}"
