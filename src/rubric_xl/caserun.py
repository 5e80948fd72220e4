"""Run a pack's example cases (``rules/cases/<pack>.yaml``) through the engine.

The case file is parsed and checked against the pack by ``rules.cases``; this
module scores each case and compares what it states (only that) with the score
card.  Numbers compare as Decimal equality after quantizing the actual value to
0.01; check-id lists compare as sets.  Failures are Chinese sentences such as
``第10项：期望 2.00 分，实际 1.50 分``.  ``rubric-xl rules test`` uses it.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from . import engine
from ._decimal import plain
from .engine.facts import read_facts
from .errors import RubricError
from .engine.facts import convert_facts
from .engine.ledger import plan_for as ledger_plan_for
from .rules.cases import CENT, TOTAL_KEY, Case, CaseResult, CombinedCase, Expect, find_grouping
from .rules.pack import RulePack


Score = Callable[..., Any]


def run_cases(pack: RulePack, cases: list[Case], score: Score | None = None,
              score_values: Score | None = None) -> list[CaseResult]:
    """Score every case with *score* (default :func:`rubric_xl.engine.score`; ``rules test
    --engine durable`` passes durable-rules' one) — a ``keep_invalid`` case with
    *score_values* (default :func:`rubric_xl.engine.score_values`) after reading its facts
    as a workbook is read; never raises for a case's own problems."""
    return [r for r, _ in run_cases_cards(pack, cases, score, score_values)]


def run_cases_cards(pack: RulePack, cases: list[Case], score: Score | None = None,
                    score_values: Score | None = None) -> list[tuple[CaseResult, Any]]:
    """As :func:`run_cases`, each result with its score card (None when scoring raised),
    for ``rules test --coverage`` (:mod:`rubric_xl.coverage`)."""
    return [_run(pack, c, score, score_values) for c in cases]


def run_case(pack: RulePack, case: Case, score: Score | None = None, score_values: Score | None = None) -> CaseResult:
    return _run(pack, case, score, score_values)[0]


def _score(pack: RulePack, case: Case, score: Score | None, score_values: Score | None) -> Any:
    if not case.keep_invalid:
        return (score or engine.score)(pack, case.facts, source=case.name)
    values, _ = read_facts(pack, case.facts, case.name, facts_file=True)  # bad values kept as 有误
    return (score_values or engine.score_values)(pack, values)


def _run(pack: RulePack, case: Case, score: Score | None, score_values: Score | None) -> tuple[CaseResult, Any]:
    e = case.expect
    failures: list[str] = []
    try:
        card = _score(pack, case, score, score_values)
    except RubricError as exc:
        text = str(exc)
        if e.error is None:
            failures.append(f"意外报错：{text}")
        elif e.error not in text:
            failures.append(f"期望报错信息包含“{e.error}”，实际报错为：{text}")
        return CaseResult(case.name, not failures, failures, case.loc), None
    except Exception as exc:  # an engine defect: report it, keep running the others
        failures.append(f"程序内部错误 {type(exc).__name__}：{exc}")
        return CaseResult(case.name, False, failures, case.loc), None
    if e.error is not None:
        failures.append(f"期望报错（含“{e.error}”），实际未报错")
    elif card.kind == "rubric":
        failures.extend(_compare_rubric(card, e))
    else:
        failures.extend(_compare_ledger(card, e))
    return CaseResult(case.name, not failures, failures, case.loc), card


Combine = Callable[..., Any]


def run_combined(pack: RulePack, cases: list[CombinedCase], combine: Combine | None = None) -> list[CaseResult]:
    """Roll up the submissions of every combined case together with *combine*
    (default the engine's :meth:`~rubric_xl.engine.ledger.LedgerPlan.combine_tables`;
    ``rules test --engine durable`` passes durable-rules' one) and compare what the
    case states; never raises for a case's own problems."""
    if not cases:
        return []
    if combine is None:
        combine = ledger_plan_for(pack).combine_tables
    return [_run_combined(pack, c, combine) for c in cases]


def _run_combined(pack: RulePack, case: CombinedCase, combine: Combine) -> CaseResult:
    failures: list[str] = []
    try:
        names = [f"{case.name} 第{n}份" for n in range(1, len(case.submissions) + 1)]
        values = [convert_facts(pack, sub, name) for sub, name in zip(case.submissions, names)]
        per_table = combine(values, names)
    except RubricError as exc:
        return CaseResult(case.name, False, [f"意外报错：{exc}"], case.loc)
    except Exception as exc:  # an engine defect: report it, keep running the others
        return CaseResult(case.name, False, [f"程序内部错误 {type(exc).__name__}：{exc}"], case.loc)
    tables = [cl.model for cl in pack.ledgers]
    labels = {f.id: f.label for f in pack.model.facts}
    several = len(tables) > 1
    want = case.expect.per_table(tables[0].table)
    for lg, rollups in zip(tables, per_table):
        te = want.get(lg.table)
        if te is None:
            continue
        head = f"{labels.get(lg.table, lg.table)}：" if several else ""
        msgs = _compare_rollups(rollups, te.rollups)
        for gname, ranks in te.ranks.items():
            ru = find_grouping(rollups, gname)
            for key, rank in ranks.items():
                if key not in (ru.ranks or {}):
                    msgs.append(f"排名“{ru.label}”：没有 {key}（实有：{_list(ru.ranks or {})}）")
                elif ru.ranks[key] != rank:
                    msgs.append(f"排名“{ru.label}” {key}：期望第 {_show(rank)} 名，实际第 {_show(ru.ranks[key])} 名")
        for gname, flagged in te.flagged.items():
            ru = find_grouping(rollups, gname)
            for who, groups in flagged.items():
                have = (ru.flagged or {}).get(who)
                if have is None:
                    msgs.append(f"标记“{ru.label}”：没有 {who}（实有：{_list(ru.flagged or {})}）")
                elif set(have) != set(groups):
                    msgs.append(f"标记“{ru.label}” {who}：期望 {_list(set(groups))}，实际 {_list(set(have))}")
        failures.extend(head + m for m in msgs)
    return CaseResult(case.name, not failures, failures, case.loc)


def _pts(d: Decimal | None) -> str:
    return "待填" if d is None else f"{d.quantize(CENT)} 分"


def _q(d: Decimal) -> Decimal:
    return d.quantize(CENT)


def _yn(b: Any) -> str:
    return {True: "是", False: "否", None: "无"}.get(b, str(b))


def _list(xs) -> str:
    return "、".join(sorted(xs)) if xs else "无"


def _compare_rubric(card, e: Expect) -> list[str]:
    out: list[str] = []
    for iid, ie in e.items.items():
        it = card.item(iid)
        head = f"第{iid}项："
        want_status = ie.status or ("scored" if ie.points is not None or ie.zeroed is not None else None)
        if want_status == "incomplete" and it.status != "incomplete":
            out.append(f"{head}期望 待填，实际 {_pts(it.points)}（{it.explanation}）")
            continue  # the other comparisons would only repeat this one
        if want_status == "invalid" and it.status != "invalid":
            out.append(f"{head}期望 有误，实际 {it.explanation}")
            continue
        if want_status == "scored" and it.status != "scored":
            want = f"{_pts(ie.points)}" if ie.points is not None else "已评分"
            out.append(f"{head}期望 {want}，实际 {it.explanation}")
            continue
        if ie.points is not None and _q(it.points) != ie.points:
            out.append(f"{head}期望 {_pts(ie.points)}，实际 {_pts(it.points)}")
        if ie.zeroed is not None and it.zeroed != ie.zeroed:
            out.append(f"{head}期望{'' if ie.zeroed else '未'}判为不得分，实际{'' if it.zeroed else '未'}判为不得分"
                       f"（{it.explanation}）")
        if ie.flags is not None and sorted(it.flags) != sorted(ie.flags):
            out.append(f"{head}期望标记 {_list(ie.flags)}，实际 {_list(it.flags)}")
        if ie.explain is not None and ie.explain not in it.explanation:
            out.append(f"{head}说明应包含“{ie.explain}”，实际说明为“{it.explanation}”")
        if ie.missing is not None and set(it.missing) != set(ie.missing):
            out.append(f"{head}期望待填事实 {_list(ie.missing)}，实际 {_list(it.missing)}")
    cats = {c.name: c for c in card.categories}
    for name, pts in e.categories.items():
        if _q(cats[name].points) != pts:
            out.append(f"类别“{name}”：期望 {_pts(pts)}，实际 {_pts(cats[name].points)}")
    if e.total is not None and _q(card.total) != e.total:
        out.append(f"总分：期望 {_pts(e.total)}，实际 {_pts(card.total)}")
    if e.grade is not None and card.grade != e.grade:
        out.append(f"等次：期望 {e.grade}，实际 {card.grade or '无'}")
    if e.eligible is not None and card.eligible != e.eligible:
        out.append(f"{card.eligibility_label or '评选资格'}：期望 {_yn(e.eligible)}，实际 {_yn(card.eligible)}")
    if e.provisional is not None and card.provisional != e.provisional:
        out.append(f"暂定分：期望 {_yn(e.provisional)}，实际 {_yn(card.provisional)}")
    if e.flags is not None and sorted(card.flags) != sorted(e.flags):
        out.append(f"标记：期望 {_list(e.flags)}，实际 {_list(card.flags)}")
    return out


def _show(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return _yn(v) if v is not None else "无（null）"
    if isinstance(v, Decimal):
        return plain(v)
    return str(v)


def _same(want: Any, got: Any) -> bool:
    if want is None or isinstance(want, bool):
        return type(got) is type(want) and got == want
    if isinstance(got, bool) or not isinstance(got, (int, Decimal)):
        return False
    return _q(Decimal(got)) == Decimal(want)


def _compare_ledger(card, e: Expect) -> list[str]:
    tables = card.tables
    several = len(tables) > 1
    out: list[str] = []
    for t in tables:
        te = e.per_table(tables[0].table).get(t.table)
        if te is not None:
            out.extend((f"{t.label}：" if several else "") + msg for msg in _compare_table(t, te.rows, te.rollups))
    if e.checks is not None:  # the submission checks that fired, as a set
        have = {p.check for p in card.checks}
        if have != set(e.checks):
            out.append(f"报送检查：期望 {_list(set(e.checks))}，实际 {_list(have)}")
    return out


def _compare_table(card, rows, rollups) -> list[str]:
    """*card*: one table's result (rows, rollups)."""
    return _compare_rows(card.rows, rows) + _compare_rollups(card.rollups, rollups)


def _compare_rows(got_rows, rows) -> list[str]:
    out: list[str] = []
    for r in rows:
        head = f"第{r.row}行："
        if r.row > len(got_rows):
            out.append(f"{head}台账中没有这一行（共 {len(got_rows)} 行）")
            continue
        got = got_rows[r.row - 1]
        for vid, want in r.values.items():
            have = got.values.get(vid)
            if not (have == want if isinstance(want, str) else _same(want, have)):
                out.append(f"{head}{vid} 期望 {_show(want)}，实际 {_show(have)}")
        if r.key is not None and got.key != r.key:
            out.append(f"{head}期望名称 {r.key}，实际 {got.key or '空'}")
        if r.status is not None and got.status != r.status:
            out.append(f"{head}期望状态 {r.status}，实际 {got.status or '无'}")
        for key, word in (("errors", "错误"), ("warnings", "提醒")):
            want = getattr(r, key)
            if want is None:
                continue
            have = {p.check for p in getattr(got, key)}
            if have != set(want):
                out.append(f"{head}期望{word} {_list(set(want))}，实际 {_list(have)}")
    return out


def _compare_rollups(got_rollups, rollups) -> list[str]:
    out: list[str] = []
    for gname, groups in rollups.items():
        ru = find_grouping(got_rollups, gname)
        if ru is None:  # pragma: no cover - checked at load time
            out.append(f"汇总 {gname}：规则包没有这种汇总")
            continue
        for key, vals in groups.items():
            head = f"汇总“{ru.label}” {'合计' if key == TOTAL_KEY else key}："
            line = ru.total if key == TOTAL_KEY else ru.groups.get(key)
            if line is None:
                out.append(f"{head}没有这一组（实有：{_list(ru.groups)}）")
                continue
            for mid, want in vals.items():
                got = line.get(mid)
                if not _same(want, got):
                    out.append(f"{head}{mid} 期望 {_show(want)}，实际 {_show(got)}")
    return out


__all__ = ["run_cases", "run_cases_cards", "run_case", "run_combined"]
