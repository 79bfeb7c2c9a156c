"""The ``re3g`` command. Each subcommand lives in its own module with a ``register`` function."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from re3g.errors import Re3GError

# Subcommand modules, in the order `re3g --help` lists them.
SUBCOMMANDS = ["index", "search", "evaluate", "ask", "chat", "code", "train"]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (every registered subcommand)."""
    parser = argparse.ArgumentParser(
        prog="re3g",
        description="Grounded dialogue over documents: retrieve, rerank, extract, generate.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"re3g.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"re3g.cli.{name}":
                continue  # subcommand not present in this build
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``re3g`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except Re3GError as exc:
        print(f"re3g {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"re3g {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
