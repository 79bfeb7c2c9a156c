"""``re3g search``: query an index and print ranked passages."""

from __future__ import annotations

import argparse
import json

from re3g.cli.common import add_index_option, index_path, quiet_libraries
from re3g.config import MODES, Config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="query an index and print ranked passages",
                       epilog='example: re3g search "how do I renew my license" '
                              "--index doc2dial --mode hybrid -k 5")
    p.add_argument("query", help="the question (quote it)")
    add_index_option(p)
    p.add_argument("--mode", default=Config.mode, choices=MODES)
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from re3g.retrieve import open_index

    quiet_libraries()
    retriever = open_index(index_path(args.index), mode=args.mode)
    hits = retriever.search(args.query, k=args.k)
    if args.json:
        for h in hits:
            print(json.dumps({"rank": h.rank, "score": h.score, "pid": h.passage.pid,
                              "doc_id": h.passage.doc_id, "section": h.passage.section,
                              "start": h.passage.start, "end": h.passage.end,
                              "text": h.passage.text}, ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{args.mode} results for: {args.query}", show_lines=True)
    for col in ("#", "score", "document / section", "passage"):
        table.add_column(col)
    for h in hits:
        p = h.passage
        where = p.title + (f"\n[dim]{p.section}[/dim]" if p.section else "")
        text = p.text if len(p.text) <= 300 else p.text[:300] + "…"
        table.add_row(str(h.rank), f"{h.score:.4f}", where, text)
    Console().print(table)
    return 0
