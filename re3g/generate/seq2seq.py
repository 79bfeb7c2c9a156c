"""Seq2seq generation (BART, T5, ...) through transformers, with the Re3G input layout."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from re3g.errors import ModelError
from re3g.generate.base import check_history, clean_text, seq2seq_input, strip_leading
from re3g.types import Evidence, Hit, Turn

DEFAULT_MAX_INPUT = 512
_UNBOUNDED = 100_000  # tokenizers without a known limit report ~1e30


def pick_device(device: str | None = None) -> str:
    """``device`` if given, else "cuda" when a GPU is usable, else "cpu"."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_seq2seq(name_or_path: str | Path, local_files_only: bool = False) -> tuple[Any, Any]:
    """Load ``(tokenizer, model)`` from a folder or a hub id; ModelError says why it failed."""
    name = str(name_or_path)
    if not name.strip():
        raise ModelError("no seq2seq model given: pass a folder or a hub id (facebook/bart-base)")
    try:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - transformers is a dependency
        raise ModelError(f"transformers is needed for seq2seq generation: {exc}") from exc
    looks_local = Path(name).expanduser().exists() or name.startswith((".", "/", "~"))
    if looks_local and not Path(name).expanduser().is_dir():
        raise ModelError(f"seq2seq model folder {name!r} does not exist")
    path = str(Path(name).expanduser()) if looks_local else name
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local_files_only)
        model = AutoModelForSeq2SeqLM.from_pretrained(path, local_files_only=local_files_only)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        where = "folder" if looks_local else "model id"
        hint = "" if looks_local else " (no model hub is reachable offline: give a local folder)"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load seq2seq {where} {name!r}{hint}: {first}") from exc
    return tokenizer, model


def max_input_tokens(tokenizer: Any, model: Any, requested: int | None = None) -> int:
    """The input budget: ``requested`` capped by what tokenizer and model accept (else 512)."""
    limits = []
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < _UNBOUNDED:
        limits.append(tok_max)
    cfg = getattr(model, "config", None)
    for key in ("max_position_embeddings", "n_positions"):
        val = getattr(cfg, key, None)
        if isinstance(val, int) and val > 0:
            limits.append(val)
            break
    cap = min(limits) if limits else DEFAULT_MAX_INPUT
    return min(requested, cap) if requested else cap


class Seq2SeqGenerator:
    """A BART/T5-style model writes the reply from "question + evidence spans + passages".

    ``model`` is a folder (e.g. the output of ``re3g train generator``) or a hub id such as
    ``facebook/bart-base``. The input (see :func:`re3g.generate.base.seq2seq_input`) is cut to the
    model's maximum input length, passages first. ``stream`` decodes greedily (transformers'
    streamer does not support beam search) and yields text as tokens arrive.

    >>> gen = Seq2SeqGenerator("models/generator")                      # doctest: +SKIP
    >>> gen.generate([Turn(1, "user", "How do I renew?")], evidence, hits)  # doctest: +SKIP
    'You can renew online or by mail.'
    """

    def __init__(
        self,
        model: str | Path,
        device: str | None = None,
        max_input_tokens: int | None = None,
        max_new_tokens: int = 96,
        num_beams: int = 4,
        max_passages: int = 3,
        local_files_only: bool = False,
    ) -> None:
        if max_new_tokens < 1 or num_beams < 1 or max_passages < 0:
            raise ValueError("max_new_tokens and num_beams must be >= 1, max_passages >= 0")
        tokenizer, loaded = load_seq2seq(model, local_files_only=local_files_only)
        self._setup(tokenizer, loaded, str(model), device, max_input_tokens, max_new_tokens,
                    num_beams, max_passages)

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, **options: Any) -> Seq2SeqGenerator:
        """Wrap an already loaded model and tokenizer (used by training to evaluate)."""
        self = cls.__new__(cls)
        self._setup(tokenizer, model, str(getattr(model, "name_or_path", "model")),
                    options.get("device"), options.get("max_input_tokens"),
                    options.get("max_new_tokens", 96), options.get("num_beams", 4),
                    options.get("max_passages", 3))
        return self

    def _setup(self, tokenizer: Any, model: Any, name: str, device: str | None,
               max_input: int | None, max_new_tokens: int, num_beams: int,
               max_passages: int) -> None:
        self.name = name
        self.tokenizer = tokenizer
        self.device = pick_device(device)
        self.model = model.to(self.device)
        self.model.eval()
        self.max_input_tokens = max_input_tokens(tokenizer, model, max_input)
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        self.max_passages = max_passages

    def build_input(
        self, history: list[Turn], evidence: list[Evidence], passages: list[Hit]
    ) -> str:
        """The input text for one turn (before truncation)."""
        check_history(history)
        return seq2seq_input(history, evidence, passages, self.max_passages)

    def _encode(self, texts: Sequence[str]) -> dict[str, Any]:
        enc = self.tokenizer(list(texts), truncation=True, max_length=self.max_input_tokens,
                             padding=True, return_tensors="pt")
        # only what every seq2seq model takes (a BERT-style tokenizer adds token_type_ids)
        return {k: enc[k].to(self.device) for k in ("input_ids", "attention_mask") if k in enc}

    def generate_texts(self, texts: Sequence[str], batch_size: int = 8,
                       num_beams: int | None = None) -> list[str]:
        """Generate one reply per input text, in batches."""
        import torch

        out: list[str] = []
        for i in range(0, len(texts), batch_size):
            enc = self._encode(texts[i:i + batch_size])
            with torch.inference_mode():
                ids = self.model.generate(**enc, max_new_tokens=self.max_new_tokens,
                                          num_beams=num_beams or self.num_beams)
            out.extend(clean_text(t) for t in
                       self.tokenizer.batch_decode(ids, skip_special_tokens=True))
        return out

    def generate(self, history: list[Turn], evidence: list[Evidence], passages: list[Hit]) -> str:
        return self.generate_texts([self.build_input(history, evidence, passages)])[0]

    def stream(
        self, history: list[Turn], evidence: list[Evidence], passages: list[Hit]
    ) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        enc = self._encode([self.build_input(history, evidence, passages)])
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True,
                                        skip_special_tokens=True)
        errors: list[BaseException] = []

        def work() -> None:
            import torch

            try:
                with torch.inference_mode():
                    self.model.generate(**enc, max_new_tokens=self.max_new_tokens, num_beams=1,
                                        streamer=streamer)
            except BaseException as exc:  # re-raised in the caller's thread
                errors.append(exc)
                streamer.end()

        thread = threading.Thread(target=work, name="re3g-seq2seq-stream", daemon=True)
        thread.start()
        yield from strip_leading(streamer)
        thread.join()
        if errors:
            raise ModelError(f"seq2seq generation with {self.name!r} failed: {errors[0]}") \
                from errors[0]
