"""Reading input files and writing outputs: one place for the Chinese errors
of a missing, unreadable or wrongly encoded file, and the one output writer.

:func:`write_output` is the only way rubric-xl writes a file.  It refuses an
output that is one of the command's inputs (the same file by device and inode:
hard links, symlinks and ``./x`` spellings included), writes regular files
atomically (a temp file in the same folder, then a rename; a symlink is written
through, never replaced), and writes a character device (``/dev/null``) or a
FIFO directly instead of renaming over it.  A FIFO with no reader is an error,
never a hang.  Errors name the output, never the temp file.
"""
from __future__ import annotations

import errno
import os
import select
import stat
import tempfile
from pathlib import Path
from typing import Iterable

from .errors import InputFileError, Problem

Inputs = Iterable[tuple[str, "str | Path"]]  # (what the input is, e.g. 模板; its path)

MAX_INPUT_BYTES = 100 * 2 ** 20  # one input file (a workbook template)
MAX_TEXT_BYTES = 16 * 2 ** 20  # one text input: a pack, facts file, cases file, unit list
FIFO_WAIT = 5.0  # seconds a named pipe given as an input may take to get a writer


class _NoWriter(Exception):
    """A named pipe input that got no writer in time."""

_ERRNO_TEXT = {getattr(errno, name): text for name, text in (  # getattr: not every name exists on Windows
    ("ENOENT", "路径不存在"), ("EACCES", "没有权限"), ("EPERM", "不允许此操作"),
    ("ENOSPC", "磁盘空间不足"), ("EROFS", "文件系统是只读的"), ("ENAMETOOLONG", "文件名过长"),
    ("ENOTDIR", "路径中有一部分不是目录"), ("EISDIR", "这是一个目录"), ("EEXIST", "已存在"),
    ("EIO", "读写设备出错"), ("EBUSY", "文件正被占用"), ("EINVAL", "路径或文件名无效"),
    ("ELOOP", "符号链接循环"), ("EFBIG", "文件过大"), ("EDQUOT", "超出磁盘配额"),
) if hasattr(errno, name)}


def os_error_text(exc: OSError) -> str:
    """The Chinese reason of an operating-system error (never a temp-file name)."""
    text = _ERRNO_TEXT.get(exc.errno or 0)
    if text:
        return text
    return f"系统错误（{exc.strerror or type(exc).__name__}）"


def read_bytes(path: str | Path, what: str = "文件", limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of *path* (never written to); *what* names it in messages.
    More than *limit* bytes (``/dev/zero`` never ends) is an error."""
    p = Path(path)
    fifo = False
    try:
        # non-blocking open: a named pipe nobody writes to must not hang the open
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as fh:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(errno.EISDIR, "directory")
            fifo = stat.S_ISFIFO(mode)
            if fifo:  # a pipe (/dev/stdin, <(…)) is read to its end, once a writer is there
                if not select.select([fd], [], [], FIFO_WAIT)[0]:
                    raise _NoWriter
                os.set_blocking(fd, True)
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise InputFileError(f"找不到{what}", [Problem(str(p), "找不到此文件")]) from None
    except IsADirectoryError:
        raise InputFileError(f"{what}应为文件而不是目录", [Problem(str(p), "这是一个目录")]) from None
    except _NoWriter:
        data = b""
    except OSError as exc:
        raise InputFileError(f"无法读取{what}", [Problem(str(p), os_error_text(exc))]) from None
    if fifo and not data:
        raise InputFileError(f"无法读取{what}", [Problem(str(p), (
            f"这是命名管道（FIFO），{FIFO_WAIT:g} 秒内没有程序向它写入内容；请给出普通文件"))])
    if len(data) > limit:
        raise InputFileError(f"{what}过大", [Problem(str(p), f"文件过大（超过 {limit // 2 ** 20} MB）")])
    return data


def read_text(path: str | Path, what: str = "文件", limit: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of *path* (a byte-order mark is allowed), at most *limit* bytes."""
    try:
        return read_bytes(path, what, limit).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(f"{what}编码错误", [Problem(str(path), "应为 UTF-8 编码的文本文件")]) from None


# --- outputs -------------------------------------------------------------------


def _identity(path: str | Path) -> tuple[int, int] | None:
    """(device, inode) of a regular file; ``None`` for anything else (a
    terminal given as both ``/dev/stdin`` and ``/dev/stdout`` is no clash)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def pack_inputs(path: str | Path | None, what: str = "规则包") -> list[tuple[str, Path]]:
    """The files a ``--rules`` argument reads: the file, or the packs in a folder."""
    if path is None:
        return []
    p = Path(path)
    if p.is_dir():
        return [(what, f) for f in sorted(p.rglob("*")) if f.suffix.lower() in (".yaml", ".yml")]
    return [(what, p)]


def find_input(output: str | Path, inputs: Inputs) -> tuple[str, str] | None:
    """The ``(what, path)`` of the input that *output* is (same file), else ``None``."""
    out = _identity(output)
    if out is None:
        return None
    for what, path in inputs:
        if _identity(path) == out:
            return what, str(path)
    return None


def output_is_input(output: str | Path, what: str, path: str) -> str:
    """The Chinese message for an output that is an input."""
    same = "" if str(output) == path else f"（与{what} {path} 是同一个文件）"
    return f"输出文件 {output} 就是输入的{what}{same}：输入文件不会被修改，请用 -o 指定另一个文件。"


def _failure(path: Path, exc: OSError) -> InputFileError:
    return InputFileError("无法写入输出文件", [Problem(str(path), os_error_text(exc))])


def write_output(path: str | Path, data: bytes | str, *, inputs: Inputs = ()) -> None:
    """Write *data* (text is UTF-8) to *path*; see the module docstring.
    Raises :class:`InputFileError` in Chinese."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    clash = find_input(path, inputs)
    if clash is not None:
        raise InputFileError("输出文件不能是输入文件", [Problem(str(path), output_is_input(path, *clash))])
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _failure(path, exc) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputFileError("输出位置是目录", [Problem(str(path), "这是一个目录，请给出文件名")])
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_special(path, raw, st.st_mode)
        return
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        _write_atomic(target, raw)
    except OSError as exc:
        raise _failure(path, exc) from None


def _write_special(path: Path, raw: bytes, mode: int) -> None:
    """A character device or a FIFO: written in place, never renamed over."""
    if stat.S_ISFIFO(mode):
        flags = os.O_WRONLY | getattr(os, "O_NONBLOCK", 0)
    elif stat.S_ISCHR(mode):
        flags = os.O_WRONLY
    else:  # block device, socket, …
        raise InputFileError("不能写入此输出位置", [Problem(str(path), "不是普通文件（块设备或套接字），请给出普通文件名")])
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == getattr(errno, "ENXIO", None):
            raise InputFileError("无法写入管道", [Problem(str(path), "没有程序在读取此管道（FIFO），请先启动读取方")]) \
                from None
        raise _failure(path, exc) from None
    try:
        if stat.S_ISFIFO(mode):
            os.set_blocking(fd, True)
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise _failure(path, exc) from None
    finally:
        os.close(fd)


def _write_atomic(path: Path, raw: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # a short temp name: a long output name must not make the temp name too long
    fd, tmp = tempfile.mkstemp(prefix=".rubric-xl-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        # mkstemp makes the file 0600; give it the usual permissions (umask applied)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
