"""Choose the reader's selection settings on a dev part of the train split (never validation).

    python -m re3g.train.select_reader [--dialogues 80] [--index indexes/doc2dial]
        [--written data/dev/documents data/dev/dialogues.json] [--dry-run]
    python -m re3g.train.select_reader --sweep key_weight=0,2,4    # one range term
    python -m re3g.train.select_reader --sureness                  # how sure of its sentence
    python -m re3g.train.select_reader --roles [--written D F]...  # its question's turns on
                                                                   # other documents

The start/end reader ``models/extractor-qa`` reads the pipeline's candidates (the hybrid
dialogue pool ranked by :class:`re3g.rank.RankingChain`: tower, document prior, cross-encoder)
of every grounded turn of ``--dialogues`` train dialogues drawn with ``--seed``. Its readings
are cached, then every point of :data:`GRID` is scored by grounding F1 (official DialDoc
normalisation) against the turns' reference spans, and the best point is written into the
reader's manifest (``settings``), with where it was chosen (``selection``). The grid holds
today's settings (passages read, reranker weight, rank penalty, null weight, snapping) and
``span_penalty``, which takes score off a range for every document span it covers beyond the
first: the reader favours long ranges that start at a passage's first sentence, and
``overlap_weight``, which adds score for the share of the user's last turn's content stems
found in a range: the reader often takes the neighbour of the right sentence, and
``cosine_weight``, which adds the cosine of the user's last turn and the range's best span under
the packaged general-purpose encoder: on documents unlike doc2dial the reader's own scores
flatten and it drifts to a passage's first sentence.

Since session 12 the settings are chosen on two parts that weigh the same: the doc2dial train dev
part and a hand-written development set over documents of other styles (``data/dev``, ``--written
DOCS DIALOGUES``), so they suit documents no model here was tuned on. The behaviour-test suite in
``data/suite`` is never used.

``--sureness`` fits, on the same parts and cached readings, the model of how sure the reader
is of its sentence (:mod:`re3g.train.sureness`, :mod:`re3g.extract.sureness`) under the
settings as they are; choosing new settings drops it, to be refitted.

``--roles`` chooses which turns the reader's question holds on documents it was not tuned on
(``other.query_roles`` and ``other.skip_quotes``: every turn, as on doc2dial; the user's
alone; or every turn but agent turns that quote the documents word for word), on the written
development sets replayed as the chat holds them (:mod:`re3g.evaluate.replay`), where the agent
turns are the bot's own word-for-word replies and reading them can hold a follow-up on the
sentence last quoted.

The reader was trained on all of train, so a dev part of train flatters it: the figures here
say which settings are best relative to each other, not what unseen dialogues get; validation
is scored once afterwards with ``re3g evaluate``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from re3g.models import model_path
from re3g.rank.reranker import OTHER_CROSS
from re3g.train import common, qa_eval
from re3g.train.sureness import KEEP as SURENESS_KEEP
from re3g.train.sureness import stale_sureness

# the trainer's grid (re3g.train.qa_eval.GRID) without the span scorer, which is not shipped,
# and with the span penalty
GRID: dict[str, list[float]] = {
    "n_passages": [1, 2, 3],
    "rerank_weight": [5.0, 20.0],
    "null_weight": [0.0],
    "rank_penalty": [0.0],
    "snap_ratio": [0.3],
    "span_penalty": [0.25, 1.0, 2.0],
    "overlap_weight": [0.0, 2.0, 4.0, 8.0],
    "cosine_weight": [0.0, 2.0, 5.0, 10.0, 20.0, 40.0],
    "reader_weight": [1.0, 0.5, 0.25, 0.1],
}
"""Session 12 grid: the terms session 11 left at 0 (null weight, rank penalty) or at one
value across the grid (snapping) are held there; the new ``cosine_weight`` and
``reader_weight`` are searched."""
JUDGE_GRID: dict[str, list[float]] = {
    **GRID,
    "n_passages": [3],
    "rerank_weight": [20.0],
    "overlap_weight": [0.0, 2.0, 4.0],
    "cosine_weight": [0.0, 2.0, 5.0, 10.0, 20.0],
    "reader_weight": [1.0, 0.5, 0.25],
    "judge_weight": [0.0, 0.5, 1.0, 2.0, 4.0],
}
"""Session 16 grid, searched when a sentence judge is given (``--judge``): its weight beside
the terms it competes with (reader, cosine, overlap, span penalty); the terms every earlier
selection left at one value (three passages, reranker weight 20) are held there, which keeps
the grid (675 points) as fast to score as session 12's."""
REDUCED_GRID: dict[str, list[float]] = {
    **GRID,
    "n_passages": [2, 3],
    "rerank_weight": [20.0],
    "span_penalty": [0.25, 2.0],
    "overlap_weight": [0.0, 4.0],
    "cosine_weight": [0.0, 2.0, 5.0, 20.0],
    "reader_weight": [1.0, 0.5, 0.25],
}
"""Session 23 grid (``--grid reduced``, 96 points, about a minute per part instead of half an
hour): the values sessions 12-22 chose, for the regular and the unsure regime alike, and their
neighbours, for a newly trained reader whose score scale moved."""
REDUCED_JUDGE_GRID: dict[str, list[float]] = {
    **REDUCED_GRID, "judge_weight": [0.0, 0.25, 0.5, 1.0, 2.0]}
"""Session 25 grid (``--grid reduced --judge``, 480 points): the reduced grid beside the
weight of a second reader read as a judge (:class:`re3g.extract.judge.ReaderJudge`, whose
logits are start + end scores like the reader's own)."""
KEEP_FIRST = 2.0
"""F1 the doc2dial part may give up, against the best it could get alone, for the written
documents' sake (see :func:`select`). With the session-12 grid the best doc2dial-only choice
scores about 2 F1 above the session-11 settings, so this bound keeps doc2dial where it was."""
TRADEOFF = (0.0, 1.0, 2.0, 3.0, 4.0, None)
"""Bounds reported beside the chosen one (what each would give each part)."""
UNSURE_MARGINS = [float("-inf"), -10.0, -8.0, -6.0, -4.0, -2.0, 0.0]
"""Where the ``unsure`` settings may take over (the reader's best range minus its "no answer"
score on the top passage); -inf: never."""
RANGES_KEPT = 30  # ranges per passage weighed when a span penalty may favour short ones
CACHE_DIR = Path(".cache/select-reader")
RANKING_FIELDS = ("k", "rerank", "reranker", "rerank_k", "current_weight", "document_weight",
                  "document_temperature", "document_margin", "title_weight", "base_weight",
                  "cross", "cross_model", "cross_depth", "cross_weight")
"""The Config fields that decide a turn's candidates (part of the readings' cache key)."""


def dev_examples(path: Path, docs: dict[str, Any], dialogues: int, seed: int) -> list[Any]:
    """The grounded turns of ``dialogues`` train dialogues drawn with ``seed``."""
    from re3g.data import load_examples

    examples = load_examples(path, docs)
    keep = common.dev_dialogue_ids(examples, dialogues, seed)
    return [e for e in examples if e.dial_id in keep]


@dataclass
class Part:
    """One body of turns the settings are chosen on: its grounded examples, documents and
    index (the doc2dial train dev part, or a hand-written set over other documents)."""

    name: str
    examples: list[Any]
    docs: dict[str, Any]
    index: Path


def read_part(part: Part, ex: Any, depth: int, cache_dir: Path | None = CACHE_DIR
              ) -> dict[str, Any]:
    """The pipeline's candidates of every turn of ``part``, the reader's readings of the top
    ``depth`` of them, the references, the user's last turns and their span cosines. Kept in
    ``cache_dir`` under a key of the turns (text and references), the reader's weights and
    question roles (not its range settings: they do not change what it reads), the ranking
    models and settings, ``depth`` and :data:`RANGES_KEPT`."""
    import hashlib
    import pickle

    from re3g.config import Config
    from re3g.models import MANIFEST

    rk = Config()
    view = part_reader(part, ex)  # what the reader's question holds on this corpus
    # the cascade's depth and weight in the cross-encoder's manifest (what the pipeline uses
    # unless the config sets them), so a change there alone is not served from old readings;
    # read from the file, without loading the model a second time
    cascade = []
    for name in ("cross-reranker", OTHER_CROSS):
        mpath = model_path(name) / MANIFEST
        st = json.loads(mpath.read_text()).get("settings", {}) if mpath.is_file() else {}
        cascade += [st.get("depth"), st.get("cross_weight")]
    key = hashlib.sha1(json.dumps([
        part.name, str(part.index), depth, RANGES_KEPT, [view.query_roles, view.skip_quotes],
        [[e.id, [t.utterance for t in e.history],
          [[r.doc_id, r.span_id] for r in e.references]] for e in part.examples],
        [files_stamp(d) for d in (Path(ex.path) if ex.path else None,
                                  model_path("reranker"), model_path("cross-reranker"),
                                  model_path(OTHER_CROSS))],
        [getattr(rk, n) for n in RANKING_FIELDS], cascade,
    ], default=str).encode()).hexdigest()[:16]
    path = cache_dir / f"{key}.pkl" if cache_dir else None
    if path is not None and path.is_file():
        with path.open("rb") as fh:
            return pickle.load(fh)
    got = _read_part(part, ex, depth)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(got, fh)
        tmp.replace(path)
    return got


def part_reader(part: Part, ex: Any) -> Any:
    """A view of the reader ``ex`` (same model) with the settings the pipeline gives it on
    ``part``'s corpus (:meth:`re3g.extract.SpanExtractor.for_corpus`): what its question
    holds there (``other.query_roles``, ``other.skip_quotes``) follows."""
    import copy

    from re3g.config import Config
    from re3g.retrieve.index import corpus_fingerprint

    view = copy.copy(ex)
    view.for_corpus(corpus_fingerprint(part.docs.values()), Config().calibration)
    return view


def files_stamp(folder: Path | None) -> list[Any]:
    """(name, size, mtime) of a model folder's files but its manifest ([] when missing)."""
    if folder is None or not folder.is_dir():
        return []
    return sorted((f.name, f.stat().st_size, f.stat().st_mtime) for f in folder.iterdir()
                  if f.is_file() and f.name != "manifest.json")


def _read_part(part: Part, ex: Any, depth: int) -> dict[str, Any]:
    from tqdm.auto import tqdm

    from re3g.config import Config
    from re3g.data import build_query
    from re3g.data.dialdoc import grounding_text
    from re3g.evaluate.grounding import pipeline_runs
    from re3g.rank import Reranker, load_cross
    from re3g.retrieve import open_index
    from re3g.retrieve.index import corpus_fingerprint

    cfg = Config()
    retriever = open_index(part.index, mode="hybrid")
    tower = Reranker.load()
    tower.prime_from_index(part.index, retriever.passages)
    queries = [build_query(e.history, roles="user") for e in part.examples]
    # the cross-encoder the pipeline gives the part's corpus (Re3G.cross_reranker)
    cross = load_cross(cfg.cross, cfg.cross_model, corpus_fingerprint(part.docs.values()),
                       cfg.calibration)
    runs = pipeline_runs(retriever, tower, part.examples, queries, cfg.k, progress=True,
                         cross=cross)
    view = part_reader(part, ex)
    asked = [view.question(e.history, part.docs) or q
             for e, q in zip(part.examples, queries, strict=True)]
    readings = [ex.model.read(q, [h.passage for h in hits[:depth]], part.docs, keep=RANGES_KEPT)
                for q, hits in tqdm(list(zip(asked, runs, strict=True)),
                                    desc=f"read passages ({part.name})")]
    currents = [e.history[-1].utterance or "" for e in part.examples]
    cosines = [ex.span_cosines(c, [h.passage for h in hits[:depth]], part.docs)
               for c, hits in zip(currents, runs, strict=True)]
    return {"runs": runs, "readings": readings, "currents": currents, "cosines": cosines,
            "refs": [grounding_text(e, part.docs) for e in part.examples]}


def judge_part(part: Part, got: dict[str, Any], ex: Any, judge_dir: Path,
               cache_dir: Path | None = CACHE_DIR) -> list[dict[tuple[str, str], float]]:
    """The sentence judge's logits of every span of the passages read for each turn of
    ``part`` (the reader's question), cached under the turns, the passages and the judge's
    files."""
    import hashlib
    import pickle

    from tqdm.auto import tqdm

    from re3g.extract.judge import load_judge

    view = part_reader(part, ex)
    asked = [view.question(e.history, part.docs) or e.history[-1].utterance or ""
             for e in part.examples]
    passages = [[r.passage for r in rd] for rd in got["readings"]]
    key = hashlib.sha1(json.dumps([
        "judge", part.name, asked, [[p.pid for p in ps] for ps in passages],
        files_stamp(judge_dir), (judge_dir / "manifest.json").stat().st_mtime,
    ], default=str).encode()).hexdigest()[:16]
    path = cache_dir / f"{key}.pkl" if cache_dir else None
    if path is not None and path.is_file():
        with path.open("rb") as fh:
            return pickle.load(fh)
    judge = load_judge(judge_dir)
    out = [judge.judge_passages(q, ps, part.docs)
           for q, ps in tqdm(list(zip(asked, passages, strict=True)),
                             desc=f"judge sentences ({part.name})")]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(out, fh)
        tmp.replace(path)
    return out


def select(parts: Sequence[Part], reader_dir: Path, keep_first: float | None = KEEP_FIRST,
           judge_dir: Path | None = None, reduced: bool = False
           ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(chosen settings, report) for the reader in ``reader_dir``.

    Every point of :data:`GRID` is scored on every turn. Then for each margin in
    :data:`UNSURE_MARGINS` the turns split into those where the reader's margin on the top
    passage reaches it (the regular settings) and the others (the ``unsure`` settings); each
    side takes a point. The objective is the mean over ``parts`` of each part's mean
    grounding F1 (each part weighs the same, whatever its size), under one constraint: the
    first part (doc2dial train dev) keeps within ``keep_first`` F1 of the best it could get
    alone (None: no constraint). The two-fold figure chooses on one half of the dialogues and
    scores the other half. With ``judge_dir`` (a sentence judge) the grid is
    :data:`JUDGE_GRID`, which weighs the judge's logits too; with ``reduced``,
    :data:`REDUCED_GRID`.
    """
    import numpy as np

    from re3g.extract import SpanExtractor

    grid = ((REDUCED_JUDGE_GRID if reduced else JUDGE_GRID) if judge_dir is not None
            else REDUCED_GRID if reduced else GRID)
    ex = SpanExtractor.load(reader_dir)
    today = {k: getattr(ex, k) for k in grid}
    today_unsure, today_gate = dict(ex.unsure), ex.unsure_margin
    depth = int(max(GRID["n_passages"]))
    scores, margins, folds, owner = [], [], [], []
    points: list[dict[str, float]] = []
    for n, part in enumerate(parts):
        ex.unsure = {}  # the grid scores the regular settings on every turn
        got = read_part(part, ex, depth)
        judged = judge_part(part, got, ex, judge_dir) if judge_dir is not None else None
        res = qa_eval.grid_search(ex, got["readings"], got["runs"], part.docs, got["refs"], grid,
                                  currents=got["currents"], cosines=got["cosines"],
                                  judged=judged)
        points = [st for st, _ in res]
        scores.append(np.array([f for _, f in res]))
        margins += [rd[0].margin if rd else float("-inf") for rd in got["readings"]]
        folds += [hash_fold(e.dial_id) for e in part.examples]
        owner += [n] * len(part.examples)
    f1 = np.concatenate(scores, axis=1)  # points x turns
    margin, fold, part_of = np.array(margins), np.array(folds), np.array(owner)

    def weights(mask: Any) -> Any:
        w = np.zeros(len(mask))
        for n in range(len(parts)):
            m = mask & (part_of == n)
            w[m] = 1.0 / (m.sum() * len(parts)) if m.any() else 0.0
        return w

    def choose(mask: Any, keep: float | None = keep_first) -> tuple[float, int, int]:
        w = weights(mask)
        first = mask & (part_of == 0)
        w0 = weights(first) * len(parts)  # the first part alone (doc2dial train dev)

        def best_pairs(floor: float | None) -> tuple[float, tuple[float, int, int]] | None:
            best = None
            for gate in UNSURE_MARGINS:
                sure = margin >= gate
                obj = (f1[:, sure] @ w[sure])[:, None] + (f1[:, ~sure] @ w[~sure])[None, :]
                if floor is not None:
                    own = (f1[:, sure] @ w0[sure])[:, None] + (f1[:, ~sure] @ w0[~sure])[None, :]
                    obj = np.where(own >= floor, obj, -np.inf)
                if gate == float("-inf"):  # one regime: the same point on every turn
                    obj = np.where(np.eye(len(points), dtype=bool), obj, -np.inf)
                i, j = np.unravel_index(int(np.argmax(obj)), obj.shape)
                if np.isfinite(obj[i, j]) and (best is None or obj[i, j] > best[0] + 1e-9):
                    best = (float(obj[i, j]), (gate, int(i), int(j)))
            return best

        if len(parts) == 1 or keep is None:
            found = best_pairs(None)
        else:
            # how well the first part alone can do; the choice may give up at most ``keep``
            alone = max(float(((f1[:, margin >= g] @ w0[margin >= g]).max())
                               + ((f1[:, margin < g] @ w0[margin < g]).max()
                                  if (margin < g).any() else 0.0)) for g in UNSURE_MARGINS)
            found = best_pairs(alone - keep)
        assert found is not None
        return found[1]

    def score(choice: tuple[float, int, int], mask: Any) -> float:
        gate, i, j = choice
        w = weights(mask)
        sure = margin >= gate
        return float(f1[i, sure & mask] @ w[sure & mask] + f1[j, ~sure & mask] @ w[~sure & mask])

    def per_part(choice: tuple[float, int, int]) -> dict[str, float]:
        return {part.name: round(score(choice, part_of == n) * len(parts), 2)
                for n, part in enumerate(parts)}

    every = np.ones(len(margin), dtype=bool)
    chosen = choose(every)
    held = [score(choose(fold == k), fold != k) for k in (0, 1)]
    def index_of(st: dict[str, float]) -> int | None:
        return next((n for n, pt in enumerate(points)
                     if all(abs(pt[k] - st[k]) < 1e-9 for k in grid)), None)

    now = index_of(today)
    now_unsure = index_of({**today, **today_unsure}) if today_unsure else now
    gate, i, j = chosen
    settings: dict[str, Any] = dict(points[i])
    if j != i and gate > float("-inf"):
        settings["unsure_margin"] = gate
        settings["unsure"] = {k: v for k, v in points[j].items() if v != points[i][k]
                              or k == "n_passages"}
    else:
        settings["unsure_margin"] = None  # never
        settings["unsure"] = {}
    if judge_dir is not None:
        used = settings.get("judge_weight") or settings["unsure"].get("judge_weight")
        settings["judge"] = (os.path.relpath(judge_dir, reader_dir.parent) if used else None)
    report = {"turns": {p.name: len(p.examples) for p in parts},
              "unsure_turns": {p.name: int(((margin < gate) & (part_of == n)).sum())
                               if settings["unsure"] else 0 for n, p in enumerate(parts)},
              "objective": round(score(chosen, every), 2),
              "objective_two_fold": round(sum(held) / 2, 2),
              "grounding_F1": per_part(chosen),
              "tradeoff": {str(k): per_part(choose(every, k)) for k in TRADEOFF},
              "today": today,
              "today_F1": per_part((today_gate, now, now_unsure))
              if now is not None and now_unsure is not None else None}
    return settings, report


def sweep(parts: Sequence[Part], reader_dir: Path, term: str, values: Sequence[float],
          judge_dir: Path | None = None) -> tuple[float, dict[str, Any]]:
    """(chosen value, report) for one range term (any of
    :data:`re3g.extract.extractor.RANGE_SETTINGS`) added to the reader's settings as they
    are, the same value in both regimes: every value is scored on every turn with today's
    other settings, and the objective is :func:`select`'s (the mean over ``parts`` of each
    part's grounding F1). One term over a few values is a far smaller choice than the grid,
    so it overfits far less; the two-fold figure chooses on one half of the dialogues and
    scores the other half all the same. With ``judge_dir`` (a judge, :func:`re3g.extract.
    judge.load_judge`) its logits are weighed too (by ``judge_weight``, the term swept, or
    the reader's own)."""
    import numpy as np

    from re3g.extract import SpanExtractor
    from re3g.extract.extractor import RANGE_SETTINGS

    if term not in RANGE_SETTINGS:
        raise ValueError(f"--sweep {term}: not a range setting; known: {list(RANGE_SETTINGS)}")
    ex = SpanExtractor.load(reader_dir)
    depth = int(max(GRID["n_passages"]))
    unsure = dict(ex.unsure)
    rows, folds, owner = [], [], []
    for n, part in enumerate(parts):
        got = read_part(part, ex, depth)
        judged = (judge_part(part, got, ex, judge_dir) if judge_dir is not None
                  else [None] * len(part.examples))
        per_value = []
        for v in values:
            setattr(ex, term, float(v))
            ex.unsure = {**unsure, term: float(v)} if unsure else {}
            preds = [ev[0].text if ev else "" for ev in top_picks(ex, part, got, judged)]
            per_value.append(qa_eval._f1s(preds, got["refs"]))
        rows.append(np.array(per_value))
        folds += [hash_fold(e.dial_id) for e in part.examples]
        owner += [n] * len(part.examples)
    f1 = np.concatenate(rows, axis=1)  # values x turns
    fold, part_of = np.array(folds), np.array(owner)

    def objective(mask: Any) -> Any:
        out = np.zeros(len(values))
        for n in range(len(parts)):
            m = mask & (part_of == n)
            if m.any():
                out += f1[:, m].mean(axis=1) / len(parts)
        return out

    every = np.ones(len(fold), dtype=bool)
    best = int(np.argmax(objective(every)))
    held = [float(objective(fold != k)[int(np.argmax(objective(fold == k)))]) for k in (0, 1)]
    report = {"term": term,
              "objective": {f"{v:g}": round(float(o), 2)
                            for v, o in zip(values, objective(every), strict=True)},
              "grounding_F1": {f"{v:g}": {p.name: round(float(
                  f1[i, part_of == n].mean()), 2) for n, p in enumerate(parts)}
                  for i, v in enumerate(values)},
              "objective_two_fold": round(sum(held) / 2, 2),
              "turns": {p.name: len(p.examples) for p in parts}}
    return float(values[best]), report


def top_picks(ex: Any, part: Part, got: dict[str, Any],
              judged: Sequence[Any] | None = None) -> list[list[Any]]:
    """Each turn's evidence (at most one) under the reader ``ex``'s range settings as they are
    now, from a part's cached readings (:func:`read_part`; ``judged``: :func:`judge_part`'s)."""
    from re3g.data.query import earlier_user

    judged = judged if judged is not None else [None] * len(part.examples)
    return [ex.select_ranges(rd, hits, part.docs, 1, None, cur, cos, judged=jd,
                             previous=earlier_user(e.history))
            for e, rd, hits, cur, cos, jd in zip(part.examples, got["readings"], got["runs"],
                                                  got["currents"], got["cosines"], judged,
                                                  strict=True)]


def sweep_spec(spec: str) -> tuple[str, list[float]]:
    """``TERM=V1,V2,...`` as (term, values); a clear error for anything else.

    >>> sweep_spec("key_weight=0,2,4")
    ('key_weight', [0.0, 2.0, 4.0])
    """
    from re3g.errors import DataError
    from re3g.extract.extractor import RANGE_SETTINGS

    term, eq, raw = spec.partition("=")
    try:
        values = [float(v) for v in raw.split(",") if v.strip()]
    except ValueError:
        values = []
    if not eq or not values:
        raise DataError(f"--sweep {spec!r}: expected TERM=V1,V2,... (e.g. key_weight=0,1,2,4)")
    if term.strip() not in RANGE_SETTINGS:
        raise DataError(f"--sweep {spec!r}: {term.strip()!r} is not a range setting; known: "
                        f"{list(RANGE_SETTINGS)}")
    return term.strip(), values


def run_sweep(args: Any, parts: Sequence[Part], written: Sequence[tuple[Path, Path]],
              t0: float) -> int:
    """``--sweep TERM=V1,V2,...``: :func:`sweep`, then (without ``--dry-run``) the chosen
    value written into the reader's manifest, in both regimes, with where it was chosen."""
    term, values = sweep_spec(args.sweep)
    value, report = sweep(parts, args.reader, term, values, args.judge)

    def change(manifest: dict[str, Any]) -> None:
        manifest["settings"][report["term"]] = value
        stale_sureness(manifest)
        if manifest["settings"].get("unsure"):
            manifest["settings"]["unsure"][report["term"]] = value
        if args.judge is not None and term == "judge_weight":
            manifest["settings"]["judge"] = (os.path.relpath(args.judge, args.reader.parent)
                                             if value else None)
        manifest.setdefault("sweeps", {})[report["term"]] = {
            "where": where_chosen(args, written),
            "command": f"python -m re3g.train.select_reader --sweep {args.sweep}"
                       + (f" --judge {args.judge}" if args.judge else ""), **report}

    return report_and_write(args, {"chosen": {report["term"]: value}}, report, t0, change,
                            f"{report['term']} = {value:g}")


def run_sureness(args: Any, parts: Sequence[Part], written: Sequence[tuple[Path, Path]],
                 t0: float) -> int:
    """``--sureness``: fit the reader's sureness model (:mod:`re3g.train.sureness`) on the
    parts' cached readings with the reader's settings as they are, then (without
    ``--dry-run``) write it into the manifest with where it was fitted."""
    from re3g.data.query import earlier_user
    from re3g.extract import SpanExtractor
    from re3g.train.sureness import RIGHT_F1, fit_sureness

    ex = SpanExtractor.load(args.reader)
    ex.sureness = None  # the features only; an older model must not shape them
    depth = int(max(GRID["n_passages"]))
    judge = ex.settings.get("judge") if ex.judge is not None else None
    judge_dir = args.reader.parent / judge if judge else None
    rows = []
    for n, part in enumerate(parts):
        # doc2dial's part under the reader's own settings, a written set under its ``other``
        # ones (what the pipeline uses there)
        ex.for_corpus(None, "tuned" if n == 0 else "other")
        got = read_part(part, ex, depth)
        judged = (judge_part(part, got, ex, judge_dir) if judge_dir is not None
                  else [None] * len(part.examples))
        for e, rd, hits, cur, cos, ref, jd in zip(part.examples, got["readings"], got["runs"],
                                                  got["currents"], got["cosines"], got["refs"],
                                                  judged, strict=True):
            found: dict[str, float] = {}
            ev = ex.select_ranges(rd, hits, part.docs, 1, None, cur, cos, judged=jd,
                                  features=found, previous=earlier_user(e.history))
            if not ev:
                continue
            rows.append({"features": found, "part": n, "group": f"{n}:{e.dial_id}",
                         "right": qa_eval._f1s([ev[0].text], [ref])[0] >= RIGHT_F1})
    block, report = fit_sureness(rows, [p.name for p in parts], args.sureness_keep)

    def change(manifest: dict[str, Any]) -> None:
        manifest["settings"]["sureness"] = {
            **block,
            "where": where_chosen(args, written),
            "command": "python -m re3g.train.select_reader --sureness"
                       + (f" --sureness-keep {args.sureness_keep:g}"
                          if args.sureness_keep != SURENESS_KEEP else ""),
            "report": report}

    return report_and_write(args, {"sureness": block}, report, t0, change, "the sureness model")


def run_other(args: Any, parts: Sequence[Part], written: Sequence[tuple[Path, Path]],
              t0: float) -> int:
    """``--other``: :func:`select` on the written sets alone (no doc2dial part, no bound),
    then (without ``--dry-run``) the chosen settings written into the reader's manifest as its
    ``other`` settings, with the fingerprint of the corpus it was tuned on (doc2dial's: there
    the reader keeps its own) and where they were chosen."""
    from re3g.errors import DataError
    from re3g.retrieve.index import corpus_fingerprint

    if len(parts) < 2:
        raise DataError("--other chooses on the written sets: give at least one --written")
    chosen, report = select(parts[1:], args.reader, None, args.judge,
                            reduced=args.grid == "reduced")
    chosen = whole_counts(chosen)
    chosen.pop("judge", None)

    def change(manifest: dict[str, Any]) -> None:
        manifest["settings"]["other"] = {
            "tuned_corpus": corpus_fingerprint(parts[0].docs.values()), **chosen}
        stale_sureness(manifest)
        manifest["other_selection"] = {
            "where": "written sets " + ", ".join(str(d) for d, _ in written)
                     + "; never doc2dial, never validation, never the test suite",
            "command": " ".join(["python -m re3g.train.select_reader --other"]
                                + [a for d, f in written for a in ("--written", str(d), str(f))]
                                + (["--grid", args.grid] if args.grid != "full" else [])),
            **report}

    return report_and_write(args, {"other": chosen}, report, t0, change,
                            "the settings for other documents")


ROLES_REFUSAL_SLACK = 2
"""Unanswerable turns (pooled) a change of question roles may stop refusing (``--roles``)."""
ROLE_VARIANTS: dict[str, tuple[str, bool]] = {
    "all": ("all", False),
    "all-but-quotes": ("all", True),
    "user": ("user", False),
}
"""What ``--roles`` chooses among, as (``query_roles``, ``skip_quotes``), in order of how much
they leave out of the question: every turn; every turn but agent turns that quote the
documents word for word (the chat's own extractive replies); the user's turns alone. A later
variant must be strictly better than the best before it, so a tie goes to the smaller
change."""


def run_roles(args: Any, t0: float) -> int:
    """``--roles``: which turns the reader's question holds on other documents, chosen on
    conversations replayed as the chat holds them (:mod:`re3g.evaluate.replay`: the bot's
    own replies as the agent turns) over the written sets (default
    :data:`re3g.train.common.CHOOSE_SETS`; never a held-out set). Each of
    :data:`ROLE_VARIANTS` is replayed with the shipped pipeline, its reader given it as
    ``other.query_roles`` and ``other.skip_quotes``; a variant other than today's is taken
    only when it answers more answerable turns right, pooled, and stops refusing at most
    :data:`ROLES_REFUSAL_SLACK` more unanswerable ones. Without ``--dry-run`` the choice goes
    into the reader's manifest (``settings.other``, with ``roles_selection``). doc2dial keeps
    the manifest's own settings: its agents walk through a document, and reading their turns
    helps there (session 16)."""
    import tempfile

    from re3g.data import load_documents
    from re3g.evaluate.replay import summary
    from re3g.extract import SpanExtractor
    from re3g.retrieve.index import corpus_fingerprint

    sets = common.checked_sets(args.written, common.CHOOSE_SETS,
                               "choose the reader's question roles")
    reader = SpanExtractor.load(args.reader)
    tuned = reader.other.get("tuned_corpus") or corpus_fingerprint(
        load_documents(args.docs).values())
    reader.for_corpus(None, "other")
    today = next((name for name, v in ROLE_VARIANTS.items()
                  if v == (reader.query_roles, reader.skip_quotes)), "all")
    per_set: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, variant in ROLE_VARIANTS.items():
            folder = roles_copy(args.reader, Path(tmp) / name, tuned, *variant)
            records = common.replay_sets(sets, extractor=str(folder))
            for docs_dir, _ in sets:
                per_set.setdefault(str(docs_dir), {})[name] = summary(
                    [r for r in records if r["set"] == str(docs_dir)])
    pooled = {name: {k: sum(per_set[d][name][k] for d in per_set)
                     for k in ("right_turns", "refused_turns", "n_answerable",
                               "n_unanswerable")} for name in ROLE_VARIANTS}
    chosen = today
    for name in ROLE_VARIANTS:  # in order: a tie goes to the smaller change
        if (pooled[name]["right_turns"] > pooled[chosen]["right_turns"]
                and pooled[name]["refused_turns"]
                >= pooled[today]["refused_turns"] - ROLES_REFUSAL_SLACK):
            chosen = name
    roles, skip = ROLE_VARIANTS[chosen]
    report = {"objective": "answerable turns right, pooled over the sets, replayed with the "
                           "bot's own replies (refused: at most "
                           f"{ROLES_REFUSAL_SLACK} fewer unanswerable turns)",
              "today": today, "pooled": pooled, "sets": per_set}

    def change(manifest: dict[str, Any]) -> None:
        other = manifest["settings"].setdefault("other", {})
        other.setdefault("tuned_corpus", tuned)
        other["query_roles"], other["skip_quotes"] = roles, skip
        manifest["roles_selection"] = {
            "where": "written sets " + ", ".join(str(d) for d, _ in sets)
                     + ", replayed with the bot's own replies; never doc2dial, never "
                       "validation, never a held-out set",
            "command": " ".join(["python -m re3g.train.select_reader --roles"]
                                + [a for d, f in sets for a in ("--written", str(d), str(f))]),
            "chosen": chosen, **report}

    return report_and_write(args, {"chosen": chosen}, report, t0, change,
                            f"the question roles {chosen} for other documents")


def roles_copy(reader: Path, into: Path, tuned: str, roles: str, skip_quotes: bool = False
               ) -> Path:
    """A copy of the reader folder ``reader`` in ``into`` (:func:`linked_copy`) whose manifest
    gives it ``roles`` and ``skip_quotes`` as its ``other`` settings (corpora other than
    ``tuned``)."""
    def change(settings: dict[str, Any]) -> None:
        other = settings.setdefault("other", {})
        other["tuned_corpus"] = tuned
        other["query_roles"], other["skip_quotes"] = roles, skip_quotes

    return linked_copy(reader, into, change)


def linked_copy(folder: Path, into: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """``folder`` copied into ``into`` under the same name (the learned decision checks the
    reader folder's name it was trained with), its files linked, the judge and helper its
    manifest names still found (:func:`re3g.extract.extractor.anchored`), its manifest's
    ``settings`` edited by ``change``."""
    from re3g.extract.extractor import anchored

    out = into / folder.name
    out.mkdir(parents=True)
    for f in folder.iterdir():
        if f.name != "manifest.json":
            (out / f.name).symlink_to(f.resolve())
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["settings"] = anchored(manifest.get("settings") or {}, folder)
    change(manifest["settings"])
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out


def where_chosen(args: Any, written: Sequence[tuple[Path, Path]]) -> str:
    """Where settings chosen on the train dev part and the written sets were chosen (the
    manifest's record)."""
    return (f"train dev part: {args.dialogues} train dialogues (seed {args.seed})"
            + "".join(f" + written set {d}" for d, _ in written)
            + "; never validation, never the test suite")


def report_and_write(args: Any, shown: dict[str, Any], report: dict[str, Any], t0: float,
                     change: Callable[[dict[str, Any]], None], what: str) -> int:
    """Print what was chosen (``shown``) with its ``report`` (and the seconds since ``t0``),
    then, without ``--dry-run``, apply ``change`` to the reader's manifest and write it back
    in one atomic step."""
    from re3g.evaluate.report import write_atomic

    report["seconds"] = round(time.time() - t0, 1)
    print(json.dumps({**shown, **report}, indent=2))
    if not args.dry_run:
        mpath = args.reader / "manifest.json"
        manifest = json.loads(mpath.read_text())
        change(manifest)
        write_atomic(mpath, json.dumps(manifest, indent=2) + "\n")
        print(f"wrote {what} into {mpath}")
    return 0


def whole_counts(chosen: dict[str, Any]) -> dict[str, Any]:
    """Chosen settings with the passage counts (in both regimes) as whole numbers.

    >>> whole_counts({"n_passages": 3.0, "unsure": {"n_passages": 2.0}})
    {'n_passages': 3, 'unsure': {'n_passages': 2}}
    """
    out = {k: (int(v) if k == "n_passages" else v) for k, v in chosen.items()}
    if "n_passages" in out.get("unsure", {}):
        out["unsure"] = {**out["unsure"], "n_passages": int(out["unsure"]["n_passages"])}
    return out


def hash_fold(dial_id: str) -> int:
    """A dialogue's fold (0 or 1) for the two-fold check, stable across runs.

    >>> hash_fold("dlg-1") in (0, 1)
    True
    """
    import hashlib

    return hashlib.sha1(dial_id.encode()).digest()[0] % 2


def written_part(docs_dir: Path, dialogues: Path) -> Part:
    """The grounded turns of a hand-written conversation set over a folder of documents,
    with the evaluation's index of that folder (built once, then reused)."""
    from re3g.config import PASSAGE_MAX_WORDS
    from re3g.evaluate.runner import ensure_index

    docs, _, every = common.load_written(docs_dir, dialogues)
    examples = [e for e in every if e.references]
    return Part(f"written:{docs_dir}", examples, docs,
                ensure_index(docs, docs_dir, None, PASSAGE_MAX_WORDS))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=Path, default=common.DATA_DIR / "doc2dial_doc.json")
    ap.add_argument("--train", type=Path, default=common.DATA_DIR / "doc2dial_dial_train.json")
    ap.add_argument("--index", type=Path, default=Path("indexes/doc2dial"))
    ap.add_argument("--reader", type=Path, default=model_path("extractor-qa"))
    ap.add_argument("--dialogues", type=int, default=common.DEV_DIALOGUES)
    ap.add_argument("--seed", type=int, default=common.DEV_SEED)
    common.add_written_arguments(ap)
    ap.add_argument("--keep-doc2dial", type=float, default=KEEP_FIRST,
                    help="grounding F1 the doc2dial part may lose against the best it gets "
                         f"alone (default {KEEP_FIRST}; a negative value: no bound)")
    ap.add_argument("--judge", type=Path, default=None,
                    help="a judge whose weight is searched too: a sentence judge (re3g "
                         "train judge) or a second start/end reader (models/checker)")
    ap.add_argument("--grid", choices=["full", "reduced"], default="full",
                    help="full: GRID (1,440 points); reduced: REDUCED_GRID (96 points around "
                         "the values chosen so far, for a newly trained reader)")
    ap.add_argument("--sweep", metavar="TERM=V1,V2,...", default=None,
                    help="instead of the grid: try one range term (e.g. key_weight=0,1,2,4) "
                         "beside today's settings and keep the best value")
    ap.add_argument("--sureness", action="store_true",
                    help="instead of the grid: fit the model of how sure the reader is of its "
                         "sentence (re3g.train.sureness) under today's settings")
    ap.add_argument("--sureness-keep", type=float, default=SURENESS_KEEP,
                    help="share of right picks (in each part) the sureness floor leaves "
                         f"untouched (default {SURENESS_KEEP})")
    ap.add_argument("--other", action="store_true",
                    help="instead of the reader's own settings: choose its settings for other "
                         "documents (those of the corpus it was not tuned on) on the written "
                         "sets alone, with --grid")
    ap.add_argument("--roles", action="store_true",
                    help="instead of range settings: choose which turns the reader's question "
                         "holds on other documents, on the --written sets (default "
                         f"{common.CHOOSE_NAMES}) replayed with the bot's own replies")
    ap.add_argument("--dry-run", action="store_true", help="report, do not write the manifest")
    args = ap.parse_args(argv)
    if args.sweep:
        sweep_spec(args.sweep)  # a bad --sweep fails before the readings
    if not 0.0 < args.sureness_keep <= 1.0:
        from re3g.errors import DataError

        raise DataError(f"--sureness-keep must be a share in (0, 1], got {args.sureness_keep}")
    if args.roles:
        return run_roles(args, time.time())
    written = common.written_sets(args)

    from re3g.data import load_documents

    t0 = time.time()
    docs = load_documents(args.docs)
    parts = [Part("doc2dial-train-dev", dev_examples(args.train, docs, args.dialogues, args.seed),
                  docs, args.index)]
    parts += [written_part(Path(d), Path(f)) for d, f in written]
    if args.sweep:
        return run_sweep(args, parts, written, t0)
    if args.sureness:
        return run_sureness(args, parts, written, t0)
    if args.other:
        return run_other(args, parts, written, t0)
    chosen, report = select(parts, args.reader,
                            args.keep_doc2dial if args.keep_doc2dial >= 0 else None, args.judge,
                            reduced=args.grid == "reduced")
    chosen = whole_counts(chosen)
    chosen["ranges_kept"] = RANGES_KEPT

    def change(manifest: dict[str, Any]) -> None:
        manifest["settings"].update(chosen)
        stale_sureness(manifest)
        manifest["selection"] = {
            "where": where_chosen(args, written),
            "command": " ".join(["python -m re3g.train.select_reader", "--dialogues",
                                 str(args.dialogues), "--seed", str(args.seed)]
                                + [a for d, f in written for a in ("--written", str(d), str(f))]
                                + (["--judge", str(args.judge)] if args.judge else [])
                                + (["--grid", args.grid] if args.grid != "full" else [])
                                + ([f"--keep-doc2dial {args.keep_doc2dial:g}"]
                                   if args.keep_doc2dial != KEEP_FIRST else [])),
            **report}

    return report_and_write(args, {"chosen": chosen}, report, t0, change,
                            "the chosen settings")


if __name__ == "__main__":
    from re3g.errors import Re3GError

    try:
        sys.exit(main())
    except Re3GError as err:  # bad input: one line naming it, no traceback
        sys.exit(f"error: {err}")
