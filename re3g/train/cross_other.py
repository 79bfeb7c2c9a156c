"""Continue the cross-encoder on written conversations over other documents
(``re3g train cross-other``), and choose its cascade depth and weight on other written sets.

The shipped cross-encoder (``models/cross-reranker``) was trained on doc2dial alone; on
documents in other styles it barely helps (session 31: top-passage rate with it and without
it 76.1 / 75.8 on ``data/dev`` and 64.3 / 66.9 on ``data/dev6``). This trainer continues it on
the answerable turns of hand-written conversations over other documents (``--written``,
default ``data/train``), with hard negatives from exactly what it will rescore there: the
pipeline's own ranking before the cross-encoder step on that corpus (top ``--depth``). The
result (``models/cross-reranker-other``) is what the pipeline uses, when it is there, on any
corpus but the one the first cross-encoder was tuned on (``tuned_corpus`` in its manifest; the
same switch as the learned decision's and the reader's, :func:`re3g.config.corpus_calibration`).
Session 31 measured it and did not ship it (docs/answerability.md): it ranks better on every
held-out set, but the answers barely follow and fewer unanswerable turns are refused.

The cascade's depth and weight are then chosen on other written sets (``--choose``, default
:data:`re3g.train.common.CHOOSE_SETS`; never the held-out sets,
:data:`re3g.train.common.HELD_OUT`): every turn's ranking before the cross step and the new
model's logits of its top passages are computed once, each (depth, weight) of
:data:`GRID_DEPTHS` × :data:`GRID_WEIGHTS` is scored by the top-passage rate (a reference span
in the top passage) pooled over the sets, and the shallowest depth within
:data:`re3g.train.select_ranking.DEPTH_TOLERANCE` of the best is taken (the cross-encoder costs
time per passage). The grid and each set's figures go to the manifest's ``selection``.

    re3g train cross-other                               # models/cross-reranker-other
    re3g train cross-other --profile quick --out /tmp/co # seconds, for tests
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from re3g.models import model_path
from re3g.rank.reranker import OTHER_CROSS
from re3g.train import common

DEFAULT_OUT = model_path(OTHER_CROSS)
DEFAULT_WRITTEN = [("data/train/documents", "data/train/dialogues.json")]
DEFAULT_CHOOSE = common.CHOOSE_SETS
GRID_DEPTHS = (2, 3, 5, 8)
GRID_WEIGHTS = (0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2)
PROFILES: dict[str, dict[str, Any]] = {
    "quick": {"epochs": 1.0, "batch_size": 2, "lr": 3e-5, "max_steps": 2},
    "full": {"epochs": 1.0, "batch_size": 8, "lr": 3e-5},
}
QUICK_TURNS = 6
POOL_DEPTH = 8  # passages of each turn's ranking kept (negatives and the selection's grid)


@dataclass
class RankedTurn:
    """One answerable turn of a written set: the question the cross-encoder reads, the
    pipeline's ranking before the cross-encoder step (top :data:`POOL_DEPTH`) and which of
    those passages hold a reference span."""

    example: Any
    asked: str
    hits: list[Any]
    gold: list[bool]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", choices=["quick", "full"], default="full",
                        help="quick: a few turns, seconds (tests); full: the shipped weights")
    parser.add_argument("--written", nargs=2, action="append", metavar=("DOCS", "DIALOGUES"),
                        type=Path, help="a written set to train on (repeatable; default "
                        "data/train/documents data/train/dialogues.json)")
    parser.add_argument("--choose", nargs=2, action="append", metavar=("DOCS", "DIALOGUES"),
                        type=Path, help="a written set the depth and weight are chosen on "
                        f"(repeatable; default {common.CHOOSE_NAMES})")
    parser.add_argument("--init", type=Path, default=model_path("cross-reranker"),
                        help="the cross-encoder to continue (default models/cross-reranker)")
    parser.add_argument("--tuned-docs", type=Path, default=common.DATA_DIR / "doc2dial_doc.json",
                        help="the corpus --init was tuned on: the new model is used on every "
                             "other corpus")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--negatives", type=int, default=4)
    parser.add_argument("--depth", type=int, default=POOL_DEPTH,
                        help="how many of the pipeline's top passages give the negatives")
    parser.add_argument("--epochs", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=common.TrainConfig.seed)
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--restart", action="store_true")
    parser.add_argument("--no-progress", action="store_true")


def ranked_turns(docs_dir: Path, dialogues: Path, question: Any, limit: int | None = None,
                 progress: bool = True) -> tuple[list[RankedTurn], list[Any]]:
    """Every answerable turn of a written set with the shipped pipeline's ranking before the
    cross-encoder step, over the set's own corpus, and the corpus's passages
    (``question(history)``: the text the cross-encoder reads, None for the dialogue query)."""
    from tqdm.auto import tqdm

    from re3g.config import PASSAGE_MAX_WORDS, Config
    from re3g.errors import DataError
    from re3g.evaluate.retrieval import is_relevant
    from re3g.evaluate.runner import ensure_index
    from re3g.pipeline import Re3G

    docs, _, examples = common.load_written(docs_dir, dialogues)
    examples = [ex for ex in examples if ex.references][:limit]
    if not examples:
        raise DataError(f"{dialogues}: no answerable turn to train or choose on")
    index = ensure_index(docs, docs_dir, None, PASSAGE_MAX_WORDS)
    # the chain before the cross-encoder step: no cross-encoder is loaded
    bot = Re3G(Config(index=str(index), docs=str(docs_dir), learned=False, cross=False),
               documents=docs)
    out = []
    for ex in tqdm(examples, desc=f"rankings ({docs_dir})", unit="turn", disable=not progress):
        query, hits = bot.candidates(ex.history)
        top = bot.rank(query, hits, ex.history).hits[:POOL_DEPTH]
        gold = [is_relevant(h, ex) for h in top]
        out.append(RankedTurn(ex, question(ex.history) or query, top, gold))
    return out, list(bot.retriever.passages)


def turn_logits(cross: Any, turns: Sequence[RankedTurn]) -> list[list[float]]:
    """The cross-encoder's logit of each turn's ranked passages (what the cascade adds)."""
    return [[float(x) for x in cross.score(t.asked, [h.passage for h in t.hits])]
            for t in turns]


def _move_into_place(staging: Path, out: Path) -> None:
    """Replace ``out`` by the finished ``staging`` folder (the old one is removed after)."""
    import shutil

    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.replace(old)
    staging.replace(out)
    if old.exists():
        shutil.rmtree(old)


def top_passage_rate(turns: Sequence[RankedTurn], logits: Sequence[Sequence[float]],
                     depth: int, weight: float) -> int:
    """How many turns have a reference span in the top passage after the cascade's step
    (``score + weight x logit`` over the top ``depth``, as :func:`re3g.rank.chain.cascade`).

    >>> from types import SimpleNamespace as N
    >>> t = RankedTurn(None, "q", [N(score=1.0), N(score=0.9)], [False, True])
    >>> top_passage_rate([t], [[0.0, 2.0]], 2, 0.1), top_passage_rate([t], [[0.0, 2.0]], 0, 0.1)
    (1, 0)
    """
    n = 0
    for t, lg in zip(turns, logits, strict=True):
        if not t.gold:
            continue
        d = min(depth, len(t.hits))
        best = max(range(d), key=lambda i: (t.hits[i].score + weight * lg[i], -i)) if d else 0
        n += bool(t.gold[best])
    return n


def choose_cascade(sets: dict[str, list[RankedTurn]], logits: dict[str, list[list[float]]]
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(chosen depth and weight, the selection record): the pooled top-passage rate of every
    grid point, the shallowest depth within the tolerance of the best."""
    from re3g.train.select_ranking import DEPTH_TOLERANCE

    total = sum(len(v) for v in sets.values())
    rate = {(d, w): 100.0 * sum(top_passage_rate(sets[n], logits[n], d, w) for n in sets)
            / total for d in GRID_DEPTHS for w in GRID_WEIGHTS}
    best = max(rate.values())
    depth = min(d for (d, _), r in rate.items() if r >= best - DEPTH_TOLERANCE)
    weight = max((w for (d, w) in rate if d == depth), key=lambda w: (rate[(depth, w)], -w))
    per_set = {n: {"turns": len(sets[n]),
                   "without": round(100.0 * top_passage_rate(sets[n], logits[n], 0, 0.0)
                                    / len(sets[n]), 2),
                   "chosen": round(100.0 * top_passage_rate(sets[n], logits[n], depth, weight)
                                   / len(sets[n]), 2)} for n in sets}
    record = {"objective": "top-passage rate pooled over the --choose sets",
              "depth_tolerance": DEPTH_TOLERANCE, "best": round(best, 2),
              "chosen_rate": round(rate[(depth, weight)], 2), "sets": per_set,
              "grid": {f"{d},{w}": round(r, 2) for (d, w), r in rate.items()}}
    return {"depth": depth, "cross_weight": weight}, record


def run(args: argparse.Namespace) -> int:
    """Train, save (``--out``, manifest with the chosen cascade) and report."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from re3g.data import load_documents
    from re3g.errors import DataError
    from re3g.evaluate.report import write_atomic
    from re3g.models import MANIFEST, device, read_model_manifest
    from re3g.rank import CROSS_TRAIN_CMD, Reranker
    from re3g.retrieve.index import corpus_fingerprint
    from re3g.train.cross import build_groups, group_loss

    t0 = time.time()
    what = "train or choose the cross-encoder for other documents"
    written = common.checked_sets(args.written, DEFAULT_WRITTEN, what)
    choose = common.checked_sets(args.choose, DEFAULT_CHOOSE, what)
    both = sorted({str(d) for d, _ in written if d.resolve() in {c.resolve() for c, _ in choose}})
    if both:  # a set the model learnt from would flatter it when the cascade is chosen
        raise DataError(f"--written {', '.join(both)}: also a set the cascade is chosen on "
                        "(--choose); train and choose on different sets")
    init_manifest = read_model_manifest(args.init, "reranker", CROSS_TRAIN_CMD)
    if init_manifest.get("architecture") != "cross-encoder":
        raise DataError(f"--init {args.init}: not a cross-encoder (its manifest says "
                        f"{init_manifest.get('architecture')!r})")
    if not 1 <= args.depth <= POOL_DEPTH:
        raise DataError(f"--depth must be between 1 and {POOL_DEPTH}, got {args.depth}")
    cfg = common.config_from_args(args, PROFILES)
    common.set_seed(cfg.seed)
    quick = args.profile == "quick"
    progress = not args.no_progress
    limit = QUICK_TURNS if quick else None
    first = Reranker.load(args.init)
    tok = AutoTokenizer.from_pretrained(str(args.init))
    # the sets the cascade is chosen on, ranked before any training (the new model reads the
    # same question as the one it continues: its query_roles are copied)
    sets = {str(g): ranked_turns(d, g, first.question, limit, progress)[0] for d, g in choose}
    groups = []
    for docs_dir, dialogues in written:
        turns, passages = ranked_turns(docs_dir, dialogues, first.question, limit, progress)
        groups += build_groups([t.example for t in turns], [t.asked for t in turns],
                               [t.hits for t in turns], passages, tok, args.negatives,
                               cfg.seed, progress=progress, depth=args.depth)
    if not groups:
        raise DataError("--written: no turn has a reference passage and a hard negative")
    tuned = corpus_fingerprint(load_documents(args.tuned_docs).values())
    settings = {**init_manifest.get("settings", {}), "init": str(args.init),
                "profile": args.profile, **vars(cfg), "negatives": args.negatives,
                "n_groups": len(groups), "written": [[str(d), str(g)] for d, g in written],
                "negatives_from": f"the pipeline's ranking before the cross step, top "
                                  f"{args.depth} (non-reference passages)"}
    ck = common.checkpoint_path(args)
    if args.restart and ck.exists():
        ck.unlink()
    model = AutoModelForSequenceClassification.from_pretrained(str(args.init), num_labels=1)
    model = model.float().to(device())  # a saved model folder is fp16: train in fp32
    print(f"continuing {args.init} on {len(groups)} groups of {1 + args.negatives} "
          f"({device()}), checkpoint {ck}")
    stats = common.train_model(model, [max(len(x) for x in g.pairs) for g in groups],
                               lambda idx: group_loss(model, [groups[i] for i in idx],
                                                      tok.pad_token_id),
                               cfg, ck, common.settings_fingerprint(settings), progress=progress)
    command = ("re3g train cross-other"
               + "".join(f" --written {d} {g}" for d, g in written if args.written)
               + "".join(f" --choose {d} {g}" for d, g in choose if args.choose)
               + (f" --profile {args.profile}" if quick else "") + f" --out {args.out}")
    manifest = {
        "kind": "reranker", "format": 2, "architecture": "cross-encoder",
        "description": f"cross-encoder for documents other than the corpus its first training "
                       f"was tuned on: {args.init} continued on written conversations over "
                       f"other documents; the pipeline uses it on every corpus but tuned_corpus",
        "base_model": init_manifest.get("base_model"), "command": command,
        "data": common.data_files([g for _, g in written + choose] + [args.tuned_docs]),
        "settings": settings, "metrics": {}, "training": stats, "tuned_corpus": tuned,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    # written beside --out and moved into place only once the cascade is chosen: the pipeline
    # uses the folder as soon as it is there
    staging = args.out.parent / f".{args.out.name}.staging-{os.getpid()}"
    common.save_model_folder(model, tok, staging, manifest)
    new = Reranker.load(staging)
    logits = {n: turn_logits(new, turns) for n, turns in sets.items()}
    chosen, record = choose_cascade(sets, logits)
    manifest["settings"].update(chosen)
    manifest["selection"] = record
    manifest["training"]["wall_seconds"] = round(time.time() - t0, 1)
    write_atomic(staging / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    _move_into_place(staging, args.out)
    if ck.exists():
        ck.unlink()
    print(f"the pipeline now uses {args.out} on every corpus but doc2dial (remove the folder, "
          f"or set [answer] calibration = \"tuned\", to go back)")
    print(json.dumps({"out": str(args.out), "chosen": chosen, "sets": record["sets"],
                      "training": manifest["training"]}, indent=2))
    return 0
