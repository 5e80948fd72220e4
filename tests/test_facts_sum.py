"""A ``facts_sum`` metric: a top-level number fact summed once per submission.

changzhi-2019's 自查覆盖率 = units with a self-check date ÷ Σ units_total × 100:
per reporting body over its own workbook, and for 全市 over every body's
workbook (the auditor's combined roll-up).  Worked out by hand below; the
workbooks go through the template, the reader and the auditor.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from rubric_xl import load_pack
from rubric_xl.audit import combine_ledgers, score_workbook
from rubric_xl.engine.facts import convert_facts
from rubric_xl.engine.ledger import plan_for
from rubric_xl.errors import PackError
from rubric_xl.rules.pack import load_pack_text
from rubric_xl.workbook import build_template, fill_workbook

ROOT = Path(__file__).resolve().parents[1]
CHANGZHI = ROOT / "rules" / "changzhi-2019.yaml"
PACK = load_pack(CHANGZHI)
D = dt.date(2019, 6, 10)


def _unit(name: str, checked: bool) -> dict:
    return {"unit_name": name, "key_unit": False, "permit_held": True,
            "self_check_date": D if checked else None, "problems_found": Decimal(0),
            "plan_filed_date": None, "rectify_deadline": None, "rectified_date": None,
            "rectification_verified": False, "cross_check_violation": False}


def _body(name: str, units_total, checked: list[bool]) -> dict:
    return {"reporting_body": name, "report_date": dt.date(2019, 6, 20), "units_total": units_total,
            "summary_submitted": True, "self_checks": [_unit(f"{name}{i}", c) for i, c in enumerate(checked)],
            "cases": []}


def _lines(rollups) -> dict:
    (by_body,) = [ru for ru in rollups if ru.by == "reporting_body"]
    out = {k: (m["units_declared"], m["coverage"]) for k, m in by_body.groups.items()}
    out["全市"] = (by_body.total["units_declared"], by_body.total["coverage"])
    return out


# 潞州区: 2 of 3 units self-checked, 5 units in its area → 2/5 = 40.00
# 上党区: 2 of 2 self-checked, 10 units → 2/10 = 20.00
# 全市: (2 + 2) / (5 + 10) × 100 = 26.666… → 26.67 (not 2/5 of one body)
BODIES = [_body("潞州区", Decimal(5), [True, True, False]), _body("上党区", Decimal(10), [True, True])]
WANT = {"潞州区": (Decimal(5), Decimal("40.00")), "上党区": (Decimal(10), Decimal("20.00")),
        "全市": (Decimal(15), Decimal("26.67"))}


def test_city_coverage_sums_units_total_once_per_submission():
    rollups = plan_for(PACK).combine([convert_facts(PACK, b) for b in BODIES])
    assert _lines(rollups) == WANT


def test_one_blank_units_total_leaves_the_city_and_that_body_blank():
    bodies = [BODIES[0], _body("上党区", None, [True, True])]
    got = _lines(plan_for(PACK).combine([convert_facts(PACK, b) for b in bodies]))
    assert got == {"潞州区": WANT["潞州区"], "上党区": (None, None), "全市": (None, None)}


def test_two_workbooks_of_one_body_are_summed_on_its_line():
    # a body that sent two workbooks (e.g. two batches): 4 of 5 checked over 5 + 10 units
    bodies = [BODIES[0], _body("潞州区", Decimal(10), [True, True])]
    got = _lines(plan_for(PACK).combine([convert_facts(PACK, b) for b in bodies]))
    assert got["潞州区"] == (Decimal(15), Decimal("26.67")) and got["全市"] == got["潞州区"]


def test_one_workbook_is_the_fact_itself():
    card = plan_for(PACK).run(convert_facts(PACK, BODIES[0]))
    assert _lines(card.rollups) == {"潞州区": WANT["潞州区"], "全市": WANT["潞州区"]}


def test_the_auditor_combines_the_bodies_workbooks(tmp_path):
    results = []
    for i, b in enumerate(BODIES):
        wb, _ = build_template(PACK, ledger_rows=10)
        fill_workbook(wb, PACK, b)
        path = tmp_path / f"body{i}.xlsx"
        wb.save(path)
        results.append(score_workbook(path, PACK))
    (combined,) = combine_ledgers(results)
    assert _lines(combined.rollups) == WANT


@pytest.mark.parametrize("value", ["reporting_body", "nope", "units_total + 1"])
def test_facts_sum_must_name_a_top_level_number_fact(value):
    text = CHANGZHI.read_text(encoding="utf-8").replace(
        "kind: facts_sum, value: units_total", f"kind: facts_sum, value: '{value}'")
    with pytest.raises(PackError) as ei:
        load_pack_text(text, "bad.yaml")
    assert "顶层的数值事实" in str(ei.value.problems)


def test_rules_show_explains_the_metric_in_chinese():
    from click.testing import CliRunner

    from rubric_xl.cli import cli

    res = CliRunner().invoke(cli, ["rules", "show", str(CHANGZHI)])
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if "units_declared" in ln)
    assert "每份台账计一次之和" in line and "各份台账的 units_total 之和" in line
