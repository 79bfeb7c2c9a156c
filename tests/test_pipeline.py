"""The Re3G pipeline over a real small index (real doc2dial documents, real MiniLM encoder)."""

from __future__ import annotations

import pytest

from re3g.config import Config
from re3g.data.query import clean_turn_text, normalize_history
from re3g.errors import DataError, ModelError, QueryError
from re3g.pipeline import STAGES, Re3G
from re3g.types import Answer, Turn


@pytest.fixture(scope="module")
def bot(small_index, small_corpus_files):
    return Re3G(index=str(small_index), docs=str(small_corpus_files[0]), rerank=False)


def _question(val_examples, docs):
    """A real validation user turn whose document is in the small corpus."""
    for ex in val_examples:
        if ex.history[-1].utterance and ex.references[0].doc_id in docs:
            return ex
    raise AssertionError("no example")


@pytest.fixture(scope="module")
def fallback_bot(small_index, small_corpus_files):
    return Re3G(index=str(small_index), docs=str(small_corpus_files[0]), rerank=False,
                extractor="dense-fallback")


@pytest.mark.parametrize("which", ["trained", "fallback"])
def test_answer_real_turn(bot, fallback_bot, val_examples, which):
    bot = bot if which == "trained" else fallback_bot
    ex = _question(val_examples, bot.documents)
    ans = bot.answer(ex.history)
    assert isinstance(ans, Answer) and ans.text.strip()
    assert set(STAGES) <= set(ans.timings)
    assert all(v >= 0 for v in ans.timings.values())
    parts = sum(ans.timings[s] for s in STAGES if s != "total")
    assert parts <= ans.timings["total"] + 1e-6
    assert 0.0 <= ans.confidence <= 1.0
    assert ans.passages and [h.rank for h in ans.passages[:3]] == [1, 2, 3]
    assert ans.extra["extractor"] == ("extractor" if which == "trained" else "dense-fallback")
    # evidence offsets map back into the document text
    assert ans.evidence
    for ev in ans.evidence:
        doc = bot.documents[ev.doc_id]
        assert " ".join(doc.text[ev.start:ev.end].split()) == " ".join(ev.text.split())
        assert all(doc.span(s) for s in ev.span_ids)
    if ans.grounded:  # the reply is the generator's, from the top evidence span
        turns = normalize_history(ex.history)[0]
        assert ans.text == bot.generate(turns, ans.evidence, ans.passages)


def test_components_load_once(bot):
    r, enc, gen = bot.retriever, bot.encoder, bot.generator
    bot.answer("How do I apply for benefits?")
    assert bot.retriever is r and bot.encoder is enc and bot.generator is gen


def test_stream_pieces_then_answer(bot):
    out = list(bot.stream(["Hello", "Hi, how can I help?", "How do I apply for benefits?"]))
    assert isinstance(out[-1], Answer)
    pieces = out[:-1]
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces).strip() == out[-1].text
    assert out[-1].timings["total"] >= out[-1].timings["generate"]


def test_abstains_below_threshold(small_index, small_corpus_files):
    strict = Re3G(index=str(small_index), docs=str(small_corpus_files[0]), rerank=False,
                  min_confidence=1.0)
    ans = strict.answer("How do I apply for benefits?")
    assert ans.grounded is False
    assert "could not find" in ans.text.lower()
    assert ans.evidence and ans.passages  # still shown to the user
    assert list(strict.stream("How do I apply for benefits?"))[0] == ans.text


def test_without_documents_passage_evidence(small_index):
    # the manifest's source ("small") cannot be found: the best passage is the evidence
    bot = Re3G(index=str(small_index), rerank=False, extractor="dense-fallback")
    ans = bot.answer("How do I apply for benefits?")
    assert ans.extra["extractor"] == "passage"
    ev = ans.evidence[0]
    p = ans.passages[0].passage
    assert (ev.start, ev.end, ev.text) == (p.start, p.end, p.text)


def test_extract_off_and_bm25(small_index, small_corpus_files):
    bot = Re3G(index=str(small_index), mode="bm25", extract=False, rerank=False,
               docs=str(small_corpus_files[0]))
    ans = bot.answer("How do I apply for benefits?")
    assert ans.evidence == [] and ans.text and 0 <= ans.confidence <= 1


@pytest.mark.parametrize("history", [[], "", "   ", [""], ["Hello", "Hi", ""]])
def test_empty_dialogue(bot, history):
    with pytest.raises(QueryError):
        bot.answer(history)


def test_last_turn_not_user(bot):
    with pytest.raises(QueryError, match="user turn"):
        bot.answer([Turn(1, "user", "Hi"), Turn(2, "agent", "Hello")])
    with pytest.raises(QueryError, match="user turn"):
        bot.answer([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}])


def test_huge_turn_truncated(bot):
    text = "How do I apply for benefits? " + "word " * 20_000  # 100,000+ characters
    assert len(text) >= 100_000
    ans = bot.answer(text)
    assert ans.text and ans.extra["truncated"] == [0]
    assert len(ans.extra["query"].split()) <= bot.config.query_max_words


def test_non_utf8_bytes(bot):
    ans = bot.answer([b"How do I apply for benefits? caf\xe9 \xff\xfe"])
    assert ans.text
    assert clean_turn_text("bad \udcff byte")[0] == "bad \ufffd byte"
    assert clean_turn_text("a\x00b\x07c")[0] == "abc"


def test_history_forms():
    turns, _ = normalize_history(["a", "b", "c", "d"])  # user first; "d" follows the question
    assert [(t.role, t.utterance) for t in turns] == [("user", "a"), ("agent", "b"), ("user", "c")]
    with pytest.raises(QueryError):
        normalize_history(123)
    with pytest.raises(QueryError, match="role"):
        normalize_history([{"role": "robot", "content": "hi"}])


def test_unreachable_http_endpoint(small_index, small_corpus_files):
    bot = Re3G(index=str(small_index), docs=str(small_corpus_files[0]), rerank=False,
               generator="http", min_confidence=0.0,
               generator_options={"base_url": "http://127.0.0.1:9/v1", "model": "x",
                                  "timeout": 2})
    with pytest.raises(ModelError):
        bot.answer("How do I apply for benefits?")
    with pytest.raises(ModelError):
        list(bot.stream("How do I apply for benefits?"))


def test_model_that_fails_to_load(small_index, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    bot = Re3G(index=str(small_index), generator="seq2seq", min_confidence=0.0,
               generator_options={"model": str(broken)}, rerank=False)
    with pytest.raises(ModelError):
        bot.answer("How do I apply for benefits?")
    bot = Re3G(index=str(small_index), rerank=True, reranker=str(tmp_path / "missing"))
    with pytest.raises(ModelError):
        bot.answer("How do I apply for benefits?")


def test_missing_index_is_a_clear_error(tmp_path):
    from re3g.errors import IndexLoadError

    with pytest.raises(IndexLoadError, match="no index"):
        Re3G(index=str(tmp_path / "nope")).answer("hi")


def test_config_files(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('[retrieval]\nk = 7\nmode = "bm25"\n[generator]\nname = "extractive"\n'
                    "max_words = 30\n")
    cfg = Config.load(toml)
    assert (cfg.k, cfg.mode, cfg.generator_options) == (7, "bm25", {"max_words": 30})
    yml = tmp_path / "c.yaml"
    yml.write_text("retrieval:\n  k: 9\nrerank:\n  enabled: false\n")
    cfg = Config.load(yml, k=3)
    assert (cfg.k, cfg.rerank) == (3, False)
    bad = tmp_path / "bad.toml"
    bad.write_text("[retrieval]\nkk = 3\n")
    with pytest.raises(DataError, match=r"bad\.toml.*retrieval\.kk"):
        Config.load(bad)
    bad.write_text('[retrieval]\nk = "many"\n')
    with pytest.raises(DataError, match=r"bad\.toml.*'k'"):
        Config.load(bad)
    bad.write_text("k = [")
    with pytest.raises(DataError, match=r"bad\.toml: invalid TOML"):
        Config.load(bad)
    with pytest.raises(DataError, match="generator"):
        Config(generator="gpt").validate()
    bad.write_text('[answer]\ncalibration = "doc2dial"\n')
    with pytest.raises(DataError, match=r"bad\.toml.*calibration.*auto, tuned, other"):
        Config.load(bad).validate()
    with pytest.raises(DataError, match="no such config file"):
        Config.load(tmp_path / "none.toml")


def test_repo_example_config_is_valid():
    from pathlib import Path

    cfg = Config.load(Path(__file__).resolve().parents[1] / "re3g.toml")
    assert cfg.generator == "extractive" and cfg.index.endswith("sample")
    assert cfg.code.get("model")


@pytest.mark.parametrize("rerank", [False, True])
def test_off_topic_question_is_not_answered(small_index, small_corpus_files, rerank):
    bot = Re3G(index=str(small_index), docs=str(small_corpus_files[0]), rerank=rerank)
    ans = bot.answer("What is the capital of France?")
    assert not ans.grounded and ans.confidence < bot.min_confidence
    assert "could not find" in ans.text.lower()
    on_topic = bot.answer("How do I apply for benefits?")
    assert on_topic.passages and on_topic.evidence


def _picture(ans: Answer) -> tuple:
    """What a user sees of an answer (timings aside)."""
    return (ans.text, ans.grounded, round(ans.confidence, 6),
            [(e.doc_id, e.start, e.end, e.text) for e in ans.evidence],
            [(h.passage.pid, round(h.score, 5)) for h in ans.passages])


def test_warm_up_loads_everything_once_and_changes_no_answer(small_index, small_corpus_files,
                                                            val_examples):
    """warm_up() returns the pipeline with every component loaded after a real warm-up turn;
    a second call does nothing; answers equal those of a pipeline that was never warmed."""
    def make() -> Re3G:  # the default chain: trained reranker, cross-encoder and reader
        return Re3G(index=str(small_index), docs=str(small_corpus_files[0]))

    ex = _question(val_examples, make().documents)
    histories = [ex.history, "How do I apply for benefits?"]
    cold = make()
    before = [_picture(cold.answer(h)) for h in histories]
    warm = make()
    assert warm.warm_up() is warm
    assert {"retriever", "encoder", "documents", "chain", "extractor", "rule",
            "generator", "warmed"} <= set(warm._parts)
    assert warm.reranker is not None and warm.extractor is not None

    def no_second_turn(*_a, **_k):
        raise AssertionError("a second warm_up() ran another turn")

    warm.answer = warm.select = no_second_turn  # type: ignore[method-assign]
    assert warm.warm_up() is warm
    del warm.answer, warm.select
    assert [_picture(warm.answer(h)) for h in histories] == before


def test_warm_up_errors_propagate_like_answer(small_index, small_corpus_files):
    bot = Re3G(index=str(small_index), docs=str(small_corpus_files[0]), rerank=False,
               generator="http", min_confidence=0.0,
               generator_options={"base_url": "http://127.0.0.1:9/v1", "model": "x",
                                  "timeout": 2})
    with pytest.raises(ModelError):
        bot.warm_up()
    with pytest.raises(ModelError):  # not marked warm: the next call tries again
        bot.warm_up()
