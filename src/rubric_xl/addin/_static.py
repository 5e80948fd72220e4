"""Static files with a containment check, replacing xlwings-server's file mounts.

xlwings-server 1.20.0 serves ``/static`` (and, with Wasm enabled, ``/wasm``,
``/custom_functions``, ``/custom_scripts``) with ``OverridableStaticFiles``, whose
``lookup_path`` joins the project folder and the request path and serves the
result if it is a file, without checking that it stays inside the folder:
``GET /static/%2e%2e/%2e%2e/…/etc/passwd`` answered with the file.  Here every such
mount is replaced by :class:`ContainedStaticFiles` over the same folders (project
folder first, then xlwings-server's own), which

* refuses, before touching the file system, any path with a ``..`` segment (or
  a segment of only dots and spaces, such as ``.. `` or ``...``, which Windows
  may trim to ``..``), a backslash, a colon (Windows drive or stream), a NUL or
  other control character, or that is absolute — whatever its spelling in the URL, since the path is
  checked after the server has decoded it;
* then lets Starlette's ``StaticFiles.lookup_path`` resolve it, which follows
  symlinks (``realpath``) and serves it only if the real file is inside the
  folder: a symlink inside ``static/`` pointing outside answers 404 (a symlink
  loop too, instead of Starlette's 500).

Anything refused answers 404, like a file that does not exist.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\:]")


def safe_relative(path: str, sep: str = os.sep) -> bool:
    """True when *path* — as Starlette hands it over: decoded from the URL, with
    *sep* between segments — is a plain relative path: no ``..`` segment, nothing
    absolute, no colon or control character, and (where the separator is ``/``)
    no backslash."""
    if sep != "/":  # Windows: the backslash is the separator here
        path = path.replace(sep, "/")
    if not path or path.startswith("/") or _UNSAFE.search(path):
        return False
    # ".." and what Windows may trim to it (trailing dots and spaces: ".. ", "...")
    return not any(seg != "." and seg and not seg.rstrip(". ") for seg in path.split("/"))


class ContainedStaticFiles(StaticFiles):
    """``StaticFiles`` over several folders, first match wins, each lookup checked."""

    def __init__(self, directories: Iterable[str | Path], **kwargs):
        dirs = [str(d) for d in directories]
        super().__init__(directory=dirs[0], **kwargs)  # follow_symlink stays False
        self.all_directories = dirs

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if not safe_relative(path):
            return "", None
        try:
            return super().lookup_path(path)
        except OSError:  # a symlink loop, a name too long: no such file
            return "", None


def _directories(app: StaticFiles) -> list[str]:
    user = getattr(app, "user_dir", None)  # xlwings-server's OverridableStaticFiles
    dirs = [str(user)] if user is not None else []
    return dirs + [str(d) for d in app.all_directories]


def contain_static_mounts(app) -> list[str]:
    """Replace every static-file mount of *app* (a Starlette/FastAPI app) by a
    :class:`ContainedStaticFiles` over the same folders; returns the mount paths."""
    done = []
    for route in app.router.routes:
        if isinstance(route, Mount) and isinstance(route.app, StaticFiles) \
                and not isinstance(route.app, ContainedStaticFiles):
            route.app = ContainedStaticFiles(_directories(route.app), html=route.app.html)
            done.append(route.path)
    return done
