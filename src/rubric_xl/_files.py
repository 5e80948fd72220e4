"""Reading input files: one place for the Chinese errors of a missing,
unreadable or wrongly encoded file."""
from __future__ import annotations

from pathlib import Path

from .errors import InputFileError, Problem


def read_bytes(path: str | Path, what: str = "文件") -> bytes:
    """The bytes of *path* (never written to); *what* names it in messages."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"找不到{what}", [Problem(str(p), "找不到此文件")]) from None
    except IsADirectoryError:
        raise InputFileError(f"{what}应为文件而不是目录", [Problem(str(p), "这是一个目录")]) from None
    except OSError as exc:
        raise InputFileError(f"无法读取{what}", [Problem(str(p), exc.strerror or str(exc))]) from None


def read_text(path: str | Path, what: str = "文件") -> str:
    """The UTF-8 text of *path* (a byte-order mark is allowed)."""
    try:
        return read_bytes(path, what).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(f"{what}编码错误", [Problem(str(path), "应为 UTF-8 编码的文本文件")]) from None
