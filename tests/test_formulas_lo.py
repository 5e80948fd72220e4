"""Proof that the native Excel formulas score exactly like the engine.

Real headless LibreOffice recalculates generated templates (rubric_xl.workbook
``build_template`` → formulas from rubric_xl.formulas → ``fill_workbook``) and
every score cell is compared with the engine's score card:

* rules/shanxi-2005.yaml: 200 seeded random submissions (blanks, zeroing,
  values at and around every threshold) and every example case of
  rules/cases/shanxi-2005.yaml — item points, explanations (the full text, so
  every amount in it), category subtotals, total, grade, eligibility,
  provisional; the bad-input cases show 有误 with the engine's own reason.
* rules/xinzhou-2024.yaml: 200 seeded random ledgers, every example case and a
  2,000-row ledger — each row's status, errors and warnings, and every roll-up
  line of 汇总.
* rules/shanxi-2019-qingling.yaml: 120 seeded random ledgers and every example
  case — rows as above, every roll-up line (序时进度, 进度滞后, 无任务 areas).

All workbooks go through LibreOffice in a few batched ``soffice`` calls.  This
test never skips: without LibreOffice it fails and says how to install it.
"""
from __future__ import annotations

import datetime as dt
import random
import shutil
import tempfile
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl.utils.cell import range_boundaries

import lo
from rubric_xl import FactsError, load_pack, load_pack_text, score
from rubric_xl.rules import expr as E
from rubric_xl.rules.cases import load_cases
from rubric_xl.rules.model import LateRule, StepRule
from rubric_xl.workbook import build_template, fill_workbook

ROOT = Path(__file__).resolve().parents[1]
SHANXI = ROOT / "rules" / "shanxi-2005.yaml"
XINZHOU = ROOT / "rules" / "xinzhou-2024.yaml"
QINGLING = ROOT / "rules" / "shanxi-2019-qingling.yaml"
CASES = ROOT / "rules" / "cases"
N_RANDOM = 200
SEED = 20050715
CENT = Decimal("0.01")
YES, NO = "是", "否"


# --- random submissions (also used by bench/bench_formulas.py) ----------------------


def _cmp_literals(node: E.Node, out: dict) -> None:
    """Number literals compared with a name (``collective_petitions > 0``)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n.kind == "cmp":
            a, b = n.args
            for x, y in ((a, b), (b, a)):
                if x.kind == "name" and y.kind == "num":
                    out[x.value].update({y.value, y.value - 1, y.value + 1})
        stack.extend(n.args)


def interesting_numbers(pack) -> dict[str, set[Decimal]]:
    """Per numeric fact: thresholds, exact step boundaries and their neighbours."""
    out: dict[str, set[Decimal]] = defaultdict(set)
    for ci in pack.items:
        for node, _ in ci.zero_if:
            _cmp_literals(node, out)
        for cr in ci.rules:
            for node in cr.nodes.values():
                _cmp_literals(node, out)
            r = cr.rule
            if isinstance(r, StepRule):
                node = cr.nodes["value"]
                feeds = pack.derived_facts.get(node.value, [node.value]) if node.kind == "name" else []
                top = 5
                if r.cap is not None and r.points > 0:  # reach the cap and pass it
                    top = int(r.cap / r.points) + 3
                for k in list(range(-4, 5)) + [top - 3, top - 2, top - 1, top]:
                    t = r.threshold + k * r.step
                    for f in feeds:
                        out[f].update({t, t + CENT, t - CENT, t + r.step / 2})
    for name in list(out):  # names of derived values expand to the facts they read
        if name in pack.derived_facts:
            for f in pack.derived_facts[name]:
                out[f] |= out[name]
    return out


def _decimal(rng: random.Random, lo_: float, hi: float) -> Decimal:
    places = rng.choice((0, 1, 2, 2))
    return Decimal(str(round(rng.uniform(lo_, hi), places)))


def random_rubric_facts(pack, n: int = N_RANDOM, seed: int = SEED) -> list[dict]:
    """*n* seeded submissions for a rubric pack, driven by the pack's own rules."""
    rng = random.Random(seed)
    nums = interesting_numbers(pack)
    late_dates: dict[str, set[dt.date]] = defaultdict(set)
    for ci in pack.items:
        for cr in ci.rules:
            if isinstance(cr.rule, LateRule):
                for d in cr.rule.dates:
                    late_dates[d].add(cr.deadline.date)
    numeric = {f.id for f in pack.model.facts if f.type in ("int", "decimal", "percent")}
    derived_deps = [deps for deps in pack.derived_facts.values() if len(deps) > 1 and set(deps) <= numeric]
    out = []
    for _ in range(n):
        blank_rate = rng.choice((0.0, 0.0, 0.0, 0.02, 0.08))
        facts: dict = {}
        for f in pack.model.facts:
            if f.type == "table":
                continue
            if f.blank_allowed:
                if rng.random() < 0.12:
                    facts[f.id] = None
                    continue
            elif rng.random() < blank_rate:
                facts[f.id] = None
                continue
            lo_ = f.min if f.min is not None else Decimal(-20 if f.type == "decimal" else 0)
            hi = f.max if f.max is not None else (Decimal(100) if f.type == "percent" else None)
            special = sorted(v for v in nums.get(f.id, ()) if v >= lo_ and (hi is None or v <= hi))
            if f.type == "bool":
                v = rng.random() < 0.8
            elif f.type == "enum":
                v = rng.choice(f.options)
            elif f.type == "text":
                v = rng.choice(("优秀", " 优秀 ", "一般", "优秀，良好"))
            elif f.type == "date":
                base = rng.choice(sorted(late_dates[f.id])) if late_dates.get(f.id) else dt.date(2005, 9, 1)
                v = base + dt.timedelta(days=rng.choice((-9, -2, -1, 0, 0, 1, 1, 2, 15)))
            elif f.type == "int":
                ints = [v for v in special if v == v.to_integral_value()]
                if ints and rng.random() < 0.6:
                    v = Decimal(int(rng.choice(ints)))
                else:
                    top = int(max(ints, default=Decimal(10))) + 5
                    v = Decimal(rng.choice((0, 0, rng.randint(0, 3), rng.randint(0, top))))
            else:  # decimal, percent
                if special and rng.random() < 0.6:
                    v = rng.choice(special)
                else:
                    v = _decimal(rng, float(lo_), float(hi if hi is not None else lo_ + 30))
                if f.type == "percent" and 0 < v <= 1:  # the input contract: a "95%" stored as 0.95
                    v = Decimal(0)
            facts[f.id] = v
        if derived_deps and rng.random() < 0.35:  # every input of a mean at one value
            deps = rng.choice(derived_deps)
            pick = sorted(v for v in nums.get(deps[0], ()) if v >= 0 and v == v.to_integral_value())
            if pick:
                v = rng.choice(pick)
                for d in deps:
                    facts[d] = v
        out.append(facts)
    return out


def random_ledger_facts(pack, n: int = N_RANDOM, seed: int = SEED, rows: tuple[int, int] = (0, 25)) -> list[dict]:
    """*n* seeded ledger submissions (row counts in *rows*), driven by the pack."""
    rng = random.Random(seed)
    led = pack.model.ledger
    table = pack.facts[led.table]
    deadlines = sorted(d.date for d in pack.model.deadlines) or [dt.date(2024, 6, 1)]
    lo_d, hi_d = deadlines[0] - dt.timedelta(days=45), deadlines[-1] + dt.timedelta(days=45)

    def a_date() -> dt.date:
        if rng.random() < 0.4:
            return rng.choice(deadlines) + dt.timedelta(days=rng.choice((-1, 0, 0, 1)))
        return lo_d + dt.timedelta(days=rng.randint(0, (hi_d - lo_d).days))

    def top_value(f):
        if f.type == "enum":
            return rng.choice(f.options)
        if f.type == "date":
            return a_date()
        if f.type == "bool":
            return rng.random() < 0.5
        if f.type in ("int", "decimal", "percent"):
            return Decimal(rng.randint(0, 100))
        return f"值{rng.randint(1, 99)}"

    statuses = [st.name for st in led.statuses]

    def a_row(s: int, i: int) -> dict:
        p_true = rng.choice((0.1, 0.5, 0.9, 0.97))
        p_blank = rng.choice((0.1, 0.4, 0.8))
        row: dict = {}
        for c in table.columns:
            nullable = c.blank_allowed or not c.required or c.default is not None
            if rng.random() < (p_blank if nullable and c.type == "date" else 0.1 if nullable else 0.03):
                row[c.id] = None
            elif c.type == "text":
                row[c.id] = f"企业{s}-{i}"
            elif c.type == "enum":
                row[c.id] = rng.choice(c.options)
            elif c.type == "bool":
                row[c.id] = rng.random() < p_true
            elif c.type == "date":
                row[c.id] = a_date()
            else:
                row[c.id] = Decimal(rng.randint(0, 20))
        if all(v is None for v in row.values()):  # the reader skips empty rows
            row[led.key] = f"企业{s}-{i}"
        return row

    out = []
    for s in range(n):
        facts = {f.id: top_value(f) for f in pack.model.facts if f.type != "table"}
        nrows = 0 if rng.random() < 0.05 else rng.randint(*rows)
        data = []
        for i in range(nrows):
            # aim at a status: draw rows until the engine gives it (or give up)
            target = rng.choice(statuses)
            for _ in range(40):
                row = a_row(s, i)
                if nrows > 100 or score(pack, {**facts, led.table: [row]}).rows[0].status == target:
                    break
            data.append(row)
        facts[led.table] = data
        out.append(facts)
    return out


# A pack that exercises what the 2005 pack does not: prorated steps, floor: false,
# capped deductions, blank-allowed booleans and derived values, several late dates,
# text and enum comparisons, min/max/abs/count_true, negative numbers, amounts
# with three or four decimals, custom explanation templates with every field.
FEATURES = """
id: features
title: 公式编译器功能覆盖
version: "1"
source: {document: 测试, title: 测试}
categories:
  - {name: 甲, cap: 16}
  - {name: 乙, cap: 5}
  - {name: 加分, cap: 0, bonus_only: true}
settings:
  grades: [{name: 好, min: 18}, {name: 中, min: 12.5}, {name: 差}]
  eligibility: {label: 评优资格, grades: [好, 中]}
deadlines:
  - {id: dl, date: 2024-05-31, label: 期限}
facts:
  - {id: n, label: 数量, type: int, max: 50}
  - {id: rate, label: 比率, type: percent}
  - {id: amount, label: 金额, type: decimal}
  - {id: flag, label: 标志, type: bool}
  - {id: opt_flag, label: 可选标志, type: bool, blank_allowed: true}
  - {id: level, label: 等级, type: enum, options: [一级, 二级, 三级]}
  - {id: note, label: 备注, type: text, blank_allowed: true}
  - {id: date_a, label: 日期一, type: date, blank_allowed: true}
  - {id: date_b, label: 日期二, type: date, blank_allowed: true}
  - {id: date_c, label: 日期三, type: date}
derived:
  - {id: ratio, label: 比值, expr: "rate / 3"}
  - {id: sent, label: 已报数, expr: "count_true(present(date_a), present(date_b))"}
  - {id: net, label: 净额, expr: "amount - n"}
  - {id: both, label: 两项已报, expr: "present(date_a) and present(date_b)"}
items:
  - id: "1"
    category: 甲
    title: 按比例扣分，不设下限
    max: 5
    criteria: 测试
    evidence: 测试
    floor: false
    deductions:
      - {kind: step, value: rate, threshold: 95, step: 3, points: 0.7, partial: prorate, cap: 6.5, unit: "%",
         explain: "比率{value}{unit}差{shortfall}，{steps}档×{points}（每{step}），扣{amount}分"}
      - {kind: flat, when: "not flag", points: 0.75, reason: 未标记}
  - id: "2"
    category: 甲
    title: 计件扣分有上限，可留空的是否
    max: 4
    criteria: 测试
    evidence: 测试
    deductions:
      - {kind: per_unit, count: "n - 3", when: "flag", points: 0.35, cap: 3, unit: 件, reason: 超出}
      - {kind: flat, when: "not opt_flag", points: 1.25, reason: 未选}
      - {kind: flat, when: "opt_flag == false", points: 0.5, reason: 明确为否}
  - id: "3"
    category: 甲
    title: 多个日期逾期，不得分带标记
    max: 4
    criteria: 测试
    evidence: 测试
    zero_if:
      - {when: "level in ['三级']", reason: 三级, flag: 通报}
      - {when: "blank(date_a) and blank(date_b)", reason: 两项都未报}
    deductions:
      - {kind: late, dates: [date_a, date_b, date_c], deadline: dl, points: 0.8, explain: "{date}晚于{deadline}，扣{amount}分"}
  - id: "4"
    category: 甲
    title: 分档基础分，派生值按档扣分，加分取整档
    max: 3
    criteria: 测试
    evidence: 测试
    tiers: {value: level, points: {一级: 3, 二级: 2.5, 三级: 1}}
    deductions:
      - {kind: step, value: ratio, threshold: 30, step: 0.5, points: 0.1, reason: 比值}
    bonuses:
      - {kind: step, value: n, threshold: 10, step: 4, points: 0.3, cap: 0.9, reason: 数量, unit: 件}
  - id: "5"
    category: 乙
    title: 可能为空的派生值与绝对值
    max: 3
    criteria: 测试
    evidence: 测试
    deductions:
      - {kind: flat, when: "not both", points: 0.5, reason: 未全报}
      - {kind: flat, when: "blank(sent)", points: 0.2, reason: 派生值为空}
      - {kind: flat, when: "sent == 2 and n > 5", points: 0.15, reason: 两项已报且数量多}
      - {kind: per_unit, count: "abs(net)", points: 0.01, reason: 偏差, cap: 1}
      - {kind: step, value: "max(amount, 0)", threshold: 10, step: 2.5, points: 0.25, reason: 金额, partial: floor}
  - id: "6"
    category: 加分
    title: 文字比较与小数计件
    max: 0
    criteria: 测试
    evidence: 测试
    bonuses:
      - {kind: flat, when: "note == '优秀'", points: 1, reason: 备注优秀}
      - {kind: per_unit, count: "min(n, 20) / 4", points: 0.15, reason: 数量, unit: 份}
  - id: "7"
    category: 乙
    title: 负数与阈值
    max: 2
    criteria: 测试
    evidence: 测试
    zero_if:
      - {when: "amount < 0 and not flag", reason: 金额为负}
    deductions:
      - {kind: step, value: "amount", threshold: 2.5, step: 0.75, points: 0.45, reason: 金额}
"""


# --- writing and reading ---------------------------------------------------------------


def _save(wb, path: Path) -> Path:
    wb.save(path)
    return path


def write_submissions(pack, facts_list: list[dict], outdir: Path, prefix: str, **build) -> tuple[list[Path], object]:
    """One filled template per submission (the template is built once)."""
    wb, layout = build_template(pack, **build)
    paths = []
    for i, facts in enumerate(facts_list):
        fill_workbook(wb, pack, facts)
        paths.append(_save(wb, outdir / f"{prefix}-{i:04d}.xlsx"))
    return paths, layout


def _num(v) -> Decimal | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return Decimal(repr(v)).quantize(CENT)


def _yes(b: bool | None) -> str | None:
    return None if b is None else (YES if b else NO)


def compare_rubric(pack, layout, path: Path, card) -> list[str]:
    """Every mismatch between the recalculated workbook and the engine's card."""
    rows = lo.sheet_rows(path, layout.score_sheet)
    bad: list[str] = []

    def get(ref):
        return lo.at(rows, ref.row, ref.col)

    def check(what: str, got, want) -> None:
        if got != want:
            bad.append(f"{path.name} {what}: 公式 {got!r} ≠ 引擎 {want!r}")

    for it in card.items:
        il = layout.items[it.id]
        g = get(il.points)
        if it.points is None:
            check(f"第{it.id}项得分", g, "有误" if it.status == "invalid" else "待填")
        else:
            check(f"第{it.id}项得分", _num(g), it.points.quantize(CENT))
        check(f"第{it.id}项说明", get(il.explain), it.explanation)
    for cat, cl in zip(card.categories, layout.categories):
        check(f"类别{cat.name}", _num(get(cl.points)), cat.points.quantize(CENT))
    check("总分", _num(get(layout.total)), card.total.quantize(CENT))
    check("等次", get(layout.grade), card.grade if card.grade is not None else "")
    if card.eligible is not None:
        check("评选资格", get(layout.eligible), _yes(card.eligible))
    check("暂定", get(layout.provisional), _yes(card.provisional))
    return bad


def _metric(kind: str, v) -> object:
    """An engine metric value as the workbook shows it."""
    if kind in ("all", "none"):
        return "" if v is None else _yes(v)
    if v is None:
        return ""
    return Decimal(v).quantize(CENT)


def _cell_metric(kind: str, v) -> object:
    if kind in ("all", "none"):
        return v
    if v == "":
        return ""
    return _num(v)


def compare_ledger(pack, layout, path: Path, card) -> list[str]:
    led = pack.model.ledger
    tl = layout.tables[led.table]
    bad: list[str] = []

    def check(what: str, got, want) -> None:
        if got != want:
            bad.append(f"{path.name} {what}: 公式 {got!r} ≠ 引擎 {want!r}")

    rows = lo.sheet_rows(path, tl.sheet)
    res = {k: tl.results[k].data for k in ("status", "errors", "warnings")}
    # every reason as the engine gives it, error values (#N/A) named too — also for a
    # table as wide as xinzhou's (its reasons in a hidden helper column)
    for i, r in enumerate(card.rows):
        n = res["status"].first_row + i
        check(f"第{r.index}行状态", lo.at(rows, n, res["status"].col), r.status)
        check(f"第{r.index}行错误", lo.at(rows, n, res["errors"].col), "；".join(p.message for p in r.errors))
        check(f"第{r.index}行警告", lo.at(rows, n, res["warnings"].col), "；".join(p.message for p in r.warnings))
    after = res["status"].first_row + len(card.rows)
    for n in range(after, min(after + 3, res["status"].last_row + 1)):  # empty rows stay empty
        for k, rr in res.items():
            check(f"空行{n} {k}", lo.at(rows, n, rr.col), "")
    typed = pack.ledger.metric_types if pack.ledger else {}
    # a yes/no metric (all, none, a yes/no expr) shows 是/否 (blank: not computed)
    kinds = {mt.id: "all" if typed.get(mt.id, ("",))[0] == E.BOOL else mt.kind for mt in led.metrics}
    srows = lo.sheet_rows(path, layout.summary_sheet)
    cols = {c.id: c for c in pack.facts[led.table].columns}
    for block, ru in zip(layout.summary, card.rollups):
        for key, row in block.group_rows:
            if key is None:  # this submission's value of a top-level fact
                (ekey, metrics), = ru.groups.items()
                check(f"{ru.label} 标签", lo.at(srows, row, 1), ekey)
            else:
                ekey = key or (cols[block.by].blank_label or "（空白）")
                metrics = ru.groups.get(ekey)
            for mid, col in block.metric_cols.items():
                want = _metric(kinds[mid], metrics[mid]) if metrics is not None else \
                    {"count": Decimal(0).quantize(CENT), "sum": Decimal(0).quantize(CENT), "rate": "",
                     "all": YES, "none": YES}[kinds[mid]]
                if metrics is not None and metrics[mid] is True and ekey in (ru.empty or ()) and ru.empty_label:
                    want = ru.empty_label  # a listed group without rows (all_options), e.g. 无任务
                check(f"{ru.label}/{key}/{mid}", _cell_metric(kinds[mid], lo.at(srows, row, col)), want)
        if block.total_row is not None:
            for mid, col in block.metric_cols.items():
                check(f"{ru.label}/合计/{mid}", _cell_metric(kinds[mid], lo.at(srows, block.total_row, col)),
                      _metric(kinds[mid], ru.total[mid]))
    return bad


def _raw_cell(f, value):
    """A raw (possibly invalid) case value as a user would have typed it."""
    if isinstance(value, bool):
        return YES if value else NO
    if f.type == "date" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


# --- the run: build, fill, recalculate once --------------------------------------------


@pytest.fixture(scope="module")
def run():
    try:
        rc = lo.Recalculator(Path(tempfile.mkdtemp(prefix="rxl-formulas-out-")))
    except lo.LibreOfficeMissing as exc:
        pytest.fail(str(exc))
    # a private directory: pytest's basetemp may be pruned by concurrent sessions
    tmp = Path(tempfile.mkdtemp(prefix="rxl-formulas-lo-"))
    try:
        yield _prepare(rc, tmp)
    finally:
        rc.close()
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(rc.outdir, ignore_errors=True)


def _prepare(rc: lo.Recalculator, src: Path) -> dict:
    """Write every workbook and hand each group to LibreOffice as soon as it is written."""
    shanxi = load_pack(SHANXI)
    xinzhou = load_pack(XINZHOU)
    out: dict = {"shanxi": shanxi, "xinzhou": xinzhou}
    jobs = []

    facts = random_rubric_facts(shanxi)
    paths, out["layout"] = write_submissions(shanxi, facts, src, "sx-random")
    out["random"] = list(zip(facts, paths))
    jobs.append(rc.submit(paths))

    feats = load_pack_text(FEATURES, "features.yaml")
    ffacts = random_rubric_facts(feats, 80, seed=SEED + 2)
    fpaths, out["flayout"] = write_submissions(feats, ffacts, src, "ft-random")
    out["features"] = feats
    out["frandom"] = list(zip(ffacts, fpaths))

    cases = load_cases(CASES / "shanxi-2005.yaml", shanxi)
    good = [c for c in cases if not c.expect.error and not c.keep_invalid]  # keep_invalid: see below
    paths, _ = write_submissions(shanxi, [c.facts for c in good], src, "sx-case")
    out["cases"] = list(zip(good, paths))
    # bad inputs: typed straight into the cells (fill_workbook would refuse them)
    wb, layout = build_template(shanxi)
    out["bad"] = []
    for i, c in enumerate(cs for cs in cases if cs.expect.error):
        if any(k not in shanxi.facts for k in c.facts):
            continue  # a misspelt fact id has no cell
        for f in shanxi.model.facts:
            ref = layout.inputs[f.id]
            wb[ref.sheet].cell(ref.row, ref.col).value = _raw_cell(f, c.facts.get(f.id))
        out["bad"].append((c, _save(wb, src / f"sx-bad-{i:03d}.xlsx")))
    jobs.append(rc.submit(paths + [p for _, p in out["bad"]] + fpaths))

    lfacts = random_ledger_facts(xinzhou)
    paths, out["llayout"] = write_submissions(xinzhou, lfacts, src, "xz-random", ledger_rows=30)
    out["lrandom"] = list(zip(lfacts, paths))
    jobs.append(rc.submit(paths))

    # a keep_invalid case holds a value fill_workbook refuses (its row is 有误 in the engine)
    lcases = [c for c in load_cases(CASES / "xinzhou-2024.yaml", xinzhou)
              if not c.expect.error and not c.keep_invalid]
    paths, out["lclayout"] = write_submissions(xinzhou, [c.facts for c in lcases], src, "xz-case")
    out["lcases"] = list(zip(lcases, paths))
    (big,) = random_ledger_facts(xinzhou, 1, seed=SEED + 1, rows=(2000, 2000))
    wb, out["blayout"] = build_template(xinzhou)  # 500 rows; filling 2,000 grows the table
    fill_workbook(wb, xinzhou, big)
    (_, ref), = wb.defined_names["ledger_status"].destinations
    out["big_last"] = range_boundaries(ref.replace("$", ""))[3]
    out["big"] = (big, _save(wb, src / "xz-2000.xlsx"))
    # bad ledger cells, typed straight into 台账
    wb, blay = build_template(xinzhou, ledger_rows=10)
    rows = [{"enterprise_name": "甲", "criterion_policy": True, "listed_date": dt.date(2024, 4, 1)},
            {"enterprise_name": "乙", "criterion_permits": True, "listed_date": dt.date(2024, 4, 2)}]
    fill_workbook(wb, xinzhou, {"reporting_body": "代县", "report_date": dt.date(2024, 6, 30), "enterprises": rows})
    cols = blay.tables["enterprises"].columns
    bad_cells = {(0, "water_cut"): "也许", (0, "industry"): "钢铁", (1, "listed_date"): "2024-13-01"}
    for (i, cid), v in bad_cells.items():
        ref = cols[cid].data.cell(i)
        wb[ref.sheet].cell(ref.row, ref.col).value = v
        rows[i][cid] = v
    out["lbad"] = (rows, blay, _save(wb, src / "xz-bad.xlsx"))
    jobs.append(rc.submit(paths + [out["big"][1], out["lbad"][2]]))

    # the 百日清零 ledger (rules/shanxi-2019-qingling.yaml): random ledgers and every example case
    qingling = load_pack(QINGLING)
    out["qingling"] = qingling
    qfacts = random_ledger_facts(qingling, 120, seed=SEED + 3, rows=(0, 20))
    qpaths, out["qlayout"] = write_submissions(qingling, qfacts, src, "ql-random", ledger_rows=30)
    out["qrandom"] = list(zip(qfacts, qpaths))
    qcases = [c for c in load_cases(CASES / "shanxi-2019-qingling.yaml", qingling)
              if not c.expect.error and not c.keep_invalid]  # (bad cells cannot be filled in)
    cpaths, out["qclayout"] = write_submissions(qingling, [c.facts for c in qcases], src, "ql-case")
    out["qcases"] = list(zip(qcases, cpaths))
    jobs.append(rc.submit(qpaths + cpaths))

    for job in jobs:
        job.result()
    out["out"] = {p.name: rc.outdir / p.name for p in src.glob("*.xlsx")}
    return out


def _report(bad: list[str], total: int, what: str) -> None:
    assert not bad, f"{what}：{len(bad)} 处与引擎不符（共比较 {total} 份）：\n" + "\n".join(bad[:25])


# --- the proofs --------------------------------------------------------------------------


def test_random_2005_submissions_score_like_the_engine(run):
    pack, layout = run["shanxi"], run["layout"]
    bad, seen = [], Counter()
    for facts, path in run["random"]:
        card = score(pack, facts)
        bad += compare_rubric(pack, layout, run["out"][path.name], card)
        seen["provisional"] += card.provisional
        seen[f"grade {card.grade}"] += 1
        for it in card.items:
            seen["zeroed"] += it.zeroed
            seen["capped"] += any(a.capped for a in (*it.deductions, *it.bonuses))
            seen["floored"] += "扣完为止" in it.explanation
            seen["deducted"] += bool(it.deductions)
            seen["bonus"] += bool(it.bonuses)
            seen["incomplete"] += it.status == "incomplete"
    _report(bad, len(run["random"]), "随机填报（2005）")
    # the random set really covers blanks, zeroing, caps, floors and every grade
    assert len(run["random"]) >= 200
    for key in ("provisional", "zeroed", "capped", "floored", "deducted", "bonus", "incomplete"):
        assert seen[key] >= 5, (key, seen)
    assert sum(1 for k in seen if k.startswith("grade ")) >= 3, seen


def test_random_2005_hits_thresholds_exactly(run):
    """Values exactly at a threshold and one cent either side occur in the random set."""
    pack = run["shanxi"]
    at = below = 0
    for facts, _ in run["random"]:
        for ci in pack.items:
            for cr in ci.rules:
                if isinstance(cr.rule, StepRule) and cr.nodes["value"].kind == "name":
                    v = facts.get(cr.nodes["value"].value)
                    if v is None:
                        continue
                    at += v == cr.rule.threshold
                    below += abs(v - cr.rule.threshold) == CENT
    assert at >= 20 and below >= 20, (at, below)


def test_every_rule_feature_scores_like_the_engine(run):
    """Prorate, floor: false, caps, blank-allowed booleans and derived values,
    late dates, text, min/max/abs, negatives and 3-decimal amounts."""
    pack, layout = run["features"], run["flayout"]
    bad, seen = [], Counter()
    for facts, path in run["frandom"]:
        card = score(pack, facts)
        bad += compare_rubric(pack, layout, run["out"][path.name], card)
        for it in card.items:
            seen[f"{it.id} zeroed"] += it.zeroed
            seen[f"{it.id} adjusted"] += bool(it.deductions or it.bonuses)
            seen[f"{it.id} negative"] += it.points is not None and it.points < 0
            seen["capped"] += any(a.capped for a in (*it.deductions, *it.bonuses))
    _report(bad, len(run["frandom"]), "功能覆盖包")
    for iid in "1234567":
        assert seen[f"{iid} adjusted"] >= 5, seen
    assert seen["1 negative"] >= 3 and seen["3 zeroed"] >= 5 and seen["capped"] >= 5, seen


def test_2005_example_cases_score_like_the_engine(run):
    pack, layout = run["shanxi"], run["layout"]
    bad = []
    for case, path in run["cases"]:
        bad += compare_rubric(pack, layout, run["out"][path.name], score(pack, case.facts))
    _report(bad, len(run["cases"]), "示例用例（2005）")
    assert len(run["cases"]) >= 150


def test_2005_bad_inputs_show_有误_with_the_engines_reason(run):
    """One wording for the one invalid state: the cell's 评分 text is the engine's
    (and the auditor's: it reads the same cells) — label, cell, value, expectation."""
    from rubric_xl.audit import score_workbook

    pack, layout = run["shanxi"], run["layout"]
    assert len(run["bad"]) >= 7
    for case, path in run["bad"]:
        with pytest.raises(FactsError):
            score(pack, case.facts)
        out = run["out"][path.name]
        rows = lo.sheet_rows(out, layout.score_sheet)
        (fid,) = [k for k, v in case.facts.items() if k in pack.facts and _bad_value(pack, k, v)]
        readers = [ci.id for ci in pack.items if fid in ci.facts]
        assert readers, fid
        card = score_workbook(out, pack).card
        ref = layout.inputs[fid]
        for iid in readers:
            il = layout.items[iid]
            assert lo.at(rows, il.points.row, il.points.col) == "有误", (case.name, iid)
            text = lo.at(rows, il.explain.row, il.explain.col)
            assert text.startswith(f"有误：{pack.facts[fid].label}（{ref.sheet}!") and "，应为" in text, text
            assert text == card.item(iid).explanation, (case.name, text)
        assert lo.at(rows, layout.provisional.row, layout.provisional.col) == YES


def _bad_value(pack, fid, value) -> bool:
    from rubric_xl.engine.facts import BadValue, convert_value

    try:
        convert_value(pack.facts[fid], value)
    except BadValue:
        return True
    return False


def _compare_ledgers(run, pack, layout, items) -> tuple[list[str], Counter, list]:
    """Each recalculated ledger of *items* ((facts, path)) against the engine: the
    differences, what the cards hold (rows per status, rows with errors / warnings,
    empty ledgers) and the cards."""
    bad, seen, cards = [], Counter(), []
    for facts, path in items:
        card = score(pack, facts)
        bad += compare_ledger(pack, layout, run["out"][path.name], card)
        for r in card.rows:
            seen[r.status] += 1
            seen["errors"] += bool(r.errors)
            seen["warnings"] += bool(r.warnings)
        seen["empty"] += not card.rows
        cards.append(card)
    return bad, seen, cards


def test_random_ledgers_match_the_engine(run):
    bad, seen, _ = _compare_ledgers(run, run["xinzhou"], run["llayout"], run["lrandom"])
    _report(bad, len(run["lrandom"]), "随机台账（忻州）")
    assert len(run["lrandom"]) >= 200
    for status in ("复燃", "已销号", "已验收", "已取缔待验收", "待取缔"):
        assert seen[status] >= 10, seen
    assert seen["errors"] >= 50 and seen["warnings"] >= 50 and seen["empty"] >= 3, seen


def test_ledger_example_cases_match_the_engine(run):
    bad = _compare_ledgers(run, run["xinzhou"], run["lclayout"], [(c.facts, p) for c, p in run["lcases"]])[0]
    _report(bad, len(run["lcases"]), "示例用例（忻州）")
    assert len(run["lcases"]) >= 10


def test_2000_row_ledger_matches_the_engine(run):
    pack, layout = run["xinzhou"], run["blayout"]
    facts, path = run["big"]
    assert len(facts["enterprises"]) == 2000 and run["big_last"] >= 2002
    card = score(pack, facts)
    # the template had 500 rows: filling grew its table, names and row formulas
    _report(compare_ledger(pack, layout, run["out"][path.name], card), 1, "2000 行台账")


def test_bad_ledger_cells_are_row_errors_where_the_engine_refuses(run):
    pack = run["xinzhou"]
    rows, layout, path = run["lbad"]
    with pytest.raises(FactsError):
        score(pack, {"reporting_body": "代县", "report_date": dt.date(2024, 6, 30), "enterprises": rows})
    errors = layout.tables["enterprises"].results["errors"].data
    got = lo.sheet_rows(run["out"][path.name], errors.sheet)
    first, second = (lo.at(got, errors.first_row + i, errors.col) for i in (0, 1))
    assert "断水（台账!" in first and "为“也许”，应为 是 或 否" in first and "行业（台账!" in first, first
    assert "为“钢铁”，应为以下之一：" in first, first
    assert "入账日期（台账!" in second and "为“2024-13-01”，应为日期" in second, second
    status = layout.tables["enterprises"].results["status"].data
    assert [lo.at(got, status.first_row + i, status.col) for i in (0, 1)] == ["有误", "有误"]


def test_qingling_random_ledgers_match_the_engine(run):
    bad, seen, cards = _compare_ledgers(run, run["qingling"], run["qlayout"], run["qrandom"])
    for ru in (ru for card in cards for ru in card.rollups):
        seen["lagging"] += sum(1 for v in ru.groups.values() if v["lagging"] is True)
        seen["on schedule"] += sum(1 for v in ru.groups.values() if v["lagging"] is False)
        seen["empty area"] += len(ru.empty or ())
    _report(bad, len(run["qrandom"]), "随机台账（百日清零）")
    assert len(run["qrandom"]) >= 120
    for status in ("反弹", "已销号", "已完成待核查", "逾期未完成", "推进中"):
        assert seen[status] >= 10, seen
    assert seen["errors"] >= 50 and seen["warnings"] >= 50 and seen["empty"] >= 2, seen
    assert seen["lagging"] >= 20 and seen["on schedule"] >= 20 and seen["empty area"] >= 100, seen


def test_qingling_example_cases_match_the_engine(run):
    bad = _compare_ledgers(run, run["qingling"], run["qclayout"], [(c.facts, p) for c, p in run["qcases"]])[0]
    _report(bad, len(run["qcases"]), "示例用例（百日清零）")
    assert len(run["qcases"]) >= 18
