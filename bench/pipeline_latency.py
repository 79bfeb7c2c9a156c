"""Per-turn latency of the Re3G pipeline, warm, per stage (p50 / p95 / mean, milliseconds).

    .venv/bin/python bench/pipeline_latency.py                    # indexes/doc2dial, 100 turns
    .venv/bin/python bench/pipeline_latency.py --turns 50 --generator extractive --no-rerank
    .venv/bin/python bench/pipeline_latency.py --checker off --answerability OLD_DECISION
    .venv/bin/python bench/pipeline_latency.py --docs data/sample \
        --dialogues data/suite/sample_dialogues.json               # a folder corpus

The index must exist (`re3g index --docs ../shared/data/doc2dial/doc2dial_doc.json --name
doc2dial`). Turns are the validation split's user turns with their dialogue history, in file
order. With ``--docs`` a folder of documents (and ``--dialogues`` a written set over it) the
index is the one ``re3g evaluate`` builds and caches for that folder, and every user turn is
timed, the unanswerable ones too. Models are loaded and a few warm-up turns answered before
timing. Prints a table and writes bench/results/pipeline_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAL = ROOT.parent / "shared" / "data" / "doc2dial" / "doc2dial_dial_validation.json"
DOCS = ROOT.parent / "shared" / "data" / "doc2dial" / "doc2dial_doc.json"


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default=None,
                    help="default: indexes/doc2dial, or for a folder --docs the index re3g "
                         "evaluate caches for it")
    ap.add_argument("--docs", default=str(DOCS))
    ap.add_argument("--dialogues", default=str(VAL))
    ap.add_argument("--turns", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--generator", default="extractive")
    ap.add_argument("--rerank", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--mode", default="hybrid")
    ap.add_argument("--base-weight", type=float, default=None,
                    help="Config.base_weight (default: the pipeline's), to time the blend")
    ap.add_argument("--checker", default=None,
                    help='Config.checker (default: models/checker when it exists; "off")')
    ap.add_argument("--extractor", default=None,
                    help="Config.extractor: another reader's folder (e.g. one whose settings "
                         "do not weigh the checker as a judge, to time the judge's cost)")
    ap.add_argument("--answerability", default=None,
                    help="Config.answerability: another decision's folder (e.g. one trained "
                         "without a checker, to time the checker's cost)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "pipeline_latency.json"))
    args = ap.parse_args(argv)

    from re3g.data import load_documents, load_examples
    from re3g.pipeline import STAGES, Re3G

    if Path(args.docs).is_dir():  # a folder corpus and a written set over it
        from re3g.config import PASSAGE_MAX_WORDS
        from re3g.evaluate.runner import ensure_index
        from re3g.train.common import load_written

        docs, _, examples = load_written(Path(args.docs), Path(args.dialogues))
        if args.index is None:
            args.index = str(ensure_index(docs, Path(args.docs), None, PASSAGE_MAX_WORDS))
    else:
        docs = load_documents(args.docs)
        examples = load_examples(args.dialogues, docs)
    if args.index is None:
        args.index = str(ROOT / "indexes" / "doc2dial")
    t0 = time.perf_counter()
    extra = {k: v for k, v in (("base_weight", args.base_weight), ("checker", args.checker),
                                ("extractor", args.extractor),
                                ("answerability", args.answerability)) if v is not None}
    bot = Re3G(index=args.index, docs=args.docs, mode=args.mode, generator=args.generator,
               rerank=args.rerank, documents=docs if Path(args.docs).is_dir() else None,
               **extra).warm_up()
    load_s = time.perf_counter() - t0
    turns = [ex.history for ex in examples]
    for h in turns[: args.warmup]:
        bot.answer(h)
    timed = turns[args.warmup: args.warmup + args.turns]
    per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    grounded = 0
    for h in timed:
        ans = bot.answer(h)
        grounded += ans.grounded
        for s in STAGES:
            per_stage[s].append(1000 * ans.timings.get(s, 0.0))
    rows = {s: {"p50": round(pct(v, 0.5), 1), "p95": round(pct(v, 0.95), 1),
                "mean": round(statistics.fmean(v), 1)} for s, v in per_stage.items()}
    result = {
        "index": os.path.relpath(args.index, ROOT), "mode": args.mode,
        "generator": args.generator, "reranker": "on" if bot.reranker is not None else "off",
        "base_weight": bot.config.base_weight,
        "cross_encoder": getattr(bot.cross_reranker, "path", "off"),
        "extractor": bot.extractor_kind,
        "checker": getattr(bot.checker, "path", "off"),
        "extractor_path": getattr(bot.extractor, "path", None),
        "judge": getattr(getattr(bot.extractor, "judge", None), "path", None),
        "decision": type(bot.rule).__name__,
        "turns": len(timed), "warmup_turns": args.warmup,
        "load_s": round(load_s, 1), "grounded_share": round(grounded / max(1, len(timed)), 3),
        "cpu_count": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
        "torch_threads": _torch_threads(), "python": platform.python_version(),
        "latency_ms": rows,
    }
    print(f"{len(timed)} turns, {args.mode}, generator {args.generator}, reranker "
          f"{result['reranker']}, cross-encoder {result['cross_encoder']}, "
          f"extractor {result['extractor']}, load {load_s:.1f} s, "
          f"load average {result['load_average']}")
    print(f"{'stage':10s} {'p50':>8s} {'p95':>8s} {'mean':>8s}   (ms)")
    for s, r in rows.items():
        print(f"{s:10s} {r['p50']:8.1f} {r['p95']:8.1f} {r['mean']:8.1f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out}")
    return 0


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


if __name__ == "__main__":
    sys.exit(main())
