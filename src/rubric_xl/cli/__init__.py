"""The ``rubric-xl`` command line.  Messages are Chinese; exit codes are
0 success, 1 errors in the input (reported in Chinese), 2 usage errors."""
from __future__ import annotations

import sys

import click

from .._version import __version__
from . import i18n
from .common import run_main

i18n.install()

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=i18n.ChineseGroup, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="rubric-xl", message="%(prog)s %(version)s")
def cli() -> None:
    """rubric-xl：考核评分细则规则引擎（规则包、评分、填报模板、审核）。"""


def _register() -> None:
    # Each command module registers itself; keep one import per line.
    from . import score as _score  # noqa: F401
    from . import rules as _rules  # noqa: F401
    # -- commands registered by other modules go below this line --
    from . import addin as _addin  # noqa: F401
    from . import template as _template  # noqa: F401
    from . import extract as _extract  # noqa: F401
    from . import campaign as _campaign  # noqa: F401


_register()


def main(argv: list[str] | None = None) -> None:
    sys.exit(run_main(cli, argv))
