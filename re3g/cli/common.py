"""Small helpers shared by CLI subcommands."""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

INDEX_ROOT = Path(os.environ.get("RE3G_INDEX_DIR", "indexes"))


def quiet_libraries() -> None:
    """Keep library chatter (HF progress and warnings) out of the CLI's output."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning)


def index_path(value: str) -> Path:
    """An index given by name (under indexes/) or by path."""
    p = Path(value)
    if p.exists() or os.sep in value or value.startswith("."):
        return p
    return INDEX_ROOT / value


def add_index_option(parser: argparse.ArgumentParser, default: str = "sample") -> None:
    parser.add_argument("--index", default=default,
                        help=f"index name under {INDEX_ROOT}/ or a path (default: {default})")


def add_pipeline_options(parser: argparse.ArgumentParser, k_help: str = "passages retrieved"
                         ) -> None:
    """The options that build a pipeline from a config file and overrides (``re3g ask``,
    ``re3g serve``): ``--config``, ``--index``, ``--mode``, ``-k``, ``--rerank``,
    ``--generator``, ``--docs``; each is None when not given, so the config's value stands."""
    from re3g.config import GENERATORS, MODES

    parser.add_argument("--config", default=None, help="a re3g.toml / .yaml config file")
    parser.add_argument("--index", default=None,
                        help="index name under indexes/ or a path (default: the config's, "
                             "else indexes/sample)")
    parser.add_argument("--mode", choices=MODES, default=None)
    parser.add_argument("-k", type=int, default=None, help=f"{k_help} (default 20)")
    parser.add_argument("--rerank", action=argparse.BooleanOptionalAction, default=None,
                        help="rerank with the trained reranker (default: when it exists)")
    parser.add_argument("--generator", choices=GENERATORS, default=None,
                        help="answer generator (default extractive)")
    parser.add_argument("--docs", default=None,
                        help="the documents the index was built from (for span offsets)")
