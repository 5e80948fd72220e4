"""Checks of the whole submission (a ledger pack's top-level ``checks:``):
the checker's Chinese errors, the lowered form, the engine card and its JSON,
the case runner and coverage — on rules/changzhi-2019.yaml's 逾期报送."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from rubric_xl import coverage
from rubric_xl.caserun import run_cases_cards
from rubric_xl.engine import score, to_dict
from rubric_xl.errors import PackError
from rubric_xl.rules import lowered
from rubric_xl.rules.cases import cases_from_located
from rubric_xl.rules.pack import load_pack, load_pack_text
from rubric_xl.rules.yamlsrc import load_text

ROOT = Path(__file__).resolve().parents[1]
PATH = ROOT / "rules" / "changzhi-2019.yaml"
TEXT = PATH.read_text(encoding="utf-8")
PACK = load_pack(PATH)
GOOD = """checks:
  # checks of the whole submission (top-level facts): shown on the 汇总 sheet's 提示 line
  - id: late_report
    level: warning
    when: report_date > report_deadline
"""
assert GOOD in TEXT
DEADLINE = dt.date(2019, 6, 28)
BASE = {"reporting_body": "潞州区", "units_total": 3, "summary_submitted": True, "self_checks": [], "cases": []}


def _with_checks(block: str, text: str = TEXT) -> str:
    start = text.index("checks:\n  # checks of the whole")
    end = text.index("\nledgers:")
    return text[:start] + block + "\n" + text[end:]


def _errors(block: str, text: str = TEXT) -> list[str]:
    with pytest.raises(PackError) as ei:
        load_pack_text(_with_checks(block, text), "bad.yaml")
    return [f"{p.loc} {p.msg}" for p in ei.value.problems]


def _one(when: str, level: str = "warning", cid: str = "late_report") -> str:
    return f"checks:\n  - {{id: {cid}, level: {level}, when: \"{when}\", message: 逾期报送}}\n"


# --- the checker: each bad check, two spellings ---------------------------------

@pytest.mark.parametrize("when, name", [("report_dat > report_deadline", "report_dat"),
                                        ("Report_date > report_deadline", "Report_date"),
                                        ("report_date > deadline_report", "deadline_report")])
def test_unknown_name_names_the_check(when, name):
    errs = _errors(_one(when))
    assert len(errs) == 1, errs
    assert "checks[0].when" in errs[0] and "报送检查“late_report”" in errs[0]
    assert f"未知的名称 {name!r}" in errs[0]


@pytest.mark.parametrize("when, got", [("report_date", "日期"), ("days(report_deadline, report_date)", "数值"),
                                       ("reporting_body", "文字")])
def test_not_yes_no_names_the_check(when, got):
    errs = _errors(_one(when))
    assert len(errs) == 1, errs
    assert "报送检查“late_report”" in errs[0] and "应为是/否" in errs[0] and f"实际为{got}" in errs[0]


@pytest.mark.parametrize("when, name, where", [
    ("self_check_date > report_deadline", "self_check_date", "排污单位自查和整改情况表"),
    ("problems_found > 0 and report_date > report_deadline", "problems_found", "排污单位自查和整改情况表"),
    ("present(closed_date)", "closed_date", "违法排污行为大整治工作台账"),
    ("self_checks", "self_checks", "排污单位自查和整改情况表")])
def test_a_table_column_is_refused(when, name, where):
    errs = _errors(_one(when))
    assert len(errs) == 1, errs
    assert "报送检查“late_report”" in errs[0] and f"{name!r} 是表格“{where}”中的" in errs[0]
    assert "只能读顶层事实" in errs[0]


def test_row_values_are_not_top_level_names():
    # a row's status or a ledger's derived value / decision is not a top-level name either
    for when in ("status == '已结案'", "blacklist"):
        errs = _errors(_one(when))
        assert len(errs) == 1 and "报送检查“late_report”" in errs[0] and "未知的名称" in errs[0], errs


@pytest.mark.parametrize("level", ["notice", "Warning"])
def test_level_is_error_or_warning(level):
    errs = _errors(_one("report_date > report_deadline", level))
    assert any("checks[0].level" in e or "checks.0.level" in e for e in errs), errs


@pytest.mark.parametrize("cid", ["late_report", "late_report "])
def test_duplicate_ids(cid):
    block = _one("report_date > report_deadline") + \
        f"  - {{id: {cid}, level: error, when: \"not summary_submitted\", message: 未报送工作总结}}\n"
    errs = _errors(block)
    assert len(errs) == 1 and "checks[1].id" in errs[0] and "id 重复" in errs[0], errs


def test_syntax_error_names_the_check():
    for when in ("report_date >", "report_date >> report_deadline"):
        errs = _errors(_one(when))
        assert len(errs) == 1 and "报送检查“late_report”" in errs[0] and "有误" in errs[0], errs


def test_rubric_packs_have_no_submission_checks():
    text = (ROOT / "rules" / "shanxi-2005.yaml").read_text(encoding="utf-8")
    for block in (_one("true"), "checks: [{id: x, level: error, when: \"true\", message: 某}]\n"):
        with pytest.raises(PackError) as ei:
            load_pack_text(text + "\n" + block, "rubric.yaml")
        assert any("只适用于台账类规则包" in p.msg for p in ei.value.problems)


def test_parameters_and_derived_values_may_be_read():
    text = TEXT.replace("deadlines:\n", "derived:\n  - {id: days_late, label: 逾期天数, expr: \"days(report_deadline, report_date)\"}\n"
                        "deadlines:\n", 1)
    pack = load_pack_text(_with_checks(_one("days_late > blacklist_complaints", "error", "very_late"), text), "ok.yaml")
    (c,) = lowered.lowered_checks(pack)
    assert (c.id, c.level, c.facts) == ("very_late", "error", ("report_date",))
    assert c.node.args[1].kind == "num"  # the parameter is folded to its value
    late = score(pack, {**BASE, "report_date": "2019-07-01"})  # 3 days late: not more than 3
    later = score(pack, {**BASE, "report_date": "2019-07-02"})
    assert late.checks == [] and late.error_count == 0
    assert [p.check for p in later.checks] == ["very_late"] and later.error_count == 1 and later.warning_count == 0


# --- the engine --------------------------------------------------------------------

def test_lowered_once():
    (c,) = lowered.lowered_checks(PACK)
    assert lowered.lowered_checks(PACK)[0] is c
    assert (c.id, c.level, c.facts) == ("late_report", "warning", ("report_date",))
    assert c.message.startswith("逾期报送")


@settings(max_examples=60, deadline=None)
@given(st.dates(dt.date(2019, 5, 1), dt.date(2019, 8, 31)))
def test_fires_exactly_after_the_deadline(day):
    card = score(PACK, {**BASE, "report_date": day.isoformat()})
    fired = [p.check for p in card.checks]
    assert fired == (["late_report"] if day > DEADLINE else [])
    d = to_dict(card)
    assert [c["check"] for c in d["checks"]] == fired
    assert d["warnings"] == len(fired) and d["errors"] == 0
    # the 按时报送 metric says the opposite
    on_time = card.rollups[0].groups["潞州区"]["on_time"]
    assert on_time is (day <= DEADLINE)


def test_card_json_of_a_late_report():
    d = to_dict(score(PACK, {**BASE, "report_date": "2019-06-29"}))
    assert d["checks"] == [{"check": "late_report", "level": "warning", "facts": ["report_date"],
                            "msg": PACK.model.checks[0].message}]


def test_blank_condition_does_not_fire():
    # a blank-allowed input read by a check: blank → the comparison is blank → no problem
    pack = load_pack_text(_with_checks(_one("units_total > 100", "error", "too_many")), "blank.yaml")
    assert score(pack, {**BASE, "units_total": None, "report_date": "2019-06-01"}).checks == []
    assert [p.check for p in score(pack, {**BASE, "units_total": 101, "report_date": "2019-06-01"}).checks] == \
        ["too_many"]


# --- cases and coverage --------------------------------------------------------------

def _cases(body: str):
    return cases_from_located(load_text("pack: changzhi-2019\nbase: {reporting_body: 潞州区, units_total: 1, "
                                        "summary_submitted: 是}\ncases:\n" + body, "c.yaml"), PACK)


def test_case_expectations_compare_the_fired_checks():
    cs = _cases("  - {name: 晚一天, facts: {report_date: 2019-06-29}, expect: {checks: [late_report]}}\n"
                "  - {name: 写错, facts: {report_date: 2019-06-29}, expect: {checks: []}}\n"
                "  - {name: 当天, facts: {report_date: 2019-06-28}, expect: {checks: []}}\n")
    (ok, c1), (bad, _), (ok2, c3) = run_cases_cards(PACK, cs)
    assert ok.ok and ok2.ok
    assert not bad.ok and bad.failures == ["报送检查：期望 无，实际 late_report"]
    cov = coverage.measure(PACK, [("晚一天", c1)])
    (t,) = [t for t in cov.targets if t.key == ("submission", "late_report")]
    assert t.label == "报送检查（提醒）" and t.hits == ["晚一天"]
    cov = coverage.measure(PACK, [("当天", c3)])
    assert [t for t in cov.missed if t.key == ("submission", "late_report")]


def test_case_file_refuses_an_unknown_check():
    for cid in ("late", "Late_report"):
        with pytest.raises(PackError) as ei:
            _cases(f"  - {{name: x, facts: {{report_date: 2019-06-29}}, expect: {{checks: [{cid}]}}}}\n")
        assert any(f"未知的报送检查 {cid!r}" in p.msg for p in ei.value.problems)


# --- durable-rules decides the same ----------------------------------------------------

def test_durable_decides_the_submission_checks(monkeypatch):
    from rubric_xl.durable import ruleset_for
    from rubric_xl.engine import convert_facts, score_values
    from rubric_xl.engine.ledger import plan_for

    rs = ruleset_for(PACK)

    def refuse(top):  # durable-rules must not fall back on the engine's own evaluation
        raise AssertionError("engine check_submission used by durable-rules")

    for day in ("2019-06-27", "2019-06-28", "2019-06-29", "2020-01-01"):
        values = convert_facts(PACK, {**BASE, "report_date": day,
                                      "self_checks": [{"unit_name": "甲厂", "permit_held": True}]})
        want = to_dict(score_values(PACK, values))
        with monkeypatch.context() as m:
            m.setattr(plan_for(PACK), "check_submission", refuse)
            got = to_dict(rs.run(values))
        assert got == want
        assert [c["check"] for c in got["checks"]] == (["late_report"] if day > "2019-06-28" else [])


# --- the auditor, the terminal and the add-in show the same ------------------------------

EXAMPLE = ROOT / "examples" / "changzhi-2019-luzhou.yaml"


_TEMPLATES: dict[str, Path] = {}


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """One template per pack hash, built once for the module."""
    _TEMPLATES.clear()
    yield tmp_path_factory.mktemp("templates")
    _TEMPLATES.clear()


def _workbook(folder: Path, pack, templates: Path, **facts) -> Path:
    from rubric_xl.factsfile import load_facts_file
    from rubric_xl.workbook import fill_template, template_bytes

    tpl = _TEMPLATES.get(pack.hash)
    if tpl is None:
        tpl = _TEMPLATES[pack.hash] = templates / f"{pack.short_hash}.xlsx"
        tpl.write_bytes(template_bytes(pack))
    raw = {**load_facts_file(EXAMPLE), **facts}
    out = folder / f"潞州区-{len(list(folder.iterdir()))}.xlsx"
    out.write_bytes(fill_template(tpl, raw, rules=pack))
    return out


def _set_cell(path: Path, name: str, value) -> Path:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    wb[sheet][ref.replace("$", "")] = value
    out = path.with_name(path.stem + "-typed.xlsx")
    wb.save(out)
    return out


def test_auditor_reports_a_late_report_at_its_cell(tmp_path, templates):
    from rubric_xl.audit import score_workbook

    late = score_workbook(_workbook(tmp_path, PACK, templates, report_date="2019-06-29"), PACK)
    on_time = score_workbook(_workbook(tmp_path, PACK, templates, report_date="2019-06-28"), PACK)
    (p,) = [p for p in late.problems if "逾期报送" in p.msg]
    assert p.level == "warning" and p.loc.endswith("填报!D5")
    assert p.msg == PACK.model.checks[0].message + "（报送日期为2019-06-29）"
    assert late.status == "ok"  # a warning: scored, not 有错误
    d = late.to_dict()
    assert [c["check"] for c in d["checks"]] == ["late_report"] and d["warnings"] == late.card.warning_count
    assert not [p for p in on_time.problems if "逾期报送" in p.msg] and on_time.card.checks == []
    assert on_time.card.warning_count == late.card.warning_count - 1


@pytest.mark.parametrize("value", ["2019.6.29", "2019年6月29日", "#N/A", "2019/6/29", "6月29日"])
def test_a_messy_report_date_is_an_input_error_not_a_late_report(tmp_path, templates, value):
    """Said once, in the auditor and in the add-in (the value is refused when read and
    again by the ledger's check of its top-level facts)."""
    from fastapi.testclient import TestClient

    from rubric_xl.addin import create_app
    from rubric_xl.addin._payload import payload_from_xlsx
    from rubric_xl.audit import score_workbook

    path = _set_cell(_workbook(tmp_path, PACK, templates), "report_date", value)
    res = score_workbook(path, PACK)
    assert res.card is None and res.status == "failed"
    said = [p for p in res.problems if p.level == "error" and "报送日期" in p.msg]
    assert len(said) == 1, res.problems
    assert not [p for p in res.problems if "逾期报送" in p.msg]
    got = TestClient(create_app([PATH])).post("/rubric/score", json=payload_from_xlsx(path)).json()
    assert got["ok"] is False
    assert len([i for i in got["issues"] if "报送日期" in i["msg"]]) == 1, got["issues"]


def test_an_error_check_makes_the_file_erroneous(tmp_path, templates):
    from rubric_xl.audit import score_workbook

    text = _with_checks(_one("report_date > report_deadline", "error"))
    pack = load_pack_text(text, str(tmp_path / "changzhi-2019.yaml"))
    res = score_workbook(_workbook(tmp_path, pack, templates, report_date="2019-07-10"), pack)
    (p,) = [p for p in res.problems if p.msg.startswith("逾期报送")]
    assert p.level == "error" and res.status == "error" and res.card is not None
    assert res.card.error_count == 1 + sum(t.error_count for t in res.card.tables)


def test_terminal_card_shows_the_check():
    from rubric_xl.audit._terminal import ledger_text

    text = ledger_text(score(PACK, {**BASE, "report_date": "2019-06-29"}))
    assert "警告：逾期报送" in text
    assert "逾期报送" not in ledger_text(score(PACK, {**BASE, "report_date": "2019-06-28"}))


def test_addin_task_pane_and_status_function_show_the_check(tmp_path, templates):
    from fastapi.testclient import TestClient

    from rubric_xl.addin import create_app
    from rubric_xl.addin._assess import assess_payload
    from rubric_xl.addin._payload import payload_from_xlsx

    client = TestClient(create_app([PATH]))
    book = payload_from_xlsx(_workbook(tmp_path, PACK, templates, report_date="2019-06-29"))
    r = client.post("/rubric/score", json=book)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["ok"] is True and [c["check"] for c in got["checks"]] == ["late_report"]
    assert got["status"].endswith("；" + PACK.model.checks[0].message)  # RUBRIC.STATUS shows the same text
    assert assess_payload(book).status_text() == got["status"]
    js = (ROOT / "src" / "rubric_xl" / "addin" / "static" / "rubric" / "taskpane.js").read_text(encoding="utf-8")
    assert "r.checks" in js  # the pane lists them
    book = payload_from_xlsx(_workbook(tmp_path, PACK, templates, report_date="2019-06-28"))
    got = client.post("/rubric/score", json=book).json()
    assert got["checks"] == [] and "逾期报送" not in got["status"]


def test_rules_show_and_the_guide_sheet_list_the_submission_checks():
    """A pack's reader sees each submission check where the row checks are shown:
    ``rules show`` (text and markdown) and the template's 填报说明 sheet."""
    from click.testing import CliRunner
    from openpyxl import load_workbook
    import io

    from rubric_xl.cli import cli
    from rubric_xl.workbook import template_bytes

    (check,) = PACK.model.checks
    for fmt in ("table", "markdown"):
        res = CliRunner().invoke(cli, ["rules", "show", str(PATH), "--format", fmt])
        assert res.exit_code == 0, res.output
        line = next(ln for ln in res.output.splitlines() if check.id in ln)
        assert "警告" in line and check.when in line and check.message in line
    wb = load_workbook(io.BytesIO(template_bytes(PACK)))
    guide = [c.value for c in wb["填报说明"]["A"] if c.value]
    at = next(i for i, t in enumerate(guide) if t.endswith("、报送检查"))
    assert "“汇总”工作表顶部的“提示”行" in guide[at + 1]
    assert guide[at + 2] == f"1. 【提醒】{check.message}"
    # a pack without submission checks has no such section
    xin = load_pack(ROOT / "rules" / "xinzhou-2024.yaml")
    wb = load_workbook(io.BytesIO(template_bytes(xin)))
    assert not any(str(c.value).endswith("、报送检查") for c in wb["填报说明"]["A"] if c.value)
