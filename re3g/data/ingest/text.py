"""Plain text files (.txt, .text): paragraphs, and underlined lines as headings.

    >>> [(b.text, b.heading) for b in text_blocks("Fees\\n====\\n\\nPay online.\\nOr by mail.")]
    [('Fees', True), ('Pay online. Or by mail.', False)]
"""

from __future__ import annotations

import re

from re3g.data.ingest.document import Block

SETEXT_RULE = re.compile(r"^(=+|-+)\s*$")
"""A line of ``=`` or ``-`` that underlines the heading above it (Markdown's setext style)."""


def text_blocks(text: str) -> list[Block]:
    """Paragraphs of a plain text file; underlined lines (=== or ---) become headings."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in chunk.split("\n") if ln.strip()]
        if len(lines) >= 2 and SETEXT_RULE.match(lines[1]) and len(lines[0]) <= 120:
            blocks.append(Block(lines[0], heading=True))
            lines = lines[2:]
        if lines:
            blocks.append(Block(" ".join(lines)))
    return blocks
