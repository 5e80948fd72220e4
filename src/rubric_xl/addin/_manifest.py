"""The Office add-in manifest (XML) for IT to deploy centrally.

Pure Python on purpose: ``rubric-xl addin manifest`` works on an administrator's
PC without the ``addin`` extra.  The add-in id is fixed (:data:`ADDIN_ID`), so a
redeployed manifest updates the same add-in; the manifest version follows the
rubric-xl version.
"""
from __future__ import annotations

import string
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from .._version import __version__
from ._env import ADDIN_DIR, ADDIN_ID, NAMESPACE

TEMPLATE = ADDIN_DIR / "templates" / "rubric-manifest.xml"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def manifest_version(version: str = __version__) -> str:
    parts = [p for p in version.split(".") if p.isdigit()][:4]
    return ".".join(parts + ["0"] * (4 - len(parts)))


def check_base_url(url: str) -> str:
    """The URL the add-in is served at, without a trailing slash; ValueError in Chinese."""
    u = urlsplit(url.strip())
    if u.scheme not in ("http", "https") or not u.netloc:
        raise ValueError(f"地址无效：{url!r}，应为 https://服务器名[/路径]")
    if u.query or u.fragment:
        raise ValueError(f"地址中不能含有 ? 或 #：{url!r}")
    if u.scheme != "https" and (u.hostname or "") not in LOCAL_HOSTS:
        raise ValueError(f"Office 加载项必须通过 HTTPS 访问（本机测试除外）：{url!r}")
    return f"{u.scheme}://{u.netloc}{u.path.rstrip('/')}"


def render_manifest(url: str, addin_id: str = ADDIN_ID, *, check_url: bool = True) -> str:
    base = check_base_url(url) if check_url else url.rstrip("/")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))
    values = {"id": addin_id, "version": manifest_version(), "base": base, "origin": origin,
              "namespace": NAMESPACE}
    text = Path(TEMPLATE).read_text(encoding="utf-8")
    return string.Template(text).substitute({k: escape(v, {'"': "&quot;"}) for k, v in values.items()})
