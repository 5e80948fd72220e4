"""Add-in server benchmark: latency of one full re-score of a submitted workbook.

Starts a real server (``rubric-xl addin serve``, uvicorn) on 127.0.0.1, then sends
1,000 ``POST /rubric/score`` requests (plus 50 warm-up) on one keep-alive
connection, each the xlwings JS client payload of a filled 2005 template (20
different submissions, cycled).  Prints p50/p95/max of the round trip on loopback
and of the server-side time (``Server-Timing``: parse, read the workbook by
defined names, score, build the response), and the same for one calculation's
batch of six RUBRIC.* worksheet functions.  Target: p95 ≤ 50 ms.

Run: .venv/bin/python bench/bench_addin.py      (prints figures; not a test)
"""
from __future__ import annotations

import http.client
import json
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "rules" / "shanxi-2005.yaml"
REQUESTS = 1000
WARMUP = 50
TARGET_P95_MS = 50.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def payloads(n: int) -> list[bytes]:
    from rubric_xl import load_pack
    from rubric_xl.addin._payload import payload_from_xlsx
    from rubric_xl.samples import random_facts
    from rubric_xl.workbook import fill_template, template_bytes

    pack = load_pack(PACK)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        tpl = Path(tmp) / "模板.xlsx"
        tpl.write_bytes(template_bytes(pack, "太原市"))
        for i in range(n):
            f = Path(tmp) / f"{i}.xlsx"
            f.write_bytes(fill_template(tpl, random_facts(pack, i, blank_rate=0.02), rules=pack))
            out.append(json.dumps(payload_from_xlsx(f), ensure_ascii=False).encode())
    return out


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def run(conn: http.client.HTTPConnection, path: str, bodies: list[bytes], n: int) -> tuple[list[float], list[float]]:
    rtt, server = [], []
    for i in range(n):
        body = bodies[i % len(bodies)]
        t = time.perf_counter()
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        rtt.append((time.perf_counter() - t) * 1000)
        if resp.status != 200:
            raise SystemExit(f"{path}: HTTP {resp.status}: {data[:300]!r}")
        timing = resp.getheader("Server-Timing")
        if timing:
            server.append(float(timing.split("dur=")[1]))
    return rtt, server


def line(label: str, ms: list[float]) -> str:
    return (f"{label}: p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
            f"max {max(ms):.1f} ms (n={len(ms)})")


def main() -> None:
    print(f"machine: {platform.machine()}, python {platform.python_version()}, loopback 127.0.0.1")
    bodies = payloads(20)
    print(f"payload: 2005 template, {len(bodies[0]) / 1024:.0f} KB of xlwings JS client JSON")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", "from rubric_xl.cli import main; main()", "addin", "serve",
                             "--host", "127.0.0.1", "--port", str(port), "--rules", str(PACK)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/")
                conn.getresponse().read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("server did not start")
                time.sleep(0.2)
        run(conn, "/rubric/score", bodies, WARMUP)
        rtt, server = run(conn, "/rubric/score", bodies, REQUESTS)
        print(line("re-score, round trip", rtt))
        print(line("re-score, server side", server))
        calls = [{"func_name": f, "args": a} for f, a in [("item", [[["10"]]]), ("explain", [[["10"]]]),
                                                          ("total", []), ("grade", []),
                                                          ("category", [[["信息报送"]]]), ("status", [])]]
        fbodies = [json.dumps({"book": json.loads(b), "runtime": "1.3", "calls": calls},
                              ensure_ascii=False).encode() for b in bodies]
        run(conn, "/rubric/functions-call", fbodies, WARMUP)
        frtt, _ = run(conn, "/rubric/functions-call", fbodies, REQUESTS)
        print(line("six RUBRIC.* functions (one batch), round trip", frtt))
        p95 = percentile(rtt, 95)
        verdict = "met" if p95 <= TARGET_P95_MS else "NOT met"
        print(f"target p95 ≤ {TARGET_P95_MS:.0f} ms for a full re-score: {verdict} ({p95:.1f} ms)")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
