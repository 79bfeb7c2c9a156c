"""Grounded answer generation: one interface, four backends.

    from re3g.generate import make_generator
    gen = make_generator("extractive")                 # the evidence spans, lightly edited
    gen = make_generator("seq2seq", model="models/generator")   # BART/T5 folder or hub id
    gen = make_generator("llm", llm=my_chat_llm)       # or model="llamacpp:qwen" (re3g.llm spec)
    gen = make_generator("http", base_url="http://127.0.0.1:8080/v1", model="qwen")
    reply = gen.generate(history, evidence, hits)
    for piece in gen.stream(history, evidence, hits):
        print(piece, end="")

Heavy libraries (torch, transformers, openai) load only when a backend that needs them is made.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from re3g.config import GENERATORS
from re3g.errors import ModelError
from re3g.generate.base import Generator, check_history, seq2seq_input

if TYPE_CHECKING:
    from re3g.generate.extractive import ExtractiveGenerator
    from re3g.generate.llm import LLMGenerator
    from re3g.generate.seq2seq import Seq2SeqGenerator

__all__ = [
    "GENERATORS", "ExtractiveGenerator", "Generator", "LLMGenerator", "Seq2SeqGenerator",
    "check_history", "make_generator", "seq2seq_input",
]


def __getattr__(name: str) -> Any:
    modules = {"ExtractiveGenerator": "extractive", "LLMGenerator": "llm",
               "Seq2SeqGenerator": "seq2seq"}
    if name in modules:
        import importlib

        return getattr(importlib.import_module(f"re3g.generate.{modules[name]}"), name)
    raise AttributeError(f"module 're3g.generate' has no attribute {name!r}")


def _split(opts: dict[str, Any], target: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Options ``target``'s constructor accepts, and the rest."""
    names = set(inspect.signature(target).parameters)
    mine = {k: v for k, v in opts.items() if k in names}
    return mine, {k: v for k, v in opts.items() if k not in names}


def make_generator(name: str, **opts: Any) -> Generator:
    """Build a generator by backend name: "extractive" | "seq2seq" | "llm" | "http".

    - extractive: ``max_words``, ``ask_conditions``, ``ask_fragments``, ``no_evidence_reply``;
    - seq2seq: ``model`` (folder or hub id, required), ``device``, ``max_input_tokens``,
      ``max_new_tokens``, ``num_beams``, ``max_passages``, ``local_files_only``;
    - llm: ``llm`` (an object with ``chat`` and ``stream``), or ``model`` (a ``re3g.llm.load_llm``
      spec such as "llamacpp:smollm2"; none: the packaged offline default) and other
      ``load_llm`` config keys (``backend``, ``n_ctx``, ...), plus the generator's own
      ``max_tokens``, ``temperature``, ``max_passages``, ``system_prompt``;
    - http: ``base_url`` (required), ``model``, ``api_key``, ``timeout``, plus the llm options.

    Unknown names or options raise ValueError; models that fail to load raise ModelError.

    >>> type(make_generator("extractive", max_words=40)).__name__
    'ExtractiveGenerator'
    """
    key = (name or "").strip().lower()
    if key == "extractive":
        from re3g.generate.extractive import ExtractiveGenerator

        return _build(ExtractiveGenerator, opts, name)
    if key == "seq2seq":
        from re3g.generate.seq2seq import Seq2SeqGenerator

        if not opts.get("model"):
            raise ValueError("the seq2seq generator needs model=<folder or hub id>")
        return _build(Seq2SeqGenerator, opts, name)
    if key in ("llm", "http"):
        from re3g.generate.llm import LLMGenerator

        gen_opts, rest = _split(opts, LLMGenerator)
        llm = gen_opts.pop("llm", None)
        if llm is None:
            llm = _load_llm(key, rest)
        elif rest:
            raise ValueError(f"unknown options for the {name} generator: {sorted(rest)}")
        return LLMGenerator(llm, **gen_opts)
    raise ValueError(f"unknown generator {name!r}: choose one of {', '.join(GENERATORS)}")


def _build(cls: Any, opts: dict[str, Any], name: str) -> Any:
    mine, rest = _split(opts, cls)
    if rest:
        raise ValueError(f"unknown options for the {name} generator: {sorted(rest)}")
    return cls(**mine)


def _load_llm(kind: str, opts: dict[str, Any]) -> Any:
    """Build the chat LLM through ``re3g.llm.load_llm`` (its spec strings or config dicts)."""
    try:
        from re3g.llm import load_llm
    except ImportError as exc:
        raise ModelError(f"cannot load a chat LLM: re3g.llm is unavailable ({exc})") from exc
    if kind == "http":
        if not opts.get("base_url"):
            raise ValueError("the http generator needs base_url=http://host:port/v1")
        return load_llm({"backend": "openai", **opts})
    if set(opts) <= {"model"}:
        return load_llm(opts.get("model"))  # None: the packaged offline default
    return load_llm(dict(opts))
