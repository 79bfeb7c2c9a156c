"""A small cache of pipelines, one per (corpus, settings).

Loading a pipeline opens its index and models, which takes seconds; answering is much cheaper.
Sessions with the same corpus and settings share one pipeline object.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from re3g.config import Config
from re3g.errors import Re3GError
from re3g.types import Answer

from .settings import Settings

log = logging.getLogger(__name__)


class Pipeline(Protocol):
    """What the app needs from :class:`re3g.pipeline.Re3G` (``stream`` is optional).

    >>> class Echo:
    ...     def answer(self, history):
    ...         return Answer(history[-1], grounded=True)
    >>> next(stream_answer(Echo(), ["Hi"])).text
    'Hi'
    """

    def answer(self, history: Sequence[str]) -> Answer: ...


PipelineFactory = Callable[[Path, Settings], Pipeline]


def default_factory(config: Config | None = None, **overrides: Any) -> PipelineFactory:
    """A factory that builds ``Re3G(config with index=..., mode=..., k=..., rerank=...,
    generator=... and overrides)``; ``config`` is parsed once by the caller (None: defaults).

    >>> make = default_factory(Config(), min_confidence=0.3)
    >>> bot = make(Path("indexes/sample"), Settings(k=5))     # loads nothing until it answers
    >>> bot.config.k, bot.config.min_confidence
    (5, 0.3)
    """
    base = config if config is not None else Config()

    def make(index: Path, settings: Settings) -> Pipeline:
        from re3g.pipeline import Re3G

        return Re3G(base.with_overrides(
            index=str(index), mode=settings.mode, k=settings.k, rerank=settings.rerank,
            generator=settings.generator, **overrides,
        ))

    return make


def _manifest_stamp(index: Path) -> float:
    try:
        return (index / "manifest.json").stat().st_mtime
    except OSError:
        return 0.0


class PipelineCache:
    """Builds pipelines on demand and keeps the ``size`` most recently used.

    >>> cache = PipelineCache(lambda index, settings: [index.name, settings.k])
    >>> bot = cache.get(Path("indexes/sample"), Settings())
    >>> bot, cache.get(Path("indexes/sample"), Settings()) is bot
    (['sample', 20], True)

    The real thing: ``PipelineCache(default_factory(Config.load("re3g.toml")))``.
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
