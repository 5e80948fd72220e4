"""Run each file of a batch in a worker process with bounded memory and time.

A file that crashes its worker (a native abort, a segfault, running out of
the worker's memory) or takes longer than the time limit fails alone: the
worker is replaced and the batch goes on.  Each worker's address space is
limited to what it had when it started plus ``memory`` bytes
(``RLIMIT_AS``; on Windows, where there is no such limit, only the time
limit applies).  Workers score one file at a time and results come back in
input order.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Generator, Sequence

MEMORY = 512 * 1024 * 1024  # address space a worker may add to what it starts with
TIMEOUT = 60.0  # seconds per file

Work = Callable[[Any], Any]
Failure = Callable[[Any, str], Any]  # (task, Chinese reason) -> result


def _address_space() -> int:
    """This process's virtual size in bytes (0 when unknown)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def limit_memory(extra: int) -> None:
    """Cap this process's address space at its current size plus *extra*."""
    try:
        import resource
    except ImportError:  # Windows
        return
    base = _address_space()
    if not base:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = base + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _serve(conn: Connection, tasks: Sequence[Any], work: Work, memory: int) -> None:
    limit_memory(memory)
    while True:
        try:
            index = conn.recv()
        except (EOFError, OSError):
            return
        if index is None:
            return
        conn.send((index, work(tasks[index])))


class _Worker:
    def __init__(self, ctx: Any, tasks: Sequence[Any], work: Work, memory: int):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, tasks, work, memory), daemon=True)
        self.proc.start()
        child.close()
        self.index: int | None = None
        self.since = 0.0

    def give(self, index: int) -> None:
        self.index, self.since = index, time.monotonic()
        self.conn.send(index)

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                self.proc.kill()
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


CRASHED = ("读取此文件时处理进程意外退出（文件可能已损坏，或读取它所需的内存超出上限），未能评分；"
           "请在 Excel 或 WPS 中打开并重新保存后再提交")


def run(tasks: Sequence[Any], work: Work, failed: Failure, jobs: int = 1, *,
        timeout: float = TIMEOUT, memory: int = MEMORY) -> Generator[Any, None, None]:
    """``work(task)`` for every task, each in a worker process; yields in input
    order.  A task whose worker dies or overruns *timeout* yields
    ``failed(task, reason)``."""
    ctx = mp.get_context()
    count = max(1, min(jobs, len(tasks)))
    workers = [_Worker(ctx, tasks, work, memory) for _ in range(count)]
    done: dict[int, Any] = {}
    given = 0
    out = 0
    try:
        while out < len(tasks):
            for w in workers:
                if w.index is None and given < len(tasks):
                    w.give(given)
                    given += 1
            busy = [w for w in workers if w.index is not None]
            now = time.monotonic()
            wait_for = min(max(0.0, w.since + timeout - now) for w in busy) if busy else 0.0
            ready = wait([w.conn for w in busy], timeout=wait_for)
            for i, w in enumerate(workers):
                if w.index is None:
                    continue
                index = w.index
                if w.conn in ready:
                    try:
                        got, res = w.conn.recv()
                    except (EOFError, OSError):  # the worker died
                        w.proc.join(5)
                        done[index] = failed(tasks[index], CRASHED)
                        w.stop(kill=True)
                        workers[i] = _Worker(ctx, tasks, work, memory)
                        continue
                    done[got] = res
                    w.index = None
                elif time.monotonic() - w.since >= timeout:
                    w.stop(kill=True)
                    done[index] = failed(tasks[index], f"读取此文件超过 {timeout:g} 秒仍未完成，已停止；"
                                                       "文件可能已损坏或过大，请重新保存后再提交")
                    workers[i] = _Worker(ctx, tasks, work, memory)
            while out in done:
                yield done.pop(out)
                out += 1
    finally:
        for w in workers:
            w.stop(kill=w.index is not None)
