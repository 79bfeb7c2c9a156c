"""Blocks -> Document: the doc2dial-like layout every format ends in, and the doc2dial output.

A parser turns a file into :class:`Block` objects (headings and paragraphs in reading order);
:func:`document_from_blocks` lays them out as one text with one span per sentence and one span
per heading whose text starts with a blank line (``"\\n\\nHeading\\n"``), which is how doc2dial
marks section titles and what :func:`re3g.data.passages.split_document` cuts passages at.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from re3g.errors import DataError
from re3g.types import Document, Span

_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])")
_DOC_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Block:
    """A heading or a paragraph of plain text, in reading order.

    >>> doc = document_from_blocks("d", "Fees", [Block("Fees", heading=True),
    ...                                          Block("Pay online. Or by mail.")])
    >>> [s.text for s in doc.spans]
    ['\\n\\nFees\\n', 'Pay online. ', 'Or by mail.\\n']
    """

    text: str
    heading: bool = False
    split_sentences: bool = True


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences (a simple rule: end mark, space, capital or digit).

    >>> split_sentences("Fees are $5. Pay online! Or by mail.")
    ['Fees are $5.', 'Pay online!', 'Or by mail.']
    """
    text = text.strip()
    if not text:
        return []
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def document_from_blocks(
    doc_id: str, title: str, blocks: Sequence[Block], domain: str = "upload"
) -> Document:
    """Lay blocks out as one document text with doc2dial-like spans.

    A heading becomes a span ``"\\n\\n<heading>\\n"`` flagged ``is_heading``; every sentence of a
    paragraph becomes a span ``"<sentence> "``, the last one of a paragraph ending in a newline.
    Span ids are "1", "2", ... in reading order, as in doc2dial.
    """
    parts: list[str] = []
    spans: list[Span] = []
    pos = 0

    def add(text: str, heading: bool) -> None:
        nonlocal pos
        spans.append(Span(str(len(spans) + 1), pos, pos + len(text), text, heading))
        parts.append(text)
        pos += len(text)

    for block in blocks:
        if block.heading:
            add(f"\n\n{block.text.strip()}\n", True)
            continue
        pieces = split_sentences(block.text) if block.split_sentences else [block.text.strip()]
        pieces = [p for p in pieces if p]
        for j, piece in enumerate(pieces):
            add(piece + ("\n" if j == len(pieces) - 1 else " "), False)
    if not any(not s.is_heading for s in spans):
        raise DataError(f"{doc_id}: no text found in the document")
    return Document(doc_id=doc_id, title=title or doc_id, text="".join(parts),
                    domain=domain, spans=spans)


def title_from_blocks(blocks: list[Block], fallback: str) -> str:
    """The first heading among the first three blocks, else ``fallback``."""
    for block in blocks[:3]:
        if block.heading:
            return block.text
    return fallback


def make_doc_id(name: str) -> str:
    """A stable, filesystem- and URL-safe document id from a file name.

    >>> make_doc_id("My Notes/Bike share FAQ.md")
    'My_Notes__Bike_share_FAQ'
    """
    path = PurePosixPath(name)
    base = "__".join([*path.parts[:-1], path.stem])
    return _DOC_ID_CHARS.sub("_", base).strip("._") or "doc"


def to_doc2dial(docs: Sequence[Document]) -> dict:
    """The official doc2dial ``doc_data`` shape of ``docs`` (readable by
    :func:`re3g.data.dialdoc.load_documents`, which gives back the same ids, texts and spans)."""
    doc_data: dict[str, dict[str, dict]] = {}
    for d in docs:
        doc_data.setdefault(d.domain or "upload", {})[d.doc_id] = {
            "doc_id": d.doc_id, "title": d.title, "domain": d.domain, "doc_text": d.text,
            "spans": {s.id: {"id_sp": s.id, "start_sp": s.start, "end_sp": s.end,
                             "text_sp": s.text} for s in d.spans},
        }
    return {"doc_data": doc_data}


def write_doc2dial(docs: Sequence[Document], path: str | Path) -> Path:
    """Write ``docs`` as a doc2dial JSON file (temp file, then ``os.replace``)."""
    out = Path(path)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(to_doc2dial(docs), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, out)
    return out
