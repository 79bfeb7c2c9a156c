"""Evaluation wall time, single process vs ``--ray local``, on the first doc2dial validation
turns, and whether the reports agree (all but their clock readings).

Three runs: one process as it starts by default (torch's threads: one per core), one process
with ``OMP_NUM_THREADS=1`` (what Ray gives each worker of one CPU), and ``--ray local``.

Each run is a fresh ``re3g evaluate`` process with a fresh output folder (no cache), over the
built index ``indexes/doc2dial``, every stage (grounding, response, answerability):

    .venv/bin/python bench/ray_evaluate.py --limit 24

The sample suite (every stage, answerability included):

    .venv/bin/python bench/ray_evaluate.py --docs data/sample \\
        --dialogues data/suite/sample_dialogues.json --index indexes/sample --limit 30 \\
        --name ray_evaluate_suite

Result: ``bench/results/ray_evaluate.json`` (or ``NAME.json``): wall seconds per run, the
report's stage timings, whether the reports and prediction files are identical.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

DATA = Path("../shared/data/doc2dial")
FILES = ("grounding_predictions.json", "predictions_response.json", "answerability.jsonl")


def run(args: argparse.Namespace, out: Path, ray: list[str], env: dict | None = None) -> dict:
    cmd = [sys.executable, "-m", "re3g.cli", "evaluate", "--docs", str(args.docs),
           "--dialogues", str(args.dialogues), "--index", str(args.index), "--limit",
           str(args.limit), "--out", str(out), *ray]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, **(env or {})})
    wall = time.perf_counter() - t0
    report = json.loads((out / "report.json").read_text())
    prefix = [f"{k}={v}" for k, v in (env or {}).items()]
    return {"command": " ".join([*prefix, "re3g", *cmd[3:]]), "wall_s": round(wall, 1),
            "stage_s": {k: round(v, 1) for k, v in report["timings"].items()},
            "report": report}


def comparable(report: dict) -> dict:
    out = json.loads(json.dumps(report))
    out.pop("timings", None)
    out.get("knowledge_selection", {}).pop("latency_ms", None)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=Path, default=DATA / "doc2dial_doc.json")
    ap.add_argument("--dialogues", type=Path, default=DATA / "doc2dial_dial_validation.json")
    ap.add_argument("--index", type=Path, default=Path("indexes/doc2dial"))
    ap.add_argument("--limit", type=int, default=24)
    ap.add_argument("--workers", type=int, default=None, help="--ray-workers (default: CPUs)")
    ap.add_argument("--name", default="ray_evaluate", help="result file name (no .json)")
    args = ap.parse_args()
    ray = ["--ray", "local"] + (["--ray-workers", str(args.workers)] if args.workers else [])
    with tempfile.TemporaryDirectory() as tmp:
        single = run(args, Path(tmp) / "single", [])
        one_thread = run(args, Path(tmp) / "single1", [], {"OMP_NUM_THREADS": "1"})
        spread = run(args, Path(tmp) / "ray", ray)
        same_files = {f: (Path(tmp) / "single" / f).read_bytes()
                      == (Path(tmp) / "ray" / f).read_bytes()
                      for f in FILES if (Path(tmp) / "single" / f).exists()}
    same = (comparable(single["report"]) == comparable(spread["report"])
            == comparable(one_thread["report"]))
    result = {"docs": str(args.docs), "dialogues": str(args.dialogues), "limit": args.limit,
              "n_examples": single["report"]["n_examples"],
              "n_unanswerable": single["report"].get("n_unanswerable"),
              "single": {k: v for k, v in single.items() if k != "report"},
              "single_one_thread": {k: v for k, v in one_thread.items() if k != "report"},
              "ray_local": {k: v for k, v in spread.items() if k != "report"},
              "reports_identical_but_clock": same, "prediction_files_identical": same_files}
    path = save(args.name, result)
    print(json.dumps({k: v for k, v in result.items()}, indent=2))
    print(f"wrote {path}")
    return 0 if same and all(same_files.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
