"""Shared CLI helpers: error printing, exit codes, output writing, ``--rules`` values."""
from __future__ import annotations

from pathlib import Path

import click

from .._files import Inputs, find_input, os_error_text, output_is_input, pack_inputs, write_output
from ..errors import RubricError
from ..rules.catalog import locate
from ..sheettext import encodable_text, terminal_text

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2


class InputProblem(click.ClickException):
    """A RubricError shown in Chinese, exit code 1."""

    exit_code = EXIT_INPUT

    def __init__(self, err: RubricError):
        super().__init__(str(err))
        self.err = err

    def show(self, file=None) -> None:
        click.echo(f"错误：{error_text(self.err)}", err=True)


def error_text(err: RubricError) -> str:
    """The error and its problems, one per line; unknown facts that belong
    to another pack are said once (not one line per fact)."""
    from ..audit._terminal import summarise_other_pack

    problems = summarise_other_pack(err.problems)
    return terminal_text("\n".join([err.message] + [f"  - {p}" for p in problems]))


class PackRef(click.ParamType):
    """A ``--rules`` value: a pack file or folder, or a pack id (``shanxi-2005``)
    found in ``./rules``, the checkout or the packs bundled with rubric-xl.
    Converts to the path (text); an unknown id is an input error (exit 1)."""

    name = "规则包"

    def convert(self, value, param, ctx):
        try:
            return value if value is None else str(locate(value))
        except RubricError as exc:
            raise InputProblem(exc) from None


PACK = PackRef()


def fail(err: RubricError) -> None:
    raise InputProblem(err)


def run_main(group: click.Group, argv: list[str] | None) -> int:
    """Run the group, mapping every exception to a Chinese message and exit code."""
    try:
        # without standalone mode, ctx.exit(code) comes back as the return value
        code = group.main(args=argv, prog_name="rubric-xl", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("已取消。", err=True)
        return EXIT_INPUT
    except click.UsageError as exc:
        exc.show()
        return EXIT_USAGE
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except RubricError as exc:
        click.echo(f"错误：{error_text(exc)}", err=True)
        return EXIT_INPUT
    except KeyboardInterrupt:
        click.echo("已中断。", err=True)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        click.echo(terminal_text(f"错误：无法读写文件 {exc.filename or ''}：{os_error_text(exc)}"), err=True)
        return EXIT_INPUT
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except Exception as exc:  # last resort: never a traceback
        click.echo(terminal_text(f"内部错误：{type(exc).__name__}: {exc}。请将此信息和输入文件报告给开发者。"), err=True)
        return 3
    return code if isinstance(code, int) else EXIT_OK


def write_atomic(path: str | Path, data: bytes | str, inputs: Inputs = ()) -> None:
    """Write *data* to *path* with the one output writer (:func:`rubric_xl._files.write_output`)."""
    write_output(path, data, inputs=inputs)


def rules_inputs(rules_path: str | Path | None) -> list[tuple[str, Path]]:
    """The packs a workbook command may read: ``--rules`` and the folders
    searched when a workbook names its pack (``./rules`` …)."""
    from ..rules.catalog import default_dirs

    out = pack_inputs(rules_path)
    for d in default_dirs():
        out += pack_inputs(d)
    return out


def check_output(output: str | Path | None, inputs: Inputs) -> None:
    """A usage error (exit 2) when *output* is one of *inputs* (same file)."""
    if not output or output == "-":
        return
    clash = find_input(output, list(inputs))
    if clash is not None:
        raise click.UsageError(output_is_input(output, *clash))


def emit(text: str, output: str | None, inputs: Inputs = ()) -> None:
    """Print *text*, or write it to *output* (never one of *inputs*)."""
    if output and output != "-":
        text = encodable_text(text)
        write_atomic(output, text if text.endswith("\n") else text + "\n", inputs)
    else:
        click.echo(terminal_text(text))
