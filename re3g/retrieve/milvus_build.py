"""Bulk-loading passages into Milvus under a temporary collection, then swapping an alias.

The pipeline reads the alias ``re3g_<name>`` recorded in the manifest. A build loads a new
collection ``re3g_<name>__<ms>`` (rows, BM25 and dense indexes, loaded and counted), points the
alias at it, and only then drops the collection the alias pointed at before; a failed or
cancelled load drops its own collection, so nothing half-loaded is ever under the alias.
Leftover collections of crashed builds (same prefix, not under the alias, older than
:data:`re3g.retrieve.swap.STALE_AFTER_S`) are dropped by the next build.

>>> collection_names("doc2dial", stamp=1700000000000)
('re3g_doc2dial', 're3g_doc2dial__1700000000000')
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from re3g.errors import IndexLoadError, Re3GError
from re3g.retrieve import swap
from re3g.retrieve.milvus_conn import MilvusTarget, connect, explain, require_pymilvus
from re3g.retrieve.milvus_store import META_KEY, description, make_index_params, make_schema
from re3g.retrieve.milvus_store import passage_row as _row
from re3g.types import Passage

INSERT_BATCH = 512
"""Rows per insert request (and passages between two calls of a build's ``check()``)."""


def collection_names(name: str, stamp: int | None = None) -> tuple[str, str]:
    """(alias, new collection name) for index ``name``: Milvus names allow letters, digits
    and underscores only."""
    safe = re.sub(r"\W", "_", name.encode("ascii", "replace").decode())
    alias = f"re3g_{safe}"
    return alias, f"{alias}__{stamp if stamp is not None else time.time_ns() // 1_000_000}"


def load_collection(passages: Sequence[Passage], vectors: np.ndarray | None,
                    manifest: Mapping[str, Any], target: MilvusTarget, index_dir: str,
                    progress: bool = True, check: Callable[[], None] | None = None
                    ) -> dict[str, Any]:
    """Write ``passages`` (and their ``vectors`` when the index has a dense part) into a new
    collection, point the index's alias at it, and drop the previous one; returns the
    manifest's ``milvus`` part (URI, alias, collection, load time). ``check()`` is called
    between batches and stops the build by raising; the new collection is dropped then."""
    pymilvus = require_pymilvus()
    stop = check or (lambda: None)
    uri = target.resolve(index_dir)
    client = connect(target, index_dir)
    alias, coll = collection_names(manifest["name"])
    t0 = time.perf_counter()
    switched = False
    try:
        _drop_stale(client, alias)
        client.create_collection(coll, schema=make_schema(pymilvus, manifest),
                                 index_params=make_index_params(client, manifest),
                                 consistency_level="Strong",
                                 properties={META_KEY: description(manifest)})
        _insert(client, coll, passages, vectors, progress, stop)
        client.flush(coll)
        client.load_collection(coll)
        count = _count(client, coll)
        if count != len(passages):
            raise IndexLoadError(f"Milvus at {uri}: collection {coll} holds {count} rows after "
                                 f"loading {len(passages)} passages")
        stop()
        previous = _point_alias(client, alias, coll)
        switched = True
        if previous and previous != coll:
            client.drop_collection(previous)
    except Re3GError:  # cancelled, or already explained
        raise
    except Exception as exc:  # noqa: BLE001 - pymilvus raises several types
        raise IndexLoadError(f"loading {len(passages)} passages into Milvus failed: "
                             f"{explain(exc, uri, target)}") from exc
    finally:
        if not switched:
            _drop_quietly(client, coll)
        client.close()
    return {"uri": target.uri, "token_env": target.token_env, "alias": alias, "collection": coll,
            "load_s": round(time.perf_counter() - t0, 2)}


def _insert(client: Any, coll: str, passages: Sequence[Passage], vectors: np.ndarray | None,
            progress: bool, stop: Callable[[], None]) -> None:
    with tqdm(total=len(passages), desc="Milvus load", unit="passage",
              disable=not progress) as bar:
        for start in range(0, len(passages), INSERT_BATCH):
            stop()
            rows = []
            for pos in range(start, min(start + INSERT_BATCH, len(passages))):
                row = _row(passages[pos], pos)
                if vectors is not None:
                    row["dense"] = vectors[pos].tolist()
                rows.append(row)
            client.insert(coll, rows)
            bar.update(len(rows))


def _count(client: Any, coll: str) -> int:
    res = client.query(coll, filter="", output_fields=["count(*)"])
    return int(res[0]["count(*)"])


def _point_alias(client: Any, alias: str, coll: str) -> str | None:
    """Point ``alias`` at ``coll``; return the collection it pointed at before (or None)."""
    previous = current_collection(client, alias)
    if previous is None:
        client.create_alias(coll, alias)
    else:
        client.alter_alias(coll, alias)
    return previous


def current_collection(client: Any, alias: str) -> str | None:
    """The collection ``alias`` points at, or None when there is no such alias."""
    aliases = client.list_aliases().get("aliases", [])
    if alias not in aliases:
        return None
    return str(client.describe_alias(alias)["collection_name"])


def _drop_stale(client: Any, alias: str) -> None:
    """Drop collections of crashed builds of this index: ``<alias>__<ms>`` not under the alias
    and older than a day (a younger one may be another machine's build in progress)."""
    live = current_collection(client, alias)
    now_ms = time.time_ns() // 1_000_000
    for name in client.list_collections():
        m = re.fullmatch(re.escape(alias) + r"__(\d+)", name)
        if m and name != live and now_ms - int(m[1]) > swap.STALE_AFTER_S * 1000:
            _drop_quietly(client, name)


def _drop_quietly(client: Any, coll: str) -> None:
    try:
        if client.has_collection(coll):
            client.drop_collection(coll)
    except Exception:  # noqa: BLE001 - best effort; the next build drops stale ones
        pass
