"""What `studio train` prints of a crafted file cannot drive the terminal."""

from __future__ import annotations

import json

from studio.cli.main import main


def test_train_prints_a_file_s_escape_sequences_escaped(tmp_path, capsys):
    doc = {"format": "studio-graph", "version": 1, "name": "x",
           "nodes": [{"id": "a", "block": "Input", "params": {"shape": [2]}}], "edges": [],
           "training": {"dataset": {"name": "text", "path": "/etc/\x1b[2Jpasswd\u202e"}}}
    path = tmp_path / "esc.json"
    path.write_text(json.dumps(doc))
    code = main(["train", str(path)])
    err = capsys.readouterr().err
    assert code != 0
    assert "\x1b" not in err and "\u202e" not in err
    assert "\\x1b[2J" in err and "\\u202e" in err
    assert "outside the graph's folder" in err and "\n" in err.strip()  # its own line breaks stay


def test_export_prints_a_file_s_escape_sequences_escaped(tmp_path, capsys):
    doc = {"format": "studio-graph", "version": 1, "name": "x",
           "nodes": [{"id": "a", "block": "Input", "params": {"shape": [2]}},
                     {"id": "b", "block": "Linear", "label": "\x1b]0;owned\x07", "params": {"out_features": 2}}],
           "edges": [], "training": {}}
    path = tmp_path / "e\x1b[2Jsc\x07.json"  # a file name from someone else's archive
    path.write_text(json.dumps(doc))
    code = main(["export", str(path), "--format", "python"])
    err = capsys.readouterr().err
    assert code != 0 and "the graph is invalid" in err
    assert "\x1b" not in err and "\x07" not in err


def test_validate_takes_the_allow_outside_its_message_names(tmp_path, capsys):
    (tmp_path / "graphs").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    doc = {"format": "studio-graph", "version": 1, "name": "v",
           "nodes": [{"id": "x", "block": "Input", "params": {"shape": [2]}},
                     {"id": "fc", "block": "Linear", "params": {"out_features": 2}}],
           "edges": [{"from": "x.out", "to": "fc.in"}],
           "training": {"dataset": {"name": "csv", "path": "../data/x.csv", "target": "label"}}}
    path = tmp_path / "graphs" / "v.json"
    path.write_text(json.dumps(doc))
    assert main(["validate", str(path)]) == 1
    assert "--allow-outside" in capsys.readouterr().out
    assert main(["validate", str(path), "--allow-outside", str(tmp_path / "data")]) == 0
