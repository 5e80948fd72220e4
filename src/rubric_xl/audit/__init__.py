"""The auditor's batch re-scoring of submission workbooks.

Every score is recomputed from the workbook's inputs (read by defined name);
cached results are only compared, never trusted.  A bad file never stops the
batch: it becomes a result with problems.  Workbooks are only read, never
written, and nothing in them (macros included) is ever run.

Public API::

    results = score_workbooks(["提交/"], jobs=2)     # list[FileResult], input order
    combined = combine_ledgers(results)              # city-wide ledger roll-ups
    data = render(results, "xlsx")                   # report: str (table/json/csv) or bytes

``rubric-xl score WORKBOOK|DIR…`` (``cli.score``) is built on these.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path
from typing import Callable, Generator

from ..engine.card import LedgerCard
from ..engine.ledger import plan_for
from ..errors import Problem
from ..reader import load_cached
from ..rules import RulePack
from . import _isolate
from ._one import STATUS_TEXT, FileResult, score_workbook
from ._reports import (Combined, CombinedTable, batch_counts, csv_text, file_json, file_json_tail, json_text,
                       safe_text, xlsx_bytes)
from ._text import batch_text

__all__ = ["score_workbooks", "score_entries", "score_workbook", "collect_files", "combine_ledgers",
           "render", "FileResult", "Combined", "CombinedTable", "summary_line", "safe_text", "STATUS_TEXT"]

SUFFIXES = (".xlsx", ".xlsm", ".xls")  # .xls only to tell its sender to save it as .xlsx


def _folder_files(folder: Path) -> list[str | FileResult]:
    """Workbook entries under *folder*, sorted.  Links are not followed out of
    it: a linked file whose target lies outside and a linked directory are
    reported instead of read.  Entries that are not regular files (a named
    pipe called ``x.xlsx``) are kept, so the reader refuses them by name."""
    base = folder.resolve()
    found: list[tuple[str, str | FileResult]] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        for d in dirs:
            if (Path(root) / d).is_symlink():
                p = Path(root) / d
                found.append((p.as_posix(), FileResult(str(p), problems=[Problem(str(p), (
                    "这是指向其他位置的目录链接，未读取其中的文件；请把工作簿直接放在此目录中"))])))
        for name in files:
            p = Path(root) / name
            if p.suffix.lower() not in SUFFIXES or name.startswith("~$"):
                continue
            if p.is_symlink():
                target = p.resolve()
                if not target.is_relative_to(base):
                    found.append((p.as_posix(), FileResult(str(p), problems=[Problem(str(p), (
                        "这是指向目录之外的文件链接，已拒绝读取；请把工作簿本身放在此目录中"))])))
                    continue
            found.append((p.as_posix(), str(p)))
    return [entry for _, entry in sorted(found, key=lambda e: e[0])]


def collect_files(paths: list[str]) -> list[str | FileResult]:
    """Workbook files in input order — a directory gives every .xlsx/.xlsm inside,
    recursively, sorted, Excel's ``~$`` lock files skipped (and any legacy .xls,
    which fails with "save as .xlsx" rather than being silently left out) — and,
    in their place, failed results for paths that do not exist or hold no workbook."""
    out: list[str | FileResult] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = _folder_files(path)
            if not found:
                out.append(FileResult(p, problems=[Problem(p, "目录中没有 .xlsx 或 .xlsm 工作簿")]))
            out.extend(found)
        elif path.exists() or path.is_symlink():
            out.append(p)
        else:
            out.append(FileResult(p, problems=[Problem(p, "找不到此文件或目录")]))
    return out


Task = tuple[str, "str | RulePack | None", bool, bool, str]  # path, pack, strict, encode, executor


def _encoded(res: FileResult, encode: bool) -> FileResult:
    if encode:  # the JSON text is made where the work is spread: in the worker
        res.encoded = file_json(res)
    return res


def _work(task: Task) -> FileResult:
    path, rules, strict, encode, executor = task
    try:
        res = score_workbook(path, rules, strict) if executor == "engine" else \
            score_workbook(path, rules, strict, executor=executor)
    except Exception as exc:  # a bug must not stop the batch (no text of it: it may name temp files)
        res = FileResult(path, problems=[Problem(path, (
            f"此文件未能评分：处理时遇到意外情况（{type(exc).__name__}）；请将此文件报告给开发者"))])
    return _encoded(res, encode)


def _failed(task: Task, reason: str) -> FileResult:
    return _encoded(FileResult(task[0], problems=[Problem(task[0], reason)]), task[3])


def _iter_results(files: list[str], rules: str | RulePack | None, strict: bool,
                  jobs: int, encode: bool, timeout: float = _isolate.TIMEOUT,
                  executor: str = "engine") -> Generator[FileResult, None, None]:
    """Each file scored in a worker process (one per job) with bounded memory and
    time, so a file that crashes or hangs its worker fails alone."""
    tasks = [(f, rules, strict, encode, executor) for f in files]
    if not tasks:
        return
    if isinstance(rules, RulePack) and mp.get_start_method() != "fork":
        yield from map(_work, tasks)  # a pack object without a file cannot be sent to a worker
        return
    yield from _isolate.run(tasks, _work, _failed, jobs, timeout=timeout)


def _pack_arg(rules: str | Path | RulePack | None, jobs: int) -> tuple[str | RulePack | None, int]:
    if isinstance(rules, RulePack):
        if Path(rules.source).is_file():
            return rules.source, jobs  # processes load the pack themselves from its file
        return rules, jobs
    if rules is not None:
        if not Path(rules).is_dir():
            load_cached(rules)  # a broken --rules file fails once, here, not per file
        return str(rules), jobs
    return None, jobs


def score_entries(entries: list[str | FileResult], rules: str | Path | RulePack | None = None,
                  strict: bool = False, jobs: int = 1,
                  progress: Callable[[FileResult], None] | None = None, encode: bool = False,
                  timeout: float = _isolate.TIMEOUT, executor: str = "engine") -> list[FileResult]:
    """:func:`score_workbooks` for entries already listed by :func:`collect_files`
    (failed entries are kept in their place).  *executor* ``durable``: each
    workbook computed on durable-rules (:mod:`rubric_xl.durable`)."""
    pack_arg, jobs = _pack_arg(rules, jobs)
    files = [e for e in entries if isinstance(e, str)]
    scored = _iter_results(files, pack_arg, strict, jobs, encode, timeout, executor)
    results: list[FileResult] = []
    for e in entries:
        res = next(scored) if isinstance(e, str) else e
        results.append(res)
        if progress:
            progress(res)
    scored.close()  # shuts the process pool down
    _flag_repeated_units(results)
    return results


_REPEATED = "填报单位“{unit}”提交了 {n} 份台账（{files}），均未计入汇总和排名；请只保留一份后重新评分"


def _flag_repeated_units(results: list[FileResult]) -> None:
    """Ledger submissions of one pack by one reporting body (a city sending its
    ledger twice): an error on each, and none of them is combined."""
    by_unit: dict[tuple[str, str], list[FileResult]] = {}
    for r in results:
        if isinstance(r.card, LedgerCard) and r.values is not None and r.pack_source and r.unit:
            by_unit.setdefault((r.card.pack.hash, r.unit), []).append(r)
    for (_, unit), same in by_unit.items():
        if len(same) < 2:
            continue
        msg = _REPEATED.format(unit=unit, n=len(same), files="、".join(sorted(r.file for r in same)))
        for r in same:
            tail = file_json_tail(r)
            r.problems.append(Problem(r.file, msg))
            r.values = None  # not in the roll-up
            if r.encoded is not None:  # made before the error: its status and problems made again
                r.encoded = r.encoded[:-len(tail)] + file_json_tail(r) if r.encoded.endswith(tail) else None


def score_workbooks(paths: list[str], rules: str | Path | RulePack | None = None,
                    strict: bool = False, jobs: int = 1,
                    progress: Callable[[FileResult], None] | None = None, *,
                    encode_json: bool = False, timeout: float = _isolate.TIMEOUT) -> list[FileResult]:
    """Re-score every workbook in *paths* (files or directories), in input order.

    *rules*: a pack file (or pack) to use instead of the one named in each
    workbook's ``_meta``, or a folder to look in first.  *jobs* > 1 uses that
    many processes; every file is read in a worker process (also with one job)
    whose memory is bounded, and a file taking longer than *timeout* seconds
    fails alone.  *encode_json*: also make each result's JSON text where it
    is scored (speeds up ``render(results, "json")``).  Raises
    :class:`PackError` only when *rules* itself is broken.
    """
    return score_entries(collect_files(paths), rules, strict, jobs, progress, encode_json, timeout)


def combine_ledgers(results: list[FileResult]) -> list[Combined]:
    """Roll-ups over all ledger submissions of each pack (per reporting body + city)."""
    groups: dict[str, list[FileResult]] = {}
    for r in results:
        if isinstance(r.card, LedgerCard) and r.values is not None and r.pack_source:
            groups.setdefault(r.card.pack.hash, []).append(r)
    out = []
    for members in groups.values():
        pack = load_cached(members[0].pack_source)  # type: ignore[arg-type]
        plan = plan_for(pack)
        per_table = plan.combine_tables([r.values for r in members])  # type: ignore[misc]
        tables = []
        for tp, rollups in zip(plan.tables, per_table):
            labels = {mt.id: mt.label for mt, _ in tp.metrics}
            flags = {g.label: labels.get(g.flag, g.flag) for g in tp.lg.groupings if g.flag}
            tables.append(CombinedTable(tp.table, tp.lg.label, rollups, labels, flags))
        first = tables[0]
        out.append(Combined(plan.info, [r.file for r in members], first.rollups, first.labels,
                            first.table, first.label, tables[1:], flags=first.flags))
    return out


def summary_line(results: list[FileResult]) -> str:
    n = batch_counts(results)  # the same counts as the JSON "summary"
    line = f"已评分 {n['scored']} 份，暂定 {n['provisional']} 份，失败 {n['failed']} 份"
    if n["with_errors"]:
        line += f"；另有 {n['with_errors']} 份有错误，见问题清单"
    return line


_RENDER: dict[str, Callable[[list[FileResult], list[Combined]], str | bytes]] = {
    "table": batch_text, "json": json_text, "xlsx": xlsx_bytes,
    "csv": lambda results, _combined: csv_text(results),
}
FORMATS = tuple(_RENDER)


def render(results: list[FileResult], fmt: str) -> str | bytes:
    """The batch report in *fmt* (one of :data:`FORMATS`): text, or bytes for xlsx."""
    return _RENDER[fmt](results, combine_ledgers(results))
