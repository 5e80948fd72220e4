"""The workbook conventions every executor shares (docs/ARCHITECTURE.md).

The template builder writes these names, the reader and the auditor read them,
the formula compiler and the add-in fill them.  Keep them here, once.
"""
from __future__ import annotations

META_SHEET = "_meta"
META_KEYS = ("pack_id", "pack_version", "pack_hash", "template_version", "unit", "generator")
PROP_PREFIX = "rubric_xl_"  # custom document properties: rubric_xl_pack_id, …

INPUT_SHEET = "填报"  # the sheet of the single-cell inputs (named in 有误 reasons)
LEDGER_SHEET = "台账"  # the sheet of the ledger tables
INFO_NAMES = ("info_unit", "info_filler", "info_phone", "info_date")
UNIT_LABEL = "填报单位"


def sheet_title(label: str) -> str:
    """A table label as an Excel sheet name (the sheet of that table when a pack
    has several): at most 31 characters, none of :\\/?*[]."""
    text = "".join("_" if ch in ':\\/?*[]' else ch for ch in label).strip("'")
    return text[:31] or LEDGER_SHEET


def unit_fact(facts):
    """The top-level enum fact that names the reporting unit (labelled 填报单位,
    like the 基本信息 row), or ``None``: it is asked once, in 基本信息's
    ``info_unit`` cell, which then carries both names (``info_unit`` and the
    fact id).  The builder places it there and the reader expects it there."""
    return next((f for f in facts if f.type == "enum" and f.label == UNIT_LABEL), None)
RESULT_NAMES = ("total_points", "grade", "eligible", "provisional")
STARTED_NAME = "submission_started"  # named formula: TRUE once any input but the unit holds a value
LEDGER_RESULTS = {"status": "ledger_status", "errors": "ledger_errors", "warnings": "ledger_warnings"}


def ledger_result_name(which: str, table: str | None = None) -> str:
    """The defined name of a ledger table's result column: *which* = status |
    errors | warnings of a pack's first (or only) ledger table (*table*
    ``None``) is ``ledger_status`` …; of a further table, or a decision column
    of any table, ``<table>__<which>`` (``cases__status``, ``cases__penalty_advice``)."""
    if table is None and which in LEDGER_RESULTS:
        return LEDGER_RESULTS[which]
    return column_name(table or "", which)


def item_points_name(item_id: str) -> str:
    return f"item_{item_id}_points"


def item_explain_name(item_id: str) -> str:
    return f"item_{item_id}_explain"


def category_points_name(n: int) -> str:
    """*n* counts categories from 1 in pack order."""
    return f"category_{n}_points"


def column_name(table: str, column: str) -> str:
    """A ledger column's data range: ``enterprises__listed_date``."""
    return f"{table}__{column}"


def list_name(owner: str) -> str:
    """The hidden option list of an enum fact or column (``_list_<owner>``)."""
    return f"_list_{owner}"

# Sheet names of a template, in order (docs/ARCHITECTURE.md).  A reader accepts
# a renamed 填报/台账/… sheet as long as the names point at it consistently.
GUIDE_SHEET = "填报说明"
INFO_SHEET = "基本信息"
INPUT_SHEET = "填报"
SCORE_SHEET = "评分"
LEDGER_SHEET = "台账"
SUMMARY_SHEET = "汇总"
LISTS_SHEET = "_lists"
TEMPLATE_SHEETS = (GUIDE_SHEET, INFO_SHEET, INPUT_SHEET, SCORE_SHEET, LEDGER_SHEET, SUMMARY_SHEET,
                   META_SHEET, LISTS_SHEET)
