"""Train the span extractor.

    re3g train extractor --profile full       # models/extractor (query tower, pipeline default)
    re3g train extractor --arch qa --profile full --out models/extractor-qa   # start/end reader
    re3g train extractor --profile quick --out /tmp/ex   # seconds, for tests

``--arch qa`` (:mod:`re3g.train.qa`): an ``AutoModelForQuestionAnswering`` fine-tuned
from the packaged all-MiniLM-L6-v2 on (user turns, passage) pairs, with same-document passages
without the answer as "no answer" examples; the selection settings and the grounding F1/EM are
then measured on the validation split (:mod:`re3g.train.qa_eval`).

``--arch tower`` (default, this module): each train query is pushed towards the frozen
base-model vectors
of its reference spans, against a softmax over every span of the corpus; at the end the
selection settings (how far a prediction grows over neighbouring spans, how many passages are
searched and how much a lower passage rank costs) are chosen on the validation split.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path
from typing import Any

from re3g.config import QUERY_ROLES, Config
from re3g.models import BASE_MODEL, Encoder, base_model_path, device, model_path
from re3g.train import common

PROFILES: dict[str, dict[str, Any]] = {"quick": common.QUICK_TOWER,
                                       "full": {**common.FULL_TOWER, "epochs": 1.0}}
QUICK_EXAMPLES = 8
SPANS_CACHE = Path(".cache/extractor.spans.pt")
GRID = {"extend_ratio": [0.15, 0.25, 0.35, 0.5, 0.7, 1.01],
        "n_passages": [1, 2, 3, 5],
        "rank_penalty": [0.0, 0.5, 1.0, 2.0, 4.0]}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common.add_common_arguments(parser, "extractor")
    parser.add_argument("--index", type=Path, default=Path("indexes/doc2dial"),
                        help="index for the over-all-documents validation run")
    parser.add_argument("--reranker", type=Path, default=model_path("reranker"),
                        help="reranker for the over-all-documents validation run")
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--init", type=Path, default=None,
                        help="warm start instead of the base model: tower: a trained reranker "
                             "folder (its query tower), e.g. models/reranker; qa: a trained "
                             "start/end reader, e.g. models/extractor-qa")
    parser.add_argument("--arch", choices=["qa", "tower"], default="tower",
                        help="tower: query tower over frozen span vectors (models/extractor, the "
                             "pipeline's default); qa: start/end reader "
                             "(AutoModelForQuestionAnswering, models/extractor-qa)")
    parser.add_argument("--negatives", type=int, default=1,
                        help="qa: same-document passages without the answer per train turn")
    parser.add_argument("--pool-negatives", type=int, default=0,
                        help="qa: passages without the answer per train turn taken from the "
                             "top 5 of the reranked first-stage pool (other documents too), so "
                             "the reader's 'no answer' score compares the passages it is shown")
    parser.add_argument("--query-roles", choices=QUERY_ROLES, default=Config.query_roles,
                        help="qa: the turns the reader's question holds, newest first: the "
                             "user's only, or the agent's replies too")
    parser.add_argument("--question-tokens", type=int, default=None,
                        help="qa: word pieces of the question kept (default 64)")
    parser.add_argument("--shuffle-sentences", type=float, default=0.0, metavar="SHARE",
                        help="qa: share of the passages read with their sentences in a random "
                             "order (the answer's kept together), so the reader judges a "
                             "sentence by what it says, not where it sits (default 0)")
    parser.add_argument("--hold-out-dev", action="store_true",
                        help="qa: leave out the dev part of train (the dialogues the reader's "
                             "settings are chosen on, re3g.train.select_reader), so that "
                             "choice is made on turns the reader never saw")
    parser.add_argument("--written", nargs=2, action="append", type=Path, default=None,
                        metavar=("DOCS", "DIALOGUES"),
                        help="qa: also train on a hand-written conversation set over other "
                             "documents (repeatable), e.g. data/train/documents "
                             "data/train/dialogues.json; never data/dev or data/suite")
    parser.add_argument("--written-repeat", type=int, default=1, metavar="N",
                        help="qa: how many times each written example is seen per epoch "
                             "(default 1)")
    parser.add_argument("--unanswerable-nulls", type=int, default=1, metavar="N",
                        help="qa: per unanswerable written turn, the N passages of its document "
                             "closest to it in words, labelled 'no answer' (default 1; 0: none)")
    parser.add_argument("--blanked-nulls", type=float, default=0.0, metavar="SHARE",
                        help="qa: share of the written answerable turns whose gold passage is "
                             "also read with the answer cut out, labelled 'no answer', so the "
                             "reader's null score learns 'on topic, but not said here' "
                             "(default 0)")
    parser.add_argument("--doc2dial-turns", type=int, default=None, metavar="N",
                        help="qa: train on N doc2dial train turns drawn with --seed instead of "
                             "all (with --init and --written: a trained reader continued on a "
                             "mix, so it keeps what doc2dial taught it)")
    parser.add_argument("--average", type=Path, nargs="+", default=None, metavar="DIR",
                        help="qa: do not train; save the mean of the weights of these trained "
                             "readers (e.g. two epochs continued with --init) to --out, then "
                             "validate it like a trained one")
    parser.add_argument("--spans-cache", type=Path, default=None,
                        help="file caching the base-model span vectors "
                             "(default .cache/extractor.spans.pt, ignored by git)")


def span_targets(docs: dict[str, Any], cache: Path | None, log: Any = print
                 ) -> tuple[list[tuple[str, str]], Any]:
    """(doc_id, span_id) of every non-empty span and its frozen base-model vector."""
    import torch

    from re3g.extract import span_text
    from re3g.models import SPAN_MAX_TOKENS
    from re3g.retrieve.index import corpus_fingerprint

    keys, texts = [], []
    for d in docs.values():
        for s in d.spans:
            if s.text.strip():
                keys.append((d.doc_id, s.id))
                texts.append(span_text(s.text))
    fp = corpus_fingerprint(docs.values())
    if cache is not None and cache.is_file():
        try:
            state = torch.load(cache, map_location="cpu", weights_only=False)
            if state.get("fingerprint") == fp and state.get("keys") == keys:
                return keys, state["vectors"]
        except Exception:  # noqa: BLE001 - a bad cache is recomputed
            pass
    log(f"encoding {len(texts)} spans with the base model")
    vecs = Encoder.load(base_model_path(), max_length=SPAN_MAX_TOKENS).encode(texts)
    if cache is not None:
        from re3g.train.common import atomic_torch_save

        atomic_torch_save({"fingerprint": fp, "keys": keys, "vectors": vecs}, cache)
    return keys, vecs


def prime_extractor(extractor: Any, docs: dict[str, Any], keys: list[tuple[str, str]],
                    vectors: Any) -> None:
    """Put already computed span vectors into the extractor's cache (same keys it would use)."""
    from re3g.retrieve.span_store import span_key

    extractor.cache.put([span_key(d, s, docs[d].span(s).text) for d, s in keys], vectors)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "average", None) and getattr(args, "arch", "tower") != "qa":
        from re3g.errors import DataError

        raise DataError("--average averages start/end readers: add --arch qa")
    if getattr(args, "arch", "tower") == "qa":
        from re3g.train.qa import run_qa

        return run_qa(args)
    return run_tower(args)


def run_tower(args: argparse.Namespace) -> int:
    from re3g.data import build_query
    from re3g.errors import DataError

    t_start, cfg, quick, docs, train, val = common.start_run(args, PROFILES, QUICK_EXAMPLES)
    ck = common.checkpoint_path(args)
    cache = args.spans_cache or (None if quick else SPANS_CACHE)
    keys, targets = span_targets(docs, cache)
    pos_of = {k: i for i, k in enumerate(keys)}
    pairs = []
    for ex in train:
        pos = sorted({pos_of[k] for k in ex.gold_span_ids if k in pos_of})
        if pos:
            pairs.append((build_query(ex.history), pos))
    if not pairs:
        raise DataError(f"{args.train}: no training example has a reference span")

    init = str(args.init) if args.init else BASE_MODEL
    if args.init:
        from re3g.models import read_model_manifest

        read_model_manifest(Path(args.init), "reranker", "re3g train reranker --profile full")
    settings = {"base_model": BASE_MODEL, "init": init, "profile": args.profile, **vars(cfg),
                "n_train": len(pairs), "n_targets": len(keys)}
    fp = common.settings_fingerprint(settings)
    enc = Encoder.load(args.init or base_model_path(), max_length=cfg.max_query_tokens)
    print(f"training extractor on {len(pairs)} queries x {len(keys)} spans ({device()}), "
          f"checkpoint {ck}")
    if args.restart and ck.exists():
        ck.unlink()
    stats = common.train_query_tower(enc, [q for q, _ in pairs], [p for _, p in pairs], targets,
                                     cfg, ck, fp, progress=not args.no_progress)

    from re3g.extract import SpanExtractor

    ex_settings = {**settings, "scale": cfg.scale, "span_max_tokens": 128}
    extractor = SpanExtractor("tower", enc, {"settings": ex_settings})
    prime_extractor(extractor, docs, keys, targets)
    metrics, chosen = evaluate_extractor(extractor, val, docs, None if quick else args.index,
                                         None if quick else args.reranker, args.candidates)
    ex_settings.update(chosen)
    manifest = {
        "kind": "extractor",
        "format": 1,
        "architecture": "query tower over frozen base span vectors; spans grown over neighbours",
        "base_model": BASE_MODEL,
        "command": "re3g train extractor " + ("--profile quick" if quick else "--profile full")
                   + (f" --init {args.init}" if args.init else "")
                   + (f" --epochs {args.epochs:g}" if args.epochs is not None else ""),
        "data": common.data_files([args.docs, args.train, args.validation]),
        "settings": ex_settings,
        "metrics": metrics,
        "training": {**stats, "device": device(), "wall_seconds": round(time.time() - t_start, 1)},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    common.save_model_folder(enc.model, enc.tokenizer, args.out, manifest, from_base=True)
    if ck.exists():
        ck.unlink()
    print(json.dumps({"out": str(args.out), "metrics": metrics, "settings": chosen,
                      "training": manifest["training"]}, indent=2))
    return 0


def _gold_hits(ex: Any, passages: list[Any]) -> list[Any]:
    from re3g.types import Hit

    gold = ex.gold_span_ids
    ps = [p for p in passages if any((p.doc_id, s) in gold for s in p.span_ids)]
    return [Hit(p, 1.0, i + 1, "gold") for i, p in enumerate(ps)]


def evaluate_extractor(extractor: Any, val: list[Any], docs: dict[str, Any],
                       index: Path | None, reranker_path: Path | None, candidates: int
                       ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Grounding F1/EM on ``val``; returns (metrics, chosen selection settings)."""
    from re3g.data import build_query
    from re3g.data.dialdoc import grounding_text
    from re3g.data.passages import split_corpus
    from re3g.evaluate.metrics import grounding_metrics

    if not val:
        return {}, {}
    queries = [build_query(ex.history) for ex in val]
    refs = [grounding_text(ex, docs) for ex in val]
    passages = split_corpus(docs.values())
    metrics: dict[str, Any] = {"n_validation": len(val)}

    def run_grid(runs: list[list[Any]], grid: dict[str, list[Any]]) -> tuple[dict, dict, list]:
        from re3g.extract import candidates_for

        npass = max(grid["n_passages"])
        scored = []
        for q, hits in zip(queries, runs, strict=True):
            cands = candidates_for(hits, docs, npass)
            scored.append((cands, extractor.score_candidates(q, cands)))
        best: tuple[float, dict, dict, list] | None = None
        for ratio, n, pen in itertools.product(grid["extend_ratio"], grid["n_passages"],
                                               grid["rank_penalty"]):
            extractor.extend_ratio, extractor.rank_penalty = ratio, pen
            preds = []
            for cands, logits in scored:
                keep = [i for i, c in enumerate(cands) if c.hit_index < n]
                ev = extractor._select([cands[i] for i in keep],
                                       [logits[i] - pen * cands[i].hit_index for i in keep],
                                       docs, 1)
                preds.append(ev[0].text if ev else "")
            m = grounding_metrics(preds, refs)
            if best is None or m["F1"] > best[0]:
                best = (m["F1"], m, {"extend_ratio": ratio, "n_passages": n,
                                     "rank_penalty": pen}, preds)
        assert best is not None
        return best[1], best[2], best[3]

    gold_runs = [_gold_hits(ex, passages) for ex in val]
    gm, gchosen, _ = run_grid(gold_runs, {**GRID, "n_passages": [3], "rank_penalty": [0.0]})
    metrics["grounding_gold_passage"] = {k: round(v, 2) for k, v in gm.items()}
    chosen = {"extend_ratio": gchosen["extend_ratio"], "n_passages": 3, "rank_penalty": 1.0}
    if index is not None and reranker_path is not None and Path(reranker_path).exists():
        try:
            from re3g.rank import Reranker
            from re3g.retrieve import open_index

            retriever = open_index(index, mode="hybrid")
            first = retriever.batch_search(queries, k=candidates)
            rr = Reranker.load(reranker_path)
            rr.prime_from_index(index, retriever.passages)
            runs = [rr.rerank(q, h) for q, h in zip(queries, first, strict=True)]
        except Exception as exc:  # noqa: BLE001 - the all-documents run is best effort here
            metrics["grounding_error"] = str(exc)
            return metrics, chosen
        am, chosen, _ = run_grid(runs, GRID)
        metrics["grounding"] = {k: round(v, 2) for k, v in am.items()}
        metrics["grounding_selection"] = "settings chosen on this validation split (grid)"
    return metrics, chosen
