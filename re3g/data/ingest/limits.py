"""Limits, file names and text decoding shared by every format of :mod:`re3g.data.ingest`, and
the chat server's limits on what one upload may cost (passages, build time, upload cache).

The limits are read at call time (``limits.MAX_FILE_BYTES``), so a caller or a test may lower
them for one run::

    >>> from re3g.data.ingest import limits
    >>> limits.mb(limits.MAX_FILE_BYTES), limits.mb(limits.MAX_TOTAL_BYTES)
    ('5.0 MB', '20.0 MB')
    >>> limits.MAX_PASSAGES, limits.MAX_BUILD_SECONDS, limits.mb(limits.MAX_CLIENT_CACHE_BYTES)
    (5000, 300, '40.0 MB')
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from re3g.errors import DataError

MAX_FILE_BYTES = 5 * 1024 * 1024
"""Largest single file (or single zip member, uncompressed) accepted: 5 MiB."""
MAX_TOTAL_BYTES = 20 * 1024 * 1024
"""Largest total of all files of one call (zip members counted uncompressed): 20 MiB."""
MAX_FILES = 200
"""Most documents one call may produce (zip members included)."""
MAX_ZIP_MEMBERS = 200
MAX_ZIP_RATIO = 100.0
"""Largest uncompressed/compressed size ratio accepted for a zip member (zip bomb guard)."""
MAX_PDF_PAGES = 500

# What one upload may cost the chat server (re3g_app): the index build and the upload cache.
MAX_PASSAGES = 5_000
"""Most passages one upload may be split into (about 400,000 words of ordinary prose): a
file of many tiny sections is refused before its index is built, with its name and this
limit. Build times at this size are in docs/app.md (bench/build_memory.py)."""
MAX_BUILD_SECONDS = 300
"""Longest an upload's index build may run before it is stopped (the previous index stays)."""
MAX_CLIENT_CACHE_BYTES = 2 * MAX_TOTAL_BYTES
"""Bytes one client (one address) may hold in the server's upload cache at a time."""
MAX_CACHE_BYTES = 512 * 1024 * 1024
"""Bytes all clients together may hold in the server's upload cache."""

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
ZIP_SUFFIXES = {".zip"}
DOCUMENT_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
SUPPORTED_SUFFIXES = DOCUMENT_SUFFIXES | ZIP_SUFFIXES


def safe_name(name: str) -> str:
    """Check a user-supplied file name and return it in a normal form (``/`` separated).

    Refuses empty names, absolute paths, drive letters, ``..`` parts and control characters.

    >>> safe_name("notes/guide.md")
    'notes/guide.md'
    >>> safe_name("../../x")
    Traceback (most recent call last):
    ...
    re3g.errors.DataError: '../../x': unsafe file name (parent-directory parts are not allowed)
    """
    if not isinstance(name, str) or not name.strip():
        raise DataError("a file has an empty name")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise DataError(f"{name!r}: unsafe file name (control characters)")
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        raise DataError(f"{name!r}: unsafe file name (absolute paths are not allowed)")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise DataError(f"{name!r}: unsafe file name (parent-directory parts are not allowed)")
    if not parts:
        raise DataError(f"{name!r}: not a file name")
    if len(norm) > 255:
        raise DataError(f"{name[:40]!r}...: file name longer than 255 characters")
    return "/".join(parts)


def suffix_of(name: str) -> str:
    """The lower-case suffix of a ``/``-separated file name.

    >>> suffix_of("docs/Guide.MD")
    '.md'
    """
    return PurePosixPath(name).suffix.lower()


def mb(n: int) -> str:
    """A byte count in MB, for messages."""
    return f"{n / (1024 * 1024):.1f} MB"


def decode_text(name: str, data: bytes) -> str:
    """Decode bytes as UTF-8 text; refuse empty and binary content with a clear message.

    >>> decode_text("a.txt", "Café\\r\\nbar".encode())
    'Café\\nbar'
    """
    if not data.strip():
        raise DataError(f"{name}: file is empty")
    if b"\x00" in data[:65536]:
        raise DataError(f"{name}: looks like a binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise DataError(
                f"{name}: not a text file (invalid UTF-8 at byte {exc.start})"
            ) from exc
        if _control_ratio(text) > 0.01:
            raise DataError(f"{name}: not a text file (invalid UTF-8 at byte {exc.start})") from exc
    if _control_ratio(text) > 0.01:
        raise DataError(f"{name}: looks like a binary file (control characters), not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _control_ratio(text: str) -> float:
    sample = text[:65536]
    if not sample:
        return 0.0
    bad = sum(1 for c in sample if unicodedata.category(c) == "Cc" and c not in "\n\r\t\f")
    return bad / len(sample)
