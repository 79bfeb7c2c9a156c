"""Markdown files (.md, .markdown): headings, paragraphs, list items, table rows, code blocks.

    >>> [(b.text, b.heading) for b in markdown_blocks("# Fees\\n\\n- Pay **online**.")]
    [('Fees', True), ('Pay online.', False)]
    >>> [b.text for b in markdown_blocks("| Day | Class |\\n|---|---|\\n| Monday | Spin |")]
    ['Day: Monday; Class: Spin']

A line that starts a block and is bold and nothing else (``**Can I use it offline?**``, the
usual way FAQ pages set their questions) is a heading: the question is the section its answer
sits under, not a sentence to quote as the answer. A bold statement ("**No refunds.**") stays
text.

    >>> [(b.text, b.heading) for b in markdown_blocks("**Offline?**\\nYes. Notes stay.")]
    [('Offline?', True), ('Yes. Notes stay.', False)]
"""

from __future__ import annotations

import html
import re

from re3g.data.ingest.document import Block
from re3g.data.ingest.table import table_blocks, text_cells
from re3g.data.ingest.text import SETEXT_RULE

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_RULE = re.compile(r"^(\*\s*){3,}$|^(-\s*){3,}$|^(_\s*){3,}$")
_MD_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_MD_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_MD_BOLD_LINE = re.compile(r"^(\*\*|__)(?=\S)((?:(?!\1).)+?)(?<=\S)\1$")


def _clean_inline_md(text: str) -> str:
    text = _MD_LINK.sub(r"\1", text)
    for _ in range(2):
        text = _MD_EMPHASIS.sub(r"\2", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


def _bold_label(line: str, following: str) -> str:
    """The text of ``line`` when it is bold and nothing else and reads as a label (an FAQ
    question, "Opening hours"), else "". A bold sentence ending in "." or "!" is a statement
    set in bold (an answer to keep), and a line underlined by a Setext rule is that heading.

    >>> _bold_label("**Can I pay by card?**", ""), _bold_label("**No, we do not.**", "")
    ('Can I pay by card?', '')
    >>> _bold_label("**Title**", "=====")
    ''
    """
    m = _MD_BOLD_LINE.match(line)
    if m is None or SETEXT_RULE.match(following.strip()):
        return ""
    text = _clean_inline_md(m.group(2))
    return "" if text.endswith((".", "!")) else text


def _table_cells(line: str) -> list[str]:
    """The cells of a Markdown table line (outer pipes optional, ``\\|`` kept in a cell)."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def markdown_blocks(text: str) -> list[Block]:
    """Headings, paragraphs, list items, table rows and code blocks of a Markdown text."""
    blocks: list[Block] = []
    para: list[str] = []
    lines = text.split("\n")

    def flush() -> None:
        if para:
            joined = _clean_inline_md(" ".join(s.strip() for s in para))
            if joined:
                blocks.append(Block(joined))
            para.clear()

    i = 0
    if lines and lines[0].strip() == "---":  # YAML front matter
        end = next((j for j in range(1, len(lines)) if lines[j].strip() == "---"), None)
        if end is not None:
            i = end + 1
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if _MD_FENCE.match(line):
            flush()
            fence = _MD_FENCE.match(line).group(1)  # type: ignore[union-attr]
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                code.append(lines[i])
                i += 1
            if any(c.strip() for c in code):
                blocks.append(Block("\n".join(code).strip("\n"), split_sentences=False))
        elif m := _MD_HEADING.match(stripped):
            flush()
            if title := _clean_inline_md(m.group(2)):
                blocks.append(Block(title, heading=True))
        elif para and len(para) == 1 and SETEXT_RULE.match(stripped):
            title = _clean_inline_md(para.pop())
            if title:
                blocks.append(Block(title, heading=True))
        elif not stripped or _MD_RULE.match(stripped):
            flush()
        elif m := _MD_LIST.match(line):
            flush()
            if item := _clean_inline_md(m.group(1)):
                blocks.append(Block(item))
        elif stripped.startswith("|"):
            flush()
            rows: list[list[str]] = []
            has_header = False
            while i < len(lines) and lines[i].strip().startswith("|"):
                row_line = lines[i].strip()
                if _MD_TABLE_RULE.match(row_line):
                    has_header = has_header or len(rows) == 1
                else:
                    rows.append([_clean_inline_md(c) for c in _table_cells(row_line)])
                i += 1
            blocks += table_blocks(text_cells(rows, 1 if has_header else 0))
            continue
        elif stripped.startswith(">"):
            para.append(stripped.lstrip("> "))
        elif not para and not line[:1].isspace() and (
                title := _bold_label(stripped, lines[i + 1] if i + 1 < len(lines) else "")):
            blocks.append(Block(title, heading=True))  # an FAQ question, a label
        else:
            para.append(line)
        i += 1
    flush()
    return blocks
