"""The one pack loader (rules.catalog), pack ids on the command line and the
one ``_meta`` parser shared by reader, template filler and add-in."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from rubric_xl import PackError
from rubric_xl.addin._packs import ServerPacks
from rubric_xl.cli import cli
from rubric_xl.reader._meta import cell_text, missing_keys, parse_meta_rows
from rubric_xl.rules import catalog
from rubric_xl.workbook import read_meta as template_meta

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "rules"
BUNDLED = sorted(p.stem for p in RULES.glob("*.yaml"))  # every pack in rules/ (file name = pack id)
TEMPLATES = REPO / "workbook_templates"


@pytest.fixture()
def elsewhere(tmp_path, monkeypatch):
    """A working directory outside the checkout, without ./rules."""
    d = tmp_path / "work"
    d.mkdir()
    monkeypatch.chdir(d)
    return d


def test_pack_id_is_found_from_any_directory(elsewhere):
    assert catalog.locate("shanxi-2005").resolve() == (RULES / "shanxi-2005.yaml").resolve()
    assert catalog.locate("xinzhou-2024").name == "xinzhou-2024.yaml"


def test_local_rules_folder_comes_first(elsewhere):
    (elsewhere / "rules").mkdir()
    mine = elsewhere / "rules" / "mine.yaml"
    shutil.copyfile(RULES / "shanxi-2005.yaml", mine)
    assert catalog.locate("shanxi-2005").resolve() == mine.resolve()
    found, broken = catalog.available()
    others = [i for i in BUNDLED if i != "shanxi-2005"]  # the checkout's packs, by file name
    assert [m.pack.id for m in found] == ["shanxi-2005", *others] and not broken
    assert found[0].path.resolve() == mine.resolve()


def test_existing_path_is_kept_even_when_it_looks_like_an_id(elsewhere):
    (elsewhere / "shanxi-2005").write_text("not a pack", encoding="utf-8")
    assert catalog.locate("shanxi-2005") == Path("shanxi-2005")


@pytest.mark.parametrize("ref", ["shanxi-2006", "no-such-pack"])
def test_unknown_pack_id_names_the_known_ones(elsewhere, ref):
    with pytest.raises(PackError) as exc:
        catalog.locate(ref)
    text = str(exc.value)
    assert ref in text and "shanxi-2005" in text and "xinzhou-2024" in text


@pytest.mark.parametrize("ref", ["../rules/shanxi-2005", "..", "rules/../shanxi-2005.yaml",
                                 "Shanxi-2005", "shanxi-2005.yaml", "/etc/passwd"])
def test_paths_are_never_taken_for_ids(elsewhere, ref):
    # anything but a plain lower-case id is a path, used as given (and reported if missing)
    assert not catalog.is_pack_id(ref)
    assert catalog.locate(ref) == Path(ref)


@settings(max_examples=200, deadline=None)
@given(name=st.text(min_size=1, max_size=20))
def test_only_plain_ids_are_ids(name):
    # a pack id is never a path: no separator, no dot, no drive, no upper case, no space
    if catalog.is_pack_id(name):
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", name)
        assert Path(name).name == name and not Path(name).suffix and ".." not in name
    for spelled in (f"../{name}", f"rules/{name}", f"{name}.yaml", f"{name}.yml", f"C:\\{name}", f"./{name}"):
        assert not catalog.is_pack_id(spelled)


def test_broken_pack_file_is_reported_not_unknown(elsewhere):
    (elsewhere / "rules").mkdir()
    (elsewhere / "rules" / "bad.yaml").write_text("id: shanxi-2005\nversion: [\n", encoding="utf-8")
    match, broken = catalog.find_pack("shanxi-2005")
    assert match is not None and match.path.parent.resolve() == RULES.resolve()
    assert broken and "bad.yaml" in str(broken[0].problems[0].loc)


def test_cli_takes_pack_ids(elsewhere):
    runner = CliRunner()
    facts = elsewhere / "f.yaml"
    shutil.copyfile(REPO / "examples" / "shanxi-2005-full.yaml", facts)
    res = runner.invoke(cli, ["score", "--rules", "shanxi-2005", "--facts", str(facts), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert '"total": 104.70' in res.output
    res = runner.invoke(cli, ["rules", "show", "xinzhou-2024"])
    assert res.exit_code == 0 and "散乱污" in res.output
    res = runner.invoke(cli, ["score", "--rules", "shanxi-2006", "--facts", str(facts)])
    assert res.exit_code == 1 and "找不到规则包 shanxi-2006" in res.output and "Traceback" not in res.output
    res = runner.invoke(cli, ["rules", "list"])
    assert res.exit_code == 0
    lines = res.output.splitlines()
    ids = [ln.split("\t")[0] for ln in lines if "\t" in ln]
    assert ids == sorted(ids) and {"shanxi-2005", "xinzhou-2024", "changzhi-2019"} <= set(ids)
    i = next(n for n, ln in enumerate(lines) if ln.startswith("shanxi-2005\t"))
    assert lines[i].startswith("shanxi-2005\t版本 2005.1\t评分细则\t")
    assert lines[i + 1] == f"  填报模板：{TEMPLATES / 'shanxi-2005.xlsx'}"
    assert any(ln.startswith("xinzhou-2024\t版本 2024.1\t台账\t") for ln in lines)
    assert any(ln.startswith("changzhi-2019\t版本 2019.1\t台账\t") for ln in lines)
    assert f"共 {len(ids)} 个规则包" in lines[-1]


def test_rules_list_reports_broken_packs_and_stale_templates(elsewhere):
    (elsewhere / "rules").mkdir()
    (elsewhere / "rules" / "bad.yaml").write_text("id: bad\nversion: [\n", encoding="utf-8")
    changed = (RULES / "shanxi-2005.yaml").read_text(encoding="utf-8").replace(
        "version: '2005.1'", "version: '2005.2'").replace('version: "2005.1"', 'version: "2005.2"')
    assert "2005.2" in changed
    (elsewhere / "rules" / "shanxi-2005.yaml").write_text(changed, encoding="utf-8")
    res = CliRunner().invoke(cli, ["rules", "list"])
    assert res.exit_code == 1  # a broken pack file is an input error, the others still listed
    assert "bad.yaml" in res.stderr and "✗" in res.stderr
    assert "shanxi-2005\t版本 2005.2" in res.stdout
    assert "另一版本生成，请用 template build --rules shanxi-2005" in res.stdout
    assert "xinzhou-2024\t版本 2024.1" in res.stdout


def test_server_packs_default_to_the_catalog(elsewhere, monkeypatch):
    from rubric_xl.addin import _packs

    monkeypatch.setattr(_packs, "_registry", None)  # restored afterwards for the other tests
    monkeypatch.delenv(_packs.ENV_RULES, raising=False)
    reg = _packs.configure(None)
    assert isinstance(reg, ServerPacks) and sorted(reg.by_id) == BUNDLED
    pack = reg.by_id["shanxi-2005"][0]
    assert reg.resolve({"pack_id": pack.id, "pack_hash": pack.hash}, "x.xlsx") is pack


# --- the one _meta parser ------------------------------------------------------


def test_meta_rows_first_key_wins_and_unknown_keys_are_ignored():
    rows = [("pack_id", " shanxi-2005 "), ("evil", "=cmd"), ("pack_id", "other"),
            (None, "x"), (), ("template_version", 1.0), ("pack_hash", None), ("unit",)]
    meta = parse_meta_rows(rows)
    assert meta == {"pack_id": "shanxi-2005", "template_version": "1", "pack_hash": "", "unit": ""}
    assert missing_keys(meta) == ["pack_hash"]
    assert missing_keys({"pack_id": " ", "pack_hash": "ab"}) == ["pack_id"]  # blank counts as missing


@pytest.mark.parametrize("v, text", [(1, "1"), (1.0, "1"), (2005.1, "2005.1"), (True, "true"),
                                     (" a ", "a"), (None, "")])
def test_cell_text(v, text):
    assert cell_text(v) == text


def test_reader_and_filler_read_the_same_meta():
    from rubric_xl.reader import open_workbook, read_meta

    for name in ("shanxi-2005", "xinzhou-2024"):
        path = TEMPLATES / f"{name}.xlsx"
        via_reader, problems = read_meta(open_workbook(path))
        via_filler = template_meta(load_workbook(path), str(path))
        assert via_reader == via_filler and not problems
        assert via_reader["pack_id"] == name and len(via_reader["fingerprint"]) == 64
