"""Input cells as formula values: how a fact or a ledger column reads, when it is
blank, and when what the user typed breaks the input contract.

The contract is :mod:`rubric_xl.rules.contract` (docs/input-contract.md); this
module implements exactly its acceptance in Excel 2010 / WPS formulas and shows
the same reason text (cell, value as shown, expectation).  A cell that is empty
or holds only spaces is blank, as in the engine.  Every condition here is safe
on an error value (``#N/A``): the error test comes first, through ``IF``.
"""
from __future__ import annotations

from decimal import Decimal

from ..rules import contract
from ..rules import expr
from ..rules.model import Fact
from ..rules.pack import TYPE_OF
from . import _xl as xl
from ._expr import Unsupported, V, blank_test

YES, NO = "是", "否"


def _upper(ref: str) -> str:
    return f"UPPER(TRIM({ref}))"


def _yes(ref: str) -> str:
    """A yes: Excel TRUE, or 是 / TRUE typed as text (any case, spaces trimmed)."""
    u = _upper(ref)
    return f"IF(ISLOGICAL({ref}),{ref},{xl.any_of([f'{u}={xl.text(w)}' for w in contract.YES_TEXT])})"


def _yes_array(rng: str) -> str:
    u = _upper(rng)
    return "((" + "+".join([f"({u}={xl.text(w)})" for w in contract.YES_TEXT] + [f"({rng}=TRUE)"]) + ")>0)"


def scalar(f: Fact, ref: str, nullable: bool) -> V:
    """The value of one cell *ref* (a defined name or ``$F{row}``)."""
    t = f.type
    blank = blank_test(ref)
    d = f.default
    if t == "bool":
        val = _yes(ref)
        if d is True:
            val = f"IF({blank},TRUE,{val})"
        v = V(val, expr.BOOL)
    elif t in ("int", "decimal", "percent"):
        val = ref if d is None else f"IF({blank},{xl.number(Decimal(d))},{ref})"
        v = V(val, expr.NUMBER, plain=True)
    elif t == "date":
        if d is not None:
            raise Unsupported(f"日期列 {f.id} 不能设默认值")
        v = V(ref, expr.DATE, plain=True)
    elif t in ("enum", "text"):
        val = f"TRIM({ref})" if d is None else f"IF({blank},{xl.text(str(d))},TRIM({ref}))"
        v = V(val, TYPE_OF[t], plain=True)
    else:
        raise Unsupported(f"{f.id} 的类型 {t} 不能作为单元格输入")
    if nullable and d is None:
        return V(v.f, v.t, blank, v.plain)
    return v


def array(f: Fact, rng: str, text: str | None = None) -> V:
    """The values of a whole ledger column *rng* (a defined name), element-wise;
    *text*: the same column as text, for the blank tests and text values (a
    ledger's roll-ups pass error-free forms of both)."""
    t = f.type
    text = text or rng
    blank = blank_test(text)
    d = f.default
    if t == "bool":
        val = _yes_array(rng)
        if d is True:
            val = f"(({val}+{blank})>0)"
        v = V(val, expr.BOOL)
    elif t in ("int", "decimal", "percent"):
        v = V(rng, expr.NUMBER, plain=True) if d is None else \
            V(f"({rng}+{blank}*{xl.number(Decimal(d))})", expr.NUMBER)
    elif t == "date":
        if d is not None:
            raise Unsupported(f"日期列 {f.id} 不能设默认值")
        v = V(rng, expr.DATE, plain=True)
    elif t in ("enum", "text"):
        if d is None:
            v = V(f"TRIM({text})", TYPE_OF[t], plain=True)
        else:  # no IF in array formulas: LEFT(default, blank*len) & value
            s = str(d)
            v = V(f"(LEFT({xl.text(s)},{blank}*{len(s)})&TRIM({text}))", TYPE_OF[t], plain=True)
    else:
        raise Unsupported(f"{f.id} 的类型 {t} 不能作为表格列")
    return V(v.f, v.t, blank if d is None else None, v.plain)


def invalid(f: Fact, ref: str, errors: bool = True) -> str:
    """Condition: *ref* breaks the contract for *f* (never an error itself;
    ``errors=False``: the caller already fails on an error value, ledger rows)."""
    t = f.type
    filled = f'TRIM({ref})<>""'
    if t == "bool":  # one comparison with an array constant: equality, no wildcards
        words = ",".join(xl.text(w) for w in contract.YES_TEXT + contract.NO_TEXT)
        bad = f"IF(ISLOGICAL({ref}),FALSE,AND({filled},SUMPRODUCT(({_upper(ref)}={{{words}}})*1)=0))"
    elif t == "enum":
        ok = xl.any_of([f"TRIM({ref})={xl.text(o)}" for o in f.options or []])
        bad = f"IF(ISLOGICAL({ref}),TRUE,AND({filled},NOT({ok})))"
    elif t in contract.NUMERIC:
        lo, hi = f.bounds()
        conds = [f"ABS({ref})<1E+{contract.HUGE_EXPONENT}"] + ([f"{ref}=INT({ref})"] if t == "int" else [])
        if lo is not None:
            conds.append(f"{ref}>={xl.number(lo)}")
        if hi is not None:
            conds.append(f"{ref}<={xl.number(hi)}")
        if t == "percent":
            a, b = contract.PERCENT_AMBIGUOUS
            conds.append(f"NOT(AND({ref}>{xl.number(a)},{ref}<={xl.number(b)}))")
        num_bad = f"NOT({xl.all_of(conds)})" if conds else "FALSE"
        bad = f"IF(ISLOGICAL({ref}),TRUE,IF(ISNUMBER({ref}),{num_bad},{filled}))"
    elif t == "date":
        ok = xl.all_of([f"{ref}=INT({ref})", f"{ref}>={contract.SERIAL_MIN}", f"{ref}<={contract.SERIAL_MAX}"])
        bad = f"IF(ISLOGICAL({ref}),TRUE,IF(ISNUMBER({ref}),NOT({ok}),{filled}))"
    else:  # text: anything but a boolean or an error value typed as text
        bad = f"IF(ISLOGICAL({ref}),TRUE,{xl.any_of([f'TRIM({ref})={xl.text(e)}' for e in contract.ERROR_VALUES])})"
    return f"IF(ISERROR({ref}),TRUE,{bad})" if errors else bad


ERROR_CODES_NAME = "rxl.errors"  # a defined name: the quoted error codes, ERROR.TYPE order (no pack id has a dot)


def error_codes_constant() -> str:
    """The value of :data:`ERROR_CODES_NAME`: an array constant ``{"“#NULL!”",…}``."""
    return "{" + ",".join(xl.text(f"“{e}”") for e in contract.ERROR_VALUES) + "}"


def shown(f: Fact, ref: str, errors: bool = True, codes_name: str | None = None) -> str:
    """Text formula: the cell's value as :func:`rubric_xl.rules.contract.shown` shows it.
    *codes_name*: an error value's text from that defined name (:func:`error_codes_constant`),
    shorter than spelling the codes out (a ledger row names many cells)."""
    codes = ",".join(xl.text(e) for e in contract.ERROR_VALUES)
    q1, q2 = xl.text("“"), xl.text("”")
    if f.type == "date":
        moment = (f'{xl.date_text(f"INT({ref})")}&" "&TEXT(HOUR({ref}),"00")&":"&TEXT(MINUTE({ref}),"00")')
        num = f'IF(AND({ref}>={contract.SERIAL_MIN},{ref}<={contract.SERIAL_MAX}),{moment},{ref}&"")'
    else:
        num = f'{ref}&""'
    out = f"IF(ISNUMBER({ref}),{num},{q1}&{ref}&{q2})"
    if f.type != "bool":  # an invalid yes/no is never a boolean
        out = f'IF(ISLOGICAL({ref}),IF({ref},"TRUE","FALSE"),{out})'
    if errors and codes_name:
        first = xl.text(f"“{contract.ERROR_VALUES[0]}”")  # LibreOffice: no ERROR.TYPE for an imported #NULL!
        out = f"IF(ISERROR({ref}),IFERROR(INDEX({codes_name},ERROR.TYPE({ref})),{first}),{out})"
    elif errors:
        # LibreOffice has no ERROR.TYPE for an imported #NULL! (the first code)
        first = xl.text(contract.ERROR_VALUES[0])
        out = f"IF(ISERROR({ref}),{q1}&IFERROR(CHOOSE(ERROR.TYPE({ref}),{codes}),{first})&{q2},{out})"
    return out


def reason(f: Fact, ref: str, sheet: str, label: str | None = None, cell: str | None = None,
           errors: bool = True, codes_name: str | None = None) -> str:
    """Text formula: :meth:`rubric_xl.rules.contract.Invalid.reason` for the cell
    *ref* (*cell*: its address as fixed text; ``F{row}`` in a row template
    becomes ``"…F"&ROW()&"…"``, the same text in every row)."""
    if cell and xl.ROW in cell:  # a row template: ROW() keeps every row's formula one translation (shared)
        before, after = cell.split(xl.ROW, 1)
        where = xl.concat([xl.text(f"{label or f.label}（{sheet}!{before}"), "ROW()", xl.text(f"{after}）为")])
    elif cell:
        where = xl.text(f"{label or f.label}（{sheet}!{cell}）为")
    else:
        where = xl.concat([xl.text(f"{label or f.label}（{sheet}!"), f"ADDRESS(ROW({ref}),COLUMN({ref}),4)",
                           xl.text("）为")])
    parts = [where, shown(f, ref, errors, codes_name), xl.text("，" + contract.expected(f))]
    if f.type in contract.NUMERIC:  # contract.TOO_BIG after the expectation, for a number ≥ 10^15
        parts.append(f'IF(ISNUMBER({ref}),IF(ABS({ref})>=1E+{contract.HUGE_EXPONENT},{xl.text(contract.TOO_BIG)},""),"")')
    return xl.concat(parts)


def expected(f: Fact) -> str:
    """What *f* should hold, in Chinese (the input contract's text)."""
    return contract.expected(f)
