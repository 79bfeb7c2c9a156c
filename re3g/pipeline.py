"""The Re3G pipeline: query building, retrieval (BM25 + dense, fused), reranking, span
extraction and answer generation, composed from one config file.

    from re3g import Re3G
    bot = Re3G.from_config("re3g.toml")          # Re3G() alone: offline defaults
    answer = bot.answer(["How do I renew my registration?"])
    print(answer.text, answer.evidence[0].doc_id, answer.timings)

Stages and what each adds to the :class:`~re3g.types.Answer`:

1. **query**: the history is checked and normalised (see *Input rules*), then turned into one
   retrieval query: the current user turn, then earlier turns newest first
   (:func:`re3g.data.build_query`, capped at ``query_max_words`` words).
2. **retrieve**: ``k`` passages from the index (``mode`` bm25 | dense | hybrid with RRF).
3. **rerank**: the trained reranker (``models/reranker``, or any cross-encoder) reorders them;
   with ``rerank = "auto"`` (default) it runs when the trained model exists. Passages of the
   document the earlier agent turns come from then get a bonus (``document_weight``,
   :mod:`re3g.focus`): a conversation stays in one document. Then the cross-encoder
   (``models/cross-reranker``, ``re3g train reranker --arch cross``; ``cross = "auto"``)
   reads the dialogue query with each of the top ``cross_depth`` passages and its logit, times
   ``cross_weight``, is added to their scores (:func:`re3g.rerank.cascade`).
4. **extract**: evidence spans with document ids, span ids and character offsets into the
   document text. With a trained extractor (``models/extractor``, :mod:`re3g.extract`) its
   spans and confidences are used. Without one, the **dense fallback** runs: the doc2dial spans
   of the best passage are scored by cosine similarity between their embedding and the query's,
   with the dense encoder the retriever already loaded (all-MiniLM-L6-v2 by default), and the
   most similar non-heading spans are the evidence (score = cosine, clipped to [0, 1]). When the
   documents behind the index cannot be found (see ``Config.docs``), the whole best passage is
   the evidence, scored the same way.
5. **generate**: the reply from the first ``reply_spans`` evidence spans (and the passages), by
   the configured generator (extractive by default; seq2seq, llm and http also work).

**Confidence and abstaining.** ``Answer.confidence`` is the score of the top evidence span
(the extractor's probability, or the fallback's cosine), capped, when the project's reranker
is on, by the best passage's reranked score (the extractor's probability alone is high even for
off-topic questions). Below ``min_confidence`` the pipeline
does not generate: the reply is ``abstain_reply`` ("I could not find this in the documents...")
and ``Answer.grounded`` is False; evidence and passages are still returned so a user can look.
Defaults (:data:`DEFAULT_MIN_CONFIDENCE`): 0.30 for the dense fallback, 0.20 for a trained
extractor (see docs/pipeline.md for how the fallback's was chosen).

**Input rules.** ``history`` is a string (one user turn), a list of strings (alternating turns
that end with the user's), a list of :class:`~re3g.types.Turn`, or a list of
``{"role", "content"}`` messages. Bytes are decoded as UTF-8 with invalid bytes replaced by
U+FFFD (also lone surrogates from a badly decoded command line); NUL and other control
characters except newlines and tabs are dropped. A turn longer than ``max_turn_chars``
(default 20,000) is cut at the last whitespace before the limit and ``Answer.extra["truncated"]``
lists the cut turns. An empty dialogue, an empty last turn or a last turn that is not the
user's raises :class:`~re3g.errors.QueryError`; a model or endpoint that fails raises
:class:`~re3g.errors.ModelError` with the cause; nothing else escapes from ``answer``.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from re3g.config import Config
from re3g.errors import (
    DataError,
    IndexLoadError,
    ModelError,
    QueryError,
    Re3GError,
    model_errors,
)
from re3g.types import Answer, Document, Evidence, Hit, Turn

DEFAULT_MIN_CONFIDENCE = {"dense-fallback": 0.30, "extractor": 0.20, "passage": 0.30}
# With the project's (tower) reranker, confidence is also capped by the best passage's reranked
# score (a cosine). Measured against the 0.20 threshold: doc2dial validation turns have top
# scores 0.226 / 0.304 / 0.553 at the 1st / 5th / 50th percentile; ten off-topic questions
# scored 0.04-0.18 (one, about car tyres on the DMV corpus, 0.27) on doc2dial and the sample.
STAGES = ("query", "retrieve", "rerank", "extract", "generate", "total")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PROJECT = Path(__file__).resolve().parent.parent
_ROLES = {"user": "user", "human": "user", "agent": "agent", "assistant": "agent",
          "bot": "agent", "system": "agent"}


# ---------------------------------------------------------------------------------------------
# input normalisation
def clean_turn_text(text: str | bytes | None, max_chars: int = 20_000) -> tuple[str, bool]:
    """Decode, drop control characters and cut to ``max_chars``; returns (text, was_cut).

    >>> clean_turn_text(b"caf\\xe9 ok")
    ('caf\\ufffd ok', False)
    >>> clean_turn_text("a b c d", max_chars=4)
    ('a b', True)
    """
    if text is None:
        return "", False
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        raise QueryError(f"a dialogue turn must be text, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (e.g. undecodable command-line bytes)
        try:
            raw = text.encode("utf-8", errors="surrogateescape")
        except UnicodeEncodeError:
            raw = text.encode("utf-8", errors="replace")
        text = raw.decode("utf-8", errors="replace")
    text = _CONTROL.sub("", text)
    cut = False
    if len(text) > max_chars:
        head = text[:max_chars]
        space = max(head.rfind(" "), head.rfind("\n"))
        text = head[:space] if space > max_chars // 2 else head
        cut = True
    return text, cut


def normalize_history(history: Any, max_chars: int = 20_000) -> tuple[list[Turn], list[int]]:
    """The dialogue as checked Turns (see *Input rules* in the module doc) and the indices of
    turns that were cut.

    >>> turns, cut = normalize_history(["Hi", "Hello, how can I help?", "Fees?"])
    >>> [t.role for t in turns], cut
    (['user', 'agent', 'user'], [])
    """
    if isinstance(history, (str, bytes, bytearray)):
        history = [history]
    if history is None or isinstance(history, Mapping) or not isinstance(history, Sequence):
        raise QueryError("the dialogue must be a text or a list of turns, got "
                         f"{type(history).__name__}")
    if len(history) == 0:
        raise QueryError("the dialogue is empty: give at least one user turn")
    n = len(history)
    turns: list[Turn] = []
    cut: list[int] = []
    for i, item in enumerate(history):
        if isinstance(item, Turn):
            role, text, refs, tid = item.role, item.utterance, item.references, item.turn_id
        elif isinstance(item, Mapping):
            role = str(item.get("role", "")).lower()
            text = item.get("content", item.get("utterance"))
            refs, tid = [], i + 1
        else:  # plain strings alternate and end with the user
            role = "user" if (n - 1 - i) % 2 == 0 else "agent"
            text, refs, tid = item, [], i + 1
        if role not in _ROLES:
            raise QueryError(f"turn {i + 1} has unknown role {role!r}; use 'user' or 'agent'")
        clean, was_cut = clean_turn_text(text, max_chars)
        if was_cut:
            cut.append(i)
        turns.append(Turn(tid, _ROLES[role], clean, list(refs)))
    last = turns[-1]
    if last.role != "user":
        raise QueryError(f"the last turn of the dialogue must be a user turn, found role "
                         f"{last.role!r}")
    if not (last.utterance or "").strip():
        raise QueryError("the last user turn is empty")
    return turns, cut


# ---------------------------------------------------------------------------------------------
def resolve_index(value: str) -> Path:
    """An index folder from a path or a name under ``$RE3G_INDEX_DIR`` (default ``indexes/``);
    a relative path that does not exist here is also tried from the project root."""
    p = Path(value).expanduser()
    if p.exists():
        return p
    root = Path(os.environ.get("RE3G_INDEX_DIR", "indexes"))
    candidates = [root / value] if os.sep not in value and not value.startswith(".") else []
    if not p.is_absolute():
        candidates.append(_PROJECT / p)
        if os.sep not in value:
            candidates.append(_PROJECT / "indexes" / value)
    for c in candidates:
        if c.exists():
            return c
    return p


def find_documents(index_dir: Path, manifest: dict[str, Any], docs: str | None) -> Path | None:
    """The documents file/folder the index was built from: ``docs`` when given, else the
    manifest's ``corpus.source`` as a path, relative to the index or the project, or by name
    under the project's ``../shared/data/*/``. None when nothing is found."""
    if docs:
        p = Path(docs).expanduser()
        if not p.exists():
            raise DataError(f"documents {p} (config key 'docs') do not exist")
        return p
    source = str(manifest.get("corpus", {}).get("source") or "")
    if not source:
        return None
    src = Path(source).expanduser()
    candidates = [src]
    if not src.is_absolute():
        candidates += [index_dir / src, _PROJECT / src]
        shared = _PROJECT.parent / "shared" / "data"
        if shared.is_dir():
            candidates += sorted(shared.glob(f"*/{src.name}"))
    return next((c for c in candidates if c.exists()), None)


class Re3G:
    """Grounded answers over documents: retrieve, rerank, extract, generate.

    Models load lazily on first use, once, and are reused by later calls (thread-safe).

    >>> bot = Re3G()                                   # offline defaults over indexes/sample
    >>> answer = bot.answer("How much does a day pass cost?")   # doctest: +SKIP
    >>> answer.text, answer.evidence[0].doc_id, answer.timings["total"]  # doctest: +SKIP
    >>> for piece in bot.stream(["Hi", "Hello!", "Can I get a refund?"]):  # doctest: +SKIP
    ...     print(piece if isinstance(piece, str) else piece.timings)
    """

    def __init__(self, config: Config | None = None, *, documents: dict[str, Document] | None
                 = None, retriever: Any = None, **overrides: Any) -> None:
        self.config = (config or Config()).with_overrides(**overrides)
        self._lock = threading.RLock()
        self._retriever = retriever
        self._index_dir: Path | None = None
        # components loaded on first use (None is a valid loaded value: "off")
        self._parts: dict[str, Any] = {} if documents is None else {"documents": documents}
        self._encoder: Any = None
        self._generator: Any = None
        self._span_vecs: dict[tuple[str, int, int], Any] = {}

    @classmethod
    def from_config(cls, path: str | Path | None = None, **overrides: Any) -> Re3G:
        """Read a TOML/YAML config (None: defaults) and apply keyword ``overrides`` (Config
        field names such as ``index``, ``mode``, ``k``, ``rerank``, ``generator``)."""
        return cls(Config.load(path, **overrides))

    def __repr__(self) -> str:
        c = self.config
        return (f"Re3G(index={c.index!r}, mode={c.mode!r}, k={c.k}, rerank={c.rerank!r}, "
                f"extract={c.extract}, generator={c.generator!r})")

    # -- lazy components -----------------------------------------------------------------------
    @property
    def retriever(self) -> Any:
        with self._lock:
            if self._retriever is None:
                from re3g.retrieve import open_index

                path = resolve_index(self.config.index)
                self._index_dir = path
                with model_errors(f"cannot open index {path}"):  # JVM / FAISS / torch
                    self._retriever = open_index(path, mode=self.config.mode)
            return self._retriever

    @property
    def index_dir(self) -> Path:
        if self._index_dir is None:
            self._index_dir = resolve_index(self.config.index)
        return self._index_dir

    def _once(self, name: str, load: Any) -> Any:
        """The component ``name``, loaded by ``load()`` on first use (thread-safe)."""
        with self._lock:
            if name not in self._parts:
                self._parts[name] = load()
            return self._parts[name]

    @property
    def documents(self) -> dict[str, Document] | None:
        """The documents behind the index (for span offsets), or None when not found."""
        return self._once("documents", self._load_documents)

    def _load_documents(self) -> dict[str, Document] | None:
        from re3g.data.corpus import load_corpus
        from re3g.retrieve import read_manifest
        from re3g.retrieve.index import corpus_fingerprint

        manifest = read_manifest(self.index_dir)
        path = find_documents(self.index_dir, manifest, self.config.docs)
        if path is None:
            return None
        docs = load_corpus(path)
        if corpus_fingerprint(docs.values()) != manifest["corpus"]["sha256"]:
            if self.config.docs:
                raise DataError(f"documents {path} (config key 'docs') are not the corpus index "
                                f"{self.index_dir} was built from")
            return None
        return docs

    @property
    def encoder(self) -> Any:
        """The dense encoder: the retriever's own when it has one, else the packaged default."""
        with self._lock:
            if self._encoder is None:
                r = self.retriever
                dense = getattr(r, "dense", None) or (r if hasattr(r, "index") else None)
                model = getattr(dense, "model", None)
                if model is None:
                    from re3g.retrieve.dense import load_encoder

                    model = load_encoder(None)
                self._encoder = model
            return self._encoder

    @property
    def reranker(self) -> Any:
        """The loaded reranker, or None when reranking is off (or "auto" and none trained)."""
        return self._once("reranker", self._load_reranker)

    def _load_reranker(self) -> Any:
        want = self.config.rerank
        if want is False:
            return None
        name = self.config.reranker
        if want == "auto" and name is None and not (_PROJECT / "models" / "reranker"
                                                   / "manifest.json").is_file():
            return None
        from re3g.rerank import Reranker

        with model_errors(f"cannot load the reranker {name or 'models/reranker'}"):
            rr = Reranker.load(name)
        prime = getattr(rr, "prime_from_index", None)
        if prime is not None:
            with contextlib.suppress(Exception):  # priming is an optimisation only
                prime(self.index_dir, self.retriever.passages)
        return rr

    @property
    def cross_reranker(self) -> Any:
        """The cross-encoder of the cascade's second step, or None (off, or "auto" and none
        trained, or no first-step reranker)."""
        return self._once("cross", self._load_cross)

    def _load_cross(self) -> Any:
        if self.reranker is None:
            return None
        from re3g.rerank import load_cross

        with model_errors(f"cannot load the cross-encoder {self.config.cross_model or ''}"):
            return load_cross(self.config.cross, self.config.cross_model)

    def cascade(self, query: str, hits: list[Hit], turns: Sequence[Turn] | None = None
                ) -> list[Hit]:
        """The top reranked ``hits`` rescored with the cross-encoder (:func:`re3g.rerank.cascade`);
        ``hits`` unchanged without one. With ``turns``, a cross-encoder trained on other turns
        than the query's (its manifest's ``query_roles``) reads its own query."""
        cross = self.cross_reranker
        if cross is None or not hits:
            return hits
        from re3g.rerank import cascade, cross_settings

        depth, weight = cross_settings(cross, self.config.cross_depth, self.config.cross_weight)
        with model_errors("cross-encoder reranking failed"):
            return cascade(cross, cross.question(turns) or query, hits, depth, weight)

    @property
    def extractor(self) -> Any:
        """The trained span extractor, or None (dense fallback, or extraction off)."""
        return self._once("extractor", self._load_extractor)

    def _load_extractor(self) -> Any:
        if not self.config.extract:
            return None
        name = self.config.extractor
        if name == "dense-fallback":
            return None  # asked for the dense fallback explicitly
        from re3g.extract import default_extractor_path

        if name is None and not (default_extractor_path() / "manifest.json").is_file():
            return None  # nothing trained: the dense fallback
        try:
            from re3g.extract import SpanExtractor

            return SpanExtractor.load(name)
        except ModuleNotFoundError as exc:
            if name is None:
                return None
            raise ModelError(f"cannot load extractor {name}: {exc}") from exc
        except Re3GError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"cannot load the span extractor {name or default_extractor_path()}: "
                             f"{type(exc).__name__}: {exc}") from exc

    @property
    def extractor_kind(self) -> str:
        """"extractor" (trained model), "dense-fallback", "passage" (no documents) or "off"."""
        if not self.config.extract:
            return "off"
        if self.extractor is not None:
            return "extractor"
        return "dense-fallback" if self.documents is not None else "passage"

    @property
    def generator(self) -> Any:
        with self._lock:
            if self._generator is None:
                from re3g.generate import make_generator

                name = self.config.generator
                try:
                    self._generator = make_generator(name, **self.config.generator_options)
                except Re3GError:
                    raise
                except (TypeError, ValueError) as exc:
                    raise DataError(f"{self.config.source}: generator {name!r}: {exc}") from exc
                except Exception as exc:  # noqa: BLE001
                    raise ModelError(f"cannot load the {name} generator: {type(exc).__name__}: "
                                     f"{exc}") from exc
            return self._generator

    def warm_up(self) -> Re3G:
        """Load every component now (index, encoder, reranker, extractor, generator)."""
        _ = (self.retriever, self.encoder, self.documents, self.reranker, self.cross_reranker,
             self.extractor, self.generator)
        return self

    @property
    def min_confidence(self) -> float:
        if self.config.min_confidence is not None:
            return self.config.min_confidence
        return DEFAULT_MIN_CONFIDENCE.get(self.extractor_kind, 0.0)

    # -- stages (usable on their own, e.g. by batch evaluation) ---------------------------------
    def build_query(self, turns: Sequence[Turn]) -> str:
        from re3g.data.query import build_query

        return build_query(turns, max_words=self.config.query_max_words,
                           roles=self.config.query_roles)

    def retrieve(self, query: str, k: int | None = None) -> list[Hit]:
        with model_errors("retrieval failed"):
            return self.retriever.search(query, k=k or self.config.k)

    def rerank(self, query: str, hits: list[Hit], current: str | None = None) -> list[Hit]:
        """Rerank ``hits``; with ``current`` (the user's last turn) scores mix both queries."""
        rr = self.reranker
        if rr is None or not hits:
            return hits
        from re3g.rerank import rerank_dialogue

        with model_errors("reranking failed"):
            return rerank_dialogue(rr, query, current, hits, self.config.current_weight,
                                   k=self.config.rerank_k)

    def focus(self, turns: Sequence[Turn], hits: list[Hit]) -> list[Hit]:
        """Reranked ``hits`` with the bonus for the document the earlier agent turns come from
        (``re3g.focus``; ``document_weight`` on the reranker's score scale, so only with a
        reranker and a BM25 index)."""
        w = self.config.document_weight
        if not hits or w == 0.0 or self.reranker is None:
            return hits
        from re3g.focus import agent_text, apply_document_prior, document_prior

        text = agent_text(turns)
        r = self.retriever
        searcher = getattr(r, "sparse", None) or (r if self.config.mode == "bm25" else None)
        if not text or searcher is None:
            return hits
        with model_errors("document prior search failed"):
            prior = document_prior(searcher, text, self.config.document_temperature)
        return apply_document_prior(hits, prior, w)

    def rank(self, query: str, hits: list[Hit], turns: Sequence[Turn]
             ) -> tuple[list[Hit], float]:
        """Every reranking step the pipeline runs on first-stage ``hits``: the reranker (mixed
        with the last user turn), the document prior, the cross-encoder step. Returns the hits
        and the reranker's own best score (before the bonus and the cross-encoder step), which
        decides abstention (:meth:`confidence`)."""
        current = (turns[-1].utterance or "") if turns else None
        hits = self.rerank(query, hits, current)
        top_score = hits[0].score if hits else 0.0
        return self.cascade(query, self.focus(turns, hits), turns), top_score

    def extract(self, query: str, hits: list[Hit], current: str | None = None,
                turns: Sequence[Turn] | None = None) -> list[Evidence]:
        """Evidence spans, best first (``top_n`` of them), with scores in [0, 1].

        ``current`` (the user's last turn) mixes into the trained extractor's span scores with
        weight ``current_weight``, as in reranking. With ``turns``, a start/end reader trained
        on other turns than the query's (its manifest's ``query_roles``) reads its own question.
        """
        if not hits or not self.config.extract:
            return []
        ex = self.extractor
        if ex is not None:
            with model_errors("span extraction failed"):
                asked = ex.question(turns) if turns else None
                if self.reranker is None and getattr(ex, "kind", "") == "qa":
                    # a reader's passage weighting was chosen on reranked scores; first-stage
                    # scores (BM25, RRF) are on other scales, so it reads the top passage only
                    hits = hits[:1]
                return list(ex.extract(query, hits, documents=self.documents,
                                       top_n=self.config.top_n, current=current,
                                       current_weight=self.config.current_weight,
                                       reader_query=asked))
        return self.fallback_extract(query, hits)

    def fallback_extract(self, query: str, hits: list[Hit]) -> list[Evidence]:
        """The dense fallback: the best passage's document spans ranked by cosine similarity
        to the query under the dense encoder (see the module doc)."""
        import numpy as np

        from re3g.retrieve.dense import encode

        p = hits[0].passage
        docs = self.documents
        doc = docs.get(p.doc_id) if docs else None
        cands: list[Evidence] = []
        if doc is not None:
            wanted = set(p.span_ids)
            spans = [s for s in doc.spans if s.id in wanted and s.text.strip()]
            body = [s for s in spans if not s.is_heading] or spans
            cands = [Evidence(doc.doc_id, doc.title, s.text, s.start, s.end, [s.id],
                              passage_id=p.pid, section=p.section) for s in body]
        if not cands:
            cands = [Evidence(p.doc_id, p.title, p.text, p.start, p.end, list(p.span_ids),
                              passage_id=p.pid, section=p.section)]
        with model_errors("span scoring with the dense encoder failed"):
            enc = self.encoder
            qv = encode(enc, [query])[0]
            keys = [(c.doc_id, c.start, c.end) for c in cands]
            missing = [i for i, key in enumerate(keys) if key not in self._span_vecs]
            if missing:
                vecs = encode(enc, [" ".join(cands[i].text.split()) for i in missing])
                if len(self._span_vecs) > 50_000:
                    self._span_vecs.clear()
                for i, v in zip(missing, vecs, strict=True):
                    self._span_vecs[keys[i]] = v
            mat = np.stack([self._span_vecs[key] for key in keys])
        sims = mat @ qv
        order = sorted(range(len(cands)), key=lambda i: -float(sims[i]))[: self.config.top_n]
        out = []
        for i in order:
            c = cands[i]
            c.score = float(min(1.0, max(0.0, sims[i])))
            out.append(c)
        return out

    def passage_confidence(self, query: str, hits: list[Hit]) -> float:
        """Cosine of the query and the top passage (the confidence when extraction is off)."""
        if not hits:
            return 0.0
        from re3g.data.passages import passage_contents
        from re3g.retrieve.dense import encode

        try:
            vecs = encode(self.encoder, [query, passage_contents(hits[0].passage)])
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"dense encoder failed: {type(exc).__name__}: {exc}") from exc
        return float(min(1.0, max(0.0, vecs[0] @ vecs[1])))

    def _generate_stream(self, turns: list[Turn], evidence: list[Evidence],
                         hits: list[Hit]) -> Iterator[str]:
        gen = self.generator
        with model_errors(f"the {self.config.generator} generator failed"):
            yield from gen.stream(turns, evidence[: self.config.reply_spans], hits)

    def confidence(self, query: str, hits: list[Hit], evidence: list[Evidence],
                   top_score: float) -> float:
        """How sure the pipeline is that the documents answer the turn, in [0, 1]; below
        ``min_confidence`` it abstains. ``top_score`` is the reranker's best score before the
        document bonus and the cross-encoder step."""
        confidence = (evidence[0].score if evidence else self.passage_confidence(query, hits))
        rr = self.reranker
        # A start/end reader's score (sigmoid of best range minus "no answer") says where the
        # answer is among the passages it was shown, and is low for most in-domain turns
        # (bench/abstention.py): it does not decide abstention; the reranker's relevance of
        # the best passage (or the dense cosine) says whether they answer at all.
        reader = getattr(self.extractor, "kind", "") == "qa" if evidence else False
        if hits and rr is not None and hasattr(rr, "relevance"):
            rel = rr.relevance(top_score)
            confidence = rel if reader else min(confidence, rel)
        elif hits and evidence and self.extractor_kind == "extractor":
            # no reranker to ask: the dense encoder's query-passage cosine
            cos = self.passage_confidence(query, hits)
            confidence = cos if reader else min(confidence, cos)
        return confidence

    def generate(self, turns: list[Turn], evidence: list[Evidence], hits: list[Hit]) -> str:
        """The reply for already selected evidence (the generator's whole output)."""
        gen = self.generator
        with model_errors(f"the {self.config.generator} generator failed"):
            return gen.generate(turns, evidence[: self.config.reply_spans], hits)

    # -- one turn --------------------------------------------------------------------------------
    def _select(self, history: Any) -> tuple[Answer, list[Turn], float]:
        """Every stage but generation; returns the partial Answer, the turns and t0."""
        t0 = time.perf_counter()
        timings = dict.fromkeys(STAGES, 0.0)
        turns, cut = normalize_history(history, self.config.max_turn_chars)
        query = self.build_query(turns)
        t1 = time.perf_counter()
        timings["query"] = t1 - t0
        current = turns[-1].utterance or ""
        hits = self.retrieve(query)
        if self.reranker is not None and current != query:
            from re3g.rerank import dialogue_pool

            hits = dialogue_pool(hits, self.retrieve(current), self.config.k)
        t2 = time.perf_counter()
        timings["retrieve"] = t2 - t1
        hits, top_score = self.rank(query, hits, turns)
        t3 = time.perf_counter()
        timings["rerank"] = t3 - t2
        evidence = self.extract(query, hits, current, turns)
        confidence = self.confidence(query, hits, evidence, top_score)
        timings["extract"] = time.perf_counter() - t3
        extra: dict[str, Any] = {
            "query": query, "extractor": self.extractor_kind,
            "reranker": "on" if self.reranker is not None else "off",
            "generator": self.config.generator, "min_confidence": self.min_confidence,
            "reply_spans": min(self.config.reply_spans, len(evidence)),
        }
        if cut:
            extra["truncated"] = cut
        grounded = bool(hits) and confidence >= self.min_confidence
        answer = Answer("", evidence, hits, timings, confidence, grounded, extra)
        return answer, turns, t0

    def answer(self, history: list[str] | list[Turn] | str) -> Answer:
        """Answer the last user turn of ``history`` (see the module doc for the input rules)."""
        ans, turns, t0 = self._select(history)
        t = time.perf_counter()
        ans.text = (self.generate(turns, ans.evidence, ans.passages) if ans.grounded
                    else self.config.abstain_reply)
        ans.timings["generate"] = time.perf_counter() - t
        ans.timings["total"] = time.perf_counter() - t0
        return ans

    def stream(self, history: list[str] | list[Turn] | str) -> Iterator[str | Answer]:
        """Yield the reply in pieces as the generator produces them, then the final Answer.

        The pieces concatenate to ``Answer.text``. Backends that cannot stream (extractive)
        yield the whole reply once; llm/http backends yield tokens as they arrive.
        """
        ans, turns, t0 = self._select(history)
        t = time.perf_counter()
        pieces: list[str] = []
        if ans.grounded:
            for piece in self._generate_stream(turns, ans.evidence, ans.passages):
                if piece:
                    if not pieces:
                        ans.extra["first_piece_s"] = time.perf_counter() - t0
                    pieces.append(piece)
                    yield piece
            ans.text = "".join(pieces).strip()
        else:
            ans.text = self.config.abstain_reply
            yield ans.text
        ans.timings["generate"] = time.perf_counter() - t
        ans.timings["total"] = time.perf_counter() - t0
        yield ans


def answer_to_dict(answer: Answer, passages: int = 5) -> dict[str, Any]:
    """A JSON-ready view of an Answer (used by ``re3g ask --json``)."""
    return {
        "reply": answer.text,
        "grounded": answer.grounded,
        "confidence": round(answer.confidence, 4),
        "evidence": [{"doc_id": e.doc_id, "title": e.title, "section": e.section,
                      "span_ids": e.span_ids, "start": e.start, "end": e.end,
                      "score": round(e.score, 4), "text": e.text} for e in answer.evidence],
        "passages": [{"rank": h.rank, "score": round(h.score, 6), "pid": h.passage.pid,
                      "doc_id": h.passage.doc_id, "section": h.passage.section,
                      "start": h.passage.start, "end": h.passage.end}
                     for h in answer.passages[:passages]],
        "timings": {k: round(v, 4) for k, v in answer.timings.items()},
        "extra": {k: v for k, v in answer.extra.items()},
    }


__all__ = ["Re3G", "Config", "DEFAULT_MIN_CONFIDENCE", "IndexLoadError", "answer_to_dict",
           "clean_turn_text", "normalize_history"]
