"""Expression text → tokens ``(kind, text, offset)``; kinds: num, str, op, name,
kw (a keyword), end."""
from __future__ import annotations

import re

from ...errors import ExpressionError

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

Token = tuple[str, str, int]


def tokenize(text: str) -> list[Token]:
    """Every token of *text*, then ``("end", "", len(text))``; an unknown
    character is an :class:`ExpressionError` at its offset."""
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
