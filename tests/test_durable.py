"""The durable-rules executor (rubric_xl.durable) against the default engine.

Parity: every example case, and 1,000 random submissions per pack (valid, with
blanks, and with hostile raw values kept as 有误), give the same score card —
points, states, explanations, totals, row statuses, errors, warnings, roll-ups.
Safety: one Host and no timer threads, a fresh session deleted after each
evaluation, nothing but ints / bools / text posted, a ruleset that fires two
bands is an internal error (never a score), a missing extra is a Chinese message.
"""
from __future__ import annotations

import functools
import json
import random
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rubric_xl import durable, engine
import rubric_xl.engine.ledger  # noqa: F401  (engine.ledger.plan_for)
from rubric_xl.cli import cli
from rubric_xl.durable import _host, _terms
from rubric_xl.engine.card import dumps, to_dict
from rubric_xl.engine.facts import read_facts
from rubric_xl.errors import FactsError, RubricError
from rubric_xl.rules import load_pack
from rubric_xl.caserun import run_cases, run_combined
from rubric_xl.rules.cases import cases_path, load_case_file
from rubric_xl.samples import random_facts

ROOT = Path(__file__).resolve().parents[1]
PACKS = {p: ROOT / "rules" / f"{p}.yaml" for p in ("shanxi-2005", "xinzhou-2024")}
# raw values a workbook or facts file may hold instead of a number / date / yes-no
HOSTILE = ["n/a", "NaN", "nan", "Infinity", "-inf", "1e-05", "1E5", "９０", "90%", "=1+1", "@SUM(A1)",
           " ", "—", "true", "是否", "2005-13-01", "99999999999999999999", "-0.000001", True, -5]


@pytest.fixture(scope="module", params=list(PACKS))
def pack(request):
    return load_pack(PACKS[request.param])


def _outcome(fn, *args, **kw):
    """The JSON text of the card, or the error's full Chinese text."""
    try:
        return dumps(to_dict(fn(*args, **kw)))
    except RubricError as exc:
        return f"{type(exc).__name__}: {exc}"


def _hostile(pack, facts: dict, rng: random.Random) -> dict:
    """Replace a few values (top-level or ledger cells) by hostile raw values."""
    out = dict(facts)
    keys = [k for k, f in pack.facts.items() if f.type != "table"]
    for k in rng.sample(keys, k=min(len(keys), rng.randint(1, 3))):
        out[k] = rng.choice(HOSTILE)
    for tk, f in pack.facts.items():
        if f.type == "table" and out.get(tk):
            rows = [dict(r) for r in out[tk]]
            for _ in range(rng.randint(1, 4)):
                row = rng.choice(rows)
                row[rng.choice(list(row))] = rng.choice(HOSTILE)
            out[tk] = rows
    return out


# --- parity ------------------------------------------------------------------------


def test_every_example_case_passes_and_matches_the_engine(pack):
    cases, combined = load_case_file(cases_path(pack.source), pack)
    assert len(cases) >= 10
    results = run_cases(pack, cases, durable.score)
    if combined:  # several submissions rolled up, rows decided by durable-rules
        results += run_combined(pack, combined, durable.ruleset_for(pack).combine_tables)
    assert [r.failures for r in results if not r.ok] == []
    for c in cases:
        assert _outcome(durable.score, pack, c.facts, source=c.name) == \
            _outcome(engine.score, pack, c.facts, source=c.name), c.name


def test_1000_random_submissions_match_the_engine(pack):
    rng = random.Random(f"durable-{pack.id}")
    kinds = {"card": 0, "error": 0, "invalid": 0, "incomplete": 0, "zeroed": 0, "deducted": 0}
    for n in range(1000):
        facts = random_facts(pack, rng, blank_rate=(0.0, 0.05, 0.3)[n % 3])
        if n % 4 == 3:
            facts = _hostile(pack, facts, rng)
        values, _ = read_facts(pack, facts, facts_file=True)  # bad values kept as 有误
        want = _outcome(engine.score_values, pack, values)
        got = _outcome(durable.score_values, pack, values)
        assert got == want, f"submission {n}"
        if want.startswith("{"):
            kinds["card"] += 1
            data = json.loads(want)
            for it in data.get("items", []):
                kinds["invalid"] += it["status"] == "invalid"
                kinds["incomplete"] += it["status"] == "incomplete"
                kinds["zeroed"] += it["zeroed"]
                kinds["deducted"] += bool(it["deductions"])
        else:
            kinds["error"] += 1
    # the comparison covered what it claims to cover
    assert kinds["card"] >= 600
    if pack.model.kind == "rubric":
        assert min(kinds["invalid"], kinds["incomplete"], kinds["zeroed"], kinds["deducted"]) >= 50, kinds


def test_ledger_rows_statuses_checks_and_rollups_are_covered():
    pack = load_pack(PACKS["xinzhou-2024"])
    rng = random.Random(3)
    statuses, warnings, errors, invalid = set(), 0, 0, 0
    for n in range(60):
        facts = random_facts(pack, rng, rows=rng.randint(0, 25))
        if n % 2:  # hostile cells in the rows; the top-level facts kept valid so the rows are scored
            table = pack.model.ledger.table
            facts = {**facts, table: _hostile(pack, facts, rng)[table]}
        values, _ = read_facts(pack, facts, facts_file=True)
        card = durable.score_values(pack, values)
        assert to_dict(card) == to_dict(engine.score_values(pack, values))
        statuses |= {r.status for r in card.rows}
        warnings += card.warning_count
        errors += card.error_count
        invalid += sum(r.status == "有误" for r in card.rows)
        assert any(ru.groups for ru in card.rollups)
    assert len(statuses) >= 3 and warnings and errors and invalid, (statuses, warnings, errors, invalid)


def test_city_rollup_of_several_ledgers_matches_the_engine():
    pack = load_pack(PACKS["xinzhou-2024"])
    rng = random.Random(9)
    subs = [read_facts(pack, random_facts(pack, rng, rows=rng.randint(0, 20)), facts_file=True)[0] for _ in range(6)]
    rs = durable.ruleset_for(pack)
    got, want = rs.combine(subs), engine.ledger.plan_for(pack).combine(subs)
    assert got == want and any(ru.groups for ru in got)
    subs[2] = {**subs[2], "reporting_body": None}  # a blank reporting body names the submission
    with pytest.raises(FactsError, match="第3份: reporting_body") as got_err:
        rs.combine(subs)
    with pytest.raises(FactsError) as want_err:
        engine.ledger.plan_for(pack).combine(subs)
    assert str(got_err.value) == str(want_err.value)
    with pytest.raises(FactsError, match="县甲.xlsx: reporting_body"):
        rs.combine(subs, [f"县{c}.xlsx" for c in "乙丙甲丁戊己"])


def test_threads_share_the_host_safely():
    pack = load_pack(PACKS["shanxi-2005"])
    subs = [read_facts(pack, random_facts(pack, random.Random(i), blank_rate=0.1), facts_file=True)[0]
            for i in range(40)]
    want = [dumps(to_dict(engine.score_values(pack, v))) for v in subs]
    got: dict[int, str] = {}

    def work(k):
        for i in range(k, len(subs), 4):
            got[i] = dumps(to_dict(durable.score_values(pack, subs[i])))
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[i] for i in range(len(subs))] == want


# --- what is posted, and how it is compared -------------------------------------


@pytest.mark.parametrize("text", ['甲"乙', "a\\b", "x\ny", "\x00", "😀", "z" * 100_000, "$m", '{"$m": "t0"}', "=1+1"])
def test_hostile_text_is_posted_as_plain_text(text):
    """Quotes, backslashes, NUL, a huge value or durable-rules' own syntax only ever equal themselves."""
    rules = {"hs.eq": _terms.to_json(_terms.cmp("eq", "t0", '甲"乙'), "hs"),
             "hs.ref": _terms.to_json(_terms.cmp("eq", "t0", ("ref", "t1")), "hs"),
             "hs.seen": _terms.to_json(_terms.TRUE, "hs")}
    _host.ensure("test-hostile-text", rules)
    (fired,) = _host.evaluate("test-hostile-text", [[{"ev": "hs", "rid": 0, "t0": text, "t1": "甲"}]])
    assert {n for n, _ in fired} == {"hs.seen"} | ({"hs.eq"} if text == '甲"乙' else set())


def test_only_ints_bools_and_text_are_posted(pack, monkeypatch):
    posted: list[dict] = []
    real = _host.evaluate

    def spy(name, batches):
        posted.extend(f for batch in batches for f in batch)
        return real(name, batches)
    monkeypatch.setattr(_host, "evaluate", spy)
    rng = random.Random(11)
    for _ in range(30):
        facts = random_facts(pack, rng, blank_rate=0.2 if pack.model.kind == "rubric" else 0.0)
        bad = _hostile(pack, facts, rng)
        if pack.model.kind == "ledger":  # hostile cells; top-level facts kept (else nothing is posted)
            bad = {**facts, pack.model.ledger.table: bad[pack.model.ledger.table]}
        values, _ = read_facts(pack, bad, facts_file=True)
        durable.score_values(pack, values)
    assert len(posted) > 30
    for fact in posted:
        for k, v in fact.items():
            assert type(v) in (int, bool, str), (k, v)
            assert type(v) is not str or k in ("ev",) or not k.endswith(("p", "x"))  # flags are ints


_CMP_RULES = {op: _terms.to_json(_terms.both(_terms.present(_terms.Term("t0", "num", None, ())),
                                             _terms.num_cmp("t0", op, 90 * _terms.SCALE)), "cmp")
              for op in ("lt", "lte", "gt", "gte", "eq", "neq")}
_PY = {"lt": lambda a: a < 90, "lte": lambda a: a <= 90, "gt": lambda a: a > 90,
       "gte": lambda a: a >= 90, "eq": lambda a: a == 90, "neq": lambda a: a != 90}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.decimals(min_value=Decimal("89.99"), max_value=Decimal("90.01"), places=9),
                 st.decimals(min_value=-10 ** 6, max_value=10 ** 6, places=3)))
@example(Decimal("90"))
@example(Decimal("90.0000001"))
@example(Decimal("89.9999999"))
@example(Decimal("90.000001"))
def test_durable_comparisons_of_scaled_numbers_are_exact(x):
    """rate op 90 decided by durable-rules on the posted (floor, inexact) pair is Python's Decimal answer."""
    _host.ensure("test-cmp", _CMP_RULES)
    terms = _terms.Terms()
    terms.add("x", "num", lambda env: x, ())
    fact = terms.fields({}, set())
    fact.update(ev="cmp", rid=0)
    (fired,) = _host.evaluate("test-cmp", [[fact]])
    assert {n for n, _ in fired} == {op for op, f in _PY.items() if f(x)}


@pytest.mark.parametrize("big", [Decimal(2) ** 62, Decimal("-1e13")])
def test_a_number_too_large_to_compare_exactly_is_refused(big):
    with pytest.raises(_terms.OutOfRange):
        _terms.scaled(big)
    terms = _terms.Terms()
    terms.add("x", "num", lambda env: big, ())
    with pytest.raises(_host.DurableError, match="无法精确比较"):
        terms.fields({}, set())


@pytest.mark.parametrize("raw", ["n/a", "NaN"])
def test_text_in_a_number_fact_never_reaches_durable_rules(raw):
    """durable-rules itself lets 'n/a' satisfy rate >= 90; the project refuses it first."""
    _host.ensure("test-cmp", _CMP_RULES)
    (fired,) = _host.evaluate("test-cmp", [[{"ev": "cmp", "rid": 0, "t0": raw, "t0p": 1, "t0x": 0}]])
    assert "gte" in {n for n, _ in fired}  # the defect the project guards against
    pack = load_pack(PACKS["shanxi-2005"])
    fid = next(k for k, f in pack.facts.items() if f.type == "percent")
    facts = {**random_facts(pack, random.Random(5)), fid: raw}
    with pytest.raises(FactsError, match=fid):
        durable.score(pack, facts)
    values, problems = read_facts(pack, facts, facts_file=True)
    card = durable.score_values(pack, values)
    bad = [it for it in card.items if fid in it.invalid]
    assert bad and all(it.status == "invalid" and it.points is None for it in bad)
    assert card.provisional


# --- the safe pattern ------------------------------------------------------------------


def test_one_host_no_timer_threads_and_sessions_deleted():
    pack = load_pack(PACKS["shanxi-2005"])
    durable.score(pack, random_facts(pack, random.Random(1)))
    host, before = _host._host, threading.active_count()
    sids = []
    real = host.assert_facts

    def spy(name, facts, complete=None):
        sids.append(facts[0]["sid"])
        return real(name, facts, complete)
    host.assert_facts = spy
    try:
        for i in range(20):
            durable.score(pack, random_facts(pack, random.Random(i)))
    finally:
        del host.assert_facts
    assert _host._host is host and threading.active_count() == before
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]  # the timer loop is off
    assert len(set(sids)) == 20  # a fresh session per evaluation
    rs = durable.ruleset_for(pack)
    _, facts, _ = rs.facts(read_facts(pack, random_facts(pack, random.Random(1)), facts_file=True)[0])
    host.assert_fact(rs.name, {**facts[0], "sid": "live"})
    assert host.get_facts(rs.name, "live")  # a live session has its facts ...
    host.delete_state(rs.name, "live")
    for sid in sids + ["live"]:  # ... a deleted one has no state left at all
        with pytest.raises(Exception, match="error code"):
            host.get_facts(rs.name, sid)


@pytest.mark.parametrize("rule, cond, want", [
    ("i0.incomplete", {"ev": "r0"}, "第1项命中了2个状态分档"),  # fires always: two bands
    ("i0.scored", {"ev": "never"}, "第1项命中了0个状态分档"),  # never fires: no band
])
def test_not_exactly_one_band_is_an_internal_error_never_a_score(rule, cond, want):
    pack = load_pack(PACKS["shanxi-2005"])
    from rubric_xl.durable._rubric import RubricRuleset
    rs = RubricRuleset(pack)
    rs.name += f"-broken-{rule}"
    rs.rules[rule] = cond
    import yaml
    facts = yaml.safe_load((ROOT / "examples" / "shanxi-2005-full.yaml").read_text(encoding="utf-8"))
    values, _ = read_facts(pack, facts, facts_file=True)
    assert engine.score_values(pack, values).items[0].status == "scored"
    with pytest.raises(_host.DurableError, match=want):
        rs.run(values)


def test_a_missing_result_is_an_internal_error(monkeypatch):
    pack = load_pack(PACKS["shanxi-2005"])
    durable.score(pack, random_facts(pack, random.Random(1)))
    monkeypatch.setattr(_host._host, "assert_facts", lambda *a, **k: None)
    with pytest.raises(_host.DurableError, match="未返回结果"):
        durable.score(pack, random_facts(pack, random.Random(1)))


def test_missing_extra_is_a_chinese_message(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "durable", None)
    monkeypatch.setitem(sys.modules, "durable.engine", None)
    assert not durable.available()
    with pytest.raises(_host.DurableError, match="rubric-xl\\[durable\\]"):
        durable.require()
    res = CliRunner().invoke(cli, ["rules", "test", str(PACKS["xinzhou-2024"]), "--engine", "durable"])
    assert res.exit_code == 1 and "未安装 durable-rules" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["score", str(ROOT / "examples"), "--engine", "durable"])
    assert res.exit_code == 1 and "3.10–3.12" in res.output


# --- the command line ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["shanxi-2005-full", "xinzhou-2024-xinfu"])
def test_cli_score_engine_durable_same_json(name):
    pack = "shanxi-2005" if name.startswith("shanxi") else "xinzhou-2024"
    out = {}
    for ex in ("default", "durable"):
        args = ["score", "--rules", str(PACKS[pack]), "--facts", str(ROOT / "examples" / f"{name}.yaml"),
                "--format", "json", "--engine", ex]
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, res.output
        out[ex] = res.output
        wb = CliRunner().invoke(cli, ["score", str(ROOT / "examples" / f"{name}.xlsx"), "--format", "json",
                                      "--engine", ex])
        assert wb.exit_code == 0, wb.output
        out[ex + "-wb"] = wb.output
    assert out["default"] == out["durable"] and out["default-wb"] == out["durable-wb"]
    assert json.loads(out["durable"])["pack"]["id"] == pack


def test_cli_rules_test_engine_durable():
    res = CliRunner().invoke(cli, ["rules", "test", *map(str, PACKS.values()), "--engine", "durable"])
    assert res.exit_code == 0, res.output
    assert "0 个失败" in res.output
    res = CliRunner().invoke(cli, ["rules", "test", str(PACKS["shanxi-2005"]), "--engine", "drools"])
    assert res.exit_code == 2


def test_cli_score_workbooks_engine_durable_in_worker_processes():
    out = {}
    for ex in ("default", "durable"):
        res = CliRunner().invoke(cli, ["score", str(ROOT / "examples"), "--format", "json", "--jobs", "2",
                                       "--engine", ex])
        assert res.exit_code == 0, res.output
        out[ex] = res.output
    assert out["default"] == out["durable"]
    assert all(f'"id": "{p}"' in out["durable"] for p in PACKS)  # both packs were scored


def test_layers_durable_and_the_case_runner_import_nothing_above_them():
    import ast
    src = ROOT / "src" / "rubric_xl"
    above = {"audit", "cli", "workbook", "addin", "formulas", "reader"}

    def imported(path: Path) -> set[str]:
        out = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:  # from ..engine import
                out.add(node.module.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("rubric_xl."):
                out.add(node.module.split(".")[1])
        return out
    for path in (src / "durable").glob("*.py"):
        assert not imported(path) & above, path.name
    assert not imported(src / "rules" / "cases.py") & (above | {"engine", "durable"})


def _boundaries(pack) -> list[tuple[str, Decimal]]:
    """(fact, value) at, just below and just above every threshold a step rule compares a fact with."""
    from rubric_xl.rules.model import StepRule
    out = []
    tiny = Decimal("0.0000001")
    for ci in pack.items:
        for cr in ci.rules:
            r = cr.rule
            if isinstance(r, StepRule) and r.value in pack.facts:
                for d in (r.threshold, r.threshold - tiny, r.threshold + tiny, r.threshold - r.step,
                          r.threshold + r.step, r.threshold - r.step / 2, r.threshold + Decimal("0.01")):
                    out.append((r.value, d))
    return out


def test_thresholds_boundaries_match_the_engine():
    pack = load_pack(PACKS["shanxi-2005"])
    cases = _boundaries(pack)
    assert len(cases) >= 30
    base = random_facts(pack, random.Random(4))
    for fid, v in cases:
        values, _ = read_facts(pack, {**base, fid: v}, facts_file=True)
        assert _outcome(durable.score_values, pack, values) == _outcome(engine.score_values, pack, values), (fid, v)


@functools.lru_cache(maxsize=None)
def _loaded(name: str):
    return load_pack(PACKS[name])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 32), blank=st.sampled_from([0.0, 0.1, 0.5, 1.0]), name=st.sampled_from(list(PACKS)))
def test_property_any_submission_same_card(seed, blank, name):
    pack = _loaded(name)
    rng = random.Random(seed)
    facts = random_facts(pack, rng, blank_rate=blank if pack.model.kind == "rubric" else 0.0)
    if seed % 2:
        facts = _hostile(pack, facts, rng)
    values, _ = read_facts(pack, facts, facts_file=True)
    assert _outcome(durable.score_values, pack, values) == _outcome(engine.score_values, pack, values)


@pytest.mark.parametrize("rows", [0, 1, 4, 5, 6, 11])
def test_ledger_rows_split_across_sessions_at_the_batch_boundary(rows, monkeypatch):
    from rubric_xl.durable import _ledger
    monkeypatch.setattr(_ledger, "ROW_BATCH", 5)
    pack = load_pack(PACKS["xinzhou-2024"])
    values, _ = read_facts(pack, random_facts(pack, random.Random(rows), rows=rows), facts_file=True)
    card = durable.score_values(pack, values)
    assert len(card.rows) == rows and [r.index for r in card.rows] == list(range(1, rows + 1))
    assert to_dict(card) == to_dict(engine.score_values(pack, values))
