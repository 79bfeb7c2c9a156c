"""Train the passage reranker.

    re3g train reranker --profile full                 # the shipped models/reranker (tower)
    re3g train reranker --profile quick --out /tmp/rr  # seconds, for tests
    re3g train reranker --arch cross --init models/extractor-qa --query-roles all

``--arch cross`` (:mod:`re3g.train.cross`): a cross-encoder over (dialogue query, passage) pairs,
the cascade's second step over the tower's top passages, with hard negatives from the tower's
own ranking (42 min of training on 2 cores).

``--arch tower`` (default, this module): a query tower over frozen all-MiniLM-L6-v2 passage
vectors; every train example's query is pushed towards the passages that contain its
reference spans, against a softmax over every passage of the corpus. Passage vectors come from
the dense index when it was built from the same corpus with the packaged model, else they are
computed here.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from re3g.config import QUERY_ROLES, Config
from re3g.models import BASE_MODEL, Encoder, base_model_path, device, model_path
from re3g.train import common

PROFILES: dict[str, dict[str, Any]] = {"quick": common.QUICK_TOWER,
                                       "full": {**common.FULL_TOWER, "epochs": 6.0}}
QUICK_EXAMPLES = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common.add_common_arguments(parser, "reranker")
    parser.add_argument("--index", type=Path, default=Path("indexes/doc2dial"),
                        help="dense index whose passages/vectors to train on and evaluate with "
                             "(used when built from --docs with the packaged model)")
    parser.add_argument("--candidates", type=int, default=20,
                        help="first-stage depth reranked in the validation run")
    parser.add_argument("--arch", choices=["cross", "tower"], default="tower",
                        help="tower: query tower over frozen passage vectors "
                             "(models/reranker); cross: the cross-encoder that rescores the "
                             "tower's top passages (models/cross-reranker)")
    parser.add_argument("--negatives", type=int, default=3,
                        help="cross: hard negatives per train turn, from the tower's top "
                             "--depth (or the hybrid pool without a tower)")
    parser.add_argument("--first-stage", type=Path, default=model_path("reranker"),
                        help="cross: the tower reranker the cross-encoder follows in the "
                             "cascade (negatives come from its ranking)")
    parser.add_argument("--depth", type=int, default=5,
                        help="cross: how many of the tower's top passages give the negatives "
                             "(the validation then chooses the cascade's depth and weight)")
    parser.add_argument("--init", type=Path, default=None,
                        help="cross: start from a trained start/end extractor's encoder "
                             "(e.g. models/extractor) instead of the base model")
    parser.add_argument("--spliced", action="store_true",
                        help="tower: also train on topic shifts: every train dialogue outside "
                             "the dev part (re3g.train.common.dev_dialogue_ids) spliced after "
                             "an agent turn of a dialogue over another document of its domain "
                             "(re3g.train.splice); the two user turns after the join join the "
                             "training queries")
    parser.add_argument("--query-roles", choices=QUERY_ROLES, default=Config.query_roles,
                        help="cross: the turns its query holds: the user's (the pipeline's "
                             "dialogue query) or every turn, the agent's replies included (as "
                             "the reader reads them); the pipeline builds the same query for it")


def _index_matches(index: Path, docs: dict[str, Any]) -> bool:
    from re3g.retrieve.index import corpus_fingerprint

    try:
        manifest = json.loads((index / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return (manifest.get("corpus", {}).get("sha256") == corpus_fingerprint(docs.values())
            and manifest.get("dense", {}).get("model") == BASE_MODEL
            and (index / "dense" / "faiss.index").is_file())


def load_targets(docs: dict[str, Any], index: Path | None, log: Any = print
                 ) -> tuple[list[Any], Any, str]:
    """Passages and their frozen base-model vectors: from ``index`` when it matches ``docs``."""
    import torch

    from re3g.data.passages import passage_contents, split_corpus

    if index is not None and _index_matches(index, docs):
        import faiss

        from re3g.retrieve.index import read_passages

        passages = read_passages(index / "passages.jsonl")
        fi = faiss.read_index(str(index / "dense" / "faiss.index"))
        if fi.ntotal == len(passages):
            return passages, torch.as_tensor(fi.reconstruct_n(0, fi.ntotal)), str(index)
    passages = split_corpus(docs.values())
    log(f"encoding {len(passages)} passages with the base model")
    enc = Encoder.load(base_model_path(), max_length=256)
    return passages, enc.encode([passage_contents(p) for p in passages]), "split_corpus(200)"


def positives_for(examples: list[Any], passages: list[Any]) -> list[list[int]]:
    by_doc: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        by_doc.setdefault(p.doc_id, []).append(i)
    out = []
    for ex in examples:
        gold = ex.gold_span_ids
        out.append([i for d in ex.gold_doc_ids for i in by_doc.get(d, [])
                    if any((d, s) in gold for s in passages[i].span_ids)])
    return out


def run(args: argparse.Namespace) -> int:
    if getattr(args, "arch", "tower") == "cross":
        from re3g.train.cross import run_cross

        return run_cross(args)
    return run_tower(args)


def run_tower(args: argparse.Namespace) -> int:
    from re3g.data import build_query
    from re3g.errors import DataError

    t_start, cfg, quick, docs, train, val = common.start_run(args, PROFILES, QUICK_EXAMPLES)
    index = None if quick else args.index
    passages, targets, target_source = load_targets(docs, index)
    extra = spliced_examples(args, docs, train) if args.spliced else []
    examples = train + (extra[: len(train)] if quick else extra)
    positives = positives_for(examples, passages)
    pairs = [(build_query(ex.history), pos) for ex, pos in zip(examples, positives, strict=True)
             if pos]
    if not pairs:
        raise DataError(f"{args.train}: no training example has a gold passage")
    queries = [q for q, _ in pairs]

    settings = {"base_model": BASE_MODEL, "profile": args.profile, **vars(cfg),
                "n_train": len(queries), "targets": target_source, "n_targets": len(passages),
                **({"spliced": len(examples) - len(train)} if args.spliced else {})}
    fp = common.settings_fingerprint(settings)
    enc = Encoder.load(base_model_path(), max_length=cfg.max_query_tokens)
    print(f"training reranker on {len(queries)} queries x {len(passages)} passages "
          f"({device()}), checkpoint {common.checkpoint_path(args)}")
    if args.restart and common.checkpoint_path(args).exists():
        common.checkpoint_path(args).unlink()
    stats = common.train_query_tower(enc, queries, [p for _, p in pairs], targets, cfg,
                              common.checkpoint_path(args), fp, progress=not args.no_progress)

    metrics = evaluate_tower(enc, val, passages, targets, index, args.candidates, cfg.scale)
    manifest = {
        "kind": "reranker",
        "format": 1,
        "architecture": "query-tower over frozen base passage vectors (cosine)",
        "base_model": BASE_MODEL,
        "command": "re3g train reranker " + ("--profile quick" if quick else "--profile full")
                   + (" --spliced" if args.spliced else ""),
        "data": common.data_files([args.docs, args.train, args.validation]),
        "settings": {**settings, "scale": cfg.scale, "first_stage_weight": 0.0,
                     "passage_format": "passage_contents", "passage_max_tokens": 256},
        "metrics": metrics,
        "training": {**stats, "device": device(),
                     "wall_seconds": round(time.time() - t_start, 1)},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    common.save_model_folder(enc.model, enc.tokenizer, args.out, manifest, from_base=True)
    ck = common.checkpoint_path(args)
    if ck.exists():
        ck.unlink()
    print(json.dumps({"out": str(args.out), "metrics": metrics, "training": manifest["training"]},
                     indent=2))
    return 0


def spliced_examples(args: argparse.Namespace, docs: dict[str, Any], train: list[Any]
                     ) -> list[Any]:
    """The topic-shift examples ``--spliced`` adds: the two user turns after the join of every
    train dialogue outside the dev part, spliced after an agent turn of another dialogue of
    its domain over another document (seeded by the run's seed)."""
    from re3g.data import load_dialogues
    from re3g.data.dialdoc import examples_from_dialogues
    from re3g.train.splice import shift_examples, spliced_dialogues

    held = common.dev_dialogue_ids(train)
    dialogues = [d for d in load_dialogues(args.train) if d.dial_id not in held]
    joined = spliced_dialogues(dialogues, seed=args.seed if args.seed is not None else 0)
    shifted = shift_examples(examples_from_dialogues([d for d, _ in joined], docs),
                             {d.dial_id: at for d, at in joined})
    print(f"--spliced: {len(shifted)} topic-shift turns from {len(joined)} spliced dialogues "
          f"({len(held)} dev-part dialogues left out)")
    return shifted


def evaluate_tower(enc: Encoder, val: list[Any], passages: list[Any], targets: Any,
                   index: Path | None, candidates: int, scale: float) -> dict[str, Any]:
    """Validation recall of the tower over the corpus, and reranking the hybrid top-K."""
    from re3g.data import build_query
    from re3g.evaluate.retrieval import retrieval_metrics
    from re3g.types import Hit

    if not val:
        return {}
    queries = [build_query(ex.history) for ex in val]
    q = enc.encode(queries)
    sims = q @ targets.T
    top = sims.topk(min(20, len(passages)), dim=1)
    runs = [[Hit(passages[int(i)], float(s), r + 1, "tower")
             for r, (s, i) in enumerate(zip(srow, irow, strict=True))]
            for srow, irow in zip(top.values, top.indices, strict=True)]
    out: dict[str, Any] = {"n_validation": len(val), "tower_full_corpus": retrieval_metrics(val,
                                                                                          runs)}
    if index is not None:
        try:
            from re3g.retrieve import open_index

            first = open_index(index, mode="hybrid").batch_search(queries, k=candidates)
        except Exception as exc:  # noqa: BLE001 - evaluation of reranking is best effort
            out["reranked_error"] = str(exc)
            return out
        pos = {p.pid: i for i, p in enumerate(passages)}
        reranked = []
        for qi, hits in enumerate(first):
            ids = [pos[h.passage.pid] for h in hits]
            order = sorted(range(len(hits)), key=lambda j: -float(sims[qi, ids[j]]))
            reranked.append([Hit(hits[j].passage, float(sims[qi, ids[j]]), r + 1, "rerank")
                             for r, j in enumerate(order)])
        out[f"hybrid_top{candidates}"] = retrieval_metrics(val, first)
        out[f"reranked_top{candidates}"] = retrieval_metrics(val, reranked)
    return out
