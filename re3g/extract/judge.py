"""The sentence judge: the log-odds that one document span answers the dialogue question.

A cross-encoder (``models/sentence-judge``, made by ``re3g train judge``) reads the question
and a single span together. The reader's range choice adds ``judge_weight`` x the judge's
logit of a range's best span (:meth:`re3g.extract.SpanExtractor.select_ranges`): the reader
alone often takes the neighbour of the right sentence on documents unlike doc2dial.

    >>> judge_text("  A day pass\\n costs 8 dollars. ")
    'A day pass costs 8 dollars.'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from re3g import models
from re3g.errors import ModelError
from re3g.types import Span

JUDGE_TRAIN_CMD = "re3g train judge"
MAX_LENGTH = 128
MAX_QUERY_TOKENS = 64


def judge_text(text: str) -> str:
    """A span's text as the judge reads it (whitespace runs as one space)."""
    return " ".join(text.split())


class SentenceJudge(models.LoadedModel):
    """Scores (question, span) pairs; higher: the span more likely answers the question.

    >>> judge = SentenceJudge.load()                                    # doctest: +SKIP
    >>> judge.judge("day pass price?", [("bikes", span)])               # doctest: +SKIP
    {('bikes', '3'): 2.7}
    """

    MEMO_ITEMS = 20_000

    def __init__(self, kind: str, model: Any, manifest: dict[str, Any] | None = None,
                 path: str = "", quantized: bool = False) -> None:
        super().__init__(kind, model, manifest, path, quantized)
        # (question, doc id, span id) -> logit: the reader's choice and the decision of one
        # turn ask about the same spans
        self._memo: dict[tuple[str, str, str], float] = {}

    @classmethod
    def load(cls, path: str | Path | None = None, quantize: bool | None = None
             ) -> SentenceJudge:
        """The judge in ``path`` (default ``models/sentence-judge``)."""
        from re3g.rank.reranker import CrossScorer

        where = Path(path) if path else models.model_path("sentence-judge")
        manifest = models.read_model_manifest(where, "judge", JUDGE_TRAIN_CMD)
        q = (models.device() == "cpu") if quantize is None else quantize
        try:
            scorer = CrossScorer.load(where, manifest, q)
        except ModelError as exc:
            raise ModelError(f"cannot load the sentence judge in {where}; retrain it with "
                             f"`{JUDGE_TRAIN_CMD}` ({exc})") from exc
        return cls("judge", scorer, manifest, str(where), q)

    def judge(self, question: str, spans: Sequence[tuple[str, Span]]) -> dict[tuple[str, str],
                                                                              float]:
        """The judge's logit of each (doc id, span), keyed by (doc id, span id)."""
        out = {(d, sp.id): self._memo[(question, d, sp.id)] for d, sp in spans
               if (question, d, sp.id) in self._memo}
        todo = [(d, sp) for d, sp in spans if (d, sp.id) not in out]
        if todo:
            got = self.model.predict([(question, judge_text(sp.text)) for _, sp in todo])
            if len(self._memo) + len(todo) > self.MEMO_ITEMS:
                self._memo.clear()
            for (d, sp), s in zip(todo, got, strict=True):
                out[(d, sp.id)] = self._memo[(question, d, sp.id)] = float(s)
        return out

    def judge_passages(self, question: str, passages: Sequence[Any],
                       documents: dict[str, Any] | None) -> dict[tuple[str, str], float]:
        """:meth:`judge` over every body span of ``passages`` (headings and blanks skipped)."""
        from re3g.extract.spans import passage_spans

        spans = [(p.doc_id, sp) for p in passages for sp in passage_spans(p, documents)
                 if sp.text.strip() and not sp.is_heading]
        return self.judge(question, spans)


class ReaderJudge:
    """A second start/end reader (``re3g train extractor --arch qa``, e.g. the checker
    ``models/checker``) as a sentence judge: a span's logit is the best score (start logit +
    end logit) of the reader's kept ranges that snap onto it (:func:`re3g.extract.spans.snap`,
    as the reader's own ranges do), and spans no kept range reaches get the passage's lowest
    kept score. Two readers trained on different conversations pick different sentences where
    either alone is unsure; the range choice adds ``judge_weight`` x this logit as it does a
    sentence judge's.

    >>> ReaderJudge.span_logits([(4.0, ["2"]), (1.0, ["2", "3"])], ["2", "3", "4"])
    {'2': 4.0, '3': 1.0, '4': 1.0}
    """

    kind = "reader-judge"

    def __init__(self, reader: Any, snap_ratio: float = 0.3) -> None:
        self.reader = reader  # a SpanExtractor of kind "qa"
        self.path = reader.path
        self.snap_ratio = snap_ratio

    @staticmethod
    def span_logits(runs: Sequence[tuple[float, Sequence[str]]], span_ids: Sequence[str]
                    ) -> dict[str, float]:
        """Each of ``span_ids``: the best score of the ``runs`` (score, span ids a range snaps
        to) that hold it, else the lowest score of ``runs``."""
        floor = min((s for s, _ in runs), default=0.0)
        best: dict[str, float] = {}
        for s, ids in runs:
            for i in ids:
                best[i] = max(best.get(i, s), s)
        return {i: best.get(i, floor) for i in span_ids}

    def judge_passages(self, question: str, passages: Sequence[Any],
                       documents: dict[str, Any] | None) -> dict[tuple[str, str], float]:
        """The logit of every body span of ``passages`` (headings and blanks skipped), keyed
        by (doc id, span id); one reading per passage (remembered by the reader)."""
        from re3g.extract.spans import passage_spans, snap

        readings = self.reader.model.read(question, list(passages), documents,
                                          keep=self.reader.ranges_kept)
        out: dict[tuple[str, str], float] = {}
        for r in readings:
            p = r.passage
            runs = [(s, [sp.id for sp in snap(p, documents, a, b, self.snap_ratio)])
                    for s, a, b in r.ranges]
            body = [sp.id for sp in passage_spans(p, documents)
                    if sp.text.strip() and not sp.is_heading]
            out.update({(p.doc_id, i): v for i, v in self.span_logits(runs, body).items()})
        return out


def load_judge(path: str | Path) -> SentenceJudge | ReaderJudge:
    """The judge in folder ``path``: a sentence judge (``re3g train judge``), or a start/end
    reader (``re3g train extractor --arch qa``) read as one (:class:`ReaderJudge`)."""
    where = Path(path)
    try:
        manifest = models.read_model_manifest(where, "extractor", JUDGE_TRAIN_CMD)
    except ModelError:
        manifest = {}
    if manifest.get("kind") == "extractor" and manifest.get("architecture") == "qa":
        from re3g.extract.extractor import load_extractor

        reader = load_extractor(True, str(where))
        return ReaderJudge(reader, float(reader.settings.get("snap_ratio", 0.3)))
    return SentenceJudge.load(where)
