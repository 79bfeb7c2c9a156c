"""``re3g evaluate`` with the response stage on the small real corpus."""

from __future__ import annotations

import json

import pytest

from re3g.cli import main


@pytest.fixture(scope="module")
def evaluated(small_corpus_files, small_index, tmp_path_factory):
    docs, dials = small_corpus_files
    out = tmp_path_factory.mktemp("eval")
    rc = main(["evaluate", "--docs", str(docs), "--dialogues", str(dials), "--out", str(out),
               "--limit", "5", "--index", str(small_index), "--stages", "response",
               "--no-rerank"])
    assert rc == 0
    return out


def test_report_contract(evaluated):
    report = json.loads((evaluated / "report.json").read_text())
    assert report["n_examples"] == 5
    assert set(report["response"]) == {"F1", "SacreBLEU", "ROUGE-L"}
    systems = report["response_systems"]
    assert list(systems)[0] == "pipeline: extractive"
    assert {"bm25 top passage", "extracted span (copy)", "gold span (oracle)"} <= set(systems)
    assert report["response"] == systems["pipeline: extractive"]
    assert report["response_info"]["n"] >= 1
    assert "failures" in report and report["failures"] == []
    assert "Response" in (evaluated / "report.md").read_text()


def test_predictions_shared_task_format(evaluated):
    preds = json.loads((evaluated / "predictions_response.json").read_text())
    assert preds and all(set(p) == {"id", "utterance"} for p in preds)
    assert all(p["utterance"] for p in preds)
    assert list((evaluated / "cache").glob("response_extractive-*.jsonl"))


def test_rerun_resumes_from_cache(evaluated, small_corpus_files, small_index):
    before = json.loads((evaluated / "report.json").read_text())["response"]
    cached = next((evaluated / "cache").glob("response_extractive-*.jsonl"))
    n_lines = len(cached.read_text().splitlines())
    docs, dials = small_corpus_files
    assert main(["evaluate", "--docs", str(docs), "--dialogues", str(dials), "--out",
                 str(evaluated), "--limit", "5", "--index", str(small_index), "--stages",
                 "response", "--no-rerank"]) == 0
    assert len(cached.read_text().splitlines()) == n_lines  # nothing recomputed
    assert json.loads((evaluated / "report.json").read_text())["response"] == before


def test_failures_recorded_batch_continues(evaluated, small_corpus_files, small_index, tmp_path):
    docs, dials = small_corpus_files
    out = tmp_path / "out"
    rc = main(["evaluate", "--docs", str(docs), "--dialogues", str(dials), "--out", str(out),
               "--limit", "3", "--index", str(small_index), "--stages", "response",
               "--no-rerank", "--generator", "extractive,http",
               "--base-url", "http://127.0.0.1:9/v1", "--generator-model", "x"])
    assert rc == 0
    report = json.loads((out / "report.json").read_text())
    assert report["response"] == report["response_systems"]["pipeline: extractive"]
    assert "pipeline: http" in report["response_systems"]
    assert any(f["stage"] == "response:pipeline: http" for f in report["failures"])


@pytest.mark.parametrize("which", ["docs", "dialogues"])
def test_bad_input_files_exit_2(small_corpus_files, tmp_path, capsys, which):
    docs, dials = small_corpus_files
    bad = tmp_path / f"bad_{which}.json"
    bad.write_bytes(b'{"doc_data": \xff\xfe not json')
    args = {"docs": str(docs), "dialogues": str(dials), which: str(bad)}
    rc = main(["evaluate", "--docs", args["docs"], "--dialogues", args["dialogues"],
               "--out", str(tmp_path / "o"), "--limit", "5"])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad.name) in err
    missing = tmp_path / "missing.json"
    rc = main(["evaluate", "--docs", str(missing), "--dialogues", str(dials),
               "--out", str(tmp_path / "o")])
    assert rc == 2 and "missing.json" in capsys.readouterr().err


def test_abstain_rate_reads_the_pipeline_confidence():
    """The report's abstain_rate uses the interactive pipeline's decision (``Re3G.decide``
    with the reranker's own top score), not the reader's evidence score."""
    from types import SimpleNamespace

    from re3g.decide import Decision
    from re3g.evaluate.response import _confidence
    from re3g.rank import Ranking
    from re3g.types import Evidence

    class Bot:
        def build_query(self, history):
            return "fees?"

        def decide(self, history, query, ranking, evidence):
            ok = (query, ranking.top_score) == ("fees?", 0.5)
            return Decision(0.9 if ok else 0.0, ok, 0.2), None

    ev = [Evidence("d", "t", "text", 0, 4, ["1"], score=0.05)]
    example = SimpleNamespace(history=[])
    rec = {"evidence": ev, "ranking": Ranking(["hit"], 0.5)}
    assert _confidence(Bot(), example, rec) == 0.9
    # a turn whose ranking failed counts as not answered
    assert _confidence(Bot(), example, {"evidence": ev, "ranking": None}) == 0.0


def test_cached_evidence_is_keyed_by_the_models_behind_it(tmp_path):
    """The response stage's evidence cache stamps each loaded model's own folder (the reader,
    the reranker, the cross-encoder), so retraining or swapping any of them recomputes it."""
    import os
    from types import SimpleNamespace

    from re3g.evaluate.response import _model_stamp

    folder = tmp_path / "reader"
    folder.mkdir()
    (folder / "manifest.json").write_text("{}")
    model = SimpleNamespace(path=str(folder))
    before = _model_stamp(model)
    assert before.startswith(str(folder))
    os.utime(folder / "manifest.json", ns=(1, 1))
    assert _model_stamp(model) != before
    other = SimpleNamespace(path=str(tmp_path / "other"))  # a folder without a manifest
    assert _model_stamp(other) == str(tmp_path / "other")
    assert _model_stamp(None) == "" and _model_stamp(SimpleNamespace(path="")) == ""


def test_cached_replies_are_keyed_by_the_generator_code(tmp_path):
    """A change to the code (an edit of the extractive reply, an LLM prompt, the reader) makes
    the response stage compute evidence and replies again instead of reusing cached ones."""
    from re3g.evaluate.records import PACKAGE, code_stamp

    assert len(code_stamp()) == 10 and code_stamp() == code_stamp(PACKAGE)
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "mygen.py").write_text("class Gen:\n    x = 1\n")
    before = code_stamp(tmp_path)
    (tmp_path / "gen" / "mygen.py").write_text("class Gen:\n    x = 2\n")
    code_stamp.cache_clear()
    assert code_stamp(tmp_path) != before
    (tmp_path / "gen" / "mygen.py").write_text("class Gen:\n    x = 1\n")
    code_stamp.cache_clear()
    assert code_stamp(tmp_path) == before  # the content, not the file's time
