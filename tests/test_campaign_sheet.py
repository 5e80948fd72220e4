"""The 核定表: generated from the store, filled in Excel/WPS, imported back
with the submission's input contract and hostile-file handling."""
from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from rubric_xl.campaign import derive, import_files
from rubric_xl.campaign.sheet import import_sheets, read_sheet, write_sheets
from rubric_xl.cli import cli
from rubric_xl.cli.common import write_atomic
from rubric_xl.errors import RubricError

from test_campaign import batch, db_url, fill_template, city_facts, imported, store  # noqa: F401  (fixtures)


def _sheets(store, c, tmp_path, units=("太原市",)):
    return [Path(f["file"]) for f in write_sheets(store, c, list(units), str(tmp_path / "核定表"), write_atomic)]


def _fill(src: Path, dst: Path, rows: dict[str, tuple]) -> None:
    """Fill 核定值/理由/依据 as an auditor would, by the row's fact id (column A)."""
    wb = openpyxl.load_workbook(src)
    ws = wb["核定"]
    for r in range(5, ws.max_row + 1):
        fid = ws.cell(r, 1).value
        if fid in rows:
            for j, v in enumerate(rows[fid], start=5):
                ws.cell(r, j).value = v
    wb.save(dst)


def test_sheet_has_locked_self_values_and_pack_validation(store, batch, tmp_path):
    c, _ = imported(store, batch)
    (path,) = _sheets(store, c, tmp_path)
    assert path.name == "核定表_2005_太原市.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["核定"]
    assert [ws.cell(4, j).value for j in range(2, 8)] == ["核定内容", "所属项目", "自评值", "核定值", "理由", "依据"]
    rows = {ws.cell(r, 1).value: r for r in range(5, ws.max_row + 1)}
    r = rows["weekly_reports_count"]
    assert ws.cell(r, 4).value == 20 and ws.cell(r, 4).protection.locked
    assert not ws.cell(r, 5).protection.locked and not ws.cell(r, 6).protection.locked
    assert ws.protection.sheet
    assert wb["_meta"].sheet_state == "veryHidden"
    checks = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    dv = checks[f"E{r}"]
    assert dv.type == "whole" and dv.formula1 == "0"
    b = rows["spot_check_rebound_found"]
    assert checks[f"E{b}"].formula1 == '"是,否"'
    assert ws.cell(b, 4).value == "否"


def test_filled_sheet_imports_back_as_corrections(store, batch, tmp_path):
    c, _ = imported(store, batch)
    (path,) = _sheets(store, c, tmp_path)
    filled = tmp_path / "核定表_2005_太原市_已填.xlsx"
    _fill(path, filled, {"weekly_reports_count": (12, "登记簿只有12期", "周报登记簿"),
                         "survey_report_date": (dt.date(2005, 7, 20), "实际7月20日报送", ""),
                         "supervised_cases_count": (15, "与自评相同", "")})  # equal to 自评: no change
    before = filled.read_bytes()
    done, problems = import_sheets(store, c, [str(filled)], "张三")
    assert problems == [] and done == [{"file": filled.name, "unit": "太原市", "corrections": 2}]
    assert filled.read_bytes() == before  # never written
    u = derive(c, store.events(c)).units["太原市"]
    assert u.changes["weekly_reports_count"].value == "12" and u.changes["weekly_reports_count"].reviewer == "张三"
    assert u.changes["survey_report_date"].value == "2005-07-20"
    assert u.card.item("10").points == Decimal("0.00") and u.card.item("11").points < Decimal("2.00")
    ev = [e for e in store.events(c) if e.kind == "review"][0]
    assert ev.payload["source"] == f"核定表 {filled.name}"


@pytest.mark.parametrize("rows,expect", [
    ({"weekly_reports_count": ("很多", "理由", "")}, "核定!E"),
    ({"weekly_reports_count": (-3, "理由", "")}, "不小于 0"),
    ({"weekly_reports_count": (12, "", "")}, "理由"),
    ({"weekly_reports_count": (12, None, "只写了依据")}, "理由"),
    ({"weekly_reports_count": (None, "只写了理由", "")}, "核定值为空"),
    ({"spot_check_rebound_found": ("也许", "理由", "")}, "是 或 否"),
])
def test_bad_sheet_values_are_reported_by_cell_and_nothing_is_stored(store, batch, tmp_path, rows, expect):
    c, _ = imported(store, batch)
    (path,) = _sheets(store, c, tmp_path)
    filled = tmp_path / "太原市.xlsx"
    _fill(path, filled, rows)
    n = store.count(c)
    done, problems = import_sheets(store, c, [str(filled)], "张三")
    assert done == [] and problems
    assert any(expect in p.msg or expect in p.loc for p in problems), problems
    assert all(p.loc.startswith(filled.name) for p in problems)
    assert store.count(c) == n


@pytest.mark.parametrize("formula", ["=1+1", "=HYPERLINK(\"http://x\",\"y\")"])
def test_formula_in_a_sheet_cell_is_never_a_value(store, batch, tmp_path, formula):
    c, _ = imported(store, batch)
    (path,) = _sheets(store, c, tmp_path)
    filled = tmp_path / "太原市.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["核定"]
    ws.cell(5, 5).value = formula
    ws.cell(5, 6).value = "理由"
    wb.save(filled)
    done, problems = import_sheets(store, c, [str(filled)], "张三")
    assert not done and "公式" in problems[0].msg and problems[0].loc == f"{filled.name} 核定!E5"


def test_hostile_and_wrong_sheets(store, batch, tmp_path):
    c, _ = imported(store, batch)
    (path,) = _sheets(store, c, tmp_path, ("太原市", "大同市"))[:1]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "空文件.xlsx").write_bytes(b"")
    (bad / "不是工作簿.xlsx").write_bytes(b"PK\x03\x04garbage")
    shutil.copy(batch["up"] / "shanxi-2005_太原市.xlsx", bad / "自评表.xlsx")  # a submission, not a 核定表
    renamed = bad / "核定表_2005_大同市.xlsx"  # 太原市's sheet under 大同市's name
    _fill(path, renamed, {"weekly_reports_count": (12, "理由", "")})
    tampered = bad / "改动.xlsx"
    wb = openpyxl.load_workbook(path)
    wb["核定"].cell(5, 1).value = "no_such_fact"
    wb["核定"].cell(5, 5).value = 1
    wb["核定"].cell(5, 6).value = "理由"
    wb.save(tampered)
    files = sorted(bad.iterdir())
    done, problems = import_sheets(store, c, [str(f) for f in files], "张三")
    assert done == []
    by_file = {p.loc.split(" ")[0].rstrip(":"): p.msg for p in problems}
    assert set(by_file) == {f.name for f in files}
    assert "为空" in by_file["空文件.xlsx"] and "损坏" in by_file["不是工作簿.xlsx"]
    assert "不是由 rubric-xl" in by_file["自评表.xlsx"]
    assert "大同市" in by_file["核定表_2005_大同市.xlsx"] and "太原市" in by_file["核定表_2005_大同市.xlsx"]
    assert "no_such_fact" in by_file["改动.xlsx"]


def test_stale_sheet_after_resubmission_is_refused(store, batch, tmp_path):
    c, _ = imported(store, batch)
    (path,) = _sheets(store, c, tmp_path)
    filled = tmp_path / "太原市.xlsx"
    _fill(path, filled, {"weekly_reports_count": (12, "理由", "")})
    again = tmp_path / "again"
    again.mkdir()
    (again / "太原市.xlsx").write_bytes(fill_template(batch["sent"] / "shanxi-2005_太原市.xlsx", city_facts(3)))
    import_files(store, c, [str(again)])
    done, problems = import_sheets(store, c, [str(filled)], "张三")
    assert not done and "重新生成核定表" in problems[0].msg


def test_sheet_for_another_period_is_refused(store, batch, tmp_path):
    c, _ = imported(store, batch)
    (path,) = _sheets(store, c, tmp_path)
    c2 = store.create(c.pack(), c.pack_text, "2006", list(c.units))
    with pytest.raises(RubricError) as exc:
        read_sheet(c2, str(path))
    assert "2005" in str(exc.value) and "2006" in str(exc.value)


def test_cli_review_sheet_round_trip_and_never_overwrites(db_url, batch, tmp_path):
    from rubric_xl.campaign import Store

    s = Store(db_url)
    imported(s, batch)
    s.close()
    run = CliRunner()
    out = tmp_path / "核定表"
    res = run.invoke(cli, ["campaign", "review-sheet", "太原市", "-o", str(out), "--db", db_url])
    assert res.exit_code == 0, res.output
    path = out / "核定表_2005_太原市.xlsx"
    _fill(path, path, {"weekly_reports_count": (12, "登记簿只有12期", "")})
    filled = path.read_bytes()
    again = run.invoke(cli, ["campaign", "review-sheet", "太原市", "-o", str(out), "--db", db_url])
    assert again.exit_code == 1 and "已存在" in again.output
    assert path.read_bytes() == filled  # a filled 核定表 is never replaced
    res = run.invoke(cli, ["campaign", "review", "--sheet", str(path), "--db", db_url, "--format", "json"])
    assert res.exit_code == 0, res.output
    missing = run.invoke(cli, ["campaign", "review-sheet", "晋城市", "-o", str(out), "--db", db_url])
    assert missing.exit_code == 1 and "尚无可核定的上报" in missing.output
