"""Zip archives of documents, read in memory behind zip-bomb guards.

At most :data:`~re3g.data.ingest.limits.MAX_ZIP_MEMBERS` members; the declared uncompressed
sizes, the compression ratio (:data:`~re3g.data.ingest.limits.MAX_ZIP_RATIO`) and the bytes
actually inflated are all checked, so a zip bomb is refused before it fills memory. Members are
never extracted to disk; nested archives and encrypted members are refused.

    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as zf:
    ...     zf.writestr("docs/a.md", "# A\\n\\nText.")
    ...     zf.writestr("logo.png", "png")
    >>> read_zip("bundle.zip", buf.getvalue())
    [('docs/a.md', b'# A\\n\\nText.')]
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from re3g.data.ingest import limits
from re3g.data.ingest.limits import (
    DOCUMENT_SUFFIXES,
    ZIP_SUFFIXES,
    mb,
    safe_name,
    suffix_of,
)
from re3g.errors import DataError


def read_zip(name: str, data: bytes) -> list[tuple[str, bytes]]:
    """The supported members of a zip archive as ``(member name, bytes)``, read in memory.

    Refuses: more than ``MAX_ZIP_MEMBERS`` members, unsafe member names, nested archives,
    encrypted members, and any member or total whose declared or actual uncompressed size
    exceeds the limits or whose compression ratio exceeds ``MAX_ZIP_RATIO``.
    Members of other types (images, ...) and folders are skipped.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise DataError(f"{name}: not a valid zip archive ({exc})") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.MAX_ZIP_MEMBERS:
            raise DataError(f"{name}: {len(infos)} members; at most {limits.MAX_ZIP_MEMBERS} "
                            "allowed")
        declared = sum(i.file_size for i in infos)
        if declared > limits.MAX_TOTAL_BYTES:
            raise DataError(
                f"{name}: unpacks to {mb(declared)}, more than the "
                f"{mb(limits.MAX_TOTAL_BYTES)} limit"
            )
        members: list[tuple[str, bytes]] = []
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            member = f"{name}:{info.filename}"
            inner = safe_name(info.filename)
            suffix = suffix_of(inner)
            if suffix in ZIP_SUFFIXES:
                raise DataError(f"{member}: nested zip archives are not accepted")
            if suffix not in DOCUMENT_SUFFIXES or PurePosixPath(inner).name.startswith("."):
                continue
            if info.flag_bits & 0x1:
                raise DataError(f"{member}: encrypted zip members are not accepted")
            _check_zip_member(member, info)
            payload = _inflate(archive, info, member)
            total += len(payload)
            if total > limits.MAX_TOTAL_BYTES:
                raise DataError(f"{name}: unpacks to more than the "
                                f"{mb(limits.MAX_TOTAL_BYTES)} limit")
            members.append((inner, payload))
    if not members:
        kinds = ", ".join(sorted(DOCUMENT_SUFFIXES))
        raise DataError(f"{name}: the archive holds no supported files ({kinds})")
    return members


def _check_zip_member(member: str, info: zipfile.ZipInfo) -> None:
    if info.file_size > limits.MAX_FILE_BYTES:
        raise DataError(
            f"{member}: unpacks to {mb(info.file_size)}, more than the "
            f"{mb(limits.MAX_FILE_BYTES)} limit per file"
        )
    ratio = limits.MAX_ZIP_RATIO
    if info.file_size > 1024 and info.file_size > ratio * max(info.compress_size, 1):
        raise DataError(
            f"{member}: compression ratio {info.file_size / max(info.compress_size, 1):.0f}:1 "
            f"is above {ratio:.0f}:1 (possible zip bomb)"
        )


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, member: str) -> bytes:
    """Read a member, stopping as soon as it inflates past its declared size or the limit."""
    limit = min(info.file_size, limits.MAX_FILE_BYTES)
    out = bytearray()
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(65536):
                out += chunk
                if len(out) > limit:
                    raise DataError(
                        f"{member}: inflates past its declared size (possible zip bomb)"
                    )
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise DataError(f"{member}: cannot unpack ({exc})") from exc
    return bytes(out)
