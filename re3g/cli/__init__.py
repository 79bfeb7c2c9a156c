"""The ``re3g`` command. Each subcommand lives in its own module with a ``register`` function;
other installed packages add subcommands through the ``re3g.commands`` entry point group (the
chat app declares ``chat = "re3g_app.cli:register"``), so ``re3g`` never imports them by name.

    >>> parser = build_parser()
    >>> parser.parse_args(["search", "renew registration"]).command
    'search'
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from re3g.errors import Re3GError
from re3g.optional import import_optional

ENTRY_POINT_GROUP = "re3g.commands"
"""Entry point group of subcommands from other packages: ``name = "module:register"``."""
BUILTIN = ["index", "search", "evaluate", "ask", "serve", "code", "train"]
"""Subcommand modules of this package (``re3g.cli.<name>``)."""
SUBCOMMANDS = ["index", "search", "evaluate", "ask", "chat", "serve", "code", "train"]
"""The order `re3g --help` lists subcommands in; others found by entry point come after."""

Register = Callable[[argparse._SubParsersAction], None]


def registrars() -> dict[str, Register]:
    """``register`` functions by subcommand name, in listing order: this package's modules,
    then the ``re3g.commands`` entry points (absent ones are left out of this build)."""
    found: dict[str, Register] = {}
    for name in BUILTIN:
        module = import_optional(f"re3g.cli.{name}")
        if module is not None:
            found[name] = module.register
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            continue
        try:
            found[ep.name] = ep.load()
        except ModuleNotFoundError as exc:  # the plugin's own package is gone: leave it out
            if not exc.name or not f"{ep.module}.".startswith(f"{exc.name}."):
                raise
    rank = {name: i for i, name in enumerate(SUBCOMMANDS)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (every registered subcommand)."""
    parser = argparse.ArgumentParser(
        prog="re3g",
        description="Grounded dialogue over documents: retrieve, rerank, extract, generate.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in registrars().values():
        register(sub)
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
