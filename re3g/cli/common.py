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
