"""Read a user's own files (.txt, .md, .html, .pdf, or a .zip of them) into Documents.

Each document gets doc2dial-like spans so the rest of the system treats it like DialDoc data:
one span per sentence (list items and table rows are sentences too), and one span per heading
whose text starts with a blank line (``"\\n\\nHeading\\n"``), which is how doc2dial marks section
titles and what :func:`re3g.data.passages.split_document` uses to cut passages at sections.

Everything a user sends is checked before it is parsed, and each problem raises a
:class:`~re3g.errors.DataError` whose message names the file:

- names: no absolute paths, no ``..`` parts, no control characters (``../../x`` is refused);
- size: at most :data:`MAX_FILE_BYTES` per file and :data:`MAX_TOTAL_BYTES` per call;
- content: empty files, files with no text, and binary files (NUL bytes, not UTF-8) are refused;
- zip archives: at most :data:`MAX_ZIP_MEMBERS` members; the declared uncompressed sizes, the
  compression ratio (:data:`MAX_ZIP_RATIO`) and the bytes actually inflated are all checked, so
  a zip bomb is refused before it fills memory. Members are read in memory, never extracted to
  disk; nested archives are refused.

One module per job: :mod:`~re3g.data.ingest.limits` (limits, names, decoding),
:mod:`~re3g.data.ingest.text`, :mod:`~re3g.data.ingest.markdown`,
:mod:`~re3g.data.ingest.html` and :mod:`~re3g.data.ingest.pdf` (one parser per format, each
giving :class:`Block` objects), :mod:`~re3g.data.ingest.document` (blocks -> Document, and the
doc2dial output), :mod:`~re3g.data.ingest.archive` (the zip guards) and
:mod:`~re3g.data.ingest.load` (the entry points below). Limits are read at call time from
:mod:`~re3g.data.ingest.limits`; set them there to change them.

Example::

    from re3g.data.ingest import load_files
    docs = load_files(["notes.md", "faq.html"])
    print(docs[0].title, len(docs[0].spans))
"""

from __future__ import annotations

from re3g.data.ingest.archive import read_zip
from re3g.data.ingest.document import (
    Block,
    document_from_blocks,
    make_doc_id,
    split_sentences,
    to_doc2dial,
    write_doc2dial,
)
from re3g.data.ingest.html import html_blocks
from re3g.data.ingest.limits import (
    DOCUMENT_SUFFIXES,
    HTML_SUFFIXES,
    MARKDOWN_SUFFIXES,
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_PDF_PAGES,
    MAX_TOTAL_BYTES,
    MAX_ZIP_MEMBERS,
    MAX_ZIP_RATIO,
    PDF_SUFFIXES,
    SUPPORTED_SUFFIXES,
    TEXT_SUFFIXES,
    ZIP_SUFFIXES,
    decode_text,
    safe_name,
)
from re3g.data.ingest.load import (
    check_suffix,
    ingest_path,
    load_bytes,
    load_directory,
    load_files,
    parse_bytes,
    read_limited,
)
from re3g.data.ingest.markdown import markdown_blocks
from re3g.data.ingest.pdf import pdf_blocks, pdf_supported
from re3g.data.ingest.text import text_blocks

__all__ = [
    "DOCUMENT_SUFFIXES", "HTML_SUFFIXES", "MARKDOWN_SUFFIXES", "MAX_FILES", "MAX_FILE_BYTES",
    "MAX_PDF_PAGES", "MAX_TOTAL_BYTES", "MAX_ZIP_MEMBERS", "MAX_ZIP_RATIO", "PDF_SUFFIXES",
    "SUPPORTED_SUFFIXES", "TEXT_SUFFIXES", "ZIP_SUFFIXES", "Block", "check_suffix",
    "decode_text", "document_from_blocks", "html_blocks", "ingest_path", "load_bytes",
    "load_directory", "load_files", "make_doc_id", "markdown_blocks", "parse_bytes",
    "pdf_blocks", "pdf_supported", "read_limited", "read_zip", "safe_name", "split_sentences",
    "text_blocks", "to_doc2dial", "write_doc2dial",
]
