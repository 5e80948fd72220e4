"""One generated function for a whole rubric pack (the fast path of
:class:`rubric_xl.engine.rubric.RubricPlan`): every value read into locals in one
call, every item inline in the lowered order, then categories, total, grade and
eligibility.  It declines (returns None, or raises KeyError / ArithmeticError) what the per-item
path must decide: invalid values, a submission not started, an unknown option.

Built from the lowered form and the checked AST only; no pack text reaches the source."""

import operator
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP
from typing import TYPE_CHECKING, Any, Callable

from ..rules import expr
from ..rules.pack import RulePack
from ..rules import lowered
from ..rules import wording
from ..rules.contract import Invalid
from . import num
from .card import Adjustment, CategoryResult, ItemResult, ScoreCard, shared_json
from ._rule_code import _AMOUNT_SRC, _GOT_HEAD, _GOT_TAIL, _INLINE_STEP_SRC, ZERO, _RuleSource

if TYPE_CHECKING:
    from .rubric import RubricPlan, _ItemPlan


def _py(src: _RuleSource, node: expr.Node, read: Callable[[str], str]) -> str:
    """The Python source of a checked expression over locals (*read* gives the
    local holding a name), as :class:`rubric_xl.rules.expr.Source` writes it (the
    values of ``expr.compile_py``), its constants bound in the function's namespace."""
    return _expr_source(src, read).expr(node)


def _cond(src: _RuleSource, node: expr.Node, read: Callable[[str], str]) -> str:
    """As :func:`_py` for a condition (an ``if``: only its truth counts)."""
    return _expr_source(src, read).cond(node)


def _expr_source(src: _RuleSource, read: Callable[[str], str]) -> expr.Source:
    """The expression writer of *src*'s function (its namespace), reading names through *read*."""
    if src.exprs is None:
        src.exprs = expr.Source(read, src.ns)
    src.exprs.local = read
    return src.exprs


def _static_adjustment(lr: lowered.Rule, index: int) -> Adjustment | None:
    """The one adjustment of a rule that depends on no value (a flat amount, constant
    texts, no ``late`` or ``positive`` test), as its generated function makes it; else None."""
    if lr.static is None:
        return None
    _, positive, late = lr.applies.tests()
    if positive is not None or late is not None:
        return None
    need = {fname for _, fname, _, _ in lr.pieces if fname}
    if any(lr.fields[k].fmt != "text" for k in need if k != "amount"):
        return None
    amt, capped = lr.static, False
    if lr.cap is not None and amt > lr.cap:
        amt, capped = lr.cap, True
    shown = num.amount(amt)
    text = "".join(lit + ((shown if fname == "amount" else lr.fields[fname].text) if fname else "")
                   for lit, fname, _, _ in lr.pieces)
    if capped:
        text += lr.cap_text
    return Adjustment(lr.kind, amt, text, capped, index, shown)


def _rule_when(lr: lowered.Rule) -> expr.Node | None:
    return lr.applies.tests()[0]


def _value_src(src: _RuleSource, op: lowered.Op, local: str) -> str:
    """``num.value`` of a number written out for the common texts: a whole Decimal's
    (no point, no exponent, not ``-0``) as is, one with at most two places without
    its trailing zeros; anything else through ``num.value``."""
    if op.op == "expr" and op.value.type != expr.NUMBER:
        return f"value({local})"
    t, d, u = src.temp("s"), src.temp("d"), src.temp("u")
    # whole: the text as is; at most two places: trailing zeros (and point) dropped; else num.value
    return (f"({t} if '.' not in ({t} := str({local})) and 'E' not in {t} and {t} != '-0' else "
            f"({u} if 'E' not in {t} and 0 <= ({d} := {t}.find('.')) >= len({t}) - 3 "
            f"and ({u} := {t}.rstrip('0').rstrip('.')) != '-0' else value({local})))")


def _emit_rule(src: _RuleSource, lr: lowered.Rule, index: int, read: Callable[[str], str], hit: list[str]) -> None:
    """One deduction or bonus inline, as :func:`_rule_function` computes it: when it
    applies, ``a`` is its Adjustment and the *hit* lines run."""
    depth = src.depth
    when, positive, late = lr.applies.tests()
    if when is not None:
        src.line(f"if {_cond(src, when, read)}:")
        src.depth += 1
    latest = None
    if late is not None:
        dates, deadline = late
        dl = src.bind(deadline)
        if len(dates) == 1:
            latest = read(dates[0])
            src.line(f"if {latest} is not None and {latest} > {dl}:")
        else:
            latest = src.temp("late")
            reads = "".join(f"{read(d)}, " for d in dates)
            src.line(f"{latest} = [d for d in ({reads}) if d is not None and d > {dl}]")
            src.line(f"if {latest}:")
            latest = f"max({latest})"
        src.depth += 1
    need = {fname for _, fname, _, _ in lr.pieces if fname}
    fields = {k: f for k, f in lr.fields.items() if k in need}
    amounts = [f.amount for f in fields.values() if f.amount is not None]
    run = lr.static is None or positive is not None or any(f.fmt not in ("text", "date") for f in fields.values())
    slots: dict[int, str] = {}
    if run:
        def visit(op: lowered.Op) -> str:
            if id(op) in slots:
                return slots[id(op)]
            args = [visit(x) for x in op.args]
            if op.op == "const":
                r = src.bind(op.value)
            else:
                r = src.temp("r")
                src.line(f"{r} = " + (_py(src, op.value, read) if op.op == "expr"
                                      else _INLINE_STEP_SRC[op.op].format(*args)))
            slots[id(op)] = r
            return r
        for root in [lr.raw] + ([positive] if positive is not None else []) + amounts:
            visit(root)
        if positive is not None:
            src.line(f"if {slots[id(positive)]} > ZERO:")
            src.depth += 1
        amt = slots[id(lr.raw)]
    else:
        amt = src.bind(lr.static)
    shown = None
    if lr.cap is not None:
        cap = src.bind(lr.cap)
        src.line(f"amt, capped = ({cap}, True) if {amt} > {cap} else ({amt}, False)")
        amt, capped = "amt", "capped"
    else:
        capped = "False"
        if not run:  # a constant amount: its text made once
            shown = src.bind(num.amount(lr.static))
    if shown is None:
        src.line(f"shown = {_AMOUNT_SRC.format(amt)}")
        shown = "shown"
    pieces = {"amount": shown}
    for k, f in fields.items():
        pieces[k] = (src.bind(f.text) if f.fmt == "text" else _AMOUNT_SRC.format(slots[id(f.amount)]) if f.fmt == "amount"
                     else f"{latest}.isoformat()" if f.fmt == "date" else _value_src(src, f.amount, slots[id(f.amount)]))
    out = []
    for lit, fname, _, _ in lr.pieces:
        if lit:
            out.append("{" + src.bind(lit) + "}")
        if fname:
            out.append("{" + pieces[fname] + "}")
    text = 'f"' + "".join(out) + '"'
    if lr.cap is not None:
        text += f" + ({src.bind(lr.cap_text)} if capped else '')"
    _construct(src, "a", Adjustment, {"kind": src.bind(lr.kind), "amount": amt, "text": text, "capped": capped,
                                      "rule": src.bind(index), "shown": shown})
    for h in hit:
        src.line(h)
    src.depth = depth


_TABLE_RULES = 6  # an item whose rules all depend on no value, up to this many: one shared result per outcome


def _emit_item(src: _RuleSource, ip: "_ItemPlan", k: int, read: Callable[[str], str]) -> None:
    """Item *k* inline, in the order of the lowered form, its result in local ``i{k}``
    (``prov`` set when 待填, ``flags`` extended when zeroed with a flag; 有误 never
    reaches here).  Results that depend on no value are the shared ones."""
    li, res = ip.ci, f"i{k}"
    depth = src.depth
    cases = 0

    def case(cond: str, lines: list[str]) -> None:
        nonlocal cases
        src.line(("if " if not cases else "elif ") + cond + ":")
        cases += 1
        for text in lines:
            src.line("    " + text)

    if li.required:
        vals = ", ".join(read(f) for f in li.required)
        case(" or ".join(f"{read(f)} is None" for f in li.required),
             [f"{res} = {src.bind(ip.incomplete_of)}(({vals},))", "prov = True"])
    for (node, _, flag), zeroed in zip(li.zero, ip.zeroed):
        lines = [f"{res} = {src.bind(zeroed)}"]
        if flag:
            lines.append(f"flags.append({src.bind(f'第{ip.id}项：{flag}')})")
        case(_py(src, node, read), lines)
    if cases:
        src.line("else:")
        src.depth += 1
    rules = [(r, j) for j, r in enumerate(li.deductions)] + [(r, j) for j, r in enumerate(li.bonuses)]
    static = [_static_adjustment(r, j) for r, j in rules]
    tier = read(li.tiers[0]) if li.tiers else None
    if len(rules) <= _TABLE_RULES and all(a is not None for a in static):
        # the result is one of 2^n shared ones: which rules applied (and the tier)
        nd = len(li.deductions)
        bits = []
        for b, ((r, _), a) in enumerate(zip(rules, static)):
            when = _rule_when(r)
            bits.append(str(1 << b) if when is None else f"({1 << b} if {_cond(src, when, read)} else 0)")
        key = " | ".join(bits) if bits else "0"
        outcomes: dict[Any, ItemResult] = {}
        for opt in (li.tiers[1] if li.tiers else (None,)):
            for mask in range(1 << len(rules)):
                bon = [a for b, a in enumerate(static) if b >= nd and mask >> b & 1]
                ded = [a for b, a in enumerate(static) if b < nd and mask >> b & 1]
                outcomes[(opt, mask) if li.tiers else mask] = shared_json(ip.outcome(opt, ded, bon))
        if not rules and not li.tiers:
            src.line(f"{res} = {src.bind(ip.full)}")
        elif li.tiers:
            src.line(f"{res} = {src.bind(outcomes)}[{tier}, {key}]")  # KeyError (no such option): the slow path
        elif len(rules) == 1 and bits[0] != "1":
            src.line(f"{res} = {src.bind(outcomes[1])} if {_cond(src, _rule_when(rules[0][0]), read)} "
                     f"else {src.bind(outcomes[0])}")
        else:
            src.line(f"{res} = {src.bind(tuple(outcomes[m] for m in range(1 << len(rules))))}[{key}]")
        src.depth = depth
        return
    if len(rules) == 1 and not li.tiers and li.max >= ZERO:
        _emit_single(src, ip, rules[0][0], rules[0][1], read, res)
        src.depth = depth
        return
    src.line("ded = []")
    src.line("bon = []")
    if li.tiers:
        for r, j in rules:
            _emit_rule(src, r, j, read, [f"{'ded' if r.role == 'deduction' else 'bon'}.append(a)"])
        src.line(f"{res} = {src.bind(ip.outcome)}({tier}, ded, bon)")
        src.depth = depth
        return
    # no tiers: the finish inline — max − deductions, floor 扣完为止, + bonuses, 0.01
    src.line(f"after = {src.bind(li.max)}")
    src.line("parts = []")
    for r, j in rules:
        if r.role == "bonus" and j == 0 and li.floor:
            src.line("floored = after < ZERO")
            src.line("if floored: after = ZERO")
        sign = "-" if r.role == "deduction" else "+"
        _emit_rule(src, r, j, read, [f"{'ded' if r.role == 'deduction' else 'bon'}.append(a)",
                                     f"after {sign}= a.amount", "parts.append(a.text)"])
    if li.floor and not li.bonuses:
        src.line("floored = after < ZERO")
        src.line("if floored: after = ZERO")
    src.line(f"if not ded and not bon: {res} = {src.bind(ip.full)}")
    src.line("else:")
    src.depth += 1
    if li.floor:
        src.line(f"if floored: parts.append({src.bind(wording.FLOORED)})")
    src.line("points = after.quantize(CENT, RHU)")
    src.line("shown = str(points)")  # = num.amount(points): two places already, never an exponent
    src.line(f'parts.append(f"{{{src.bind(_GOT_HEAD)}}}{{shown}}{{{src.bind(_GOT_TAIL)}}}")')
    _construct(src, res, ItemResult, {
        "id": src.bind(ip.id), "title": src.bind(ip.title), "category": src.bind(ip.category),
        "max": src.bind(ip.max), "bonus_cap": src.bind(ip.bonus_cap), "status": src.bind("scored"),
        "points": "points", "zeroed": "False", "missing": "()", "deductions": "ded", "bonuses": "bon",
        "flags": "()", "explanation": f"{src.bind(wording.PART_SEP)}.join(parts)", "invalid": "()",
        "zero_rule": "None", "tier": "None", "floored": "floored" if li.floor else "False",
        "points_text": "shown", "_json": src.bind(ip.head)})
    src.depth = depth


def _emit_single(src: _RuleSource, ip: "_ItemPlan", r: lowered.Rule, index: int, read: Callable[[str], str],
                 res: str) -> None:
    """An untiered item with one rule that depends on values (the commonest): full
    points unless it applies, else max ∓ its amount (floor 扣完为止 for a deduction;
    a max ≥ 0 never floors before a bonus), 0.01, and the text — what the general
    finish gives for one rule, without its lists."""
    li = ip.ci
    deduction = r.role == "deduction"
    src.line(f"{res} = {src.bind(ip.full)}")
    sep, head, tail = src.bind(wording.PART_SEP), src.bind(_GOT_HEAD), src.bind(_GOT_TAIL)
    hit = [f"after = {src.bind(li.max)} {'-' if deduction else '+'} a.amount"]
    floors = deduction and li.floor
    if floors:
        hit += ["floored = after < ZERO", "if floored: after = ZERO"]
    hit += ["points = after.quantize(CENT, RHU)", "shown = str(points)"]
    text = f'f"{{a.text}}{{{sep}}}{{{head}}}{{shown}}{{{tail}}}"'
    if floors:  # 扣完为止 between the rule's text and the points
        text = (f'(f"{{a.text}}{{{sep}}}{{{src.bind(wording.FLOORED)}}}{{{sep}}}{{{head}}}{{shown}}{{{tail}}}" '
                f'if floored else {text})')
    made = _construction(src, res, ItemResult, {
        "id": src.bind(ip.id), "title": src.bind(ip.title), "category": src.bind(ip.category),
        "max": src.bind(ip.max), "bonus_cap": src.bind(ip.bonus_cap), "status": src.bind("scored"),
        "points": "points", "zeroed": "False", "missing": "()", "deductions": "[a]" if deduction else "[]",
        "bonuses": "[]" if deduction else "[a]", "flags": "()", "explanation": text, "invalid": "()",
        "zero_rule": "None", "tier": "None", "floored": "floored" if floors else "False",
        "points_text": "shown", "_json": src.bind(ip.head)})
    _emit_rule(src, r, index, read, hit + made)


def _construct(src: _RuleSource, target: str, cls: type, values: dict[str, str]) -> None:
    """The statements of :func:`_construction`, emitted."""
    for text in _construction(src, target, cls, values):
        src.line(text)


def _construction(src: _RuleSource, target: str, cls: type, values: dict[str, str]) -> list[str]:
    """Statements making *target* an instance of the slotted *cls* without calling
    its ``__init__`` (a call that packs its arguments): ``new(cls)``, then every
    slot set from *values* (the engine's own attribute names; values are sources of
    generated names).  *values* must name every slot (checked when the plan is built)."""
    if set(values) != set(cls.__slots__):  # a slot added to the class: no fast path
        raise NotImplementedError(f"{cls.__name__}: {sorted(set(cls.__slots__) ^ set(values))}")
    src.ns["new"] = object.__new__
    return [f"{target} = new({src.bind(cls)})"] + [f"{target}.{k} = {values[k]}" for k in cls.__slots__]


def _pack_function(plan: "RubricPlan", pack: RulePack) -> Callable[[dict], ScoreCard | None]:
    """The whole pack as one generated function ``values -> ScoreCard``, straight-line
    over locals: the facts read once, derived values, every item inline
    (:func:`_emit_item`), category subtotals, total, grade, eligibility.  It returns
    None for a submission holding an invalid value or not started, and raises
    KeyError / ArithmeticError (a division by 0, a number beyond 28 digits) where it cannot decide: the per-item
    path (``RubricPlan._run``) then scores (or names the error)."""
    src = _RuleSource()
    src.ns.update(Invalid=Invalid, CategoryResult=CategoryResult, ScoreCard=ScoreCard,
                  CENT=num.CENT, RHU=ROUND_HALF_UP, RC=ROUND_CEILING, RF=ROUND_FLOOR)
    facts = {fid: i for i, fid in enumerate(pack.facts)}
    derived = {did: i for i, (did, _, _) in enumerate(plan.derived)}
    loaded: dict[str, str] = {}

    def read(name: str) -> str:
        if name in plan.deadlines:
            return src.bind(plan.deadlines[name])
        if name in derived:
            return f"d{derived[name]}"
        if name in facts:
            local = loaded.get(name)
            if local is None:
                local = loaded[name] = f"f{facts[name]}"
            return local
        raise NotImplementedError(name)

    head = len(src.lines)
    if plan.started_facts:
        src.line("if " + " and ".join(f"{read(f)} is None" for f in plan.started_facts) + ": return None")
    invalid_at = len(src.lines)  # the test that no value read is invalid, once every read is known
    for (did, _, deps), (_, node) in zip(plan.derived, pack.derived):
        d = read(did)
        if deps:
            src.line("if " + " and ".join(f"{read(f)} is not None" for f in deps) + ":")
            src.line(f"    {d} = {_py(src, node, read)}")
            src.line("else:")
            src.line(f"    {d} = None")
        else:
            src.line(f"{d} = {_py(src, node, read)}")
    src.line("prov = False")
    src.line("flags = []")
    for k, ip in enumerate(plan.items):
        _emit_item(src, ip, k, read)
    items = "[" + ", ".join(f"i{k}" for k in range(len(plan.items))) + "]"
    src.line(f"if prov: return {src.bind(plan.card)}({items})")
    if any(ip.category not in {n for n, _, _ in plan.categories} for ip in plan.items):
        raise NotImplementedError("an item outside the categories")
    for c, (name, cap, bonus_only) in enumerate(plan.categories):
        members = [f"i{k}.points" for k, ip in enumerate(plan.items) if ip.category == name]
        src.line(f"c{c} = " + " + ".join(["ZERO"] + members))
        _construct(src, f"cat{c}", CategoryResult, {"name": src.bind(name), "points": f"c{c}", "max": src.bind(cap),
                                                   "bonus_only": src.bind(bonus_only), "complete": "True"})
    src.line("total = " + " + ".join(["ZERO"] + [f"c{c}" for c in range(len(plan.categories))]))
    grade = "None"
    for name, lo in reversed(plan.grades):
        grade = src.bind(name) if lo is None else f"{src.bind(name)} if total >= {src.bind(lo)} else ({grade})"
    src.line(f"grade = {grade}")
    _construct(src, "card", ScoreCard, {
        "pack": src.bind(plan.info), "total": "total.quantize(CENT, RHU)", "max": src.bind(plan.total_max),
        "grade": "grade", "eligible": "None" if plan.eligible_grades is None else
        f"grade in {src.bind(frozenset(plan.eligible_grades))}", "eligibility_label": src.bind(plan.eligibility_label),
        "provisional": "False", "categories": "[" + "".join(f"cat{c}, " for c in range(len(plan.categories))) + "]",
        "items": items, "flags": "flags"})
    src.line("return card")
    if loaded:
        # every value read in one call (a missing one: KeyError, the per-item path decides);
        # an invalid one: the per-item path (its items are 有误)
        get = src.bind(operator.itemgetter(*loaded))
        src.lines[invalid_at:invalid_at] = [f"    if {src.bind(Invalid)} in {{*map(type, got)}}: return None"]
        src.lines[head:head] = [f"    got = {get}(values)" + ("" if len(loaded) > 1 else ","),
                                f"    {', '.join(loaded.values())}, = got"]
    return src.function("score_pack", "values")


