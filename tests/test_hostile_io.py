"""A hostile corpus for the files rubric-xl reads and writes (issue 8, parts
4, 5, 8, 9, 10; issue 14).

Every case runs the real command line in a subprocess with a memory limit and
a timeout, and asserts the exact outcome: the exit code, the Chinese message
naming the file and the place, no traceback and no 内部错误, and every input's
sha256 and mtime unchanged.  For each attack one more spelling is tried.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import resource
import stat
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from conftest import full_marks_facts

REPO = Path(__file__).resolve().parents[1]
SHANXI = REPO / "rules" / "shanxi-2005.yaml"
XINZHOU = REPO / "rules" / "xinzhou-2024.yaml"
FULL = REPO / "examples" / "shanxi-2005-full.yaml"
XINFU = REPO / "examples" / "xinzhou-2024-xinfu.yaml"
TEMPLATE = REPO / "workbook_templates" / "shanxi-2005.xlsx"

MEMORY = 1536 * 2 ** 20  # address space of one CLI run
SECONDS = 120


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


class Run:
    def __init__(self, proc: subprocess.CompletedProcess, seconds: float):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.seconds = seconds

    @property
    def text(self) -> str:
        return self.out + self.err


def cli(*args, cwd: Path | None = None, stdin: str | None = None) -> Run:
    """``rubric-xl ARGS`` in a subprocess: bounded memory and time, never a traceback."""
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", "from rubric_xl.cli import main; main()", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=SECONDS, preexec_fn=_limit,
                          input=stdin, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    r = Run(proc, time.monotonic() - start)
    assert "Traceback" not in r.text and "内部错误" not in r.text, r.text
    return r


def snapshot(*paths: Path) -> dict:
    """sha256 and mtime of every file (under every folder) in *paths*."""
    out = {}
    for p in paths:
        files = [f for f in sorted(Path(p).rglob("*")) if f.is_file()] if Path(p).is_dir() else [Path(p)]
        for f in files:
            out[str(f)] = (hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns)
    return out


def copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    return dst


@pytest.fixture(scope="module")
def submission(tmp_path_factory) -> Path:
    """A filled shanxi-2005 workbook (copied from the example)."""
    return copy(REPO / "examples" / "shanxi-2005-full.xlsx", tmp_path_factory.mktemp("sub") / "太原市.xlsx")


# --- part 5: an output never replaces an input --------------------------------


def test_score_xlsx_report_onto_its_own_submission_is_refused(tmp_path, submission):
    x = copy(submission, tmp_path / "x.xlsx")
    before = snapshot(x)
    r = cli("score", x, "--format", "xlsx", "-o", x)
    assert r.code == 2 and "就是输入的工作簿" in r.err and "x.xlsx" in r.err
    # one more spelling: ./x.xlsx from inside the folder, and a hard link
    r = cli("score", "x.xlsx", "--format", "xlsx", "-o", "./x.xlsx", cwd=tmp_path)
    assert r.code == 2 and "就是输入的工作簿" in r.err
    os.link(x, tmp_path / "link.xlsx")
    r = cli("score", x, "--format", "json", "-o", tmp_path / "link.xlsx")
    assert r.code == 2 and "同一个文件" in r.err and str(x) in r.err
    assert snapshot(x) == before


def test_symlinks_and_folders_are_resolved_to_the_inputs(tmp_path, submission):
    sub = tmp_path / "上报"
    sub.mkdir()
    x = copy(submission, sub / "a.xlsx")
    (tmp_path / "alias").symlink_to(sub, target_is_directory=True)
    (tmp_path / "a-link.xlsx").symlink_to(x)
    before = snapshot(sub)
    for out in (tmp_path / "alias" / "a.xlsx", tmp_path / "a-link.xlsx"):
        r = cli("score", sub, "--format", "csv", "-o", out)
        assert r.code == 2 and "就是输入的工作簿" in r.err, r.err
    assert snapshot(sub) == before
    # a report inside the folder that is not one of its workbooks is fine
    r = cli("score", sub, "--format", "xlsx", "-o", sub / "审核结果.xlsx")
    assert r.code == 0, r.err
    assert openpyxl.load_workbook(sub / "审核结果.xlsx").sheetnames[0] == "排名"
    assert snapshot(sub / "a.xlsx") == before
    # … but the next run reads it back as an input, so it cannot be replaced
    r = cli("score", sub, "--format", "xlsx", "-o", sub / "审核结果.xlsx")
    assert r.code == 2 and "审核结果.xlsx" in r.err


def test_every_command_refuses_an_input_as_its_output(tmp_path, submission):
    pack = copy(SHANXI, tmp_path / "p.yaml")
    facts = copy(FULL, tmp_path / "f.yaml")
    wb = copy(submission, tmp_path / "w.xlsx")
    tpl = copy(TEMPLATE, tmp_path / "t.xlsx")
    before = snapshot(tmp_path)
    cases = [
        (["rules", "show", pack, "-o", pack], "规则包"),
        (["rules", "show", pack, "--format", "markdown", "-o", tmp_path / "." / "p.yaml"], "规则包"),
        (["score", "--rules", pack, "--facts", facts, "-o", facts], "事实文件"),
        (["score", "--rules", pack, "--facts", facts, "--format", "json", "-o", pack], "规则包"),
        (["extract", wb, "-o", wb], "工作簿"),
        (["extract", wb, "--rules", pack, "--format", "yaml", "-o", pack], "规则包"),
        (["template", "fill", tpl, "--facts", facts, "-o", tpl], "模板"),
        (["template", "build", "--rules", tmp_path / "p.yaml", "-o", tpl], None),  # not an input: fine
    ]
    for args, what in cases[:-1]:
        r = cli(*args)
        assert r.code == 2 and f"就是输入的{what}" in r.err, (args, r.err)
    assert snapshot(tmp_path) == before
    r = cli(*cases[-1][0])
    assert r.code == 0, r.err


def test_dev_null_stays_a_device_and_a_fifo_without_reader_is_an_error(tmp_path, submission):
    r = cli("score", "--rules", SHANXI, "--facts", FULL, "-o", os.devnull)
    assert r.code == 0 and stat.S_ISCHR(os.stat(os.devnull).st_mode)
    r = cli("score", submission, "--format", "xlsx", "-o", os.devnull)
    assert r.code == 0 and stat.S_ISCHR(os.stat(os.devnull).st_mode)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = cli("rules", "show", SHANXI, "-o", fifo)  # nobody reads: an error, not a hang
    assert r.code == 1 and "没有程序在读取此管道" in r.err and str(fifo) in r.err
    assert r.seconds < 60 and stat.S_ISFIFO(os.stat(fifo).st_mode)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    time.sleep(0.3)
    r = cli("rules", "show", SHANXI, "--format", "markdown", "-o", fifo)
    reader.join(30)
    assert r.code == 0 and got and got[0].decode("utf-8").startswith("#")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # written into, not renamed over


def test_write_errors_name_the_output_never_a_temp_file(tmp_path):
    ro = tmp_path / "只读"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores permissions: use a path under a file instead
            target = tmp_path / "f.txt"
            target.write_text("x")
            out = target / "out.md"
        else:
            out = ro / "out.md"
        r = cli("rules", "show", SHANXI, "-o", out)
        assert r.code == 1 and str(out) in r.err and ".tmp" not in r.err and ".rubric-xl-" not in r.err
    finally:
        ro.chmod(0o700)
    long_name = tmp_path / ("长" * 100 + ".md")  # 300 bytes: too long a file name
    r = cli("rules", "show", SHANXI, "-o", long_name)
    assert r.code == 1 and "无法写入输出文件" in r.err and ".tmp" not in r.err


def test_symlinked_output_is_written_through(tmp_path):
    real = tmp_path / "real.md"
    real.write_text("old")
    (tmp_path / "link.md").symlink_to(real)
    r = cli("rules", "show", SHANXI, "-o", tmp_path / "link.md")
    assert r.code == 0 and (tmp_path / "link.md").is_symlink() and "评分" in real.read_text("utf-8")


# --- part 4: a control character never kills a writer -------------------------


def _rezip(src: Path, dst: Path, change) -> Path:
    """Copy the workbook *src* to *dst*, passing each XML part through *change*."""
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".xml"):
                data = change(data.decode("utf-8")).encode("utf-8")
            zout.writestr(info, data)
    dst.write_bytes(out.getvalue())
    return dst


def test_sanitiser_turns_control_characters_and_their_escapes_into_spaces():
    from rubric_xl.sheettext import clean_text, safe_text

    assert clean_text("甲\x0b乙") == "甲 乙" and clean_text("甲_x000B_乙") == "甲 乙"
    assert clean_text("a_x000b_b\x0cc\x00d\x1fe") == "a b c d e"  # lower-case hex, FF, NUL, US
    assert clean_text("行1\n行2\t列\r") == "行1\n行2\t列\r"  # what xlsx can hold survives
    assert clean_text("_x0041_ 与 _x000A_") == "_x0041_ 与 _x000A_"  # escapes of legal characters stay
    assert clean_text("\ud800孤\uffff") == " 孤 "  # a lone surrogate, a non-character
    assert safe_text("\x0b=1+1") == " =1+1" and safe_text("\n=1+1") == "'\n=1+1"


def test_xlsx_report_with_vertical_tabs_in_unit_and_values(tmp_path, submission):
    # the unit and a number cell carry _x000B_ in the XML (as Excel writes a pasted VT)
    bad = _rezip(submission, tmp_path / "vt.xlsx",
                 lambda x: x.replace("示例市", "示例_x000B_市").replace('t="n"><v>19</v>', 't="inlineStr"><is><t>十九_x000B_</t></is>'))
    before = snapshot(bad)
    for fmt in ("xlsx", "csv", "json", "table"):
        out = tmp_path / f"report.{fmt}"
        r = cli("score", bad, "--format", fmt, "-o", out)
        assert r.code in (0, 1) and out.exists(), r.err
    wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert wb["排名"]["B4"].value == "示例 市"  # rows 1-3: title, pack line, headers
    problems = [row for row in wb["问题清单"].iter_rows(min_row=4, values_only=True)]
    assert any("十九 " in str(row[3]) for row in problems), problems  # the message kept, VT a space
    assert all("\x0b" not in str(v) for row in problems for v in row)
    assert snapshot(bad) == before


def test_fill_and_build_with_vertical_tabs(tmp_path):
    facts = tmp_path / "f.yaml"
    text = XINFU.read_text("utf-8").replace("忻府区某砖瓦厂", '"忻府区某\\v砖瓦厂"', 1)
    facts.write_text(text.replace("忻府区某小洗煤厂", "某_x000B_洗煤厂", 1), encoding="utf-8")
    tpl = tmp_path / "t.xlsx"
    assert cli("template", "build", "--rules", XINZHOU, "--unit", "忻府区", "-o", tpl).code == 0
    before = snapshot(tpl, facts)
    out = tmp_path / "filled.xlsx"
    r = cli("template", "fill", tpl, "--facts", facts, "-o", out, "--filler", "张\x0b三")
    assert r.code == 0, r.err
    wb = openpyxl.load_workbook(out)
    sheet, ref = next(iter(wb.defined_names["enterprises__enterprise_name"].destinations))
    first = ref.replace("$", "").split(":")[0]
    ws = wb[sheet]
    assert ws[first].value == "忻府区某 砖瓦厂"
    assert ws.cell(ws[first].row + 1, ws[first].column).value == "某 洗煤厂"
    sheet, ref = next(iter(wb.defined_names["info_filler"].destinations))
    assert wb[sheet][ref.replace("$", "")].value == "张 三"
    assert snapshot(tpl, facts) == before
    r = cli("template", "build", "--rules", SHANXI, "--unit", "太原\x0c市\x01", "-o", tmp_path / "b.xlsx")
    assert r.code == 0 and "太原 市" in r.out, r.err


# --- part 10 and issue 14: distribute -------------------------------------------


def _manifest(folder: Path) -> list[list[str]]:
    with open(folder / "manifest.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_distribute_unit_list_with_hostile_names(tmp_path):
    units = tmp_path / "u.txt"
    units.write_text("甲\x0b县\n=HYPERLINK(\"http://x\")\n-乙县\n", encoding="utf-8")
    before = snapshot(units)
    out = tmp_path / "o"
    r = cli("template", "distribute", "--rules", SHANXI, "--units", units, "-o", out)
    assert r.code == 0, r.err
    rows = _manifest(out)
    assert rows[0] == ["单位", "文件", "SHA-256"]
    assert [row[0] for row in rows[1:]] == ["甲 县", "'=HYPERLINK(\"http://x\")", "'-乙县"]
    assert "'=HYPERLINK" not in "".join(p.name for p in out.iterdir())
    for row in rows[1:]:
        name = row[1].lstrip("'")
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == row[2]
    assert snapshot(units) == before


@pytest.mark.parametrize("bad,shown", [("太原\u202e市", "U+202E"), ("\u2067运城市\u2069", "U+2067"),
                                       ("长" * 90, "过长"), ("x" * 240, "过长")])
def test_distribute_refuses_bidi_controls_and_names_too_long_for_a_file(tmp_path, bad, shown):
    units = tmp_path / "u.txt"
    units.write_text(f"大同市\n{bad}\n", encoding="utf-8")
    out = tmp_path / "o"
    r = cli("template", "distribute", "--rules", SHANXI, "--units", units, "-o", out)
    assert r.code == 1 and shown in r.err, r.err
    assert not out.exists()  # nothing written when any unit is bad


def test_distribute_units_must_be_the_packs_reporting_bodies(tmp_path):
    out = tmp_path / "o"
    r = cli("template", "distribute", "--rules", XINZHOU, "--units", "shanxi-cities", "-o", out)
    assert r.code == 1 and "11 个单位不是规则包 xinzhou-2024 的填报单位" in r.err and "忻府区" in r.err
    assert not out.exists()
    units = tmp_path / "u.txt"  # one more spelling: one stray city among the bodies
    units.write_text("忻府区\n代县\n太原市\n", encoding="utf-8")
    r = cli("template", "distribute", "--rules", XINZHOU, "--units", units, "-o", out)
    assert r.code == 1 and "1 个单位" in r.err and "太原市" in r.err and not out.exists()


def test_distribute_into_a_folder_that_is_not_empty_needs_force(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "旧文件.txt").write_text("keep", encoding="utf-8")
    r = cli("template", "distribute", "--rules", XINZHOU, "--units", "xinzhou-bodies", "-o", out)
    assert r.code == 1 and "--force" in r.err and "旧文件.txt" in r.err
    assert sorted(p.name for p in out.iterdir()) == ["旧文件.txt"]
    r = cli("template", "distribute", "--rules", XINZHOU, "--units", "xinzhou-bodies", "-o", out, "--force")
    assert r.code == 0 and len(_manifest(out)) == 17 and (out / "旧文件.txt").read_text("utf-8") == "keep"
    # a units file inside the output folder is an input: never replaced
    units = out / "manifest.csv"
    r = cli("template", "distribute", "--rules", SHANXI, "--units", units, "-o", out, "--force")
    assert r.code == 1 and "单位列表" in r.err


# --- part 8: facts files --------------------------------------------------------


def _billion_laughs(levels: int = 9) -> str:
    """~400 bytes of YAML that expand to 10^levels strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def _laughing_mappings(levels: int = 8) -> str:
    """The same attack with mappings and block style."""
    lines = ["l0: &l0 {" + ", ".join(f"k{j}: lol" for j in range(10)) + "}"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i}")
        lines += [f"  k{j}: *l{i - 1}" for j in range(10)]
    return "\n".join(lines) + "\n"


def _score_facts(tmp_path: Path, name: str, text: str, pack: Path = SHANXI) -> Run:
    facts = tmp_path / name
    facts.write_text(text, encoding="utf-8")
    before = snapshot(facts)
    r = cli("score", "--rules", pack, "--facts", facts)
    assert snapshot(facts) == before
    return r


@pytest.mark.parametrize("name,text,needle", [
    ("laughs.yaml", _billion_laughs(), "别名（*引用）展开后的数据超过"),
    ("laughs2.yaml", _laughing_mappings(), "别名（*引用）展开后的数据超过"),  # one more spelling: mappings
    ("self.yaml", "a: &a [*a]\n", "别名（*引用）指向包含它自身的内容"),
    ("self2.yaml", "weekly_reports_count: &x {k: [1, *x]}\n", "别名循环引用"),
    ("deep.yaml", "weekly_reports_count: " + "[" * 900 + "]" * 900 + "\n", "嵌套超过 64 层"),
    ("deeper.yaml", "weekly_reports_count: " + "[" * 5000 + "]" * 5000 + "\n", "嵌套层数过多"),
    ("sexagesimal.yaml", "weekly_reports_count: 1:30\n", "六十进制"),
    ("sexagesimal2.yaml", "weekly_reports_count: -190:20:30\n", "六十进制"),
    ("big.yaml", "weekly_reports_count: 1" + "0" * 28 + "\n", "超出范围"),
    ("digits.yaml", "weekly_reports_count: " + "7" * 4301 + "\n", "超出范围（77777777777777777777…共 4301 个字符）"),
    ("e40.yaml", "complaint_handling_rate: 1.0e+40\n", "超出范围"),
    ("e999.yaml", "complaint_handling_rate: 1.0e+999999999\n", "超出范围"),
    ("places.yaml", "complaint_handling_rate: 0." + "1" * 41 + "\n", "有效数字过多（41 位"),
    ("tag.yaml", "plan_report_submitted: !!bool maybe\n", "不是 true/false"),
    ("key.yaml", "? [weekly_reports_count]\n: 1\n", "键应为文字或数字"),
])
def test_hostile_yaml_facts(tmp_path, name, text, needle):
    r = _score_facts(tmp_path, name, text)
    assert r.code == 1 and needle in r.err and name in r.err, r.err
    assert "Node(" not in r.err and "tag:yaml.org" not in r.err  # never YAML internals
    assert r.seconds < 60


@pytest.mark.parametrize("name,text,needle", [
    ("dup.json", '{"weekly_reports_count": 20, "weekly_reports_count": 3}', "'weekly_reports_count' 在同一个对象中重复出现"),
    ("dup2.json", '{"enterprises": [{"enterprise_name": "甲", "enterprise_name": "乙"}]}', "'enterprise_name' 在同一个对象中重复"),
    ("nan.json", '{"complaint_handling_rate": NaN}', "不允许 NaN"),
    ("inf.json", '{"complaint_handling_rate": -Infinity}', "不允许 NaN、Infinity"),
    ("big.json", '{"weekly_reports_count": 1' + "0" * 28 + "}", "超出范围"),
    ("digits.json", '{"weekly_reports_count": ' + "9" * 4301 + "}", "共 4301 个字符"),
    ("e40.json", '{"complaint_handling_rate": 1.0e+40}', "超出范围"),
    ("e999.json", '{"complaint_handling_rate": 1e999999999}', "超出范围"),
    ("e999n.json", '{"complaint_handling_rate": -1e999999999}', "超出范围"),
    ("places.json", '{"complaint_handling_rate": 0.' + "3" * 41 + "}", "有效数字过多"),
    ("tiny.json", '{"complaint_handling_rate": 1e-31}', "小数位数过多"),
    ("deep.json", '{"weekly_reports_count": ' + "[" * 100000 + "]" * 100000 + "}", "嵌套"),
])
def test_hostile_json_facts(tmp_path, name, text, needle):
    pack = XINZHOU if "enterprise" in text else SHANXI
    r = _score_facts(tmp_path, name, text, pack)
    assert r.code == 1 and needle in r.err and name in r.err, r.err


def test_range_errors_name_the_fact(tmp_path):
    r = _score_facts(tmp_path, "f.json", '{"weekly_reports_count": 1e30, "complaint_handling_rate": 1e300}')
    assert r.code == 1
    assert "f.json: weekly_reports_count" in r.err and "f.json: complaint_handling_rate" in r.err
    assert r.err.count("超出范围（绝对值应小于 10^15") == 2


def test_the_bound_is_exactly_ten_to_the_fifteen():
    from decimal import Decimal

    from rubric_xl.rules.model import number_problem

    assert number_problem(Decimal("999999999999999.9")) is None
    assert number_problem(Decimal("-999999999999999")) is None
    assert "超出范围" in number_problem(Decimal("1E+15")) and "超出范围" in number_problem(Decimal("-1000000000000000"))
    assert number_problem(Decimal("0." + "1" * 28)) is None and "有效数字过多" in number_problem(Decimal("0." + "1" * 29))
    assert number_problem(Decimal("1E-28")) is None and "小数位数过多" in number_problem(Decimal("1E-29"))
    assert number_problem(Decimal("100." + "0" * 40)) is None  # trailing zeros are not digits
    assert number_problem(Decimal("0E-999999999")) is None
    assert "有限" in number_problem(Decimal("NaN")) and "有限" in number_problem(Decimal("-Infinity"))


def test_fill_refuses_out_of_range_values_and_writes_nothing(tmp_path):
    facts = tmp_path / "f.json"
    facts.write_text('{"weekly_reports_count": 1e30}', encoding="utf-8")
    out = tmp_path / "o.xlsx"
    r = cli("template", "fill", TEMPLATE, "--facts", facts, "-o", out)
    assert r.code == 1 and "weekly_reports_count" in r.err and "超出范围" in r.err and not out.exists()


# --- part 9: pack authors ---------------------------------------------------------


SHANXI_TEXT = SHANXI.read_text("utf-8")
STEP = "threshold: 20, step: 1"
EXPLAIN = "少报{shortfall}期"
VALUE = "kind: step, value: weekly_reports_count"


def _pack(tmp_path: Path, name: str, old: str, new: str, count: int = 1) -> Path:
    assert old in SHANXI_TEXT
    p = tmp_path / name
    p.write_text(SHANXI_TEXT.replace(old, new, count), encoding="utf-8")
    return p


@pytest.mark.parametrize("old,new,needle", [
    (EXPLAIN, "少报{shortfall:>99999999}期", "{shortfall:>99999999} 不能带格式说明"),
    (EXPLAIN, "少报{shortfall:d}期", "{shortfall:d} 不能带格式说明"),
    (EXPLAIN, "少报{shortfall!r}期", "{shortfall!r} 不能带格式说明"),
    (EXPLAIN, "少报{shortfall期", "大括号不成对"),
    (STEP, "threshold: 1e999999999, step: 1", "threshold: 超出范围"),
    (STEP, "threshold: -1.0e+40, step: 1", "threshold: 超出范围"),
    (STEP, "threshold: 20, step: 1e-31", "step: 小数位数过多"),
    (STEP, "threshold: 20, step: 1.0e-7", "step: 小数位数过多"),
    (VALUE, VALUE + " / 0", "除数为 0"),
    (VALUE, VALUE + " / (3 - 3)", "除数为 0"),
    (VALUE, VALUE + " + " + "9" * 40, "超出范围"),
    ("weekly_reports_count", "abc12", "'abc12' 不能用作 Excel 名称"),  # renamed everywhere it is used
    ("weekly_reports_count", "r1c1", "R1C1"),
    (EXPLAIN, "少报\\v{shortfall}期", "控制字符 U+000B"),
])
def test_rules_check_rejects_what_would_break_later(tmp_path, old, new, needle):
    bad = _pack(tmp_path, "bad.yaml", old, new, -1 if old == "weekly_reports_count" else 1)
    good = copy(XINZHOU, tmp_path / "good.yaml")
    before = snapshot(tmp_path)
    r = cli("rules", "check", bad, good)  # the good pack after the bad one is still checked
    assert r.code == 1 and needle in r.err and "bad.yaml" in r.err, r.err
    assert "✓" in r.out and "good.yaml" in r.out
    assert snapshot(tmp_path) == before


def test_pack_text_starting_with_equals_stays_text_in_every_sheet(tmp_path):
    text = SHANXI_TEXT.replace("title: 山西省整治违法污染企业保障群众健康环保专项行动考核评分细则", 'title: "=1+2"', 1)
    text = text.replace('version: "2005.1"', 'version: "=3+4"', 1)
    text = text.replace("{name: 组织领导, cap: 20}", '{name: "=HYPERLINK(\\"http://x\\")", cap: 20}', 1)
    text = text.replace("category: 组织领导", 'category: "=HYPERLINK(\\"http://x\\")"')
    text = text.replace("criteria: 成立环保专项行动领导组得3分", "criteria: =A1成立环保专项行动领导组得3分", 1)
    pack = tmp_path / "eq.yaml"
    pack.write_text(text, encoding="utf-8")
    out = tmp_path / "t.xlsx"
    r = cli("template", "build", "--rules", pack, "--unit", "=SUM(1)", "-o", out)
    assert r.code == 0, r.err
    wb = openpyxl.load_workbook(out)
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith(("=1+2", "=3+4", "=HYPERLINK", "=A1", "=SUM(1)")):
                    found[f"{ws.title}!{c.coordinate}"] = c.data_type
    assert set(found.values()) == {"s"}, found
    assert {k.split("!")[0] for k in found} >= {"填报说明", "评分", "基本信息", "_meta"}
    # the workbook still scores: the compiled formulas are formulas
    total = next(iter(wb.defined_names["total_points"].destinations))
    assert wb[total[0]][total[1].replace("$", "")].data_type == "f"


def test_hostile_cases_file_is_refused(tmp_path):
    pack = copy(SHANXI, tmp_path / "shanxi-2005.yaml")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "shanxi-2005.yaml").write_text("pack: shanxi-2005\n" + _billion_laughs(), encoding="utf-8")
    r = cli("rules", "test", pack)
    assert r.code == 1 and "别名（*引用）展开后的数据超过" in r.err and "cases/shanxi-2005.yaml" in r.err
    (tmp_path / "cases" / "shanxi-2005.yaml").write_text("pack: shanxi-2005\ncases: &c [{name: x, facts: *c}]\n",
                                                       encoding="utf-8")
    r = cli("rules", "test", pack)
    assert r.code == 1 and "指向包含它自身的内容" in r.err and "cases[0].facts" in r.err


def test_yaml_internals_never_shown(tmp_path):
    for text in ("? {a: 1}\n: 2\n", "[1, 2]: x\n", "id: !!python/object:os.system x\n"):
        p = tmp_path / "p.yaml"
        p.write_text(text, encoding="utf-8")
        r = cli("rules", "check", p)
        assert r.code == 1 and "Node(" not in r.err and "tag=" not in r.err, r.err


# --- bounded reads and Chinese system errors --------------------------------------


@pytest.mark.parametrize("args,needle", [
    (["score", "--rules", SHANXI, "--facts", "/dev/zero"], "事实文件过大"),
    (["score", "--rules", "/dev/zero", "--facts", FULL], "过大"),
    (["template", "distribute", "--rules", SHANXI, "--units", "/dev/zero", "-o", "{tmp}/o"], "单位列表过大"),
    (["template", "fill", "/dev/zero", "--facts", FULL, "-o", "{tmp}/o.xlsx"], "模板文件过大"),
])
def test_endless_inputs_are_bounded(tmp_path, args, needle):
    r = cli(*[str(a).replace("{tmp}", str(tmp_path)) for a in args])
    assert r.code == 1 and needle in r.err and r.seconds < 60, r.err


def test_a_huge_yaml_is_refused_before_it_is_composed(tmp_path):
    r = _score_facts(tmp_path, "huge.yaml", "enterprises: [" + "1," * 1_200_000 + "1]\n", XINZHOU)
    assert r.code == 1 and "超过 1000000 个值" in r.err and r.seconds < 60


def test_output_that_is_a_folder_or_a_full_device(tmp_path, submission):
    sub = tmp_path / "上报"
    sub.mkdir()
    copy(submission, sub / "a.xlsx")
    r = cli("score", sub, "--format", "json", "-o", sub)
    assert r.code == 1 and "输出位置是目录" in r.err and str(sub) in r.err
    if Path("/dev/full").exists():
        r = cli("rules", "show", SHANXI, "-o", "/dev/full")
        assert r.code == 1 and "磁盘空间不足" in r.err and "/dev/full" in r.err
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_workbook_cells_out_of_range_are_errors_naming_the_cell(tmp_path, submission):
    from openpyxl.utils.cell import range_boundaries

    book = copy(submission, tmp_path / "big.xlsx")
    wb = openpyxl.load_workbook(book)
    cells = {}
    for name, value in (("weekly_reports_count", 1e30), ("complaint_handling_rate", 1e300),
                        ("supervised_cases_count", 1e15)):  # the bound itself: out
        sheet, ref = next(iter(wb.defined_names[name].destinations))
        col, row, _, _ = range_boundaries(ref.replace("$", ""))
        wb[sheet].cell(row, col).value = value
        cells[name] = f"{sheet}!{wb[sheet].cell(row, col).coordinate}"
    wb.save(book)
    before = snapshot(book)
    r = cli("score", book, "--format", "json")
    assert r.code == 1
    doc = json.loads(r.out)["files"][0]
    msgs = {p["loc"]: p["msg"] for p in doc["problems"] if p["level"] == "error"}
    for cell in cells.values():
        assert "超出范围" in msgs[f"{book} {cell}"], msgs
    assert snapshot(book) == before


@pytest.mark.parametrize("text,where", [
    ('{"enterprises": [{"enterprise_name": "甲\\ud800"}]}', "enterprises[1].enterprise_name"),
    ('{"report_date\\udfff": "2024-06-28"}', "U+DFFF"),  # one more spelling: in a key, the low half
])
def test_json_with_half_a_character_is_refused(tmp_path, text, where):
    r = _score_facts(tmp_path, "half.json", text, XINZHOU)
    assert r.code == 1 and "只有半个字符" in r.err and where in r.err, r.err
    out = tmp_path / "o.xlsx"
    r = cli("template", "fill", REPO / "workbook_templates" / "xinzhou-2024.xlsx", "--facts", tmp_path / "half.json",
            "-o", out)
    assert r.code == 1 and "只有半个字符" in r.err and not out.exists()


def test_unit_names_cannot_leave_the_output_folder(tmp_path):
    units = tmp_path / "u.txt"
    units.write_text("../../逃逸县\n..\\..\\另一县\n/etc/passwd\n", encoding="utf-8")
    out = tmp_path / "deep" / "o"
    r = cli("template", "distribute", "--rules", SHANXI, "--units", units, "-o", out)
    assert r.code == 0, r.err
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file() and p != units)
    assert all(p.parts[:2] == ("deep", "o") and len(p.parts) == 3 for p in written), written
    assert len(written) == 4


def test_stdin_and_stdout_pipes_are_no_clash(tmp_path):
    r = cli("score", "--rules", SHANXI, "--facts", "/dev/stdin", "-o", "/dev/stdout",
            stdin=FULL.read_text("utf-8"))
    assert r.code == 0 and "总分" in r.out, r.err


def test_ledger_pack_text_starting_with_equals_stays_text(tmp_path):
    text = XINZHOU.read_text("utf-8")
    for old, new in (("{id: enterprise_name, label: 企业名称,", '{id: enterprise_name, label: "=企业名称",'),
                     ("  - 每家列入清单的企业填一行；", '  - "=1+1 每家列入清单的企业填一行；'),
                     ("入账日期和企业名称必填，“是/否”列留空按“否”计。", '入账日期和企业名称必填，“是/否”列留空按“否”计。"'),
                     ("hint: 每月30日前报送工作进展}", 'hint: "=每月30日前报送工作进展"}'),
                     ("[有色金属熔炼, 耐火材料,", '["=有色金属熔炼", 耐火材料,')):
        assert old in text, old
        text = text.replace(old, new, 1)
    pack = tmp_path / "eq.yaml"
    pack.write_text(text, encoding="utf-8")
    out = tmp_path / "t.xlsx"
    r = cli("template", "build", "--rules", pack, "-o", out)
    assert r.code == 0, r.err
    wb = openpyxl.load_workbook(out)
    found = {f"{ws.title}!{c.coordinate}": c.data_type for ws in wb.worksheets for row in ws.iter_rows()
             for c in row if isinstance(c.value, str) and c.value.startswith(("=企业", "=1+1", "=每月", "=有色"))}
    assert found and set(found.values()) == {"s"}, found
    assert {k.split("!")[0] for k in found} >= {"台账", "汇总"}, found


def test_hostile_file_names_in_reports(tmp_path, submission):
    sub = tmp_path / "上报"
    sub.mkdir()
    copy(submission, sub / "=HYPERLINK(1).xlsx")
    copy(submission, sub / "甲\x0b乙\x1b.xlsx")
    before = snapshot(sub)
    r = cli("score", sub, "--format", "xlsx", "-o", tmp_path / "r.xlsx")
    assert r.code == 0, r.err
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    files = [c.value for c in wb["排名"]["C"][3:]]  # rows 1-3: title, pack line, headers
    assert any(f.endswith("=HYPERLINK(1).xlsx") for f in files) and any(f.endswith("甲 乙 .xlsx") for f in files)
    assert all(c.data_type == "s" for c in wb["排名"]["C"][3:])
    r = cli("score", sub, "--format", "csv", "-o", tmp_path / "r.csv")
    assert r.code == 0 and "\x0b" not in (tmp_path / "r.csv").read_text("utf-8-sig")
    assert snapshot(sub) == before


@pytest.mark.parametrize("text,line,needle", [
    ("weekly_reports_count: 20\nplan_report_submitted: 是\x0b\n", 2, "U+000B"),  # a raw VT pasted into YAML
    ("weekly_reports_count: 20\n---\nweekly_reports_count: 3\n", 2, "只能有一个 YAML 文档"),
    ("a: &x 1\nb: &x 2\n", 2, "锚点（&名称）重复定义"),
    ("weekly_reports_count: [1, 2\n", 2, "方括号列表没有正确结束"),
    ('x: "\\q"\n', 1, "无效的转义"),
])
def test_yaml_syntax_errors_are_chinese_with_the_line(tmp_path, text, line, needle):
    r = _score_facts(tmp_path, "s.yaml", text)
    assert r.code == 1 and f"s.yaml:{line}" in r.err and needle in r.err, r.err


def test_addin_gets_the_same_bound(tmp_path):
    """The add-in converts typed cells with the engine, so 1e30 is 超出范围 there too."""
    from fastapi.testclient import TestClient

    from rubric_xl.addin import create_app
    from test_addin_server import payload, post_score, typed

    client = TestClient(create_app([SHANXI]))
    book = payload((REPO / "examples" / "shanxi-2005-full.xlsx").read_bytes(), tmp_path)
    for fid, value in (("weekly_reports_count", 1e30), ("complaint_handling_rate", 1e300),
                       ("gov_special_funding_wan", -1e16)):
        result = post_score(client, typed(book, {fid: value}))
        issues = [i for i in result["issues"] if i["fact"] == fid]
        assert len(issues) == 1 and "超出范围" in str(issues[0]), (fid, issues)


def test_fill_refuses_a_zip_bomb_template_before_inflating_it(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(TEMPLATE) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        dst.writestr("xl/worksheets/sheet99.xml", b"<x>" + b" " * (300 * 2 ** 20) + b"</x>")  # 300 MB of spaces
    assert bomb.stat().st_size < 2 * 2 ** 20
    before = snapshot(bomb)
    out = tmp_path / "o.xlsx"
    r = cli("template", "fill", bomb, "--facts", FULL, "-o", out)
    assert r.code == 1 and "bomb.xlsx" in r.err and not out.exists() and r.seconds < 60, r.err
    assert snapshot(bomb) == before


# --- properties -------------------------------------------------------------------

from decimal import Decimal  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rubric_xl.sheettext import clean_text, safe_text  # noqa: E402

_XLSX_ILLEGAL = set(map(chr, [*range(0, 9), 11, 12, *range(14, 32)]))


@given(st.text())
def test_clean_text_leaves_nothing_an_xlsx_cannot_hold_and_is_idempotent(s):
    out = clean_text(s)
    assert not _XLSX_ILLEGAL & set(out)
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in out)
    assert clean_text(out) == out
    openpyxl.Workbook().active["A1"] = out  # openpyxl accepts it


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"))))
def test_clean_text_keeps_legal_text(s):
    if "_x" not in s:
        assert clean_text(s) == s


@given(st.text())
def test_safe_text_never_starts_a_formula(s):
    out = safe_text(s)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r", "\n"))
    assert out in (clean_text(s), "'" + clean_text(s))


_numbers = st.decimals(allow_nan=False, allow_infinity=False, places=None) | st.builds(
    lambda sign, coef, exp: Decimal(f"{'-' if sign else ''}{coef}E{exp}"),  # around 10^15, 28 digits, 10^-28
    st.booleans(), st.integers(0, 10 ** 31) | st.sampled_from([10 ** 28 - 1, 10 ** 28, 999999999999999]),
    st.integers(-60, 20))


@settings(max_examples=400)
@given(_numbers)
def test_the_bound_accepts_exactly_the_numbers_below_ten_to_the_fifteen(d):
    from rubric_xl.rules.model import number_problem

    import decimal

    wide = decimal.Context(prec=10 ** 6, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
    if d.is_zero():
        inside = True
    else:
        small = wide.compare(wide.abs(d), Decimal(10) ** 15) < 0
        exact = small and wide.quantize(d, Decimal("1e-28")) == d  # no digit below 10^-28
        significant = len(wide.normalize(d).as_tuple().digits)
        inside = small and exact and significant <= 28
    assert (number_problem(d) is None) == inside, d


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 20, 10 ** 20) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=60)
@given(_json_values)
def test_yaml_and_json_facts_round_trip_within_the_bounds(value):
    import yaml

    from rubric_xl.factsfile import load_json
    from rubric_xl.rules.yamlsrc import load_text

    assert load_json(json.dumps(value), "f.json") == value
    text = yaml.safe_dump({"v": value}, allow_unicode=True)
    if any(ch in text for ch in _YAML_BREAKS):
        # PyYAML's own emitter folds a NEL / line separator inside a quoted
        # scalar into a space (yaml.safe_load gives the same): not ours to test
        assert yaml.safe_load(text) == load_text(text, "f.yaml").data
        return
    assert load_text(text, "f.yaml").data == {"v": value}


_YAML_BREAKS = ("\x85", "\u2028", "\u2029")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["./", "sub/../", "link/", "sub/./../"]), max_size=4), st.booleans())
def test_every_spelling_of_an_input_is_refused_as_output(tmp_path_factory, prefixes, hard):
    from rubric_xl._files import write_output
    from rubric_xl.errors import InputFileError

    root = tmp_path_factory.mktemp("spell")
    (root / "sub").mkdir()
    (root / "link").symlink_to(root, target_is_directory=True)
    x = root / "x.yaml"
    x.write_text("keep", encoding="utf-8")
    target = x
    if hard:
        os.link(x, root / "hard.yaml")
        target = root / "hard.yaml"
    spelled = str(root) + "/" + "".join(prefixes) + target.name
    with pytest.raises(InputFileError, match="就是输入的规则包"):
        write_output(spelled, "new", inputs=[("规则包", x)])
    assert x.read_text("utf-8") == "keep"
    write_output(root / "other.txt", "new", inputs=[("规则包", x)])  # anything else is written
    assert (root / "other.txt").read_text("utf-8") == "new"


def test_build_for_a_unit_that_is_not_a_reporting_body(tmp_path):
    out = tmp_path / "t.xlsx"
    r = cli("template", "build", "--rules", XINZHOU, "--unit", "太原市", "-o", out)
    assert r.code == 1 and "--unit" in r.err and "不是规则包 xinzhou-2024 的填报单位" in r.err and not out.exists()
    r = cli("template", "build", "--rules", XINZHOU, "--unit", " 代县 ", "-o", out)
    assert r.code == 0 and "代县" in r.out


def test_report_cells_hold_at_most_what_excel_shows():
    from rubric_xl.sheettext import MAX_CELL, report_text

    assert report_text("甲" * MAX_CELL) == "甲" * MAX_CELL
    long = report_text("\x0b" + "乙" * MAX_CELL)
    assert len(long) == MAX_CELL and long.startswith(" 乙") and long.endswith("…")


def test_packs_found_by_search_are_inputs_too(tmp_path, submission):
    (tmp_path / "rules").mkdir()
    pack = copy(SHANXI, tmp_path / "rules" / "shanxi-2005.yaml")
    before = snapshot(pack)
    for args in (["extract", submission, "--format", "yaml", "-o", "rules/shanxi-2005.yaml"],
                 ["score", submission, "--format", "json", "-o", "./rules/shanxi-2005.yaml"]):
        r = cli(*args, cwd=tmp_path)  # the workbook's pack is found in ./rules
        assert r.code == 2 and "就是输入的规则包" in r.err, r.err
    assert snapshot(pack) == before
