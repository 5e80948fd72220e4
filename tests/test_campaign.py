"""Campaigns on record: the store on SQLite and on a real PostgreSQL server.

Every store test runs on both backends.  PostgreSQL comes from
``RUBRIC_XL_TEST_PG`` (``scripts/test.sh`` starts a server and sets it); a
missing URL fails the PostgreSQL tests, it never skips them.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import uuid
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rubric_xl import load_pack
from rubric_xl.campaign import Change, Store, derive, import_files, review, spotcheck
from rubric_xl.campaign.identity import load_manifest
from rubric_xl.cli import cli
from rubric_xl.workbook import distribute, fill_template, load_units

sys.path.insert(0, str(Path(__file__).parent))
from conftest import full_marks_facts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHANXI = ROOT / "rules" / "shanxi-2005.yaml"
CITIES = load_units("shanxi-cities")
PG = os.environ.get("RUBRIC_XL_TEST_PG")


# --- backends -------------------------------------------------------------------


def pg_database() -> tuple[str, callable]:
    """A fresh database on the test server: (url, drop)."""
    if not PG:
        pytest.fail("RUBRIC_XL_TEST_PG 未设置：PostgreSQL 测试需要真实的服务器；请运行 scripts/test.sh "
                    "（它会启动服务器），或设置 RUBRIC_XL_TEST_PG=postgresql+psycopg://…")
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    name = "t_" + uuid.uuid4().hex[:16]
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(PG).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url, drop = pg_database()
    yield url
    drop()


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.close()


# --- submissions for the 11 cities --------------------------------------------------


def city_facts(i: int) -> dict:
    f = full_marks_facts()
    f["weekly_reports_count"] = 20 - i  # distinct totals: 100.00, 99.50, …
    return f


@pytest.fixture(scope="session")
def batch(tmp_path_factory) -> dict:
    """下发/ (templates + manifest.csv) and 上报/: eight cities that reported,
    晋中市 blank, 临汾市's file holding 吕梁市's workbook, a file that is not a
    workbook; 晋城市 and 运城市 sent nothing."""
    root = tmp_path_factory.mktemp("batch")
    pack = load_pack(SHANXI)
    sent, up = root / "下发", root / "上报"
    distribute(pack, CITIES, sent)
    up.mkdir()
    for i, city in enumerate(CITIES[:8]):
        facts = city_facts(i) if city != "晋中市" else {k: None for k in full_marks_facts()}
        (up / f"shanxi-2005_{city}.xlsx").write_bytes(fill_template(sent / f"shanxi-2005_{city}.xlsx", facts))
    shutil.copy(up / "shanxi-2005_吕梁市.xlsx", up / "shanxi-2005_临汾市.xlsx")
    (up / "坏文件.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    return {"root": root, "sent": sent, "up": up, "manifest": sent / "manifest.csv", "pack": pack}


def new_campaign(store: Store, period: str = "2005", pack_path: Path = SHANXI, units=CITIES):
    text_ = pack_path.read_text(encoding="utf-8")
    from rubric_xl import load_pack_text

    return store.create(load_pack_text(text_, str(pack_path)), text_, period, list(units))


def imported(store: Store, batch: dict, period: str = "2005"):
    c = new_campaign(store, period)
    rep = import_files(store, c, [str(batch["up"])], load_manifest(str(batch["manifest"])))
    return c, rep


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- import, identity, status, report -------------------------------------------------


def test_import_checks_identity_and_ranks_final_results_only(store, batch):
    before = snapshot(batch["up"])
    c, rep = imported(store, batch)
    assert snapshot(batch["up"]) == before  # inputs are never modified
    out = {f.file: f for f in rep.files}
    bad = out["shanxi-2005_临汾市.xlsx"]
    assert bad.outcome == "rejected"
    msg = bad.problems[0].msg
    assert bad.problems[0].loc == "shanxi-2005_临汾市.xlsx"
    assert "吕梁市" in msg and "临汾市" in msg and "manifest.csv" in msg
    assert out["坏文件.xlsx"].outcome == "rejected"
    assert sorted(rep.missing) == sorted(["晋城市", "运城市"])
    assert not rep.ok
    state = derive(c, store.events(c))
    ranked = [u.unit for _, u in state.ranked()]
    assert ranked == ["太原市", "大同市", "朔州市", "忻州市", "吕梁市", "阳泉市", "长治市"]
    assert len(set(ranked)) == len(ranked)  # 吕梁市 once
    apart = {u.unit: u.status for u in state.apart()}
    assert apart == {"晋中市": "provisional", "临汾市": "failed", "晋城市": "missing", "运城市": "missing"}
    # the totals are recomputed from the stored facts: 20 reports full marks, each missing one costs 0.5
    assert [u.card.total for _, u in state.ranked()][:3] == [Decimal("100.00"), Decimal("99.50"), Decimal("99.00")]


def test_report_json_has_rank_and_lists_apart(db_url, batch):
    s = Store(db_url)
    imported(s, batch)
    s.close()
    res = CliRunner().invoke(cli, ["campaign", "report", "--db", db_url, "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [r["rank"] for r in data["ranking"]] == [1, 2, 3, 4, 5, 6, 6]  # 阳泉市 and 长治市 tie
    assert data["draft"] is True and data["pack"]["version"] == "2005.1"
    assert {a["unit"]: a["status_text"] for a in data["apart"]} == {
        "晋中市": "暂定", "临汾市": "文件无法评分", "晋城市": "未上报", "运城市": "未上报"}
    assert "晋中市" not in [r["unit"] for r in data["ranking"]]


def test_ties_share_a_rank(store, batch, tmp_path):
    c = new_campaign(store)
    up = tmp_path / "up"
    up.mkdir()
    for city in ("太原市", "大同市", "朔州市"):
        f = city_facts(0 if city != "朔州市" else 3)
        (up / f"{city}.xlsx").write_bytes(fill_template(batch["sent"] / f"shanxi-2005_{city}.xlsx", f))
    import_files(store, c, [str(up)])
    ranks = [(r, u.unit) for r, u in derive(c, store.events(c)).ranked()]
    assert ranks == [(1, "太原市"), (1, "大同市"), (3, "朔州市")]


def _edit_info_unit(src: Path, dst: Path, unit: str) -> None:
    wb = openpyxl.load_workbook(src)
    dest = wb.defined_names["info_unit"].attr_text
    sheet, ref = dest.split("!")
    wb[sheet.strip("'")][ref.replace("$", "")].value = unit
    wb.save(dst)


def test_unit_cell_disagreeing_with_meta_is_refused(store, batch, tmp_path):
    c = new_campaign(store)
    up = tmp_path / "up"
    up.mkdir()
    # 阳泉市's template whose 填报单位 was overtyped with 太原市
    _edit_info_unit(batch["up"] / "shanxi-2005_阳泉市.xlsx", up / "阳泉市.xlsx", "太原市")
    # one more spelling: an unlocked template, named after 阳泉市, that says 太原市 inside
    blank = tmp_path / "blank.xlsx"
    from rubric_xl.workbook import template_bytes

    blank.write_bytes(template_bytes(batch["pack"]))
    (up / "阳泉市上报.xlsx").write_bytes(fill_template(blank, city_facts(2), info={"unit": "太原市"}))
    rep = import_files(store, c, [str(up)])
    assert [f.outcome for f in rep.files] == ["rejected", "rejected"]
    for f in rep.files:
        assert "太原市" in f.problems[0].msg and "阳泉市" in f.problems[0].msg
        assert f.problems[0].loc == f.file
    assert derive(c, store.events(c)).units["太原市"].submission is None


def test_unknown_unit_and_no_unit(store, batch, tmp_path):
    c = new_campaign(store)
    up = tmp_path / "up"
    up.mkdir()
    from rubric_xl.workbook import template_bytes

    blank = tmp_path / "blank.xlsx"
    blank.write_bytes(template_bytes(batch["pack"]))
    (up / "a.xlsx").write_bytes(fill_template(blank, city_facts(1), info={"unit": "北京市"}))
    (up / "b.xlsx").write_bytes(fill_template(blank, city_facts(1)))  # no unit anywhere
    rep = import_files(store, c, [str(up)])
    a, b = rep.files
    assert a.outcome == "rejected" and "北京市" in a.problems[0].msg and "名单" in a.problems[0].msg
    assert b.outcome == "rejected" and "无法确定填报单位" in b.problems[0].msg


def test_duplicates_in_one_import_are_refused(store, batch, tmp_path):
    c = new_campaign(store)
    up = tmp_path / "up"
    up.mkdir()
    sent = batch["sent"] / "shanxi-2005_太原市.xlsx"
    (up / "太原市-1.xlsx").write_bytes(fill_template(sent, city_facts(0)))
    (up / "太原市-2.xlsx").write_bytes(fill_template(sent, city_facts(4)))
    shutil.copy(batch["up"] / "shanxi-2005_大同市.xlsx", up / "大同市.xlsx")
    shutil.copy(batch["up"] / "shanxi-2005_大同市.xlsx", up / "大同市-副本.xlsx")  # the same file twice
    rep = import_files(store, c, [str(up)])
    out = {f.file: f.outcome for f in rep.files}
    assert out["太原市-1.xlsx"] == out["太原市-2.xlsx"] == "duplicate"
    assert sorted([out["大同市.xlsx"], out["大同市-副本.xlsx"]]) == ["new", "unchanged"]
    state = derive(c, store.events(c))
    assert state.units["太原市"].submission is None and state.units["大同市"].submission is not None


def test_resubmission_supersedes_and_stays_in_history(store, batch, tmp_path):
    c, _ = imported(store, batch)
    up = tmp_path / "again"
    up.mkdir()
    (up / "太原市.xlsx").write_bytes(fill_template(batch["sent"] / "shanxi-2005_太原市.xlsx", city_facts(6)))
    rep = import_files(store, c, [str(up)])
    assert rep.files[0].outcome == "resubmitted"
    again = import_files(store, c, [str(up)])
    assert again.files[0].outcome == "unchanged"
    u = derive(c, store.events(c)).units["太原市"]
    assert u.card.total == Decimal("97.00") and len(u.superseded) == 1
    from rubric_xl.campaign.history import history

    kinds = [h["kind"] for h in history(store, c, "太原市")]
    assert kinds == ["submit", "submit"]


def test_wrong_value_makes_the_unit_erroneous_until_corrected(store, batch, tmp_path):
    c = new_campaign(store)
    up = tmp_path / "up"
    up.mkdir()
    src = batch["up"] / "shanxi-2005_朔州市.xlsx"
    wb = openpyxl.load_workbook(src)
    dest = wb.defined_names["weekly_reports_count"].attr_text
    sheet, ref = dest.split("!")
    wb[sheet.strip("'")][ref.replace("$", "")].value = "十八"
    wb.save(up / "朔州市.xlsx")
    import_files(store, c, [str(up)])
    u = derive(c, store.events(c)).units["朔州市"]
    assert u.status == "error"
    assert any("十八" in p.msg for p in u.errors)
    review(store, c, "朔州市", [Change("weekly_reports_count", "18", "按周报登记簿核实为18期", "登记簿")], "张三")
    u = derive(c, store.events(c)).units["朔州市"]
    assert u.status == "final" and u.card.item("10").points == Decimal("2.00")


# --- 核定, 抽查, the stored pack ---------------------------------------------------------


def test_review_recomputes_from_stored_facts(store, batch):
    c, _ = imported(store, batch)
    ev = review(store, c, "太原市", [Change("weekly_reports_count", "15", "周报实际只有15期", "周报登记簿")], "张三")
    corr = ev.payload["corrections"][0]
    assert corr["self_value"] == "20" and corr["value"] == "15"
    assert ev.actor == "张三"
    u = derive(c, store.events(c)).units["太原市"]
    assert u.self_card.total == Decimal("100.00")
    assert u.card.item("10").points == Decimal("0.50") and u.card.total == Decimal("97.50")
    from rubric_xl.campaign.report import item_changes

    (x,) = item_changes(derive(c, store.events(c)), u)
    assert x["item"] == "10" and x["reasons"][0]["reason"] == "周报实际只有15期"


@pytest.mark.parametrize("value,reason,fact", [("abc", "x", "weekly_reports_count"),
                                               ("-1", "x", "weekly_reports_count"),
                                               ("15", "", "weekly_reports_count"),
                                               ("15", "  ", "weekly_reports_count"),
                                               ("15", "x", "no_such_fact"),
                                               ("150", "x", "three_simultaneous_rate")])
def test_bad_corrections_store_nothing(tmp_path, batch, value, reason, fact):
    s = Store(f"sqlite:///{tmp_path / 's.db'}")
    c, _ = imported(s, batch)
    n = s.count(c)
    from rubric_xl.errors import RubricError

    with pytest.raises(RubricError) as exc:
        review(s, c, "太原市", [Change(fact, value, reason)], "张三")
    assert exc.value.problems and all(p.loc for p in exc.value.problems)
    assert s.count(c) == n


@pytest.mark.parametrize("item,fact", [("38", "spot_check_rebound_found"), ("29", "spot_check_uncorrected_practice")])
def test_spotcheck_zeroes_the_item_and_raises_the_flag(store, batch, item, fact):
    c, _ = imported(store, batch)
    ev = spotcheck(store, c, "大同市", "抽查发现问题", "李四", item=item)
    assert ev.payload["fact"] == fact
    state = derive(c, store.events(c))
    u = state.units["大同市"]
    assert u.card.item(item).points == Decimal("0.00") and u.self_card.item(item).points > 0
    assert "通报批评" in u.card.item(item).flags
    from rubric_xl.campaign.report import report_data

    data = report_data(state)
    row = next(r for r in data["ranking"] if r["unit"] == "大同市")
    assert "通报批评" in row["flags"]
    assert {"unit": "大同市", "item": item} == {k: data["flags"][0][k] for k in ("unit", "item")}


def test_scores_come_from_the_stored_pack_not_the_file(store, batch, tmp_path):
    pack_file = tmp_path / "shanxi.yaml"
    pack_file.write_text(SHANXI.read_text(encoding="utf-8"), encoding="utf-8")
    c = new_campaign(store, pack_path=pack_file)
    import_files(store, c, [str(batch["up"])])
    before = {u.unit: u.card.total for _, u in derive(c, store.events(c)).ranked()}
    # the province edits the file afterwards: 优秀 now needs 99.5
    text_ = pack_file.read_text(encoding="utf-8")
    assert "- {name: 优秀, min: 90}" in text_
    pack_file.write_text(text_.replace("- {name: 优秀, min: 90}", "- {name: 优秀, min: 99.5}"), encoding="utf-8")
    c2 = store.campaign("2005")
    state = derive(c2, store.events(c2))
    assert {u.unit: u.card.total for _, u in state.ranked()} == before
    assert state.units["朔州市"].card.grade == "优秀"  # 99.00 under the stored pack


def test_rescore_shows_a_threshold_change_without_storing(store, batch, tmp_path):
    c, _ = imported(store, batch)
    n = store.count(c)
    new = tmp_path / "shanxi-2005.1.yaml"
    new.write_text(SHANXI.read_text(encoding="utf-8").replace("- {name: 优秀, min: 90}", "- {name: 优秀, min: 99}")
                   .replace('version: "2005.1"', 'version: "2005.2"'), encoding="utf-8")
    from rubric_xl.campaign.compare import rescore

    rows, problems = rescore(derive(c, store.events(c)), load_pack(new))
    assert not problems
    by = {r["unit"]: r for r in rows}
    assert by["太原市"]["after_grade"] == "优秀" and not by["太原市"]["grade_changed"]
    assert by["忻州市"]["before_grade"] == "优秀" and by["忻州市"]["after_grade"] == "优良"
    assert by["忻州市"]["grade_changed"]
    assert store.count(c) == n  # nothing stored
    res = CliRunner().invoke(cli, ["campaign", "rescore", "--db", str(store.engine.url.render_as_string(False)),
                                   "--rules", str(new), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["to"]["version"] == "2005.2"


def test_diff_two_periods(store, batch, tmp_path):
    c1, _ = imported(store, batch, "2005")
    c2 = new_campaign(store, "2006")
    up = tmp_path / "2006"
    up.mkdir()
    f = city_facts(0)
    f["weekly_reports_count"] = 16
    (up / "太原市.xlsx").write_bytes(fill_template(batch["sent"] / "shanxi-2005_太原市.xlsx", f))
    import_files(store, c2, [str(up)])
    from rubric_xl.campaign.compare import period_diff

    rows = period_diff(derive(c1, store.events(c1)), derive(c2, store.events(c2)))
    ty = next(r for r in rows if r["unit"] == "太原市")
    assert [x["fact"] for x in ty["facts"]] == ["weekly_reports_count"]
    assert ty["facts"][0]["before"] == "20" and ty["facts"][0]["after"] == "16"
    assert [x["item"] for x in ty["items"]] == ["10"]
    dt = next(r for r in rows if r["unit"] == "大同市")
    assert dt["after_status"] == "未上报" and dt["before_status"] == "正式"


# --- the hash chain ------------------------------------------------------------------------


def _raw(store: Store, sql: str, **kw) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(sql), kw)


@pytest.mark.parametrize("tamper,expect", [
    ("UPDATE events SET payload = replace(payload, '\"20\"', '\"19\"') WHERE seq = 3", "第3号记录"),
    ("UPDATE events SET actor = 'someone' WHERE seq = 4", "第4号记录"),
    ("DELETE FROM events WHERE seq = 2", "第2号记录已被删除"),
    ("DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)", "末尾"),
    ("UPDATE campaigns SET pack_text = replace(pack_text, 'min: 90}', 'min: 95}')", "规则包"),
])
def test_verify_finds_rows_edited_behind_the_tools_back(store, batch, tamper, expect):
    c, _ = imported(store, batch)
    review(store, c, "太原市", [Change("weekly_reports_count", "15", "理由")], "张三")
    assert store.verify(c) == []
    _raw(store, tamper)
    problems = store.verify(c)
    assert problems and expect in problems[0].msg, problems


def test_verify_finds_reordered_rows(store, batch):
    c, _ = imported(store, batch)
    _raw(store, "UPDATE events SET seq = -1 WHERE seq = 2")
    _raw(store, "UPDATE events SET seq = 2 WHERE seq = 3")
    _raw(store, "UPDATE events SET seq = 3 WHERE seq = -1")
    problems = store.verify(c)
    assert problems and ("顺序" in problems[0].msg or "调换" in problems[0].msg)


def test_verify_cli_exit_codes(db_url, batch):
    s = Store(db_url)
    imported(s, batch)
    run = CliRunner()
    ok = run.invoke(cli, ["campaign", "verify", "--db", db_url, "--format", "json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True
    _raw(s, "UPDATE events SET unit = '运城市' WHERE seq = 1")
    bad = run.invoke(cli, ["campaign", "verify", "--db", db_url])
    assert bad.exit_code == 1 and "第1号记录" in bad.stdout
    s.close()


def test_publication_is_checked_against_the_events(store, batch):
    c, _ = imported(store, batch)
    from rubric_xl.campaign.publish import check_publications, publish

    ev = publish(store, c, "王五")
    assert ev.payload["ranking"][0] == {"rank": 1, "unit": "太原市", "total": "100.00", "grade": "优秀", "flags": []}
    assert check_publications(c, store.events(c)) == []
    state = derive(c, store.events(c))
    assert not state.draft
    review(store, c, "太原市", [Change("weekly_reports_count", "15", "理由")], "张三")
    assert derive(c, store.events(c)).draft
    assert check_publications(c, store.events(c)) == []  # later events do not change the publication


# --- two auditors at once ---------------------------------------------------------------


def test_concurrent_reviews_lose_no_update(db_url, batch):
    s = Store(db_url)
    c, _ = imported(s, batch)
    s.close()
    n_each = 8
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def auditor(name: str, fact: str, values: list[str]) -> None:
        try:
            mine = Store(db_url)  # its own engine: its own real connection
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            barrier.abort()
            return
        try:
            barrier.wait(timeout=120)  # a thread that failed before this breaks the barrier: no hang
            for v in values:
                review(mine, c, "太原市", [Change(fact, v, f"{name} 核定为 {v}")], name)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            mine.close()

    t1 = threading.Thread(target=auditor, args=("张三", "weekly_reports_count", [str(10 + i) for i in range(n_each)]))
    t2 = threading.Thread(target=auditor, args=("李四", "supervised_cases_count", [str(5 + i) for i in range(n_each)]))
    t1.start(), t2.start()
    t1.join(), t2.join()
    assert not errors, errors
    s = Store(db_url)
    events = s.events(c)
    reviews = [e for e in events if e.kind == "review"]
    assert len(reviews) == 2 * n_each
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert s.verify(c) == []
    u = derive(c, events).units["太原市"]
    assert u.changes["weekly_reports_count"].value == str(10 + n_each - 1)
    assert u.changes["supervised_cases_count"].value == str(5 + n_each - 1)
    s.close()


# --- migrations and opening the store ------------------------------------------------------


def test_migrations_match_the_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from rubric_xl.campaign.models import Base

    s = Store(db_url)
    with s.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    Store(db_url).close()  # opening again is a no-op upgrade
    s.close()


def test_default_db_and_env(tmp_path, monkeypatch):
    from rubric_xl.campaign.db import resolve_url

    monkeypatch.delenv("RUBRIC_XL_DB", raising=False)
    assert resolve_url(None) == "sqlite:///rubric-xl.db"
    monkeypatch.setenv("RUBRIC_XL_DB", str(tmp_path / "x.db"))
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'x.db'}"
    assert resolve_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["campaign", "init", "--rules", str(SHANXI), "--period", "2005"],
                             env={"RUBRIC_XL_DB": None})
    assert res.exit_code == 0, res.output
    assert (tmp_path / "rubric-xl.db").is_file()


@pytest.mark.parametrize("db,expect", [
    ("postgresql://alice:s3cret@127.0.0.1:1/nope", "无法连接"),
    ("postgres://alice:s3cret@127.0.0.1:1/nope", "无法连接"),
    ("mysql://alice:s3cret@127.0.0.1/x", "不支持"),
    ("/no/such/folder/x.db", "不存在"),
])
def test_bad_database_is_a_chinese_error_without_the_password(db, expect):
    res = CliRunner().invoke(cli, ["campaign", "status", "--db", db])
    assert res.exit_code == 1
    assert expect in res.output and "s3cret" not in res.output
    assert "Traceback" not in res.output and "内部错误" not in res.output


# --- the CLI -----------------------------------------------------------------------------


def test_cli_walkthrough_json(db_url, batch, tmp_path):
    run = CliRunner()

    def ok(*args, code=0):
        res = run.invoke(cli, ["campaign", *args, "--db", db_url])
        assert res.exit_code == code, res.output
        assert res.exception is None or isinstance(res.exception, SystemExit)
        return res

    ok("init", "--rules", str(SHANXI), "--period", "2005", "--format", "json")
    dup = ok("init", "--rules", str(SHANXI), "--period", "2005", code=1)
    assert "已存在" in dup.output
    imp = ok("import", str(batch["up"]), "--manifest", str(batch["manifest"]), "--format", "json", "--by", "省厅", code=1)
    assert json.loads(imp.stdout)["missing"] == ["晋城市", "运城市"]
    st = json.loads(ok("status", "--format", "json").stdout)
    assert st["missing"] == ["晋城市", "运城市"] and st["submitted"] == 8
    ok("review", "太原市", "--set", "weekly_reports_count=15", "--reason", "周报实际只有15期", "--by", "张三",
       "--format", "json")
    ok("review", "大同市", "--confirm", "--by", "张三")
    ok("spotcheck", "大同市", "--item", "38", "--finding", "抽查发现反弹", "--format", "json")
    pub = json.loads(ok("publish", "--format", "json", "--by", "王五").stdout)
    assert [r["unit"] for r in pub["ranking"]][:2] == ["朔州市", "忻州市"]
    hist = json.loads(ok("history", "太原市", "--format", "json").stdout)
    assert [e["kind"] for e in hist["events"]] == ["submit", "review"]
    assert hist["events"][1]["by"] == "张三"
    diff = json.loads(ok("diff", "--format", "json").stdout)
    ty = next(u for u in diff["units"] if u["unit"] == "太原市")
    assert ty["facts"][0]["reason"] == "周报实际只有15期"
    assert json.loads(ok("verify", "--format", "json").stdout)["ok"]
    csv_out = tmp_path / "通报.csv"
    ok("report", "--format", "csv", "-o", str(csv_out))
    assert csv_out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("名次,单位")
    # usage errors exit 2
    assert run.invoke(cli, ["campaign", "report", "--db", db_url, "--format", "xlsx"]).exit_code == 2
    assert run.invoke(cli, ["campaign", "review", "太原市", "--db", db_url]).exit_code == 2
    assert run.invoke(cli, ["campaign", "review", "太原市", "--set", "novalue", "--db", db_url]).exit_code == 2
    unknown = run.invoke(cli, ["campaign", "status", "--db", db_url, "--period", "1999"])
    assert unknown.exit_code == 1 and "找不到考核期次" in unknown.output


def test_report_xlsx_is_printable_and_text_is_never_a_formula(store, batch, tmp_path):
    units = list(CITIES[:10]) + ["=HYPERLINK(\"http://x\")"]
    c = store.create(load_pack(SHANXI), SHANXI.read_text(encoding="utf-8"), "2005", units)
    import_files(store, c, [str(batch["up"])])
    spotcheck(store, c, "大同市", "=cmd|' /C calc'!A0", "李四", item="38")
    from rubric_xl.campaign.report import csv_text, report_data, xlsx_bytes

    data = report_data(derive(c, store.events(c)))
    path = tmp_path / "通报.xlsx"
    path.write_bytes(xlsx_bytes(data))
    wb = openpyxl.load_workbook(path)
    ws = wb["通报"]
    assert "考核结果通报" in ws["A1"].value and "2005.1" in ws["A2"].value and data["date"] in ws["A2"].value
    assert [ws.cell(4, j).value for j in range(1, 4)] == ["名次", "单位", "核定总分"]
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 and ws.print_title_rows == "$4:$4"
    assert "2005.1" in ws.oddFooter.left.text
    assert wb["图表"]._charts
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    assert any(ws.cell(r, 2).value == units[-1] for r in range(1, ws.max_row + 1))
    import csv
    import io

    rows = list(csv.reader(io.StringIO(csv_text(data).lstrip("\ufeff"))))
    assert ["", "'" + units[-1], "未上报"] == rows[-1][:3]  # CSV text guarded against formula injection
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


@pytest.mark.parametrize("name", ["shanxi-2005_太原市.xlsx", "shanxi-2005_大同市.xlsx"])
def test_report_never_replaces_an_input(db_url, batch, tmp_path, name):
    s = Store(db_url)
    imported(s, batch)
    s.close()
    target = tmp_path / name
    shutil.copy(batch["up"] / name, target)
    before = target.read_bytes()
    res = CliRunner().invoke(cli, ["campaign", "report", "--db", db_url, "--format", "xlsx", "-o", str(target)])
    assert res.exit_code == 1 and "上报" in res.output
    assert target.read_bytes() == before


@pytest.mark.parametrize("name,data", [("空.xlsx", b""), ("旧版.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
                                       ("假的.xlsx", b"PK\x03\x04garbage"), ("文本.xlsx", "填报单位,太原市".encode())])
def test_hostile_files_are_recorded_as_rejected_and_the_batch_goes_on(store, batch, tmp_path, name, data):
    c = new_campaign(store)
    up = tmp_path / "up"
    up.mkdir()
    (up / name).write_bytes(data)
    shutil.copy(batch["up"] / "shanxi-2005_太原市.xlsx", up / "太原市.xlsx")
    rep = import_files(store, c, [str(up)])
    out = {f.file: f for f in rep.files}
    assert out[name].outcome == "rejected" and out[name].problems[0].loc == name
    assert "Traceback" not in out[name].problems[0].msg and "内部错误" not in out[name].problems[0].msg
    assert out["太原市.xlsx"].outcome == "new"
    assert sorted(e.kind for e in store.events(c)) == ["reject", "submit"]


def test_report_carries_the_chain_head_that_verify_shows(db_url, batch):
    s = Store(db_url)
    c, _ = imported(s, batch)
    s.close()
    run = CliRunner()
    rep = json.loads(run.invoke(cli, ["campaign", "report", "--db", db_url, "--format", "json"]).stdout)
    ver = json.loads(run.invoke(cli, ["campaign", "verify", "--db", db_url, "--format", "json"]).stdout)
    assert rep["chain"] == {"seq": ver["events"], "hash": ver["head"]} and len(ver["head"]) == 64


@pytest.mark.parametrize("unit", ["../../逃逸市", "..\\\\..\\\\逃逸市"])
def test_review_sheet_names_stay_inside_the_output_folder(store, batch, tmp_path, unit):
    from rubric_xl.campaign.sheet import write_sheets
    from rubric_xl.cli.common import write_atomic
    from rubric_xl.workbook import template_bytes

    c = store.create(batch["pack"], SHANXI.read_text(encoding="utf-8"), "2005", [unit, "太原市"])
    tpl = tmp_path / "tpl.xlsx"
    tpl.write_bytes(template_bytes(batch["pack"], unit))
    up = tmp_path / "up"
    up.mkdir()
    (up / "a.xlsx").write_bytes(fill_template(tpl, city_facts(1)))
    rep = import_files(store, c, [str(up)])
    assert rep.files[0].unit == unit and rep.files[0].outcome == "new"
    out = tmp_path / "deep" / "out"
    (f,) = write_sheets(store, c, [unit], str(out), write_atomic)
    assert Path(f["file"]).resolve().parent == out.resolve()
    assert list(tmp_path.rglob("*逃逸市*")) == [Path(f["file"])]


@pytest.mark.parametrize("extra,too_big", [(1, True), (0, False)])
def test_file_size_limit_boundary(tmp_path, extra, too_big):
    from rubric_xl.campaign.importer import MAX_FILE

    s = Store(f"sqlite:///{tmp_path / 's.db'}")
    c = new_campaign(s)
    up = tmp_path / "up"
    up.mkdir()
    big = up / "太原市.xlsx"
    with open(big, "wb") as fh:
        fh.truncate(MAX_FILE + extra)  # sparse: nothing is really written
    rep = import_files(s, c, [str(up)])
    (f,) = rep.files
    assert f.outcome == "rejected"
    assert ("过大" in f.problems[0].msg) is too_big


@pytest.mark.parametrize("payload", ["{}", '{"submission": 5, "corrections": [{"value": "3"}]}'])
def test_a_row_that_no_longer_reads_is_reported_not_a_traceback(db_url, batch, payload):
    s = Store(db_url)
    c, _ = imported(s, batch)
    review(s, c, "太原市", [Change("weekly_reports_count", "15", "理由")], "张三")
    seq = s.count(c)
    _raw(s, "UPDATE events SET payload = :p WHERE seq = :s", p=payload, s=seq)
    if payload == "{}":
        _raw(s, "UPDATE events SET kind = 'submit' WHERE seq = :s", s=seq)
    s.close()
    run = CliRunner()
    for cmd in (["status"], ["report"], ["report", "--format", "json"], ["diff"], ["history", "太原市"]):
        res = run.invoke(cli, ["campaign", *cmd, "--db", db_url])
        assert res.exit_code in (0, 1), (cmd, res.output)
        assert res.exception is None or isinstance(res.exception, SystemExit), (cmd, res.exception)
        assert "内部错误" not in res.output and "Traceback" not in res.output
    st = json.loads(run.invoke(cli, ["campaign", "status", "--db", db_url, "--format", "json"]).stdout)
    assert next(u for u in st["units"] if u["unit"] == "太原市")["status"] == "error"
    ver = run.invoke(cli, ["campaign", "verify", "--db", db_url])
    assert ver.exit_code == 1 and f"第{seq}号记录" in ver.output


def test_published_report_is_reproduced_after_later_changes(db_url, batch):
    s = Store(db_url)
    c, _ = imported(s, batch)
    run = CliRunner()
    none = run.invoke(cli, ["campaign", "report", "--published", "--db", db_url])
    assert none.exit_code == 1 and "尚未发布" in none.output
    assert run.invoke(cli, ["campaign", "publish", "--db", db_url]).exit_code == 0
    review(s, c, "太原市", [Change("weekly_reports_count", "10", "理由")], "张三")  # after the 通报
    s.close()
    now = json.loads(run.invoke(cli, ["campaign", "report", "--db", db_url, "--format", "json"]).stdout)
    then = json.loads(run.invoke(cli, ["campaign", "report", "--published", "--db", db_url, "--format", "json"]).stdout)
    assert now["draft"] and not then["draft"]
    assert then["ranking"][0]["unit"] == "太原市" and now["ranking"][0]["unit"] == "大同市"
    listed = json.loads(run.invoke(cli, ["campaign", "list", "--db", db_url, "--format", "json"]).stdout)
    assert [x["period"] for x in listed["campaigns"]] == ["2005"] and listed["campaigns"][0]["events"] == 12


def test_the_later_of_a_review_and_a_spotcheck_on_one_fact_wins(store, batch):
    c, _ = imported(store, batch)
    spotcheck(store, c, "吕梁市", "抽查发现反弹", "李四", item="38")
    review(store, c, "吕梁市", [Change("spot_check_rebound_found", "否", "复查：该企业已于抽查前关停", "复查记录")], "张三")
    u = derive(c, store.events(c)).units["吕梁市"]
    assert u.card.item("38").points == Decimal("4.00") and u.changes["spot_check_rebound_found"].kind == "review"
    spotcheck(store, c, "吕梁市", "再次抽查发现反弹", "李四", item="38")
    u = derive(c, store.events(c)).units["吕梁市"]
    assert u.card.item("38").points == Decimal("0.00") and "通报批评" in u.card.item("38").flags


def test_postgresql_tests_fail_rather_than_skip_without_a_server(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "PG", None)
    with pytest.raises(pytest.fail.Exception, match="RUBRIC_XL_TEST_PG"):
        pg_database()
