"""Facts as stored: converted values ↔ JSON, exact (no float), per fact type.

Numbers are kept as decimal text ("93.50"), dates as ISO text, booleans as
JSON booleans.  :func:`decode` gives back values that ``convert_facts``
accepts and converts to the same values, so every score is recomputed from
what is stored.  :func:`parse_text` reads a value typed by an auditor (the
command line or a 核定表 cell) into the same form.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal, InvalidOperation
from typing import Any

from ..engine.facts import convert_facts
from ..errors import FactsError, Problem
from ..rules import RulePack
from ..rules.contract import Invalid
from ..rules.model import Fact

NUMERIC = ("int", "decimal", "percent")


INVALID = "$invalid"  # a value that broke the input contract, kept so its items stay 有误
_INVALID_FIELDS = ("fact", "label", "shown", "expected", "cell")


def _enc(f: Fact, v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, Invalid):
        return {INVALID: {k: getattr(v, k) for k in _INVALID_FIELDS}}
    if f.type == "table":
        cols = {c.id: c for c in f.columns or []}
        return [{k: _enc(cols[k], x) if k in cols else None for k, x in row.items()} for row in v]
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, _dt.date):
        return v.isoformat()
    return v


def _dec(f: Fact, v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, dict) and isinstance(v.get(INVALID), dict):
        d = v[INVALID]
        if all(isinstance(d.get(k), str) for k in _INVALID_FIELDS[:4]):
            return Invalid(*(d.get(k) for k in _INVALID_FIELDS))
        return v  # a row edited by hand: convert_facts reports it
    if f.type == "table":
        cols = {c.id: c for c in f.columns or []}
        return [{k: _dec(cols[k], x) for k, x in row.items() if k in cols} for row in v]
    if f.type in NUMERIC and isinstance(v, str):
        try:
            return Decimal(v)
        except InvalidOperation:
            return v  # convert_facts reports it
    if f.type == "date" and isinstance(v, str):
        try:
            return _dt.date.fromisoformat(v)
        except ValueError:
            return v
    return v


def encode(pack: RulePack, values: dict[str, Any]) -> dict[str, Any]:
    """Converted facts → JSON-able mapping (every fact of the pack, blanks as null)."""
    return {fid: _enc(f, values.get(fid)) for fid, f in pack.facts.items()}


def decode(pack: RulePack, data: dict[str, Any]) -> dict[str, Any]:
    """Stored facts → raw facts for ``convert_facts``; facts the pack does not have are dropped."""
    return {fid: _dec(f, data.get(fid)) for fid, f in pack.facts.items()}


def encode_one(f: Fact, v: Any) -> Any:
    return _enc(f, v)


def decode_one(f: Fact, v: Any) -> Any:
    return _dec(f, v)


def parse_text(pack: RulePack, fid: str, text: Any, where: str) -> Any:
    """A value typed by an auditor for fact *fid*, converted (``None`` = blank).
    Raises :class:`FactsError` naming *where*, the value and what was expected."""
    f = pack.facts.get(fid)
    if f is None or f.type == "table":
        raise FactsError("未知的事实", [Problem(where, f"规则包 {pack.id} 中没有可核定的事实 {fid}")])
    raw = text
    if isinstance(text, str):
        raw = text.strip()
        if f.type in NUMERIC and raw:
            try:
                raw = Decimal(raw.replace(",", "").removesuffix("%"))
            except InvalidOperation:
                raw = text.strip()
    elif isinstance(text, float):
        raw = Decimal(repr(text))
    try:
        values = convert_facts(pack, {fid: raw}, where, lambda key: where)
    except FactsError as exc:
        raise FactsError(f"核定值有误：{where}", exc.problems) from None
    return values.get(fid)


def show(f: Fact, v: Any) -> str:
    """A stored value as the user reads it: 是/否, 93.5, 2005-07-15, blank as 未填."""
    if v is None or v == "":
        return "未填"
    if f.type == "bool":
        return "是" if v is True or v == "true" else "否"
    if f.type in NUMERIC:
        d = Decimal(str(v))
        return format(d.normalize(), "f") if d != d.to_integral_value() else str(int(d))
    if f.type == "table":
        return f"{len(v)} 行"
    return str(v)
