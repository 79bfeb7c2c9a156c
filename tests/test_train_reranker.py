"""``re3g train reranker`` (quick profile) and the shared trainer utilities: manifest, fp16
weights, resumable and atomic checkpoints."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from re3g.errors import ModelError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "doc2dial"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared doc2dial data not present")


def parse(model: str, argv: list[str]) -> argparse.Namespace:
    from re3g.cli.train import register

    parser = argparse.ArgumentParser(prog="re3g")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["train", model, *argv])


def data_args() -> list[str]:
    return ["--docs", str(DATA / "doc2dial_doc.json"),
            "--train", str(DATA / "doc2dial_dial_train.json"),
            "--validation", str(DATA / "doc2dial_dial_validation.json"), "--no-progress"]


def _check_manifest_and_weights(out: Path, tmp_path: Path) -> dict:
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "reranker"
    assert manifest["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert {d["path"].rsplit("/", 1)[-1] for d in manifest["data"]} >= {"doc2dial_doc.json"}
    assert all(len(d["sha256"]) == 64 for d in manifest["data"])
    assert manifest["training"]["steps"] == 2 and manifest["training"]["seconds"] > 0
    assert not (tmp_path / f".{out.name}.ckpt.pt").exists()  # removed once the model is in place
    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), "pt") as f:
        name = next(iter(f.keys()))
        assert str(f.get_tensor(name).dtype) == "torch.float16"
    return manifest


def _ranks_three(out: Path) -> list:
    from re3g.rank import Reranker
    from re3g.types import Hit, Passage

    rr = Reranker.load(out)
    ps = [Passage(f"p{i}", "d", "T", t, 0, len(t), [str(i)]) for i, t in
          enumerate(["Renew your license online.", "Fish live in water.", "Pay the fee."])]
    hits = [Hit(p, 0.0, i + 1) for i, p in enumerate(ps)]
    ranked = rr.rerank("how do I renew my license", hits, k=2)
    assert [h.rank for h in ranked] == [1, 2]
    return ranked


def test_quick_cross_encoder_is_trained_on_mined_negatives(tmp_path: Path, small_index,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    out = tmp_path / "ce"
    args = parse("reranker", ["--arch", "cross", "--profile", "quick", "--out", str(out),
                              "--query-roles", "all", "--index", str(small_index), *data_args()])
    assert args.func(args) == 0
    manifest = _check_manifest_and_weights(out, tmp_path)
    assert manifest["architecture"] == "cross-encoder"
    # trained on every turn (the agent's replies too): recorded, and read back by the loader
    assert manifest["settings"]["query_roles"] == "all"
    assert "--query-roles all" in manifest["command"]
    assert manifest["settings"]["negatives"] == 3 and manifest["settings"]["n_groups"] >= 1
    metrics = manifest["metrics"]
    assert {"pool_top20", "cross_alone_top20", "tower", "cascade"} <= set(metrics)
    # negatives come from the tower's ranking (models/reranker), the cascade's own input
    assert manifest["settings"]["negatives_from"].endswith("top 5 (pipeline ranking, non-gold)")
    weights = ["0.0", "0.005", "0.01", "0.02", "0.03", "0.04", "0.05", "0.06", "0.08", "0.12",
               "0.2", "0.5"]
    assert manifest["settings"]["depth"] in (3, 5, 8)
    assert str(float(manifest["settings"]["cross_weight"])) in weights
    assert sorted(metrics["cascade_R@1"]) == ["depth 3", "depth 5", "depth 8"]
    assert all(list(row) == weights for row in metrics["cascade_R@1"].values())
    # --eval-only re-validates the trained folder and rewrites its manifest in place
    again = parse("reranker", ["--arch", "cross", "--profile", "quick", "--out", str(out),
                               "--index", str(small_index), "--eval-only", *data_args()])
    from re3g.rank import Reranker

    batches: list[int] = []
    score = Reranker.score

    def counted(self, query, passages):  # type: ignore[no-untyped-def]
        batches.append(len(passages))
        return score(self, query, passages)

    monkeypatch.setattr(Reranker, "score", counted)
    assert again.func(again) == 0
    monkeypatch.undo()
    # each depth is read in its own batch, as the pipeline's cascade reads it (int8 scales
    # activations per batch, so the top 3 scored among the top 8 would not score the same)
    assert {3, 5, 8} <= set(batches)
    redone = json.loads((out / "manifest.json").read_text())
    assert redone["metrics"]["cascade"] == metrics["cascade"]
    assert redone["training"]["validation_seconds"] > 0
    import shutil

    copy = shutil.copytree(Path(__file__).resolve().parents[1] / "models" / "reranker",
                           tmp_path / "tower")
    tower = parse("reranker", ["--arch", "cross", "--eval-only", "--out", str(copy),
                               "--index", str(small_index), *data_args()])
    with pytest.raises(ModelError, match="not a cross-encoder"):
        tower.func(tower)
    assert Reranker.load(out).kind == "cross-encoder"
    assert Reranker.load(out).query_roles == "all"
    ranked = _ranks_three(out)
    rr = Reranker.load(out)
    assert all(0.0 < rr.relevance(h.score) < 1.0 for h in ranked)  # logits -> sigmoid


def test_quick_tower_writes_fp16_model_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "rr"
    args = parse("reranker", ["--profile", "quick", "--out", str(out), *data_args()])
    assert args.func(args) == 0
    manifest = _check_manifest_and_weights(out, tmp_path)
    assert "tower_full_corpus" in manifest["metrics"]
    assert _ranks_three(out)[0].passage.pid == "p0"


def _tiny_encoder():
    from re3g.models import Encoder, base_model_path

    return Encoder.load(base_model_path(), max_length=16, dev="cpu")


def test_interrupted_training_resumes_from_checkpoint(tmp_path: Path) -> None:
    import torch

    from re3g.train.common import TrainConfig, train_query_tower

    queries = ["renew license", "pay fee", "fish water", "apply benefits"]
    targets = torch.nn.functional.normalize(torch.randn(6, 384), dim=-1)
    positives = [[0], [1], [2], [3]]
    cfg = TrainConfig(epochs=1, batch_size=1, lr=1e-5, max_query_tokens=16, train_layers=1)
    ck = tmp_path / "ck.pt"

    enc = _tiny_encoder()
    calls = {"n": 0}
    orig = torch.nn.functional.normalize

    def flaky(*a, **k):  # the third step dies mid-way, after two checkpoints
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return orig(*a, **k)

    torch.nn.functional.normalize = flaky
    try:
        with pytest.raises(KeyboardInterrupt):
            train_query_tower(enc, queries, positives, targets, cfg, ck, "fp", save_every=1,
                              progress=False)
    finally:
        torch.nn.functional.normalize = orig
    assert ck.is_file()
    assert not list(tmp_path.glob(".*tmp*"))  # no half-written file left behind

    stats = train_query_tower(_tiny_encoder(), queries, positives, targets, cfg, ck, "fp",
                              save_every=1, progress=False)
    assert stats["resumed_from"] == 2 and stats["steps"] == 4

    # other settings (fingerprint) or a damaged file: start from scratch, never load it
    from re3g.train.common import load_checkpoint

    assert load_checkpoint(ck, "other") is None
    ck.write_bytes(b"garbage")
    assert load_checkpoint(ck, "fp") is None


def test_save_model_folder_is_atomic(tmp_path: Path) -> None:
    from re3g.train.common import save_model_folder

    enc = _tiny_encoder()
    out = tmp_path / "m"
    save_model_folder(enc.model, enc.tokenizer, out, {"kind": "reranker"})
    save_model_folder(enc.model, enc.tokenizer, out, {"kind": "reranker", "v": 2})
    assert json.loads((out / "manifest.json").read_text())["v"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_from_base_folder_stores_only_changed_tensors(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    from re3g.models import Encoder
    from re3g.train.common import save_model_folder

    enc = _tiny_encoder()
    top = enc.model.encoder.layer[-1].output.dense
    with torch.no_grad():
        top.weight.add_(0.01)  # "training" changed one layer
    out = tmp_path / "m"
    save_model_folder(enc.model, enc.tokenizer, out, {"kind": "reranker"}, from_base=True)
    stored = load_file(str(out / "model.safetensors"))
    assert set(stored) == {"encoder.layer.5.output.dense.weight"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["weights"]["tensors_from_base"] == len(enc.model.state_dict()) - 1
    back = Encoder.load(out, dev="cpu")
    texts = ["how do I renew my license?"]
    assert torch.allclose(back.encode(texts), enc.encode(texts), atol=1e-3)
    # a weights file that does not fit the base model is refused, not half-loaded
    from safetensors.torch import save_file

    save_file({"encoder.layer.9.output.dense.weight": torch.zeros(2, 2)},
              str(out / "model.safetensors"))
    with pytest.raises(ModelError, match="does not match the base model"):
        Encoder.load(out, dev="cpu")


def test_spliced_topic_shifts_leave_the_dev_part_out(doc2dial_docs) -> None:
    """``re3g train reranker --spliced`` adds the turns right after a topic shift: train
    dialogues spliced after an agent turn of another dialogue of the same domain over another
    document; no dialogue of the dev part (where the ranking's settings are chosen) takes part,
    and the history of each added turn still holds the document the user moved away from."""
    from re3g.data import load_examples
    from re3g.train.common import dev_dialogue_ids
    from re3g.train.reranker import spliced_examples

    args = parse("reranker", [*data_args(), "--spliced"])
    assert args.spliced
    train = load_examples(DATA / "doc2dial_dial_train.json", doc2dial_docs)
    held = dev_dialogue_ids(train)
    added = spliced_examples(args, doc2dial_docs, train)
    assert len(added) > 300
    for ex in added[:200]:
        first, second = ex.dial_id.split("+")
        assert first not in held and second not in held
        earlier = {r.doc_id for t in ex.history if t.role == "agent" for r in t.references}
        assert ex.gold_doc_ids and earlier - ex.gold_doc_ids  # the history holds the old document
