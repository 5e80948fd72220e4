"""The Python back-end: a checked AST → a closure ``env -> value``, Decimal
throughout (the Excel back-end beside it is ``rubric_xl.formulas._expr``).

Common shapes (a name, ``not name``, a comparison of names and constants, chains
of and/or) get a single flat closure: rows of a 2,000-row ledger run dozens of
conditions each.
"""
from __future__ import annotations

import operator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Mapping

from ...errors import ExpressionError
from ._ast import CONSTANTS, Node

Env = Mapping[str, Any]
Fn = Callable[[Env], Any]

_CMP = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul,
}


def compile_py(node: Node) -> Fn:
    """Turn a checked AST into a closure ``env -> value``."""
    build = _BUILD.get(node.kind)
    if build is None:  # pragma: no cover - the checker makes no other kind
        raise ExpressionError(f"无法编译的节点 {node.kind}")
    return build(node)


def _flatten(node: Node, kind: str) -> list[Node]:
    """``a and (b and c)`` → ``[a, b, c]``."""
    if node.kind != kind:
        return [node]
    return [leaf for child in node.args for leaf in _flatten(child, kind)]


def _const(node: Node) -> Fn:
    v = node.value
    return lambda env: v


def _name(node: Node) -> Fn:
    return operator.itemgetter(node.value)


def _not(node: Node) -> Fn:
    (arg,) = node.args
    if arg.kind == "name":
        name = arg.value
        return lambda env: not env[name]
    inner = compile_py(arg)
    return lambda env: not inner(env)


def _logic(node: Node) -> Fn:
    """``and`` / ``or``: a chain is one closure; it stops at the first operand
    that decides (``false`` for and, ``true`` for or)."""
    parts = _flatten(node, node.kind)
    if all(p.kind == "name" for p in parts):
        get = operator.itemgetter(*[p.value for p in parts])  # a tuple: several names
        fold = all if node.kind == "and" else any
        return lambda env: fold(get(env))
    fns = [compile_py(p) for p in parts]
    if len(fns) == 2:  # the commonest chain: one conditional, no loop
        fa, fb = fns
        if node.kind == "and":
            return lambda env: True if fa(env) and fb(env) else False
        return lambda env: True if fa(env) or fb(env) else False
    if node.kind == "and":
        def all_of(env):
            for f in fns:
                if not f(env):
                    return False
            return True
        return all_of

    def any_of(env):
        for f in fns:
            if f(env):
                return True
        return False
    return any_of


def _cmp(node: Node) -> Fn:
    a, b = node.args
    f = _CMP[node.value]
    nullable = a.nullable or b.nullable
    if a.kind == "name" and b.kind in CONSTANTS:
        na, vb = a.value, b.value
        if nullable:
            return lambda env: (x := env[na]) is not None and f(x, vb)
        return lambda env: f(env[na], vb)
    if a.kind == "name" and b.kind == "name":
        na, nb = a.value, b.value
        if nullable and node.value in _NULLABLE_NAMES:  # two blank-able dates: the operator inline
            return _NULLABLE_NAMES[node.value](na, nb)
        if nullable:
            return lambda env: ((x := env[na]) is not None and (y := env[nb]) is not None
                                and f(x, y))
        return lambda env: f(env[na], env[nb])
    fa, fb = compile_py(a), compile_py(b)
    if nullable:
        def cmp_null(env):
            x, y = fa(env), fb(env)
            if x is None or y is None:
                return False
            return f(x, y)
        return cmp_null
    return lambda env: f(fa(env), fb(env))


# name <op> name, either may be blank (false then): the operator written out, no call
_NULLABLE_NAMES: dict[str, Callable[[str, str], Fn]] = {
    "<": lambda na, nb: lambda env: (x := env[na]) is not None and (y := env[nb]) is not None and x < y,
    ">": lambda na, nb: lambda env: (x := env[na]) is not None and (y := env[nb]) is not None and x > y,
    "<=": lambda na, nb: lambda env: (x := env[na]) is not None and (y := env[nb]) is not None and x <= y,
    ">=": lambda na, nb: lambda env: (x := env[na]) is not None and (y := env[nb]) is not None and x >= y,
}


def _neg(node: Node) -> Fn:
    inner = compile_py(node.args[0])
    return lambda env: -inner(env)


def _arith(node: Node) -> Fn:
    fa, fb = (compile_py(a) for a in node.args)
    if node.value == "/":
        return lambda env: _div(fa(env), fb(env))
    op = _ARITH[node.value]
    return lambda env: op(fa(env), fb(env))


def _in(node: Node) -> Fn:
    inner = compile_py(node.args[0])
    options = frozenset(node.value)
    return lambda env: inner(env) in options


def _call(node: Node) -> Fn:
    if node.value in ("blank", "present") and node.args[0].kind == "name":  # a fact read inline
        name = node.args[0].value
        if node.value == "blank":
            return lambda env: env[name] is None
        return lambda env: env[name] is not None
    return _CALLS[node.value]([compile_py(a) for a in node.args])


def _div(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:
        raise ZeroDivisionError("除数为0")
    return a / b


def _min(args: list[Fn]) -> Fn:
    return lambda env: min(f(env) for f in args)


def _max(args: list[Fn]) -> Fn:
    return lambda env: max(f(env) for f in args)


def _abs(args: list[Fn]) -> Fn:
    (fn,) = args
    return lambda env: abs(fn(env))


def _blank(args: list[Fn]) -> Fn:
    (fn,) = args
    return lambda env: fn(env) is None


def _present(args: list[Fn]) -> Fn:
    (fn,) = args
    return lambda env: fn(env) is not None


def _round(args: list[Fn]) -> Fn:
    fn, places = args
    return lambda env: fn(env).quantize(Decimal(1).scaleb(-int(places(env))), rounding=ROUND_HALF_UP)


def _count_true(args: list[Fn]) -> Fn:
    return lambda env: Decimal(sum(1 for f in args if f(env)))


def _days(args: list[Fn]) -> Fn:
    fa, fb = args

    def days(env):
        a, b = fa(env), fb(env)
        return None if a is None or b is None else Decimal((b - a).days)
    return days


def _coalesce(args: list[Fn]) -> Fn:
    def coalesce(env):
        for f in args:
            v = f(env)
            if v is not None:
                return v
        return None
    return coalesce


_CALLS: dict[str, Callable[[list[Fn]], Fn]] = {
    "min": _min, "max": _max, "abs": _abs, "blank": _blank, "present": _present,
    "count_true": _count_true, "days": _days, "coalesce": _coalesce, "round": _round,
}

_BUILD: dict[str, Callable[[Node], Fn]] = {
    **{kind: _const for kind in CONSTANTS},
    "name": _name, "not": _not, "and": _logic, "or": _logic, "cmp": _cmp, "neg": _neg,
    "arith": _arith, "in": _in, "call": _call,
}
