"""Index writes survive crashes and cancels (issue 18, item D; the cancel of item B).

The swap of a new index into place is two renames; a crash between them must leave an
openable index (the old or the new one), and the hidden folders of dead builds must be
cleaned at the next build or open. Crashes are simulated in-process (``os.replace`` raising
after its first call, the rollback too) and for real (a child process that exits between the
renames).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from re3g.data.ingest import load_bytes
from re3g.errors import BuildCancelled
from re3g.retrieve import build_index, open_index, read_manifest, swap


def _fake_index(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "version.txt").write_text(version)
    (folder / "manifest.json").write_text("{}")
    return folder


def _hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)


def _failing_after_first(monkeypatch):
    calls = []
    real = os.replace

    def replace(src, dst):
        calls.append((src, dst))
        if len(calls) > 1:
            raise OSError("simulated crash between the renames")
        real(src, dst)

    monkeypatch.setattr(swap.os, "replace", replace)
    return calls


def test_failed_second_rename_and_failed_rollback_are_recovered(tmp_path, monkeypatch):
    out = _fake_index(tmp_path / "idx", "old")
    tmp = swap.new_build_dir(out)
    (tmp / "version.txt").write_text("new")
    (tmp / "manifest.json").write_text("{}")
    calls = _failing_after_first(monkeypatch)
    with pytest.raises(OSError, match="simulated"):
        swap.swap_into_place(tmp, out)
    assert len(calls) == 3  # out -> old, tmp -> out (fails), old -> out (fails too)
    assert not out.exists()  # the state a crash between the renames leaves
    monkeypatch.undo()
    swap.release(tmp)  # what build_index does after a failed build: the new one is gone
    assert swap.recover(out)
    assert (out / "version.txt").read_text() == "old"
    assert _hidden(tmp_path) == []


def test_a_process_killed_between_the_renames_leaves_an_openable_index(tmp_path):
    out = _fake_index(tmp_path / "idx", "old")
    script = f"""
import os, sys
from pathlib import Path
from re3g.retrieve import swap
out = Path({str(out)!r})
tmp = swap.new_build_dir(out)
(tmp / "version.txt").write_text("new")
(tmp / "manifest.json").write_text("{{}}")
real = os.replace
calls = []
def replace(src, dst):
    calls.append(src)
    if len(calls) > 1:
        os._exit(9)  # killed: no handler, no finally
    real(src, dst)
swap.os.replace = replace
swap.swap_into_place(tmp, out)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    assert not out.exists()
    left = _hidden(tmp_path)
    assert any(".idx.tmp-" in n for n in left) and any(".idx.old-" in n for n in left)
    assert swap.recover(out)
    assert (out / "version.txt").read_text() == "new"  # the finished build wins
    assert _hidden(tmp_path) == []


def test_stale_build_folders_are_cleaned_but_live_ones_kept(tmp_path):
    out = _fake_index(tmp_path / "idx", "current")
    dead = tmp_path / f".idx.tmp-{_dead_pid()}-1700000000000"
    dead.mkdir()
    old_dead = tmp_path / f".idx.old-{_dead_pid()}"
    _fake_index(old_dead, "older")
    live = swap.new_build_dir(out)  # this process is writing it
    other = tmp_path / ".other.tmp-1-1"  # another index's folder
    other.mkdir()
    swap.recover(out)
    assert _hidden(tmp_path) == sorted([live.name, ".other.tmp-1-1"])
    assert (out / "version.txt").read_text() == "current"
    swap.release(live)
    assert not live.exists()


def _docs(text: str):
    return load_bytes([("notes.md", f"# Notes\n\n## Fees\n{text}\n".encode())])


def test_a_real_build_crashing_in_the_swap_keeps_an_openable_index(tmp_path, monkeypatch):
    out = tmp_path / "idx"
    build_index(_docs("A day pass costs 8 dollars."), out, kinds=["bm25"], progress=False)
    dead = tmp_path / f".idx.tmp-{_dead_pid()}-1"
    dead.mkdir()  # a build killed earlier
    _failing_after_first(monkeypatch)
    with pytest.raises(OSError, match="simulated"):
        build_index(_docs("A day pass costs 9 dollars."), out, kinds=["bm25"], progress=False)
    monkeypatch.undo()
    retriever = open_index(out, mode="bm25")  # recovered on open
    text = retriever.search("day pass", k=1)[0].passage.text
    assert "8 dollars" in text or "9 dollars" in text
    assert _hidden(tmp_path) == []


def test_a_cancelled_build_keeps_the_old_index_and_writes_nothing(tmp_path):
    out = tmp_path / "idx"
    build_index(_docs("A day pass costs 8 dollars."), out, kinds=["bm25"], progress=False,
                meta={"shared": False})
    assert read_manifest(out)["shared"] is False
    calls = []

    def check():
        calls.append(1)
        if len(calls) > 1:
            raise BuildCancelled("cancelled")

    with pytest.raises(BuildCancelled):
        build_index(_docs("A day pass costs 9 dollars."), out, kinds=["bm25"], progress=False,
                    check=check)
    assert json.loads((out / "manifest.json").read_text())["n_passages"] >= 1
    assert "8 dollars" in open_index(out, mode="bm25").search("day pass", k=1)[0].passage.text
    assert _hidden(tmp_path) == []
