"""Train the cross-encoder reranker (``re3g train reranker``, the default ``--arch cross``).

A cross-encoder reads the dialogue query and a passage together and gives one relevance logit.
Each train turn becomes a group: the passage holding its reference spans and ``negatives`` hard
negatives mined from the project's own first stage (the hybrid BM25 + dense pool that the
pipeline reranks, so the negatives are exactly the confusions the reranker must undo); the loss
is a softmax over the group. The model starts from the packaged all-MiniLM-L6-v2, or from the
encoder of the trained start/end extractor (``--init models/extractor``), which already reads
question/passage pairs.

    re3g train reranker --profile full                       # the shipped models/reranker
    re3g train reranker --profile quick --out /tmp/rr        # seconds, for tests
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def build_groups(examples: Sequence[Example], queries: Sequence[str], pools: Sequence[list[Hit]],
                 passages: Sequence[Passage], tokenizer: Any, negatives: int, seed: int,
                 progress: bool = True) -> list[Group]:
    """One group per example with a gold passage: the best-covering gold passage, then
    ``negatives`` passages sampled from the top 10 non-gold hits of its first-stage pool."""
    from tqdm.auto import tqdm

    from re3g.data.passages import passage_contents
    from re3g.qa import truncate_question

    rng = random.Random(seed)
    by_doc: dict[str, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    groups = []
    for ex, q, pool in tqdm(list(zip(examples, queries, pools, strict=True)), desc="tokenise",
                            disable=not progress):
        golds = gold_passages(ex, [p for d in sorted(ex.gold_doc_ids) for p in by_doc.get(d, [])])
        if not golds:
            continue
        gold_ids = {p.pid for p in golds}
        pos = max(golds, key=lambda p: sum((p.doc_id, s) in ex.gold_span_ids for s in p.span_ids))
        hard = [h.passage for h in pool if h.passage.pid not in gold_ids][:10]
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


def run_cross(args: Any) -> int:
    """Train, save (``--out`` with manifest) and validate the cross-encoder reranker."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from re3g.data import build_query
    from re3g.data.passages import split_corpus
    from re3g.errors import DataError
    from re3g.evaluate.grounding import dialogue_runs
    from re3g.retrieve import open_index
    from re3g.train.common import (
        BASE_MODEL,
        base_model_path,
        checkpoint_path,
        config_from_args,
        data_files,
        device,
        load_training_data,
        read_model_manifest,
        save_model_folder,
        set_seed,
        settings_fingerprint,
        train_model,
    )

    t_start = time.time()
    cfg = config_from_args(args, PROFILES)
    set_seed(cfg.seed)
    docs, train, val = load_training_data(args, QUICK_EXAMPLES)
    init = base_model_path()
    if args.init:
        read_model_manifest(Path(args.init), "extractor", "re3g train extractor --profile full")
        init = str(args.init)
    retriever = open_index(args.index, mode="hybrid")
    passages = split_corpus(docs.values(), max_words=200, min_words=12)  # for the positives
    queries = [build_query(ex.history, roles="user") for ex in train]
    currents = [ex.history[-1].utterance or "" for ex in train]
    print(f"mining hard negatives from {args.index} for {len(train)} train turns")
    pools = dialogue_runs(retriever, queries, currents, 20)
    tok = AutoTokenizer.from_pretrained(init)
    groups = build_groups(train, queries, pools, passages, tok, args.negatives, cfg.seed,
                          progress=not args.no_progress)
    if not groups:
        raise DataError(f"{args.train}: no training example has a gold passage and negatives")
    settings = {"base_model": BASE_MODEL, "init": "models/extractor" if args.init else BASE_MODEL,
                "profile": args.profile, **vars(cfg), "negatives": args.negatives,
                "n_groups": len(groups), "query_roles": "user", "max_length": MAX_LENGTH,
                "max_query_tokens": MAX_QUERY_TOKENS, "passage_format": "passage_contents",
                "negatives_from": "hybrid dialogue pool top 10 (non-gold)"}
    fp = settings_fingerprint(settings)
    ck = checkpoint_path(args)
    if args.restart and ck.exists():
        ck.unlink()
    model = AutoModelForSequenceClassification.from_pretrained(init, num_labels=1,
                                                               ignore_mismatched_sizes=True)
    model = model.float().to(device())  # a saved model folder is fp16: train in fp32
    print(f"training the cross-encoder on {len(groups)} groups of {1 + args.negatives} "
          f"({device()}), checkpoint {ck}")
    stats = train_model(model, [max(len(x) for x in g.pairs) for g in groups],
                        lambda idx: group_loss(model, [groups[i] for i in idx], tok.pad_token_id),
                        cfg, ck, fp, progress=not args.no_progress)
    stats["device"] = device()
    manifest = {
        "kind": "reranker",
        "format": 2,
        "architecture": "cross-encoder",
        "description": "cross-encoder (AutoModelForSequenceClassification, 1 logit) over "
                       "(dialogue query, passage_contents) pairs",
        "base_model": BASE_MODEL,
        "command": "re3g train reranker --profile " + args.profile
                   + (f" --init {args.init}" if args.init else ""),
        "data": data_files([args.docs, args.train, args.validation]),
        "settings": settings,
        "metrics": {},
        "training": stats,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    save_model_folder(model, tok, Path(args.out), manifest)
    if ck.exists():
        ck.unlink()
    metrics = validate(Path(args.out), val, retriever, args.candidates)
    manifest["metrics"] = metrics
    manifest["training"]["wall_seconds"] = round(time.time() - t_start, 1)
    from re3g.evaluate.report import write_atomic
    from re3g.train.common import MANIFEST

    write_atomic(Path(args.out) / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({"out": str(args.out), "metrics": metrics, "training": manifest["training"]},
                     indent=2))
    return 0


def validate(model_dir: Path, val: Sequence[Example], retriever: Any, candidates: int
             ) -> dict[str, Any]:
    """Recall of the first-stage pool and of the reranked pool on ``val``."""
    from tqdm.auto import tqdm

    from re3g.data import build_query
    from re3g.evaluate.grounding import dialogue_runs
    from re3g.evaluate.retrieval import retrieval_metrics
    from re3g.rerank import Reranker

    if not val:
        return {}
    rr = Reranker.load(model_dir)
    queries = [build_query(ex.history, roles="user") for ex in val]
    currents = [ex.history[-1].utterance or "" for ex in val]
    pools = dialogue_runs(retriever, queries, currents, candidates)
    reranked = [rr.rerank(q, h) for q, h in tqdm(list(zip(queries, pools, strict=True)),
                                                  desc="rerank validation")]
    return {"n_validation": len(val), "int8": rr.quantized,
            f"pool_top{candidates}": retrieval_metrics(val, pools),
            f"reranked_top{candidates}": retrieval_metrics(val, reranked)}
