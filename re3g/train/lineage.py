"""What a trained reader's manifest records about the readers it came from.

    >>> lineage(Path("models/extractor-qa-e3"), {"command": "re3g train extractor --arch qa",
    ...                                          "metrics": {"F1": 46.2}, "settings": {}})
    {'path': 'models/extractor-qa-e3', 'command': 're3g train extractor --arch qa', \
'metrics': {'F1': 46.2}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

QA_TRAIN_CMD = "re3g train extractor --arch qa --profile full --out models/extractor-qa"


def lineage(path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """What a warm-started reader records about the reader it started from (``--init``): its
    folder, command, metrics, training and creation time, and that reader's own start, so the
    manifest holds every command needed to rebuild it, oldest last."""
    out = {"path": str(path)}
    out.update({k: manifest[k] for k in ("command", "metrics", "training", "created", "init_model",
                                         "averaged_from") if k in manifest})
    return out
