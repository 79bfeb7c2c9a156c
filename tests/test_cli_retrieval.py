"""`re3g index` and `re3g search` end to end, and their errors (one line, exit code 2)."""

from __future__ import annotations

import json
import subprocess
import sys

from re3g.cli import main


def test_index_then_search(tmp_path, small_corpus_files, capsys):
    out = tmp_path / "idx"
    assert main(["index", "--docs", str(small_corpus_files[0]), "--out", str(out),
                 "--kinds", "bm25"]) == 0
    assert "32 documents" in capsys.readouterr().out
    # without --name the index is named after its folder, as the chat lists it (session 56)
    assert json.loads((out / "manifest.json").read_text())["name"] == "idx"
    assert main(["search", "apply for benefits", "--index", str(out), "--mode", "bm25",
                 "-k", "3", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert all(r["doc_id"] and r["text"] for r in rows)


def test_search_errors_are_one_line(tmp_path, small_index, capsys):
    assert main(["search", "x", "--index", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "no index at" in err and len(err.strip().splitlines()) == 1
    assert main(["search", "   ", "--index", str(small_index), "--mode", "bm25"]) == 2
    assert "empty" in capsys.readouterr().err


def test_index_bad_json_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "docs.json"
    bad.write_text('{"doc_data": {"dmv": {"x": {"doc_id": "x", "doc_text": "t"')
    proc = subprocess.run([sys.executable, "-m", "re3g.cli", "index", "--docs", str(bad),
                           "--out", str(tmp_path / "i")], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2
    assert "docs.json: malformed JSON at line 1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "i").exists()


def test_help_is_there():
    proc = subprocess.run([sys.executable, "-m", "re3g.cli", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0
    for cmd in ("index", "search", "evaluate"):
        assert cmd in proc.stdout
