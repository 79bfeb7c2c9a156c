"""Passage encoding with Ray Data, for ``re3g index --ray``.

The passages become a Ray dataset with one block per chunk of
:data:`re3g.retrieve.dense.ENCODE_CHUNK` passages, the chunks the single-process build
encodes one call at a time; ``map_batches`` sends each block to an actor pool of
:class:`PassageEncoder` (the project's encoder, loaded once per actor; one GPU per actor when
the cluster has GPUs, else one CPU). Each chunk is encoded in one call, as in the
single-process build, so on the same kind of device the vectors are the same bits and the
index built from them (FAISS or Milvus, by :func:`re3g.retrieve.build_index`, unchanged)
answers the same.

>>> from re3g.scale.ray_index import chunk_bounds
>>> chunk_bounds(5, 2)
[(0, 2), (2, 4), (4, 5)]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from re3g.errors import Re3GError
from re3g.types import Passage

PassageEncoding = Callable[[Sequence[Passage], "str | None"], np.ndarray]


def chunk_bounds(n: int, size: int) -> list[tuple[int, int]]:
    """``[start, end)`` of each chunk of ``size`` items over ``n`` items."""
    return [(s, min(s + size, n)) for s in range(0, n, size)]


class PassageEncoder:
    """A Ray Data actor: the project's passage encoder, loaded once, encoding each chunk of
    a batch in one call (rows: ``chunk``, ``pos``, ``text``; adds ``vector`` and
    ``chunk_rows``, the number of rows encoded together).

    >>> enc = PassageEncoder(None)  # doctest: +SKIP
    >>> enc({"chunk": np.array([0]), "pos": np.array([0]), "text": np.array(["Day passes"])}
    ...     )["vector"].shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, model: str | None) -> None:
        from re3g.retrieve.dense import load_encoder

        self.model = load_encoder(model)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from re3g.retrieve.dense import encode

        chunks = np.asarray(batch["chunk"])
        texts = [str(t) for t in batch["text"]]
        rows_of, vectors = [], []
        together = np.empty(len(texts), dtype=np.int64)
        for c in dict.fromkeys(chunks.tolist()):  # in order of first appearance
            rows = np.flatnonzero(chunks == c)
            vectors.append(encode(self.model, [texts[i] for i in rows]))
            rows_of.append(rows)
            together[rows] = len(rows)
        out = np.empty((len(texts), vectors[0].shape[1]), dtype=np.float32)
        out[np.concatenate(rows_of)] = np.concatenate(vectors)
        return {"pos": np.asarray(batch["pos"]), "chunk": chunks, "vector": out,
                "chunk_rows": together}


def encode_with_ray(passages: Sequence[Passage], model: str | None = None, *,
                    actors: int | None = None, chunk: int | None = None) -> np.ndarray:
    """The normalised fp32 vectors of ``passages`` in index order, encoded on the connected
    Ray cluster (:func:`re3g.scale.cluster.connect` first). ``actors``: pool size (default:
    one per GPU when the cluster has GPUs, else one per CPU, at most one per chunk)."""
    import pyarrow as pa

    from re3g.data.passages import passage_contents
    from re3g.retrieve.dense import ENCODE_CHUNK
    from re3g.scale.cluster import cpus, gpus, require_connected

    ray = require_connected()
    context = ray.data.DataContext.get_current()  # imports ray.data, which sets its logging
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    size = chunk or ENCODE_CHUNK
    texts = [passage_contents(p) for p in passages]
    bounds = chunk_bounds(len(texts), size)
    if not bounds:
        raise Re3GError("no passages to encode")
    tables = [pa.table({"chunk": [i] * (e - s), "pos": list(range(s, e)), "text": texts[s:e]})
              for i, (s, e) in enumerate(bounds)]
    n_gpus = gpus()
    pool = actors or min(len(bounds), n_gpus if n_gpus else cpus())
    per_actor: dict[str, Any] = {"num_gpus": 1} if n_gpus else {"num_cpus": 1}
    ds = ray.data.from_arrow(tables).map_batches(
        PassageEncoder, fn_constructor_args=(model,), batch_size=None,
        compute=ray.data.ActorPoolStrategy(size=pool), **per_actor)
    rows = ds.to_pandas()
    if len(rows) != len(texts):
        raise Re3GError(f"Ray encoded {len(rows)} of {len(texts)} passages")
    rows = rows.sort_values("pos", kind="stable")
    want = np.asarray([e - s for s, e in bounds])[rows["chunk"].to_numpy()]
    if not np.array_equal(rows["chunk_rows"].to_numpy(), want):
        raise Re3GError("Ray Data split a chunk of passages across calls; the vectors would "
                        "differ from a single-process build")
    vecs = np.stack(rows["vector"].to_list()).astype(np.float32, copy=False)
    return np.ascontiguousarray(vecs)


def ray_encoding(address: str | None = None, actors: int | None = None) -> PassageEncoding:
    """A ``build_index(encode=...)`` function that encodes on the Ray cluster at ``address``
    (connected to when called)."""
    from re3g.scale.cluster import connect

    def run(passages: Sequence[Passage], model: str | None) -> np.ndarray:
        connect(address)
        return encode_with_ray(passages, model, actors=actors)

    return run
