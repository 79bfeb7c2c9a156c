"""Batch evaluation on DialDoc-shaped data: retrieval first, later stages when available.

Stage outputs are cached under ``OUT/cache/`` keyed by example id, so an interrupted run
resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from re3g.data.corpus import load_corpus
from re3g.data.dialdoc import examples_from_dialogues, load_dialogues
from re3g.data.query import build_query
from re3g.errors import DataError
from re3g.evaluate.report import render_markdown, write_atomic, write_json
from re3g.evaluate.retrieval import retrieval_metrics
from re3g.evaluate.turns import WorkerSpec
from re3g.retrieve.fusion import rrf
from re3g.types import Document, Example, Hit

DEPTH = 100
# Bump when retrieval results change for the same index (e.g. the int8 query encoder).
RETRIEVAL_REVISION = 2


@dataclass
class EvalContext:
    """Everything later stages need: data, queries, retrieval runs, output folder."""

    docs: dict[str, Document]
    examples: list[Example]
    queries: list[str]
    runs: dict[str, list[list[Hit]]]
    out: Path
    options: dict[str, Any] = field(default_factory=dict)
    retriever: Any = None  # the hybrid retriever already opened on the index (reuse it)
    unanswerable: list[Example] = field(default_factory=list)  # agent turns without references
    index: str = ""  # the index evaluated (what the stages' pipelines open)
    turns: Any = None  # where per-turn work runs (re3g.evaluate.turns); None: here
    _worker: Any = field(default=None, repr=False)

    def local_worker(self) -> Any:
        """This process's :class:`~re3g.evaluate.turns.TurnWorker` over these documents and
        retriever: the stages' own models (built once, shared with per-turn work run here)."""
        from re3g.evaluate.turns import LocalTurns, TurnWorker

        if self._worker is None:
            self._worker = TurnWorker(self, self.index)
            if self.turns is None:
                self.turns = LocalTurns(self._worker)
        return self._worker

    def pipeline(self, index: str, generator: str = "extractive") -> Any:
        """The pipeline these options describe (``config``, ``rerank``, ``generator_options``)
        over ``index``, reusing the documents and the retriever already open."""
        from re3g.config import Config
        from re3g.pipeline import Re3G

        cfg_path = self.options.get("config")
        cfg = Config.load(cfg_path) if cfg_path else Config()
        options = ((self.options.get("generator_options") or {}).get(generator)
                   or (cfg.generator_options if cfg.generator == generator else {}))
        cfg = cfg.with_overrides(index=index, generator=generator, generator_options=options,
                                 rerank=self.options.get("rerank"), mode="hybrid")
        return Re3G(cfg, documents=self.docs, retriever=self.retriever)


# Later stages, in order: module name -> a ``run_stage(context, report)`` that adds its keys
# to the report (``re3g.evaluate.grounding``: reranked + grounding; ``...response``: response).
STAGE_MODULES = {"grounding": "re3g.evaluate.grounding", "response": "re3g.evaluate.response",
                 "answerability": "re3g.evaluate.answerability"}
StageFn = Callable[["EvalContext", dict[str, Any]], None]


def available_stages() -> dict[str, StageFn]:
    """The later stages present in this build, by name."""
    from re3g.optional import import_optional

    out: dict[str, StageFn] = {}
    for name, module_name in STAGE_MODULES.items():
        module = import_optional(module_name)
        if module is not None and hasattr(module, "run_stage"):
            out[name] = module.run_stage
    return out


def eval_index_dir(docs_path: Path, docs: dict[str, Document] | None = None,
                   root: Path = Path("indexes")) -> Path:
    """Where the evaluation keeps the index of a documents file (one per file content) or of
    a folder of documents (one per corpus content)."""
    if docs_path.is_file():
        digest = hashlib.sha256(docs_path.read_bytes()).hexdigest()[:12]
    else:
        from re3g.retrieve.index import corpus_fingerprint

        digest = corpus_fingerprint((docs or load_corpus(docs_path)).values())[:12]
    return root / f"eval-{docs_path.stem}-{digest}"


def ensure_index(docs: dict[str, Document], docs_path: Path, index: Path | None,
                 max_words: int) -> Path:
    """Open ``index`` if given (checked against the corpus), else build or reuse a cached one."""
    from re3g.errors import IndexLoadError
    from re3g.retrieve import build_index, read_manifest
    from re3g.retrieve.index import corpus_fingerprint

    path = index or eval_index_dir(docs_path, docs)
    try:
        manifest = read_manifest(path)
        if manifest["corpus"]["sha256"] != corpus_fingerprint(docs.values()):
            raise IndexLoadError(f"index {path} was built from another corpus than {docs_path}")
        if index is None and manifest["passages"]["max_words"] != max_words:
            raise IndexLoadError("passage settings changed")
        return path
    except IndexLoadError:
        if index is not None:
            raise
    build_index(docs, path, source=str(docs_path), max_words=max_words)
    return path


def _cache_runs(out: Path, name: str, examples: Sequence[Example],
                compute: Callable[[], list[list[Hit]]], passages_by_id: dict,
                signature: str = "") -> list[list[Hit]]:
    path = out / "cache" / f"{name}-{signature}.jsonl" if signature else out / "cache" / (
        f"{name}.jsonl")
    if path.is_file():
        cached = {}
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            cached[rec["id"]] = [Hit(passages_by_id[pid], s, r, name)
                                 for r, (pid, s) in enumerate(rec["hits"], 1)]
        if all(ex.id in cached for ex in examples):
            return [cached[ex.id] for ex in examples]
    runs = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(json.dumps({"id": ex.id, "hits": [[h.passage.pid, h.score]
                                                                 for h in hits]}) + "\n"
                               for ex, hits in zip(examples, runs, strict=True)))
    return runs


def evaluate(docs_path: str | Path, dialogues_path: str | Path, out_dir: str | Path,
             limit: int | None = None, index: str | Path | None = None, max_words: int = 200,
             stages: Sequence[str] | None = None,
             workers: Callable[[WorkerSpec], Any] | None = None,
             **options: Any) -> dict[str, Any]:
    """Run the evaluation and write ``OUT/report.json`` and ``OUT/report.md``; return the report.

    ``workers(spec)``, when given, returns where each turn's heavy work runs (an object with
    ``map`` and ``close``, :mod:`re3g.evaluate.turns`; ``re3g evaluate --ray``:
    :class:`re3g.scale.ray_evaluate.RayTurns`); the report is the same as without it.

    >>> evaluate("docs.json", "dialogues.json", "runs/val", limit=50)  # doctest: +SKIP
    """
    from re3g.retrieve import open_index, read_manifest

    t_start = time.perf_counter()
    docs_path, dialogues_path, out = Path(docs_path), Path(dialogues_path), Path(out_dir)
    docs = load_corpus(docs_path)
    problems: list[str] = []
    every = examples_from_dialogues(load_dialogues(dialogues_path, problems), docs,
                                    str(dialogues_path), unanswerable=True, problems=problems)
    if limit is not None:
        every = every[:limit]
    examples = [e for e in every if e.answerable]
    if not examples:
        raise DataError(f"{dialogues_path}: no grounded agent turns to evaluate"
                        + (f" ({len(problems)} dialogues left out: {problems[0]})"
                           if problems else ""))
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    idx = ensure_index(docs, docs_path, Path(index) if index else None, max_words)
    manifest = read_manifest(idx)
    timings["index"] = time.perf_counter() - t0
    hybrid = open_index(idx, "hybrid")
    by_id = {p.pid: p for p in hybrid.passages}
    queries = [build_query(ex.history) for ex in examples]
    # cached runs are reused only for the same index build and the same retrieval code
    from re3g import __version__

    sig = hashlib.sha256(json.dumps([manifest.get("created"), manifest["corpus"]["sha256"],
                                     DEPTH, __version__, RETRIEVAL_REVISION]).encode()
                         ).hexdigest()[:10]

    t0 = time.perf_counter()
    runs = {
        "bm25": _cache_runs(out, "bm25", examples,
                            lambda: hybrid.sparse.batch_search(queries, DEPTH), by_id, sig),
        "dense": _cache_runs(out, "dense", examples,
                             lambda: hybrid.dense.batch_search(queries, DEPTH), by_id, sig),
    }
    runs["hybrid"] = [rrf([a, b], k=hybrid.rrf_k, weights=hybrid.weights)
                      for a, b in zip(runs["bm25"], runs["dense"], strict=True)]
    timings["retrieval"] = time.perf_counter() - t0

    report: dict[str, Any] = {
        "docs": str(docs_path), "dialogues": str(dialogues_path), "index": str(idx),
        "n_examples": len(examples), "n_passages": manifest["n_passages"],
        "mean_passage_words": manifest["mean_passage_words"],
        "n_unanswerable": len(every) - len(examples),
        "retrieval": {name: retrieval_metrics(examples, r) for name, r in runs.items()},
        "timings": timings,
    }
    if problems:
        report["failures"] = [{"id": "*", "stage": "data", "error": p} for p in problems]
    ctx = EvalContext(docs, examples, queries, runs, out, dict(options), retriever=hybrid,
                      unanswerable=[e for e in every if not e.answerable], index=str(idx))
    registry = available_stages()
    chosen = stages if stages is not None else list(registry)
    for name in chosen:
        if name not in registry:
            raise DataError(f"unknown evaluation stage {name!r}; available: {sorted(registry)}")
    if workers is not None:
        ctx.turns = workers(WorkerSpec(str(docs_path.resolve()), str(idx.resolve()),
                                       str(out.resolve()), dict(options), str(Path.cwd())))
    try:
        for name in chosen:
            t0 = time.perf_counter()
            registry[name](ctx, report)
            timings[name] = time.perf_counter() - t0
    finally:
        if workers is not None:
            ctx.turns.close()
    timings["total"] = time.perf_counter() - t_start
    write_json(out / "report.json", report)
    write_atomic(out / "report.md", render_markdown(report))
    return report
