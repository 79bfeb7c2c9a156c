"""Training data and loop for the start/end extractor (``AutoModelForQuestionAnswering``).

Each train turn gives one positive example (question = the user's turns newest first, context =
the passage holding its reference spans, answer = the reference range inside it) and, for
``negatives`` > 0, passages of the same document without the answer, labelled "no answer" (the
[CLS] token). The same-document negatives teach the model the fine distinction most grounding
errors are about. ``pool_negatives`` adds passages from the top of the turn's reranked
first-stage pool (the passages the reader is shown at run time, from any document), so that
its null score also compares passages across documents.

    >>> feats = qa_features(train_examples, docs, passages, tokenizer)   # doctest: +SKIP
    >>> stats = train_qa(model, feats, cfg, Path(".ckpt.pt"), "fp")      # doctest: +SKIP
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from re3g.data.passages import by_document
from re3g.extract.reader import MAX_LENGTH, passage_window
from re3g.extract.spans import passage_spans
from re3g.models import MAX_QUESTION_TOKENS, truncate_question
from re3g.train.common import TrainConfig, train_model
from re3g.train.lineage import QA_TRAIN_CMD, lineage
from re3g.types import Document, Example, Hit, Passage


@dataclass
class QAFeature:
    """One tokenised (question, passage) pair with its answer token positions (0, 0: none)."""

    input_ids: list[int]
    start: int
    end: int


def answer_range(ex: Example, p: Passage, documents: dict[str, Document]
                 ) -> tuple[int, int] | None:
    """Document character range of ``ex``'s reference spans inside passage ``p``, or None."""
    doc = documents[p.doc_id]
    spans = [doc.span(s) for s in p.span_ids if (p.doc_id, s) in ex.gold_span_ids]
    spans = [s for s in spans if s.text.strip()]
    if not spans:
        return None
    return max(p.start, min(s.start for s in spans)), min(p.end, max(s.end for s in spans))


def encode_pair(tokenizer: Any, question: str, context: str, answer: tuple[int, int] | None,
                max_length: int = MAX_LENGTH) -> QAFeature | None:
    """Tokenise one pair; ``answer`` is a character range in ``context`` (None: no answer).
    None when the answer falls outside the tokenised window."""
    enc = tokenizer(question, context, truncation="only_second", max_length=max_length,
                    return_offsets_mapping=True)
    if answer is None:
        return QAFeature(enc["input_ids"], 0, 0)
    seq = enc.sequence_ids()
    a, b = answer
    lo = hi = None
    for t, (s, e) in enumerate(enc["offset_mapping"]):
        if seq[t] != 1 or e <= s:
            continue
        if lo is None and e > a:
            lo = t
        if s < b:
            hi = t
    if lo is None or hi is None or hi < lo:
        return None
    return QAFeature(enc["input_ids"], lo, hi)


def shuffled_window(p: Passage, documents: dict[str, Document],
                    answer: tuple[int, int] | None, rng: random.Random
                    ) -> tuple[str, tuple[int, int] | None]:
    """Passage ``p`` read with its sentences in a random order: the context, and ``answer``
    (a document character range, or None) as a range in it.

    The passage is cut at its spans' starts (text between spans stays with the span before
    it); the pieces that hold the answer stay together as one block, headings stay where they
    are, and the other pieces are shuffled among the remaining places. The reader, trained on
    doc2dial alone, learns there that answers sit near a section's start; shuffled copies teach
    it to judge a sentence by what it says.

    >>> from re3g.types import Document, Span
    >>> text = "A one. B two. C three."
    >>> doc = Document("d", "T", text, "x", [Span("1", 0, 7, "A one. "),
    ...     Span("2", 7, 14, "B two. "), Span("3", 14, 22, "C three.")])
    >>> p = Passage("d-0", "d", "T", text, 0, 22, ["1", "2", "3"])
    >>> ctx, (a, b) = shuffled_window(p, {"d": doc}, (7, 14), random.Random(1))
    >>> sorted(ctx.split()) == sorted(text.split()), ctx[a:b]
    (True, 'B two. ')
    """
    doc = documents[p.doc_id]
    spans = [sp for sp in passage_spans(p, documents) if sp.end > p.start and sp.start < p.end]
    cuts = sorted({p.start, *(max(p.start, sp.start) for sp in spans)})
    bounds = [(a, b) for a, b in zip(cuts, [*cuts[1:], p.end], strict=True) if b > a]
    heads = {max(p.start, sp.start) for sp in spans if sp.is_heading}
    units: list[list[tuple[int, int]]] = []
    last_held = False
    for a, b in bounds:
        held = answer is not None and a < answer[1] and b > answer[0]
        if held and last_held:
            units[-1].append((a, b))  # the answer's pieces stay one block
        else:
            units.append([(a, b)])
        last_held = held
    fixed = [i for i, u in enumerate(units) if u[0][0] in heads]
    movable = [i for i in range(len(units)) if i not in fixed]
    order = movable[:]
    rng.shuffle(order)
    placed = list(range(len(units)))
    for slot, unit in zip(movable, order, strict=True):
        placed[slot] = unit
    parts: list[str] = []
    pos = 0
    new_answer = None
    for i in placed:
        a0 = units[i][0][0]
        piece = doc.text[a0:units[i][-1][1]]
        if parts and not parts[-1][-1:].isspace() and not piece[:1].isspace():
            parts.append(" ")
            pos += 1
        if answer is not None and a0 <= answer[0] < units[i][-1][1]:
            new_answer = (pos + answer[0] - a0, pos + min(answer[1], units[i][-1][1]) - a0)
        parts.append(piece)
        pos += len(piece)
    return "".join(parts), new_answer


def qa_features(examples: Sequence[Example], documents: dict[str, Document],
                passages: Sequence[Passage], tokenizer: Any, queries: Sequence[str],
                negatives: int = 1, seed: int = 13, progress: bool = True,
                pools: Sequence[Sequence[Hit]] | None = None, pool_negatives: int = 0,
                pool_depth: int = 5, question_tokens: int = MAX_QUESTION_TOKENS,
                shuffle: float = 0.0, blanked: float = 0.0) -> list[QAFeature]:
    """Positive and negative features for ``examples`` (``queries`` aligned): ``negatives``
    same-document passages and ``pool_negatives`` passages from the top ``pool_depth`` of
    ``pools`` (aligned with ``examples``), all without the answer. With ``shuffle`` > 0 that
    share of the passages, positive and negative alike, is read with its sentences in a
    random order (:func:`shuffled_window`). With ``blanked`` > 0 that share of the turns also
    reads their gold passage with the answer cut out (:func:`without_answer`), labelled "no
    answer": the passage stays on topic but no longer says what was asked."""
    from tqdm.auto import tqdm

    by_doc = by_document(passages)
    rng = random.Random(seed)
    feats: list[QAFeature] = []
    if pools is None:
        pools = [[] for _ in examples]
    for ex, query, pool in tqdm(list(zip(examples, queries, pools, strict=True)),
                                desc="tokenise", disable=not progress):
        q = truncate_question(tokenizer, query, question_tokens)
        golds = {d for d, _ in ex.gold_span_ids}
        ranked = []
        for d in sorted(golds):
            for p in by_doc.get(d, []):
                r = answer_range(ex, p, documents)
                if r is not None:
                    ranked.append((r[1] - r[0], p, r))
        if not ranked:
            continue
        _, p, (a, b) = max(ranked, key=lambda x: x[0])
        if shuffle and rng.random() < shuffle:
            ctx, moved = shuffled_window(p, documents, (a, b), rng)
        else:
            ctx, base = passage_window(p, documents)
            moved = (a - base, b - base)
        f = encode_pair(tokenizer, q, ctx, moved)
        if f is not None:
            feats.append(f)
        if blanked and rng.random() < blanked:
            rest = without_answer(*passage_window(p, documents), (a, b))
            if rest is not None:
                feats.append(encode_pair(tokenizer, q, rest, None))  # type: ignore[arg-type]
        others = [o for d in sorted(golds) for o in by_doc.get(d, [])
                  if answer_range(ex, o, documents) is None]
        chosen = rng.sample(others, min(negatives, len(others)))
        picked = {o.pid for o in chosen} | {p.pid}
        hard = [h.passage for h in pool[:pool_depth] if h.passage.pid not in picked
                and answer_range(ex, h.passage, documents) is None]
        chosen += rng.sample(hard, min(pool_negatives, len(hard)))
        for o in chosen:
            if shuffle and rng.random() < shuffle:
                ctx, _ = shuffled_window(o, documents, None, rng)
            else:
                ctx, _ = passage_window(o, documents)
            feats.append(encode_pair(tokenizer, q, ctx, None))  # type: ignore[arg-type]
    return feats


def without_answer(context: str, base: int, answer: tuple[int, int],
                   min_words: int = 8) -> str | None:
    """``context`` (a passage window starting at document offset ``base``) with the document
    range ``answer`` cut out, or None when fewer than ``min_words`` words would be left.

    >>> without_answer("Fees. A day pass costs 8 dollars. Members ride free for an hour "
    ...                "on every trip they take.", 100, (106, 133))
    'Fees. Members ride free for an hour on every trip they take.'
    >>> without_answer("Fees. A day pass costs 8 dollars.", 0, (6, 33)) is None
    True
    """
    a, b = max(0, answer[0] - base), max(0, answer[1] - base)
    rest = (context[:a].rstrip() + " " + context[b:].lstrip()).strip()
    return rest if len(rest.split()) >= min_words else None


def current_document(ex: Example, default: str) -> str:
    """The document a turn is about: that of the latest agent reply with references in its
    history, else ``default`` (the dialogue's first document)."""
    from re3g.data.dialdoc import last_grounded

    turn = last_grounded(ex.history)
    return turn.references[0].doc_id if turn is not None else default


def unanswerable_features(examples: Sequence[Example], dialogue_docs: dict[str, str],
                          passages: Sequence[Passage], documents: dict[str, Document],
                          tokenizer: Any, queries: Sequence[str], per_turn: int = 1,
                          question_tokens: int = MAX_QUESTION_TOKENS) -> list[QAFeature]:
    """"No answer" features for on-topic turns the documents do not answer: each turn's
    ``per_turn`` passages of the document it is about (:func:`current_document`) that share the
    most content stems with the user's last turn, the ones a reader is most tempted to quote."""
    by_doc = by_document(passages)
    feats: list[QAFeature] = []
    for ex, query in zip(examples, queries, strict=True):
        q = truncate_question(tokenizer, query, question_tokens)
        for p in tempting_passages(ex, dialogue_docs, by_doc, per_turn):
            ctx, _ = passage_window(p, documents)
            feats.append(encode_pair(tokenizer, q, ctx, None))  # type: ignore[arg-type]
    return feats


def tempting_passages(ex: Example, dialogue_docs: dict[str, str],
                      by_doc: dict[str, list[Passage]], n: int) -> list[Passage]:
    """The ``n`` passages of the document an unanswerable turn is about
    (:func:`current_document`; ``dialogue_docs`` maps a dialogue id to its document) that
    share the most content stems with the user's last turn: where a reader or judge is most
    tempted to find an answer that is not there."""
    from re3g.data.words import stem_overlap

    doc = current_document(ex, dialogue_docs.get(ex.dial_id, ""))
    asked = ex.history[-1].utterance or ""
    return sorted(by_doc.get(doc, []), key=lambda p: -stem_overlap(asked, p.text))[:n]


def written_features(sets: Sequence[tuple[Path, Path]], tokenizer: Any, roles: str,
                     question_tokens: int, negatives: int = 1, nulls: int = 1, seed: int = 13,
                     progress: bool = True, limit: int | None = None, blanked: float = 0.0
                     ) -> tuple[list[QAFeature], dict[str, int]]:
    """Features from hand-written conversation sets over other documents (``(documents
    folder, dialogue file)`` pairs, e.g. ``data/train``): :func:`qa_features` for the answerable
    turns and, with ``nulls`` > 0, :func:`unanswerable_features` for the others (at most
    ``limit`` turns of each kind per set; ``blanked``: the share of answerable turns also read
    without their answer, :func:`qa_features`). Returns the features and the turns counted
    (``answerable``, ``unanswerable``)."""
    from re3g.data.passages import split_corpus
    from re3g.data.query import build_query
    from re3g.train.common import load_written

    feats: list[QAFeature] = []
    counts = {"answerable": 0, "unanswerable": 0}
    for docs_dir, dialogue_file in sets:
        docs, dialogues, examples = load_written(docs_dir, dialogue_file)
        passages = split_corpus(docs.values())
        answerable = [e for e in examples if e.answerable][:limit]
        feats += qa_features(answerable, docs, passages, tokenizer,
                             [build_query(e.history, roles=roles) for e in answerable],
                             negatives=negatives, seed=seed, progress=progress,
                             question_tokens=question_tokens, blanked=blanked)
        counts["answerable"] += len(answerable)
        if nulls > 0:
            others = [e for e in examples if not e.answerable][:limit]
            feats += unanswerable_features(
                others, {d.dial_id: d.doc_id for d in dialogues}, passages, docs, tokenizer,
                [build_query(e.history, roles=roles) for e in others], nulls, question_tokens)
            counts["unanswerable"] += len(others)
    return feats, counts


def collate(feats: Sequence[QAFeature], pad_id: int) -> dict[str, Any]:
    """A padded batch of features with their answer positions."""
    import torch

    from re3g.train.common import pad_batch

    batch = pad_batch([f.input_ids for f in feats], pad_id)
    batch["start_positions"] = torch.tensor([f.start for f in feats])
    batch["end_positions"] = torch.tensor([f.end for f in feats])
    return batch


def train_qa(model: Any, feats: Sequence[QAFeature], pad_id: int, cfg: TrainConfig,
             checkpoint: Path, fingerprint: str, progress: bool = True) -> dict[str, Any]:
    """Fine-tune ``model`` on ``feats`` (cross-entropy on start and end positions); resumable
    (:func:`re3g.train.common.train_model`)."""
    if not feats:
        raise ValueError("no training features")
    dev = next(model.parameters()).device

    def loss_of(idx: list[int]) -> Any:
        batch = collate([feats[i] for i in idx], pad_id)
        return model(**{k: v.to(dev) for k, v in batch.items()}).loss

    return train_model(model, [len(f.input_ids) for f in feats], loss_of, cfg, checkpoint,
                       fingerprint, progress=progress)


def reranked_pools(args: Any, examples: Sequence[Example], queries: Sequence[str],
                   index: Path | None) -> list[list[Hit]]:
    """Each example's candidates as the pipeline ranks them
    (:func:`re3g.evaluate.grounding.pipeline_runs`); empty pools without an index or reranker
    (quick profile)."""
    from re3g.evaluate.grounding import pipeline_runs
    from re3g.rank import Reranker
    from re3g.retrieve import open_index

    if index is None or not Path(args.reranker).exists():
        return [[] for _ in examples]
    retriever = open_index(index, mode="hybrid")
    rr = Reranker.load(args.reranker)
    rr.prime_from_index(index, retriever.passages)
    return pipeline_runs(retriever, rr, examples, queries, args.candidates, progress=True)


QA_PROFILES: dict[str, dict[str, Any]] = {
    "quick": {"epochs": 1.0, "batch_size": 4, "lr": 5e-5, "max_steps": 2},
    "full": {"epochs": 2.0, "batch_size": 16, "lr": 8e-5},
}
QUICK_EXAMPLES = 8
def share_option(args: Any, name: str) -> float:
    """The option ``name`` of ``args`` (absent or None: 0) checked to be a share in [0, 1].

    >>> import argparse
    >>> share_option(argparse.Namespace(shuffle_sentences=0.5), "shuffle_sentences")
    0.5
    >>> share_option(argparse.Namespace(), "blanked_nulls")
    0.0
    """
    from re3g.errors import DataError

    value = float(getattr(args, name, 0.0) or 0.0)
    if not 0.0 <= value <= 1.0:
        flag = "--" + name.replace("_", "-")
        raise DataError(f"{flag} must be a share between 0 and 1, got {value}")
    return value


def run_qa(args: Any) -> int:
    """``re3g train extractor`` (the default ``--arch qa``): fine-tune a start/end reader from
    the packaged all-MiniLM-L6-v2, save it to ``--out`` with its manifest, then choose the
    selection settings and report grounding F1/EM on the validation split
    (:mod:`re3g.train.qa_eval`)."""
    import json

    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from re3g.data import build_query, load_documents, load_examples
    from re3g.data.passages import split_corpus
    from re3g.errors import DataError
    from re3g.models import BASE_MODEL, base_model_path, device, read_model_manifest
    from re3g.train import common

    t_start = time.time()
    quick = args.profile == "quick"
    docs, train, val = common.load_training_data(args, QUICK_EXAMPLES)
    held_out = 0
    if getattr(args, "hold_out_dev", False):
        # drawn from every train turn, as select_reader draws them: a cut split (quick profile,
        # --max-examples) reads them all again
        whole = args.profile != "quick" and not args.max_examples
        dev = common.dev_dialogue_ids(
            train if whole else load_examples(args.train, load_documents(args.docs)))
        held_out = len({e.dial_id for e in train if e.dial_id in dev})
        train = [e for e in train if e.dial_id not in dev]
    doc2dial_turns = getattr(args, "doc2dial_turns", None)
    repeat = int(getattr(args, "written_repeat", 1))
    nulls = int(getattr(args, "unanswerable_nulls", 1))
    blanked = share_option(args, "blanked_nulls")
    if (doc2dial_turns is not None and doc2dial_turns < 1) or repeat < 1 or nulls < 0:
        raise DataError("--doc2dial-turns and --written-repeat take a count of at least 1, "
                        f"--unanswerable-nulls one of at least 0 (got {doc2dial_turns}, "
                        f"{repeat}, {nulls})")
    if doc2dial_turns:
        train = sorted(random.Random(args.seed).sample(train, min(doc2dial_turns, len(train))),
                       key=lambda e: e.id)
    written = common.training_sets(getattr(args, "written", None))
    if blanked and not written:
        raise DataError("--blanked-nulls reads the written sets' answerable turns: give "
                        "--written DOCS DIALOGUES too (e.g. data/train/documents "
                        "data/train/dialogues.json)")
    shuffle = share_option(args, "shuffle_sentences")
    roles = getattr(args, "query_roles", None) or "user"
    q_tokens = getattr(args, "question_tokens", None) or MAX_QUESTION_TOKENS
    init = getattr(args, "init", None)
    average = [Path(a) for a in getattr(args, "average", None) or []]
    if average:
        if init or getattr(args, "eval_only", False):
            raise DataError("--average makes a reader from trained ones: it cannot be combined "
                            "with --init or --eval-only")
        from re3g.train.average import source_manifests

        sources = source_manifests(average)
        shared = sources[-1]["settings"]
        roles, q_tokens = shared.get("query_roles", "user"), shared["max_question_tokens"]
    start: dict[str, Any] = {}
    if init and not getattr(args, "eval_only", False):
        start = read_model_manifest(Path(init), "extractor", QA_TRAIN_CMD)
        if start.get("architecture") != "qa":
            raise DataError(f"--init {init}: a {start.get('architecture', 'tower')!r} "
                            f"extractor, not a start/end reader; give a folder made by "
                            f"`{QA_TRAIN_CMD}`")
    command = ("re3g train extractor --arch qa --profile " + args.profile
               + (f" --epochs {args.epochs:g}" if args.epochs is not None else "")
               + (f" --pool-negatives {args.pool_negatives}"
                  if getattr(args, "pool_negatives", 0) else "")
               + (f" --lr {args.lr:g}" if getattr(args, "lr", None) is not None else "")
               + (f" --seed {args.seed}"
                  if getattr(args, "seed", TrainConfig.seed) != TrainConfig.seed else "")
               + (f" --init {init}" if init else "")
               + "".join(f" --average {a}" if i == 0 else f" {a}" for i, a in enumerate(average))
               + (f" --query-roles {roles}" if roles != "user" else "")
               + (f" --question-tokens {q_tokens}" if q_tokens != MAX_QUESTION_TOKENS else "")
               + (f" --shuffle-sentences {shuffle:g}" if shuffle else "")
               + (" --hold-out-dev" if getattr(args, "hold_out_dev", False) else "")
               + (f" --doc2dial-turns {doc2dial_turns}" if doc2dial_turns else "")
               + "".join(f" --written {d} {f}" for d, f in written)
               + (f" --written-repeat {repeat}" if written and repeat != 1 else "")
               + (f" --unanswerable-nulls {nulls}" if written and nulls != 1 else "")
               + (f" --blanked-nulls {blanked:g}" if written and blanked else "")
               + ("" if quick else f" --out {args.out}"))
    if getattr(args, "eval_only", False):
        manifest = read_model_manifest(Path(args.out), "extractor", command)
        stats = manifest.get("training", {})
    elif average:
        from re3g.train.average import save_mean

        manifest, stats = save_mean(average, sources, args, command)
    else:
        cfg = common.config_from_args(args, QA_PROFILES)
        common.set_seed(cfg.seed)
        passages = split_corpus(docs.values())
        tok = AutoTokenizer.from_pretrained(base_model_path())
        pool_negatives = int(getattr(args, "pool_negatives", 0) or 0)
        pools = (reranked_pools(args, train, [build_query(ex.history, roles="user")
                                              for ex in train], None if quick else args.index)
                 if pool_negatives > 0 else None)
        queries = [build_query(ex.history, roles=roles) for ex in train]
        feats = qa_features(train, docs, passages, tok, queries, negatives=args.negatives,
                            seed=cfg.seed, progress=not args.no_progress, pools=pools,
                            pool_negatives=pool_negatives, question_tokens=q_tokens,
                            shuffle=shuffle)
        written_turns: dict[str, int] = {}
        if written:
            extra, written_turns = written_features(written, tok, roles, q_tokens,
                                                    negatives=args.negatives, nulls=nulls,
                                                    seed=cfg.seed, progress=not args.no_progress,
                                                    limit=QUICK_EXAMPLES if quick else None,
                                                    blanked=blanked)
            feats += extra * repeat
        if not feats:
            raise DataError(f"{args.train}: no training example has a reference span")
        settings = {"base_model": BASE_MODEL, "profile": args.profile, **vars(cfg),
                    "negatives": args.negatives, "pool_negatives": pool_negatives,
                    "n_features": len(feats),
                    "init": str(init) if init else BASE_MODEL,
                    "query_roles": roles, "max_length": MAX_LENGTH,
                    "max_question_tokens": q_tokens, "shuffle_sentences": shuffle,
                    "held_out_dev_dialogues": held_out}
        if doc2dial_turns:
            settings["doc2dial_turns"] = len(train)
        if written:
            settings.update({"written": [[str(d), str(f)] for d, f in written],
                             "written_repeat": repeat, "unanswerable_nulls": nulls,
                             "written_turns": written_turns})
            if blanked:  # only when set: older commands keep their settings fingerprint
                settings["blanked_nulls"] = blanked
        fp = common.settings_fingerprint(settings)
        ck = common.checkpoint_path(args)
        if args.restart and ck.exists():
            ck.unlink()
        model = AutoModelForQuestionAnswering.from_pretrained(
            str(init) if init else base_model_path()).float().to(device())
        print(f"training the start/end extractor on {len(feats)} pairs ({device()}), "
              f"checkpoint {ck}")
        stats = train_qa(model, feats, tok.pad_token_id, cfg, ck, fp,
                         progress=not args.no_progress)
        stats["device"] = device()
        manifest = common.model_manifest(
            "extractor", "qa",
            "start/end extractive reader (AutoModelForQuestionAnswering) over the top reranked "
            "passages; ranges snapped to document spans", command, args, settings, stats)
        manifest["data"] += common.data_files([f for _, f in written])
        if start:
            manifest["init_model"] = lineage(Path(init), start)
        common.save_model_folder(model, tok, Path(args.out), manifest)
        if ck.exists():
            ck.unlink()
    from re3g.train.qa_eval import evaluate_and_select  # imported late: see its docstring

    metrics, chosen = evaluate_and_select(Path(args.out), val, docs,
                                          None if quick else args.index,
                                          None if quick else args.reranker, args.candidates)
    manifest["settings"].update(chosen)
    from re3g.train.sureness import stale_sureness

    stale_sureness(manifest)  # --eval-only on a reader that has one: its scale changed
    manifest["metrics"] = metrics
    took = round(time.time() - t_start, 1)
    key = "eval_only_seconds" if getattr(args, "eval_only", False) else "wall_seconds"
    manifest["training"] = {**stats, key: took}
    from re3g.evaluate.report import write_atomic
    from re3g.models import MANIFEST

    write_atomic(Path(args.out) / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({"out": str(args.out), "metrics": metrics, "settings": chosen,
                      "training": manifest["training"]}, indent=2))
    return 0
