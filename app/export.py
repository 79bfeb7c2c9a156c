"""The conversation with its citations as Markdown or JSON (the page's download buttons and the
``/export`` API).

Document text in the Markdown export is quoted as text (:func:`~re3g_app.render.escape_markdown`),
so a Markdown viewer shows it as written and builds nothing from it.

    >>> from re3g.types import Answer, Evidence
    >>> ev = Evidence("fees", "Fees", "A day pass costs 8 dollars.", 10, 37, ["4"])
    >>> ex = Exchange.of("How much is a day pass?", [], Answer(ev.text, [ev]), "docs", "sample")
    >>> print(to_markdown([ex], "sample").splitlines()[4])
    **You:** How much is a day pass?
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence

from .exchange import Exchange
from .render import escape_markdown

FORMATS = {"markdown": ("md", "text/markdown"), "json": ("json", "application/json")}


def to_json(exchanges: Sequence[Exchange], corpus: str) -> str:
    """The conversation as a JSON document: one object per exchange (question, reply, reply
    with markers, route, citations with doc ids, span ids and offsets, evidence)."""
    return json.dumps({"format": "re3g-conversation", "version": 1, "corpus": corpus,
                       "exported": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       "exchanges": [e.to_dict() for e in exchanges]},
                      ensure_ascii=False, indent=2)


def to_markdown(exchanges: Sequence[Exchange], corpus: str) -> str:
    """The conversation as Markdown: each question and reply (with its [n] markers), then its
    sources, numbered as the markers."""
    lines = [f"# Conversation over {escape_markdown(corpus)}", "",
             f"Exported {time.strftime('%Y-%m-%d %H:%M')} from re3g chat.", ""]
    for ex in exchanges:
        who = "code tool" if ex.route == "code" else "documents"
        lines += [f"**You:** {escape_markdown(ex.question)}", "",
                  f"**Answer** ({who}): {escape_markdown(ex.marked)}", ""]
        for c in ex.citations:
            where = escape_markdown(c.title + (f" › {c.section}" if c.section else ""))
            lines.append(f"- \\[{c.n}\\] {where} (`{c.doc_id}`, characters {c.start}-{c.end}, "
                         f"spans {', '.join(c.span_ids) or '-'}): "
                         f"{escape_markdown(' '.join(c.text.split()))}")
        lines += ["", "---", ""]
    return "\n".join(lines).rstrip("-\n ") + "\n"


def export(exchanges: Sequence[Exchange], corpus: str, fmt: str) -> str:
    """The conversation in ``fmt`` ("markdown" or "json")."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; one of {sorted(FORMATS)}")
    return to_markdown(exchanges, corpus) if fmt == "markdown" else to_json(exchanges, corpus)


def download_payload(exchanges: Sequence[Exchange], corpus: str, fmt: str) -> str:
    """What the page's download script saves: JSON with the file name, type and base64 body."""
    suffix, mime = FORMATS[fmt]
    body = export(exchanges, corpus, fmt).encode()
    return json.dumps({"name": f"re3g-conversation.{suffix}", "mime": mime,
                       "data": base64.b64encode(body).decode("ascii")})
