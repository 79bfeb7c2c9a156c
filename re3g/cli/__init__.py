"""The ``re3g`` command. Each subcommand lives in its own module with a ``register`` function."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from re3g.errors import Re3GError
from re3g.optional import import_optional

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
        module = import_optional(f"re3g.cli.{name}")
        if module is not None:  # absent subcommands are left out of this build
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
