"""Defined-name rules of the workbook conventions (docs/ARCHITECTURE.md).

The check that a pack's ids can all become Excel names (``abc1`` cannot: it is
cell ABC1) and do not collide with the names every executor agrees on
(``conventions``).  It sits in the rules layer so the formula compiler and the
workbook builder both use it without importing each other.
"""
from __future__ import annotations

import re

from ..conventions import (
    INFO_NAMES, LEDGER_RESULTS, RESULT_NAMES, STARTED_NAME, category_points_name, column_name,
    item_explain_name, item_points_name,
)
from ..errors import PackError, Problem
from .pack import RulePack

_NAME = re.compile(r"^[A-Za-z_\\][A-Za-z0-9_.]{0,254}$")
_A1 = re.compile(r"^([A-Za-z]{1,3})([0-9]+)$")
_R1C1 = re.compile(r"^([Rr][0-9]*)?([Cc][0-9]*)?$")


def _column_index(letters: str) -> int:
    """``A`` → 1, ``XFD`` → 16384 (letters only, as matched by ``_A1``)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - ord("A") + 1
    return n


def why_invalid(name: str) -> str | None:
    """``None`` when *name* is a valid Excel defined name, else the reason in Chinese."""
    if not _NAME.match(name):
        return "只能由字母、数字、下划线和点组成，且不能以数字开头"
    m = _A1.match(name)
    if m:
        col = _column_index(m.group(1))
        if 1 <= col <= 16384 and 1 <= int(m.group(2)) <= 1048576:
            return f"与单元格地址 {name.upper()} 相同"
    if _R1C1.match(name):
        return "与 R1C1 样式的单元格地址相同"
    return None


def check_pack_names(pack: RulePack) -> None:
    """Raise :class:`PackError` when the pack's ids cannot all become Excel names,
    or when two names would collide."""
    problems: list[Problem] = []
    taken: dict[str, str] = {}

    def claim(name: str, what: str) -> None:
        reason = why_invalid(name)
        if reason:
            problems.append(Problem(f"{pack.source}: {what}", f"{name!r} 不能用作 Excel 名称：{reason}"))
        elif name.lower() in taken:
            problems.append(Problem(f"{pack.source}: {what}",
                                    f"Excel 名称 {name!r} 与{taken[name.lower()]}重复（名称不区分大小写）"))
        else:
            taken[name.lower()] = what

    for n in INFO_NAMES:
        taken[n] = "基本信息的名称"
    if pack.model.kind == "rubric":
        for n in RESULT_NAMES:
            taken[n] = "评分结果的名称"
        taken[STARTED_NAME] = "评分结果的名称"
        for i, _ in enumerate(pack.model.categories, start=1):
            taken[category_points_name(i)] = "类别得分的名称"
        for ci in pack.items:
            claim(item_points_name(ci.id), f"评分项 {ci.id}")
            claim(item_explain_name(ci.id), f"评分项 {ci.id}")
    if pack.ledger is not None:
        for n in LEDGER_RESULTS.values():
            taken[n] = "台账结果列的名称"
    for f in pack.model.facts:
        claim(f.id, f"事实 {f.id}")
        for c in f.columns or []:
            claim(column_name(f.id, c.id), f"表格 {f.id} 的列 {c.id}")
    if problems:
        raise PackError(f"规则包不能生成填报模板：{pack.source}", problems)
