"""Type checking: an unchecked AST and the pack's names (:class:`Symbol`) → the
same tree with ``type`` and ``nullable`` filled in, or an :class:`ExpressionError`
saying in Chinese what is wrong."""
from __future__ import annotations

import datetime
from typing import Callable, Mapping

from ...errors import ExpressionError
from ._ast import BOOL, DATE, FUNCTIONS, NUMBER, TEXT, Node, Symbol, type_name
from ._parser import parse
from ._python import compile_py

_LITERAL_TYPES = {"num": NUMBER, "str": TEXT, "bool": BOOL}


class _Checker:
    def __init__(self, text: str, symbols: Mapping[str, Symbol]):
        self.text = text
        self.symbols = symbols

    def fail(self, msg: str) -> None:
        raise ExpressionError(msg, self.text)

    def check(self, n: Node) -> Node:
        if n.kind in _LITERAL_TYPES:
            return Node(n.kind, n.value, type=_LITERAL_TYPES[n.kind])
        if n.kind == "name":
            return self.name(n)
        rule = _RULES.get(n.kind)
        if rule is None:  # pragma: no cover - the parser makes no other kind
            self.fail(f"未知的语法节点 {n.kind}")
        return rule(self, n, tuple(self.check(a) for a in n.args))

    def name(self, n: Node) -> Node:
        sym = self.symbols.get(n.value)
        if sym is None:
            self.fail(f"未知的名称 {n.value!r}（不是本规则包中的事实、派生值或期限）")
        return Node("name", n.value, type=sym.type, nullable=sym.nullable)

    def logic(self, n: Node, args: tuple[Node, ...]) -> Node:
        for a in args:
            self.want(a, BOOL, n.kind)
        return Node(n.kind, args=args, type=BOOL)

    def neg(self, n: Node, args: tuple[Node, ...]) -> Node:
        self.want(args[0], NUMBER, "负号")
        self.no_null(args[0])
        return Node(n.kind, args=args, type=NUMBER)

    def arith(self, n: Node, args: tuple[Node, ...]) -> Node:
        for a in args:
            self.want(a, NUMBER, n.value)
            self.no_null(a)
        return Node(n.kind, n.value, args, type=NUMBER)

    def cmp(self, n: Node, args: tuple[Node, ...]) -> Node:
        a, b = args
        if a.type != b.type:
            self.fail(f"不能比较 {type_name(a.type)} 与 {type_name(b.type)}")
        if n.value not in ("==", "!=") and a.type in (BOOL, TEXT):
            self.fail(f"{type_name(a.type)} 只能用 == 或 != 比较")
        self.option(a, b)
        self.option(b, a)
        return Node(n.kind, n.value, args, type=BOOL)

    def in_(self, n: Node, args: tuple[Node, ...]) -> Node:
        (a,) = args
        for item in n.value:
            lit = Node("str" if isinstance(item, str) else "num", item,
                       type=TEXT if isinstance(item, str) else NUMBER)
            if lit.type != a.type:
                self.fail(f"列表中的 {item!r} 与 {type_name(a.type)} 类型不符")
            self.option(a, lit)
        return Node(n.kind, n.value, args, type=BOOL)

    def call(self, n: Node, args: tuple[Node, ...]) -> Node:
        name = n.value
        spec = FUNCTIONS.get(name)
        if spec is None:
            self.fail(f"未知的函数 {name}()（可用：{'、'.join(sorted(FUNCTIONS))}）")
        lo, hi, rtype = spec
        if len(args) < lo or (hi is not None and len(args) > hi):
            self.fail(f"函数 {name}() 的参数个数不对")
        special = _CALLS.get(name)
        if special is not None:
            return special(self, name, args)
        return Node("call", name, args, type=rtype)

    def numbers(self, name: str, args: tuple[Node, ...]) -> Node:  # min, max, abs
        for a in args:
            self.want(a, NUMBER, name)
            self.no_null(a)
        return Node("call", name, args, type=NUMBER)

    def count_true(self, name: str, args: tuple[Node, ...]) -> Node:
        for a in args:
            self.want(a, BOOL, name)
        return Node("call", name, args, type=NUMBER)

    def days(self, name: str, args: tuple[Node, ...]) -> Node:
        for a in args:
            self.want(a, DATE, name)
        return Node("call", name, args, type=NUMBER, nullable=any(a.nullable for a in args))

    def coalesce(self, name: str, args: tuple[Node, ...]) -> Node:
        t = args[0].type
        for a in args[1:]:
            if a.type != t:
                self.fail(f"coalesce() 的参数类型应一致：{type_name(t)} 与 {type_name(a.type)}")
        return Node("call", name, args, type=t, nullable=all(a.nullable for a in args))

    def date(self, name: str, args: tuple[Node, ...]) -> Node:
        a = args[0]
        if a.kind != "str":
            self.fail("date() 的参数必须是 'YYYY-MM-DD' 形式的文字常量")
        try:
            value = datetime.date.fromisoformat(a.value)
        except ValueError:
            self.fail(f"date({a.value!r}) 不是有效日期，应为 'YYYY-MM-DD'")
        return Node("date", value, type=DATE)

    def option(self, named: Node, lit: Node) -> None:
        if named.kind == "name" and lit.kind == "str":
            sym = self.symbols[named.value]
            if sym.options is not None and lit.value not in sym.options:
                self.fail(f"{lit.value!r} 不是 {named.value} 的可选值（可选：{'、'.join(sym.options)}）")

    def want(self, n: Node, t: str, where: str) -> None:
        if n.type != t:
            self.fail(f"{where} 需要{type_name(t)}，实际为{type_name(n.type)}")

    def no_null(self, n: Node) -> None:
        if n.nullable:
            self.fail("可能为空的值不能参与算术运算；先用 present() 判断")


Rule = Callable[[_Checker, Node, tuple[Node, ...]], Node]
_RULES: dict[str, Rule] = {
    "not": _Checker.logic, "and": _Checker.logic, "or": _Checker.logic,
    "neg": _Checker.neg, "arith": _Checker.arith, "cmp": _Checker.cmp, "in": _Checker.in_,
    "call": _Checker.call,
}
_CALLS: dict[str, Callable[[_Checker, str, tuple[Node, ...]], Node]] = {
    "min": _Checker.numbers, "max": _Checker.numbers, "abs": _Checker.numbers,
    "count_true": _Checker.count_true, "date": _Checker.date,
    "days": _Checker.days, "coalesce": _Checker.coalesce,
}


def check(text: str, symbols: Mapping[str, Symbol], want: str | None = None) -> Node:
    """Parse and type-check *text*; *want* is the required result type."""
    tree = parse(text)
    try:
        node = _Checker(text, symbols).check(tree)
        compile_py(node)  # deep trees fail here, at load time, not while scoring
    except RecursionError:
        raise ExpressionError("表达式嵌套过深，请拆分为派生值（derived）", text[:80] + "…") from None
    if want is not None and node.type != want:
        raise ExpressionError(f"表达式结果应为{type_name(want)}，实际为{type_name(node.type)}", text)
    return node
