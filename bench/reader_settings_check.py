"""The reader alone on a written set: grounding F1 and right picks under the shipped range
settings, under candidate settings for other documents, and under the unsure regime everywhere.

    .venv/bin/python bench/reader_settings_check.py data/dev6 [data/dev5 ...]
        [--other '{"n_passages": 3, ...}'] [--name NAME]

For each set (a folder with ``documents/`` and ``dialogues.json``) the shipped ranking's
candidates and the reader's readings are computed once (cached as ``re3g.train.select_reader``
caches them), then the reader's range selection runs three ways:

- ``shipped``: the reader's manifest as it is;
- ``other``: with ``--other`` (JSON of range settings, as ``select_reader --other`` writes under
  the manifest's ``settings.other``; default: session 29's choice on dev..dev4) put in place
  as :meth:`re3g.extract.SpanExtractor.for_corpus` puts them on a corpus it was not tuned on;
- ``unsure_everywhere``: the shipped reader's unsure regime on every turn.

Scores: token F1 of the top evidence against the reference spans (the grounding F1 of
``select_reader``) and the share of answerable turns whose top evidence is on a reference span.
Writes ``bench/results/NAME.json`` (default ``reader_settings_check``). No timing.
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

SESSION_29_OTHER = {"n_passages": 3, "rerank_weight": 20.0, "null_weight": 0.0,
                    "rank_penalty": 0.0, "snap_ratio": 0.3, "span_penalty": 2.0,
                    "overlap_weight": 4.0, "cosine_weight": 20.0, "reader_weight": 0.25,
                    "unsure_margin": -10.0, "unsure": {"n_passages": 3, "cosine_weight": 5.0}}
"""Session 29's ``select_reader --other --grid reduced`` choice on dev..dev4
(docs/answerability.md, Session 29)."""


def main() -> int:
    import numpy as np

    from re3g.evaluate.answerability import pick_right
    from re3g.extract import SpanExtractor
    from re3g.train import qa_eval
    from re3g.train import select_reader as sr

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="+", type=Path)
    ap.add_argument("--other", type=json.loads, default=SESSION_29_OTHER)
    ap.add_argument("--name", default="reader_settings_check")
    args = ap.parse_args()

    base = SpanExtractor.load()
    variants: dict[str, dict[str, Any] | None] = {
        "shipped": None, "other": args.other,
        "unsure_everywhere": {"unsure_margin": 1e9, "unsure": dict(base.unsure)}}
    out: dict[str, Any] = {"other": args.other, "sets": {}}
    for folder in args.sets:
        part = sr.written_part(folder / "documents", folder / "dialogues.json")
        got = sr.read_part(part, base, 3)
        scores = {}
        for name, other in variants.items():
            ex = SpanExtractor.load()
            if other:
                ex.other = {"tuned_corpus": "none", **other}
                ex.for_corpus(None, "other")
            picks = sr.top_picks(ex, part, got)
            f1s = qa_eval._f1s([ev[0].text if ev else "" for ev in picks], got["refs"])
            right = sum(pick_right(e, ev) for e, ev in zip(part.examples, picks, strict=True))
            scores[name] = {"grounding_F1": round(float(np.mean(f1s)), 2),
                            "right": round(100 * right / len(part.examples), 1)}
        out["sets"][str(folder)] = {"turns": len(part.examples), **scores}
        print(folder, len(part.examples), scores, flush=True)
    print("wrote", save(args.name, out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
