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

The question of an FAQ accordion (``<summary>``) or definition list (``<dt>``) is a heading
over its answer, as in Markdown (:mod:`re3g.data.ingest.markdown`), never an answer itself:

    >>> [(b.text, b.heading) for b in html_blocks("<details><summary>Offline?</summary>"
    ...                                           "<p>Yes.</p></details>")[1]]
    [('Offline?', True), ('Yes.', False)]
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from re3g.data.ingest.document import Block
from re3g.data.ingest.table import Cell, table_blocks


class _Table:
    """One open ``<table>``: its rows of :class:`Cell`, the open row and cell, its caption,
    and blocks found inside it but outside any cell (kept, after the rows)."""

    def __init__(self) -> None:
        self.rows: list[list[Cell]] = []
        self.row: list[Cell] | None = None
        self.cell: Cell | None = None
        self.in_head = False
        self.in_caption = False
        self.caption: list[Block] = []
        self.after: list[Block] = []

    def start_cell(self, attrs: dict[str, str | None], header: bool) -> None:
        self.end_cell()
        if self.row is None:
            self.start_row()
        self.cell = Cell("", header or self.in_head, _span(attrs.get("colspan")),
                         _span(attrs.get("rowspan")))

    def end_cell(self) -> None:
        if self.cell is not None:
            self.cell.text = " ".join(b.text for b in self.cell.blocks)
            assert self.row is not None
            self.row.append(self.cell)
            self.cell = None

    def start_row(self) -> None:
        self.end_row()
        self.row = []

    def end_row(self) -> None:
        self.end_cell()
        if self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def blocks(self) -> list[Block]:
        self.end_row()
        caption = " ".join(b.text for b in self.caption)
        return table_blocks(self.rows, caption) + self.after


def _span(value: str | None) -> int:
    """A ``colspan`` / ``rowspan`` attribute as a number (1 when missing or not a number)."""
    try:
        return max(1, int(str(value).strip()))
    except ValueError:
        return 1


class _HTMLBlocks(HTMLParser):
    """Collect headings and text blocks from HTML, skipping script, style and navigation."""

    BLOCK = {
        "p", "div", "li", "td", "th", "tr", "section", "article", "br", "dd", "details",
        "blockquote", "pre", "table", "ul", "ol", "main", "header", "footer", "form",
    }
    # headings, and the questions of FAQ accordions and definition lists
    HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6", "summary", "dt"}
    SKIP = {"script", "style", "noscript", "template", "svg", "head", "nav"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title = ""
        self._buf: list[str] = []
        self._skip = 0
        self._in_title = False
        self._in_heading = False
        self._heading_tag = ""  # the tag that opened the heading (a <dt> may go unclosed)
        self._tables: list[_Table] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self.SKIP:
            self._skip += 1
        elif self._skip:
            return
        elif self._heading_tag == "dt" and (tag in self.BLOCK or tag in self.HEADINGS):
            self._end_heading()  # "</dt>" is optional: the next block ends the term
            self.handle_starttag(tag, attrs)
        elif tag in self.HEADINGS:
            self._flush()
            self._in_heading = True
            self._heading_tag = tag
        elif tag == "table":
            self._flush()
            self._tables.append(_Table())
        elif self._tables and tag in self.TABLE_PARTS:
            self._flush()
            table = self._tables[-1]
            if tag in ("td", "th"):
                table.start_cell(dict(attrs), tag == "th")
            elif tag == "tr":
                table.start_row()
            elif tag == "caption":
                table.end_row()
                table.in_caption = True
            else:  # thead, tbody, tfoot
                table.end_row()
                table.in_head = tag == "thead"
        elif tag in self.BLOCK:
            self._flush()

    TABLE_PARTS = {"tr", "td", "th", "thead", "tbody", "tfoot", "caption"}

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif self._skip:
            return
        elif tag in self.HEADINGS or (tag == "dl" and self._heading_tag == "dt"):
            self._end_heading()
        elif tag == "table" and self._tables:
            self._flush()
            for block in self._tables.pop().blocks():
                self._emit(block)
        elif self._tables and tag in self.TABLE_PARTS:
            self._flush()
            table = self._tables[-1]
            if tag in ("td", "th"):
                table.end_cell()
            elif tag == "tr":
                table.end_row()
            elif tag == "caption":
                table.in_caption = False
            else:
                table.end_row()
                table.in_head = False
        elif tag in self.BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._buf.append(data)

    def _end_heading(self) -> None:
        self._flush(heading=True)
        self._in_heading = False
        self._heading_tag = ""

    def _flush(self, heading: bool = False) -> None:
        text = re.sub(r"\s+", " ", "".join(self._buf)).strip()
        self._buf.clear()
        if text:
            self._emit(Block(text, heading=heading or self._in_heading))

    def _emit(self, block: Block) -> None:
        """Where a finished block goes: the innermost table's open cell, its caption, the
        table itself (text between cells, kept after its rows), or the page."""
        if not self._tables:
            self.blocks.append(block)
            return
        table = self._tables[-1]
        if table.cell is not None:
            table.cell.blocks.append(block)
        elif table.in_caption:
            table.caption.append(block)
        else:
            table.after.append(block)

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
