"""The sentence judge (re3g train judge): does this span answer the question?"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from re3g.errors import ModelError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "doc2dial"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared doc2dial data not present")


def fees_document():
    from re3g.types import Document, Hit, Passage, Span

    parts = ["\n\nPrices\n", "A day pass costs 8 dollars and allows rides of 30 minutes. ",
             "An annual membership costs 90 dollars a year. ",
             "Students pay half price for the annual membership."]
    text, spans, pos = "", [], 0
    for i, t in enumerate(parts):
        spans.append(Span(str(i + 1), pos, pos + len(t), t, is_heading=i == 0))
        text += t
        pos += len(t)
    docs = {"fees": Document("fees", "Prices", text, spans=spans)}
    hits = [Hit(Passage("fees-0", "fees", "Prices", text.strip(), 0, len(text),
                        [s.id for s in spans]), 0.5, 1)]
    return docs, hits


def sentence_reader():
    """The shipped reader on :func:`fees_document`, choosing single sentences (the judge takes
    a range's best span, so a range over all three would gain as much), with its readings of
    "what about students?"."""
    from re3g.extract import SpanExtractor

    docs, hits = fees_document()
    ex = SpanExtractor.load()
    ex.n_passages, ex.unsure, ex.cosine_weight, ex.overlap_weight = 1, {}, 0.0, 0.0
    ex.reader_weight, ex.span_penalty = 0.5, 10.0
    question = "what about students?"
    return ex, docs, hits, question, ex.read(question, hits, docs)


@pytest.fixture(scope="module")
def quick_judge(tmp_path_factory) -> Path:
    from re3g.train import judge

    out = tmp_path_factory.mktemp("judge") / "sentence-judge"
    ap = argparse.ArgumentParser()
    judge.add_arguments(ap)
    args = ap.parse_args(["--profile", "quick", "--out", str(out), "--no-progress",
                          "--docs", str(DATA / "doc2dial_doc.json"),
                          "--train", str(DATA / "doc2dial_dial_train.json"),
                          "--validation", str(DATA / "doc2dial_dial_validation.json")])
    assert judge.run(args) == 0
    return out


def test_training_pairs_hold_the_reference_and_its_passage_neighbours() -> None:
    """Positives are the reference spans; negatives the other spans of their passage (the
    same topic, the wrong sentence) and a few from other passages of the document."""
    from transformers import AutoTokenizer

    from re3g.data import load_documents, load_examples, split_corpus
    from re3g.models import model_path
    from re3g.train.judge import build_pairs

    docs = load_documents(DATA / "doc2dial_doc.json")
    ex = load_examples(DATA / "doc2dial_dial_train.json", docs)[:6]
    docs = {d: docs[d] for e in ex for d in e.gold_doc_ids}
    tok = AutoTokenizer.from_pretrained(str(model_path("cross-reranker")))
    ids, labels = build_pairs(ex, split_corpus(docs.values()), docs, tok, 2, 13)
    assert len(ids) == len(labels) and 0 < sum(labels) < len(labels)
    gold_text = docs[ex[0].references[0].doc_id].span(ex[0].references[0].span_id).text
    words = " ".join(gold_text.split()).lower().split()[:4]
    assert any(" ".join(words) in tok.decode(i).lower() for i, y in zip(ids, labels, strict=True)
               if y)
    assert max(len(i) for i in ids) <= 128


def test_quick_judge_scores_every_body_span_once(quick_judge: Path) -> None:
    from re3g.extract.judge import SentenceJudge

    manifest = json.loads((quick_judge / "manifest.json").read_text())
    assert manifest["kind"] == "judge" and manifest["metrics"]["validation"]["turns"] > 0
    docs, hits = fees_document()
    judge = SentenceJudge.load(quick_judge)
    got = judge.judge_passages("how much is the annual membership?", [hits[0].passage], docs)
    assert sorted(got) == [("fees", "2"), ("fees", "3"), ("fees", "4")]  # not the heading
    assert all(isinstance(v, float) for v in got.values())
    again = judge.judge_passages("how much is the annual membership?", [hits[0].passage], docs)
    assert again == got  # from memory: the decision reads what the reader's choice read


def test_judge_weight_moves_the_reader_to_the_judged_sentence() -> None:
    """``judge_weight`` adds the judge's logit of a range's best span to its score."""
    ex, docs, hits, question, readings = sentence_reader()
    judged = {("fees", "2"): -6.0, ("fees", "3"): -5.0, ("fees", "4"): 6.0}
    ex.judge_weight = 0.0
    alone = ex.select_ranges(readings, hits, docs, 1, None, question, judged=judged)
    ex.judge_weight = 20.0
    steered = ex.select_ranges(readings, hits, docs, 1, None, question, judged=judged)
    assert steered[0].span_ids == ["4"] and "Students pay half" in steered[0].text
    assert alone[0].span_ids != ["4"] or alone[0].text == steered[0].text


def test_the_sureness_reads_the_range_scores_without_the_judges_part() -> None:
    """The judge picks the sentence, but the sureness model (fitted on judge-free scores) reads
    the pick's score and gap without the judge's term: a judge that agrees with the reader
    leaves every feature as it was (session 38: the judge's term made unanswerable turns look
    sure)."""
    ex, docs, hits, question, readings = sentence_reader()
    ex.judge_weight = 0.0
    plain: dict[str, float] = {}
    alone = ex.select_ranges(readings, hits, docs, 1, None, question, features=plain)
    judged = {("fees", sid): (6.0 if [sid] == alone[0].span_ids else -6.0)
              for sid in ("2", "3", "4")}
    ex.judge_weight = 20.0
    found: dict[str, float] = {}
    agreed = ex.select_ranges(readings, hits, docs, 1, None, question, judged=judged,
                              features=found)
    assert agreed[0].span_ids == alone[0].span_ids and agreed[0].judged == 6.0
    assert found == pytest.approx(plain) and found["score_regular"] != 0.0


def test_reader_naming_a_missing_judge_says_how_to_train_it(tmp_path: Path) -> None:
    from re3g.extract import SpanExtractor
    from re3g.models import model_path

    reader = tmp_path / "extractor-qa"
    shutil.copytree(model_path("extractor-qa"), reader)
    mpath = reader / "manifest.json"
    manifest = json.loads(mpath.read_text())
    manifest["settings"].update(judge="sentence-judge", judge_weight=1.0)
    mpath.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="re3g train judge"):
        SpanExtractor.load(reader)


def test_reader_loads_the_judge_it_names(tmp_path: Path, quick_judge: Path) -> None:
    from re3g.extract import SpanExtractor
    from re3g.models import model_path

    reader = tmp_path / "extractor-qa"
    shutil.copytree(model_path("extractor-qa"), reader)
    shutil.copytree(quick_judge, tmp_path / "sentence-judge")
    mpath = reader / "manifest.json"
    manifest = json.loads(mpath.read_text())
    manifest["settings"].update(judge="sentence-judge", judge_weight=1.0)
    mpath.write_text(json.dumps(manifest))
    ex = SpanExtractor.load(reader)
    assert ex.judge is not None
    docs, hits = fees_document()
    got = ex.extract("annual membership price?", hits, docs, top_n=1,
                     current="annual membership price?")
    assert got and got[0].doc_id == "fees"
    # weighed on other documents only (``other.judge_weight``, doc2dial's own weight 0):
    # the judge is loaded, and read only where the other settings are in place
    tuned = manifest["settings"]["other"]["tuned_corpus"]
    manifest["settings"]["judge_weight"] = 0.0
    manifest["settings"]["other"].update(judge_weight=1.0)
    mpath.write_text(json.dumps(manifest))
    ex = SpanExtractor.load(reader)
    assert ex.judge is not None
    readings = ex.read("annual membership price?", hits, docs)
    ex.for_corpus(tuned)
    assert ex.judged("annual membership price?", readings, docs) is None
    got = ex.extract("annual membership price?", hits, docs, top_n=1,
                     current="annual membership price?")
    assert got and got[0].judged is None  # the decision's signal ``judge`` reads 0 then
    ex.for_corpus("another corpus")
    judged = ex.judged("annual membership price?", readings, docs)
    assert judged
    got = ex.extract("annual membership price?", hits, docs, top_n=1,
                     current="annual membership price?")
    # the top evidence carries the judge's log-odds of its best span (``Signals.judge``)
    assert got[0].judged == round(max(judged[("fees", sid)] for sid in got[0].span_ids), 4)


def test_a_copy_of_the_shipped_reader_still_finds_its_judge(tmp_path: Path) -> None:
    """``select_reader``'s candidate copies live in other folders: the judge the shipped
    reader names beside itself (``judge-written``) is still loaded from there, and the
    decision records it by its folder's name either way (session 37)."""
    from re3g.decide import reader_settings
    from re3g.extract import SpanExtractor
    from re3g.models import model_path
    from re3g.train.select_reader import linked_copy

    shipped = model_path("extractor-qa")
    copy = linked_copy(shipped, tmp_path, lambda st: st.update(cosine_weight=3.0))
    ex, own = SpanExtractor.load(copy), SpanExtractor.load(shipped)
    assert ex.judge is not None and own.judge is not None
    assert Path(ex.settings["judge"]).is_absolute()
    assert reader_settings(ex)["judge"] == reader_settings(own)["judge"] == "judge-written"
    assert ex.settings["cosine_weight"] == 3.0


def test_judge_grid_holds_the_shipped_settings() -> None:
    """The selection reports today's F1 beside its choice: today's point must be in its
    grid (the judge's weight at 0)."""
    from re3g.extract import SpanExtractor
    from re3g.train.select_reader import JUDGE_GRID

    ex = SpanExtractor.load()
    for k, values in JUDGE_GRID.items():
        assert getattr(ex, k) in values, k
        for regime in (ex.unsure,):
            if k in regime:
                assert regime[k] in values, k


def test_a_second_reader_read_as_a_judge_scores_every_body_span() -> None:
    """The checker (a start/end reader) as a judge: every body span of the passage gets the
    best score of the reader's ranges on it, the answer's sentence the highest; the reading
    is remembered, so the decision's null score of the same passage reads nothing again."""
    from re3g.extract.judge import ReaderJudge, load_judge
    from re3g.models import model_path

    judge = load_judge(model_path("checker"))
    assert isinstance(judge, ReaderJudge)
    docs, hits = fees_document()
    question = "how much is the annual membership?"
    got = judge.judge_passages(question, [hits[0].passage], docs)
    assert sorted(got) == [("fees", "2"), ("fees", "3"), ("fees", "4")]  # not the heading
    assert max(got, key=got.__getitem__) == ("fees", "3")
    memo = dict(judge.reader.model._memo)
    judge.reader.null_score(question, hits, docs)
    assert judge.reader.model._memo == memo


def test_the_pipeline_reads_its_judge_and_its_checker_with_one_model(tmp_path: Path) -> None:
    """A reader whose judge is the checker's folder shares that model with the decision."""
    from re3g.extract import SpanExtractor, load_checker
    from re3g.extract.judge import ReaderJudge
    from re3g.models import model_path

    reader = tmp_path / "extractor-qa"
    shutil.copytree(model_path("extractor-qa"), reader)
    shutil.copytree(model_path("checker"), tmp_path / "checker")
    mpath = reader / "manifest.json"
    manifest = json.loads(mpath.read_text())
    manifest["settings"].update(judge="checker", judge_weight=0.5)
    mpath.write_text(json.dumps(manifest))
    ex = SpanExtractor.load(reader)
    assert isinstance(ex.judge, ReaderJudge)
    assert load_checker(str(tmp_path / "checker"), ex.judge.reader) is ex.judge.reader
    other = load_checker(str(model_path("checker")), ex.judge.reader)
    assert other is not ex.judge.reader and other.kind == "qa"
    from re3g.config import Config
    from re3g.pipeline import Re3G

    bot = Re3G(Config(extractor=str(reader), checker=str(tmp_path / "checker")))
    assert bot.checker is bot.extractor.judge.reader
    docs, hits = fees_document()
    got = ex.extract("annual membership price?", hits, docs, top_n=1,
                     current="annual membership price?")
    assert got and "3" in got[0].span_ids


def quick_judge_args(out: Path, *extra: str) -> argparse.Namespace:
    """``re3g train judge --profile quick --out OUT`` on the shared doc2dial files, plus
    ``extra`` arguments."""
    from re3g.train import judge

    ap = argparse.ArgumentParser()
    judge.add_arguments(ap)
    return ap.parse_args(["--profile", "quick", "--out", str(out), "--no-progress",
                          "--docs", str(DATA / "doc2dial_doc.json"),
                          "--train", str(DATA / "doc2dial_dial_train.json"),
                          "--validation", str(DATA / "doc2dial_dial_validation.json"),
                          *extra])


def test_a_judge_trains_on_written_pairs_and_never_on_a_choose_or_held_out_set(
        tmp_path: Path) -> None:
    """``--written DOCS DIALOGUES`` trains on a hand-written set's answerable turns over
    other documents instead of doc2dial's (session 36); the manifest names the set and the
    command repeats it. A set settings are chosen on (``data/dev``) is refused before any
    work, naming it."""
    from re3g.errors import DataError
    from re3g.train import judge

    def args(out: Path, *written: str) -> argparse.Namespace:
        return quick_judge_args(out, "--written", *written)

    out = tmp_path / "judge"
    train = (str(ROOT / "data" / "train" / "documents"),
             str(ROOT / "data" / "train" / "dialogues.json"))
    assert judge.run(args(out, *train)) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    st = manifest["settings"]
    assert st["written"] == [list(train)] and st["n_train_turns"] == judge.QUICK_EXAMPLES
    assert 0 < st["n_positive"] < st["n_pairs"] and not st["dev_part_left_out"]
    assert f"--written {train[0]} {train[1]}" in manifest["command"]
    assert train[1] in [d["path"] for d in manifest["data"]]
    with pytest.raises(DataError, match=r"--written .*dev/documents: the sets settings are"):
        judge.run(args(tmp_path / "no", str(ROOT / "data" / "dev" / "documents"),
                       str(ROOT / "data" / "dev" / "dialogues.json")))
    assert not (tmp_path / "no").exists()


def test_a_judge_learns_from_written_turns_the_documents_do_not_answer(tmp_path: Path) -> None:
    """``--unanswerable N`` (session 37) adds, for each written turn the documents do not
    answer, every span of the N passages of its document nearest the question as a negative:
    the judge learns that nothing on an on-topic page may answer. The manifest counts those
    turns and the command repeats the flag; without ``--written`` the flag is refused."""
    from transformers import AutoTokenizer

    from re3g.data.passages import split_corpus
    from re3g.data.words import stem_overlap
    from re3g.errors import DataError
    from re3g.train import common, judge
    from re3g.train.qa import current_document, tempting_passages

    docs_dir, dial_file = ROOT / "data" / "train" / "documents", \
        ROOT / "data" / "train" / "dialogues.json"
    docs, dialogues, examples = common.load_written(docs_dir, dial_file)
    refused = [e for e in examples if not e.answerable][:6]
    about = {d.dial_id: d.doc_id for d in dialogues}
    passages = split_corpus(docs.values())
    by_doc: dict = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    for ex in refused:  # the page the turn is about, nearest passages first
        near = tempting_passages(ex, about, by_doc, 2)
        doc = current_document(ex, about[ex.dial_id])
        assert near and {p.doc_id for p in near} == {doc}
        asked = ex.history[-1].utterance or ""
        best = max(stem_overlap(asked, p.text) for p in by_doc[doc])
        assert stem_overlap(asked, near[0].text) == best
    tok = AutoTokenizer.from_pretrained(str(ROOT / "models" / "judge-written"),
                                        local_files_only=True)
    ids, labels = judge.refusal_pairs(refused, about, passages, docs, tok, 1)
    assert len(refused) <= len(ids) <= len(refused) * judge.MAX_SAME
    assert labels == [0.0] * len(ids)

    args = quick_judge_args

    out = tmp_path / "judge"
    assert judge.run(args(out, "--written", str(docs_dir), str(dial_file),
                          "--unanswerable", "1")) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    st = manifest["settings"]
    assert st["unanswerable"] == 1 and st["n_unanswerable_turns"] == judge.QUICK_EXAMPLES
    assert st["n_train_turns"] == 2 * judge.QUICK_EXAMPLES
    assert manifest["command"].endswith(f"--unanswerable 1 --out {out}")  # no --max-eval given
    with pytest.raises(DataError, match="--unanswerable 1: .* give --written"):
        judge.run(args(tmp_path / "no", "--unanswerable", "1"))
