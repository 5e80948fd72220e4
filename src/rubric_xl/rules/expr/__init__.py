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

The text is tokenised (``_lexer``) and parsed (``_parser``); nothing is ever
passed to ``eval``.  There is no attribute access, no indexing, no imports: a
name is a fact, a derived value or a deadline of the pack, and a call is one of
:data:`FUNCTIONS`.

Every expression is type-checked against the pack when the pack loads
(``_checker``), so an unknown name, a misspelt enum option or ``rate > '90'`` is
a pack error, not a scoring-time surprise.  Types: ``bool``, ``number``,
``date``, ``text``.

Blank values: a name may be *nullable* (a date that may be left blank, an optional
ledger column).  ``blank(x)`` / ``present(x)`` test it; a comparison with a blank
operand is false; arithmetic on a nullable name is rejected at load time.
The AST is plain data (:class:`Node`, ``_ast``), so the same tree compiles to
Python closures (:func:`compile_py`, ``_python``), to Python source over local
variables (:class:`Source`, for a generated function such as a ledger table's
row loop: written from the checked tree, every name a caller-chosen identifier
and every constant a namespace entry, so no pack text reaches
:func:`build_function`) and to native spreadsheet formulas
(``rubric_xl.formulas._expr``).
"""
from __future__ import annotations

from ._ast import BOOL, CONSTANTS, DATE, FUNCTIONS, NUMBER, TEXT, Node, Symbol, type_name
from ._checker import check
from ._lexer import KEYWORDS, tokenize
from ._parser import MAX_LENGTH, parse
from ._python import Env, Fn, Source, build_function, compile_py

__all__ = ["BOOL", "CONSTANTS", "DATE", "NUMBER", "TEXT", "FUNCTIONS", "KEYWORDS", "MAX_LENGTH", "Node",
           "Symbol", "Env", "Fn", "Source", "build_function", "check", "compile_py", "parse", "tokenize", "type_name"]
