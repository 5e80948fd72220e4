"""One rule, one score, wherever it is computed — proven on messy input.

At least 300 messy 2005 submissions and 100 messy ledgers (tests/messy.py:
every accepted spelling, invalid values, percent-formatted cells, numbers and
dates typed as text, error values, blanks) are recalculated by headless
LibreOffice (the workbook's own native formulas); the same submitted files are read by
the auditor (``score_workbook``) and sent through the add-in's HTTP endpoint
(as the xlwings JS client sends them).  For every
workbook the three must agree on every item's points, state and explanation
text, every category, the total, grade, eligibility and provisional flag; for
every ledger on every row's status, errors and warnings and every roll-up.
An invalid value must make its items 有误 (never 待填, never scored) with the
same reason everywhere, and the auditor must report it as an error (exit 1).
"""
from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

import lo
import messy
from rubric_xl import load_pack
from rubric_xl.addin._payload import payload_from_xlsx
from rubric_xl.audit import score_workbook
from rubric_xl.engine.card import dumps, to_dict
from rubric_xl.rules.contract import ERROR_VALUES
from test_formulas_lo import compare_ledger, compare_rubric, random_ledger_facts, random_rubric_facts

ROOT = Path(__file__).resolve().parents[1]
SHANXI = ROOT / "rules" / "shanxi-2005.yaml"
XINZHOU = ROOT / "rules" / "xinzhou-2024.yaml"
QINGLING = ROOT / "rules" / "shanxi-2019-qingling.yaml"
N_RUBRIC = 300
N_LEDGER = 100
SEED = 95  # "95%"
BATCH = 60


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from rubric_xl.addin import create_app

    return TestClient(create_app([SHANXI, XINZHOU, QINGLING]))


def _recalculate(build):
    """Recalculate the workbooks *build(src)* writes ({key: [paths]}); yields
    {key: [(submitted file, LibreOffice's recalculation of it)]} — the auditor and
    the add-in read the submission as Excel saved it, LibreOffice's own results are compared."""
    try:
        rc = lo.Recalculator(Path(tempfile.mkdtemp(prefix="rxl-messy-out-")))
    except lo.LibreOfficeMissing as exc:
        pytest.fail(str(exc))
    src = Path(tempfile.mkdtemp(prefix="rxl-messy-"))
    try:
        built, extra = build(src)
        jobs = [rc.submit(paths[i:i + BATCH]) for paths in built.values() for i in range(0, len(paths), BATCH)]
        for job in jobs:
            job.result()
        yield {**extra, **{k: [(p, rc.outdir / p.name) for p in paths] for k, paths in built.items()}}
    finally:
        rc.close()
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(rc.outdir, ignore_errors=True)


@pytest.fixture(scope="module")
def run():
    def build(src: Path):
        shanxi = load_pack(SHANXI)
        facts = random_rubric_facts(shanxi, N_RUBRIC, seed=SEED)
        paths, layout = messy.messy_rubric(shanxi, facts, src, "sx-messy", seed=SEED)
        return {"paths": paths}, {"shanxi": shanxi, "layout": layout}

    yield from _recalculate(build)


@pytest.fixture(scope="module")
def lrun():
    def build(src: Path):
        xinzhou = load_pack(XINZHOU)
        lfacts = random_ledger_facts(xinzhou, N_LEDGER, seed=SEED, rows=(0, 12))
        lpaths, llayout = messy.messy_ledgers(xinzhou, lfacts, src, "xz-messy", seed=SEED, rows=20)
        qingling = load_pack(QINGLING)
        qfacts = random_ledger_facts(qingling, 60, seed=SEED + 1, rows=(0, 12))
        qpaths, qlayout = messy.messy_ledgers(qingling, qfacts, src, "ql-messy", seed=SEED + 1, rows=20)
        return ({"lpaths": lpaths, "qpaths": qpaths},
                {"xinzhou": xinzhou, "llayout": llayout, "qingling": qingling, "qlayout": qlayout})

    yield from _recalculate(build)


def post(client, path: Path) -> dict:
    r = client.post("/rubric/score", content=json.dumps(payload_from_xlsx(path), ensure_ascii=False).encode())
    assert r.status_code == 200, r.text
    return r.json()


def _d(v) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def compare_addin(name: str, got: dict, card) -> list[str]:
    """Every difference between the add-in's answer and the auditor's card."""
    bad: list[str] = []

    def check(what: str, a, b) -> None:
        if a != b:
            bad.append(f"{name} {what}: 加载项 {a!r} ≠ 审核 {b!r}")

    if not got.get("ok"):
        return [f"{name}: 加载项无法评分：{got.get('message')}"]
    check("总分", _d(got["total"]), card.total)
    check("等次", got["grade"], card.grade)
    check("评选资格", got["eligible"], card.eligible)
    check("暂定", got["provisional"], card.provisional)
    for a, c in zip(got["categories"], card.categories, strict=True):
        check(f"类别{c.name}", _d(a["points"]), c.points)
    for a, it in zip(got["items"], card.items, strict=True):
        check(f"第{it.id}项状态", a["status"], it.status)
        check(f"第{it.id}项得分", _d(a["points"]), it.points)
        check(f"第{it.id}项说明", a["explanation"], it.explanation)
    return bad


def _exact(v):
    """JSON from the add-in (numbers as exact text, "2.80") and from the card (numbers)
    compared as Decimals."""
    if isinstance(v, dict):
        return {k: _exact(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_exact(x) for x in v]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return Decimal(str(v))
    if isinstance(v, str):
        try:
            return Decimal(v)
        except ArithmeticError:
            return v
    return v


def test_messy_2005_workbooks_score_alike_in_libreoffice_auditor_and_addin(run, client):
    pack, layout = run["shanxi"], run["layout"]
    bad: list[str] = []
    seen = Counter()
    assert len(run["paths"]) >= 300
    for path, out in run["paths"]:
        res = score_workbook(path, pack)
        card = res.card
        assert card is not None, (path.name, res.problems)
        bad += compare_rubric(pack, layout, out, card)  # LibreOffice's own formulas = auditor
        bad += compare_addin(path.name, post(client, path), card)  # add-in = auditor
        invalid = [it for it in card.items if it.status == "invalid"]
        # invalid is one state: reported as an error (the CLI exits 1), the total provisional
        errors = [p for p in res.problems if p.level == "error"]
        assert bool(invalid) == bool(errors), (path.name, [p.msg for p in errors][:3])
        if invalid:
            assert res.status == "error" and card.provisional
            for it in invalid:
                assert it.points is None and it.explanation.startswith("有误：") and "，应为" in it.explanation
        seen["invalid items"] += len(invalid)
        seen["invalid workbooks"] += bool(invalid)
        seen["incomplete items"] += sum(it.status == "incomplete" for it in card.items)
        seen["final"] += not card.provisional
        seen[f"grade {card.grade}"] += 1
        for it in invalid:
            for word in ("“#", "为“ ", "为“１", "年", "%", "W", "对", "√", ":", "为0.", "为2005"):
                seen[f"reason {word}"] += word in it.explanation  # each spelling kind really occurs
    assert not bad, f"{len(bad)} 处不一致（共 {len(run['paths'])} 份）：\n" + "\n".join(bad[:30])
    # the messy set really covers the contract: error values, booleans, text numbers,
    # full-width digits, Chinese and ISO-week dates, percent signs, yes/no look-alikes, times
    assert seen["invalid workbooks"] >= 100 and seen["final"] >= 60 and seen["incomplete items"] >= 20, seen
    words = ("“#", "为“ ", "为“１", "年", "%", "W", "对", "√", ":", "为0.", "为2005")
    for word in words:
        assert seen[f"reason {word}"] >= 2, (word, seen)
    assert sum(1 for k in seen if k.startswith("grade ")) >= 3, seen


@pytest.mark.parametrize("which", ["xinzhou", "qingling"])
def test_messy_ledgers_match_in_libreoffice_auditor_and_addin(lrun, client, which):
    run = lrun
    pack, layout, paths = {"xinzhou": (run["xinzhou"], run["llayout"], run["lpaths"]),
                           "qingling": (run["qingling"], run["qlayout"], run["qpaths"])}[which]
    bad: list[str] = []
    seen = Counter()
    assert len(paths) >= {"xinzhou": 100, "qingling": 60}[which]
    for path, out in paths:
        res = score_workbook(path, pack)
        card = res.card
        assert card is not None, (path.name, res.problems)
        bad += compare_ledger(pack, layout, out, card)  # LibreOffice's own formulas = auditor
        got = _exact(post(client, path))
        want = _exact(json.loads(dumps(to_dict(card))))
        for key in ("rows", "rollups"):
            if got.get(key) != want[key]:
                bad.append(f"{path.name} {key}: 加载项与审核不一致：{str(got.get(key))[:300]} ≠ {str(want[key])[:300]}")
        for r in card.rows:
            seen[r.status] += 1
            if r.status == "有误":
                assert r.errors and all("，应为" in p.message for p in r.errors), r.errors
                # error values (#N/A …) and text in number columns are among them: the
                # workbook's errors cell names them as the engine does (compare_ledger)
                seen["error value"] += any(f"为“{e}”" in p.message for p in r.errors for e in ERROR_VALUES)
                assert [p for p in res.problems if p.level == "error"], path.name
    assert not bad, f"{len(bad)} 处不一致（共 {len(paths)} 份）：\n" + "\n".join(bad[:30])
    if which == "xinzhou":
        assert seen["有误"] >= 20 and seen["待取缔"] >= 20 and seen["已销号"] >= 5, seen
    else:
        assert seen["有误"] >= 20 and seen["推进中"] >= 20 and seen["已销号"] >= 20, seen
    assert seen["error value"] >= 3, seen
