"""``re3g evaluate --ray``: each turn's heavy work on an actor pool of Ray workers.

Every actor builds one :class:`re3g.evaluate.turns.TurnWorker` from the evaluation's
:class:`~re3g.evaluate.turns.WorkerSpec` (same documents, index, options and working
folder), loading each model once on first use. The evaluating process keeps the batched work
(retrieval, document priors, metrics); :meth:`RayTurns.map` cuts a stage's turns into shards
of whole dialogues, runs the shards on the pool and returns the results in the turns' order,
so the stage computes its metrics once over the same records as a single-process run.

>>> shards([1, 2, 3, 4, 5], ["a", "a", "b", "c", "c"], 2)
[[1, 2, 3], [4, 5]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from re3g.evaluate.turns import TurnWorker, WorkerSpec

SHARDS_PER_ACTOR = 4
"""Shards per actor and stage: enough for an idle actor to take the next one."""


def shards(payloads: Sequence[Any], keys: Sequence[str] | None, n: int) -> list[list[Any]]:
    """``payloads`` cut into at most ``n`` contiguous shards of about equal numbers of whole
    dialogues (consecutive payloads with the same key stay together)."""
    groups: list[list[Any]] = []
    last = object()
    for i, p in enumerate(payloads):
        key = keys[i] if keys is not None else i
        if not groups or key != last:
            groups.append([])
        groups[-1].append(p)
        last = key
    if not groups:
        return []
    per = math.ceil(len(groups) / max(1, n))
    return [[p for g in groups[s:s + per] for p in g] for s in range(0, len(groups), per)]


class TurnActor:
    """The body of one Ray actor: a TurnWorker built from ``spec`` (wrapped by
    ``ray.remote`` in :class:`RayTurns`).

    >>> TurnActor(spec).run("ground", payloads)  # doctest: +SKIP
    """

    def __init__(self, spec: WorkerSpec) -> None:
        import warnings

        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        warnings.filterwarnings("ignore", category=FutureWarning)
        self.worker = TurnWorker.from_spec(spec)

    def run(self, task: str, payloads: Sequence[Any]) -> list[Any]:
        return self.worker.run(task, payloads)


class RayTurns:
    """Per-turn work on an actor pool of the connected Ray cluster
    (:func:`re3g.scale.cluster.connect` first); ``actors`` defaults to the cluster's CPUs,
    one CPU each.

    >>> turns = RayTurns(spec, actors=2)             # doctest: +SKIP
    >>> turns.map("ground", payloads, keys)          # doctest: +SKIP
    >>> turns.close()                                # doctest: +SKIP
    """

    remote = True

    def __init__(self, spec: WorkerSpec, actors: int | None = None) -> None:
        from re3g.scale.cluster import cpus, require_connected

        ray = require_connected()
        n = actors or cpus()
        actor = ray.remote(num_cpus=1)(TurnActor)
        self.actors = [actor.remote(spec) for _ in range(n)]

    def map(self, task: str, payloads: Sequence[Any], keys: Sequence[str] | None = None,
            desc: str = "") -> list[Any]:
        """``task`` over ``payloads`` on the pool, results in the payloads' order."""
        from ray.util import ActorPool
        from tqdm.auto import tqdm

        parts = shards(payloads, keys, SHARDS_PER_ACTOR * len(self.actors))
        if not parts:
            return []
        pool = ActorPool(self.actors)
        out: list[Any] = []
        with tqdm(total=len(payloads), desc=f"{desc or task} (ray)", unit="turn",
                  disable=not desc) as bar:
            for part in pool.map(lambda a, shard: a.run.remote(task, shard), parts):
                out += part
                bar.update(len(part))
        return out

    def close(self) -> None:
        """Stop the actors."""
        import ray

        for a in self.actors:
            ray.kill(a)
        self.actors = []
