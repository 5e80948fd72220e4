"""The generated two-table workbook of changzhi-2019 scores like the engine,
in headless LibreOffice (its own native formulas), on clean and messy input:
every row's status, 处罚建议, errors and warnings on both ledger sheets, every
roll-up line of both tables on 汇总 and its 提示 line (the submission check
逾期报送, also on the boundary dates and on messy report dates: text, blank, an
error value — the engine scores no such submission and the line stays blank).  The messy workbooks (accepted spellings,
invalid values, error values such as #N/A) are also read by the auditor and the
add-in, which must agree.

Text typed into a number column (２, 很多) is in the messy input too: the row is
有误 and counts in no roll-up, in the workbook as in the engine.

The hand-worked example cases come first; random submissions are seeded; row values are drawn around the pack's own
dates (6月3日, 6月28日, 7月3日) and thresholds (3 complaints) so every status,
every decision branch, every check and both coverage boundaries occur.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

import lo
import messy
from rubric_xl import load_pack, score
from rubric_xl.engine.facts import convert_facts
from rubric_xl.rules.cases import cases_path, load_cases
from rubric_xl.addin._payload import payload_from_xlsx
from rubric_xl.audit import score_workbook
from rubric_xl.engine.card import dumps, to_dict
from rubric_xl.rules.lowered import lowered_ledgers
from rubric_xl.workbook import build_template, fill_workbook
from rubric_xl.workbook.sheet_ledger import CHECKS_ROW

ROOT = Path(__file__).resolve().parents[1]
CHANGZHI = ROOT / "rules" / "changzhi-2019.yaml"
PACK = load_pack(CHANGZHI)
N_CLEAN, N_MESSY, ROWS = 40, 24, 20
SEED = 2019
CENT = Decimal("0.01")
NUMBER_TYPES = ("int", "decimal", "percent")
DAYS = [dt.date(2019, 6, 2), dt.date(2019, 6, 3), dt.date(2019, 6, 10), dt.date(2019, 6, 27),
        dt.date(2019, 6, 28), dt.date(2019, 6, 29), dt.date(2019, 7, 3), dt.date(2019, 7, 4)]


def random_submissions(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)

    def day(p_blank: float = 0.0):
        if rng.random() < p_blank:
            return None
        return rng.choice(DAYS) if rng.random() < 0.6 else dt.date(2019, 6, 1) + dt.timedelta(rng.randint(0, 40))

    def yes(p: float = 0.5) -> bool:
        return rng.random() < p

    out = []
    bodies = PACK.facts["reporting_body"].options
    for s in range(n):
        checks = []
        for i in range(rng.randint(0, 12) if rng.random() > 0.08 else 0):
            problems = rng.choice([0, 0, 1, 2, 3])
            checks.append({
                "unit_name": f"单位{s}-{i}", "key_unit": yes(0.3), "permit_held": yes(0.85),
                "self_check_date": day(0.15), "problems_found": Decimal(problems) if yes(0.9) else None,
                "plan_filed_date": day(0.25), "rectify_deadline": day(0.2), "rectified_date": day(0.5),
                "rectification_verified": yes(0.4), "cross_check_violation": yes(0.15)})
        cases = []
        for i in range(rng.randint(0, 12) if rng.random() > 0.08 else 0):
            fine = rng.choice([None, None, Decimal(0), Decimal("0.5"), Decimal("12.35"), Decimal(rng.randint(1, 99))])
            cases.append({
                "case_unit": f"单位{s}-{i}", "found_date": day(), "found_by": rng.choice(PACK.facts["cases"].columns[2].options),
                "violation": rng.choice(PACK.facts["cases"].columns[3].options), "rectified_voluntarily": yes(),
                "repeat_offence": yes(0.2), "complaints": Decimal(rng.choice([0, 1, 2, 3, 3, 4, 6])),
                "fine_wan": fine, "daily_fine": yes(0.2), "seized": yes(0.15), "production_limited": yes(0.15),
                "detention": yes(0.1), "crime_transferred": yes(0.1), "exposed": yes(0.4), "closed_date": day(0.6)})
        out.append({"reporting_body": rng.choice(bodies), "report_date": rng.choice(DAYS),
                    "units_total": rng.choice([None, Decimal(0), Decimal(5), Decimal(12), Decimal(20)]),
                    "summary_submitted": yes(0.8), "self_checks": checks, "cases": cases})
    return out


def write_clean(facts_list: list[dict], outdir: Path) -> tuple[list[Path], object]:
    wb, layout = build_template(PACK, ledger_rows=ROWS)
    paths = []
    for i, facts in enumerate(facts_list):
        fill_workbook(wb, PACK, facts)
        path = outdir / f"cz-clean-{i:03d}.xlsx"
        wb.save(path)
        paths.append(path)
    return paths, layout


def write_messy(facts_list: list[dict], outdir: Path, seed: int) -> tuple[list[Path], object]:
    """Each table's cells typed as people type them (accepted spellings) and now
    and then wrongly (invalid values, text in number columns included: the row is 有误)."""
    from rubric_xl.workbook.inputs import FORMATS

    rng = random.Random(seed)
    wb, layout = build_template(PACK, ledger_rows=ROWS)
    paths, texts = [], 0
    for i, facts in enumerate(facts_list):
        fill_workbook(wb, PACK, facts)
        touched = []
        p_acc, p_bad = rng.choice((0.2, 0.6)), rng.choice((0.0, 0.01, 0.04))
        for table in ("self_checks", "cases"):
            tl = layout.tables[table]
            cols = {c.id: c for c in PACK.facts[table].columns}
            for r, row in enumerate(facts[table]):
                for cid, c in cols.items():
                    ref = tl.columns[cid].data.cell(r)
                    v, x, cell = row.get(cid), rng.random(), None
                    if x < p_bad and c.type != "text":
                        cell = messy.invalid(rng, c, v)
                    elif v is not None and x < p_bad + p_acc and c.type != "text":
                        cell = messy.accepted(rng, c, v)
                    if cell is not None and c.type in NUMBER_TYPES and isinstance(cell[0], str):
                        texts += 1  # text in a number column (２, " 3", 很多): the row is 有误
                    if cell is not None:
                        messy._put(wb[ref.sheet], ref, cell)
                        touched.append((ref, FORMATS.get(c.type, "General")))
        path = outdir / f"cz-messy-{i:03d}.xlsx"
        wb.save(path)
        for ref, fmt in touched:
            wb[ref.sheet].cell(ref.row, ref.col).number_format = fmt
        paths.append(path)
    assert texts >= 3, texts  # the messy input does type text into number columns
    return paths, layout


def _shown(kind: str, v):
    """An engine metric value as its 汇总 cell shows it."""
    if isinstance(v, bool):
        return "是" if v else "否"
    if v is None:
        return ""
    return Decimal(v).quantize(CENT)


def _cell(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return v
    return Decimal(repr(v)).quantize(CENT)


def compare(layout, out: Path, card) -> list[str]:
    """Every difference between the recalculated workbook *out* and the engine's *card*."""
    bad: list[str] = []

    def check(what: str, got, want) -> None:
        if got != want:
            bad.append(f"{out.name} {what}: 公式 {got!r} ≠ 引擎 {want!r}")

    summary = lo.sheet_rows(out, layout.summary_sheet)
    check("汇总提示", lo.at(summary, CHECKS_ROW, 2), "；".join(p.message for p in card.checks))
    for lg, t in zip(lowered_ledgers(PACK), card.tables):
        tl = layout.tables[t.table]
        rows = lo.sheet_rows(out, tl.sheet)
        decisions = [did for did, _, _ in lg.decisions]
        for i, r in enumerate(t.rows):
            n = tl.first_row + i
            res = {k: lo.at(rows, n, c.data.col) for k, c in tl.results.items()}
            check(f"{t.label}第{r.index}行状态", res["status"], r.status)
            check(f"{t.label}第{r.index}行错误", res["errors"], "；".join(p.message for p in r.errors))
            check(f"{t.label}第{r.index}行警告", res["warnings"], "；".join(p.message for p in r.warnings))
            for did in decisions:
                check(f"{t.label}第{r.index}行{did}", res[did], "" if r.status == "有误" else r.values[did])
        for n in range(tl.first_row + len(t.rows), min(tl.first_row + len(t.rows) + 2, tl.last_row) + 1):
            for k, c in tl.results.items():
                check(f"{t.label}空行{n} {k}", lo.at(rows, n, c.data.col), "")
        kinds = {m.id: m.kind for m in lg.aggregates}
        blocks = [b for b in layout.summary if b.table == (None if lg.index == 0 else t.table)]
        assert len(blocks) == len(t.rollups)
        for block, ru in zip(blocks, t.rollups):
            for key, row in block.group_rows:
                if key is None:  # this submission's reporting body
                    (ekey, metrics), = ru.groups.items()
                    check(f"{t.label} {ru.label} 标签", lo.at(summary, row, 1), ekey)
                else:
                    metrics = ru.groups[key]
                for mid, col in block.metric_cols.items():
                    check(f"{t.label} {ru.label}/{key}/{mid}", _cell(lo.at(summary, row, col)),
                          _shown(kinds[mid], metrics[mid]))
            if block.total_row is not None:
                for mid, col in block.metric_cols.items():
                    check(f"{t.label} {ru.label}/合计/{mid}", _cell(lo.at(summary, block.total_row, col)),
                          _shown(kinds[mid], ru.total[mid]))
    return bad


# report_date cells: (value, number format) — accepted on and around the deadline,
# then as people mistype it (text, a time of day, blank, an error value)
REPORT_DATES = [
    (dt.datetime(2019, 6, 28), None), (dt.datetime(2019, 6, 29), None), (dt.datetime(2019, 6, 27), "yyyy/m/d"),
    (messy._serial(dt.date(2019, 6, 29)), "General"), (messy._serial(dt.date(2019, 6, 28)), "General"),
    ("2019.6.29", None), ("2019/6/29", None), ("2019年6月29日", None), ("2019-06-29", None),
    (dt.datetime(2019, 6, 29, 12), "yyyy-mm-dd hh:mm"), (None, None), ("   ", None), ("#N/A", None), ("#VALUE!", None),
]


def write_report_dates(facts: dict, outdir: Path) -> tuple[list[Path], object]:
    """*facts* once per :data:`REPORT_DATES` cell typed into report_date."""
    wb, layout = build_template(PACK, ledger_rows=ROWS)
    ref = layout.inputs["report_date"]
    paths = []
    for i, cell in enumerate(REPORT_DATES):
        fill_workbook(wb, PACK, facts)
        messy._put(wb[ref.sheet], ref, cell)
        path = outdir / f"cz-report-{i:03d}.xlsx"
        wb.save(path)
        wb[ref.sheet].cell(ref.row, ref.col).number_format = "yyyy-mm-dd"
        paths.append(path)
    return paths, layout


@pytest.fixture(scope="module")
def run():
    try:
        rc = lo.Recalculator(Path(tempfile.mkdtemp(prefix="rxl-cz-out-")))
    except lo.LibreOfficeMissing as exc:
        pytest.fail(str(exc))
    src = Path(tempfile.mkdtemp(prefix="rxl-cz-"))
    try:
        # the hand-worked example cases first (every branch), then random ones
        cases = [c.facts for c in load_cases(cases_path(CHANGZHI), PACK) if not c.expect.error and not c.keep_invalid]
        clean = [convert_facts(PACK, f) for f in cases] + random_submissions(N_CLEAN, SEED)
        cpaths, clayout = write_clean(clean, src)
        messy_facts = random_submissions(N_MESSY, SEED + 1)
        mpaths, mlayout = write_messy(messy_facts, src, SEED + 1)
        rpaths, rlayout = write_report_dates(clean[0], src)
        rc.submit(cpaths + mpaths + rpaths).result()
        yield {"clean": list(zip(clean, cpaths)), "clayout": clayout, "mlayout": mlayout,
               "messy": [(p, rc.outdir / p.name) for p in mpaths], "out": rc.outdir,
               "report": [(p, rc.outdir / p.name) for p in rpaths], "rlayout": rlayout}
    finally:
        rc.close()
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(rc.outdir, ignore_errors=True)


def test_clean_two_table_workbooks_recalculate_like_the_engine(run):
    bad, seen = [], Counter()
    for facts, path in run["clean"]:
        card = score(PACK, facts)
        bad += compare(run["clayout"], run["out"] / path.name, card)
        for t in card.tables:
            for r in t.rows:
                seen[r.status] += 1
                seen.update(p.check for p in r.errors + r.warnings)
                if "penalty_advice" in r.values:
                    seen[r.values["penalty_advice"]] += 1
        line = next(ru for ru in card.tables[0].rollups if ru.by == "reporting_body")
        (metrics,) = line.groups.values()
        seen["coverage none" if metrics["coverage"] is None else "coverage"] += 1
    assert not bad, f"{len(bad)} 处不符：\n" + "\n".join(bad[:25])
    statuses = ["交叉检查仍违法", "未自查", "无问题", "已整改", "整改待核实", "逾期未整改", "整改中", "已结案", "查处中"]
    advice = ["依法高限处罚", "严查重处", "从轻或不予处罚", "依法处罚"]
    checks = [c.id for cl in PACK.ledgers for c in cl.model.checks]
    missing = [k for k in statuses + advice + checks + ["coverage none", "coverage"] if seen[k] < 2]
    assert not missing, (missing, seen)


def _results(t: dict) -> tuple:
    """A table's results as the task pane shows them: per row status, decisions,
    errors and warnings; every roll-up number as a Decimal."""
    def norm(v):  # the add-in sends numbers as exact decimal text ("2.80")
        if isinstance(v, str):
            try:
                return Decimal(v)
            except ArithmeticError:
                return v
        return v if isinstance(v, bool) or v is None else Decimal(str(v))

    rows = [(r["status"], r["values"].get("penalty_advice"), [p["msg"] for p in r["errors"]],
             [p["msg"] for p in r["warnings"]]) for r in t["rows"]]
    rollups = [[{k: norm(v) for k, v in g.items()} for g in ru["groups"] + [ru["total"] or {}]] for ru in t["rollups"]]
    return rows, rollups


def test_messy_two_table_workbooks_agree_in_formulas_auditor_and_add_in(run):
    from fastapi.testclient import TestClient

    from rubric_xl.addin import create_app

    client = TestClient(create_app([CHANGZHI]))
    bad, invalid = [], 0
    for sent, out in run["messy"]:
        res = score_workbook(sent)
        assert res.card is not None, res.problems
        bad += compare(run["mlayout"], out, res.card)
        invalid += sum(r.status == "有误" for t in res.card.tables for r in t.rows)
        r = client.post("/rubric/score", content=json.dumps(payload_from_xlsx(sent), ensure_ascii=False).encode())
        got = r.json()
        assert got.get("ok"), got
        want = json.loads(dumps(to_dict(res.card)))
        assert (got["errors"], got["warnings"]) == (want["errors"], want["warnings"])
        for gt, wt in zip(got["tables"], want["tables"], strict=True):
            if _results(gt) != _results(wt):
                bad.append(f"{sent.name} 加载项 {wt['label']} 与审核不符")
    assert not bad, f"{len(bad)} 处不符：\n" + "\n".join(bad[:25])
    assert invalid >= 3  # the messy input did make rows 有误


def test_late_report_line_on_boundary_and_messy_report_dates(run):
    """The 提示 line equals the auditor's card on every report_date cell; a value the
    contract refuses (or a blank) gives no card and a blank line — never 逾期报送."""
    message = PACK.model.checks[0].message
    shown = []
    for (sent, out), (value, _) in zip(run["report"], REPORT_DATES, strict=True):
        res = score_workbook(sent)
        line = lo.at(lo.sheet_rows(out, run["rlayout"].summary_sheet), CHECKS_ROW, 2)
        if res.card is None:  # refused (text, a time, blank, an error value): an input problem, no check
            assert any("报送日期" in p.msg and p.level == "error" for p in res.problems), (value, res.problems)
            assert line == "", (value, line)
        else:
            assert compare(run["rlayout"], out, res.card) == []
        shown.append((value, res.card is not None, line))
    got = {(str(v), scored): line for v, scored, line in shown}
    # the boundary: 6月28日 on time, 6月29日 late, as a date and as a serial number
    assert got[(str(dt.datetime(2019, 6, 28)), True)] == "" and got[(str(dt.datetime(2019, 6, 29)), True)] == message
    assert got[(str(messy._serial(dt.date(2019, 6, 29))), True)] == message
    assert got[(str(messy._serial(dt.date(2019, 6, 28))), True)] == ""
    refused = [v for v, scored, _ in shown if not scored]
    assert {"2019.6.29", None, "#N/A"} <= set(refused), refused
