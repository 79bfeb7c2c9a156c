"""Where a written set's answerable turns are lost, as the chat holds the conversations, and
how far a better sentence choice could go.

    .venv/bin/python bench/failure_split.py [--sets NAME ...] [--records DIR] [--name NAME]
        [--spend]

``--sets`` takes ``training`` (the default: the choose sets, ``re3g.train.common.CHOOSE_SETS``,
then ``data/train2``, ``data/train3`` and ``data/train4``), a held-out or fresh set's name
(``re3g.train.common.HELD_OUT_SETS``, ``FRESH_SETS``; an unread one, ``UNREAD_FRESH``, only with
``--spend``) or another folder under ``data/`` holding ``documents/`` and ``dialogues.json``.
Every set is replayed over its own documents with the bot's own earlier replies as the history
(:func:`re3g.train.common.replay_sets` with :func:`re3g.evaluate.failures.pick_detail`) under the
models in ``$RE3G_MODELS_DIR`` (default ``models/``), and split by
:func:`re3g.evaluate.failures.failure_split`: right, answered with another sentence of a
reference document or from another document, refused (by the threshold or by which check, and
where the refused pick lay); the ceilings of a pick that took the best of the evidence
already shown; and where the reference ranked when no shown pick holds it. Per set and
pooled; written to ``bench/results/failure_split-NAME.json`` (default ``failure_split-SETS``).
``--records DIR`` keeps the per-turn records. No timing.

Session 59, training side (2,203 turns, 1,691 answerable): 919 right (54.3%); 297 answered with
another sentence of a reference document, 53 from another document; 346 refused by the
threshold, 76 by the checks. The best of the three shown picks would be right on 1,101 (65.1%);
with every answerable turn answered too, 1,387 (82.0%). Of the 304 answerable turns whose
reference no shown pick holds, the first passage holding one ranked 1st-3rd (read) for 147,
4th-5th for 66, 6th-10th for 70, lower for 13, nowhere for 8.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from _common import save  # noqa: E402
from reader_sweep import TRAIN_SIDE  # noqa: E402


def named_sets(names: list[str], spend: bool = False) -> list[tuple[str, Path, Path]]:
    """(name, documents folder, dialogues file) of each ``--sets`` entry (module doc); a
    SystemExit naming an entry that is none of them, one named twice, a path instead of a
    name, or an unread fresh set (``re3g.train.common.UNREAD_FRESH``) without ``spend``."""
    from re3g.train.common import CHOOSE_SETS, FRESH_SETS, HELD_OUT_SETS, UNREAD_FRESH

    names = [n.rstrip("/") for n in names]
    nested = [n for n in names if "/" in n]
    if nested:
        raise SystemExit(f"--sets: {nested[0]!r}: name a folder under data/ by its name alone")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SystemExit(f"--sets: named twice: {', '.join(twice)}")
    out: list[tuple[str, Path, Path]] = []
    for name in names:
        if name in UNREAD_FRESH and not spend:
            raise SystemExit(f"--sets: {name} is unread (re3g.train.common.UNREAD_FRESH), kept "
                             "for a gate's independent check; --spend reads it anyway")
        if name == "training":
            folders = [str(Path(d).parent) for d, _ in CHOOSE_SETS] + list(TRAIN_SIDE)
            out += [(Path(f).name, ROOT / f / "documents", ROOT / f / "dialogues.json")
                    for f in folders]
        elif name in HELD_OUT_SETS or name in FRESH_SETS:
            docs, dialogues = {**HELD_OUT_SETS, **FRESH_SETS}[name]
            out.append((name, ROOT / docs, ROOT / dialogues))
        elif (ROOT / "data" / name / "dialogues.json").is_file():
            out.append((name, ROOT / "data" / name / "documents",
                        ROOT / "data" / name / "dialogues.json"))
        else:
            raise SystemExit(f"--sets: {name!r} is not 'training', a held-out set "
                             f"({', '.join(HELD_OUT_SETS)}), a fresh set (fresh1 ... "
                             f"{list(FRESH_SETS)[-1]}) or a folder data/{name} with documents/ "
                             "and dialogues.json")
    return out


def main(argv: list[str] | None = None) -> int:
    from re3g.evaluate.failures import failure_split, pick_detail
    from re3g.evaluate.report import write_jsonl
    from re3g.models import models_dir
    from re3g.train.common import replay_sets

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=["training"], metavar="NAME")
    ap.add_argument("--records", type=Path, default=None, metavar="DIR")
    ap.add_argument("--name", default=None, help="result name (default the sets' names)")
    ap.add_argument("--spend", action="store_true",
                    help="read an unread fresh set too (a gate's independent check)")
    args = ap.parse_args(argv)
    sets = named_sets(args.sets, args.spend)
    result: dict[str, Any] = {"models": str(models_dir()), "history": "own", "sets": {}}
    pooled: list[dict[str, Any]] = []
    for name, docs_dir, dialogues in sets:
        records = [{**r, "set": name}
                   for r in replay_sets([(docs_dir, dialogues)], detail=pick_detail)]
        if args.records:
            args.records.mkdir(parents=True, exist_ok=True)
            write_jsonl(args.records / f"{name}.jsonl", records)
        result["sets"][name] = failure_split(records)
        pooled += records
        print(name, json.dumps(result["sets"][name]), flush=True)
    result["pooled"] = failure_split(pooled)
    print("pooled", json.dumps(result["pooled"], indent=1))
    print("wrote", save(f"failure_split-{args.name or '-'.join(args.sets)}", result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
