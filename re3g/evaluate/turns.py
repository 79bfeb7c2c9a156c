"""Per-turn work of the evaluation stages, and where it runs.

The stages of ``re3g evaluate`` do their batched work (retrieval, document priors) in the
evaluating process and hand each turn's heavy work (ranking and extraction, replies, the
answerability pass) to ``ctx.turns.map(task, payloads, keys)``: :class:`LocalTurns` (the
default) runs it here on one :class:`TurnWorker`; ``re3g evaluate --ray`` passes
:class:`re3g.scale.ray_evaluate.RayTurns`, an actor pool of TurnWorkers, each built once from
the same :class:`WorkerSpec`. Results come back in the order of the payloads and the stage
computes its metrics once over all of them, so where the turns ran does not change the report.

A task is a function ``(worker, payload) -> result`` in :data:`TASKS`. Failures a stage
records (instead of stopping) come back as :class:`TurnFailure` values.

>>> TurnFailure.of(ValueError("bad span")).exception().args
('bad span',)
>>> type(TurnFailure("ModelError", "x").exception()).__name__
'ModelError'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from re3g.types import Example


@dataclass(frozen=True)
class TurnFailure:
    """An exception raised by one turn's work, carried back as its type name and message
    (what :func:`re3g.evaluate.records.failure_record` writes).

    >>> TurnFailure.of(KeyError("d1")).kind
    'KeyError'
    """

    kind: str
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> TurnFailure:
        return cls(type(exc).__name__, str(exc))

    def exception(self) -> Exception:
        """An exception with the same type name and message."""
        return type(self.kind, (Exception,), {})(self.message)


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs to build the same evaluation state as this one: absolute
    paths of the documents, the index and the output folder, the stage options and the
    working folder (relative paths in the options resolve from it).

    >>> WorkerSpec("/d/docs.json", "/i/idx", "/o", {"rerank": False}, "/w").options
    {'rerank': False}
    """

    docs: str
    index: str
    out: str
    options: dict[str, Any] = field(default_factory=dict)
    cwd: str = ""


class TurnWorker:
    """One process's models for per-turn evaluation work, each built once on first use:
    the grounding stage's ranking chain and extractor, and the stages' pipelines.

    >>> worker = TurnWorker.from_spec(spec)          # doctest: +SKIP
    >>> worker.run("ground", [(example, query, hits, prior)])  # doctest: +SKIP
    """

    def __init__(self, ctx: Any, index: str) -> None:
        self.ctx = ctx
        self.index = index
        self._parts: dict[Any, Any] = {}

    @classmethod
    def from_spec(cls, spec: WorkerSpec) -> TurnWorker:
        """Load the documents and open the index as the evaluating process did."""
        from re3g.data.corpus import load_corpus
        from re3g.evaluate.runner import EvalContext
        from re3g.retrieve import open_index

        if spec.cwd and Path(spec.cwd).is_dir():
            os.chdir(spec.cwd)
        ctx = EvalContext(load_corpus(Path(spec.docs)), [], [], {}, Path(spec.out),
                          dict(spec.options), retriever=open_index(spec.index, "hybrid"))
        return cls(ctx, spec.index)

    def part(self, key: Any, load: Callable[[], Any]) -> Any:
        """The component ``key``, built by ``load()`` the first time."""
        if key not in self._parts:
            self._parts[key] = load()
        return self._parts[key]

    def pipeline(self, role: str, generator: str = "extractive") -> Any:
        """The pipeline of one stage (``role``) with ``generator``, as ``ctx.pipeline``."""
        return self.part(("pipeline", role, generator),
                         lambda: self.ctx.pipeline(self.index, generator))

    def grounding(self) -> Any:
        """The grounding stage's models (:func:`re3g.evaluate.grounding.grounding_setup`)."""
        from re3g.evaluate.grounding import grounding_setup

        return self.part("grounding", lambda: grounding_setup(self.ctx, self.index))

    def run(self, task: str, payloads: Sequence[Any]) -> list[Any]:
        """``TASKS[task]`` over ``payloads``, in order."""
        fn = TASKS[task]
        return [fn(self, p) for p in payloads]


def _ground(worker: TurnWorker, payload: tuple) -> dict[str, Any]:
    from re3g.evaluate.grounding import ground_turn

    setup = worker.grounding()
    example, query, hits, prior = payload
    return ground_turn(setup.chain, setup.extractor, worker.ctx.docs, setup.passages,
                       example, query, hits, prior)


def _evidence(worker: TurnWorker, payload: tuple) -> dict[str, Any] | TurnFailure:
    generator, example, first = payload
    bot = worker.pipeline("response", generator)
    try:
        q = bot.build_query(example.history)
        current = example.history[-1].utterance or ""
        ranking = bot.rank(q, first, example.history)
        return {"evidence": bot.extract(q, ranking.hits, current, example.history),
                "ranking": ranking}
    except Exception as exc:  # noqa: BLE001 - recorded by the stage, the batch goes on
        return TurnFailure.of(exc)


def _reply(worker: TurnWorker, payload: tuple) -> str | TurnFailure:
    generator, first, history, evidence, hits = payload
    try:
        bot = worker.pipeline("response", first)
        gen = (bot if generator == first else worker.pipeline("response", generator)).generator
        return gen.generate(history, evidence, hits)
    except Exception as exc:  # noqa: BLE001 - recorded by the stage, the batch goes on
        return TurnFailure.of(exc)


def _answerability(worker: TurnWorker, payload: tuple) -> list[dict[str, Any]] | TurnFailure:
    from re3g.evaluate.answerability import turn_records

    example, synthetic = payload
    try:
        return turn_records(worker.pipeline("answerability"), example, worker.ctx.docs,
                            synthetic)
    except Exception as exc:  # noqa: BLE001 - recorded by the stage, the batch goes on
        return TurnFailure.of(exc)


TASKS: dict[str, Callable[[TurnWorker, Any], Any]] = {
    "ground": _ground, "evidence": _evidence, "reply": _reply,
    "answerability": _answerability,
}
"""Per-turn tasks by name: ``(worker, payload) -> result``."""


class LocalTurns:
    """Per-turn work in this process, on one :class:`TurnWorker` over the evaluation's own
    documents and retriever (nothing is loaded twice).

    >>> LocalTurns(TurnWorker(None, "indexes/x")).map("reply", [])
    []
    """

    def __init__(self, worker: TurnWorker) -> None:
        self.worker = worker

    def map(self, task: str, payloads: Sequence[Any], keys: Sequence[str] | None = None,
            desc: str = "") -> list[Any]:
        """``TASKS[task]`` over ``payloads``, in order (``keys`` are for distributed maps)."""
        from tqdm.auto import tqdm

        fn = TASKS[task]
        return [fn(self.worker, p) for p in tqdm(payloads, desc=desc or task, unit="turn",
                                                 disable=not desc or not payloads)]


def dialogue_keys(examples: Sequence[Example]) -> list[str]:
    """The dialogue of each example (a distributed map keeps a dialogue's turns together)."""
    return [ex.dial_id for ex in examples]

