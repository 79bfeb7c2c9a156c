"""transformers backend: any local causal LM folder, a hub id already cached, or a GGUF file."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from re3g.errors import ModelError
from re3g.llm.base import Message, check_messages, check_sampling


class TransformersLLM:
    """A causal LM run by transformers; streams through ``TextIteratorStreamer``.

    ``model`` is a folder, an HF id (loaded from the local cache only unless
    ``local_files_only=False``), a ``.gguf`` file (dequantised by transformers' GGUF loader; needs
    ``gguf`` and ``accelerate``) or an alias (``default``, ``smollm2``).

    >>> llm = TransformersLLM("smollm2")                          # doctest: +SKIP
    >>> msgs = [{"role": "user", "content": "Hi"}]
    >>> for piece in llm.stream(msgs, max_tokens=8):               # doctest: +SKIP
    ...     print(piece, end="")
    """

    def __init__(self, model: str | None = "default", local_files_only: bool = True,
                 n_threads: int | None = None, dtype: str = "float32") -> None:
        from re3g.llm.models import resolve_model

        self.path = resolve_model(model)
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise ModelError("transformers backend needs torch and transformers") from exc
        if n_threads:
            torch.set_num_threads(n_threads)
        kwargs: dict = {"local_files_only": local_files_only}
        where = self.path
        if self.path.endswith(".gguf"):
            gguf = Path(self.path)
            if not gguf.is_file():
                raise ModelError(f"GGUF model file not found: {gguf}")
            where, kwargs["gguf_file"] = str(gguf.parent), gguf.name
        try:
            self._tok = AutoTokenizer.from_pretrained(where, **kwargs)
            self._model = AutoModelForCausalLM.from_pretrained(
                where, dtype=getattr(torch, dtype), **kwargs)
        except (OSError, ValueError, ImportError) as exc:
            raise ModelError(f"transformers could not load {self.path!r}: {exc}") from exc
        self._model.eval()
        self.name = f"transformers:{Path(self.path).name}"
        self._lock = threading.Lock()

    def _inputs(self, messages: list[Message]) -> dict:
        msgs = check_messages(messages)
        if getattr(self._tok, "chat_template", None):
            text = self._tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        else:  # plain LM: a simple transcript
            text = "".join(f"{m['role']}: {m['content']}\n" for m in msgs) + "assistant:"
        return dict(self._tok(text, return_tensors="pt", add_special_tokens=False))

    def _gen_kwargs(self, max_tokens: int, temperature: float) -> dict:
        check_sampling(max_tokens, temperature)
        kw: dict = {"max_new_tokens": max_tokens,
                    "pad_token_id": self._tok.pad_token_id or self._tok.eos_token_id}
        if temperature > 0:
            kw.update(do_sample=True, temperature=temperature)
        else:
            kw.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kw

    def chat(self, messages: list[Message], max_tokens: int = 512,
             temperature: float = 0.0) -> str:
        """Return the whole reply."""
        return "".join(self.stream(messages, max_tokens, temperature))

    def stream(self, messages: list[Message], max_tokens: int = 512,
               temperature: float = 0.0) -> Iterator[str]:
        """Yield text pieces while ``generate`` runs in a worker thread."""
        from transformers import TextIteratorStreamer

        inputs = self._inputs(messages)
        kw = self._gen_kwargs(max_tokens, temperature)
        streamer = TextIteratorStreamer(self._tok, skip_prompt=True, skip_special_tokens=True)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                self._model.generate(**inputs, **kw, streamer=streamer)
            except BaseException as exc:  # surfaced to the caller below
                errors.append(exc)
                streamer.end()

        with self._lock:
            thread = threading.Thread(target=work, daemon=True)
            thread.start()
            for piece in streamer:
                if piece:
                    yield piece
            thread.join()
        if errors:
            raise ModelError(f"{self.name}: generation failed: {errors[0]}") from errors[0]
