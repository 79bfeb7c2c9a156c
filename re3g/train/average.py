"""Weight averaging of start/end readers (``re3g train extractor --arch qa --average A B``).

Readers continued from one another with ``--init`` (one more epoch each, new negatives and
seed) stay close in weight space, and the mean of their weights reads better than the last of
them: on doc2dial validation the mean of the third and fourth epochs gives grounding F1 47.3
(two-fold 47.0) against 46.8 (46.1) for the fourth alone, at no cost when answering. Nothing
is trained here: the mean is saved like a trained reader (fp16, atomically) with a manifest
that records every source reader's lineage, then validated like one.

    re3g train extractor --arch qa --average models/extractor-qa-e3 models/extractor-qa-e4 \\
        --out models/extractor-qa
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from re3g.errors import DataError
from re3g.train.lineage import QA_TRAIN_CMD, lineage

# settings the readers must share: they decide what the weights mean
SHARED = ("base_model", "query_roles", "max_length", "max_question_tokens")


def source_manifests(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The manifests of the readers to average, checked: at least two distinct start/end reader
    folders that agree on :data:`SHARED` settings (DataError naming the folder and key)."""
    from re3g.models import read_model_manifest

    if len(paths) < 2:
        raise DataError(f"--average needs at least two reader folders, got {len(paths)}")
    if len({Path(p).resolve() for p in paths}) != len(paths):
        raise DataError(f"--average: a folder is named twice in {[str(p) for p in paths]}")
    manifests = []
    for p in paths:
        m = read_model_manifest(Path(p), "extractor", QA_TRAIN_CMD)
        if m.get("architecture") != "qa":
            raise DataError(f"--average {p}: a {m.get('architecture', 'tower')!r} extractor, "
                            f"not a start/end reader; give folders made by `{QA_TRAIN_CMD}`")
        manifests.append(m)
    first = manifests[0].get("settings", {})
    for p, m in zip(paths[1:], manifests[1:], strict=True):
        for key in SHARED:
            a, b = first.get(key), m.get("settings", {}).get(key)
            if a != b:
                raise DataError(f"--average {p}: settings.{key} is {b!r} but {paths[0]} has "
                                f"{a!r}; only readers trained alike can be averaged")
    return manifests


def mean_weights(paths: Sequence[Path]) -> tuple[Any, Any]:
    """(model, tokenizer): the first reader with every floating-point tensor replaced by the
    mean over ``paths`` (computed in fp32); DataError when the tensors do not match."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    model = AutoModelForQuestionAnswering.from_pretrained(str(paths[0])).float()
    total = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for p in paths[1:]:
        other = AutoModelForQuestionAnswering.from_pretrained(str(p)).float().state_dict()
        if set(other) != set(total):
            raise DataError(f"--average {p}: its tensors differ from {paths[0]}'s "
                            f"({len(set(other) ^ set(total))} names in one only)")
        for k, v in other.items():
            if v.shape != total[k].shape:
                raise DataError(f"--average {p}: tensor {k} is {tuple(v.shape)}, "
                                f"{tuple(total[k].shape)} in {paths[0]}")
            if v.is_floating_point():
                total[k] += v.float()
    n = float(len(paths))
    with torch.no_grad():
        mean = {k: (v / n if v.is_floating_point() else v) for k, v in total.items()}
        model.load_state_dict(mean)
    return model, AutoTokenizer.from_pretrained(str(paths[0]))


def save_mean(paths: list[Path], sources: list[dict[str, Any]], args: Any, command: str
              ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Save the mean of the readers in ``paths`` (manifests ``sources``, from
    :func:`source_manifests`) to ``args.out`` with a manifest that records ``command`` and
    each source's lineage (``averaged_from``); returns (manifest, stats)."""
    from re3g.train.common import data_files, save_model_folder

    t0 = time.time()
    print(f"averaging the weights of {len(paths)} readers: {', '.join(map(str, paths))}")
    model, tok = mean_weights(paths)
    last = sources[-1]["settings"]
    settings = {**{k: last[k] for k in SHARED if k in last}, "averaged": len(paths)}
    stats = {"averaged": len(paths), "seconds": round(time.time() - t0, 1)}
    manifest = {**{k: sources[-1][k] for k in ("kind", "format", "architecture", "description",
                                               "base_model")},
                "command": command,
                "data": data_files([args.docs, args.train, args.validation]),
                "settings": settings, "metrics": {}, "training": stats,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "averaged_from": [lineage(p, m) for p, m in zip(paths, sources, strict=True)]}
    save_model_folder(model, tok, Path(args.out), manifest)
    return manifest, stats
