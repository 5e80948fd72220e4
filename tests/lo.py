"""LibreOffice recalculation for tests (and bench/bench_formulas.py).

``recalc(files, outdir)`` converts xlsx → xlsx with headless LibreOffice, which
computes every formula (files written by openpyxl have no cached values), in as
few ``soffice`` calls as possible: one call per batch of files, batches run in
parallel with one private profile (``-env:UserInstallation``) and HOME each;
:class:`Recalculator` takes batches as soon as they are written.  ``soffice``
exits 0 even when a file failed to load, so every expected output is checked.  ``sheet_rows`` reads the computed values back with python-calamine.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

SETUP = "bash scripts/setup.sh --system"
FILTER = "xlsx:Calc MS Excel 2007 XML"


class LibreOfficeMissing(RuntimeError):
    pass


class RecalcError(RuntimeError):
    pass


def soffice() -> str:
    """Path of the ``soffice`` program; raises :class:`LibreOfficeMissing` with the fix."""
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    raise LibreOfficeMissing(
        f"LibreOffice（soffice）未安装，无法验证公式：请先运行项目的安装脚本 `{SETUP}`"
        "（它会安装 libreoffice-calc-nogui）")


def _run(exe: str, files: list[Path], outdir: Path, timeout: float) -> str:
    with tempfile.TemporaryDirectory(prefix="rxl-lo-") as tmp:
        profile = Path(tmp, "profile").as_uri()
        env = dict(os.environ, HOME=tmp)
        cmd = [exe, f"-env:UserInstallation={profile}", "--headless", "--norestore",
               "--convert-to", FILTER, "--outdir", str(outdir), *map(str, files)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    return f"退出码 {proc.returncode}；stderr: {proc.stderr[-1500:]}"


def _batch(exe: str, files: list[Path], outdir: Path, timeout: float) -> list[Path]:
    """One ``soffice`` call for *files*; a file without output is tried once more
    (alone), then it is an error."""
    for f in files:  # never read a stale result
        (outdir / f.name).unlink(missing_ok=True)
    detail = _run(exe, files, outdir, timeout)
    missing = [f for f in files if not (outdir / f.name).is_file()]
    if missing:
        detail = _run(exe, missing, outdir, timeout)
        missing = [f for f in missing if not (outdir / f.name).is_file()]
    if missing:
        raise RecalcError(f"LibreOffice 没有输出 {len(missing)} 个文件（如 {[f.name for f in missing[:3]]}）；"
                          f"{detail}")
    return [outdir / f.name for f in files]


class Recalculator:
    """Batches submitted as they are ready, run by at most *workers* ``soffice``
    processes at a time (one profile each).  ``submit`` returns a future of the
    output paths; ``close`` waits for all."""

    def __init__(self, outdir: Path, *, workers: int = 2, timeout: float = 900):
        self.exe = soffice()
        self.outdir = Path(outdir)
        self.outdir.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers))
        self.seconds = 0.0

    def submit(self, files: Iterable[Path]) -> Future:
        files = [Path(f) for f in files]

        def job() -> list[Path]:
            t0 = time.perf_counter()
            try:
                return _batch(self.exe, files, self.outdir, self.timeout)
            finally:
                self.seconds += time.perf_counter() - t0

        return self.pool.submit(job)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def recalc(files: Iterable[Path], outdir: Path, *, workers: int = 2, timeout: float = 900) -> list[Path]:
    """Recalculate *files* into *outdir* (same names) in one ``soffice`` call per
    worker; return the output paths.  Names must be unique.  Raises
    :class:`LibreOfficeMissing` or :class:`RecalcError`."""
    files = [Path(f) for f in files]
    if len({f.name for f in files}) != len(files):
        raise ValueError("file names must be unique")
    rc = Recalculator(outdir, workers=workers, timeout=timeout)
    size = max(1, -(-len(files) // max(1, workers)))
    try:
        futures = [rc.submit(files[i:i + size]) for i in range(0, len(files), size)]
        return [p for fut in futures for p in fut.result()]
    finally:
        rc.close()


def sheet_rows(path: Path, sheet: str) -> list[list]:
    """Every row of *sheet* from A1 (values as python-calamine gives them)."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def at(rows: list[list], row: int, col: int):
    """The value at 1-based (*row*, *col*), ``""`` outside the used area."""
    if row - 1 >= len(rows):
        return ""
    r = rows[row - 1]
    return r[col - 1] if col - 1 < len(r) else ""
