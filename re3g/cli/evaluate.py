"""``re3g evaluate``: batch evaluation on doc2dial / MultiDoc2Dial files."""

from __future__ import annotations

import argparse
import sys

from re3g.cli.common import quiet_libraries
from re3g.config import GENERATORS, PASSAGE_MAX_WORDS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="evaluate retrieval (and later stages) on DialDoc-shaped data",
        description="Retrieve over ALL documents of DOCS for every grounded agent turn of "
                    "DIALOGUES and write OUT/report.json and OUT/report.md.",
        epilog="example: re3g evaluate --docs ../shared/data/doc2dial/doc2dial_doc.json "
               "--dialogues ../shared/data/doc2dial/doc2dial_dial_validation.json "
               "--out runs/validation")
    p.add_argument("--docs", required=True,
                   help="documents: a JSON file (doc2dial/MultiDoc2Dial shape) or a folder of "
                        ".txt/.md/.html/.pdf files")
    p.add_argument("--dialogues", required=True,
                   help="dialogues JSON (same shapes); agent turns without references are "
                        "questions the documents cannot answer (the answerability stage)")
    p.add_argument("--unanswerable", choices=("written", "synthetic"), default="written",
                   help="written: judge refusals on the file's own agent turns without "
                        "references; synthetic: also build unanswerable versions of every "
                        "grounded turn (gold document removed, another domain, gold spans "
                        "blanked) and judge those")
    p.add_argument("--out", required=True, help="output folder for report.json / report.md")
    p.add_argument("--limit", type=int, default=None, help="evaluate the first N examples only")
    p.add_argument("--index", default=None, help="use this built index instead of a cached one")
    p.add_argument("--max-words", type=int, default=PASSAGE_MAX_WORDS,
                   help=f"passage length cap in words (default {PASSAGE_MAX_WORDS})")
    p.add_argument("--stages", default=None,
                   help="comma-separated later stages to run (default: all available)")
    p.add_argument("--generator", default=None,
                   help="response generator(s): extractive (default), seq2seq, llm, http, or a "
                        "comma-separated list to compare (the first one is the pipeline's)")
    p.add_argument("--generator-model", default=None,
                   help="model for seq2seq (folder or hub id), llm (re3g.llm spec or GGUF path) "
                        "or http (the served model name)")
    p.add_argument("--base-url", default=None,
                   help="OpenAI-compatible endpoint for --generator http, e.g. "
                        "http://127.0.0.1:8000/v1")
    p.add_argument("--max-tokens", type=int, default=None,
                   help="reply length cap for the llm / http generators")
    p.add_argument("--config", default=None,
                   help="a re3g.toml / .yaml whose rerank, extract and generator settings apply")
    p.add_argument("--rerank", action=argparse.BooleanOptionalAction, default=None,
                   help="rerank before extraction in the response stage (default: when a "
                        "trained reranker exists)")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="spread each turn's ranking, extraction and replies over Ray workers "
                        "(the same report): local (an in-process cluster on 127.0.0.1), "
                        "HOST:PORT, ray://HOST:PORT or auto; without a value $RAY_ADDRESS, "
                        "else local (needs pip install -e '.[scale]')")
    p.add_argument("--ray-workers", type=int, default=None, metavar="N",
                   help="actors for --ray (default: one per CPU of the cluster)")
    p.set_defaults(func=run)


def generator_options(args: argparse.Namespace) -> tuple[str | None, dict[str, dict]]:
    """The --generator list, checked, and make_generator options per backend."""
    if not args.generator:
        return None, {}
    names = [g.strip().lower() for g in args.generator.split(",") if g.strip()]
    for g in names:
        if g not in GENERATORS:
            raise SystemExit(f"re3g evaluate: unknown generator {g!r}; choose from "
                             f"{', '.join(GENERATORS)}")
    opts: dict[str, dict] = {}
    for g in names:
        o: dict = {}
        if g in ("seq2seq", "llm", "http") and args.generator_model:
            o["model"] = args.generator_model
        if g == "http" and args.base_url:
            o["base_url"] = args.base_url
        if g in ("llm", "http") and args.max_tokens:
            o["max_tokens"] = args.max_tokens
        if o:
            opts[g] = o
    return ",".join(names), opts


def run(args: argparse.Namespace) -> int:
    from re3g.evaluate.runner import evaluate

    quiet_libraries()
    if args.limit is not None and args.limit < 1:
        raise SystemExit("re3g evaluate: --limit must be >= 1")
    if args.ray_workers is not None and args.ray_workers < 1:
        raise SystemExit("re3g evaluate: --ray-workers must be >= 1")
    stages = [s.strip() for s in args.stages.split(",")] if args.stages else None
    generator, gen_opts = generator_options(args)
    workers = None
    if args.ray is not None:  # join the cluster first: a bad address stops before any work
        from re3g.scale.cluster import connect
        from re3g.scale.ray_evaluate import RayTurns

        connect(args.ray or None)
        workers = lambda spec: RayTurns(spec, args.ray_workers)  # noqa: E731
    options = {k: v for k, v in (("generator", generator), ("generator_options", gen_opts),
                                 ("config", args.config), ("rerank", args.rerank),
                                 ("unanswerable", args.unanswerable))
               if v not in (None, {})}
    report = evaluate(args.docs, args.dialogues, args.out, limit=args.limit, index=args.index,
                      max_words=args.max_words, stages=stages, workers=workers,
                      **options)
    print(f"{report['n_examples']} examples, {report['n_passages']} passages")
    for name, m in report["retrieval"].items():
        print(f"  {name:9s} " + "  ".join(f"{k} {v:5.1f}" for k, v in m.items()))
    for name, m in (report.get("response_systems") or {}).items():
        print(f"  {name:24s} " + "  ".join(f"{k} {v:5.1f}" for k, v in m.items()))
    if report.get("answerability"):
        a = report["answerability"]
        print(f"  answerability: answered {a['answered']}%, right {a['right']}%, refused "
              f"{a['refused_unanswerable']}% of {a['n_unanswerable']} unanswerable, "
              f"AUROC {a['AUROC']}")
        if a.get("confident_wrong") is not None and a.get("refused_or_tentative") is not None:
            print(f"  without a caution: right {a['confident_right']}%, wrong "
                  f"{a['confident_wrong']}% of answerable; unanswerable refused or tentative "
                  f"{a['refused_or_tentative']}%")
    for problem in [f for f in report.get("failures", []) if f["stage"] == "data"]:
        print(f"re3g evaluate: left out: {problem['error']}", file=sys.stderr)
    if report.get("failures"):
        print(f"  {len(report['failures'])} failures recorded in report.json")
    print(f"wrote {args.out}/report.json and {args.out}/report.md")
    return 0
