"""The one durable-rules Host of the process, used in the safe pattern.

* one Host per process, its timer loop never started (each ``Host()`` would
  otherwise start two threads that never stop, and a timer raced ``post()``);
* a ruleset is registered once per name (durable-rules cannot register a name
  twice nor remove one) from a deep copy (registration mutates the data);
* one evaluation at a time under a lock, in a fresh session id that is deleted
  in ``finally`` — so at most one session is ever live and two ids can never
  share a state through durable-rules' 32-bit session hash;
* an action only records which rule fired; a missing result is an internal
  error, never a score.
"""
from __future__ import annotations

import copy
import itertools
import threading
from typing import Any

from ..errors import RubricError


class DurableError(RubricError):
    """The durable-rules executor could not produce a trustworthy result."""


def _engine():
    try:
        import durable.engine as de
    except ImportError as exc:  # the [durable] extra is missing, or Python ≥ 3.13
        raise DurableError(
            "未安装 durable-rules 执行器：请安装可选组件 pip install \"rubric-xl[durable]\""
            "（仅支持 Python 3.10–3.12；Windows 上需要 C 编译器）",
        ) from exc
    return de


_lock = threading.Lock()
_host = None
_registered: set[str] = set()
_ids = itertools.count(1)
_fired: list[tuple[str, Any]] = []  # written by actions, under _lock


def _record(name: str):
    def action(c):
        _fired.append((name, c.m["rid"]))
    return action


def _get_host():
    global _host
    if _host is None:
        de = _engine()

        class _QuietHost(de.Host):
            def _run(self):  # no timer threads: nothing here uses timers
                pass

        _host = _QuietHost()
    return _host


def ensure(name: str, rules: dict[str, dict]) -> None:
    """Register ruleset *name* (rule name → condition) unless already there."""
    with _lock:
        if name in _registered:
            return
        data = copy.deepcopy({r: {"all": [{"m": cond}]} for r, cond in rules.items()})
        for r in data:
            data[r]["run"] = _record(r)
        _get_host().register_rulesets({name: data})
        _registered.add(name)


def evaluate(name: str, batches: list[list[dict]]) -> list[list[tuple[str, Any]]]:
    """Assert each batch of facts in its own fresh session; the rules fired per batch."""
    out = []
    with _lock:
        host = _get_host()
        for facts in batches:
            sid = f"rx{next(_ids)}"
            _fired.clear()
            try:
                if facts:
                    res = host.assert_facts(name, [dict(f, sid=sid) for f in facts])
                    if res is None:
                        raise DurableError("durable-rules 执行器内部错误：提交事实后未返回结果，未给出分数")
                out.append(list(_fired))
            except DurableError:
                raise
            except Exception as exc:
                raise DurableError(f"durable-rules 执行器内部错误：{type(exc).__name__}，未给出分数") from exc
            finally:
                _fired.clear()
                try:
                    host.delete_state(name, sid)
                except Exception:
                    pass
    return out
