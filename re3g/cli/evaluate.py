"""``re3g evaluate``: batch evaluation on doc2dial / MultiDoc2Dial files."""

from __future__ import annotations

import argparse

from re3g.cli.common import quiet_libraries


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="evaluate retrieval (and later stages) on DialDoc-shaped data",
        description="Retrieve over ALL documents of DOCS for every grounded agent turn of "
                    "DIALOGUES and write OUT/report.json and OUT/report.md.",
        epilog="example: re3g evaluate --docs ../shared/data/doc2dial/doc2dial_doc.json "
               "--dialogues ../shared/data/doc2dial/doc2dial_dial_validation.json "
               "--out runs/validation")
    p.add_argument("--docs", required=True, help="documents JSON (doc2dial/MultiDoc2Dial shape)")
    p.add_argument("--dialogues", required=True, help="dialogues JSON (same shapes)")
    p.add_argument("--out", required=True, help="output folder for report.json / report.md")
    p.add_argument("--limit", type=int, default=None, help="evaluate the first N examples only")
    p.add_argument("--index", default=None, help="use this built index instead of a cached one")
    p.add_argument("--max-words", type=int, default=200, help="passage length cap in words")
    p.add_argument("--stages", default=None,
                   help="comma-separated later stages to run (default: all available)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from re3g.evaluate.runner import evaluate

    quiet_libraries()
    if args.limit is not None and args.limit < 1:
        raise SystemExit("re3g evaluate: --limit must be >= 1")
    stages = [s.strip() for s in args.stages.split(",")] if args.stages else None
    report = evaluate(args.docs, args.dialogues, args.out, limit=args.limit, index=args.index,
                      max_words=args.max_words, stages=stages)
    print(f"{report['n_examples']} examples, {report['n_passages']} passages")
    for name, m in report["retrieval"].items():
        print(f"  {name:9s} " + "  ".join(f"{k} {v:5.1f}" for k, v in m.items()))
    print(f"wrote {args.out}/report.json and {args.out}/report.md")
    return 0
