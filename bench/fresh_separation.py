"""How well the learned decision separates answerable from unanswerable turns on fresh check
sets, as the chat holds them (session 58's rule: a decision refit shows this on sets earlier
gates have spent before it is gated on an unread one).

    RE3G_MODELS_DIR=models .venv/bin/python bench/fresh_separation.py
        [--sets fresh26 fresh27 fresh28 fresh29] [--history own|written]
        [--min-confidence X] [--records DIR] [--name NAME] [--spend]

Each named set (:data:`re3g.train.common.FRESH_SETS`) is replayed over its own documents, with
the bot's own earlier replies as the history (``own``, :func:`re3g.evaluate.replay.replay`) or
the dialogue's written agent turns (``written``). Printed and written to
``bench/results/fresh_separation-NAME.json``: per set and pooled over the sets' mean, the AUROC
of the recorded confidences (answerable against unanswerable) and the shares as ``re3g evaluate``
reports them (:func:`re3g.evaluate.answerability.answerability_metrics`), with the counts of
answerable turns answered right and unanswerable turns refused. The decision
read is the one under ``$RE3G_MODELS_DIR`` (default the project's ``models/``), so a candidate in
another folder is measured without touching the shipped one. ``--records DIR`` keeps each set's
per-turn records for ``bench/paired_replays.py``. An unread set (``re3g.train.common.UNREAD_FRESH``)
is refused without ``--spend``.

Session 58 (own replies, fresh26-29): shipped decision mean AUROC 0.753; the decision refitted on
the nine training-side sets' own-history rows 0.742 (six signals) and 0.741 (twelve).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from _common import save  # noqa: E402

DEFAULT_SETS = ("fresh26", "fresh27", "fresh28", "fresh29")


def separation(records: list[dict[str, Any]]) -> dict[str, Any]:
    """One set's block: :func:`re3g.evaluate.answerability.answerability_metrics` (AUROC and
    shares, as ``re3g evaluate`` reports them) with the counts of right and refused turns.

    >>> block = separation([{"answerable": True, "grounded": True, "right": True,
    ...                      "confidence": 0.6},
    ...                     {"answerable": False, "grounded": False, "confidence": 0.2}])
    >>> block["AUROC"], block["right_turns"], block["refused_turns"]
    (1.0, 1, 1)
    """
    from re3g.evaluate.answerability import answerability_metrics

    return {**answerability_metrics(records),
            "right_turns": sum(1 for r in records if r["answerable"] and r["right"]),
            "refused_turns": sum(1 for r in records if not r["answerable"] and not r["grounded"])}


def main(argv: list[str] | None = None) -> int:
    from re3g.config import PASSAGE_MAX_WORDS, Config
    from re3g.evaluate.answerability import turn_records
    from re3g.evaluate.replay import replay
    from re3g.evaluate.report import write_jsonl
    from re3g.evaluate.runner import ensure_index
    from re3g.models import models_dir
    from re3g.pipeline import Re3G
    from re3g.train.common import FRESH_SETS, UNREAD_FRESH, load_written

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS), metavar="NAME")
    ap.add_argument("--history", choices=("own", "written"), default="own")
    ap.add_argument("--min-confidence", type=float, default=None,
                    help="the decision's threshold (default the model's own)")
    ap.add_argument("--records", type=Path, default=None, metavar="DIR")
    ap.add_argument("--spend", action="store_true",
                    help="read an unread fresh set too (a gate's independent check)")
    ap.add_argument("--name", default=None,
                    help="result name (default the history and the models folder's name)")
    args = ap.parse_args(argv)
    unknown = [s for s in args.sets if s not in FRESH_SETS]
    if unknown:
        raise SystemExit(f"--sets: not a fresh set: {', '.join(unknown)} "
                         f"(re3g.train.common.FRESH_SETS holds {', '.join(FRESH_SETS)})")
    unread = [s for s in args.sets if s in UNREAD_FRESH]
    if unread and not args.spend:
        raise SystemExit(f"--sets: {', '.join(unread)} unread (re3g.train.common.UNREAD_FRESH), "
                         "kept for a gate's independent check; --spend reads it anyway")
    result: dict[str, Any] = {"models": str(models_dir()), "history": args.history,
                              "min_confidence": args.min_confidence, "sets": {}}
    for name in args.sets:
        docs_dir, dialogues = (ROOT / p for p in FRESH_SETS[name])
        docs, _, examples = load_written(docs_dir, dialogues)
        index = ensure_index(docs, docs_dir, None, PASSAGE_MAX_WORDS)
        bot = Re3G(Config(index=str(index), docs=str(docs_dir),
                          min_confidence=args.min_confidence), documents=docs)
        records = (replay(bot, examples) if args.history == "own"  # own replies as history
                   else [r for ex in examples  # the written agent turns as history
                         for r in turn_records(bot, ex, docs, synthetic=False)])
        if args.records:
            args.records.mkdir(parents=True, exist_ok=True)
            write_jsonl(args.records / f"{name}.jsonl", records)
        result["sets"][name] = separation(records)
        print(name, json.dumps(result["sets"][name]), flush=True)
    aurocs = [s["AUROC"] for s in result["sets"].values() if s["AUROC"] is not None]
    result["mean_AUROC"] = round(statistics.fmean(aurocs), 4) if aurocs else None
    print("mean AUROC", result["mean_AUROC"])
    name = args.name or f"{args.history}-{models_dir().name}"
    print("wrote", save(f"fresh_separation-{name}", result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
