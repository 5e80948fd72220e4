"""Where everything sits in a generated workbook (the *layout* object).

:func:`rubric_xl.workbook.build_template` returns a :class:`WorkbookLayout`
alongside the workbook; :func:`rubric_xl.formulas.write_formulas` passes it
to the formula compiler.  Addresses are 1-based rows and columns plus helpers
for A1 text, so a consumer never has to re-derive positions from the pack.
Plain data below every executor, so the formula writer can name its type
without importing the workbook builder.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter, quote_sheetname


@dataclass(frozen=True)
class CellRef:
    """One cell: ``sheet``, 1-based ``row`` and ``col``."""

    sheet: str
    row: int
    col: int

    @property
    def column(self) -> str:
        return get_column_letter(self.col)

    @property
    def coord(self) -> str:
        """``D12``"""
        return f"{self.column}{self.row}"

    @property
    def absolute(self) -> str:
        """``'填报'!$D$12`` (the text of a defined name)."""
        return f"{quote_sheetname(self.sheet)}!${self.column}${self.row}"


@dataclass(frozen=True)
class RangeRef:
    """A one-column block of cells: rows ``first_row``..``last_row`` of ``col``."""

    sheet: str
    col: int
    first_row: int
    last_row: int

    @property
    def column(self) -> str:
        return get_column_letter(self.col)

    @property
    def coord(self) -> str:
        """``F3:F502``"""
        return f"{self.column}{self.first_row}:{self.column}{self.last_row}"

    @property
    def absolute(self) -> str:
        """``'台账'!$F$3:$F$502``"""
        c = self.column
        return f"{quote_sheetname(self.sheet)}!${c}${self.first_row}:${c}${self.last_row}"

    def cell(self, index: int) -> CellRef:
        """The *index*-th cell (0-based) of the range."""
        return CellRef(self.sheet, self.first_row + index, self.col)


@dataclass(frozen=True)
class ItemLayout:
    """One row of the 评分 sheet (row 4 + position in pack order)."""

    id: str
    row: int
    category_index: int  # 1-based, as in category_<n>_points
    max: CellRef  # D: 分值 (a number written by the generator)
    points: CellRef  # G: 得分, defined name item_<id>_points
    explain: CellRef  # H: 扣分说明, defined name item_<id>_explain
    points_name: str
    explain_name: str
    facts: tuple[str, ...]  # the facts the item reads (inputs, in pack order)


@dataclass(frozen=True)
class CategoryLayout:
    """One line of the category block below the items on 评分."""

    index: int  # 1-based, pack order
    name: str
    row: int
    max: CellRef  # D: the category cap (number written by the generator)
    points: CellRef  # G: defined name category_<n>_points
    points_name: str
    bonus_only: bool
    item_ids: tuple[str, ...]


@dataclass(frozen=True)
class ColumnLayout:
    """One column of a ledger table: its data cells and its defined name."""

    id: str
    label: str  # the Chinese header text in row 2
    type: str  # fact type of the column ("result" for status/errors/warnings)
    data: RangeRef  # the data cells, header excluded
    name: str  # the workbook-scoped defined name over ``data``

    @property
    def header(self) -> CellRef:
        return CellRef(self.data.sheet, self.data.first_row - 1, self.data.col)


@dataclass(frozen=True)
class TableLayout:
    """One Excel table on 台账 (one per table fact)."""

    fact_id: str
    sheet: str
    table_name: str  # the Excel table's displayName (= the fact id)
    header_row: int  # 2
    first_row: int  # 3
    last_row: int  # first_row + rows - 1
    first_col: int
    last_col: int  # includes the result columns
    columns: dict[str, ColumnLayout]  # row facts, pack order
    # Result columns reserved for the formula compiler, inside the Excel table
    # after the input columns: keys "status" (状态), "errors" (错误),
    # "warnings" (警告); defined names ledger_status / ledger_errors /
    # ledger_warnings (``conventions.ledger_result_name``: a further ledger
    # table's are ledger_status__<table> …).  Only scored tables have them.
    results: dict[str, ColumnLayout] = field(default_factory=dict)
    # Hidden helper columns right after the results, outside the Excel table
    # (keys "reasons1" …): a wide table's 有误 reasons, which its errors
    # formula joins (formulas/_ledger.py reason_columns); usually none.
    helpers: dict[str, ColumnLayout] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """The table's A1 range, header row included (``B2:T502``)."""
        return (f"{get_column_letter(self.first_col)}{self.header_row}:"
                f"{get_column_letter(self.last_col)}{self.last_row}")

    @property
    def rows(self) -> int:
        return self.last_row - self.first_row + 1


@dataclass(frozen=True)
class SummaryBlock:
    """One grouping of the ledger's roll-ups on the 汇总 sheet.

    ``group_rows`` lists ``(key, row)``: for a grouping by an enum column, one
    row per option (key = the option text; key ``""`` = blank cells, when the
    column may be blank); for a grouping by a top-level fact, one row with key
    ``None`` meaning "this submission's value of that fact" (column A is left
    empty for a formula such as ``=reporting_body``); for a grouping by any
    other column, no rows (groups are not known in advance).  ``total_row`` is
    the all-groups line (``None`` when the grouping has none).  Metric values go
    in ``metric_cols[metric_id]`` on each of those rows; column A holds the
    group label.
    """

    index: int  # 0-based position in the groupings of its ledger
    by: str | None
    by_kind: str | None  # "column" | "fact" | "decision" | "status" | None (overall)
    label: str
    title_row: int
    header_row: int
    metric_cols: dict[str, int]  # metric id -> column number
    group_rows: list[tuple[str | None, int]]
    total_row: int | None
    table: str | None = None  # the ledger's table fact (None: the pack's first ledger)


@dataclass
class WorkbookLayout:
    """Every address a generated workbook promises, by purpose.

    * ``info``: ``info_unit`` / ``info_filler`` / ``info_phone`` / ``info_date``
      → the cells on 基本信息.
    * ``inputs``: fact id → its input cell on 填报 (every non-table fact; the
      defined name equals the fact id) — except a top-level enum fact labelled
      填报单位, whose cell is 基本信息's ``info_unit`` cell (asked once).
    * ``items`` (rubric packs): item id → :class:`ItemLayout`, pack order.
    * ``categories``: :class:`CategoryLayout` list, pack order (n = 1…).
    * ``total`` / ``total_max`` / ``grade`` / ``eligible`` / ``provisional``:
      the result cells on 评分 (``total_max`` holds the declared total as a
      number; the others are empty until formulas are written).  ``eligible``
      is ``None`` when the pack has no eligibility setting — the cell and its
      name still exist then, and stay empty.
    * ``tables`` (ledger packs): table fact id → :class:`TableLayout`;
      ``ledger_table`` is the id of the (first) scored table, ``ledger_tables``
      every scored table in pack order.  A pack with one ledger has one 台账
      sheet; a pack with several (``ledgers:``) has one sheet per table fact,
      named by the table's label, each with its own result columns.
    * ``summary_sheet`` / ``summary``: the 汇总 sheet and its blocks.
    * ``names``: every defined name the generator created → its reference text
      (``'填报'!$D$12``), including the hidden option lists ``_list_*``.
    """

    pack_id: str
    kind: str  # "rubric" | "ledger"
    input_sheet: str = "填报"
    score_sheet: str | None = None
    ledger_sheet: str | None = None
    summary_sheet: str | None = None
    info: dict[str, CellRef] = field(default_factory=dict)
    inputs: dict[str, CellRef] = field(default_factory=dict)
    items: dict[str, ItemLayout] = field(default_factory=dict)
    categories: list[CategoryLayout] = field(default_factory=list)
    total: CellRef | None = None
    total_max: CellRef | None = None
    grade: CellRef | None = None
    eligible: CellRef | None = None
    provisional: CellRef | None = None
    tables: dict[str, TableLayout] = field(default_factory=dict)
    ledger_table: str | None = None
    ledger_tables: list[str] = field(default_factory=list)  # every scored table, pack order
    summary: list[SummaryBlock] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
