"""The one place where native score formulas enter a generated workbook."""
from __future__ import annotations

from collections.abc import Mapping

from openpyxl.workbook import Workbook

from ..errors import PackError, Problem
from ..rules.pack import RulePack
from .layout import WorkbookLayout


def _formulas_module():
    try:
        from .. import formulas  # noqa: PLC0415
    except ImportError:
        return None
    return formulas


def write_score_formulas(wb: Workbook, pack: RulePack, layout: WorkbookLayout) -> int:
    """Write the pack's native Excel formulas into *wb*; return how many cells got one.

    When :mod:`rubric_xl.formulas` is importable:

    * if it has ``write_formulas(wb, pack, layout)``, that does all the writing
      (rubric and ledger packs) and returns the cell count;
    * otherwise, for rubric packs, ``compile_rubric(pack)`` is called; its
      result (a mapping, or an object with a ``names`` mapping) maps a target
      to a formula text starting with ``=``.  A target is a defined name the
      generator created (``layout.names``: ``item_10_points``,
      ``category_2_points``, ``total_points``, …) or an absolute one-cell
      reference such as ``'评分'!$H$3``.

    Otherwise the result cells stay empty and 0 is returned.  The *layout*
    (:class:`~rubric_xl.workbook.layout.WorkbookLayout`) gives every address:
    ``layout.inputs[fact_id]``, ``layout.info[...]``, ``layout.items[item_id]``
    (``.points`` G, ``.explain`` H, ``.max`` D, ``.facts``),
    ``layout.categories[n-1]`` (``.points``, ``.item_ids``), ``layout.total``,
    ``layout.grade``, ``layout.eligible``, ``layout.provisional``,
    ``layout.tables[table_id]`` (``.columns[col_id].data`` ranges,
    ``.results['status'|'errors'|'warnings']``) and ``layout.summary`` (the
    roll-up blocks on 汇总).
    """
    fm = _formulas_module()
    if fm is None:
        return 0
    writer = getattr(fm, "write_formulas", None)
    if writer is not None:
        return int(writer(wb, pack, layout) or 0)
    compile_rubric = getattr(fm, "compile_rubric", None)
    if pack.model.kind != "rubric" or compile_rubric is None:
        return 0
    result = compile_rubric(pack)
    names = result if isinstance(result, Mapping) else getattr(result, "names", {})
    for target, formula in names.items():
        _cell(wb, layout, target).value = formula
    return len(names)


def _cell(wb: Workbook, layout: WorkbookLayout, target: str):
    ref = layout.names.get(target, target)
    sheet, _, coord = ref.rpartition("!")
    sheet = sheet.strip("'").replace("''", "'")
    coord = coord.replace("$", "")
    if sheet not in wb.sheetnames or ":" in coord or not coord:
        raise PackError("公式编译结果指向未知的位置",
                        [Problem(target, "既不是模板中单个单元格的名称，也不是带工作表的单元格地址")])
    return wb[sheet][coord]
