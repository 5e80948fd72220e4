"""Readable Chinese text for score cards and packs (rich tables, plain text when piped)."""
from __future__ import annotations

import io
from decimal import Decimal

from rich import box
from rich.console import Console
from rich.table import Table

from ..engine import num
from ..engine.card import LedgerCard, ScoreCard
from ..rules.pack import RulePack


def _console(buf: io.StringIO, width: int = 120) -> Console:
    return Console(file=buf, width=width, no_color=True, highlight=False,
                   emoji=False, soft_wrap=False, force_terminal=False)


def _pts(d: Decimal | None) -> str:
    return "待填" if d is None else num.amount(d)


def card_text(card: ScoreCard | LedgerCard, title: str | None = None) -> str:
    if isinstance(card, LedgerCard):
        return ledger_text(card, title)
    buf = io.StringIO()
    con = _console(buf)
    p = card.pack
    con.print(title or p.title)
    con.print(f"规则包 {p.id} 版本 {p.version} 校验码 {p.hash[:12]}")
    state = "（暂定：有待填项目）" if card.provisional else ""
    line = f"总分 {num.amount(card.total)} / {num.amount(card.max)}{state}"
    if card.grade:
        line += f"    等次 {card.grade}"
    if card.eligible is not None:
        line += f"    {card.eligibility_label}：{'具备' if card.eligible else '不具备'}"
    con.print(line)
    cats = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for h, j in (("类别", "left"), ("得分", "right"), ("分值", "right")):
        cats.add_column(h, justify=j)
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
        t.add_row(it.id, it.title, _pts(it.points), num.amount(it.max), it.explanation)
    con.print(t)
    if card.flags:
        con.print("通报事项：" + "；".join(card.flags))
    return buf.getvalue().rstrip() + "\n"


def ledger_text(card: LedgerCard, title: str | None = None) -> str:
    buf = io.StringIO()
    con = _console(buf)
    p = card.pack
    con.print(title or p.title)
    con.print(f"规则包 {p.id} 版本 {p.version} 校验码 {p.hash[:12]}")
    facts = "  ".join(f"{k}={num.value(v) if v is not None else '（空）'}" for k, v in card.facts.items())
    con.print(facts)
    con.print(f"共 {len(card.rows)} 行，错误 {card.error_count} 处，警告 {card.warning_count} 处")
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    t.add_column("行", justify="right")
    t.add_column("名称", max_width=24, overflow="fold")
    t.add_column("状态")
    t.add_column("错误", max_width=40, overflow="fold")
    t.add_column("警告", max_width=40, overflow="fold")
    for r in card.rows:
        t.add_row(str(r.index), r.key or "", r.status, "；".join(e.message for e in r.errors),
                  "；".join(w.message for w in r.warnings))
    con.print(t)
    for ru in card.rollups:
        rt = Table(title=ru.label, box=box.SIMPLE_HEAD, show_edge=False)
        rt.add_column("分组")
        for mid, label in card.metric_labels.items():
            rt.add_column(label, justify="right")
        for key, vals in ru.groups.items():
            rt.add_row(key or "（空）", *[num.metric(vals[m]) for m in card.metric_labels])
        if ru.total is not None:
            rt.add_row(ru.total_label or "合计", *[num.metric(ru.total[m]) for m in card.metric_labels])
        con.print(rt)
    return buf.getvalue().rstrip() + "\n"


def pack_rows(pack: RulePack) -> list[tuple[str, str, str, str, str, str]]:
    """(序号, 类别, 考核内容, 分值, 评分细则, 依据) per item, in pack order."""
    rows = []
    for ci in pack.items:
        it = ci.item
        maxtext = num.amount(it.max) if it.max or not ci.rules else "不封顶"
        rows.append((it.id, it.category, it.standard or it.title, maxtext, it.criteria, it.evidence))
    return rows


def pack_markdown(pack: RulePack) -> str:
    m = pack.model
    out = [f"# {m.title}", "", f"来源：{m.source.document}　版本：{m.version}　校验码：{pack.hash[:12]}", ""]
    if m.kind == "ledger":
        return "\n".join(out + _ledger_md(pack)) + "\n"
    caps = {c.name: c for c in m.categories}
    out += ["| 序号 | 考核内容 | 分值 | 评分细则 | 依据 |", "|---|---|---|---|---|"]
    current = None
    for iid, cat, title, maxtext, criteria, evidence in pack_rows(pack):
        if cat != current:
            current = cat
            c = caps[cat]
            head = f"{cat}（{num.value(c.cap)}）" if not c.bonus_only else cat
            out.append(f"| | **{head}** | | | |")
        out.append(f"| {iid} | {_md(title)} | {maxtext} | {_md(criteria)} | {_md(evidence)} |")
    grades = m.settings.grades
    if grades:
        bands = "；".join(f"{g.name}" + (f"≥{num.value(g.min)}" if g.min is not None else "（其余）")
                         for g in grades)
        out += ["", f"等次：{bands}"]
    if m.settings.eligibility:
        el = m.settings.eligibility
        out.append(f"{el.label}：{'、'.join(el.grades)}" + (f"（{el.basis}）" if el.basis else ""))
    return "\n".join(out) + "\n"


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _ledger_md(pack: RulePack) -> list[str]:
    m = pack.model
    led = m.ledger
    out = ["| 字段 | 名称 | 类型 |", "|---|---|---|"]
    for f in m.facts:
        out.append(f"| {f.id} | {f.label} | {f.type} |")
        for c in f.columns or []:
            out.append(f"| {f.id}.{c.id} | {c.label} | {c.type} |")
    out += ["", "| 检查 | 级别 | 说明 |", "|---|---|---|"]
    for c in led.checks:
        out.append(f"| {c.id} | {'错误' if c.level == 'error' else '警告'} | {_md(c.message)} |")
    return out


def pack_text(pack: RulePack) -> str:
    m = pack.model
    buf = io.StringIO()
    con = _console(buf, 140)
    con.print(m.title)
    con.print(f"来源：{m.source.document}　版本：{m.version}　校验码：{pack.hash[:12]}")
    if m.kind == "ledger":
        con.print("\n".join(_ledger_md(pack)))
        return buf.getvalue()
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    t.add_column("序号", justify="right", no_wrap=True)
    t.add_column("考核内容", max_width=30, overflow="fold")
    t.add_column("分值", justify="right", no_wrap=True)
    t.add_column("评分细则", max_width=50, overflow="fold")
    t.add_column("依据", max_width=24, overflow="fold")
    current = None
    caps = {c.name: c for c in m.categories}
    for iid, cat, title, maxtext, criteria, evidence in pack_rows(pack):
        if cat != current:
            current = cat
            c = caps[cat]
            t.add_row("", f"【{cat}" + (f"（{num.value(c.cap)}分）】" if not c.bonus_only else "】"), "", "", "")
        t.add_row(iid, title, maxtext, criteria, evidence)
    con.print(t)
    return buf.getvalue()
