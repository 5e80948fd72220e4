"""The hostile corpus (tests/hostile.py) against the reader and the auditor.

Every case asserts its exact outcome: the status, the Chinese problem at the
file and cell, that the input is unchanged.  The batch tests run the real CLI
over the whole corpus plus good workbooks in a subprocess with an address-space
limit and a timeout, with --jobs 1 and --jobs 2: every good file is still
scored, every hostile one gets its own problem, the exit code is 1, no input
changes, and no process grows past 500 MB.
"""
from __future__ import annotations

import io
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hostile
from conftest import full_marks_facts
from rubric_xl.audit import score_workbooks
from rubric_xl.reader._scan import MAX_COLS, MAX_ROWS, ScanError, scan_sheet
from test_reader import filled, sha256

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).parent / "rubric-xl"


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    return filled(tmp_path_factory.mktemp("good"), full_marks_facts()).read_bytes()


def _expected_loc(path: Path, case: str, good: bytes) -> str:
    where = hostile.where(case, good)
    if not where:
        return str(path)
    return f"{path}{where}" if where.startswith(":") else f"{path} {where}"


@pytest.mark.parametrize("case", sorted(hostile.CASES))
def test_hostile_case(case, good, tmp_path):
    expected = hostile.CASES[case]
    path = tmp_path / f"{case}.xlsx"
    path.write_bytes(hostile.build(case, good))
    before, mtime = sha256(path), path.stat().st_mtime_ns
    t = time.perf_counter()
    (res,) = score_workbooks([str(path)], jobs=1, timeout=60)
    assert time.perf_counter() - t < 30
    assert res.status == expected.status, res.problems
    loc = _expected_loc(path, case, good)
    hits = [p for p in res.problems if p.loc == loc and expected.msg in p.msg and p.level == expected.level]
    assert hits, (loc, res.problems)
    assert all("内部错误" not in p.msg and "Traceback" not in p.msg for p in res.problems)
    assert sha256(path) == before and path.stat().st_mtime_ns == mtime


def test_the_good_file_is_good(good, tmp_path):
    path = tmp_path / "good.xlsx"
    path.write_bytes(good)
    (res,) = score_workbooks([str(path)])
    assert res.status == "ok" and res.problems == [] and str(res.card.total) == "100.00"


# --- the scanner's rules, at their boundaries ----------------------------------------------------


def _sheet(cells: str, dimension: str = "A1") -> bytes:
    return hostile.sheet_xml(cells.encode(), dimension.encode())


def test_bounds_are_inclusive():
    from rubric_xl.reader._refs import col_letters
    last = f"{col_letters(MAX_COLS)}{MAX_ROWS}"
    s = scan_sheet(_sheet(f'<row r="{MAX_ROWS}"><c r="{last}"><v>1</v></c></row>', f"A1:{last}"))
    assert (s.rows, s.cols) == (MAX_ROWS, MAX_COLS)
    for ref in (f"{col_letters(MAX_COLS + 1)}1", f"A{MAX_ROWS + 1}"):
        with pytest.raises(ScanError) as exc:
            scan_sheet(_sheet(f'<row r="1"><c r="{ref}"/></row>'))
        assert exc.value.where == ref and "超出模板的范围" in exc.value.msg
    with pytest.raises(ScanError):
        scan_sheet(_sheet("", f"A1:{col_letters(MAX_COLS + 1)}1"))


def test_cells_without_r_are_positioned_as_calamine_does():
    # a <c r> moves the column cursor; a <c> without r takes the next column; </row> moves down
    s = scan_sheet(_sheet('<row r="3"><c r="C3"/><c><f>1</f></c></row><row><c><f>2</f></c></row>'
                          '<row r="9"><c/><c/><c><f>3</f></c></row>'))
    assert s.formulas == {(3, 4), (4, 1), (9, 3)}


def test_cells_without_r_read_where_calamine_reads_them(tmp_path):
    """The scanner's positions are calamine's: the same workbook, values by calamine."""
    import python_calamine as pc
    body = _sheet('<row r="2"><c r="B2"><v>1</v></c><c><v>2</v></c></row><row><c><v>3</v></c></row>'
                  '<row r="5"><c r="C5"><v>4</v></c><c><v>5</v></c></row>')
    data = hostile.add_sheet(_minimal_book(), "表", "visible", body)
    grid = pc.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("表").to_python(
        skip_empty_area=False)
    cells = {(r + 1, c + 1) for r, row in enumerate(grid) for c, v in enumerate(row) if v != ""}
    assert cells == {(2, 2), (2, 3), (3, 1), (5, 3), (5, 4)}
    s = scan_sheet(body.replace(b"<v>", b"<f>1</f><v>"))
    assert s.formulas == cells


def _minimal_book() -> bytes:
    import openpyxl
    wb = openpyxl.Workbook()
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_scan_is_linear_in_formula_cells():
    def sheet(n: int) -> bytes:
        rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><f>A1+1</f><v>1</v></c>' for c in "ABCDEFGHIJ")
                       + "</row>" for r in range(1, n // 10 + 1))
        return _sheet(rows, f"A1:J{n // 10}")
    small, big = sheet(6_000), sheet(60_000)
    t = time.perf_counter()
    assert len(scan_sheet(small).formulas) == 6_000
    t_small = time.perf_counter() - t
    t = time.perf_counter()
    assert len(scan_sheet(big).formulas) == 60_000
    t_big = time.perf_counter() - t
    assert t_big < 3.0 and t_big < 25 * max(t_small, 0.005)  # ten times the cells, not a hundred times the time


# --- pipes, links --------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_not_waited_on(good, tmp_path):
    (tmp_path / "a.xlsx").write_bytes(good)
    for name in ("管道.xlsx", "pipe.XLSM"):
        os.mkfifo(tmp_path / name)
    t = time.perf_counter()
    results = score_workbooks([str(tmp_path)], jobs=1, timeout=20)
    assert time.perf_counter() - t < 15
    by = {Path(r.file).name: r for r in results}
    assert by["a.xlsx"].status == "ok"
    for name in ("管道.xlsx", "pipe.XLSM"):
        (p,) = by[name].problems
        assert by[name].status == "failed" and p.loc == str(tmp_path / name) and "不是普通文件" in p.msg
    (res,) = score_workbooks([str(tmp_path / "管道.xlsx")], timeout=20)  # named explicitly
    assert res.status == "failed" and "命名管道" in res.problems[0].msg
    if Path("/dev/zero").exists():  # a device never ends: it must not be read either
        (res,) = score_workbooks(["/dev/zero"], timeout=20)
        assert res.status == "failed" and res.problems[0].loc == "/dev/zero" and "不是普通文件" in res.problems[0].msg


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symlinks")
def test_links_out_of_the_folder_are_not_followed(good, tmp_path):
    outside = tmp_path / "外面"
    outside.mkdir()
    (outside / "secret.xlsx").write_bytes(good)
    folder = tmp_path / "提交"
    folder.mkdir()
    (folder / "a.xlsx").write_bytes(good)
    (folder / "link.xlsx").symlink_to(outside / "secret.xlsx")
    (folder / "dir").symlink_to(outside, target_is_directory=True)
    (folder / "inside.xlsx").symlink_to(folder / "a.xlsx")  # a link within the folder is fine
    by = {Path(r.file).name: r for r in score_workbooks([str(folder)])}
    assert set(by) == {"a.xlsx", "link.xlsx", "dir", "inside.xlsx"}
    assert by["a.xlsx"].status == "ok" and by["inside.xlsx"].status == "ok"
    assert by["link.xlsx"].status == "failed" and "指向目录之外" in by["link.xlsx"].problems[0].msg
    assert by["dir"].status == "failed" and "目录链接" in by["dir"].problems[0].msg


# --- the whole corpus through the CLI, isolated and bounded --------------------------------------


def _limit(mb: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (mb * 1024 * 1024, mb * 1024 * 1024))
    return apply


BATCH = sorted(hostile.CASES)  # the whole corpus in one folder


@pytest.mark.parametrize("jobs", [1, 2])
def test_cli_batch_of_hostile_files(jobs, good, tmp_path):
    folder = tmp_path / "提交"
    folder.mkdir()
    for i in range(3):
        (folder / f"good{i}.xlsx").write_bytes(good)
    for case in BATCH:
        (folder / f"{case}.xlsx").write_bytes(hostile.build(case, good))
    before = {p.name: (sha256(p), p.stat().st_mtime_ns) for p in folder.iterdir()}
    out = tmp_path / "结果.json"
    t = time.perf_counter()
    proc = subprocess.run([str(CLI), "score", str(folder), "--jobs", str(jobs), "--format", "json", "-o", str(out)],
                          capture_output=True, text=True, timeout=180, preexec_fn=_limit(2048), cwd=ROOT)
    wall = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "内部错误" not in proc.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    files = doc["files"] if isinstance(doc, dict) else doc  # {"kind": "batch", "files": […]} or a list
    results = {Path(r["file"]).name: r for r in files if "file" in r}
    assert set(results) == set(before)
    for i in range(3):
        assert results[f"good{i}.xlsx"]["status"] == "ok" and results[f"good{i}.xlsx"]["total"] == 100
    for case in BATCH:
        r = results[f"{case}.xlsx"]
        expected = hostile.CASES[case]
        loc = _expected_loc(folder / f"{case}.xlsx", case, good)
        assert r["status"] == expected.status, r["problems"]
        assert any(p["loc"] == loc and expected.msg in p["msg"] for p in r["problems"]), (loc, r["problems"])
    assert {p.name: (sha256(p), p.stat().st_mtime_ns) for p in folder.iterdir()} == before
    assert wall < 120
    assert peak_mb < 500, peak_mb


def test_a_worker_crash_or_hang_fails_that_file_alone(good, tmp_path):
    """Isolation itself: files that kill or hang their worker (after the pre-checks)."""
    from rubric_xl.audit import _isolate
    tasks = ["ok1", "abort", "ok2", "hang", "ok3", "memory"]
    for jobs in (1, 2):
        t = time.perf_counter()
        got = list(_isolate.run(tasks, _misbehave, lambda task, why: f"failed {task}: {why}", jobs,
                                timeout=3, memory=256 * 1024 * 1024))
        assert time.perf_counter() - t < 30
        assert got[0] == "done ok1" and got[2] == "done ok2" and got[4] == "done ok3"
        assert got[1].startswith("failed abort: 读取此文件时处理进程意外退出")
        assert got[3].startswith("failed hang: 读取此文件超过 3 秒仍未完成")
        assert got[5].startswith("failed memory: 读取此文件时处理进程意外退出") or got[5] == "MemoryError memory"


def _misbehave(task: str) -> str:
    if task == "abort":
        import faulthandler
        faulthandler.disable()  # no dump of pytest's fault handler on stderr
        os.abort()  # what a native crash looks like (SIGABRT)
    if task == "hang":
        time.sleep(60)
    if task == "memory":
        try:
            b = bytearray(1024 * 1024 * 1024)  # more than the worker may have
            return f"allocated {len(b)}"
        except MemoryError:
            return "MemoryError memory"
    return f"done {task}"


# --- ledger column names ---------------------------------------------------------------------------


@pytest.mark.parametrize("target, message", [
    ("'填报'!$B$3:$B$502", "应指向“台账”工作表"),          # another sheet
    ("'_meta'!$B$1:$B$500", "应指向“台账”工作表"),          # the hidden _meta sheet
    ("'台账'!$C$3:$D$502", "应指向单独一列"),               # two columns
    ("'台账'!${col}$3:${col}$9000", "与台账其他列（第3–502行）不一致"),  # rows the other columns lack
    ("'台账'!${col}$4:${col}$502", "与台账其他列（第3–502行）不一致"),
])
def test_ledger_column_names_must_point_at_one_ledger_column(target, message, tmp_path):
    from test_reader import XINZHOU, ledger_facts
    path = filled(tmp_path, ledger_facts(), XINZHOU, unit="忻府区")
    col = re.match(r"[A-Z]+", hostile.name_cell(path.read_bytes(), "enterprises__enterprise_name")[1]).group(0)
    target = target.replace("{col}", col)
    path.write_bytes(hostile.set_name(path.read_bytes(), "enterprises__enterprise_name", target))
    (res,) = score_workbooks([str(path)])
    assert res.status == "error"
    (p,) = [p for p in res.problems if "enterprises__enterprise_name" in p.msg and p.level == "error"]
    assert p.loc == f"{path}: enterprises__enterprise_name" and message in p.msg


def test_the_time_limit_counts_from_when_a_file_starts():
    """Two files are in flight per worker: the second one's clock starts when the first ends."""
    from rubric_xl.audit import _isolate
    t = time.perf_counter()
    got = list(_isolate.run(["slow"] * 4, _slow, lambda task, why: f"failed: {why}", 1, timeout=1.6))
    assert got == ["done"] * 4 and time.perf_counter() - t >= 4.0


def _slow(task: str) -> str:
    time.sleep(1.0)
    return "done"
