"""Where do the answers of a written set's run go wrong?

    .venv/bin/python bench/answer_breakdown.py --run DOCS DIALOGUES OUT [--run ...]
        [--name NAME]

Each ``--run`` names a written set (its documents folder and dialogue file) and the folder of a
``re3g evaluate --docs DOCS --dialogues DIALOGUES --out OUT`` run. Every answerable turn falls in
one bucket, by its top evidence against the reference spans (passages as the index splits
them, :func:`re3g.data.passages.split_corpus`): right; answered from the right passage but
another sentence; the right document but another passage; another document; refused. The
unanswerable turns are refused or answered. Shares in percent of each kind. Writes
``bench/results/NAME.json`` (default ``answer_breakdown``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _common import save  # noqa: E402

BUCKETS = ("right", "right_passage_wrong_sentence", "right_document_wrong_passage",
           "wrong_document", "refused")


def bucket(row: dict[str, Any], gold: set[tuple[str, str]], passage_of: dict[Any, str]) -> str:
    """The bucket of an answerable turn's record."""
    if not row["grounded"]:
        return "refused"
    if row.get("right"):
        return "right"
    if not row.get("evidence"):
        return "wrong_document"  # answered from no span at all
    doc_id, spans = row["evidence"]
    if doc_id not in {d for d, _ in gold}:
        return "wrong_document"
    mine = {passage_of[(doc_id, s)] for s in spans if (doc_id, s) in passage_of}
    golds = {passage_of[g] for g in gold if g in passage_of}
    return "right_passage_wrong_sentence" if mine & golds else "right_document_wrong_passage"


def breakdown(docs_dir: Path, dialogues: Path, out: Path) -> dict[str, Any]:
    from re3g.data.passages import split_corpus
    from re3g.train.common import load_written

    docs, _, found = load_written(docs_dir, dialogues)
    examples = {e.id: e for e in found}
    passage_of = {}
    for p in split_corpus(docs.values()):
        for s in p.span_ids:
            passage_of.setdefault((p.doc_id, s), p.pid)
    counts = dict.fromkeys(BUCKETS, 0)
    unans = {"refused": 0, "answered": 0}
    for line in (out / "answerability.jsonl").read_text().splitlines():
        r = json.loads(line)
        ex = examples.get(r["id"])
        if ex is None:
            continue
        if r["answerable"]:
            counts[bucket(r, set(ex.gold_span_ids), passage_of)] += 1
        else:
            unans["refused" if not r["grounded"] else "answered"] += 1
    n, m = sum(counts.values()), sum(unans.values())
    return {"answerable": n, "unanswerable": m,
            **{k: round(100 * v / max(1, n), 1) for k, v in counts.items()},
            "unanswerable_refused": round(100 * unans["refused"] / max(1, m), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", nargs=3, action="append", type=Path, required=True,
                    metavar=("DOCS", "DIALOGUES", "OUT"))
    ap.add_argument("--name", default="answer_breakdown")
    args = ap.parse_args()
    result = {}
    for docs_dir, dialogues, out in args.run:
        if not (out / "answerability.jsonl").is_file():
            sys.exit(f"{out}: no answerability.jsonl (run `re3g evaluate --docs {docs_dir} "
                     f"--dialogues {dialogues} --out {out}` first)")
        result[str(out)] = breakdown(docs_dir, dialogues, out)
        print(out, json.dumps(result[str(out)]))
    print("wrote", save(args.name, result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
