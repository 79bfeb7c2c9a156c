"""Train the cross-encoder reranker (``re3g train reranker --arch cross``).

A cross-encoder reads the dialogue query and a passage together and gives one relevance logit.
In the pipeline it is the second step of a cascade: the query tower (``models/reranker``)
reranks the first-stage pool, then the cross-encoder rescores the tower's top ``depth``
passages and its logit is mixed into their scores (``cross_weight``). The trainer's validation
choice of both is kept in ``metrics``; the shipped values are chosen on train by
``python -m re3g.train.select_ranking`` (``settings_selection`` in the manifest).
So each train turn becomes a group of the passage holding its reference spans and
``negatives`` hard negatives drawn from exactly what the cross-encoder will see: the non-gold
passages of the tower's top ``depth`` for that turn (the pipeline's own ranking, document prior
included). Negatives that repeat the positive's text (doc2dial documents share paragraphs) are
dropped, since no model can tell them apart. The loss is a softmax over the group. The model
starts from the packaged all-MiniLM-L6-v2, or from a trained extractor's encoder
(``--init models/extractor-qa``, the start/end reader, which already reads question/passage
pairs).

    re3g train reranker --arch cross --init models/extractor-qa --query-roles all
    re3g train reranker --arch cross --profile quick --out /tmp/ce  # seconds, for tests
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from re3g.data.passages import by_document
from re3g.models import model_path
from re3g.rank import CROSS_TRAIN_CMD
from re3g.types import Example, Hit, Passage

MAX_LENGTH = 256
MAX_QUERY_TOKENS = 64
PROFILES: dict[str, dict[str, Any]] = {
    "quick": {"epochs": 1.0, "batch_size": 2, "lr": 5e-5, "max_steps": 2},
    "full": {"epochs": 1.0, "batch_size": 8, "lr": 5e-5},
}
QUICK_EXAMPLES = 8


@dataclass
class Group:
    """One training group: token ids of (query, passage) pairs, the positive first."""

    pairs: list[list[int]]


def gold_passages(ex: Example, passages: Sequence[Passage]) -> list[Passage]:
    gold = ex.gold_span_ids
    return [p for p in passages if any((p.doc_id, s) in gold for s in p.span_ids)]


def near_duplicate(a: str, b: str, threshold: float = 0.9) -> bool:
    """True when two passage texts share at least ``threshold`` of their words (token F1)."""
    from re3g.evaluate.metrics import f1_score

    return f1_score(a, b) >= 100.0 * threshold


def build_groups(examples: Sequence[Example], queries: Sequence[str], pools: Sequence[list[Hit]],
                 passages: Sequence[Passage], tokenizer: Any, negatives: int, seed: int,
                 progress: bool = True, depth: int = 10) -> list[Group]:
    """One group per example with a gold passage: the best-covering gold passage, then
    ``negatives`` passages sampled from the non-gold hits in the top ``depth`` of its pool
    (near-duplicates of the positive left out)."""
    from tqdm.auto import tqdm

    from re3g.data.passages import passage_contents
    from re3g.models import truncate_question

    rng = random.Random(seed)
    by_doc = by_document(passages)
    groups = []
    for ex, q, pool in tqdm(list(zip(examples, queries, pools, strict=True)), desc="tokenise",
                            disable=not progress):
        golds = gold_passages(ex, [p for d in sorted(ex.gold_doc_ids) for p in by_doc.get(d, [])])
        if not golds:
            continue
        gold_ids = {p.pid for p in golds}
        pos = max(golds, key=lambda p: sum((p.doc_id, s) in ex.gold_span_ids for s in p.span_ids))
        pos_text = passage_contents(pos)
        hard = [h.passage for h in pool[:depth] if h.passage.pid not in gold_ids
                and not near_duplicate(passage_contents(h.passage), pos_text)]
        if not hard:
            continue
        negs = rng.sample(hard, min(negatives, len(hard)))
        while len(negs) < negatives:  # a short pool: repeat (keeps every group the same size)
            negs.append(rng.choice(hard))
        qt = truncate_question(tokenizer, q, MAX_QUERY_TOKENS)
        ids = [tokenizer(qt, passage_contents(p), truncation="only_second",
                         max_length=MAX_LENGTH)["input_ids"] for p in [pos, *negs]]
        groups.append(Group(ids))
    return groups


def group_loss(model: Any, groups: Sequence[Group], pad_id: int) -> Any:
    """Softmax cross-entropy of each group's positive (position 0) against its negatives."""
    import torch

    from re3g.train.common import pad_batch

    size = len(groups[0].pairs)
    batch = pad_batch([ids for g in groups for ids in g.pairs], pad_id)
    dev = next(model.parameters()).device
    logits = model(**{k: v.to(dev) for k, v in batch.items()}).logits.view(len(groups), size)
    return torch.nn.functional.cross_entropy(logits, torch.zeros(len(groups), dtype=torch.long,
                                                                  device=dev))


DEFAULT_OUT = model_path("cross-reranker")
WEIGHTS = [0.0, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.12, 0.2, 0.5]
DEPTHS = [3, 5, 8]
DEPTH_TOLERANCE = 0.0025  # R@1 (share of turns) a shallower depth may give up for its speed


def first_stage(args: Any, retriever: Any) -> Any:
    """The tower reranker the cross-encoder follows (``--first-stage``), primed with the
    index's vectors; None when there is none (then negatives come from the hybrid pool)."""
    from re3g.rank import Reranker

    first = Path(args.first_stage) if args.first_stage else None
    if first is None or not (first / "manifest.json").is_file():
        return None
    tower = Reranker.load(first)
    if tower.kind == "cross-encoder":
        return None
    tower.prime_from_index(args.index, retriever.passages)
    return tower


def mining_pools(args: Any, retriever: Any, tower: Any, examples: Sequence[Example],
                 queries: Sequence[str]) -> tuple[list[list[Hit]], int, str]:
    """(pools, depth, description) the negatives are drawn from: the tower's pipeline ranking
    (top ``--depth``) when there is a tower, else the hybrid pool's top 10."""
    from re3g.evaluate.grounding import dialogue_runs, pipeline_runs

    if tower is not None:
        pools = pipeline_runs(retriever, tower, examples, queries, args.candidates,
                              progress=not args.no_progress)
        return pools, args.depth, f"{tower.path} top {args.depth} (pipeline ranking, non-gold)"
    currents = [ex.history[-1].utterance or "" for ex in examples]
    return dialogue_runs(retriever, queries, currents, 20), 10, "hybrid dialogue pool top 10"


def run_cross(args: Any) -> int:
    """Train, save (``--out`` with manifest) and validate the cross-encoder reranker."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from re3g.data import build_query
    from re3g.data.passages import split_corpus
    from re3g.errors import DataError
    from re3g.models import BASE_MODEL, base_model_path, device, read_model_manifest
    from re3g.retrieve import open_index
    from re3g.train import common

    t_start = time.time()
    if Path(args.out) == model_path("reranker"):  # the default --out: keep the tower
        args.out = DEFAULT_OUT
    if getattr(args, "eval_only", False):
        return revalidate(args)
    cfg = common.config_from_args(args, PROFILES)
    common.set_seed(cfg.seed)
    docs, train, val = common.load_training_data(args, QUICK_EXAMPLES)
    init = base_model_path()
    if args.init:
        read_model_manifest(Path(args.init), "extractor", "re3g train extractor --profile full")
        init = str(args.init)
    retriever = open_index(args.index, mode="hybrid")
    passages = split_corpus(docs.values())  # for the positives
    roles = getattr(args, "query_roles", None) or "user"
    queries = [build_query(ex.history, roles="user") for ex in train]  # the tower's
    print(f"mining hard negatives from {args.index} for {len(train)} train turns")
    tower = first_stage(args, retriever)
    pools, depth, source = mining_pools(args, retriever, tower, train, queries)
    tok = AutoTokenizer.from_pretrained(init)
    asked = queries if roles == "user" else [build_query(ex.history, roles=roles)
                                             for ex in train]
    groups = build_groups(train, asked, pools, passages, tok, args.negatives, cfg.seed,
                          progress=not args.no_progress, depth=depth)
    if not groups:
        raise DataError(f"{args.train}: no training example has a gold passage and negatives")
    settings = {"base_model": BASE_MODEL, "init": str(args.init) if args.init else BASE_MODEL,
                "profile": args.profile, **vars(cfg), "negatives": args.negatives,
                "n_groups": len(groups), "query_roles": roles, "max_length": MAX_LENGTH,
                "max_query_tokens": MAX_QUERY_TOKENS, "passage_format": "passage_contents",
                "negatives_from": source, "near_duplicates": "dropped (token F1 >= 0.9)"}
    fp = common.settings_fingerprint(settings)
    ck = common.checkpoint_path(args)
    if args.restart and ck.exists():
        ck.unlink()
    model = AutoModelForSequenceClassification.from_pretrained(init, num_labels=1,
                                                               ignore_mismatched_sizes=True)
    model = model.float().to(device())  # a saved model folder is fp16: train in fp32
    print(f"training the cross-encoder on {len(groups)} groups of {1 + args.negatives} "
          f"({device()}), checkpoint {ck}")
    stats = common.train_model(model, [max(len(x) for x in g.pairs) for g in groups],
                        lambda idx: group_loss(model, [groups[i] for i in idx], tok.pad_token_id),
                        cfg, ck, fp, progress=not args.no_progress)
    stats["device"] = device()
    command = ("re3g train reranker --arch cross --profile " + args.profile
               + (f" --init {args.init}" if args.init else "")
               + (f" --epochs {args.epochs:g}" if args.epochs is not None else "")
               + (f" --query-roles {roles}" if roles != "user" else "")
               + f" --out {args.out}")
    manifest = common.model_manifest(
        "reranker", "cross-encoder",
        "cross-encoder (AutoModelForSequenceClassification, 1 logit) over (dialogue query, "
        "passage_contents) pairs; the pipeline's second reranking step over the tower's top "
        "passages", command, args, settings, stats)
    common.save_model_folder(model, tok, Path(args.out), manifest)
    if ck.exists():
        ck.unlink()
    manifest["training"]["wall_seconds"] = round(time.time() - t_start, 1)
    return _validate_and_record(args, manifest, val, retriever, tower)


def _validate_and_record(args: Any, manifest: dict[str, Any], val: Sequence[Example],
                         retriever: Any, tower: Any) -> int:
    """Validate the model in ``--out``, store metrics and the chosen cascade settings in its
    manifest (atomically) and print them."""
    from re3g.evaluate.report import write_atomic
    from re3g.models import MANIFEST

    t0 = time.time()
    metrics, chosen = validate(Path(args.out), val, retriever, args, tower)
    manifest["metrics"] = metrics
    metrics["validation_choice"] = chosen
    if "settings_selection" not in manifest:
        # a new model: the validation choice until select_ranking chooses on train; once it
        # has (``settings_selection``), re-validating never puts validation values back
        manifest["settings"].update(chosen)
    manifest["training"]["validation_seconds"] = round(time.time() - t0, 1)
    write_atomic(Path(args.out) / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({"out": str(args.out), "metrics": metrics, "chosen": chosen,
                      "training": manifest["training"]}, indent=2))
    return 0


def revalidate(args: Any) -> int:
    """``--eval-only``: the validation of an already trained cross-encoder, again."""
    from re3g.models import read_model_manifest
    from re3g.retrieve import open_index
    from re3g.train import common

    manifest = read_model_manifest(Path(args.out), "reranker", CROSS_TRAIN_CMD)
    if manifest.get("architecture") != "cross-encoder":
        from re3g.errors import ModelError

        raise ModelError(f"{args.out} holds a {manifest.get('architecture')!r} reranker, not a "
                         f"cross-encoder; train one with `{CROSS_TRAIN_CMD}`")
    _, _, val = common.load_training_data(args, QUICK_EXAMPLES)
    retriever = open_index(args.index, mode="hybrid")
    return _validate_and_record(args, manifest, val, retriever, first_stage(args, retriever))


def validate(model_dir: Path, val: Sequence[Example], retriever: Any, args: Any,
             tower: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Recall on ``val`` of the cross-encoder alone over the hybrid pool and, given the
    ``tower`` it follows (:func:`first_stage`), of the cascade: the pipeline's tower ranking
    with the cross-encoder mixed into its top ``depth`` for each depth in :data:`DEPTHS` and
    weight in :data:`WEIGHTS`. The shallowest depth whose best R@1 is within
    :data:`DEPTH_TOLERANCE` of the overall best, with its best weight (ties: the smaller), is
    returned as ``depth`` / ``cross_weight``, with its two-fold R@1 (chosen on one half of
    ``val``, scored on the other)."""
    from tqdm.auto import tqdm

    from re3g.data import build_query
    from re3g.evaluate.grounding import dialogue_runs
    from re3g.evaluate.retrieval import retrieval_metrics
    from re3g.rank import Reranker, cascade

    if not val:
        return {}, {}
    cross = Reranker.load(model_dir)
    queries = [build_query(ex.history, roles="user") for ex in val]
    asked = [cross.question(ex.history) or q for ex, q in zip(val, queries, strict=True)]
    currents = [ex.history[-1].utterance or "" for ex in val]
    k = args.candidates
    pools = dialogue_runs(retriever, queries, currents, k)
    alone = [cross.rerank(q, h) for q, h in tqdm(list(zip(asked, pools, strict=True)),
                                                 desc="cross-encoder alone", leave=False)]
    metrics: dict[str, Any] = {"n_validation": len(val), "int8": cross.quantized,
                               f"pool_top{k}": retrieval_metrics(val, pools),
                               f"cross_alone_top{k}": retrieval_metrics(val, alone)}
    if tower is None:  # no tower: the cross-encoder alone is all there is to measure
        return metrics, {}
    tower_runs, _, _ = mining_pools(args, retriever, tower, val, queries)
    # each depth scored in its own batch, as the pipeline scores it: the int8 model scales
    # activations per batch, so the top 5 read alone do not score as they do among the top 8
    logits = {d: [cross.score(q, [h.passage for h in run[:d]])
                  for q, run in tqdm(list(zip(asked, tower_runs, strict=True)),
                                     desc=f"cross-encoder on the tower's top {d}", leave=False)]
              for d in DEPTHS}

    class Fixed:  # replays the logits computed once above
        def __init__(self, values: list[float]) -> None:
            self.values = values

        def score(self, _q: str, ps: Sequence[Passage]) -> list[float]:
            return self.values[:len(ps)]

    points = [(d, w) for d in DEPTHS for w in WEIGHTS]
    ranked = {p: [cascade(Fixed(lg), q, run, p[0], p[1])
                  for q, run, lg in zip(queries, tower_runs, logits[p[0]], strict=True)]
              for p in points}
    hits1 = {p: [float(bool(r) and any((r[0].passage.doc_id, s) in ex.gold_span_ids
                                       for s in r[0].passage.span_ids))
                 for ex, r in zip(val, runs, strict=True)]
             for p, runs in ranked.items()}

    def best(idx: Sequence[int]) -> tuple[int, float]:
        # each passage read costs ~40 ms: the cheapest depth within DEPTH_TOLERANCE of the best
        score = {p: sum(hits1[p][i] for i in idx) for p in points}
        near = max(score.values()) - DEPTH_TOLERANCE * len(idx)
        return min((p for p in points if score[p] >= near),
                   key=lambda p: (p[0], -score[p], p[1]))

    every = list(range(len(val)))
    chosen = best(every)
    two_fold = [hits1[best(fit)][i] for fit, held in ((every[0::2], every[1::2]),
                                                      (every[1::2], every[0::2]))
                for i in held]
    metrics["tower"] = retrieval_metrics(val, tower_runs)
    metrics["cascade"] = retrieval_metrics(val, ranked[chosen])
    metrics["cascade_R@1"] = {f"depth {d}": {str(w): round(100 * sum(hits1[(d, w)]) / len(val), 2)
                                            for w in WEIGHTS} for d in DEPTHS}
    metrics["cascade_R@1_two_fold"] = round(100 * sum(two_fold) / len(two_fold), 2)
    return metrics, {"depth": chosen[0], "cross_weight": chosen[1]}
