"""The source back-end (``expr.Source``) equals the closures (``compile_py``).

Random well-typed expressions over blank-able names, evaluated in random
environments: the same value, of the same type and Decimal exponent (``True``
and not ``1``, ``2.50`` and not ``2.5``), or the same exception type (a division
by 0 on both sides, evaluated in the same order).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rubric_xl.errors import ExpressionError
from rubric_xl.rules import expr

SYMBOLS = {
    "n1": expr.Symbol(expr.NUMBER), "n2": expr.Symbol(expr.NUMBER), "nn": expr.Symbol(expr.NUMBER, True),
    "b1": expr.Symbol(expr.BOOL), "b2": expr.Symbol(expr.BOOL), "nb": expr.Symbol(expr.BOOL, True),
    "d1": expr.Symbol(expr.DATE), "nd": expr.Symbol(expr.DATE, True),
    "t1": expr.Symbol(expr.TEXT, False, ("甲", "乙")), "nt": expr.Symbol(expr.TEXT, True, ("甲", "乙")),
}
NAMES = list(SYMBOLS)
NUMBERS = [Decimal(0), Decimal("0.00"), Decimal(1), Decimal(-2), Decimal("2.50"), Decimal("1E+2")]
DATES = [dt.date(2024, 5, 31), dt.date(2024, 6, 1)]


def _num(depth: int):
    leaves = st.sampled_from(["n1", "n2", "0", "2.5", "3", "0.10", "days(d1, d1)", "coalesce(nn, n1)"])
    if depth <= 0:
        return leaves
    sub = _num(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        sub.map(lambda a: f"-{a}"),
        st.lists(sub, min_size=1, max_size=3).map(lambda xs: f"min({', '.join(xs)})"),
        st.lists(sub, min_size=1, max_size=3).map(lambda xs: f"max({', '.join(xs)})"),
        sub.map(lambda a: f"abs({a})"),
        st.tuples(sub, st.sampled_from(["0", "2"])).map(lambda t: f"round({t[0]}, {t[1]})"),
        st.lists(_bool(depth - 1), min_size=1, max_size=3).map(lambda xs: f"count_true({', '.join(xs)})"),
        st.tuples(sub, sub).map(lambda t: f"coalesce(nn, {t[0]}, {t[1]})"),
    )


def _bool(depth: int):
    leaves = st.sampled_from(["b1", "b2", "nb", "true", "false", "blank(nn)", "present(nd)", "t1 == '甲'",
                              "nt != '乙'", "nt in ['甲']", "nd < d1", "nd >= nd", "d1 == date('2024-05-31')",
                              "nn > 0", "0 < nn", "b1 == nb", "blank(coalesce(nd, nd))", "(nb and b1)", "(b2 or nb)"])
    if depth <= 0:
        return leaves
    sub, num = _bool(depth - 1), _num(depth - 1)
    return st.one_of(
        leaves,
        sub.map(lambda a: f"not {a}"),
        st.lists(sub, min_size=2, max_size=4).map(lambda xs: "(" + " and ".join(xs) + ")"),
        st.lists(sub, min_size=2, max_size=4).map(lambda xs: "(" + " or ".join(xs) + ")"),
        st.tuples(num, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), num).map(" ".join),
        st.tuples(sub, st.sampled_from(["==", "!="]), sub).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
        num.map(lambda a: f"nn < {a}"),
        num.map(lambda a: f"{a} in [1, 2.5]"),
    )


ENV = st.fixed_dictionaries({
    "n1": st.sampled_from(NUMBERS), "n2": st.sampled_from(NUMBERS), "nn": st.sampled_from([None, *NUMBERS]),
    "b1": st.booleans(), "b2": st.booleans(), "nb": st.sampled_from([None, True, False]),
    "d1": st.sampled_from(DATES), "nd": st.sampled_from([None, *DATES]),
    "t1": st.sampled_from(["甲", "乙"]), "nt": st.sampled_from([None, "甲", "乙"]),
})


def _run(fn, *args):
    try:
        v = fn(*args)
    except Exception as exc:  # noqa: BLE001 - the exception's type is what is compared
        return ("raised", type(exc).__name__)
    return (type(v).__name__, repr(v))


def _generated(node: expr.Node):
    src = expr.Source(lambda name: f"v{NAMES.index(name)}")
    text = src.expr(node)
    fn = expr.build_function(f"def f({', '.join(f'v{i}' for i in range(len(NAMES)))}):\n    return {text}\n",
                             src.namespace, "f")
    cond_text = src.cond(node)
    cond = expr.build_function(f"def f({', '.join(f'v{i}' for i in range(len(NAMES)))}):\n"
                               f"    return True if {cond_text} else False\n", src.namespace, "f")
    return fn, cond


_BLANKS = {"n1": Decimal(1), "n2": Decimal(0), "nn": None, "b1": True, "b2": False, "nb": None,
           "d1": DATES[0], "nd": None, "t1": "甲", "nt": None}


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(_bool(3), _num(3)), envs=st.lists(ENV, min_size=1, max_size=6))
@example(text="(nb and b1)", envs=[_BLANKS])  # and/or give True/False, not the blank operand
@example(text="(b2 or nb)", envs=[_BLANKS])
@example(text="nn < n1 / n2", envs=[_BLANKS])  # both operands evaluated: the division by 0 raises
@example(text="min(n1) + max(n2) + coalesce(nn, n2, n1)", envs=[_BLANKS])
def test_source_equals_the_closures(text, envs):
    try:
        node = expr.check(text, SYMBOLS)
    except ExpressionError:  # e.g. a nullable operand in arithmetic: not an expression of a pack
        return
    subtrees, stack = [], [node]  # every subexpression too, each in a value position
    while stack:
        n = stack.pop()
        subtrees.append(n)
        stack.extend(n.args)
    for sub in subtrees:
        closure = expr.compile_py(sub)
        fn, cond = _generated(sub)
        for env in envs:
            want = _run(closure, env)
            assert _run(fn, *(env[n] for n in NAMES)) == want, (text, sub)
            if want[0] != "raised":
                truth = bool(closure(env))
                assert _run(cond, *(env[n] for n in NAMES)) == ("bool", repr(truth)), (text, sub)


@pytest.mark.parametrize("text", ["'=1+1' == t1", "t1 in ['__import__(\"os\")', '甲']"])
def test_pack_text_never_becomes_source(text):
    """A string constant of the pack is a namespace entry, not source text."""
    symbols = {**SYMBOLS, "t1": expr.Symbol(expr.TEXT)}
    src = expr.Source(lambda name: f"v{NAMES.index(name)}")
    code = src.expr(expr.check(text, symbols))
    assert "=" not in code.replace("==", "") and "import" not in code and "'" not in code and '"' not in code


@pytest.mark.parametrize("text, value", [(" + ".join(["n1"] * 250), 250), (" - ".join(["n1", *["2"] * 259]), -517)])
def test_too_deep_for_the_compiler_is_refused_not_crashed(text, value):
    """A long left-deep chain the language accepts (and the closures run) is too
    deep for Python's parser as source: build_function refuses it (the ledger then
    keeps its closures, ``_ledger_code.row_code``)."""
    node = expr.check(text, SYMBOLS)
    assert expr.compile_py(node)({"n1": Decimal(1)}) == value
    src = expr.Source(lambda name: "v0")
    with pytest.raises((SyntaxError, RecursionError, MemoryError)):
        expr.build_function(f"def f(v0):\n    return {src.expr(node)}\n", src.namespace, "f")
