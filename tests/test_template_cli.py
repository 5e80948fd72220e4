"""``rubric-xl template build|distribute|fill`` through click's test runner:
exit codes 0 / 1 (bad input, Chinese message) / 2 (usage), never a traceback,
inputs never modified."""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from rubric_xl.cli import cli

REPO = Path(__file__).resolve().parents[1]
SHANXI = str(REPO / "rules" / "shanxi-2005.yaml")
XINZHOU = str(REPO / "rules" / "xinzhou-2024.yaml")
FULL = str(REPO / "examples" / "shanxi-2005-full.yaml")


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    text = result.output
    assert "Traceback" not in text
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def named_value(path: Path, name: str):
    wb = load_workbook(path)
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][ref.replace("$", "")].value


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "运城市.xlsx"
    r = run("template", "build", "--rules", SHANXI, "--unit", "运城市", "-o", str(path))
    assert r.exit_code == 0, r.output
    return path


def test_build(template):
    assert named_value(template, "info_unit") == "运城市"
    wb = load_workbook(template)
    assert wb["_meta"]["B1"].value == "shanxi-2005"


def test_build_reports_success_in_chinese(tmp_path):
    out = tmp_path / "t.xlsx"
    r = run("template", "build", "--rules", XINZHOU, "-o", str(out))
    assert r.exit_code == 0 and "已生成填报模板" in r.output and out.exists()


def test_build_usage_errors_exit_2(tmp_path):
    r = run("template", "build", "-o", str(tmp_path / "t.xlsx"))
    assert r.exit_code == 2 and "缺少选项" in r.output and "--rules" in r.output
    r = run("template", "build", "--rules", SHANXI, "-o", str(tmp_path / "t.txt"))
    assert r.exit_code == 2 and ".xlsx" in r.output
    assert not (tmp_path / "t.txt").exists()


def test_build_bad_pack_exit_1(tmp_path):
    r = run("template", "build", "--rules", str(tmp_path / "none.yaml"), "-o", str(tmp_path / "t.xlsx"))
    assert r.exit_code == 1 and "错误" in r.output and "找不到此文件" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: [\n", encoding="utf-8")
    r = run("template", "build", "--rules", str(bad), "-o", str(tmp_path / "t.xlsx"))
    assert r.exit_code == 1 and "无法读取规则包" in r.output and "bad.yaml:3" in r.output
    assert not (tmp_path / "t.xlsx").exists()


def test_build_pack_whose_ids_are_not_excel_names(tmp_path):
    text = Path(XINZHOU).read_text(encoding="utf-8").replace("id: report_date", "id: abc12")
    pack = tmp_path / "p.yaml"
    pack.write_text(text, encoding="utf-8")
    r = run("template", "build", "--rules", str(pack), "-o", str(tmp_path / "t.xlsx"))
    assert r.exit_code == 1 and "ABC12" in r.output and "abc12" in r.output


def test_distribute_builtin_list(tmp_path):
    out = tmp_path / "cities"
    r = run("template", "distribute", "--rules", SHANXI, "--units", "shanxi-cities", "-o", str(out))
    assert r.exit_code == 0 and "11" in r.output
    with open(out / "manifest.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["单位", "文件", "SHA-256"]  # the header is Chinese (issue 14)
    assert [row["单位"] for row in rows][:3] == ["太原市", "大同市", "朔州市"] and len(rows) == 11
    for row in rows:
        assert sha(out / row["文件"]) == row["SHA-256"]
    assert named_value(out / rows[-1]["文件"], "info_unit") == "运城市"


def test_distribute_unit_file_errors(tmp_path):
    units = tmp_path / "u.txt"
    units.write_text("甲县\n# 注释\n乙县\n甲县\n", encoding="utf-8")
    r = run("template", "distribute", "--rules", XINZHOU, "--units", str(units), "-o", str(tmp_path / "o"))
    assert r.exit_code == 1 and "u.txt:4" in r.output and "重复" in r.output
    assert not (tmp_path / "o").exists()
    r = run("template", "distribute", "--rules", XINZHOU, "--units", "no-such-list", "-o", str(tmp_path / "o"))
    assert r.exit_code == 1 and "shanxi-cities" in r.output
    r = run("template", "distribute", "--rules", XINZHOU, "-o", str(tmp_path / "o"))
    assert r.exit_code == 2


def test_distribute_from_file(tmp_path):
    units = tmp_path / "u.txt"
    units.write_text("\ufeff代县\n\n忻府区  # 区\n", encoding="utf-8")
    out = tmp_path / "o"
    r = run("template", "distribute", "--rules", XINZHOU, "--units", str(units), "-o", str(out))
    assert r.exit_code == 0, r.output
    files = sorted(p.name for p in out.iterdir())
    assert files == ["manifest.csv", "xinzhou-2024_代县.xlsx", "xinzhou-2024_忻府区.xlsx"]
    assert named_value(out / "xinzhou-2024_代县.xlsx", "reporting_body") == "代县"


def test_fill(template, tmp_path):
    before = sha(template)
    out = tmp_path / "filled.xlsx"
    r = run("template", "fill", str(template), "--facts", FULL, "-o", str(out),
            "--filler", "张三", "--phone", "0359-1234567", "--date", "2005-11-10")
    assert r.exit_code == 0 and "已填写" in r.output, r.output
    assert sha(template) == before
    assert named_value(out, "weekly_reports_count") == 19
    assert named_value(out, "leading_group_established") == "是"
    assert named_value(out, "info_filler") == "张三"
    assert named_value(out, "info_unit") == "运城市"


def test_fill_bad_facts_exit_1_naming_the_fact(template, tmp_path):
    before = sha(template)
    facts = tmp_path / "f.yaml"
    facts.write_text("weekly_reports_count: 2.5\nsurvey_report_date: 7月15日\n", encoding="utf-8")
    out = tmp_path / "o.xlsx"
    r = run("template", "fill", str(template), "--facts", str(facts), "-o", str(out))
    assert r.exit_code == 1
    assert "weekly_reports_count" in r.output and "整数" in r.output
    assert "survey_report_date" in r.output and "YYYY-MM-DD" in r.output
    assert not out.exists() and sha(template) == before


def test_fill_usage_and_file_errors(template, tmp_path):
    before = sha(template)
    r = run("template", "fill", str(template), "--facts", FULL, "-o", str(template))
    assert r.exit_code == 2 and "模板" in r.output
    assert sha(template) == before
    r = run("template", "fill", str(template), "-o", str(tmp_path / "o.xlsx"))
    assert r.exit_code == 2 and "--facts" in r.output
    r = run("template", "fill", str(tmp_path / "none.xlsx"), "--facts", FULL, "-o", str(tmp_path / "o.xlsx"))
    assert r.exit_code == 1 and "找不到模板" in r.output
    r = run("template", "fill", str(template), "--facts", str(tmp_path / "none.yaml"), "-o",
            str(tmp_path / "o.xlsx"))
    assert r.exit_code == 1 and "none.yaml" in r.output
    r = run("template", "fill", str(template), "--facts", FULL, "-o", str(tmp_path / "o.xlsx"),
            "--unit", "太原市")
    assert r.exit_code == 1 and "运城市" in r.output
    r = run("template", "fill", str(template), "--facts", FULL, "-o", str(tmp_path / "o.xlsx"),
            "--date", "11/10/2005")
    assert r.exit_code == 1 and "YYYY-MM-DD" in r.output
    assert not (tmp_path / "o.xlsx").exists()


def test_fill_with_explicit_rules_of_another_pack(template, tmp_path):
    r = run("template", "fill", str(template), "--facts", FULL, "-o", str(tmp_path / "o.xlsx"),
            "--rules", XINZHOU)
    assert r.exit_code == 1 and "shanxi-2005" in r.output and "xinzhou-2024" in r.output


def test_help_is_chinese():
    r = run("template", "--help")
    assert r.exit_code == 0 and "填报模板" in r.output
    for cmd in ("build", "distribute", "fill"):
        assert cmd in r.output
