"""State shared by the sheet builders while one workbook is generated."""
from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.utils import quote_sheetname
from openpyxl.workbook import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..conventions import unit_fact
from ..rules.model import Fact
from ..rules.pack import RulePack
from . import inputs, names
from ..layout import WorkbookLayout

LISTS_SHEET = "_lists"


@dataclass
class Ctx:
    wb: Workbook
    pack: RulePack
    layout: WorkbookLayout
    unit: str | None
    prefill: dict[str, str] = field(default_factory=dict)  # fact id -> value written at build
    ledger_rows: int = 500

    @property
    def unit_fact(self) -> Fact | None:
        """The top-level enum fact that names the reporting unit (labelled 填报单位,
        like the 基本信息 row): it is asked once, in the 基本信息 cell, which then
        carries both names (``info_unit`` and the fact id)."""
        return unit_fact(self.pack.model.facts)

    @property
    def date_example(self) -> str | None:
        """A date of the pack itself (its first deadline, else its issue date), the
        example every date hint and message of the template uses."""
        m = self.pack.model
        day = m.deadlines[0].date if m.deadlines else m.source.issued
        return day.isoformat() if day else None

    def date_error(self, dv: DataValidation) -> DataValidation:
        """*dv*'s error message with this pack's own date example."""
        if dv.type == "date":
            example = f"（如 {self.date_example}）" if self.date_example else ""
            dv.error = f"请输入日期，格式 YYYY-MM-DD{example}。"
        return dv

    def define(self, name: str, ref: str) -> None:
        self.wb.defined_names[name] = DefinedName(name, attr_text=ref)
        self.layout.names[name] = ref

    def validate(self, ws: Worksheet, f: Fact, sqref: str, owner: str, column: bool = False) -> DataValidation:
        """Add *f*'s validation over *sqref*; long option lists go to a hidden sheet."""
        list_ref = None
        if f.type == "enum" and inputs.inline_list(f.options or []) is None:
            list_ref = self._option_list(owner, f.options or [])
        dv = self.date_error(inputs.validation(f, list_ref, column=column, first=sqref.split(":")[0].replace("$", "")))
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
