"""Answerability: unanswerable turns in dialogue files, bad dialogues left out with one clear
message, synthetic unanswerable turns, the learned decision's checks. Real data, real models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from re3g.data.dialdoc import examples_from_dialogues, load_dialogues
from re3g.errors import DataError, ModelError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _dialogue(dial_id: str, turns: list[tuple[str, str, list[str]]]) -> dict:
    return {"dial_id": dial_id, "doc_id": "bikeshare-membership", "domain": "sample",
            "turns": [{"turn_id": i + 1, "role": role, "utterance": text,
                       "references": [{"id_sp": s, "doc_id": "bikeshare-membership"}
                                      for s in spans]}
                      for i, (role, text, spans) in enumerate(turns)]}


@pytest.fixture()
def suite_file(tmp_path: Path) -> Path:
    """One good dialogue (an answerable and an unanswerable turn) and three bad ones."""
    good = _dialogue("good", [("user", "How much is a day pass?", []),
                              ("agent", "A day pass costs 8 dollars.", ["4"]),
                              ("user", "Do you rent electric scooters?", []),
                              ("agent", "The documents do not say.", [])])
    bad_role = _dialogue("bad-role", [("user", "Hi", []), ("system", "Hello", [])])
    missing = _dialogue("missing-span", [("user", "Fees?", []), ("agent", "8", ["999"])])
    empty = {"dial_id": "empty", "turns": []}
    path = tmp_path / "suite.json"
    path.write_text(json.dumps({"dial_data": {"sample": {"bikeshare-membership": [
        good, bad_role, missing, empty]}}}))
    return path


def test_bad_dialogues_name_the_file_and_dialogue(suite_file: Path) -> None:
    from re3g.data.corpus import load_corpus

    with pytest.raises(DataError, match=r"suite\.json.*dial_id bad-role.*'system' is neither"):
        load_dialogues(suite_file)
    problems: list[str] = []
    dialogues = load_dialogues(suite_file, problems)
    assert [d.dial_id for d in dialogues] == ["good", "missing-span"]
    docs = load_corpus(SAMPLE)
    examples = examples_from_dialogues(dialogues, docs, str(suite_file), unanswerable=True,
                                       problems=problems)
    assert [(e.id, e.answerable) for e in examples] == [("good_1", True), ("good_3", False)]
    assert len(problems) == 3
    assert any("dial_id empty" in p and "no turns" in p for p in problems)
    assert any("missing-span" in p and "missing span '999'" in p and "suite.json" in p
               for p in problems)
    # without unanswerable=True only the grounded turn is an example, as before
    assert len(examples_from_dialogues(dialogues[:1], docs)) == 1


def test_evaluate_judges_refusals_and_keeps_going(suite_file: Path, tmp_path: Path) -> None:
    from re3g.evaluate.runner import evaluate

    report = evaluate(SAMPLE, suite_file, tmp_path / "out", stages=["answerability"])
    block = report["answerability"]
    assert block["n_answerable"] == 1 and block["n_unanswerable"] == 1
    assert block["answered"] in (0.0, 100.0) and block["refused_unanswerable"] in (0.0, 100.0)
    data = [f for f in report["failures"] if f["stage"] == "data"]
    assert len(data) == 3 and all("suite.json" in f["error"] for f in data)
    lines = (tmp_path / "out" / "answerability.jsonl").read_text().splitlines()
    assert {json.loads(line)["id"] for line in lines} == {"good_1", "good_3"}
    assert "Answerability" in (tmp_path / "out" / "report.md").read_text()


def test_synthetic_variants_take_the_answer_away(small_index, small_corpus_files) -> None:
    from re3g.data import load_documents, load_examples
    from re3g.evaluate.unanswerable import turn_variants, variant_signals
    from re3g.pipeline import Re3G

    docs = load_documents(small_corpus_files[0])
    example = load_examples(small_corpus_files[1], docs)[0]
    bot = Re3G(index=str(small_index), docs=str(small_corpus_files[0]), learned=False)
    variants = {v.kind: v for v in turn_variants(bot, example, docs)}
    assert "answerable" in variants and "no_gold_document" in variants
    gold_docs = example.gold_doc_ids
    assert not any(h.passage.doc_id in gold_docs for h in variants["no_gold_document"].hits)
    # the corpus it is read in lacks the gold documents too (the coverage signals read it)
    left = variants["no_gold_document"].documents
    assert left is not None and not gold_docs & set(left)
    assert len(left) == len(docs) - len(gold_docs)
    if "other_domain" in variants:
        domains = {docs[d].domain for d in gold_docs}
        assert all(h.passage.domain not in domains for h in variants["other_domain"].hits)
    blanked = variants["gold_removed"]
    for doc_id, span_id in example.gold_span_ids:
        gold = docs[doc_id].span(span_id)
        assert not blanked.documents[doc_id].text[gold.start:gold.end].strip()
        assert all(gold.text.strip() not in h.passage.text for h in blanked.hits
                   if h.passage.doc_id == doc_id and len(gold.text.strip()) > 20)
    rec = variant_signals(bot, example, blanked)
    assert rec["kind"] == "gold_removed" and not rec["answerable"]
    assert rec["pick_right"] is None  # whether the pick is right: only where the gold stays
    kept = variant_signals(bot, example, variants["answerable"])
    from re3g.evaluate.answerability import pick_right

    ranking, evidence, _, _ = bot.assess(example.history, bot.build_query(example.history),
                                         variants["answerable"].hits)
    assert kept["pick_right"] is pick_right(example, evidence)
    from re3g.decide import SIGNALS

    assert set(rec["signals"]) == set(SIGNALS) and "evidence_overlap" in SIGNALS


def test_null_signal_is_the_reading_of_what_the_reader_was_shown(small_index,
                                                                 small_corpus_files) -> None:
    """The decision's ``null`` is the reader's "not in this passage" logit for the top passage
    as the extractor read it (with the reference span blanked out), taken from the reader's
    memory: the decision costs no second forward pass, and the unblanked text is read afresh."""
    from re3g.data import load_documents, load_examples
    from re3g.evaluate.unanswerable import turn_variants, variant_signals
    from re3g.extract.reader import passage_window
    from re3g.pipeline import Re3G

    docs = load_documents(small_corpus_files[0])
    bot = Re3G(index=str(small_index), docs=str(small_corpus_files[0]), learned=False)
    ex = bot.extractor
    for example in load_examples(small_corpus_files[1], docs)[:8]:
        blanked = {v.kind: v for v in turn_variants(bot, example, docs)}["gold_removed"]
        turns = example.history
        top = bot.rank(bot.build_query(turns), blanked.hits, turns).hits
        if passage_window(top[0].passage, docs) != passage_window(top[0].passage,
                                                                  blanked.documents):
            break  # the passage read first lost its reference span
    else:
        raise AssertionError("no turn whose top passage held its blanked reference span")
    rec = variant_signals(bot, example, blanked)
    query = bot.build_query(turns)
    forwards: list[int] = []
    real = ex.model._forward
    ex.model._forward = lambda q, windows, keep: (forwards.append(len(windows)),
                                                  real(q, windows, keep))[1]
    try:
        null = ex.null_score(query, top, blanked.documents, ex.question(turns))
        assert forwards == [] and rec["signals"]["null"] == round(null, 4) != 0.0
        original = ex.null_score(query, top, docs, ex.question(turns))
    finally:
        ex.model._forward = real
    assert forwards == [1] and original != null


def test_check_null_is_the_checkers_reading_of_the_top_evidence_passage(
        small_index, small_corpus_files) -> None:
    """With a checker (a second start/end reader; here the project's reader stands in for it)
    the decision's ``check_null`` is that reader's "not in this passage" logit for the passage
    the top evidence comes from, read with the checker's own question; without one it is 0."""
    from re3g.data import load_documents, load_examples
    from re3g.extract import default_extractor_path
    from re3g.pipeline import Re3G

    docs = load_documents(small_corpus_files[0])
    example = load_examples(small_corpus_files[1], docs)[0]
    turns = example.history
    plain = Re3G(index=str(small_index), docs=str(small_corpus_files[0]), learned=False,
                 checker="off")
    bot = Re3G(index=str(small_index), docs=str(small_corpus_files[0]), learned=False,
               checker=str(default_extractor_path()))
    assert plain.checker is None and bot.checker is not None
    query = bot.build_query(turns)
    _, hits = bot.candidates(turns)
    ranking, evidence, _, _ = bot.assess(turns, query, hits)
    signals = bot.signals(turns, ranking, evidence)
    [read] = [h for h in ranking.hits if h.passage.pid == evidence[0].passage_id]
    want = bot.checker.null_score(query, [read], docs, bot.checker.question(turns))
    assert signals.check_null == pytest.approx(want) and want != 0.0
    assert plain.signals(turns, plain.rank(query, hits, turns), evidence).check_null == 0.0


def test_a_checker_must_be_a_reader_and_a_decision_that_reads_one_needs_it(
        tmp_path: Path) -> None:
    """A span scorer named as the checker is refused with its name; a decision trained with a
    checker is not used without it (``learned = true``: a ModelError saying so)."""
    from re3g.models import model_path
    from re3g.pipeline import Re3G

    with pytest.raises(ModelError, match="checker .*extractor.*start/end reader"):
        _ = Re3G(checker=str(model_path("extractor"))).checker
    manifest = json.loads((model_path("answerability") / "manifest.json").read_text())
    manifest["requires"]["checker"] = "checker"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="trained with checker 'checker'"):
        _ = Re3G(answerability=str(tmp_path), learned=True, checker="off").rule
    assert not hasattr(Re3G(answerability=str(tmp_path), checker="off").rule, "names")


def test_learned_rule_checks_its_components_and_file(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from re3g.decide import LearnedRule

    rule = LearnedRule({"signals": ["relevance"], "mean": [0.0], "scale": [1.0], "coef": [1.0],
                        "intercept": 0.0, "threshold": 0.5,
                        "requires": {"reranker": "reranker", "cross": True}})
    tower = SimpleNamespace(path="models/reranker")
    assert rule.mismatch(tower, object(), None) is None
    assert "cross" in (rule.mismatch(tower, None, None) or "")
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="manifest.json.*re3g train answerability"):
        LearnedRule.load(tmp_path)
    with pytest.raises(ModelError, match="unknown signals"):
        LearnedRule({"signals": ["magic"], "mean": [0], "scale": [1], "coef": [1],
                     "intercept": 0, "threshold": 0.5})


def test_a_decision_fitted_under_other_reader_settings_is_named(
        caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    """The decision's manifest records the reader settings its signals came from
    (``reader``, written by ``re3g train answerability``); a pipeline whose reader has other
    settings still uses it but says which, and a decision fitted under the reader in use
    says nothing."""
    import logging

    from re3g.config import Config
    from re3g.decide import LearnedRule, reader_settings
    from re3g.models import model_path
    from re3g.pipeline import Re3G

    shipped = model_path("answerability")
    manifest = json.loads((shipped / "manifest.json").read_text())
    now = reader_settings(Re3G(Config(learned=False)).extractor)
    assert now["other.skip_quotes"] is True and "sureness" in now
    for name, reader in (("same", now), ("older", {**now, "other.skip_quotes": None,
                                                    "type_weight": 4.0})):
        folder = tmp_path / name / "answerability"
        folder.mkdir(parents=True)
        for f in shipped.iterdir():
            if f.name != "manifest.json":
                (folder / f.name).symlink_to(f.resolve())
        (folder / "manifest.json").write_text(json.dumps({**manifest, "reader": reader}))
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="re3g.pipeline"):
            assert isinstance(Re3G(Config(answerability=str(folder))).rule, LearnedRule)
        said = [r.getMessage() for r in caplog.records if "reader settings" in r.getMessage()]
        if name == "same":
            assert said == []
        else:
            assert len(said) == 1 and "other.skip_quotes True (fitted with None)" in said[0]
            assert "type_weight None (fitted with 4.0)" in said[0]


def test_shipped_decision_matches_the_default_ranking(caplog: pytest.LogCaptureFixture,
                                                     doc2dial_docs) -> None:
    """The shipped answerability model was trained on the default ranking's signals; a
    pipeline with another ranking still uses it but says so once, naming the setting."""
    import logging

    from re3g.config import Config
    from re3g.decide import LearnedRule
    from re3g.models import model_path
    from re3g.pipeline import Re3G

    rule = LearnedRule.load(model_path("answerability"))
    assert rule.manifest["ranking"]["current_weight"] == Config().current_weight
    # two calibrations: doc2dial's turns get the one it was trained for, the sample corpus
    # (documents no model here was trained on) the other one
    from re3g.retrieve.index import corpus_fingerprint

    assert rule.calibrations == ("tuned", "other")
    d2d = corpus_fingerprint(doc2dial_docs.values())
    assert rule.for_corpus(d2d).calibration == "tuned"
    sample = Re3G(Config())
    assert sample.rule.calibration == "other"
    assert sample.rule.threshold == rule.manifest["other"]["threshold"] != rule.threshold
    assert sample.answer("How much does a day pass cost?").extra["calibration"] == "other"
    forced = Re3G(Config(calibration="tuned"))
    assert forced.rule.calibration == "tuned" and forced.rule.threshold == rule.threshold
    assert rule.ranking_differs(Config(), Re3G(Config()).cascade()) == []
    # the cascade's depth is unset in the config (the cross-encoder's manifest decides), so
    # the check compares what the pipeline resolved
    bot = Re3G(Config(document_weight=0.25, cross_depth=5, learned=True))
    with caplog.at_level(logging.WARNING, logger="re3g.pipeline"):
        assert isinstance(bot.rule, LearnedRule)
    assert "document_weight 0.25 (trained with 0.1)" in caplog.text
    assert f"cross_depth 5 (trained with {rule.manifest['ranking']['cross_depth']})" in caplog.text


def test_report_counts_right_answers_after_a_document_change() -> None:
    from re3g.evaluate.answerability import answerability_metrics

    rows = [{"answerable": True, "grounded": True, "right": True, "confidence": 0.9,
             "document_change": True},
            {"answerable": True, "grounded": True, "right": False, "confidence": 0.8,
             "document_change": True},
            {"answerable": True, "grounded": True, "right": True, "confidence": 0.7,
             "document_change": False}]
    block = answerability_metrics(rows)
    assert block["n_document_change"] == 2 and block["right_after_document_change"] == 50.0
    assert "n_document_change" not in answerability_metrics(rows[2:])


def test_written_rows_weigh_like_doc2dial_and_the_threshold_serves_both() -> None:
    """``re3g train answerability`` learns from a hand-written set beside doc2dial: its rows
    weigh as much in all as the doc2dial rows, each source gets its own report, and the
    threshold answers ``answer_rate`` of each source's answerable turns on average. The rows
    are the shape the trainer caches; their signals are drawn so the two sources differ in
    scale, as doc2dial turns and turns over other documents do."""
    import random

    from re3g.decide import SIGNALS
    from re3g.train.answerability import fit

    rng = random.Random(3)
    rows = []
    for source, n, shift in (("doc2dial", 400, 0.5), ("written", 60, 0.0)):
        for i in range(n):
            answerable = i % 4 != 0
            base = shift + (0.3 if answerable else 0.0)
            rows.append({"dial_id": f"{source}-{i // 5}", "kind": "answerable" if answerable
                         else "other_domain", "answerable": answerable, "source": source,
                         "signals": {s: base + rng.gauss(0, 0.15) for s in SIGNALS}})
    model, report = fit(rows, folds=5, answer_rate=0.9, seed=0)
    by = report["by_source_doc2dial"], report["by_source_written"]
    assert (by[0]["answered"] + by[1]["answered"]) / 2 >= 0.9
    assert by[1]["rows"] == 60 and by[1]["AUROC"] > 0.8
    assert len(model["coef"]) == len(SIGNALS) and 0.0 < model["threshold"] < 1.0
    # the caution level: the confidence 80% of answerable turns reach, above the threshold
    sure = report["tradeoff"]["answer_rate_0.8"]["min_confidence"]
    assert model["sure"] == round(sure, 4) > model["threshold"]


def test_written_rows_give_the_decision_its_other_documents_calibration() -> None:
    """The written rows (turns over documents no model here was trained on) also fit a second
    regression alone, ``other``, whose threshold answers ``answer_rate`` of their answerable
    turns out of fold. Here a signal (``relevance``) separates on doc2dial only and another
    (``cross``) on the written set only, as the doc2dial-trained signals do: the shared
    regression leans on ``relevance``, the other one on ``cross``, and each corpus gets its
    own. The rule picks the calibration by the corpus's fingerprint; a config can force one."""
    import random

    from re3g.decide import LearnedRule, Signals
    from re3g.train.answerability import fit

    rng = random.Random(11)
    rows = []
    for source, n in (("doc2dial", 400), ("written", 150)):
        for i in range(n):
            ok = i % 4 != 0
            sig = {"relevance": rng.gauss(0, 1), "cross": rng.gauss(0, 1)}
            sig["relevance" if source == "doc2dial" else "cross"] += 2.0 if ok else 0.0
            rows.append({"dial_id": f"{source}-{i // 5}", "kind": "answerable" if ok else
                         "written_unanswerable", "answerable": ok, "source": source,
                         "signals": sig})
    model, report = fit(rows, folds=5, answer_rate=0.9, seed=0, signals=["relevance", "cross"],
                        calibrations=2)
    other = model["other"]
    assert abs(model["coef"][0]) > abs(model["coef"][1])  # doc2dial's: relevance
    assert abs(other["coef"][1]) > abs(other["coef"][0])  # the other one: cross
    assert report["other"]["rows"] == 150 and report["other"]["answered"] >= 0.9
    assert 0.0 < other["threshold"] < 1.0
    # doc2dial's threshold is its own (no longer an average with the written rows')
    assert report["by_source_doc2dial"]["answered"] >= 0.9
    assert report["other"]["AUROC"] > report["by_source_written"]["AUROC"]
    assert other["sure"] >= other["threshold"]
    # with one calibration the written rows join the first regression, as before
    one, one_report = fit(rows, folds=5, answer_rate=0.9, seed=0, written_weight=0.1,
                          signals=["relevance", "cross"])
    assert "other" not in one and "other" not in one_report
    rule = LearnedRule({**model, "tuned_corpus": "d2d"})
    assert rule.calibrations == ("tuned", "other")
    tuned, rest = rule.for_corpus("d2d"), rule.for_corpus("my-own-documents")
    assert (tuned.calibration, rest.calibration) == ("tuned", "other")
    assert rest.threshold == other["threshold"] and rest.sure == other["sure"]
    # a written-style answerable turn: cross high, relevance at its unanswerable level
    turn = Signals(relevance=0.0, cross=2.5)
    assert rest.probability(turn) > tuned.probability(turn)
    assert rule.for_corpus(None).calibration == "other"  # no fingerprint: not the tuned corpus
    assert rule.for_corpus("my-own-documents", "tuned") is rule
    # the user's threshold holds in both calibrations
    assert LearnedRule(rule.manifest, 0.42).for_corpus("x").threshold == 0.42
    # a model trained without written sets has one calibration for every corpus
    plain, _ = fit([r for r in rows if r["source"] == "doc2dial"], folds=5, answer_rate=0.9,
                   seed=0, signals=["relevance", "cross"], calibrations=2)
    assert "other" not in plain and LearnedRule(plain).for_corpus("x").calibration == "tuned"
    with pytest.raises(ModelError, match="calibration"):
        rule.for_corpus("x", "sideways")
    broken = LearnedRule({**rule.manifest, "other": {"signals": ["cross"]}}, path="m")
    with pytest.raises(ModelError, match="m: its 'other' calibration is not usable"):
        broken.for_corpus("x")


def test_a_topic_gate_that_stops_too_many_written_turns_is_refused_not_switched_off() -> None:
    """When the gate stops more written answerable turns than ``1 - answer_rate``, no
    threshold of the other calibration answers its share: the fit says so (a threshold of 0
    would otherwise answer every turn, the gated ones included), and a rule never answers a
    turn its gate stops."""
    import numpy as np

    from re3g.decide import LearnedRule, Signals
    from re3g.train.answerability import fit_other

    rng = np.random.default_rng(1)
    y = np.r_[np.ones(80), np.zeros(40)].astype(int)
    x = np.c_[y + rng.normal(0, 0.8, 120)]
    reach = np.ones(120)
    reach[:16] = 0.5  # the gate stops 20% of the answerable turns
    _, report, _ = fit_other(x, y, np.arange(120) // 3, np.ones(120, bool), reach, 5, 0.9, 0,
                             ["cross"], np.zeros(120, bool))
    assert report["answered"] < 0.9
    gate = {"signals": ["relevance"], "mean": [0.0], "scale": [1.0], "coef": [10.0],
            "intercept": -2.0, "floor": 0.5}
    rule = LearnedRule({"signals": ["cross"], "mean": [0.0], "scale": [1.0], "coef": [1.0],
                        "intercept": 0.0, "threshold": 0.0, "topic": gate})
    assert not rule.decide(Signals(relevance=0.0, cross=3.0)).grounded
    assert rule.decide(Signals(relevance=1.0, cross=3.0)).grounded


def test_the_decision_reads_the_signals_that_separate_on_every_source() -> None:
    """``--signals agree`` keeps a signal only when it separates answerable from
    unanswerable turns on doc2dial and on the written set alone, in the same direction; a
    signal that separates on doc2dial only (here ``relevance``) is left out, and so is one
    that separates nowhere (``gap``). A named list is checked against the known signals."""
    import random

    from re3g.decide import SIGNALS
    from re3g.errors import DataError
    from re3g.train.answerability import chosen_signals, fit

    rng = random.Random(5)
    rows = []
    for source, n in (("doc2dial", 200), ("written", 80)):
        for i in range(n):
            ok = i % 3 != 0
            sig = {s: rng.gauss(0, 1) for s in SIGNALS}
            sig["cross"] += 1.5 if ok else 0.0
            sig["null"] -= 1.5 if ok else 0.0
            sig["relevance"] += (1.5 if ok else 0.0) if source == "doc2dial" else 0.0
            rows.append({"dial_id": f"{source}-{i // 4}", "kind": "answerable" if ok
                         else "no_gold_document", "answerable": ok, "source": source,
                         "signals": sig})
    names, why = chosen_signals("agree", rows)
    assert names == ["cross", "null"]
    assert why["single_AUROC"]["relevance"]["doc2dial"] > 0.7 > why["single_AUROC"][
        "relevance"]["written"]
    model, _ = fit(rows, folds=5, answer_rate=0.9, seed=0, signals=names)
    assert model["signals"] == ["cross", "null"] and len(model["coef"]) == 2
    assert chosen_signals("all", rows)[0] == list(SIGNALS)
    assert chosen_signals("cross, overlap", rows)[0] == ["cross", "overlap"]
    with pytest.raises(DataError, match="unknown signals.*'bogus'"):
        chosen_signals("cross,bogus", rows)


def _gate_rows(seed: int = 7) -> list[dict]:
    """Rows as the trainer caches them: on each source, answerable turns, on-topic
    unanswerable ones (told apart by ``cross``) and off-topic questions (told apart by
    ``relevance``, which says nothing about the on-topic ones). Off-topic rows sit 4 standard
    deviations lower on ``relevance``: at 3 the share the gate stops moved between 0.77 and 0.89
    with the draw (a new signal in SIGNALS changes the draw)."""
    import random

    from re3g.decide import SIGNALS

    rng = random.Random(seed)
    rows = []
    for source, n in (("doc2dial", 240), ("written", 90)):
        for i in range(n):
            kind = ("answerable", "no_gold_document", "off_topic")[i % 3]
            sig = {s: rng.gauss(0, 1) for s in SIGNALS}
            sig["cross"] += 2.0 if kind == "answerable" else 0.0
            sig["relevance"] += -4.0 if kind == "off_topic" else 0.0
            sig["cross"] += 2.0 if kind == "off_topic" else 0.0  # looks answerable to `cross`
            group = f"off_topic:{i // 3}" if kind == "off_topic" else f"{source}-{i // 6}"
            rows.append({"dial_id": group, "kind": kind, "answerable": kind == "answerable",
                         "source": source, "signals": sig})
    return rows


def test_a_topic_gate_learnt_from_off_topic_questions_refuses_them() -> None:
    """With off-topic rows the trainer learns a second regression, answerable against
    off-topic, over the signals that tell those apart on every source; below its floor a turn
    is refused whatever the first regression says (which, trained without the off-topic rows,
    would answer them). The floor's miss rate is chosen on train folds from TOPIC_MISS; the
    shipped LearnedRule applies the gate as the trainer measured it."""
    from types import SimpleNamespace

    from re3g.decide import LearnedRule, Signals
    from re3g.train.answerability import TOPIC_MISS, choose_topic_miss

    rows = _gate_rows()
    args = SimpleNamespace(folds=5, answer_rate=0.9, seed=0, written_weight=0.1,
                           calibrations=1, other_threshold="rate")
    model, report = choose_topic_miss(rows, args, ["cross"])
    gate = model["topic"]
    assert "relevance" in gate["signals"] and "cross" not in gate["signals"]
    assert gate["miss"] in TOPIC_MISS and report["topic_miss"]["chosen"] == gate["miss"]
    assert set(report["topic_miss"]["grid"]) == {str(m) for m in TOPIC_MISS}
    stopped = report["stopped_by_topic_gate"]
    assert stopped["off_topic"] > 0.8 and stopped["answerable"] <= gate["miss"] + 0.05
    assert report["refused_by_kind"]["off_topic"] > 0.8
    assert report["answered"] >= 0.88
    rule = LearnedRule(model)
    sure_by_cross = Signals(cross=4.0, relevance=-3.0)
    assert rule.probability(sure_by_cross) > rule.threshold  # the first regression answers
    decision = rule.decide(sure_by_cross)
    assert not decision.grounded and 0.0 <= decision.confidence < rule.threshold
    assert rule.decide(Signals(cross=4.0, relevance=0.0)).grounded
    # with two calibrations the gate serves both, and the miss chosen leaves the written
    # rows' own threshold answering its share (a miss whose gate stops more is refused:
    # test_a_topic_gate_that_stops_too_many_written_turns_is_refused_not_switched_off)
    args.calibrations = 2
    two, two_report = choose_topic_miss(rows, args, ["cross"])
    assert two_report["other"]["answered"] >= 0.9 and two["other"]["threshold"] > 0.0
    assert two_report["other"]["refused_off_topic"] > 0.8
    assert LearnedRule(two).for_corpus("x").decide(sure_by_cross).grounded is False
    # without off-topic rows there is no gate, as before
    plain, plain_report = choose_topic_miss([r for r in rows if r["kind"] != "off_topic"],
                                            args, ["cross"])
    assert "topic" not in plain and "topic_miss" not in plain_report
    assert LearnedRule(plain).on_topic(Signals(relevance=-9.0)) == 1.0


def test_a_bad_off_topic_file_is_named_with_its_key(tmp_path: Path) -> None:
    from re3g.train.answerability import load_off_topic

    path = tmp_path / "off.json"
    path.write_text(json.dumps({"questions": ["Who painted the Mona Lisa?", 3]}))
    with pytest.raises(DataError, match=r'off\.json: "questions"\[1\] must be a non-empty'):
        load_off_topic(path)
    path.write_text(json.dumps({"question": ["typo in the key"]}))
    with pytest.raises(DataError, match=r'off\.json: key "questions" must be'):
        load_off_topic(path)
    path.write_text("{not json")
    with pytest.raises(DataError, match=r"off\.json: not a readable JSON file"):
        load_off_topic(path)
    assert load_off_topic(ROOT / "data" / "dev" / "off_topic.json")[0].endswith("?")


def test_the_other_calibration_reads_its_own_signals_and_can_weigh_refusals() -> None:
    """``--other-signals``: the other calibration may read signals the first one does not (a
    signal that separates on the written set only, ``doc_cover`` here); the pipeline then reads
    them on other corpora. ``--other-threshold right-rate``: its threshold keeps the answer
    rate of the answerable turns whose pick is right, so where wrong picks score low it refuses
    more unanswerable turns than the plain rate does; a bad name is named."""
    import argparse
    import random

    from re3g.decide import LearnedRule, Signals
    from re3g.train.answerability import fit, other_names

    rng = random.Random(5)
    rows = []
    for source, n in (("doc2dial", 300), ("written", 200)):
        for i in range(n):
            ok, right = i % 4 != 0, i % 4 == 1 or i % 4 == 2  # a third of the picks wrong
            sig = {"relevance": rng.gauss(0, 1), "cross": rng.gauss(0, 1),
                   "doc_cover": rng.gauss(0, 1)}
            sig["relevance" if source == "doc2dial" else "doc_cover"] += \
                2.0 if right else (1.0 if ok else 0.0)
            rows.append({"dial_id": f"{source}-{i // 5}", "kind": "answerable" if ok else
                         "written_unanswerable", "answerable": ok, "source": source,
                         "signals": sig, "pick_right": right if ok else None})
    same, same_report = fit(rows, folds=5, answer_rate=0.9, seed=0,
                            signals=["relevance", "cross"], calibrations=2)
    own, own_report = fit(rows, folds=5, answer_rate=0.9, seed=0, signals=["relevance", "cross"],
                          calibrations=2, other_signals=["relevance", "cross", "doc_cover"])
    assert same["other"]["signals"] == ["relevance", "cross"] == own["signals"]
    assert own["other"]["signals"] == ["relevance", "cross", "doc_cover"]
    assert own_report["other"]["AUROC"] > same_report["other"]["AUROC"] + 0.2
    assert own_report["other"]["answered"] >= 0.9
    rule = LearnedRule({**own, "tuned_corpus": "d2d"})
    assert rule.for_corpus("mine").reads("doc_cover") and not rule.for_corpus("d2d").reads(
        "doc_cover")
    assert rule.for_corpus("mine").probability(Signals(doc_cover=3.0)) > 0.5
    balanced, bal_report = fit(rows, folds=5, answer_rate=0.9, seed=0,
                               signals=["relevance", "cross"], calibrations=2,
                               other_threshold="right-rate",
                               other_signals=["relevance", "cross", "doc_cover"])
    assert balanced["other"]["threshold"] > own["other"]["threshold"]
    assert bal_report["other"]["refused_unanswerable"] > own_report["other"][
        "refused_unanswerable"]
    assert bal_report["other"]["threshold_rule"] == "right-rate"
    assert bal_report["other"]["right_kept"] >= 0.9  # of the right picks
    assert bal_report["other"]["right"] <= bal_report["other"]["answered"]
    assert balanced["threshold"] == own["threshold"]  # doc2dial's is not touched
    # the trainer checks the options before its runs: a bad name, or no other calibration
    ok = argparse.Namespace(calibrations=2, other_threshold="rate", other_signals="cross,nope")
    with pytest.raises(DataError, match="--other-signals: unknown signals.*'same', 'all'"):
        other_names(ok, [("docs", "dialogues")])
    for args, written in ((argparse.Namespace(**{**vars(ok), "other_signals": "all",
                                                 "calibrations": 1}), ["x"]),
                          (argparse.Namespace(**{**vars(ok), "other_signals": "same",
                                                 "other_threshold": "right-rate"}), [])):
        with pytest.raises(DataError, match="needs --calibrations 2 and at least one"):
            other_names(args, written)
    # right-rate with no right pick among the written turns: named, not an IndexError
    wrong = [{**r, "pick_right": False if r["answerable"] else None} for r in rows]
    with pytest.raises(DataError, match="no answerable written turn has a right pick"):
        fit(wrong, folds=5, answer_rate=0.9, seed=0, signals=["relevance", "cross"],
            calibrations=2, other_threshold="right-rate")


def test_cached_signal_rows_of_other_models_are_not_reused(tmp_path: Path, monkeypatch) -> None:
    """The trainer's cache lines carry a stamp of the model folders; a changed reader setting
    (a new manifest) changes it, so rows read with the old settings are not trained on."""
    import io
    import shutil

    from re3g.train.answerability import CacheFile, pipeline_stamp

    root = tmp_path / "models"
    for name in ("extractor-qa", "answerability"):
        (root / name).mkdir(parents=True)
        (root / name / "manifest.json").write_text('{"settings": {"n_passages": 3}}')
    import re3g.train.answerability as trainer

    monkeypatch.setattr(trainer, "model_path", lambda name: root / name)
    index = tmp_path / "index"
    index.mkdir()
    before = pipeline_stamp(index, None)
    (root / "answerability" / "manifest.json").write_text('{"threshold": 0.5}')
    assert pipeline_stamp(index, None) == before  # its own output does not count
    (root / "extractor-qa" / "manifest.json").write_text('{"settings": {"n_passages": 2}}')
    after = pipeline_stamp(index, None)
    assert after != before and pipeline_stamp(index, "off") != after
    buf = io.StringIO()
    CacheFile(buf, after).write({"id": "t", "kind": "answerable"})
    assert json.loads(buf.getvalue()) == {"id": "t", "kind": "answerable", "stamp": after}
    shutil.rmtree(root / "extractor-qa")
    assert pipeline_stamp(index, None) != after
    # doc2dial rows never read the cross-encoder for other documents: a new one leaves their
    # stamp (skip) as it was and changes the written rows' stamp
    now = pipeline_stamp(index, None)
    (root / "cross-reranker-other").mkdir()
    (root / "cross-reranker-other" / "manifest.json").write_text('{"tuned_corpus": "x"}')
    assert pipeline_stamp(index, None, skip=("cross-reranker-other",)) == now
    assert pipeline_stamp(index, None) != now
    # a candidate reader named with --extractor: its folder and settings are stamped too
    cand = tmp_path / "cand" / "extractor-qa"
    cand.mkdir(parents=True)
    (cand / "manifest.json").write_text('{"settings": {"type_weight": 0}}')
    named = pipeline_stamp(index, None, extractor=cand)
    assert named != pipeline_stamp(index, None)
    (cand / "manifest.json").write_text('{"settings": {"type_weight": 4}}')
    assert pipeline_stamp(index, None, extractor=cand) != named
    # ... and the judge it names beside itself
    (cand.parent / "judge").mkdir()
    (cand.parent / "judge" / "manifest.json").write_text('{"kind": "judge"}')
    (cand / "manifest.json").write_text('{"settings": {"judge": "judge", "judge_weight": 1}}')
    judged = pipeline_stamp(index, None, extractor=cand)
    (cand.parent / "judge" / "manifest.json").write_text('{"kind": "judge", "again": 1}')
    assert pipeline_stamp(index, None, extractor=cand) != judged


def test_a_reader_folder_that_is_not_one_is_named_before_any_run(tmp_path: Path,
                                                                  capsys) -> None:
    """``re3g train answerability --extractor DIR`` (the decision refitted under a candidate
    reader) names a folder without a reader manifest before any signal run."""
    from re3g.cli import main

    assert main(["train", "answerability", "--extractor", str(tmp_path / "nope"),
                 "--cache", str(tmp_path / "cache.jsonl"), "--out", str(tmp_path / "out")]) == 2
    assert "nope: not a reader folder (no manifest.json)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache.jsonl").exists()


def test_coverage_signals_count_what_the_turn_newly_asks(tmp_path: Path) -> None:
    """``doc_cover`` and ``corpus_missing`` read only the words the user's last turn brings
    (not those of earlier turns): a question naming what no sample page mentions (electric
    scooters) leaves words uncovered and missing from the corpus; a follow-up that brings no
    new word is fully covered; what the corpus says is not missing."""
    from re3g.config import Config
    from re3g.data.query import normalize_history
    from re3g.pipeline import Re3G

    bot = Re3G(Config(learned=False))

    def read(*texts: str) -> tuple[float, float]:
        turns, _ = normalize_history(list(texts))
        _, hits = bot.candidates(turns)
        ranking, evidence, _, _ = bot.assess(turns, bot.build_query(turns), hits)
        s = bot.signals(turns, ranking, evidence)
        return s.doc_cover, s.corpus_missing

    day = ("How much is a day pass?", "A day pass costs 8 dollars.")
    assert read(day[0]) == (1.0, 0.0)
    cover, missing = read(*day, "Can I rent electric scooters at the dock?")
    assert missing == 2.0 and cover <= 0.5  # electr, scooter; rent and dock are in the corpus
    assert read(*day, "A day pass?") == (1.0, 0.0)
    assert bot.vocabulary.missing({"scooter"}) == 1
    assert bot.vocabulary.missing({"rent", "dock", "garden"}) == 0
    # the shipped decision's topic gate reads them; a decision that does not (the shipped one
    # without its gate and second calibration) neither computes nor shows them
    from re3g.models import model_path

    shown = Re3G(Config()).answer("How much is a day pass?").extra["signals"]
    assert {"check_null", "doc_cover", "corpus_missing"} <= set(shown)
    manifest = json.loads((model_path("answerability") / "manifest.json").read_text())
    del manifest["topic"], manifest["other"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    shown = Re3G(Config(answerability=str(tmp_path))).answer("How much is a day pass?"
                                                             ).extra["signals"]
    assert "check_null" in shown and "doc_cover" not in shown and "corpus_missing" not in shown


def test_own_history_rows_read_each_turn_after_the_bots_own_replies(tmp_path: Path) -> None:
    """``--histories own``: a written set's rows are read as the chat holds the dialogue, the
    bot's own earlier replies in place of the written agent turns; each row keeps the reply it
    gave (a quote of the page, or "" when refused) and its id is marked, so rows of the two
    kinds never stand in for each other in the cache."""
    import io

    from re3g.train.answerability import CacheFile, collect_written

    dialogue = _dialogue("own", [("user", "How much is a day pass?", []),
                                 ("agent", "Written agent turn about compost bins.", ["4"]),
                                 ("user", "And what does an annual membership cost?", []),
                                 ("agent", "Written agent turn again.", ["4"]),
                                 ("user", "Do you rent electric scooters too?", []),
                                 ("agent", "The documents do not say.", [])])
    path = tmp_path / "dialogues.json"
    path.write_text(json.dumps({"dial_data": {"sample": {"bikeshare-membership": [dialogue]}}}))
    buf = io.StringIO()
    rows = collect_written(SAMPLE, path, {}, CacheFile(buf, "s"), histories="own")
    assert [r["id"].rsplit(":", 1)[1] for r in rows] == ["own_1#own", "own_3#own", "own_5#own"]
    assert all(r["histories"] == "own" and r["source"] == "written" for r in rows)
    page = (SAMPLE / "bikeshare-membership.md").read_text(encoding="utf-8")
    first = rows[0]["kept_reply"]
    assert first and first in page.replace("\n", " ") and "compost" not in first
    assert rows[2]["kept_reply"] == ""  # refused: the next turn would read an empty reply
    assert len(buf.getvalue().splitlines()) == 3  # all written to the cache, stamped
    # one pass of the deployed pipeline gives both: each row's signals are what a pipeline
    # without the learned decision reads after the same history, its reply the chat's answer
    from dataclasses import replace

    from re3g.config import PASSAGE_MAX_WORDS, Config
    from re3g.data.query import normalize_history
    from re3g.evaluate.runner import ensure_index
    from re3g.evaluate.unanswerable import Variant, variant_signals
    from re3g.pipeline import Re3G
    from re3g.train.common import load_written

    docs, _, examples = load_written(SAMPLE, path)
    where = {"index": str(ensure_index(docs, SAMPLE, None, PASSAGE_MAX_WORDS)),
             "docs": str(SAMPLE)}
    from re3g.decide import LAZY_SIGNALS, LearnedRule
    from re3g.models import model_path

    plain = Re3G(Config(learned=False, **where), documents=docs)
    deployed = Re3G(Config(**where), documents=docs)
    assert isinstance(deployed.rule, LearnedRule)
    # a decision that reads none of the costly signals (the shipped one without its topic
    # gate, second calibration and checker signal) still gives rows that hold them all
    manifest = json.loads((model_path("answerability") / "manifest.json").read_text())
    del manifest["topic"], manifest["other"]
    kept = [i for i, n in enumerate(manifest["signals"]) if n not in LAZY_SIGNALS]
    for key in ("signals", "mean", "scale", "coef"):
        manifest[key] = [manifest[key][i] for i in kept]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    bare = Re3G(Config(answerability=str(tmp_path), **where), documents=docs)
    assert isinstance(bare.rule, LearnedRule) and not any(bare.rule.reads(n)
                                                          for n in LAZY_SIGNALS)
    said: list[str] = []
    for ex, row in zip(examples, rows, strict=True):
        question = ex.history[-1].utterance or ""
        seen = replace(ex, history=normalize_history([*said, question])[0])
        _, hits = plain.candidates(seen.history)
        alone = variant_signals(plain, seen, Variant(row["kind"], hits))
        assert row["signals"] == alone["signals"]
        assert set(LAZY_SIGNALS) <= set(row["signals"])
        assert row["kept_reply"] == deployed.answer([*said, question]).kept_reply
        assert variant_signals(bare, seen, Variant(row["kind"], hits),
                               every=True)["signals"] == alone["signals"]
        said += [question, row["kept_reply"]]
    # cached rows are reused as they are, their replies carried into the next turn's history
    again = collect_written(SAMPLE, path, {(r["id"], r["kind"]): r for r in rows},
                            CacheFile(io.StringIO(), "s"), histories="own")
    assert again == rows
    with pytest.raises(ValueError, match="histories"):
        collect_written(SAMPLE, path, {}, CacheFile(io.StringIO(), "s"), histories="mine")
