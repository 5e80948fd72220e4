"""Score a points rubric: items → categories → total, grade, eligibility.

The checked pack is compiled once into a plan of closures (cached on the pack);
scoring one submission then runs each item's plan over the converted facts.

Per item, in order:
0. any input that breaks the input contract → *invalid* (有误), naming cell, value, expectation;
0½. the submission not started (no input but the unit fact holds a value,
   ``lowered.Totals``) → *incomplete* (待填：尚未开始填报);
1. any required fact blank → *incomplete* (待填), listing the missing facts;
2. the first zeroing condition that holds → 0 (不得分), with its flag;
3. base points (``max``, or the tier of an enum fact);
4. every deduction and bonus that applies, each with amount and explanation;
5. points = max(0, base − deductions) + bonuses (no floor when ``floor: false``).
"""
from __future__ import annotations

import operator
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Callable

from ..errors import FactsError, Problem
from ..rules import expr
from ..rules.pack import RulePack
from ..rules import lowered
from ..rules import wording
from ..rules.contract import Invalid
from . import num
from .card import Adjustment, CategoryResult, ItemResult, PackInfo, ScoreCard, scored_head, shared_json

ZERO = Decimal(0)
MEMO_SIZE = 4096  # results remembered per item
BUILD_AFTER = 3  # submissions scored item by item before the pack function is generated
_ANY_INVALID = "\x00invalid"  # env key: some value breaks the input contract (not a pack name)



_OPS: dict[str, Callable] = {
    "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "ceil": num.ceil, "floor": num.floor, "round2": num.q2,
}


class _RuleSource:
    """The Python source of one rule's function, and the values it names.

    The source is built from the lowered rule's *structure* only: every pack value
    (fact ids, constants, texts, compiled conditions) is bound to a generated name
    (``k3``) in the function's namespace, never written into the source."""

    def __init__(self) -> None:
        self.ns: dict[str, Any] = {"Adjustment": Adjustment, "ItemResult": ItemResult, "ZERO": ZERO,
                                   "amount": num.amount, "Decimal": Decimal,
                                   "value": num.value, "ceil": num.ceil, "floor": num.floor, "q2": num.q2}
        self.lines: list[str] = []
        self._bound: dict[int, str] = {}
        self.depth = 1  # indentation of the next line
        self._temps = 0

    def temp(self, prefix: str = "t") -> str:
        """A fresh local name."""
        self._temps += 1
        return f"{prefix}{self._temps}"

    def bind(self, v: Any) -> str:
        name = self._bound.get(id(v))
        if name is None:
            name = self._bound[id(v)] = f"k{len(self.ns)}"
            self.ns[name] = v
        return name

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def function(self, name: str, arg: str = "env") -> Callable:
        src = f"def {name}({arg}):\n" + "\n".join(self.lines) + "\n"
        exec(compile(src, f"<rubric-xl {name}>", "exec"), self.ns)  # noqa: S102 - generated, see class doc
        return self.ns[name]


_STEP_SRC = {"sub": "{} - {}", "mul": "{} * {}", "div": "{} / {}",
             "ceil": "ceil({})", "floor": "floor({})", "round2": "q2({})"}
# the same steps with num's helpers written out (the pack function: no call per step)
_INLINE_STEP_SRC = {**_STEP_SRC, "ceil": "{}.to_integral_value(RC)", "floor": "{}.to_integral_value(RF)",
                    "round2": "{}.quantize(CENT, RHU)"}
_AMOUNT_SRC = "str({}.quantize(CENT, RHU))"  # = num.amount (two places, half up), one call


def _amounts(src: _RuleSource, roots: list[lowered.Op]) -> dict[int, str]:
    """Statements computing each distinct amount node once, in order (``r2 = r0 - r1``);
    the local that holds each node (by id)."""
    slots: dict[int, str] = {}

    def visit(op: lowered.Op) -> str:
        if id(op) in slots:
            return slots[id(op)]
        args = [visit(a) for a in op.args]
        r = f"r{len(slots)}"
        if op.op == "const":
            r = src.bind(op.value)
        elif op.op == "expr":
            node = op.value
            if node.kind == "name":
                src.line(f"{r} = env[{src.bind(node.value)}]")
            else:
                src.line(f"{r} = {src.bind(expr.compile_py(node))}(env)")
        else:
            src.line(f"{r} = " + _STEP_SRC[op.op].format(*args))
        slots[id(op)] = r
        return r

    for root in roots:
        visit(root)
    return slots


def _rule_function(lr: lowered.Rule, name: str, index: int) -> Callable[[dict], Adjustment | None]:
    """One lowered deduction or bonus (:class:`rubric_xl.rules.lowered.Rule`) as
    one function ``env -> Adjustment | None``: its condition, its amount program
    (each node once), the cap and its explanation text as concatenated pieces.
    *index* is its position among the item's deductions (or bonuses), recorded on
    the adjustment for ``rules test --coverage``."""
    src = _RuleSource()
    conds = lr.applies.parts if lr.applies.kind == "both" else (lr.applies,)
    when = positive = late = None
    for c in conds:
        if c.kind == "expr" and c.node is not None:
            when = c.node
        elif c.kind == "positive":
            positive = c.amount
        elif c.kind == "late":
            late = (c.dates, c.deadline)
    if when is not None:
        test = f"env[{src.bind(when.value)}]" if when.kind == "name" else f"{src.bind(expr.compile_py(when))}(env)"
        src.line(f"if not {test}: return None")
    if late is not None:
        dates, deadline = late
        reads = "".join(f"env[{src.bind(d)}], " for d in dates)
        src.line(f"late = [d for d in ({reads}) if d is not None and d > {src.bind(deadline)}]")
        src.line("if not late: return None")
    # only the placeholders the template names are formatted at scoring time
    need = {fname for _, fname, _, _ in lr.pieces if fname}
    fields = {k: f for k, f in lr.fields.items() if k in need}
    amounts = [f.amount for f in fields.values() if f.amount is not None]
    # a constant amount with constant texts (flat, late) needs no program run
    run = lr.static is None or positive is not None or any(f.fmt not in ("text", "date") for f in fields.values())
    if run:
        slots = _amounts(src, [lr.raw] + ([positive] if positive is not None else []) + amounts)
        if positive is not None:
            src.line(f"if {slots[id(positive)]} <= ZERO: return None")
        src.line(f"amt = {slots[id(lr.raw)]}")
    else:
        slots = {}
        src.line(f"amt = {src.bind(lr.static)}")
    src.line("capped = False")
    if lr.cap is not None:
        cap = src.bind(lr.cap)
        src.line(f"if amt > {cap}: amt, capped = {cap}, True")
    src.line("shown = amount(amt)")
    shown: dict[str, Any] = {"amount": "shown"}  # field -> source (str) or constant text ([str])
    for k, f in fields.items():
        if f.fmt == "text":
            shown[k] = [f.text]
        elif f.fmt == "amount":
            shown[k] = f"amount({slots[id(f.amount)]})"
        elif f.fmt == "date":
            shown[k] = "max(late).isoformat()"
        else:  # value, whole
            shown[k] = f"value({slots[id(f.amount)]})"
    # the template as concatenated pieces, constant runs joined (the pack checker
    # admits only the kind's placeholders, without format specs or conversions)
    parts: list[Any] = []
    for piece in [p for lit, fname, _, _ in lr.pieces for p in ([lit], shown[fname] if fname else [""])]:
        if isinstance(piece, list) and parts and isinstance(parts[-1], list):
            parts[-1] = [parts[-1][0] + piece[0]]
        else:
            parts.append(piece)
    # one f-string of generated names and calls only: its pieces are one string built once
    text = "".join("{" + (src.bind(p[0]) if isinstance(p, list) else p) + "}" for p in parts if p != [""])
    src.line(f'text = f"{text}"')
    if lr.cap is not None:
        src.line(f"if capped: text += {src.bind(lr.cap_text)}")
    # positional: kind, amount, text, capped, rule (its index, coverage)
    src.line(f"a = Adjustment({src.bind(lr.kind)}, amt, text, capped, {src.bind(index)})")
    src.line("a.shown = shown")  # set, not passed: cheaper than a keyword, and whatever follows capped
    src.line("return a")
    return src.function(name)


_GOT_HEAD, _GOT_TAIL = wording.GOT.split("{points}")  # 得…分


def _test(src: _RuleSource, node: expr.Node) -> str:
    """The source of a condition: a fact read inline (``env[k3]``, ``not env[k3]``),
    anything else its compiled closure."""
    if node.kind == "name":
        return f"env[{src.bind(node.value)}]"
    if node.kind == "not" and node.args[0].kind == "name":
        return f"not env[{src.bind(node.args[0].value)}]"
    return f"{src.bind(expr.compile_py(node))}(env)"


class _ItemPlan:
    __slots__ = ("ci", "id", "title", "category", "max", "bonus_cap", "required", "labels",
                 "tiers", "floor", "full_points", "full_text", "inputs", "key", "memo", "full", "zeroed", "head",
                 "fulls", "run", "result")

    def __init__(self, li: lowered.Item, index: int = 0, memoise: bool = True):
        self.ci = li
        self.id, self.title, self.category, self.max = li.id, li.title, li.category, li.max
        self.bonus_cap = li.bonus_cap
        self.required = list(li.required)
        self.labels = li.labels
        self.tiers = li.tiers
        self.floor = li.floor
        self.full_points = num.q2(li.max)
        self.full_text = li.full_text
        # results that depend on no value (full points, each zeroing) are made once
        # and shared by every card, as memoised results are
        # (their JSON scalars made now as well: card.shared_json)
        self.full = shared_json(ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap,
                                           "scored", self.full_points, explanation=self.full_text))
        self.zeroed = [shared_json(ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap,
                                              "scored", ZERO, True, flags=[flag] if flag else (), explanation=text,
                                              zero_rule=z)) for z, (_, text, flag) in enumerate(li.zero)]
        self.head = scored_head(self.id, self.title, self.category, self.max, self.bonus_cap)
        # full points record the tier read (coverage): one shared result per
        # option worth the item's max (and the untiered one for a blank tier)
        self.fulls: dict[str | None, ItemResult] = {None: self.full}
        for opt, pts in (li.tiers[1].items() if li.tiers else ()):
            if pts == li.max:
                self.fulls[opt] = shared_json(ItemResult(self.id, self.title, self.category, self.max,
                                                         self.bonus_cap, "scored", self.full_points,
                                                         explanation=self.full_text, tier=opt))
        # An item is a pure function of the facts it reads (deadlines are
        # constants), so results are memoised on those values — when they are
        # few (yes/no, options, dates; a number's hash costs more than the
        # item, and near-threshold numbers seldom repeat).  Results are
        # shared between score cards and must be treated as immutable.
        self.inputs = li.inputs
        self.key = operator.itemgetter(*li.inputs) if li.inputs else (lambda env: ())
        self.memo: dict[Any, ItemResult] = {}
        self.run = self._function(li, index)
        self.result: Callable[[dict], ItemResult] = self._memoised if memoise else self.run

    def _function(self, li: lowered.Item, index: int) -> Callable[[dict], ItemResult]:
        """The item as one generated function ``env -> ItemResult``, in the order of
        the lowered form: 有误 → 待填 → 不得分 → deductions, bonuses → full points or
        the points and text (inline; :meth:`_finish` for tiers) — see
        :class:`_RuleSource` for what its source may hold."""
        src = _RuleSource()
        if li.inputs:
            src.line(f"if env.get({src.bind(_ANY_INVALID)}):")
            src.line(f"    res = {src.bind(self._invalid)}(env)")
            src.line("    if res is not None: return res")
        if li.required:
            blank = " or ".join(f"env[{src.bind(f)}] is None" for f in li.required)
            src.line(f"if {blank}: return {src.bind(self._incomplete)}(env)")
        for (node, _, _), zeroed in zip(li.zero, self.zeroed):
            src.line(f"if {_test(src, node)}: return {src.bind(zeroed)}")
        if li.tiers:  # the base is the tier's: deductions, bonuses, then _finish
            for role, rules in (("deduction", li.deductions), ("bonus", li.bonuses)):
                src.line(f"{role} = []")
                for j, r in enumerate(rules):
                    src.line(f"a = {src.bind(_rule_function(r, f'item{index}_{role}{j}', j))}(env)")
                    src.line(f"if a is not None: {role}.append(a)")
            src.line(f"tier = env[{src.bind(li.tiers[0])}]")
            src.line(f"return {src.bind(self.outcome)}(tier, deduction, bonus)")
            return src.function(f"item{index}")
        if not li.deductions and not li.bonuses:
            src.line(f"return {src.bind(self.full)}")
            return src.function(f"item{index}")
        # no tiers: the finish inline — max − deductions, floor 扣完为止, + bonuses, 0.01
        src.line(f"after = {src.bind(li.max)}")
        src.line("parts = []")
        for role, rules in (("deduction", li.deductions), ("bonus", li.bonuses)):
            src.line(f"{role} = []")
            sign = "-" if role == "deduction" else "+"
            for j, r in enumerate(rules):
                src.line(f"a = {src.bind(_rule_function(r, f'item{index}_{role}{j}', j))}(env)")
                src.line("if a is not None:")
                src.line(f"    {role}.append(a)")
                src.line(f"    after {sign}= a.amount")
                src.line("    parts.append(a.text)")
            if role == "deduction" and li.floor:
                src.line("floored = after < ZERO")
                src.line("if floored: after = ZERO")
        src.line(f"if not deduction and not bonus: return {src.bind(self.full)}")
        if li.floor:
            src.line(f"if floored: parts.append({src.bind(wording.FLOORED)})")
        src.line("points = q2(after)")
        src.line("shown = str(points)")  # = num.amount(points): two places already, never an exponent
        src.line(f'parts.append(f"{{{src.bind(_GOT_HEAD)}}}{{shown}}{{{src.bind(_GOT_TAIL)}}}")')
        # positional: id … status, points, zeroed, missing, deductions, bonuses, flags, explanation, invalid
        src.line(f"res = ItemResult({src.bind(self.id)}, {src.bind(self.title)}, {src.bind(self.category)}, "
                 f"{src.bind(self.max)}, {src.bind(self.bonus_cap)}, 'scored', points, False, (), deduction, "
                 f"bonus, (), {src.bind(wording.PART_SEP)}.join(parts), ())")
        src.line("res.points_text = shown")  # set, not passed: cheaper than a keyword
        if li.floor:
            src.line("res.floored = floored")  # whether 扣完为止 bit (coverage); tier stays None
        src.line("return res")
        return src.function(f"item{index}")

    def _memoised(self, env: dict) -> ItemResult:
        key = self.key(env)
        res = self.memo.get(key)
        if res is None:
            res = self.run(env)
            if len(self.memo) >= MEMO_SIZE:
                self.memo.clear()
            self.memo[key] = res
        return res

    def outcome(self, tier: str | None, deductions: list[Adjustment], bonuses: list[Adjustment]) -> ItemResult:
        """The result once the rules that apply are known: the shared full points
        (per tier option) when none applies and the base is the max, else :meth:`_finish`."""
        if not deductions and not bonuses:
            full = self.fulls.get(tier) if self.tiers else self.full
            if full is not None:
                return full
        return self._finish(tier, deductions, bonuses)

    def _finish(self, tier: str | None, deductions: list[Adjustment], bonuses: list[Adjustment]) -> ItemResult:
        """Base (or tier), deductions, floor 扣完为止, bonuses, 0.01 — and the text."""
        base = self.tiers[1][tier] if self.tiers else self.max
        after = base
        for a in deductions:
            after -= a.amount
        floored = self.floor and after < ZERO
        if floored:
            after = ZERO
        for a in bonuses:
            after += a.amount
        points = num.q2(after)
        shown = str(points)  # = num.amount(points): two places already, never an exponent
        parts = [a.text for a in deductions]
        if bonuses:
            parts += [a.text for a in bonuses]
        if base != self.max:
            parts.insert(0, self.ci.tier_text(tier, base))
        if floored:
            parts.append(wording.FLOORED)
        parts.append(f"{_GOT_HEAD}{shown}{_GOT_TAIL}")
        return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "scored",
                          points, deductions=deductions, bonuses=bonuses, explanation=wording.PART_SEP.join(parts),
                          tier=tier, floored=floored, points_text=shown, json=self.head)

    def _invalid(self, env: dict) -> ItemResult | None:
        bad = [env[f] for f in self.inputs if env[f].__class__ is Invalid]
        if not bad:
            return None
        return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "invalid",
                          invalid=[b.fact for b in bad],
                          explanation=wording.INVALID + wording.STATE_SEP + wording.INVALID_SEP.join(b.reason() for b in bad))

    def not_started(self, env: dict, text: str) -> ItemResult:
        """The item of a submission not yet started: 有误 when an input is invalid, else 待填 (*text*)."""
        res = self._invalid(env) if env.get(_ANY_INVALID) else None
        return res or ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "incomplete",
                                 missing=[f for f in self.required if env[f] is None], explanation=text)

    def _incomplete(self, env: dict) -> ItemResult:
        return self.incomplete_of([env[f] for f in self.required])

    def incomplete_of(self, values: tuple | list) -> ItemResult:
        """待填, listing the required facts whose *values* (in ``required`` order) are blank."""
        missing = [f for f, v in zip(self.required, values) if v is None]
        return ItemResult(self.id, self.title, self.category, self.max, self.bonus_cap, "incomplete",
                          missing=missing,
                          explanation=wording.INCOMPLETE + wording.STATE_SEP + wording.MISSING_SEP.join(self.labels[f] for f in missing))


# --- one generated function for the whole pack (the fast path) ----------------------------

class _Slow(Exception):
    """The pack function declines a submission it was not made for: the per-item path scores it."""


def _div(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:
        raise ZeroDivisionError("除数为0")
    return a / b


def _days(a: Any, b: Any) -> Decimal | None:
    return None if a is None or b is None else Decimal((b - a).days)


_CMP_SRC = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!="}
_ARITH_SRC = {"+": "+", "-": "-", "*": "*"}


def _flat(node: expr.Node, kind: str) -> list[expr.Node]:
    """``a and (b and c)`` → ``[a, b, c]``."""
    return [leaf for a in node.args for leaf in _flat(a, kind)] if node.kind == kind else [node]


def _py(src: _RuleSource, node: expr.Node, read: Callable[[str], str]) -> str:
    """The Python source of a checked expression over locals (*read* gives the
    local holding a name): the values of ``expr.compile_py`` — a comparison with
    a blank operand is false, ``and``/``or`` give ``True``/``False``, ``/`` by 0
    raises ZeroDivisionError.  Pack values are bound names, never source text;
    an unforeseen node raises ``NotImplementedError`` (the pack then has no fast path)."""
    k = node.kind
    if k in expr.CONSTANTS:
        return src.bind(node.value)
    if k == "name":
        return read(node.value)
    a = node.args
    if k == "not":
        return f"(not {_py(src, a[0], read)})"
    if k in ("and", "or"):
        return "(True if " + f" {k} ".join(_py(src, p, read) for p in _flat(node, k)) + " else False)"
    if k == "cmp":
        x, y, op = _py(src, a[0], read), _py(src, a[1], read), _CMP_SRC[node.value]
        if not (a[0].nullable or a[1].nullable):
            return f"({x} {op} {y})"
        if a[0].kind == "name" and a[1].kind in expr.CONSTANTS:
            return f"({x} is not None and {x} {op} {y})"
        tx, ty = src.temp(), src.temp()  # both operands evaluated, as compile_py does
        return f"((({tx} := {x}) is not None) & (({ty} := {y}) is not None) and {tx} {op} {ty})"
    if k == "neg":
        return f"(-{_py(src, a[0], read)})"
    if k == "arith":
        x, y = _py(src, a[0], read), _py(src, a[1], read)
        if node.value == "/":
            return f"div({x}, {y})"
        return f"({x} {_ARITH_SRC[node.value]} {y})"
    if k == "in":
        return f"({_py(src, a[0], read)} in {src.bind(frozenset(node.value))})"
    if k == "call":
        f = node.value
        args = [_py(src, x, read) for x in a]
        if f == "blank":
            return f"({args[0]} is None)"
        if f == "present":
            return f"({args[0]} is not None)"
        if f in ("min", "max"):
            return args[0] if len(args) == 1 else f"{f}({', '.join(args)})"
        if f == "abs":
            return f"abs({args[0]})"
        if f == "count_true":
            return "Decimal(" + " + ".join(f"(1 if {x} else 0)" for x in args) + ")"
        if f == "days":
            return f"days({args[0]}, {args[1]})"
        if f == "coalesce":
            out = "None"
            for x in reversed(args):
                t = src.temp()
                out = f"({t} if ({t} := {x}) is not None else {out})"
            return out
        if f == "round" and a[1].kind == "num":
            quantum = Decimal(1).scaleb(-int(a[1].value))
            return f"{args[0]}.quantize({src.bind(quantum)}, rounding={src.bind(ROUND_HALF_UP)})"
    raise NotImplementedError(k)


def _static_adjustment(lr: lowered.Rule, index: int) -> Adjustment | None:
    """The one adjustment of a rule that depends on no value (a flat amount, constant
    texts, no ``late`` or ``positive`` test), as its generated function makes it; else None."""
    if lr.static is None:
        return None
    conds = lr.applies.parts if lr.applies.kind == "both" else (lr.applies,)
    if any(c.kind != "expr" for c in conds):
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
    conds = lr.applies.parts if lr.applies.kind == "both" else (lr.applies,)
    return next((c.node for c in conds if c.kind == "expr" and c.node is not None), None)


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
    conds = lr.applies.parts if lr.applies.kind == "both" else (lr.applies,)
    when = positive = late = None
    for c in conds:
        if c.kind == "expr" and c.node is not None:
            when = c.node
        elif c.kind == "positive":
            positive = c.amount
        elif c.kind == "late":
            late = (c.dates, c.deadline)
    if when is not None:
        src.line(f"if {_py(src, when, read)}:")
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
            bits.append(str(1 << b) if when is None else f"({1 << b} if {_py(src, when, read)} else 0)")
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
            src.line(f"{res} = {src.bind(outcomes[1])} if {_py(src, _rule_when(rules[0][0]), read)} "
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
    ``_Slow`` / KeyError / ArithmeticError (a division by 0, a number beyond 28 digits) where it cannot decide: the per-item
    path (``RubricPlan._run``) then scores (or names the error)."""
    src = _RuleSource()
    src.ns.update(div=_div, days=_days, Invalid=Invalid, CategoryResult=CategoryResult, ScoreCard=ScoreCard,
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


class RubricPlan:
    """Everything needed to score one submission quickly."""

    def __init__(self, pack: RulePack):
        m = pack.model
        self.pack = pack
        self.info = PackInfo(m.id, m.title, m.version, pack.hash)
        self.deadlines = {d.id: d.date for d in m.deadlines}
        # a derived value is computed when every fact it needs is present; facts
        # that may be blank (blank_allowed) are read as blank (present()/blank())
        self.derived: list[tuple[str, Callable, list[str]]] = [
            (d.id, expr.compile_py(node),
             [f for f in pack.derived_facts[d.id] if not pack.facts[f].blank_allowed])
            for d, node in pack.derived
        ]
        self.derived_reads = {did: list(pack.derived_facts[did]) for did, _, _ in self.derived}
        few = {fid for fid, f in pack.facts.items() if f.type in ("bool", "enum", "date")}
        self.items = [_ItemPlan(li, i, memoise=all(f in few for f in li.inputs))
                      for i, li in enumerate(lowered.lowered(pack))]
        totals = lowered.lowered_totals(pack)
        self.categories = [(name, cap, bonus_only) for name, cap, bonus_only, _ in totals.categories]
        self.grades = list(totals.grades)
        self.eligible_grades = set(totals.eligible_grades) if totals.eligible_grades is not None else None
        self.eligibility_label = totals.eligibility_label
        self.total_max = totals.total_max
        self.started_facts, self.not_started_text = totals.started_facts, totals.not_started_text
        # the pack function is generated on the pack's BUILD_AFTER-th submission:
        # a pack scored once or twice (a CLI run, a test) never pays for it
        self.fast: Callable[[dict], ScoreCard | None] | None = None
        self.uses = 0

    def env(self, values: dict) -> dict:
        env = dict(values)
        env.update(self.deadlines)
        bad = Invalid in map(type, values.values())
        if bad:
            env[_ANY_INVALID] = True
        for did, fn, deps in self.derived:
            if bad and any(env[f].__class__ is Invalid for f in self.derived_reads[did]):
                env[did] = None  # never computed from an invalid value (its items are 有误)
            elif all(env[f] is not None for f in deps):
                try:
                    env[did] = fn(env)
                except ZeroDivisionError:
                    raise FactsError("计算派生值时除数为0", [Problem(did, "派生值的除数为0")]) from None
            else:
                env[did] = None
        return env

    def grade(self, total: Decimal) -> str | None:
        for name, lo in self.grades:
            if lo is None or total >= lo:
                return name
        return None

    def started(self, env: dict) -> bool:
        """Whether any input but the unit fact holds a value (an invalid one counts)."""
        return any(env[f] is not None for f in self.started_facts)

    def build_fast(self) -> Callable[[dict], ScoreCard | None] | None:
        """The pack function, generated now if not yet (None: the pack uses an
        expression the generator does not know, and is scored item by item)."""
        if self.fast is None and self.uses >= 0:
            self.uses = -1  # built (or refused): never again
            try:
                self.fast = _pack_function(self, self.pack)
            except NotImplementedError:
                self.fast = None
        return self.fast

    def run(self, values: dict) -> ScoreCard:
        fast = self.fast
        if fast is None and self.uses >= 0:
            self.uses += 1
            if self.uses >= BUILD_AFTER:
                fast = self.build_fast()
        if fast is not None:
            try:
                card = fast(values)
            except (ArithmeticError, KeyError, _Slow):
                card = None  # the per-item path decides (and names a division by 0)
            if card is not None:
                return card
        return self._run(values)

    def _run(self, values: dict) -> ScoreCard:
        """Item by item over an environment: submissions with an invalid value, not
        started, or that the pack function declines."""
        env = self.env(values)
        if not self.started(env):  # not started: every item 待填 (lowered.Totals)
            return self.card([ip.not_started(env, self.not_started_text) for ip in self.items])
        try:
            items = [ip.result(env) for ip in self.items]
        except ZeroDivisionError:
            for ip in self.items:  # which item divided by 0
                try:
                    ip.run(env)
                except ZeroDivisionError:
                    raise FactsError(f"第{ip.id}项计算时除数为0",
                                     [Problem(f"第{ip.id}项", "表达式中的除数为0，请检查相关数据")]) from None
            raise
        return self.card(items)

    def card(self, items: list[ItemResult]) -> ScoreCard:
        """The score card of scored *items* (pack order): category subtotals, total,
        grade, eligibility, provisional, flags — also for the durable-rules executor."""
        by_cat: dict[str, CategoryResult] = {
            name: CategoryResult(name, ZERO, cap, bonus_only) for name, cap, bonus_only in self.categories
        }
        total = ZERO
        flags: list[str] = []
        provisional = False
        for it in items:
            cat = by_cat[it.category]
            if it.points is None:
                provisional = True
                cat.complete = False
                continue
            cat.points += it.points
            total += it.points
            if it.flags:
                flags += [f"第{it.id}项：{fl}" for fl in it.flags]
        grade = self.grade(total) if self.grades else None
        eligible = None
        if self.eligible_grades is not None:
            eligible = grade in self.eligible_grades
        return ScoreCard(self.info, num.q2(total), self.total_max, grade, eligible,
                         self.eligibility_label, provisional, list(by_cat.values()), items, flags)


def plan_for(pack: RulePack) -> RubricPlan:
    plan = getattr(pack, "_rubric_plan", None)
    if plan is None:
        plan = RubricPlan(pack)
        pack._rubric_plan = plan  # type: ignore[attr-defined]
    return plan
