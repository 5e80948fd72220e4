"""The engine's fast path (generated item and rule functions, shared constant
results, quick conversions, the card's JSON) equals a straightforward reference
evaluation of the lowered form on random near-threshold submissions — blanks and
values that break the input contract included — for the 2005 pack and a pack with
what the 2005 pack lacks (prorated steps, floor: false, several late dates …).

The reference below walks the checked AST and the lowered items directly, one
plain step at a time; it shares no code with the engine's evaluation.
"""
from __future__ import annotations

import datetime as dt
import operator
import random
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings, strategies as st

from conftest import SHANXI_PATH
from rubric_xl import load_pack, load_pack_text, score, to_dict
from rubric_xl.engine import score_values
from rubric_xl.engine.facts import is_blank, read_facts
from rubric_xl.engine.rubric import plan_for
from rubric_xl.rules import lowered as lowered_form
from rubric_xl.rules import wording
from rubric_xl.rules.contract import Invalid
from rubric_xl.samples import random_facts
from test_formulas_lo import FEATURES

CENT = Decimal("0.01")
CMP = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
       "==": operator.eq, "!=": operator.ne}


# --- the reference ---------------------------------------------------------------------

def ev(node, env):
    """The checked AST, evaluated plainly (a comparison with a blank is false)."""
    k = node.kind
    if k in ("num", "str", "bool", "date"):
        return node.value
    if k == "name":
        return env[node.value]
    args = node.args
    if k == "not":
        return not ev(args[0], env)
    if k == "and":
        return all(ev(a, env) for a in args)
    if k == "or":
        return any(ev(a, env) for a in args)
    if k == "cmp":
        a, b = ev(args[0], env), ev(args[1], env)
        return a is not None and b is not None and CMP[node.value](a, b)
    if k == "neg":
        return -ev(args[0], env)
    if k == "arith":
        a, b = ev(args[0], env), ev(args[1], env)
        if node.value == "/":
            if b == 0:
                raise ZeroDivisionError
            return a / b
        return {"+": operator.add, "-": operator.sub, "*": operator.mul}[node.value](a, b)
    if k == "in":
        return ev(args[0], env) in node.value
    if k == "call":
        vals = [ev(a, env) for a in args]
        return {"min": lambda: min(vals), "max": lambda: max(vals), "abs": lambda: abs(vals[0]),
                "blank": lambda: vals[0] is None, "present": lambda: vals[0] is not None,
                "count_true": lambda: Decimal(sum(1 for v in vals if v))}[node.value]()
    raise AssertionError(k)


def op(o, env):
    if o.op == "const":
        return o.value
    if o.op == "expr":
        return ev(o.value, env)
    a = [op(x, env) for x in o.args]
    return {"sub": lambda: a[0] - a[1], "mul": lambda: a[0] * a[1], "div": lambda: a[0] / a[1],
            "ceil": lambda: a[0].to_integral_value(rounding=ROUND_CEILING),
            "floor": lambda: a[0].to_integral_value(rounding=ROUND_FLOOR),
            "round2": lambda: a[0].quantize(CENT, rounding=ROUND_HALF_UP)}[o.op]()


def points(d: Decimal) -> str:
    return format(d.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def shown(v) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, dt.date):
        return v.isoformat()
    t = format(v, "f")
    if "." in t and len(t.split(".")[1]) > 2:
        t = format(v.quantize(CENT, rounding=ROUND_HALF_UP), "f")
    return t.rstrip("0").rstrip(".") if "." in t else t


def rule(lr, env):
    conds = lr.applies.parts if lr.applies.kind == "both" else (lr.applies,)
    late = None
    for c in conds:
        if c.kind == "expr" and c.node is not None and not ev(c.node, env):
            return None
        if c.kind == "late":
            late = [env[d] for d in c.dates if env[d] is not None and env[d] > c.deadline]
            if not late:
                return None
    for c in conds:
        if c.kind == "positive" and op(c.amount, env) <= 0:
            return None
    amt = op(lr.raw, env)
    capped = lr.cap is not None and amt > lr.cap
    if capped:
        amt = lr.cap
    fields = {"amount": points(amt)}
    for name, f in lr.fields.items():
        fields[name] = (f.text if f.fmt == "text" else points(op(f.amount, env)) if f.fmt == "amount"
                        else max(late).isoformat() if f.fmt == "date" else shown(op(f.amount, env)))
    text = lr.template.format_map(fields) + (lr.cap_text if capped else "")
    return {"kind": lr.kind, "amount": points(amt), "text": text, "capped": capped, "exact": amt}


def item(li, env) -> dict:
    base = {"id": li.id, "points": None, "zeroed": False, "missing": [], "invalid": [],
            "deductions": [], "bonuses": [], "flags": []}
    bad = [env[f] for f in li.inputs if isinstance(env[f], Invalid)]
    if bad:
        return {**base, "status": "invalid", "invalid": [b.fact for b in bad],
                "explanation": wording.INVALID + wording.STATE_SEP + wording.INVALID_SEP.join(b.reason() for b in bad)}
    missing = [f for f in li.required if env[f] is None]
    if missing:
        return {**base, "status": "incomplete", "missing": missing,
                "explanation": wording.INCOMPLETE + wording.STATE_SEP
                + wording.MISSING_SEP.join(li.labels[f] for f in missing)}
    for node, text, flag in li.zero:
        if ev(node, env):
            return {**base, "status": "scored", "points": "0.00", "zeroed": True,
                    "flags": [flag] if flag else [], "explanation": text}
    ded = [a for a in (rule(r, env) for r in li.deductions) if a]
    bon = [a for a in (rule(r, env) for r in li.bonuses) if a]
    tier = env[li.tiers[0]] if li.tiers else None
    start = li.tiers[1][tier] if li.tiers else li.max
    if not ded and not bon and start == li.max:
        return {**base, "status": "scored", "points": points(li.max), "explanation": li.full_text}
    after = start - sum(a.pop("exact") for a in ded)  # exact amounts; the texts are rounded
    floored = li.floor and after < 0
    if floored:
        after = Decimal(0)
    after += sum(a.pop("exact") for a in bon)
    parts = ([wording.TIER_BASE.format(tier=tier, points=points(start))] if start != li.max else []) \
        + [a["text"] for a in ded] + [a["text"] for a in bon] + ([wording.FLOORED] if floored else []) \
        + [wording.GOT.format(points=points(after))]
    return {**base, "status": "scored", "points": points(after), "deductions": ded, "bonuses": bon,
            "explanation": wording.PART_SEP.join(parts)}


# --- submissions -----------------------------------------------------------------------

HOSTILE = ["abc", "#DIV/0!", " 12 ", 1e20, -3, "0.5", True, "是", " ", 12.5, 0.5, 10 ** 15, "2005-07-01"]


def submission(pack, seed: int, blank_rate: float, hostile: int) -> dict:
    rng = random.Random(seed)
    facts = random_facts(pack, rng, blank_rate=blank_rate)
    for _ in range(hostile):
        facts[rng.choice(sorted(facts))] = rng.choice(HOSTILE)
    return facts


def engine_items(pack, values) -> list[dict]:
    keys = ("id", "points", "zeroed", "missing", "invalid", "deductions", "bonuses", "flags", "status",
            "explanation")
    return [{k: (v if k != "points" or v is None else str(v)) for k, v in d.items() if k in keys}
            for d in to_dict(score_values(pack, values))["items"]]


def reference_items(pack, values) -> list[dict]:
    env = plan_for(pack).env(values)  # derived values: checked separately below
    return [item(li, env) for li in lowered_form.lowered(pack)]


PACKS: dict = {}


def packs_() -> dict:
    if not PACKS:
        PACKS.update(shanxi=load_pack(SHANXI_PATH), features=load_pack_text(FEATURES, "features.yaml"))
    return PACKS


@pytest.fixture(scope="module")
def packs():
    return packs_()


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2 ** 32), blank=st.sampled_from([0.0, 0.05, 0.3]), hostile=st.integers(0, 3),
       name=st.sampled_from(["shanxi", "features"]))
def test_the_fast_path_equals_the_reference(seed, blank, hostile, name):
    pack = packs_()[name]
    values, _ = read_facts(pack, submission(pack, seed, blank, hostile), cells=lambda k: f"填报!{k}")
    plan = plan_for(pack)
    for ip in plan.items:  # without the memo, then with it (both must agree)
        ip.memo.clear()
    assert engine_items(pack, values) == reference_items(pack, values)
    assert engine_items(pack, values) == reference_items(pack, values)
    env = plan.env(values)
    for d, node in pack.derived:
        deps = pack.derived_facts[d.id]
        if all(env[f] is not None and not isinstance(env[f], Invalid) for f in deps):
            assert env[d.id] == ev(node, env)


def test_many_near_threshold_submissions_equal_the_reference(packs):
    """2,000 seeded submissions per pack (the benchmark's kind of data), no memo."""
    for pack in packs.values():
        plan = plan_for(pack)
        for seed in range(2000 if pack.model.id != "features" else 1000):
            values, _ = read_facts(pack, submission(pack, seed, 0.0 if seed % 4 else 0.1, seed % 7 == 0))
            for ip in plan.items:
                ip.memo.clear()
            assert engine_items(pack, values) == reference_items(pack, values), seed


def fired(li, env):
    """What ``rules test --coverage`` reads from an item's result — the zeroing
    condition that held (its position), the tier read, whether 扣完为止 bit, each
    applied deduction's and bonus's position and capped — evaluated plainly; None
    for an item not scored."""
    if any(isinstance(env[f], Invalid) for f in li.inputs) or any(env[f] is None for f in li.required):
        return None
    for z, (node, _, _) in enumerate(li.zero):
        if ev(node, env):
            return (z, None, False, [], [])
    ded = [(j, a) for j, a in ((j, rule(r, env)) for j, r in enumerate(li.deductions)) if a]
    bon = [(j, a) for j, a in ((j, rule(r, env)) for j, r in enumerate(li.bonuses)) if a]
    tier = env[li.tiers[0]] if li.tiers else None
    start = li.tiers[1][tier] if li.tiers else li.max
    floored = bool(ded or bon or start != li.max) and li.floor and start - sum(a["exact"] for _, a in ded) < 0
    return (None, tier, floored, [(j, a["capped"]) for j, a in ded], [(j, a["capped"]) for j, a in bon])


def engine_fired(pack, values) -> list:
    return [None if it.status != "scored" else
            (it.zero_rule, it.tier, it.floored, [(a.rule, a.capped) for a in it.deductions],
             [(a.rule, a.capped) for a in it.bonuses])
            for it in score_values(pack, values).items]


def test_coverage_records_equal_the_reference(packs):
    """The generated functions and the shared results record what fired (coverage's
    input) as a plain evaluation does: without the memo, then with it; every tier
    option worth the max keeps its own full-points result."""
    for pack in packs.values():
        plan = plan_for(pack)
        items = lowered_form.lowered(pack)
        seen_tiers = set()
        for seed in range(600):
            values, _ = read_facts(pack, submission(pack, seed, 0.0 if seed % 3 else 0.1, seed % 5 == 0))
            env = plan.env(values)
            want = [fired(li, env) for li in items]
            for ip in plan.items:
                ip.memo.clear()
            assert engine_fired(pack, values) == want, seed
            assert engine_fired(pack, values) == want, seed  # memoised
            seen_tiers |= {(li.id, w[1]) for li, w in zip(items, want) if w and w[1] is not None}
        tiered = [li for li in items if li.tiers]
        assert all(any((li.id, opt) in seen_tiers for opt in li.tiers[1]) for li in tiered)


def test_shared_results_are_never_changed_by_a_caller(packs):
    """Full-points and zeroing results are one object per item; the JSON form a
    caller receives (and the add-in changes) is its own every time."""
    pack = packs["shanxi"]
    facts = random_facts(pack, 1)
    first = to_dict(score(pack, facts))
    for d in first["items"]:
        d["explanation"] = "已改"
        d["missing"].append("x")
        d["flags"].append("x")
    again = to_dict(score(pack, facts))
    assert all(d["explanation"] != "已改" and "x" not in d["missing"] and "x" not in d["flags"]
               for d in again["items"])
    assert again == to_dict(score(pack, dict(facts)))


@pytest.mark.parametrize("raw,want", [
    (0, Decimal(0)), (100, Decimal(100)), (99, Decimal(99)),
    (101, "invalid"), (-1, "invalid"), (1, "invalid"),  # a percent of 1 may be a mistyped 100 %
    (10 ** 15, "invalid"), (-(10 ** 15), "invalid"), (True, "invalid"),
])
def test_quick_int_conversion_keeps_the_contract_at_its_bounds(packs, raw, want):
    """A Python int for a percentage: the quick path at and beyond each bound, as the contract."""
    pack = packs["features"]
    values, problems = read_facts(pack, {**random_facts(pack, 3), "rate": raw}, cells=lambda k: f"填报!{k}")
    got = values["rate"]
    if want == "invalid":
        assert isinstance(got, Invalid) and problems
    else:
        assert got == want and got.as_tuple().exponent == 0 and not problems


def _accepted(f, v, facts_file):
    from rubric_xl.rules.contract import BadValue, accept
    try:
        return accept(f, v, facts_file=facts_file)
    except BadValue:
        return "bad"


NUMBER_FACTS = [  # (type, min, max)
    ("int", None, None), ("int", Decimal(0), None), ("int", Decimal(-5), Decimal(40)),
    ("percent", None, None), ("percent", Decimal(60), None), ("decimal", None, None),
    ("decimal", Decimal("-2.5"), Decimal("12.75")),
]
numbers = st.one_of(
    st.integers(-10 ** 16, 10 ** 16), st.integers(-3, 103),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=-1000, max_value=1000, places=2),
    st.decimals(min_value=Decimal("-1e16"), max_value=Decimal("1e16")),
    st.sampled_from([Decimal("1"), Decimal("1.00"), Decimal("0.5"), Decimal("100"), Decimal("100.000"),
                     Decimal("1E+15"), Decimal("999999999999999.9"), Decimal("1E-29"), Decimal("-0"),
                     Decimal("0E+5"), Decimal("40.0"), Decimal("12.750"), Decimal("12.751"), Decimal("60"),
                     Decimal("59.99"), 10 ** 15, 10 ** 15 - 1, -(10 ** 15) + 1, 0, 1, 40, 41,
                     # the digit and place limits (28 digits, none below 10^-28) around the quick test (10^-13)
                     Decimal("1.0000000000001"), Decimal("1.00000000000001"), Decimal("1E-13"), Decimal("1E-14"),
                     Decimal("1E-28"), Decimal("1E-29"), Decimal("0." + "0" * 27 + "1"),
                     Decimal("99999999999999.99999999999999"), Decimal("99999999999999.999999999999999"),
                     Decimal("12.5000000000000000000000000000000"), Decimal("3.1415926535897932384626433832795")]))


@settings(max_examples=1500, deadline=None)
@given(which=st.sampled_from(NUMBER_FACTS), v=numbers, facts_file=st.booleans())
def test_quick_number_is_accept(which, v, facts_file):
    """The quick path of a number is the input contract's: the same value (and
    exponent) whenever it answers, and it never answers for a value accept refuses."""
    from rubric_xl.rules.contract import NOT_QUICK, number_bounds, quick_number
    from rubric_xl.rules.model import Fact
    t, lo, hi = which
    f = Fact(id="x", label="数", type=t, min=lo, max=hi)
    got = quick_number(v, *number_bounds(f), facts_file)
    want = _accepted(f, v, facts_file)
    if got is not NOT_QUICK:
        assert want != "bad" and got == want and str(got) == str(want)
    elif isinstance(v, int) or (isinstance(v, Decimal) and v.is_finite() and abs(v) < 10 ** 14
                                 and v.as_tuple().exponent >= -2):
        assert want == "bad"  # a plain number it declines is one accept refuses


@pytest.mark.parametrize("n", [0, 3])
def test_an_item_dividing_by_zero_is_named(n):
    """A division by 0 inside an item's rule: FactsError naming the item (never a
    traceback), with or without the memo; any other value scores."""
    from rubric_xl import FactsError
    pack = load_pack_text(FEATURES.replace('count: "min(n, 20) / 4"', 'count: "min(n, 20) / n"'), "f.yaml")
    facts = {**random_facts(pack, 5), "n": n}
    if n:
        assert score(pack, facts).item("6").status == "scored"
        return
    with pytest.raises(FactsError) as ei:
        score(pack, facts)
    assert "第6项计算时除数为0" in str(ei.value) and ei.value.problems[0].loc == "第6项"


texts = st.one_of(st.text(alphabet=" a甲\t#/!NADIV0", max_size=6),
                  st.sampled_from(["甲", " 甲", "甲 ", "甲  乙", "甲 乙", "#N/A", "#DIV/0!", " #N/A", "", " ", "\t甲"]))


@settings(max_examples=800, deadline=None)
@given(v=texts, enum=st.booleans())
def test_quick_text_is_accept(v, enum):
    """Text and option cells: the quick path gives accept's value whenever it
    answers, never for a blank, an error value or text accept would trim."""
    from rubric_xl.rules.contract import NOT_QUICK, quick_text
    from rubric_xl.rules.model import Fact
    options = ["甲", "甲 乙", "#N/A"]
    f = Fact(id="x", label="字", type="enum", options=options) if enum else Fact(id="x", label="字", type="text")
    got = quick_text(v, frozenset(options) if enum else None)
    if got is not NOT_QUICK:
        assert not is_blank(v) and _accepted(f, v, False) == got == v


# --- the pack function (one generated function per pack) and the quick reader -------------

def coverage_of(card) -> list:
    return [(it.status, it.zero_rule, it.tier, it.floored, [(a.rule, a.capped, a.shown) for a in it.deductions],
             [(a.rule, a.capped, a.shown) for a in it.bonuses], it.points_text) for it in card.items]


def card_of(card) -> tuple:
    return (to_dict(card), coverage_of(card), card.total, card.grade, card.eligible, card.provisional,
            [(c.name, c.points, c.max, c.complete) for c in card.categories], card.flags)


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2 ** 32), blank=st.sampled_from([0.0, 0.02, 0.3]),
       name=st.sampled_from(["shanxi", "features"]))
def test_the_pack_function_equals_the_per_item_path(seed, blank, name):
    """The whole pack as one function gives the per-item path's card — JSON, coverage
    records (zero_rule, tier, floored, each adjustment's rule and capped), totals."""
    pack = packs_()[name]
    plan = plan_for(pack)
    fast = plan.build_fast()
    assert fast is not None
    values, problems = read_facts(pack, random_facts(pack, random.Random(seed), blank_rate=blank))
    assert not problems
    for ip in plan.items:
        ip.memo.clear()
    got = fast(values)
    assert got is not None  # every value valid and started: the pack function scores it
    assert card_of(got) == card_of(plan._run(values))


@pytest.mark.parametrize("name", ["shanxi", "features"])
def test_the_pack_function_declines_invalid_and_not_started(packs, name):
    """An invalid value (any fact, two spellings of one) or a submission not started
    goes to the per-item path: 有误 for the items reading it, 待填：尚未开始填报 everywhere."""
    pack = packs[name]
    plan = plan_for(pack)
    fast = plan.build_fast()
    values, _ = read_facts(pack, random_facts(pack, 7))
    for fid in list(values)[:12]:
        for bad in ("abc", " #N/A"):
            spoilt, problems = read_facts(pack, {**random_facts(pack, 7), fid: bad}, cells=lambda k: f"填报!{k}")
            if not problems:
                continue  # text a text fact may hold
            assert fast(spoilt) is None
            card = score_values(pack, spoilt)
            assert any(it.status == "invalid" for it in card.items) or all(fid not in li.inputs
                                                                           for li in lowered_form.lowered(pack))
    blank = dict.fromkeys(values)
    unit = [f for f in pack.facts if f not in plan.started_facts]
    for f in unit:
        blank[f] = values[f]
    assert fast(blank) is None
    card = score_values(pack, blank)
    assert all(it.explanation == plan.not_started_text or it.status == "invalid" for it in card.items)


def test_value_free_rules_share_one_result_per_outcome(packs):
    """An item whose rules depend on no value gives one shared result per outcome:
    the same object in two cards, and changing a caller's JSON changes neither."""
    pack = packs["shanxi"]
    plan = plan_for(pack)
    fast = plan.build_fast()
    values, _ = read_facts(pack, random_facts(pack, 11))
    a, b = fast(values), fast(dict(values))
    from rubric_xl.engine._rubric_code import _static_adjustment
    value_free = [all(_static_adjustment(r, 0) is not None for r in li.deductions + li.bonuses)
                  for li in lowered_form.lowered(pack)]
    assert sum(value_free) > 10  # the 2005 pack has many such items
    for x, y, free in zip(a.items, b.items, value_free):
        assert (x is y) == (free or not (x.deductions or x.bonuses)), x.id
    first = to_dict(a)
    for d in first["items"]:
        d["deductions"].append("x")
        d["explanation"] = "已改"
    assert to_dict(b) == to_dict(fast(values)) != first


QUICK_HOSTILE = [True, False, 1, 0, -1, 10 ** 15, 10 ** 15 - 1, 1.0, 0.5, Decimal("NaN"), Decimal("-Infinity"),
                 Decimal("1E+20"), Decimal("0.5"), Decimal("1"), Decimal("100.0000000000001"), Decimal("-0"),
                 Decimal("1E-30"), "是", "否", " 是", "abc", "", " ", "#N/A", "#DIV/0!", dt.date(2005, 7, 1),
                 dt.datetime(2005, 7, 1), "2005-07-01", [], {}, None]


class _Text(str):
    """A str subclass: never taken as text as it is."""


@settings(max_examples=400, deadline=None)
@given(seed=st.integers(0, 2 ** 32), n=st.integers(0, 4), facts_file=st.booleans(),
       name=st.sampled_from(["shanxi", "features"]), data=st.data())
def test_the_quick_reader_equals_the_general_path(seed, n, facts_file, name, data):
    """Whenever the generated reader answers, it gives the general path's values
    (same types, same Decimal exponents, pack order); it declines anything in doubt:
    hostile values (two spellings each), an unknown key, a str subclass."""
    from rubric_xl.engine.facts import _plan, _quick_reader, _read
    pack = packs_()[name]
    raw = random_facts(pack, random.Random(seed), blank_rate=0.1)
    for _ in range(n):
        raw[data.draw(st.sampled_from(sorted(raw)))] = data.draw(st.sampled_from(QUICK_HOSTILE))
    if data.draw(st.booleans()):
        raw.pop(data.draw(st.sampled_from(sorted(raw))))
    if n == 4:
        raw[data.draw(st.sampled_from(["unknown_fact", "Weekly_reports_count"]))] = 1
    enum = next((fid for fid, f in pack.facts.items() if f.type == "enum"), None)
    if enum and n == 3 and isinstance(raw.get(enum), str):
        raw[enum] = _Text(raw[enum])
    got = _quick_reader(pack)(dict(raw), facts_file)
    want, problems = _read(pack, _plan(pack), raw, "facts", None, None, facts_file)
    if got is not None:
        assert not problems
        assert list(got) == list(want) == list(pack.facts)
        assert [(type(v), str(v)) for v in got.values()] == [(type(v), str(v)) for v in want.values()]


@settings(max_examples=1500, deadline=None)
@given(v=st.one_of(st.decimals(allow_nan=False, allow_infinity=False),
                   st.decimals(min_value=-1000, max_value=1000, places=3),
                   st.sampled_from([Decimal("-0"), Decimal("-0.00"), Decimal("0.00"), Decimal("10.50"), Decimal("1E+2"),
                                    Decimal("1.005"), Decimal("-0.004"), Decimal("12.0"), Decimal("5E-7"),
                                    Decimal("100"), Decimal("-3.10")])))
def test_the_inline_value_text_is_num_value(v):
    """The pack function's value text written out equals ``num.value`` (whole,
    two places, -0, exponents, more places: each spelling of the hard cases)."""
    from rubric_xl.engine import num
    from rubric_xl.engine._rule_code import _RuleSource
    from rubric_xl.engine._rubric_code import _value_src
    from rubric_xl.rules import lowered as lw
    src = _RuleSource()
    src.line(f"return {_value_src(src, lw.Op('sub'), 'env')}")

    def outcome(fn):
        try:
            return fn(v)
        except ArithmeticError as exc:  # beyond 28 digits: num.value's own error, both ways
            return type(exc)
    assert outcome(src.function("shown")) == outcome(num.value)


@pytest.mark.parametrize("name", ["shanxi", "features"])
@pytest.mark.parametrize("huge", [Decimal(10) ** 27, -(Decimal(10) ** 27) + Decimal("0.5")])
def test_numbers_beyond_28_digits_score_as_the_per_item_path(packs, name, huge):
    """Values no conversion would give (|x| ≥ 10^27, two spellings) reach the pack
    function only through score_values: it gives the per-item path's card, or the
    same error."""
    pack = packs[name]
    plan = plan_for(pack)
    plan.build_fast()
    values, _ = read_facts(pack, random_facts(pack, 5))
    for fid, f in pack.facts.items():
        if f.type in ("int", "decimal", "percent") and values[fid] is not None:
            values[fid] = huge

    def outcome(run):
        try:
            return card_of(run(values))
        except Exception as exc:  # noqa: BLE001 - the same error either way
            return type(exc)
    assert outcome(plan.run) == outcome(plan._run)
