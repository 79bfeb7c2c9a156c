"""OpenAI-compatible HTTP backend: vLLM, llama.cpp server, Ollama, or OpenAI itself."""

from __future__ import annotations

from collections.abc import Iterator

from re3g.errors import ModelError
from re3g.llm.base import Message, check_messages, check_sampling


class OpenAILLM:
    """Chat with any server that speaks ``/v1/chat/completions`` (streaming via SSE).

    ``api_key`` may be omitted for local servers. Unreachable endpoints, timeouts and HTTP errors
    become :class:`re3g.errors.ModelError` with the URL in the message.

    >>> llm = OpenAILLM("http://127.0.0.1:8000/v1", model="scoder-6.7b")  # connects on first use
    >>> llm.name
    'openai:scoder-6.7b@http://127.0.0.1:8000/v1'
    >>> llm.chat([{"role": "user", "content": "reverse a list in python"}])  # doctest: +SKIP
    """

    def __init__(self, base_url: str, model: str = "default", api_key: str | None = None,
                 timeout: float = 60.0, connect_timeout: float = 5.0) -> None:
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise ModelError(f"OpenAI-compatible base_url must start with http(s)://: {base_url!r}")
        if timeout <= 0 or connect_timeout <= 0:
            raise ModelError("timeouts must be positive")
        import httpx
        import openai

        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"openai:{model}@{self.base_url}"
        self._openai = openai
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=api_key or "not-needed", max_retries=0,
            timeout=httpx.Timeout(timeout, connect=connect_timeout))

    def _error(self, exc: Exception) -> ModelError:
        o = self._openai
        if isinstance(exc, o.APITimeoutError):
            return ModelError(f"the endpoint {self.base_url} timed out: {exc}")
        if isinstance(exc, o.APIConnectionError):
            return ModelError(f"cannot reach the OpenAI-compatible endpoint {self.base_url}: "
                              f"{exc.__cause__ or exc}")
        if isinstance(exc, o.APIStatusError):
            return ModelError(f"the endpoint {self.base_url} answered HTTP {exc.status_code} "
                              f"for model {self.model!r}: {exc.message}")
        return ModelError(f"the endpoint {self.base_url} failed: {exc}")

    def chat(self, messages: list[Message], max_tokens: int = 512,
             temperature: float = 0.0) -> str:
        """Return the whole reply (one non-streaming request)."""
        msgs = check_messages(messages)
        check_sampling(max_tokens, temperature)
        try:
            resp = self._client.chat.completions.create(
                model=self.model, messages=msgs, max_tokens=max_tokens, temperature=temperature)
        except self._openai.OpenAIError as exc:
            raise self._error(exc) from exc
        if not resp.choices:
            raise ModelError(f"the endpoint {self.base_url} returned no choices")
        return resp.choices[0].message.content or ""

    def stream(self, messages: list[Message], max_tokens: int = 512,
               temperature: float = 0.0) -> Iterator[str]:
        """Yield the reply's pieces as the server sends them (server-sent events)."""
        msgs = check_messages(messages)
        check_sampling(max_tokens, temperature)
        try:
            events = self._client.chat.completions.create(
                model=self.model, messages=msgs, max_tokens=max_tokens,
                temperature=temperature, stream=True)
            for event in events:
                if event.choices and event.choices[0].delta.content:
                    yield event.choices[0].delta.content
        except self._openai.OpenAIError as exc:
            raise self._error(exc) from exc
