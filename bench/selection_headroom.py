"""How much grounding F1 passage selection leaves on the table (validation split).

    .venv/bin/python bench/selection_headroom.py [--max-passages 5] [--limit N]
        [--extractor models/extractor-qa]

The candidates are the pipeline's (:func:`re3g.evaluate.grounding.pipeline_runs`: dialogue
pool, tower reranker, document prior, cross-encoder step). The reader reads the top
``--max-passages`` of each turn once; then, for every n up to that:

- ``R@n``: turns with a gold passage among the top n;
- ``reader F1``: grounding F1 when the reader picks among the top n with its manifest settings
  (reranker weight, rank penalty, null weight), as the pipeline does with ``n_passages = n``;
- ``oracle F1``: the same reader, told which of the top n holds the gold span (its best range
  there); turns with no gold passage in the top n keep the reader's own pick.

The gap between the two is what a better passage selector could gain without a better reader.
Prints a table and writes bench/results/selection_headroom.json. No timing: run it on any
machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _common import save  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-passages", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None, help="first N validation turns only")
    ap.add_argument("--extractor", type=Path, default=ROOT / "models" / "extractor-qa")
    ap.add_argument("--reranker", type=Path, default=ROOT / "models" / "reranker")
    ap.add_argument("--index", type=Path, default=ROOT / "indexes" / "doc2dial")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "doc2dial")
    args = ap.parse_args()
    if args.max_passages < 1:
        ap.error("--max-passages must be at least 1")

    from tqdm.auto import tqdm

    from re3g.data import build_query, load_documents, load_examples
    from re3g.data.dialdoc import grounding_text
    from re3g.evaluate.grounding import gold_passage_hits, pipeline_runs
    from re3g.evaluate.metrics import f1_score
    from re3g.extract import SpanExtractor
    from re3g.rank import Reranker, load_cross
    from re3g.retrieve import open_index

    docs = load_documents(args.data / "doc2dial_doc.json")
    val = load_examples(args.data / "doc2dial_dial_validation.json", docs)[: args.limit]
    refs = [grounding_text(ex, docs) for ex in val]
    queries = [build_query(ex.history, roles="user") for ex in val]
    reader = SpanExtractor.load(args.extractor)
    if reader.kind != "qa":
        sys.exit(f"{args.extractor}: a {reader.kind!r} extractor; this needs a start/end reader")
    retriever = open_index(args.index, mode="hybrid")
    tower = Reranker.load(args.reranker)
    tower.prime_from_index(args.index, retriever.passages)
    runs = pipeline_runs(retriever, tower, val, queries, 20, progress=True,
                         cross=load_cross("auto"))
    top = args.max_passages
    readings = [reader.model.read(reader.question(ex.history) or q,
                                  [h.passage for h in hits[:top]], docs, keep=10)
                for ex, q, hits in tqdm(list(zip(val, queries, runs, strict=True)),
                                        desc="read passages")]

    reader.unsure = {}  # the regular settings on every turn

    def pick(rd: list, hits: list) -> str:
        reader.n_passages = max(1, len(rd))  # exactly the passages given
        ev = reader.select_ranges(rd, hits, docs, 1)
        return ev[0].text if ev else ""

    rows = []
    for n in range(1, top + 1):
        found = reader_f1 = oracle_f1 = 0.0
        for ex, ref, hits, rd in zip(val, refs, runs, readings, strict=True):
            own = pick(rd[:n], hits[:n])
            holders = {g.passage.pid for g in gold_passage_hits(ex, [h.passage for h in hits[:n]])}
            gold = [i for i, h in enumerate(hits[:n]) if h.passage.pid in holders]
            best = pick([rd[gold[0]]], [hits[gold[0]]]) if gold else own
            found += bool(gold)
            reader_f1 += f1_score(own, ref)
            oracle_f1 += f1_score(best, ref)
        m = len(val)
        rows.append({"n": n, "R@n": round(100 * found / m, 2),
                     "reader_F1": round(reader_f1 / m, 2), "oracle_F1": round(oracle_f1 / m, 2)})
    name = str(args.extractor.resolve().relative_to(ROOT)
               if args.extractor.resolve().is_relative_to(ROOT) else args.extractor)
    print(f"{len(val)} validation turns; reader {name}")
    print("| passages read | R@n | reader F1 | oracle F1 |\n|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['n']} | {r['R@n']} | {r['reader_F1']} | {r['oracle_F1']} |")
    path = save("selection_headroom", {"n_turns": len(val), "extractor": name,
                                        "rows": rows})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
