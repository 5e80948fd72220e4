"""Defined names of the workbook conventions (docs/ARCHITECTURE.md), for the
sheet builders: the names themselves live in ``conventions``, the check that a
pack's ids can become Excel names in ``rules.names``."""
from __future__ import annotations

from ..conventions import (  # noqa: F401  (re-exported for the sheet builders)
    INFO_NAMES, LEDGER_RESULTS, RESULT_NAMES, category_points_name, column_name, ledger_result_name,
    item_explain_name, item_points_name, list_name,
)
from ..rules.names import check_pack_names  # noqa: F401  (re-exported for the template builder)
