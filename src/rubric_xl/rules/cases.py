"""Example cases of a rule pack: facts in, expected results out.

``rubric-xl rules test PACK`` loads ``rules/cases/<pack stem>.yaml`` (see
:func:`cases_path`) and checks it against the pack (:func:`load_cases`);
``rubric_xl.caserun.run_cases`` scores every case (the engine is a layer above
this one).  A case file::

    pack: shanxi-2005                 # the pack id
    base: {fact: value, ...}          # optional; merged under every case's facts
    cases:
      - name: 第10项 少报2期扣1分
        facts: {weekly_reports_count: 18}    # null makes a fact blank
        expect:
          items:
            "10": 2.00                       # shorthand: points
            "11": {points: 0, zeroed: true, flags: [通报批评], explain: 少报2期}
            "12": incomplete                 # shorthand: status incomplete
          categories: {信息报送: 24}
          total: 98.5
          grade: 优秀
          eligible: true
          provisional: false
          flags: ["第29项：通报批评"]
      - name: 百分比写成文字应报错
        facts: {complaint_handling_rate: "n/a"}
        expect: {error: complaint_handling_rate}   # an error whose text contains this

Ledger packs expect rows and roll-ups instead::

        expect:
          rows:
            - {row: 1, status: 已销号, errors: [check_id], warnings: []}
          rollups:
            reporting_body:                  # a grouping's ``by`` (``overall`` when by is null)
              忻府区: {listed: 3, completion_rate: 66.67, cleared: false}
              _total: {listed: 3}            # the all-groups line

A pack with several tables (``ledgers:``) states them per table (the first
table may also use ``rows`` / ``rollups`` above); a row may compare its derived
values and decisions::

        expect:
          tables:
            cases:                           # a table fact id
              rows:
                - {row: 1, values: {penalty_advice: 严查重处, blacklist: true}}
              rollups: {reporting_body: {潞州区: {cases: 1}}}

The pack's checks of the whole submission (top-level ``checks:``) that fire,
compared as a set (``[]``: none fires)::

        expect: {checks: [late_report]}

``keep_invalid: true`` on a case reads its facts as a workbook is read: a value
that breaks the input contract is kept, its row (or item) is 有误, instead of the
whole case being an error (an item then expects ``{status: invalid}``)::

      - name: 入账日期写成文字 该行有误
        keep_invalid: true
        facts: {enterprises: [{enterprise_name: 甲厂, listed_date: 三月}]}
        expect: {rows: [{row: 1, status: 有误, errors: [invalid]}]}

A ledger pack's file may also hold ``combined:`` cases: several submissions
(each merged over ``base``) rolled up together as the auditor and the campaign
report do for a city or the province, with the roll-ups, the ranks of a grouping
with ``rank`` and the groups each reporting body has flagged (a grouping's
``flag``)::

    combined:
      - name: 完成率相同，逾期未完成少者在前
        submissions:
          - {reporting_body: 太原市, report_date: 2019-08-31, tasks: [...]}
          - {reporting_body: 大同市, report_date: 2019-08-31, tasks: [...]}
        expect:
          rollups: {reporting_body: {太原市: {completion_rate: 50}}}
          ranks: {reporting_body: {太原市: 1, 大同市: 2}}     # null: not ranked
          flagged: {category: {太原市: [督察反馈问题], 大同市: []}}
          tables: {cases: {rollups: {...}}}                 # further tables, as above

Only what a case states is compared, by ``rubric_xl.caserun``; expected numbers
have at most two decimals (actual values are quantized to 0.01).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator

from ..errors import PackError, Problem, ProblemList, RubricError
from .expr import BOOL
from .pack import RulePack, _pyd_problems
from .wording import INVALID
from .yamlsrc import Located, load_file

TOTAL_KEY = "_total"
OVERALL = "overall"
CENT = Decimal("0.01")

Num2 = Annotated[Decimal, Field(max_digits=14, decimal_places=2, allow_inf_nan=False)]
Text = Annotated[str, Field(min_length=1)]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ItemExpect(_M):
    points: Optional[Num2] = None
    status: Optional[Literal["scored", "incomplete", "invalid"]] = None  # invalid: 有误 (keep_invalid cases)
    zeroed: Optional[StrictBool] = None
    flags: Optional[list[str]] = None
    explain: Optional[Text] = None  # a substring of the item's explanation
    missing: Optional[list[str]] = None  # fact ids, compared as a set

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("应为分数、incomplete 或映射（points/status/zeroed/flags/explain/missing）")
        if isinstance(v, (int, Decimal)):
            return {"points": v}
        if isinstance(v, str):
            if v.strip() == "incomplete":
                return {"status": "incomplete"}
            raise ValueError(f"应为分数、incomplete 或映射，实际为 {v!r}")
        return v

    @model_validator(mode="after")
    def _sense(self) -> "ItemExpect":
        if all(getattr(self, f) is None for f in type(self).model_fields):
            raise ValueError("没有写出任何期望")
        if self.status == "incomplete" and (self.points is not None or self.zeroed):
            raise ValueError("待填（incomplete）的评分项没有得分，不能同时期望 points 或 zeroed")
        if self.status == "invalid" and (self.points is not None or self.zeroed):
            raise ValueError("有误（invalid）的评分项没有得分，不能同时期望 points 或 zeroed")
        return self


class RowExpect(_M):
    row: Annotated[int, Field(ge=1)]
    key: Optional[str] = None
    status: Optional[str] = None
    errors: Optional[list[str]] = None
    warnings: Optional[list[str]] = None
    values: dict[str, Any] = {}  # derived value or decision id -> expected value


def _rollup_keys(v: Any) -> Any:
    if isinstance(v, dict) and isinstance(v.get("rollups"), dict):
        v = dict(v)
        v["rollups"] = {str(g): {str(k): x for k, x in grp.items()} if isinstance(grp, dict) else grp
                        for g, grp in v["rollups"].items()}
    return v


class TableExpect(_M):
    """What one table of a several-table ledger pack must give."""

    rows: list[RowExpect] = []
    rollups: dict[str, dict[str, dict[str, Any]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _keys_as_text(cls, v: Any) -> Any:
        return _rollup_keys(v)


class Expect(_M):
    error: Optional[Text] = None
    # rubric packs
    items: dict[str, ItemExpect] = {}
    categories: dict[str, Num2] = {}
    total: Optional[Num2] = None
    grade: Optional[str] = None
    eligible: Optional[StrictBool] = None
    provisional: Optional[StrictBool] = None
    flags: Optional[list[str]] = None
    # ledger packs
    rows: list[RowExpect] = []
    rollups: dict[str, dict[str, dict[str, Any]]] = {}
    tables: dict[str, TableExpect] = {}  # several-table packs: table fact id -> expectations
    checks: Optional[list[str]] = None  # the pack's submission checks (top-level checks:) that fire, a set

    @model_validator(mode="before")
    @classmethod
    def _keys_as_text(cls, v: Any) -> Any:
        if isinstance(v, dict):
            v = dict(v)
            for k in ("items", "categories", "rollups"):
                if isinstance(v.get(k), dict):
                    v[k] = {str(key): val for key, val in v[k].items()}
            v = _rollup_keys(v)
        return v

    def per_table(self, first: str) -> dict[str, TableExpect]:
        """Table fact id -> expectations (``rows`` / ``rollups`` belong to the *first* table)."""
        out = dict(self.tables)
        if self.rows or self.rollups:
            out[first] = TableExpect(rows=[*self.rows, *(out[first].rows if first in out else [])],
                                     rollups={**(out[first].rollups if first in out else {}), **self.rollups})
        return out

    def rubric_fields(self) -> list[str]:
        return [f for f in ("items", "categories", "total", "grade", "eligible", "provisional", "flags")
                if getattr(self, f) not in (None, {}, [])]

    def ledger_fields(self) -> list[str]:
        return [f for f in ("rows", "rollups", "tables") if getattr(self, f)] + \
            (["checks"] if self.checks is not None else [])


class CombinedTable(_M):
    """What one table of a combined roll-up must give."""

    rollups: dict[str, dict[str, dict[str, Any]]] = {}
    ranks: dict[str, dict[str, Optional[Annotated[int, Field(ge=1)]]]] = {}  # grouping -> key -> rank
    flagged: dict[str, dict[str, list[str]]] = {}  # grouping -> reporting body -> its flagged groups

    @model_validator(mode="before")
    @classmethod
    def _keys_as_text(cls, v: Any) -> Any:
        v = _rollup_keys(v)
        if isinstance(v, dict):
            for k in ("ranks", "flagged"):
                if isinstance(v.get(k), dict):
                    v = {**v, k: {str(g): {str(key): x for key, x in grp.items()} if isinstance(grp, dict) else grp
                                  for g, grp in v[k].items()}}
        return v

    def stated(self) -> bool:
        return bool(self.rollups or self.ranks or self.flagged)


class CombinedExpect(CombinedTable):
    tables: dict[str, CombinedTable] = {}  # further tables: table fact id -> expectations

    def per_table(self, first: str) -> dict[str, CombinedTable]:
        out = dict(self.tables)
        if CombinedTable.stated(self):
            out[first] = CombinedTable(rollups=self.rollups, ranks=self.ranks, flagged=self.flagged)
        return out


class _CombinedModel(_M):
    name: Text
    submissions: list[dict[str, Any]] = Field(min_length=2)
    expect: CombinedExpect


class _CaseModel(_M):
    name: Text
    facts: dict[str, Any] = {}
    expect: Expect
    keep_invalid: StrictBool = False  # read as a workbook is: a bad value makes its item / row 有误


class _FileModel(_M):
    pack: Text
    base: dict[str, Any] = {}
    cases: list[_CaseModel] = Field(min_length=1)
    combined: list[_CombinedModel] = []  # ledger packs: several submissions rolled up together


@dataclass(frozen=True)
class Case:
    """One example: the submission (base merged under the case's own facts) and
    what scoring it must give."""

    name: str
    facts: dict[str, Any]
    expect: Expect
    loc: str = ""  # "file:line" of the case
    keep_invalid: bool = False  # a value breaking the input contract is kept (有误), as read from a workbook


@dataclass(frozen=True)
class CombinedCase:
    """Several submissions (base merged under each) rolled up together, and
    what the combined roll-ups must give."""

    name: str
    submissions: list[dict[str, Any]]
    expect: CombinedExpect
    loc: str = ""


@dataclass
class CaseResult:
    name: str
    ok: bool
    failures: list[str] = field(default_factory=list)
    loc: str = ""


def cases_path(pack_path: str | Path) -> Path:
    """``rules/x.yaml`` → ``rules/cases/x.yaml``."""
    p = Path(pack_path)
    return p.parent / "cases" / f"{p.stem}.yaml"


# --- loading -------------------------------------------------------------------


def load_cases(path: str | Path, pack: RulePack) -> list[Case]:
    """Read and check a case file against *pack*.  Raises :class:`PackError`."""
    return load_case_file(path, pack)[0]


def load_case_file(path: str | Path, pack: RulePack) -> tuple[list[Case], list[CombinedCase]]:
    """The cases and the combined cases of a case file.  Raises :class:`PackError`."""
    try:
        located = load_file(path)
    except RubricError as exc:
        raise PackError(f"无法读取示例用例文件 {path}", exc.problems) from None
    return _from_located(located, pack)


def cases_from_located(located: Located, pack: RulePack) -> list[Case]:
    return _from_located(located, pack)[0]


def _from_located(located: Located, pack: RulePack) -> tuple[list[Case], list[CombinedCase]]:
    title = f"示例用例文件校验失败：{located.source}"
    if not isinstance(located.data, dict):
        raise PackError(title, [Problem(located.source, "顶层应为映射（pack、base、cases）")])
    try:
        model = _FileModel.model_validate(located.data)
    except ValidationError as exc:
        raise PackError(title, _pyd_problems(exc, located)) from None
    problems = ProblemList()
    _Checker(located, pack, problems).run(model)
    if problems.errors:
        raise PackError(title, problems.errors)
    cases = [Case(c.name, {**model.base, **c.facts}, c.expect, located.where(("cases", i)), c.keep_invalid)
             for i, c in enumerate(model.cases)]
    combined = [CombinedCase(c.name, [{**model.base, **sub} for sub in c.submissions], c.expect,
                             located.where(("combined", i))) for i, c in enumerate(model.combined)]
    return cases, combined


class _Checker:
    """Cross-checks a case file against the pack: ids, names, kinds."""

    def __init__(self, located: Located, pack: RulePack, problems: ProblemList):
        self.loc = located
        self.pack = pack
        self.p = problems

    def err(self, path: tuple, msg: str) -> None:
        self.p.add(self.where(path), msg)

    def where(self, path: tuple) -> str:
        # mapping keys were turned into text; the line map may hold the YAML int
        look = path
        for n, part in enumerate(path):
            if isinstance(part, str) and part.isdigit() and look[:n + 1] not in self.loc.lines:
                look = look[:n] + (int(part),) + look[n + 1:]
        return self.loc.where(path, look)

    def run(self, model: _FileModel) -> None:
        m = self.pack.model
        if model.pack != m.id:
            self.err(("pack",), f"用例文件属于规则包 {model.pack!r}，但加载的规则包是 {m.id!r}")
        self.facts(("base",), model.base)
        seen: set[str] = set()
        for i, c in enumerate(model.cases):
            base = ("cases", i)
            if c.name in seen:
                self.err(base + ("name",), f"用例名称“{c.name}”重复")
            seen.add(c.name)
            e = c.expect
            if e.error is None:
                self.facts(base + ("facts",), c.facts)
            rubric, ledger = e.rubric_fields(), e.ledger_fields()
            if e.error is not None and (rubric or ledger):
                self.err(base + ("expect", "error"), "期望报错的用例不能再期望得分结果")
            elif e.error is None and not (rubric or ledger):
                self.err(base + ("expect",), "没有写出任何期望（得分、等次、行或汇总，或 error）")
            if m.kind == "rubric" and ledger:
                self.err(base + ("expect", ledger[0]), f"评分类规则包没有 {ledger[0]}（台账类才有）")
            if m.kind == "ledger" and rubric:
                self.err(base + ("expect", rubric[0]), f"台账类规则包没有 {rubric[0]}（评分类才有）")
            if m.kind == "rubric":
                self.rubric(base + ("expect",), e)
            elif m.ledger is not None:
                self.ledger(base + ("expect",), e)
        for i, c in enumerate(model.combined):
            self.combined(("combined", i), c, seen)

    def combined(self, base: tuple, c: "_CombinedModel", seen: set[str]) -> None:
        if c.name in seen:
            self.err(base + ("name",), f"用例名称“{c.name}”重复")
        seen.add(c.name)
        if self.pack.model.kind != "ledger":
            self.err(base, "只有台账类规则包有合并汇总用例（combined）")
            return
        for j, sub in enumerate(c.submissions):
            self.facts(base + ("submissions", j), sub)
        e = c.expect
        if not (e.stated() or any(t.stated() for t in e.tables.values())):
            self.err(base + ("expect",), "没有写出任何期望（rollups、ranks 或 flagged）")
        ledgers = self.pack.ledgers
        by_table = {cl.model.table: cl for cl in ledgers}
        first = ledgers[0].model.table
        parts = [((), e, ledgers[0])] if CombinedTable.stated(e) else []
        for tid, te in e.tables.items():
            if tid not in by_table:
                self.err(base + ("expect", "tables", tid), f"没有表格 {tid!r}（台账表格：{'、'.join(by_table)}）")
            elif tid == first and CombinedTable.stated(e):
                self.err(base + ("expect", "tables", tid), f"表格 {tid} 的期望已写在 rollups/ranks/flagged 中")
            else:
                parts.append((("tables", tid), te, by_table[tid]))
        for sub, te, cl in parts:
            path = base + ("expect",) + sub
            self.table(path, [], te.rollups, cl, combined=True)
            for key, attr, what in (("ranks", "rank", "排名（rank）"), ("flagged", "flag", "标记（flag）")):
                for gname in getattr(te, key):
                    g = find_grouping(cl.model.groupings, gname)
                    if g is None:
                        names = [x.by or OVERALL for x in cl.model.groupings]
                        self.err(path + (key, gname), f"没有汇总方式 {gname!r}（已定义：{'、'.join(names)}）")
                    elif not getattr(g, attr):
                        self.err(path + (key, gname), f"汇总方式 {gname} 没有设置{what}")

    def facts(self, path: tuple, facts: dict) -> None:
        for key in facts:
            if key not in self.pack.facts:
                self.err(path + (key,), f"未知的事实 {key!r}（规则包 {self.pack.id} 中没有此事实）")

    def rubric(self, path: tuple, e: Expect) -> None:
        item_ids = {it.id for it in self.pack.items}
        for iid, ie in e.items.items():
            if iid not in item_ids:
                self.err(path + ("items", iid), f"没有第{iid}项（规则包共 {len(item_ids)} 项）")
            for j, fid in enumerate(ie.missing or []):
                if fid not in self.pack.facts:
                    self.err(path + ("items", iid, "missing", j), f"未知的事实 {fid!r}")
        cats = {c.name for c in self.pack.model.categories}
        for name in e.categories:
            if name not in cats:
                self.err(path + ("categories", name), f"没有类别“{name}”（已定义：{'、'.join(cats)}）")
        grades = [g.name for g in self.pack.model.settings.grades]
        if e.grade is not None and e.grade not in grades:
            self.err(path + ("grade",), f"等次“{e.grade}”未在规则包中定义（已定义：{'、'.join(grades)}）")
        if e.eligible is not None and self.pack.model.settings.eligibility is None:
            self.err(path + ("eligible",), "规则包没有设置评选资格（settings.eligibility）")

    def ledger(self, path: tuple, e: Expect) -> None:
        ledgers = self.pack.ledgers
        by_table = {cl.model.table: cl for cl in ledgers}
        for tid in e.tables:
            if tid not in by_table:
                self.err(path + ("tables", tid), f"没有表格 {tid!r}（台账表格：{'、'.join(by_table)}）")
        known = [c.id for c in self.pack.model.checks]
        for j, cid in enumerate(e.checks or []):
            if cid not in known:
                self.err(path + ("checks", j), f"未知的报送检查 {cid!r}（已定义：{'、'.join(known) or '无'}）")
        first = ledgers[0].model.table
        if e.rows or e.rollups:
            self.table(path, e.rows, e.rollups, ledgers[0])
        for tid, te in e.tables.items():
            if tid in by_table:
                if tid == first and (e.rows or e.rollups):
                    self.err(path + ("tables", tid), f"表格 {tid} 的期望写在 rows/rollups 中，不能再写在 tables 中")
                self.table(path + ("tables", tid), te.rows, te.rollups, by_table[tid])

    def table(self, path: tuple, rows: list[RowExpect], rollups: dict, cl, combined: bool = False) -> None:
        led = cl.model
        statuses = [s.name for s in led.statuses] + [INVALID]  # 有误: a cell breaking the input contract
        table = self.pack.facts[led.table]
        checks = {c.id for c in led.checks} | {f"required_{c.id}" for c in table.columns or []} | {"invalid"}
        values = {d.id for d in led.derived} | {d.id for d in getattr(led, "decisions", [])}
        for j, r in enumerate(rows):
            rp = path + ("rows", j)
            if r.status is not None and r.status not in statuses:
                self.err(rp + ("status",), f"状态“{r.status}”未在规则包中定义（已定义：{'、'.join(statuses)}）")
            for key in ("errors", "warnings"):
                for k, cid in enumerate(getattr(r, key) or []):
                    if cid not in checks:
                        self.err(rp + (key, k), f"未知的检查 {cid!r}")
            for vid in r.values:
                if vid not in values:
                    self.err(rp + ("values", vid), f"未知的派生值或决策 {vid!r}（已定义：{'、'.join(values) or '无'}）")
        metrics = {mt.id: mt for mt in led.metrics}
        typed = cl.metric_types  # expr metrics: (type, may be blank)
        for gname, groups in rollups.items():
            gp = path + ("rollups", gname)
            grouping = find_grouping(led.groupings, gname)
            if grouping is None:
                names = [g.by or OVERALL for g in led.groupings]
                self.err(gp, f"没有汇总方式 {gname!r}（已定义：{'、'.join(names)}）")
                continue
            for key, vals in groups.items():
                kp = gp + (key,)
                if grouping.by is None and key != TOTAL_KEY:
                    self.err(kp, f"总体汇总（by 为空）只有 {TOTAL_KEY} 一行")
                if key == TOTAL_KEY and grouping.by is not None and not grouping.total_label:
                    self.err(kp, "此汇总方式没有合计行（total_label 未设置）")
                if not isinstance(vals, dict) or not vals:
                    self.err(kp, "应为映射（指标: 期望值），且不能为空")
                    continue
                for mid, val in vals.items():
                    mp = kp + (mid,)
                    mt = metrics.get(mid)
                    nullable = mt is not None and mt.kind in ("rate", "expr", "facts_sum")
                    if mt is None:
                        self.err(mp, f"未知的指标 {mid!r}（已定义：{'、'.join(metrics)}）")
                    elif mt.kind in ("all", "none") or typed.get(mid, ("",))[0] == BOOL:
                        # a line spanning several submissions has no top-level values: an expr may be blank
                        blank = mid in typed and (typed[mid][1] or combined)
                        if not (isinstance(val, bool) or (val is None and blank)):
                            self.err(mp, "应为 true/false" + ("（或 null 表示无法计算）" if blank else ""))
                    elif isinstance(val, bool) or not (isinstance(val, (int, Decimal))
                                                      or (val is None and nullable)):
                        self.err(mp, "应为数值" + ("（或 null 表示无法计算）" if nullable else ""))
                    elif val is not None and Decimal(val).as_tuple().exponent < -2:
                        self.err(mp, "最多两位小数（实际值按0.01比较）")


def find_grouping(groupings, name: str):
    for g in groupings:
        if (g.by or OVERALL) == name:
            return g
    for g in groupings:
        if g.label == name:
            return g
    return None


__all__ = ["Case", "CaseResult", "CombinedCase", "CombinedExpect", "CombinedTable", "load_case_file", "Expect", "ItemExpect", "RowExpect", "TableExpect", "cases_path", "load_cases",
           "cases_from_located", "find_grouping", "CENT", "OVERALL", "TOTAL_KEY"]
