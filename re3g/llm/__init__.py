"""Chat LLM backends behind one small interface (:class:`ChatLLM`).

    from re3g.llm import load_llm
    llm = load_llm()                          # offline default: packaged Qwen2.5-Coder-0.5B
    llm = load_llm("llamacpp:smollm2")                 # tiny packaged SmolLM2-135M
    llm = load_llm("openai:http://127.0.0.1:8000/v1#scoder")   # vLLM / llama.cpp server / Ollama
    for piece in llm.stream([{"role": "user", "content": "Reverse a list in Python"}]):
        print(piece, end="", flush=True)

Backends load their heavy libraries on construction only, so importing this package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from re3g.llm.base import ChatLLM, Message
from re3g.llm.factory import load_llm, parse_spec
from re3g.llm.models import cache_dir, default_model_path, smollm2_path

__all__ = [
    "ChatLLM", "Message", "load_llm", "parse_spec", "cache_dir", "default_model_path",
    "smollm2_path", "LlamaCppLLM", "TransformersLLM", "OpenAILLM",
]

if TYPE_CHECKING:
    from re3g.llm.hf import TransformersLLM
    from re3g.llm.llamacpp import LlamaCppLLM
    from re3g.llm.remote import OpenAILLM

_LAZY = {"LlamaCppLLM": "re3g.llm.llamacpp", "TransformersLLM": "re3g.llm.hf",
         "OpenAILLM": "re3g.llm.remote"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 're3g.llm' has no attribute {name!r}")
