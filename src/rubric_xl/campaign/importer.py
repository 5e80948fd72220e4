"""``campaign import``: read submitted workbooks into the store (自评).

Each workbook is read with the campaign's stored pack, its identity checked
(:mod:`.identity`), its facts converted leniently (a value that does not
convert is reported and left blank) and stored with its 自评 score card.
Unreadable or unidentifiable files are recorded as rejected; duplicates in
one import are refused; a re-submission supersedes the earlier one.  Files
are only read, never written.  All events of one import are appended in one
transaction.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..audit import FileResult, collect_files
from ..audit._one import _ledger_rows, convert_lenient  # the auditor's lenient conversion and ledger row problems
from ..engine.card import LedgerCard
from ..engine import score_values
from ..errors import Problem, RubricError
from ..reader import read_workbook
from .codec import encode
from .identity import identify, info_unit, name_unit
from .state import derive
from .store import Campaign, NewEvent, Store

MAX_FILE = 64 * 1024 * 1024  # a submission workbook is a few hundred KB

OUTCOME_TEXT = {"new": "已导入", "resubmitted": "已导入（替代此前上报）", "unchanged": "与已导入的文件相同，未重复导入",
                "rejected": "未导入", "duplicate": "未导入（重复）"}


@dataclass
class FileOutcome:
    file: str
    unit: str | None
    outcome: str  # new | resubmitted | unchanged | rejected | duplicate
    problems: list[Problem] = field(default_factory=list)
    status: str | None = None  # the unit's status after the import
    sha256: str = ""

    def to_dict(self) -> dict:
        return {"file": self.file, "unit": self.unit, "outcome": self.outcome,
                "outcome_text": OUTCOME_TEXT[self.outcome], "status": self.status,
                "problems": [p.as_dict() for p in self.problems]}


@dataclass
class ImportReport:
    files: list[FileOutcome]
    missing: list[str]

    @property
    def ok(self) -> bool:
        return not any(f.outcome in ("rejected", "duplicate") or f.status in ("error", "failed")
                       for f in self.files)


def _card_record(card) -> dict:
    if isinstance(card, LedgerCard):
        out = {"kind": "ledger", "rows": len(card.rows), "errors": card.error_count, "warnings": card.warning_count}
        if card.more:  # several tables: each one's counts, pack order (``rows`` is the first table's)
            out["tables"] = [{"table": t.table, "label": t.label, "rows": len(t.rows), "errors": t.error_count,
                              "warnings": t.warning_count} for t in card.tables]
        return out
    return {"total": format(card.total, "f"), "grade": card.grade, "provisional": card.provisional,
            "eligible": card.eligible, "flags": list(card.flags),
            "items": {it.id: None if it.points is None else format(it.points, "f") for it in card.items}}


def _problem(p: Problem, fact: str | None) -> dict:
    d = p.as_dict()
    d["fact"] = fact
    return d


def read_one(campaign: Campaign, path: str, manifest: dict[str, str] | None) -> tuple[NewEvent, FileOutcome]:
    """The submit (or reject) event for one file."""
    pack = campaign.pack()
    shown = Path(path).name
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        size = -1
        err = [Problem(shown, f"无法读取文件：{exc.strerror or exc}")]
    else:
        err = [Problem(shown, f"文件过大（{size // 1024 // 1024} MB），不是填报工作簿")] if size > MAX_FILE else []
    data = b""
    if not err:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            err = [Problem(shown, f"无法读取文件：{exc.strerror or exc}")]
    digest = hashlib.sha256(data).hexdigest() if data else ""
    guess = (manifest or {}).get(shown) or name_unit(shown, campaign.units)
    guess = guess if guess in campaign.units else None
    reading = None
    if not err:
        try:
            reading = read_workbook(path, pack, shown)
        except RubricError as exc:
            err = list(exc.problems) or [Problem(shown, exc.message)]
    if reading is None:
        return (NewEvent("reject", guess, {"file": shown, "sha256": digest, "problems": [p.as_dict() for p in err]}),
                FileOutcome(shown, guess, "rejected", err, sha256=digest))
    ident = identify(shown, shown, campaign.units, reading.meta.get("unit") or None, info_unit(reading.book),
                     manifest)
    if ident.unit is None:
        unit = guess if ident.sources and guess in ident.sources.values() else None
        return (NewEvent("reject", unit, {"file": shown, "sha256": digest,
                                           "problems": [p.as_dict() for p in ident.problems]}),
                FileOutcome(shown, unit, "rejected", ident.problems, sha256=digest))
    values, bad_problems, _bad = convert_lenient(reading)
    card = score_values(pack, values)
    if isinstance(card, LedgerCard):
        bad_problems = bad_problems + _ledger_rows(reading, card)
    sub = reading.submission
    by_loc = {sub.where(k): k.partition("[")[0] for k in sub.locs}
    problems = [_problem(p, by_loc.get(p.loc)) for p in reading.problems + bad_problems]
    payload = {"file": shown, "sha256": digest, "size": size, "facts": encode(pack, values),
               "problems": problems, "self_card": _card_record(card),
               "workbook_pack": {"id": reading.meta.get("pack_id"), "version": reading.meta.get("pack_version"),
                                 "hash": reading.meta.get("pack_hash")},
               "identity": ident.sources}
    shown_problems = [Problem(p["loc"], p["msg"], p["level"]) for p in problems]
    return NewEvent("submit", ident.unit, payload), FileOutcome(shown, ident.unit, "new", shown_problems,
                                                                sha256=digest)


def import_files(store: Store, campaign: Campaign, paths: list[str], manifest: dict[str, str] | None = None,
                 actor: str = "rubric-xl") -> ImportReport:
    entries = collect_files(paths)
    before = derive(campaign, store.events(campaign))
    current = {u.unit: u.submission.payload.get("sha256") for u in before.units.values() if u.submission}
    pairs: list[tuple[NewEvent, FileOutcome]] = []
    for e in entries:
        if isinstance(e, FileResult):  # a path that does not exist or holds no workbook
            pairs.append((None, FileOutcome(Path(e.file).name, None, "rejected", e.problems)))  # type: ignore[arg-type]
            continue
        pairs.append(read_one(campaign, e, manifest))
    by_unit: dict[str, list[int]] = {}
    for i, (ev, out) in enumerate(pairs):
        if ev is not None and ev.kind == "submit":
            by_unit.setdefault(out.unit, []).append(i)  # type: ignore[arg-type]
    for unit, idx in by_unit.items():
        shas = {pairs[i][1].sha256 for i in idx}
        if len(shas) > 1:
            names = "、".join(pairs[i][1].file for i in idx)
            for i in idx:
                out = pairs[i][1]
                out.outcome = "duplicate"
                out.problems.insert(0, Problem(out.file, f"单位“{unit}”在本次导入中有 {len(idx)} 个不同的文件（{names}）；"
                                                         "请只保留正确的一份后重新导入"))
                pairs[i] = (None, out)  # type: ignore[assignment]
        else:
            for i in idx[1:]:
                out = pairs[i][1]
                out.outcome = "unchanged"
                pairs[i] = (None, out)  # type: ignore[assignment]
    events = []
    for ev, out in pairs:
        if ev is None:
            continue
        if ev.kind == "submit":
            if current.get(out.unit) == out.sha256:
                out.outcome = "unchanged"
                continue
            if out.unit in current:
                out.outcome = "resubmitted"
        events.append(NewEvent(ev.kind, ev.unit, ev.payload, actor))
    store.append(campaign, events)
    after = derive(campaign, store.events(campaign))
    for _, out in pairs:
        if out.unit in after.units and out.outcome != "rejected" and out.outcome != "duplicate":
            out.status = after.units[out.unit].status
    missing = [u.unit for u in after.units.values() if u.status == "missing"]
    return ImportReport([out for _, out in pairs], missing)


def is_input(store: Store, campaign: Campaign, path: str | Path) -> bool:
    """True when *path* is a file this campaign imported (same sha256): an output must never replace it."""
    p = Path(path)
    if not p.is_file():
        return False
    try:
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
    except OSError:
        return False
    return any(ev.payload.get("sha256") == digest for ev in store.events(campaign) if ev.kind in ("submit", "reject"))
