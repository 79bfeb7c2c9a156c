"""HTML pages (.html, .htm): the ``<title>``, headings and text blocks; script, style and
navigation are skipped.

    >>> title, blocks = html_blocks("<title>Pool</title><nav>Home</nav><h1>Rules</h1>"
    ...                             "<p>Shower first.</p>")
    >>> title, [(b.text, b.heading) for b in blocks]
    ('Pool', [('Rules', True), ('Shower first.', False)])
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from re3g.data.ingest.document import Block


class _HTMLBlocks(HTMLParser):
    """Collect headings and text blocks from HTML, skipping script, style and navigation."""

    BLOCK = {
        "p", "div", "li", "td", "th", "tr", "section", "article", "br", "dd", "dt",
        "blockquote", "pre", "table", "ul", "ol", "main", "header", "footer", "form",
    }
    HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
    SKIP = {"script", "style", "noscript", "template", "svg", "head", "nav"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title = ""
        self._buf: list[str] = []
        self._skip = 0
        self._in_title = False
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self.SKIP:
            self._skip += 1
        elif tag in self.HEADINGS:
            self._flush()
            self._in_heading = True
        elif tag in self.BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.HEADINGS:
            self._flush(heading=True)
            self._in_heading = False
        elif tag in self.BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._buf.append(data)

    def _flush(self, heading: bool = False) -> None:
        text = re.sub(r"\s+", " ", "".join(self._buf)).strip()
        self._buf.clear()
        if text:
            self.blocks.append(Block(text, heading=heading or self._in_heading))

    def close(self) -> None:
        super().close()
        self._flush()


def html_blocks(text: str) -> tuple[str, list[Block]]:
    """The ``<title>`` and the blocks of an HTML page."""
    parser = _HTMLBlocks()
    parser.feed(text)
    parser.close()
    return re.sub(r"\s+", " ", parser.title).strip(), parser.blocks
