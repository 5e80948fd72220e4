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
from ._terminal import card_text, flagged_lines, marks, rank_text, shown, summarise_blanks, wrap


def _console(buf: io.StringIO) -> Console:
    return Console(file=buf, width=140, no_color=True, highlight=False, emoji=False,
                   soft_wrap=False, force_terminal=False)


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
    extra = marks(c.rollups, c.flags)  # e.g. each city's 进度滞后 areas, beside its rank (for the 通报)
    ranking = any(ru.ranks is not None for ru in c.rollups)
    for ru in c.rollups:
        ranked_ = ru.ranks is not None
        t = Table(title=ru.label + ("（排名）" if ranked_ else ""), box=box.SIMPLE_HEAD, show_edge=False)
        if ranked_:
            t.add_column("名次", justify="right", no_wrap=True)
        t.add_column("分组")
        for label in c.labels.values():
            t.add_column(label, justify="right")
        for head, _ in extra if ranked_ else ():
            t.add_column(head, max_width=30, overflow="fold")
        for key, vals in ru.groups.items():
            t.add_row(*([rank_text(ru, key)] if ranked_ else []), key or "（空）",
                      *[num.metric(shown(ru, key, vals.get(m))) for m in c.labels],
                      *[by_body.get(key, "") for _, by_body in (extra if ranked_ else ())])
        if ru.total is not None:
            t.add_row(*([""] if ranked_ else []), ru.total_label or "合计",
                      *[num.metric(ru.total.get(m)) for m in c.labels], *[""] * (len(extra) if ranked_ else 0))
        con.print(t)
        if ru.flagged is not None and not ranking:  # no ranking to show them beside
            con.print(f"{c.flags.get(ru.label, '标记')}的分组（{ru.label}）：")
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
