"""PDF files (.pdf): the text layer, read with the optional ``pypdf`` package.

    >>> pdf_blocks("x.pdf", b"hello")
    Traceback (most recent call last):
    ...
    re3g.errors.DataError: x.pdf: not a PDF file (no %PDF header)
"""

from __future__ import annotations

import io
import re

from re3g.data.ingest import limits
from re3g.data.ingest.document import Block
from re3g.data.ingest.text import text_blocks
from re3g.errors import DataError


def pdf_supported() -> bool:
    """True when the optional PDF parser (pypdf) is installed."""
    try:
        import pypdf  # noqa: F401
    except ImportError:
        return False
    return True


def pdf_blocks(name: str, data: bytes) -> tuple[str, list[Block]]:
    """The title (from metadata) and the paragraphs of a PDF's text layer."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError as exc:  # pragma: no cover - checked by check_suffix
        raise DataError(f"{name}: PDF support needs the 'pypdf' package") from exc
    if not data.startswith(b"%PDF"):
        raise DataError(f"{name}: not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DataError(f"{name}: the PDF is encrypted")
        if len(reader.pages) > limits.MAX_PDF_PAGES:
            raise DataError(f"{name}: {len(reader.pages)} pages; at most "
                            f"{limits.MAX_PDF_PAGES} allowed")
        title = ""
        if reader.metadata and reader.metadata.title:
            title = str(reader.metadata.title).strip()
        pages = [page.extract_text() or "" for page in reader.pages]
    except DataError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DataError(f"{name}: cannot read the PDF ({exc})") from exc
    blocks: list[Block] = []
    for page in pages:
        page = re.sub(r"-\n(?=[a-z])", "", page)
        blocks.extend(text_blocks(page))
    return title, blocks
