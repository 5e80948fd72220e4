"""The add-in server (xlwings Server + rubric-xl) through FastAPI's TestClient.

Workbooks are REAL generated templates (rubric_xl.workbook), filled as a user
would; payloads are what the xlwings JS client's getBookData() sends for them
(rubric_xl.addin._payload mirrors it; test_addin_e2e checks that against the real
JS client).  Every score is checked against the engine called directly.
"""
from __future__ import annotations

import copy
import io
import json
import random
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from rubric_xl import FactsError, convert_facts, load_pack, score
from rubric_xl.samples import random_facts
from rubric_xl.workbook import fill_template, template_bytes


ROOT = Path(__file__).resolve().parents[1]
SHANXI = ROOT / "rules" / "shanxi-2005.yaml"
XINZHOU = ROOT / "rules" / "xinzhou-2024.yaml"
QINGLING = ROOT / "rules" / "shanxi-2019-qingling.yaml"
PYTHON = sys.executable


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from rubric_xl.addin import create_app

    return TestClient(create_app([SHANXI, XINZHOU, QINGLING]))


@pytest.fixture(scope="module")
def base(pack, template, tmp_path_factory):
    """A complete submission: (facts, payload)."""
    facts = random_facts(pack, 11)
    return facts, payload(filled(template, pack, facts), tmp_path_factory.mktemp("base"))


# ------------------------------------------------------------------ helpers
def filled(template: Path, pack, facts: dict) -> bytes:
    return fill_template(template, facts, rules=pack)


def set_cells(xlsx: bytes, values: dict) -> bytes:
    """Type raw values into named cells (what fill_template refuses: bad input)."""
    wb = load_workbook(io.BytesIO(xlsx))
    for name, value in values.items():
        sheet, ref = next(iter(wb.defined_names[name].destinations))
        wb[sheet][ref.replace("$", "")] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def name_cells(xlsx: bytes) -> dict[str, tuple[str, str]]:
    """Every defined name's (sheet, first cell), read with openpyxl (not the server)."""
    wb = load_workbook(io.BytesIO(xlsx), read_only=False)
    out = {}
    for name, dn in wb.defined_names.items():
        dest = list(dn.destinations)
        if dest:
            out[name] = (dest[0][0], dest[0][1].replace("$", "").split(":")[0])
    return out


def typed(book: dict, values: dict) -> dict:
    """A copy of *book* as the JS client would send it after the user typed *values*
    into the named cells (``None`` clears a cell: the client sends "")."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    book = copy.deepcopy(book)
    names = {n["name"]: n for n in book["names"]}
    for name, value in values.items():
        n = names[name]
        col, row = coordinate_from_string(n["address"].split(":")[0])
        grid = book["sheets"][n["sheet_index"]]["values"]
        grid[row - 1][column_index_from_string(col) - 1] = "" if value is None else value
    return book


def payload(xlsx: bytes, tmp_path: Path, name: str = "太原市.xlsx") -> dict:
    from rubric_xl.addin._payload import payload_from_xlsx

    path = tmp_path / name
    path.write_bytes(xlsx)
    return payload_from_xlsx(path)


def set_meta(book: dict, key: str, value: str) -> dict:
    """Change a _meta value in a payload (key in column A, value in B)."""
    sheet = next(s for s in book["sheets"] if s["name"] == "_meta")
    row = next(r for r in sheet["values"] if r[0] == key)
    row[1] = value
    return book


def post_score(client, book: dict) -> dict:
    r = client.post("/rubric/score", content=json.dumps(book, ensure_ascii=False).encode())
    assert r.status_code == 200, r.text
    return r.json()


def assert_matches_engine(result: dict, card) -> None:
    assert result["ok"] is True
    assert Decimal(str(result["total"])) == card.total
    assert result["grade"] == card.grade
    assert result["provisional"] == card.provisional
    assert result["eligible"] == card.eligible
    assert [(c["name"], Decimal(str(c["points"]))) for c in result["categories"]] == \
        [(c.name, c.points) for c in card.categories]
    for got, want in zip(result["items"], card.items, strict=True):
        assert got["id"] == want.id
        assert got["status"] == want.status
        assert (None if got["points"] is None else Decimal(str(got["points"]))) == want.points
        assert got["explanation"] == want.explanation


# ------------------------------------------------------------------ versions
def test_xlwings_and_server_versions_work_together(client):
    import xlwings
    import xlwings_server

    assert xlwings.__version__ == "0.37.8"
    assert xlwings_server.__version__ == "1.20.0"
    assert xlwings.__pro__, "xlwings Server features need XLWINGS_LICENSE_KEY before import"
    # The JS client announces the xlwings version the task pane was served with;
    # it must be the server's own (version mismatch is xlwings' top support issue).
    html = client.get("/taskpane.html").text
    config = json.loads(html.split('<script id="config" type="application/json">')[1].split("</script>")[0])
    assert config["xlwingsVersion"] == xlwings.__version__
    assert config["onWasm"] is False


def test_taskpane_is_served_in_chinese_with_the_xlwings_client(client):
    r = client.get("/taskpane.html")
    assert r.status_code == 200
    html = r.text
    assert "评分助手" in html and "重新评分" in html and 'xw-click="write_scores"' in html
    assert "/static/js/custom-scripts/index.js" in html  # the xlwings JS client
    assert "/rubric/functions.js" in html and "/xlwings/custom-functions-code" not in html
    assert client.get("/static/rubric/taskpane.js").status_code == 200
    ribbon = client.get("/static/js/ribbon.js").text
    assert "rubric-write-scores" in ribbon and "hello-ribbon" not in ribbon


# ------------------------------------------------------------------ scoring
def test_complete_submission_matches_engine(client, pack, template, tmp_path):
    facts = random_facts(pack, 2005)
    result = post_score(client, payload(filled(template, pack, facts), tmp_path))
    card = score(pack, facts)
    assert not card.provisional
    assert_matches_engine(result, card)
    assert result["status"] == "已完成"
    assert result["issues"] == []
    assert result["pack"]["hash"] == pack.hash
    assert result["unit"] == "太原市"
    # every item links to its 得分 cell in 评分 (found by name, not by position)
    cells = name_cells(filled(template, pack, facts))
    for it in result["items"]:
        assert (it["sheet"], it["address"]) == cells[f"item_{it['id']}_points"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), blank_rate=st.sampled_from([0.0, 0.1, 0.4]))
def test_any_submission_matches_engine(client, pack, template, tmp_path, seed, blank_rate):
    facts = random_facts(pack, random.Random(seed), blank_rate=blank_rate)
    result = post_score(client, payload(filled(template, pack, facts), tmp_path))
    card = score(pack, facts)
    assert_matches_engine(result, card)
    missing = {f for it in card.items for f in it.missing}
    assert {i["fact"] for i in result["issues"] if i["kind"] == "missing"} == missing
    assert all(i["kind"] == "missing" for i in result["issues"])


def test_wrong_type_out_of_range_and_missing_are_located(client, pack, template, tmp_path):
    facts = random_facts(pack, 7)
    facts["media_reports_2005_08"] = 12
    bad = {
        "weekly_reports_count": "二十",  # wrong type
        "three_simultaneous_rate": 150,  # percent out of range
        "supervised_cases_count": -1,  # below the minimum of an int
        "project_baseline_unclear_items": 2.5,  # not a whole number
        "complaint_handling_rate": None,  # missing
    }
    xlsx = set_cells(filled(template, pack, facts), bad)
    result = post_score(client, payload(xlsx, tmp_path))
    issues = {i["fact"]: i for i in result["issues"]}
    assert {k: issues[k]["kind"] for k in bad} == {
        "weekly_reports_count": "type", "three_simultaneous_rate": "range",
        "supervised_cases_count": "range", "project_baseline_unclear_items": "type",
        "complaint_handling_rate": "missing"}
    assert issues["weekly_reports_count"]["kind_label"] == "类型错误"
    assert issues["three_simultaneous_rate"]["kind_label"] == "超出范围"
    assert issues["complaint_handling_rate"]["kind_label"] == "未填写"
    cells = name_cells(xlsx)
    for fid in bad:
        sheet, address = cells[fid]
        assert (issues[fid]["sheet"], issues[fid]["address"]) == (sheet, address)
        assert issues[fid]["ref"] == f"{sheet}!{address}"
    # the messages are the engine's own, for the same values read from the same cells
    raw = {**facts, **bad}
    with pytest.raises(FactsError) as exc:
        convert_facts(pack, raw)
    engine_msgs = sorted(p.msg for p in exc.value.problems)
    assert len(engine_msgs) == 4
    got = {i["fact"]: i["msg"] for i in result["issues"] if i["kind"] in ("type", "range")}
    assert sorted(m.replace(f"（{issues[f]['ref']}）", "") for f, m in got.items()) == engine_msgs
    ref10 = issues["weekly_reports_count"]["ref"]
    assert got["weekly_reports_count"] == f"每周工作进度上报期数（{ref10}）为“二十”，应为整数（不小于 0）"
    # the score: rejected values never count — their items are not scored, total provisional
    card = score(pack, {**raw, **{k: None for k in bad}})
    assert Decimal(str(result["total"])) == card.total
    assert result["provisional"] is True
    items = {it["id"]: it for it in result["items"]}
    assert items["10"]["status"] == "invalid" and items["10"]["points"] is None
    assert items["10"]["explanation"] == f"有误：每周工作进度上报期数（{ref10}）为“二十”，应为整数（不小于 0）"
    assert items["10"]["invalid"] == ["weekly_reports_count"]
    assert items["30"]["explanation"] == "待填：群众环境污染投诉查处率"
    assert result["status"].startswith("暂定：有4处输入错误")


@pytest.mark.parametrize("fid,value,kind", [
    ("three_simultaneous_rate", 100, None), ("three_simultaneous_rate", 0, None),
    ("three_simultaneous_rate", 100.01, "range"), ("three_simultaneous_rate", -0.01, "range"),
    ("weekly_reports_count", 0, None), ("weekly_reports_count", -1, "range"),
    ("weekly_reports_count", 20.0, None), ("weekly_reports_count", 19.5, "type"),
    ("gov_special_funding_wan", 0, None), ("gov_special_funding_wan", -0.5, "range"),
    ("leading_group_established", "是", None), ("leading_group_established", "有", "type"),
    ("supervision_standard_level", "二级", None), ("supervision_standard_level", "2级", "type"),
])
def test_input_boundaries(client, pack, base, fid, value, kind):
    facts, book = base
    result = post_score(client, typed(book, {fid: value}))
    got = [i["kind"] for i in result["issues"] if i["fact"] == fid]
    assert got == ([] if kind is None else [kind])
    if kind is None:
        assert_matches_engine(result, score(pack, {**facts, fid: value}))


def test_workbook_from_another_pack_version_gets_a_chinese_message(client, pack, template, tmp_path):
    xlsx = filled(template, pack, random_facts(pack, 3))
    wb = load_workbook(io.BytesIO(xlsx))
    meta = wb["_meta"]
    row = next(r for r in range(1, 20) if meta.cell(r, 1).value == "pack_hash")
    meta.cell(row, 2).value = "0" * 64
    ver = next(r for r in range(1, 20) if meta.cell(r, 1).value == "pack_version")
    meta.cell(ver, 2).value = "2004.9"
    out = io.BytesIO()
    wb.save(out)
    result = post_score(client, payload(out.getvalue(), tmp_path))
    assert result["ok"] is False
    assert "另一版本" in result["message"] and "2004.9" in result["message"]
    assert "Traceback" not in json.dumps(result, ensure_ascii=False)
    assert "items" not in result and "total" not in result


def test_unknown_pack_and_not_a_template(client, pack, template, tmp_path):
    xlsx = filled(template, pack, random_facts(pack, 3))
    wb = load_workbook(io.BytesIO(xlsx))
    wb["_meta"]["B1"] = "beijing-2030"
    out = io.BytesIO()
    wb.save(out)
    r1 = post_score(client, payload(out.getvalue(), tmp_path))
    assert r1["ok"] is False and "beijing-2030" in r1["message"] and "shanxi-2005" in r1["message"]
    del wb["_meta"]
    out = io.BytesIO()
    wb.save(out)
    r2 = post_score(client, payload(out.getvalue(), tmp_path))
    assert r2["ok"] is False and "_meta" in r2["message"] and "标准填报模板" in r2["message"]


def test_bad_requests_get_chinese_errors(client):
    r = client.post("/rubric/score", content=b"not json")
    assert r.status_code == 400 and r.json()["message"] == "收到的数据不是有效的 JSON。"
    r = client.post("/rubric/score", content=b"")
    assert r.status_code == 400 and "没有工作簿数据" in r.json()["message"]
    r = client.post("/rubric/score", json={"sheets": "x"})
    assert r.status_code == 200 and r.json()["ok"] is False and "格式不正确" in r.json()["message"]


def test_missing_input_name_is_reported_not_scored(client, pack, template, tmp_path):
    facts = random_facts(pack, 5)
    wb = load_workbook(io.BytesIO(filled(template, pack, facts)))
    del wb.defined_names["weekly_reports_count"]
    out = io.BytesIO()
    wb.save(out)
    result = post_score(client, payload(out.getvalue(), tmp_path))
    tpl = [i for i in result["issues"] if i["kind"] == "template"]
    assert [i["fact"] for i in tpl] == ["weekly_reports_count"]
    assert "缺少名称 weekly_reports_count" in tpl[0]["msg"]
    items = {it["id"]: it for it in result["items"]}
    assert items["10"]["status"] == "incomplete" and result["provisional"] is True
    assert_matches_engine(result, score(pack, {**facts, "weekly_reports_count": None}))


@pytest.mark.parametrize("pack_path", [XINZHOU, QINGLING], ids=lambda p: p.stem)
def test_ledger_workbook(client, tmp_path, pack_path):
    led = load_pack(pack_path)
    tpl = tmp_path / "led.xlsx"
    tpl.write_bytes(template_bytes(led))
    facts = random_facts(led, 4, rows=6)
    result = post_score(client, payload(fill_template(tpl, facts, rules=led), tmp_path))
    card = score(led, facts)
    assert result["ok"] is True and result["kind"] == "ledger"
    assert result["errors"] == card.error_count and len(result["rows"]) == len(card.rows)
    checks = [i for i in result["issues"] if i["kind"] == "check"]
    assert len(checks) == card.error_count
    assert all(i["ref"] and i["ref"].startswith("台账!") for i in checks)


def test_server_timing_header(client, pack, template, tmp_path):
    book = payload(filled(template, pack, random_facts(pack, 1)), tmp_path)
    r = client.post("/rubric/score", json=book)
    assert r.headers["Server-Timing"].startswith("score;dur=")


# ------------------------------------------------------------------ functions
def test_custom_functions_metadata(client):
    meta = client.get("/xlwings/custom-functions-meta.json").json()
    funcs = {f["id"]: f for f in meta["functions"]}
    assert set(funcs) == {"ITEM", "EXPLAIN", "TOTAL", "GRADE", "CATEGORY", "STATUS"}
    assert [p["name"] for p in funcs["ITEM"]["parameters"]] == ["item_id"]  # the injected score is hidden
    assert funcs["TOTAL"]["parameters"] == []
    assert all(f["options"].get("volatile") for f in funcs.values())
    assert "得分" in funcs["ITEM"]["description"]
    js = client.get("/rubric/functions.js").text
    listed = json.loads(js.split("const FUNCTIONS = ")[1].split(";")[0])
    assert sorted(f["id"] for f in listed) == sorted(funcs)


def call_functions(client, book, calls):
    r = client.post("/rubric/functions-call", json={"book": book, "runtime": "1.3", "calls": [
        {"func_name": f, "args": [[[a]] for a in args], "caller_address": "评分!J1"} for f, *args in calls]})
    assert r.status_code == 200, r.text
    return [res[0][0] for res in r.json()["results"]]


def test_custom_functions_match_engine(client, pack, template, tmp_path):
    facts = random_facts(pack, 42, blank_rate=0.05)
    facts["weekly_reports_count"] = 17
    facts["complaint_handling_rate"] = Decimal("96.5")
    card = score(pack, facts)
    book = payload(filled(template, pack, facts), tmp_path)
    got = call_functions(client, book, [("item", "10"), ("explain", "10"), ("item", 30.0), ("total",),
                                        ("grade",), ("category", "信息报送"), ("category", 1), ("status",)])
    assert got[0] == float(card.item("10").points) == 1.5
    assert got[1] == card.item("10").explanation == "少报3期，扣1.50分；得1.50分"
    assert got[2] == float(card.item("30").points)
    assert got[3] == float(card.total)
    assert got[4] == (f"{card.grade}（暂定）" if card.provisional else card.grade)
    assert got[5] == float(card.categories[1].points)
    assert got[6] == float(card.categories[0].points)
    assert got[7] in ("已完成",) or got[7].startswith("暂定")


def test_custom_function_errors_are_chinese_text(client, pack, template, tmp_path):
    facts = random_facts(pack, 9)
    facts["supervised_cases_count"] = None
    book = payload(filled(template, pack, facts), tmp_path)
    got = call_functions(client, book, [("item", "99"), ("item", ""), ("item", "20"), ("category", "不存在"),
                                        ("nope",)])
    assert got[0].startswith("错误：") and "第99项" in got[0]
    assert got[1].startswith("错误：请给出评分项序号")
    assert got[2] == "待填：挂牌督办案件数"
    assert got[3].startswith("错误：没有类别“不存在”")
    assert got[4] == "错误：没有这个函数（nope）"
    # without a workbook, through xlwings Server's own endpoint: a hint, not a traceback
    r = client.post("/xlwings/custom-functions-call", json={
        "func_name": "total", "args": [], "client": "Office.js", "version": "0.37.8", "runtime": "1.3"})
    assert r.status_code == 200 and r.json()["result"][0][0].startswith("错误：未收到工作簿数据")
    # a workbook of another pack: the same Chinese message in every cell
    set_meta(book, "pack_hash", "f" * 64)
    got = call_functions(client, book, [("total",), ("item", "1")])
    assert all(g.startswith("错误：此工作簿由规则包") for g in got)


# ------------------------------------------------------------------ 写入得分
def apply_actions(book: dict, actions: list[dict]) -> tuple[dict, dict]:
    """Replay setValues / setRangeColor like the JS client: (values, colors) by (sheet, A1)."""
    from openpyxl.utils import get_column_letter

    values, colors = {}, {}
    for a in actions:
        sheet = book["sheets"][a["sheet_position"]]["name"]
        for dr in range(a["row_count"]):
            for dc in range(a["column_count"]):
                ref = (sheet, f"{get_column_letter(a['start_column'] + dc + 1)}{a['start_row'] + dr + 1}")
                if a["func"] == "setValues":
                    values[ref] = a["values"][dr][dc]
                elif a["func"] == "setRangeColor":
                    colors[ref] = a["args"][0]
                else:
                    raise AssertionError(f"unexpected action {a['func']}")
    return values, colors


def test_write_scores_script(client, pack, template, tmp_path):
    facts = random_facts(pack, 77)
    facts["weekly_reports_count"] = 18  # a deduction
    facts["plan_report_submitted"] = False  # zeroed
    facts["annual_summary_date"] = None  # 未报 → zeroed
    facts["complaints_unresolved"] = None  # incomplete
    xlsx = filled(template, pack, facts)
    book = payload(xlsx, tmp_path)
    r = client.post("/xlwings/custom-scripts-call/write_scores", json=book)
    assert r.status_code == 200, r.text
    values, colors = apply_actions(book, r.json()["actions"])
    card = score(pack, facts)
    cells = name_cells(xlsx)
    for it in card.items:
        pts = cells[f"item_{it.id}_points"]
        exp = cells[f"item_{it.id}_explain"]
        assert values[pts] == ("" if it.points is None else float(it.points))  # "" clears the cell
        assert values[exp] == it.explanation
        want = "#FFE699" if it.points is None else "#F8CBAD" if (it.zeroed or it.deductions) else None
        assert colors[pts] == colors[exp] == want, it.id
    assert colors[cells["item_10_points"]] == "#F8CBAD"
    assert colors[cells["item_41_points"]] == "#FFE699"
    assert values[cells["total_points"]] == float(card.total)
    assert values[cells["grade"]] == card.grade
    assert values[cells["provisional"]] == "是"
    for n, c in enumerate(card.categories, 1):
        assert values[cells[f"category_{n}_points"]] == float(c.points)
    # nothing outside the result cells is touched
    result_names = [f"item_{it.id}_{k}" for it in card.items for k in ("points", "explain")]
    result_names += [f"category_{n}_points" for n in range(1, len(card.categories) + 1)]
    result_names += ["total_points", "grade", "eligible", "provisional"]
    assert set(values) == {cells[n] for n in result_names}


def test_write_scores_refuses_another_pack(client, pack, template, tmp_path):
    book = payload(filled(template, pack, random_facts(pack, 3)), tmp_path)
    set_meta(book, "pack_hash", "e" * 64)
    r = client.post("/xlwings/custom-scripts-call/write_scores", json=book)
    assert r.status_code == 400
    assert "另一版本" in r.text and "Traceback" not in r.text


# ------------------------------------------------------------------ manifest and CLI
def run_cli(*args: str, pre: str = "") -> subprocess.CompletedProcess:
    code = f"{pre}\nfrom rubric_xl.cli import main\nmain()"
    return subprocess.run([PYTHON, "-c", code, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


NS = {"o": "http://schemas.microsoft.com/office/appforoffice/1.1",
      "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
      "v": "http://schemas.microsoft.com/office/taskpaneappversionoverrides"}


def test_manifest_cli(tmp_path):
    out1, out2 = tmp_path / "m1.xml", tmp_path / "m2.xml"
    r = run_cli("addin", "manifest", "--url", "https://pingfen.example.gov.cn/", "-o", str(out1))
    assert r.returncode == 0, r.stderr
    assert "已生成加载项清单" in r.stderr
    assert run_cli("addin", "manifest", "--url", "https://other.example.gov.cn", "-o", str(out2)).returncode == 0
    root = ET.parse(out1).getroot()
    gid = root.find("o:Id", NS).text
    assert uuid.UUID(gid).version == 4
    assert ET.parse(out2).getroot().find("o:Id", NS).text == gid  # stable across runs and servers
    assert root.find("o:DisplayName", NS).get("DefaultValue") == "评分助手"
    assert root.find("o:DefaultLocale", NS).text == "zh-CN"
    assert root.find("o:DefaultSettings/o:SourceLocation", NS).get("DefaultValue") == \
        "https://pingfen.example.gov.cn/taskpane.html"
    urls = {u.get("id"): u.get("DefaultValue") for u in root.iter(f"{{{NS['bt']}}}Url")}
    assert urls == {"Taskpane.Url": "https://pingfen.example.gov.cn/taskpane.html",
                    "Functions.Script.Url": "https://pingfen.example.gov.cn/rubric/functions.js",
                    "Functions.Metadata.Url": "https://pingfen.example.gov.cn/xlwings/custom-functions-meta.json"}
    strings = {s.get("id"): s.get("DefaultValue") for s in root.iter(f"{{{NS['bt']}}}String")}
    assert strings["Functions.Namespace"] == "RUBRIC" and strings["Write.Label"] == "写入得分"


def test_manifest_served_by_the_server_is_the_same(client, tmp_path):
    from rubric_xl.addin import render_manifest

    r = client.get("/manifest.xml", headers={"X-Forwarded-Proto": "https"})
    assert r.status_code == 200
    assert r.text == render_manifest("https://testserver")


def test_manifest_cli_rejects_plain_http():
    r = run_cli("addin", "manifest", "--url", "http://pingfen.example.gov.cn")
    assert r.returncode == 2 and "HTTPS" in r.stderr and "Traceback" not in r.stderr
    assert run_cli("addin", "manifest", "--url", "http://127.0.0.1:8000").returncode == 0


def test_serve_without_the_extra_says_how_to_install():
    r = run_cli("addin", "serve", pre="import sys; sys.modules['xlwings_server'] = None")
    assert r.returncode == 1
    assert "pip install \"rubric-xl[addin]\"" in r.stderr
    assert "Traceback" not in r.stderr


def test_serve_with_a_missing_pack_says_so():
    r = run_cli("addin", "serve", "--port", "1", "--rules", "no/such/pack.yaml")
    assert r.returncode == 1
    assert "找不到规则包" in r.stderr and "Traceback" not in r.stderr


def test_addin_help_is_chinese():
    r = run_cli("addin", "--help")
    assert r.returncode == 0 and "评分助手" in r.stdout and "serve" in r.stdout and "manifest" in r.stdout


def test_serve_without_a_licence_key_explains_it():
    r = run_cli("addin", "serve", "--port", "1", "--rules", str(SHANXI),
                pre="import os; os.environ['XLWINGS_LICENSE_KEY'] = ''")
    assert r.returncode == 1
    assert "XLWINGS_LICENSE_KEY=noncommercial" in r.stderr and "Traceback" not in r.stderr


def test_serve_on_a_busy_port_says_so():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = run_cli("addin", "serve", "--port", str(s.getsockname()[1]), "--rules", str(SHANXI))
    assert r.returncode == 1 and "端口已被占用" in r.stderr


def test_malformed_payloads_get_chinese_messages(client, base, pack):
    _, book = base
    r = post_score(client, {"book": {}, "sheets": [{}], "names": [{}]})
    assert r == {"ok": False, "message": "收到的工作簿数据格式不正确（应为评分助手发送的工作簿内容）。",
                 "workbook": "", "issues": []}
    empty_meta = copy.deepcopy(book)
    meta = next(s for s in empty_meta["sheets"] if s["name"] == "_meta")
    meta.update(values=[[""]], used_range_address=None, used_range_row_count=0, used_range_column_count=0)
    r = post_score(client, empty_meta)
    assert r["ok"] is False and "缺少 pack_id 或 pack_hash" in r["message"]
    # a sheet sent without values (as the client does for excluded sheets) reads as blank
    no_values = copy.deepcopy(book)
    form = next(s for s in no_values["sheets"] if s["name"] == "填报")
    form["values"] = [[]]
    r = post_score(client, no_values)
    assert r["ok"] is True and r["provisional"] is True
    assert_matches_engine(r, score(pack, {}))
