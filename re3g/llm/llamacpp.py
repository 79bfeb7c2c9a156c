"""llama.cpp backend (``llama-cpp-python``): fast GGUF inference on CPU."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

from re3g.errors import ModelError
from re3g.llm.base import Message, check_messages, check_sampling

LLAMACPP_INSTALL = 'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install "llama-cpp-python[server]==0.3.36"'


def llamacpp_available() -> bool:
    """True when ``llama_cpp`` can be imported (found without importing it)."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


class LlamaCppLLM:
    """A GGUF chat model run by llama.cpp, with true token streaming.

    ``model`` is a GGUF path or an alias (``default`` = packaged Qwen2.5-Coder-0.5B-Instruct,
    ``smollm2`` = packaged SmolLM2-135M-Instruct).

    >>> llm = LlamaCppLLM("smollm2", n_ctx=2048)                    # doctest: +SKIP
    >>> print(llm.chat([{"role": "user", "content": "2+2?"}], max_tokens=16))  # doctest: +SKIP
    2 + 2 = 4
    """

    def __init__(self, model: str | None = "default", n_ctx: int = 4096,
                 n_threads: int | None = None, seed: int = 0) -> None:
        from re3g.llm.models import resolve_model

        if n_ctx < 256:
            raise ModelError(f"n_ctx must be >= 256, got {n_ctx}")
        path = resolve_model(model)
        if not Path(path).is_file():
            raise ModelError(f"GGUF model file not found: {path}")
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelError(f"llama.cpp backend needs llama-cpp-python: {LLAMACPP_INSTALL}"
                             ) from exc
        try:
            self._llm = Llama(model_path=path, n_ctx=n_ctx,
                              n_threads=n_threads or os.cpu_count() or 1,
                              seed=seed, verbose=False)
        except Exception as exc:  # llama.cpp raises ValueError/RuntimeError on bad files
            raise ModelError(f"llama.cpp could not load {path}: {exc}") from exc
        self.path = path
        self.name = f"llamacpp:{Path(path).name}"
        self._lock = threading.Lock()  # one llama.cpp context serves one request at a time

    def chat(self, messages: list[Message], max_tokens: int = 512,
             temperature: float = 0.0) -> str:
        """Return the whole reply."""
        return "".join(self.stream(messages, max_tokens, temperature))

    def stream(self, messages: list[Message], max_tokens: int = 512,
               temperature: float = 0.0) -> Iterator[str]:
        """Yield the reply token by token as llama.cpp decodes it."""
        msgs = check_messages(messages)
        check_sampling(max_tokens, temperature)
        with self._lock:
            try:
                chunks = self._llm.create_chat_completion(
                    messages=msgs, max_tokens=max_tokens, temperature=temperature,
                    stream=True)
                for chunk in chunks:
                    piece = chunk["choices"][0].get("delta", {}).get("content")
                    if piece:
                        yield piece
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise ModelError(f"{self.name}: {exc}") from exc
