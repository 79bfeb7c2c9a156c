"""Fine-grained knowledge selection: the grounding span inside the top passages.

The project's extractor (``models/extractor``, made by ``re3g train extractor``) scores
doc2dial's own spans directly: a query tower fine-tuned from the packaged all-MiniLM-L6-v2 is
compared with the frozen base-model vector of every span of the top passages (not only the
first), the best span is taken and grown over its neighbours while they score nearly as well, so
every prediction is a contiguous run of whole document spans with exact character offsets.
Users with a model hub may instead name any extractive QA model (``AutoModelForQuestionAnswering``);
its start/end answer is snapped outwards to the document's span boundaries.

    >>> from re3g.extract import SpanExtractor
    >>> ex = SpanExtractor.load()                                   # doctest: +SKIP
    >>> ev = ex.extract("can I renew online?", hits, documents)[0]  # doctest: +SKIP
    >>> ev.doc_id, ev.span_ids, ev.text, ev.score                   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from re3g import models
from re3g.config import QUERY_ROLES, Config, corpus_calibration
from re3g.errors import ModelError, Re3GError
from re3g.extract.spans import Candidate, candidates_for, passage_spans, snap, span_text
from re3g.extract.sureness import Sureness, pick_features
from re3g.models import LoadedModel
from re3g.types import Document, Evidence, Hit, Span, Turn

TRAIN_CMD = "re3g train extractor --profile full"
RANGE_SETTINGS = ("n_passages", "rerank_weight", "null_weight", "rank_penalty", "snap_ratio",
                  "span_penalty", "overlap_weight", "cosine_weight", "reader_weight",
                  "judge_weight", "key_weight", "type_weight", "number_weight", "month_weight",
                  "named_weight")
"""How a start/end reader's ranges are weighed (settings chosen on data, see
``re3g.train.select_reader``); the ``unsure`` regime may override any of them."""
OTHER_KEYS = frozenset({"tuned_corpus", "unsure_margin", "unsure", "query_roles",
                        "skip_quotes"})
"""Keys of a reader's ``other`` settings besides :data:`RANGE_SETTINGS` (``query_roles``: which
turns its question holds on other documents, ``python -m re3g.train.select_reader --roles``;
``skip_quotes``: whether it leaves out agent turns that quote the documents word for word)."""


def default_extractor_path() -> Path:
    """The pipeline's extractor: the start/end reader ``models/extractor-qa`` (which also
    consults the span scorer ``models/extractor`` beside it) when it is there, else the span
    scorer alone."""
    return models.model_path("extractor-qa" if models.trained("extractor-qa") else "extractor")


class SpanExtractor(LoadedModel):
    """Predicts grounding evidence (whole document spans) from the dialogue query and top hits.

    >>> ex = SpanExtractor.load()  # doctest: +SKIP
    >>> [e.span_ids for e in ex.extract("fees?", hits, docs, top_n=2)]  # doctest: +SKIP
    [['12', '13'], ['40']]
    """

    def __init__(self, kind: str, model: Any, manifest: dict[str, Any] | None = None,
                 path: str = "", quantized: bool = False) -> None:
        super().__init__(kind, model, manifest, path, quantized)
        st = self.settings
        self.scale = float(st.get("scale", 20.0))
        self.n_passages = int(st.get("n_passages", 3))
        self.rank_penalty = float(st.get("rank_penalty", 1.0))
        self.extend_ratio = float(st.get("extend_ratio", 0.5))
        self.max_spans = int(st.get("max_spans", 4))
        # start/end readers (kind "qa"): how a range's score is combined across passages
        self.rerank_weight = float(st.get("rerank_weight", 0.0))
        self.null_weight = float(st.get("null_weight", 0.0))
        self.snap_ratio = float(st.get("snap_ratio", 0.5))
        # start/end readers: score taken off a range per document span beyond its first (the
        # reader favours long ranges from a passage's start; see bench/reader_position.py),
        # and how many ranges per passage are weighed
        self.span_penalty = float(st.get("span_penalty", 0.0))
        # start/end readers: score added per unit of the share of the user's last turn's
        # content stems found in a range (the reader, tuned on doc2dial, often takes a
        # neighbouring sentence of the right one; the user's own words point to it)
        self.overlap_weight = float(st.get("overlap_weight", 0.0))
        # start/end readers: score added per unit of cosine between the user's last turn and
        # the best span of a range under the packaged general-purpose encoder (all-MiniLM,
        # trained far beyond doc2dial): the reader's own scores flatten on documents unlike
        # doc2dial, where it drifts to a passage's first sentence
        self.cosine_weight = float(st.get("cosine_weight", 0.0))
        # start/end readers: how much the reader's own range score counts (1: fully); below
        # 1 every sentence of the passages read also stands as a range of its own, scored as
        # the reader's lowest kept range there, so the other terms can reach sentences the
        # reader did not propose
        self.reader_weight = float(st.get("reader_weight", 1.0))
        # start/end readers: score added per unit of the sentence judge's log-odds that the
        # range's best span answers the question (re3g.extract.judge)
        self.judge_weight = float(st.get("judge_weight", 0.0))
        # start/end readers: score added per unit of the share of a table row's first cell
        # (its name: "Friday", "Single class"; re3g.data.ingest.table.row_key) found among
        # the user's last turn's content stems: rows of a table read alike to the reader and
        # the encoder, and the row the user names is the one asked about; a word the user
        # negates ("not flashing") counts against the rows whose name holds it
        # (re3g.data.words.named_key_share)
        self.key_weight = float(st.get("key_weight", 0.0))
        # start/end readers: score added when the user's last turn asks for a kind of answer
        # (an amount of money, a date or time, a duration, a number: re3g.extract.answer_type)
        # and the range holds one; a sentence that shares the question's words but holds no
        # amount rarely answers "how much"
        self.type_weight = float(st.get("type_weight", 0.0))
        # start/end readers: score added when the user's last turn gives a number and the
        # range holds a range or bound it falls in ("for 15 people" and "Serves: 14 to 18":
        # re3g.extract.numbers); the user compares the number rather than repeating it, so
        # neither the words nor the reader point at that row
        self.number_weight = float(st.get("number_weight", 0.0))
        # start/end readers: score added when the user's last turn names a month and the range
        # holds a stretch or list of months it falls in ("in may" and "Season: April to June":
        # re3g.extract.months), for the same reason as the number term
        self.month_weight = float(st.get("month_weight", 0.0))
        # start/end readers: score added when the range holds the one row the user names in
        # full, or a follow-up names with the turn before (re3g.extract.rows): a follow-up
        # names only what changes ("and if it's flashing?" after "blue and steady"), and a row
        # whose text repeats the question's other words outscores the row meant
        self.named_weight = float(st.get("named_weight", 0.0))
        # start/end readers: when the reader's margin (best range minus "no answer") on the
        # top passage is below ``unsure_margin``, the ranges are weighed with the ``unsure``
        # settings instead (any of RANGE_SETTINGS). On documents unlike doc2dial the margin
        # sits far lower (median -8 vs -2.5 on train dev turns) and the reader's choice of
        # sentence is little better than its position; there the user's words decide more.
        margin = st.get("unsure_margin")
        self.unsure_margin = float("-inf") if margin is None else float(margin)
        self.unsure: dict[str, float] = {k: float(v) for k, v in
                                         (st.get("unsure") or {}).items()}
        unknown = sorted(set(self.unsure) - set(RANGE_SETTINGS))
        if unknown:
            raise ModelError(f"{path}: unknown settings under 'unsure': {unknown}; "
                             f"known: {list(RANGE_SETTINGS)}")
        self.ranges_kept = int(st.get("ranges_kept", 10))
        # start/end readers: the range settings for documents the reader was not tuned on
        # (chosen on the written development sets alone, ``select_reader --other``), which
        # :meth:`for_corpus` puts in place of the ones above on any other corpus
        self.other: dict[str, Any] = dict(st.get("other") or {})
        unknown = sorted(set(self.other) - set(RANGE_SETTINGS) - OTHER_KEYS
                         | set(self.other.get("unsure") or {}) - set(RANGE_SETTINGS))
        if unknown:
            raise ModelError(f"{path}: unknown settings under 'other': {unknown}; known: "
                             f"{[*RANGE_SETTINGS, *sorted(OTHER_KEYS)]}")
        # start/end readers: which turns their question holds (re3g.data.build_query roles);
        # ``other`` may name others for documents the reader was not tuned on
        self.query_roles = str(st.get("query_roles", "user"))
        for where, roles in (("query_roles", self.query_roles),
                             ("other.query_roles", self.other.get("query_roles", "user"))):
            if roles not in QUERY_ROLES:
                raise ModelError(f"{path}: settings key {where} is {roles!r}; expected one of "
                                 f"{list(QUERY_ROLES)}")
        # start/end readers: leave out of the question the agent turns that quote the
        # documents word for word (the chat's own extractive replies; doc2dial's agents
        # paraphrase, and a reader trained on them moves off a sentence it sees quoted)
        self.skip_quotes = bool(st.get("skip_quotes", False))
        self._quoted: tuple[int, str, dict[str, bool]] = (0, "", {})
        self._tuned = {**{k: getattr(self, k) for k in RANGE_SETTINGS},
                       "unsure_margin": self.unsure_margin, "unsure": dict(self.unsure),
                       "query_roles": self.query_roles, "skip_quotes": self.skip_quotes}
        self.regime = "tuned"
        # start/end readers: the project's span scorer (a tower extractor) as a second opinion;
        # each range gains helper_weight x the mean log-probability of its spans under it
        self.helper: SpanExtractor | None = None
        # start/end readers: the sentence judge (re3g.extract.judge) when judge_weight is used
        self.judge: Any = None
        self.helper_weight = float(st.get("helper_weight", 0.0))
        self._snaps: dict[tuple[str, int, int, float], list[Span]] = {}
        # start/end readers: P(the top evidence is the sentence asked about), from how far the
        # pick stands out from the runner-up (re3g.extract.sureness; select_reader --sureness)
        model = st.get("sureness")
        self.sureness = Sureness(model) if model else None

    def for_corpus(self, fingerprint: str | None, calibration: str = "auto") -> str:
        """Put the range settings for a corpus in place and say which: "tuned" (the manifest's
        own, on the corpus the reader was tuned on, its ``other.tuned_corpus``) or "other"
        (``other``'s, on any other corpus, or when the fingerprint is unknown).
        ``calibration`` "tuned" or "other" forces one (the same switch as the learned
        decision's, :meth:`re3g.decide.LearnedRule.for_corpus`). A reader without ``other``
        settings is always "tuned".

        >>> ex = SpanExtractor("qa", None, {"settings": {"cosine_weight": 2.0,
        ...     "other": {"tuned_corpus": "abc", "cosine_weight": 20.0, "unsure_margin": None}}})
        >>> ex.for_corpus("xyz"), ex.cosine_weight, ex.for_corpus("abc"), ex.cosine_weight
        ('other', 20.0, 'tuned', 2.0)
        """
        try:
            wanted = corpus_calibration(calibration, fingerprint, self.other.get("tuned_corpus"))
        except ValueError as exc:
            raise ModelError(str(exc)) from exc
        if not self.other:
            wanted = "tuned"
        base = self._tuned
        for k in RANGE_SETTINGS:
            setattr(self, k, base[k])
        self.unsure_margin, self.unsure = base["unsure_margin"], dict(base["unsure"])
        self.query_roles = self.roles_for(wanted)
        self.skip_quotes = bool(self.other.get("skip_quotes", base["skip_quotes"])
                                if wanted == "other" else base["skip_quotes"])
        if wanted == "other":
            for k in RANGE_SETTINGS:
                if k in self.other:
                    v = self.other[k]
                    setattr(self, k, int(v) if k == "n_passages" else float(v))
            if "unsure_margin" in self.other:
                m = self.other["unsure_margin"]
                self.unsure_margin = float("-inf") if m is None else float(m)
                self.unsure = {k: float(v) for k, v in (self.other.get("unsure") or {}).items()}
        self.regime = wanted
        return wanted

    def roles_for(self, regime: str) -> str:
        """The turns the reader's question holds (:func:`re3g.data.build_query` roles) under
        ``regime`` ("tuned" or "other", :meth:`for_corpus`'s answer): the manifest's
        ``query_roles``, or ``other.query_roles`` on other documents when it is set.

        >>> ex = SpanExtractor("qa", None, {"settings": {"query_roles": "all",
        ...     "other": {"tuned_corpus": "abc", "query_roles": "user"}}})
        >>> ex.roles_for("tuned"), ex.roles_for("other"), ex.for_corpus("xyz"), ex.query_roles
        ('all', 'user', 'other', 'user')
        """
        tuned = str(self._tuned["query_roles"])
        if regime != "other" or not self.other:
            return tuned
        return str(self.other.get("query_roles", tuned))

    # -- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, path_or_name: str | Path | None = None, quantize: bool | None = None
             ) -> SpanExtractor:
        """The project's extractor (None: :func:`default_extractor_path`), a trained folder,
        or an extractive QA model by folder or hub name."""
        q = (models.device() == "cpu") if quantize is None else quantize
        where, name = models.locate_model(path_or_name, default_extractor_path(), "extractor",
                                   TRAIN_CMD)
        if where != "manifest":
            return cls._load_qa(name, local=where == "folder")
        path = Path(name)
        manifest = models.read_model_manifest(path, "extractor", TRAIN_CMD)
        if manifest.get("architecture") != "qa":
            return cls._load_tower(path, manifest, q)
        # int8 costs the reader ~1.8 F1 (gold passages, validation turns 100-299) and it reads
        # one passage per turn, so fp32 is the default even on CPU
        ex = cls._load_qa(name, local=True, manifest=manifest, quantized=bool(quantize))
        helper = manifest.get("settings", {}).get("helper")
        if helper and ex.helper_weight > 0:
            ex.helper = cls._load_helper(path, str(helper), q)
        judge = manifest.get("settings", {}).get("judge")
        # a judge weighed in either regime, on doc2dial or (``other``) on any other corpus
        if judge and (ex.judge_weight or ex.unsure.get("judge_weight")
                      or ex.other.get("judge_weight")
                      or (ex.other.get("unsure") or {}).get("judge_weight")):
            ex.judge = cls._load_judge(path, str(judge))
        return ex

    @staticmethod
    def _load_judge(reader_path: Path, judge: str) -> Any:
        """The judge a reader's manifest names (a folder beside the reader's): a sentence
        judge, or a second start/end reader (:func:`re3g.extract.judge.load_judge`)."""
        from re3g.extract.judge import JUDGE_TRAIN_CMD, load_judge

        jp = beside(reader_path, judge)
        if not (jp / "manifest.json").is_file():
            raise ModelError(
                f"the reader in {reader_path} weighs its ranges with the judge {jp}, "
                f"which is missing: train it with `{JUDGE_TRAIN_CMD}` (or set judge_weight to "
                f"0 in {reader_path / 'manifest.json'})")
        return load_judge(jp)

    @classmethod
    def _load_helper(cls, reader_path: Path, helper: str, quantized: bool) -> SpanExtractor:
        """The span scorer a reader's manifest names (a folder beside the reader's)."""
        hp = beside(reader_path, helper)
        if not (hp / "manifest.json").is_file():
            raise ModelError(
                f"the reader in {reader_path} combines its ranges with the span scorer {hp}, "
                f"which is missing: train it with `{TRAIN_CMD}` (or set helper_weight to 0 in "
                f"{reader_path / 'manifest.json'})")
        manifest = models.read_model_manifest(hp, "extractor", TRAIN_CMD)
        if manifest.get("architecture") == "qa":
            raise ModelError(f"{hp} is a start/end reader, not a span scorer")
        return cls._load_tower(hp, manifest, quantized)

    @classmethod
    def _load_tower(cls, path: Path, manifest: dict[str, Any], quantized: bool
                    ) -> SpanExtractor:
        return cls("tower", models.load_tower(path, manifest, quantized), manifest, str(path),
                   quantized=quantized)

    @classmethod
    def _load_qa(cls, name: str, local: bool, manifest: dict[str, Any] | None = None,
                 quantized: bool = False) -> SpanExtractor:
        from re3g.extract.reader import QAReader

        if local and manifest is None:
            models.hub_architectures(Path(name), "extractor", "QuestionAnswering",
                              ("a QA model", "an extractive QA model"), TRAIN_CMD)
        try:
            q_tokens = (manifest or {}).get("settings", {}).get("max_question_tokens")
            reader = QAReader.load(name, local=local, quantized=quantized,
                                   max_question_tokens=int(q_tokens or models.MAX_QUESTION_TOKENS))
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"cannot load extractive QA model {name!r} ({exc}); without a "
                             f"model hub use the project's extractor (`{TRAIN_CMD}`)") from exc
        return cls("qa", reader, manifest or {"kind": "extractor", "base_model": name}, name,
                   quantized=quantized)

    # -- scoring -------------------------------------------------------------------------------
    def span_vectors(self, cands: Sequence[Candidate]) -> Any:
        # fp32: the vectors it was trained against
        enc = models.base_encoder(models.SPAN_MAX_TOKENS)
        from re3g.retrieve.span_store import span_key

        texts = [span_text(c.text) for c in cands]
        return self.cache.get([span_key(c.doc_id, c.span_id, c.text) for c in cands], texts, enc)

    def prime_from_index(self, index_dir: str | Path) -> int:
        """Load the span vectors an index stores (:mod:`re3g.retrieve.span_store`) into the
        vector cache; the number loaded (0 when the index has none)."""
        import torch

        from re3g.retrieve.span_store import load_span_vectors

        stored = load_span_vectors(index_dir)
        if stored is None or len(stored[0]) > self.cache.max_items // 2:
            return 0  # none, or so many that the cache would clear itself on later misses
        keys, vectors = stored
        self.cache.put(keys, torch.from_numpy(vectors))
        return len(keys)

    def prime_from_cache(self, path: str | Path, documents: dict[str, Document]) -> bool:
        """Seed the span-vector cache from a file written by ``re3g train extractor``
        (``{"keys": [(doc_id, span_id)], "vectors"}``); False when it is missing or unusable."""
        import torch

        from re3g.retrieve.span_store import span_key

        if self.kind != "tower":
            return self.helper.prime_from_cache(path, documents) if self.helper else False
        try:
            state = torch.load(Path(path), map_location="cpu", weights_only=False)
            keys = [span_key(d, s, documents[d].span(s).text)
                    for d, s in (tuple(k) for k in state["keys"])]
        except Exception:  # noqa: BLE001 - a stale or damaged cache is simply not used
            return False
        self.cache.put(keys, state["vectors"])
        return True

    def score_candidates(self, query: str, cands: Sequence[Candidate]) -> list[float]:
        """Logits of the candidates (higher is better), before the passage-rank prior."""
        import torch

        if not cands:
            return []
        with torch.inference_mode():
            q = self.model.encode([query])[0]
        return [float(s) * self.scale for s in self.span_vectors(cands) @ q]

    # -- extraction ----------------------------------------------------------------------------
    def extract(self, query: str, hits: Sequence[Hit],
                documents: dict[str, Document] | None = None, top_n: int = Config.top_n,
                current: str | None = None, current_weight: float = 0.0,
                reader_query: str | None = None, previous: str | None = None
                ) -> list[Evidence]:
        """Up to ``top_n`` evidence spans, best first, each a run of whole document spans.

        ``Evidence.score`` is a confidence in [0, 1] (softmax mass of the chosen spans).
        With ``current`` (the user's last turn) and ``current_weight`` w > 0, span scores mix
        the dialogue query's and the current turn's: (1 - w) * s(query) + w * s(current).
        An extractive QA model (``kind == "qa"``) reads the dialogue query only, or
        ``reader_query`` when given (the question built with its ``query_roles``,
        :meth:`question`); its helper scores ``query``. ``previous``: the user's turn before
        ``current`` (what the ``named_weight`` term reads, :meth:`select_ranges`).
        """
        from re3g.retrieve.base import check_query

        query = check_query(query)
        if top_n < 1:
            raise ValueError(f"top_n must be >= 1, got {top_n}")
        if not hits:
            return []
        if self.kind == "qa":
            readings = self.read(check_query(reader_query) if reader_query else query, hits,
                                 documents)
            lp = (self.helper_scores(query, hits[:len(readings)], documents, current,
                                     current_weight) if self.helper_weight else None)
            judged = self.judged(reader_query or query, readings, documents)
            return self.select_ranges(readings, hits, documents, top_n, lp, current,
                                      judged=judged, previous=previous)
        cands = candidates_for(hits, documents, max(1, self.n_passages))
        logits = self.mixed_scores(query, cands, current, current_weight)
        logits = [s - self.rank_penalty * c.hit_index for s, c in zip(logits, cands, strict=True)]
        return self._select(cands, logits, documents, top_n)

    def mixed_scores(self, query: str, cands: Sequence[Candidate], current: str | None = None,
                     current_weight: float = 0.0) -> list[float]:
        """Span logits for the dialogue query, mixed with the current turn's (weight w)."""
        logits = self.score_candidates(query, cands)
        if current and current_weight > 0 and current.strip() != query:
            own = self.score_candidates(current.strip(), cands)
            logits = [(1 - current_weight) * a + current_weight * b
                      for a, b in zip(logits, own, strict=True)]
        return logits

    def helper_scores(self, query: str, hits: Sequence[Hit],
                      documents: dict[str, Document] | None, current: str | None = None,
                      current_weight: float = 0.0) -> dict[tuple[str, str], float] | None:
        """Log-probability of each span of ``hits`` under the helper span scorer, normalised
        within its passage; None without a helper."""
        if self.helper is None or not hits:
            return None
        cands = candidates_for(hits, documents, len(hits))
        if not cands:
            return None
        logits = self.helper.mixed_scores(query, cands, current, current_weight)
        by_hit: dict[int, list[int]] = {}
        for i, c in enumerate(cands):
            by_hit.setdefault(c.hit_index, []).append(i)
        out: dict[tuple[str, str], float] = {}
        for idx in by_hit.values():
            m = max(logits[i] for i in idx)
            z = m + math.log(sum(math.exp(logits[i] - m) for i in idx))
            for i in idx:
                out[(cands[i].doc_id, cands[i].span_id)] = logits[i] - z
        return out

    def _select(self, cands: list[Candidate], logits: list[float],
                documents: dict[str, Document] | None, top_n: int) -> list[Evidence]:
        if not cands:
            return []
        m = max(logits)
        exps = [math.exp(x - m) for x in logits]
        z = sum(exps)
        probs = [e / z for e in exps]
        used: set[int] = set()
        by_pos = {(c.hit_index, c.order): i for i, c in enumerate(cands)}
        out: list[Evidence] = []
        for best in sorted(range(len(cands)), key=lambda i: -probs[i]):
            if len(out) >= top_n:
                break
            if best in used:
                continue
            run = [best]
            c0 = cands[best]
            lo = hi = c0.order
            while len(run) < self.max_spans:
                left = by_pos.get((c0.hit_index, lo - 1))
                right = by_pos.get((c0.hit_index, hi + 1))
                options = [j for j in (left, right) if j is not None and j not in used]
                if not options:
                    break
                j = max(options, key=lambda i: probs[i])
                if probs[j] < self.extend_ratio * probs[best]:
                    break
                run.append(j)
                if j == left:
                    lo -= 1
                else:
                    hi += 1
            used.update(run)
            run.sort(key=lambda i: cands[i].order)
            out.append(self._evidence([cands[i] for i in run], sum(probs[i] for i in run),
                                      documents))
        return out

    @staticmethod
    def _evidence(run: list[Candidate], conf: float, documents: dict[str, Document] | None
                  ) -> Evidence:
        first, last = run[0], run[-1]
        p = first.passage
        doc = documents.get(first.doc_id) if documents else None
        if doc is not None:
            text = doc.text[first.start:last.end].strip()
        else:
            text = " ".join(c.text.strip() for c in run)
        return Evidence(doc_id=first.doc_id, title=p.title, text=text, start=first.start,
                        end=last.end, span_ids=[c.span_id for c in run],
                        score=min(1.0, max(0.0, conf)), passage_id=p.pid, section=p.section)

    # -- start/end readers -------------------------------------------------------------------
    def question(self, history: Sequence[Turn],
                 documents: dict[str, Document] | None = None) -> str | None:
        """The question a start/end reader was trained with, built from ``history`` with its
        ``query_roles``; None for other extractors and for user-only readers (they read the
        pipeline's dialogue query). With ``skip_quotes`` and ``documents``, agent turns that
        quote the documents word for word are left out.

        >>> from re3g.types import Document, Turn
        >>> ex = SpanExtractor("qa", None, {"settings": {"query_roles": "all",
        ...                                              "skip_quotes": True}})
        >>> docs = {"d": Document("d", "Fees", "A day pass costs 8 dollars in all.")}
        >>> ex.question([Turn(1, "user", "Day pass?"),
        ...              Turn(2, "agent", "A day pass costs 8 dollars in all."),
        ...              Turn(3, "user", "And for members?")], docs)
        'And for members? || Day pass?'
        """
        if self.kind != "qa" or self.query_roles == "user":
            return None
        from re3g.data.query import build_query

        if self.skip_quotes and documents:
            history = [t for t in history
                       if t.role != "agent" or not self._quotes(t.utterance or "", documents)]
        return build_query(history, roles=self.query_roles)

    def _quotes(self, text: str, documents: dict[str, Document]) -> bool:
        """:func:`quotes_documents` over ``documents``, their normalised text built once and
        each agent turn's answer kept (a turn's question is built more than once, and the
        history's replies come back every turn), both for the last corpus seen."""
        if self._quoted[0] != id(documents):
            self._quoted = (id(documents),
                            " ".join(_flat(d.text) for d in documents.values()), {})
        seen = self._quoted[2]
        if len(seen) > 4096:  # a long-running chat: keep the memory bounded
            seen.clear()
        if text not in seen:
            seen[text] = quotes_documents(text, self._quoted[1])
        return seen[text]

    def read(self, query: str, hits: Sequence[Hit], documents: dict[str, Document] | None
             ) -> list[Any]:
        """The QA reader's findings in the top hits (one PassageReading each): as many as the
        larger ``n_passages`` of the regular and the ``unsure`` settings."""
        depth = max(self.n_passages, int(self.unsure.get("n_passages", 1)))
        return self.model.read(query, [h.passage for h in hits[:max(1, depth)]],
                               documents, keep=self.ranges_kept)

    def judged(self, question: str, readings: Sequence[Any],
               documents: dict[str, Document] | None) -> dict[tuple[str, str], float] | None:
        """The sentence judge's logits for every span of the passages the settings for these
        readings weigh (:meth:`weights`); None without a judge or when its weight is 0."""
        if self.judge is None or not readings:
            return None
        w = self.weights(readings)
        if not w["judge_weight"]:
            return None
        return self.judge.judge_passages(
            question, [r.passage for r in readings[:max(1, int(w["n_passages"]))]], documents)

    def null_score(self, query: str, hits: Sequence[Hit],
                   documents: dict[str, Document] | None = None,
                   reader_query: str | None = None) -> float:
        """The start/end reader's "not in this passage" logit for the top hit (the reading
        :meth:`extract` made with the same arguments, from memory); 0.0 for other extractors.
        """
        from re3g.retrieve.base import check_query

        if self.kind != "qa" or not hits:
            return 0.0
        asked = check_query(reader_query) if reader_query else check_query(query)
        return float(self.model.read(asked, [hits[0].passage], documents,
                                     keep=self.ranges_kept)[0].null)

    def weights(self, readings: Sequence[Any]) -> dict[str, float]:
        """The range settings for these readings: the ``unsure`` ones when the reader's margin
        on the top passage is below ``unsure_margin``, else the regular ones.

        >>> ex = SpanExtractor("qa", None, {"settings": {"cosine_weight": 2.0,
        ...     "unsure_margin": -6.0, "unsure": {"cosine_weight": 20.0}}})
        >>> class R: margin = -9.0
        >>> ex.weights([R()])["cosine_weight"], ex.weights([])["cosine_weight"]
        (20.0, 2.0)
        """
        out = {k: float(getattr(self, k)) for k in RANGE_SETTINGS}
        if self.unsure and readings and readings[0].margin < self.unsure_margin:
            out.update(self.unsure)
        return out

    def span_cosines(self, current: str, passages: Sequence[Any],
                     documents: dict[str, Document] | None) -> dict[tuple[str, str], float]:
        """Cosine of ``current`` and every span of ``passages`` under the packaged base
        encoder (span vectors are cached), keyed by (doc id, span id)."""
        import torch

        cands = [Candidate(p.doc_id, sp.id, sp.start, sp.end, sp.text, p, 0, j)
                 for p in passages for j, sp in enumerate(passage_spans(p, documents))
                 if sp.text.strip()]
        if not cands or not current.strip():
            return {}
        enc = models.base_encoder(models.SPAN_MAX_TOKENS)
        with torch.inference_mode():
            q = enc.encode([" ".join(current.split())])[0]
        sims = (self.span_vectors(cands) @ q).tolist()
        return {(c.doc_id, c.span_id): float(v) for c, v in zip(cands, sims, strict=True)}

    def select_ranges(self, readings: Sequence[Any], hits: Sequence[Hit],
                      documents: dict[str, Document] | None, top_n: int,
                      span_scores: dict[tuple[str, str], float] | None = None,
                      current: str | None = None,
                      cosines: dict[tuple[str, str], float] | None = None,
                      judged: dict[tuple[str, str], float] | None = None,
                      features: dict[str, float] | None = None,
                      previous: str | None = None) -> list[Evidence]:
        """Evidence from QA readings of ``hits[:len(readings)]`` (at most ``n_passages`` of them;
        every setting but ``helper_weight`` comes from :meth:`weights`): each range's score is
        ``reader_weight`` x the reader's (below 1, every sentence of the passages read is a
        range too, with the reader's lowest kept score there), minus ``null_weight`` x the
        passage's null score, plus ``rerank_weight`` x the
        hit's reranked score minus ``rank_penalty`` x its rank, plus ``helper_weight`` x the
        mean of ``span_scores`` (:meth:`helper_scores`) over the spans it snaps to, minus
        ``span_penalty`` x the number of spans it snaps to beyond the first, plus
        ``overlap_weight`` x the share of ``current``'s content stems found in the range's
        text (:func:`re3g.data.words.stem_overlap`), plus ``cosine_weight`` x the best cosine
        of ``current`` and the range's spans (``cosines``, else :meth:`span_cosines`), plus
        ``judge_weight`` x the sentence judge's best logit over the range's spans (``judged``,
        :meth:`judged`), plus ``type_weight`` when ``current`` asks for a kind of answer
        (money, a time, a duration, a number) and one of the range's spans holds one
        (:mod:`re3g.extract.answer_type`), plus ``number_weight`` when one of the range's spans
        holds a range or bound that a number of ``current`` falls in
        (:func:`re3g.extract.numbers.takes_in`), plus ``month_weight`` when one of them holds
        a stretch or list of months that a month ``current`` names falls in
        (:func:`re3g.extract.months.takes_in_month`), plus ``named_weight`` when one of them is
        the row ``current`` names in full, or a follow-up ``current`` names with ``previous``,
        the user's turn before it (:func:`re3g.extract.rows.named_key`), holding what it asks
        (:func:`re3g.extract.rows.row_answers`), and none is another row; the best ranges,
        snapped to document spans and not overlapping, become the evidence. With a
        ``sureness`` model in the manifest the top evidence gets its
        :attr:`re3g.types.Evidence.sure`; a ``features`` dict receives what that model reads
        (:meth:`pick_features`), for fitting it."""
        from re3g.data.words import content_stems, key_stems, named_key_share, negated_stems
        from re3g.extract.answer_type import asked_type, holds_type
        from re3g.extract.months import asked_months, takes_in_month
        from re3g.extract.numbers import asked_numbers, takes_in
        from re3g.extract.rows import named_key, row_answers

        w = self.weights(readings)
        readings = readings[:max(1, int(w["n_passages"]))]
        asked = (content_stems(current)
                 if current and (w["overlap_weight"] or w["key_weight"]) else frozenset())
        # a row the user says it is not ("not flashing") is no row they name (session 53)
        negated = negated_stems(current) if current and w["key_weight"] else frozenset()
        kind = asked_type(current) if current and w["type_weight"] else None
        numbers = asked_numbers(current) if current and w["number_weight"] else ()
        months = asked_months(current) if current and w["month_weight"] else ()
        # the one row the user names in full (session 55) or a follow-up names with the turn
        # before (session 54)
        named = (named_key(current, previous or "", (sp.text for r in readings
                                                     for sp in passage_spans(r.passage, documents)))
                 if current and w["named_weight"] else None)
        fitting: dict[tuple[str, str], bool] = {}  # ranges overlap: each span read once
        answering: dict[tuple[str, str], bool] = {}

        def answered(doc_id: str, run: list[Span]) -> bool:
            """Whether ``run`` holds the row named, answering, and no other row."""
            keys = [key_stems(sp.text) for sp in run]
            if named not in keys or any(k and k != named for k in keys):
                return False
            sp = run[keys.index(named)]
            if (doc_id, sp.id) not in answering:
                answering[(doc_id, sp.id)] = row_answers(current or "", sp.text)
            return answering[(doc_id, sp.id)]

        def fits(doc_id: str, sp: Span) -> bool:
            key = (doc_id, sp.id)
            if key not in fitting:
                fitting[key] = takes_in(numbers, sp.text)
            return fitting[key]

        if cosines is None and current and w["cosine_weight"]:
            cosines = self.span_cosines(current, [r.passage for r in readings], documents)
        scored = []
        for i, (r, h) in enumerate(zip(readings, hits, strict=False)):
            prior = w["rerank_weight"] * h.score - w["rank_penalty"] * i - w["null_weight"] * r.null
            p = h.passage
            ranges = list(r.ranges)
            if w["reader_weight"] < 1.0 and ranges:
                floor = min(x[0] for x in ranges)
                have = {(a, b) for _, a, b in ranges}
                ranges += [(floor, sp.start, sp.end) for sp in passage_spans(p, documents)
                           if sp.text.strip() and not sp.is_heading
                           and (sp.start, sp.end) not in have]
            for s, a, b in ranges:
                key = (p.pid, a, b, w["snap_ratio"])
                run = self._snaps.get(key)
                if run is None:
                    if len(self._snaps) > 100_000:
                        self._snaps.clear()
                    run = self._snaps[key] = snap(p, documents, a, b, w["snap_ratio"])
                if not run:
                    continue
                bonus = 0.0
                if span_scores:
                    vals = [span_scores.get((p.doc_id, sp.id), -10.0) for sp in run]
                    bonus = self.helper_weight * sum(vals) / len(vals)
                length = w["span_penalty"] * (len(run) - 1)
                if asked and w["overlap_weight"]:
                    found = set().union(*(content_stems(sp.text) for sp in run))
                    bonus += w["overlap_weight"] * len(asked & found) / len(asked)
                if asked and w["key_weight"]:
                    bonus += w["key_weight"] * max(named_key_share(asked, negated, sp.text)
                                                   for sp in run)
                if cosines and w["cosine_weight"]:
                    bonus += w["cosine_weight"] * max(cosines.get((p.doc_id, sp.id), 0.0)
                                                      for sp in run)
                if kind and any(holds_type(kind, sp.text) for sp in run):
                    bonus += w["type_weight"]
                # the judge's part and the number, month and named-row terms move the pick but
                # are left out of what the sureness model reads (:meth:`pick_features`): a
                # ranged sentence is no surer an answer
                unread = 0.0
                if judged and w["judge_weight"]:
                    unread += w["judge_weight"] * max(judged.get((p.doc_id, sp.id), -10.0)
                                                     for sp in run)
                if numbers and any(fits(p.doc_id, sp) for sp in run):
                    unread += w["number_weight"]
                if months and any(takes_in_month(months, sp.text) for sp in run):
                    unread += w["month_weight"]
                if named and answered(p.doc_id, run):
                    unread += w["named_weight"]
                scored.append((w["reader_weight"] * s + prior + bonus + unread - length,
                               s - r.null, p, run, unread))
        scored.sort(key=lambda x: -x[0])
        # the sureness reads the runner-up too, so at least two picks are kept for it
        rate = self.sureness is not None or features is not None
        keep = max(top_n, 2) if rate else top_n
        picks: list[tuple[float, float, Any, list[Span], float]] = []
        taken: set[tuple[str, str]] = set()
        for pick in scored:
            if len(picks) >= keep:
                break
            p, run = pick[2], pick[3]
            if any((p.doc_id, sp.id) in taken for sp in run):
                continue
            taken.update((p.doc_id, sp.id) for sp in run)
            picks.append(pick)
        out: list[Evidence] = []
        for _, margin, p, run, _ in picks[:top_n]:
            conf = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, margin))))
            cands = [Candidate(p.doc_id, sp.id, sp.start, sp.end, sp.text, p, 0, j)
                     for j, sp in enumerate(run)]
            ev = self._evidence(cands, conf, documents)
            if judged and w["judge_weight"]:
                # four places, as ``sure``: a replica elsewhere gets the same value
                ev.judged = round(max(judged.get((p.doc_id, sp.id), -10.0) for sp in run), 4)
            out.append(ev)
        if out and rate:
            if cosines is None and current:
                cosines = self.span_cosines(current, [r.passage for r in readings], documents)
            found = self.pick_features(picks, readings, out[0].text, current or "", cosines)
            if features is not None:
                features.update(found)
            if self.sureness is not None:
                # four places: a replica elsewhere (re3g serve) computes the cosines in
                # another batch, and the last float bits differ
                out[0].sure = round(self.sureness.probability(found), 4)
        return out

    def pick_features(self, picks: Sequence[tuple[float, float, Any, list[Span], float]],
                      readings: Sequence[Any], text: str, current: str,
                      cosines: dict[tuple[str, str], float] | None) -> dict[str, float]:
        """:func:`re3g.extract.sureness.pick_features` of the top pick among ``picks``
        (score, reader margin, passage, spans, the judge's and the number term's part of the
        score; best first, not overlapping), ``text`` being its evidence text. The range
        scores it reads leave out that part: the judge decides which sentence is picked, but
        its log-odds would shift every score and gap the sureness model reads (fitted on
        readers without a judge), and a pick the judge favours looked surer than it is on
        questions the documents do not answer (docs/answerability.md, session 38)."""
        from re3g.data.words import stem_overlap

        def cos(pick: tuple[float, float, Any, list[Span], float]) -> float:
            return max((cosines or {}).get((pick[2].doc_id, sp.id), 0.0) for sp in pick[3])

        top = picks[0]
        nxt = picks[1] if len(picks) > 1 else None
        unsure = bool(self.unsure) and bool(readings) and \
            readings[0].margin < self.unsure_margin
        return pick_features(top[0] - top[4], nxt[0] - nxt[4] if nxt else None, top[1],
                             unsure, cos(top),
                             cos(nxt) if nxt else None, stem_overlap(current, text))


def beside(reader_path: str | Path, name: str) -> Path:
    """The folder of a model a reader's manifest names (its judge, its helper): ``name``
    itself when absolute, else beside the reader's folder.

    >>> beside("/m/extractor-qa", "../judge").as_posix(), beside("/m/x", "/j").as_posix()
    ('/m/../judge', '/j')
    """
    return Path(name) if Path(name).is_absolute() else Path(reader_path).parent / name


NAMED_MODELS = ("judge", "helper")
"""The settings under which a reader's manifest names another model folder (:func:`beside`)."""


def anchored(settings: dict[str, Any], reader_path: str | Path) -> dict[str, Any]:
    """``settings`` with each model folder they name (:data:`NAMED_MODELS`) made absolute,
    as found from ``reader_path``: what a copy of the reader written elsewhere (a candidate
    in a temporary folder) needs to find the same judge and helper.

    >>> anchored({"judge": "judge-written", "cosine_weight": 2.0}, "/m/extractor-qa")
    {'judge': '/m/judge-written', 'cosine_weight': 2.0}
    """
    return {k: (str(beside(reader_path, str(v)).resolve()) if k in NAMED_MODELS and v else v)
            for k, v in settings.items()}


def load_extractor(enabled: bool = True, name: str | None = None) -> SpanExtractor | None:
    """The pipeline's trained extractor: ``name`` (folder or hub QA model) or the project's
    (:func:`default_extractor_path`); None when extraction is off, when ``name`` is
    "dense-fallback", or when nothing is trained (the dense fallback then runs)."""
    if not enabled or name == "dense-fallback":
        return None
    if name is None and not (default_extractor_path() / "manifest.json").is_file():
        return None
    try:
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


CHECKER = "checker"
"""The folder under ``models/`` of the project's checker (:func:`load_checker`)."""


def load_checker(name: str | None = None, loaded: SpanExtractor | None = None
                 ) -> SpanExtractor | None:
    """The second start/end reader whose "not in this passage" logit the learned decision reads
    (:attr:`re3g.decide.Signals.check_null`): ``name`` (a folder, or a hub QA model), else
    ``models/checker`` when it exists; None when ``name`` is "off" or nothing is there.
    ``loaded``: a reader already loaded (the pipeline reader's judge,
    :class:`re3g.extract.judge.ReaderJudge`), returned when it comes from the same folder.
    It reads one passage per turn for the decision; its spans are never shown."""
    if name is not None and name.lower() == "off":
        return None
    if name is None:
        if not models.trained(CHECKER):
            return None
        name = str(models.model_path(CHECKER))
    if loaded is not None and loaded.kind == "qa" and loaded.path and \
            Path(loaded.path).resolve() == Path(name).resolve():
        return loaded
    ex = load_extractor(True, name)  # its errors name the folder
    if ex is None or ex.kind != "qa":
        raise ModelError(f"the checker {name} is a {getattr(ex, 'kind', None)!r} extractor; it "
                         "must be a start/end reader (re3g train extractor --arch qa)")
    return ex


def _flat(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def quotes_documents(text: str | None, corpus: str) -> bool:
    """Whether every sentence of four words or more of ``text`` occurs word for word in
    ``corpus`` (normalised as :meth:`SpanExtractor._quotes` builds it), and there is one: a
    reply that quotes the documents, as the extractive generator's do ("Yes." or "No." before
    it is allowed).

    >>> quotes_documents("Yes. A day pass costs 8 dollars.", "a day pass costs 8 dollars.")
    True
    >>> quotes_documents("It is 8 dollars for a whole day.", "a day pass costs 8 dollars.")
    False
    """
    import re

    sentences = [s.rstrip(".!?") for s in re.split(r"(?<=[.!?])\s+", _flat(text))
                 if len(s.split()) >= 4]
    return bool(sentences) and all(s in corpus for s in sentences)
