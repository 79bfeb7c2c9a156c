"""Records shared by the evaluation stages: a resumable JSON-lines cache, the stamp of the
code that made cached results, and failure entries.

    >>> failure_record("d1_3", "extract", ValueError("bad span"))
    {'id': 'd1_3', 'stage': 'extract', 'error': 'ValueError: bad span'}
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any


class LineCache:
    """Append-only JSON-lines cache keyed by example id (a torn last line is ignored)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: dict[str, dict[str, Any]] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict) and "id" in rec:
                    self.items[rec["id"]] = rec
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("a", encoding="utf-8")

    def __contains__(self, key: str) -> bool:
        return key in self.items

    def get(self, key: str) -> dict[str, Any] | None:
        return self.items.get(key)

    def put(self, rec: dict[str, Any]) -> None:
        self.items[rec["id"]] = rec
        self._fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def failure_record(ex_id: str, stage: str, exc: BaseException) -> dict[str, str]:
    """One entry of a report's ``failures``: the example, the stage and the error."""
    msg = " ".join(str(exc).split()) or type(exc).__name__
    return {"id": ex_id, "stage": stage, "error": f"{type(exc).__name__}: {msg[:300]}"}


PACKAGE = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=4)
def code_stamp(root: Path = PACKAGE) -> str:
    """A hash of every Python source under ``root`` (the re3g package): cached evidence and
    replies are reused only while the code that made them is unchanged. A reply edit lives in
    more than one module (``generate/base.py`` joins the spans), and so does the evidence, so
    the whole package is stamped, once per process."""
    digest = hashlib.sha1()
    for f in sorted(root.rglob("*.py")):
        digest.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:10]
