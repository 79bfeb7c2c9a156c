"""Per-session settings and a small cache of pipelines, one per (corpus, settings).

Loading a pipeline opens its index and models, which takes seconds; answering is much cheaper.
Sessions with the same corpus and settings share one pipeline object.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from re3g.errors import Re3GError
from re3g.types import Answer

log = logging.getLogger(__name__)

MODES = ("bm25", "dense", "hybrid")
GENERATORS = ("extractive", "seq2seq", "llm", "http")


@dataclass(frozen=True)
class Settings:
    """What a user can change in the Settings panel."""

    mode: str = "hybrid"
    k: int = 10
    rerank: bool = False
    generator: str = "extractive"

    def checked(self) -> Settings:
        """A copy with every field validated (values come from the browser)."""
        if self.mode not in MODES:
            raise Re3GError(f"unknown retrieval mode {self.mode!r}; choose one of {MODES}")
        if self.generator not in GENERATORS:
            raise Re3GError(f"unknown generator {self.generator!r}; choose one of {GENERATORS}")
        try:
            k = int(self.k)
        except (TypeError, ValueError) as exc:
            raise Re3GError(f"number of passages must be a whole number, got {self.k!r}") from exc
        if not 1 <= k <= 50:
            raise Re3GError(f"number of passages must be between 1 and 50, got {k}")
        return Settings(self.mode, k, bool(self.rerank), self.generator)


class Pipeline(Protocol):
    """What the app needs from :class:`re3g.pipeline.Re3G`."""

    def answer(self, history: Sequence[str]) -> Answer: ...


PipelineFactory = Callable[[Path, Settings], Pipeline]


def default_factory(config_path: str | None = None, **overrides: Any) -> PipelineFactory:
    """A factory that builds ``Re3G.from_config(config_path, index=..., mode=..., ...)``."""

    def make(index: Path, settings: Settings) -> Pipeline:
        from re3g.pipeline import Re3G

        return Re3G.from_config(
            config_path, index=str(index), mode=settings.mode, k=settings.k,
            rerank=settings.rerank, generator=settings.generator, **overrides,
        )

    return make


def _manifest_stamp(index: Path) -> float:
    try:
        return (index / "manifest.json").stat().st_mtime
    except OSError:
        return 0.0


class PipelineCache:
    """Builds pipelines on demand and keeps the ``size`` most recently used.

    >>> cache = PipelineCache(default_factory())          # doctest: +SKIP
    >>> bot = cache.get(Path("indexes/sample"), Settings())  # doctest: +SKIP
    """

    def __init__(self, factory: PipelineFactory, size: int = 6) -> None:
        self.factory = factory
        self.size = size
        self._items: OrderedDict[tuple, Pipeline] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}

    def get(self, index: Path, settings: Settings) -> Pipeline:
        key = (str(index), _manifest_stamp(index), settings)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            build_lock = self._building.setdefault(key, threading.Lock())
        with build_lock:  # one build per key, even when many sessions ask at once
            with self._lock:
                if key in self._items:
                    return self._items[key]
            log.info("loading pipeline for %s with %s", index, settings)
            bot = self.factory(index, settings)
            with self._lock:
                self._items[key] = bot
                self._building.pop(key, None)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return bot

    def forget(self, index: Path) -> None:
        """Drop every pipeline over ``index`` (its folder is being deleted)."""
        with self._lock:
            for key in [k for k in self._items if k[0] == str(index)]:
                del self._items[key]


def stream_answer(bot: Pipeline, history: Sequence[str]) -> Iterator[str | Answer]:
    """Pieces of reply text as the pipeline produces them, then the final Answer.

    Pipelines without ``stream`` give their whole answer at once (no fake streaming).
    """
    stream = getattr(bot, "stream", None)
    if stream is None:
        yield bot.answer(list(history))
        return
    final: Answer | None = None
    for piece in stream(list(history)):
        if isinstance(piece, Answer):
            final = piece
        else:
            yield str(piece)
    if final is None:
        raise Re3GError("the pipeline's stream ended without an Answer")
    yield final
