"""Choose the reader's selection settings on a dev part of the train split (never validation).

    python -m re3g.train.select_reader [--dialogues 80] [--index indexes/doc2dial]

The start/end reader ``models/extractor-qa`` reads the pipeline's candidates (the hybrid
dialogue pool ranked by :class:`re3g.rank.RankingChain`: tower, document prior, cross-encoder)
of every grounded turn of ``--dialogues`` train dialogues drawn with ``--seed``. Its readings
are cached, then every point of :data:`GRID` is scored by grounding F1 (official DialDoc
normalisation) against the turns' reference spans, and the best point is written into the
reader's manifest (``settings``), with where it was chosen (``selection``). The grid holds
today's settings (passages read, reranker weight, rank penalty, null weight, snapping) and
``span_penalty``, which takes score off a range for every document span it covers beyond the
first: the reader favours long ranges that start at a passage's first sentence, and
``overlap_weight``, which adds score for the share of the user's last turn's content stems
found in a range: the reader often takes the neighbour of the right sentence.

The reader was trained on all of train, so a dev part of train flatters it: the figures here
say which settings are best relative to each other, not what unseen dialogues get; validation
is scored once afterwards with ``re3g evaluate``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from re3g.models import model_path
from re3g.train import common, qa_eval

# the trainer's grid (re3g.train.qa_eval.GRID) without the span scorer, which is not shipped,
# and with the span penalty
GRID: dict[str, list[float]] = {**{k: v for k, v in qa_eval.GRID.items() if k != "helper_weight"},
                                "span_penalty": [0.0, 0.25, 0.5, 1.0, 2.0],
                                "overlap_weight": [0.0, 1.0, 2.0, 4.0, 8.0]}
RANGES_KEPT = 30  # ranges per passage weighed when a span penalty may favour short ones


def dev_examples(path: Path, docs: dict[str, Any], dialogues: int, seed: int) -> list[Any]:
    """The grounded turns of ``dialogues`` train dialogues drawn with ``seed``."""
    from re3g.data import load_examples

    examples = load_examples(path, docs)
    ids = sorted({e.dial_id for e in examples})
    random.Random(seed).shuffle(ids)
    keep = set(ids[:dialogues])
    return [e for e in examples if e.dial_id in keep]


def select(examples: Sequence[Any], docs: dict[str, Any], index: Path, reader_dir: Path
           ) -> tuple[dict[str, float], dict[str, Any]]:
    """(chosen settings, report) for the reader in ``reader_dir`` on ``examples``."""
    from tqdm.auto import tqdm

    from re3g.config import Config
    from re3g.data import build_query
    from re3g.data.dialdoc import grounding_text
    from re3g.evaluate.grounding import pipeline_runs
    from re3g.extract import SpanExtractor
    from re3g.rank import Reranker, load_cross
    from re3g.retrieve import open_index

    cfg = Config()
    ex = SpanExtractor.load(reader_dir)
    retriever = open_index(index, mode="hybrid")
    tower = Reranker.load()
    tower.prime_from_index(index, retriever.passages)
    queries = [build_query(e.history, roles="user") for e in examples]
    runs = pipeline_runs(retriever, tower, examples, queries, cfg.k, progress=True,
                         cross=load_cross(cfg.cross, cfg.cross_model))
    depth = int(max(GRID["n_passages"]))
    asked = [ex.question(e.history) or q for e, q in zip(examples, queries, strict=True)]
    readings = [ex.model.read(q, [h.passage for h in hits[:depth]], docs, keep=RANGES_KEPT)
                for q, hits in tqdm(list(zip(asked, runs, strict=True)), desc="read passages")]
    refs = [grounding_text(e, docs) for e in examples]
    currents = [e.history[-1].utterance or "" for e in examples]
    results = qa_eval.grid_search(ex, readings, runs, docs, refs, GRID, currents=currents)
    every = range(len(examples))
    chosen, f1 = qa_eval.best_setting(results, every)
    today = {k: getattr(SpanExtractor.load(reader_dir), k) for k in GRID}
    today_f1 = next((sum(f) / len(f) for st, f in results
                     if all(abs(st[k] - today[k]) < 1e-9 for k in GRID)), None)
    halves = (list(every)[0::2], list(every)[1::2])
    held = []
    for fit, test in (halves, halves[::-1]):
        st, _ = qa_eval.best_setting(results, fit)
        f = next(r[1] for r in results if r[0] == st)
        held += [f[i] for i in test]
    report = {"turns": len(examples), "grounding_F1": round(f1, 2),
              "grounding_F1_two_fold": round(sum(held) / len(held), 2),
              "today": today, "today_F1": round(today_f1, 2) if today_f1 is not None else None}
    return chosen, report


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=Path, default=common.DATA_DIR / "doc2dial_doc.json")
    ap.add_argument("--train", type=Path, default=common.DATA_DIR / "doc2dial_dial_train.json")
    ap.add_argument("--index", type=Path, default=Path("indexes/doc2dial"))
    ap.add_argument("--reader", type=Path, default=model_path("extractor-qa"))
    ap.add_argument("--dialogues", type=int, default=80)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dry-run", action="store_true", help="report, do not write the manifest")
    args = ap.parse_args(argv)

    from re3g.data import load_documents
    from re3g.evaluate.report import write_atomic

    t0 = time.time()
    docs = load_documents(args.docs)
    examples = dev_examples(args.train, docs, args.dialogues, args.seed)
    chosen, report = select(examples, docs, args.index, args.reader)
    chosen = {k: (int(v) if k == "n_passages" else v) for k, v in chosen.items()}
    chosen["ranges_kept"] = RANGES_KEPT
    report["seconds"] = round(time.time() - t0, 1)
    print(json.dumps({"chosen": chosen, **report}, indent=2))
    if not args.dry_run:
        mpath = args.reader / "manifest.json"
        manifest = json.loads(mpath.read_text())
        manifest["settings"].update(chosen)
        manifest["selection"] = {
            "where": f"train dev part: {args.dialogues} train dialogues (seed {args.seed}), "
                     f"{report['turns']} turns; never validation",
            "command": f"python -m re3g.train.select_reader --dialogues {args.dialogues} "
                       f"--seed {args.seed}",
            **report}
        write_atomic(mpath, json.dumps(manifest, indent=2) + "\n")
        print(f"wrote the chosen settings into {mpath}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
