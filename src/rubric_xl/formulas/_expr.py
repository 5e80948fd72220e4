"""Checked expression ASTs (:class:`rubric_xl.rules.expr.Node`) → Excel formula text.

Two modes share one walker:

* **scalar** – one value per cell (item scores, one ledger row).  ``and``/``or``
  become ``AND``/``OR`` (nested ``IF`` when a later operand could raise
  ``#DIV/0!``, matching the engine's short-circuit).
* **array** – an array over a ledger column, for ``SUMPRODUCT`` roll-ups.  Excel
  2010 evaluates ``IF``/``AND``/``OR``/``MIN``/``MAX`` inside ``SUMPRODUCT``
  as aggregates, not element by element, so this mode uses arithmetic only:
  ``a*b`` for and, ``(a+b>0)`` for or, ``1-a`` for not.

Blank values follow the engine: every :class:`V` may carry ``null``, a condition
that holds when the value is blank; a comparison or ``in`` with a blank operand
is false, a blank boolean is false, ``blank()``/``present()`` test ``null``.
Numbers that come out of arithmetic are compared after ``ROUND(x, 10)`` so
binary noise (``0.1+0.2``) cannot flip a threshold.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..rules import expr
from . import _xl as xl

_OPS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "=", "!=": "<>"}


class Unsupported(Exception):
    """The expression cannot be expressed as a formula; the caller names the place."""


@dataclass(frozen=True)
class V:
    f: str  # formula text, without "="
    t: str  # bool | number | date | text
    null: str | None = None  # condition that holds when the value is blank
    plain: bool = False  # a literal or a direct reference: no binary noise
    risky: bool = False  # may evaluate to an Excel error (division)


Resolver = Callable[[str], V]


def blank_test(ref: str) -> str:
    """``TRIM(ref)=""``: an empty cell or one holding only spaces (the engine's blank)."""
    return f'(TRIM({ref})="")'


class Compiler:
    """Compile checked nodes in one mode (``array=False`` scalar, ``True`` array)."""

    def __init__(self, resolve: Resolver, array: bool = False):
        self.resolve = resolve
        self.array = array

    # --- booleans ---------------------------------------------------------------

    def truth(self, v: V) -> str:
        """*v* as a boolean formula, false when blank."""
        if v.null is None:
            return v.f
        if self.array:
            return f"((1-{v.null})*{v.f})"
        return f"IF({v.null},FALSE,{v.f})"

    def not_(self, a: str) -> str:
        return f"(1-{a})" if self.array else f"NOT({a})"

    def and_(self, vs: list[V]) -> str:
        xs = [self.truth(v) for v in vs]
        if self.array:
            return "(" + "*".join(xs) + ")"
        if any(v.risky for v in vs[1:]):  # short-circuit like the engine
            out = xs[-1]
            for x in reversed(xs[:-1]):
                out = f"IF({x},{out},FALSE)"
            return out
        return xl.call("AND", *xs)

    def or_(self, vs: list[V]) -> str:
        xs = [self.truth(v) for v in vs]
        if self.array:
            return "((" + "+".join(xs) + ")>0)"
        if any(v.risky for v in vs[1:]):
            out = xs[-1]
            for x in reversed(xs[:-1]):
                out = f"IF({x},TRUE,{out})"
            return out
        return xl.call("OR", *xs)

    def guard(self, nulls: list[str], cond: str) -> str:
        """*cond*, but false when any of *nulls* holds."""
        if not nulls:
            return cond
        if self.array:
            anyn = nulls[0] if len(nulls) == 1 else "((" + "+".join(nulls) + ")>0)"
            return f"((1-{anyn})*{cond})"
        return f"IF({xl.any_of(nulls)},FALSE,{cond})"

    # --- the walk ---------------------------------------------------------------

    def num(self, v: V) -> str:
        """A number for comparison: rounded to 10 places unless exact already."""
        return v.f if v.plain else f"ROUND({v.f},{xl.EPS_DIGITS})"

    def compile(self, n: expr.Node) -> V:
        k = n.kind
        if k == "num":
            return V(xl.number(n.value), expr.NUMBER, plain=True)
        if k == "str":
            return V(xl.text(n.value), expr.TEXT, plain=True)
        if k == "bool":
            return V("TRUE" if n.value else "FALSE", expr.BOOL, plain=True)
        if k == "date":
            return V(xl.date(n.value), expr.DATE, plain=True)
        if k == "name":
            return self.resolve(n.value)
        if k in ("and", "or"):
            vs = [self.compile(a) for a in self._flatten(n, k)]
            f = self.and_(vs) if k == "and" else self.or_(vs)
            return V(f, expr.BOOL, risky=any(v.risky for v in vs))
        args = [self.compile(a) for a in n.args]
        risky = any(a.risky for a in args)
        if k == "not":
            return V(self.not_(self.truth(args[0])), expr.BOOL, risky=risky)
        if k == "neg":
            a = args[0]
            return V(f"(-{a.f})", expr.NUMBER, a.null, plain=False, risky=risky)
        if k == "arith":
            a, b = args
            op = n.value
            null = self._nulls(args)
            return V(f"({a.f}{op}{b.f})", expr.NUMBER, null, risky=risky or op == "/")
        if k == "cmp":
            return V(self.cmp(n.value, *args), expr.BOOL, risky=risky)
        if k == "in":
            return V(self.in_(args[0], n.value), expr.BOOL, risky=risky)
        if k == "call":
            return self.call(n.value, args, risky)
        raise Unsupported(f"无法编译的表达式节点 {k}")

    def _flatten(self, n: expr.Node, k: str) -> list[expr.Node]:
        out: list[expr.Node] = []
        for a in n.args:
            out.extend(self._flatten(a, k) if a.kind == k else [a])
        return out

    def _nulls(self, vs: list[V]) -> str | None:
        nulls = [v.null for v in vs if v.null]
        if not nulls:
            return None
        if len(nulls) == 1:
            return nulls[0]
        return "((" + "+".join(nulls) + ")>0)" if self.array else xl.any_of(nulls)

    def cmp(self, op: str, a: V, b: V) -> str:
        xop = _OPS[op]
        if a.t == expr.BOOL:
            x, y = self.truth(V(a.f, a.t)), self.truth(V(b.f, b.t))
            if self.array:  # TRUE=1 is false in Excel: compare as numbers
                x, y = f"({x}*1)", f"({y}*1)"
        elif a.t == expr.NUMBER:
            x, y = self.num(a), self.num(b)
        else:
            x, y = a.f, b.f
        return self.guard([v.null for v in (a, b) if v.null], f"({x}{xop}{y})")

    def in_(self, a: V, items: tuple) -> str:
        if not items:
            return "FALSE"
        lit = [xl.text(i) if isinstance(i, str) else xl.number(i) for i in items]
        x = self.num(a) if a.t == expr.NUMBER else a.f
        eqs = [f"({x}={li})" for li in lit]
        if self.array:
            body = eqs[0] if len(eqs) == 1 else "((" + "+".join(eqs) + ")>0)"
        else:
            body = xl.any_of(eqs)
        return self.guard([a.null] if a.null else [], body)

    def call(self, name: str, args: list[V], risky: bool) -> V:
        if name == "blank":
            a = args[0]
            return V(a.null or "FALSE", expr.BOOL)
        if name == "present":
            a = args[0]
            return V(self.not_(a.null) if a.null else "TRUE", expr.BOOL)
        if name == "count_true":
            xs = [self.truth(a) for a in args]
            if self.array:
                return V("(0+" + "+".join(xs) + ")", expr.NUMBER, plain=True, risky=risky)
            return V("(" + "+".join(f"IF({x},1,0)" for x in xs) + ")", expr.NUMBER, plain=True, risky=risky)
        if name == "coalesce":
            return self.coalesce(args, risky)
        null = self._nulls(args)
        if name == "days":  # date serials: a plain subtraction, b − a
            a, b = args
            return V(f"({b.f}-{a.f})", expr.NUMBER, null, plain=True, risky=risky)
        if name == "round":  # Excel's ROUND is half away from zero, as the engine's half up
            x, places = args
            return V(f"ROUND({self.num(x)},{places.f})", expr.NUMBER, null, plain=True, risky=risky)
        if name == "abs":
            return V(f"ABS({args[0].f})", expr.NUMBER, null, plain=args[0].plain, risky=risky)
        if name in ("min", "max"):
            if not self.array:
                return V(xl.call(name.upper(), *[a.f for a in args]), expr.NUMBER, null, risky=risky)
            # element-wise: min(a,b) = (a+b-|a-b|)/2, max(a,b) = (a+b+|a-b|)/2
            sign = "-" if name == "min" else "+"
            acc = args[0].f
            for b in args[1:]:
                acc = f"(({acc}+{b.f}{sign}ABS({acc}-{b.f}))/2)"
            return V(acc, expr.NUMBER, null, risky=risky)
        raise Unsupported(f"无法编译的函数 {name}()")

    def coalesce(self, args: list[V], risky: bool) -> V:
        """The first operand that is not blank; blank only when all are."""
        out = args[-1]
        for a in reversed(args[:-1]):
            if a.null is None:
                out = a
                continue
            n = a.null
            if not self.array:
                f = f"IF({n},{out.f},{a.f})"
            elif a.t == expr.TEXT:  # no IF in array formulas: pick by length
                f = f"(LEFT({a.f},(1-{n})*LEN({a.f}))&LEFT({out.f},{n}*LEN({out.f})))"
            elif a.t == expr.BOOL:
                f = f"((({self.truth(V(a.f, a.t))})*(1-{n})+({self.truth(V(out.f, out.t))})*{n})>0)"
            else:
                f = f"(({a.f})*(1-{n})+({out.f})*{n})"
            null = None
            if out.null is not None:
                null = f"({n}*{out.null})" if self.array else xl.all_of([n, out.null])
            out = V(f, a.t, null, plain=a.plain and out.plain, risky=risky)
        return out
