"""``re3g ask`` in-process (re3g.cli.main) and as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from re3g.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _args(small_index, small_corpus_files):
    return ["--index", str(small_index), "--docs", str(small_corpus_files[0]), "--no-rerank"]


def test_ask_json(small_index, small_corpus_files, capsys):
    rc = main(["ask", "How do I apply for benefits?", "--json",
               *_args(small_index, small_corpus_files)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["reply"] and out["evidence"] and out["passages"]
    ev = out["evidence"][0]
    assert {"doc_id", "section", "start", "end", "span_ids", "text"} <= set(ev)
    assert set(out["timings"]) >= {"query", "retrieve", "rerank", "extract", "generate", "total"}


def test_ask_text_with_history(small_index, small_corpus_files, capsys):
    rc = main(["ask", "How do I apply?", "--history", "I need help with benefits",
               "--history", "Sure, what would you like to know?",
               *_args(small_index, small_corpus_files)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "evidence:" in out and "chars " in out and "timings (ms):" in out


def test_ask_bad_input_exit_2(small_index, tmp_path, capsys):
    assert main(["ask", "   ", "--index", str(small_index)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("re3g ask: error:") and len(err.splitlines()) == 1
    assert main(["ask", "hi", "--index", str(tmp_path / "missing")]) == 2
    assert "missing" in capsys.readouterr().err
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[retrieval]\nk = 0\n")
    assert main(["ask", "hi", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "'k'" in err


def test_ask_subprocess(small_index, small_corpus_files):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "re3g.cli", "ask", "How do I apply for benefits?", "--json",
         *_args(small_index, small_corpus_files)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["reply"] and out["evidence"][0]["end"] > out["evidence"][0]["start"]
    # non-UTF-8 bytes on the command line are replaced, not a crash
    proc = subprocess.run(
        [sys.executable.encode(), b"-m", b"re3g.cli", b"ask", b"benefits caf\xe9 \xff?",
         b"--json", *[a.encode() for a in _args(small_index, small_corpus_files)]],
        capture_output=True, cwd=ROOT, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.decode().strip().splitlines()[-1])["reply"]
