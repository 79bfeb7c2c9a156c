"""The Re3G pipeline: query building, retrieval (BM25 + dense, fused), reranking, span
extraction and answer generation, composed from one config file.

    from re3g import Re3G
    bot = Re3G.from_config("re3g.toml")          # Re3G() alone: offline defaults
    answer = bot.answer(["How do I renew my registration?"])
    print(answer.text, answer.evidence[0].doc_id, answer.timings)

Stages and what each adds to the :class:`~re3g.types.Answer`:

1. **query**: the history is checked and normalised (see *Input rules*), then turned into one
   retrieval query: the current user turn, then earlier turns newest first
   (:mod:`re3g.data.query`, capped at ``query_max_words`` words).
2. **retrieve**: ``k`` passages from the index (``mode`` bm25 | dense | hybrid with RRF).
3. **rerank**: the trained reranker (``models/reranker``, or any cross-encoder) reorders them;
   with ``rerank = "auto"`` (default) it runs when the trained model exists. Passages of the
   document the earlier agent turns come from then get a bonus (``document_weight``,
   :mod:`re3g.rank.prior`): a conversation stays in one document. Then the cross-encoder
   (``models/cross-reranker``, ``re3g train reranker --arch cross``; ``cross = "auto"``)
   reads the dialogue query with each of the top ``cross_depth`` passages and its logit, times
   ``cross_weight``, is added to their scores; :class:`re3g.rank.RankingChain` is that
   whole step.
4. **extract**: evidence spans with document ids, span ids and character offsets into the
   document text. With a trained extractor (``models/extractor-qa``, :mod:`re3g.extract`) its
   spans and confidences are used. Without one, the **dense fallback** runs: the doc2dial spans
   of the best passage are scored by cosine similarity between their embedding and the query's,
   with the dense encoder the retriever already loaded (all-MiniLM-L6-v2 by default), and the
   most similar non-heading spans are the evidence (score = cosine, clipped to [0, 1]). When the
   documents behind the index cannot be found (see ``Config.docs``), the whole best passage is
   the evidence, scored the same way (:mod:`re3g.extract.fallback`).
5. **generate**: the reply from the first ``reply_spans`` evidence spans (and the passages), by
   the configured generator (extractive by default; seq2seq, llm and http also work).

**Confidence and abstaining** (:mod:`re3g.decide`, the one place that decides).
``Answer.confidence`` says how sure the pipeline is that the documents answer the turn; below
``min_confidence`` the pipeline does not generate: the reply is ``abstain_reply`` ("I could
not find this in the documents...") and ``Answer.grounded`` is False; evidence and passages
are still returned so a user can look. A turn one of the refusal checks refused says why
instead (:mod:`re3g.generate.refusal`: "The closest passages in the documents do not give a
price or amount for that, ..."). Defaults
(:data:`re3g.decide.DEFAULT_MIN_CONFIDENCE`): 0.30 for the dense fallback, 0.20 for a
trained extractor (see docs/pipeline.md for how the fallback's was chosen).

**Input rules.** ``history`` is a string (one user turn), a list of strings (alternating user,
agent, user, ... starting with the user; the question is the last user turn), a list of
:class:`~re3g.types.Turn`, or a list of ``{"role", "content"}`` messages. Bytes are decoded as
UTF-8 with invalid bytes replaced by U+FFFD (also lone surrogates from a badly decoded command
line); NUL and other control characters except newlines and tabs are dropped. A turn longer than
``max_turn_chars`` (default 20,000) is cut at the last whitespace before the limit and
``Answer.extra["truncated"]`` lists the cut turns. An empty dialogue, an empty last turn or a
last turn that is not the user's raises :class:`~re3g.errors.QueryError`; a model or endpoint
that fails raises :class:`~re3g.errors.ModelError` with the cause; nothing else escapes from
``answer``. """

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from re3g.config import Config
from re3g.data.query import (
    adds_nothing,
    build_query,
    earlier_user,
    normalize_history,
    said_before,
)
from re3g.data.vocabulary import Vocabulary
from re3g.data.words import content_stems, cover_share, new_stems, stem_overlap, word_overlap
from re3g.decide import LAZY_SIGNALS, AbstainRule, Decision, LearnedRule, Signals, caution
from re3g.errors import DataError, ModelError, Re3GError, model_errors
from re3g.extract import DenseFallback, Extractor, SpanExtractor
from re3g.extract.answer_type import missing_kind
from re3g.extract.asked_thing import asked_things, to_be_named
from re3g.generate.base import Generator
from re3g.generate.refusal import refused_reply
from re3g.models import model_path
from re3g.rank import Ranker, Ranking, RankingChain
from re3g.retrieve.base import Retriever
from re3g.retrieve.locate import resolve_index
from re3g.types import Answer, Document, Evidence, Hit, Turn

logger = logging.getLogger(__name__)

STAGES = ("query", "retrieve", "rerank", "extract", "generate", "total")
ANSWERABILITY_TRAIN_CMD = "re3g train answerability"
T = TypeVar("T")


class Re3G:
    """Grounded answers over documents: retrieve, rerank, extract, generate.

    Components load lazily on first use, once, and are reused by later calls (thread-safe);
    :meth:`warm_up` loads them all now.

    >>> bot = Re3G(k=5)                                # offline defaults over indexes/sample
    >>> bot.config.k, bot.config.index
    (5, 'indexes/sample')
    >>> answer = bot.answer("How much does a day pass cost?")   # doctest: +SKIP
    >>> answer.text, answer.evidence[0].doc_id, answer.timings["total"]  # doctest: +SKIP
    >>> for piece in bot.stream(["Hi", "Hello!", "Can I get a refund?"]):  # doctest: +SKIP
    ...     print(piece if isinstance(piece, str) else piece.timings)
    """

    def __init__(self, config: Config | None = None, *, documents: dict[str, Document] | None
                 = None, retriever: Retriever | None = None, **overrides: Any) -> None:
        self.config = (config or Config()).with_overrides(**overrides)
        self._lock = threading.RLock()
        # components loaded on first use (None is a valid loaded value: "off")
        self._parts: dict[str, Any] = {}
        self._documents_given = documents is not None
        if documents is not None:
            self._parts["documents"] = documents
        if retriever is not None:
            self._parts["retriever"] = retriever

    @classmethod
    def from_config(cls, path: str | Path | None = None, **overrides: Any) -> Re3G:
        """Read a TOML/YAML config (None: defaults) and apply keyword ``overrides`` (Config
        field names such as ``index``, ``mode``, ``k``, ``rerank``, ``generator``)."""
        return cls(Config.load(path, **overrides))

    def __repr__(self) -> str:
        c = self.config
        return (f"Re3G(index={c.index!r}, mode={c.mode!r}, k={c.k}, rerank={c.rerank!r}, "
                f"extract={c.extract}, generator={c.generator!r})")

    # -- components, loaded once ----------------------------------------------------------------
    def _once(self, name: str, load: Callable[[], T]) -> T:
        """The component ``name``, loaded by ``load()`` on first use (thread-safe)."""
        with self._lock:
            if name not in self._parts:
                self._parts[name] = load()
            return self._parts[name]

    @property
    def index_dir(self) -> Path:
        return self._once("index_dir", lambda: resolve_index(self.config.index))

    @property
    def retriever(self) -> Retriever:
        def load() -> Retriever:
            from re3g.retrieve import open_index

            with model_errors(f"cannot open index {self.index_dir}"):  # JVM / FAISS / torch
                return open_index(self.index_dir, mode=self.config.mode)

        return self._once("retriever", load)

    @property
    def documents(self) -> dict[str, Document] | None:
        """The documents behind the index (for span offsets), or None when not found."""
        from re3g.retrieve.locate import index_documents

        return self._once("documents", lambda: index_documents(self.index_dir, self.config.docs))

    @property
    def vocabulary(self) -> Vocabulary:
        """The content stems of the corpus's documents (:class:`re3g.data.vocabulary.Vocabulary`;
        empty when the documents are not found): what the decision's coverage signals read."""
        return self._once("vocabulary", lambda: Vocabulary(self.documents or {}))

    @property
    def encoder(self) -> Any:
        """The dense encoder: the retriever's own when it has one, else the packaged default."""
        def load() -> Any:
            from re3g.retrieve.dense import load_encoder

            return self.retriever.encoder or load_encoder(None)

        return self._once("encoder", load)

    @property
    def reranker(self) -> Ranker | None:
        """The loaded reranker, or None when reranking is off (or "auto" and none trained)."""
        def load() -> Ranker | None:
            from re3g.rank import load_reranker

            name = self.config.reranker
            with model_errors(f"cannot load the reranker {name or 'models/reranker'}"):
                rr = load_reranker(self.config.rerank, name)
            if rr is not None:
                with contextlib.suppress(Exception):  # priming is an optimisation only
                    rr.prime_from_index(self.index_dir, self.retriever.passages)
            return rr

        return self._once("reranker", load)

    @property
    def cross_reranker(self) -> Ranker | None:
        """The cross-encoder of the cascade's second step, or None (off, or "auto" and none
        trained, or no first-step reranker). Without ``[rerank] cross_model``, a corpus other
        than doc2dial gets the project's cross-encoder for other documents when it is trained
        (:func:`re3g.rank.load_cross`, ``[answer] calibration``)."""
        def load() -> Ranker | None:
            if self.reranker is None:
                return None
            from re3g.rank import load_cross

            with model_errors(f"cannot load the cross-encoder {self.config.cross_model or ''}"):
                corpus = self.corpus_fingerprint if self.config.cross_model is None else None
                return load_cross(self.config.cross, self.config.cross_model, corpus,
                                  self.config.calibration)

        return self._once("cross", load)

    @property
    def signal_cross(self) -> Ranker | None:
        """The cross-encoder whose logit of the top passage the learned decision reads (its
        ``cross`` signal): the ranking's own, except where the ranking uses the cross-encoder
        for other documents. That one ranks other documents' passages better but its logit
        tells answerable from unanswerable turns less well (single-signal AUROC on the written
        sets 0.66 with the doc2dial one, 0.59 with it; docs/answerability.md, Session 31), so
        the doc2dial one scores the top passage for the decision there (one more forward pass)."""
        def load() -> Ranker | None:
            from re3g.rank import load_cross, other_cross

            cross = self.cross_reranker
            if cross is None or self.config.cross_model is not None or other_cross(
                    self.corpus_fingerprint, self.config.calibration) is None:
                return cross
            with model_errors("cannot load the cross-encoder models/cross-reranker"):
                return load_cross(self.config.cross, None)

        return self._once("signal_cross", load)

    def cascade(self) -> dict[str, Any]:
        """The cross-encoder step's depth and weight as this pipeline resolves them (config,
        else the cross-encoder's manifest); empty without a cross-encoder."""
        from re3g.rank import cross_settings

        if self.cross_reranker is None:
            return {}
        depth, weight = cross_settings(self.cross_reranker, self.config.cross_depth,
                                       self.config.cross_weight)
        return {"cross_depth": depth, "cross_weight": weight}

    @property
    def chain(self) -> RankingChain:
        """Every reranking step (:class:`re3g.rank.RankingChain`) with this config's settings."""
        def load() -> RankingChain:
            cascade = self.cascade()  # without a cross-encoder the chain's defaults (unused)
            return RankingChain.from_config(self.ranking_config, self.reranker,
                                            self.cross_reranker, self.retriever.sparse,
                                            **cascade)

        return self._once("chain", load)

    @property
    def ranking_config(self) -> Config:
        """This config with the ranking settings for this corpus
        (:func:`re3g.rank.regime.ranking_for`): the defaults chosen on doc2dial there, the ones
        chosen on the written sets on any other documents, a value the config sets kept."""
        def load() -> Config:
            from re3g.rank.regime import ranking_for

            return ranking_for(self.config, self.corpus_fingerprint)

        return self._once("ranking_config", load)

    @property
    def extractor(self) -> Extractor | None:
        """The trained span extractor, or None (dense fallback, or extraction off); a reader
        with settings for other documents uses them unless this corpus is the one it was tuned
        on (:meth:`re3g.extract.SpanExtractor.for_corpus`, ``[answer] calibration``)."""
        from re3g.extract import SpanExtractor, load_extractor

        def load() -> Extractor | None:
            ex = load_extractor(self.config.extract, self.config.extractor)
            if isinstance(ex, SpanExtractor):  # the span vectors the index stores
                with contextlib.suppress(Exception):  # an optimisation only: else on demand
                    ex.prime_from_index(self.index_dir)
                if ex.other:  # its settings for documents it was not tuned on
                    ex.for_corpus(self.corpus_fingerprint, self.config.calibration)
            return ex

        return self._once("extractor", load)

    @property
    def checker(self) -> SpanExtractor | None:
        """The second start/end reader the learned decision reads (``[answer] checker``,
        default ``models/checker`` when it exists; :attr:`re3g.decide.Signals.check_null`),
        or None."""
        def load() -> SpanExtractor | None:
            from re3g.extract import load_checker

            # the reader that reads the checker as its judge shares it (one copy in memory,
            # and the decision's reading of the top passage comes from its memory)
            judge = getattr(self.extractor, "judge", None) if self.config.extract else None
            return load_checker(self.config.checker, getattr(judge, "reader", None))

        return self._once("checker", load)

    @property
    def fallback(self) -> DenseFallback:
        """The dense fallback extractor (also gives the query-passage cosine)."""
        return self._once("fallback", lambda: DenseFallback(self.encoder, self.documents,
                                                            self.config.top_n))

    @property
    def corpus_fingerprint(self) -> str | None:
        """The corpus's :func:`re3g.retrieve.index.corpus_fingerprint`: of the documents given
        to the pipeline (``documents=``), else the one the index manifest recorded at build
        time (the documents read from the index are checked against it); None when neither is
        at hand. The learned decision's calibration depends on whether the models were trained
        on this corpus. A pipeline given a ``retriever=`` should be given its ``documents=``
        too (or ``[answer] calibration``), as the evaluation runner does: otherwise the
        configured index names the corpus."""
        def load() -> str | None:
            from re3g.retrieve.index import corpus_fingerprint, read_manifest

            if self._documents_given:
                return corpus_fingerprint(self.documents.values()) if self.documents else None
            with contextlib.suppress(Re3GError, OSError, KeyError, TypeError):
                return str(read_manifest(self.index_dir)["corpus"]["sha256"])
            return None

        return self._once("corpus_fingerprint", load)

    @property
    def extractor_kind(self) -> str:
        """"extractor" (trained model), "dense-fallback", "passage" (no documents) or "off"."""
        if not self.config.extract:
            return "off"
        if self.extractor is not None:
            return "extractor"
        return "dense-fallback" if self.documents is not None else "passage"

    @property
    def rule(self) -> AbstainRule | LearnedRule:
        """The answer-or-abstain decision (:mod:`re3g.decide`): the learned one when
        ``[answer] learned`` allows it and its model was trained with the components in use,
        else the fixed rule."""
        return self._once("rule", self._load_rule)

    def _load_rule(self) -> AbstainRule | LearnedRule:
        want, name = self.config.learned, self.config.answerability
        if want is not False:
            path = Path(name) if name else model_path("answerability")
            if (path / "manifest.json").is_file():
                rule = LearnedRule.load(path, self.config.min_confidence)
                # the checker (45 MB) is loaded only for a decision trained with one
                mismatch = rule.mismatch(self.reranker, self.cross_reranker, self.extractor,
                                         self.checker if rule.needs_checker else None)
                if mismatch is None:
                    rule = rule.for_corpus(self.corpus_fingerprint, self.config.calibration)
                    differs = rule.ranking_differs(self.ranking_config, self.cascade())
                    if differs:
                        logger.warning("the answerability model in %s was trained on another "
                                       "ranking (%s): its confidence is less well calibrated; "
                                       "retrain it with `%s`", path, ", ".join(differs),
                                       ANSWERABILITY_TRAIN_CMD)
                    differs = rule.reader_differs(self.extractor)
                    if differs:
                        logger.warning("the answerability model in %s was fitted under other "
                                       "reader settings (%s): its confidence is less well "
                                       "calibrated; refit it with `%s`", path,
                                       ", ".join(differs), ANSWERABILITY_TRAIN_CMD)
                    return rule
                if want is True:
                    raise ModelError(f"the answerability model in {path} {mismatch}")
            elif want is True:
                raise ModelError(f"no answerability model at {path}: train one with "
                                 f"`{ANSWERABILITY_TRAIN_CMD}` or set [answer] learned = false")
        return AbstainRule(self.reranker, self.extractor_kind,
                           reader=self.extractor is not None and self.extractor.kind == "qa",
                           min_confidence=self.config.min_confidence)

    @property
    def min_confidence(self) -> float:
        return self.rule.threshold

    @property
    def generator(self) -> Generator:
        def load() -> Generator:
            from re3g.generate import make_generator

            name = self.config.generator
            try:
                return make_generator(name, **self.config.generator_options)
            except Re3GError:
                raise
            except (TypeError, ValueError) as exc:
                raise DataError(f"{self.config.source}: generator {name!r}: {exc}") from exc
            except Exception as exc:  # noqa: BLE001
                raise ModelError(f"cannot load the {name} generator: {type(exc).__name__}: "
                                 f"{exc}") from exc

        return self._once("generator", load)

    def warm_up(self) -> Re3G:
        """Load every component now and pay every first-call cost, so the first real question
        is answered as fast as later ones; returns the pipeline.

        Loads the index (and the JVM), the encoder, documents, reranking chain, extractor,
        decision and generator, then runs real turns through every stage with a question made
        from the index's first passage (its title and first words, so any corpus works): one
        opening turn (:meth:`answer`) and one follow-up (history with an agent turn, so the
        dialogue pool and document prior run too; every stage but generation), which
        JIT-compiles the searcher, runs torch's first forward passes and imports what the
        stages import lazily. When the opening turn was not grounded, the generator writes one
        reply from the follow-up's evidence instead.
        Errors propagate as those of :meth:`answer` do. Later calls return at once; a failed
        warm-up is retried by the next call. Answers are unchanged by it.

        >>> bot = Re3G().warm_up()                     # doctest: +SKIP
        >>> bot.warm_up() is bot                       # doctest: +SKIP
        True
        """
        def warm() -> bool:
            _ = (self.retriever, self.encoder, self.documents, self.chain, self.extractor,
                 self.fallback, self.rule, self.generator,  # the rule loads its checker
                 self.signal_cross)
            passages = self.retriever.passages
            words = (f"{passages[0].title} {passages[0].text}" if passages else "").split()
            opening = " ".join(words[:8]) or "What do the documents say?"
            follow_up = " ".join(words[8:16]) or opening
            first = self.answer(opening)
            ans, turns, _t0 = self.select([opening, first.text, follow_up])
            if not first.grounded and ans.evidence:  # the generator has not run yet
                self.generate(turns, ans.evidence, ans.passages)
            if ans.passages:
                self._passage_cosine(follow_up, ans.passages)
            return True

        self._once("warmed", warm)
        return self

    # -- stages (usable on their own, e.g. by batch evaluation) ---------------------------------
    def build_query(self, turns: Sequence[Turn]) -> str:
        return build_query(turns, max_words=self.config.query_max_words,
                           roles=self.config.query_roles)

    def retrieve(self, query: str, k: int | None = None) -> list[Hit]:
        with model_errors("retrieval failed"):
            return self.retriever.search(query, k=k or self.config.k)

    def candidates(self, turns: Sequence[Turn], k: int | None = None) -> tuple[str, list[Hit]]:
        """The dialogue query and its first-stage candidates: with a reranker, the hits of the
        query fused with those of the user's last turn alone (:func:`re3g.rank.dialogue_pool`),
        ``k`` (default: the config's) of them."""
        query = self.build_query(turns)
        k = k or self.config.k
        current = turns[-1].utterance or ""
        hits = self.retrieve(query, k)
        if self.reranker is not None and current != query:
            from re3g.rank import dialogue_pool

            hits = dialogue_pool(hits, self.retrieve(current, k), k)
        return query, hits

    def rank(self, query: str, hits: list[Hit], turns: Sequence[Turn]) -> Ranking:
        """Every reranking step on first-stage ``hits`` (:attr:`chain`): the ranked hits, the
        reranker's own best scores and the cross-encoder's logits (what the decision reads)."""
        with model_errors("reranking failed"):
            return self.chain.rank(query, hits, turns)

    def extract(self, query: str, hits: list[Hit], current: str | None = None,
                turns: Sequence[Turn] | None = None,
                documents: dict[str, Document] | None = None) -> list[Evidence]:
        """Evidence spans, best first (``top_n`` of them), with scores in [0, 1].

        ``current`` (the user's last turn) mixes into the trained extractor's span scores with
        weight ``current_weight``, as in reranking. With ``turns``, a start/end reader trained
        on other turns than the query's (its manifest's ``query_roles``) reads its own question.
        """
        if not hits or not self.config.extract:
            return []
        ex = self.extractor
        if ex is None:
            with model_errors("span scoring with the dense encoder failed"):
                return self.fallback.extract(query, hits)
        with model_errors("span extraction failed"):
            asked = ex.question(turns, documents or self.documents) if turns else None
            if self.reranker is None and ex.kind == "qa":
                # a reader's passage weighting was chosen on reranked scores; first-stage
                # scores (BM25, RRF) are on other scales, so it reads the top passage only
                hits = hits[:1]
            return list(ex.extract(query, hits, documents=documents or self.documents,
                                   top_n=self.config.top_n, current=current,
                                   current_weight=self.ranking_config.current_weight,
                                   reader_query=asked,
                                   previous=earlier_user(turns) if turns else None))

    def signals(self, turns: Sequence[Turn], ranking: Ranking, evidence: Sequence[Evidence],
                documents: dict[str, Document] | None = None, every: bool = False) -> Signals:
        """What the learned decision reads about this turn (:class:`re3g.decide.Signals`);
        ``documents`` as given to :meth:`extract` (the reader's null comes from its memory).
        A costly signal the decision does not read is left out unless ``every`` (training rows
        hold them all)."""
        hits = ranking.hits
        rule = self.rule  # a decision that does not read a costly signal does not compute it
        skipped = () if every else tuple(n for n in LAZY_SIGNALS
                                         if isinstance(rule, LearnedRule) and not rule.reads(n))
        if not hits:
            return Signals(skipped=skipped)
        from re3g.data.passages import passage_contents
        from re3g.retrieve.dense import encode

        current = (turns[-1].utterance or "") if turns else ""
        top = hits[0].passage
        rr = self.reranker
        texts = [" ".join((current or "?").split()), passage_contents(top)]
        if evidence:
            texts.append(" ".join(evidence[0].text.split()))
        with model_errors("dense encoder failed"):
            vecs = encode(self.encoder, texts)  # one batch: the turn, the passage, the evidence
        null = check = 0.0
        ex = self.extractor if self.config.extract else None
        docs = documents or self.documents
        query = self.build_query(turns)
        if ex is not None and ex.kind == "qa":
            with model_errors("span extraction failed"):
                null = ex.null_score(query, hits, docs, ex.question(turns, docs))
        pid = evidence[0].passage_id if evidence else ""
        read = next((h for h in hits if h.passage.pid == pid), hits[0])  # the top evidence's
        if "check_null" not in skipped and self.checker is not None:
            with model_errors("the checker failed"):
                check = self.checker.null_score(query, [read], docs,
                                                self.checker.question(turns))
        cross = ranking.cross_logits.get(top.pid, 0.0)
        judge = self.signal_cross
        if judge is not None and judge is not self.cross_reranker and top.pid in \
                ranking.cross_logits:
            with model_errors("the cross-encoder failed"):
                cross = float(judge.score(judge.question(turns) or query, [top])[0])
        doc_cover, missing = 1.0, 0.0
        if "doc_cover" not in skipped or "corpus_missing" not in skipped:
            doc_cover, missing = self._coverage(turns, read, documents)
        return Signals(relevance=rr.relevance(ranking.top_score) if rr is not None else 0.0,
                       cross=cross,
                       reader=evidence[0].score if evidence else 0.0,
                       cosine=float(min(1.0, max(0.0, vecs[0] @ vecs[1]))),
                       overlap=word_overlap(current, passage_contents(top)),
                       gap=ranking.top_score - ranking.runner_up,
                       evidence_overlap=stem_overlap(current, evidence[0].text)
                       if evidence else 0.0,
                       evidence_cosine=float(vecs[0] @ vecs[2]) if evidence else 0.0,
                       null=null,
                       sure=evidence[0].sure or 0.0 if evidence else 0.0,
                       check_null=check, doc_cover=doc_cover, corpus_missing=missing,
                       judge=evidence[0].judged or 0.0 if evidence else 0.0,
                       skipped=skipped)

    def _coverage(self, turns: Sequence[Turn], read: Hit,
                  documents: dict[str, Document] | None) -> tuple[float, float]:
        """(``doc_cover``, ``corpus_missing``) of :class:`re3g.decide.Signals`: the turn's new
        stems against the document of ``read`` (the top evidence's passage; its own text when
        the document is not at hand) and against the corpus, as ``documents`` holds it when
        given (a document removed or blanked for a synthetic unanswerable turn counts as gone);
        nothing counts as missing when the documents are not found."""
        asked = new_stems(turns[-1].utterance or "", [t.utterance or "" for t in turns[:-1]])
        vocabulary = self.vocabulary
        known = vocabulary.stems(read.passage.doc_id, documents)
        if known is None:
            from re3g.data.passages import passage_contents

            known = content_stems(passage_contents(read.passage))
        missing = vocabulary.missing(asked, documents) if vocabulary else 0
        return cover_share(asked, known), float(missing)

    def decide(self, turns: Sequence[Turn], query: str, ranking: Ranking,
               evidence: list[Evidence], documents: dict[str, Document] | None = None
               ) -> tuple[Decision, Signals | None]:
        """Answer or abstain (:attr:`rule`), with the signals the learned rule read. Where
        ``kind_check`` applies (:meth:`checks`), an answer whose top evidence lacks the kind
        the turn asks for ("how much" and no amount) is refused
        (:func:`re3g.extract.answer_type.missing_kind`, :meth:`re3g.decide.Decision.lacking`;
        since session 53 also a lower price asked and none given);
        where ``absent_check`` applies, so is a question about something no document names,
        or not the document of the top evidence (:meth:`check_named`);
        where ``repeat_check`` applies, so is an answer whose top evidence an earlier reply
        already gave (:func:`re3g.data.query.said_before`) when it is tentative or the sentence
        holds none of the words the turn newly asks (:func:`re3g.data.query.adds_nothing`,
        :meth:`re3g.decide.Decision.repeats`)."""
        rule = self.rule
        signals = None
        if isinstance(rule, LearnedRule):
            signals = self.signals(turns, ranking, evidence, documents)
            decision = rule.decide(signals)
        else:
            decision = rule.decide(ranking.hits, evidence, ranking.top_score,
                                   lambda: self._passage_cosine(query, ranking.hits))
        if decision.grounded and evidence and turns and self.checks("kind_check"):
            kind = missing_kind(turns[-1].utterance or "", evidence[0].text)
            if kind is not None:
                decision = decision.lacking(kind)
        if decision.grounded and turns and self.checks("absent_check"):
            decision = self.check_named(turns[-1].utterance or "", evidence, decision, documents)
        if (decision.grounded and evidence and self.checks("repeat_check")
                and said_before(evidence[0].text, turns[:-1])):
            if decision.tentative:
                decision = decision.repeats("unsure")
            elif adds_nothing(evidence[0].text, turns):
                decision = decision.repeats("nothing new")
        return decision, signals

    def check_named(self, question: str, evidence: list[Evidence], decision: Decision,
                    documents: dict[str, Document] | None = None) -> Decision:
        """``decision``, refused (:meth:`re3g.decide.Decision.unnamed`) when ``question`` asks
        whether something is there or on offer (:func:`re3g.extract.asked_thing.asked_things`)
        and no document names it, or the document of the top evidence (the one the reply would
        quote) does not: a page that offers a thing names it, so a sentence from a page that
        never mentions "parking" does not answer "is there parking?" (session 50,
        ``bench/results/gates-s50.md``). Where the documents are not at hand (no vocabulary,
        or not the top evidence's document) nothing counts as unnamed there. Offer words
        (:data:`re3g.extract.asked_thing.OFFER_WORDS`) need not be named when the top evidence
        names what the offer is for and gives a price or a lower one
        (:func:`re3g.extract.asked_thing.offer_answered`: "any discount on universal credit"
        answered by "Families on Universal Credit pay half price", session 51)."""
        asked = asked_things(question)
        vocabulary = self.vocabulary
        if not asked or not vocabulary:
            return decision
        if evidence:  # an offer word need not be named where the sentence gives the price
            asked = to_be_named(question, asked, evidence[0].text)
        absent = tuple(w for w in asked if not vocabulary.names(w, documents))
        if absent:
            return decision.unnamed(absent)
        own = vocabulary.of(evidence[0].doc_id, documents) if evidence else None
        if own is None:
            return decision
        absent = tuple(w for w in asked if not own.names(w))
        if absent:
            return decision.unnamed(absent, evidence[0].title or evidence[0].doc_id)
        return decision

    def checks(self, setting: str) -> bool:
        """Whether the refusal check set by ``[answer] setting`` (``kind_check``,
        ``absent_check``, ``repeat_check``) applies here: "all", or "other" under the learned
        decision's "other" calibration."""
        check = getattr(self.config, setting)
        return check == "all" or (check == "other"
                                  and getattr(self.rule, "calibration", "") == "other")

    def assess(self, turns: Sequence[Turn], query: str, hits: list[Hit],
               documents: dict[str, Document] | None = None
               ) -> tuple[Ranking, list[Evidence], Decision, Signals | None]:
        """Rank, extract and decide for first-stage ``hits`` (``documents``: other documents
        than the index's, e.g. in evaluation with a span blanked out)."""
        ranking = self.rank(query, hits, turns)
        current = turns[-1].utterance or ""
        evidence = self.extract(query, ranking.hits, current, turns, documents)
        decision, signals = self.decide(turns, query, ranking, evidence, documents)
        return ranking, evidence, decision, signals

    def _passage_cosine(self, query: str, hits: list[Hit]) -> float:
        with model_errors("dense encoder failed"):
            return self.fallback.passage_confidence(query, hits)

    def generate(self, turns: list[Turn], evidence: list[Evidence], hits: list[Hit]) -> str:
        """The reply for already selected evidence (the generator's whole output)."""
        with model_errors(f"the {self.config.generator} generator failed"):
            return self.generator.generate(turns, evidence[: self.config.reply_spans], hits)

    # -- one turn --------------------------------------------------------------------------------
    def select(self, history: Any) -> tuple[Answer, list[Turn], float]:
        """Every stage but generation; returns the Answer without its text, the turns and the
        start time."""
        t0 = time.perf_counter()
        timings = dict.fromkeys(STAGES, 0.0)
        turns, cut = normalize_history(history, self.config.max_turn_chars)
        t1 = time.perf_counter()
        timings["query"] = t1 - t0
        query, hits = self.candidates(turns)
        timings["retrieve"] = time.perf_counter() - t1
        answer = self.settle(turns, query, hits, timings)
        if cut:
            answer.extra["truncated"] = cut
        return answer, turns, t0

    def settle(self, turns: Sequence[Turn], query: str, hits: list[Hit],
               timings: dict[str, float] | None = None) -> Answer:
        """Ranking, extraction and the decision on first-stage ``hits`` of the normalised
        ``turns`` (what :meth:`select` does after retrieval; ``re3g serve`` runs it in its own
        deployment): the Answer without its text, stage times added to ``timings``."""
        timings = timings if timings is not None else dict.fromkeys(STAGES, 0.0)
        t2 = time.perf_counter()
        ranking = self.rank(query, hits, turns)
        hits = ranking.hits
        t3 = time.perf_counter()
        timings["rerank"] = t3 - t2
        evidence = self.extract(query, hits, turns[-1].utterance or "", turns)
        decision, signals = self.decide(turns, query, ranking, evidence)
        timings["extract"] = time.perf_counter() - t3
        extra: dict[str, Any] = {
            "query": query, "extractor": self.extractor_kind,
            "reranker": "on" if self.reranker is not None else "off",
            "generator": self.config.generator, "min_confidence": decision.threshold,
            "reply_spans": min(self.config.reply_spans, len(evidence)),
            "decision": "learned" if signals is not None else "rule",
            **caution(decision, evidence[0].sure if evidence else None,
                      getattr(self.extractor, "sureness", None)),
        }
        if decision.missing:
            extra["missing"] = decision.missing  # refused: the pick lacks the kind asked for
        if decision.absent:
            # refused: no document (or not the one the reply would quote) names what is asked
            extra["absent"] = list(decision.absent)
            if decision.absent_from:  # the title of that one document
                extra["absent_from"] = decision.absent_from
        if decision.repeated:
            # refused: a pick an earlier reply already gave ("unsure" or "nothing new")
            extra["repeated"] = decision.repeated
        if signals is not None:
            extra["signals"] = signals.as_dict()
            extra["calibration"] = self.rule.calibration
        return Answer("", evidence, hits, timings, decision.confidence, decision.grounded,
                      extra)

    def answer(self, history: list[str] | list[Turn] | str) -> Answer:
        """Answer the last user turn of ``history`` (see the module doc for the input rules)."""
        ans, turns, t0 = self.select(history)
        t = time.perf_counter()
        ans.text = (self.generate(turns, ans.evidence, ans.passages) if ans.grounded
                    else refused_reply(ans, self.config.abstain_reply))
        ans.timings["generate"] = time.perf_counter() - t
        ans.timings["total"] = time.perf_counter() - t0
        return ans

    def stream(self, history: list[str] | list[Turn] | str) -> Iterator[str | Answer]:
        """Yield the reply in pieces as the generator produces them, then the final Answer.

        The pieces concatenate to ``Answer.text``. Backends that cannot stream (extractive)
        yield the whole reply once; llm/http backends yield tokens as they arrive.
        """
        ans, turns, t0 = self.select(history)
        t = time.perf_counter()
        pieces: list[str] = []
        if ans.grounded:
            with model_errors(f"the {self.config.generator} generator failed"):
                for piece in self.generator.stream(
                        turns, ans.evidence[: self.config.reply_spans], ans.passages):
                    if piece:
                        if not pieces:
                            ans.extra["first_piece_s"] = time.perf_counter() - t0
                        pieces.append(piece)
                        yield piece
            ans.text = "".join(pieces).strip()
        else:
            ans.text = refused_reply(ans, self.config.abstain_reply)
            yield ans.text
        ans.timings["generate"] = time.perf_counter() - t
        ans.timings["total"] = time.perf_counter() - t0
        yield ans


__all__ = ["STAGES", "Config", "Re3G"]
