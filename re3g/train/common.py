"""Shared trainer utilities: seeding, devices, data hashes, atomic checkpoints and model folders.

The reranker and the span extractor are both *query towers*: a copy of the packaged
all-MiniLM-L6-v2 encoder fine-tuned so that its (mean-pooled, L2-normalised) embedding of the
dialogue query lands next to the frozen base-model embedding of the right passage (reranker) or of
the right doc2dial span (extractor). Training therefore only back-propagates through short query
inputs, against a fixed matrix of target vectors: a softmax over every passage / span of the corpus,
which puts the same-document hard negatives in every step for free. See docs/knowledge_selection.md
for why (CPU budget) and for the measurements.

    >>> from re3g.train.common import set_seed
    >>> set_seed(13)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from re3g.models import (
    BASE_MODEL,
    MANIFEST,
    WEIGHTS,
    Encoder,
    base_model_path,
    mean_pool,
    models_dir,
)

DATA_DIR = Path("../shared/data/doc2dial")
DEV_SET = (Path("data/dev/documents"), Path("data/dev/dialogues.json"))
"""The hand-written development set over documents outside doc2dial (``data/README.md``):
settings and the learned decision are chosen on it beside doc2dial train; the behaviour-test
suite in ``data/suite`` is never used for choosing."""
CHOOSE_SETS = [(f"data/{n}/documents", f"data/{n}/dialogues.json")
               for n in ("dev", "dev2", "dev3", "dev4", "dev5", "dev8")]
"""The written development sets settings for other documents are chosen on (``data/dev8``,
written in ``data/dev6``'s users' styles, joined them in session 35)."""
CHOOSE_NAMES = ", ".join(f"data/{Path(d).parent.name}" for d, _ in CHOOSE_SETS)
"""The choose sets' folders, for help texts."""
HELD_OUT_SETS = {"suite": ("data/suite/documents", "data/suite/dialogues.json"),
                 "sample": ("data/sample", "data/suite/sample_dialogues.json"),
                 "dev6": ("data/dev6/documents", "data/dev6/dialogues.json"),
                 "dev7": ("data/dev7/documents", "data/dev7/dialogues.json")}
"""Written sets that neither train nor choose anything (they check the result), by name:
(folder of documents, dialogues file)."""
FRESH_SETS = {"fresh1": ("data/fresh1/documents", "data/fresh1/dialogues.json"),
              "fresh2": ("data/fresh2/documents", "data/fresh2/dialogues.json"),
              "fresh3": ("data/fresh3/documents", "data/fresh3/dialogues.json"),
              "fresh4": ("data/fresh4/documents", "data/fresh4/dialogues.json"),
              "fresh5": ("data/fresh5/documents", "data/fresh5/dialogues.json"),
              "fresh6": ("data/fresh6/documents", "data/fresh6/dialogues.json"),
              "fresh7": ("data/fresh7/documents", "data/fresh7/dialogues.json"),
              "fresh8": ("data/fresh8/documents", "data/fresh8/dialogues.json"),
              "fresh9": ("data/fresh9/documents", "data/fresh9/dialogues.json"),
              "fresh10": ("data/fresh10/documents", "data/fresh10/dialogues.json"),
              "fresh11": ("data/fresh11/documents", "data/fresh11/dialogues.json"),
              "fresh12": ("data/fresh12/documents", "data/fresh12/dialogues.json"),
              "fresh13": ("data/fresh13/documents", "data/fresh13/dialogues.json"),
              "fresh14": ("data/fresh14/documents", "data/fresh14/dialogues.json"),
              "fresh15": ("data/fresh15/documents", "data/fresh15/dialogues.json"),
              "fresh16": ("data/fresh16/documents", "data/fresh16/dialogues.json"),
              "fresh17": ("data/fresh17/documents", "data/fresh17/dialogues.json"),
              "fresh18": ("data/fresh18/documents", "data/fresh18/dialogues.json"),
              "fresh19": ("data/fresh19/documents", "data/fresh19/dialogues.json"),
              "fresh20": ("data/fresh20/documents", "data/fresh20/dialogues.json"),
              "fresh21": ("data/fresh21/documents", "data/fresh21/dialogues.json"),
              "fresh22": ("data/fresh22/documents", "data/fresh22/dialogues.json"),
              "fresh23": ("data/fresh23/documents", "data/fresh23/dialogues.json"),
              "fresh24": ("data/fresh24/documents", "data/fresh24/dialogues.json"),
              "fresh25": ("data/fresh25/documents", "data/fresh25/dialogues.json"),
              "fresh26": ("data/fresh26/documents", "data/fresh26/dialogues.json"),
              "fresh27": ("data/fresh27/documents", "data/fresh27/dialogues.json"),
              "fresh28": ("data/fresh28/documents", "data/fresh28/dialogues.json"),
              "fresh29": ("data/fresh29/documents", "data/fresh29/dialogues.json"),
              "fresh30": ("data/fresh30/documents", "data/fresh30/dialogues.json"),
              "fresh31": ("data/fresh31/documents", "data/fresh31/dialogues.json")}
"""Written sets kept for a gate's independent check: they neither train nor choose.
``fresh1`` (written in session 42) has been read once, by session 43's gate
(``bench/results/gates-s43.md``); ``fresh2`` (written in session 43) by session 46's gate R2
(``bench/results/gates-s46.md``); ``fresh3`` (written in session 47) by session 47's gate P2
(``bench/results/gates-s47.md``); ``fresh4`` (written in session 48) by session 48's gate N
(``bench/results/gates-s48.md``); ``fresh5`` (written in session 48) by session 48's gate J;
``fresh6`` (written in session 48) by session 48's gate N'; ``fresh7`` (written in session 49)
by session 49's gate K (``bench/results/gates-s49.md``). ``fresh8`` (written in session 50) by
session 50's gate T (``bench/results/gates-s50.md``). ``fresh9`` (written in session 50) and
``fresh10`` (written in session 51) by session 51's gate U (``bench/results/gates-s51.md``).
``fresh11`` (written in session 51) by session 51's gate U2.
``fresh12`` (written in session 51) by session 52's gate S (``bench/results/gates-s52.md``).
``fresh13`` (written in session 52) by session 52's gates S2 and Th. ``fresh14`` (written in
session 52) by session 53's gate D (``bench/results/gates-s53.md``). ``fresh15`` (written in
session 53) by session 53's gate O; ``fresh16`` (written in session 53) by its gates O2 and N.
``fresh17`` (written in session 53) by its gate K. ``fresh18`` (written at the end of session 53)
by session 54's gate R (``bench/results/gates-s54.md``). ``fresh19`` (written in session 54)
by its gate W. ``fresh20`` (written in session 54) by its gate G (main's and G's runs only).
``fresh21`` (written in session 54) by its gate R2. ``fresh22`` (written in session 55) by its
gate T (``bench/results/gates-s55.md``), ``fresh23`` (written in session 55) by its gate T2,
``fresh24`` (written in session 55) by its gate R3, ``fresh25`` (written in session 55) by its
gate T3, ``fresh26`` (written in session 55) by its gate T4. ``fresh27`` (written in session 56)
by session 56's gate AH (``bench/results/gates-s56.md``); ``fresh28`` (written in session 56)
by session 57's gate DC (``bench/results/gates-s57.md``); ``fresh29`` (written in session 57)
by session 58's gate DH (``bench/results/gates-s58.md``); ``fresh30`` (written in session 58) and
``fresh31`` (written in session 59) are unread."""
UNREAD_FRESH = ("fresh30", "fresh31")
"""The fresh sets (:data:`FRESH_SETS`) no gate has read yet: the bench scripts that replay fresh
sets refuse them unless told to spend one (``--spend``), so a gate's independent check is not
read by accident. A gate that reads one moves it out of here."""
HELD_OUT = tuple(dict.fromkeys(str(Path(d).parent) if Path(d).name == "documents" else d
                               for d, _ in (*HELD_OUT_SETS.values(), *FRESH_SETS.values())))
"""The folders :data:`HELD_OUT_SETS` and :data:`FRESH_SETS` live in (nothing under them may
train or choose)."""


DEV_DIALOGUES = 80
"""How many train dialogues the dev part of train holds (:func:`dev_dialogue_ids`)."""
DEV_SEED = 7
"""The seed that draws them."""


def dev_dialogue_ids(examples: Sequence[Any], dialogues: int = DEV_DIALOGUES,
                     seed: int = DEV_SEED) -> set[str]:
    """The dialogue ids of the dev part carved from train: ``dialogues`` of the examples'
    dialogues, drawn with ``seed`` (the settings of the reader are chosen on them,
    :mod:`re3g.train.select_reader`; ``re3g train extractor --hold-out-dev`` leaves them out).

    >>> from types import SimpleNamespace as E
    >>> sorted(dev_dialogue_ids([E(dial_id=d) for d in "abcab"], dialogues=2, seed=7))
    ['a', 'c']
    """
    ids = sorted({e.dial_id for e in examples})
    random.Random(seed).shuffle(ids)
    return set(ids[:dialogues])


def add_written_arguments(parser: Any) -> None:
    """``--written DOCS DIALOGUES`` (repeatable) and ``--no-written``: the hand-written
    conversation sets a trainer learns or chooses from beside doc2dial (:func:`written_sets`)."""
    parser.add_argument("--written", nargs=2, action="append", metavar=("DOCS", "DIALOGUES"),
                        type=Path, help="a hand-written conversation set over other documents "
                        f"(default: {DEV_SET[0]} {DEV_SET[1]} when it is there; never the test "
                        "suite in data/suite)")
    parser.add_argument("--no-written", action="store_true", help="doc2dial turns only")


def written_sets(args: Any) -> list[tuple[Path, Path]]:
    """The sets :func:`add_written_arguments` asked for: those named (each must exist), else
    :data:`DEV_SET` when it is there, none with ``--no-written``."""
    from re3g.errors import DataError

    if args.no_written:
        return []
    if not args.written:
        return [DEV_SET] if DEV_SET[0].is_dir() and DEV_SET[1].is_file() else []
    sets = [(Path(d), Path(f)) for d, f in args.written]
    for d, f in sets:
        if not (d.is_dir() and f.is_file()):
            raise DataError(f"written set {d} / {f} not found (build the dialogues with `python "
                            "data/suite/build.py --conversations ...`, or pass --no-written)")
    return sets


def checked_sets(pairs: Sequence[Sequence[Path]] | None, default: Sequence[tuple[str, str]],
                 what: str) -> list[tuple[Path, Path]]:
    """Written sets (folder of documents, dialogues file) as given, else ``default``: each
    must exist and none may lie in a :data:`HELD_OUT` set (a DataError naming the path and
    ``what`` it must not do)."""
    from re3g.errors import DataError
    from re3g.models import project_root

    held = [(project_root() / h).resolve() for h in HELD_OUT]
    sets = [(Path(d), Path(g)) for d, g in (pairs or default)]
    for docs_dir, dialogues in sets:
        for where in (docs_dir.resolve(), dialogues.resolve()):
            if any(where == h or h in where.parents for h in held):
                raise DataError(f"{where}: a held-out set ({', '.join(HELD_OUT)}) must not "
                                f"{what}")
        if not (docs_dir.is_dir() and dialogues.is_file()):
            raise DataError(f"written set {docs_dir} / {dialogues} not found (a folder of "
                            f"documents and a dialogues file)")
    return sets


def training_sets(pairs: Sequence[Sequence[Any]] | None) -> list[tuple[Path, Path]]:
    """The ``--written DOCS DIALOGUES`` sets a model trains on (a reader, a sentence judge),
    checked: each must exist, and none may lie in a set settings are chosen on
    (:data:`CHOOSE_SETS`) or a held-out one (:data:`HELD_OUT`): a DataError naming it.

    >>> training_sets(None)
    []
    """
    from re3g.errors import DataError
    from re3g.models import project_root

    kept = [(project_root() / f).resolve()
            for f in (*HELD_OUT, *(str(Path(d).parent) for d, _ in CHOOSE_SETS))]
    sets = [(Path(d), Path(f)) for d, f in (pairs or [])]
    for d, f in sets:
        if not (d.is_dir() and f.is_file()):
            raise DataError(f"--written {d} {f}: not found (build the dialogues with `python "
                            "data/suite/build.py --conversations ...`)")
        if any(w == k or k in w.parents for w in (d.resolve(), f.resolve()) for k in kept):
            raise DataError(f"--written {d}: the sets settings are chosen on and the held-out "
                            "sets (re3g.train.common.CHOOSE_SETS, HELD_OUT) are not for "
                            "training a model; train on data/train")
    return sets


def replay_sets(sets: Sequence[tuple[Path, Path]],
                detail: Callable[[Any, Any], dict[str, Any]] | None = None,
                **config: Any) -> list[dict[str, Any]]:
    """Every written set replayed as the chat holds it (:func:`re3g.evaluate.replay.replay`,
    with its ``detail`` hook), the pipeline built with ``config`` over each set's documents
    (its index built once and cached): one record per user turn, with its set's folder under
    ``set``."""
    from re3g.config import PASSAGE_MAX_WORDS, Config
    from re3g.evaluate.replay import replay
    from re3g.evaluate.runner import ensure_index
    from re3g.pipeline import Re3G

    out: list[dict[str, Any]] = []
    for docs_dir, dialogues in sets:
        docs, _, examples = load_written(docs_dir, dialogues)
        index = ensure_index(docs, docs_dir, None, PASSAGE_MAX_WORDS)
        bot = Re3G(Config(index=str(index), docs=str(docs_dir), **config), documents=docs)
        out += [{**r, "set": str(docs_dir)} for r in replay(bot, examples, detail=detail)]
    return out


def load_written(docs_dir: Path, dialogues: Path) -> tuple[dict[str, Any], list[Any], list[Any]]:
    """A hand-written conversation set: its documents (a folder, :func:`re3g.data.corpus.
    load_corpus`), its dialogues and every example, the unanswerable turns included."""
    from re3g.data.corpus import load_corpus
    from re3g.data.dialdoc import examples_from_dialogues, load_dialogues

    docs = load_corpus(docs_dir)
    dials = load_dialogues(dialogues)
    return docs, dials, examples_from_dialogues(dials, docs, str(dialogues), unanswerable=True)


# ----------------------------------------------------------------------------- basics

def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % (2**32))
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    import torch

    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def data_files(paths: Sequence[str | Path]) -> list[dict[str, str]]:
    """Manifest entries ``{"path", "sha256"}`` for the training data files."""
    return [{"path": str(p), "sha256": sha256_file(p)} for p in paths]


# ----------------------------------------------------------------------------- checkpoints

def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then ``os.replace`` it into place."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_checkpoint(path: Path, fingerprint: str) -> dict[str, Any] | None:
    """The checkpoint at ``path`` if it exists and was made with the same settings, else None."""
    import torch

    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # noqa: BLE001 - a damaged checkpoint is ignored, training restarts
        return None
    if not isinstance(state, dict) or state.get("fingerprint") != fingerprint:
        return None
    return state


def settings_fingerprint(settings: dict[str, Any]) -> str:
    """A short hash of the settings that make a checkpoint resumable."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def _drop_base_tensors(weights: Path) -> int:
    """Rewrite ``weights`` without the tensors equal to the packaged base model's (at the
    stored precision); returns how many were dropped."""
    import torch
    from safetensors.torch import load_file, save_file

    stored = load_file(str(weights))
    base = load_file(str(Path(base_model_path()) / WEIGHTS))
    keep = {k: v for k, v in stored.items()
            if not (k in base and base[k].shape == v.shape
                    and torch.equal(base[k].to(v.dtype), v))}
    save_file(keep, str(weights), metadata={"format": "pt"})
    return len(stored) - len(keep)


def save_model_folder(model: Any, tokenizer: Any, out: Path, manifest: dict[str, Any],
                      fp16: bool = True, from_base: bool = False) -> Path:
    """Write weights (fp16 safetensors), tokenizer and ``manifest.json`` to ``out`` atomically.

    ``from_base`` (an encoder that trained only some layers): tensors still equal to the
    packaged base model's are not stored; :meth:`Encoder.load` takes them from the base model
    (the manifest's ``weights.tensors_from_base`` says how many).

    Everything goes to a temporary sibling folder first; the old folder (if any) is swapped out
    only once the new one is complete, so a crash never leaves a half-written model behind.
    """
    import copy

    import torch

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{int(time.time() * 1000)}"
    try:
        tmp.mkdir()
        m = copy.deepcopy(model).to("cpu")
        if fp16:
            m = m.to(torch.float16)
        m.save_pretrained(str(tmp), safe_serialization=True)
        if from_base:
            n = _drop_base_tensors(tmp / WEIGHTS)
            manifest = {**manifest, "weights": {
                "tensors_from_base": n,
                "note": f"only the tensors training changed are stored; the other {n} are "
                        f"the packaged {BASE_MODEL}'s (re3g.models.Encoder.load)"}}
        tokenizer.save_pretrained(str(tmp))
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        if out.exists():
            os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


# ----------------------------------------------------------------------------- the training loop

@dataclass
class TrainConfig:
    """Settings of one query-tower training run (all part of the checkpoint fingerprint)."""

    epochs: float = 2.0
    batch_size: int = 16
    lr: float = 5e-5
    warmup: float = 0.1
    scale: float = 20.0
    max_query_tokens: int = 64
    seed: int = 13
    max_steps: int | None = None
    train_layers: int = 0  # 0: the whole encoder; N: only the top N layers (bottom cached)


def _resume(checkpoint: Path, fingerprint: str, model: Any, opt: Any, sched: Any, total: int,
            log: Callable[[str], None]) -> tuple[int, list[float], float]:
    """Load a matching checkpoint into model/optimiser/scheduler: (step, losses, seconds)."""
    state = load_checkpoint(checkpoint, fingerprint)
    if state is None:
        return 0, [], 0.0
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    log(f"resuming from {checkpoint} at step {int(state['step'])}/{total}")
    return int(state["step"]), list(state.get("losses", [])), float(state.get("seconds", 0.0))


def _optimise(loss: Any, params: Any, opt: Any, sched: Any, losses: list[float], bar: Any
              ) -> None:
    """One optimiser step on ``loss`` (gradients clipped at 1.0), logged to ``losses``/``bar``."""
    import torch

    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    sched.step()
    losses.append(round(float(loss.detach()), 4))
    bar.update(1)
    bar.set_postfix(loss=f"{sum(losses[-20:]) / len(losses[-20:]):.3f}")


def _save(checkpoint: Path, fingerprint: str, step: int, model: Any, opt: Any, sched: Any,
          losses: list[float], seconds: float) -> None:
    atomic_torch_save({"fingerprint": fingerprint, "step": step, "model": model.state_dict(),
                       "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                       "losses": losses, "seconds": seconds}, checkpoint)


def train_query_tower(
    encoder: Encoder,
    queries: Sequence[str],
    positives: Sequence[Sequence[int]],
    targets: Any,
    cfg: TrainConfig,
    checkpoint: Path,
    fingerprint: str,
    save_every: int = 50,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fine-tune ``encoder`` so that softmax(scale * q . targets) puts its mass on ``positives``.

    ``targets`` is an (n_targets, dim) tensor of frozen, normalised vectors. Multi-positive
    cross-entropy: ``-log sum_{p in positives} softmax(...)_p``. Resumes from ``checkpoint`` when
    it exists and matches ``fingerprint``; saves it atomically every ``save_every`` steps.
    Returns ``{"steps", "final_loss", "seconds", "resumed_from"}``.
    """
    import torch
    from tqdm.auto import tqdm

    n = len(queries)
    if n == 0 or len(positives) != n:
        raise ValueError(f"need one positive list per query, got {n} queries / {len(positives)}")
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    total = math.ceil(cfg.epochs * steps_per_epoch)
    if cfg.max_steps:
        total = min(total, cfg.max_steps)
    if total <= 0:  # evaluation only (e.g. a warm start that is already good enough)
        return {"steps": 0, "final_loss": None, "first_loss": None, "seconds": 0.0,
                "resumed_from": None}
    model = encoder.model
    dev = next(model.parameters()).device
    targets = targets.to(dev)
    forward = _top_layers_forward(encoder, queries, cfg.train_layers, progress)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    warm = max(1, int(cfg.warmup * total))

    def lr_at(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total - step) / max(1, total - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    start, losses, elapsed = _resume(checkpoint, fingerprint, model, opt, sched, total, log)
    resumed_from = start or None

    def order(epoch: int) -> list[int]:
        idx = list(range(n))
        random.Random(cfg.seed * 1000 + epoch).shuffle(idx)
        return idx

    t0 = time.perf_counter()
    bar = tqdm(total=total, initial=start, desc="train", disable=not progress, unit="step")
    step = start
    torch.manual_seed(cfg.seed + start)
    while step < total:
        epoch, pos = divmod(step, steps_per_epoch)
        idx = order(epoch)[pos * cfg.batch_size:(pos + 1) * cfg.batch_size]
        q = forward(idx)
        logits = cfg.scale * q @ targets.T
        mask = torch.zeros_like(logits, dtype=torch.bool)
        for r, i in enumerate(idx):
            mask[r, list(positives[i])] = True
        loss = (torch.logsumexp(logits, -1)
                - torch.logsumexp(logits.masked_fill(~mask, -1e4), -1)).mean()
        step += 1
        _optimise(loss, params, opt, sched, losses, bar)
        if step % save_every == 0 and step < total:
            _save(checkpoint, fingerprint, step, model, opt, sched, losses,
                  elapsed + time.perf_counter() - t0)
    bar.close()
    model.eval()
    for p in model.parameters():
        p.requires_grad_(True)
    seconds = elapsed + time.perf_counter() - t0
    tail = losses[-20:] or [float("nan")]
    return {"steps": total, "final_loss": round(sum(tail) / len(tail), 4),
            "first_loss": losses[0] if losses else None, "seconds": round(seconds, 1),
            "resumed_from": resumed_from}


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int) -> dict[str, Any]:
    """``input_ids`` and ``attention_mask`` tensors for token id lists of different lengths."""
    import torch

    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for r, s in enumerate(sequences):
        ids[r, :len(s)] = torch.tensor(list(s))
        mask[r, :len(s)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def length_batches(lengths: Sequence[int], batch_size: int, seed: int) -> list[list[int]]:
    """Index batches for one epoch: shuffled, then grouped by length so padding stays small."""
    idx = list(range(len(lengths)))
    rng = random.Random(seed)
    rng.shuffle(idx)
    group = batch_size * 32
    out = []
    for g in range(0, len(idx), group):
        chunk = sorted(idx[g:g + group], key=lambda i: lengths[i])
        out += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(out)
    return out


def train_model(model: Any, lengths: Sequence[int], loss_of: Callable[[list[int]], Any],
                cfg: TrainConfig, checkpoint: Path, fingerprint: str, save_every: int = 50,
                progress: bool = True, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Fine-tune all of ``model`` on items ``0..len(lengths)-1`` with ``loss_of(batch indices)``.

    AdamW with linear warm-up and decay, gradient clipping, length-grouped batches. Resumes from
    ``checkpoint`` when it matches ``fingerprint``; saves it atomically every ``save_every``
    steps, so an interrupted run loses at most that much work.
    Returns ``{"steps", "first_loss", "final_loss", "seconds", "resumed_from"}``.
    """
    import torch
    from tqdm.auto import tqdm

    per_epoch = len(length_batches(lengths, cfg.batch_size, cfg.seed))
    total = math.ceil(cfg.epochs * per_epoch)
    if cfg.max_steps:
        total = min(total, cfg.max_steps)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    warm = max(1, int(cfg.warmup * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)))
    step, losses, elapsed = _resume(checkpoint, fingerprint, model, opt, sched, total, log)
    resumed_from = step or None
    t0 = time.perf_counter()
    bar = tqdm(total=total, initial=step, desc="train", disable=not progress, unit="step")
    torch.manual_seed(cfg.seed + step)
    while step < total:
        epoch, pos = divmod(step, per_epoch)
        loss = loss_of(length_batches(lengths, cfg.batch_size, cfg.seed * 1000 + epoch)[pos])
        step += 1
        _optimise(loss, model.parameters(), opt, sched, losses, bar)
        if step % save_every == 0 and step < total:
            _save(checkpoint, fingerprint, step, model, opt, sched, losses,
                  elapsed + time.perf_counter() - t0)
    bar.close()
    model.eval()
    tail = losses[-20:] or [float("nan")]
    return {"steps": total, "first_loss": losses[0] if losses else None,
            "final_loss": round(sum(tail) / len(tail), 4),
            "seconds": round(elapsed + time.perf_counter() - t0, 1), "resumed_from": resumed_from}


def _top_layers_forward(encoder: Encoder, queries: Sequence[str], train_layers: int,
                        progress: bool) -> Callable[[list[int]], Any]:
    """A function ``idx -> pooled query vectors`` for training.

    With ``train_layers`` N in 1..L-1 the embeddings and the bottom L-N layers are frozen and their
    outputs computed once for every query (no gradient ever flows there), so a step only runs and
    back-propagates through the top N layers: about 3x cheaper for N=2 of 6.
    """
    import torch

    model = encoder.model
    layers = model.encoder.layer
    n_layers = len(layers)
    if not 0 < train_layers < n_layers:
        return lambda idx: encoder.forward([queries[i] for i in idx])
    from tqdm.auto import tqdm
    from transformers.masking_utils import create_bidirectional_mask

    cut = n_layers - train_layers
    for p in model.parameters():
        p.requires_grad_(False)
    for layer in layers[cut:]:
        for p in layer.parameters():
            p.requires_grad_(True)
    states, masks = [], []
    model.eval()
    with torch.inference_mode():
        for i in tqdm(range(0, len(queries), 64), desc="cache bottom layers", disable=not progress):
            batch = encoder.tokenizer(list(queries[i:i + 64]), padding="max_length",
                                      truncation=True, max_length=encoder.max_length,
                                      return_tensors="pt")
            batch = {k: v.to(next(model.parameters()).device) for k, v in batch.items()}
            out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                        output_hidden_states=True)
            states.append(out.hidden_states[cut].clone())
            masks.append(batch["attention_mask"].clone())
    all_states, all_masks = torch.cat(states), torch.cat(masks)

    def forward(idx: list[int]) -> Any:
        m = all_masks[idx]
        width = int(m.sum(1).max())
        h, m = all_states[idx][:, :width], m[:, :width]
        ext = create_bidirectional_mask(config=model.config, inputs_embeds=h, attention_mask=m)
        for layer in layers[cut:]:
            h = layer(h, ext)
            if isinstance(h, tuple):
                h = h[0]
        return mean_pool(h, m)

    return forward


# training profiles shared by the two query towers (reranker, span scorer)
QUICK_TOWER: dict[str, Any] = {"epochs": 1.0, "batch_size": 4, "lr": 5e-5, "max_steps": 2,
                               "max_query_tokens": 64, "train_layers": 2}
FULL_TOWER: dict[str, Any] = {"batch_size": 32, "lr": 1e-4, "max_query_tokens": 64,
                              "train_layers": 2}


def start_run(args: Any, profiles: dict[str, dict[str, Any]], quick_examples: int
              ) -> tuple[float, TrainConfig, bool, dict[str, Any], list[Any], list[Any]]:
    """The start of a trainer's run: (start time, settings from the profile and arguments,
    whether it is the quick profile, documents, train examples, validation examples), seeded.
    """
    t_start = time.time()
    cfg = config_from_args(args, profiles)
    set_seed(cfg.seed)
    docs, train, val = load_training_data(args, quick_examples)
    return t_start, cfg, args.profile == "quick", docs, train, val


def model_manifest(kind: str, architecture: str, description: str, command: str, args: Any,
                   settings: dict[str, Any], training: dict[str, Any]) -> dict[str, Any]:
    """The manifest of a trained model folder: what it is, the command and data that made it,
    its settings and training statistics (metrics are added by validation)."""
    return {
        "kind": kind,
        "format": 2,
        "architecture": architecture,
        "description": description,
        "base_model": BASE_MODEL,
        "command": command,
        "data": data_files([args.docs, args.train, args.validation]),
        "settings": settings,
        "metrics": {},
        "training": training,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def add_common_arguments(parser: Any, kind: str) -> None:
    """Arguments shared by ``re3g train reranker`` and ``re3g train extractor``."""
    parser.add_argument("--profile", choices=["quick", "full"], default="full",
                        help="quick: a few examples, seconds (tests); full: the shipped weights")
    parser.add_argument("--docs", type=Path, default=DATA_DIR / "doc2dial_doc.json")
    parser.add_argument("--train", type=Path, default=DATA_DIR / "doc2dial_dial_train.json")
    parser.add_argument("--validation", type=Path,
                        default=DATA_DIR / "doc2dial_dial_validation.json")
    parser.add_argument("--out", type=Path, default=models_dir() / kind,
                        help=f"output folder (default: the project's models/{kind})")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="resumable checkpoint file (default: <out>.ckpt.pt beside --out)")
    parser.add_argument("--restart", action="store_true",
                        help="ignore an existing checkpoint and start from the base model")
    parser.add_argument("--epochs", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--max-examples", type=int, default=None,
                        help="use only the first N training examples")
    parser.add_argument("--max-eval", type=int, default=None,
                        help="evaluate on only the first N validation examples")
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument("--eval-only", action="store_true",
                        help="readers (--arch qa) and cross-encoders (--arch cross): do not "
                             "train; re-run the validation of the model in --out and rewrite "
                             "its manifest's metrics and chosen settings")
    parser.add_argument("--no-progress", action="store_true")


def load_training_data(args: Any, quick_examples: int = 8) -> tuple[dict[str, Any], list[Any],
                                                                    list[Any]]:
    """(documents, train examples, validation examples) for a trainer's arguments.

    ``--max-examples`` / ``--max-eval`` cut the splits; the quick profile keeps
    ``quick_examples`` of each and only the documents they use, so it runs in seconds.
    """
    from re3g.data import load_documents, load_examples

    quick = args.profile == "quick"
    docs = load_documents(args.docs)
    train = load_examples(args.train, docs)
    val = load_examples(args.validation, docs)
    n_train = args.max_examples or (quick_examples if quick else None)
    n_val = args.max_eval or (quick_examples if quick else None)
    train, val = train[:n_train] if n_train else train, val[:n_val] if n_val else val
    if quick:
        keep = {d for ex in train + val for d in ex.gold_doc_ids}
        docs = {k: v for k, v in docs.items() if k in keep}
    return docs, train, val


def config_from_args(args: Any, defaults: dict[str, dict[str, Any]]) -> TrainConfig:
    """A TrainConfig from the profile's defaults, overridden by explicit arguments."""
    d = dict(defaults[args.profile])
    for key in ("epochs", "batch_size", "lr", "max_steps"):
        val = getattr(args, key, None)
        if val is not None:
            d[key] = val
    d["seed"] = args.seed
    return TrainConfig(**d)


def checkpoint_path(args: Any) -> Path:
    if args.checkpoint:
        return Path(args.checkpoint)
    out = Path(args.out)
    return out.parent / f".{out.name}.ckpt.pt"
