"""``re3g train generator`` on tiny BART/T5 models: a few steps, resume, manifest, reload."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from re3g.errors import ModelError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "doc2dial"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared doc2dial data not present")


def parse(argv: list[str]) -> argparse.Namespace:
    """Parse through the real ``re3g train`` subcommand registration."""
    from re3g.cli.train import register

    parser = argparse.ArgumentParser(prog="re3g")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["train", "generator", *argv])


def argv(base: Path, out: Path, *extra: str) -> list[str]:
    return ["--base", str(base), "--output", str(out), "--docs", str(DATA / "doc2dial_doc.json"),
            "--train", str(DATA / "doc2dial_dial_train.json"),
            "--validation", str(DATA / "doc2dial_dial_validation.json"),
            "--max-steps", "4", "--batch-size", "2", "--save-every", "2", "--eval-limit", "2",
            "--num-beams", "1", "--max-target-tokens", "12", "--device", "cpu", *extra]


@pytest.fixture(scope="module")
def tiny_bart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_generate_seq2seq import build_tiny

    return build_tiny("bart", tmp_path_factory.mktemp("bart"))


def _weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


@pytest.mark.slow
def test_train_resume_manifest_and_reload(tiny_bart: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from re3g.generate import make_generator
    from re3g.train import generator as tg
    from re3g.types import Evidence, Turn

    # one uninterrupted run
    straight = tmp_path / "straight"
    args = parse(argv(tiny_bart, straight))
    assert args.func(args) == 0
    manifest = json.loads((straight / "manifest.json").read_text())
    assert manifest["base_model"] == str(tiny_bart)
    assert manifest["steps"] == 4 and manifest["model_type"] == "bart"
    assert set(manifest["eval"]["metrics"]) == {"F1", "SacreBLEU", "ROUGE-L"}
    assert manifest["eval"]["examples"] == 2
    assert len(manifest["data"]["train"]["sha256"]) == 64
    assert not (tmp_path / "straight.checkpoint").exists()

    # a run interrupted after the step-2 checkpoint, then resumed
    resumed = tmp_path / "resumed"
    real_collate = tg._collate
    calls = {"n": 0}

    def failing_collate(*a, **k):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_collate(*a, **k)

    monkeypatch.setattr(tg, "_collate", failing_collate)
    args = parse(argv(tiny_bart, resumed))
    with pytest.raises(KeyboardInterrupt):
        args.func(args)
    ckpt = tmp_path / "resumed.checkpoint"
    assert (ckpt / tg.STATE_FILE).is_file() and not resumed.exists()
    monkeypatch.setattr(tg, "_collate", real_collate)
    messages: list[str] = []
    tg.train(parse(argv(tiny_bart, resumed)), log=messages.append)
    assert any("resuming" in m and "step 2" in m for m in messages)
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)

    # the trained folder serves as a generator, exactly as a user would load it
    gen = make_generator("seq2seq", model=str(resumed), max_new_tokens=8, num_beams=1)
    reply = gen.generate([Turn(1, "user", "How do I renew?")],
                         [Evidence("d", "T", "Renew online.", 0, 13, ["1"])], [])
    assert isinstance(reply, str)


def test_few_steps_then_generate(tiny_bart: Path, tmp_path: Path) -> None:
    """The fast path a user with facebook/bart-base runs: train, manifest, load, generate."""
    from re3g.generate import make_generator
    from re3g.types import Turn

    out = tmp_path / "gen"
    args = parse(argv(tiny_bart, out, "--max-steps", "2", "--eval-limit", "1"))
    assert args.func(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["steps"] == 2 and manifest["eval"]["examples"] == 1
    assert manifest["settings"]["profile"] == "quick"
    gen = make_generator("seq2seq", model=str(out), max_new_tokens=4, num_beams=1)
    assert isinstance(gen.generate([Turn(1, "user", "Hi?")], [], []), str)


def test_changed_settings_do_not_resume_silently(tiny_bart: Path, tmp_path: Path) -> None:
    from re3g.train import generator as tg

    out = tmp_path / "gen"
    ckpt = tmp_path / "gen.checkpoint"
    ckpt.mkdir()
    import torch

    torch.save({"step": 2, "settings": {"other": 1}, "base": "x"}, ckpt / tg.STATE_FILE)
    with pytest.raises(ModelError, match="other settings"):
        tg.train(parse(argv(tiny_bart, out)))


@pytest.mark.slow
def test_t5_trains_with_passage(tmp_path: Path) -> None:
    from test_generate_seq2seq import build_tiny

    base = build_tiny("t5", tmp_path / "t5")
    out = tmp_path / "t5-gen"
    args = parse(argv(base, out, "--with-passage"))
    assert args.func(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model_type"] == "t5" and manifest["settings"]["with_passage"] is True


def test_missing_base_is_model_error(tmp_path: Path) -> None:
    args = parse(argv(tmp_path / "nope", tmp_path / "out"))
    with pytest.raises(ModelError, match="does not exist"):
        args.func(args)
