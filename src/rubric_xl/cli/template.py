"""``rubric-xl template``: build, distribute and fill submission workbooks."""
from __future__ import annotations

from pathlib import Path

import click

from .._files import os_error_text, pack_inputs
from ..errors import InputFileError, Problem, RubricError
from ..rules import load_pack
from . import cli
from .common import PACK, check_output, fail, write_atomic


def _xlsx(path: str, option: str) -> None:
    if Path(path).suffix.lower() != ".xlsx":
        raise click.UsageError(f"{option} 应为 .xlsx 文件：{path}")


def _os_error(exc: OSError) -> InputFileError:
    return InputFileError("无法读写文件", [Problem(str(exc.filename or ""), os_error_text(exc))])


def _unit(text: str | None) -> str | None:
    """``--unit`` cleaned like a unit list line; a bad name is an input error."""
    from ..workbook.units import unit_name
    try:
        return unit_name(text)
    except ValueError as exc:
        raise InputFileError("填报单位名称无效", [Problem("--unit", str(exc))]) from None


def _clean(text: str | None) -> str | None:
    from ..sheettext import clean_text
    return None if text is None else clean_text(text)


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
    from ..workbook.units import check_units

    _xlsx(output, "-o/--output")
    inputs = pack_inputs(rules_path)
    check_output(output, inputs)
    try:
        unit = _unit(unit)
        pack = load_pack(rules_path)
        if unit:
            check_units(pack, [unit], "--unit")  # a ledger for one of the pack's reporting bodies
        write_atomic(output, template_bytes(pack, unit), inputs)
    except RubricError as exc:
        fail(exc)
    except OSError as exc:
        fail(_os_error(exc))
    who = f"，填报单位：{unit}" if unit else ""
    click.echo(f"已生成填报模板：{output}（规则包 {pack.id} 版本 {pack.version}{who}）")


@template_group.command("distribute")
@click.option("--rules", "rules_path", required=True, type=PACK, help="规则包文件（YAML）或编号（如 xinzhou-2024）。")
@click.option("--units", required=True,
              help="单位列表：内置的 shanxi-cities（山西11市）、xinzhou-bodies（忻州16个填报单位）、changzhi-bodies（长治13个填报单位），"
                   "或 UTF-8 文本文件（每行一个单位，# 开头为注释）。")
@click.option("-o", "--output", required=True, type=click.Path(), help="输出目录（应为空目录）。")
@click.option("--force", is_flag=True, help="输出目录不是空的也写入（覆盖同名文件）。")
def distribute_cmd(rules_path: str, units: str, output: str, force: bool) -> None:
    """为每个填报单位生成一份模板，并写出 manifest.csv（单位、文件、SHA-256）。"""
    from ..workbook import distribute, load_units

    inputs = pack_inputs(rules_path) + ([("单位列表", units)] if Path(units).is_file() else [])
    try:
        pack = load_pack(rules_path)
        names = load_units(units)
        rows = distribute(pack, names, output, inputs=inputs, force=force, source=units)
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
    inputs = [("模板", template), ("事实文件", facts_path)] + pack_inputs(rules_path)
    check_output(output, inputs)
    try:
        info = {"unit": _unit(unit), "filler": _clean(filler), "phone": _clean(phone), "date": fill_date}
        data = fill_template(template, facts_path, rules=rules_path, info=info)
        write_atomic(output, data, inputs)
    except RubricError as exc:
        fail(exc)
    except OSError as exc:
        fail(_os_error(exc))
    click.echo(f"已填写：{output}（模板 {template}，数据 {facts_path}）")
