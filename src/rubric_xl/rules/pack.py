"""Load a rule pack: YAML → pydantic model → cross-checked, type-checked pack.

The result, :class:`RulePack`, is what every executor consumes (the engine, the
formula compiler, the add-in): the validated model plus the checked AST of every
expression and the facts each item depends on.  Nothing is executed here.
"""
from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ExpressionError, PackError, Problem, ProblemList
from .expr import BOOL, DATE, NUMBER, TEXT, Node, Symbol, check, compile_py, parse
from .model import (
    PACK_PLACES, Derived, Fact, FlatRule, Item, LateRule, Pack, PerUnitRule, StepRule, number_problem,
)
from .yamlsrc import Located, load_file, load_text

TYPE_OF = {"bool": BOOL, "int": NUMBER, "decimal": NUMBER, "percent": NUMBER,
           "date": DATE, "enum": TEXT, "text": TEXT}

PLACEHOLDERS = {
    "zero": {"reason"},
    "flat": {"reason", "amount", "points"},
    "per_unit": {"reason", "amount", "points", "count", "unit"},
    "step": {"reason", "amount", "points", "value", "threshold", "shortfall", "excess",
             "steps", "step", "unit"},
    "late": {"reason", "amount", "points", "date", "deadline"},
}


@dataclass
class CheckedRule:
    rule: Any  # FlatRule | PerUnitRule | StepRule | LateRule
    role: str  # "deduction" | "bonus"
    nodes: dict[str, Node]  # "when" / "count" / "value" → checked AST
    deadline: Any = None  # model.Deadline for late rules


@dataclass
class CheckedItem:
    item: Item
    zero_if: list[tuple[Node, Any]]
    rules: list[CheckedRule]
    facts: list[str]  # every fact the item reads (derived values expanded), in pack order
    required: list[str]  # those that must not be blank for the item to be scorable

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def bonus_cap(self) -> Decimal | None:
        """Most the bonuses can add; ``None`` when any bonus is uncapped."""
        total = Decimal(0)
        for r in self.rules:
            if r.role == "bonus":
                if r.rule.cap is None:
                    return None
                total += r.rule.cap
        return total


@dataclass
class CheckedLedger:
    derived: list[tuple[Derived, Node]]
    statuses: list[tuple[str, Node]]
    checks: list[tuple[Any, Node]]
    metrics: list[tuple[Any, Node | None]]  # (metric, its row condition / row value / expr)
    model: Any = None  # model.Ledger
    path: tuple = ("ledger",)  # where it is in the pack (ledger / ledgers[i])
    decisions: list[tuple[Any, list[tuple[str, Node]]]] = field(default_factory=list)
    wheres: dict[str, Node] = field(default_factory=dict)  # sum metrics: their row condition
    metric_types: dict[str, tuple[str, bool]] = field(default_factory=dict)  # id → (type, may be blank)


@dataclass
class RulePack:
    model: Pack
    source: str
    hash: str
    facts: dict[str, Fact]
    derived: list[tuple[Derived, Node]]
    derived_facts: dict[str, list[str]]
    items: list[CheckedItem] = field(default_factory=list)
    ledger: CheckedLedger | None = None  # the first of ``ledgers``
    ledgers: list[CheckedLedger] = field(default_factory=list)
    parameters: dict[str, Decimal] = field(default_factory=dict)
    checks: list[tuple[Any, Node]] = field(default_factory=list)  # (model.SubmissionCheck, condition)

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def short_hash(self) -> str:
        return self.hash[:12]

    def fact(self, fid: str) -> Fact:
        return self.facts[fid]

    def deadline(self, did: str):
        return next(d for d in self.model.deadlines if d.id == did)

    def item(self, iid: str) -> CheckedItem:
        return next(i for i in self.items if i.id == iid)


def _canonical(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_canonical(v) for v in obj]
    if isinstance(obj, Decimal):
        return str(obj.normalize()) if obj == obj.to_integral_value() else str(obj)
    if isinstance(obj, (int, str, bool)) or obj is None:
        return obj
    return str(obj)


def content_hash(data: Any) -> str:
    """SHA-256 of the pack's data in canonical JSON: comments, key order and
    layout do not change it; any change of meaning does."""
    text = json.dumps(_canonical(data), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_pack(path: str | Path) -> RulePack:
    """Load, validate and check a pack file.  Raises :class:`PackError`."""
    try:
        located = load_file(path)
    except PackError:
        raise
    except Exception as exc:  # InputFileError
        if hasattr(exc, "problems"):
            raise PackError(f"无法读取规则包 {path}", exc.problems) from None
        raise
    return build_pack(located)


def load_pack_text(text: str, source: str = "<pack>") -> RulePack:
    try:
        located = load_text(text, source)
    except Exception as exc:
        if hasattr(exc, "problems"):
            raise PackError(f"无法读取规则包 {source}", exc.problems) from None
        raise
    return build_pack(located)


_PYD_MSG = {
    "missing": "缺少必填字段",
    "extra_forbidden": "未知字段（拼写错误？）",
    "string_type": "应为文字",
    "decimal_type": "应为数值",
    "decimal_parsing": "应为数值",
    "finite_number": "应为有限的数值（不能是 NaN 或无穷大）",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_parsing": "应为 true/false",
    "date_parsing": "应为日期 YYYY-MM-DD",
    "greater_than_equal": "数值太小",
    "greater_than": "数值太小",
    "int_type": "应为整数",
    "bool_type": "应为 true/false",
    "list_type": "应为列表",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "date_type": "应为日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "literal_error": "取值不在允许范围内",
    "string_pattern_mismatch": "格式不符",
    "union_tag_invalid": "kind 取值无效",
    "union_tag_not_found": "缺少 kind 字段",
    "too_short": "不能为空",
    "decimal_max_places": "最多两位小数",
}


_TAGS = ("FlatRule", "PerUnitRule", "StepRule", "LateRule", "flat", "per_unit", "step", "late")


def _data_path(loc: tuple) -> tuple:
    return tuple(p for i, p in enumerate(loc)
                 if not (isinstance(p, str) and p in _TAGS and i >= 2 and isinstance(loc[i - 1], int)
                         and loc[i - 2] in ("deductions", "bonuses")))


def _pyd_problems(exc: ValidationError, located: Located) -> list[Problem]:
    out = []
    for err in exc.errors():
        # pydantic reports union members by tag (items[0].deductions[1].step.threshold);
        # keep the data path only — a rule's own ``step`` field stays
        loc = _data_path(err["loc"])
        msg = _PYD_MSG.get(err["type"])
        detail = err.get("msg", "")
        if err["type"] == "value_error":
            detail = detail.removeprefix("Value error, ")
            msg = detail
        elif msg is None:
            msg = detail
        elif err["type"] in ("literal_error", "string_pattern_mismatch", "greater_than_equal",
                             "greater_than", "union_tag_invalid"):
            msg = f"{msg}（{detail}）"
        out.append(Problem(located.where(loc), msg))
    return out


def build_pack(located: Located) -> RulePack:
    data = located.data
    if not isinstance(data, dict):
        raise PackError(f"规则包格式错误：{located.source}",
                        [Problem(located.source, "顶层应为映射（id、title、facts、items …）")])
    try:
        model = Pack.model_validate(data)
    except ValidationError as exc:
        raise PackError(f"规则包校验失败：{located.source}", _pyd_problems(exc, located)) from None
    problems = ProblemList()
    _control_characters(located, data, (), problems)
    pack = _Checker(model, located, problems).run()
    if problems.errors:
        raise PackError(f"规则包校验失败：{located.source}", problems.errors)
    return pack


_CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}


def _control_characters(located: Located, data: Any, path: tuple, problems: ProblemList) -> None:
    """Pack text with a control character (a vertical tab pasted from Word) is
    an error naming where it is: it could not be written to a workbook."""
    stack = [(path, data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((path + (i,), v) for i, v in enumerate(value))
        elif isinstance(value, str) and not _CONTROL.isdisjoint(value):
            found = sorted({f"U+{ord(ch):04X}" for ch in value if ch in _CONTROL})
            problems.add(located.where(path), f"文字中含有控制字符 {'、'.join(found)}（如从 Word 粘贴的换行符），请删除")


def _format_error(exc: ValueError) -> str:
    text = str(exc)
    if "'}'" in text or "'{'" in text:
        return "大括号不成对（文字中的 { 或 } 请写作 {{ 或 }}）"
    return text


def _constant(node: Node) -> bool:
    return not node.names()


def _division_by_zero(node: Node) -> bool:
    """A ``/`` whose divisor is a constant equal to 0 (``a / 0``, ``a / (1 - 1)``)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n.kind == "arith" and n.value == "/" and _constant(n.args[1]):
            try:
                if compile_py(n.args[1])({}) == 0:
                    return True
            except (ArithmeticError, ZeroDivisionError):
                return True
        stack.extend(n.args)
    return False


def _bad_numbers(node: Node) -> list[str]:
    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.kind == "num":
            why = number_problem(n.value, PACK_PLACES)
            if why:
                text = str(n.value)
                out.append(f"数值 {text if len(text) <= 24 else text[:20] + '…'} {why}")
        stack.extend(n.args)
    return out


def _fold(node: Node, params: dict[str, Decimal]) -> Node:
    """*node* with every parameter name replaced by its value (a constant):
    no executor needs to know parameters."""
    if node.kind == "name" and node.value in params:
        return Node("num", params[node.value], type=NUMBER)
    if not node.args:
        return node
    return Node(node.kind, node.value, tuple(_fold(a, params) for a in node.args), node.type, node.nullable)


RESERVED_ROW_NAMES = ("status", "errors", "warnings")  # result columns of every ledger row


class _Checker:
    def __init__(self, model: Pack, located: Located, problems: ProblemList):
        self.m = model
        self.loc = located
        self.p = problems
        self.params: dict[str, Decimal] = {}

    def err(self, path: tuple, msg: str) -> None:
        self.p.add(self.loc.where(path), msg)

    def expr(self, path: tuple, text: str, symbols: dict, want: str | None, what: str = "") -> Node | None:
        """*text* checked against *symbols*; *what* leads each error (e.g. 报送检查“late_report”：)."""
        shown = text if len(text) <= 80 else text[:80] + "…"
        try:
            node = check(text, symbols, want)
        except ExpressionError as exc:
            where = f"（位置 {exc.pos + 1}）" if exc.pos is not None else ""
            self.err(path, f"{what}表达式 {shown!r} 有误{where}：{exc.message}")
            return None
        bad = _bad_numbers(node)
        for why in bad:
            self.err(path, f"{what}表达式 {shown!r} 有误：{why}")
        if self.params and not self.params.keys().isdisjoint(node.names()):
            node = _fold(node, self.params)
        if _division_by_zero(node):
            self.err(path, f"{what}表达式 {shown!r} 有误：除数为 0，评分时无法计算")
            bad.append("/0")
        return None if bad else node

    def run(self) -> RulePack:
        m = self.m
        facts: dict[str, Fact] = {}
        for i, f in enumerate(m.facts):
            if f.id in facts:
                self.err(("facts", i, "id"), f"事实 id {f.id!r} 重复")
            facts[f.id] = f
            if f.type == "table":
                seen = set()
                for j, c in enumerate(f.columns or []):
                    if c.id in seen:
                        self.err(("facts", i, "columns", j, "id"), f"列 id {c.id!r} 重复")
                    seen.add(c.id)
        symbols: dict[str, Symbol] = {}
        for f in m.facts:
            if f.type != "table":
                symbols[f.id] = Symbol(TYPE_OF[f.type], f.blank_allowed,
                                         tuple(f.options) if f.options else None)
        for i, d in enumerate(m.deadlines):
            if d.id in symbols:
                self.err(("deadlines", i, "id"), f"名称 {d.id!r} 与事实或其他期限重复")
            symbols[d.id] = Symbol(DATE)
        for i, prm in enumerate(m.settings.parameters):
            if prm.id in symbols or prm.id in facts:
                self.err(("settings", "parameters", i, "id"), f"参数 {prm.id!r} 与事实、期限或其他参数重名")
                continue
            symbols[prm.id] = Symbol(NUMBER)
            self.params[prm.id] = prm.value
        derived: list[tuple[Derived, Node]] = []
        derived_facts: dict[str, list[str]] = {}
        for i, d in enumerate(m.derived):
            if d.id in symbols:
                self.err(("derived", i, "id"), f"名称 {d.id!r} 与事实、期限或其他派生值重复")
                continue
            node = self.expr(("derived", i, "expr"), d.expr, symbols, None)
            if node is None:
                continue
            symbols[d.id] = Symbol(node.type, node.nullable)
            derived.append((d, node))
            deps: set[str] = set()
            for n in node.names():
                deps.update(derived_facts.get(n, [n] if n in facts else []))
            derived_facts[d.id] = [f.id for f in m.facts if f.id in deps]
        pack = RulePack(model=m, source=self.loc.source, hash=content_hash(self.loc.data),
                        facts=facts, derived=derived, derived_facts=derived_facts,
                        parameters=dict(self.params))
        self.categories()
        self.grades()
        seen_items: set[str] = set()
        for i, item in enumerate(m.items):
            if item.id in seen_items:
                self.err(("items", i, "id"), f"评分项编号 {item.id!r} 重复")
            seen_items.add(item.id)
            checked = self.item(i, item, symbols, pack)
            if checked:
                pack.items.append(checked)
        several = bool(isinstance(self.loc.data, dict) and self.loc.data.get("ledgers"))
        tables: set[str] = set()
        for i, led in enumerate(m.ledgers):
            path = ("ledgers", i) if several else ("ledger",)
            if led.table in tables:
                self.err(path + ("table",), f"表格 {led.table!r} 已有台账规则（每张表格只能写一个台账部分）")
                continue
            tables.add(led.table)
            checked = self.ledger(led, path, symbols, facts)
            if checked is not None:
                pack.ledgers.append(checked)
        if pack.ledgers and len(pack.ledgers) == len(m.ledgers):
            pack.ledger = pack.ledgers[0]
        pack.checks = self.submission_checks(symbols, facts)
        return pack

    def submission_checks(self, symbols: dict, facts: dict[str, Fact]) -> list[tuple[Any, Node]]:
        """The top-level ``checks:`` of a ledger pack: yes/no over top-level names
        only (facts, derived values, deadlines, parameters) — never a table column."""
        out = []
        seen: set[str] = set()
        columns = {c.id: f for f in facts.values() if f.type == "table" for c in f.columns or []}
        for i, c in enumerate(self.m.checks):
            path = ("checks", i)
            what = f"报送检查“{c.id}”："
            if c.id in seen:
                self.err(path + ("id",), f"{what}id 重复（每项报送检查的 id 应不同）")
                continue
            seen.add(c.id)
            try:
                names = parse(c.when).names()
            except ExpressionError:
                names = ()  # check() below words the syntax error
            inner = sorted(n for n in names if n in columns or (n in facts and facts[n].type == "table"))
            if inner:
                n = inner[0]
                table = columns[n].label if n in columns else facts[n].label
                self.err(path + ("when",), f"{what}{n!r} 是表格“{table}”中的{'列' if n in columns else '表格'}，"
                         "报送检查只能读顶层事实、派生值、期限和参数（逐行的检查请写在该表格台账的 checks 中）")
                continue
            node = self.expr(path + ("when",), c.when, symbols, BOOL, what)
            if node is not None:
                out.append((c, node))
        return out

    def categories(self) -> None:
        m = self.m
        names = [c.name for c in m.categories]
        if len(set(names)) != len(names):
            self.err(("categories",), "类别名称重复")
        sums: dict[str, Decimal] = {n: Decimal(0) for n in names}
        for i, item in enumerate(m.items):
            if item.category not in sums:
                self.err(("items", i, "category"),
                         f"类别 {item.category!r} 未在 categories 中定义（已定义：{'、'.join(names)}）")
            else:
                sums[item.category] += item.max
        for j, c in enumerate(m.categories):
            if c.name in sums and sums[c.name] != c.cap:
                self.err(("categories", j, "cap"),
                         f"类别“{c.name}”声明分值 {c.cap}，但其评分项分值合计为 {sums[c.name]}")
        if m.total is not None and m.categories:
            declared = sum((c.cap for c in m.categories), Decimal(0))
            if declared != m.total:
                self.err(("total",), f"总分声明为 {m.total}，但各类别分值合计为 {declared}")

    def grades(self) -> None:
        grades = self.m.settings.grades
        mins = [g.min for g in grades]
        for i in range(len(grades) - 1):
            a, b = mins[i], mins[i + 1]
            if a is None or (b is not None and b >= a):
                self.err(("settings", "grades", i + 1, "min"), "等次必须按分数线从高到低排列，且只有最后一档可以不设下限")
        if grades and mins[-1] is not None:
            self.err(("settings", "grades", len(grades) - 1, "min"), "最后一档等次应不设下限（min 留空），以覆盖所有分数")
        el = self.m.settings.eligibility
        if el:
            names = {g.name for g in grades}
            for j, g in enumerate(el.grades):
                if g not in names:
                    self.err(("settings", "eligibility", "grades", j), f"等次 {g!r} 未在 grades 中定义")

    def template(self, path: tuple, text: str | None, kind: str) -> None:
        if text is None:
            return
        allowed = PLACEHOLDERS[kind]
        try:
            parts = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(text) if f is not None]
        except ValueError as exc:
            self.err(path, f"说明模板格式错误：{_format_error(exc)}")
            return
        for f, spec, conv in parts:
            if spec or conv:
                shown = f"{{{f}{'!' + conv if conv else ''}{':' + spec if spec else ''}}}"
                self.err(path, f"说明模板中的 {shown[:40]} 不能带格式说明（:…）或转换（!…）："
                               f"占位符会替换为已排好格式的文字，请写作 {{{f}}}")
                continue
            if f not in allowed:
                self.err(path, f"说明模板中的 {{{f}}} 不可用（可用：{'、'.join(sorted(allowed))}）")

    def item(self, i: int, item: Item, symbols: dict, pack: RulePack) -> CheckedItem | None:  # noqa: C901
        base = ("items", i)
        names: set[str] = set()
        ok = True

        def x(path: tuple, text: str, want: str) -> Node | None:
            nonlocal ok
            node = self.expr(base + path, text, symbols, want)
            if node is None:
                ok = False
            else:
                names.update(node.names())
            return node

        zero_if = []
        for j, z in enumerate(item.zero_if):
            node = x(("zero_if", j, "when"), z.when, BOOL)
            zero_if.append((node, z))
            self.template(base + ("zero_if", j, "reason"), z.reason, "zero")
        rules: list[CheckedRule] = []
        for role, lst in (("deduction", item.deductions), ("bonus", item.bonuses)):
            key = "deductions" if role == "deduction" else "bonuses"
            for j, r in enumerate(lst):
                path = (key, j)
                nodes: dict[str, Node] = {}
                deadline = None
                if isinstance(r, FlatRule):
                    nodes["when"] = x(path + ("when",), r.when, BOOL)
                elif isinstance(r, PerUnitRule):
                    nodes["count"] = x(path + ("count",), r.count, NUMBER)
                    if r.when:
                        nodes["when"] = x(path + ("when",), r.when, BOOL)
                elif isinstance(r, StepRule):
                    nodes["value"] = x(path + ("value",), r.value, NUMBER)
                elif isinstance(r, LateRule):
                    for k, d in enumerate(r.dates):
                        f = pack.facts.get(d)
                        if f is None or f.type != "date":
                            self.err(base + path + ("dates", k), f"{d!r} 不是本规则包中的日期事实")
                            ok = False
                        else:
                            names.add(d)
                    deadline = next((dl for dl in self.m.deadlines if dl.id == r.deadline), None)
                    if deadline is None:
                        self.err(base + path + ("deadline",), f"期限 {r.deadline!r} 未在 deadlines 中定义")
                        ok = False
                for part in ("count", "value"):
                    node = nodes.get(part)
                    if node is not None and node.nullable:
                        self.err(base + path + (part,), f"{part} 可能为空（依赖可留空的输入），无法计分；"
                                 "请改用不可留空的事实，或在 zero_if 中先处理空值")
                        ok = False
                self.template(base + path + ("explain",), r.explain, r.kind)
                rules.append(CheckedRule(r, role, nodes, deadline))
        if item.tiers:
            f = pack.facts.get(item.tiers.value)
            if f is None or f.type != "enum":
                self.err(base + ("tiers", "value"), f"{item.tiers.value!r} 不是本规则包中的枚举事实")
                ok = False
            else:
                names.add(f.id)
                if set(item.tiers.points) != set(f.options or []):
                    self.err(base + ("tiers", "points"),
                             f"tiers 必须为 {f.id} 的每个可选值给分：{'、'.join(f.options or [])}")
                    ok = False
        if not ok:
            return None
        deps: set[str] = set()
        for n in names:
            if n in pack.derived_facts:
                deps.update(pack.derived_facts[n])
            elif n in pack.facts:
                deps.add(n)
        ordered = [f.id for f in self.m.facts if f.id in deps]
        if not ordered:
            self.err(base, "评分项没有用到任何事实，无法评分")
            return None
        required = [fid for fid in ordered if not pack.facts[fid].blank_allowed]
        return CheckedItem(item, zero_if, rules, ordered, required)

    def ledger(self, led, base: tuple, symbols: dict, facts: dict[str, Fact]) -> CheckedLedger | None:  # noqa: C901
        table = facts.get(led.table)
        if table is None or table.type != "table":
            self.err(base + ("table",), f"{led.table!r} 不是本规则包中的表格事实")
            return None
        row_syms = dict(symbols)
        cols = {c.id: c for c in table.columns or []}
        for c in table.columns or []:
            if c.id in row_syms or c.id in RESERVED_ROW_NAMES:
                self.err(base + ("table",), f"列 {c.id!r} 与顶层事实、期限、参数或行结果（status 等）重名")
            # A required cell left blank is a row error, but the row is still
            # evaluated (its status and roll-ups), so any column without a default
            # may be blank when an expression reads it.
            nullable = c.blank_allowed or c.default is None
            row_syms[c.id] = Symbol(TYPE_OF[c.type], nullable, tuple(c.options) if c.options else None)
        if led.key not in cols:
            self.err(base + ("key",), f"key {led.key!r} 不是表格 {led.table} 的列")

        def fresh(path: tuple, name: str) -> bool:
            if name in row_syms or name in RESERVED_ROW_NAMES:
                self.err(path, f"名称 {name!r} 重复（与列、顶层事实、参数、派生值、决策或 status 等重名）")
                return False
            return True

        derived = []
        for i, d in enumerate(led.derived):
            if not fresh(base + ("derived", i, "id"), d.id):
                continue
            node = self.expr(base + ("derived", i, "expr"), d.expr, row_syms, None)
            if node is not None:
                row_syms[d.id] = Symbol(node.type, node.nullable)
                derived.append((d, node))
        decisions = []
        for i, dc in enumerate(led.decisions):
            if not fresh(base + ("decisions", i, "id"), dc.id):
                continue
            rules = []
            for j, r in enumerate(dc.rules):
                node = self.expr(base + ("decisions", i, "rules", j, "when"), r.when, row_syms, BOOL)
                if node is not None:
                    rules.append((r.value, node))
            last = dc.rules[-1].when.strip()
            if last != "true":
                self.err(base + ("decisions", i, "rules", len(dc.rules) - 1, "when"),
                         f"决策“{dc.label}”的最后一条规则必须是 \"true\"（其余情形都不满足时的取值），实际为 {last[:40]!r}")
            options = tuple(dict.fromkeys(r.value for r in dc.rules))
            row_syms[dc.id] = Symbol(TEXT, False, options)
            if len(rules) == len(dc.rules):
                decisions.append((dc, rules))
        statuses = []
        for i, s in enumerate(led.statuses):
            node = self.expr(base + ("statuses", i, "when"), s.when, row_syms, BOOL)
            if node is not None:
                statuses.append((s.name, node))
        row_syms["status"] = Symbol(TEXT, False, tuple(s.name for s in led.statuses))
        checks = []
        for i, c in enumerate(led.checks):
            node = self.expr(base + ("checks", i, "when"), c.when, row_syms, BOOL)
            for j, col in enumerate(c.columns):
                if col not in cols:
                    self.err(base + ("checks", i, "columns", j), f"{col!r} 不是表格 {led.table} 的列")
            if node is not None:
                checks.append((c, node))
        metrics = []
        wheres: dict[str, Node] = {}
        kinds: dict[str, str] = {}
        types: dict[str, tuple[str, bool]] = {}
        metric_syms = dict(symbols)  # expr metrics: top-level names and earlier metrics
        for i, mt in enumerate(led.metrics):
            path = base + ("metrics", i)
            if mt.id in kinds or mt.id in symbols:
                self.err(path + ("id",), f"指标 {mt.id!r} 重复（与其他指标或顶层事实、参数重名）")
                continue
            node = None
            if mt.kind in ("count", "all", "none") and mt.where:
                node = self.expr(path + ("where",), mt.where, row_syms, BOOL)
            elif mt.kind == "sum":
                node = self.expr(path + ("value",), mt.value, row_syms, NUMBER)
                if node is not None and node.nullable:
                    self.err(path + ("value",), "求和的值可能为空（依赖可留空的列）：请用 coalesce(…, 0) 给出空白时的值")
                if mt.where:
                    w = self.expr(path + ("where",), mt.where, row_syms, BOOL)
                    if w is not None:
                        wheres[mt.id] = w
            elif mt.kind == "rate":
                for part in ("numerator", "denominator"):
                    ref = getattr(mt, part)
                    # a denominator may also be a number expr metric (e.g. a top-level total: units_total)
                    if not (kinds.get(ref) in ("count", "sum") or (part == "denominator" and kinds.get(ref) == "facts_sum")
                            or (part == "denominator" and kinds.get(ref) == "expr"
                                and types.get(ref, ("",))[0] == NUMBER)):
                        self.err(path + (part,), f"比率引用的指标 {ref!r} 必须是在它之前定义的计数（count）或求和（sum）指标"
                                                 + ("（分母也可以是数值型的 expr 指标）" if part == "denominator" else ""))
            elif mt.kind == "expr":
                node = self.expr(path + ("expr",), mt.expr, metric_syms, None)
            elif mt.kind == "facts_sum":  # a top-level number fact, summed once per submission
                fid = str(mt.value).strip()
                f = facts.get(fid)
                if f is None or f.type not in ("int", "decimal"):
                    self.err(path + ("value",), f"{fid!r} 应为顶层的数值事实（int 或 decimal）的 id")
            if mt.kind in ("count", "sum"):
                typ = (NUMBER, False)
            elif mt.kind == "facts_sum":  # blank when a submission of the line left it blank
                typ = (NUMBER, True)
            elif mt.kind == "rate":
                typ = (NUMBER, True)
            elif mt.kind == "expr":
                # blank when any operand is blank (a rate not computed, a blank fact)
                typ = (node.type, any(metric_syms[n].nullable or types.get(n, (0, False))[1]
                                      for n in node.names())) if node is not None else None
            else:
                typ = (BOOL, False)
            kinds[mt.id] = mt.kind
            if typ is not None:
                types[mt.id] = typ
                metric_syms[mt.id] = Symbol(typ[0], False)
            metrics.append((mt, node))
        decision_ids = {dc.id: dc for dc, _ in decisions}
        for i, g in enumerate(led.groupings):
            path = base + ("groupings", i)
            top = g.by is not None and g.by in facts and facts[g.by].type != "table"
            if g.by is not None and g.by not in cols and g.by not in decision_ids and g.by != "status" and not top:
                self.err(path + ("by",), f"{g.by!r} 既不是表格的列、决策、status，也不是顶层事实")
                continue
            if g.all_options:
                enum = g.by in decision_ids or g.by == "status" or (g.by in cols and cols[g.by].type == "enum")
                if not enum:
                    self.err(path + ("all_options",), "all_options 只适用于按枚举列、决策或 status 分组")
            if g.empty_label is not None and not g.all_options:
                self.err(path + ("empty_label",), "empty_label 只在 all_options: true 时有意义（列出没有行的分组）")
            for j, rk in enumerate(g.rank):
                if not top:
                    self.err(path + ("rank",), "rank 只适用于按顶层事实（如填报单位）分组：在多份填报的合并汇总中排名")
                    break
                if types.get(rk.metric, (None,))[0] != NUMBER:
                    self.err(path + ("rank", j, "metric"), f"排名依据 {rk.metric!r} 应为本台账中的数值指标")
            if g.flag is not None and types.get(g.flag, (None,))[0] != BOOL:
                self.err(path + ("flag",), f"flag {g.flag!r} 应为本台账中的是/否指标（all、none 或结果为是/否的 expr）")
        return CheckedLedger(derived, statuses, checks, metrics, led, base, decisions, wheres, types)
