"""Terms and conditions: what is posted to durable-rules, and what it matches.

A *term* is one value the project computes from the converted facts with the
pack's shared definitions (a fact, a derived value, an operand of a comparison,
the amount of a rule) and posts as one or more fields of a fact.  Terms are
posted only as types the project controls: numbers as integers scaled by
:data:`SCALE` (floored, plus an *inexact* flag), dates as day numbers, text and
booleans as themselves; every term has a presence field (1 / 0).  durable-rules
does no type checking (``'n/a'`` satisfies ``rate >= 90``), so nothing the user
typed is ever posted unconverted.

A *condition* is a small tree — ``("and", [..])``, ``("or", [..])``,
``("cmp", op, field, value)``, :data:`TRUE`, :data:`FALSE` — negated by De Morgan
and written out as durable-rules' JSON (``$and``, ``$or``, ``$lt`` …).  The
bands are decided by durable-rules matching posted facts against these
conditions, never by evaluating the condition in Python.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Callable

from ..rules import expr
from ..rules.contract import Invalid
from ._host import DurableError

SCALE = 10 ** 6  # numbers are posted as floor(x × SCALE)
LIMIT = 2 ** 62  # |scaled| must stay inside durable-rules' int64
TRUE, FALSE = ("true",), ("false",)
_NEG = {"eq": "neq", "neq": "eq", "lt": "gte", "gte": "lt", "gt": "lte", "lte": "gt"}
_MIRROR = {"eq": "eq", "neq": "neq", "lt": "gt", "gt": "lt", "lte": "gte", "gte": "lte"}
_OPS = {"==": "eq", "!=": "neq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


class OutOfRange(Exception):
    """A number too large to post exactly (the caller reports it in Chinese)."""


def scaled(x: Decimal) -> tuple[int, int]:
    """(floor(x × SCALE), 1 when that is not exact else 0), from a Decimal only."""
    s = x * SCALE
    v = int(s.to_integral_value(rounding="ROUND_FLOOR"))
    if abs(v) >= LIMIT:
        raise OutOfRange(x)
    return v, int(Decimal(v) != s)


def _and(parts: list) -> tuple:
    out = []
    for p in parts:
        if p == FALSE:
            return FALSE
        if p != TRUE:
            out.extend(p[1] if p[0] == "and" else [p])
    return TRUE if not out else out[0] if len(out) == 1 else ("and", out)


def _or(parts: list) -> tuple:
    out = []
    for p in parts:
        if p == TRUE:
            return TRUE
        if p != FALSE:
            out.extend(p[1] if p[0] == "or" else [p])
    return FALSE if not out else out[0] if len(out) == 1 else ("or", out)


def both(*parts) -> tuple:
    return _and(list(parts))


def either(*parts) -> tuple:
    return _or(list(parts))


def negate(c: tuple) -> tuple:
    if c == TRUE:
        return FALSE
    if c == FALSE:
        return TRUE
    if c[0] == "and":
        return _or([negate(p) for p in c[1]])
    if c[0] == "or":
        return _and([negate(p) for p in c[1]])
    _, op, f, v = c
    return ("cmp", _NEG[op], f, v)


def cmp(op: str, fld: str, value: Any) -> tuple:
    return ("cmp", op, fld, value)


def to_json(c: tuple, ev: str) -> dict:
    """durable-rules' condition for facts of kind *ev* satisfying *c*."""
    base = {"ev": ev}
    if c == TRUE:
        return base
    if c == FALSE:
        return {"ev": ev + "\x00never"}
    return {"$and": [base, _json(c)]}


def _json(c: tuple) -> dict:
    if c[0] in ("and", "or"):
        return {"$" + c[0]: [_json(p) for p in c[1]]}
    _, op, f, v = c
    if isinstance(v, tuple):  # ("ref", field): another field of the same fact
        v = {"$m": v[1]}
    return {f: v} if op == "eq" else {"$" + op: {f: v}}


class Term:
    __slots__ = ("name", "kind", "fn", "reads")

    def __init__(self, name: str, kind: str, fn: Callable, reads: frozenset):
        self.name, self.kind, self.fn, self.reads = name, kind, fn, reads


class Terms:
    """Every term of a ruleset, each once (by key), and how to post them."""

    def __init__(self) -> None:
        self.terms: list[Term] = []
        self._by_key: dict[Any, Term] = {}
        self.used: set[str] = set()  # names of the terms added or reused since the caller reset it

    def add(self, key: Any, kind: str, fn: Callable, reads) -> Term:
        t = self._by_key.get(key)
        if t is None:
            t = Term(f"t{len(self.terms)}", kind, fn, frozenset(reads))
            self.terms.append(t)
            self._by_key[key] = t
        self.used.add(t.name)
        return t

    def fields(self, env: dict, errors: set[str], only: list[Term] | None = None) -> dict[str, Any]:
        """The posted fields of every term over *env* (converted, validated values).

        A term that reads an invalid value, or whose arithmetic fails, is posted
        as absent; the items reading it are 有误 (decided by their own rules) or
        the failure is reported when the item needs it (*errors*)."""
        out: dict[str, Any] = {}
        for t in self.terms if only is None else only:
            x = None
            if not any(env.get(n).__class__ is Invalid for n in t.reads):
                try:
                    x = t.fn(env)
                except (ArithmeticError, TypeError):
                    errors.add(t.name)
            present = x is not None and x.__class__ is not Invalid
            out[t.name + "p"] = 1 if present else 0
            if t.kind == "num":
                try:
                    v, inexact = scaled(Decimal(x)) if present else (0, 0)
                except OutOfRange:
                    raise DurableError(f"durable-rules 执行器无法精确比较数值 {x}（绝对值应小于 "
                                       f"{LIMIT // SCALE}），未给出结果") from None
                out[t.name] = v
                out[t.name + "x"] = inexact
            elif t.kind == "date":
                out[t.name] = x.toordinal() if present else 0
            elif t.kind == "bool":
                out[t.name] = bool(x) if present else False
            else:
                out[t.name] = str(x) if present else ""
        return out


def _kind(n: expr.Node) -> str:
    return {"number": "num", "date": "date", "bool": "bool"}.get(n.type, "text")


def num_cmp(t: str, op: str, c: int) -> tuple:
    """x op c for a posted number term *t* (floored value t, inexact flag tx)."""
    v, x = t, t + "x"
    if op == "gte":
        return cmp("gte", v, c)
    if op == "lt":
        return cmp("lt", v, c)
    if op == "gt":
        return either(cmp("gt", v, c), both(cmp("eq", v, c), cmp("eq", x, 1)))
    if op == "lte":
        return either(cmp("lt", v, c), both(cmp("eq", v, c), cmp("eq", x, 0)))
    if op == "eq":
        return both(cmp("eq", v, c), cmp("eq", x, 0))
    return either(cmp("neq", v, c), cmp("eq", x, 1))


def present(t: Term) -> tuple:
    return cmp("eq", t.name + "p", 1)


class Compiler:
    """Pack expressions (checked boolean ASTs) → conditions over terms."""

    def __init__(self, terms: Terms):
        self.terms = terms

    def term(self, n: expr.Node) -> Term:
        return self.terms.add(("node", n), _kind(n), expr.compile_py(n), n.names())

    def diff(self, a: expr.Node, b: expr.Node) -> Term:
        """a − b (numbers) or the days between two dates, blank when either is blank."""
        fa, fb = expr.compile_py(a), expr.compile_py(b)
        days = a.type == "date"

        def fn(env):
            x, y = fa(env), fb(env)
            if x is None or y is None:
                return None
            return Decimal((x - y).days) if days else x - y
        return self.terms.add(("diff", a, b), "num", fn, a.names() | b.names())

    def amount(self, key: Any, fn: Callable, reads) -> Term:
        return self.terms.add(("amount", key), "num", fn, reads)

    def cond(self, n: expr.Node | None) -> tuple:
        if n is None:
            return TRUE
        k = n.kind
        if k == "bool":
            return TRUE if n.value else FALSE
        if k == "and":
            return _and([self.cond(a) for a in n.args])
        if k == "or":
            return _or([self.cond(a) for a in n.args])
        if k == "not":
            return negate(self.cond(n.args[0]))
        if k == "call" and n.value in ("blank", "present"):
            t = self.term(n.args[0])
            return cmp("eq", t.name + "p", 1 if n.value == "present" else 0)
        if k == "in":
            t = self.term(n.args[0])
            return both(present(t), _or([cmp("eq", t.name, o) for o in n.value]))
        if k == "cmp":
            return self._cmp(n)
        t = self.term(n)  # a boolean name or call
        return both(present(t), cmp("eq", t.name, True))

    def _cmp(self, n: expr.Node) -> tuple:
        a, b = n.args
        op = _OPS[n.value]
        if (a.kind in expr.CONSTANTS) and not (b.kind in expr.CONSTANTS):
            a, b, op = b, a, _MIRROR[op]
        if (a.kind in expr.CONSTANTS):  # two constants: the pack checker allows it; fold it
            f = expr.compile_py(n)
            return TRUE if f({}) else FALSE
        if a.type == "number":
            if (b.kind in expr.CONSTANTS) and (b.value * SCALE) == (b.value * SCALE).to_integral_value():
                t = self.term(a)
                return both(present(t), num_cmp(t.name, op, int(b.value * SCALE)))
            t = self.diff(a, b)
            return both(present(t), num_cmp(t.name, op, 0))
        if a.type == "date":
            if (b.kind in expr.CONSTANTS):
                t = self.term(a)
                return both(present(t), cmp(op, t.name, _date(b.value).toordinal()))
            t = self.diff(a, b)
            return both(present(t), num_cmp(t.name, op, 0))
        t = self.term(a)
        if (b.kind in expr.CONSTANTS):
            return both(present(t), cmp(op, t.name, b.value))
        u = self.term(b)
        return both(present(t), present(u), cmp(op, t.name, ("ref", u.name)))


def _date(v: Any) -> _dt.date:
    return v if isinstance(v, _dt.date) else _dt.date.fromisoformat(str(v))
