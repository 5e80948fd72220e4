"""Where rule packs come from, and finding one by id and content hash.

The one pack loader of the project.  Packs are looked for, in order, in the
files and folders a caller names (``--rules``), ``./rules``, the ``rules/``
folder of a source checkout (editable installs) and the packs bundled in the
package (``rubric_xl/data/rules``, copied from ``rules/`` when the wheel is
built, see ``setup.py``).  A pack id such as ``shanxi-2005`` names the first
pack with that id in that order.  Loaded packs are cached per process, keyed by
file and modification time.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import PackError, Problem
from .pack import RulePack, load_pack

_DATA = Path(__file__).resolve().parents[1] / "data"
BUNDLED_RULES = _DATA / "rules"
BUNDLED_TEMPLATES = _DATA / "templates"
PACK_SUFFIXES = (".yaml", ".yml")
# the "id:" line of a pack file, read without loading the whole pack
_ID_LINE = re.compile(r"^id:\s*['\"]?([a-z0-9][a-z0-9-]*)['\"]?\s*(?:#.*)?$", re.M)
_PACK_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_CACHE: dict[str, tuple[float, RulePack]] = {}


def checkout_rules() -> Path | None:
    """``rules/`` of the source checkout this package runs from, if any."""
    root = Path(__file__).resolve().parents[3]
    d = root / "rules"
    return d if d.is_dir() and (root / "pyproject.toml").is_file() else None


def _unique(dirs: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    seen: set[Path] = set()
    for d in dirs:
        r = d.resolve()
        if d.is_dir() and r not in seen:
            seen.add(r)
            out.append(d)
    return out


def default_dirs() -> list[Path]:
    """``./rules``, the checkout's ``rules/``, then the bundled packs, each once."""
    checkout = checkout_rules()
    return _unique([Path.cwd() / "rules"] + ([checkout] if checkout else []) + [BUNDLED_RULES])


def pack_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders (``*.yaml``/``*.yml``) in a stable order.
    Raises :class:`PackError` for a path that does not exist."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(x for x in p.iterdir() if x.suffix in PACK_SUFFIXES and x.is_file()))
        elif p.exists():
            out.append(p)
        else:
            raise PackError(f"找不到规则包：{p}", [Problem(str(p), "文件或文件夹不存在")])
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


def cached(pack_hash: str) -> RulePack | None:
    """A pack this process has loaded, by content hash."""
    return next((p for _, p in _CACHE.values() if p.hash == pack_hash), None)


def declared_id(path: Path) -> str | None:
    """The ``id:`` a pack file declares (without loading it)."""
    try:
        head = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return None
    m = _ID_LINE.search(head)
    return m.group(1) if m else None


@dataclass
class PackMatch:
    pack: RulePack
    path: Path
    exact: bool  # same content hash as asked for (or no hash asked for)


def find_pack(pack_id: str, pack_hash: str | None = None,
              dirs: Iterable[Path] | None = None) -> tuple[PackMatch | None, list[PackError]]:
    """The pack file for *pack_id* in *dirs* (default :func:`default_dirs`),
    preferring one whose hash is *pack_hash*.

    Returns the match (or ``None``) and the errors of candidate files that did
    not load, so a broken pack file is reported rather than called "unknown".
    """
    broken: list[PackError] = []
    first: PackMatch | None = None
    for path in pack_files(_unique(map(Path, default_dirs() if dirs is None else dirs))):
        if declared_id(path) != pack_id:
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


def require_pack(pack_id: str, search: Iterable[str | Path] = (), pack_hash: str | None = None,
                 ) -> tuple[RulePack, Path]:
    """The pack *pack_id* and its file, or :class:`PackError` in Chinese.

    Looks in *search* (pack files or folders, e.g. a ``--rules`` option), then
    :func:`default_dirs`.  With *pack_hash*, only a pack with exactly that
    content is accepted; a pack with the same id but other content is an error
    naming both versions.
    """
    explicit = [Path(p) for p in search]
    files = [p for p in explicit if not p.is_dir()]
    dirs = _unique([p for p in explicit if p.is_dir()] + default_dirs())
    other: tuple[RulePack, Path] | None = None
    for f in files:
        if not f.exists():
            raise PackError("找不到规则包文件", [Problem(str(f), "文件不存在")])
        pack = load_cached(f)  # an explicit file that does not load is the user's error to see
        if pack.id != pack_id:
            raise PackError("规则包与模板不符",
                            [Problem(str(f), f"这是规则包 {pack.id}，模板需要的是 {pack_id}")])
        if pack_hash is None or pack.hash == pack_hash:
            return pack, f
        other = other or (pack, f)
    match, broken = find_pack(pack_id, pack_hash, dirs)
    if match is not None and (pack_hash is None or match.exact):
        return match.pack, match.path
    if match is not None:
        other = other or (match.pack, match.path)
    if other is not None:
        pack, path = other
        raise PackError("模板与规则包版本不一致", [Problem(str(path), (
            f"模板由规则包 {pack_id} 的另一版本生成（模板记录的校验码 {(pack_hash or '')[:12]}，"
            f"此文件为版本 {pack.version}、校验码 {pack.short_hash}）；请用 --rules 指定生成模板时的规则包，"
            "或用当前规则包重新生成模板"))])
    where = "、".join(str(d) for d in dirs) or "./rules"
    extra = [p for exc in broken for p in exc.problems]
    raise PackError(f"找不到规则包 {pack_id}",
                    [Problem(pack_id, f"在 {where} 中没有找到；请用 --rules 指定规则包文件")] + extra)


def available(dirs: Iterable[Path] | None = None) -> tuple[list[PackMatch], list[PackError]]:
    """Every pack in *dirs* (default :func:`default_dirs`) in search order, the
    first of each id only, and the errors of files that did not load."""
    found: list[PackMatch] = []
    broken: list[PackError] = []
    seen: set[str] = set()
    for path in pack_files(_unique(map(Path, default_dirs() if dirs is None else dirs))):
        try:
            pack = load_cached(path)
        except PackError as exc:
            broken.append(exc)
            continue
        if pack.id not in seen:
            seen.add(pack.id)
            found.append(PackMatch(pack, path, True))
    return found, broken


def is_pack_id(text: str) -> bool:
    """``shanxi-2005`` is a pack id; ``rules/x.yaml`` and ``x.yaml`` are paths."""
    return bool(_PACK_ID.match(text)) and not text.endswith(PACK_SUFFIXES)


def locate(ref: str | Path) -> Path:
    """A ``--rules`` value as a path: an existing file or folder as it is, a
    pack id as the file of that pack.  Raises :class:`PackError`."""
    p = Path(ref)
    if p.exists() or not is_pack_id(str(ref)):
        return p
    match, broken = find_pack(str(ref))
    if match is not None:
        return match.path
    found, more = available()
    known = "、".join(m.pack.id for m in found) or "无"
    extra = [pr for exc in broken + more for pr in exc.problems]
    raise PackError(f"找不到规则包 {ref}", [Problem(
        str(ref), f"既不是文件，也不是已有规则包的编号；已有规则包：{known}（rubric-xl rules list 可查看）")] + extra)


def template_for(pack_id: str) -> Path | None:
    """The ready-made template of *pack_id*: the checkout's
    ``workbook_templates/`` (source installs), else the one bundled in the package."""
    checkout = checkout_rules()
    for d in ([checkout.parent / "workbook_templates"] if checkout else []) + [BUNDLED_TEMPLATES]:
        f = d / f"{pack_id}.xlsx"
        if f.is_file():
            return f
    return None


class PackRegistry:
    """A fixed set of packs (e.g. a server's), matched by content hash and id."""

    def __init__(self, packs: Iterable[RulePack]):
        self.packs = list(packs)
        self.by_hash = {p.hash: p for p in self.packs}
        self.by_id: dict[str, list[RulePack]] = {}
        for p in self.packs:
            self.by_id.setdefault(p.id, []).append(p)

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path]) -> "PackRegistry":
        files = pack_files(paths)
        if not files:
            raise PackError("没有找到任何规则包（*.yaml）", [])
        return cls(load_cached(f) for f in files)

    def exact(self, pack_id: str, pack_hash: str) -> RulePack | None:
        pack = self.by_hash.get(pack_hash)
        return pack if pack is not None and pack.id == pack_id else None
