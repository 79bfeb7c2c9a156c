"""Conversations as the chat holds them: the history holds the pipeline's own earlier replies,
not the written agent turns.

    .venv/bin/python bench/own_replies.py [--docs data/dev/documents]
        [--dialogues data/dev/dialogues.json] [--roles manifest|user] [--limit N]

``re3g evaluate`` reads each turn with the dialogue's written agent turns before it. In the chat
the agent turns are the bot's own replies, which quote the passage they came from, and a turn the
bot refused is not kept (``app/session.py``). This replays every dialogue that way, turn by turn,
and reports the share of answerable turns answered right (top evidence on a reference span),
after a change of document and overall, and the share of unanswerable turns refused.

``--roles user`` runs the cross-encoder and the reader with ``query_roles = "user"`` (copies of
their folders whose manifests say so; same weights): they then read the user's turns only, so the
bot's own earlier replies cannot pull them back to the passage they quoted. Writes
``bench/results/own_replies-<set>-<roles>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from _common import save  # noqa: E402


def user_only_copy(folder: Path, into: Path) -> Path:
    """``folder`` under ``into`` with the same name, its manifest's ``query_roles`` set to
    "user", every other file a link to the original."""
    out = into / folder.name
    out.mkdir(parents=True)
    for f in folder.iterdir():
        if f.name != "manifest.json":
            (out / f.name).symlink_to(f.resolve())
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.setdefault("settings", {})["query_roles"] = "user"
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out


def replay(bot: Any, examples: list[Any]) -> list[dict[str, Any]]:
    """Per user turn, in dialogue order, what the chat would show with its own history."""
    from tqdm.auto import tqdm

    from re3g.evaluate.answerability import document_changed, is_right

    records: list[dict[str, Any]] = []
    history: dict[str, list[str]] = {}
    for ex in tqdm(examples, desc="replay", unit="turn"):
        said = history.setdefault(ex.dial_id, [])
        question = ex.history[-1].utterance or ""
        answer = bot.answer([*said, question])
        if answer.grounded:
            said += [question, answer.text.strip()]
        records.append({"id": ex.id, "answerable": ex.answerable, "grounded": answer.grounded,
                        "right": is_right(ex, answer) if ex.answerable else None,
                        "document_change": document_changed(ex) if ex.answerable else None,
                        "confidence": round(answer.confidence, 4)})
    return records


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    pos = [r for r in records if r["answerable"]]
    neg = [r for r in records if not r["answerable"]]
    moved = [r for r in pos if r["document_change"]]

    def pct(rows: list[dict[str, Any]], key: str, want: bool = True) -> float | None:
        return round(100 * sum(bool(r[key]) == want for r in rows) / len(rows), 1) if rows \
            else None

    return {"n_answerable": len(pos), "n_unanswerable": len(neg),
            "answered": pct(pos, "grounded"), "right": pct(pos, "right"),
            "right_after_document_change": pct(moved, "right"), "n_document_change": len(moved),
            "refused_unanswerable": pct(neg, "grounded", want=False)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=Path, default=ROOT / "data" / "dev" / "documents")
    ap.add_argument("--dialogues", type=Path, default=ROOT / "data" / "dev" / "dialogues.json")
    ap.add_argument("--roles", choices=("manifest", "user"), default="manifest")
    ap.add_argument("--limit", type=int, default=0, help="first N user turns only")
    args = ap.parse_args(argv)

    from re3g.config import PASSAGE_MAX_WORDS, Config
    from re3g.data.corpus import load_corpus
    from re3g.data.dialdoc import examples_from_dialogues, load_dialogues
    from re3g.evaluate.runner import ensure_index
    from re3g.extract import default_extractor_path
    from re3g.pipeline import Re3G

    docs = load_corpus(args.docs)
    examples = examples_from_dialogues(load_dialogues(args.dialogues), docs, str(args.dialogues),
                                       unanswerable=True)
    if args.limit:
        examples = examples[: args.limit]
    index = ensure_index(docs, args.docs, None, PASSAGE_MAX_WORDS)
    with tempfile.TemporaryDirectory() as tmp:
        extra: dict[str, Any] = {}
        if args.roles == "user":
            extra = {"cross_model": str(user_only_copy(ROOT / "models" / "cross-reranker",
                                                       Path(tmp))),
                     "extractor": str(user_only_copy(default_extractor_path(), Path(tmp)))}
        bot = Re3G(Config(index=str(index), docs=str(args.docs), **extra), documents=docs)
        records = replay(bot.warm_up(), examples)
    result = {"docs": str(args.docs), "dialogues": str(args.dialogues), "roles": args.roles,
              **summary(records), "turns": records}
    print(json.dumps({k: v for k, v in result.items() if k != "turns"}, indent=1))
    name = f"own_replies-{args.dialogues.parent.name}-{args.dialogues.stem}-{args.roles}"
    print("wrote", save(name, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
