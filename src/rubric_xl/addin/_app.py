"""The add-in server: xlwings Server (the ``xlwings-server`` package) configured
with this package as its project directory, plus the add-in's own endpoints.

xlwings-server is a module-level FastAPI app configured from the environment at
import time, so there is one app per process; :func:`create_app` configures the
environment, imports it once and extends it:

* project directory = this package: ``templates/taskpane.html`` (the 评分助手 pane,
  extending xlwings' ``base.html``), ``static/`` (pane JS/CSS, ribbon, icons; served
  before xlwings' own files), ``custom_functions`` and ``custom_scripts``;
* the add-in's routes (:mod:`._routes`), ahead of xlwings', so its own manifest
  replaces xlwings' example one;
* every static-file mount served with a containment check (:mod:`._static`) and
  every request body bounded (:mod:`._limits`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from . import _env

_app = None


def create_app(rules: Iterable[str | Path] | None = None):
    """Return the ASGI app.  *rules*: pack files/folders (default: the
    ``RUBRIC_XL_RULES`` environment variable, else ``./rules``).  Raises PackError."""
    global _app
    _env.ensure()
    from . import _packs

    if rules is not None or _packs._registry is None:
        _packs.configure(None if rules is None else list(rules))
        from . import _worker

        _worker.configure(None if rules is None else [str(Path(r).resolve()) for r in rules])
    if _app is None:
        from . import _limits

        limits = _limits.Limits.from_env()  # RuntimeError (Chinese) before anything changes
        try:
            import xlwings_server.main as xsm

            from ._book import check_xlwings
        except Exception as exc:  # xlwings.LicenseError: no usable XLWINGS_LICENSE_KEY
            if type(exc).__name__ == "LicenseError":
                raise RuntimeError(_env.LICENCE_MESSAGE) from None
            raise
        from starlette.middleware import Middleware

        from ._routes import router
        from ._static import contain_static_mounts

        check_xlwings()
        _limits.configure(limits)
        _limits.share_the_interpreter()
        contain_static_mounts(xsm.app)
        # innermost, so xlwings' security headers also go on a refusal
        xsm.app.user_middleware.append(Middleware(_limits.BodyLimit))
        # The add-in's routes go first, so its /manifest.xml answers instead of
        # xlwings Server's example manifest (first match wins).
        routes = xsm.app.router.routes
        before = len(routes)
        xsm.app.include_router(router)
        routes[:] = routes[before:] + routes[:before]
        _app = xsm.main_app
    return _app
