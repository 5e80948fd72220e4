"""The expression AST (plain data), the value types and the function table."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BOOL, NUMBER, DATE, TEXT = "bool", "number", "date", "text"

_TYPE_NAMES = {BOOL: "是/否", NUMBER: "数值", DATE: "日期", TEXT: "文字"}

# name -> (min args, max args or None, result type)
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "min": (1, None, NUMBER),
    "max": (1, None, NUMBER),
    "abs": (1, 1, NUMBER),
    "blank": (1, 1, BOOL),
    "present": (1, 1, BOOL),
    "date": (1, 1, DATE),
    "count_true": (1, None, NUMBER),
    "days": (2, 2, NUMBER),  # whole days from a to b (b − a); blank when either is blank
    "coalesce": (2, None, ""),  # the first operand that is not blank (all of one type)
}

CONSTANTS = ("num", "str", "bool", "date")  # node kinds whose value is the result


def type_name(t: str) -> str:
    """The Chinese name of a value type, for messages."""
    return _TYPE_NAMES.get(t, t)


@dataclass(frozen=True)
class Node:
    """One AST node. ``kind`` is one of: num, str, bool, date, name, call, neg,
    not, and, or, cmp, arith, in (``date`` only after checking: a checked
    ``date('…')`` call).  ``type`` and ``nullable`` are filled by the checker."""

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
