"""Bounds on what one request may cost the server, so that no request stalls the others.

* :class:`BodyLimit` – ASGI middleware: a request body larger than
  ``max_body`` bytes is refused with 413 while it streams in (the
  ``Content-Length`` header is checked first, but a missing or lying header and
  chunked bodies are counted as they arrive, so at most ``max_body`` bytes are
  ever held); a body that does not arrive within ``body_timeout`` seconds gets 408.
  The body is then handed to the app in one piece.
* :func:`run_scoring` – runs a synchronous scoring call in a worker thread, so the
  event loop keeps answering while a workbook is scored.  At most
  ``scoring_threads`` calls run at once, and of those at most one *large* body
  (over ``LARGE_BODY`` bytes; :func:`large_slot`, also used by :mod:`._worker`'s
  process): large ledgers queue behind each other instead of taking every thread.
* ``max_ledger_rows`` – the most ledger rows a workbook may send (read by
  :mod:`._book`); ``large_timeout`` – the most seconds a large body may take in
  :mod:`._worker`'s process, which is stopped after that.
* :func:`share_the_interpreter` – scoring is pure Python, so threads share one
  interpreter lock; a shorter switch interval (1 ms instead of 5 ms) lets the event
  loop and a short request take their turn while a large ledger is being scored.

Settings come from the environment (documented in docs/addin.md); a value that is
not a positive number stops the server with a Chinese message.
"""
from __future__ import annotations

import gc
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import anyio
import anyio.to_thread

ENV_MAX_BODY_MB = "RUBRIC_XL_ADDIN_MAX_BODY_MB"
ENV_BODY_TIMEOUT = "RUBRIC_XL_ADDIN_BODY_TIMEOUT"
ENV_THREADS = "RUBRIC_XL_ADDIN_SCORING_THREADS"
ENV_MAX_ROWS = "RUBRIC_XL_ADDIN_MAX_LEDGER_ROWS"
ENV_LARGE_TIMEOUT = "RUBRIC_XL_ADDIN_LARGE_TIMEOUT"

DEFAULT_MAX_BODY_MB = 4.0  # a 2005 workbook sends ~60 KB, a 2,000-row ledger ~420 KB
DEFAULT_BODY_TIMEOUT = 30.0
DEFAULT_THREADS = 4
DEFAULT_MAX_ROWS = 10_000  # 20 × the template's 500 pre-formatted rows
DEFAULT_LARGE_TIMEOUT = 120.0  # a 10,000-row ledger takes ~5 s on a 2-core machine
LARGE_BODY = 256 * 1024

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    max_body: int = int(DEFAULT_MAX_BODY_MB * 1024 * 1024)
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    scoring_threads: int = DEFAULT_THREADS
    max_ledger_rows: int = DEFAULT_MAX_ROWS
    large_timeout: float = DEFAULT_LARGE_TIMEOUT

    @classmethod
    def from_env(cls) -> "Limits":
        mb = _positive(ENV_MAX_BODY_MB, DEFAULT_MAX_BODY_MB, float)
        return cls(max_body=int(mb * 1024 * 1024),
                   body_timeout=_positive(ENV_BODY_TIMEOUT, DEFAULT_BODY_TIMEOUT, float),
                   scoring_threads=_positive(ENV_THREADS, DEFAULT_THREADS, int),
                   max_ledger_rows=_positive(ENV_MAX_ROWS, DEFAULT_MAX_ROWS, int),
                   large_timeout=_positive(ENV_LARGE_TIMEOUT, DEFAULT_LARGE_TIMEOUT, float))


def _positive(env: str, default, kind):
    text = os.environ.get(env, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not value > 0 or value == float("inf"):
        what = "正整数" if kind is int else "正数"
        raise RuntimeError(f"环境变量 {env} 的值“{text}”无效，应为{what}。")
    return value


limits = Limits()
_threads: anyio.CapacityLimiter | None = None
_large: anyio.CapacityLimiter | None = None


def configure(new: Limits) -> Limits:
    """Install *new* limits (the limiters are created lazily, inside the event loop)."""
    global limits, _threads, _large
    limits = new
    _threads = _large = None
    return limits


def _limiters() -> tuple[anyio.CapacityLimiter, anyio.CapacityLimiter]:
    global _threads, _large
    if _threads is None or _large is None:
        _threads = anyio.CapacityLimiter(limits.scoring_threads)
        _large = anyio.CapacityLimiter(1)
    return _threads, _large


def large_slot() -> anyio.CapacityLimiter:
    """The one slot for scoring a large body."""
    return _limiters()[1]


async def run_scoring(func: Callable[..., T], *args: Any, size: int = 0) -> T:
    """``func(*args)`` in a worker thread; *size* is the request body's length."""
    threads, large = _limiters()
    if size > LARGE_BODY:
        async with large:
            return await anyio.to_thread.run_sync(func, *args, limiter=threads)
    return await anyio.to_thread.run_sync(func, *args, limiter=threads)


SWITCH_INTERVAL = 0.001


def share_the_interpreter() -> None:
    """Use :data:`SWITCH_INTERVAL` unless the process already chose another value,
    and keep the objects of start-up (packs, libraries) out of garbage collection,
    so a full collection during a large ledger does not pause every thread long."""
    if sys.getswitchinterval() == 0.005:  # CPython's default
        sys.setswitchinterval(SWITCH_INTERVAL)
    gc.collect()
    gc.freeze()


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


def too_large_message(max_body: int) -> str:
    return (f"请求数据过大（超过 {_mb(max_body)} MB），评分助手不予处理。"
            "请确认打开的是上级下发的标准填报模板；台账行数很多时请分成几个工作簿填报，"
            f"或请管理员调整 {ENV_MAX_BODY_MB}。")


TIMEOUT_MESSAGE = "接收请求数据超时（网络过慢或连接中断），请稍后重试。"
BAD_LENGTH_MESSAGE = "请求头 Content-Length 无效。"


class BodyLimit:
    """ASGI middleware enforcing :data:`limits` ``max_body`` and ``body_timeout``."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cap = limits.max_body
        declared = _content_length(scope)
        if declared == -1:
            return await _refuse(send, 400, BAD_LENGTH_MESSAGE)
        if declared is not None and declared > cap:
            return await _refuse(send, 413, too_large_message(cap))
        chunks: list[bytes] = []
        size = 0
        try:
            with anyio.fail_after(limits.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    body = message.get("body", b"")
                    size += len(body)
                    if size > cap:
                        return await _refuse(send, 413, too_large_message(cap))
                    if body:
                        chunks.append(body)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            return await _refuse(send, 408, TIMEOUT_MESSAGE)
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        chunks.clear()
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return whole
            return await receive()  # http.disconnect, for streaming responses

        return await self.app(scope, replay, send)


def _content_length(scope) -> int | None:
    """The declared length; ``None`` when absent, ``-1`` when malformed or repeated."""
    values = [v for k, v in scope.get("headers", []) if k.lower() == b"content-length"]
    if not values:
        return None
    text = values[0].strip()
    if len(values) > 1 or not text.isdigit():
        return -1
    return int(text) if len(text) <= 18 else 10**18  # no int() of a 5,000-digit header


async def _refuse(send, status: int, msg: str) -> None:
    body = json.dumps({"ok": False, "message": msg, "detail": msg}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
