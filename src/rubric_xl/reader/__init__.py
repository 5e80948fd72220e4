"""Read facts back out of a submission workbook.

The file is read once into a snapshot (:class:`Workbook`: names, sheets,
``_meta``, and each sheet read checked in one pass, its formula cells, error
values and cells); everything after interprets it.  Plainly written cells are
decoded from the checked XML as python-calamine would return them
(:mod:`._values`); calamine, the reference, reads any sheet that is not.  Inputs are found
by defined name, so moved rows, renamed sheets and reordered ledger columns
still read correctly.  Nothing in the workbook is ever executed (macros in
``.xlsm`` files are not run) and the file is never written.

Public API::

    reading = read_workbook("县甲.xlsx")            # pack found from _meta
    reading.pack, reading.submission.raw, reading.problems
    pack, values, problems = extract_facts("县甲.xlsx")  # converted facts
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..conventions import column_name
from ..engine.facts import read_facts
from ..errors import FactsError, InputFileError, Problem
from ..rules import RulePack
from ._container import Workbook, open_workbook
from ._submission import META_SHEET, Submission, read_meta, read_submission
from ..rules.catalog import PackMatch, default_dirs, find_pack, load_cached

__all__ = ["read_workbook", "extract_facts", "Reading", "Submission", "Workbook",
           "open_workbook", "read_meta", "read_submission", "find_pack", "PackMatch",
           "default_dirs", "load_cached", "resolve_pack"]


@dataclass
class Reading:
    """One workbook read against its pack."""

    file: str
    book: Workbook
    meta: dict[str, str]
    pack: RulePack
    submission: Submission
    problems: list[Problem] = field(default_factory=list)  # reading + pack problems


TEMPLATE_VERSIONS = {"1"}  # workbook conventions this reader understands (docs/ARCHITECTURE.md)


def _fail(file: str, msg: str, extra: list[Problem] | None = None) -> InputFileError:
    return InputFileError(f"无法评分：{file}", [Problem(file, msg)] + list(extra or []))


def _has_fact_names(book: Workbook, pack: RulePack) -> bool:
    for f in pack.model.facts:
        names = [column_name(f.id, c.id) for c in f.columns or []] if f.type == "table" else [f.id]
        if any(book.name(n) is not None for n in names):
            return True
    return False


_FOUND: dict[tuple, tuple[Path, float, RulePack]] = {}  # -> the file that held exactly that pack


def _find(pack_id: str, pack_hash: str | None, folder: list[Path]) -> tuple[PackMatch | None, list]:
    """:func:`find_pack` in *folder* and the default folders, remembered for a
    batch: a file found holding exactly the pack asked for (same content hash)
    is taken again while it is unchanged (same modification time); anything
    else is searched anew."""
    key = (pack_id, pack_hash, tuple(folder), os.getcwd())
    hit = _FOUND.get(key) if pack_hash else None
    if hit is not None:
        path, mtime, pack = hit
        try:
            if os.stat(path).st_mtime == mtime:
                return PackMatch(pack, path, True), []
        except OSError:
            pass
        _FOUND.pop(key, None)
    match, broken = find_pack(pack_id, pack_hash, folder + default_dirs())
    if match is not None and match.exact and pack_hash and len(_FOUND) < 64:
        try:
            _FOUND[key] = (match.path, os.stat(match.path).st_mtime, match.pack)
        except OSError:
            pass
    return match, broken


def resolve_pack(book: Workbook, meta: dict[str, str],
                 rules: RulePack | str | Path | None) -> tuple[RulePack, list[Problem]]:
    """The pack to read *book* with, and problems about the choice.

    *rules*: the pack (or its file) to use; a folder is searched first for the
    pack named in ``_meta``; ``None`` searches ``./rules`` and the defaults."""
    file = book.path
    problems: list[Problem] = []
    pack_id = meta.get("pack_id", "")
    folder = [Path(rules)] if isinstance(rules, (str, Path)) and Path(rules).is_dir() else []
    if rules is not None and not folder:
        pack = rules if isinstance(rules, RulePack) else load_cached(rules)
        if pack_id and pack_id != pack.id:
            raise _fail(file, f"此工作簿属于规则包 {pack_id}，不是 --rules 指定的 {pack.id}")
        if not pack_id:
            if not _has_fact_names(book, pack):
                raise _fail(file, "不是由 rubric-xl 模板生成的工作簿（没有 _meta 工作表，也没有填报单元格的名称）")
            problems.append(Problem(f"{file} {META_SHEET}",
                                    f"工作簿缺少 _meta 信息，按 --rules 指定的规则包 {pack.id} 读取", "warning"))
    else:
        if not pack_id:
            if not book.has_names:
                raise _fail(file, "不是由 rubric-xl 模板生成的工作簿（没有 _meta 工作表，也没有定义名称）；"
                                  "请使用下发的填报模板")
            raise _fail(file, "工作簿缺少 _meta 工作表，无法确定规则包；请用 --rules 指定规则包")
        match, broken = _find(pack_id, meta.get("pack_hash"), folder)
        if match is None:
            dirs = folder + default_dirs()
            where = "、".join(str(d) for d in dirs) or "./rules"
            extra = [p for exc in broken for p in exc.problems]
            raise _fail(file, f"未知的规则包 {pack_id}（版本 {meta.get('pack_version') or '未知'}），"
                              f"在 {where} 中找不到；请用 --rules 指定规则包文件", extra)
        pack = match.pack
    version = meta.get("template_version")
    if version and version not in TEMPLATE_VERSIONS:
        problems.append(Problem(f"{file} {META_SHEET}", (
            f"模板版本 {version} 不是本程序支持的版本（{'、'.join(sorted(TEMPLATE_VERSIONS))}），"
            "可能无法正确读取；请升级 rubric-xl"), "warning"))
    want = meta.get("pack_hash")
    if want and want != pack.hash:
        problems.append(Problem(f"{file} {META_SHEET}", (
            f"此工作簿由规则包 {pack_id or pack.id} 版本 {meta.get('pack_version') or '未知'}"
            f"（校验码 {want[:12]}）生成，与当前规则包 {pack.id} 版本 {pack.version}"
            f"（校验码 {pack.short_hash}）不同；请用当前模板重新填报，或用 --rules 指定对应版本的规则包")))
    return pack, problems


def read_workbook(path: str | Path, rules: RulePack | str | Path | None = None,
                  display: str | None = None) -> Reading:
    """Open *path*, find its pack (from ``_meta`` or *rules*) and read every input.

    Raises :class:`InputFileError` when the file cannot be scored at all (not a
    workbook, corrupt, encrypted, legacy .xls, not a template, unknown pack) and
    :class:`PackError` when the given pack file is broken.
    """
    book = open_workbook(path, display)
    meta, problems = read_meta(book)
    pack, more = resolve_pack(book, meta, rules)
    sub = read_submission(book, pack, meta)
    return Reading(book.path, book, meta, pack, sub, problems + more + sub.problems)


def extract_facts(path: str | Path, rules: RulePack | str | Path | None = None,
                  display: str | None = None) -> tuple[RulePack, dict[str, Any], list[Problem]]:
    """The converted facts of a workbook (as ``convert_facts`` returns them) and
    its warnings.  Raises :class:`FactsError` listing every error."""
    r = read_workbook(path, rules, display)
    errors = [p for p in r.problems if p.level == "error"]
    values, bad = read_facts(r.pack, r.submission.raw, r.file, r.submission.where, r.submission.locs.get)
    errors += bad
    if errors:
        raise FactsError(f"工作簿中的数据有误：{r.file}", errors)
    return r.pack, values, [p for p in r.problems if p.level != "error"]

