"""Excel formula text: literals, calls, and the checks every compiled formula passes.

Only functions of :data:`ALLOWED_FUNCTIONS` (Excel 2010 / WPS safe, see
shared/notes/measured-facts.md) may appear; formulas stay within Excel's limits
(8,192 characters, 64 nested calls, 255 arguments, 255 characters per text
literal).  :func:`check_formula` enforces this with openpyxl's tokenizer, so a
formula the compiler cannot keep within the rules is a :class:`PackError`, never
a cell that fails in the user's spreadsheet program.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from openpyxl.formula.tokenizer import Token, Tokenizer

from ..errors import PackError, Problem

ALLOWED_FUNCTIONS = frozenset("""
IF AND OR NOT IFERROR ISBLANK ISNUMBER ISTEXT N SUM SUMIF SUMIFS SUMPRODUCT COUNT COUNTA
COUNTIF COUNTIFS COUNTBLANK AVERAGE MAX MIN ROUND ROUNDUP ROUNDDOWN INT ABS MOD INDEX MATCH
VLOOKUP CHOOSE LOOKUP LEN LEFT MID RIGHT TRIM TEXT VALUE DATE YEAR MONTH DAY
ISERROR ISLOGICAL ERROR.TYPE UPPER ADDRESS ROW COLUMN HOUR MINUTE
""".split())

MAX_LENGTH = 8192  # characters of one formula (Excel 2007+)
MAX_NESTING = 64  # nested function calls
MAX_ARGS = 255  # arguments of one call
LITERAL_CHUNK = 120  # code points per text literal (Excel: 255 UTF-16 units)
ROW = "{row}"  # placeholder for the row number in per-row formula templates
EPS_DIGITS = 10  # ROUND(x, 10) removes binary noise (0.3/0.1 = 2.9999999999999996)


def text(s: str) -> str:
    """A text literal; long text is split into concatenated chunks."""
    if s == "":
        return '""'
    parts = [s[i:i + LITERAL_CHUNK] for i in range(0, len(s), LITERAL_CHUNK)]
    out = "&".join('"' + p.replace('"', '""') + '"' for p in parts)
    return out if len(parts) == 1 else f"({out})"


def number(d: Decimal | int) -> str:
    d = Decimal(d)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def date(d: _dt.date) -> str:
    return f"DATE({d.year},{d.month},{d.day})"


def call(name: str, *args: str) -> str:
    """``NAME(a,b,…)``; more than 255 arguments are nested (SUM, COUNT, AND, OR, MAX, MIN)."""
    if len(args) > MAX_ARGS:
        if name not in ("SUM", "COUNT", "AND", "OR", "MAX", "MIN"):
            raise ValueError(f"{name} 的参数超过 {MAX_ARGS} 个")
        chunks = [call(name, *args[i:i + MAX_ARGS]) for i in range(0, len(args), MAX_ARGS)]
        return call(name, *chunks)
    return f"{name}({','.join(args)})"


def any_of(conds: list[str]) -> str:
    """OR of *conds* (``FALSE`` for none, the condition itself for one)."""
    if not conds:
        return "FALSE"
    return conds[0] if len(conds) == 1 else call("OR", *conds)


def all_of(conds: list[str]) -> str:
    if not conds:
        return "TRUE"
    return conds[0] if len(conds) == 1 else call("AND", *conds)


def concat(parts: list[str]) -> str:
    """Text parts joined with ``&`` (``""`` for none)."""
    parts = [p for p in parts if p != '""']
    if not parts:
        return '""'
    return parts[0] if len(parts) == 1 else "(" + "&".join(parts) + ")"


def joined(pieces: list[tuple[str, str]], sep: str) -> str:
    """Text of the pieces whose condition holds, separated by *sep*.

    *pieces* are ``(condition, text formula)``; the result is
    ``MID(IF(c1,sep&t1,"")&IF(c2,sep&t2,"")…, len(sep)+1, 32767)``.
    """
    if not pieces:
        return '""'
    body = concat([f'IF({c},{concat([text(sep), t])},"")' for c, t in pieces])
    return f"MID({body},{len(sep) + 1},32767)"


def value_text(x: str) -> str:
    """A number as the engine's ``num.value`` shows it: ``20``, ``93.5``, ``11.67``."""
    return f'ROUND({x},2)&""'


def amount_text(x: str) -> str:
    """Points as the engine's ``num.amount`` shows them: ``1.00``, half up.

    ``ROUND`` first: LibreOffice's ``TEXT`` rounds the binary value
    (4.5*0.15 = 0.67499… → 0.67) where ``ROUND`` and the engine give 0.68."""
    return f'TEXT(ROUND({x},2),"0.00")'


def date_text(x: str) -> str:
    """A date serial as ISO text ``2005-07-20`` (locale independent)."""
    return f'YEAR({x})&"-"&TEXT(MONTH({x}),"00")&"-"&TEXT(DAY({x}),"00")'


def functions_in(formula: str) -> list[str]:
    """Every function name called in *formula* (upper case, in order)."""
    out = []
    for tok in Tokenizer(formula).items:
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            out.append(tok.value[:-1].upper())
    return out


def problems_in(formula: str) -> list[str]:
    """Why *formula* is not acceptable (Chinese), or an empty list."""
    out = []
    if not formula.startswith("="):
        out.append("公式应以 = 开头")
    if len(formula) > MAX_LENGTH:
        out.append(f"公式长度 {len(formula)} 超过 Excel 上限 {MAX_LENGTH} 个字符")
    try:
        tokens = Tokenizer(formula).items
    except Exception as exc:  # openpyxl raises TokenizerError on unbalanced text
        return out + [f"公式无法解析：{exc}"]
    depth = deepest = 0
    stack: list[list[int]] = []  # per open function/paren: [is_function, argument count]
    for tok in tokens:
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            name = tok.value[:-1].upper()
            if name not in ALLOWED_FUNCTIONS:
                out.append(f"函数 {name} 不在 Excel 2010/WPS 兼容函数清单中")
            depth += 1
            deepest = max(deepest, depth)
            stack.append([1, 1])
        elif tok.type == Token.PAREN and tok.subtype == Token.OPEN:
            stack.append([0, 1])
        elif tok.type == Token.SEP and tok.subtype == Token.ARG and stack:
            stack[-1][1] += 1
        elif tok.subtype == Token.CLOSE and tok.type in (Token.FUNC, Token.PAREN) and stack:
            is_func, args = stack.pop()
            if is_func:
                depth -= 1
                if args > MAX_ARGS:
                    out.append(f"函数参数 {args} 个，超过 Excel 上限 {MAX_ARGS}")
        elif tok.type == Token.OPERAND and tok.subtype == Token.TEXT:
            if len(tok.value.encode("utf-16-le")) // 2 - 2 > 255:
                out.append("公式中的文字常量超过 255 个字符")
    if deepest > MAX_NESTING:
        out.append(f"函数嵌套 {deepest} 层，超过 Excel 上限 {MAX_NESTING} 层")
    return out


def check_formula(formula: str, where: str, what: str) -> str:
    """Return *formula* or raise :class:`PackError` naming *where* (e.g. the item)."""
    found = problems_in(formula.replace(ROW, "3"))
    if found:
        raise PackError(f"无法把{what}编译为 Excel 公式", [Problem(where, m) for m in found])
    return formula
