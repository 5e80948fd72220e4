"""Build hook: ship the rule packs and the generated templates inside the wheel.

``rules/`` and ``workbook_templates/`` at the top of the repository stay the
only copy in git; building the package (``pip install .``, ``pip wheel .``,
``python -m build``) copies them to ``rubric_xl/data/rules`` and
``rubric_xl/data/templates`` in the build directory.  Editable installs read
them from the checkout instead (``rubric_xl.rules.catalog``).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# source folder, file patterns -> folder inside rubric_xl/data
BUNDLE = [
    ("rules", ("*.yaml", "cases/*.yaml"), "rules"),
    ("workbook_templates", ("*.xlsx",), "templates"),
]


class BuildPyWithPacks(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        data = Path(self.build_lib) / "rubric_xl" / "data"
        for src, patterns, dest in BUNDLE:
            files = sorted(f for pat in patterns for f in (ROOT / src).glob(pat) if f.is_file())
            if not files:
                raise SystemExit(f"setup.py: no files in {ROOT / src} to bundle")
            for f in files:
                target = data / dest / f.relative_to(ROOT / src)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, target)


setup(cmdclass={"build_py": BuildPyWithPacks})
