"""The auditor's batch re-scoring: `rubric-xl score WORKBOOK|DIR…` and its reports."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import shutil
import zipfile
from xml.etree import ElementTree as ET
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import full_marks_facts
from rubric_xl import dumps, score, to_dict
from rubric_xl.audit import collect_files, combine_ledgers, score_workbooks, summary_line
from rubric_xl.cli.score import run_score
from rubric_xl.audit import score_workbook as _real_score_workbook
from rubric_xl.audit._reports import safe_text
from rubric_xl.cli import cli, main
from rubric_xl.engine.ledger import plan_for
from rubric_xl.samples import random_facts
from test_reader import (SHANXI, XINZHOU, cell_of, edit_book, filled, ledger_facts, name_target,
                         set_cells, sha256)


def _json(text: str):
    return json.loads(text, parse_float=Decimal)


def _card(facts: dict, pack=SHANXI) -> dict:
    """The facts-file score card as JSON, to compare with the workbook's."""
    return _json(dumps(to_dict(score(pack, facts))))


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    """A folder as an auditor receives it: good, provisional, broken and foreign files."""
    root = tmp_path_factory.mktemp("submissions")
    facts = random_facts(SHANXI, random.Random(11))
    filled(root, full_marks_facts(), name="01太原.xlsx", unit="太原市")
    filled(root / "晋中", facts, name="02晋中.xlsx", unit="晋中市")
    filled(root, {**full_marks_facts(), "weekly_reports_count": None}, name="03大同.xlsx", unit="大同市")
    (root / "04坏文件.xlsx").write_bytes(b"PK\x03\x04 truncated")
    (root / "~$01太原.xlsx").write_bytes(b"lock file of an open workbook")
    (root / "06旧版.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))
    (root / "说明.txt").write_text("not a workbook", encoding="utf-8")
    own = openpyxl.Workbook()
    own.save(root / "05自制表.xlsx")
    return root


def _run(args: list[str]) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, args)
    return res.exit_code, res.stdout, res.stderr


def test_batch_json_in_sorted_order_with_cards_and_problems(batch):
    code, out, err = _run(["score", str(batch), "--format", "json"])
    assert code == 1  # a broken file and a foreign file are errors
    whole = _json(out)
    assert list(whole) == ["kind", "summary", "files", "combined"] and whole["kind"] == "batch"
    assert whole["summary"] == {"files": 6, "scored": 3, "provisional": 1, "failed": 3, "with_errors": 0}
    assert whole["combined"] == []
    docs = whole["files"]
    assert [Path(d["file"]).name for d in docs] == ["01太原.xlsx", "03大同.xlsx", "04坏文件.xlsx",
                                                    "05自制表.xlsx", "06旧版.xls", "02晋中.xlsx"]
    by = {Path(d["file"]).name: d for d in docs}
    full = by["01太原.xlsx"]
    assert full["unit"] == "太原市" and full["status"] == "ok" and full["problems"] == []
    assert {k: v for k, v in full.items() if k not in ("file", "unit", "status", "problems")} == \
        _card(full_marks_facts())
    jz = by["02晋中.xlsx"]
    facts = random_facts(SHANXI, random.Random(11))
    assert jz["total"] == _card(facts)["total"] and jz["items"] == _card(facts)["items"]
    dt_ = by["03大同.xlsx"]
    assert dt_["status"] == "provisional" and dt_["provisional"] is True
    (p,) = dt_["problems"]
    assert p["level"] == "warning" and p["loc"].endswith(cell_of(batch / "03大同.xlsx", "weekly_reports_count"))
    assert "每周工作进度上报期数：未填写（第10项待填，总分为暂定分）" == p["msg"]
    bad = by["04坏文件.xlsx"]
    assert bad["status"] == "failed" and bad["kind"] is None and "文件已损坏" in bad["problems"][0]["msg"]
    assert "不是由 rubric-xl 模板生成" in by["05自制表.xlsx"]["problems"][0]["msg"]
    assert "另存为" in by["06旧版.xls"]["problems"][0]["msg"]  # reported, not silently left out
    assert err.strip().endswith("已评分 3 份，暂定 1 份，失败 3 份")


def test_single_workbook_is_a_list_of_one(batch):
    code, out, _ = _run(["score", str(batch / "01太原.xlsx"), "--format", "json"])
    assert code == 0
    whole = _json(out)  # the same shape as for a batch
    assert whole["kind"] == "batch" and whole["summary"]["files"] == 1 and whole["combined"] == []
    (doc,) = whole["files"]
    assert doc["total"] == Decimal("100.00") and doc["grade"] == "优秀"


def test_strict_makes_missing_inputs_errors(batch):
    path = str(batch / "03大同.xlsx")
    code, out, _ = _run(["score", path, "--format", "json"])
    assert code == 0 and _json(out)["files"][0]["status"] == "provisional"
    code, out, _ = _run(["score", path, "--format", "json", "--strict"])
    (doc,) = _json(out)["files"]
    assert code == 1 and doc["status"] == "error" and doc["problems"][0]["level"] == "error"


def test_exit_codes_through_the_real_entry_point(batch, capsys):
    with pytest.raises(SystemExit) as ok:
        main(["score", str(batch / "01太原.xlsx"), "--format", "json"])
    assert ok.value.code == 0
    with pytest.raises(SystemExit) as bad:
        main(["score", str(batch), "--format", "json"])
    assert bad.value.code == 1
    with pytest.raises(SystemExit) as usage:
        main(["score", str(batch), "--format", "xlsx"])  # xlsx needs -o
    assert usage.value.code == 2
    assert "xlsx 格式需要用 -o 指定输出文件" in capsys.readouterr().err


def test_missing_path_and_empty_folder(tmp_path):
    (tmp_path / "空").mkdir()
    entries = collect_files([str(tmp_path / "无此文件.xlsx"), str(tmp_path / "空")])
    assert [e.problems[0].msg for e in entries] == ["找不到此文件或目录", "目录中没有 .xlsx 或 .xlsm 工作簿"]


def test_bad_values_make_their_items_invalid_with_errors(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    set_cells(path, {"weekly_reports_count": "十八", "complaint_handling_rate": 120})
    (r,) = score_workbooks([str(path)])
    assert r.status == "error" and r.card.provisional
    cell = cell_of(path, "weekly_reports_count")
    it = r.card.item("10")  # 有误: not scored, never read as blank (待填)
    assert it.status == "invalid" and it.points is None
    assert it.explanation == f"有误：每周工作进度上报期数（{cell}）为“十八”，应为整数（不小于 0）"
    errors = [p for p in r.problems if p.level == "error"]
    assert [p.loc for p in errors] == [f"{path} {cell_of(path, 'weekly_reports_count')}",
                                       f"{path} {cell_of(path, 'complaint_handling_rate')}"]
    assert not [p for p in r.problems if "未填写" in p.msg]  # not reported twice


def set_unit(path: Path, unit: str) -> None:
    """A unit name that looks like a formula, stored as text (as a unit could type it)."""
    def change(wb):
        ws = wb["_meta"]
        row = next(r for r in ws.iter_rows(min_col=1, max_col=2) if r[0].value == "unit")
        row[1].value = unit
        row[1].data_type = "s"
    edit_book(path, change)


def test_csv_one_row_per_workbook_bom_and_no_formula_injection(tmp_path):
    set_unit(filled(tmp_path, full_marks_facts(), name="a.xlsx"), "=HYPERLINK(\"http://x\",\"点我\")")
    set_unit(filled(tmp_path, {**full_marks_facts(), "weekly_reports_count": 3}, name="b.xlsx"), "-2+3")
    out = tmp_path / "out" / "结果.csv"
    code, _, _ = _run(["score", str(tmp_path), "--format", "csv", "-o", str(out)])
    assert code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    head = rows[0]
    assert head[:6] == ["文件", "单位", "总分", "等次", "评选资格", "暂定"]
    assert head[6:13] == [c.name for c in SHANXI.model.categories] and head[-2:] == ["状态", "问题"]
    assert len(rows) == 3
    a, b = rows[1], rows[2]
    assert a[1] == "'=HYPERLINK(\"http://x\",\"点我\")" and b[1] == "'-2+3"
    assert a[2] == "100.00" and a[3] == "优秀" and a[4] == "是" and a[-2] == "正常"
    assert Decimal(b[2]) == _card({**full_marks_facts(), "weekly_reports_count": 3})["total"]
    assert list(out.parent.iterdir()) == [out]  # written atomically: no temp file left


@pytest.mark.parametrize("text,safe", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
                                       ("\tx", "'\tx"), ("\rx", "'\rx"), ("太原市", "太原市"), ("1-2", "1-2")])
def test_safe_text(text, safe):
    assert safe_text(text) == safe


def test_xlsx_report_ranking_items_problems_and_charts(tmp_path):
    units = {"甲市": {}, "乙市": {"weekly_reports_count": 15}, "丙市": {"weekly_reports_count": 15},
             "=丁市": {"weekly_reports_count": None}}
    for i, (unit, change) in enumerate(units.items()):
        set_unit(filled(tmp_path / "in", {**full_marks_facts(), **change}, name=f"{i}.xlsx"), unit)
    out = tmp_path / "汇总.xlsx"
    code, _, _ = _run(["score", str(tmp_path / "in"), "--format", "xlsx", "-o", str(out)])
    assert code == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["排名", "各项得分", "问题清单"]
    ws = wb["排名"]
    assert "审核结果" in ws["A1"].value and "shanxi-2005 版本 2005.1" in ws["A2"].value and "生成时间" in ws["A2"].value
    head = [c.value for c in ws[3]]
    assert head[:8] == ["名次", "单位", "文件", "总分", "等次", "评选资格", "暂定", "状态"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    # 100.00; 97.50 twice (weekly reports 15 of 20); 97.00 provisional (item 10 待填)
    assert [(r[0], r[1], Decimal(str(r[3])), r[6]) for r in rows] == [
        (1, "甲市", 100, "否"), (2, "乙市", Decimal("97.5"), "否"), (2, "丙市", Decimal("97.5"), "否"),
        (4, "=丁市", 97, "是")]
    assert ws["B7"].data_type == "s"  # "=丁市" stored as text, never a formula
    for sheet in wb:  # A4 landscape, fit to the page width, the header row on every page
        assert (sheet.page_setup.paperSize, sheet.page_setup.orientation) == (9, "landscape"), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
        assert sheet.print_title_rows == "$3:$3", sheet.title
    items = wb["各项得分"]
    assert [c.value for c in items[3]][:3] == ["序号", "考核内容", "分值"]
    assert items.cell(4, 1).value == 1 and items.max_row == 3 + len(SHANXI.items)  # 序号 is a number
    assert items.print_title_cols == "$A:$C"
    probs = wb["问题清单"]
    assert [c.value for c in probs[3]] == ["文件", "单位", "位置", "问题", "级别"]
    assert any("未填写" in (r[3] or "") for r in probs.iter_rows(min_row=4, values_only=True))
    charts = [n for n in zipfile.ZipFile(out).namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2
    bars = []
    for n in charts:
        root = ET.fromstring(zipfile.ZipFile(out).read(n))
        (bar,) = [e for e in root.iter() if e.tag.endswith("}barChart")]
        grouping = next(e.get("val") for e in bar if e.tag.endswith("}grouping"))
        refs = [e.text.replace("'", "") for e in bar.iter() if e.tag.endswith("}f")]
        bars.append((grouping, refs))
    # series title 总分, categories = units, values = totals
    assert bars[0] == ("clustered", ["排名!D3", "排名!$B$4:$B$7", "排名!$D$4:$D$7"])
    grouping, refs = bars[1]
    values = [r for r in refs if r.endswith("$7") and not r.startswith("排名!$B")]
    assert grouping == "stacked" and len(values) == len(SHANXI.model.categories) == 7
    assert values[0] == "排名!$I$4:$I$7" and values[-1] == "排名!$O$4:$O$7"  # the category columns I…O


def test_tampered_result_cells_are_warnings_and_the_recomputed_score_counts(tmp_path):
    facts = {**full_marks_facts(), "weekly_reports_count": 18}  # item 10 loses points
    path = filled(tmp_path, facts)
    real = score(SHANXI, facts)
    assert real.item("10").points < 3 and real.grade == "优秀" and not real.provisional

    def overwrite(wb):  # a unit typed its own results over the result cells
        for name, value in (("item_10_points", 3), ("item_1_points", float(real.item("1").points)),
                            ("category_2_points", float(real.categories[1].points)),
                            ("total_points", 100), ("grade", "不合格"), ("eligible", "是"),
                            ("provisional", "是")):
            ws, row, col = name_target(wb, name)
            ws.cell(row, col).value = value

    edit_book(path, overwrite)
    (r,) = score_workbooks([str(path)])
    assert r.card.total == real.total and r.status == "ok"
    warnings = {p.loc.split(" ", 1)[1]: p.msg for p in r.problems}
    # the agreeing cells (item 1, category 2, eligible) are not reported
    assert set(warnings) == {cell_of(path, n) for n in ("item_10_points", "total_points", "grade", "provisional")}
    assert warnings[cell_of(path, "item_10_points")] == (
        f"结果单元格 item_10_points 显示 3，重新计算为 {real.item('10').points:.2f}；"
        "以重新计算的结果为准（单元格可能被改动）")
    assert f"显示 100，重新计算为 {real.total:.2f}" in warnings[cell_of(path, "total_points")]
    assert "显示 “不合格”，重新计算为 “优秀”" in warnings[cell_of(path, "grade")]
    assert "显示 “是”，重新计算为 否" in warnings[cell_of(path, "provisional")]
    assert all(p.level == "warning" for p in r.problems)


@pytest.mark.parametrize("cached,engine,agree", [
    ("", Decimal("1.00"), None), (None, None, None),           # no cached value: nothing to compare
    (2.8, Decimal("2.80"), True), (2.8000000000000003, Decimal("2.80"), True), ("2.80", Decimal("2.8"), True),
    (2.79, Decimal("2.80"), False), ("待填", None, True), ("待填", Decimal("0.00"), False),
    (0.0, None, False), (True, Decimal("1.00"), False), ("nan", Decimal("1.00"), False),
])
def test_points_comparison(cached, engine, agree):
    from rubric_xl.audit._tamper import _points_agree
    assert _points_agree(cached, engine) is agree


def test_ledger_batch_row_problems_and_city_rollup(tmp_path):
    a = ledger_facts("忻府区")
    b = ledger_facts("原平市", rows=[{"enterprise_name": "丁洗煤", "industry": "其他", "listed_date": dt.date(2024, 4, 20),
                                     "deregistered_date": dt.date(2024, 5, 1)}])
    pa = filled(tmp_path, a, XINZHOU, name="忻府区.xlsx", unit="忻府区")
    pb = filled(tmp_path, b, XINZHOU, name="原平市.xlsx", unit="原平市")
    results = score_workbooks([str(pa), str(pb)])
    assert [r.unit for r in results] == ["忻府区", "原平市"]
    ra, rb = results
    assert ra.status == "ok" and rb.status == "error"
    errors = [p for p in rb.problems if p.level == "error"]
    assert errors and all(p.loc.startswith(f"{pb} 台账!") for p in rb.problems)
    assert any("台账第1条（丁洗煤）" in p.msg for p in errors)
    (combined,) = combine_ledgers(results)
    plan = plan_for(XINZHOU)
    from rubric_xl import convert_facts
    expect = plan.combine([convert_facts(XINZHOU, a), convert_facts(XINZHOU, b)])
    assert [(ru.by, ru.groups, ru.total) for ru in combined.rollups] == \
        [(ru.by, ru.groups, ru.total) for ru in expect]
    code, out, _ = _run(["score", str(pa), str(pb), "--format", "json"])
    whole = _json(out)
    docs = whole["files"] + whole["combined"]
    assert code == 1 and [d.get("kind") for d in docs] == ["ledger", "ledger", "ledger_combined"]
    assert whole["summary"] == {"files": 2, "scored": 2, "provisional": 0, "failed": 0, "with_errors": 1}
    body = next(ru for ru in docs[-1]["rollups"] if ru["by"] == "reporting_body")
    assert {g["key"] for g in body["groups"]} == {"忻府区", "原平市"} and body["total"]["key"]
    out_x = tmp_path / "台账.xlsx"
    assert _run(["score", str(pa), str(pb), "--format", "xlsx", "-o", str(out_x)])[0] == 1
    assert {"台账情况", "台账汇总"} <= set(openpyxl.load_workbook(out_x).sheetnames)


def test_jobs_give_the_same_results_in_input_order(tmp_path):
    paths = []
    for i in range(6):
        paths.append(str(filled(tmp_path, random_facts(SHANXI, random.Random(i), blank_rate=0.05),
                                name=f"{i}.xlsx", unit=f"单位{i}")))
    paths.append(str(tmp_path / "missing.xlsx"))
    one = score_workbooks(list(reversed(paths)), jobs=1)
    two = score_workbooks(list(reversed(paths)), jobs=2)
    assert [r.file for r in two] == list(reversed(paths))
    assert [r.to_dict() for r in one] == [r.to_dict() for r in two]


def test_inputs_are_never_modified_including_xlsm(tmp_path):
    path = filled(tmp_path, full_marks_facts())
    xlsm = tmp_path / "宏.xlsm"
    shutil.copy(path, xlsm)
    with zipfile.ZipFile(xlsm, "a") as z:  # a macro project: stored, never run
        z.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not executed")
    before = {p: sha256(p) for p in (path, xlsm)}
    out = tmp_path / "o.json"
    assert run_score([str(tmp_path)], fmt="json", output=str(out), jobs=2) == 0
    assert {p: sha256(p) for p in (path, xlsm)} == before
    docs = _json(out.read_text(encoding="utf-8"))["files"]
    assert [Path(d["file"]).name for d in docs] == ["县甲.xlsx", "宏.xlsm"]
    assert docs[0]["total"] == docs[1]["total"] == Decimal("100.00")


def test_summary_line_counts():
    from rubric_xl.audit import FileResult
    assert summary_line([FileResult("a")]) == "已评分 0 份，暂定 0 份，失败 1 份"


def test_table_format_single_and_batch(batch):
    code, out, _ = _run(["score", str(batch / "01太原.xlsx")])
    assert code == 0 and "总分 100.00 / 100.00" in out and "单位：太原市" in out
    code, out, _ = _run(["score", str(batch)])
    assert code == 1 and "无法评分" in out and "问题清单" in out and "暂定" in out


def _crash_on_boom(path, rules=None, strict=False, display=None):
    import os
    if Path(path).name == "boom.xlsx":
        os._exit(70)  # what a reader crash (a segfault in a parser) looks like to the pool
    return _real_score_workbook(path, rules, strict, display)


def test_a_crashing_file_fails_alone(tmp_path, monkeypatch):
    import rubric_xl.audit as audit
    for name in ("a.xlsx", "boom.xlsx", "c.xlsx", "d.xlsx"):
        filled(tmp_path, full_marks_facts(), name=name)
    monkeypatch.setattr(audit, "score_workbook", _crash_on_boom)  # inherited by forked workers
    results = score_workbooks([str(tmp_path)], jobs=2)
    assert [Path(r.file).name for r in results] == ["a.xlsx", "boom.xlsx", "c.xlsx", "d.xlsx"]
    assert [r.status for r in results] == ["ok", "failed", "ok", "ok"]
    assert "处理进程意外退出" in results[1].problems[0].msg


def test_rules_folder_is_searched_first(tmp_path):
    folder = tmp_path / "规则"
    folder.mkdir()
    shutil.copy(SHANXI.source, folder / "shanxi.yaml")
    path = filled(tmp_path, full_marks_facts())
    (r,) = score_workbooks([str(path)], rules=str(folder))
    assert r.status == "ok" and Path(r.pack_source).parent == folder


# --- a result crossing a process boundary --------------------------------------------------


def test_a_rubric_card_crosses_as_its_values_and_comes_back_the_same(tmp_path):
    import pickle

    from rubric_xl.audit._reports import file_json
    path = filled(tmp_path, random_facts(SHANXI, random.Random(5), blank_rate=0.2), name="x.xlsx")
    res = _real_score_workbook(path)
    res.encoded = file_json(res)
    data = pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL)
    assert b"ItemResult" not in data and b"Adjustment" not in data  # the card itself is not sent
    back = pickle.loads(data)
    assert to_dict(back.card) == to_dict(res.card) and back.status == res.status
    assert back.problems == res.problems and back.encoded == res.encoded and back.unit == res.unit
    assert file_json(back) == res.encoded  # the same line of the batch report


def test_a_durable_card_crosses_whole(tmp_path):
    import pickle

    path = filled(tmp_path, full_marks_facts(), name="x.xlsx")
    res = _real_score_workbook(path, executor="durable")
    data = pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL)
    assert b"ItemResult" in data  # computed on durable-rules: never recomputed by the engine
    assert to_dict(pickle.loads(data).card) == to_dict(res.card)


@pytest.mark.parametrize("change", ["edited", "deleted"])
def test_a_pack_changed_while_its_results_travel_is_said_not_raised(tmp_path, monkeypatch, change):
    import pickle

    from rubric_xl.rules import catalog
    pack = tmp_path / "pack.yaml"
    shutil.copy(SHANXI.source, pack)
    path = filled(tmp_path, full_marks_facts(), name="x.xlsx")
    res = _real_score_workbook(path, str(pack))
    data = pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL)
    monkeypatch.setattr(catalog, "_CACHE", {})  # where it arrives, the pack was never loaded
    if change == "edited":
        pack.write_text(pack.read_text(encoding="utf-8").replace("title:", "title: 改", 1), encoding="utf-8")
    else:
        pack.unlink()
    back = pickle.loads(data)
    assert back.card is None and back.status == "failed"
    assert "在评分过程中被改动或无法读取" in back.problems[-1].msg and str(pack) in back.problems[-1].msg
