"""``rubric-xl extract``: print the facts read back from a submission workbook."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import click
import yaml

from .._decimal import plain
from ..engine.card import dumps
from ..errors import RubricError
from ..sheettext import terminal_text
from . import cli
from .common import PACK, check_output, emit, fail, rules_inputs


class _Dumper(yaml.SafeDumper):
    """YAML with exact decimals: ``93.5`` is written as typed, never via float."""


def _decimal(dumper: yaml.SafeDumper, d: Decimal) -> yaml.Node:
    if d == d.to_integral_value():
        return dumper.represent_scalar("tag:yaml.org,2002:int", plain(d))
    text = format(d, "f")
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_Dumper.add_representer(Decimal, _decimal)


def facts_text(values: dict[str, Any], fmt: str) -> str:
    """A facts file (JSON or YAML) that ``score --facts`` and ``template fill`` read back."""
    if fmt == "yaml":
        return yaml.dump(values, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                         default_flow_style=False)
    return dumps(values)


@cli.command("extract")
@click.argument("workbook", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json", show_default=True,
              help="输出格式。")
@click.option("--rules", "rules_path", type=PACK, help="规则包文件或编号（默认按工作簿 _meta 查找）。")
@click.option("-o", "--output", type=click.Path(), help="输出文件（默认打印到屏幕）。")
def extract_cmd(workbook, fmt, rules_path, output):
    """读取填报工作簿中的数据（事实），输出为事实文件（JSON 或 YAML）。

    只读取输入单元格（按定义名称定位），不执行宏或公式，不修改工作簿。"""
    from ..reader import extract_facts

    inputs = [("工作簿", workbook)] + rules_inputs(rules_path)
    check_output(output, inputs)
    try:
        _, values, warnings = extract_facts(workbook, rules_path)
    except RubricError as exc:
        fail(exc)
    for p in warnings:
        click.echo(terminal_text(f"警告：{p}"), err=True)
    try:
        emit(facts_text(values, fmt), output, inputs)
    except RubricError as exc:
        fail(exc)

