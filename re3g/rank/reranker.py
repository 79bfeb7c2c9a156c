"""Second-stage reranking of retrieved passages.

Two kinds of reranker behind one interface:

- the project's trained reranker (``models/reranker``, made by ``re3g train reranker``): a query
  tower fine-tuned from the packaged all-MiniLM-L6-v2 so that its embedding of the dialogue query
  is close to the frozen base-model embedding of the passage that grounds the next agent turn.
  Passage vectors are the dense index's own vectors (``prime``), or computed once and cached.
- any sentence-transformers cross-encoder (a hub name such as
  ``cross-encoder/ms-marco-MiniLM-L6-v2`` or a local folder), for users with a model hub.

    >>> from re3g.rerank import Reranker
    >>> rr = Reranker.load()                      # doctest: +SKIP  (models/reranker)
    >>> best = rr.rerank("how do I renew my licence?", hits, k=5)  # doctest: +SKIP
    >>> best[0].rank, best[0].passage.doc_id      # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from re3g.data.passages import passage_contents
from re3g.errors import ModelError
from re3g.types import Hit, Passage, Turn

TRAIN_CMD = "re3g train reranker --profile full"
PASSAGE_MAX_TOKENS = 256


def project_models_dir() -> Path:
    """The ``models/`` folder of the project checkout (beside the ``re3g`` package)."""
    return Path(__file__).resolve().parent.parent / "models"


def default_path(kind: str) -> Path:
    return project_models_dir() / kind


@lru_cache(maxsize=2)
def base_encoder(max_length: int = PASSAGE_MAX_TOKENS, quantized: bool = False) -> Any:
    """The frozen packaged all-MiniLM-L6-v2 (target side), loaded once per process."""
    from re3g.train.common import Encoder, base_model_path, quantize

    enc = Encoder.load(base_model_path(), max_length=max_length)
    if quantized and str(next(enc.model.parameters()).device) == "cpu":
        enc.model = quantize(enc.model)
    return enc


def _key(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()


class VectorCache:
    """Target vectors (passages or spans) by content key, computed on demand with the base model."""

    def __init__(self, max_items: int = 200_000) -> None:
        self._vecs: dict[str, Any] = {}
        self.max_items = max_items

    def __len__(self) -> int:
        return len(self._vecs)

    def put(self, keys: Sequence[str], vecs: Any) -> None:
        if len(self._vecs) + len(keys) > self.max_items:
            self._vecs.clear()
        for k, v in zip(keys, vecs, strict=True):
            self._vecs[k] = v

    def get(self, keys: Sequence[str], texts: Sequence[str], encoder: Any) -> Any:
        import torch

        missing = [i for i, k in enumerate(keys) if k not in self._vecs]
        if missing:
            vecs = encoder.encode([texts[i] for i in missing])
            self.put([keys[i] for i in missing], vecs)
        return torch.stack([self._vecs[k] for k in keys]) if keys else torch.zeros(0, 384)


class CrossScorer:
    """The project's trained cross-encoder (``re3g train reranker``): one relevance logit per
    (query, passage) pair, with the same ``predict`` call as a sentence-transformers CrossEncoder.

    >>> scorer = CrossScorer.load(Path("models/reranker"))          # doctest: +SKIP
    >>> scorer.predict([("renew online?", "You can renew online if ...")])  # doctest: +SKIP
    [3.2]
    """

    def __init__(self, model: Any, tokenizer: Any, max_length: int = 256,
                 max_query_tokens: int = 64, batch_size: int = 32) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.max_query_tokens = max_query_tokens
        self.batch_size = batch_size

    @classmethod
    def load(cls, path: Path, manifest: dict[str, Any], quantized: bool) -> CrossScorer:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from re3g.train.common import device, quantize

        try:
            tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(str(path),
                                                                       local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - damaged or partial folders vary
            raise ModelError(f"cannot load the cross-encoder in {path} ({exc}); retrain it "
                             f"with `{TRAIN_CMD}`") from exc
        model = model.float().to(device()).eval()
        if quantized and device() == "cpu":
            model = quantize(model)
        st = manifest.get("settings", {})
        return cls(model, tok, int(st.get("max_length", 256)),
                   int(st.get("max_query_tokens", 64)))

    def predict(self, pairs: Sequence[tuple[str, str]], show_progress_bar: bool = False
                ) -> list[float]:
        import torch

        from re3g.qa import truncate_question

        out: list[float] = []
        dev = next(self.model.parameters()).device
        cut: dict[str, str] = {}
        for i in range(0, len(pairs), self.batch_size):
            chunk = pairs[i:i + self.batch_size]
            qs = [cut.setdefault(q, truncate_question(self.tokenizer, q, self.max_query_tokens))
                  for q, _ in chunk]
            enc = self.tokenizer(qs, [p for _, p in chunk], truncation="only_second",
                                 max_length=self.max_length, padding=True, return_tensors="pt")
            with torch.inference_mode():
                logits = self.model(**{k: v.to(dev) for k, v in enc.items()}).logits
            out += [float(x) for x in logits[:, 0]]
        return out


def passage_key(p: Passage) -> str:
    return _key(p.pid, passage_contents(p))


class Reranker:
    """Reorders hits by relevance to the dialogue query; ``rerank`` returns new renumbered hits.

    >>> rr = Reranker.load()  # doctest: +SKIP
    >>> [h.rank for h in rr.rerank("renew registration", hits)]  # doctest: +SKIP
    [1, 2, 3]
    """

    def __init__(self, kind: str, model: Any, manifest: dict[str, Any] | None = None,
                 path: str = "", quantized: bool = False) -> None:
        self.kind = kind
        self.model = model
        self.manifest = manifest or {}
        self.path = path
        self.quantized = quantized
        self.cache = VectorCache()
        settings = self.manifest.get("settings", {})
        self.scale = float(settings.get("scale", 20.0))
        self.first_stage_weight = float(settings.get("first_stage_weight", 0.0))
        self.query_roles = str(settings.get("query_roles", "user"))

    def question(self, history: Sequence[Turn] | None) -> str | None:
        """The query a cross-encoder trained on other turns than the user's (its manifest's
        ``query_roles``, e.g. ``all``) reads, built from ``history``; None when it reads the
        pipeline's dialogue query (user-only models, towers, no history)."""
        if not history or self.kind != "cross-encoder" or self.query_roles == "user":
            return None
        from re3g.data.query import build_query

        return build_query(history, roles=self.query_roles)

    # -- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, path_or_name: str | Path | None = None, quantize: bool | None = None
             ) -> Reranker:
        """Load the project's reranker (None: ``models/reranker``), a trained folder, or a
        sentence-transformers cross-encoder by folder or hub name. ``quantize`` (default: on CPU)
        applies dynamic int8 quantisation to the query tower."""
        from re3g.train.common import device, read_model_manifest

        q = (device() == "cpu") if quantize is None else quantize
        path = default_path("reranker") if path_or_name is None else Path(path_or_name)
        if path_or_name is None or (path / "manifest.json").is_file():
            manifest = read_model_manifest(path, "reranker", TRAIN_CMD)
            if manifest.get("architecture") == "cross-encoder":
                return cls("cross-encoder", CrossScorer.load(path, manifest, q), manifest,
                           str(path), q)
            return cls._load_tower(path, manifest, q)
        if path.exists():
            return cls._load_cross_encoder(str(path), local=True)
        if str(path_or_name).startswith((".", "/")) or str(path_or_name).count("/") > 1:
            raise ModelError(f"no reranker at {path_or_name}: train one with `{TRAIN_CMD}`")
        return cls._load_cross_encoder(str(path_or_name), local=False)

    @classmethod
    def _load_tower(cls, path: Path, manifest: dict[str, Any], quantized: bool) -> Reranker:
        from re3g.train.common import Encoder, quantize

        settings = manifest.get("settings", {})
        enc = Encoder.load(path, max_length=int(settings.get("max_query_tokens", 64)))
        if quantized and str(next(enc.model.parameters()).device) == "cpu":
            enc.model = quantize(enc.model)
        return cls("tower", enc, manifest, str(path), quantized)

    @classmethod
    def _load_cross_encoder(cls, name: str, local: bool) -> Reranker:
        if local:
            cfg = Path(name) / "config.json"
            try:
                archs = json.loads(cfg.read_text()).get("architectures") or []
            except (OSError, json.JSONDecodeError) as exc:
                raise ModelError(
                    f"{name} is neither a re3g reranker (no manifest.json) nor a cross-encoder "
                    f"(no readable config.json); train one with `{TRAIN_CMD}`"
                ) from exc
            if not any("SequenceClassification" in a for a in archs):
                raise ModelError(
                    f"{name} holds a {archs or 'plain'} model without manifest.json: it is not a "
                    f"re3g reranker or a cross-encoder; train one with `{TRAIN_CMD}`"
                )
        try:
            from sentence_transformers import CrossEncoder

            from re3g.train.common import device

            model = CrossEncoder(name, device=device(), local_files_only=local)
        except Exception as exc:  # noqa: BLE001 - hub / file errors vary
            raise ModelError(
                f"cannot load cross-encoder {name!r} ({exc}); without a model hub use the "
                f"project's reranker (`{TRAIN_CMD}`)"
            ) from exc
        return cls("cross-encoder", model, {"kind": "reranker", "base_model": name}, name)

    # -- target vectors ------------------------------------------------------------------------
    def prime(self, passages: Sequence[Passage], vectors: Any) -> None:
        """Seed the passage-vector cache, e.g. with a dense index's own vectors (same base)."""
        import torch

        vecs = torch.as_tensor(vectors, dtype=torch.float32)
        self.cache.put([passage_key(p) for p in passages], vecs)

    def prime_from_index(self, index_dir: str | Path, passages: Sequence[Passage]) -> bool:
        """Seed the cache from ``index_dir/dense/faiss.index`` when it was built with the packaged
        base model; returns False (and does nothing) otherwise."""
        if self.kind != "tower":
            return False
        root = Path(index_dir)
        try:
            manifest = json.loads((root / "manifest.json").read_text())
        except (OSError, json.JSONDecodeError):
            return False
        from re3g.train.common import BASE_MODEL

        if manifest.get("dense", {}).get("model") != BASE_MODEL:
            return False
        fpath = root / "dense" / "faiss.index"
        if not fpath.is_file():
            return False
        import faiss

        index = faiss.read_index(str(fpath))
        if index.ntotal != len(passages):
            return False
        self.prime(passages, index.reconstruct_n(0, index.ntotal))
        return True

    def passage_vectors(self, passages: Sequence[Passage]) -> Any:
        enc = base_encoder(PASSAGE_MAX_TOKENS)  # fp32: the same vectors as the index
        return self.cache.get([passage_key(p) for p in passages],
                              [passage_contents(p) for p in passages], enc)

    # -- scoring -------------------------------------------------------------------------------
    def score(self, query: str, passages: Sequence[Passage]) -> list[float]:
        """Relevance scores of ``passages`` for ``query`` (higher is better)."""
        if not passages:
            return []
        if self.kind == "cross-encoder":
            pairs = [(query, passage_contents(p)) for p in passages]
            return [float(s) for s in self.model.predict(pairs, show_progress_bar=False)]
        import torch

        with torch.inference_mode():
            q = self.model.encode([query])[0]
        vecs = self.passage_vectors(passages)
        return [float(s) for s in (vecs @ q)]

    def relevance(self, score: float) -> float:
        """A reranked score as a relevance in [0, 1]: the project's cross-encoder gives logits
        (sigmoid), the tower a cosine, sentence-transformers cross-encoders already [0, 1]."""
        import math

        if self.kind == "cross-encoder" and isinstance(self.model, CrossScorer):
            return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))
        return min(1.0, max(0.0, score))

    def rerank(self, query: str, hits: Sequence[Hit], k: int | None = None) -> list[Hit]:
        """Hits reordered by the reranker's score (scores replaced, ranks 1..k renumbered)."""
        from re3g.retrieve.base import check_query

        query = check_query(query)
        if k is not None and k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        hits = list(hits)
        scores = self.score(query, [h.passage for h in hits])
        if self.first_stage_weight:
            scores = [s + self.first_stage_weight / (60 + (h.rank or i + 1))
                      for i, (s, h) in enumerate(zip(scores, hits, strict=True))]
        order = sorted(range(len(hits)), key=lambda i: -scores[i])
        if k is not None:
            order = order[:k]
        return [replace(hits[i], score=scores[i], rank=r, source="rerank")
                for r, i in enumerate(order, start=1)]


def rerank_dialogue(reranker: Any, query: str, current: str | None, hits: Sequence[Hit],
                    current_weight: float = 0.3, k: int | None = None) -> list[Hit]:
    """Rerank with a mix of two scores: the dialogue query and the current user turn alone.

    score = (1 - w) * s(query) + w * s(current). The current turn's own score keeps a change of
    topic from being pulled back to the passage the conversation was on; on doc2dial validation
    w = 0.3 lifts reranked R@1 / R@5 from 43.5 / 76.0 to 45.9 / 78.6 (docs/knowledge_selection.md).

    >>> rerank_dialogue(reranker, "fees? || how to apply", "fees?", hits)  # doctest: +SKIP
    """
    if not 0.0 <= current_weight <= 1.0:
        raise ValueError(f"current_weight must be in [0, 1], got {current_weight}")
    first = reranker.rerank(query, list(hits))
    if not current or current_weight == 0.0 or current.strip() == query.strip():
        return first[:k] if k else first
    second = {h.passage.pid: h.score for h in reranker.rerank(current, list(hits))}
    mixed = sorted(first, key=lambda h: -((1 - current_weight) * h.score
                                          + current_weight * second.get(h.passage.pid, 0.0)))
    out = [Hit(h.passage, (1 - current_weight) * h.score
               + current_weight * second.get(h.passage.pid, 0.0), i, "rerank")
           for i, h in enumerate(mixed, start=1)]
    return out[:k] if k else out


def dialogue_pool(query_hits: Sequence[Hit], current_hits: Sequence[Hit], k: int,
                  current_weight: float = 0.5) -> list[Hit]:
    """First-stage candidates for a dialogue turn: RRF of the dialogue query's hits and the
    current turn's hits (weight ``current_weight``), cut to ``k``."""
    from re3g.retrieve.fusion import rrf

    if not current_hits or current_weight == 0.0:
        return list(query_hits)[:k]
    return rrf([list(query_hits), list(current_hits)], k=30, weights=(1.0, current_weight), top=k)


def cascade(cross: Any, query: str, hits: Sequence[Hit], depth: int, weight: float
            ) -> list[Hit]:
    """Second reranking step: a cross-encoder rescores the top ``depth`` of ranked ``hits``.

    Each of those passages scores ``hit.score + weight * logit`` and they are reordered by it;
    the hits below ``depth`` keep their order (and scores) after them, so a hit just below
    ``depth`` can show a higher score than one above it: ``rank`` is the order. ``cross`` is a
    :class:`Reranker` (or anything with ``score(query, passages)``).

    >>> cascade(Reranker.load("models/cross-reranker"), "fees?", hits, 5, 0.05)  # doctest: +SKIP
    """
    if depth <= 0 or weight == 0.0 or len(hits) < 2:
        return list(hits)
    top = list(hits[:depth])
    logits = cross.score(query, [h.passage for h in top])
    mixed = [h.score + weight * float(x) for h, x in zip(top, logits, strict=True)]
    order = sorted(range(len(top)), key=lambda i: -mixed[i])
    out = [replace(top[i], score=mixed[i], rank=r, source="cross")
           for r, i in enumerate(order, start=1)]
    return out + [replace(h, rank=len(out) + j) for j, h in enumerate(hits[depth:], start=1)]


def rank_turn(reranker: Any, query: str, current: str | None, hits: Sequence[Hit],
              current_weight: float, prior: dict[str, float] | None = None,
              document_weight: float = 0.0, cross: Any = None, depth: int = 0,
              weight: float = 0.0, history: Sequence[Turn] | None = None
              ) -> tuple[list[Hit], float]:
    """One turn's candidates ranked as the pipeline ranks them (``Re3G.rank``), for code that
    holds the models rather than a pipeline (evaluation, training, benches): the dialogue mix
    (:func:`rerank_dialogue`), the document ``prior`` (:mod:`re3g.focus`), then the ``cross``
    step (:func:`cascade`). Returns the hits and the reranker's own best score, before the
    bonus and the cross-encoder (what the pipeline's abstention reads). Given the dialogue
    ``history``, a cross-encoder trained on another query reads its own
    (:meth:`Reranker.question`), as in the pipeline.

    >>> hits, top = rank_turn(tower, "fees? || apply", "fees?", pool, 0.3, prior, 0.2,
    ...                       cross, 3, 0.005)  # doctest: +SKIP
    """
    from re3g.focus import apply_document_prior

    ranked = rerank_dialogue(reranker, query, current, hits, current_weight)
    top = ranked[0].score if ranked else 0.0
    ranked = apply_document_prior(ranked, prior or {}, document_weight)
    if cross is not None:
        asked = cross.question(history) if history else None
        ranked = cascade(cross, asked or query, ranked, depth, weight)
    return ranked, top


CROSS_TRAIN_CMD = "re3g train reranker --arch cross --init models/extractor-qa --query-roles all"


def load_cross(want: bool | str = "auto", name: str | None = None) -> Reranker | None:
    """The cascade's cross-encoder: ``name`` (folder or hub id) or ``models/cross-reranker``.

    ``want`` "auto" gives None when no name is given and the project has not trained one;
    False gives None; True requires one (ModelError naming the training command).
    """
    if want is False:
        return None
    path = default_path("cross-reranker")
    if name is None and not (path / "manifest.json").is_file():
        if want == "auto":
            return None
        raise ModelError(f"no cross-encoder at {path}: train one with `{CROSS_TRAIN_CMD}` "
                         f"or set [rerank] cross = false")
    if name is not None and name.startswith((".", "/")) and not Path(name).exists():
        raise ModelError(f"no cross-encoder at {name}: train one with `{CROSS_TRAIN_CMD}` "
                         f"(or name a hub cross-encoder)")
    return Reranker.load(name or path)


def cross_settings(cross: Any, depth: int | None = None, weight: float | None = None
                   ) -> tuple[int, float]:
    """(depth, weight) of the cascade: the given values, else those chosen on validation by
    the trainer (the cross-encoder's manifest), else 5 and 0.05."""
    st = (getattr(cross, "manifest", None) or {}).get("settings", {})
    return (int(depth or st.get("depth", 5)),
            float(st.get("cross_weight", 0.05) if weight is None else weight))
