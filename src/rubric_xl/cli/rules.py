"""``rubric-xl rules``: check, test and show rule packs."""
from __future__ import annotations

import io
from decimal import Decimal

import click

from .._decimal import plain
from ..errors import RubricError
from ..rules import load_pack
from ..sheettext import terminal_text
from . import cli
from .common import EXIT_INPUT, PACK, check_output, emit, fail
from .render import pack_markdown, pack_text


@cli.group("rules")
def rules_group() -> None:
    """规则包：列出（list）、校验（check）、运行示例用例（test）、显示评分细则（show）。"""


def _template_hash(path) -> str | None:
    from ..reader import open_workbook, read_meta

    try:
        return read_meta(open_workbook(path))[0].get("pack_hash")
    except RubricError:
        return None


@rules_group.command("list")
@click.pass_context
def list_cmd(ctx):
    """列出可用的规则包（./rules、源码目录及随 rubric-xl 安装的规则包）及其填报模板。

    每个规则包一行：编号、版本、类型、名称、文件（以制表符分隔），其下一行为现成的填报模板。"""
    from ..rules.catalog import available, default_dirs, template_for

    found, broken = available()
    for m in found:
        p = m.pack
        kind = "评分细则" if p.model.kind == "rubric" else "台账"
        click.echo(terminal_text(f"{p.id}\t版本 {p.version}\t{kind}\t{p.model.title}\t{m.path}"))
        template = template_for(p.id)
        if template is not None and _template_hash(template) == p.hash:
            click.echo(f"  填报模板：{template}")
        elif template is not None:  # ./rules holds another version than the shipped template
            click.echo(f"  填报模板：{template} 由此规则包的另一版本生成，请用 template build --rules {p.id} 重新生成")
    for exc in broken:
        click.echo(terminal_text(f"✗ {exc}"), err=True)
    where = "、".join(str(d) for d in default_dirs()) or "无"
    if not found:
        click.echo(f"没有找到任何规则包（查找位置：{where}）。", err=True)
        ctx.exit(EXIT_INPUT)
    click.echo(f"共 {len(found)} 个规则包（查找位置：{where}）。在 --rules 中可直接写编号，如 --rules "
               f"{found[0].pack.id}。")
    ctx.exit(EXIT_INPUT if broken else 0)


def _pack_paths(refs) -> list[str]:
    """The pack files named by *refs*: a file as it is, a folder as the ``*.yaml``
    packs directly in it (its ``cases/`` are not packs).  A folder without a pack
    is an input error."""
    from ..errors import PackError, Problem
    from ..rules.catalog import pack_files

    out: list[str] = []
    for ref in refs:
        try:
            files = pack_files([ref])
        except PackError as exc:
            fail(exc)
        if not files:
            fail(PackError("文件夹中没有规则包", [Problem(ref, "这是一个文件夹，其中没有 *.yaml 或 *.yml 规则包文件")]))
        out += [str(f) for f in files]
    return out


@rules_group.command("check")
@click.argument("packs", nargs=-1, required=True, type=PACK)
@click.pass_context
def check_cmd(ctx, packs):
    """校验规则包：结构、表达式、分值合计、引用，以及能否生成填报模板。

    可给出规则包文件或文件夹（校验其中的每个 *.yaml 规则包，不含子文件夹）。"""
    from ..rules.names import check_pack_names

    bad = 0
    for path in _pack_paths(packs):  # every pack is checked, whatever the ones before it gave
        try:
            pack = load_pack(path)
            check_pack_names(pack)  # ids that ``template build`` would refuse
        except RubricError as exc:
            bad += 1
            click.echo(terminal_text(f"✗ {path}\n{exc}"), err=True)
            continue
        m = pack.model
        if m.kind == "rubric":
            what = f"{len(m.items)} 个评分项"
        else:
            labels = {f.id: f.label for f in m.facts}
            what = "台账" + "、".join(f"“{labels.get(lg.table, lg.table)}”（{len(lg.checks)} 项行检查）"
                                      for lg in m.ledgers)
        click.echo(terminal_text(f"✓ {path}：{m.id} 版本 {m.version}，{what}，{len(m.facts)} 个事实，校验码 {pack.hash[:12]}"))
    ctx.exit(EXIT_INPUT if bad else 0)


@rules_group.command("test")
@click.argument("packs", nargs=-1, required=True, type=PACK)
@click.option("--engine", "executor", type=click.Choice(["default", "durable"]), default="default", show_default=True,
              help="执行器：default 为官方引擎；durable 用 durable-rules 独立复算（需安装 rubric-xl[durable]）。")
@click.option("--coverage", is_flag=True,
              help="列出每个规则包中哪些不得分条件、扣分、加分、档次、封顶、扣完为止、决策、状态、行检查、"
                   "指标条件被示例用例触发，哪些从未触发。")
@click.option("--fail-under", type=click.FloatRange(0, 100), default=None,
              help="覆盖率（百分比）低于此值时以退出码 1 结束；给出 --coverage 时默认为 100。")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="输出格式：表格（table）或 JSON（json）。")
@click.pass_context
def test_cmd(ctx, packs, executor, coverage, fail_under, fmt):
    """运行规则包自带的示例用例（rules/cases/<规则包>.yaml），可同时统计规则覆盖率（--coverage）。

    可给出规则包文件或文件夹（运行其中每个 *.yaml 规则包的用例，不含子文件夹）。"""
    from .. import engine
    from ..caserun import run_cases_cards, run_combined
    from ..rules.cases import cases_path, load_case_file
    from .score import _durable_scorer

    if fail_under is not None and not coverage:
        raise click.UsageError("--fail-under 只能与 --coverage 一起使用。")
    if coverage and executor != "default":
        raise click.UsageError("--coverage 只统计官方引擎（--engine default）的结果，不能与 --engine durable 同用。")
    threshold = Decimal(str(fail_under if fail_under is not None else 100))
    if executor == "durable":
        from .. import durable

        scorer, score_values = _durable_scorer(), durable.score_values

        def combiner(pack):
            return durable.ruleset_for(pack).combine_tables
    else:
        scorer, score_values = engine.score, engine.score_values

        def combiner(pack):
            return None  # the engine's own

    failed = 0
    below = False
    report: list[dict] = []
    for path in _pack_paths(packs):
        try:
            pack = load_pack(path)
            cpath = cases_path(path)
            if not cpath.exists():
                click.echo(f"✗ {path}：找不到示例用例文件 {cpath}", err=True)
                failed += 1
                continue
            cases, combined = load_case_file(cpath, pack)
            results = run_cases_cards(pack, cases, scorer, score_values)
            if combined:
                results += [(r, None) for r in run_combined(pack, combined, combiner(pack))]
        except RubricError as exc:
            failed += 1
            click.echo(terminal_text(f"✗ {path}\n{exc}"), err=True)
            continue
        bad = [r for r, _ in results if not r.ok]
        for r in bad:
            click.echo(terminal_text(f"✗ {r.name}"), err=True)
            for f in r.failures:
                click.echo(terminal_text(f"    {f}"), err=True)
        failed += len(bad)
        entry: dict = {"pack": pack.id, "passed": len(results) - len(bad), "failed": len(bad),
                       "failures": [{"case": r.name, "failures": r.failures} for r in bad]}
        summary = f"{pack.id}：{len(results) - len(bad)} 个用例通过，{len(bad)} 个失败" + (
            f"（含 {len(combined)} 个合并汇总用例）" if combined else "")
        if coverage:
            from ..coverage import measure, to_dict

            cov = measure(pack, [(r.name, card) for r, card in results if r.ok and card is not None])
            entry["coverage"] = to_dict(cov)
            if fmt == "table":
                click.echo(terminal_text(_coverage_text(cov)), nl=False)
            if cov.percent < threshold:
                below = True
                click.echo(f"✗ {pack.id}：规则覆盖率 {cov.percent}%，低于要求的 {plain(threshold)}%"
                           f"（{len(cov.missed)} 处从未触发）", err=True)
        report.append(entry)
        if fmt == "table":
            click.echo(summary)
    if fmt == "json":
        from ..engine.card import dumps

        click.echo(terminal_text(dumps({"packs": report, "fail_under": threshold if coverage else None})))
    ctx.exit(EXIT_INPUT if failed or below else 0)


def _coverage_text(cov) -> str:
    """The Chinese coverage table of one pack, the never-fired lines, the percentage
    (pack text is shown as it is: never read as rich markup)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from ..audit._terminal import console, wrap

    buf = io.StringIO()
    con = console(buf, 140)
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, title=Text(f"{cov.pack_id} 规则覆盖"))
    t.add_column("类别", no_wrap=True)
    t.add_column("位置", max_width=36, overflow="fold")
    t.add_column("描述", max_width=60, overflow="fold")
    t.add_column("命中用例数", justify="right", no_wrap=True)
    for tg in cov.targets:
        t.add_row(Text(tg.label), Text(wrap(tg.location, 36)), Text(wrap(tg.description, 60)),
                  Text(str(len(tg.hits)) if tg.hits else "0 ✗"))
    con.print(t)
    missed = cov.missed
    if missed:
        con.print(f"从未触发（{len(missed)} 处）：", markup=False)
        for tg in missed:
            con.print(f"  ✗ {tg.label}　{tg.location}：{tg.description}", markup=False)
    else:
        con.print("每一处规则都至少被一个用例触发。", markup=False)
    con.print(f"覆盖率：{cov.percent}%（{cov.covered}/{len(cov.targets)}，计入 {cov.cases} 个通过的用例）", markup=False)
    return buf.getvalue()


@rules_group.command("show")
@click.argument("pack_path", type=PACK)
@click.option("--format", "fmt", type=click.Choice(["table", "markdown"]), default="table", show_default=True,
              help="输出格式：表格（table）或 Markdown（markdown）。")
@click.option("-o", "--output", type=click.Path(), help="输出文件（默认打印到屏幕）。")
def show_cmd(pack_path, fmt, output):
    """显示官方评分细则表：序号、考核内容、分值、评分细则、依据。"""
    inputs = [("规则包", pack_path)]
    check_output(output, inputs)
    try:
        pack = load_pack(pack_path)
        emit(pack_markdown(pack) if fmt == "markdown" else pack_text(pack), output, inputs)
    except RubricError as exc:
        fail(exc)
