"""The chat-LLM interface every backend implements, and small helpers they share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from re3g.errors import ModelError

Message = dict[str, str]


@runtime_checkable
class ChatLLM(Protocol):
    """A chat model: OpenAI-style messages in, text out (whole, or streamed piece by piece).

    Every backend (llama.cpp, transformers, OpenAI-compatible HTTP) implements this, so the
    code tool and the grounded generator take any of them.

    >>> from re3g.llm import load_llm
    >>> llm = load_llm("llamacpp:smollm2")                       # doctest: +SKIP
    >>> llm.chat([{"role": "user", "content": "Say hi"}], max_tokens=8)  # doctest: +SKIP
    'Hi there!'
    >>> "".join(llm.stream([{"role": "user", "content": "Say hi"}]))     # doctest: +SKIP
    'Hi there!'
    """

    name: str

    def chat(self, messages: list[Message], max_tokens: int = 512,
             temperature: float = 0.0) -> str:
        """Return the assistant's reply to ``messages``."""
        ...

    def stream(self, messages: list[Message], max_tokens: int = 512,
               temperature: float = 0.0) -> Iterator[str]:
        """Yield the reply as it is generated (text pieces, in order)."""
        ...


def check_messages(messages: list[Message]) -> list[Message]:
    """Validate OpenAI-style messages; return them as plain ``{"role", "content"}`` dicts.

    >>> check_messages([{"role": "user", "content": "hi"}])
    [{'role': 'user', 'content': 'hi'}]
    """
    if not isinstance(messages, list) or not messages:
        raise ModelError("chat messages must be a non-empty list of {'role', 'content'} dicts")
    out: list[Message] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            raise ModelError(f"chat message {i} needs a role of system/user/assistant: {m!r}")
        content = m.get("content")
        if not isinstance(content, str):
            raise ModelError(f"chat message {i} needs a string 'content'")
        out.append({"role": str(m["role"]), "content": content})
    return out


def check_sampling(max_tokens: int, temperature: float) -> None:
    """Reject a non-positive token budget or a negative temperature."""
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise ModelError(f"max_tokens must be a positive integer, got {max_tokens!r}")
    if temperature < 0:
        raise ModelError(f"temperature must be >= 0, got {temperature!r}")
