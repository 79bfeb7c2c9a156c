"""Fine-tune a seq2seq generator (BART/T5) on doc2dial agent replies.

Inputs are built exactly as :class:`re3g.generate.Seq2SeqGenerator` builds them at run time
(question + grounding spans [+ passage]), from the gold grounding spans; targets are the real
agent replies (turns whose reply is missing are skipped). Checkpoints are written atomically
beside the output folder and training resumes from them; the final folder holds the weights,
the tokenizer and ``manifest.json`` (base model, data files with sha256, settings, metrics).

    re3g train generator --base facebook/bart-base --output models/generator --profile quick
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from re3g.errors import DataError, ModelError
from re3g.types import Document, Evidence, Example, Hit

DATA_DIR = Path("../shared/data/doc2dial")
PROFILES: dict[str, dict[str, Any]] = {
    "quick": {"epochs": 1, "max_steps": 300, "batch_size": 8, "lr": 5e-5, "eval_limit": 100,
              "save_every": 100},
    "full": {"epochs": 5, "max_steps": 0, "batch_size": 8, "lr": 3e-5, "eval_limit": 0,
             "save_every": 500},
}
STATE_FILE = "training_state.pt"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``re3g train generator``."""
    parser.add_argument("--base", default="facebook/bart-base",
                        help="seq2seq model to start from: a folder or a hub id")
    parser.add_argument("--output", default="models/generator", help="folder for the result")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick",
                        help="quick: 300 steps, eval on 100 turns; full: 5 epochs, full eval")
    parser.add_argument("--docs", default=str(DATA_DIR / "doc2dial_doc.json"))
    parser.add_argument("--train", default=str(DATA_DIR / "doc2dial_dial_train.json"))
    parser.add_argument("--validation", default=str(DATA_DIR / "doc2dial_dial_validation.json"))
    parser.add_argument("--with-passage", action="store_true",
                        help="add the passage holding the gold span to the input")
    parser.add_argument("--epochs", type=int, help="override the profile")
    parser.add_argument("--max-steps", type=int, help="override the profile (0: no cap)")
    parser.add_argument("--batch-size", type=int, help="override the profile")
    parser.add_argument("--lr", type=float, help="override the profile")
    parser.add_argument("--eval-limit", type=int,
                        help="validation turns to evaluate (0: all; overrides the profile)")
    parser.add_argument("--save-every", type=int, help="checkpoint every N steps")
    parser.add_argument("--max-input-tokens", type=int, default=512)
    parser.add_argument("--max-target-tokens", type=int, default=128)
    parser.add_argument("--num-beams", type=int, default=4, help="beams for the evaluation")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")
    parser.add_argument("--no-resume", action="store_true",
                        help="ignore an existing checkpoint and start over")
    parser.add_argument("--local-files-only", action="store_true",
                        help="never contact a model hub for --base")


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The effective settings: the profile, overridden by explicit options."""
    s = dict(PROFILES[args.profile])
    for key in s:
        val = getattr(args, key, None)
        if val is not None:
            s[key] = val
    s.update(profile=args.profile, with_passage=bool(args.with_passage), seed=args.seed,
             max_input_tokens=args.max_input_tokens, max_target_tokens=args.max_target_tokens,
             num_beams=args.num_beams)
    if s["batch_size"] < 1 or s["epochs"] < 1 or s["lr"] <= 0 or s["save_every"] < 1:
        raise ModelError("batch size, epochs and save-every must be >= 1 and lr > 0")
    return s


def sha256(path: str | Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def gold_inputs(example: Example, docs: dict[str, Document], with_passage: bool = False,
                passages: dict[str, list[Any]] | None = None) -> str:
    """The generator input of one example built from its gold grounding spans."""
    from re3g.data import split_document
    from re3g.generate.base import seq2seq_input

    evidence = []
    for ref in example.references:
        doc = docs[ref.doc_id]
        span = doc.span(ref.span_id)
        evidence.append(Evidence(doc.doc_id, doc.title, span.text, span.start, span.end,
                                 [span.id]))
    hits: list[Hit] = []
    if with_passage and evidence:
        first = evidence[0]
        cache = passages if passages is not None else {}
        if first.doc_id not in cache:
            cache[first.doc_id] = split_document(docs[first.doc_id])
        for p in cache[first.doc_id]:
            if p.start <= first.start < p.end:
                hits.append(Hit(p, 1.0, 1, "gold"))
                break
    return seq2seq_input(example.history, evidence, hits, max_passages=1)


def load_pairs(dialogues: str, docs: dict[str, Document], with_passage: bool
               ) -> list[tuple[str, str, str]]:
    """``(example id, input, target)`` for every example that has a real reply."""
    from re3g.data import load_examples

    cache: dict[str, list[Any]] = {}
    pairs = [(e.id, gold_inputs(e, docs, with_passage, cache), e.response.strip())
             for e in load_examples(dialogues, docs) if e.response and e.response.strip()]
    if not pairs:
        raise DataError(f"{dialogues}: no agent turn with a reply to train or evaluate on")
    return pairs


def _swap_in(tmp: Path, final: Path) -> None:
    """Move folder ``tmp`` to ``final``, replacing an old one with two renames."""
    old = None
    if final.exists():
        old = final.with_name(f"{final.name}.old-{os.getpid()}")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _save_folder(final: Path, model: Any, tokenizer: Any, extra: dict[str, Any]) -> None:
    """Write model + tokenizer (+ extra files) to a temp folder beside ``final``, then swap."""
    import torch

    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        for name, obj in extra.items():
            if name.endswith(".json"):
                (tmp / name).write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
            else:
                torch.save(obj, tmp / name)
        _swap_in(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _batches(tokenizer: Any, pairs: list[tuple[str, str, str]], s: dict[str, Any],
             max_input: int) -> tuple[list[list[int]], list[list[int]]]:
    inputs = tokenizer([p[1] for p in pairs], truncation=True, max_length=max_input)["input_ids"]
    targets = tokenizer(text_target=[p[2] for p in pairs], truncation=True,
                        max_length=s["max_target_tokens"])["input_ids"]
    return inputs, targets


def _collate(ids: list[list[int]], labels: list[list[int]], pad: int, device: str) -> dict:
    import torch

    width = max(len(x) for x in ids)
    lwidth = max(len(y) for y in labels)
    input_ids = torch.tensor([x + [pad] * (width - len(x)) for x in ids], device=device)
    mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids], device=device)
    lab = torch.tensor([y + [-100] * (lwidth - len(y)) for y in labels], device=device)
    return {"input_ids": input_ids, "attention_mask": mask, "labels": lab}


def train(args: argparse.Namespace, log: Any = print) -> dict[str, Any]:
    """Train, evaluate and write the model; return the manifest."""
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForSeq2SeqLM, get_linear_schedule_with_warmup

    from re3g.data import load_documents
    from re3g.evaluate.metrics import response_metrics
    from re3g.generate.seq2seq import Seq2SeqGenerator, load_seq2seq, max_input_tokens, pick_device

    s = settings_from_args(args)
    random.seed(s["seed"])
    torch.manual_seed(s["seed"])
    output = Path(args.output)
    ckpt = output.with_name(output.name + ".checkpoint")
    docs = load_documents(args.docs)
    train_pairs = load_pairs(args.train, docs, s["with_passage"])
    val_pairs = load_pairs(args.validation, docs, s["with_passage"])
    tokenizer, model = load_seq2seq(args.base, local_files_only=args.local_files_only)
    device = pick_device(args.device)
    max_input = max_input_tokens(tokenizer, model, s["max_input_tokens"])
    if tokenizer.pad_token_id is None:
        raise ModelError(f"the tokenizer of {args.base!r} has no padding token")
    inputs, targets = _batches(tokenizer, train_pairs, s, max_input)

    per_epoch = math.ceil(len(train_pairs) / s["batch_size"])
    total = per_epoch * s["epochs"]
    if s["max_steps"]:
        total = min(total, s["max_steps"])
    state: dict[str, Any] = {}
    if ckpt.is_dir() and not args.no_resume:
        try:
            state = torch.load(ckpt / STATE_FILE, weights_only=False)
        except (OSError, RuntimeError) as exc:
            raise ModelError(f"checkpoint {ckpt} is unreadable ({exc}); pass --no-resume") from exc
        if state.get("settings") != s or state.get("base") != args.base:
            raise ModelError(f"checkpoint {ckpt} was made with other settings or base model; "
                             "pass --no-resume to start over")
        model = AutoModelForSeq2SeqLM.from_pretrained(ckpt)
        log(f"resuming from {ckpt} at step {state['step']}/{total}")
    model.to(device)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=s["lr"], weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, max(1, total // 20), total)
    step = 0
    if state:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        step = state["step"]

    started = time.time()
    losses: list[float] = list(state.get("losses", []))
    bar = tqdm(total=total, initial=step, desc="train generator", unit="step")
    while step < total:
        epoch, index = divmod(step, per_epoch)
        order = list(range(len(train_pairs)))
        random.Random(s["seed"] + epoch).shuffle(order)
        chosen = order[index * s["batch_size"]:(index + 1) * s["batch_size"]]
        batch = _collate([inputs[i] for i in chosen], [targets[i] for i in chosen],
                         tokenizer.pad_token_id, device)
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        losses.append(float(loss.detach()))
        bar.update(1)
        bar.set_postfix(loss=f"{losses[-1]:.3f}", epoch=epoch + 1)
        if step % s["save_every"] == 0 and step < total:
            _save_folder(ckpt, model, tokenizer, {STATE_FILE: {
                "step": step, "settings": s, "base": args.base, "losses": losses,
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "rng": torch.get_rng_state()}})
    bar.close()
    train_seconds = time.time() - started

    model.eval()
    limit = s["eval_limit"] or len(val_pairs)
    val = val_pairs[:limit]
    gen = Seq2SeqGenerator.from_model(model, tokenizer, device=device, num_beams=s["num_beams"],
                                      max_input_tokens=max_input,
                                      max_new_tokens=s["max_target_tokens"])
    preds: list[str] = []
    for i in tqdm(range(0, len(val), 8), desc="evaluate generator", unit="batch"):
        preds.extend(gen.generate_texts([p[1] for p in val[i:i + 8]], batch_size=8))
    metrics = response_metrics(preds, [p[2] for p in val])
    import transformers

    manifest = {
        "kind": "re3g-generator",
        "base_model": args.base,
        "model_type": getattr(model.config, "model_type", ""),
        "data": {name: {"path": str(Path(p).resolve()), "sha256": sha256(p)}
                 for name, p in (("documents", args.docs), ("train", args.train),
                                 ("validation", args.validation))},
        "settings": s,
        "input": "question + gold grounding spans" + (" + gold passage" if s["with_passage"]
                                                      else ""),
        "train_examples": len(train_pairs),
        "steps": total,
        "final_loss": sum(losses[-20:]) / max(1, len(losses[-20:])),
        "train_seconds": round(train_seconds, 1),
        "device": device,
        "eval": {"split": "validation", "examples": len(val),
                 "input": "gold grounding spans", "metrics": metrics},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    _save_folder(output, model, tokenizer, {"manifest.json": manifest})
    shutil.rmtree(ckpt, ignore_errors=True)
    return manifest


def run(args: argparse.Namespace) -> int:
    """Entry point of ``re3g train generator``."""
    manifest = train(args)
    m = manifest["eval"]["metrics"]
    print(f"wrote {args.output} ({manifest['steps']} steps); validation "
          f"({manifest['eval']['examples']} turns, gold spans): F1 {m['F1']:.1f} "
          f"SacreBLEU {m['SacreBLEU']:.1f} ROUGE-L {m['ROUGE-L']:.1f}")
    return 0
