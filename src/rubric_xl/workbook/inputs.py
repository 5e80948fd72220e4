"""Per-type behaviour of an input cell: the Chinese hint, the number format and
the data validation that blocks invalid typing (``showErrorMessage=True``)."""
from __future__ import annotations

from decimal import Decimal

from openpyxl.worksheet.datavalidation import DataValidation

from ..rules.contract import PERCENT_AMBIGUOUS
from ..rules.model import Fact
from .._decimal import plain

MAX_INLINE_LIST = 255  # characters of an inline list validation
MAX_TEXT = 255
DATE_MIN, DATE_MAX = 1, 2958465  # 1900-01-01 … 9999-12-31 as Excel serials

FORMATS = {"int": "0", "decimal": "General", "percent": "General", "date": "yyyy-mm-dd",
           "bool": "@", "enum": "@", "text": "@"}


def _range_text(lo: Decimal | None, hi: Decimal | None) -> str:
    if lo is not None and hi is not None:
        return f"{plain(lo)}–{plain(hi)}"
    if lo is not None:
        return f"≥{plain(lo)}"
    if hi is not None:
        return f"≤{plain(hi)}"
    return ""


def inline_list(options: list[str]) -> str | None:
    """The inline list text, or ``None`` when a hidden list range is needed."""
    if any("," in o or '"' in o for o in options):
        return None
    text = ",".join(options)
    return text if len(text) <= MAX_INLINE_LIST else None


def type_hint(f: Fact, column: bool = False) -> str:
    """What to type, in Chinese, derived from the fact's type (plus its own hint)."""
    t = f.type
    lo, hi = f.bounds()
    if t == "bool":
        text = "是/否（下拉选择）"
    elif t == "int":
        r = _range_text(lo, hi)
        text = f"整数，{r}" if r else "整数"
    elif t == "decimal":
        r = _range_text(lo, hi)
        text = f"数值，{r}，可有小数" if r else "数值，可有小数"
    elif t == "percent":
        if (lo, hi) == (0, 100):
            text = "0–100 的百分数（如 93.5 表示 93.5%，不带 % 号）"
        else:
            text = f"{plain(lo)}–{plain(hi)} 的百分数（不带 % 号）"
    elif t == "date":
        text = "日期 YYYY-MM-DD"
    elif t == "enum":
        opts = f.options or []
        text = "下拉选择：" + "、".join(opts) if len(opts) <= 8 else f"下拉选择（共 {len(opts)} 项）"
    else:
        text = "文字"
    blank = _blank_hint(f, column)
    if blank:
        text += "，" + blank
    if f.hint:
        text += "；" + f.hint
    return text


def _blank_hint(f: Fact, column: bool) -> str:
    if column:
        if f.default is not None:
            shown = ("是" if f.default else "否") if isinstance(f.default, bool) else str(f.default)
            return f"留空按“{shown}”计"
        if f.blank_allowed or not f.required:
            return f"可留空（{f.blank_label}）" if f.blank_label else "可留空"
        return "必填"
    if f.type == "date" and f.blank_allowed:
        return f"留空表示{f.blank_label or '未报'}"
    if f.blank_allowed:
        return f"可留空（{f.blank_label}）" if f.blank_label else "可留空"
    return ""


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validation(f: Fact, list_ref: str | None = None, column: bool = False,
               first: str | None = None) -> DataValidation:
    """A data validation for *f*'s cells.  *list_ref* is the defined name of a
    hidden option list when the inline list is too long; *column* marks a ledger
    column (its blank rule differs); *first* is the top-left cell of the range
    (``D12``): a percentage then also refuses what a typed "95%" becomes (0.95),
    as the input contract does (rules/contract.py)."""
    t = f.type
    lo, hi = f.bounds()
    label = f.label
    kw: dict = {}
    if t == "bool":
        kw = dict(type="list", formula1='"是,否"')
        error = "只能填“是”或“否”，请从下拉列表选择。"
    elif t == "enum":
        inline = inline_list(f.options or [])
        kw = dict(type="list", formula1=f'"{inline}"' if inline is not None else list_ref)
        error = "只能从下拉列表中选择：" + "、".join(f.options or [])
    elif t in ("int", "decimal", "percent"):
        kind = "whole" if t == "int" else "decimal"
        what = {"int": "整数", "decimal": "数值", "percent": "百分数（0–100 的数字，不带 % 号）"}[t]
        if lo is not None and hi is not None:
            kw = dict(type=kind, operator="between", formula1=plain(lo), formula2=plain(hi))
            error = f"请输入 {plain(lo)} 到 {plain(hi)} 之间的{what}。"
        elif lo is not None:
            kw = dict(type=kind, operator="greaterThanOrEqual", formula1=plain(lo))
            error = f"请输入不小于 {plain(lo)} 的{what}。"
        elif hi is not None:
            kw = dict(type=kind, operator="lessThanOrEqual", formula1=plain(hi))
            error = f"请输入不大于 {plain(hi)} 的{what}。"
        else:  # any number: a range wide enough for every real answer
            kw = dict(type=kind, operator="between", formula1="-1E+15", formula2="1E+15")
            error = f"请输入{what}。"
        if t == "percent" and first and lo is not None and hi is not None:
            a, b = (plain(x) for x in PERCENT_AMBIGUOUS)
            kw = dict(type="custom", formula1=(f"AND(ISNUMBER({first}),{first}>={plain(lo)},{first}<={plain(hi)},"
                                               f"NOT(AND({first}>{a},{first}<={b})))"))
            error = (f"请输入 {plain(lo)} 到 {plain(hi)} 之间的数字，不带 % 号（95% 填 95）；"
                     f"大于 {a}、不大于 {b} 的数会被当作误带了 % 号。")
    elif t == "date":
        kw = dict(type="date", operator="between", formula1=str(DATE_MIN), formula2=str(DATE_MAX))
        error = "请输入日期，格式 YYYY-MM-DD。"
    else:
        kw = dict(type="textLength", operator="lessThanOrEqual", formula1=str(MAX_TEXT))
        error = f"文字不能超过 {MAX_TEXT} 个字。"
    dv = DataValidation(allow_blank=True, showErrorMessage=True, showInputMessage=True,
                        errorStyle="stop", **kw)
    dv.errorTitle = _short(f"{label}：输入无效", 32)
    dv.error = _short(error, 255)
    dv.promptTitle = _short(label, 32)
    dv.prompt = _short(type_hint(f, column=column), 255)
    return dv


def text_validation(title: str, prompt: str, max_len: int = 100) -> DataValidation:
    dv = DataValidation(type="textLength", operator="lessThanOrEqual", formula1=str(max_len),
                        allow_blank=True, showErrorMessage=True, showInputMessage=True, errorStyle="stop")
    dv.errorTitle = _short(f"{title}：输入无效", 32)
    dv.error = f"不能超过 {max_len} 个字。"
    dv.promptTitle = _short(title, 32)
    dv.prompt = _short(prompt, 255)
    return dv


def date_validation(title: str, prompt: str) -> DataValidation:
    dv = DataValidation(type="date", operator="between", formula1=str(DATE_MIN), formula2=str(DATE_MAX),
                        allow_blank=True, showErrorMessage=True, showInputMessage=True, errorStyle="stop")
    dv.errorTitle = _short(f"{title}：输入无效", 32)
    dv.error = "请输入日期，格式 YYYY-MM-DD。"
    dv.promptTitle = _short(title, 32)
    dv.prompt = _short(prompt, 255)
    return dv
