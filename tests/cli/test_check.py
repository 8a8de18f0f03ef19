"""`studio check`: every broken graph of the zoo is found with its node and a fix; `--fix` mends
the ones with a single fix in a copy that then validates, leaving the file as it was."""

from __future__ import annotations

import json

import pytest

from studio.cli.main import main
from studio.files import load, save

from doctor.zoo import EXAMPLES, ZOO


def _check(capsys, *args):
    code = main(["check", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def zoo_files(tmp_path):
    for broken in ZOO:
        save(broken.graph(), tmp_path / f"{broken.name}.json")
    return tmp_path


def test_every_broken_graph_is_found_with_its_node_and_a_fix(zoo_files, capsys):
    for broken in ZOO:
        code, out, _ = _check(capsys, zoo_files / f"{broken.name}.json", "--json")
        report = json.loads(out)
        found = [p for p in report["errors"] + report["warnings"] if p.get("code") == broken.code]
        assert found, (broken.name, report["errors"], report["warnings"])
        assert found[0]["node"] == broken.node and found[0]["fixes"], broken.name
        assert code == (1 if report["errors"] else 0)


def test_fix_writes_a_copy_that_validates_and_keeps_the_file(zoo_files, capsys):
    single = 0
    for broken in ZOO:
        path = zoo_files / f"{broken.name}.json"
        before = path.read_bytes()
        out_path = zoo_files / f"{broken.name}.mended.json"
        code, out, err = _check(capsys, path, "--fix", "-o", out_path)
        assert path.read_bytes() == before and err == ""
        mended = load(out_path)
        assert f"wrote {out_path}" in out
        if "(none had a single fix)" in out:
            assert broken.code == "saturating-depth"  # two fixes offered: the person chooses
            continue
        single += 1
        assert code == 0, out
        code, out, _ = _check(capsys, out_path, "--json")
        report = json.loads(out)
        assert report["valid"] and not [w for w in report["warnings"] if w["code"] == broken.code], broken.name
        assert len(mended.nodes) >= 2
    assert single >= 15


def test_the_report_lists_fixes_under_each_finding(capsys):
    code, out, _ = _check(capsys, EXAMPLES / "vanishing_gradients.json")
    lines = out.splitlines()
    assert code == 0 and "Valid." in lines and "Warnings: 1" in lines
    at = next(i for i, line in enumerate(lines) if line.startswith("  sigmoid1: 8 Sigmoid layers in a row"))
    assert lines[at].endswith("[saturating-depth]")
    assert lines[at + 1] == "      fix: Use ReLU, with a normalisation before each of the 8 layers"
    assert lines[at + 2] == "      fix: Put a normalisation before each of the 8 Sigmoid layers"


def test_fix_refuses_to_overwrite_the_file(tmp_path, capsys):
    path = tmp_path / "g.json"
    save(ZOO[3].graph(), path)
    before = path.read_bytes()
    code, _, err = _check(capsys, path, "--fix", "-o", path)
    assert code == 2 and "a path other than the file itself" in err and path.read_bytes() == before


def test_an_unreadable_file_is_status_2(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("{ not json")
    code, out, err = _check(capsys, path, "--json")
    assert code == 2 and json.loads(out)["valid"] is False and "bad.json" in err


def test_a_run_that_cannot_start_lists_its_problems_a_line_each(tmp_path, capsys):
    graph = json.loads((EXAMPLES / "lenet5_digits.json").read_text())
    del graph["training"]["dataset"]
    path = tmp_path / "nodata.json"
    path.write_text(json.dumps(graph))
    code, out, _ = _check(capsys, path, "--run")
    lines = out.splitlines()
    at = lines.index("Cannot run: nothing to train on:")
    assert code == 1 and lines[at + 1].startswith("  training.dataset: no data set is chosen")


def test_fix_into_a_folder_that_is_not_there_says_so_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "g.json"
    save(ZOO[3].graph(), path)
    code, _, err = _check(capsys, path, "--fix", "-o", tmp_path / "missing" / "out.json")
    assert code == 2 and err.strip() == f"studio check: {tmp_path / 'missing' / 'out.json'}: cannot write: No such file or directory"


def test_json_says_why_a_run_asked_for_did_not_happen(tmp_path, capsys):
    path = tmp_path / "g.json"
    save(ZOO[0].graph(), path)  # LeNet without its Flatten: an error in the output's shape
    code, out, _ = _check(capsys, path, "--run", "--json")
    report = json.loads(out)
    assert code == 1 and "preview" not in report and report["not_run"] == "the graph has errors to mend first"
