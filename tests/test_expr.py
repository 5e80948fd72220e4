"""The rule packs' expression language: parsing, precedence, type checking at
load time, blank values, Decimal arithmetic, and what it refuses to do."""
from __future__ import annotations

import builtins
import datetime as dt
from decimal import Decimal

import pytest

from rubric_xl import ExpressionError, FactsError, PackError, load_pack_text, score
from rubric_xl.rules import expr

SYMS = {
    "n": expr.Symbol(expr.NUMBER),
    "m": expr.Symbol(expr.NUMBER),
    "rate": expr.Symbol(expr.NUMBER),
    "flag": expr.Symbol(expr.BOOL),
    "other": expr.Symbol(expr.BOOL),
    "third": expr.Symbol(expr.BOOL),
    "name": expr.Symbol(expr.TEXT),
    "level": expr.Symbol(expr.TEXT, options=("一级", "二级", "三级", "未达标")),
    "d": expr.Symbol(expr.DATE, nullable=True),
    "deadline": expr.Symbol(expr.DATE),
    "maybe": expr.Symbol(expr.NUMBER, nullable=True),
    "maybe_flag": expr.Symbol(expr.BOOL, nullable=True),
}

ENV = {"n": Decimal(6), "m": Decimal(4), "rate": Decimal("89.99"), "flag": True, "other": False,
       "third": True, "name": "甲", "level": "二级", "d": dt.date(2005, 7, 16),
       "deadline": dt.date(2005, 7, 15), "maybe": None, "maybe_flag": None}


def ev(text, env=None, want=None):
    node = expr.check(text, SYMS, want)
    return expr.compile_py(node)({**ENV, **(env or {})})


# --- parsing and precedence ------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("1 + 2 * 3", Decimal(7)),
    ("(1 + 2) * 3", Decimal(9)),
    ("10 - 4 - 3", Decimal(3)),          # left-associative
    ("24 / 4 / 3", Decimal(2)),
    ("2 * -3", Decimal(-6)),
    ("-2 * 3 + 1", Decimal(-5)),
    ("- -4", Decimal(4)),
    ("n * m - n / m", Decimal("22.5")),
    ("0.1 + 0.2", Decimal("0.3")),
    ("min(n, m, 5)", Decimal(4)),
    ("max(n, m) + abs(-1.5)", Decimal("7.5")),
    ("count_true(flag, other, third, n > 5)", Decimal(3)),
])
def test_arithmetic(text, value):
    got = ev(text)
    assert got == value and isinstance(got, Decimal)


@pytest.mark.parametrize("text,value", [
    ("0.1 + 0.2 == 0.3", True),          # Decimal, not binary floating point
    ("1 + 2 * 3 == 7", True),
    ("not flag and other", False),       # (not flag) and other
    ("not (flag and other)", True),
    ("flag or other and not third", True),   # flag or (other and (not third))
    ("other or flag and other", False),      # other or (flag and other)
    ("other and flag or third", True),       # (other and flag) or third
    ("not not flag", True),
    ("n > 5 and m < 5", True),
    ("n + 1 > m * 2", False),            # 7 > 8
    ("rate < 90", True),
    ("rate >= 89.99", True),
    ("name == '甲'", True),
    ("level != '一级'", True),
    ("level in ['二级', '三级']", True),
    ("n in [1, 2, 6]", True),
    ("n in []", False),
    ("d > deadline", True),
    ("d == date('2005-07-16')", True),
    ("deadline < date('2005-07-16') and d <= date('2005-07-16')", True),
    ("true and not false", True),
])
def test_logic_and_comparison(text, value):
    assert ev(text, want=expr.BOOL) is value


def test_ast_shape():
    node = expr.parse("a or b and not c")
    assert node.kind == "or"
    assert node.args[1].kind == "and" and node.args[1].args[1].kind == "not"
    node = expr.parse("1 + 2 * 3")
    assert (node.kind, node.value) == ("arith", "+")
    assert (node.args[1].kind, node.args[1].value) == ("arith", "*")
    assert expr.parse("x > 1 and y").names() == {"x", "y"}


def test_division_is_exact_decimal():
    assert ev("1 / 3") == Decimal(1) / Decimal(3)
    assert ev("n / m") == Decimal("1.5")
    assert ev("(1 / 3) * 3") == Decimal(1) / Decimal(3) * 3   # 28 significant digits, never float
    assert isinstance(ev("7 / 2"), Decimal)


def test_division_by_zero_at_evaluation():
    fn = expr.compile_py(expr.check("n / m", SYMS))
    with pytest.raises(ZeroDivisionError):
        fn({**ENV, "m": Decimal(0)})


# --- syntax errors --------------------------------------------------------------

@pytest.mark.parametrize("text,msg", [
    ("", "表达式为空"),
    ("   ", "表达式为空"),
    ("1 +", "结尾"),
    ("(1 + 2", "')'"),
    ("1 2", "多余的内容"),
    ("n > 1 > 0", "多余的内容"),
    ("n >", "结尾"),
    ("a.b", "'.'"),
    ("rate.real", "'.'"),
    ("x[0]", "多余的内容"),
    ("1e3", "多余的内容"),
    (".5", "'.'"),
    ("a; b", "';'"),
    ("lambda: 1", "':'"),
    ("1 if flag else 2", "多余的内容"),
    ("n ** 2", "此处应为"),
    ("n % 2", "'%'"),
    ("f'{n}'", "多余的内容"),
    ("flag && other", "'&'"),
    ("n in [m]", "常量"),
])
def test_syntax_errors(text, msg):
    with pytest.raises(ExpressionError) as ei:
        expr.check(text, SYMS)
    assert msg in ei.value.message


def test_error_position():
    with pytest.raises(ExpressionError) as ei:
        expr.parse("n + $")
    assert ei.value.pos == 4 and ei.value.expr == "n + $"


# --- nothing but the language: no eval, no attributes, no imports ----------------

@pytest.mark.parametrize("text", [
    "__import__('os')",
    "__import__('os').system('echo hi')",
    "eval('1')",
    "exec('x = 1')",
    "open('/etc/passwd')",
    "getattr(n, 'real')",
    "n.__class__",
    "().__class__.__bases__",
    "__builtins__",
    "globals()",
    "os",
    "True",                  # Python's spelling is not a name here
    "None",
])
def test_python_is_rejected(text):
    with pytest.raises(ExpressionError):
        expr.check(text, SYMS)


def test_unknown_function_lists_the_allowed_ones():
    with pytest.raises(ExpressionError) as ei:
        expr.check("__import__('os')", SYMS)
    assert "未知的函数 __import__()" in ei.value.message and "blank" in ei.value.message


def test_evaluation_never_calls_eval_or_exec(monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("eval/exec/compile must not be used")
    for name in ("eval", "exec", "compile", "__import__"):
        monkeypatch.setattr(builtins, name, forbidden)
    for text in ("1 + 2 * 3 > n and not other", "level in ['一级']", "blank(d) or d > deadline",
                 "min(n, m) / 2"):
        expr.compile_py(expr.check(text, SYMS))(ENV)


# --- type errors, unknown names, enum options -------------------------------------

@pytest.mark.parametrize("text,want,msg", [
    ("rate > '90'", None, "不能比较 数值 与 文字"),
    ("flag + 1", None, "需要数值"),
    ("n and flag", None, "and 需要是/否"),
    ("flag or 1", None, "or 需要是/否"),
    ("not n", None, "not 需要是/否"),
    ("-flag", None, "负号 需要数值"),
    ("name > '甲'", None, "只能用 == 或 !="),
    ("flag < other", None, "只能用 == 或 !="),
    ("d > 5", None, "不能比较 日期 与 数值"),
    ("n in ['1']", None, "类型不符"),
    ("abs(flag)", None, "需要数值"),
    ("count_true(n)", None, "需要是/否"),
    ("abs(1, 2)", None, "参数个数不对"),
    ("min()", None, "参数个数不对"),
    ("date(name)", None, "文字常量"),
    ("date('2005-02-30')", None, "不是有效日期"),
    ("n + 1", expr.BOOL, "表达式结果应为是/否"),
    ("flag", expr.NUMBER, "表达式结果应为数值"),
    ("rat > 90", None, "未知的名称 'rat'"),
    ("level == '一极'", None, "'一极' 不是 level 的可选值"),
    ("'特级' != level", None, "'特级' 不是 level 的可选值"),
    ("level in ['一级', '特级']", None, "'特级' 不是 level 的可选值"),
    ("maybe + 1", None, "可能为空的值不能参与算术运算"),
    ("-maybe", None, "可能为空"),
    ("max(maybe, 1)", None, "可能为空"),
])
def test_type_errors(text, want, msg):
    with pytest.raises(ExpressionError) as ei:
        expr.check(text, SYMS, want)
    assert msg in ei.value.message


# --- blank / present ---------------------------------------------------------------

@pytest.mark.parametrize("text,with_date,without", [
    ("blank(d)", False, True),
    ("present(d)", True, False),
    ("d > deadline", True, False),           # a comparison with a blank is false …
    ("d <= deadline", False, False),         # … whichever way round
    ("d == d", True, False),
    ("d != deadline", True, False),
    ("not (d > deadline)", False, True),
    ("present(d) and d > deadline", True, False),
    ("blank(d) or d > deadline", True, True),
])
def test_blank_semantics(text, with_date, without):
    assert ev(text, want=expr.BOOL) is with_date
    assert ev(text, {"d": None}, want=expr.BOOL) is without


def test_blank_of_nullable_bool_and_number():
    assert ev("blank(maybe) and blank(maybe_flag)") is True
    assert ev("present(maybe)", {"maybe": Decimal(0)}) is True   # 0 is not blank
    assert ev("maybe > 1") is False
    assert ev("maybe > 1", {"maybe": Decimal(2)}) is True


# --- in a pack: checked when the pack loads -------------------------------------

PACK = """
id: expr-pack
title: 表达式
version: "1"
source: {{document: 测试, title: 测试}}
categories: [{{name: 甲, cap: 2}}]
facts:
  - {{id: a, label: 数量甲, type: int}}
  - {{id: b, label: 数量乙, type: int}}
  - {{id: lvl, label: 等级, type: enum, options: [高, 低]}}
  - {{id: d, label: 日期, type: date, blank_allowed: true}}
  - {{id: opt, label: 可空数, type: decimal, blank_allowed: true}}
derived:
  - {{id: ratio, label: 比值, expr: "{derived}"}}
items:
  - id: "1"
    category: 甲
    title: 项
    max: 2
    criteria: 测试
    evidence: 测试
    zero_if:
      - {{when: "{when}", reason: 不符合}}
"""


def make(when="ratio > 2", derived="a / b"):
    return load_pack_text(PACK.format(when=when, derived=derived), "expr.yaml")


def test_pack_evaluates_derived_with_decimals():
    pack = make()
    assert score(pack, {"a": 5, "b": 2, "lvl": "高"}).item("1").points == Decimal("0")   # 2.5 > 2
    assert score(pack, {"a": 4, "b": 2, "lvl": "高"}).item("1").points == Decimal("2")   # 2 > 2 is false


def test_division_by_zero_in_a_pack_is_a_facts_error():
    pack = make()
    with pytest.raises(FactsError) as ei:
        score(pack, {"a": 1, "b": 0, "lvl": "高"})
    assert "除数为0" in str(ei.value)


@pytest.mark.parametrize("when,derived,msg", [
    ("lvl == '中'", "a / b", "'中' 不是 lvl 的可选值"),
    ("ratio > '2'", "a / b", "不能比较 数值 与 文字"),
    ("ratio", "a / b", "表达式结果应为是/否"),
    ("c > 1", "a / b", "未知的名称 'c'"),
    ("ratio > 2", "a / c", "未知的名称 'c'"),
    ("ratio > 2", "opt + 1", "可能为空"),
    ("ratio > 2", "d + 1", "+ 需要数值，实际为日期"),
    ("__import__('os')", "a / b", "未知的函数"),
    ("a.b > 1", "a / b", "无法识别的字符 '.'"),
])
def test_pack_expression_errors_at_load_time(when, derived, msg):
    with pytest.raises(PackError) as ei:
        make(when, derived)
    text = str(ei.value)
    assert msg in text
    assert "expr.yaml:" in text   # file:line of the offending expression


def test_derived_value_reading_a_blank_allowed_fact_is_computed():
    """count_true(present(...)) over blank-allowed dates must work when a date is blank."""
    from rubric_xl import load_pack_text, score

    pack = load_pack_text(_DERIVED_PACK)
    assert score(pack, {"a": "2005-01-01", "b": None, "n": 1}).items[0].zeroed is True
    assert score(pack, {"a": "2005-01-01", "b": "2005-01-02", "n": 1}).items[0].zeroed is False


def test_too_deep_expressions_are_pack_errors_not_tracebacks():
    from rubric_xl import PackError, load_pack_text

    for source in (" + ".join(["n"] * 900) + " > 1", "(" * 400 + "n" + ")" * 400 + " > 1"):
        with pytest.raises(PackError) as exc:
            load_pack_text(_DERIVED_PACK.replace('"sent < 2"', f'"{source}"'))
        text = str(exc.value)
        assert "items[0].zero_if[0].when" in text
        assert ("过深" in text) or ("过长" in text)
        assert len(text) < 400


_DERIVED_PACK = """
id: t
title: t
version: "1"
source: {document: d, title: t}
categories: [{name: c, cap: 2}]
facts:
  - {id: a, label: A, type: date, blank_allowed: true}
  - {id: b, label: B, type: date, blank_allowed: true}
  - {id: n, label: N, type: int}
derived:
  - {id: sent, label: S, expr: "count_true(present(a), present(b))"}
items:
  - id: "1"
    category: c
    title: x
    max: 2
    criteria: c
    evidence: e
    zero_if: [{when: "sent < 2", reason: 未全部报送}]
"""


# --- round(x, places) ------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("round(0.005, 2)", Decimal("0.01")),        # half up at the boundary
    ("round(0.00499, 2)", Decimal("0.00")),
    ("round(2.675, 2)", Decimal("2.68")),        # exact decimal: no binary 2.67499…
    ("round(-0.005, 2)", Decimal("-0.01")),      # away from zero, as Excel's ROUND
    ("round(100 / 107, 2)", Decimal("0.93")),
    ("round(10600 / 107, 2)", Decimal("99.07")),
    ("round(n / m, 0)", Decimal("2")),           # 1.5 → 2
    ("round(7, 6)", Decimal("7.000000")),
])
def test_round_is_half_up(text, value):
    got = ev(text)
    assert got == value and got.as_tuple().exponent == value.as_tuple().exponent


@pytest.mark.parametrize("text,msg", [
    ("round(n)", "参数个数不对"),
    ("round(n, m)", "0 到 6 之间的整数常量"),
    ("round(n, 1.5)", "0 到 6 之间的整数常量"),
    ("round(n, 7)", "0 到 6 之间的整数常量"),
    ("round(n, -1)", "0 到 6 之间的整数常量"),
    ("round(flag, 2)", "需要数值"),
    ("round(maybe, 2)", "可能为空"),
])
def test_round_refuses(text, msg):
    with pytest.raises(ExpressionError) as ei:
        expr.check(text, SYMS)
    assert msg in ei.value.message
