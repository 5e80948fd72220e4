"""Find the rule pack a workbook was made from.

A workbook's ``_meta`` names its pack (``pack_id``) and the exact content
(``pack_hash``).  Packs are looked for in ``./rules`` and in the ``rules/``
folder of the rubric-xl checkout; a pack with the same hash is preferred, then
one with the same id (the caller reports the hash difference).  Loaded packs
are cached per process, keyed by file and modification time.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import PackError
from ..rules import RulePack, load_pack

_ID_LINE = re.compile(r"^id:\s*['\"]?([a-z0-9][a-z0-9-]*)['\"]?\s*(?:#.*)?$", re.M)
_CACHE: dict[str, tuple[float, RulePack]] = {}


def default_dirs() -> list[Path]:
    """``./rules``, the checkout's ``rules/`` (when installed from source), then
    the rules bundled in the package (``rubric_xl/data/rules``), each once."""
    here = Path(__file__).resolve()
    out: list[Path] = []
    for d in (Path.cwd() / "rules", here.parents[3] / "rules", here.parents[1] / "data" / "rules"):
        if d.is_dir() and all(d.resolve() != o.resolve() for o in out):
            out.append(d)
    return out


def load_cached(path: str | Path) -> RulePack:
    """:func:`load_pack` once per file (and again when the file changes)."""
    p = str(Path(path).resolve())
    mtime = os.stat(p).st_mtime
    hit = _CACHE.get(p)
    if hit is None or hit[0] != mtime:
        hit = (mtime, load_pack(path))
        _CACHE[p] = hit
    return hit[1]


@dataclass
class PackMatch:
    pack: RulePack
    path: Path
    exact: bool  # same content hash as the workbook's template


def _declared_id(path: Path) -> str | None:
    try:
        head = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return None
    m = _ID_LINE.search(head)
    return m.group(1) if m else None


def find_pack(pack_id: str, pack_hash: str | None = None,
              dirs: list[Path] | None = None) -> tuple[PackMatch | None, list[PackError]]:
    """The pack file for *pack_id*, preferring one whose hash is *pack_hash*.

    Returns the match (or ``None``) and the errors of candidate files that did
    not load, so a broken pack file is reported rather than called "unknown".
    """
    broken: list[PackError] = []
    first: PackMatch | None = None
    for d in default_dirs() if dirs is None else dirs:
        files = sorted(list(Path(d).glob("*.yaml")) + list(Path(d).glob("*.yml")))
        for path in files:
            if _declared_id(path) != pack_id:
                continue
            try:
                pack = load_cached(path)
            except PackError as exc:
                broken.append(exc)
                continue
            if pack.id != pack_id:
                continue
            if pack_hash and pack.hash == pack_hash:
                return PackMatch(pack, path, True), broken
            if first is None:
                first = PackMatch(pack, path, not pack_hash)
    return first, broken
