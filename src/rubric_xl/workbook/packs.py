"""Find the rule pack a template was generated from."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..errors import PackError, Problem
from ..reader.packs import default_dirs, load_cached
from ..reader.packs import find_pack as _find_in_dirs
from ..rules.pack import RulePack


def bundled_dirs() -> list[Path]:
    """Rules shipped inside the package (``rubric_xl/data/rules``), if any."""
    d = Path(__file__).resolve().parent.parent / "data" / "rules"
    return [d] if d.is_dir() else []


def find_pack(pack_id: str, search: Iterable[str | Path] = (), pack_hash: str | None = None,
              ) -> tuple[RulePack, Path]:
    """The pack *pack_id* and its file.

    Looks, in order, in *search* (pack files or folders, e.g. a ``--rules``
    option), then ``./rules``, the checkout's ``rules/`` and the package's
    bundled rules.  With *pack_hash*, only a pack with exactly that content is
    accepted; a pack with the same id but other content is an error naming both
    versions.  Raises :class:`PackError`.
    """
    explicit = [Path(p) for p in search]
    files = [p for p in explicit if not p.is_dir()]
    dirs = [p for p in explicit if p.is_dir()] + default_dirs() + bundled_dirs()
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
    seen: set[Path] = set()
    unique = [d for d in dirs if not (d.resolve() in seen or seen.add(d.resolve()))]
    match, broken = _find_in_dirs(pack_id, pack_hash, unique)
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
    where = "、".join(str(d) for d in unique) or "./rules"
    extra = [p for exc in broken for p in exc.problems]
    raise PackError(f"找不到规则包 {pack_id}",
                    [Problem(pack_id, f"在 {where} 中没有找到；请用 --rules 指定规则包文件")] + extra)
