"""The rule packs a server scores with, and matching a workbook's ``_meta`` to one.

A workbook names its pack in ``_meta`` (``pack_id``, ``pack_version``, full
``pack_hash``).  The server scores it only with a pack of exactly that hash: a
workbook made from another pack, or from an older or newer version of the same
pack, gets a Chinese explanation instead of a score that could be wrong.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from ..errors import InputFileError, Problem
from ..rules import RulePack
from ..rules.catalog import PackRegistry, available

ENV_RULES = "RUBRIC_XL_RULES"


class ServerPacks(PackRegistry):
    """The packs this server scores with."""

    def resolve(self, meta: dict[str, str], where: str) -> RulePack:
        """The pack a workbook was generated from, or InputFileError in Chinese."""
        pid = (meta.get("pack_id") or "").strip()
        phash = (meta.get("pack_hash") or "").strip().lower()
        version = (meta.get("pack_version") or "").strip() or "未知"
        if not pid or not phash:
            raise InputFileError(
                "此工作簿的 _meta 工作表缺少 pack_id 或 pack_hash，无法确定评分规则。",
                [Problem(f"{where} _meta", "应由 rubric-xl 生成的标准填报模板提供")])
        pack = self.exact(pid, phash)
        if pack is not None:
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


_registry: ServerPacks | None = None


def configure(paths: Iterable[str | Path] | None) -> ServerPacks:
    """Load the server's packs (``None``: from ``RUBRIC_XL_RULES``, else every
    pack in ``./rules``, else the checkout's or the bundled packs)."""
    global _registry
    if paths is None:
        env = os.environ.get(ENV_RULES, "")
        paths = [p for p in env.split(os.pathsep) if p] or (
            ["rules"] if Path("rules").is_dir() else [m.path for m in available()[0]])
    _registry = ServerPacks.from_paths(list(paths))
    return _registry


def registry() -> ServerPacks:
    return _registry if _registry is not None else configure(None)
