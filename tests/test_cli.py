"""The facts-file CLI: score, rules check/test/show; exit codes and Chinese errors."""
from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from rubric_xl import load_pack, score
from rubric_xl.cli import cli, main
from rubric_xl.samples import random_facts

ROOT = Path(__file__).resolve().parents[1]
SHANXI = str(ROOT / "rules" / "shanxi-2005.yaml")
XINZHOU = str(ROOT / "rules" / "xinzhou-2024.yaml")


def _jsonable(v):
    if isinstance(v, Decimal):
        return float(v)  # ≤ 2 decimals: the JSON text reads back as the same Decimal
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


def write_facts(tmp_path: Path, facts: dict, name: str = "facts.json") -> str:
    p = tmp_path / name
    p.write_text(json.dumps(_jsonable(facts), ensure_ascii=False), encoding="utf-8")
    return str(p)


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def shanxi():
    return load_pack(SHANXI)


def test_score_json_matches_engine(runner, tmp_path, shanxi):
    facts = random_facts(shanxi, random.Random(7))
    path = write_facts(tmp_path, facts)
    res = runner.invoke(cli, ["score", "--rules", SHANXI, "--facts", path, "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output, parse_float=Decimal)
    card = score(shanxi, facts)
    assert data["pack"] == {"id": "shanxi-2005", "title": shanxi.model.title,
                            "version": shanxi.version, "hash": shanxi.hash}
    assert [it["id"] for it in data["items"]] == [str(i) for i in range(1, 45)]
    assert data["total"] == card.total
    assert data["grade"] == card.grade
    assert data["eligible"] == card.eligible
    assert data["provisional"] is card.provisional
    for got, want in zip(data["items"], card.items):
        assert got["points"] == want.points
        assert got["explanation"] == want.explanation
        assert got["status"] == want.status
        assert got["flags"] == list(want.flags)
    assert [c["name"] for c in data["categories"]] == [c.name for c in shanxi.model.categories]
    # points are JSON numbers with two decimals, not strings
    assert f'"total": {card.total:.2f}' in res.output


def test_score_table_is_chinese(runner, tmp_path, shanxi):
    facts = random_facts(shanxi, random.Random(3))
    facts["weekly_reports_count"] = 18
    res = runner.invoke(cli, ["score", "--rules", SHANXI, "--facts", write_facts(tmp_path, facts)])
    assert res.exit_code == 0, res.output
    assert "总分" in res.output and "少报2期，扣1.00分" in res.output
    assert shanxi.hash[:12] in res.output


def test_yaml_facts_with_chinese_booleans(runner, tmp_path, shanxi):
    facts = random_facts(shanxi, random.Random(5))
    p = tmp_path / "f.yaml"
    lines = []
    for k, v in facts.items():
        if isinstance(v, bool):
            lines.append(f"{k}: {'是' if v else '否'}")
        elif v is None:
            lines.append(f"{k}:")
        else:
            lines.append(f"{k}: {v}")
    p.write_text("\n".join(lines), encoding="utf-8")
    res = runner.invoke(cli, ["score", "--rules", SHANXI, "--facts", str(p), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output, parse_float=Decimal)["total"] == score(shanxi, facts).total


@pytest.mark.parametrize("fact,value,expect", [
    ("complaint_handling_rate", "n/a", "0–100"),
    ("complaint_handling_rate", 100.5, "0–100"),
    ("weekly_reports_count", -1, "不小于 0"),
    ("weekly_reports_count", 2.5, "整数"),
    ("supervision_standard_level", "四级", "一级、二级、三级、未达标"),
    ("survey_report_date", "2005/07/01", "YYYY-MM-DD"),
    ("leading_group_established", "maybe", "是 或 否"),
])
def test_bad_fact_is_exit_1_naming_fact(runner, tmp_path, shanxi, fact, value, expect):
    facts = random_facts(shanxi, random.Random(1))
    facts[fact] = value
    res = runner.invoke(cli, ["score", "--rules", SHANXI, "--facts", write_facts(tmp_path, facts)])
    assert res.exit_code == 1
    assert fact in res.output and expect in res.output
    assert shanxi.facts[fact].label in res.output
    assert "Traceback" not in res.output


def test_unknown_fact_id_is_an_error_with_suggestion(runner, tmp_path, shanxi):
    facts = random_facts(shanxi, random.Random(1))
    facts["weekly_report_count"] = 20  # typo
    res = runner.invoke(cli, ["score", "--rules", SHANXI, "--facts", write_facts(tmp_path, facts)])
    assert res.exit_code == 1
    assert "未知的事实 'weekly_report_count'" in res.output
    assert "weekly_reports_count" in res.output


def test_strict_rejects_incomplete(runner, tmp_path, shanxi):
    facts = random_facts(shanxi, random.Random(2))
    facts["weekly_reports_count"] = None
    path = write_facts(tmp_path, facts)
    ok = runner.invoke(cli, ["score", "--rules", SHANXI, "--facts", path, "--format", "json"])
    assert ok.exit_code == 0
    data = json.loads(ok.output)
    assert data["provisional"] is True
    item10 = data["items"][9]
    assert item10["status"] == "incomplete" and item10["points"] is None
    strict = runner.invoke(cli, ["score", "--rules", SHANXI, "--facts", path, "--strict"])
    assert strict.exit_code == 1
    assert "第10项" in strict.output


def test_output_file_written(runner, tmp_path, shanxi):
    facts = random_facts(shanxi, random.Random(9))
    out = tmp_path / "sub" / "card.json"
    res = runner.invoke(cli, ["score", "--rules", SHANXI, "--facts", write_facts(tmp_path, facts),
                              "--format", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text(encoding="utf-8"))["pack"]["id"] == "shanxi-2005"
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_ledger_json_has_rows_and_rollups(runner, tmp_path):
    pack = load_pack(XINZHOU)
    facts = random_facts(pack, random.Random(4), rows=12)
    res = runner.invoke(cli, ["score", "--rules", XINZHOU, "--facts", write_facts(tmp_path, facts),
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert "items" not in data
    assert len(data["rows"]) == 12
    assert data["rollups"] and data["rollups"][0]["total"]["key"] == "全市"
    table = runner.invoke(cli, ["score", "--rules", XINZHOU, "--facts", write_facts(tmp_path, facts)])
    assert table.exit_code == 0 and "全市" in table.output


@pytest.mark.parametrize("args", [
    ["score"],
    ["score", "--facts", "x.yaml"],
    ["score", "--rules", SHANXI, "--facts", "x.yaml", "--format", "pdf"],
    ["score", "--rules", SHANXI, "--facts", "x.yaml", "--format", "csv"],
    ["score", "--facts", "x.yaml", "some.xlsx"],
    ["nope"],
])
def test_usage_errors_exit_2_in_chinese(runner, args):
    res = runner.invoke(cli, args)
    assert res.exit_code == 2
    assert "错误" in res.output
    assert "Error" not in res.output


def test_missing_files_are_input_errors(runner, tmp_path):
    res = runner.invoke(cli, ["score", "--rules", SHANXI, "--facts", str(tmp_path / "none.yaml")])
    assert res.exit_code == 1 and "找不到此文件" in res.output
    res = runner.invoke(cli, ["score", "--rules", str(tmp_path / "none.yaml"), "--facts", SHANXI])
    assert res.exit_code == 1 and "找不到此文件" in res.output
    bad = tmp_path / "bad.json"
    bad.write_text("{oops", encoding="utf-8")
    res = runner.invoke(cli, ["score", "--rules", SHANXI, "--facts", str(bad)])
    assert res.exit_code == 1 and "JSON 格式错误" in res.output


def test_rules_check(runner, tmp_path):
    res = runner.invoke(cli, ["rules", "check", SHANXI, XINZHOU])
    assert res.exit_code == 0, res.output
    assert "44 个评分项" in res.output
    broken = tmp_path / "broken.yaml"
    text = Path(SHANXI).read_text(encoding="utf-8").replace("- {name: 组织领导, cap: 20}",
                                                            "- {name: 组织领导, cap: 21}")
    broken.write_text(text, encoding="utf-8")
    res = runner.invoke(cli, ["rules", "check", SHANXI, str(broken)])
    assert res.exit_code == 1
    assert "组织领导" in res.output and "21" in res.output and "20" in res.output
    assert f"{broken}:" in res.output  # file:line


def test_rules_check_and_test_take_a_folder(runner, tmp_path):
    """A folder stands for the packs directly in it (not its cases/); each one is
    checked or tested, and a folder without a pack is an input error."""
    packs = sorted((ROOT / "rules").glob("*.yaml"))
    res = runner.invoke(cli, ["rules", "check", str(ROOT / "rules")])
    assert res.exit_code == 0, res.output
    assert res.output.count("✓") == len(packs) >= 4
    assert "changzhi-2019" in res.output and "违法排污行为大整治工作台账" in res.output  # every table named
    res = runner.invoke(cli, ["rules", "test", str(ROOT / "rules")])
    assert res.exit_code == 0, res.output
    assert res.output.count("个用例通过，0 个失败") == len(packs)
    # a folder with one good and one broken pack: both reported, exit 1
    (tmp_path / "a.yaml").write_text(Path(SHANXI).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "b.yml").write_text("id: [\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a pack", encoding="utf-8")
    res = runner.invoke(cli, ["rules", "check", str(tmp_path)])
    assert res.exit_code == 1 and "✓" in res.output and "b.yml" in res.output and "notes.txt" not in res.output
    for empty in (tmp_path / "empty", tmp_path / "only-cases"):
        empty.mkdir()
    (tmp_path / "only-cases" / "cases").mkdir()
    (tmp_path / "only-cases" / "cases" / "x.yaml").write_text("pack: x\n", encoding="utf-8")
    for cmd in ("check", "test"):
        for d in ("empty", "only-cases"):
            res = runner.invoke(cli, ["rules", cmd, str(tmp_path / d)])
            assert res.exit_code == 1 and "文件夹中没有规则包" in res.output and "Traceback" not in res.output


def test_rules_test_runs_cases_and_fails_on_wrong_expectation(runner, tmp_path):
    res = runner.invoke(cli, ["rules", "test", SHANXI, XINZHOU])
    assert res.exit_code == 0, res.output
    assert "0 个失败" in res.output
    # a copy of the pack whose cases expect something false
    (tmp_path / "cases").mkdir()
    pack = tmp_path / "shanxi-2005.yaml"
    pack.write_text(Path(SHANXI).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "cases" / "shanxi-2005.yaml").write_text(
        "pack: shanxi-2005\ncases:\n  - name: 故意写错的期望\n    facts: {}\n"
        "    expect: {provisional: false}\n", encoding="utf-8")
    res = runner.invoke(cli, ["rules", "test", str(pack)])
    assert res.exit_code == 1
    assert "故意写错的期望" in res.output


def test_rules_show_markdown_has_every_item(runner, shanxi):
    res = runner.invoke(cli, ["rules", "show", SHANXI, "--format", "markdown"])
    assert res.exit_code == 0
    assert "| 序号 | 考核内容 | 分值 | 评分细则 | 依据 |" in res.output
    for ci in shanxi.items:
        assert f"| {ci.id} | " in res.output
        assert ci.item.criteria in res.output
    table = runner.invoke(cli, ["rules", "show", SHANXI])
    assert table.exit_code == 0 and "评分细则" in table.output


def test_main_never_shows_a_traceback(capsys, tmp_path, monkeypatch):
    import rubric_xl.cli.score as score_mod

    def boom(*a, **k):
        raise RuntimeError("模拟的内部故障")

    monkeypatch.setattr(score_mod, "load_facts_file", boom)
    with pytest.raises(SystemExit) as exc:
        main(["score", "--rules", SHANXI, "--facts", "x.yaml"])
    assert exc.value.code == 3
    err = capsys.readouterr().err
    assert "内部错误" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        main(["score", "--facts", "x.yaml"])
    assert exc.value.code == 2
