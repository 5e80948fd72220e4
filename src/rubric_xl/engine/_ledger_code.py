"""A ledger table's row loop as one generated function (see :class:`RowCode`).

:class:`rubric_xl.engine.ledger.TablePlan` evaluates rows through the closures of
:func:`rubric_xl.rules.expr.compile_py` (the reference); this module writes the
same evaluation, in the same order, as the Python source of one function per
table, compiled once per plan: every value a row reads is a local variable, every
status, decision value, message and column list a pre-built constant.  The source
comes from the checked AST (:class:`rubric_xl.rules.expr.Source`) and from the
lowered ledger's structure only: pack names and texts are namespace constants
(``k<n>``), never source text.

The function ``rows(table_rows, base) -> (results, records)`` returns per row its
:class:`~rubric_xl.engine.card.RowResult` and its roll-up record — the row terms
(``lowered.Ledger.row_terms``, in order) followed by the value of each grouping
slot (a column, decision or ``status``) — or ``None`` for a 有误 row.  A row that
holds other keys than exactly the table's columns, and a 有误 row, go to the
caller's *other_row* (the closures: their laziness decides whether a missing
column is read at all).
"""
from __future__ import annotations

from typing import Callable, Sequence

from ..rules import expr, lowered
from ..rules.contract import Invalid
from .card import RowProblem, RowResult

STATUS = "status"
OtherRow = Callable[[int, dict, dict], tuple[RowResult, "list | None"]]  # (row number, row, base) → result, record


class RowCode:
    """The generated row loop of one lowered ledger table."""

    def __init__(self, lg: lowered.Ledger, base_names: Sequence[str], slots: Sequence[str], other_row: OtherRow):
        self.lg = lg
        self.names: dict[str, str] = {}  # pack name -> the local holding it, as evaluation proceeds
        self.src = expr.Source(self._local)
        self.lines: list[str] = []
        ns = self.src.namespace
        ns.update(_Invalid=Invalid, _RowResult=RowResult, _other_row=other_row)
        k = self.src.const
        out = self.lines.append
        out("def rows(table_rows, base):")
        for n, name in enumerate(base_names):  # top-level facts, deadlines, top-level derived values
            self.names[name] = f"b{n}"
            out(f"    b{n} = base[{k(name)}]")
        out("    results = []")
        out("    records = []")
        out("    add_result = results.append")
        out("    add_record = records.append")
        out("    i = 0")
        out("    for row in table_rows:")
        out("        i += 1")
        row_names = {cid: f"c{n}" for n, cid in enumerate(lg.columns)}
        # a row of exactly the table's columns (a converted one): every cell a local,
        # 有误 decided on the locals; a 有误 row, or any other row, as the closures do it
        out(f"        if len(row) != {len(row_names)}:")
        out("            result, record = _other_row(i, row, base)")
        out("            add_result(result)")
        out("            add_record(record)")
        out("            continue")
        out("        try:")
        for cid, local in row_names.items():
            out(f"            {local} = row[{k(cid)}]")
            self.names[cid] = local
        out("        except KeyError:")
        out("            result, record = _other_row(i, row, base)")
        out("            add_result(result)")
        out("            add_record(record)")
        out("            continue")
        out(f"        if {' or '.join(f'type({c}) is _Invalid' for c in row_names.values())}:")
        out("            result, record = _other_row(i, row, base)")
        out("            add_result(result)")
        out("            add_record(record)")
        out("            continue")
        self.key_local = self.names.get(lg.key)
        b = "        "
        for n, (did, node) in enumerate(lg.derived):
            out(f"{b}d{n} = {self.src.expr(node)}")
            self.names[did] = f"d{n}"
        for n, (did, _, rules) in enumerate(lg.decisions):
            for j, (value, node) in enumerate(rules):
                always = node.kind == "bool" and node.value is True
                if always and j:
                    out(f"{b}else:")
                elif always:
                    out(f"{b}if True:")
                else:
                    out(f"{b}{'elif' if j else 'if'} {self.src.cond(node)}:")
                out(f"{b}    e{n} = {k(value)}")
                if always:
                    break
            else:  # the checker makes the last rule always hold; should it not, as the closures: StopIteration
                out(f"{b}else:")
                out(f"{b}    raise StopIteration")
            self.names[did] = f"e{n}"
        opened = False
        for j, (name, node) in enumerate(lg.statuses):
            always = node.kind == "bool" and node.value is True
            if always:
                out(f"{b}{'else' if opened else 'if True'}:")
                out(f"{b}    st = {k(name)}")
                opened = False
                break
            out(f"{b}{'elif' if opened else 'if'} {self.src.cond(node)}:")
            out(f"{b}    st = {k(name)}")
            opened = True
        else:
            if opened:
                out(f"{b}else:")
                out(f"{b}    st = None")
            else:
                out(f"{b}st = None")
        self.names[STATUS] = "st"
        shown = ", ".join(f"{k(did)}: {self.names[did]}" for did, _ in lg.derived) + \
            "".join(f", {k(did)}: {self.names[did]}" for did, _, _ in lg.decisions)
        shown = shown.lstrip(", ")
        out(f"{b}errors = []")
        out(f"{b}warnings = []")
        for col, msg in lg.required:  # each problem one shared, immutable RowProblem
            out(f"{b}if {self.names[col]} is None:")
            out(f"{b}    errors.append({k(RowProblem(f'required_{col}', 'error', msg, [col]))})")
        for chk, node in lg.checks:
            into = "errors" if chk.level == "error" else "warnings"
            out(f"{b}if {self.src.cond(node)}:")
            out(f"{b}    {into}.append({k(RowProblem(chk.id, chk.level, chk.message, list(chk.columns)))})")
        key = self.key_local or "None"
        out(f"{b}add_result(_RowResult(i, {key}, st or '', {{**row{', ' if shown else ''}{shown}}}, errors, warnings))")
        record = [self.src.expr(node) for _, node in lg.row_terms] + [self.names[s] for s in slots]
        out(f"{b}add_record([{', '.join(record)}])")
        out("    return results, records")
        self.source = "\n".join(self.lines) + "\n"
        self.fn = expr.build_function(self.source, self.src.namespace, "rows")

    def _nodes(self):
        lg = self.lg
        yield from (n for _, n in lg.derived)
        yield from (n for _, _, rules in lg.decisions for _, n in rules)
        yield from (n for _, n in lg.statuses)
        yield from (n for _, n in lg.checks)
        yield from (n for _, n in lg.row_terms)

    def _local(self, name: str) -> str:
        local = self.names.get(name)
        if local is None:  # a name the closures' environment would not hold here
            raise KeyError(name)
        return local


def row_code(lg: lowered.Ledger, base_names: Sequence[str], slots: Sequence[str],
             other_row: OtherRow) -> Callable[[list, dict], tuple[list, list]] | None:
    """The generated row loop, or ``None`` when the table's expressions are too
    deep for the compiler or read a name no row holds (the closures then run)."""
    try:
        return RowCode(lg, base_names, slots, other_row).fn
    except (SyntaxError, RecursionError, MemoryError, KeyError):
        return None

