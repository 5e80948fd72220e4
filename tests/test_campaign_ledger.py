"""Ledger campaigns (忻州 2024, reported monthly): no ranking, roll-ups over the
final ledgers, and month-to-month change per enterprise (动态清零, 回头看)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from rubric_xl import load_pack, load_pack_text
from rubric_xl.campaign import derive, import_files
from rubric_xl.campaign.compare import period_diff
from rubric_xl.campaign.publish import check_publications, publish
from rubric_xl.campaign.report import report_data, xlsx_bytes
from rubric_xl.cli import cli
from rubric_xl.workbook import distribute, fill_template, load_units

from test_campaign import db_url, store  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
XINZHOU = ROOT / "rules" / "xinzhou-2024.yaml"
BODIES = load_units("xinzhou-bodies")


def body_facts(body: str) -> dict:
    facts = yaml.safe_load((ROOT / "examples" / "xinzhou-2024-xinfu.yaml").read_text(encoding="utf-8"))
    facts["reporting_body"] = body
    for row in facts["enterprises"]:
        row["enterprise_name"] = row["enterprise_name"].replace("忻府区", body)
    return facts


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("ledgers")
    pack = load_pack(XINZHOU)
    sent = root / "下发"
    distribute(pack, BODIES[:3], sent, ledger_rows=60)
    june, july = root / "6月", root / "7月"
    june.mkdir(), july.mkdir()
    for body in BODIES[:2]:
        (june / f"{body}.xlsx").write_bytes(fill_template(sent / f"xinzhou-2024_{body}.xlsx", body_facts(body)))
    later = body_facts("忻府区")
    later["enterprises"][2]["verified_date"] = dt.date(2024, 7, 10)  # 铸造厂 验收
    later["enterprises"] = [r for r in later["enterprises"] if "石材" not in r["enterprise_name"]]
    (july / "忻府区.xlsx").write_bytes(fill_template(sent / "xinzhou-2024_忻府区.xlsx", later))
    return {"june": june, "july": july, "sent": sent}


def campaign(store, period: str):
    text = XINZHOU.read_text(encoding="utf-8")
    return store.create(load_pack_text(text, str(XINZHOU)), text, period, list(BODIES))


def test_ledger_campaign_rolls_up_final_ledgers_and_lists_the_rest(store, ledgers, tmp_path):
    c = campaign(store, "2024-06")
    rep = import_files(store, c, [str(ledgers["june"])], {f"xinzhou-2024_{b}.xlsx": b for b in BODIES})
    assert [f.outcome for f in rep.files] == ["new", "new"]
    assert len(rep.missing) == len(BODIES) - 2
    state = derive(c, store.events(c))
    assert state.ranked() == []
    data = report_data(state)
    assert data["kind"] == "ledger"
    led = data["ledger"]
    assert sorted(led["combined_units"]) == sorted(BODIES[:2])
    by_body = next(r for r in led["rollups"] if r["by"] == "reporting_body")
    assert by_body["total"]["key"] == "全市" and str(by_body["total"]["listed"]) == "12"
    assert {g["key"] for g in by_body["groups"]} == set(BODIES[:2])
    assert {a["unit"] for a in data["apart"]} == set(BODIES[2:])
    wb = openpyxl.load_workbook(__import__("io").BytesIO(xlsx_bytes(data)))
    assert "台账汇总" in wb.sheetnames
    ev = publish(store, c, "市环保局")
    assert ev.payload["ledger"]["units"][0]["unit"] == BODIES[0]
    assert check_publications(c, store.events(c)) == []


def test_month_to_month_diff_names_each_enterprise_that_changed(store, ledgers):
    june, july = campaign(store, "2024-06"), campaign(store, "2024-07")
    import_files(store, june, [str(ledgers["june"])])
    import_files(store, july, [str(ledgers["july"])])
    rows = period_diff(derive(june, store.events(june)), derive(july, store.events(july)), "忻府区")
    (r,) = rows
    changes = {x["key"]: x for x in r["rows"]}
    assert changes["忻府区某铸造厂"]["change"] == "状态变化"
    assert changes["忻府区某铸造厂"]["before"] == "已取缔待验收" and changes["忻府区某铸造厂"]["after"] == "已验收"
    assert changes["忻府区某石材加工点"]["change"] == "不再列入"
    listed = next(m for m in r["metrics"] if m["metric"] == "列入清单企业数")
    assert (listed["before"], listed["after"]) == ("6", "5")


def test_ledger_cli_status_report_diff_json(db_url, ledgers):
    run = CliRunner()

    def ok(*args, code=0):
        res = run.invoke(cli, ["campaign", *args, "--db", db_url])
        assert res.exit_code == code, res.output
        return res

    ok("init", "--rules", str(XINZHOU), "--period", "2024-06", "--units", "xinzhou-bodies")
    imp = ok("import", str(ledgers["june"]))  # bodies that sent nothing are listed, not an error
    assert "未上报的单位（14 个）" in imp.stdout
    st = json.loads(ok("status", "--format", "json").stdout)
    assert {u["unit"]: u["ledger_rows"] for u in st["units"] if u["ledger_rows"] is not None} == {
        BODIES[0]: 6, BODIES[1]: 6}
    rep = ok("report")
    assert "全市" in rep.stdout and "名次" not in rep.stdout
    ok("init", "--rules", str(XINZHOU), "--period", "2024-07", "--units", "xinzhou-bodies")
    ok("import", str(ledgers["july"]), "--period", "2024-07")
    diff = ok("diff", "--period", "2024-07", "--against", "2024-06")
    assert "忻府区某铸造厂：状态变化（已取缔待验收 → 已验收）" in diff.stdout


def test_a_ledger_with_row_errors_is_kept_out_of_the_roll_up(store, ledgers, tmp_path):
    c = campaign(store, "2024-06")
    facts = body_facts("忻府区")
    for k in ("criterion_policy", "criterion_emissions", "criterion_permits"):
        facts["enterprises"][0].pop(k, None)
    up = tmp_path / "up"
    up.mkdir()
    (up / "忻府区.xlsx").write_bytes(fill_template(ledgers["sent"] / "xinzhou-2024_忻府区.xlsx", facts))
    import_files(store, c, [str(up), str(ledgers["june"] / "原平市.xlsx")])
    state = derive(c, store.events(c))
    u = state.units["忻府区"]
    assert u.status == "error" and any("取缔标准" in p.msg and "台账" in p.loc for p in u.errors)
    data = report_data(state)
    assert data["ledger"]["combined_units"] == ["原平市"]
    assert "取缔标准" in next(a for a in data["apart"] if a["unit"] == "忻府区")["reason"]
