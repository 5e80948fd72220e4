"""The per-rule code of a rubric plan: one generated function per rule (and the
source-building helpers the pack function shares), from the lowered rules.

Source is built from the lowered form and the checked AST only; every pack value
(text, number, compiled expression) is a bound name, never pasted into the source."""

from decimal import Decimal
from typing import Any, Callable

from ..rules import expr
from ..rules import lowered
from ..rules import wording
from . import num
from .card import Adjustment, ItemResult

ZERO = Decimal(0)
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
        self.exprs: expr.Source | None = None  # the expressions' writer (the pack function), sharing ``ns``

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
    when, positive, late = lr.applies.tests()
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




