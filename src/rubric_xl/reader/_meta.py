"""The one parser of a ``_meta`` sheet's rows (docs/ARCHITECTURE.md, sheet 6).

The reader (python-calamine rows), the template filler (openpyxl rows) and the
add-in (the rows Office.js sends) all turn the key/value rows into a mapping
here, so a number, a stray space or a repeated key means the same everywhere.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from ..conventions import META_KEYS
from .._decimal import plain
from ._cells import float_decimal

ROW_KEYS = META_KEYS + ("fingerprint",)  # every key a template writes to _meta
REQUIRED = ("pack_id", "pack_hash")


def cell_text(v: Any) -> str:
    """A cell value as trimmed text; a whole number without ``.0``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        d = float_decimal(v)
        return plain(d)
    return str(v).strip() if v is not None else ""


def parse_meta_rows(rows: Iterable[Sequence[Any]]) -> dict[str, str]:
    """Key in column A, value in column B; unknown keys are ignored and the
    first row of a key wins (a later row cannot override the pack)."""
    meta: dict[str, str] = {}
    for row in rows:
        if not row:
            continue
        key = cell_text(row[0])
        if key in ROW_KEYS and key not in meta:
            meta[key] = cell_text(row[1]) if len(row) > 1 else ""
    return meta


def missing_keys(meta: dict[str, str]) -> list[str]:
    """The required keys (pack_id, pack_hash) that are absent or blank."""
    return [k for k in REQUIRED if not (meta.get(k) or "").strip()]
