"""The built wheel (not an editable install) carries the rule packs and the
templates, and works from any directory.

Builds the wheel from a copy of the sources, installs it into a fresh virtual
environment in a temporary folder outside the checkout (dependencies from the
package index, through pip's cache) and runs the installed ``rubric-xl`` from a
temporary working directory.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from rubric_xl import load_pack

REPO = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "src", "rules", "workbook_templates"]
PACKS = sorted(p.name for p in (REPO / "rules").glob("*.yaml"))
TEMPLATES = sorted(p.name for p in (REPO / "workbook_templates").glob("*.xlsx"))


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8",
                         timeout=timeout)
    assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stdout}\n{res.stderr}"
    return res


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    assert REPO not in base.resolve().parents  # really outside the checkout
    src = base / "src-copy"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in SOURCES:
        p = REPO / name
        (shutil.copytree(p, src / name, ignore=ignore) if p.is_dir() else shutil.copyfile(p, src / name))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "RUBRIC_XL"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    dist = base / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)]
    _run(build, base, env)
    (wheel,) = dist.glob("rubric_xl-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], base, env)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / ("python.exe" if os.name == "nt" else "python")
    _run([str(py), "-m", "pip", "install", "-q", str(wheel)], base, env, timeout=600)
    work = base / "work"
    work.mkdir()
    env["PATH"] = str(bindir) + os.pathsep + env.get("PATH", "")
    exe = shutil.which("rubric-xl", path=str(bindir))  # rubric-xl.exe on Windows
    assert exe and Path(exe).resolve().parent == bindir.resolve()
    return {"wheel": wheel, "py": py, "exe": exe, "work": work, "env": env, "venv": venv}


def test_wheel_carries_packs_cases_and_templates(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for p in PACKS:
        assert f"rubric_xl/data/rules/{p}" in names
        assert f"rubric_xl/data/rules/cases/{p}" in names
    for t in TEMPLATES:
        assert f"rubric_xl/data/templates/{t}" in names
    # byte-for-byte the checked-in files: git keeps one copy, the build copies it
    z = zipfile.ZipFile(installed["wheel"])
    assert z.read("rubric_xl/data/rules/shanxi-2005.yaml") == (REPO / "rules" / "shanxi-2005.yaml").read_bytes()
    assert not any(n.startswith(("rules/", "tests/", "examples/")) for n in names)


def test_installed_package_is_not_the_checkout(installed):
    res = _run([str(installed["py"]), "-c", "import rubric_xl; print(rubric_xl.__file__)"],
               installed["work"], installed["env"])
    where = Path(res.stdout.strip()).resolve()
    assert installed["venv"].resolve() in where.parents and REPO not in where.parents


def test_rules_list_shows_the_bundled_packs(installed):
    res = _run([installed["exe"], "rules", "list"], installed["work"], installed["env"])
    lines = res.stdout.splitlines()
    ids = [line.split("\t")[0] for line in lines if "\t" in line]
    assert ids == [p.removesuffix(".yaml") for p in PACKS]
    assert all("site-packages" in line or "data" in line for line in lines if "\t" in line)
    assert f"共 {len(PACKS)} 个规则包" in res.stdout
    templates = [Path(line.split("：", 1)[1]) for line in lines if line.startswith("  填报模板：")]
    assert [t.name for t in templates] == TEMPLATES  # the shipped ones, of exactly these packs
    assert all(installed["venv"].resolve() in t.resolve().parents and t.is_file() for t in templates)


def test_score_with_a_pack_id_from_another_directory(installed):
    facts = installed["work"] / "示例市.yaml"
    shutil.copyfile(REPO / "examples" / "shanxi-2005-full.yaml", facts)
    res = _run([installed["exe"], "score", "--rules", "shanxi-2005", "--facts", facts.name],
               installed["work"], installed["env"])
    assert "总分 104.70 / 100.00" in res.stdout and "等次 优秀" in res.stdout
    res = _run([installed["exe"], "rules", "test", "shanxi-2005", "xinzhou-2024"],
               installed["work"], installed["env"])
    assert "0 个失败" in res.stdout


def test_template_build_with_a_pack_id(installed):
    out = installed["work"] / "忻州.xlsx"
    res = _run([installed["exe"], "template", "build", "--rules", "xinzhou-2024", "-o", out.name],
               installed["work"], installed["env"])
    assert "已生成填报模板" in res.stdout and out.is_file()
    meta = load_workbook(out)["_meta"]
    rows = {meta.cell(r, 1).value: meta.cell(r, 2).value for r in range(1, 8)}
    assert rows["pack_id"] == "xinzhou-2024"
    assert rows["pack_hash"] == load_pack(REPO / "rules" / "xinzhou-2024.yaml").hash


def test_unknown_pack_id_is_a_chinese_error(installed):
    res = subprocess.run([installed["exe"], "score", "--rules", "shanxi-2099", "--facts", "x.yaml"],
                         cwd=installed["work"], env=installed["env"], capture_output=True, text=True,
                         encoding="utf-8", timeout=120)
    assert res.returncode == 1
    assert "找不到规则包 shanxi-2099" in res.stderr and "shanxi-2005" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
