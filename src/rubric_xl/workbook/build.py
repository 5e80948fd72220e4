"""Generate the standard submission workbook of a pack (see docs/ARCHITECTURE.md,
"Workbook conventions"): 填报说明, 基本信息, 填报, 评分 | 台账 + 汇总, _meta."""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.workbook.protection import WorkbookProtection

from ..formulas import write_formulas
from ..errors import PackError, Problem
from ..rules.pack import RulePack
from . import names
from .context import LISTS_SHEET, Ctx
from ..layout import WorkbookLayout
from .meta import meta_values, write_meta
from .output import workbook_bytes
from .sheet_guide import build_info_sheet, create_guide_sheet, write_guide
from .sheet_input import build_input_sheet
from .sheet_ledger import build_ledger_sheet, build_summary_sheet
from .sheet_score import build_score_sheet
from .text import keep_pack_text

LEDGER_ROWS = 500
MAX_UNIT = 100


def clean_unit(unit: str | None) -> str | None:
    """The unit name with whitespace collapsed, ``None`` when blank.
    Raises :class:`ValueError` (Chinese message) when it is too long."""
    if unit is None:
        return None
    text = " ".join(unit.replace("\ufeff", "").replace("\u200b", "").split())
    if not text:
        return None
    if len(text) > MAX_UNIT:
        raise ValueError(f"填报单位名称过长（{len(text)} 个字，最多 {MAX_UNIT} 个）：{text[:20]}…")
    return text


def _prefill(pack: RulePack, unit: str | None) -> dict[str, str]:
    """A top-level enum fact that offers the unit's name as an option (such as
    ``reporting_body``) is pre-filled with it."""
    if not unit:
        return {}
    return {f.id: unit for f in pack.model.facts
            if f.type == "enum" and unit in (f.options or [])}


def build_template(pack: RulePack, unit: str | None = None, *,
                   ledger_rows: int = LEDGER_ROWS) -> tuple[Workbook, WorkbookLayout]:
    """The workbook for *pack* (pre-filled for *unit* when given) and its layout.

    Raises :class:`PackError` when the pack cannot become a workbook (an id that
    is not a valid Excel name, or a name collision)."""
    names.check_pack_names(pack)
    try:
        unit = clean_unit(unit)
    except ValueError as exc:
        raise PackError("填报单位名称无效", [Problem("--unit", str(exc))]) from None
    if ledger_rows < 1:
        raise PackError("台账行数无效", [Problem("ledger_rows", "至少 1 行")])
    wb = Workbook()
    wb.remove(wb.active)
    layout = WorkbookLayout(pack_id=pack.id, kind=pack.model.kind)
    ctx = Ctx(wb, pack, layout, unit, _prefill(pack, unit), ledger_rows)
    guide = create_guide_sheet(ctx)
    build_info_sheet(ctx)
    build_input_sheet(ctx)
    if pack.model.kind == "rubric":
        build_score_sheet(ctx)
    else:
        build_ledger_sheet(ctx)
        build_summary_sheet(ctx)
    keep_pack_text(wb, pack)  # a pack title "=…" stays text (before any formula is written)
    written = write_formulas(wb, pack, layout)  # native formulas for every result cell
    write_guide(ctx, guide, formulas=written > 0)
    keep_pack_text(wb, pack, [guide])
    write_meta(wb, meta_values(pack, unit))
    if LISTS_SHEET in wb.sheetnames:  # hidden option lists go last, after _meta
        wb.move_sheet(LISTS_SHEET, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(LISTS_SHEET))
    wb.active = 0
    wb.security = WorkbookProtection(lockStructure=True)
    wb.calculation.fullCalcOnLoad = True
    return wb, layout


def template_bytes(pack: RulePack, unit: str | None = None, *, ledger_rows: int = LEDGER_ROWS) -> bytes:
    """The generated workbook as .xlsx bytes (reproducible: same input, same bytes)."""
    wb, _ = build_template(pack, unit, ledger_rows=ledger_rows)
    return workbook_bytes(wb)
