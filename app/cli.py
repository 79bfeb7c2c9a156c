"""``re3g chat``: start the Gradio chat over documents (http://127.0.0.1:7860 by default).

On first start, when ``<indexes>/sample`` does not exist yet, the embedded sample corpus
(``data/sample/``) is indexed first (about a minute on a laptop). Before the server listens,
the corpus selected at start is loaded with the start-up settings and answers warm-up turns
(``Re3G.warm_up``, then one question through the server itself), so the first question is as
fast as later ones; the "open http://..." line says it is ready.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from re3g.cli.common import INDEX_ROOT
from re3g.config import GENERATORS, MODES, Config
from re3g.errors import IndexLoadError
from re3g.models import project_root, trained

from .settings import MIN_CONFIDENCE, Settings

SAMPLE_NAME = "sample"


def sample_dir() -> Path:
    """The embedded sample corpus: ``data/sample`` of the source tree, or of the current folder."""
    for base in (project_root(), Path.cwd()):
        candidate = base / "data" / "sample"
        if candidate.is_dir():
            return candidate
    raise IndexLoadError("the sample corpus folder data/sample was not found; run re3g chat "
                         "from the project folder or pass --index with a built index")


def ensure_sample_index(indexes_dir: Path, quiet: bool = False) -> Path:
    """Build ``<indexes_dir>/sample`` from data/sample unless it already exists."""
    target = indexes_dir / SAMPLE_NAME
    if (target / "manifest.json").is_file():
        return target
    from re3g.data.ingest import load_directory
    from re3g.retrieve import build_index

    src = sample_dir()
    if not quiet:
        print(f"re3g chat: building the sample index from {src} (first start only)...",
              file=sys.stderr)
    docs = load_directory(src, domain=SAMPLE_NAME)
    return build_index(docs, target, name=SAMPLE_NAME, source=str(src), progress=not quiet)


def start_settings(args: argparse.Namespace, config: Config | None = None) -> Settings:
    """The Settings panel's initial values: options given, else the config file's, else the
    app's defaults (:class:`Settings`: hybrid, ``Config.k``, rerank when trained,
    extractive). ``config`` is ``--config`` already parsed (parsed here when not given)."""
    if args.config:
        cfg = config if config is not None else Config.load(args.config)
        base = Settings(cfg.mode, cfg.k, cfg.rerank if isinstance(cfg.rerank, bool)
                        else trained("reranker"), cfg.generator)
    else:
        base = Settings(rerank=trained("reranker"))
    return Settings(
        args.mode or base.mode, args.k if args.k is not None else base.k,
        base.rerank if args.rerank is None else args.rerank, args.generator or base.generator,
    ).checked()


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``chat`` subcommand (the ``re3g.commands`` entry point ``chat``)."""
    p = sub.add_parser("chat", help="chat with documents in the browser (Gradio)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--index", default=SAMPLE_NAME,
                   help="corpus selected at start: an index name under --indexes, or the path "
                        "of an index folder (default: sample)")
    p.add_argument("--indexes", default=INDEX_ROOT, type=Path,
                   help=f"folder of built indexes; uploads go to <indexes>/uploads (default "
                        f"{INDEX_ROOT}, or $RE3G_INDEX_DIR)")
    p.add_argument("--config", default=None, help="re3g.toml for the pipeline (models, LLM)")
    p.add_argument("--mode", choices=MODES, default=None,
                   help="retrieval mode at start (default: --config's, else hybrid)")
    p.add_argument("-k", type=int, default=None,
                   help="passages retrieved per question (default: --config's, else "
                        f"{Settings().k})")
    p.add_argument("--rerank", action=argparse.BooleanOptionalAction, default=None,
                   help="rerank with the cross-encoder (default: --config's; 'auto' or no "
                        "config: on when models/reranker has a trained one)")
    p.add_argument("--generator", choices=GENERATORS,
                   default=None, help="generator at start (default: --config's, else "
                                      "extractive)")
    p.add_argument("--min-confidence", type=float, default=None,
                   help="below this confidence (0..1) a reply says there is no good "
                        "evidence (default: the pipeline's, 0.30 with the dense fallback)")
    p.add_argument("--concurrency", type=int, default=2,
                   help="questions answered at the same time; others wait in the queue")
    p.add_argument("--share-uploads", action="store_true",
                   help="show every session's uploaded corpora to everyone")
    p.add_argument("--feedback", default=None, type=Path,
                   help="JSON-lines file for thumbs up/down and 'right passage' choices "
                        "(default INDEXES/feedback/feedback.jsonl)")
    p.add_argument("--backend", default=None, metavar="URL",
                   help="answer through a `re3g serve` endpoint (e.g. http://127.0.0.1:8000) "
                        "instead of a pipeline in this process; the server's index and "
                        "settings apply")
    p.add_argument("--no-sample", action="store_true",
                   help="do not build the sample index on first start")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the chat with the options of ``re3g chat`` (blocks until Ctrl+C)."""
    from .server import launch
    from .settings import AppConfig

    indexes = Path(args.indexes)
    corpus = args.index
    as_path = Path(args.index)
    if (as_path / "manifest.json").is_file() and as_path.parent.resolve() != indexes.resolve():
        indexes, corpus = as_path.parent, as_path.name
    if not args.no_sample:
        ensure_sample_index(indexes)
    pipeline_config = Config.load(args.config)  # the one parse of --config
    config = AppConfig(
        indexes_dir=indexes, default_corpus=corpus, share_uploads=args.share_uploads,
        concurrency=args.concurrency, pipeline_config=pipeline_config,
        settings=start_settings(args, pipeline_config),
        min_confidence=MIN_CONFIDENCE if args.min_confidence is None else args.min_confidence,
        feedback_file=getattr(args, "feedback", None),
    )
    # the default corpus is warmed before the server listens; the ready line comes after both
    factory = None
    if getattr(args, "backend", None):
        from .http_backend import http_factory

        factory = http_factory(args.backend)
    demo, _url = launch(args.host, args.port, config=config, factory=factory, block=False)
    print(f"re3g chat: open http://{args.host}:{args.port}/ in a browser (Ctrl+C stops)",
          file=sys.stderr, flush=True)
    demo.block_thread()
    return 0
