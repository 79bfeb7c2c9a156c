"""Memory and time of one upload's index build in the chat (issue 18, item B).

Each run is a fresh Python process that does what the chat server does with an upload
(``re3g_app.uploads.Uploads.build``: read, check the passage limit, BM25 + dense index):

1. a tiny warm-up build (the JVM and the dense encoder are loaded, as in a running server);
2. the measured build of a generated upload;
3. RSS (resident memory) before the build, at its peak (sampled every 20 ms) and after it.

The build time limit is lifted for the measured build (on a busy machine a build at the
passage limit can take longer than ``MAX_BUILD_SECONDS``); the 1-minute load average at the
start is printed, as build times depend on it.

Uploads: ``headings`` (a Markdown file of many tiny sections, the hostile shape of the issue:
one heading and one short line each) and ``prose`` (sections of ~80-word paragraphs), both
sized to just under ``MAX_PASSAGES``. Each runs with the memory release of
:func:`re3g.memory.release_memory` (the default) and without it (``--no-release``, the
behaviour before). A last run times how long the issue's 4.8 MB, 100,000-heading file takes
to be refused now.

    .venv/bin/python bench/build_memory.py            # all runs, bench/results/build_memory.json
    .venv/bin/python bench/build_memory.py --one headings --no-release   # one run, JSON line
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, save  # noqa: E402

MB = 1024 * 1024


def headings_upload(path: Path, sections: int) -> Path:
    """The hostile shape: ``sections`` headings with one short line each."""
    path.write_text("".join(f"# Heading {i}\nItem {i} costs {i % 97} credits.\n\n"
                            for i in range(sections)))
    return path


def prose_upload(path: Path, sections: int, seed: int = 0) -> Path:
    """Ordinary documents: sections of one ~80-word paragraph of sample-corpus words."""
    root = Path(__file__).resolve().parents[1] / "data" / "sample"
    vocab = sorted({w.strip(".,;:()*#") for f in root.glob("*.md")
                    for w in f.read_text().split() if w.isalpha()})
    rng = random.Random(seed)
    parts = []
    for i in range(sections):
        words = [rng.choice(vocab) for _ in range(80)]
        parts.append(f"## Section {i}\n\n{' '.join(words).capitalize()}.\n\n")
    path.write_text("# Generated handbook\n\n" + "".join(parts))
    return path


class PeakRSS:
    """Samples this process's RSS every 20 ms while running."""

    def __init__(self) -> None:
        from re3g.memory import rss_bytes

        self.rss = rss_bytes
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.rss())

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def sized_upload(kind: str, folder: Path, target: int) -> tuple[Path, int]:
    """An upload of ``kind`` that splits into at most ``target`` passages (and how many)."""
    from re3g.data.ingest import load_files
    from re3g.data.passages import split_corpus

    make = headings_upload if kind == "headings" else prose_upload
    sections = target
    for _ in range(8):
        path = make(folder / f"{kind}.md", sections)
        n = len(split_corpus(load_files([path])))
        if 0.95 * target <= n <= target:
            break
        sections = int(sections * target / n * 0.98)
    return path, n


def one_run(kind: str, release: bool) -> dict:
    """One measured build in this process (see the module doc)."""
    import re3g.retrieve.index as index_module
    from re3g.data.ingest import limits
    from re3g.memory import rss_bytes
    from re3g_app.corpora import CorpusCatalog, new_session_id
    from re3g_app.pipelines import PipelineCache
    from re3g_app.uploads import Uploads

    if not release:
        index_module.release_memory = lambda: None  # the behaviour before the fix
    limits.MAX_BUILD_SECONDS = 3600  # measure the build even on a loaded machine
    work = Path(tempfile.mkdtemp(prefix="re3g-build-mem-"))
    uploads = Uploads(CorpusCatalog(work / "indexes"), PipelineCache(lambda *_: None))

    def quiet(*_a: object, **_k: object) -> None:
        return None

    warm = headings_upload(work / "warm.md", 3)
    uploads.build([str(warm)], "warm", new_session_id(), [], quiet)
    if kind == "refuse":  # the file: 100,000 headings, 4.8 MB
        path = work / "hostile.md"
        path.write_text("".join(f"# Heading {i:06d}\nThe line of item {i:06d} abc xy.\n"
                                for i in range(100_000)))  # 4.8 MB
        t0 = time.perf_counter()
        try:
            uploads.build([str(path)], "hostile", new_session_id(), [], quiet)
            refused = ""
        except Exception as exc:  # noqa: BLE001 - the refusal is the result
            refused = str(exc)
        return {"kind": kind, "bytes": path.stat().st_size,
                "refused_after_s": round(time.perf_counter() - t0, 2), "message": refused}
    path, n_passages = sized_upload(kind, work, limits.MAX_PASSAGES)
    before = rss_bytes()
    t0 = time.perf_counter()
    with PeakRSS() as peak:
        uploads.build([str(path)], kind, new_session_id(), [], quiet)
    seconds = time.perf_counter() - t0
    after = rss_bytes()
    return {"kind": kind, "release": release, "bytes": path.stat().st_size,
            "passages": n_passages, "build_s": round(seconds, 1),
            "rss_before_mb": round(before / MB), "rss_peak_mb": round(peak.peak / MB),
            "rss_after_mb": round(after / MB), "held_mb": round((after - before) / MB)}


def load_average() -> float:
    """The 1-minute load average now (build times depend on it)."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--one", choices=["headings", "prose", "refuse"], default=None)
    ap.add_argument("--no-release", action="store_true")
    ap.add_argument("--kinds", nargs="+", default=["headings", "prose", "refuse"],
                    help="re-run only these (results of the others are kept)")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one, release=not args.no_release)), flush=True)
        return
    old = RESULTS / "build_memory.json"
    kept = json.loads(old.read_text())["runs"] if old.is_file() else []
    runs = [r for r in kept if r["kind"] not in args.kinds]
    with open("/proc/loadavg") as f:
        print(f"load average at start: {f.read().split()[:3]}", flush=True)
    plan = [("headings", True), ("headings", False), ("prose", True), ("prose", False),
            ("refuse", True)]
    for kind, release in plan:
        if kind not in args.kinds:
            continue
        cmd = [sys.executable, __file__, "--one", kind] + ([] if release else ["--no-release"])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(result, flush=True)
        result["load_avg_1m"] = load_average()
        runs.append(result)
    path = save("build_memory", {"runs": runs})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
