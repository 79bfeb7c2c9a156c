"""Where to put the pipeline's abstention threshold: answer confidence on in-domain doc2dial turns
versus questions the documents cannot answer.

    .venv/bin/python bench/abstention.py [--turns 200]

In-domain: the validation split's user turns with their history (the first ``--turns``).
Off-topic: general questions about things no doc2dial document covers (the held-out list
data/suite/off_topic.json). Prints the percentiles of both, the share of each that a threshold
keeps, and writes bench/results/abstention.json. The fixed rule's default threshold
(re3g.decide) was chosen from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from _common import save  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "doc2dial"
OFF_TOPIC = json.loads((ROOT / "data" / "suite" / "off_topic.json").read_text())["questions"]


def pct(values: list[float], q: float) -> float:
    xs = sorted(values)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default=str(ROOT / "indexes" / "doc2dial"))
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--extractor", default=None,
                    help="extractor folder (default: the pipeline's, models/extractor-qa)")
    args = ap.parse_args(argv)

    from tqdm.auto import tqdm

    from re3g.data import load_documents, load_examples
    from re3g.extract import default_extractor_path
    from re3g.pipeline import Re3G

    docs = load_documents(DATA / "doc2dial_doc.json")
    val = load_examples(DATA / "doc2dial_dial_validation.json", docs)[: args.turns]
    bot = Re3G(index=args.index, docs=str(DATA / "doc2dial_doc.json"),
               extractor=args.extractor).warm_up()
    inside = [bot.answer(ex.history).confidence for ex in tqdm(val, desc="in-domain")]
    outside = [bot.answer(q).confidence for q in tqdm(OFF_TOPIC, desc="off-topic")]
    qs = (0.01, 0.05, 0.1, 0.5)
    result = {
        "turns": len(inside), "n_off_topic": len(outside),
        "in_domain_percentiles": {f"p{int(q * 100)}": round(pct(inside, q), 3) for q in qs},
        "off_topic_max": round(max(outside), 3),
        "off_topic": {q: round(c, 3) for q, c in zip(OFF_TOPIC, outside, strict=True)},
        "kept_at": {f"{t:.2f}": {"in_domain": round(sum(c >= t for c in inside) / len(inside), 3),
                                 "off_topic": round(sum(c >= t for c in outside) / len(outside),
                                                    3)}
                    for t in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)},
        "min_confidence_in_force": bot.min_confidence,
        "extractor": args.extractor or str(default_extractor_path().relative_to(ROOT)),
        "document_weight": bot.config.document_weight,
    }
    print("in-domain percentiles", result["in_domain_percentiles"])
    print("off-topic max", result["off_topic_max"])
    for t, kept in result["kept_at"].items():
        print(f"threshold {t}: keeps {kept['in_domain']:.1%} in-domain, "
              f"{kept['off_topic']:.1%} off-topic")
    print("wrote", save("abstention", result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
