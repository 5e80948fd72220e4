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

import gc
import multiprocessing as mp
import os
import time
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Generator, Sequence

MEMORY = 448 * 1024 * 1024  # address space a worker may add to what it starts with (stays under 500 MB)
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
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = base + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _serve(conn: Connection, tasks: Sequence[Any], work: Work, memory: int) -> None:
    gc.freeze()  # what the worker starts with (forked: the parent's modules) is never collected:
    # the collector neither walks it nor copies its pages (a full collection walked all of it)
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
    """A worker process and the tasks given to it (it runs them in order)."""

    DEPTH = 2  # tasks in flight per worker: the next one is ready while a result travels back

    def __init__(self, ctx: Any, tasks: Sequence[Any], work: Work, memory: int):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, tasks, work, memory), daemon=True)
        self.proc.start()
        child.close()
        self.queue: deque[int] = deque()
        self.since = 0.0  # when the task at the head of the queue started

    def give(self, index: int) -> None:
        if not self.queue:
            self.since = time.monotonic()
        self.queue.append(index)
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
    ``failed(task, reason)``; the worker is replaced."""
    if mp.current_process().daemon:  # a daemon process may not start workers: run here, unisolated
        yield from map(work, tasks)
        return
    ctx = mp.get_context()
    workers = [_Worker(ctx, tasks, work, memory) for _ in range(max(1, min(jobs, len(tasks))))]
    pending = deque(range(len(tasks)))
    done: dict[int, Any] = {}
    out = 0

    def replace(i: int, w: _Worker, reason: str) -> None:
        head = w.queue.popleft()
        done[head] = failed(tasks[head], reason)
        pending.extendleft(reversed(w.queue))  # given but not started: run them elsewhere
        w.stop(kill=True)
        workers[i] = _Worker(ctx, tasks, work, memory)

    try:
        while out < len(tasks):
            for i, w in enumerate(workers):
                while pending and len(w.queue) < _Worker.DEPTH:
                    index = pending.popleft()
                    try:
                        w.give(index)
                    except OSError:  # the worker is gone although idle: give the task back
                        w.queue.pop()
                        pending.appendleft(index)
                        if not w.queue:
                            w.stop(kill=True)
                            workers[i] = _Worker(ctx, tasks, work, memory)
                        break
            busy = [w for w in workers if w.queue]
            now = time.monotonic()
            wait_for = min(max(0.0, w.since + timeout - now) for w in busy) if busy else 0.0
            ready = wait([w.conn for w in busy], timeout=wait_for)
            for i, w in enumerate(workers):
                if not w.queue:
                    continue
                if w.conn in ready:
                    try:
                        while w.queue and w.conn.poll():
                            got, res = w.conn.recv()
                            w.queue.popleft()
                            w.since = time.monotonic()
                            done[got] = res
                    except (EOFError, OSError):  # the worker died while running the head task
                        w.proc.join(5)
                        replace(i, w, CRASHED)
                elif time.monotonic() - w.since >= timeout:
                    replace(i, w, f"读取此文件超过 {timeout:g} 秒仍未完成，已停止；文件可能已损坏或过大，请重新保存后再提交")
            while out in done:
                yield done.pop(out)
                out += 1
    finally:
        for w in workers:
            w.stop(kill=bool(w.queue))
