"""``rubric-xl score``: score a facts file, or re-score workbooks (auditor mode)."""
from __future__ import annotations

import contextlib
import sys

import click

from ..engine import score as score_facts
from ..engine.card import dumps, to_dict
from ..errors import RubricError
from ..factsfile import load_facts_file
from ..rules import load_pack
from . import cli
from .common import (EXIT_INPUT, EXIT_OK, EXIT_USAGE, PACK, check_output, emit, fail, rules_inputs,
                     write_atomic)
from .render import card_text


@cli.command("score")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--rules", "rules_path", type=PACK, help="规则包文件（YAML）或编号（如 shanxi-2005，见 rules list）。工作簿模式下默认读取工作簿 _meta 中的规则包。")
@click.option("--facts", "facts_path", type=click.Path(), help="事实文件（YAML 或 JSON）。")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table",
              show_default=True, help="输出格式。")
@click.option("-o", "--output", type=click.Path(), help="输出文件（默认打印到屏幕）。")
@click.option("--strict", is_flag=True, help="严格模式：有待填项目即视为错误。")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="并行进程数（工作簿模式）。")
@click.option("--engine", "executor", type=click.Choice(["default", "durable"]), default="default", show_default=True,
              help="执行器：default 为官方引擎；durable 用 durable-rules 独立复算（需安装 rubric-xl[durable]）。")
@click.pass_context
def score_cmd(ctx, paths, rules_path, facts_path, fmt, output, strict, jobs, executor):
    """评分：--facts 给出事实文件时按规则包评分；给出工作簿或目录时批量重新评分。"""
    if facts_path and paths:
        raise click.UsageError("不能同时给出 --facts 和工作簿路径。")
    if not facts_path and not paths:
        raise click.UsageError("请给出 --facts 事实文件，或要评分的工作簿/目录。")
    if facts_path:
        if not rules_path:
            raise click.UsageError("使用 --facts 时必须用 --rules 指定规则包。")
        if fmt in ("csv", "xlsx"):
            raise click.UsageError("csv/xlsx 格式用于工作簿批量评分；事实文件请用 table 或 json。")
        ctx.exit(_score_facts(rules_path, facts_path, fmt, output, strict, executor))
    if executor == "durable":
        _durable_scorer()  # a missing extra fails once, before any file
    ctx.exit(run_score(list(paths), rules=rules_path, fmt=fmt, output=output, strict=strict, jobs=jobs,
                       executor="durable" if executor == "durable" else "engine"))


def _durable_scorer():
    """durable-rules' score function, or a Chinese error (exit 1) when the extra is missing."""
    from ..durable import require, score

    try:
        require()
    except RubricError as exc:
        fail(exc)
    return score


def _progress_bar():
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("评分中"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=True)


def run_score(paths: list[str], rules: str | None = None, fmt: str = "table",
              output: str | None = None, strict: bool = False, jobs: int = 1, executor: str = "engine") -> int:
    """Workbook mode of ``rubric-xl score WORKBOOK|DIR…``: re-score, report, return
    the exit code (0 no errors, 1 any file with errors or unreadable, 2 usage)."""
    from ..audit import FORMATS, collect_files, render, score_entries, summary_line

    if fmt not in FORMATS:
        click.echo(f"错误：未知的输出格式 {fmt}（可选 {'、'.join(FORMATS)}）", err=True)
        return EXIT_USAGE
    if fmt == "xlsx" and (not output or output == "-"):
        click.echo("错误：xlsx 格式需要用 -o 指定输出文件（如 -o 汇总.xlsx）", err=True)
        return EXIT_USAGE
    entries = collect_files(paths)
    check_output(output, [("工作簿", f) for f in entries if isinstance(f, str)] + rules_inputs(rules))
    show = sys.stderr.isatty() and fmt != "json" and len(entries) > 1
    try:
        with _progress_bar() if show else contextlib.nullcontext() as bar:
            task = bar.add_task("score", total=len(entries)) if bar else None
            results = score_entries(entries, rules, strict, jobs,
                                    (lambda _: bar.advance(task)) if bar else None, encode=fmt == "json",
                                    executor=executor)
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


def _score_facts(rules_path: str, facts_path: str, fmt: str, output: str | None, strict: bool,
                 executor: str = "default") -> int:
    inputs = [("规则包", rules_path), ("事实文件", facts_path)]
    check_output(output, inputs)
    scorer = _durable_scorer() if executor == "durable" else score_facts
    try:
        pack = load_pack(rules_path)
        facts = load_facts_file(facts_path)
        card = scorer(pack, facts, source=facts_path)
    except RubricError as exc:
        fail(exc)
    text = dumps(to_dict(card)) if fmt == "json" else card_text(card)
    try:
        emit(text, output, inputs)
    except RubricError as exc:
        fail(exc)
    if strict and getattr(card, "provisional", False):
        missing = [f"第{it.id}项（{'、'.join(it.missing)}）" for it in card.items if it.status == "incomplete"]
        click.echo("错误：严格模式下不允许待填项目：" + "；".join(missing), err=True)
        return EXIT_INPUT
    return 0
