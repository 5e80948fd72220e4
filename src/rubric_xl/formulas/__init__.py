"""Compile a rule pack to native Excel formulas (Excel 2010 / WPS function set).

Scores then recalculate live in the submission workbook with nothing installed.
The formulas are compiled from the same checked pack (:class:`RulePack` and its
ASTs) as the engine and reproduce its results and explanation texts exactly;
``tests/test_formulas_lo.py`` proves it with LibreOffice.

Public API::

    compile_rubric(pack) -> RubricFormulas          # 评分: items, categories, total …
    compile_ledger(pack, column_ref) -> LedgerFormulas   # 台账 rows + 汇总 roll-ups
    write_formulas(wb, pack, layout)                # fill a generated template (the hook)
    ALLOWED_FUNCTIONS, functions_in(formula), problems_in(formula)

Every formula starts with ``=``; a rule that cannot be expressed raises
:class:`rubric_xl.PackError` naming the item, never a silently wrong cell.
"""
from ._ledger import GroupFormulas, LedgerFormulas, RollupFormulas, compile_ledger
from ._rubric import INCOMPLETE, INVALID, ItemFormulas, RubricFormulas, compile_rubric
from ._write import write_formulas
from ._xl import ALLOWED_FUNCTIONS, ROW, functions_in, problems_in

__all__ = [
    "compile_rubric", "RubricFormulas", "ItemFormulas", "INCOMPLETE", "INVALID",
    "compile_ledger", "LedgerFormulas", "RollupFormulas", "GroupFormulas",
    "write_formulas", "ALLOWED_FUNCTIONS", "ROW", "functions_in", "problems_in",
]
