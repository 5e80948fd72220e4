"""What the terminal shows: Chinese help pages, and readable score output."""
from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from rubric_xl.cli import cli
from rich.cells import cell_len

# Words that may stay in help text: product and format names, and what the user types.
ALLOWED = {
    "rubric", "xl", "YAML", "JSON", "Excel", "WPS", "xlwings", "Server", "uvicorn", "Office",
    "Microsoft", "HTTPS", "https", "pingfen", "example", "gov", "cn", "manifest", "xml", "csv",
    "xlsx", "SHA", "UTF", "YYYY", "MM", "DD", "RUBRIC_XL_RULES", "Markdown", "_meta", "meta",
    "rules", "cases", "yaml", "shanxi", "xinzhou", "changzhi", "cities", "bodies",
    "MB", "RUBRIC_XL_ADDIN_MAX_BODY_MB", "SQLite", "PostgreSQL", "postgresql", "RUBRIC_XL_DB", "db",
}


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    yield path, group
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path + (name,))
        else:
            yield path + (name,), cmd


ALL = list(_commands(cli))
NAMES = {n for path, _ in ALL for n in path} | {part for path, _ in ALL for n in path for part in n.split("-")}


def _english_words(text: str, cmd: click.Command) -> set[str]:
    text = re.sub(r"(?<![\w-])-{1,2}[\w-]+", " ", text)  # option names
    text = re.sub(r"\[[\w|-]+\]", " ", text)  # choice lists [table|json]
    choices = {c for p in cmd.params if isinstance(p.type, click.Choice) for c in p.type.choices}
    words = set(re.findall(r"[A-Za-z_][A-Za-z_]+", text))
    return {w for w in words if w not in ALLOWED and w not in NAMES and w not in choices}


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=lambda p: " ".join(p) or "rubric-xl")
def test_help_is_chinese(path):
    cmd = dict(ALL)[path]
    res = CliRunner().invoke(cli, [*path, "--help"], prog_name="rubric-xl")
    assert res.exit_code == 0, res.output
    out = res.output
    assert out.startswith("用法：rubric-xl")
    assert "[选项]" in out and "[OPTIONS]" not in out
    assert "选项：" in out and not re.search(r"^\S.*:$", out, re.M)  # headings: full-width colon
    for bad in ("TEXT", "INTEGER", "RANGE", "COMMAND", "ARGS", "PATH", "Usage", "Options", "Show"):
        assert bad not in out
    assert not _english_words(out, cmd), out
    assert "; " not in out and "<=x" not in out and "x>=" not in out  # [默认：1；范围 1–64]
    if isinstance(cmd, click.Group):
        assert "命令 [参数]..." in out and "命令：" in out


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=lambda p: " ".join(p) or "rubric-xl")
def test_help_columns_line_up_by_display_width(path):
    out = CliRunner().invoke(cli, [*path, "--help"], prog_name="rubric-xl").output
    block = out.split("选项：\n", 1)[1].split("\n\n", 1)[0]
    starts = set()
    for line in block.splitlines():
        m = re.match(r"^  (\S.*?\S)  +(\S)", line)
        if m and line.lstrip().startswith("-"):
            starts.add(cell_len(line[:m.start(2)]))
    assert len(starts) == 1, block  # every description starts in the same column


@pytest.mark.parametrize("args, message", [
    (["score", "--jobs", "x"], "'x' 不是有效的整数"),
    (["score", "--jobs", "多"], "不是有效的整数"),
    (["score", "--jobs", "0"], "不在范围"),
    (["rules", "check"], "缺少参数 '规则包...'。"),
    (["template", "build", "-o", "x.xlsx"], "缺少选项 '--rules'。"),
    (["template", "build", "--rules"], "需要一个取值"),
    (["nosuch"], "没有命令"),
])
def test_usage_errors_are_chinese(args, message):
    res = CliRunner().invoke(cli, args, prog_name="rubric-xl")
    assert res.exit_code == 2
    assert message in res.output and "Usage" not in res.output and "Error" not in res.output
    assert "integer" not in res.output


@pytest.mark.parametrize("text, zh", [
    ("并行进程数。  [默认：1; 1<=x<=64]", "并行进程数。  [默认：1；范围 1–64]"),
    ("[默认：8000; 1<=x<=65535]", "[默认：8000；范围 1–65535]"),
    ("比例。  [0.5<=x<=2.5]", "比例。  [范围 0.5–2.5]"),
    ("期数。  [x>=1; 必填]", "期数。  [不小于 1；必填]"),
    ("期数。  [x<=-3]", "期数。  [不大于 -3]"),
    ("说明 [a; b] 在中间。", "说明 [a; b] 在中间。"),  # only the trailing extras are touched
])
def test_help_extras_in_chinese(text, zh):
    from rubric_xl.cli.i18n import chinese_extra

    assert chinese_extra(text) == zh


def test_score_help_shows_the_jobs_range():
    out = CliRunner().invoke(cli, ["score", "--help"]).output
    assert "[默认：1；范围 1–64]" in out and "[默认：table]" in out


def test_click_shared_types_are_not_renamed():
    # the Chinese type names live on copies; other click programs see click's own
    assert click.INT.name == "integer" and click.STRING.name == "text"


def test_rules_check_names_the_ledger_in_chinese():
    res = CliRunner().invoke(cli, ["rules", "check", "xinzhou-2024"])
    assert res.exit_code == 0
    assert "台账“散乱污企业台账”" in res.output and "enterprises" not in res.output


# --- the terminal: score tables, ledgers, many problems of one kind ------------

import json  # noqa: E402
import random  # noqa: E402
from pathlib import Path  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rubric_xl import load_pack, score  # noqa: E402
from rubric_xl.audit._terminal import summarise_blanks, summarise_other_pack, wrap  # noqa: E402
from rubric_xl.errors import Problem  # noqa: E402
from rubric_xl.samples import random_facts  # noqa: E402
from rubric_xl.workbook import template_bytes  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?%?")


def _facts_file(tmp_path: Path, facts: dict, name: str = "f.json") -> str:
    def plain(v):
        if hasattr(v, "isoformat"):
            return v.isoformat()
        if isinstance(v, list):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return float(v) if type(v).__name__ == "Decimal" else v  # ≤ 2 decimals: reads back exactly
    p = tmp_path / name
    p.write_text(json.dumps(plain(facts), ensure_ascii=False), encoding="utf-8")
    return str(p)


_TEXT = st.lists(st.one_of(
    st.sampled_from(list("扣得分报期项，。；：（）、《》")),
    st.from_regex(r"[0-9]{1,3}(\.[0-9]{2})?%?", fullmatch=True),
    st.sampled_from([" ", "A1", "2005-07-15", "\n"])), max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, width=st.integers(8, 60))
def test_wrap_keeps_numbers_whole_and_lines_short(text, width):
    out = wrap(text, width)
    lines = out.split("\n")
    assert all(cell_len(line) <= width for line in lines)
    assert re.sub(r"\s", "", out) == re.sub(r"\s", "", text)  # nothing lost, nothing added
    runs = re.findall(r"[0-9A-Za-z.,:/%_+\-]+", text)
    fits = all(cell_len(r) + 8 <= width for r in runs)  # a word with two marks each side fits a line
    if fits and "\n" not in text and not text.lstrip()[:1] in "，。；：、）》":
        assert not any(line[:1] in "，。；：、）》" and line for line in lines)  # none starts with a comma
    # every number of the text is whole on one line (unless it is wider than a line)
    for run in runs:
        for n in NUMBER.findall(run) if len(run) <= width else []:
            assert any(n in line for line in lines), (n, lines)


@pytest.mark.parametrize("width, lines", [
    (27, ["少报1期，扣0.50分；得2.50分"]),  # 27 cells: exactly one line
    (26, ["少报1期，扣0.50分；得", "2.50分"]),  # the unit stays with its number
    (10, ["少报1期，", "扣0.50分；", "得2.50分"]),
    (9, ["少报1期，", "扣", "0.50分；", "得2.50分"]),
])
def test_wrap_boundary(width, lines):
    assert wrap("少报1期，扣0.50分；得2.50分", width).split("\n") == lines


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_score_table_never_breaks_a_number(tmp_path, seed):
    pack = load_pack(REPO / "rules" / "shanxi-2005.yaml")
    facts = random_facts(pack, random.Random(seed), blank_rate=0.1)
    card = score(pack, facts)
    res = CliRunner().invoke(cli, ["score", "--rules", "shanxi-2005", "--facts", _facts_file(tmp_path, facts)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    for it in card.items:
        for n in NUMBER.findall(it.explanation):
            assert any(n in line for line in lines), (it.id, n)
    assert all(cell_len(line) <= 120 for line in lines)


def test_ledger_shows_fact_labels_not_ids():
    res = CliRunner().invoke(cli, ["score", "--rules", "xinzhou-2024",
                                   "--facts", str(EXAMPLES / "xinzhou-2024-xinfu.yaml")])
    assert res.exit_code == 0
    assert "填报单位：忻府区" in res.output and "2024-06-28" in res.output
    assert "reporting_body" not in res.output and "report_date" not in res.output
    assert "=" not in res.output.splitlines()[2]


def test_blank_workbook_says_unfilled_once(tmp_path):
    pack = load_pack(REPO / "rules" / "shanxi-2005.yaml")
    book = tmp_path / "空白.xlsx"
    book.write_bytes(template_bytes(pack, "空白市"))
    need = {f for it in score(pack, {}).items for f in it.missing}
    res = CliRunner().invoke(cli, ["score", str(book)])
    assert res.exit_code == 0, res.output
    assert res.output.count("未填写") == 1
    assert f"{len(need)} 项未填写" in res.output
    first = pack.facts[next(iter(f for it in score(pack, {}).items for f in it.missing))].label
    assert first[:6] in res.output


def _blank(i: int, level: str = "warning") -> Problem:
    return Problem(f"a b.xlsx 填报!D{i}", f"事实{i}：未填写（第{i}项待填，总分为暂定分）", level)


def test_summarise_blanks_boundary():
    other = Problem("a b.xlsx 填报!C3", "应为数值")
    three = [other] + [_blank(i) for i in range(3)]
    assert summarise_blanks(three) == three  # below the threshold: each is shown
    four = [other] + [_blank(i) for i in range(4)]
    out = summarise_blanks(four)
    assert out[0] == other and len(out) == 2
    assert out[1].loc == "a b.xlsx 填报" and out[1].msg.startswith("4 项未填写")
    assert "事实0、事实1、事实2 等" in out[1].msg and out[1].level == "warning"
    # --strict makes them errors: the level is kept, errors and warnings separately
    mixed = [_blank(i, "error") for i in range(4)] + [_blank(i) for i in range(5, 9)]
    out = summarise_blanks(mixed)
    assert [p.level for p in out] == ["error", "warning"]


def test_facts_of_another_pack_are_said_once(tmp_path):
    res = CliRunner().invoke(cli, ["score", "--rules", "xinzhou-2024",
                                   "--facts", str(EXAMPLES / "shanxi-2005-full.yaml")])
    assert res.exit_code == 1
    assert "未知的事实" not in res.output
    assert "69 个事实" in res.output and "--rules shanxi-2005" in res.output
    assert len(res.output.strip().splitlines()) == 2
    # the other way round, with the ledger's facts
    res = CliRunner().invoke(cli, ["score", "--rules", "shanxi-2005",
                                   "--facts", str(EXAMPLES / "xinzhou-2024-xinfu.yaml")])
    assert res.exit_code == 1 and "3 个事实" in res.output and "--rules xinzhou-2024" in res.output


def test_unknown_facts_of_no_pack_are_listed_each(tmp_path):
    facts = {"weekly_report_count": 3, "no_such_fact": 1, "another_one": 2}
    res = CliRunner().invoke(cli, ["score", "--rules", "shanxi-2005", "--facts", _facts_file(tmp_path, facts)])
    assert res.exit_code == 1
    assert res.output.count("未知的事实") == 3 and "weekly_reports_count" in res.output  # the hint stays
    # two facts of the other pack: below the threshold, listed each
    problems = [Problem("f.yaml: reporting_body", "未知的事实 'reporting_body'（规则包中没有此事实）"),
                Problem("f.yaml: report_date", "未知的事实 'report_date'（规则包中没有此事实）")]
    assert summarise_other_pack(problems) == problems
    three = problems + [Problem("f.yaml: enterprises", "未知的事实 'enterprises'（规则包中没有此事实）")]
    (line,) = summarise_other_pack(three)
    assert line.loc == "f.yaml" and "xinzhou-2024" in line.msg


# --- one documented JSON shape for workbook scoring -------------------------------


def test_batch_json_is_one_object_equal_to_dumps(tmp_path):
    from rubric_xl.audit import render, score_workbooks
    from rubric_xl.audit._reports import batch_counts
    from rubric_xl.engine.card import dumps

    paths = [str(EXAMPLES / n) for n in ("shanxi-2005-full.xlsx", "xinzhou-2024-xinfu.xlsx")]
    paths.append(str(tmp_path / "没有.xlsx"))
    results = score_workbooks(paths)
    text = render(results, "json")
    doc = json.loads(text)
    assert doc["summary"] == {"files": 3, "scored": 2, "provisional": 0, "failed": 1, "with_errors": 0}
    assert [f["status"] for f in doc["files"]] == ["ok", "ok", "failed"]
    assert [c["kind"] for c in doc["combined"]] == ["ledger_combined"]
    from rubric_xl.audit import combine_ledgers
    expect = {"kind": "batch", "summary": batch_counts(results), "files": [r.to_dict() for r in results],
              "combined": [c.to_dict() for c in combine_ledgers(results)]}
    assert doc == json.loads(dumps(expect))  # assembled piecewise, the same document as dumps
    lines = text.splitlines()  # indented as dumps indents, each workbook's object on one line
    files = lines[lines.index('  "files": [') + 1:lines.index('  ],', lines.index('  "files": ['))]
    assert [json.loads(ln.strip().rstrip(",")) for ln in files] == doc["files"]
    assert [ln.strip().rstrip(",") for ln in files] == [dumps(r.to_dict(), indent=None) for r in results]
    assert all(ln.startswith('    {"file": ') for ln in files) and '"max": 100.00, ' in files[0]  # numbers as written
    rest = [ln for ln in lines if ln not in files]
    assert rest[:3] == ["{", '  "kind": "batch",', '  "summary": {'] and rest[-1] == "}"
    assert render([], "json") == dumps({"kind": "batch", "summary": batch_counts([]), "files": [],
                                        "combined": []})


@pytest.mark.parametrize("extra,expected", [
    ("1<=x<=64", "范围 1–64"), ("0<x<=1024", "大于 0、不大于 1024"), ("0<=x<1", "不小于 0、小于 1"),
    ("0<x<1", "大于 0、小于 1"), ("x>=1", "不小于 1"), ("x>0", "大于 0"), ("x<=5", "不大于 5"),
    ("x<5", "小于 5"), ("-1.5<=x<=2.5", "范围 -1.5–2.5"),
])
def test_every_click_range_spelling_is_chinese(extra, expected):
    from rubric_xl.cli.i18n import chinese_extra
    assert chinese_extra(f"说明  [{extra}]") == f"说明  [{expected}]"
    assert chinese_extra(f"说明  [默认：1; {extra}]") == f"说明  [默认：1；{expected}]"
