"""The auditor's batch re-scoring of submission workbooks.

Every score is recomputed from the workbook's inputs (read by defined name);
cached results are only compared, never trusted.  A bad file never stops the
batch: it becomes a result with problems.  Workbooks are only read, never
written, and nothing in them (macros included) is ever run.

Public API::

    results = score_workbooks(["提交/"], jobs=2)     # list[FileResult], input order
    combined = combine_ledgers(results)              # city-wide ledger roll-ups
    code = run_score(["提交/"], fmt="xlsx", output="汇总.xlsx", jobs=2)  # the CLI
"""
from __future__ import annotations

import contextlib
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Generator

from ..engine.card import LedgerCard, dumps
from ..engine.ledger import plan_for
from ..errors import Problem, RubricError
from ..reader import load_cached
from ..rules import RulePack
from ._one import STATUS_TEXT, FileResult, score_workbook
from ._reports import Combined, csv_text, json_text, safe_text, xlsx_bytes
from ._text import batch_text

__all__ = ["run_score", "score_workbooks", "score_workbook", "collect_files", "combine_ledgers",
           "render", "FileResult", "Combined", "summary_line", "safe_text", "STATUS_TEXT"]

SUFFIXES = (".xlsx", ".xlsm", ".xls")  # .xls only to tell its sender to save it as .xlsx
FORMATS = ("table", "json", "csv", "xlsx")


def collect_files(paths: list[str]) -> list[str | FileResult]:
    """Workbook files in input order — a directory gives every .xlsx/.xlsm inside,
    recursively, sorted, Excel's ``~$`` lock files skipped (and any legacy .xls,
    which fails with "save as .xlsx" rather than being silently left out) — and,
    in their place, failed results for paths that do not exist or hold no workbook."""
    out: list[str | FileResult] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted((f for f in path.rglob("*") if f.suffix.lower() in SUFFIXES
                            and not f.name.startswith("~$") and f.is_file()), key=lambda f: f.as_posix())
            if not found:
                out.append(FileResult(p, problems=[Problem(p, "目录中没有 .xlsx 或 .xlsm 工作簿")]))
            out.extend(str(f) for f in found)
        elif path.exists():
            out.append(p)
        else:
            out.append(FileResult(p, problems=[Problem(p, "找不到此文件或目录")]))
    return out


def _work(task: tuple[str, str | RulePack | None, bool, bool]) -> FileResult:
    path, rules, strict, encode = task[:4]
    executor = task[4] if len(task) > 4 else "engine"
    try:
        res = score_workbook(path, rules, strict) if executor == "engine" else \
            score_workbook(path, rules, strict, executor=executor)
    except Exception as exc:  # a bug must not stop the batch
        res = FileResult(path, problems=[Problem(path, f"内部错误：{type(exc).__name__}: {exc}；"
                                                       "请将此文件报告给开发者")])
    if encode:  # the JSON text is made where the work is spread: in the worker
        res.encoded = dumps(res.to_dict())
    return res


def _iter_results(files: list[str], rules: str | RulePack | None, strict: bool,
                  jobs: int, encode: bool, executor: str = "engine") -> Generator[FileResult, None, None]:
    tasks = [(f, rules, strict, encode, executor) for f in files]
    if jobs <= 1 or len(files) < 2:
        yield from map(_work, tasks)
        return
    chunk = max(1, min(32, len(tasks) // (jobs * 4)))
    done = 0
    try:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for res in pool.map(_work, tasks, chunksize=chunk):
                done += 1
                yield res
    except BrokenProcessPool:  # a worker died (a file crashed the reader): isolate the rest
        for task in tasks[done:]:
            yield _isolated(task)


def _isolated(task: tuple[str, str | RulePack | None, bool, bool]) -> FileResult:
    """Score one file in a process of its own, so a crash only fails that file."""
    try:
        with ProcessPoolExecutor(max_workers=1) as pool:
            return pool.submit(_work, task).result()
    except BrokenProcessPool:
        path = task[0]
        res = FileResult(path, problems=[Problem(path, "读取此文件时处理进程意外退出，文件可能已损坏；请重新保存后再提交")])
        if task[3]:
            res.encoded = dumps(res.to_dict())
        return res


def _pack_arg(rules: str | Path | RulePack | None, jobs: int) -> tuple[str | RulePack | None, int]:
    if isinstance(rules, RulePack):
        if jobs > 1 and Path(rules.source).is_file():
            return rules.source, jobs  # processes load the pack themselves from its file
        return rules, 1
    if rules is not None:
        if not Path(rules).is_dir():
            load_cached(rules)  # a broken --rules file fails once, here, not per file
        return str(rules), jobs
    return None, jobs


def _run(entries: list[str | FileResult], rules: str | Path | RulePack | None, strict: bool,
         jobs: int, progress: Callable[[FileResult], None] | None, encode: bool = False,
         executor: str = "engine") -> list[FileResult]:
    pack_arg, jobs = _pack_arg(rules, jobs)
    files = [e for e in entries if isinstance(e, str)]
    scored = _iter_results(files, pack_arg, strict, jobs, encode, executor)
    results: list[FileResult] = []
    for e in entries:
        res = next(scored) if isinstance(e, str) else e
        results.append(res)
        if progress:
            progress(res)
    scored.close()  # shuts the process pool down
    return results


def score_workbooks(paths: list[str], rules: str | Path | RulePack | None = None,
                    strict: bool = False, jobs: int = 1,
                    progress: Callable[[FileResult], None] | None = None, *,
                    encode_json: bool = False) -> list[FileResult]:
    """Re-score every workbook in *paths* (files or directories), in input order.

    *rules*: a pack file (or pack) to use instead of the one named in each
    workbook's ``_meta``, or a folder to look in first.  *jobs* > 1 uses that
    many processes.  *encode_json*: also make each result's JSON text where it
    is scored (speeds up ``render(results, "json")``).  Raises
    :class:`PackError` only when *rules* itself is broken.
    """
    return _run(collect_files(paths), rules, strict, jobs, progress, encode_json)


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
        rollups = plan.combine([r.values for r in members])  # type: ignore[misc]
        labels = {mt.id: mt.label for mt, _ in plan.metrics}
        out.append(Combined(plan.info, [r.file for r in members], rollups, labels))
    return out


def summary_line(results: list[FileResult]) -> str:
    scored = [r for r in results if r.card is not None]
    provisional = sum(1 for r in scored if getattr(r.card, "provisional", False))
    failed = len(results) - len(scored)
    line = f"已评分 {len(scored)} 份，暂定 {provisional} 份，失败 {failed} 份"
    with_errors = sum(1 for r in scored if r.errors)
    if with_errors:
        line += f"；另有 {with_errors} 份有错误，见问题清单"
    return line


def render(results: list[FileResult], fmt: str) -> str | bytes:
    combined = combine_ledgers(results)
    if fmt == "json":
        return json_text(results, combined)
    if fmt == "csv":
        return csv_text(results)
    if fmt == "xlsx":
        return xlsx_bytes(results, combined)
    return batch_text(results, combined)


def _progress_bar():
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("评分中"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=True)


def run_score(paths: list[str], rules: str | None = None, fmt: str = "table",
              output: str | None = None, strict: bool = False, jobs: int = 1, executor: str = "engine") -> int:
    """``rubric-xl score WORKBOOK|DIR…``: re-score, report, return the exit code
    (0 no errors, 1 any file with errors or unreadable, 2 usage)."""
    import click

    from ..cli.common import EXIT_INPUT, EXIT_OK, EXIT_USAGE, emit, write_atomic

    if fmt not in FORMATS:
        click.echo(f"错误：未知的输出格式 {fmt}（可选 {'、'.join(FORMATS)}）", err=True)
        return EXIT_USAGE
    if fmt == "xlsx" and (not output or output == "-"):
        click.echo("错误：xlsx 格式需要用 -o 指定输出文件（如 -o 汇总.xlsx）", err=True)
        return EXIT_USAGE
    entries = collect_files(paths)
    show = sys.stderr.isatty() and fmt != "json" and len(entries) > 1
    try:
        with _progress_bar() if show else contextlib.nullcontext() as bar:
            task = bar.add_task("score", total=len(entries)) if bar else None
            results = _run(entries, rules, strict, jobs, (lambda _: bar.advance(task)) if bar else None,
                           encode=fmt == "json", executor=executor)
    except RubricError as exc:  # only a broken --rules pack gets here
        click.echo(f"错误：{exc}", err=True)
        return EXIT_INPUT
    out = render(results, fmt)
    if isinstance(out, bytes):
        write_atomic(output, out)  # type: ignore[arg-type]
    else:
        emit(out, output)
    click.echo(summary_line(results), err=True)
    return EXIT_INPUT if any(r.status in ("error", "failed") for r in results) else EXIT_OK
