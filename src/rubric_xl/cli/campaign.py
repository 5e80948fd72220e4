"""``rubric-xl campaign``: campaigns on record (自评 → 核定 → 抽查 → 通报).

Every command takes ``--db`` (or ``RUBRIC_XL_DB``; default ``rubric-xl.db``),
``--period`` (default: the newest campaign) and ``--format json`` for scripts.
"""
from __future__ import annotations

import getpass
from contextlib import contextmanager
from typing import Iterator

import click

from ..engine.card import dumps
from ..errors import InputFileError, Problem, RubricError
from . import cli
from .common import EXIT_INPUT, EXIT_OK, PACK, emit, fail, write_atomic


def _db(f):
    f = click.option("--db", envvar="RUBRIC_XL_DB", help="考核记录库：SQLite 文件路径或 postgresql:// 地址"
                     "（默认 rubric-xl.db，或环境变量 RUBRIC_XL_DB）。")(f)
    return f


def _period(f):
    return click.option("--period", help="考核期次（默认最近建档的一次）。")(f)


def _fmt(*extra: str):
    return click.option("--format", "fmt", type=click.Choice(["table", "json", *extra]), default="table",
                        show_default=True, help="输出格式（json 供脚本使用）。")


def _by(f):
    return click.option("--by", "actor", help="操作人姓名（默认当前系统用户）。")(f)


def _actor(actor: str | None) -> str:
    if actor and actor.strip():
        return actor.strip()
    try:
        return getpass.getuser()
    except Exception:
        return "未署名"


@contextmanager
def _campaign(db: str | None, period: str | None) -> Iterator[tuple]:
    """``(store, campaign)`` of *db* / *period*; a RubricError in the block is
    shown in Chinese (exit 1)."""
    from ..campaign import Store

    try:
        store = Store(db)
        yield store, store.campaign(period)
    except RubricError as exc:
        fail(exc)


def _out(obj, text: str, fmt: str, output: str | None = None) -> None:
    emit(dumps(obj) if fmt == "json" else text, output)


def _problems_text(problems) -> str:
    return "\n".join(f"  - {p}" for p in problems)


@cli.group("campaign")
def campaign_group() -> None:
    """考核记录：建档、导入自评、核定、抽查、状态、发布通报、历史、对比、校验。"""


@campaign_group.command("init")
@click.option("--rules", "rules_path", required=True, type=PACK, help="规则包文件（YAML）或编号（如 shanxi-2005，见 rules list）。")
@click.option("--period", required=True, help="考核期次，如 2005、2024-03。")
@click.option("--units", default="shanxi-cities", show_default=True,
              help="单位名单：内置列表（shanxi-cities、xinzhou-bodies、changzhi-bodies）或每行一个单位的文件。")
@_db
@_fmt()
def init_cmd(rules_path, period, units, db, fmt):
    """为一次考核建档：保存规则包（全文及校验码）、期次和单位名单。"""
    from .._files import read_text
    from ..campaign import Store
    from ..rules import load_pack_text
    from ..workbook import load_units

    try:
        text = read_text(rules_path, "规则包")
        pack = load_pack_text(text, rules_path)
        names = load_units(units)
        store = Store(db)
        c = store.create(pack, text, period, names)
    except RubricError as exc:
        fail(exc)
    obj = {"period": c.period, "pack": {"id": c.pack_id, "version": c.pack_version, "hash": c.pack_hash},
           "units": list(c.units)}
    _out(obj, f"已建档：考核期次 {c.period}，规则包 {c.pack_id} 版本 {c.pack_version}（校验码 {c.pack_hash[:12]}），"
              f"{len(c.units)} 个单位：{'、'.join(c.units)}", fmt)


@campaign_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--manifest", type=click.Path(), help="template distribute 生成的 manifest.csv：核对每个文件应属的单位。")
@_db
@_period
@_by
@_fmt()
@click.pass_context
def import_cmd(ctx, paths, manifest, db, period, actor, fmt):
    """导入各单位上报的自评工作簿（目录或文件），核对填报单位，重复、未知、缺报的单位一并报告。"""
    from ..campaign import import_files
    from ..campaign.identity import load_manifest
    from ..campaign.importer import OUTCOME_TEXT

    with _campaign(db, period) as (store, c):
        man = load_manifest(manifest) if manifest else None
        rep = import_files(store, c, list(paths), man, _actor(actor))
    obj = {"period": c.period, "files": [f.to_dict() for f in rep.files], "missing": rep.missing}
    lines = []
    from ..campaign.state import STATUS_TEXT
    for f in rep.files:
        st = f"，{STATUS_TEXT[f.status]}" if f.status else ""
        lines.append(f"{f.file}：{OUTCOME_TEXT[f.outcome]}{'（' + f.unit + st + '）' if f.unit else ''}")
        lines += [f"  - [{'错误' if p.level == 'error' else '警告'}] {p.loc}：{p.msg}" for p in f.problems
                  if p.level == "error" or f.outcome in ("rejected", "duplicate")]
    if rep.missing:
        lines.append(f"未上报的单位（{len(rep.missing)} 个）：{'、'.join(rep.missing)}")
    _out(obj, "\n".join(lines), fmt)
    n_ok = sum(1 for f in rep.files if f.outcome in ("new", "resubmitted"))
    click.echo(f"导入 {n_ok} 份，未导入 {sum(1 for f in rep.files if f.outcome in ('rejected', 'duplicate'))} 份，"
               f"未变化 {sum(1 for f in rep.files if f.outcome == 'unchanged')} 份；未上报 {len(rep.missing)} 个单位", err=True)
    ctx.exit(EXIT_OK if rep.ok else EXIT_INPUT)


def _parse_set(items: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for s in items:
        if "=" not in s:
            raise click.UsageError(f"--set 应写作 事实=核定值（如 --set weekly_reports_count=18），实际为“{s}”")
        k, _, v = s.partition("=")
        out.append((k.strip(), v))
    return out


@campaign_group.command("review")
@click.argument("unit", required=False)
@click.option("--set", "sets", multiple=True, help="核定：事实=核定值（可多次给出）。")
@click.option("--reason", help="核定理由（--set 时必填）。")
@click.option("--evidence", default="", help="核定依据（文件、会议记录、现场检查等）。")
@click.option("--confirm", is_flag=True, help="确认该单位的自评无误（不更正任何数据）。")
@click.option("--sheet", "sheets", multiple=True, type=click.Path(), help="导入填好的核定表工作簿（可多次给出）。")
@_db
@_period
@_by
@_fmt()
@click.pass_context
def review_cmd(ctx, unit, sets, reason, evidence, confirm, sheets, db, period, actor, fmt):
    """核定：在命令行更正某单位的事实（附理由和依据），或导入核定表。"""
    from ..campaign.review import Change, confirm as do_confirm, review as do_review

    if sheets and (unit or sets or confirm):
        raise click.UsageError("--sheet 不能与单位、--set、--confirm 同时使用。")
    if not sheets and not unit:
        raise click.UsageError("请给出要核定的单位，或用 --sheet 导入核定表。")
    if unit and not sets and not confirm:
        raise click.UsageError("请用 --set 事实=核定值 给出核定，或用 --confirm 确认自评无误。")
    who = _actor(actor)
    with _campaign(db, period) as (store, c):
        if sheets:
            from ..campaign.sheet import import_sheets

            done, problems = import_sheets(store, c, list(sheets), who)
            obj = {"imported": done, "problems": [p.as_dict() for p in problems]}
            text = "\n".join([f"{d['file']}：{d['unit']} 核定 {d['corrections']} 项" for d in done]
                             + ([f"未导入：\n{_problems_text(problems)}"] if problems else []))
            _out(obj, text, fmt)
            ctx.exit(EXIT_INPUT if problems else EXIT_OK)
        if confirm and not sets:
            ev = do_confirm(store, c, unit, who, reason or "")
        else:
            changes = [Change(k, v, reason or "", evidence, f"--set {k}") for k, v in _parse_set(sets)]
            ev = do_review(store, c, unit, changes, who)
    _out({"seq": ev.seq, "kind": ev.kind, "unit": ev.unit, "payload": ev.payload},
         f"已记录第{ev.seq}号记录：{unit} {'核定确认' if ev.kind == 'confirm' else '核定 ' + str(len(sets)) + ' 项'}", fmt)


@campaign_group.command("review-sheet")
@click.argument("units", nargs=-1)
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(), help="输出目录（每个单位一个核定表）。")
@_db
@_period
@_fmt()
def review_sheet_cmd(units, out_dir, db, period, fmt):
    """生成核定表：每个单位一个工作簿，含自评值（锁定）、核定值、理由、依据列。"""
    from ..campaign.sheet import write_sheets

    with _campaign(db, period) as (store, c):
        files = write_sheets(store, c, list(units) or None, out_dir, write_atomic)
    _out({"files": files}, "\n".join(f"{f['unit']}：{f['file']}" for f in files) or "没有已上报的单位", fmt)


@campaign_group.command("spotcheck")
@click.argument("unit")
@click.option("--item", help="抽查的评分项目序号（如 29、38）：记为“抽查发现问题”，该项不得分。")
@click.option("--fact", help="或直接指定事实。")
@click.option("--value", default="是", show_default=True, help="事实的取值。")
@click.option("--finding", required=True, help="抽查发现的问题。")
@click.option("--evidence", default="", help="抽查依据（检查记录、照片编号等）。")
@_db
@_period
@_by
@_fmt()
def spotcheck_cmd(unit, item, fact, value, finding, evidence, db, period, actor, fmt):
    """抽查：记录抽查发现（如第29、38项抽查发现问题，该项不得分并通报批评）。"""
    from ..campaign import spotcheck

    if not item and not fact:
        raise click.UsageError("请用 --item 或 --fact 指定抽查的项目。")
    with _campaign(db, period) as (store, c):
        ev = spotcheck(store, c, unit, finding, _actor(actor), item=item, fact=fact, value=value, evidence=evidence)
    _out({"seq": ev.seq, "kind": ev.kind, "unit": ev.unit, "payload": ev.payload},
         f"已记录第{ev.seq}号记录：{unit} 抽查 {ev.payload['fact']} = {value}", fmt)


@campaign_group.command("status")
@_db
@_period
@_fmt()
def status_cmd(db, period, fmt):
    """谁已上报、谁未上报、哪些待核定。"""
    from ..campaign import derive
    from ..campaign.report import _amt
    from ..campaign.state import STATUS_TEXT

    with _campaign(db, period) as (store, c):
        st = derive(c, store.events(c))
    rows = []
    for u in st.units.values():
        rows.append({"unit": u.unit, "status": u.status, "status_text": STATUS_TEXT[u.status],
                     "file": u.submission.payload.get("file") if u.submission else None,
                     "received": u.submission.at if u.submission else None,
                     "self_total": _amt(getattr(u.self_card, "total", None)),
                     "total": _amt(getattr(u.card, "total", None)),
                     "ledger_rows": len(u.card.rows) if hasattr(u.card, "rows") else None,
                     "ledger_errors": getattr(u.card, "error_count", None),
                     "reviewed": u.reviewed, "corrections": len(u.changes),
                     "resubmissions": len(u.superseded), "pending": u.pending})
    obj = {"period": c.period, "pack": {"id": c.pack_id, "version": c.pack_version, "hash": c.pack_hash},
           "events": st.seq, "draft": st.draft, "units": rows,
           "submitted": sum(1 for r in rows if r["status"] not in ("missing", "failed")),
           "missing": [r["unit"] for r in rows if r["status"] == "missing"],
           "pending": [r["unit"] for r in rows if r["pending"]]}
    lines = [f"考核期次 {c.period}，规则包 {c.pack_id} 版本 {c.pack_version}；{st.seq} 条记录；"
             + ("尚未发布通报" if st.published is None else ("通报已发布" if not st.draft else "通报发布后又有变化"))]
    for r in rows:
        score = f"自评 {r['self_total']}，核定 {r['total']}" if r["total"] else (
            f"台账 {r['ledger_rows']} 条，错误 {r['ledger_errors']}" if r["ledger_rows"] is not None else "")
        lines.append(f"  {r['unit']}：{r['status_text']}  {score}  {'；'.join(r['pending']) or '已完成'}")
    lines.append(f"已上报 {obj['submitted']} 个，未上报 {len(obj['missing'])} 个，待处理 {len(obj['pending'])} 个")
    _out(obj, "\n".join(lines), fmt)


@campaign_group.command("publish")
@_db
@_period
@_by
@_fmt()
def publish_cmd(db, period, actor, fmt):
    """发布通报：记录当前的正式排名（暂定、有错误、未上报的单位另列）。"""
    from ..campaign.publish import publish

    with _campaign(db, period) as (store, c):
        ev = publish(store, c, _actor(actor))
    if "ledger" in ev.payload:
        done = sum(1 for u in ev.payload["ledger"]["units"] if u["status"] == "final")
        what = f"{done} 个单位的台账纳入汇总，"
    else:
        what = f"{len(ev.payload['ranking'])} 个单位排名，"
    _out({"seq": ev.seq, **ev.payload}, f"已发布通报（第{ev.seq}号记录）：{what}{len(ev.payload['apart'])} 个单位另列", fmt)


@campaign_group.command("report")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table",
              show_default=True, help="输出格式。")
@click.option("-o", "--output", type=click.Path(), help="输出文件（xlsx 必须给出）。")
@click.option("--published", is_flag=True, help="按最近一次发布时的记录重现已发布的通报（而不是当前结果）。")
@_db
@_period
def report_cmd(fmt, output, published, db, period):
    """通报：正式结果的名次，暂定、有错误、未上报的单位另列，自评与核定逐项对比及理由。"""
    from ..campaign import derive
    from ..campaign.importer import is_input
    from ..campaign.publish import published_state
    from ..campaign.report import csv_text, report_data, table_text, xlsx_bytes

    if fmt == "xlsx" and (not output or output == "-"):
        raise click.UsageError("xlsx 格式需要用 -o 指定输出文件（如 -o 通报.xlsx）")
    with _campaign(db, period) as (store, c):
        if output and output != "-" and is_input(store, c, output):
            raise InputFileError("输出文件不能是上报文件", [Problem(output, "这是已导入的上报工作簿，不能被通报覆盖；请换一个输出文件名")])
        events = store.events(c)
        data = report_data(published_state(c, events) if published else derive(c, events))
    if fmt == "xlsx":
        write_atomic(output, xlsx_bytes(data))
        click.echo(f"已写入 {output}", err=True)
    elif fmt == "csv":
        emit(csv_text(data), output)
    else:
        _out(data, table_text(data), fmt, output)


@campaign_group.command("history")
@click.argument("unit", required=False)
@_db
@_period
@_fmt()
def history_cmd(unit, db, period, fmt):
    """某单位（不给单位时为全部）的全部记录：上报、替代、核定、抽查、发布。"""
    from ..campaign.history import history
    from ..campaign.state import local_time

    with _campaign(db, period) as (store, c):
        if unit and unit not in c.units:
            raise InputFileError("未知的单位", [Problem(unit, f"不在本次考核的单位名单中（{'、'.join(c.units)}）")])
        rows = history(store, c, unit)
    _out({"period": c.period, "unit": unit, "events": rows},
         "\n".join(f"第{r['seq']}号 {local_time(r['at'])} {r['by']} {r['unit'] or ''} {r['text']}" for r in rows)
         or "没有记录", fmt)


@campaign_group.command("diff")
@click.argument("unit", required=False)
@click.option("--against", help="与另一考核期次对比（不给出时对比本期自评与核定）。")
@_db
@_period
@_fmt()
def diff_cmd(unit, against, db, period, fmt):
    """对比：本期自评与核定，或两个考核期次；列出变化的事实和项目及原因。"""
    from ..campaign import derive
    from ..campaign.compare import period_diff, review_diff

    with _campaign(db, period) as (store, c):
        new = derive(c, store.events(c))
        if against:
            o = store.campaign(against)
            rows = period_diff(derive(o, store.events(o)), new, unit)
            head = f"{o.period} → {c.period}"
        else:
            rows = review_diff(new, unit)
            head = f"{c.period}：自评 → 核定"
    lines = [head]
    for r in rows:
        if not r["facts"] and not r["items"] and not r.get("metrics") and not r.get("rows") \
                and r.get("before_total") == r.get("after_total") and r.get("before_status") == r.get("after_status"):
            continue
        before = r.get("before_total") or r.get("before_status")
        after = r.get("after_total") or r.get("after_status")
        lines.append(f"{r['unit']}：总分 {before} → {after}" if before or after else f"{r['unit']}：")
        lines += [f"  {x['label']}：{x['before']} → {x['after']}" + (f"（{x['reason']}）" if x.get("reason") else "")
                  for x in r["facts"]]
        lines += [f"  第{x['item']}项 {x['title']}：{x['before']} → {x['after']}" for x in r["items"]]
        lines += [f"  {x['metric']}：{x['before'] or '—'} → {x['after']}" for x in r.get("metrics", [])]
        lines += [f"  {x['key']}：{x['change']}（{x['before'] or '—'} → {x['after'] or '—'}）" for x in r.get("rows", [])]
    _out({"against": against, "period": c.period, "units": rows}, "\n".join(lines), fmt)


@campaign_group.command("rescore")
@click.option("--rules", "rules_path", required=True, type=PACK, help="新版本的规则包文件（YAML）或编号。")
@_db
@_period
@_fmt()
def rescore_cmd(rules_path, db, period, fmt):
    """试算：按新规则包重新计算每个单位的得分和等次（不保存、不发布）。"""
    from ..campaign import derive
    from ..campaign.compare import rescore
    from ..rules import load_pack

    with _campaign(db, period) as (store, c):
        new_pack = load_pack(rules_path)
        rows, problems = rescore(derive(c, store.events(c)), new_pack)
    obj = {"period": c.period, "from": {"version": c.pack_version, "hash": c.pack_hash},
           "to": {"id": new_pack.id, "version": new_pack.version, "hash": new_pack.hash},
           "units": rows, "problems": [p.as_dict() for p in problems]}
    lines = [f"试算（不保存）：规则包 {c.pack_version} → {new_pack.version}（校验码 {new_pack.short_hash}）"]
    for r in rows:
        mark = "  等次变化" if r["grade_changed"] else ""
        if "before_errors" in r:  # a ledger: its row errors and its own totals
            lines.append(f"  {r['unit']}：错误 {r['before_errors']} → {r['after_errors']}；" + "，".join(
                f"{k} {r['before_metrics'].get(k, '—')} → {v}" for k, v in r["after_metrics"].items()))
            continue
        lines.append(f"  {r['unit']}：{r['before_total']} {r['before_grade'] or ''} → {r['after_total']} "
                     f"{r['after_grade'] or ''}{mark}")
        lines += [f"    第{x['item']}项：{x['before']} → {x['after']}" for x in r["items"]]
    if problems:
        lines.append("新规则包不接受的数据：\n" + _problems_text(problems))
    _out(obj, "\n".join(lines), fmt)


@campaign_group.command("verify")
@_db
@_period
@_fmt()
@click.pass_context
def verify_cmd(ctx, db, period, fmt):
    """校验记录链：发现被改动、删除或调换顺序的记录，以及与记录不符的已发布通报。"""
    from ..campaign.publish import check_publications

    with _campaign(db, period) as (store, c):
        problems = store.verify(c)
        if not problems:
            problems = check_publications(c, store.events(c))
    obj = {"period": c.period, "events": c.head_seq, "head": c.head_hash, "ok": not problems,
           "problems": [p.as_dict() for p in problems]}
    _out(obj, (f"记录链完整：考核 {c.period} 共 {c.head_seq} 条记录，校验无误；链头校验码 {c.head_hash[:16]}"
               "（可与已打印通报上的校验码核对）" if not problems
               else "记录链校验失败：\n" + _problems_text(problems)), fmt)
    ctx.exit(EXIT_INPUT if problems else EXIT_OK)


@campaign_group.command("list")
@_db
@_fmt()
def list_cmd(db, fmt):
    """列出记录库中的全部考核期次。"""
    from ..campaign import Store

    try:
        rows = [{"period": c.period, "pack": {"id": c.pack_id, "version": c.pack_version, "hash": c.pack_hash},
                 "units": len(c.units), "events": c.head_seq, "created_at": c.created_at}
                for c in Store(db).campaigns()]
    except RubricError as exc:
        fail(exc)
    _out({"campaigns": rows}, "\n".join(f"{r['period']}：规则包 {r['pack']['id']} 版本 {r['pack']['version']}，"
                                         f"{r['units']} 个单位，{r['events']} 条记录" for r in rows)
         or "记录库中还没有考核", fmt)
