"""The dense fallback extractor: without a trained extractor, the spans of the best passage
ranked by cosine similarity to the query under the dense encoder the retriever already loaded
(all-MiniLM-L6-v2 by default). Score = cosine, clipped to [0, 1]. When the documents behind
the index are unknown, the whole best passage is the evidence, scored the same way.

    >>> from re3g.extract.fallback import DenseFallback
    >>> fb = DenseFallback(encoder, documents, top_n=3)        # doctest: +SKIP
    >>> fb.extract("can I get a refund?", hits)[0].text         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from re3g.config import Config
from re3g.types import Document, Evidence, Hit


class DenseFallback:
    """Spans of the top passage ranked by the dense encoder's cosine to the query.

    ``encoder`` is a sentence-transformers model (what :func:`re3g.retrieve.dense.encode`
    takes); span vectors are cached by document offsets.
    """

    kind = "dense-fallback"

    def __init__(self, encoder: Any, documents: dict[str, Document] | None,
                 top_n: int = Config.top_n, max_cached: int = 50_000) -> None:
        self.encoder = encoder
        self.documents = documents
        self.top_n = top_n
        self.max_cached = max_cached
        self._span_vecs: dict[tuple[str, int, int], Any] = {}

    def candidates(self, hits: Sequence[Hit]) -> list[Evidence]:
        """The evidence candidates of the best hit: its non-heading document spans, else the
        whole passage."""
        p = hits[0].passage
        doc = self.documents.get(p.doc_id) if self.documents else None
        cands: list[Evidence] = []
        if doc is not None:
            wanted = set(p.span_ids)
            spans = [s for s in doc.spans if s.id in wanted and s.text.strip()]
            body = [s for s in spans if not s.is_heading] or spans
            cands = [Evidence(doc.doc_id, doc.title, s.text, s.start, s.end, [s.id],
                              passage_id=p.pid, section=p.section) for s in body]
        return cands or [Evidence(p.doc_id, p.title, p.text, p.start, p.end, list(p.span_ids),
                                  passage_id=p.pid, section=p.section)]

    def extract(self, query: str, hits: Sequence[Hit]) -> list[Evidence]:
        """Up to ``top_n`` evidence spans of the best hit, most similar first."""
        import numpy as np

        from re3g.retrieve.dense import encode

        if not hits:
            return []
        cands = self.candidates(hits)
        qv = encode(self.encoder, [query])[0]
        keys = [(c.doc_id, c.start, c.end) for c in cands]
        missing = [i for i, key in enumerate(keys) if key not in self._span_vecs]
        if missing:
            vecs = encode(self.encoder, [" ".join(cands[i].text.split()) for i in missing])
            if len(self._span_vecs) > self.max_cached:
                self._span_vecs.clear()
            for i, v in zip(missing, vecs, strict=True):
                self._span_vecs[keys[i]] = v
        sims = np.stack([self._span_vecs[key] for key in keys]) @ qv
        order = sorted(range(len(cands)), key=lambda i: -float(sims[i]))[: self.top_n]
        out = []
        for i in order:
            c = cands[i]
            c.score = float(min(1.0, max(0.0, sims[i])))
            out.append(c)
        return out

    def passage_confidence(self, query: str, hits: Sequence[Hit]) -> float:
        """Cosine of the query and the top passage, clipped to [0, 1]."""
        from re3g.data.passages import passage_contents
        from re3g.retrieve.dense import encode

        if not hits:
            return 0.0
        vecs = encode(self.encoder, [query, passage_contents(hits[0].passage)])
        return float(min(1.0, max(0.0, vecs[0] @ vecs[1])))
