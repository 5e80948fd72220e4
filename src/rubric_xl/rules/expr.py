"""A small, safe expression language for rule packs.

Grammar (precedence low → high)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | cmp
    cmp     := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum | "in" list)?
    sum     := prod (("+" | "-") prod)*
    prod    := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | STRING | "true" | "false" | NAME | NAME "(" args ")"
             | "(" expr ")"
    list    := "[" (literal ("," literal)*)? "]"

The text is tokenised and parsed here; nothing is ever passed to ``eval``.  There
is no attribute access, no indexing, no imports: a name is a fact, a derived
value or a deadline of the pack, and a call is one of :data:`FUNCTIONS`.

Every expression is type-checked against the pack when the pack loads, so an
unknown name, a misspelt enum option or ``rate > '90'`` is a pack error, not a
scoring-time surprise.  Types: ``bool``, ``number``, ``date``, ``text``.

Blank values: a name may be *nullable* (a date that may be left blank, an optional
ledger column).  ``blank(x)`` / ``present(x)`` test it; a comparison with a blank
operand is false; arithmetic on a nullable name is rejected at load time.
The AST is plain data (:class:`Node`), so the same tree compiles to Python
closures (:func:`compile_py`) and to native spreadsheet formulas.
"""
from __future__ import annotations

import datetime as _dt
import operator
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Mapping

from ..errors import ExpressionError

BOOL, NUMBER, DATE, TEXT = "bool", "number", "date", "text"

# name -> (min args, max args or None, result type)
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "min": (1, None, NUMBER),
    "max": (1, None, NUMBER),
    "abs": (1, 1, NUMBER),
    "blank": (1, 1, BOOL),
    "present": (1, 1, BOOL),
    "date": (1, 1, DATE),
    "count_true": (1, None, NUMBER),
}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>\d+(?:\.\d+)?)
      | (?P<str>'[^']*'|"[^"]*")
      | (?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)|\[|\]|,)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<bad>\S)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "true", "false"}


@dataclass(frozen=True)
class Node:
    """One AST node. ``kind`` is one of: num, str, bool, name, call, neg, not,
    and, or, cmp, arith, in.  ``type`` and ``nullable`` are filled by the
    checker."""

    kind: str
    value: Any = None
    args: tuple["Node", ...] = ()
    type: str = ""
    nullable: bool = False

    def names(self) -> set[str]:
        out: set[str] = set()
        stack = [self]
        while stack:
            n = stack.pop()
            if n.kind == "name":
                out.add(n.value)
            stack.extend(n.args)
        return out


@dataclass(frozen=True)
class Symbol:
    """What a name means to the type checker."""

    type: str
    nullable: bool = False
    options: tuple[str, ...] | None = None  # enum options, for literal checks


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        start = m.start(kind)
        if kind == "bad":
            raise ExpressionError(f"无法识别的字符 {val!r}", text, start)
        if kind == "name" and val in KEYWORDS:
            kind = "kw"
        tokens.append((kind, val, start))
    tokens.append(("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, kind: str, val: str | None = None) -> bool:
        k, v, _ = self.peek()
        if k == kind and (val is None or v == val):
            self.i += 1
            return True
        return False

    def expect(self, kind: str, val: str) -> None:
        if not self.accept(kind, val):
            _, v, p = self.peek()
            raise ExpressionError(f"此处应为 {val!r}，实际为 {v or '结尾'!r}", self.text, p)

    def parse(self) -> Node:
        node = self.or_()
        k, v, p = self.peek()
        if k != "end":
            raise ExpressionError(f"多余的内容 {v!r}", self.text, p)
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.accept("kw", "or"):
            node = Node("or", args=(node, self.and_()))
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.accept("kw", "and"):
            node = Node("and", args=(node, self.not_()))
        return node

    def not_(self) -> Node:
        if self.accept("kw", "not"):
            return Node("not", args=(self.not_(),))
        return self.cmp()

    def cmp(self) -> Node:
        node = self.sum()
        k, v, _ = self.peek()
        if k == "op" and v in ("<", "<=", ">", ">=", "==", "!="):
            self.take()
            return Node("cmp", v, (node, self.sum()))
        if self.accept("kw", "in"):
            return Node("in", self.literal_list(), (node,))
        return node

    def literal_list(self) -> tuple:
        self.expect("op", "[")
        items: list = []
        if not self.accept("op", "]"):
            while True:
                k, v, p = self.take()
                if k == "str":
                    items.append(v[1:-1])
                elif k == "num":
                    items.append(Decimal(v))
                else:
                    raise ExpressionError("列表中只能是文字或数字常量", self.text, p)
                if self.accept("op", "]"):
                    break
                self.expect("op", ",")
        return tuple(items)

    def sum(self) -> Node:
        node = self.prod()
        while True:
            k, v, _ = self.peek()
            if k == "op" and v in "+-":
                self.take()
                node = Node("arith", v, (node, self.prod()))
            else:
                return node

    def prod(self) -> Node:
        node = self.unary()
        while True:
            k, v, _ = self.peek()
            if k == "op" and v in "*/":
                self.take()
                node = Node("arith", v, (node, self.unary()))
            else:
                return node

    def unary(self) -> Node:
        if self.accept("op", "-"):
            return Node("neg", args=(self.unary(),))
        return self.atom()

    def atom(self) -> Node:
        k, v, p = self.take()
        if k == "num":
            return Node("num", Decimal(v))
        if k == "str":
            return Node("str", v[1:-1])
        if k == "kw" and v in ("true", "false"):
            return Node("bool", v == "true")
        if k == "name":
            if self.accept("op", "("):
                args: list[Node] = []
                if not self.accept("op", ")"):
                    while True:
                        args.append(self.or_())
                        if self.accept("op", ")"):
                            break
                        self.expect("op", ",")
                return Node("call", v, tuple(args))
            return Node("name", v)
        if k == "op" and v == "(":
            node = self.or_()
            self.expect("op", ")")
            return node
        raise ExpressionError(f"此处应为数值、名称或括号，实际为 {v or '结尾'!r}", self.text, p)


MAX_LENGTH = 4000  # characters; deeper nesting than this is not a rubric


def parse(text: str) -> Node:
    """Parse *text* into an unchecked AST."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("表达式为空", str(text), 0)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"表达式过长（{len(text)} 个字符，最多 {MAX_LENGTH}）", text[:80] + "…")
    try:
        return _Parser(text).parse()
    except RecursionError:
        raise ExpressionError("表达式嵌套过深，请拆分为派生值（derived）", text[:80] + "…") from None


class _Checker:
    def __init__(self, text: str, symbols: Mapping[str, Symbol]):
        self.text = text
        self.symbols = symbols

    def fail(self, msg: str) -> None:
        raise ExpressionError(msg, self.text)

    def check(self, n: Node) -> Node:
        k = n.kind
        if k == "num":
            return Node(k, n.value, type=NUMBER)
        if k == "str":
            return Node(k, n.value, type=TEXT)
        if k == "bool":
            return Node(k, n.value, type=BOOL)
        if k == "name":
            sym = self.symbols.get(n.value)
            if sym is None:
                self.fail(f"未知的名称 {n.value!r}（不是本规则包中的事实、派生值或期限）")
            return Node(k, n.value, type=sym.type, nullable=sym.nullable)
        args = tuple(self.check(a) for a in n.args)
        if k == "not":
            self.want(args[0], BOOL, "not")
            return Node(k, args=args, type=BOOL)
        if k in ("and", "or"):
            for a in args:
                self.want(a, BOOL, k)
            return Node(k, args=args, type=BOOL)
        if k == "neg":
            self.want(args[0], NUMBER, "负号")
            self.no_null(args[0])
            return Node(k, args=args, type=NUMBER)
        if k == "arith":
            for a in args:
                self.want(a, NUMBER, n.value)
                self.no_null(a)
            return Node(k, n.value, args, type=NUMBER)
        if k == "cmp":
            a, b = args
            if a.type != b.type:
                self.fail(f"不能比较 {_tname(a.type)} 与 {_tname(b.type)}")
            if n.value not in ("==", "!=") and a.type in (BOOL, TEXT):
                self.fail(f"{_tname(a.type)} 只能用 == 或 != 比较")
            self._check_option(a, b)
            self._check_option(b, a)
            return Node(k, n.value, args, type=BOOL)
        if k == "in":
            (a,) = args
            for item in n.value:
                lit = Node("str" if isinstance(item, str) else "num", item,
                           type=TEXT if isinstance(item, str) else NUMBER)
                if lit.type != a.type:
                    self.fail(f"列表中的 {item!r} 与 {_tname(a.type)} 类型不符")
                self._check_option(a, lit)
            return Node(k, n.value, args, type=BOOL)
        if k == "call":
            return self.call(n.value, args)
        self.fail(f"未知的语法节点 {k}")  # pragma: no cover
        raise AssertionError

    def _check_option(self, named: Node, lit: Node) -> None:
        if named.kind == "name" and lit.kind == "str":
            sym = self.symbols[named.value]
            if sym.options is not None and lit.value not in sym.options:
                self.fail(f"{lit.value!r} 不是 {named.value} 的可选值（可选：{'、'.join(sym.options)}）")

    def call(self, name: str, args: tuple[Node, ...]) -> Node:
        spec = FUNCTIONS.get(name)
        if spec is None:
            self.fail(f"未知的函数 {name}()（可用：{'、'.join(sorted(FUNCTIONS))}）")
        lo, hi, rtype = spec
        if len(args) < lo or (hi is not None and len(args) > hi):
            self.fail(f"函数 {name}() 的参数个数不对")
        if name in ("min", "max", "abs"):
            for a in args:
                self.want(a, NUMBER, name)
                self.no_null(a)
        elif name == "count_true":
            for a in args:
                self.want(a, BOOL, name)
        elif name == "date":
            a = args[0]
            if a.kind != "str":
                self.fail("date() 的参数必须是 'YYYY-MM-DD' 形式的文字常量")
            try:
                value = _dt.date.fromisoformat(a.value)
            except ValueError:
                self.fail(f"date({a.value!r}) 不是有效日期，应为 'YYYY-MM-DD'")
            return Node("date", value, type=DATE)
        return Node("call", name, args, type=rtype)

    def want(self, n: Node, t: str, where: str) -> None:
        if n.type != t:
            self.fail(f"{where} 需要{_tname(t)}，实际为{_tname(n.type)}")

    def no_null(self, n: Node) -> None:
        if n.nullable:
            self.fail("可能为空的值不能参与算术运算；先用 present() 判断")


def _tname(t: str) -> str:
    return {BOOL: "是/否", NUMBER: "数值", DATE: "日期", TEXT: "文字"}.get(t, t)


def check(text: str, symbols: Mapping[str, Symbol], want: str | None = None) -> Node:
    """Parse and type-check *text*; *want* is the required result type."""
    tree = parse(text)
    try:
        node = _Checker(text, symbols).check(tree)
        compile_py(node)  # deep trees fail here, at load time, not while scoring
    except RecursionError:
        raise ExpressionError("表达式嵌套过深，请拆分为派生值（derived）", text[:80] + "…") from None
    if want is not None and node.type != want:
        raise ExpressionError(f"表达式结果应为{_tname(want)}，实际为{_tname(node.type)}", text)
    return node


# --- compile to Python closures -------------------------------------------

Env = Mapping[str, Any]
Fn = Callable[[Env], Any]

_CMP = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}


def _flatten(node: Node, kind: str) -> list[Node]:
    """``a and (b and c)`` → ``[a, b, c]``."""
    if node.kind != kind:
        return [node]
    return [leaf for child in node.args for leaf in _flatten(child, kind)]


def _is_const(n: Node) -> bool:
    return n.kind in ("num", "str", "bool", "date")


def compile_py(node: Node) -> Fn:
    """Turn a checked AST into a closure ``env -> value``.  Decimal throughout.

    Common shapes (a name, ``not name``, a comparison of names and constants,
    chains of and/or) get a single flat closure: rows of a 2,000-row ledger
    run dozens of conditions each.
    """
    k = node.kind
    if k in ("num", "str", "bool", "date"):
        v = node.value
        return lambda env: v
    if k == "name":
        return operator.itemgetter(node.value)
    if k == "not" and node.args[0].kind == "name":
        name = node.args[0].value
        return lambda env: not env[name]
    if k in ("and", "or"):
        parts = _flatten(node, k)
        if all(p.kind == "name" for p in parts):
            names = [p.value for p in parts]
            if k == "and":
                return lambda env: all([env[n] for n in names])
            return lambda env: any([env[n] for n in names])
        fns = [compile_py(p) for p in parts]
        if k == "and":
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
    if k == "cmp":
        a, b = node.args
        f = _CMP[node.value]
        if a.kind == "name" and (_is_const(b) or b.kind == "name"):
            na = a.value
            nullable = a.nullable or b.nullable
            if _is_const(b):
                vb = b.value
                if nullable:
                    return lambda env: (x := env[na]) is not None and f(x, vb)
                return lambda env: f(env[na], vb)
            nb = b.value
            if nullable:
                return lambda env: ((x := env[na]) is not None and (y := env[nb]) is not None
                                    and f(x, y))
            return lambda env: f(env[na], env[nb])
    args = [compile_py(a) for a in node.args]
    if k == "not":
        (a,) = args
        return lambda env: not a(env)
    if k == "neg":
        (a,) = args
        return lambda env: -a(env)
    if k == "arith":
        a, b = args
        op = node.value
        if op == "+":
            return lambda env: a(env) + b(env)
        if op == "-":
            return lambda env: a(env) - b(env)
        if op == "*":
            return lambda env: a(env) * b(env)
        return lambda env: _div(a(env), b(env), node)
    if k == "cmp":
        a, b = args
        f = _CMP[node.value]
        nullable = node.args[0].nullable or node.args[1].nullable

        if nullable:
            def cmp_null(env):
                x, y = a(env), b(env)
                if x is None or y is None:
                    return False
                return f(x, y)
            return cmp_null
        return lambda env: f(a(env), b(env))
    if k == "in":
        (a,) = args
        options = frozenset(node.value)
        return lambda env: a(env) in options
    if k == "call":
        name = node.value
        if name == "min":
            return lambda env: min(f(env) for f in args)
        if name == "max":
            return lambda env: max(f(env) for f in args)
        if name == "abs":
            (a,) = args
            return lambda env: abs(a(env))
        if name == "blank":
            (a,) = args
            return lambda env: a(env) is None
        if name == "present":
            (a,) = args
            return lambda env: a(env) is not None
        if name == "count_true":
            return lambda env: Decimal(sum(1 for f in args if f(env)))
    raise ExpressionError(f"无法编译的节点 {k}")  # pragma: no cover


def _div(a: Decimal, b: Decimal, node: Node) -> Decimal:
    if b == 0:
        raise ZeroDivisionError("除数为0")
    return a / b
