"""``re3g train extractor`` (quick profile): trains, evaluates, writes a loadable extractor."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_train_reranker import DATA, data_args, parse

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared doc2dial data not present")


@pytest.mark.parametrize("arch", ["qa", "tower"])
def test_quick_profile_trains_a_loadable_extractor(tmp_path: Path, arch: str) -> None:
    out = tmp_path / "ex"
    args = parse("extractor", ["--arch", arch, "--profile", "quick", "--out", str(out),
                               *data_args()])
    assert args.func(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "extractor"
    assert manifest["command"] == ("re3g train extractor --profile quick" if arch == "tower"
                                   else "re3g train extractor --arch qa --profile quick")
    gold = manifest["metrics"]["grounding_gold_passage"]
    assert 0 <= gold["EM"] <= gold["F1"] <= 100
    assert {"n_passages", "rank_penalty"} <= set(manifest["settings"])
    assert not (tmp_path / ".ex.ckpt.pt").exists()

    from re3g.data import load_documents, split_document
    from re3g.extract import SpanExtractor
    from re3g.types import Hit

    docs = load_documents(DATA / "doc2dial_doc.json")
    doc = next(iter(docs.values()))
    hits = [Hit(p, 1.0, i + 1) for i, p in enumerate(split_document(doc)[:2])]
    extractor = SpanExtractor.load(out)
    assert extractor.kind == arch
    ev = extractor.extract("what do I need?", hits, docs, top_n=2)
    assert 1 <= len(ev) <= 2
    assert ev[0].text == doc.text[ev[0].start:ev[0].end].strip()
    assert ev[0].span_ids and ev[0].start == docs[ev[0].doc_id].span(ev[0].span_ids[0]).start


def test_eval_only_reevaluates_without_training(tmp_path: Path) -> None:
    out = tmp_path / "ex"
    args = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(out),
                               *data_args()])
    assert args.func(args) == 0
    weights = (out / "model.safetensors").read_bytes()
    args = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(out),
                               "--eval-only", *data_args()])
    assert args.func(args) == 0
    assert (out / "model.safetensors").read_bytes() == weights
    assert json.loads((out / "manifest.json").read_text())["metrics"]["grounding_gold_passage"]


def test_reader_question_with_agent_turns(tmp_path: Path) -> None:
    """``--query-roles all``: the reader is trained on, and reads, questions holding the agent's
    replies too; the manifest records the roles and question length it was trained with."""
    out = tmp_path / "ex"
    args = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(out),
                               "--query-roles", "all", "--question-tokens", "96", *data_args()])
    assert args.func(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == ("re3g train extractor --arch qa --profile quick "
                                   "--query-roles all --question-tokens 96")
    assert manifest["settings"]["query_roles"] == "all"
    assert manifest["settings"]["max_question_tokens"] == 96

    from re3g.extract import SpanExtractor
    from re3g.types import Turn

    extractor = SpanExtractor.load(out)
    assert extractor.query_roles == "all"
    assert extractor.model.max_question_tokens == 96
    turns = [Turn(1, "user", "Can I renew?"), Turn(2, "agent", "Yes, online."),
             Turn(3, "user", "What does it cost?")]
    assert extractor.question(turns) == "What does it cost? || Yes, online. || Can I renew?"


def test_reader_warm_start_from_a_trained_reader(tmp_path: Path) -> None:
    """``--init`` continues from a trained start/end reader; a tower extractor is refused with
    a message naming the flag."""
    from re3g.errors import DataError

    first, second = tmp_path / "a", tmp_path / "b"
    args = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(first),
                               *data_args()])
    assert args.func(args) == 0
    args = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(second),
                               "--init", str(first), "--lr", "3e-05", *data_args()])
    assert args.func(args) == 0
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["settings"]["init"] == str(first)
    assert manifest["command"] == ("re3g train extractor --arch qa --profile quick --lr 3e-05 "
                                   f"--init {first}")
    # the manifest keeps the chain of readers it started from, with their commands
    first_manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["init_model"]["path"] == str(first)
    assert manifest["init_model"]["command"] == first_manifest["command"]
    assert manifest["init_model"]["metrics"] == first_manifest["metrics"]
    assert "init_model" not in manifest["init_model"]
    third = tmp_path / "third"
    args = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(third),
                               "--init", str(second), "--seed", "7", *data_args()])
    assert args.func(args) == 0
    third_manifest = json.loads((third / "manifest.json").read_text())
    assert "--seed 7 --init" in third_manifest["command"]  # a seed other than 13 is recorded
    chain = third_manifest["init_model"]
    assert (chain["path"], chain["init_model"]["path"]) == (str(second), str(first))
    assert chain["command"] == manifest["command"]
    _check_average(tmp_path, second, third)
    tower = Path(__file__).resolve().parents[1] / "models" / "extractor"
    args = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(tmp_path / "c"),
                               "--init", str(tower), *data_args()])
    with pytest.raises(DataError, match="--init .*not a start/end reader"):
        args.func(args)


def _check_average(tmp_path: Path, a: Path, b: Path) -> None:
    """``--average A B`` saves the mean of two trained readers' weights, records both sources'
    lineage, validates it like a trained reader, and refuses folders that cannot be averaged."""
    import shutil

    from safetensors.torch import load_file, save_file

    from re3g.errors import DataError
    from re3g.extract import SpanExtractor

    # two quick training steps move weights by less than fp16 resolves: shift b's output layer
    b = shutil.copytree(b, tmp_path / "shifted")
    wb = load_file(str(b / "model.safetensors"))
    key = next(k for k in wb if k.endswith("qa_outputs.weight"))
    wb[key] = wb[key] + 0.5
    save_file(wb, str(b / "model.safetensors"), metadata={"format": "pt"})
    out = tmp_path / "mean"
    args = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(out),
                               "--average", str(a), str(b), *data_args()])
    assert args.func(args) == 0
    wa, wm = (load_file(str(d / "model.safetensors")) for d in (a, out))
    mean = (wa[key].float() + wb[key].float()) / 2
    assert (wm[key].float() - mean).abs().max() < 2e-3  # fp16
    assert (wm[key].float() - wa[key].float()).mean() > 0.2  # halfway, not a copy of either
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == (f"re3g train extractor --arch qa --profile quick "
                                   f"--average {a} {b}")
    assert [m["path"] for m in manifest["averaged_from"]] == [str(a), str(b)]
    assert manifest["averaged_from"][1]["init_model"]["path"] == str(a)  # lineage kept
    assert manifest["settings"]["averaged"] == 2
    assert "F1" in manifest["metrics"]["grounding_gold_passage"]
    assert "n_passages" in manifest["settings"]
    assert SpanExtractor.load(out).kind == "qa"
    bad = [(["--average", str(a)], "at least two"),
           (["--average", str(a), str(a)], "named twice"),
           (["--average", str(a), str(b), "--init", str(a)], "cannot be combined")]
    other = shutil.copytree(b, tmp_path / "other")
    m = json.loads((other / "manifest.json").read_text())
    m["settings"]["query_roles"] = "all" if m["settings"]["query_roles"] == "user" else "user"
    (other / "manifest.json").write_text(json.dumps(m))
    bad.append((["--average", str(a), str(other)], "settings.query_roles"))
    tower = Path(__file__).resolve().parents[1] / "models" / "extractor"
    bad.append((["--average", str(a), str(tower)], "not a start/end reader"))
    for extra, match in bad:
        args = parse("extractor", ["--arch", "qa", "--profile", "quick",
                                   "--out", str(tmp_path / "bad"), *extra, *data_args()])
        with pytest.raises(DataError, match=match):
            args.func(args)
    args = parse("extractor", ["--profile", "quick", "--out", str(tmp_path / "bad"),
                               "--average", str(a), str(b), *data_args()])
    with pytest.raises(DataError, match="add --arch qa"):
        args.func(args)
    assert not (tmp_path / "bad").exists()


def test_reader_trained_on_shuffled_passages_without_the_dev_part(tmp_path: Path) -> None:
    """``--shuffle-sentences`` and ``--hold-out-dev``: the manifest records both, and the dev
    part of train (where select_reader chooses the reader's settings) is left out."""
    from re3g.data import load_documents, load_examples
    from re3g.train import common

    out = tmp_path / "ex"
    args = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(out),
                               "--max-examples", "100", "--shuffle-sentences", "0.5",
                               "--hold-out-dev", *data_args()])
    assert args.func(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"].endswith("--shuffle-sentences 0.5 --hold-out-dev")
    assert manifest["settings"]["shuffle_sentences"] == 0.5
    examples = load_examples(DATA / "doc2dial_dial_train.json",
                             load_documents(DATA / "doc2dial_doc.json"))
    dev = common.dev_dialogue_ids(examples)
    held = {e.dial_id for e in examples[:100] if e.dial_id in dev}
    assert held and manifest["settings"]["held_out_dev_dialogues"] == len(held)

    bad = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(out),
                              "--shuffle-sentences", "2", *data_args()])
    with pytest.raises(Exception, match="between 0 and 1"):
        bad.func(bad)


def test_a_bad_sweep_is_named_before_any_reading() -> None:
    """``select_reader --sweep`` takes TERM=V1,V2,... of a range setting; anything else is one
    line naming it, before the (minutes of) readings start."""
    import subprocess
    import sys

    from re3g.train.select_reader import sweep_spec

    assert sweep_spec("key_weight=0,4") == ("key_weight", [0.0, 4.0])
    for bad, says in [("key_weight", "expected TERM=V1"), ("key_weight=a,b", "expected TERM"),
                      ("colour=1,2", "'colour' is not a range setting")]:
        run = subprocess.run([sys.executable, "-m", "re3g.train.select_reader", "--sweep", bad],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode != 0 and says in run.stderr, run.stderr
        assert "Traceback" not in run.stderr


WRITTEN = (Path(__file__).resolve().parents[1] / "data" / "train" / "documents",
           Path(__file__).resolve().parents[1] / "data" / "train" / "dialogues.json")


def test_reader_continued_on_written_conversations(tmp_path: Path) -> None:
    """``--written``, ``--written-repeat``, ``--unanswerable-nulls`` and ``--doc2dial-turns``:
    a reader trained on a mix of doc2dial and the hand-written training set records all of it;
    the development set and the test suite are refused as training data."""
    from re3g.errors import DataError

    out = tmp_path / "ex"
    args = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(out),
                               "--doc2dial-turns", "4", "--written", *map(str, WRITTEN),
                               "--written-repeat", "2", *data_args()])
    assert args.func(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"].endswith(
        f"--doc2dial-turns 4 --written {WRITTEN[0]} {WRITTEN[1]} --written-repeat 2")
    st = manifest["settings"]
    assert st["doc2dial_turns"] == 4 and st["written_repeat"] == 2
    assert st["unanswerable_nulls"] == 1
    assert st["written_turns"] == {"answerable": 8, "unanswerable": 8}  # quick profile: 8 each
    assert any(d["path"].endswith("data/train/dialogues.json") for d in manifest["data"])
    from re3g.train.common import CHOOSE_SETS, FRESH_SETS, HELD_OUT_SETS

    root = WRITTEN[0].parents[2]  # the project: every choose, held-out and fresh set is refused
    for docs, dialogues in [(root / d, root / f)
                            for d, f in [*CHOOSE_SETS, *HELD_OUT_SETS.values(),
                                         *FRESH_SETS.values()]]:
        bad = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(out),
                                  "--written", str(docs), str(dialogues), *data_args()])
        with pytest.raises(DataError, match="not for training a model"):
            bad.func(bad)
    for flag, value in [("--doc2dial-turns", "0"), ("--written-repeat", "0"),
                        ("--unanswerable-nulls", "-1")]:
        bad = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(out),
                                  flag, value, *data_args()])
        with pytest.raises(DataError, match="a count of at least"):
            bad.func(bad)
    bad = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(out),
                              "--blanked-nulls", "1.5", *data_args()])
    with pytest.raises(DataError, match="--blanked-nulls must be a share"):
        bad.func(bad)
    bad = parse("extractor", ["--arch", "qa", "--profile", "quick", "--out", str(out),
                              "--blanked-nulls", "0.5", *data_args()])
    with pytest.raises(DataError, match="give --written DOCS DIALOGUES too"):
        bad.func(bad)


def test_unanswerable_turns_label_their_closest_passages_no_answer() -> None:
    """An on-topic turn the documents do not answer: the passages of its document sharing the
    most words with it become "no answer" features (start = end = 0)."""
    from transformers import AutoTokenizer

    from re3g.data import build_query, split_corpus
    from re3g.data.corpus import load_corpus
    from re3g.data.dialdoc import examples_from_dialogues, load_dialogues
    from re3g.data.words import stem_overlap
    from re3g.models import base_model_path
    from re3g.train.qa import current_document, unanswerable_features

    docs = load_corpus(WRITTEN[0])
    dialogues = load_dialogues(WRITTEN[1])
    first = {d.dial_id: d.doc_id for d in dialogues}
    examples = [e for e in examples_from_dialogues(dialogues, docs, unanswerable=True)
                if not e.answerable][:5]
    passages = split_corpus(docs.values())
    tok = AutoTokenizer.from_pretrained(base_model_path())
    feats = unanswerable_features(examples, first, passages, docs, tok,
                                  [build_query(e.history) for e in examples], per_turn=2)
    assert len(feats) == 10 and all(f.start == f.end == 0 for f in feats)
    ex = examples[0]
    doc = current_document(ex, first[ex.dial_id])
    own = [p for p in passages if p.doc_id == doc]
    best = max(own, key=lambda p: stem_overlap(ex.history[-1].utterance or "", p.text))
    words = re.findall(r"[a-z0-9]+", docs[doc].text[best.start:best.end].lower())[:12]
    decoded = " ".join(re.findall(r"[a-z0-9]+", tok.decode(feats[0].input_ids).lower()))
    assert " ".join(words) in decoded  # the first feature reads the closest passage


def test_the_reduced_grid_keeps_to_values_the_full_grid_holds() -> None:
    """``select_reader --grid reduced``: 96 points, every value one the full grid searches."""
    import math

    from re3g.train.select_reader import GRID, REDUCED_GRID

    assert set(REDUCED_GRID) == set(GRID)
    assert math.prod(len(v) for v in REDUCED_GRID.values()) == 96
    assert all(set(v) <= set(GRID[k]) for k, v in REDUCED_GRID.items())


def test_a_fresh_set_neither_chooses_nor_trains() -> None:
    """Every fresh set (``data/fresh1``, session 42, ``data/fresh2``, session 43,
    ``data/fresh3``, session 47, ``data/fresh4``, ``data/fresh5`` and ``data/fresh6``, session
    48, ``data/fresh7``, session 49, ``data/fresh8`` and ``data/fresh9``, session 50, and
    ``data/fresh10``, ``data/fresh11`` and ``data/fresh12``, session 51, ``data/fresh13`` and
    ``data/fresh14``, session 52, ``data/fresh15`` to ``data/fresh18``, session 53, and
    ``data/fresh19`` to ``data/fresh21``, session 54, ``data/fresh22`` to ``data/fresh26``,
    session 55, ``data/fresh27`` and ``data/fresh28``, session 56, ``data/fresh29``, session
    57, ``data/fresh30``, session 58, and ``data/fresh31``, session 59) is kept for a gate's
    independent check: each is there and is refused for choosing."""
    from re3g.errors import DataError
    from re3g.models import project_root
    from re3g.train.common import FRESH_SETS, HELD_OUT, checked_sets

    assert {"fresh1", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "fresh7",
            "fresh8", "fresh9", "fresh10", "fresh11", "fresh12", "fresh13",
            "fresh14", "fresh15", "fresh16", "fresh17", "fresh18", "fresh19",
            "fresh20", "fresh21", "fresh22", "fresh23",
            "fresh24", "fresh25", "fresh26", "fresh27", "fresh28", "fresh29",
            "fresh30", "fresh31"} <= set(FRESH_SETS)
    from re3g.train.common import UNREAD_FRESH

    assert set(UNREAD_FRESH) <= set(FRESH_SETS)
    for name, paths in FRESH_SETS.items():
        assert f"data/{name}" in HELD_OUT
        docs, dialogues = (project_root() / p for p in paths)
        assert docs.is_dir() and dialogues.is_file()
        with pytest.raises(DataError, match="must not choose"):
            checked_sets([(docs, dialogues)], [], "choose")
