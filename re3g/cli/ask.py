"""``re3g ask``: answer one question (or the last turn of a short dialogue) from the shell.

    re3g ask "How much does a day pass cost?"
    re3g ask "And for a month?" --history "How much is a day pass?" --history "8 dollars."
    re3g ask "How do I renew my license?" --index doc2dial --json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from re3g.cli.common import add_pipeline_options, quiet_libraries


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ask", help="answer a question from the indexed documents (reply, evidence, timings)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("question", help="the user's question (quote it)")
    p.add_argument("--history", action="append", default=[], metavar="TURN",
                   help="an earlier turn, oldest first; repeat it; turns alternate user / agent "
                        "starting with the user, and the question is the user's next turn")
    add_pipeline_options(p)
    p.add_argument("--min-confidence", type=float, default=None,
                   help="below this the reply says the answer was not found")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def ask_history(earlier: Sequence[str], question: str, max_chars: int) -> list[dict[str, str]]:
    """The dialogue for ``re3g ask``: the ``--history`` turns alternate user, agent, ...
    starting with the user, and the question is always the user's, with explicit roles (so an
    even or odd number of earlier turns cannot swap who said what). Undecodable command-line
    bytes (lone surrogates) are replaced.

    >>> [m["role"] for m in ask_history(["How much is a day pass?"], "And monthly?", 100)]
    ['user', 'user']
    >>> [m["role"] for m in ask_history(["Day pass?", "8 dollars."], "Monthly?", 100)]
    ['user', 'agent', 'user']
    """
    from re3g.data.query import clean_turn_text, plain_string_roles

    roles = [*plain_string_roles(len(earlier)), "user"]
    return [{"role": role, "content": clean_turn_text(text, max_chars)[0]}
            for role, text in zip(roles, [*earlier, question], strict=True)]


def run(args: argparse.Namespace) -> int:
    from re3g.pipeline import Re3G

    quiet_libraries()
    bot = Re3G.from_config(args.config, index=args.index, mode=args.mode, k=args.k,
                           rerank=args.rerank, generator=args.generator, docs=args.docs,
                           min_confidence=args.min_confidence)
    history = ask_history(args.history, args.question, bot.config.max_turn_chars)
    if args.json:
        ans = bot.answer(history)
        print(json.dumps(ans.to_dict(), ensure_ascii=False))
        return 0
    ans = None
    for piece in bot.stream(history):
        if isinstance(piece, str):
            sys.stdout.write(piece)
            sys.stdout.flush()
        else:
            ans = piece
    print()
    if ans is None:  # pragma: no cover - stream always ends with an Answer
        return 1
    mark = ("  (not grounded: below the confidence threshold)" if not ans.grounded else
            "  (tentative: not sure this is the sentence asked about; see evidence 2)"
            if ans.extra.get("tentative_reason") == "sentence" else
            "  (tentative: the documents may not say this)" if ans.extra.get("tentative")
            else "")
    print(f"\nconfidence {ans.confidence:.2f}{mark}")
    if ans.evidence:
        print("evidence:")
        for i, e in enumerate(ans.evidence, 1):
            text = " ".join(e.text.split())
            text = text if len(text) <= 160 else text[:160] + "…"
            sec = f" / {e.section.strip()}" if e.section.strip() else ""
            score = f"  score {e.score:.2f}" if e.score > 0 else ""  # a reader's range: none
            print(f"  [{i}] {e.doc_id}{sec}  chars {e.start}-{e.end}  spans "
                  f"{','.join(e.span_ids)}{score}\n      {text}")
    print("timings (ms): " + "  ".join(f"{k} {1000 * v:.0f}" for k, v in ans.timings.items()))
    return 0
