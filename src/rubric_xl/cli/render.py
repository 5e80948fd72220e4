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


_METRIC_KIND = {"count": "计数", "sum": "求和", "rate": "比率（%）", "all": "全部满足", "none": "无一满足",
                "expr": "由其他指标计算", "facts_sum": "每份台账计一次之和"}


def _metric_rule(mt) -> str:
    if mt.kind == "count":
        return f"满足 {mt.where} 的行数" if mt.where else "行数"
    if mt.kind == "sum":
        return f"{mt.value} 之和" + (f"（仅 {mt.where} 的行）" if mt.where else "")
    if mt.kind == "rate":
        return f"{mt.numerator} ÷ {mt.denominator} × 100，保留两位小数；分母为 0 时不计算"
    if mt.kind == "expr":
        return f"{mt.expr}（所用值为空时不计算）"
    if mt.kind == "facts_sum":
        return f"各份台账的 {mt.value} 之和（每份计一次；有一份为空时不计算）"
    return f"每一行都满足 {mt.where}" if mt.kind == "all" else f"没有一行满足 {mt.where}"


def _grouping_text(g, labels: dict[str, str]) -> str:
    parts = [f"按 {g.by}" if g.by else "全部"]
    if g.total_label:
        parts.append(f"合计行“{g.total_label}”")
    if g.all_options:
        parts.append("列出每个可选值（含没有行的）")
    if g.empty_label:
        parts.append(f"没有行时显示“{g.empty_label}”")
    if g.rank:
        keys = "、".join(f"{labels.get(r.metric, r.metric)}{'从高到低' if r.order == 'desc' else '从低到高'}"
                        for r in g.rank)
        parts.append(f"多份汇总时排名：{keys}（并列同名次，未计算的排在最后）")
    if g.flag:
        parts.append(f"标出“{labels.get(g.flag, g.flag)}”为是的分组")
    return "；".join(parts)


def _ledger_md(pack: RulePack) -> list[str]:
    m = pack.model
    out = ["| 字段 | 名称 | 类型 |", "|---|---|---|"]
    for f in m.facts:
        out.append(f"| {f.id} | {f.label} | {f.type} |")
        for c in f.columns or []:
            out.append(f"| {f.id}.{c.id} | {c.label} | {c.type} |")
    if m.settings.parameters:
        out += ["", "| 参数 | 名称 | 取值 |", "|---|---|---|"]
        for prm in m.settings.parameters:
            out.append(f"| {prm.id} | {_md(prm.label)} | {num.value(prm.value)}{prm.unit or ''} |")
    if m.derived:
        out += ["", "| 派生值 | 名称 | 计算 |", "|---|---|---|"]
        for d in m.derived:
            out.append(f"| {d.id} | {_md(d.label)} | `{_md(d.expr)}` |")
    if m.checks:
        out += ["", "| 报送检查 | 级别 | 条件 | 说明 |", "|---|---|---|---|"]
        for c in m.checks:
            out.append(f"| {c.id} | {'错误' if c.level == 'error' else '警告'} | `{_md(c.when)}` | {_md(c.message)} |")
    for led in m.ledgers:
        table = pack.facts[led.table].label if led.table in pack.facts else led.table
        out += ["", f"## 台账：{table}（{led.table}）"]
        if led.derived:
            out += ["", "| 行派生值 | 名称 | 计算 |", "|---|---|---|"]
            for d in led.derived:
                out.append(f"| {d.id} | {_md(d.label)} | `{_md(d.expr)}` |")
        for dc in led.decisions:
            out += ["", f"决策“{dc.label}”（{dc.id}，取第一条满足的规则）：", "", "| 取值 | 条件 |", "|---|---|"]
            for r in dc.rules:
                out.append(f"| {_md(r.value)} | {'其余情形' if r.when.strip() == 'true' else '`' + _md(r.when) + '`'} |")
        out += ["", "| 状态 | 条件 |", "|---|---|"]
        for st in led.statuses:
            out.append(f"| {_md(st.name)} | {'其余情形' if st.when.strip() == 'true' else '`' + _md(st.when) + '`'} |")
        out += ["", "| 检查 | 级别 | 说明 |", "|---|---|---|"] if led.checks else []
        for c in led.checks:
            out.append(f"| {c.id} | {'错误' if c.level == 'error' else '警告'} | {_md(c.message)} |")
        labels = {mt.id: mt.label for mt in led.metrics}
        if led.metrics:
            out += ["", "| 指标 | 名称 | 类型 | 计算 |", "|---|---|---|---|"]
            for mt in led.metrics:
                out.append(f"| {mt.id} | {_md(mt.label)} | {_METRIC_KIND[mt.kind]} | {_md(_metric_rule(mt))} |")
        if led.groupings:
            out += ["", "| 汇总 | 方式 |", "|---|---|"]
            for g in led.groupings:
                out.append(f"| {_md(g.label)} | {_md(_grouping_text(g, labels))} |")
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
