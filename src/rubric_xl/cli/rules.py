"""``rubric-xl rules``: check, test and show rule packs."""
from __future__ import annotations

import click

from ..errors import RubricError
from ..rules import load_pack
from . import cli
from .common import EXIT_INPUT, emit
from .render import pack_markdown, pack_text


@cli.group("rules")
def rules_group() -> None:
    """规则包：校验（check）、运行示例用例（test）、显示评分细则（show）。"""


@rules_group.command("check")
@click.argument("packs", nargs=-1, required=True, type=click.Path())
@click.pass_context
def check_cmd(ctx, packs):
    """校验规则包：结构、表达式、分值合计、引用。"""
    bad = 0
    for path in packs:
        try:
            pack = load_pack(path)
        except RubricError as exc:
            bad += 1
            click.echo(f"✗ {path}\n{exc}", err=True)
            continue
        m = pack.model
        what = f"{len(m.items)} 个评分项" if m.kind == "rubric" else f"台账 {m.ledger.table}"
        click.echo(f"✓ {path}：{m.id} 版本 {m.version}，{what}，{len(m.facts)} 个事实，校验码 {pack.hash[:12]}")
    ctx.exit(EXIT_INPUT if bad else 0)


@rules_group.command("test")
@click.argument("packs", nargs=-1, required=True, type=click.Path())
@click.option("--engine", "executor", type=click.Choice(["default", "durable"]), default="default", show_default=True,
              help="执行器：default 为官方引擎；durable 用 durable-rules 独立复算（需安装 rubric-xl[durable]）。")
@click.pass_context
def test_cmd(ctx, packs, executor):
    """运行规则包自带的示例用例（rules/cases/<规则包>.yaml）。"""
    from ..engine import score as engine_score
    from ..rules.cases import cases_path, load_cases, run_cases
    from .score import _durable_scorer

    scorer = _durable_scorer() if executor == "durable" else engine_score

    failed = 0
    for path in packs:
        try:
            pack = load_pack(path)
            cpath = cases_path(path)
            if not cpath.exists():
                click.echo(f"✗ {path}：找不到示例用例文件 {cpath}", err=True)
                failed += 1
                continue
            results = run_cases(pack, load_cases(cpath, pack), scorer)
        except RubricError as exc:
            failed += 1
            click.echo(f"✗ {path}\n{exc}", err=True)
            continue
        bad = [r for r in results if not r.ok]
        for r in bad:
            click.echo(f"✗ {r.name}", err=True)
            for f in r.failures:
                click.echo(f"    {f}", err=True)
        failed += len(bad)
        click.echo(f"{pack.id}：{len(results) - len(bad)} 个用例通过，{len(bad)} 个失败")
    ctx.exit(EXIT_INPUT if failed else 0)


@rules_group.command("show")
@click.argument("pack_path", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["table", "markdown"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(), help="输出文件（默认打印到屏幕）。")
def show_cmd(pack_path, fmt, output):
    """显示官方评分细则表：序号、考核内容、分值、评分细则、依据。"""
    try:
        pack = load_pack(pack_path)
    except RubricError as exc:
        from .common import fail
        fail(exc)
    emit(pack_markdown(pack) if fmt == "markdown" else pack_text(pack), output)
