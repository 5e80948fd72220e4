"""The Excel add-in 评分助手 on xlwings Server (install: ``pip install rubric-xl[addin]``).

* :func:`create_app` – the ASGI app (xlwings Server + this add-in); needs the extra.
* :func:`render_manifest` – the Office add-in manifest XML; works without the extra.
* :data:`ADDIN_ID` – the add-in's fixed GUID.

This package is also xlwings-server's *project directory*: ``templates/``,
``static/``, ``custom_functions/`` and ``custom_scripts/`` follow its layout.  The
implementation modules are private (``_*.py``).
"""
from __future__ import annotations

from ._env import ADDIN_ID, NAMESPACE
from ._manifest import render_manifest


def create_app(rules=None):
    """See :func:`rubric_xl.addin._app.create_app`."""
    from ._app import create_app as _create

    return _create(rules)


def extra_installed() -> bool:
    """True when the ``addin`` extra (xlwings-server, uvicorn) can be imported."""
    import importlib.util

    try:  # find, do not import: importing xlwings-server configures the process
        return all(importlib.util.find_spec(m) is not None for m in ("xlwings_server", "uvicorn", "xlwings"))
    except (ImportError, ValueError):
        return False


__all__ = ["create_app", "render_manifest", "extra_installed", "ADDIN_ID", "NAMESPACE"]
