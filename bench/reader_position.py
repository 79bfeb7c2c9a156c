"""Does the position of a sentence in its passage drive the reader's choice?

    .venv/bin/python bench/reader_position.py [--split validation] [--limit N] [--raw]
        [--written DOCS_DIR DIALOGUES] [--name NAME]

The start/end reader reads each turn's gold passage (the passage holding the reference span,
so retrieval plays no part) and its pick is snapped to document spans, as in the pipeline.
For every turn we record the body-sentence position (0 = the passage's first sentence after
its heading) of the gold span and of the reader's pick, then report:

- how often the pick is the first sentence, against how often the gold span is;
- accuracy (the pick overlaps a gold span) by gold position: 0, 1, 2, 3+;
- among misses, how often the pick lies before the gold span (an early-position bias) versus
  after it.

``--raw`` scores the reader's own best range (no cosine, overlap or span penalty: what
the reader itself prefers); ``--written`` reads a hand-written set (such as ``data/dev``)
instead of doc2dial. ``--name`` names the results file (default ``reader_position``).

A reader driven by position picks the first sentence far more often than the gold span sits
there, and its accuracy falls with the gold position. Prints a table and writes
bench/results/reader_position.json. No timing.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _common import save  # noqa: E402


def bucket(pos: int) -> str:
    return str(pos) if pos < 3 else "3+"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["train", "validation"], default="validation")
    ap.add_argument("--limit", type=int, default=None, help="first N turns only")
    ap.add_argument("--extractor", type=Path, default=ROOT / "models" / "extractor-qa")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "doc2dial")
    ap.add_argument("--raw", action="store_true", help="the reader's own best range only")
    ap.add_argument("--written", nargs=2, type=Path, metavar=("DOCS_DIR", "DIALOGUES"),
                    help="a hand-written set instead of doc2dial")
    ap.add_argument("--name", default="reader_position", help="results file name")
    args = ap.parse_args()

    from tqdm.auto import tqdm

    from re3g.data import build_query, load_documents, load_examples, split_corpus
    from re3g.evaluate.grounding import gold_passage_hits
    from re3g.extract import SpanExtractor, passage_spans

    if args.written:
        from re3g.data.corpus import load_corpus

        docs = load_corpus(args.written[0])
        examples = [e for e in load_examples(args.written[1], docs) if e.references]
        split = str(args.written[1])
    else:
        docs = load_documents(args.data / "doc2dial_doc.json")
        examples = load_examples(args.data / f"doc2dial_dial_{args.split}.json", docs)
        split = args.split
    examples = examples[: args.limit]
    passages = split_corpus(docs.values())
    reader = SpanExtractor.load(args.extractor)
    if reader.kind != "qa":
        ap.error(f"{args.extractor} is not a start/end reader")
    if args.raw:  # the reader's own ranking of its ranges
        reader.unsure, reader.reader_weight = {}, 1.0
        reader.cosine_weight = reader.overlap_weight = reader.span_penalty = 0.0

    rows = []
    for ex in tqdm(examples, desc="read gold passages"):
        gold = ex.gold_span_ids
        for hit in gold_passage_hits(ex, passages)[:1]:
            body = [s for s in passage_spans(hit.passage, docs)
                    if not s.is_heading and s.text.strip()]
            where = {s.id: i for i, s in enumerate(body)}
            gold_pos = [where[s] for d, s in gold if d == hit.passage.doc_id and s in where]
            if not gold_pos:
                continue
            query = build_query(ex.history, roles="user")
            ev = reader.extract(query, [hit], docs, top_n=1, current=ex.history[-1].utterance,
                                reader_query=reader.question(ex.history))
            picked = [where[s] for s in ev[0].span_ids if s in where] if ev else []
            rows.append({"gold": min(gold_pos), "pick": min(picked) if picked else -1,
                         "hit": bool(set(picked) & set(gold_pos)), "n": len(body)})

    n = len(rows)
    by_gold: dict[str, list[bool]] = {}
    for r in rows:
        by_gold.setdefault(bucket(r["gold"]), []).append(r["hit"])
    misses = [r for r in rows if not r["hit"] and r["pick"] >= 0]
    result = {
        "split": split, "raw": args.raw, "turns": n,
        "pick_first_sentence": round(sum(r["pick"] == 0 for r in rows) / n, 3),
        "gold_first_sentence": round(sum(r["gold"] == 0 for r in rows) / n, 3),
        "accuracy": round(sum(r["hit"] for r in rows) / n, 3),
        "accuracy_by_gold_position": {k: {"turns": len(v), "accuracy": round(sum(v) / len(v), 3)}
                                      for k, v in sorted(by_gold.items())},
        "misses_picking_earlier": round(sum(r["pick"] < r["gold"] for r in misses)
                                        / max(1, len(misses)), 3),
        "misses": len(misses),
        "pick_positions": dict(sorted(Counter(bucket(r["pick"]) for r in rows
                                              if r["pick"] >= 0).items())),
        "gold_positions": dict(sorted(Counter(bucket(r["gold"]) for r in rows).items())),
    }
    print(f"{n} turns ({split}), reader on the gold passage" + (" (raw)" if args.raw else ""))
    print(f"picks the first sentence {result['pick_first_sentence']:.1%}; "
          f"gold is the first sentence {result['gold_first_sentence']:.1%}")
    print("gold position | turns | accuracy")
    for k, v in result["accuracy_by_gold_position"].items():
        print(f"{k:>13} | {v['turns']:>5} | {v['accuracy']:.1%}")
    print(f"misses picking an earlier sentence: {result['misses_picking_earlier']:.1%} "
          f"of {len(misses)}")
    print("wrote", save(args.name, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
