"""``load_llm``: build a chat backend from a short string, a config dict or ``[code]``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from re3g.config import CODE_BACKENDS, CodeConfig
from re3g.errors import ModelError
from re3g.llm.base import ChatLLM


def parse_spec(spec: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """Turn a spec into a config dict with at least ``backend`` and ``model``.

    A :class:`re3g.config.CodeConfig` (the ``[code]`` table) gives its LLM keys
    (:meth:`~re3g.config.CodeConfig.llm_spec`); its reply options are not load options.

    Strings: ``"default"``, ``"smollm2"``, ``"path/to/model.gguf"`` (backend ``auto``),
    ``"llamacpp:smollm2"``, ``"transformers:/models/qwen"``,
    ``"openai:http://127.0.0.1:8080/v1"`` or ``"openai:http://host/v1#model-name"``.

    >>> parse_spec("openai:http://127.0.0.1:8080/v1#qwen")
    {'backend': 'openai', 'base_url': 'http://127.0.0.1:8080/v1', 'model': 'qwen'}
    >>> parse_spec("llamacpp:smollm2")
    {'backend': 'llamacpp', 'model': 'smollm2'}
    >>> parse_spec(CodeConfig(backend="llamacpp", max_tokens=256))
    {'backend': 'llamacpp', 'model': 'default'}
    """
    if spec is None:
        return {"backend": "auto", "model": "default"}
    if isinstance(spec, Mapping):
        cfg = spec.llm_spec() if isinstance(spec, CodeConfig) else dict(spec)
        cfg.setdefault("backend", "openai" if cfg.get("base_url") else "auto")
        cfg.setdefault("model", "default")
        return cfg
    if not isinstance(spec, str) or not spec.strip():
        raise ModelError(f"LLM spec must be a non-empty string or a dict, got {spec!r}")
    backend, sep, rest = spec.strip().partition(":")
    if not sep or backend not in CODE_BACKENDS:
        return {"backend": "auto", "model": spec.strip()}
    if backend == "openai":
        url, _, model = rest.partition("#")
        return {"backend": "openai", "base_url": url, "model": model or "default"}
    return {"backend": backend, "model": rest or "default"}


def load_llm(spec: str | Mapping[str, Any] | ChatLLM | None = None) -> ChatLLM:
    """Load a chat LLM. ``None`` gives the offline default (packaged Qwen2.5-Coder-0.5B GGUF,
    on llama.cpp when installed, else on transformers).

    Dict (or :class:`re3g.config.CodeConfig`) keys: ``backend`` (auto | llamacpp | transformers
    | openai), ``model``, and per backend
    ``n_ctx``, ``n_threads`` (llamacpp); ``local_files_only``, ``n_threads`` (transformers);
    ``base_url``, ``api_key``, ``timeout`` (openai).

    >>> llm = load_llm({"backend": "openai", "base_url": "http://127.0.0.1:8000/v1",
    ...                 "model": "scoder"})
    >>> llm.name
    'openai:scoder@http://127.0.0.1:8000/v1'
    """
    if spec is not None and not isinstance(spec, (str, Mapping)):
        if isinstance(spec, ChatLLM):
            return spec
        raise ModelError(f"cannot make a chat LLM from {type(spec).__name__}")
    cfg = parse_spec(spec)
    backend = cfg.pop("backend")
    if backend not in CODE_BACKENDS:
        raise ModelError(f"unknown LLM backend {backend!r}; choose one of "
                         f"{', '.join(CODE_BACKENDS)}")
    if backend == "openai":
        from re3g.llm.remote import OpenAILLM

        if not cfg.get("base_url"):
            raise ModelError("the openai backend needs base_url (e.g. http://127.0.0.1:8000/v1)")
        return OpenAILLM(**_only(cfg, "base_url", "model", "api_key", "timeout",
                                 "connect_timeout"))
    if backend == "auto":
        from re3g.llm.llamacpp import llamacpp_available

        backend = "llamacpp" if llamacpp_available() else "transformers"
    if backend == "llamacpp":
        from re3g.llm.llamacpp import LlamaCppLLM

        return LlamaCppLLM(**_only(cfg, "model", "n_ctx", "n_threads", "seed"))
    from re3g.llm.hf import TransformersLLM

    return TransformersLLM(**_only(cfg, "model", "local_files_only", "n_threads", "dtype"))


def _only(cfg: dict[str, Any], *keys: str) -> dict[str, Any]:
    unknown = set(cfg) - set(keys)
    if unknown:
        raise ModelError(f"unknown LLM option(s) {', '.join(sorted(unknown))}; "
                         f"this backend takes {', '.join(keys)}")
    return {k: v for k, v in cfg.items() if v is not None}
