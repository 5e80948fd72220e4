"""Readable Chinese text for packs (rich tables, plain text when piped); score
cards are drawn by :mod:`rubric_xl.audit._terminal`, shared with the auditor."""
from __future__ import annotations

import io

from rich import box
from rich.table import Table

from ..audit._terminal import card_text, console, wrap
from ..engine import num
from ..rules.pack import RulePack

__all__ = ["card_text", "pack_rows", "pack_markdown", "pack_text"]


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
    con = console(buf, 140)
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
            head = f"【{cat}" + (f"（{num.value(c.cap)}分）】" if not c.bonus_only else "】")
            t.add_row("", wrap(head, 30), "", "", "")
        t.add_row(iid, wrap(title, 30), maxtext, wrap(criteria, 50), wrap(evidence, 24))
    con.print(t)
    return buf.getvalue()
