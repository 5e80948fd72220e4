"""State shared by the sheet builders while one workbook is generated."""
from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.utils import quote_sheetname
from openpyxl.workbook import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..rules.model import Fact
from ..rules.pack import RulePack
from . import inputs, names
from .layout import WorkbookLayout

LISTS_SHEET = "_lists"


@dataclass
class Ctx:
    wb: Workbook
    pack: RulePack
    layout: WorkbookLayout
    unit: str | None
    prefill: dict[str, str] = field(default_factory=dict)  # fact id -> value written at build
    ledger_rows: int = 500

    def define(self, name: str, ref: str) -> None:
        self.wb.defined_names[name] = DefinedName(name, attr_text=ref)
        self.layout.names[name] = ref

    def validate(self, ws: Worksheet, f: Fact, sqref: str, owner: str, column: bool = False) -> DataValidation:
        """Add *f*'s validation over *sqref*; long option lists go to a hidden sheet."""
        list_ref = None
        if f.type == "enum" and inputs.inline_list(f.options or []) is None:
            list_ref = self._option_list(owner, f.options or [])
        dv = inputs.validation(f, list_ref, column=column, first=sqref.split(":")[0].replace("$", ""))
        dv.add(sqref)
        ws.add_data_validation(dv)
        return dv

    def _option_list(self, owner: str, options: list[str]) -> str:
        name = names.list_name(owner)
        if name in self.layout.names:
            return name
        if LISTS_SHEET in self.wb.sheetnames:
            ws = self.wb[LISTS_SHEET]
        else:
            ws = self.wb.create_sheet(LISTS_SHEET)
            ws.sheet_state = "veryHidden"
        col = ws.max_column + 1 if ws.max_row > 1 or ws.cell(1, 1).value is not None else 1
        ws.cell(1, col, owner)
        for i, opt in enumerate(options, start=2):
            ws.cell(i, col, opt).number_format = "@"
        letter = ws.cell(1, col).column_letter
        self.define(name, f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(options) + 1}")
        return name
