"""Span vectors stored with an index, so no turn waits for its sentences to be embedded.

The extractor compares the user's turn with every sentence of the passages it reads (the
cosine term of :meth:`re3g.extract.extractor.SpanExtractor.select_ranges`) under the packaged
all-MiniLM-L6-v2 (:func:`re3g.models.base_encoder`). ``re3g index`` embeds every document span
once, at build time, into the index folder::

    spans/vectors.npy   float32, one row per span
    spans/keys.json     the encoder, its token limit and the rows' content keys (document id,
                        span id and text, hashed)

and the pipeline loads them into the extractor's vector cache when it starts. Keys cover the
span's text, so a vector is only used for exactly the text it was computed from.

    >>> import tempfile
    >>> from re3g.types import Document, Span
    >>> doc = Document("d", "Fees", "A day pass costs 8 dollars.",
    ...                spans=[Span("1", 0, 27, "A day pass costs 8 dollars.")])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     built = build_span_vectors([doc], Path(folder), progress=False)
    ...     keys, vectors = load_span_vectors(folder)
    >>> built["count"], len(keys), vectors.shape
    (1, 1, (1, 384))
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from re3g import models
from re3g.data.passages import span_text
from re3g.types import Document

SPANS_DIR = "spans"
CHUNK = 256  # spans per encoder call (a stop check between chunks)


def span_key(doc_id: str, span_id: str, text: str) -> str:
    """The vector-cache key of one span: its document, id and embedded text (:func:`span_text`);
    the one key the index's stored vectors, the extractor and the trainer all use."""
    return models.content_key(doc_id, span_id, span_text(text))


def span_entries(documents: Sequence[Document]) -> tuple[list[str], list[str]]:
    """(content keys, texts) of every non-empty span of ``documents``, as the extractor keys
    them (:meth:`re3g.extract.extractor.SpanExtractor.span_vectors`)."""
    keys, texts = [], []
    for d in documents:
        for s in d.spans:
            text = span_text(s.text)
            if text:
                keys.append(span_key(d.doc_id, s.id, text))
                texts.append(text)
    return keys, texts


def build_span_vectors(documents: Sequence[Document], index_dir: Path, progress: bool = True,
                       check: Callable[[], None] | None = None) -> dict[str, Any]:
    """Embed every span of ``documents`` into ``index_dir/spans`` (a build folder: the index
    build moves it into place with the rest); returns what the manifest records."""
    from tqdm.auto import tqdm

    keys, texts = span_entries(documents)
    enc = models.base_encoder(models.SPAN_MAX_TOKENS)
    parts: list[np.ndarray] = []
    with tqdm(total=len(texts), desc="Span vectors", unit="span", disable=not progress) as bar:
        for start in range(0, len(texts), CHUNK):
            if check is not None:
                check()
            chunk = texts[start:start + CHUNK]
            parts.append(np.asarray(enc.encode(chunk), dtype=np.float32))
            bar.update(len(chunk))
    vectors = np.concatenate(parts) if parts else np.zeros((0, 384), dtype=np.float32)
    out = index_dir / SPANS_DIR
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "vectors.npy", vectors)
    made = {"model": models.BASE_MODEL, "max_tokens": models.SPAN_MAX_TOKENS}
    (out / "keys.json").write_text(json.dumps({**made, "keys": keys}))
    return {**made, "count": len(keys)}


def load_span_vectors(index_dir: str | Path) -> tuple[list[str], np.ndarray] | None:
    """The stored (keys, vectors) of an index, or None when it has none or they do not fit
    (built before span vectors were stored, with another encoder or token limit, or damaged):
    the extractor then embeds spans on first use."""
    folder = Path(index_dir) / SPANS_DIR
    try:
        stored = json.loads((folder / "keys.json").read_text())
        vectors = np.load(folder / "vectors.npy", allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if (not isinstance(stored, dict) or stored.get("model") != models.BASE_MODEL
            or stored.get("max_tokens") != models.SPAN_MAX_TOKENS):
        return None
    keys = stored.get("keys")
    if (not isinstance(keys, list) or vectors.ndim != 2 or len(keys) != len(vectors)
            or vectors.shape[1] != 384):
        return None
    return keys, vectors
