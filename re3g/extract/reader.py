"""Start/end span reading with an extractive QA model (``AutoModelForQuestionAnswering``).

One job: given a question and passages, score every answer range of every passage and return
the best ranges as character offsets into the document, together with a per-passage "no
answer" (null) score. :mod:`re3g.extract.extractor` snaps the ranges to document spans;
``re3g train extractor --arch qa`` trains the model.

    >>> best_ranges([0.1, 2.0, 0.3], [0.0, 0.5, 3.0], [(0, 0), (0, 4), (5, 9)],
    ...             [False, True, True], keep=1)
    [(5.0, 0, 9)]
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from re3g.models import MAX_QUESTION_TOKENS, device, quantize_on_cpu, truncate_question
from re3g.types import Document, Passage

MAX_LENGTH = 384
MAX_ANSWER_TOKENS = 160
READINGS_KEPT = 512  # readings remembered per reader (a turn reads 3 passages; signals reread 1)


def passage_window(p: Passage, documents: dict[str, Document] | None) -> tuple[str, int]:
    """The context a passage is read as, and the document offset of its first character.

    With the document at hand the context is the exact document slice, so every character offset
    maps back to the document; otherwise the passage text (offsets from ``p.start``).
    """
    doc = documents.get(p.doc_id) if documents else None
    if doc is not None and 0 <= p.start < p.end <= len(doc.text):
        return doc.text[p.start:p.end], p.start
    return p.text, p.start


@dataclass
class PassageReading:
    """What the reader found in one passage: ranges ``(score, doc_start, doc_end)``, best first,
    and the null score (the model's "not in this passage")."""

    passage: Passage
    ranges: list[tuple[float, int, int]] = field(default_factory=list)
    null: float = 0.0

    @property
    def best(self) -> tuple[float, int, int] | None:
        return self.ranges[0] if self.ranges else None

    @property
    def margin(self) -> float:
        """Best range score minus the null score (how sure the reader is the answer is here)."""
        return (self.ranges[0][0] - self.null) if self.ranges else float("-inf")


def best_ranges(start: Sequence[float], end: Sequence[float],
                offsets: Sequence[tuple[int, int]], in_context: Sequence[bool],
                top: int = 20, max_tokens: int = MAX_ANSWER_TOKENS, keep: int = 5
                ) -> list[tuple[float, int, int]]:
    """The ``keep`` best (score, char_start, char_end) ranges with start <= end inside the
    context, at most ``max_tokens`` long; score = start logit + end logit."""
    ctx = [i for i, ok in enumerate(in_context) if ok]
    if not ctx:
        return []
    s_top = sorted(ctx, key=lambda i: -start[i])[:top]
    e_top = sorted(ctx, key=lambda i: -end[i])[:top]
    out = []
    for i in s_top:
        for j in e_top:
            if j < i or j - i + 1 > max_tokens:
                continue
            out.append((start[i] + end[j], offsets[i][0], offsets[j][1]))
    out.sort(key=lambda r: -r[0])
    return out[:keep]


class QAReader:
    """An extractive QA model reading passages; ``read`` returns one PassageReading per passage.

    >>> from re3g.models import model_path
    >>> reader = QAReader.load(str(model_path("extractor-qa")))
    >>> from re3g.types import Passage
    >>> text = "A day pass costs 8 dollars. An annual membership costs 90 dollars."
    >>> reading = reader.read("How much is a day pass?", [Passage("p", "d", "Fees", text, 0,
    ...                       len(text), [])])[0]
    >>> 0 <= reading.best[1] < reading.best[2] <= len(text)    # document offsets
    True

    """

    def __init__(self, model: Any, tokenizer: Any, max_length: int = MAX_LENGTH,
                 max_question_tokens: int = MAX_QUESTION_TOKENS) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.max_question_tokens = max_question_tokens
        # (question, context, offset, keep) -> (ranges, null): the decision re-reads the top
        # passage the extractor has just read; keyed by content, so a passage with a span
        # blanked out (evaluation variants) is read afresh
        self._memo: OrderedDict[tuple[str, str, int, int], tuple[list[Any], float]] = \
            OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, name: str, local: bool = True, quantized: bool = False,
             max_question_tokens: int = MAX_QUESTION_TOKENS) -> QAReader:
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(name, local_files_only=local)
        model = AutoModelForQuestionAnswering.from_pretrained(name, local_files_only=local)
        model = quantize_on_cpu(model.float().to(device()).eval(), quantized)
        return cls(model, tok, max_question_tokens=max_question_tokens)

    def read(self, question: str, passages: Sequence[Passage],
             documents: dict[str, Document] | None = None, keep: int = 5
             ) -> list[PassageReading]:
        """One :class:`PassageReading` per passage (passages read before with the same
        question and text come from memory)."""
        if not passages:
            return []
        q = truncate_question(self.tokenizer, question, self.max_question_tokens)
        windows = [passage_window(p, documents) for p in passages]
        keys = [(q, w, base, keep) for w, base in windows]
        with self._lock:
            found = {i: self._memo[k] for i, k in enumerate(keys) if k in self._memo}
            for k in {keys[i] for i in found}:
                self._memo.move_to_end(k)
        missing = [i for i in range(len(keys)) if i not in found]
        if missing:
            fresh = self._forward(q, [windows[i] for i in missing], keep)
            with self._lock:
                for i, got in zip(missing, fresh, strict=True):
                    found[i] = self._memo[keys[i]] = got
                while len(self._memo) > READINGS_KEPT:
                    self._memo.popitem(last=False)
        return [PassageReading(p, list(found[i][0]), found[i][1])
                for i, p in enumerate(passages)]

    def _forward(self, q: str, windows: Sequence[tuple[str, int]], keep: int
                 ) -> list[tuple[list[tuple[float, int, int]], float]]:
        """Ranges (document offsets) and null score of each window, in one batch."""
        import torch

        enc = self.tokenizer([q] * len(windows), [w for w, _ in windows], truncation="only_second",
                             max_length=self.max_length, padding=True,
                             return_offsets_mapping=True, return_tensors="pt")
        offsets = enc.pop("offset_mapping").tolist()
        dev = next(self.model.parameters()).device
        with torch.inference_mode():
            out = self.model(**{k: v.to(dev) for k, v in enc.items()})
        starts, ends = out.start_logits.float().tolist(), out.end_logits.float().tolist()
        found = []
        for b, (_, base) in enumerate(windows):
            ctx = [s == 1 for s in enc.sequence_ids(b)]
            ranges = best_ranges(starts[b], ends[b], offsets[b], ctx, keep=keep)
            found.append(([(s, base + a, base + e) for s, a, e in ranges],
                          starts[b][0] + ends[b][0]))
        return found
