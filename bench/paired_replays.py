"""Two replays of the same conversations compared turn by turn.

    .venv/bin/python bench/paired_replays.py BEFORE.jsonl AFTER.jsonl [--name NAME]

Each file holds one record per user turn, as :func:`re3g.evaluate.replay.replay` gives them
(``bench/own_replies.py --records FILE`` writes one; records with a ``set`` key may pool
several sets). Prints, pooled and per set, the answerable turns right only before / only
after and the unanswerable turns refused only before / only after, with the two-sided exact
sign test of the turns that changed (:func:`re3g.evaluate.replay.paired`): whether a
difference of a few turns in total is more than two settings reshuffling which turns they
get. With ``--name`` it also writes ``bench/results/paired_replays-NAME.json``.
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

from re3g.evaluate.replay import paired  # noqa: E402


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of a JSONL file, with the file and line named on a bad one."""
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not {"id", "answerable", "grounded", "right"} <= rec.keys():
                raise ValueError("needs id, answerable, grounded and right")
        except (ValueError, AttributeError) as exc:
            raise SystemExit(f"{path}, line {n}: not a replay record ({exc})") from None
        out.append(rec)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--name", default=None,
                    help="also write bench/results/paired_replays-NAME.json")
    args = ap.parse_args(argv)
    before, after = read_records(args.before), read_records(args.after)
    try:
        result: dict[str, Any] = {"before": str(args.before), "after": str(args.after),
                                  "pooled": paired(before, after)}
        for name in sorted({str(r.get("set", "")) for r in before} - {""}):
            result[name] = paired([r for r in before if r.get("set") == name],
                                  [r for r in after if r.get("set") == name])
    except ValueError as exc:
        raise SystemExit(f"{args.before} / {args.after}: {exc}") from None
    print(json.dumps(result, indent=1))
    if args.name:
        print("wrote", save(f"paired_replays-{args.name}", result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
