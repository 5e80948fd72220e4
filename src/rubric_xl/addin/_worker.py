"""Answer one scoring request body — parse, score, render — off the event loop.

:func:`score_body` (task pane) and :func:`functions_body` (a RUBRIC.* batch) are the
whole job, bytes in, bytes out.  :func:`score` and :func:`functions` run them

* for a normal body, in a worker thread (:func:`._limits.run_scoring`);
* for a large body (over ``LARGE_BODY``, i.e. a ledger of hundreds of rows), in a
  separate worker process at lower priority (``anyio.to_process``), one at a time.
  Scoring is pure Python: in a thread, a large ledger would hold the interpreter
  lock for seconds in total (and keep it while the operating system pauses the
  thread), so every normal request would wait; in its own process it only takes
  CPU time the normal requests do not need.

The worker process configures itself on its first call from the arguments (the
server's pack files and limits); its environment is the server's.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import anyio
import anyio.to_process
from anyio import BrokenWorkerProcess

from . import _limits
from ._json import dumps, parse_json

logger = logging.getLogger(__name__)

INTERNAL = "评分服务器内部错误，请稍后重试；如仍出现，请把工作簿和出现的时间报告给管理员。"
NICE = 10  # the large-body process's priority below the server's (where the OS has nice)

_rules: list[str] | None = None
_isolate = True


def configure(rules: list[str] | None, *, isolate: bool = True) -> None:
    """The server's pack files (``None``: ``RUBRIC_XL_RULES`` / ``./rules``) and
    whether large bodies go to the worker process."""
    global _rules, _isolate
    _rules, _isolate = rules, isolate


def error_json(msg: str) -> bytes:
    return json.dumps({"ok": False, "message": msg, "detail": msg}, ensure_ascii=False).encode()


def assess_safely(book: Any):
    """:func:`._assess.assess_payload`, with any unexpected failure as Chinese text."""
    from ._assess import Assessment, assess_payload

    try:
        return assess_payload(book)
    except Exception:  # noqa: BLE001 - the pane must get Chinese text, not a traceback
        logger.exception("scoring a workbook failed")
        return Assessment(ok=False, message=INTERNAL)


def score_body(body: bytes) -> tuple[int, bytes]:
    """(HTTP status, JSON answer) for a ``POST /rubric/score`` body."""
    try:
        payload = parse_json(body)
    except ValueError as exc:
        return 400, error_json(str(exc))
    return 200, dumps(assess_safely(payload).to_json())


MAX_CALLS = 2000  # RUBRIC.* cells in one calculation; a 2005 workbook needs ~100


def functions_body(body: bytes, current_user) -> tuple[int, bytes]:
    """(HTTP status, JSON answer) for a ``POST /rubric/functions-call`` body: the
    workbook scored once, then every call of the batch."""
    try:
        data = parse_json(body)
    except ValueError as exc:
        return 400, error_json(str(exc))
    if not isinstance(data, dict) or not isinstance(data.get("calls"), list):
        return 400, error_json("请求格式不正确：应包含 book（工作簿数据）和 calls（函数调用列表）。")
    if len(data["calls"]) > MAX_CALLS:
        return 400, error_json(f"一次计算中的 RUBRIC 函数调用过多（{len(data['calls'])} 个，最多 {MAX_CALLS} 个）。")
    from ._functions import call_all

    results = asyncio.run(call_all(data, assess_safely(data.get("book")), current_user))
    return 200, dumps({"results": results})


_setup: tuple | None = None  # in the worker process: what it was configured with


def _in_worker(job, body: bytes, rules: list[str] | None, limits: _limits.Limits, *args) -> tuple[int, bytes]:
    global _setup
    if _setup != (rules, limits):
        if _setup is None and hasattr(os, "nice"):
            try:
                os.nice(NICE)
            except OSError:
                pass
        from . import _env, _packs

        _env.ensure()
        _limits.configure(limits)
        _packs.configure(rules)
        _setup = (rules, limits)
    return job(body, *args)


async def score(body: bytes) -> tuple[int, bytes]:
    """The answer to a task-pane body."""
    return await _run(score_body, body)


async def functions(body: bytes, current_user) -> tuple[int, bytes]:
    """The answer to a RUBRIC.* batch."""
    return await _run(functions_body, body, current_user)


def timeout_message(seconds: float) -> str:
    return (f"评分超时：这个工作簿超过 {seconds:g} 秒仍未评完，评分助手已停止评分。"
            "台账行数很多时请分成几个工作簿填报，或请管理员调整 "
            f"{_limits.ENV_LARGE_TIMEOUT}。")


async def _run(job, body: bytes, *args) -> tuple[int, bytes]:
    if _isolate and len(body) > _limits.LARGE_BODY:
        limits = _limits.limits
        try:
            # the wait for the slot does not count; a cancelled run stops (kills) the process
            async with _limits.large_slot():
                with anyio.move_on_after(limits.large_timeout) as scope:
                    return await anyio.to_process.run_sync(_in_worker, job, body, _rules, limits, *args,
                                                           cancellable=True, limiter=_free_slot())
        except (BrokenWorkerProcess, Exception):  # noqa: BLE001 - Chinese text, never a traceback
            logger.exception("the scoring process failed")
            return 500, error_json(INTERNAL)
        if scope.cancelled_caught:
            logger.warning("a large body took more than %s s; its process was stopped", limits.large_timeout)
            return 503, error_json(timeout_message(limits.large_timeout))
    return await _limits.run_scoring(job, body, *args, size=len(body))


_unlimited: anyio.CapacityLimiter | None = None


def _free_slot() -> anyio.CapacityLimiter:
    """A limiter that never waits (the large slot is already held)."""
    global _unlimited
    if _unlimited is None:
        _unlimited = anyio.CapacityLimiter(1_000)
    return _unlimited
