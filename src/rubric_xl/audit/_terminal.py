"""Terminal text: one score card or ledger card as rich tables (plain text
when piped), cell wrapping, and many problems of one kind said once.  Shared
by ``rubric-xl score --facts``, the auditor's ``table`` format and the CLI's
error messages.

Long cells are wrapped here, before rich sees them, so a line never breaks
inside a number ("得2.50分" stays whole) and never starts with a comma.
"""
from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any, Iterable

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from ..engine import num
from ..engine.card import LedgerCard, PackInfo, Rollup, ScoreCard
from ..errors import Problem
from ..rules import catalog
from ..rules.wording import points_state

# a number, date, id or latin word stays on one line: 2.50  2005-07-15  95%  A1
_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z.,:/%_+\-]*[0-9A-Za-z%]|[0-9A-Za-z]|\s+|.", re.S)
_CLOSING = set("，。；：、）》」』”’！？%,.;:!?)]")  # never at the start of a line
_OPENING = set("（《「『“‘([")  # never at the end of a line


def console(buf: io.StringIO, width: int = 120) -> Console:
    """The one console for text output: plain, and never reading ``[…]`` in a
    value (a unit, a file name, a pack text) as rich markup."""
    return Console(file=buf, width=width, no_color=True, highlight=False, markup=False,
                   emoji=False, soft_wrap=False, force_terminal=False)


def _tokens(line: str) -> list[list[str]]:
    """Unbreakable groups of pieces: "（得", "2.50分；"; a group wider than a
    line may still break between its pieces."""
    out: list[list[str]] = []
    glue = unit = False
    for t in _TOKEN.findall(line):
        if t in _CLOSING and len(out) > 1 and "".join(out[-1]).isspace():
            space = out.pop()  # "扣 ，" keeps the comma with the word before the space
            out[-1] += space + [t]
        elif out and (glue or t in _CLOSING or (unit and cell_len(t) == 2)):
            out[-1].append(t)  # "（得", "分；", "2.50分": the unit stays with its number
        else:
            out.append([t])
        glue, unit = t in _OPENING, t[:1].isdigit() and not glue
    return out


def wrap(text: str, width: int) -> str:
    """*text* broken into lines of at most *width* terminal cells, between
    characters of Chinese text or at spaces, never inside a number or word
    (unless one is longer than a whole line)."""
    lines: list[str] = []
    cur = ""

    def put(piece: str) -> None:
        nonlocal cur
        if cell_len(cur + piece) <= width:
            cur += piece
            return
        if cur.strip():
            lines.append(cur.rstrip())
        cur = piece.lstrip()
        while cell_len(cur) > width:  # a single piece wider than the line
            cut = 1
            while cell_len(cur[:cut + 1]) <= width:
                cut += 1
            lines.append(cur[:cut])
            cur = cur[cut:]

    for para in (text or "").split("\n"):
        cur = ""
        for group in _tokens(para):
            joined = "".join(group)
            if cell_len(cur + joined) <= width or cell_len(joined.lstrip()) <= width:
                put(joined)
            else:
                for piece in group:
                    put(piece)
        lines.append(cur.rstrip())
    return "\n".join(lines)


def _pts(d: Decimal | None, status: str = "incomplete") -> str:
    state = points_state(d, status)
    return num.amount(state) if isinstance(state, Decimal) else state


def _header(con: Console, info: PackInfo, title: str | None) -> None:
    con.print(title or info.title)
    con.print(f"规则包 {info.id} 版本 {info.version} 校验码 {info.hash[:12]}")


def card_text(card: ScoreCard | LedgerCard, title: str | None = None) -> str:
    if isinstance(card, LedgerCard):
        return ledger_text(card, title)
    buf = io.StringIO()
    con = console(buf)
    _header(con, card.pack, title)
    state = "（暂定：有待填项目）" if card.provisional else ""
    line = f"总分 {num.amount(card.total)} / {num.amount(card.max)}{state}"
    if card.grade:
        line += f"    等次 {card.grade}"
    if card.eligible is not None:
        line += f"    {card.eligibility_label}：{'具备' if card.eligible else '不具备'}"
    con.print(line)
    cats = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for h, j in (("类别", "left"), ("得分", "right"), ("分值", "right")):
        cats.add_column(h, justify=j, no_wrap=True)
    for c in card.categories:
        cats.add_row(c.name + ("（含待填）" if not c.complete else ""), num.amount(c.points),
                     "加分项" if c.bonus_only else num.amount(c.max))
    con.print(cats)
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    t.add_column("序号", justify="right", no_wrap=True)
    t.add_column("考核内容", max_width=34, overflow="fold")
    t.add_column("得分", justify="right", no_wrap=True)
    t.add_column("分值", justify="right", no_wrap=True)
    t.add_column("说明", max_width=52, overflow="fold")
    for it in card.items:
        t.add_row(it.id, wrap(it.title, 34), _pts(it.points, it.status), num.amount(it.max), wrap(it.explanation, 52))
    con.print(t)
    if card.flags:
        con.print("通报事项：" + "；".join(card.flags))
    return buf.getvalue().rstrip() + "\n"


def _pack_of(info: PackInfo):
    """The pack of exactly the content a card was scored with, if this process can find it."""
    pack = catalog.cached(info.hash)
    if pack is None:
        match, _ = catalog.find_pack(info.id, info.hash)
        pack = match.pack if match is not None and match.exact else None
    return pack


def fact_labels(info: PackInfo) -> dict[str, str]:
    """Fact id → Chinese label for the pack a card was scored with (the
    pack of exactly that content, if this process can find it)."""
    pack = _pack_of(info)
    return {} if pack is None else {fid: f.label for fid, f in pack.facts.items()}


def decision_labels(info: PackInfo) -> dict[str, dict[str, str]]:
    """Table fact id → (decision id → label) of the pack a card was scored with
    (empty when the pack cannot be found: the rows then show no decisions)."""
    pack = _pack_of(info)
    if pack is None:
        return {}
    return {led.table: {d.id: d.label for d in led.decisions} for led in pack.model.ledgers}


# --- what a roll-up line shows (terminal and xlsx alike) ------------------------


def shown(ru: Rollup, key: str, v: Any) -> Any:
    """A metric value of group *key* as shown: a group without rows (all_options)
    shows its ``empty_label`` (e.g. 无任务) where an all/none metric holds."""
    if v is True and ru.empty_label and key in (ru.empty or ()):
        return ru.empty_label
    return v


def rank_text(ru: Rollup, key: str | None) -> str:
    """The 名次 of a ranked group: ``1``, ties alike; ``—`` when not ranked (its metric not computed)."""
    r = (ru.ranks or {}).get(key) if key is not None else None
    return "—" if r is None else str(r)


def flagged_lines(ru: Rollup) -> list[str]:
    """``太原市：散乱污企业、禁煤区散煤`` for each reporting body with flagged groups."""
    return [f"{who}：{'、'.join(keys)}" for who, keys in (ru.flagged or {}).items() if keys]


def marks(rollups: list[Rollup], flags: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """The flagged groups as extra columns of a ranking: (header such as
    ``进度滞后（按清零领域）``, reporting body → ``散乱污企业、禁煤区散煤``)."""
    return [(f"{flags.get(ru.label, '标记')}（{ru.label}）", {who: "、".join(keys) for who, keys in ru.flagged.items()})
            for ru in rollups if ru.flagged is not None]


def ledger_text(card: LedgerCard, title: str | None = None) -> str:
    """A ledger card: its facts, then per table (pack order) the rows and the
    roll-ups; a pack with several tables heads each with the table's label."""
    buf = io.StringIO()
    con = console(buf)
    _header(con, card.pack, title)
    labels = fact_labels(card.pack)
    con.print(wrap("    ".join(f"{labels.get(k, k)}：{num.value(v) if v is not None else '（空）'}"
                             for k, v in card.facts.items()), 118))
    for p in card.checks:  # the pack's checks of the whole submission (逾期报送)
        con.print(wrap(f"{'错误' if p.level == 'error' else '警告'}：{p.message}", 118))
    tables = card.tables
    decisions = decision_labels(card.pack)
    for t in tables:
        head = f"{t.label}：" if len(tables) > 1 else ""
        con.print(f"{head}共 {len(t.rows)} 行，错误 {t.error_count} 处，警告 {t.warning_count} 处")
        _table_text(con, t, decisions.get(t.table, {}))
    return buf.getvalue().rstrip() + "\n"


def _table_text(con: Console, table, decisions: dict[str, str]) -> None:
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    t.add_column("行", justify="right", no_wrap=True)
    t.add_column("名称", max_width=24, overflow="fold")
    t.add_column("状态", no_wrap=True)
    for label in decisions.values():
        t.add_column(label, no_wrap=True)
    t.add_column("错误", max_width=40, overflow="fold")
    t.add_column("警告", max_width=40, overflow="fold")
    for r in table.rows:
        t.add_row(str(r.index), wrap(r.key or "", 24), r.status,
                  *[str(r.values.get(d) or "") for d in decisions],
                  wrap("；".join(e.message for e in r.errors), 40),
                  wrap("；".join(w.message for w in r.warnings), 40))
    con.print(t)
    for ru in table.rollups:
        con.print(rollup_table(ru, table.metric_labels))


WIDE_METRICS = 7  # more metrics than this: one line per metric, a column per group


def rollup_table(ru, metric_labels: dict[str, str]) -> Table:
    """One roll-up as a text table: a line per group (a column per metric), or,
    with more than :data:`WIDE_METRICS` metrics, a line per metric and a column
    per group (twelve metric columns do not fit a terminal)."""
    lines = [(key, vals) for key, vals in ru.groups.items()]
    if ru.total is not None:
        lines.append((ru.total_label or "合计", ru.total))
    rt = Table(title=ru.label, box=box.SIMPLE_HEAD, show_edge=False)
    if len(metric_labels) > WIDE_METRICS:
        rt.add_column("指标")
        for key, _ in lines:
            rt.add_column(key or "（空）", justify="right", no_wrap=True)
        for mid, label in metric_labels.items():
            rt.add_row(label, *[num.metric(shown(ru, key, vals.get(mid))) for key, vals in lines])
        return rt
    rt.add_column("分组")
    for mid, label in metric_labels.items():
        rt.add_column(label, justify="right", no_wrap=True)
    for key, vals in lines:
        rt.add_row(key or "（空）", *[num.metric(shown(ru, key, vals.get(mid))) for mid in metric_labels])
    return rt


# --- many problems of one kind, said once ---------------------------------------

BLANK_MARK = "：未填写（"  # audit._one: "<label>：未填写（第n项待填，总分为暂定分）"
UNKNOWN_MARK = "未知的事实 "  # engine.facts: "未知的事实 'x'（规则包中没有此事实）"
SHOW_NAMES = 3


def _names(names: list[str]) -> str:
    return "、".join(names[:SHOW_NAMES]) + (" 等" if len(names) > SHOW_NAMES else "")


def _sheets(group: list[Problem]) -> str:
    """``file 填报`` for locations ``file 填报!D12``, ``file 填报!D14``…"""
    file, _, cell = group[0].loc.rpartition(" ")
    if not file:
        return group[0].loc
    sheets = list(dict.fromkeys(q.loc.rpartition(" ")[2].split("!")[0] for q in group))
    return f"{file} {'、'.join(sheets)}"


def summarise_blanks(problems: Iterable[Problem], least: int = 4) -> list[Problem]:
    """The problems with the "未填写" warnings of a file (when there are at
    least *least*) replaced by one line with their count and the first names."""
    problems = list(problems)
    blanks = [p for p in problems if BLANK_MARK in p.msg]
    if len(blanks) < least:
        return problems
    by_level: dict[str, list[Problem]] = {}
    for p in blanks:
        by_level.setdefault(p.level, []).append(p)
    out: list[Problem] = []
    done: set[str] = set()
    for p in problems:
        if BLANK_MARK not in p.msg:
            out.append(p)
        elif p.level not in done:
            done.add(p.level)
            group = by_level[p.level]
            names = [q.msg.split(BLANK_MARK, 1)[0] for q in group]
            out.append(Problem(_sheets(group), f"{len(group)} 项未填写（相关评分项待填，总分为暂定分）：{_names(names)}",
                               p.level))
    return out


def unknown_facts(problems: Iterable[Problem]) -> list[str]:
    """Fact ids of the "未知的事实" problems (loc ``source: fact_id``)."""
    return [p.loc.rsplit(": ", 1)[-1] for p in problems if p.msg.startswith(UNKNOWN_MARK)]


def summarise_other_pack(problems: Iterable[Problem], least: int = 3) -> list[Problem]:
    """Unknown facts that all belong to one other known pack, said once:
    "这些事实属于规则包 shanxi-2005"."""
    problems = list(problems)
    ids = unknown_facts(problems)
    if len(ids) < least:
        return problems
    found, _ = catalog.available()
    owner = next((m.pack for m in found if all(i in m.pack.facts for i in ids)), None)
    if owner is None:
        return problems
    first = next(p for p in problems if p.msg.startswith(UNKNOWN_MARK))
    source = first.loc.rsplit(": ", 1)[0]
    line = Problem(source, (f"有 {len(ids)} 个事实不属于所用的规则包，而属于规则包 {owner.id}"
                            f"（{owner.model.title}）：{_names(ids)}；请改用该规则包（--rules {owner.id}）或它的填报模板"))
    out = [p for p in problems if not p.msg.startswith(UNKNOWN_MARK)]
    return [line] + out
