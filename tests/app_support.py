"""Shared set-up of the app tests: the sample index (built once) and a launched app.

The app runs the real pipeline (``re3g.pipeline.Re3G``) over the real sample index; nothing
is faked. Building the sample index takes about 40 s; a fresh copy of ``indexes/sample`` is
reused when its corpus fingerprint matches data/sample.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "data" / "sample"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_index(indexes_dir: Path) -> Path:
    """Put the sample index at ``indexes_dir/sample``: copied if the repo has a current one."""
    from re3g.data.ingest import load_directory
    from re3g.retrieve import build_index
    from re3g.retrieve.index import corpus_fingerprint

    docs = load_directory(SAMPLE_DIR, domain="sample")
    target = indexes_dir / "sample"
    built = ROOT / "indexes" / "sample"
    try:
        manifest = json.loads((built / "manifest.json").read_text())
        current = manifest["corpus"]["sha256"] == corpus_fingerprint(docs)
    except (OSError, ValueError, KeyError):
        current = False
    if current:
        shutil.copytree(built, target, ignore=shutil.ignore_patterns("write.lock"))
    else:
        build_index(docs, target, name="sample", source=str(SAMPLE_DIR), progress=False)
    return target


def start_app(indexes_dir: Path, **config):
    """Launch the app (real pipeline) on a free local port; returns (demo, url)."""
    from re3g_app import AppConfig, launch

    port = free_port()
    cfg = AppConfig(indexes_dir=indexes_dir, **config)
    return launch("127.0.0.1", port, config=cfg, block=False, quiet=True)
