"""The ``table`` format: readable Chinese text for a batch (or one workbook)."""
from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table

from ..engine import num
from ..engine.card import LedgerCard, ScoreCard
from ._one import STATUS_TEXT, FileResult
from ._reports import LEVEL_TEXT, Combined, _short_loc
from ._terminal import card_text, console, flagged_lines, marks, rank_text, rollup_table, shown, summarise_blanks, wrap


def _console(buf: io.StringIO) -> Console:
    return console(buf, 140)


def _problems(con: Console, results: list[FileResult]) -> None:
    rows = [(r, p) for r in results for p in summarise_blanks(r.problems)]
    if not rows:
        return
    t = Table(title="问题清单", box=box.SIMPLE_HEAD, show_edge=False)
    t.add_column("文件", max_width=30, overflow="fold")
    t.add_column("位置", max_width=22, overflow="fold")
    t.add_column("级别", no_wrap=True)
    t.add_column("问题", max_width=70, overflow="fold")
    for r, p in rows:
        t.add_row(wrap(r.file, 30), wrap(_short_loc(r, p.loc), 22), LEVEL_TEXT.get(p.level, p.level), wrap(p.msg, 70))
    con.print(t)


def _combined(con: Console, c: Combined) -> None:
    con.print(f"{c.info.title}（{len(c.files)} 份台账汇总）")
    for tc in c.tables:
        if len(c.tables) > 1:
            con.print(tc.label)
        _combined_table(con, tc)


def _combined_table(con: Console, tc) -> None:
    """One table's combined roll-ups; a ranked grouping gets its 名次 column and
    each body's flagged groups beside it (e.g. 进度滞后 areas, for the 通报)."""
    extra = marks(tc.rollups, tc.flags)
    ranking = any(ru.ranks is not None for ru in tc.rollups)
    for ru in tc.rollups:
        if ru.ranks is None:
            con.print(rollup_table(ru, tc.labels))
        else:
            t = Table(title=ru.label + "（排名）", box=box.SIMPLE_HEAD, show_edge=False)
            t.add_column("名次", justify="right", no_wrap=True)
            t.add_column("分组")
            for label in tc.labels.values():
                t.add_column(label, justify="right")
            for head, _ in extra:
                t.add_column(head, max_width=30, overflow="fold")
            for key, vals in ru.groups.items():
                t.add_row(rank_text(ru, key), key or "（空）",
                          *[num.metric(shown(ru, key, vals.get(m))) for m in tc.labels],
                          *[by_body.get(key, "") for _, by_body in extra])
            if ru.total is not None:
                t.add_row("", ru.total_label or "合计", *[num.metric(ru.total.get(m)) for m in tc.labels],
                          *[""] * len(extra))
            con.print(t)
        if ru.flagged is not None and not ranking:  # no ranking to show them beside
            con.print(f"{tc.flags.get(ru.label, '标记')}的分组（{ru.label}）：")
            for line in flagged_lines(ru) or ["无"]:
                con.print("  " + line)


def batch_text(results: list[FileResult], combined: list[Combined]) -> str:
    buf = io.StringIO()
    con = _console(buf)
    if len(results) == 1 and results[0].card is not None:
        r = results[0]
        con.print(f"文件：{r.file}    单位：{r.unit or '（未填）'}    状态：{STATUS_TEXT[r.status]}")
        buf.write(card_text(r.card))
        _problems(con, results)
        return buf.getvalue().rstrip() + "\n"
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for h, j in (("序号", "right"), ("文件", "left"), ("单位", "left"), ("总分", "right"),
                 ("等次", "left"), ("状态", "left"), ("错误", "right"), ("警告", "right")):
        t.add_column(h, justify=j, max_width=36 if h == "文件" else None, overflow="fold",
                     no_wrap=j == "right")  # numbers never break
    for i, r in enumerate(results, start=1):
        card = r.card
        if isinstance(card, ScoreCard):
            total, grade = num.amount(card.total), card.grade or ""
        elif isinstance(card, LedgerCard):
            total, grade = f"{len(card.rows)} 条", ""
        else:
            total, grade = "—", ""
        errors = len(r.errors)
        t.add_row(str(i), r.file, r.unit or "", total, grade, STATUS_TEXT[r.status],
                  str(errors), str(len(r.problems) - errors))
    con.print(t)
    for c in combined:
        _combined(con, c)
    _problems(con, results)
    return buf.getvalue().rstrip() + "\n"
