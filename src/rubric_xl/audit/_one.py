"""Re-score one workbook from its inputs; never raises for a bad file.

Steps: read the workbook against its pack, convert the facts (a value that
breaks the input contract is reported and its items are 有误, the total
provisional), score, report missing inputs, ledger submission checks and row
problems and result cells that disagree with the recomputation.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine import score_values
from ..engine.ledger import plan_for as ledger_plan
from ..engine import num
from ..engine.card import LedgerCard, ScoreCard, to_dict
from ..engine.facts import Invalid, read_facts
from ..errors import FactsError, Problem, RubricError
from ..reader import Reading, load_cached, read_workbook
from ..rules.catalog import cached
from ..rules import RulePack
from ._tamper import compare_results

STATUS_TEXT = {"ok": "正常", "provisional": "暂定", "error": "有错误", "failed": "无法评分"}


@dataclass
class FileResult:
    """The outcome for one workbook (picklable: crosses process boundaries)."""

    file: str
    unit: str | None = None
    problems: list[Problem] = field(default_factory=list)
    card: ScoreCard | LedgerCard | None = None
    values: dict[str, Any] | None = None  # converted facts (ledgers: for the city roll-up)
    pack_source: str | None = None
    seconds_read: float = 0.0
    seconds_score: float = 0.0
    encoded: str | None = None  # its line of the batch JSON (_reports.file_json), made in the worker
    scored_from: dict[str, Any] | None = field(default=None, repr=False, compare=False)  # a rubric card's values

    def __getstate__(self) -> dict[str, Any]:
        """A rubric card computed by the engine crosses a process boundary as
        the values it was computed from: scoring them again where the result
        arrives is several times cheaper than pickling the card, and gives
        the very same card (the engine is a pure function of pack and values)."""
        state = self.__dict__.copy()
        if isinstance(self.card, ScoreCard) and self.scored_from is not None and self.pack_source \
                and Path(self.pack_source).is_file():
            state["card"] = None
            state["_rescore"] = self.card.pack.hash
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        want = state.pop("_rescore", None)
        self.__dict__.update(state)
        if want is None:
            return
        try:
            pack = cached(want) or load_cached(self.pack_source)  # type: ignore[arg-type]
            if pack.hash == want:
                self.card = score_values(pack, self.scored_from)  # type: ignore[arg-type]
                return
        except Exception:  # the pack file is gone or broken now: said below, never raised here
            pass
        self.problems = self.problems + [Problem(self.file, (
            f"规则包文件 {self.pack_source} 在评分过程中被改动或无法读取，此文件的结果未能取回；请重新评分"))]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def status(self) -> str:
        if self.card is None:
            return "failed"
        if self.errors:
            return "error"
        if isinstance(self.card, ScoreCard) and self.card.provisional:
            return "provisional"
        return "ok"

    def to_dict(self) -> dict:
        """The facts-file score card's fields plus file, unit, status, problems."""
        out: dict[str, Any] = {"file": self.file, "unit": self.unit}
        if self.card is not None:
            out.update(to_dict(self.card))
        else:
            out["kind"] = None
        out["status"] = self.status
        out["problems"] = [p.as_dict() for p in self.problems]
        return out


def convert_lenient(reading: Reading) -> tuple[dict[str, Any], list[Problem], set[str]]:
    """Convert every fact (the input contract); a value that breaks it is
    reported and kept as invalid, so its items are 有误 and the total provisional."""
    sub = reading.submission
    values, problems = read_facts(reading.pack, sub.raw, reading.file, sub.where, sub.locs.get)
    bad = {k for k, v in values.items() if isinstance(v, Invalid)}
    return values, problems, bad


def _missing(reading: Reading, card: ScoreCard, bad: set[str], strict: bool) -> list[Problem]:
    """One problem per blank input that leaves an item 待填 (errors with --strict)."""
    need: dict[str, list[str]] = {}
    for it in card.items:
        for f in it.missing:
            need.setdefault(f, []).append(it.id)
    level = "error" if strict else "warning"
    return [Problem(reading.submission.where(fid),
                    f"{reading.pack.facts[fid].label}：未填写（第{'、'.join(items)}项待填，总分为暂定分）", level)
            for fid, items in need.items() if fid not in bad]  # a wrong value is reported already


def _ledger_rows(reading: Reading, card: LedgerCard) -> list[Problem]:
    """Every row problem of every table, pointing at the cell (a pack with
    several tables names the table: 违法排污行为大整治工作台账第3条)."""
    sub = reading.submission
    tables = card.tables
    out = []
    for t in tables:
        table = t.table
        what = t.label if len(tables) > 1 else "台账"
        for row in t.rows:
            for level, items in (("error", row.errors), ("warning", row.warnings)):
                for p in items:
                    key = f"{table}[{row.index}].{p.columns[0]}" if p.columns else f"{table}[{row.index}]"
                    if key not in sub.locs:
                        key = f"{table}[{row.index}]"
                    name = f"（{row.key}）" if row.key else ""
                    out.append(Problem(sub.where(key), f"{what}第{row.index}条{name}：{p.message}", level))
    return out


def _submission_checks(reading: Reading, card: LedgerCard) -> list[Problem]:
    """The pack's checks of the whole submission that fired (逾期报送), each at
    the cell of the first top-level fact it reads, with the values it read —
    where the top-level facts' own problems point."""
    sub = reading.submission
    out = []
    for p in card.checks:
        read = [f"{reading.pack.facts[f].label}为{'（空）' if card.facts.get(f) is None else num.value(card.facts[f])}"
                for f in p.columns]
        out.append(Problem(sub.where(p.columns[0]) if p.columns else sub.file,
                           p.message + (f"（{'，'.join(read)}）" if read else ""), p.level))
    return out


def score_workbook(path: str | Path, rules: RulePack | str | Path | None = None,
                   strict: bool = False, display: str | None = None, executor: str = "engine") -> FileResult:
    """Re-score one workbook.  Every problem ends up in ``FileResult.problems``.
    *executor* ``durable``: computed on durable-rules (:mod:`rubric_xl.durable`)."""
    shown = display or str(path)
    res = FileResult(shown)
    t0 = time.perf_counter()
    try:
        reading = read_workbook(path, rules, shown)
    except RubricError as exc:
        res.problems = list(exc.problems) or [Problem(shown, exc.message)]
        res.seconds_read = time.perf_counter() - t0
        return res
    t1 = time.perf_counter()
    res.seconds_read = t1 - t0
    res.unit = reading.submission.unit
    res.pack_source = reading.pack.source
    res.problems = list(reading.problems)
    try:
        values, bad_values, bad = convert_lenient(reading)
        res.problems += bad_values
        if executor == "durable":
            from ..durable import ruleset_for
            rs = ruleset_for(reading.pack)
            card = rs.run(values, reading.submission.where) if reading.pack.model.kind == "ledger" else rs.run(values)
        elif reading.pack.model.kind == "ledger":  # checks the top-level facts too
            card = ledger_plan(reading.pack).run(values, reading.submission.where)
        else:
            card = score_values(reading.pack, values)
            res.scored_from = values
    except RubricError as exc:  # a top-level value read as invalid is refused again: said once
        res.problems += [p for p in exc.problems if p not in res.problems] or [Problem(shown, exc.message)]
        res.seconds_score = time.perf_counter() - t1
        return res
    res.card = card
    if isinstance(card, LedgerCard):
        res.values = values
        res.problems += _submission_checks(reading, card) + _ledger_rows(reading, card)
        if not res.unit:  # the reporting body: a top-level fact the ledger groups by
            by = [g.by for g in reading.pack.model.ledger.groupings if g.by in values]  # type: ignore[union-attr]
            res.unit = next((str(values[b]) for b in by if values[b] is not None), None)
    else:
        res.problems += _missing(reading, card, bad, strict)
        try:
            res.problems += compare_results(reading.book, card)
        except RubricError as exc:  # a damaged 评分 sheet: the inputs were read, the score stands
            res.problems += [Problem(p.loc, p.msg, "warning") for p in exc.problems]
    res.seconds_score = time.perf_counter() - t1
    return res
