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


# --- the source back-end ------------------------------------------------------
#
# The same semantics as the closures above, as Python *source* of one expression
# over local variables, for callers that generate one function per plan (a
# ledger table's row loop).  The source is built from the checked AST only:
# every name becomes an identifier the caller chose (``v3``), every constant a
# namespace entry (``k7``), so no text of the pack reaches the compiler.  Order
# of evaluation, laziness (and/or, coalesce) and result values (and/or, not and
# comparisons give True/False) are those of :func:`compile_py`.

def _round_to(x: Decimal, places: Decimal) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)


def _count(*values: Any) -> Decimal:
    return Decimal(sum(1 for v in values if v))


def _days_between(a, b) -> Decimal | None:
    return None if a is None or b is None else Decimal((b - a).days)


SOURCE_HELPERS: dict[str, Any] = {
    "_div": _div, "_round_to": _round_to, "_count": _count, "_days_between": _days_between,
}
"""What generated source may call besides builtins (``min``, ``max``, ``abs``)."""

_SIMPLE = ("name",) + CONSTANTS  # operands with no effect and no cost: read twice freely


class Source:
    """Python source of checked expressions over local variables.

    *local(name)* is the identifier holding a pack name's value; constants are
    collected in :attr:`namespace` (with :data:`SOURCE_HELPERS`) under generated
    identifiers, and temporaries are ``_t<n>`` — the caller's identifiers must not
    start with ``k`` + digits or ``_t``.
    """

    def __init__(self, local: Callable[[str], str], namespace: dict[str, Any] | None = None):
        self.local = local
        # a caller generating more than expressions passes its own namespace (its
        # names must follow the same ``k<len(namespace)>`` rule); the helpers join it
        self.namespace: dict[str, Any] = {} if namespace is None else namespace
        self.namespace.update(SOURCE_HELPERS)
        self._consts: dict[tuple, str] = {}
        self._temps = 0

    def const(self, value: Any) -> str:
        """The identifier of a constant (one per distinct value and type)."""
        key = (value.__class__, repr(value))  # repr: Decimal 1 and 1.0 are equal, not the same
        hit = self._consts.get(key)
        if hit is None:
            hit = self._consts[key] = f"k{len(self.namespace)}"
            self.namespace[hit] = value
        return hit

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def expr(self, node: Node) -> str:
        """The value of *node* (as :func:`compile_py` returns it)."""
        return self._gen(node, False)

    def cond(self, node: Node) -> str:
        """*node* where only its truth counts (an ``if``): and/or need not be True/False."""
        return self._gen(node, True)

    def _gen(self, node: Node, truth: bool) -> str:
        k = node.kind
        if k in CONSTANTS:
            return self.const(node.value)
        if k == "name":
            return self.local(node.value)
        if k == "not":
            return f"(not {self._gen(node.args[0], True)})"
        if k in ("and", "or"):
            inner = f" {k} ".join(self._gen(p, True) for p in _flatten(node, k))
            return f"({inner})" if truth else f"(True if {inner} else False)"
        if k == "cmp":
            return self._cmp(node)
        if k == "neg":
            return f"(-{self.expr(node.args[0])})"
        if k == "arith":
            a, b = (self.expr(x) for x in node.args)
            if node.value == "/":
                return f"_div({a}, {b})"
            return f"({a} {node.value} {b})"
        if k == "in":
            return f"({self.expr(node.args[0])} in {self.const(frozenset(node.value))})"
        if k == "call":
            return self._call(node)
        raise ExpressionError(f"无法编译的节点 {k}")  # pragma: no cover - the checker makes no other kind

    def _cmp(self, node: Node) -> str:
        a, b = node.args
        op = node.value
        sa, sb = self.expr(a), self.expr(b)
        if not (a.nullable or b.nullable):
            return f"({sa} {op} {sb})"
        if a.kind in _SIMPLE and b.kind in _SIMPLE:  # reading a name twice costs nothing
            tests = " and ".join(f"{s} is not None" for s, n in ((sa, a), (sb, b)) if n.nullable)
            return f"({tests} and {sa} {op} {sb})"
        ta, tb = self.temp(), self.temp()  # both evaluated first, as the closure does
        return f"(None not in (({ta} := {sa}), ({tb} := {sb})) and {ta} {op} {tb})"

    def _call(self, node: Node) -> str:
        name, args = node.value, node.args
        srcs = [self.expr(a) for a in args]
        if name == "blank":
            return f"({srcs[0]} is None)"
        if name == "present":
            return f"({srcs[0]} is not None)"
        if name in ("min", "max"):
            return srcs[0] if len(srcs) == 1 else f"{name}({', '.join(srcs)})"
        if name == "abs":
            return f"abs({srcs[0]})"
        if name == "round":
            return f"_round_to({srcs[0]}, {srcs[1]})"
        if name == "count_true":
            return f"_count({', '.join(srcs)})"
        if name == "days":
            return f"_days_between({srcs[0]}, {srcs[1]})"
        if name == "coalesce":  # the first that is not blank; the rest not evaluated
            out = "None"
            for s in reversed(srcs):
                t = self.temp()
                out = f"({t} if ({t} := {s}) is not None else {out})"
            return out
        raise ExpressionError(f"无法编译的函数 {name}")  # pragma: no cover - the checker knows no other


def build_function(source: str, namespace: dict[str, Any], name: str) -> Callable:
    """Compile generated *source* (see :class:`Source`) once and return its
    function *name*.  Raises SyntaxError / RecursionError / MemoryError when the
    source is too deep for the compiler (callers then keep the closures)."""
    ns = dict(namespace)
    exec(compile(source, f"<rubric-xl {name}>", "exec"), ns)  # noqa: S102 - source built from a checked AST only
    return ns[name]
