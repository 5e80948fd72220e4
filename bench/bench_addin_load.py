"""Add-in server under load: do slow requests stall the normal ones?

Starts a real server (``rubric-xl addin serve``) on 127.0.0.1, then measures the
round trip of N normal ``POST /rubric/score`` requests (a filled 2005 workbook,
59 KB) on one keep-alive connection: alone, then while four clients keep sending
slow requests — 2,000-row ledgers to ``/rubric/score`` (~420 KB each; half with
names over rows 3:1048576), and the same ledgers as ``/rubric/functions-call``
batches.  Prints p50/p95/max for each phase and the slow requests' own times.
Target: p95 of the normal requests ≤ 50 ms while slow ones run.

Run: .venv/bin/python bench/bench_addin_load.py [N]      (prints figures; not a test)
"""
from __future__ import annotations

import copy
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHANXI = ROOT / "rules" / "shanxi-2005.yaml"
XINZHOU = ROOT / "rules" / "xinzhou-2024.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def payloads() -> tuple[bytes, list[bytes]]:
    from rubric_xl import load_pack
    from rubric_xl.addin._payload import payload_from_xlsx
    from rubric_xl.samples import random_facts
    from rubric_xl.workbook import fill_template, template_bytes

    with tempfile.TemporaryDirectory() as tmp:
        out = {}
        for path, unit, rows in ((SHANXI, "太原市", None), (XINZHOU, "忻州市", 2000)):
            pack = load_pack(path)
            tpl = Path(tmp) / f"{pack.id}.xlsx"
            tpl.write_bytes(template_bytes(pack, unit))
            f = Path(tmp) / f"{pack.id}-filled.xlsx"
            f.write_bytes(fill_template(tpl, random_facts(pack, 3, rows=rows), rules=pack))
            out[pack.id] = payload_from_xlsx(f)
    ledger = out["xinzhou-2024"]
    hostile = copy.deepcopy(ledger)
    for n in hostile["names"]:
        if "__" in n["name"]:
            c = n["address"].split(":")[0].rstrip("0123456789")
            n["address"] = f"{c}3:{c}1048576"
    normal = json.dumps(out["shanxi-2005"], ensure_ascii=False).encode()
    return normal, [json.dumps(b, ensure_ascii=False).encode() for b in (ledger, hostile)]


def p95(values: list[float]) -> float:
    s = sorted(values)
    return s[max(0, -(-95 * len(s) // 100) - 1)]


def line(label: str, ms: list[float]) -> str:
    return f"{label}: p50 {statistics.median(ms):.1f} ms, p95 {p95(ms):.1f} ms, max {max(ms):.1f} ms (n={len(ms)})"


def post(conn, path: str, body: bytes) -> tuple[int, float]:
    t = time.perf_counter()
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    return resp.status, (time.perf_counter() - t) * 1000


def run_normal(port: int, body: bytes, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    out = []
    for _ in range(n):
        status, ms = post(conn, "/rubric/score", body)
        if status != 200:
            raise SystemExit(f"HTTP {status}")
        out.append(ms)
    conn.close()
    return out


def with_slow(port: int, normal: bytes, n: int, path: str, slow: list[bytes]) -> tuple[list[float], list[float]]:
    stop = threading.Event()
    slow_ms: list[float] = []

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for _ in range(50):
            if stop.is_set():
                break
            status, ms = post(conn, path, slow[i % len(slow)])
            slow_ms.append(ms)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    try:
        busy = run_normal(port, normal, n)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=300)
    return busy, slow_ms


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    normal, slow = payloads()
    calls = [{"func_name": "total", "args": []}]
    slow_calls = [b'{"calls": ' + json.dumps(calls).encode() + b', "book": ' + s + b"}" for s in slow]
    print(f"normal: {len(normal) // 1024} KB; slow: {len(slow[0]) // 1024} KB")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", "from rubric_xl.cli import main; main()", "addin", "serve",
                             "--host", "127.0.0.1", "--port", str(port), "--rules", str(SHANXI),
                             "--rules", str(XINZHOU)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/")
                c.getresponse().read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("server did not start")
                time.sleep(0.2)
        run_normal(port, normal, 30)
        print(line("normal alone", run_normal(port, normal, n)))
        busy, slow_ms = with_slow(port, normal, n, "/rubric/score", slow)
        print(line("normal, 4 clients sending 2,000-row ledgers to /rubric/score", busy))
        print(line("  those slow requests", slow_ms))
        busy, slow_ms = with_slow(port, normal, n, "/rubric/functions-call", slow_calls)
        print(line("normal, 4 clients sending 2,000-row ledgers to /rubric/functions-call", busy))
        print(line("  those slow requests", slow_ms))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
