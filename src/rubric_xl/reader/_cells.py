"""Turn a cell value (as python-calamine returns it) into a raw fact value.

Only the shape is fixed here: floats become exact ``Decimal`` via ``repr``,
date serial numbers become dates, numbers typed as text are read as numbers
(with a warning).  Whether the value is acceptable — type, range, options — is
decided by :func:`rubric_xl.engine.facts.convert_facts`, which reports it.
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from ..rules.model import Fact

NUMERIC = ("int", "decimal", "percent")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_EPOCH_1900 = _dt.datetime(1899, 12, 30)
_EPOCH_1904 = _dt.datetime(1904, 1, 1)
MAX_SERIAL = 2_958_465  # 9999-12-31


def float_decimal(v: float | int) -> Decimal:
    """A spreadsheet number as the exact decimal the user typed (``93.5``)."""
    if isinstance(v, int):
        return Decimal(v)
    return Decimal(repr(v))


def _plain(d: Decimal) -> str:
    return str(int(d)) if d == d.to_integral_value() else format(d.normalize(), "f")


def serial_date(v: float, date1904: bool) -> _dt.date | _dt.datetime | None:
    """An Excel serial number as a date (a datetime when it has a time part)."""
    if v != v or v < (0 if date1904 else 61) or v > MAX_SERIAL:  # 1900-02-29 does not exist
        return None
    d = float_decimal(v)
    days = int(d)
    seconds = int(((d - days) * 86400).to_integral_value())
    moment = (_EPOCH_1904 if date1904 else _EPOCH_1900) + _dt.timedelta(days=days, seconds=seconds)
    return moment.date() if seconds == 0 else moment


def _number_text(s: str, percent: bool) -> Decimal | None:
    t = unicodedata.normalize("NFKC", s).strip()
    if percent and t.endswith("%"):
        t = t[:-1].strip()
    try:
        d = Decimal(t)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _date_text(s: str) -> _dt.date | None:
    m = _DATE_TEXT.match(unicodedata.normalize("NFKC", s).strip())
    if not m:
        return None
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def cell_to_raw(value: Any, fact: Fact, date1904: bool = False) -> tuple[Any, str | None]:
    """(raw value for convert_facts, Chinese warning or ``None``)."""
    t = fact.type
    if value is None:
        return None, None
    if isinstance(value, str):
        if not value.strip():
            return None, None
        if t in NUMERIC:
            d = _number_text(value, t == "percent")
            if d is not None:
                return d, f"单元格中是文本“{value.strip()}”，已按数值 {_plain(d)} 读取（请将单元格设为数值格式）"
        elif t == "date" and not _iso(value):
            d = _date_text(value)
            if d is not None:
                return d, f"单元格中是文本“{value.strip()}”，已按日期 {d.isoformat()} 读取（请填写为日期）"
        return value, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and value != value:
            return "#NUM!", None
        if t == "date":
            moment = serial_date(float(value), date1904)
            return (moment if moment is not None else float_decimal(value)), None
        d = float_decimal(value)
        if t in ("text", "enum"):
            return _plain(d), None
        return d, None
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value, None
    return str(value), None  # time, timedelta: shown in the converter's message


def _iso(s: str) -> bool:
    try:
        _dt.date.fromisoformat(s.strip())
        return True
    except ValueError:
        return False
