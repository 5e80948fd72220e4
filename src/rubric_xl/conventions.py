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
RESULT_NAMES = ("total_points", "grade", "eligible", "provisional")
LEDGER_RESULTS = {"status": "ledger_status", "errors": "ledger_errors", "warnings": "ledger_warnings"}


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
