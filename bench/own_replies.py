"""Conversations as the chat holds them: the history holds the pipeline's own earlier replies,
not the written agent turns.

    .venv/bin/python bench/own_replies.py [--docs data/dev/documents]
        [--dialogues data/dev/dialogues.json] [--roles manifest|user] [--limit N]

``re3g evaluate`` reads each turn with the dialogue's written agent turns before it. In the chat
the agent turns are the bot's own replies, which quote the passage they came from, and a turn the
bot refused keeps its question with an empty reply (``app/session.py``). This replays every
dialogue that way, turn by turn, and reports the share of answerable turns answered right (top
evidence on a reference span), after a change of document and overall, and the share of
unanswerable turns refused.

``--roles user`` runs the cross-encoder and the reader with ``query_roles = "user"`` (copies of
their folders whose manifests say so; same weights): they then read the user's turns only, so the
bot's own earlier replies cannot pull them back to the passage they quoted; ``--roles
reader-user`` does so for the reader alone. Writes
``bench/results/own_replies-<set>-<roles>.json``, and with ``--records FILE`` every turn's
record (JSONL) for ``bench/paired_replays.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from _common import save  # noqa: E402

from re3g.evaluate.replay import replay, summary  # noqa: E402


def user_only_copy(folder: Path, into: Path) -> Path:
    """``folder`` under ``into`` with the same name, its manifest's ``query_roles`` set to
    "user", every other file a link to the original."""
    from re3g.train.select_reader import linked_copy

    return linked_copy(folder, into, lambda settings: settings.update(query_roles="user"))


def overrides(pairs: list[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs as config values (numbers parsed)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def set_tag(pairs: list[str]) -> str:
    """``--set`` pairs as a file-name part: ``-document_weight=0-reranker=_tmp_rs_reranker``."""
    return "".join("-" + re.sub(r"[^\w.=-]+", "_", x).strip("_") for x in pairs)


def bot_for(roles: str, tmp: Path, **config: Any) -> Any:
    """The default pipeline, its reader (and with ``user`` its cross-encoder) reading the
    user's turns only unless ``roles`` is "manifest"."""
    from re3g.config import Config
    from re3g.extract import default_extractor_path
    from re3g.pipeline import Re3G

    if roles != "manifest":
        config["extractor"] = str(user_only_copy(default_extractor_path(), tmp))
    if roles == "user":
        config["cross_model"] = str(user_only_copy(ROOT / "models" / "cross-reranker", tmp))
    return Re3G(Config(**config)).warm_up()


def doc2dial_dev(args: argparse.Namespace) -> int:
    """The train dev part's dialogues as they are, then spliced with a dialogue of another
    document (the user moves on after one of the first dialogue's agent turns); ``right``
    of the turns right after the join is ``right_after_join``."""
    from re3g.data import load_documents
    from re3g.data.dialdoc import examples_from_dialogues
    from re3g.train.common import DEV_DIALOGUES, DEV_SEED
    from re3g.train.select_ranking import dev_dialogues
    from re3g.train.splice import shift_examples, spliced_dialogues

    data = ROOT.parent / "shared" / "data" / "doc2dial"
    docs = load_documents(data / "doc2dial_doc.json")
    dialogues = dev_dialogues(data / "doc2dial_dial_train.json", DEV_DIALOGUES, DEV_SEED)
    normal = examples_from_dialogues(dialogues, docs)
    joined = spliced_dialogues(dialogues, seed=DEV_SEED)
    spliced = examples_from_dialogues([d for d, _ in joined], docs)
    after = {e.id for e in shift_examples(spliced, {d.dial_id: at for d, at in joined})}
    with tempfile.TemporaryDirectory() as tmp:
        bot = bot_for(args.roles, Path(tmp), index=str(ROOT / "indexes" / "doc2dial"),
                      docs=str(data / "doc2dial_doc.json"), **overrides(args.set))
        plain = replay(bot, normal) if not args.spliced_only else []
        moved = replay(bot, spliced)
    shifted = [r for r in moved if r["id"] in after]
    wrong_doc = sum(1 for r in shifted if r["grounded"] and r["top_doc"] not in r["gold_docs"])
    result = {"set": "doc2dial train dev part", "roles": args.roles, "overrides": args.set,
              **(summary(plain) if plain else {}),
              "answered_wrong_document_after_join": round(100 * wrong_doc / len(shifted), 1),
              "right_after_join": summary(shifted)["right"], "n_after_join": len(shifted),
              "spliced_right": summary(moved)["right"]}
    print(json.dumps(result, indent=1))
    tag = set_tag(args.set) + ("-spliced" if args.spliced_only else "")
    print("wrote", save(f"own_replies-doc2dial-dev-{args.roles}{tag}", result))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=Path, default=ROOT / "data" / "dev" / "documents")
    ap.add_argument("--dialogues", type=Path, default=ROOT / "data" / "dev" / "dialogues.json")
    ap.add_argument("--roles", choices=("manifest", "user", "reader-user"), default="manifest")
    ap.add_argument("--limit", type=int, default=0, help="first N user turns only")
    ap.add_argument("--records", type=Path, default=None, metavar="FILE",
                    help="also write every turn's record (JSONL), for bench/paired_replays.py")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a pipeline setting (re3g.config.Config field), e.g. document_weight=0")
    ap.add_argument("--doc2dial-dev", action="store_true",
                    help="replay the dev part of doc2dial train (re3g.train.common.DEV_SEED) "
                         "and its spliced topic-shift versions over indexes/doc2dial instead")
    ap.add_argument("--spliced-only", action="store_true",
                    help="with --doc2dial-dev: the spliced dialogues only")
    args = ap.parse_args(argv)
    if args.doc2dial_dev:
        return doc2dial_dev(args)

    from re3g.config import PASSAGE_MAX_WORDS
    from re3g.data.corpus import load_corpus
    from re3g.data.dialdoc import examples_from_dialogues, load_dialogues
    from re3g.evaluate.runner import ensure_index

    docs = load_corpus(args.docs)
    examples = examples_from_dialogues(load_dialogues(args.dialogues), docs, str(args.dialogues),
                                       unanswerable=True)
    if args.limit:
        examples = examples[: args.limit]
    index = ensure_index(docs, args.docs, None, PASSAGE_MAX_WORDS)
    with tempfile.TemporaryDirectory() as tmp:
        bot = bot_for(args.roles, Path(tmp), index=str(index), docs=str(args.docs),
                      **overrides(args.set))
        records = replay(bot, examples)
    if args.records:
        from re3g.evaluate.report import write_jsonl

        write_jsonl(args.records, [{**r, "set": str(args.docs)} for r in records])
    result = {"docs": str(args.docs), "dialogues": str(args.dialogues), "roles": args.roles,
              **summary(records)}
    print(json.dumps(result, indent=1))
    name = f"own_replies-{args.dialogues.parent.name}-{args.dialogues.stem}-{args.roles}"
    name += set_tag(args.set)
    print("wrote", save(name, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
