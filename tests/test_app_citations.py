"""Issue 20 without a server: citations, the document view, feedback, export, the tool switch
and the source file of an upload (uploader only). A fixed pipeline stands in for Re3G: these
check the app's own logic; the real pipeline is driven in tests/test_app_page_browser.py."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

import pytest

pytest.importorskip("gradio")

from re3g.data.dialdoc import examples_from_dialogues, load_dialogues  # noqa: E402
from re3g.data.feedback import feedback_dialogues, read_feedback, to_dial_data  # noqa: E402
from re3g.types import Answer, Document, Evidence, Hit, Passage, Span  # noqa: E402
from re3g_app import AppConfig, ChatApp  # noqa: E402
from re3g_app.citations import cite, marked_markdown, marked_text  # noqa: E402
from re3g_app.docview import Highlight, document_html  # noqa: E402
from re3g_app.feedback import FeedbackLog  # noqa: E402

HEAD = "\n\nPrices"
S1 = "A day pass costs 8 dollars <img src=x onerror=alert(1)>."
S2 = "An annual membership costs 90 dollars."
HEAD2 = "\n\nRefunds"
S3 = "Refunds take five working days."
TEXT = f"{HEAD}\n{S1} {S2}{HEAD2}\n{S3}"


def _doc() -> Document:
    spans, pos = [], 0
    for i, (piece, heading) in enumerate([(HEAD, True), (S1, False), (S2, False),
                                          (HEAD2, True), (S3, False)], 1):
        start = TEXT.index(piece, pos)
        spans.append(Span(str(i), start, start + len(piece), piece, heading))
        pos = start + len(piece)
    return Document("fees", "Fees <script>", TEXT, "sample", spans)


DOC = _doc()


def _ev(span: Span, score: float = 0.8) -> Evidence:
    return Evidence("fees", DOC.title, span.text, span.start, span.end, [span.id], score,
                    "fees#0", "Prices")


def _answer(text: str | None = None) -> Answer:
    p = Passage("fees#0", "fees", DOC.title, TEXT[:DOC.spans[2].end], 0, DOC.spans[2].end,
                ["1", "2", "3"], section="Prices")
    q = Passage("fees#1", "fees", DOC.title, TEXT[DOC.spans[3].start:], DOC.spans[3].start,
                len(TEXT), ["4", "5"], section="Refunds")
    evidence = [_ev(DOC.spans[1]), _ev(DOC.spans[2], 0.6)]
    return Answer(text or f"{S1} {S2} Ask at the desk.", evidence,
                  [Hit(p, 0.05, 1, "rrf"), Hit(q, 0.04, 2, "rrf")], {"total": 0.1}, 0.8, True)


class _Fixed:
    """A pipeline with a fixed answer and the documents behind it."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.answer_ = answer or _answer()
        self.documents = {"fees": DOC}

    def answer(self, history):
        return self.answer_


def _chat(tmp_path, answer: Answer | None = None, **config) -> ChatApp:
    idx = tmp_path / "indexes" / "sample"
    idx.mkdir(parents=True)
    (idx / "manifest.json").write_text(json.dumps({"name": "sample",
                                                   "corpus": {"n_documents": 1}}))
    fixed = _Fixed(answer)
    return ChatApp(AppConfig(indexes_dir=tmp_path / "indexes", **config),
                   factory=lambda *_: fixed)


def test_each_sentence_cites_the_evidence_it_comes_from():
    parts, cites = cite(_answer())
    assert [p.cites for p in parts] == [[1], [2], []]
    assert [(c.n, c.span_ids, c.start) for c in cites] == [(1, ["2"], DOC.spans[1].start),
                                                          (2, ["3"], DOC.spans[2].start)]
    assert marked_text(parts).endswith(f"{S2} [2] Ask at the desk.")
    # a reply that is not grounded cites nothing
    assert cite(Answer("No.", _answer().evidence, grounded=False))[1] == []


def test_a_run_of_sentences_from_one_span_carries_one_marker():
    two = f"{S1} Second sentence here."
    ev = Evidence("fees", "t", two, 0, len(two), ["9"])
    parts, _ = cite(Answer(two, [ev]))
    assert marked_text(parts) == f"{two} [1]"


def test_markers_in_the_chat_are_the_only_markup():
    parts, _ = cite(_answer())
    shown = marked_markdown(parts, key=3)
    assert "<img" not in shown and "&lt;img" in shown
    assert shown.count('<a class="re3g-cite" href="#re3g-cite-3-') == 2


def test_document_view_escapes_marks_and_shows_headings():
    html = document_html(DOC, Highlight(DOC.spans[2].start, DOC.spans[2].end, 0,
                                        DOC.spans[2].end))
    assert '<mark id="re3g-doc-mark">An annual membership costs 90 dollars.</mark>' in html
    assert "<img" not in html and "&lt;img src=x" in html and "<script>" not in html
    assert html.count('class="re3g-doc-h"') == 2 and "Refunds" in html
    assert "re3g-source" not in html  # no source button unless the viewer uploaded it


def test_turn_records_citations_opens_documents_and_exports(tmp_path):
    chat = _chat(tmp_path)
    session = chat.new_session()
    *_, (_, shown, evidence, _, session) = chat.respond("How much is a day pass?", [], session)
    reply = shown[-1]["content"]
    assert 'href="#re3g-cite-1-1"' in reply and 'href="#re3g-cite-1-2"' in reply
    assert "<img" not in reply
    assert 'data-re3g-open="1:0"' in evidence and 'id="re3g-ev-1-1"' in evidence
    doc, ev_again, note, _ = chat.actions.act("cite:1:2", session)
    assert '<mark id="re3g-doc-mark">An annual membership' in doc and not note
    assert ev_again == evidence
    doc, *_ = chat.actions.act("open:1:1", session)  # a passage without the cited span
    assert '<mark id="re3g-doc-mark">Refunds take' not in doc and "re3g-doc-mark" in doc
    for crafted in ("cite:9:1", "open:1:99", "open:../x", "source:../../etc/passwd", "zz"):
        _, _, note, payload = chat.actions.act(crafted, session)
        assert payload == ""
    exported = json.loads(chat.actions.api_export("json", session))
    first = exported["exchanges"][0]
    assert first["reply_marked"].count("[1]") == 1 and first["citations"][1]["span_ids"] == ["3"]
    md = chat.actions.api_export("markdown", session)
    assert "\\[2\\] Fees" in md and "<img" not in md and "&lt;img" in md


def test_api_chat_cited_streams_then_gives_structured_citations(tmp_path):
    chat = _chat(tmp_path)
    steps = [d for d, _ in chat.api_chat_cited("How much is a day pass?", chat.new_session())]
    final = steps[-1]
    assert final["final"] is True and final["route"] == "docs"
    assert [(c["marker"], c["doc_id"], c["span_ids"]) for c in final["citations"]] == [
        ("[1]", "fees", ["2"]), ("[2]", "fees", ["3"])]
    assert final["citations"][0]["start"] == DOC.spans[1].start


def test_feedback_lines_become_dialogues_for_evaluate(tmp_path):
    chat = _chat(tmp_path)
    session = chat.new_session()
    list(chat.respond("How much is a day pass?", [], session))
    chat.actions.on_like(session, SimpleNamespace(index=1, liked=True))
    chat.actions.act("right:1:1", session)  # the refunds passage is the right one
    list(chat.respond("And a year?", [], session))  # key 1 again in a new chat list: replaced
    path = chat.config.feedback_path
    records = read_feedback(path)
    assert [r["choice"]["kind"] for r in records] == ["up", "passage"]
    assert records[0]["question"] == "How much is a day pass?"
    assert records[0]["evidence"][0]["span_ids"] == ["2"]
    dialogues = load_dialogues(path)  # what `re3g evaluate --dialogues feedback.jsonl` reads
    assert len(dialogues) == 1  # one reply: the passage choice wins over the thumbs up
    agent = dialogues[0].turns[-1]
    assert [r.span_id for r in agent.references] == ["4", "5"] and agent.utterance is None
    examples = examples_from_dialogues(dialogues, {"fees": DOC})
    assert examples[0].gold_span_ids == {("fees", "4"), ("fees", "5")}
    assert to_dial_data(dialogues)["dial_data"]["feedback"][0]["turns"][-1]["references"]


def test_feedback_appends_whole_lines_from_many_threads(tmp_path):
    log = FeedbackLog(tmp_path / "f" / "feedback.jsonl")
    big = "x" * 20_000

    def write(i: int) -> None:
        for j in range(20):
            log.append({"i": i, "j": j, "pad": big})

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = log.path.read_text().splitlines()
    assert len(lines) == 160 and all(json.loads(x)["pad"] == big for x in lines)
    assert feedback_dialogues([{"question": "q", "choice": {"kind": "down"}}]) == []


def test_switch_asks_the_other_tool_in_place(tmp_path):
    chat = _chat(tmp_path)
    session = chat.new_session()
    *_, (_, shown, _, _, session) = chat.respond("How much is a day pass?", [], session)
    line, button = chat.actions.tool_line(session)
    assert "documents" in line and button["value"] == "Ask the code tool instead"
    chat.code_tool.stream = lambda q: iter(["def f(): pass"])  # no model in this test
    *_, (_, shown, _, _, session) = chat.switch_tool(shown, session)
    assert len(shown) == 2 and shown[-1]["content"] == "def f(): pass"
    line, button = chat.actions.tool_line(session)
    assert "code tool" in line and button["value"] == "Answer from the documents instead"
    *_, (_, shown, _, _, session) = chat.switch_tool(shown, session)
    assert len(shown) == 2 and "re3g-cite" in shown[-1]["content"]
    assert session.history[0] == "How much is a day pass?" and len(session.history) == 2


def test_switch_after_a_refused_turn_asks_the_question_once(tmp_path):
    # a refused turn keeps its question with an empty reply; switching tools replaces it
    refused = _answer()
    refused.grounded, refused.confidence = False, 0.1
    chat = _chat(tmp_path, answer=refused)
    session = chat.new_session()
    *_, (_, shown, _, _, session) = chat.respond("Is there a sauna?", [], session)
    assert session.history == ["Is there a sauna?", ""]
    chat.code_tool.stream = lambda q: iter(["print('Paris')"])  # no model in this test
    *_, (_, shown, _, _, session) = chat.switch_tool(shown, session)
    assert session.history == [] and len(shown) == 2


def test_source_file_only_for_the_uploading_session(tmp_path):
    chat = _chat(tmp_path, share_uploads=True)
    owner, other = chat.new_session(), chat.new_session()
    folder = chat.catalog.session_dir(owner.id) / "fees"
    (folder / "sources").mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"name": "fees", "shared": True,
                                                      "corpus": {"n_documents": 1}}))
    (folder / "sources" / "fees.md").write_text("# Fees\n")
    (folder / "sources.json").write_text(json.dumps({"fees": "fees.md", "x": "../../secret"}))
    key = f"upload:{owner.id}/fees"
    owner.corpus = other.corpus = key
    payload = json.loads(chat.actions.act("source:fees", owner)[3])
    assert payload["name"] == "fees.md" and payload["data"]
    _, _, note, payload = chat.actions.act("source:fees", other)  # a shared corpus: no source
    assert payload == "" and "only available" in note
    assert chat.actions.act("source:x", owner)[3] == ""  # names outside sources/ are refused
