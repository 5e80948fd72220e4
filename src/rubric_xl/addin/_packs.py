"""The rule packs a server can score with, and matching a workbook's ``_meta`` to one.

A workbook names its pack in ``_meta`` (``pack_id``, ``pack_version``, full
``pack_hash``).  The server scores it only with a pack of exactly that hash: a
workbook made from another pack, or from an older or newer version of the same
pack, gets a Chinese explanation instead of a score that could be wrong.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from ..errors import InputFileError, PackError, Problem
from ..rules import RulePack, load_pack

ENV_RULES = "RUBRIC_XL_RULES"


def pack_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders (``*.yaml``/``*.yml``) in a stable order."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(x for x in p.iterdir() if x.suffix in (".yaml", ".yml")))
        elif p.exists():
            out.append(p)
        else:
            raise PackError(f"找不到规则包：{p}", [Problem(str(p), "文件或文件夹不存在")])
    return out


class PackRegistry:
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
        return cls(load_pack(f) for f in files)

    def resolve(self, meta: dict[str, str], where: str) -> RulePack:
        """The pack a workbook was generated from, or InputFileError in Chinese."""
        pid = (meta.get("pack_id") or "").strip()
        phash = (meta.get("pack_hash") or "").strip().lower()
        version = (meta.get("pack_version") or "").strip() or "未知"
        if not pid or not phash:
            raise InputFileError(
                "此工作簿的 _meta 工作表缺少 pack_id 或 pack_hash，无法确定评分规则。",
                [Problem(f"{where} _meta", "应由 rubric-xl 生成的标准填报模板提供")])
        pack = self.by_hash.get(phash)
        if pack is not None and pack.id == pid:
            return pack
        same = self.by_id.get(pid)
        if not same:
            known = "、".join(sorted(self.by_id)) or "无"
            raise InputFileError(
                f"服务器上没有此工作簿使用的规则包“{pid}”（版本 {version}）。"
                f"服务器现有规则包：{known}。请联系管理员。",
                [Problem(f"{where} _meta!B1", f"pack_id = {pid}")])
        have = "、".join(f"{p.version}（{p.short_hash}）" for p in same)
        raise InputFileError(
            f"此工作簿由规则包“{same[0].model.title}”的另一版本生成"
            f"（工作簿：版本 {version}，标识 {phash[:12] or '无'}；服务器：版本 {have}），"
            "评分规则可能不同，评分助手不予评分。请向上级索取最新的填报模板，把数据转填后再评分。",
            [Problem(f"{where} _meta", "pack_hash 与服务器上的规则包不一致")])


_registry: PackRegistry | None = None


def configure(paths: Iterable[str | Path] | None) -> PackRegistry:
    """Load the server's packs (``None``: from ``RUBRIC_XL_RULES`` or ``./rules``)."""
    global _registry
    if paths is None:
        env = os.environ.get(ENV_RULES, "")
        paths = [p for p in env.split(os.pathsep) if p] or (["rules"] if Path("rules").is_dir() else [])
    _registry = PackRegistry.from_paths(list(paths))
    return _registry


def registry() -> PackRegistry:
    return _registry if _registry is not None else configure(None)
