"""Second-stage reranking of retrieved passages.

Two kinds of reranker behind one interface:

- the project's trained reranker (``models/reranker``, made by ``re3g train reranker``): a query
  tower fine-tuned from the packaged all-MiniLM-L6-v2 so that its embedding of the dialogue query
  is close to the frozen base-model embedding of the passage that grounds the next agent turn.
  Passage vectors are the dense index's own vectors (``prime``), or computed once and cached.
- any sentence-transformers cross-encoder (a hub name such as
  ``cross-encoder/ms-marco-MiniLM-L6-v2`` or a local folder), for users with a model hub.

    >>> from re3g.rank import Reranker
    >>> from re3g.types import Hit, Passage
    >>> rr = Reranker.load()                      # the project's models/reranker
    >>> hits = [Hit(Passage(str(i), "d", "Fees", t, 0, len(t), []), 1.0, i + 1)
    ...         for i, t in enumerate(["Parking a bike outside a dock costs 2 dollars.",
    ...                                "You can renew your membership in the app."])]
    >>> [h.passage.pid for h in rr.rerank("how do I renew my membership?", hits)]
    ['1', '0']
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from re3g.data.passages import passage_contents
from re3g.errors import ModelError
from re3g.models import (
    BASE_MODEL,
    MANIFEST,
    PASSAGE_MAX_TOKENS,
    LoadedModel,
    base_encoder,
    content_key,
    device,
    hub_architectures,
    load_tower,
    locate_model,
    model_path,
    quantize_on_cpu,
    read_model_manifest,
    trained,
    truncate_question,
)
from re3g.types import Hit, Passage, Turn

TRAIN_CMD = "re3g train reranker --profile full"
CROSS_TRAIN_CMD = "re3g train reranker --arch cross --init models/extractor-qa --query-roles all"


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

        try:
            tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(str(path),
                                                                       local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - damaged or partial folders vary
            raise ModelError(f"cannot load the cross-encoder in {path} ({exc}); retrain it "
                             f"with `{TRAIN_CMD}`") from exc
        model = quantize_on_cpu(model.float().to(device()).eval(), quantized)
        st = manifest.get("settings", {})
        return cls(model, tok, int(st.get("max_length", 256)),
                   int(st.get("max_query_tokens", 64)))

    def predict(self, pairs: Sequence[tuple[str, str]], show_progress_bar: bool = False
                ) -> list[float]:
        import torch

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
    return content_key(p.pid, passage_contents(p))


class Reranker(LoadedModel):
    """Reorders hits by relevance to the dialogue query; ``rerank`` returns new renumbered hits.

    >>> rr = Reranker.load()  # doctest: +SKIP
    >>> [h.rank for h in rr.rerank("renew registration", hits)]  # doctest: +SKIP
    [1, 2, 3]
    """

    def __init__(self, kind: str, model: Any, manifest: dict[str, Any] | None = None,
                 path: str = "", quantized: bool = False) -> None:
        super().__init__(kind, model, manifest, path, quantized)
        # towers: share of the packaged encoder's own query vector in the query vector
        # (:meth:`blended`; ``Config.base_weight``)
        self.base_weight = 0.0
        self._blends: dict[float, Reranker] = {0.0: self}  # shared by the views
        self.scale = float(self.settings.get("scale", 20.0))
        self.first_stage_weight = float(self.settings.get("first_stage_weight", 0.0))
        self.query_roles = str(self.settings.get("query_roles", "user"))

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
        q = (device() == "cpu") if quantize is None else quantize
        where, name = locate_model(path_or_name, model_path("reranker"), "reranker", TRAIN_CMD)
        if where != "manifest":
            return cls._load_cross_encoder(name, local=where == "folder")
        path = Path(name)
        manifest = read_model_manifest(path, "reranker", TRAIN_CMD)
        if manifest.get("architecture") == "cross-encoder":
            return cls("cross-encoder", CrossScorer.load(path, manifest, q), manifest, name, q)
        return cls._load_tower(path, manifest, q)

    @classmethod
    def _load_tower(cls, path: Path, manifest: dict[str, Any], quantized: bool) -> Reranker:
        return cls("tower", load_tower(path, manifest, quantized), manifest, str(path), quantized)

    @classmethod
    def _load_cross_encoder(cls, name: str, local: bool) -> Reranker:
        if local:
            hub_architectures(Path(name), "reranker", "SequenceClassification",
                              ("a cross-encoder", "a cross-encoder"), TRAIN_CMD)
        try:
            from sentence_transformers import CrossEncoder

            model = CrossEncoder(name, device=device(), local_files_only=local)
        except Exception as exc:  # noqa: BLE001 - hub / file errors vary
            raise ModelError(
                f"cannot load cross-encoder {name!r} ({exc}); without a model hub use the "
                f"project's reranker (`{TRAIN_CMD}`)"
            ) from exc
        return cls("cross-encoder", model, {"kind": "reranker", "base_model": name}, name)

    def blended(self, weight: float) -> Reranker:
        """This tower with its query vector blended with the packaged encoder's own:
        ``(1 - weight) * tower(query) + weight * base(query)``, both unit vectors, so a score
        is the same mix of the two cosines. The tower was fine-tuned on doc2dial; the packaged
        encoder was trained far beyond it and ranks other documents' first questions better
        (``Config.base_weight``, chosen by ``python -m re3g.train.select_names``). Weights and
        caches are shared; cross-encoders, and weight 0, give the ranker itself.

        >>> rr = Reranker("tower", None)
        >>> view = rr.blended(0.25)
        >>> rr.blended(0.0) is rr, view.base_weight, rr.blended(0.25) is view, view.blended(0) is rr
        (True, 0.25, True, True)
        """
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"base_weight must be in [0, 1], got {weight}")
        if self.kind != "tower":
            return self
        if weight not in self._blends:
            view = copy.copy(self)
            view.base_weight = weight
            self._blends[weight] = view
        return self._blends[weight]

    def query_vector(self, query: str) -> Any:
        """The tower's unit query vector, blended with the packaged encoder's by
        :attr:`base_weight` (:meth:`blended`). The packaged encoder is the one the pipeline
        already holds (:func:`re3g.retrieve.dense.load_encoder`, fp32, loaded once per
        process), reading the query cut as the tower reads it."""
        import torch

        with torch.inference_mode():
            q = self.model.encode([query])[0]
        if self.base_weight:
            from re3g.retrieve.dense import encode, load_encoder

            cut = truncate_question(self.model.tokenizer, query, self.model.max_length - 2)
            base = torch.from_numpy(encode(load_encoder(None), [cut])[0])
            q = (1.0 - self.base_weight) * q + self.base_weight * base
        return q

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
        q = self.query_vector(query)
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




def load_reranker(want: bool | str = "auto", name: str | None = None) -> Reranker | None:
    """The first reranking step: ``name`` (folder or hub cross-encoder) or ``models/reranker``.

    ``want`` "auto" gives None when no name is given and the project has not trained one;
    False gives None; True requires one (ModelError naming the training command).
    """
    if want is False or (want == "auto" and name is None and not trained("reranker")):
        return None
    return Reranker.load(name)


OTHER_CROSS = "cross-reranker-other"
"""The project's cross-encoder for documents other than doc2dial (``re3g train cross-other``)."""


def load_cross(want: bool | str = "auto", name: str | None = None,
               corpus: str | None = None, calibration: str = "tuned") -> Reranker | None:
    """The cascade's cross-encoder: ``name`` (folder or hub id) or the project's own.

    Without a name, a corpus other than the one ``models/cross-reranker-other`` names as
    ``tuned_corpus`` (``corpus``: the corpus's fingerprint, None when unknown) gets that model
    when it is trained, any other corpus ``models/cross-reranker``, when ``calibration`` is
    "auto" (as the pipeline asks, with ``[answer] calibration``); "tuned" (the default: callers
    that do not know the corpus) or "other" forces the choice
    (:func:`re3g.config.corpus_calibration`, the same switch as the learned decision's and the
    reader's). ``want`` "auto" gives None when no name is given and
    the project has not trained one; False gives None; True requires one (ModelError naming
    the training command).
    """
    if want is False:
        return None
    if name is None:
        name = other_cross(corpus, calibration)
    path = model_path("cross-reranker")
    if name is None and not trained("cross-reranker"):
        if want == "auto":
            return None
        raise ModelError(f"no cross-encoder at {path}: train one with `{CROSS_TRAIN_CMD}` "
                         f"or set [rerank] cross = false")
    if name is not None and name.startswith((".", "/")) and not Path(name).exists():
        raise ModelError(f"no cross-encoder at {name}: train one with `{CROSS_TRAIN_CMD}` "
                         f"(or name a hub cross-encoder)")
    return Reranker.load(name or path)


def other_cross(corpus: str | None, calibration: str = "auto") -> str | None:
    """The folder of the project's cross-encoder for other documents when it is trained and
    the corpus (fingerprint ``corpus``) is not the one it names as ``tuned_corpus``; else
    None (the default cross-encoder).

    >>> other_cross("fingerprint-of-a-corpus", calibration="tuned") is None
    True
    """
    from re3g.config import corpus_calibration

    folder = model_path(OTHER_CROSS)
    if not trained(OTHER_CROSS):
        return None
    try:
        tuned = json.loads((folder / MANIFEST).read_text()).get("tuned_corpus")
    except (OSError, json.JSONDecodeError, AttributeError) as exc:
        raise ModelError(f"{folder / MANIFEST}: unreadable manifest ({exc}); retrain with "
                         f"`re3g train cross-other`") from exc
    if not isinstance(tuned, str):
        raise ModelError(f"{folder / MANIFEST}: key 'tuned_corpus' (the corpus the model is "
                         f"not for) is missing; retrain with `re3g train cross-other`")
    if corpus_calibration(calibration, corpus, tuned) == "other":
        return str(folder)
    return None


def cross_settings(cross: Reranker | None, depth: int | None = None,
                   weight: float | None = None) -> tuple[int, float]:
    """(depth, weight) of the cascade: the given values, else those chosen by the trainer
    (the cross-encoder's manifest), else 5 and 0.05."""
    st = (cross.manifest if cross is not None else {}).get("settings", {})
    return (int(depth or st.get("depth", 5)),
            float(st.get("cross_weight", 0.05) if weight is None else weight))
