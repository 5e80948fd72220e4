"""``rubric-xl template``: build, distribute and fill submission workbooks."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputFileError, Problem, RubricError
from ..rules import load_pack
from . import cli
from .common import PACK, fail, write_atomic


def _xlsx(path: str, option: str) -> None:
    if Path(path).suffix.lower() != ".xlsx":
        raise click.UsageError(f"{option} 应为 .xlsx 文件：{path}")


def _os_error(exc: OSError) -> InputFileError:
    return InputFileError("无法读写文件", [Problem(str(exc.filename or ""), exc.strerror or str(exc))])


@cli.group("template")
def template_group() -> None:
    """填报模板：生成（build）、分发（distribute）、填充（fill）。"""


@template_group.command("build")
@click.option("--rules", "rules_path", required=True, type=PACK, help="规则包文件（YAML）或编号（如 xinzhou-2024）。")
@click.option("--unit", help="填报单位：预先填写并锁定。")
@click.option("-o", "--output", required=True, type=click.Path(), help="输出的 .xlsx 文件。")
def build_cmd(rules_path: str, unit: str | None, output: str) -> None:
    """根据规则包生成标准填报模板。"""
    from ..workbook import template_bytes

    _xlsx(output, "-o/--output")
    try:
        pack = load_pack(rules_path)
        write_atomic(output, template_bytes(pack, unit))
    except RubricError as exc:
        fail(exc)
    except OSError as exc:
        fail(_os_error(exc))
    who = f"，填报单位：{unit.strip()}" if unit and unit.strip() else ""
    click.echo(f"已生成填报模板：{output}（规则包 {pack.id} 版本 {pack.version}{who}）")


@template_group.command("distribute")
@click.option("--rules", "rules_path", required=True, type=PACK, help="规则包文件（YAML）或编号（如 xinzhou-2024）。")
@click.option("--units", required=True,
              help="单位列表：内置的 shanxi-cities（山西11市）、xinzhou-bodies（忻州16个填报单位），"
                   "或 UTF-8 文本文件（每行一个单位，# 开头为注释）。")
@click.option("-o", "--output", required=True, type=click.Path(), help="输出目录。")
def distribute_cmd(rules_path: str, units: str, output: str) -> None:
    """为每个填报单位生成一份模板，并写出 manifest.csv（单位、文件、SHA-256）。"""
    from ..workbook import distribute, load_units

    try:
        pack = load_pack(rules_path)
        names = load_units(units)
        rows = distribute(pack, names, output, write=write_atomic)
    except RubricError as exc:
        fail(exc)
    except OSError as exc:
        fail(_os_error(exc))
    click.echo(f"已为 {len(rows)} 个填报单位生成模板：{output}（清单 manifest.csv）")


@template_group.command("fill")
@click.argument("template", type=click.Path())
@click.option("--facts", "facts_path", required=True, type=click.Path(), help="事实文件（YAML 或 JSON）。")
@click.option("-o", "--output", required=True, type=click.Path(), help="输出的 .xlsx 文件（不能是模板本身）。")
@click.option("--rules", "rules_path", type=PACK,
              help="规则包文件或目录（默认按模板 _meta 在 ./rules 中查找）。")
@click.option("--unit", help="填报单位（模板未预先指定时填写）。")
@click.option("--filler", help="填报人。")
@click.option("--phone", help="联系电话。")
@click.option("--date", "fill_date", help="填报日期 YYYY-MM-DD。")
def fill_cmd(template: str, facts_path: str, output: str, rules_path: str | None, unit: str | None,
             filler: str | None, phone: str | None, fill_date: str | None) -> None:
    """把事实文件的数据写入模板，另存为新文件（模板本身不会被修改）。"""
    from ..workbook import fill_template

    _xlsx(output, "-o/--output")
    if Path(output).resolve() == Path(template).resolve():
        raise click.UsageError("输出文件不能与模板相同：模板不会被修改，请用 -o 指定另一个文件。")
    info = {"unit": unit, "filler": filler, "phone": phone, "date": fill_date}
    try:
        data = fill_template(template, facts_path, rules=rules_path, info=info)
        write_atomic(output, data)
    except RubricError as exc:
        fail(exc)
    except OSError as exc:
        fail(_os_error(exc))
    click.echo(f"已填写：{output}（模板 {template}，数据 {facts_path}）")
