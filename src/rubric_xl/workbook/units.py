"""Lists of reporting units (填报单位) for ``template distribute``."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from .._files import read_text
from ..errors import InputFileError, Problem
from ..rules.model import Fact
from ..rules.pack import RulePack
from ..sheettext import clean_text
from .build import clean_unit

BUILTIN_UNITS: dict[str, tuple[str, ...]] = {
    # the 11 prefecture-level cities of Shanxi
    "shanxi-cities": ("太原市", "大同市", "朔州市", "忻州市", "吕梁市", "晋中市", "阳泉市",
                      "长治市", "晋城市", "临汾市", "运城市"),
    # the 16 reporting bodies of 忻政办函〔2024〕15号 (shared/rubrics/xinzhou-2024.md)
    "xinzhou-bodies": ("忻府区", "原平市", "定襄县", "五台县", "代县", "繁峙县", "宁武县", "静乐县",
                       "神池县", "五寨县", "岢岚县", "河曲县", "保德县", "偏关县", "忻州经济开发区",
                       "五台山风景名胜区"),
    # the 13 reporting bodies of the 长治 2019 违法排污行为大整治 (shared/rubrics/changzhi-2019.md)
    "changzhi-bodies": ("潞州区", "上党区", "屯留区", "潞城区", "襄垣县", "平顺县", "黎城县", "壶关县",
                        "长子县", "武乡县", "沁县", "沁源县", "长治高新区"),
}


def unit_name(text: str | None) -> str | None:
    """A unit name as typed (a file line, ``--unit``) made clean: control
    characters (a vertical tab pasted from Word) become spaces, whitespace is
    collapsed; ``None`` when blank.  Raises :class:`ValueError` (Chinese) for a
    name that is too long or holds invisible format characters such as the
    right-to-left override U+202E, which can disguise a file name."""
    if text is None:
        return None
    unit = clean_unit(clean_text(text))
    if unit is None:
        return None
    hidden = sorted({f"U+{ord(ch):04X}" for ch in unit if unicodedata.category(ch) == "Cf"})
    if hidden:
        raise ValueError(f"单位名称含有不可见的格式控制字符（{'、'.join(hidden)}，如从右到左显示标记），"
                         f"请删去后重新输入：{visible(unit)[:60]}")
    return unit


def visible(text: str) -> str:
    """*text* with each invisible format character shown as ``<U+202E>``."""
    return "".join(f"<U+{ord(ch):04X}>" if unicodedata.category(ch) == "Cf" else ch for ch in text)


MAX_UNITS_BYTES = 2 ** 20  # a list of units is a few kilobytes


def parse_units(text: str, source: str) -> list[str]:
    """One unit per line; blank lines and ``#`` comments are ignored; a
    duplicate is an error naming both lines."""
    units: list[str] = []
    first_line: dict[str, int] = {}
    problems: list[Problem] = []
    # only LF (or CRLF) ends a line: a vertical tab or form feed inside a name is not a new unit
    for no, line in enumerate(text.split("\n"), start=1):
        body = line.split("#", 1)[0]
        try:
            unit = unit_name(body)
        except ValueError as exc:
            problems.append(Problem(f"{source}:{no}", str(exc)))
            continue
        if unit is None:
            continue
        if unit in first_line:
            problems.append(Problem(f"{source}:{no}", f"单位“{unit}”重复（第{first_line[unit]}行已有）"))
            continue
        first_line[unit] = no
        units.append(unit)
    if problems:
        raise InputFileError(f"单位列表有误：{source}", problems)
    if not units:
        raise InputFileError(f"单位列表为空：{source}", [Problem(source, "每行写一个填报单位名称")])
    return units


def load_units(spec: str) -> list[str]:
    """A built-in list by name (``shanxi-cities``, ``xinzhou-bodies``, ``changzhi-bodies``) or a UTF-8 file."""
    if spec in BUILTIN_UNITS:
        return list(BUILTIN_UNITS[spec])
    if not Path(spec).exists():
        builtin = "、".join(BUILTIN_UNITS)
        raise InputFileError("找不到单位列表", [Problem(spec, f"既不是内置列表（{builtin}），也不是存在的文件")])
    return parse_units(read_text(spec, "单位列表", limit=MAX_UNITS_BYTES), spec)


def reporting_bodies(pack: RulePack) -> Fact | None:
    """The pack's reporting-body fact: a top-level enum fact that the ledger's
    roll-ups group by (``reporting_body`` of xinzhou-2024), else ``None``."""
    if pack.model.ledger is None:
        return None
    for g in pack.model.ledger.groupings:
        f = pack.facts.get(g.by) if g.by else None
        if f is not None and f.type == "enum":
            return f
    return None


def check_units(pack: RulePack, units: list[str], source: str) -> None:
    """Every unit must be one of the pack's reporting bodies, when it has them."""
    f = reporting_bodies(pack)
    if f is None:
        return
    options = f.options or []
    bad = [u for u in units if u not in options]
    if bad:
        shown = "、".join(bad[:5]) + ("等" if len(bad) > 5 else "")
        raise InputFileError(
            f"单位列表与规则包不符：{source}",
            [Problem(source, f"{len(bad)} 个单位不是规则包 {pack.id} 的{f.label}（{shown}）；"
                             f"应为以下之一：{'、'.join(options)}")])
