"""The input contract: what an office user may type for each fact type, and what
it means — one definition for every executor (docs/input-contract.md).

* the engine converts facts files with :func:`accept`;
* the reader (auditor) and the add-in turn a spreadsheet cell into a raw value
  with :func:`cell_value`, then :func:`accept` it;
* the native formulas (``rubric_xl.formulas._inputs``) implement exactly the
  same acceptance, and show the same :func:`expected` and :func:`shown` text.

A value that breaks the contract is never read as blank or as another value:
it becomes an :class:`Invalid`, whose items are 有误 (not scored) and whose
:meth:`Invalid.reason` names the cell, the value and what was expected.
"""
from __future__ import annotations

import datetime as _dt
import re
from decimal import Context, Decimal, Inexact
from typing import Any

from .model import MAX_DIGITS, Fact, number_problem

# Yes/no: text compared after trimming spaces, case-insensitively; Excel's own
# TRUE/FALSE cells; 1 / 0 as numbers or text (LibreOffice reads a TRUE pasted into a
# text cell as 1).  Nothing else (√ × 对 错 yes no) is a yes/no.
YES_TEXT = ("是", "TRUE", "1")
NO_TEXT = ("否", "FALSE", "0")
# Spreadsheet error values: invalid for every type (also typed as text).
ERROR_VALUES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")  # ERROR.TYPE order
# Date cells hold a whole Excel serial from 1900-03-01 (61) to 9999-12-31.
SERIAL_MIN, SERIAL_MAX = 61, 2_958_465
_EPOCH_1900 = _dt.datetime(1899, 12, 30)
_EPOCH_1904 = _dt.datetime(1904, 1, 1)
# Facts files only (JSON has no dates): ISO text YYYY-MM-DD, nothing else.
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Percentages are typed 0–100 without the % sign.  Excel/WPS store "95%" as 0.95,
# which cannot be told from a real 0.95 %: a value above 0 and at most 1 is invalid.
PERCENT_AMBIGUOUS = (Decimal(0), Decimal(1))
NUMERIC = ("int", "decimal", "percent")
_SPACES = re.compile(" {2,}")
_WHAT = {"int": "整数", "decimal": "数值", "percent": "百分数"}


class BadValue(Exception):
    """Raised by :func:`accept` with the Chinese text of what was expected."""


class Invalid:
    """A value that breaks the contract, kept (instead of the value) so that its
    items are 有误.  ``shown`` is the value as the workbook shows it in a reason."""

    __slots__ = ("fact", "label", "shown", "expected", "cell")

    def __init__(self, fact: str, label: str, shown: str, expected: str, cell: str | None = None):
        self.fact, self.label, self.shown, self.expected, self.cell = fact, label, shown, expected, cell

    def reason(self) -> str:
        return reason(self.label, self.cell, self.shown, self.expected)

    def _key(self) -> tuple:
        return (self.fact, self.label, self.shown, self.expected, self.cell)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Invalid) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Invalid({self.reason()!r})"


def reason(label: str, cell: str | None, shown_value: str, expected_text: str) -> str:
    """``每周工作进度上报期数（填报!D12）为“ 18”，应为不小于 0 的整数``."""
    where = f"（{cell}）" if cell else ""
    return f"{label}{where}为{shown_value}，{expected_text}"


def plain(d: Decimal) -> str:
    """A number as a spreadsheet shows it in text (General): ``20``, ``0.95``."""
    return str(int(d)) if d == d.to_integral_value() else format(d.normalize(), "f")


def number_range(f: Fact) -> str | None:
    """"0–100 之间的百分数" for a bounded numeric fact, else ``None``."""
    lo, hi = f.bounds()
    what = _WHAT.get(f.type, "数值")
    if lo is not None and hi is not None:
        return f"{plain(lo)}–{plain(hi)} 之间的{what}"
    if lo is not None:
        return f"不小于 {plain(lo)} 的{what}"
    if hi is not None:
        return f"不大于 {plain(hi)} 的{what}"
    return None


def expected(f: Fact) -> str:
    """What *f* must hold, in Chinese — one text per fact, whatever the value."""
    t = f.type
    if t == "bool":
        return "应为 是 或 否"
    if t == "enum":
        return "应为以下之一：" + "、".join(f.options or [])
    if t == "date":
        return "应为日期，格式 YYYY-MM-DD"  # pack-neutral: a template speaks only of its own pack
    if t == "percent":
        return f"应为 {number_range(f)}，不带 % 号（如 93.5 表示 93.5%；大于 0、不大于 1 的数视为误带了 % 号）"
    if t == "int":
        lo, hi = f.bounds()
        r = f"{plain(lo)}–{plain(hi)}" if lo is not None and hi is not None else \
            f"不小于 {plain(lo)}" if lo is not None else f"不大于 {plain(hi)}" if hi is not None else ""
        return f"应为整数（{r}）" if r else "应为整数"
    if t in NUMERIC:
        return "应为" + (number_range(f) or _WHAT[t])
    return "应为文字"


def shown(value: Any) -> str:
    """A raw value as a reason shows it: text (and error values) in “”, numbers
    as General (from 10^15 on as ``1E+30``, as ``cell&""`` gives), dates ISO,
    booleans TRUE/FALSE."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return f"“{value}”"
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, float):
        if value != value or abs(value) == float("inf"):
            return f"“{value}”"
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            return f"“{value}”"
        return scientific(value) if huge(value) else plain(value)
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return f"“{value}”"


def trim(s: str) -> str:
    """What the spreadsheet's TRIM does: spaces (U+0020 only) removed at both ends
    and runs of them inside collapsed to one.  Other white space is kept."""
    return _SPACES.sub(" ", s.strip(" "))


HUGE_EXPONENT = 15  # Excel keeps 15 significant digits: |x| ≥ 10^15 is out of range
TOO_BIG = f"；超出范围（绝对值应小于 10^{HUGE_EXPONENT}）"
_LIMIT = 10 ** HUGE_EXPONENT


def huge(d: Decimal) -> bool:
    """|d| ≥ 10^15 (no arithmetic on *d*: 1e999999999 would overflow)."""
    return not d.is_zero() and d.adjusted() >= HUGE_EXPONENT


def scientific(d: Decimal) -> str:
    """``1E+30``, ``-1.5E+300``: as a spreadsheet turns a number ≥ 10^15 into
    text (no arithmetic on *d*: 1e999999999 would overflow a normalize)."""
    sign, digits, _ = d.as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}E+{d.adjusted()}"


def is_blank(v: Any) -> bool:
    """Empty, or only spaces (as ``TRIM(cell)=""``)."""
    return v is None or (isinstance(v, str) and not v.strip(" "))


def number(v: Any) -> Decimal | None:
    """A spreadsheet or facts-file number as an exact Decimal (``93.5`` stays
    93.5); ``None`` for anything else (text is never a number)."""
    if v.__class__ is bool:
        return None
    if isinstance(v, Decimal):
        return v if v.is_finite() else None
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        return Decimal(repr(v)) if v == v and abs(v) != float("inf") else None
    return None


def serial_date(v: float | Decimal, date1904: bool = False) -> _dt.date | _dt.datetime | None:
    """An Excel serial number as a date (a datetime when it has a time part);
    ``None`` outside 1900-03-01 … 9999-12-31."""
    d = v if isinstance(v, Decimal) else number(v)
    if d is None or d < (0 if date1904 else SERIAL_MIN) or d > SERIAL_MAX:
        return None
    days = int(d)
    seconds = int(((d - days) * 86400).to_integral_value())
    moment = (_EPOCH_1904 if date1904 else _EPOCH_1900) + _dt.timedelta(days=days, seconds=seconds)
    return moment.date() if seconds == 0 else moment


def cell_value(value: Any, f: Fact, date1904: bool = False) -> Any:
    """A spreadsheet cell's value (python-calamine, xlwings) as a raw value for
    :func:`accept`: numbers become exact Decimals, a number in a date cell its
    date, a datetime at midnight its date.  Nothing else is reinterpreted."""
    if value is None or value.__class__ is bool:
        return value
    if isinstance(value, (int, float)):
        d = number(value)
        if d is None:
            return "#NUM!"
        if f.type == "date":
            moment = serial_date(d, date1904)
            return moment if moment is not None else d
        return d
    if isinstance(value, _dt.datetime):
        return value.date() if value.time() == _dt.time(0) else value
    if isinstance(value, (str, _dt.date)):
        return value
    return str(value)  # time, timedelta: shown as text


NOT_QUICK = object()  # quick_number: no quick answer (accept decides, and says why)
_ONE = Decimal(1)
_EXACT = Context(prec=MAX_DIGITS, traps=[Inexact])  # scaleb below: exact or an exception


def within_digits(d: Decimal) -> bool:
    """``number_problem(d) is None`` for a finite *d* with |d| < 10^15, decided
    cheaply when *d* has no digit below 10^-13 (then at most 28 digits): d × 10^13,
    exact, is whole.  Anything else is left to ``number_problem``."""
    try:
        w = d.scaleb(13, _EXACT)
    except ArithmeticError:
        return number_problem(d) is None
    return w == w.to_integral_value() or number_problem(d) is None


_within_digits = within_digits


def quick_limit() -> int:
    """The magnitude an ``int`` must stay below for :func:`quick_number` (10^15)."""
    return _LIMIT


def number_bounds(f: Fact) -> tuple[Decimal | None, Decimal | None, bool, bool]:
    """(min, max, percent, whole) of a number fact, for :func:`quick_number`."""
    lo, hi = f.bounds()
    return lo, hi, f.type == "percent", f.type == "int"


def quick_number(v: Any, lo: Decimal | None, hi: Decimal | None, percent: bool, whole: bool,
                 facts_file: bool = False) -> Any:
    """:func:`accept` of an ``int`` or ``Decimal`` *v* for a number fact with
    :func:`number_bounds` — the same value — when *v* is valid and plainly so;
    else :data:`NOT_QUICK` (then :func:`accept` decides, and says why)."""
    cls = v.__class__
    if cls is int:
        if -_LIMIT < v < _LIMIT and (lo is None or v >= lo) and (hi is None or v <= hi) \
                and not (percent and v == 1):
            return Decimal(v)
        return NOT_QUICK
    if cls is Decimal and v.is_finite() and (v.is_zero() or v.adjusted() < HUGE_EXPONENT) \
            and (lo is None or v >= lo) and (hi is None or v <= hi) \
            and not (percent and PERCENT_AMBIGUOUS[0] < v <= PERCENT_AMBIGUOUS[1]) \
            and (not facts_file or _within_digits(v)):
        if not whole:
            return v
        if v == v.to_integral_value():
            return v.quantize(_ONE)
    return NOT_QUICK


def quick_text(v: Any, options: frozenset[str] | None) -> Any:
    """:func:`accept` of a ``str`` *v* for a text fact (*options* ``None``) or an
    option fact (its options) — *v* itself — when nothing is to trim and it is no
    error value (nor, for options, anything but an option); else :data:`NOT_QUICK`."""
    if v.__class__ is str and v and v[0] != " " and v[-1] != " " and "  " not in v \
            and v not in ERROR_VALUES and (options is None or v in options):
        return v
    return NOT_QUICK


def accept(f: Fact, v: Any, *, facts_file: bool = False) -> Any:
    """The value of a non-blank raw *v* for *f* (bool, Decimal, date, str), or
    :class:`BadValue` with :func:`expected`.  *facts_file*: ISO date text is a
    date (facts files only; in a cell, text is never a date)."""
    t = f.type
    if isinstance(v, str) and trim(v) in ERROR_VALUES:
        raise BadValue(expected(f))
    if t == "bool":
        if v.__class__ is bool:
            return v
        d = number(v)
        s = trim(v).upper() if isinstance(v, str) else plain(d) if d is not None else None
        if s in YES_TEXT:
            return True
        if s in NO_TEXT:
            return False
    elif t in NUMERIC:
        d = number(v)
        if d is not None and huge(d):
            raise BadValue(expected(f) + TOO_BIG)
        if d is not None and facts_file:
            why = number_problem(d)  # a facts file's 41-digit decimal, 1e-31 …
            if why:
                raise BadValue(why)
        if d is not None:
            lo, hi = f.bounds()
            ok = (lo is None or d >= lo) and (hi is None or d <= hi)
            if t == "int":
                ok = ok and d == d.to_integral_value()
                d = d.quantize(Decimal(1)) if ok else d
            elif t == "percent":
                ok = ok and not (PERCENT_AMBIGUOUS[0] < d <= PERCENT_AMBIGUOUS[1])
            if ok:
                return d
    elif t == "date":
        if isinstance(v, _dt.datetime):
            if v.time() == _dt.time(0):
                return v.date()
        elif isinstance(v, _dt.date):
            return v
        elif facts_file and isinstance(v, str) and ISO_DATE.match(trim(v)):
            try:
                return _dt.date.fromisoformat(trim(v))
            except ValueError:
                pass
    elif t == "enum":
        d = number(v)
        s = trim(v) if isinstance(v, str) else plain(d) if d is not None else None
        if s is not None and s in (f.options or []):
            return s
    elif t == "text":
        if isinstance(v, str):
            return trim(v)
        d = number(v)
        if d is not None:
            return plain(d)
    raise BadValue(expected(f))
