"""The rule-pack schema: what a ``rules/*.yaml`` file may say.

Pure data, validated by pydantic.  Cross-references (fact ids, categories,
expressions) are checked afterwards by :mod:`rubric_xl.rules.pack`, which has
the whole pack in view.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Annotated, Literal, Optional, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

# --- the one numeric bound -----------------------------------------------------
# Every number rubric-xl accepts — a fact value (facts file, workbook cell,
# add-in) or a pack's threshold, step or range — is finite, smaller than 10^15
# in absolute value (Excel holds 15 significant digits) and has at most 28
# significant digits and no digit below 10^-28 (the decimal context's
# precision): exact in the score path, never a silent rounding.
MAX_DIGITS = 28
PACK_PLACES = 6  # decimal places of a pack's thresholds, steps and ranges


def number_problem(d: Decimal, places: int = MAX_DIGITS) -> str | None:
    """``None`` when *d* is within the bound, else the Chinese reason."""
    # no arithmetic on d: 1e999999999 would overflow the decimal context
    if not d.is_finite():
        return "应为有限的数值"
    if d.is_zero():
        return None
    if d.adjusted() >= 15:
        return "超出范围（绝对值应小于 10^15，即 1000000000000000）"
    _, digits, exponent = d.as_tuple()
    zeros = len(digits) - len(bytes(digits).rstrip(b"\0"))
    if len(digits) - zeros > MAX_DIGITS:
        return f"有效数字过多（{len(digits) - zeros} 位，最多 {MAX_DIGITS} 位），格式错误"
    if exponent + zeros < -places:
        return f"小数位数过多（最多 {places} 位），格式错误"
    return None


def _bounded(d: Decimal) -> Decimal:
    why = number_problem(d, PACK_PLACES)
    if why:
        raise ValueError(f"{why}，实际为 {_show_number(d)}")
    return d


def _show_number(d: Decimal) -> str:
    text = str(d)
    return text if len(text) <= 24 else text[:20] + f"…（共 {len(text)} 个字符）"


ID = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Points = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Number = Annotated[Decimal, AfterValidator(_bounded)]
Expr = Annotated[str, Field(min_length=1)]


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --- facts -----------------------------------------------------------------

FactType = Literal["bool", "int", "decimal", "percent", "date", "enum", "text", "table"]


class Fact(_Base):
    """An input: one cell of the submission workbook, one key of a facts file."""

    id: ID
    label: str = Field(min_length=1, description="Chinese label shown to the user")
    type: FactType
    unit: Optional[str] = None
    hint: Optional[str] = None
    min: Optional[Number] = None
    max: Optional[Number] = None
    options: Optional[list[str]] = None
    # For dates: blank is a valid answer meaning 未报 (not submitted).
    # For table columns: blank is allowed (the column is optional).
    blank_allowed: bool = False
    blank_label: Optional[str] = None  # e.g. 未报
    required: bool = True  # table columns: a blank required cell is a row error
    default: Optional[Union[bool, Number, str]] = None  # table columns only
    columns: Optional[list["Fact"]] = None  # table facts only

    @field_validator("default", mode="before")
    @classmethod
    def _number_default(cls, v):
        # YAML 0 / 1 is a number, not 否 / 是 (bool would win the union otherwise)
        return Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @model_validator(mode="after")
    def _shape(self) -> "Fact":
        if self.type == "enum":
            if not self.options:
                raise ValueError("enum 类型必须给出 options（可选值列表）")
            if len(set(self.options)) != len(self.options):
                raise ValueError("options 中有重复的可选值")
        elif self.options is not None:
            raise ValueError("只有 enum 类型可以有 options")
        if self.type == "table":
            if not self.columns:
                raise ValueError("table 类型必须给出 columns（列定义）")
            if any(c.type == "table" for c in self.columns):
                raise ValueError("表格的列不能再是表格")
        elif self.columns is not None:
            raise ValueError("只有 table 类型可以有 columns")
        if self.type == "percent":
            lo = self.min if self.min is not None else Decimal(0)
            hi = self.max if self.max is not None else Decimal(100)
            if lo < 0 or hi > 100:
                raise ValueError("百分比的范围必须在 0–100 之内")
        if self.type == "int" and self.min is None:
            object.__setattr__(self, "min", Decimal(0))
        if (self.min is not None or self.max is not None) and self.type not in ("int", "decimal", "percent"):
            raise ValueError("min/max 只适用于数值类型")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min 大于 max")
        return self


    def bounds(self) -> tuple[Optional[Decimal], Optional[Decimal]]:
        """The allowed range of a numeric fact; percentages are 0–100 unless narrowed."""
        lo, hi = self.min, self.max
        if self.type == "percent":
            lo = Decimal(0) if lo is None else lo
            hi = Decimal(100) if hi is None else hi
        return lo, hi


class Derived(_Base):
    """A value computed from facts, usable in expressions like a fact."""

    id: ID
    label: str
    expr: Expr
    unit: Optional[str] = None


class Deadline(_Base):
    id: ID
    date: _dt.date
    label: str
    note: Optional[str] = None


# --- scoring rules -----------------------------------------------------------

Partial = Literal["ceil", "floor", "prorate"]


class _Rule(_Base):
    explain: Optional[str] = None  # template, see rubric_xl.engine.explain
    reason: Optional[str] = None  # short Chinese reason used by default templates
    cap: Optional[Points] = None  # most this rule may add or take


class FlatRule(_Rule):
    """``when`` holds → ``points`` (e.g. 未执行会议制度扣1分)."""

    kind: Literal["flat"]
    when: Expr
    points: Points


class PerUnitRule(_Rule):
    """``points`` for each unit of ``count`` (e.g. 漏报一个扣0.2分)."""

    kind: Literal["per_unit"]
    count: Expr
    points: Points
    unit: str = "项"
    when: Optional[Expr] = None


class StepRule(_Rule):
    """Steps of ``step`` below (deduction) or above (bonus) ``threshold``."""

    kind: Literal["step"]
    value: Expr
    threshold: Number
    step: Annotated[Number, Field(gt=0)]
    points: Points
    partial: Optional[Partial] = None  # default: ceil for deductions, floor for bonuses
    unit: str = ""


class LateRule(_Rule):
    """Any of ``dates`` after ``deadline`` → ``points`` once (逾期扣分)."""

    kind: Literal["late"]
    dates: list[ID] = Field(min_length=1)
    deadline: ID  # a deadline id of the pack
    points: Points


Deduction = Annotated[Union[FlatRule, PerUnitRule, StepRule, LateRule], Field(discriminator="kind")]
Bonus = Annotated[Union[FlatRule, PerUnitRule, StepRule], Field(discriminator="kind")]


class ZeroIf(_Base):
    """``when`` holds → the item scores 0 (不得分), optionally with a flag."""

    when: Expr
    reason: str
    flag: Optional[str] = None


class Tiers(_Base):
    """Base points chosen by an enum fact (一级 2分、二级 1.5分 …)."""

    value: ID
    points: dict[str, Points]


class Item(_Base):
    id: Annotated[str, Field(pattern=r"^[0-9A-Za-z_.-]+$")]
    category: str
    title: str
    max: Points
    criteria: str = Field(description="the rubric's own wording (评分细则)")
    evidence: str = Field(description="依据")
    standard: Optional[str] = None  # 考核标准, when it differs from the title
    zero_if: list[ZeroIf] = []
    deductions: list[Deduction] = []
    bonuses: list[Bonus] = []
    tiers: Optional[Tiers] = None
    floor: bool = True  # 扣完为止
    note: Optional[str] = None  # interpretation recorded for the reader

    @model_validator(mode="after")
    def _tiers_within_max(self) -> "Item":
        if self.tiers and max(self.tiers.points.values()) != self.max:
            raise ValueError("tiers 中的最高分必须等于 max")
        for d in self.deductions:
            if isinstance(d, StepRule) and d.partial is None:
                object.__setattr__(d, "partial", "ceil")
        for b in self.bonuses:
            if isinstance(b, StepRule) and b.partial is None:
                object.__setattr__(b, "partial", "floor")
        return self


class Category(_Base):
    name: str
    cap: Points  # must equal the sum of its items' max
    bonus_only: bool = False  # 加分项: no base points, uncapped unless rules cap


class Grade(_Base):
    name: str
    min: Optional[Number] = None  # inclusive lower bound; None = everything below


class Eligibility(_Base):
    label: str
    grades: list[str] = Field(min_length=1)
    basis: Optional[str] = None


class Parameter(_Base):
    """A pack setting usable in any expression by id: a number constant."""

    id: ID
    label: str = Field(min_length=1)
    value: Number
    unit: Optional[str] = None


class Settings(_Base):
    grades: list[Grade] = []
    eligibility: Optional[Eligibility] = None
    parameters: list[Parameter] = []


# --- ledgers -----------------------------------------------------------------


class RowStatus(_Base):
    name: str
    when: Expr


class RowCheck(_Base):
    id: ID
    level: Literal["error", "warning"]
    when: Expr  # the problem is present when this holds
    message: str
    columns: list[ID] = []  # the cells to point at


class SubmissionCheck(_Base):
    """A check of the whole submission (a ledger pack's top-level ``checks:``):
    the problem is present when ``when`` holds over top-level facts, top-level
    derived values, deadlines and parameters (e.g. 逾期报送)."""

    id: ID
    level: Literal["error", "warning"]
    when: Expr
    message: str = Field(min_length=1)


class DecisionRule(_Base):
    value: str = Field(min_length=1)
    when: Expr


class Decision(_Base):
    """A text value of the row: the value of the first rule that holds (the
    last rule must be ``"true"``)."""

    id: ID
    label: str = Field(min_length=1)
    rules: list[DecisionRule] = Field(min_length=1)


_METRIC_FIELDS = {"count": (), "sum": ("value",), "rate": ("numerator", "denominator"),
                  "all": ("where",), "none": ("where",), "expr": ("expr",), "facts_sum": ("value",)}


class Metric(_Base):
    id: ID
    label: str
    kind: Literal["count", "sum", "rate", "all", "none", "expr", "facts_sum"]
    where: Optional[Expr] = None  # count/sum/all/none: the row condition
    value: Optional[Expr] = None  # sum: the row value; facts_sum: a top-level number fact's id
    numerator: Optional[ID] = None  # rate: metric ids
    denominator: Optional[ID] = None
    expr: Optional[Expr] = None  # expr: over earlier metrics, top-level facts, derived values, parameters

    @model_validator(mode="after")
    def _fields(self) -> "Metric":
        need = _METRIC_FIELDS[self.kind]
        for name in need:
            if getattr(self, name) is None:
                raise ValueError(f"{self.kind} 指标必须给出 {name}")
        allowed = set(need) | ({"where"} if self.kind in ("count", "sum") else set())
        for name in ("where", "value", "numerator", "denominator", "expr"):
            if getattr(self, name) is not None and name not in allowed:
                raise ValueError(f"{self.kind} 指标不能有 {name}")
        return self


class RankKey(_Base):
    metric: ID
    order: Literal["asc", "desc"] = "desc"


class Grouping(_Base):
    by: Optional[ID] = None  # a column, a decision, status or a top-level fact; None = overall
    label: str
    total_label: Optional[str] = None  # label of the all-groups line
    all_options: bool = False  # list every option of the enum, also the empty ones
    empty_label: Optional[str] = None  # shown for a group without rows (all_options)
    rank: list[RankKey] = []  # ranking of the groups (a grouping by a top-level fact)
    flag: Optional[ID] = None  # a yes/no metric: groups where it holds are listed per reporting body


class Ledger(_Base):
    table: ID
    key: ID  # the column naming a row (e.g. enterprise_name)
    derived: list[Derived] = []
    decisions: list[Decision] = []
    statuses: list[RowStatus] = Field(min_length=1)
    checks: list[RowCheck] = []
    metrics: list[Metric] = []
    groupings: list[Grouping] = []


# --- the pack ----------------------------------------------------------------


class Source(_Base):
    document: str
    title: str
    issued: Optional[_dt.date] = None
    url: Optional[str] = None


class Pack(_Base):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    title: str
    version: str
    kind: Literal["rubric", "ledger"] = "rubric"
    source: Source
    notes: list[str] = []
    discrepancies: list[str] = []
    total: Optional[Points] = None  # declared base total (e.g. 100)
    categories: list[Category] = []
    facts: list[Fact] = Field(min_length=1)
    derived: list[Derived] = []
    deadlines: list[Deadline] = []
    items: list[Item] = []
    settings: Settings = Settings()
    ledger: Optional[Ledger] = None  # one table; the first of ``ledgers`` when that is given
    ledgers: list[Ledger] = []  # two or more tables (each one ``ledger:`` section)
    checks: list[SubmissionCheck] = []  # ledger packs: checks of the whole submission (top-level values)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v):
        return str(v) if isinstance(v, (int, Decimal)) else v

    @model_validator(mode="after")
    def _kind(self) -> "Pack":
        if self.kind == "rubric" and not self.items:
            raise ValueError("评分类规则包（kind: rubric）必须有 items")
        if self.ledger is not None and self.ledgers:
            raise ValueError("ledger 与 ledgers 只能写一个（多张台账表请都写在 ledgers 中）")
        if self.ledgers:
            object.__setattr__(self, "ledger", self.ledgers[0])
        elif self.ledger is not None:
            object.__setattr__(self, "ledgers", [self.ledger])
        if self.kind == "ledger" and self.ledger is None:
            raise ValueError("台账类规则包（kind: ledger）必须有 ledger 或 ledgers 部分")
        if self.checks and self.kind != "ledger":
            raise ValueError("顶层的 checks（报送检查）只适用于台账类规则包（kind: ledger）")
        return self
