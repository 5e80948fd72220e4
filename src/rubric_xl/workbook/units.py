"""Lists of reporting units (填报单位) for ``template distribute``."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputFileError, Problem
from .build import clean_unit

BUILTIN_UNITS: dict[str, tuple[str, ...]] = {
    # the 11 prefecture-level cities of Shanxi
    "shanxi-cities": ("太原市", "大同市", "朔州市", "忻州市", "吕梁市", "晋中市", "阳泉市",
                      "长治市", "晋城市", "临汾市", "运城市"),
    # the 16 reporting bodies of 忻政办函〔2024〕15号 (shared/rubrics/xinzhou-2024.md)
    "xinzhou-bodies": ("忻府区", "原平市", "定襄县", "五台县", "代县", "繁峙县", "宁武县", "静乐县",
                       "神池县", "五寨县", "岢岚县", "河曲县", "保德县", "偏关县", "忻州经济开发区",
                       "五台山风景名胜区"),
}


def parse_units(text: str, source: str) -> list[str]:
    """One unit per line; blank lines and ``#`` comments are ignored; a
    duplicate is an error naming both lines."""
    units: list[str] = []
    first_line: dict[str, int] = {}
    problems: list[Problem] = []
    for no, line in enumerate(text.splitlines(), start=1):
        body = line.split("#", 1)[0]
        try:
            unit = clean_unit(body)
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
    """A built-in list by name (``shanxi-cities``, ``xinzhou-bodies``) or a UTF-8 file."""
    if spec in BUILTIN_UNITS:
        return list(BUILTIN_UNITS[spec])
    path = Path(spec)
    builtin = "、".join(BUILTIN_UNITS)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError("找不到单位列表",
                             [Problem(spec, f"既不是内置列表（{builtin}），也不是存在的文件")]) from None
    except IsADirectoryError:
        raise InputFileError("单位列表应为文件", [Problem(spec, "这是一个目录")]) from None
    except OSError as exc:
        raise InputFileError("无法读取单位列表", [Problem(spec, exc.strerror or str(exc))]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError("单位列表编码错误", [Problem(spec, "应为 UTF-8 编码的文本文件，每行一个单位")]) from None
    return parse_units(text, spec)
