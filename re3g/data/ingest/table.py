"""Table rows as self-contained sentences: each cell carries its column's header.

A row read out of its table ("Friday; 09:30 Pilates; no class") loses what its cells mean;
retrieval, the reader and a user looking at the evidence all need the labels. A table with a
header row therefore gives one sentence per body row, each cell prefixed with its header, and
the header row itself is not a sentence (its labels live on in every row).

    >>> labelled_row(["Day", "Morning", "Evening"], ["Friday", "09:30 Pilates", "no class"])
    'Day: Friday; Morning: 09:30 Pilates; Evening: no class'
    >>> labelled_row(["", "Adult"], ["Single", "7 pounds", "extra"])
    'Single; Adult: 7 pounds; extra'
    >>> [b.text for b in table_blocks(text_cells([["Ticket", "Price"], ["Adult", "6 dollars"]],
    ...                                          header_rows=1))]
    ['Ticket: Adult; Price: 6 dollars']
    >>> [b.text for b in table_blocks(text_cells([["Adult", "6 dollars"]], header_rows=0))]
    ['Adult; 6 dollars']

Every format hands its table to :func:`table_blocks` as rows of :class:`Cell`: Markdown
through :func:`text_cells`, HTML with its ``th`` cells, several header rows, ``colspan`` and
``rowspan``, and tables that only lay out a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from re3g.data.ingest.document import Block

MAX_SPAN = 50
"""The largest ``colspan`` / ``rowspan`` honoured (a hostile page cannot blow a table up)."""
LAYOUT_WORDS = 60
"""A cell longer than this (or holding a heading) makes a table a page layout, not data."""


def labelled_row(header: Sequence[str], cells: Sequence[str]) -> str:
    """One body row as a sentence: ``"Header: cell; ..."``; empty cells are left out, and a
    cell without a header (an empty header cell, or more cells than headers) stands alone."""
    out = []
    for i, cell in enumerate(cells):
        cell = cell.strip()
        if not cell:
            continue
        label = header[i].strip() if i < len(header) else ""
        out.append(f"{label}: {cell}" if label and label != cell else cell)
    return "; ".join(out)


ROW_LABEL_WORDS = 5
ROW_KEY_WORDS = 8
"""The longest header label and first cell :func:`row_key` reads as a row's name."""


def row_key(text: str) -> str:
    """The first cell of a sentence :func:`labelled_row` made (the value that names the row:
    "Friday", "Single class"), or "" for any other sentence. A row is told by its shape: at
    least two "; "-separated cells, the first "Label: value" with a short label and value.

    >>> row_key("Day: Friday; Morning: 09:30 Pilates; Evening: no class")
    'Friday'
    >>> row_key("Note: bring a towel. Lockers take a 1 pound coin.")
    ''
    """
    first, sep, _ = text.partition("; ")
    label, colon, value = first.partition(": ")
    if not sep or not colon or not value.strip():
        return ""
    if len(label.split()) > ROW_LABEL_WORDS or len(value.split()) > ROW_KEY_WORDS:
        return ""
    return value.strip()


def row_cells(text: str) -> str:
    """The cells of a sentence :func:`labelled_row` made after the one that names the row
    (:func:`row_key`), or "" for any other sentence.

    >>> row_cells("Day: Friday; Morning: 09:30 Pilates; Evening: no class")
    'Morning: 09:30 Pilates; Evening: no class'
    >>> row_cells("Note: bring a towel.")
    ''
    """
    return text.partition("; ")[2] if row_key(text) else ""


def row_fields(text: str) -> list[tuple[str, str]]:
    """The labelled cells of a sentence :func:`labelled_row` made after the one that names the
    row (:func:`row_key`), as (label, value) pairs; ``[]`` for any other sentence. A cell
    without a label is left out.

    >>> row_fields("Ticket: Return; Adult: 18 pounds; Family (2 adults): 48 pounds; extra")
    [('Adult', '18 pounds'), ('Family (2 adults)', '48 pounds')]
    >>> row_fields("Note: bring a towel.")
    []
    """
    out = []
    for cell in row_cells(text.strip()).split("; "):
        label, colon, value = cell.partition(": ")
        if colon and label.strip() and value.strip():
            out.append((label.strip(), value.strip()))
    return out


@dataclass
class Cell:
    """One cell of an HTML table: its text, whether it is a header cell (``th``, or any cell
    of ``thead``), its spans, and its own blocks (what a layout table gives back)."""

    text: str
    header: bool = False
    colspan: int = 1
    rowspan: int = 1
    blocks: list[Block] = field(default_factory=list)


def text_cells(rows: Sequence[Sequence[str]], header_rows: int) -> list[list[Cell]]:
    """Rows of plain cell texts (a Markdown table) as :class:`Cell` rows, the first
    ``header_rows`` of them header cells."""
    return [[Cell(t, header=i < header_rows, blocks=[Block(t)] if t else []) for t in row]
            for i, row in enumerate(rows)]


def grid(rows: Sequence[Sequence[Cell]]) -> list[list[Cell]]:
    """The rows with ``colspan`` and ``rowspan`` expanded: a spanning cell is repeated in
    every column and row it covers (so each column lines up with its header).

    >>> g = grid([[Cell("Day", True), Cell("Class", True, colspan=2)],
    ...           [Cell("Mon", rowspan=2), Cell("07:00"), Cell("Spin")], [Cell("18:30"),
    ...            Cell("Yoga")]])
    >>> [[c.text for c in r] for r in g]
    [['Day', 'Class', 'Class'], ['Mon', '07:00', 'Spin'], ['Mon', '18:30', 'Yoga']]
    """
    out: list[list[Cell]] = []
    below: dict[int, tuple[Cell, int]] = {}  # column -> (cell, rows it still covers)
    for row in rows:
        line: list[Cell] = []
        for cell in row:
            _carry(line, below)
            for _ in range(max(1, min(MAX_SPAN, cell.colspan))):
                if min(MAX_SPAN, cell.rowspan) > 1:
                    below[len(line)] = (cell, min(MAX_SPAN, cell.rowspan) - 1)
                line.append(cell)
        _carry(line, below)
        for col in [c for c in below if c >= len(line)]:  # spans past this row's end
            cell, left = below.pop(col)
            if left > 1:
                below[col] = (cell, left - 1)
        out.append(line)
    return out


def _carry(line: list[Cell], below: dict[int, tuple[Cell, int]]) -> None:
    """Fill ``line``'s next columns with the cells spanning down into them from above."""
    while len(line) in below:
        cell, left = below.pop(len(line))
        line.append(cell)
        if left > 1:
            below[len(line) - 1] = (cell, left - 1)


def is_layout(rows: Sequence[Sequence[Cell]]) -> bool:
    """Whether a table lays out a page rather than holding data: a cell holding a heading
    or more than :data:`LAYOUT_WORDS` words."""
    cells = [c for r in rows for c in r]
    return (any(b.heading for c in cells for b in c.blocks)
            or any(len(c.text.split()) > LAYOUT_WORDS for c in cells))


def table_blocks(rows: Sequence[Sequence[Cell]], caption: str = "") -> list[Block]:
    """The blocks of an HTML table: its caption, then one labelled sentence per body row.

    Leading rows of header cells label the columns (several are joined: "Price / Member");
    a leading header row with one value across the table is a title, and a body row of
    header cells with one value across is a section line; they and the caption become
    headings. A layout table gives its cells' own blocks back, in reading order.

    >>> head = [Cell("Fares 2026", True, colspan=3)]
    >>> cols = [Cell("Ticket", True), Cell("Single", True), Cell("Return", True)]
    >>> for b in table_blocks([head, cols, [Cell("Adult"), Cell("6"), Cell("10")],
    ...                        [Cell("Weekend", True, colspan=3)],
    ...                        [Cell("Adult"), Cell("8", colspan=2)]]):
    ...     print(b.text)
    Fares 2026
    Ticket: Adult; Single: 6; Return: 10
    Weekend
    Ticket: Adult; Single and Return: 8
    """
    # a caption, a title row and a section row name what follows: headings, which start a
    # section (passages are cut there) and are never taken as an answer
    out = [Block(caption, heading=True)] if caption else []
    if is_layout(rows):
        return out + [b for r in rows for c in r for b in c.blocks]
    g = [r for r in grid(rows) if any(c.text for c in r)]
    width = max((len(r) for r in g), default=0)

    def one_value(row: list[Cell]) -> str | None:
        values = {c.text for c in row if c.text}
        return values.pop() if len(values) == 1 and width > 1 else None

    def all_header(row: list[Cell]) -> bool:
        return all(c.header for c in row if c.text)

    labels = [""] * width
    n_head = 0
    while n_head < len(g) - 1 and all_header(g[n_head]):
        row = g[n_head]
        if (title := one_value(row)) is not None and len(row) == width:
            out.append(Block(title, heading=True))
        else:
            for i, c in enumerate(row):
                if c.text and c.text not in labels[i].split(" / "):
                    labels[i] = f"{labels[i]} / {c.text}" if labels[i] else c.text
        n_head += 1
    for row in g[n_head:]:
        section = one_value(row)
        if section is not None and all_header(row) and n_head:
            out.append(Block(section, heading=True))
            continue
        values: list[str] = []
        names: list[str] = []
        for i, c in enumerate(row):  # a cell spanning columns is said once, under all their labels
            if i and row[i - 1] is c:
                if labels[i] and labels[i] not in names[-1].split(" and "):
                    names[-1] = f"{names[-1]} and {labels[i]}" if names[-1] else labels[i]
                continue
            values.append(c.text)
            names.append(labels[i])
        if text := labelled_row(names, values):
            out.append(Block(text, split_sentences=False))
    return out
