"""Table rows as self-contained sentences: each cell carries its column's header.

A row read out of its table ("Friday; 09:30 Pilates; no class") loses what its cells mean;
retrieval, the reader and a user looking at the evidence all need the labels. A table with a
header row therefore gives one sentence per body row, each cell prefixed with its header, and
the header row itself is not a sentence (its labels live on in every row).

    >>> labelled_row(["Day", "Morning", "Evening"], ["Friday", "09:30 Pilates", "no class"])
    'Day: Friday; Morning: 09:30 Pilates; Evening: no class'
    >>> labelled_row(["", "Adult"], ["Single", "7 pounds", "extra"])
    'Single; Adult: 7 pounds; extra'
    >>> table_rows([["Ticket", "Price"], ["Adult", "6 dollars"]], has_header=True)
    ['Ticket: Adult; Price: 6 dollars']
    >>> table_rows([["Adult", "6 dollars"]], has_header=False)
    ['Adult; 6 dollars']
"""

from __future__ import annotations

from collections.abc import Sequence


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


def table_rows(rows: Sequence[Sequence[str]], has_header: bool) -> list[str]:
    """The sentences of a table: with ``has_header``, the first row labels the others;
    without, each row's cells joined by "; ". Rows with no text are dropped."""
    if not rows:
        return []
    header = list(rows[0]) if has_header else []
    body = rows[1:] if has_header else rows
    if has_header and not any(h.strip() for h in header):
        header = []
    out = [labelled_row(header, r) for r in body]
    if has_header and len(rows) == 1:  # a header alone is all the table says
        out = ["; ".join(c.strip() for c in rows[0] if c.strip())]
    return [r for r in out if r]
