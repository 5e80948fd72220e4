"""The score card: the engine's result, and its JSON form.

Points are ``Decimal`` exact to 0.01; :func:`to_dict` keeps them exact by
turning them into :class:`JSONNumber`, which :func:`dumps` writes as plain JSON
numbers (``2.80``) without ever passing through ``float``.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .num import amount


class Adjustment:
    """One deduction or bonus that applied (immutable by convention)."""

    __slots__ = ("kind", "amount", "text", "capped", "rule", "shown")

    def __init__(self, kind: str, amount: Decimal, text: str, capped: bool = False, rule: int | None = None,
                 shown: str | None = None):
        self.kind = kind  # flat | per_unit | step | late
        self.amount = amount
        self.text = text
        self.capped = capped
        self.rule = rule  # its position among the item's deductions (or bonuses), for coverage
        self.shown = shown  # the amount as users see it (num.amount), when already made

    def __repr__(self) -> str:
        return f"Adjustment({self.kind!r}, {self.amount}, {self.text!r})"


class ItemResult:
    """One item's result.  A plain slotted class: it is built 44 times per
    submission, so construction is kept cheap (empty tuples until needed)."""

    __slots__ = ("id", "title", "category", "max", "bonus_cap", "status", "points", "zeroed",
                 "missing", "deductions", "bonuses", "flags", "explanation", "invalid",
                 "zero_rule", "tier", "floored", "points_text", "_json")

    def __init__(self, id: str, title: str, category: str, max: Decimal,
                 bonus_cap: Decimal | None, status: str, points: Decimal | None = None,
                 zeroed: bool = False, missing=(), deductions=(), bonuses=(), flags=(),
                 explanation: str = "", invalid=(), zero_rule: int | None = None,
                 tier: str | None = None, floored: bool = False, points_text: str | None = None,
                 json: tuple | None = None):
        # one assignment a line: cheaper than tuple assignments (this runs per result)
        self.id = id
        self.title = title
        self.category = category
        self.max = max
        self.bonus_cap = bonus_cap
        self.status = status
        self.points = points
        self.zeroed = zeroed
        self.missing: list[str] | tuple = missing
        self.deductions: list[Adjustment] | tuple = deductions
        self.bonuses: list[Adjustment] | tuple = bonuses
        self.flags: list[str] | tuple = flags
        self.explanation = explanation
        self.invalid: list[str] | tuple = invalid  # facts that break the input contract (status invalid)
        # what fired, for ``rules test --coverage``: the zeroing condition that held
        # (its position), the tier option read, whether the floor 扣完为止 bit
        self.zero_rule = zero_rule
        self.tier = tier
        self.floored = floored
        self.points_text = points_text  # the points as users see them (num.amount), when already made
        self._json = json  # its JSON form's scalars, made once (see _items)

    @property
    def deducted(self) -> Decimal:
        return sum((a.amount for a in self.deductions), Decimal(0))

    def __repr__(self) -> str:
        return f"ItemResult({self.id!r}, points={self.points}, status={self.status!r})"


@dataclass(slots=True)
class CategoryResult:
    name: str
    points: Decimal
    max: Decimal
    bonus_only: bool = False
    complete: bool = True


@dataclass(slots=True)
class PackInfo:
    id: str
    title: str
    version: str
    hash: str


@dataclass(slots=True)
class ScoreCard:
    pack: PackInfo
    total: Decimal
    max: Decimal
    grade: str | None
    eligible: bool | None
    eligibility_label: str | None
    provisional: bool
    categories: list[CategoryResult]
    items: list[ItemResult]
    flags: list[str]

    @property
    def kind(self) -> str:
        return "rubric"

    def item(self, iid: str) -> ItemResult:
        for it in self.items:
            if it.id == iid:
                return it
        raise KeyError(iid)


@dataclass(slots=True, frozen=True)
class RowProblem:
    """One row error or warning.  The engine shares one instance per check among
    the rows where it holds: never change one (nor its ``columns``)."""

    check: str
    level: str
    message: str
    columns: list[str]


@dataclass(slots=True)
class RowResult:
    index: int  # 1-based row number in the ledger
    key: str | None
    status: str
    values: dict[str, Any]
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)


@dataclass(slots=True)
class Rollup:
    by: str | None
    label: str
    groups: dict[str, dict[str, Any]]  # group key -> metric id -> value (ranked order when ranked)
    total: dict[str, Any] | None
    total_label: str | None
    ranks: dict[str, int | None] | None = None  # group key -> rank (ties share; None: not ranked)
    flagged: dict[str, list[str]] | None = None  # reporting body -> its groups where the flag metric holds
    empty: list[str] = field(default_factory=list)  # keys of listed groups without rows (all_options)
    empty_label: str | None = None  # what a group without rows shows


@dataclass(slots=True)
class TableResult:
    """One table of a ledger card."""

    table: str
    label: str
    rows: list[RowResult]
    rollups: list[Rollup]
    metric_labels: dict[str, str]

    @property
    def error_count(self) -> int:
        return sum(len(r.errors) for r in self.rows)

    @property
    def warning_count(self) -> int:
        return sum(len(r.warnings) for r in self.rows)


@dataclass(slots=True)
class LedgerCard:
    """A ledger submission's result.  ``rows`` / ``rollups`` / ``metric_labels``
    are the first table's; ``more`` holds the results of the pack's further
    tables (pack order); :attr:`tables` lists them all.  ``checks``: the pack's
    checks of the whole submission that fired (``RowProblem.columns`` holds the
    top-level facts each reads), counted in :attr:`error_count` /
    :attr:`warning_count` with the rows' problems."""

    pack: PackInfo
    facts: dict[str, Any]
    rows: list[RowResult]
    rollups: list[Rollup]
    metric_labels: dict[str, str]
    table: str = ""
    label: str = ""
    more: list[TableResult] = field(default_factory=list)
    checks: list[RowProblem] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "ledger"

    @property
    def tables(self) -> list[TableResult]:
        return [TableResult(self.table, self.label, self.rows, self.rollups, self.metric_labels), *self.more]

    @property
    def error_count(self) -> int:
        return sum(t.error_count for t in self.tables) + sum(p.level == "error" for p in self.checks)

    @property
    def warning_count(self) -> int:
        return sum(t.warning_count for t in self.tables) + sum(p.level != "error" for p in self.checks)


class JSONNumber(str):
    """Decimal text that :func:`dumps` writes as a bare JSON number."""


def _num(d: Decimal | None) -> JSONNumber | None:
    return None if d is None else JSONNumber(amount(d))


_CONST_NUMS: dict[int, tuple[Decimal, JSONNumber]] = {}  # by id(): an item's max and bonus cap


def _const_num(d: Decimal | None) -> JSONNumber | None:
    """:func:`_num` of a value that is one object for every result (an item's
    max): remembered by identity (the entry keeps the object, so its id is not reused)."""
    if d is None:
        return None
    hit = _CONST_NUMS.get(id(d))
    if hit is not None and hit[0] is d:
        return hit[1]
    if len(_CONST_NUMS) >= 4096:
        _CONST_NUMS.clear()
    n = _num(d)
    _CONST_NUMS[id(d)] = (d, n)
    return n


def _plain(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, Decimal):
        return JSONNumber(format(v.normalize(), "f")) if v == v.to_integral_value() \
            else JSONNumber(format(v, "f"))
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _adj(a: Adjustment) -> dict:
    return {"kind": a.kind, "amount": _num(a.amount) if a.shown is None else JSONNumber(a.shown),
            "text": a.text, "capped": a.capped}


def _item_json(it: ItemResult) -> dict:
    """An item's JSON scalars, in the card's key order (its lists ``None``)."""
    return {
        "id": it.id, "title": it.title, "category": it.category,
        "points": _num(it.points) if it.points_text is None else JSONNumber(it.points_text),
        "max": _const_num(it.max),
        "bonus_cap": _const_num(it.bonus_cap), "status": it.status, "zeroed": it.zeroed,
        "missing": None, "invalid": None, "explanation": it.explanation,
        "deductions": None, "bonuses": None, "flags": None}


def shared_json(it: ItemResult) -> ItemResult:
    """Make *it*'s JSON scalars once, for a result shared by many cards (full points,
    a zeroing, …); returns *it*."""
    it._json = (_item_json(it), not (it.missing or it.invalid or it.deductions or it.bonuses or it.flags))
    return it


def scored_head(id: str, title: str, category: str, max: Decimal, bonus_cap: Decimal | None) -> tuple:
    """The JSON scalars every *scored* result of one item shares (its points and
    explanation filled per result): what the engine passes as ``ItemResult(json=…)``."""
    return (_item_json(ItemResult(id, title, category, max, bonus_cap, "scored", points_text="")), None)


def _items(items: list[ItemResult]) -> list[dict]:
    """The items' JSON forms: fresh dicts and lists every time (callers may change
    them) over scalars made once where they are shared (``ItemResult._json``:
    ``(scalars, True)`` all lists empty, ``(scalars, False)``, ``(head, None)``
    points and explanation per result; None: made here)."""
    out = []
    append = out.append
    for it in items:
        j = it._json
        if j is None:
            d = _item_json(it)
            plain = False
        else:
            d = j[0].copy()
            plain = j[1]
            if plain is None:
                d["points"] = _num(it.points) if it.points_text is None else JSONNumber(it.points_text)
                d["explanation"] = it.explanation
        if plain:
            d["missing"] = []
            d["invalid"] = []
            d["deductions"] = []
            d["bonuses"] = []
            d["flags"] = []
        else:
            d["missing"] = [*it.missing]
            d["invalid"] = [*it.invalid]
            for key, adjs in (("deductions", it.deductions), ("bonuses", it.bonuses)):
                got = d[key] = []
                for a in adjs:  # _adj written out: no call per adjustment
                    got.append({"kind": a.kind, "amount": _num(a.amount) if a.shown is None else JSONNumber(a.shown),
                                "text": a.text, "capped": a.capped})
            d["flags"] = [*it.flags]
        append(d)
    return out


def rollup_dict(ru: Rollup) -> dict:
    """One roll-up in JSON form (also the combined roll-up of many workbooks)."""
    groups = []
    for k, v in ru.groups.items():
        g = {"key": k, **_plain(v)}
        if ru.ranks is not None:
            g["rank"] = ru.ranks.get(k)
        if k in ru.empty:
            g["empty"] = True
            if ru.empty_label:
                g["empty_label"] = ru.empty_label
        groups.append(g)
    out = {"by": ru.by, "label": ru.label, "groups": groups,
           "total": None if ru.total is None else {"key": ru.total_label, **_plain(ru.total)}}
    if ru.flagged is not None:
        out["flagged"] = ru.flagged
    return out


def _table(t: TableResult) -> dict:
    return {
        "table": t.table, "label": t.label, "errors": t.error_count, "warnings": t.warning_count,
        "rows": [{
            "row": r.index, "key": r.key, "status": r.status, "values": _plain(r.values),
            "errors": [{"check": p.check, "msg": p.message, "columns": [*p.columns]} for p in r.errors],
            "warnings": [{"check": p.check, "msg": p.message, "columns": [*p.columns]} for p in r.warnings],
        } for r in t.rows],
        "rollups": [rollup_dict(ru) for ru in t.rollups],
        "metrics": t.metric_labels,
    }


def to_dict(card: ScoreCard | LedgerCard) -> dict:
    pack = {"id": card.pack.id, "title": card.pack.title, "version": card.pack.version,
            "hash": card.pack.hash}
    if isinstance(card, LedgerCard):
        first = _table(card.tables[0])
        out = {"pack": pack, "kind": "ledger", "facts": _plain(card.facts),
               "errors": card.error_count, "warnings": card.warning_count,
               "rows": first["rows"], "rollups": first["rollups"], "metrics": first["metrics"],
               "checks": [{"check": p.check, "level": p.level, "msg": p.message, "facts": p.columns}
                          for p in card.checks]}
        if card.more:  # two or more tables: every table, pack order (the first one also above)
            out["tables"] = [first] + [_table(t) for t in card.more]
        return out
    return {
        "pack": pack, "kind": "rubric",
        "total": _num(card.total), "max": _const_num(card.max), "grade": card.grade,
        "eligible": card.eligible, "eligibility_label": card.eligibility_label,
        "provisional": card.provisional,
        "categories": [{"name": c.name, "points": _num(c.points), "max": _const_num(c.max),
                        "complete": c.complete} for c in card.categories],
        "items": _items(card.items),
        "flags": card.flags,
    }


_PLAIN = frozenset({str, int, bool, float, type(None)})


def dumps(obj: Any, indent: int | None = 2) -> str:
    """JSON text with :class:`JSONNumber` written as numbers, Chinese kept.
    *indent* ``None``: on one line (Python's C encoder, several times faster).

    A number goes through the encoder as a string between two markers made
    of a NUL and a nonce drawn for this call, then the markers and quotes are
    taken out: a text in *obj* cannot know the nonce, so none is ever unquoted."""
    nonce = os.urandom(6).hex()
    head, tail = f"\x00{nonce}:", f"\x00{nonce}"

    plain = _PLAIN  # written as they are: no call for them (most of a card's values)

    def prep(o: Any) -> Any:
        t = type(o)
        if t in plain:
            return o
        if t is JSONNumber:
            return head + o + tail
        if t is dict:
            return {k: v if type(v) in plain else prep(v) for k, v in o.items()}
        if t is list or t is tuple:
            return [v if type(v) in plain else prep(v) for v in o]
        if isinstance(o, JSONNumber):
            return head + o + tail
        if isinstance(o, dict):
            return {k: prep(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [prep(v) for v in o]
        if isinstance(o, Decimal):
            return head + format(o, "f") + tail
        if isinstance(o, _dt.date):
            return o.isoformat()
        return o

    text = json.dumps(prep(obj), ensure_ascii=False, indent=indent)
    return text.replace(f'"\\u0000{nonce}:', "").replace(f'\\u0000{nonce}"', "")
