"""The code assistant inside the chat: routing a turn, and one shared, lazily loaded code LLM."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from re3g.config import CODE_MAX_TOKENS
from re3g.errors import ModelError, Re3GError

log = logging.getLogger(__name__)

CODE_NOTE = ("Answered by the code tool ({model}); no documents were used. Code is not run "
             "unless the execution check is on (`re3g code --check`).")


class CodeTool:
    """One code LLM for the whole server, loaded on first use; one generation at a time.

    ``spec`` is what :func:`re3g.llm.load_llm` takes (None: the packaged offline default;
    ``{"backend": "openai", "base_url": ..., "model": ...}`` for a vLLM-served SCoder).

    >>> tool = CodeTool({"backend": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"})
    >>> tool.name
    'code LLM (not loaded yet)'
    """

    def __init__(self, spec: str | Mapping[str, Any] | None = None,
                 max_tokens: int = CODE_MAX_TOKENS) -> None:
        self.spec = dict(spec) if isinstance(spec, Mapping) else spec
        self.max_tokens = max_tokens
        self._llm: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return getattr(self._llm, "name", None) or "code LLM (not loaded yet)"

    def _load(self) -> Any:
        if self._llm is None:
            from re3g.llm import load_llm

            try:
                self._llm = load_llm(self.spec)
            except Re3GError:
                raise
            except Exception as exc:  # noqa: BLE001 - any backend failure becomes one message
                raise ModelError(f"the code model failed to load: {type(exc).__name__}: {exc}"
                                 ) from exc
        return self._llm

    def stream(self, question: str) -> Iterator[str]:
        """Yield the code answer in pieces (ModelError when the model or endpoint fails)."""
        from re3g.tools.code import stream_code

        with self._lock:
            llm = self._load()
            text = ""
            try:
                for piece in stream_code(question, llm, max_tokens=self.max_tokens):
                    text += piece
                    yield piece
            except Re3GError:
                raise
            except Exception as exc:  # noqa: BLE001 - e.g. the endpoint went away mid-answer
                raise ModelError(f"the code model failed: {type(exc).__name__}: {exc}") from exc
            if not text.strip():
                raise ModelError("the code model returned an empty answer")


def route_message(message: str, auto: bool,
                  score: Callable[[str], float | None] | None = None) -> tuple[str, str]:
    """(route, text): explicit ``/code``, ``/docs``, ``/both`` prefixes always win; otherwise
    the automatic router decides when ``auto`` is on, and "docs" when it is off. ``score``
    (question -> the open corpus's match, :func:`corpus_score`) is asked only when the rules
    would leave the documents: a question the corpus matches well stays with them."""
    from re3g.tools.router import decide, split_command

    explicit, text = split_command(message)
    if explicit:
        return explicit, text
    if not auto:
        return "docs", text
    decision = decide(text)
    if decision.route != "docs" and score is not None:
        decision = decide(text, corpus_score=score(text))
    return decision.route, text


MATCH_PASSAGES = 5
"""Top passages of the open corpus the router's corpus score looks at."""


def corpus_score(bot: Any, question: str) -> float | None:
    """How well the corpus of pipeline ``bot`` matches ``question``
    (:func:`re3g.tools.router.corpus_match` over its top :data:`MATCH_PASSAGES` passages),
    or None for a pipeline without ``retrieve`` and ``encoder`` or when retrieval fails."""
    retrieve = getattr(bot, "retrieve", None)
    if not callable(retrieve) or not hasattr(bot, "encoder"):
        return None
    from re3g.data.passages import passage_contents
    from re3g.tools.router import corpus_match

    try:
        hits = retrieve(question, MATCH_PASSAGES)
        return corpus_match(question, [passage_contents(h.passage) for h in hits], bot.encoder)
    except Exception:  # noqa: BLE001 - routing falls back to the rules alone
        log.exception("corpus score failed")
        return None
