"""Error types raised by re3g. Each carries a message that names what is wrong and where."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Re3GError(Exception):
    """Base class of every error re3g raises on purpose (bad input, missing model, bad index)."""


class DataError(Re3GError, ValueError):
    """A data file is malformed: the message names the file and the key or id."""


class IndexLoadError(Re3GError):
    """An index is missing, incomplete, or was built with another model or corpus."""


class ModelError(Re3GError):
    """A model or checkpoint is missing, unloadable, or from another base model."""


class QueryError(Re3GError, ValueError):
    """A query is empty or otherwise unusable."""


class BuildCancelled(Re3GError):
    """An index build was stopped before it finished (cancelled, or over its time limit); the
    previous index, if any, is unchanged."""


@contextmanager
def model_errors(what: str) -> Iterator[None]:
    """Let re3g's own errors through and turn any other exception raised inside into a
    :class:`ModelError` reading ``"<what>: <ExceptionType>: <message>"``.

    >>> with model_errors("reranking failed"):  # doctest: +SKIP
    ...     reranker.rerank(query, hits)
    """
    try:
        yield
    except Re3GError:
        raise
    except Exception as exc:  # noqa: BLE001 - library errors vary (torch, JVM, HTTP, ...)
        raise ModelError(f"{what}: {type(exc).__name__}: {exc}") from exc
