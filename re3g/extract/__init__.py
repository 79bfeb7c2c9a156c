"""Fine-grained knowledge selection: the grounding span inside the top passages.

- :mod:`re3g.extract.spans`: candidate spans of passages, snapping ranges to document spans;
- :mod:`re3g.extract.reader`: the start/end QA reader (``AutoModelForQuestionAnswering``);
- :mod:`re3g.extract.extractor`: :class:`SpanExtractor`, the project's trained extractors
  (the start/end reader ``models/extractor-qa``, the span scorer ``models/extractor``) and
  :func:`load_checker`, the second reader the decision reads (``models/checker``);
- :mod:`re3g.extract.fallback`: :class:`DenseFallback`, used when nothing is trained.

    >>> from re3g.extract import default_extractor_path
    >>> default_extractor_path().name
    'extractor-qa'
"""

from __future__ import annotations

from re3g.extract.base import Extractor
from re3g.extract.extractor import (
    TRAIN_CMD,
    SpanExtractor,
    default_extractor_path,
    load_checker,
    load_extractor,
)
from re3g.extract.fallback import DenseFallback
from re3g.extract.spans import Candidate, candidates_for, passage_spans, snap, span_text

__all__ = ["TRAIN_CMD", "Candidate", "DenseFallback", "Extractor", "SpanExtractor",
           "candidates_for", "default_extractor_path", "load_checker", "load_extractor",
           "passage_spans", "snap", "span_text"]
