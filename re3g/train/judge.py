"""Train the sentence judge (``re3g train judge``): does this sentence answer the question?

The reader picks a range inside the top passages; on documents unlike doc2dial it often
takes a neighbour of the right sentence (the sentence is on topic, the passage is right).
The judge reads the dialogue question and one document span (a sentence or clause) together
and gives one logit: the log-odds that the span holds the answer. It is trained with binary
cross-entropy on doc2dial train turns, leaving out the dev part of train
(:func:`re3g.train.common.dev_dialogue_ids`) on which its weight is chosen:

- positives: the turn's reference spans;
- on-topic negatives: every other span of the passage that holds them (the same topic, the
  wrong sentence: exactly the reader's mistake);
- off-passage negatives: ``--other`` spans from other passages of the same document (what
  is left when the answer is not in the corpus at all);
- with ``--written`` and ``--unanswerable N``: for each written turn the documents do not
  answer, the spans (at most ``MAX_SAME``) of the N passages of its document that share the
  most words with the question (:func:`re3g.train.qa.tempting_passages`), so the judge also
  learns that nothing on an on-topic page may answer.

It starts from the project's cross-encoder (``models/cross-reranker``), which already reads
(question, text) pairs of this data; ``--init`` names another.

    re3g train judge                                   # models/sentence-judge, ~35 min on 2 cores
    re3g train judge --profile quick --out /tmp/judge  # seconds, for tests
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from re3g.data.passages import by_document
from re3g.extract.judge import JUDGE_TRAIN_CMD, MAX_LENGTH, MAX_QUERY_TOKENS, judge_text
from re3g.models import model_path
from re3g.types import Example

PROFILES: dict[str, dict[str, Any]] = {
    "quick": {"epochs": 1.0, "batch_size": 4, "lr": 3e-5, "max_steps": 2},
    "full": {"epochs": 1.0, "batch_size": 32, "lr": 3e-5},
}
QUICK_EXAMPLES = 8
OTHER_SPANS = 2
MAX_SAME = 10  # on-topic negatives per turn at most (long passages)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from re3g.train import common

    common.add_common_arguments(parser, "sentence-judge")
    parser.add_argument("--init", type=Path, default=model_path("cross-reranker"),
                        help="the (question, text) model to start from (default: the "
                             "project's cross-encoder)")
    parser.add_argument("--other", type=int, default=OTHER_SPANS,
                        help="negatives per turn from other passages of the same document")
    parser.add_argument("--keep-dev", action="store_true",
                        help="train on the dev part of train too (by default it is left out: "
                             "the judge's weight is chosen there)")
    parser.add_argument("--written", nargs=2, action="append", metavar=("DOCS", "DIALOGUES"),
                        default=None,
                        help="train on the answerable turns of this hand-written set over other "
                             "documents instead of doc2dial's train turns (repeatable; e.g. "
                             "data/train/documents data/train/dialogues.json; never a choose or "
                             "held-out set)")
    parser.add_argument("--unanswerable", type=int, default=0, metavar="N",
                        help="with --written: per turn the documents do not answer, the "
                             f"spans (at most {MAX_SAME}) of the N passages of its document "
                             "nearest the question as negatives (default 0: answerable turns "
                             "only)")


def pair_ids(tokenizer: Any, question: str, text: str) -> list[int]:
    """The token ids of one (question, span text) pair as the judge reads it (the span side
    cut to :data:`re3g.extract.judge.MAX_LENGTH`)."""
    return tokenizer(question, judge_text(text), truncation="only_second",
                     max_length=MAX_LENGTH)["input_ids"]


def refusal_pairs(examples: Sequence[Example], dialogue_docs: dict[str, str],
                  passages: Sequence[Any], documents: dict[str, Any], tokenizer: Any, n: int
                  ) -> tuple[list[list[int]], list[float]]:
    """(token ids, label 0) pairs for turns the documents do not answer: each question with
    every span (at most :data:`MAX_SAME`) of its ``n`` most tempting passages.

    >>> refusal_pairs([], {}, [], {}, None, 1)
    ([], [])
    """
    from re3g.data import build_query
    from re3g.extract.spans import passage_spans
    from re3g.models import truncate_question
    from re3g.train.qa import tempting_passages

    by_doc = by_document(passages)
    ids: list[list[int]] = []
    for ex in examples:
        q = truncate_question(tokenizer, build_query(ex.history, roles="all"), MAX_QUERY_TOKENS)
        texts = [sp.text for p in tempting_passages(ex, dialogue_docs, by_doc, n)
                 for sp in passage_spans(p, documents) if sp.text.strip() and not sp.is_heading]
        ids += [pair_ids(tokenizer, q, t) for t in texts[:MAX_SAME]]
    return ids, [0.0] * len(ids)


def holding_passages(ex: Example, by_doc: dict[str, list[Any]]) -> list[Any]:
    """The passages of the turn's gold documents that hold one of its reference spans."""
    gold = ex.gold_span_ids
    return [p for d in sorted(ex.gold_doc_ids) for p in by_doc.get(d, [])
            if any((p.doc_id, s) in gold for s in p.span_ids)]


def build_pairs(examples: Sequence[Example], passages: Sequence[Any],
                documents: dict[str, Any], tokenizer: Any, other: int, seed: int
                ) -> tuple[list[list[int]], list[float]]:
    """(token ids, label) of every (question, span) pair the turns give (see the module doc).

    >>> build_pairs([], [], {}, None, 2, 13)
    ([], [])
    """
    from re3g.data import build_query
    from re3g.extract.spans import passage_spans
    from re3g.models import truncate_question

    rng = random.Random(seed)
    by_doc = by_document(passages)
    ids: list[list[int]] = []
    labels: list[float] = []
    for ex in examples:
        gold = ex.gold_span_ids
        holding = holding_passages(ex, by_doc)
        if not holding:
            continue
        q = truncate_question(tokenizer, build_query(ex.history, roles="all"), MAX_QUERY_TOKENS)
        pos, same = [], []
        for p in holding:
            for sp in passage_spans(p, documents):
                if not sp.text.strip() or sp.is_heading:
                    continue
                (pos if (p.doc_id, sp.id) in gold else same).append(sp.text)
        if not pos:
            continue
        rng.shuffle(same)
        held = {p.pid for p in holding}
        others = [sp.text for d in sorted(ex.gold_doc_ids) for p in by_doc.get(d, [])
                  if p.pid not in held for sp in passage_spans(p, documents)
                  if sp.text.strip() and not sp.is_heading]
        negs = same[:MAX_SAME] + rng.sample(others, min(other, len(others)))
        for text, y in [(t, 1.0) for t in pos] + [(t, 0.0) for t in negs]:
            ids.append(pair_ids(tokenizer, q, text))
            labels.append(y)
    return ids, labels


def pair_loss(model: Any, ids: Sequence[Sequence[int]], labels: Sequence[float], pad_id: int
              ) -> Any:
    """Binary cross-entropy of the pairs' logits against their labels."""
    import torch

    from re3g.train.common import pad_batch

    dev = next(model.parameters()).device
    batch = pad_batch(ids, pad_id)
    logits = model(**{k: v.to(dev) for k, v in batch.items()}).logits[:, 0]
    return torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.tensor(list(labels), dtype=torch.float, device=dev))


def validate(model_dir: Path, examples: Sequence[Example], passages: Sequence[Any],
             documents: dict[str, Any]) -> dict[str, Any]:
    """On held-out turns, inside the passage holding the reference: how often the judge's best
    span is a reference span (``top1``, against ``first`` for the passage's first body span)
    and the AUROC of reference spans against the passage's other spans."""
    from sklearn.metrics import roc_auc_score

    from re3g.data import build_query
    from re3g.extract.judge import SentenceJudge
    from re3g.extract.spans import passage_spans

    judge = SentenceJudge.load(model_dir)
    by_doc = by_document(passages)
    top1, first, ys, ss = [], [], [], []
    for ex in examples:
        gold = ex.gold_span_ids
        holding = holding_passages(ex, by_doc)
        if not holding:
            continue
        p = holding[0]
        spans = [sp for sp in passage_spans(p, documents) if sp.text.strip() and not sp.is_heading]
        if len(spans) < 2:
            continue
        scores = judge.judge(build_query(ex.history, roles="all"), [(p.doc_id, sp) for sp in spans])
        got = [scores[(p.doc_id, sp.id)] for sp in spans]
        y = [float((p.doc_id, sp.id) in gold) for sp in spans]
        top1.append(y[max(range(len(got)), key=got.__getitem__)])
        first.append(y[0])
        ys += y
        ss += got
    n = len(top1)
    return {"turns": n, "top1": round(100 * sum(top1) / max(1, n), 2),
            "first_span": round(100 * sum(first) / max(1, n), 2),
            "AUROC": round(float(roc_auc_score(ys, ss)), 4) if 0 < sum(ys) < len(ys) else None}


def run(args: argparse.Namespace) -> int:
    """Train, save (``--out`` with manifest) and validate the sentence judge."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from re3g.data.passages import split_corpus
    from re3g.errors import DataError
    from re3g.evaluate.report import write_atomic
    from re3g.models import BASE_MODEL, MANIFEST, device
    from re3g.train import common

    written = common.training_sets(args.written)  # a bad or held-out set fails before work
    if args.unanswerable < 0 or (args.unanswerable and not written):
        raise DataError(f"--unanswerable {args.unanswerable}: a number of passages (0 or "
                        "more) for the unanswerable turns of the --written sets; give "
                        "--written DOCS DIALOGUES too")
    t_start, cfg, quick, docs, train, val = common.start_run(args, PROFILES, QUICK_EXAMPLES)
    if written:
        train, dev = [], []
    elif not args.keep_dev and not quick:
        held = common.dev_dialogue_ids(train)
        dev = [e for e in train if e.dial_id in held]
        train = [e for e in train if e.dial_id not in held]
    else:
        dev = []
    init = str(args.init)
    tok = AutoTokenizer.from_pretrained(init, local_files_only=True)
    passages = split_corpus(docs.values())
    ids, labels = build_pairs(train, passages, docs, tok, args.other, cfg.seed)
    n_refusal = 0
    for docs_dir, dialogues in written:
        w_docs, w_dialogues, w_all = common.load_written(docs_dir, dialogues)
        w_examples = [e for e in w_all if e.answerable]
        if quick:
            w_examples = w_examples[:QUICK_EXAMPLES]
        w_passages = split_corpus(w_docs.values())
        got = build_pairs(w_examples, w_passages, w_docs, tok, args.other, cfg.seed)
        ids, labels = ids + got[0], labels + got[1]
        train = train + w_examples
        if args.unanswerable:
            refused = [e for e in w_all if not e.answerable][:QUICK_EXAMPLES if quick else None]
            got = refusal_pairs(refused, {d.dial_id: d.doc_id for d in w_dialogues},
                                w_passages, w_docs, tok, args.unanswerable)
            ids, labels = ids + got[0], labels + got[1]
            train, n_refusal = train + refused, n_refusal + len(refused)
    if not ids:
        where = ", ".join(str(f) for _, f in written) or str(args.train)
        raise DataError(f"{where}: no training turn has a reference span in a passage")
    settings = {"base_model": BASE_MODEL, "init": init, "profile": args.profile, **vars(cfg),
                "other": args.other, "max_same": MAX_SAME, "n_pairs": len(ids),
                "n_positive": int(sum(labels)), "n_train_turns": len(train),
                "dev_part_left_out": not args.keep_dev and not quick and not written,
                "written": [[str(d), str(f)] for d, f in written],
                "unanswerable": args.unanswerable, "n_unanswerable_turns": n_refusal,
                "max_length": MAX_LENGTH, "max_query_tokens": MAX_QUERY_TOKENS,
                "query_roles": "all"}
    fp = common.settings_fingerprint(settings)
    ck = common.checkpoint_path(args)
    if args.restart and ck.exists():
        ck.unlink()
    model = AutoModelForSequenceClassification.from_pretrained(init, num_labels=1,
                                                               local_files_only=True)
    model = model.float().to(device())
    print(f"training the sentence judge on {len(ids)} pairs ({int(sum(labels))} positive) "
          f"from {len(train)} train turns ({device()}), checkpoint {ck}")
    stats = common.train_model(model, [len(x) for x in ids],
                               lambda idx: pair_loss(model, [ids[i] for i in idx],
                                                     [labels[i] for i in idx], tok.pad_token_id),
                               cfg, ck, fp, progress=not args.no_progress)
    stats["device"] = device()
    command = (f"{JUDGE_TRAIN_CMD} --profile {args.profile}"
               + (f" --epochs {args.epochs:g}" if args.epochs is not None else "")
               + (" --keep-dev" if args.keep_dev else "")
               + "".join(f" --written {d} {f}" for d, f in written)
               + (f" --unanswerable {args.unanswerable}" if args.unanswerable else "")
               + (f" --max-eval {args.max_eval}" if getattr(args, "max_eval", None) else "")
               + f" --out {args.out}")
    manifest = common.model_manifest(
        "judge", "cross-encoder",
        "sentence judge (AutoModelForSequenceClassification, 1 logit) over (dialogue question, "
        "document span) pairs: the log-odds that the span answers the question", command, args,
        settings, stats)
    manifest["data"] += common.data_files([f for _, f in written])
    common.save_model_folder(model, tok, Path(args.out), manifest)
    if ck.exists():
        ck.unlink()
    t0 = time.time()
    manifest["metrics"] = {"train_dev_part": validate(Path(args.out), dev, passages, docs)
                           if dev else None,
                           "validation": validate(Path(args.out), val, passages, docs)}
    manifest["training"]["validation_seconds"] = round(time.time() - t0, 1)
    manifest["training"]["wall_seconds"] = round(time.time() - t_start, 1)
    write_atomic(Path(args.out) / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({"out": str(args.out), "metrics": manifest["metrics"],
                      "training": manifest["training"]}, indent=2))
    return 0
