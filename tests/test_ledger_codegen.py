"""The generated ledger paths equal the reference ones, on random messy ledgers.

A ledger table is converted by a generated function per table fact
(``engine/_table_code``) and its rows evaluated by a generated function per table
(``engine/_ledger_code``); beside them the row-by-row conversion and the
closures of ``compile_py`` (``TablePlan._evaluate``) stay the reference.  Here
random submissions of every table of the bundled ledger packs — cells blank, of
another spelling, invalid, spreadsheet error values, odd Python types, rows that
are no mapping or have unknown columns, as a facts file and as workbook cells —
go through both, and everything must be the same: the converted values (types
included) and problems, the card's JSON text, every row's objects, the coverage
records, the city-wide roll-ups and any FactsError.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messy import accepted, blank, invalid
from rubric_xl import coverage, load_pack
from rubric_xl.engine import facts as facts_mod
from rubric_xl.engine.card import dumps, rollup_dict, to_dict
from rubric_xl.engine import ledger
from rubric_xl.engine.ledger import plan_for
from rubric_xl.errors import FactsError
from rubric_xl.rules.contract import ERROR_VALUES, cell_value
from rubric_xl.samples import random_facts

ROOT = Path(__file__).resolve().parents[1]
PACKS = {name: load_pack(ROOT / "rules" / f"{name}.yaml")
         for name in ("xinzhou-2024", "changzhi-2019", "shanxi-2019-qingling")}
ODD = [None, "", "  ", "#N/A", " #N/A ", "#DIV/0!", 0, 1, -1, 2.5, float("nan"), True, False,
       Decimal("1E+20"), Decimal("0.10"), "是", "否", " 是", "其他", dt.date(2024, 5, 31),
       dt.datetime(2024, 6, 30), dt.datetime(2024, 6, 30, 12), [1], {"x": 1}, "=1+1"]


@contextlib.contextmanager
def reference(pack):
    """The pack's reference paths: row-by-row conversion, the closures."""
    conv = facts_mod._plan(pack)
    saved = list(conv.facts)
    conv.facts = [(fid, f, memo[:2] + (None,) if f.type == "table" else memo) for fid, f, memo in saved]
    plan = plan_for(pack)
    codes = [tp.code for tp in plan.tables]
    for tp in plan.tables:
        tp.code = None
    try:
        yield
    finally:
        conv.facts = saved
        for tp, code in zip(plan.tables, codes):
            tp.code = code


def _mess(data, pack, raw: dict, rng: random.Random) -> dict:
    """Some cells of every table another spelling, invalid, blank or odd; some rows odd."""
    out = dict(raw)
    for fid, f in pack.facts.items():
        if f.type != "table":
            if data.draw(st.integers(0, 9), label="top") == 0:
                out[fid] = data.draw(st.sampled_from([None, " ", "#N/A"]), label="top value")
            continue
        rows = []
        for row in raw[fid]:
            row = dict(row)
            for c in f.columns or []:
                how = data.draw(st.integers(0, 11), label="cell")
                v = row.get(c.id)
                if how == 0:
                    row[c.id] = accepted(rng, c, v)[0] if v is not None else None
                elif how == 1:
                    row[c.id] = invalid(rng, c, v)[0]
                elif how == 2:
                    row[c.id] = blank(rng)[0]
                elif how == 3:
                    row[c.id] = data.draw(st.sampled_from(ODD), label="odd")
            shape = data.draw(st.integers(0, 29), label="row")
            if shape == 0:
                row = data.draw(st.sampled_from(["一行", 3, None, ["a"]]), label="not a row")
            elif shape == 1:
                row["未知列"] = "x"
            rows.append(row)
        out[fid] = rows
    return out


def _as_cells(pack, raw: dict) -> dict:
    """What a workbook reading hands on: each cell through ``contract.cell_value``."""
    out = dict(raw)
    for fid, f in pack.facts.items():
        if f.type == "table" and isinstance(raw.get(fid), list):
            cols = {c.id: c for c in f.columns or []}
            out[fid] = [{k: cell_value(v, cols[k]) if k in cols and not isinstance(v, (list, dict)) else v
                         for k, v in row.items()} if isinstance(row, dict) else row for row in raw[fid]]
    return out


def _score(pack, raw: dict, facts_file: bool):
    values, problems = facts_mod.read_facts(pack, raw, "台账.xlsx", cells=lambda k: f"台账!{k}",
                                            facts_file=facts_file)
    try:
        card = plan_for(pack).run(values)
    except FactsError as exc:
        return values, problems, ("FactsError", str(exc), [(p.loc, p.msg) for p in exc.problems])
    rows = [[(r.index, r.key, r.status, r.values, [type(v) for v in r.values.values()], r.errors, r.warnings)
             for r in t.rows] for t in card.tables]
    return values, problems, (dumps(to_dict(card)), rows, coverage.fired(card, pack))


def _typed(values: dict) -> list:
    return [(k, v.__class__, [[(c, x.__class__, x) for c, x in r.items()] for r in v] if isinstance(v, list) else v)
            for k, v in values.items()]


def naive_rollups(pack, submissions: list[dict]) -> list[list[tuple]]:
    """Per table, per grouping: (line → metrics, total) from the closures' rows,
    grouped row by row and every line aggregated on its own (``ledger._aggregate``)."""
    plan = plan_for(pack)
    out = []
    for tp in plan.tables:
        subs = []
        for values in submissions:
            base = plan.base(values)
            _, records = tp.records(tp._evaluate(values, base))
            subs.append((base, [r for r in records if r is not None]))
        every = [b for b, _ in subs]
        common = subs[0][0] if len(subs) == 1 else {}
        everything = [r for _, rs in subs for r in rs]

        def agg(rows, top, s, tp=tp):
            return ledger._aggregate(tp.aggregates, tp.compiled, rows, top, s)

        lines = []
        for gr in tp.groups:
            g = gr.g
            groups: dict = {o: [] for o in g.options or ()}
            tops: dict = {}
            of: dict = {}
            for base, rs in subs if g.by is not None else ():
                if gr.top:
                    k = gr.key(base.get(g.by))
                    groups.setdefault(k, []).extend(rs)
                    tops[k] = base if k not in tops else {}
                    of.setdefault(k, []).append(base)
                else:
                    for r in rs:
                        groups.setdefault(gr.key(r[gr.slot]), []).append(r)
            metrics = {k: agg(groups[k], tops.get(k, common), of.get(k, []) if gr.top else every)
                       for k in gr.sort(list(groups))}
            lines.append((metrics, agg(everything, common, every) if (g.by is None or g.total_label) else None))
        out.append(lines)
    return out


def _lines(tables) -> list[list[tuple]]:
    return [[(dict(ru.groups), ru.total) for ru in t] for t in tables]


def _order(tables) -> list[list[list]]:
    return [[list(ru.groups) for ru in t if ru.ranks is None] for t in tables]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(PACKS)), seed=st.integers(0, 10 ** 6), rows=st.integers(0, 14),
       facts_file=st.booleans(), cells=st.booleans(), data=st.data())
def test_generated_rows_equal_the_reference(name, seed, rows, facts_file, cells, data):
    pack = PACKS[name]
    rng = random.Random(seed)
    raw = _mess(data, pack, random_facts(pack, rng, rows=rows), rng)
    if cells:
        raw = _as_cells(pack, raw)
    got_values, got_problems, got = _score(pack, raw, facts_file)
    with reference(pack):
        want_values, want_problems, want = _score(pack, raw, facts_file)
    assert _typed(got_values) == _typed(want_values)
    assert got_problems == want_problems
    assert got == want
    if got[0] != "FactsError":
        card = plan_for(pack).run(got_values)
        with reference(pack):
            naive = naive_rollups(pack, [want_values])
        tables = [t.rollups for t in card.tables]
        assert _lines(tables) == [[(m, t) for m, t in lines] for lines in naive]
        assert _order(tables) == [[list(m) for (m, _), ru in zip(lines, t) if ru.ranks is None]
                                  for lines, t in zip(naive, tables)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(PACKS)), seeds=st.lists(st.integers(0, 10 ** 6), min_size=1, max_size=4),
       data=st.data())
def test_generated_city_rollups_equal_the_reference(name, seeds, data):
    pack = PACKS[name]
    subs = []
    for seed in seeds:
        rng = random.Random(seed)
        raw = _mess(data, pack, random_facts(pack, rng, rows=rng.randint(0, 10)), rng)
        subs.append(facts_mod.read_facts(pack, raw, cells=lambda k: k)[0])

    def combined():
        try:
            return [[rollup_dict(r) for r in t] for t in plan_for(pack).combine_tables(subs)]
        except FactsError as exc:
            return [(p.loc, p.msg) for p in exc.problems]

    got = combined()
    with reference(pack):
        want = combined()
    assert dumps(got) == dumps(want)
    if isinstance(got[0], list):
        tables = plan_for(pack).combine_tables(subs)
        with reference(pack):
            naive = naive_rollups(pack, subs)
        assert _lines(tables) == naive
        assert _order(tables) == [[list(m) for (m, _), ru in zip(lines, t) if ru.ranks is None]
                                  for lines, t in zip(naive, tables)]


@pytest.mark.parametrize("name", sorted(PACKS))
def test_every_bundled_table_runs_generated_code(name):
    """The packs' tables really take the generated paths (the test above compares something)."""
    assert all(tp.code is not None for tp in plan_for(PACKS[name]).tables)
    conv = facts_mod._plan(PACKS[name])
    assert all(memo[2] is not None for _, f, memo in conv.facts if f.type == "table")


@pytest.mark.parametrize("error", [ERROR_VALUES[-1], f" {ERROR_VALUES[1]} "])
def test_an_error_value_in_a_cell_makes_the_row_invalid_on_both_paths(error):
    pack = PACKS["xinzhou-2024"]
    raw = random_facts(pack, random.Random(7), rows=3)
    raw["enterprises"][1]["listed_date"] = error
    got = _score(pack, raw, False)
    with reference(pack):
        want = _score(pack, raw, False)
    assert got[2] == want[2]
    card_rows = got[2][1][0]
    assert card_rows[1][2] == "有误" and card_rows[0][2] != "有误"
    assert [p.loc for p in got[1]] == ["台账.xlsx: enterprises[2].listed_date"]


def _outcome(pack, values: dict):
    try:
        card = plan_for(pack).run(values)
    except Exception as exc:  # noqa: BLE001 - which exception is what is compared
        return ("raised", type(exc).__name__)
    return dumps(to_dict(card))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(PACKS)), seed=st.integers(0, 10 ** 6), data=st.data())
def test_rows_not_of_the_table_shape_equal_the_reference(name, seed, data):
    """Values not made by the conversion (a caller's own rows): a column missing,
    an extra key (also holding an invalid value) — the generated loop's other branch."""
    pack = PACKS[name]
    rng = random.Random(seed)
    values = facts_mod.read_facts(pack, random_facts(pack, rng, rows=rng.randint(1, 6)), cells=lambda k: k)[0]
    bad = facts_mod.read_facts(pack, {next(f for f in pack.facts if pack.facts[f].type == "date"): "七月"})[0]
    invalid_value = next(v for v in bad.values() if v.__class__.__name__ == "Invalid")
    for fid, f in pack.facts.items():
        if f.type != "table":
            continue
        for row in values[fid]:
            how = data.draw(st.integers(0, 3), label="shape")
            if how == 1:
                del row[data.draw(st.sampled_from(sorted(row)), label="dropped")]
            elif how == 2:
                row["额外"] = data.draw(st.sampled_from([invalid_value, "x", None]), label="extra")
    got = _outcome(pack, values)
    with reference(pack):
        want = _outcome(pack, values)
    assert got == want
