"""HTML pages (.html, .htm): the ``<title>``, headings and text blocks; script, style and
navigation are skipped.

    >>> title, blocks = html_blocks("<title>Pool</title><nav>Home</nav><h1>Rules</h1>"
    ...                             "<p>Shower first.</p>")
    >>> title, [(b.text, b.heading) for b in blocks]
    ('Pool', [('Rules', True), ('Shower first.', False)])

A table gives one sentence per body row, each cell labelled with its column's header
(:mod:`re3g.data.ingest.table`):

    >>> [b.text for b in html_blocks("<table><tr><th>Day</th><th>Class</th></tr>"
    ...                              "<tr><td>Monday</td><td>Spin</td></tr></table>")[1]]
    ['Day: Monday; Class: Spin']
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from re3g.data.ingest.document import Block
from re3g.data.ingest.table import table_rows


class _Table:
    """Rows of one open ``<table>``: cell texts, and whether each row is a header row."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = []
        self.header: list[bool] = []
        self.row: list[str] | None = None
        self.row_is_header = True
        self.in_head = False
        self.cell: list[str] | None = None
        self.caption = ""

    def end_cell(self) -> None:
        if self.cell is not None:
            if self.row is None:
                self.start_row()
            assert self.row is not None
            self.row.append(re.sub(r"\s+", " ", "".join(self.cell)).strip())
            self.cell = None

    def start_row(self) -> None:
        self.end_row()
        self.row, self.row_is_header = [], True

    def end_row(self) -> None:
        if self.cell is not None:
            self.end_cell()
        if self.row is not None:
            if any(self.row):
                self.rows.append(self.row)
                self.header.append(self.in_head or self.row_is_header)
            self.row = None

    def sentences(self) -> list[str]:
        self.end_row()
        return table_rows(self.rows, has_header=bool(self.header) and self.header[0]
                          and len(self.rows) > 1)


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
        self._tables: list[_Table] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self.SKIP:
            self._skip += 1
        elif tag in self.HEADINGS:
            self._flush()
            self._in_heading = True
        elif tag == "table":
            if self._tables:
                self._close_cell()  # text before a nested table belongs to the outer cell
            else:
                self._flush()
            self._tables.append(_Table())
        elif self._tables and tag in self.TABLE_PARTS:
            self._close_cell()
            self._table_start(self._tables[-1], tag)
        elif tag in self.BLOCK:
            self._flush()

    TABLE_PARTS = {"tr", "td", "th", "thead", "tbody", "tfoot", "caption"}

    def _table_start(self, table: _Table, tag: str) -> None:
        if tag == "tr":
            table.start_row()
        elif tag in ("td", "th"):
            table.end_cell()
            if table.row is None:
                table.start_row()
            table.row_is_header = table.row_is_header and tag == "th"
            table.cell = []
        elif tag == "thead":
            table.in_head = True
        else:
            table.end_row()
            table.in_head = False

    def _table_end(self, table: _Table, tag: str) -> None:
        if tag == "caption":
            table.caption = re.sub(r"\s+", " ", "".join(self._buf)).strip()
        self._close_cell()
        if tag in ("td", "th"):
            table.end_cell()
        elif tag == "tr":
            table.end_row()
        elif tag == "thead":
            table.end_row()
            table.in_head = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.HEADINGS:
            self._flush(heading=True)
            self._in_heading = False
        elif tag == "table" and self._tables:
            self._close_cell()
            table = self._tables.pop()
            if table.caption:
                self.blocks.append(Block(table.caption))
            self.blocks += [Block(r, split_sentences=False) for r in table.sentences()]
        elif self._tables and tag in self.TABLE_PARTS:
            self._table_end(self._tables[-1], tag)
        elif tag in self.BLOCK:
            self._flush()

    def _close_cell(self) -> None:
        """Move the text gathered so far into the innermost table's open cell (text between
        cells, outside any cell, is dropped: it is layout whitespace)."""
        table = self._tables[-1]
        if table.cell is not None:
            table.cell.append("".join(self._buf))
        self._buf.clear()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._buf.append(data)

    def _flush(self, heading: bool = False) -> None:
        if self._tables and self._tables[-1].cell is not None:
            # a block inside a table cell (<p>, <br>, a list) stays part of that cell
            self._buf.append(" ")
            return
        text = re.sub(r"\s+", " ", "".join(self._buf)).strip()
        self._buf.clear()
        if text:
            self.blocks.append(Block(text, heading=heading or self._in_heading))

    def close(self) -> None:
        super().close()
        while self._tables:  # a table left open at the end of the page
            self.handle_endtag("table")
        self._flush()


def html_blocks(text: str) -> tuple[str, list[Block]]:
    """The ``<title>`` and the blocks of an HTML page."""
    parser = _HTMLBlocks()
    parser.feed(text)
    parser.close()
    return re.sub(r"\s+", " ", parser.title).strip(), parser.blocks
