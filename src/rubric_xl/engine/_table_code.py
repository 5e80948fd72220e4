"""A table fact's cell conversion as one generated function (see :func:`table_code`).

For every row, every column: a blank cell takes the column's default; a raw value
the input contract plainly accepts as it is — a ``bool`` for yes/no, a ``date``
for a date, an int or Decimal for ``contract.quick_number``, text for
``contract.quick_text`` (its test written out; for an option column, membership
of the options it takes as they are) — is taken without a call; a row holding
every column reads its cells by subscript, any other through ``row.get``;
anything else goes to the caller's *slow(column position, raw, row number)*,
the general path of :func:`rubric_xl.engine.facts._convert_table` (memo, input
contract, problems).  Column ids are namespace constants (``k<n>``), never source
text.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from ..rules import expr
from ..rules.contract import ERROR_VALUES, NOT_QUICK, quick_number, quick_text

Converter = Callable[[list, Callable[[int, Any, int], Any], Callable[[int, Any], Any], bool], list[dict]]


def table_code(plan: Sequence[tuple]) -> Converter | None:
    """*plan*: the table's ``(column id, column, memo, quick form, default)`` (facts._Plan).
    Returns ``convert(rows, slow, odd, facts_file) -> converted rows``: a row that
    is not a dict or has a key that is no column goes to *odd(row number, row)*
    (the converted row, or ``None`` for none); ``None`` when the source cannot be
    compiled."""
    ns: dict[str, Any] = {"_NOT_QUICK": NOT_QUICK, "_quick_number": quick_number,
                          "_ERRORS": frozenset(ERROR_VALUES), "_known": frozenset(c[0] for c in plan)}

    def k(value: Any) -> str:
        name = f"k{len(ns)}"
        ns[name] = value
        return name

    lines = ["def convert(rows, slow, odd, facts_file):",
             "    out = []",
             "    add = out.append",
             "    i = 0",
             "    for row in rows:",
             "        i += 1",
             "        if row.__class__ is not dict or not row.keys() <= _known:",
             "            row = odd(i, row)",
             "            if row is not None:",
             "                add(row)",
             "            continue",
             f"        if len(row) == {len(plan)}:  # every column there: read by subscript"]
    _cells(lines, plan, k, "row[{}]")
    lines.append("        else:")
    lines.append("            get = row.get")
    _cells(lines, plan, k, "get({})")
    lines.append(f"        add({{{', '.join(f'{k(cid)}: c{n}' for n, (cid, *_) in enumerate(plan))}}})")
    lines.append("    return out")
    try:
        return expr.build_function("\n".join(lines) + "\n", ns, "convert")
    except (SyntaxError, RecursionError, MemoryError):  # pragma: no cover - a table has few columns
        return None


def _cells(lines: list[str], plan: Sequence[tuple], k: Callable[[Any], str], read: str) -> None:
    """The conversion of every cell of a row into ``c<n>``, each read as *read*."""
    b = "            "
    for n, (cid, _, _, quick, default) in enumerate(plan):
        c = f"c{n}"
        lines.append(f"{b}r = {read.format(k(cid))}")
        lines.append(f"{b}if r is None:")
        lines.append(f"{b}    {c} = {k(default)}")
        kind = quick[0] if quick is not None else None
        if kind == "same":
            lines.append(f"{b}elif r.__class__ is {k(quick[1])}:")
            lines.append(f"{b}    {c} = r")
        elif kind == "number":
            lines.append(f"{b}elif ({c} := _quick_number(r, {', '.join(k(q) for q in quick[1:])}, facts_file))"
                         f" is not _NOT_QUICK:")
            lines.append(f"{b}    pass")
        elif kind == "text" and quick[1] is None:  # contract.quick_text, written out
            lines.append(f"{b}elif r.__class__ is str and r and r[0] != ' ' and r[-1] != ' ' and '  ' not in r"
                         f" and r not in _ERRORS:")
            lines.append(f"{b}    {c} = r")
        elif kind == "text":  # an option: quick_text holds for exactly the options it takes as they are
            plain = frozenset(o for o in quick[1] if quick_text(o, quick[1]) is not NOT_QUICK)
            lines.append(f"{b}elif r.__class__ is str and r in {k(plain)}:")
            lines.append(f"{b}    {c} = r")
        lines.append(f"{b}else:")
        lines.append(f"{b}    {c} = slow({n}, r, i)")
