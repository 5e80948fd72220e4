"""facts → `rubric-xl template fill` → `rubric-xl extract` is the identity.

Property test over both packs (a points rubric and a ledger): any valid facts,
written into the real template by the real filler, read back by the reader,
give exactly the converted facts again.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rubric_xl import convert_facts, dumps
from rubric_xl.cli import cli
from rubric_xl.factsfile import load_facts_file
from rubric_xl.rules.model import Fact
from test_reader import SHANXI, XINZHOU, template

MAX_NUMBER = Decimal(10) ** 9


def value_of(f: Fact) -> st.SearchStrategy:
    t = f.type
    if t == "bool":
        return st.booleans()
    if t == "int":
        lo = int(f.min) if f.min is not None else -10**9
        hi = int(f.max) if f.max is not None else 10**9
        return st.integers(lo, hi).map(Decimal)
    if t in ("decimal", "percent"):
        lo = f.min if f.min is not None else (Decimal(0) if t == "percent" else -MAX_NUMBER)
        hi = f.max if f.max is not None else (Decimal(100) if t == "percent" else MAX_NUMBER)
        out = st.integers(0, 4).flatmap(lambda places: st.decimals(lo, hi, places=places,
                                                                   allow_nan=False, allow_infinity=False))
        # the input contract: a percentage above 0 and at most 1 is a typed "95%" (0.95), invalid
        return out.filter(lambda d: not 0 < d <= 1) if t == "percent" else out
    if t == "date":
        return st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31))
    if t == "enum":
        return st.sampled_from(f.options or [])
    # text: anything a person can type into a cell; a leading "=" is left out
    # (openpyxl would store it as a formula: see the report)
    return st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40) \
        .filter(lambda s: s.strip() and not s.lstrip().startswith("="))


def maybe_blank(f: Fact) -> st.SearchStrategy:
    return st.one_of(st.none(), value_of(f)) if not f.required or f.type != "table" else value_of(f)


def row_of(table: Fact, key: str) -> st.SearchStrategy:
    # the key column is never blank: a row with every cell blank is no row at all
    return st.fixed_dictionaries({c.id: value_of(c) if c.id == key else st.one_of(st.none(), value_of(c))
                                  for c in table.columns or []})


def facts_of(pack) -> st.SearchStrategy:
    parts = {}
    for fid, f in pack.facts.items():
        if f.type == "table":
            parts[fid] = st.lists(row_of(f, pack.model.ledger.key), max_size=6)
        else:
            parts[fid] = st.one_of(st.none(), value_of(f))
    return st.fixed_dictionaries(parts)


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("templates")
    out = {}
    for pack in (SHANXI, XINZHOU):
        out[pack.id] = folder / f"{pack.id}.xlsx"
        out[pack.id].write_bytes(template(pack.id, None))
    return out


def round_trip(tmp: Path, tpl: Path, facts: dict, fmt: str) -> dict:
    runner = CliRunner()
    facts_file = tmp / "facts.json"
    facts_file.write_text(dumps(facts), encoding="utf-8")
    book = tmp / "填好的.xlsx"
    res = runner.invoke(cli, ["template", "fill", str(tpl), "--facts", str(facts_file), "-o", str(book)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["extract", str(book), "--format", fmt, "-o", str(tmp / f"back.{fmt}")])
    assert res.exit_code == 0, res.output
    return load_facts_file(tmp / f"back.{fmt}")


SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


@SETTINGS
@given(facts=facts_of(SHANXI), fmt=st.sampled_from(["json", "yaml"]))
def test_rubric_facts_survive_fill_and_extract(templates, tmp_path, facts, fmt):
    back = round_trip(tmp_path, templates[SHANXI.id], facts, fmt)
    assert convert_facts(SHANXI, back) == convert_facts(SHANXI, facts)


@SETTINGS
@given(facts=facts_of(XINZHOU), fmt=st.sampled_from(["json", "yaml"]))
def test_ledger_facts_survive_fill_and_extract(templates, tmp_path, facts, fmt):
    back = round_trip(tmp_path, templates[XINZHOU.id], facts, fmt)
    assert convert_facts(XINZHOU, back) == convert_facts(XINZHOU, facts)


def test_extract_prints_every_fact_in_pack_order(templates, tmp_path):
    facts = {"reporting_body": "代县", "report_date": dt.date(2024, 6, 1), "enterprises": []}
    back = round_trip(tmp_path, templates[XINZHOU.id], facts, "yaml")
    assert list(back) == list(XINZHOU.facts)
    text = (tmp_path / "back.yaml").read_text(encoding="utf-8")
    assert "reporting_body: 代县" in text and "report_date: 2024-06-01" in text
