"""Tokens → an unchecked AST (:class:`Node`), by recursive descent over the
grammar in the package docstring."""
from __future__ import annotations

from decimal import Decimal

from ...errors import ExpressionError
from ._ast import Node
from ._lexer import Token, tokenize


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.toks[self.i]

    def take(self) -> Token:
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
