"""The app's pieces without a server: evidence HTML, corpus privacy, message checks."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("gradio")

from re3g.errors import DataError, Re3GError  # noqa: E402
from re3g.types import Answer, Evidence, Hit, Passage  # noqa: E402
from re3g_app import AppConfig, ChatApp  # noqa: E402
from re3g_app.corpora import CorpusCatalog, corpus_slug, new_session_id  # noqa: E402
from re3g_app.render import evidence_html, highlight  # noqa: E402
from re3g_app.session import TENTATIVE_NOTE  # noqa: E402
from re3g_app.settings import Settings  # noqa: E402


def _index(folder, name="x", n_docs=1):
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"name": name,
                                                      "corpus": {"n_documents": n_docs}}))
    return folder


def _answer(confidence=0.9, grounded=True):
    text = "Intro <b>bold</b>. A day pass costs 8 dollars. Bye."
    p = Passage("d::p0", "d", "Passes & prices", text, 100, 100 + len(text), ["1", "2"],
                section="Types of passes")
    start = 100 + text.index("A day")
    ev = Evidence("d", p.title, "A day pass costs 8 dollars.", start, start + 27, ["2"], 0.7,
                  "d::p0", p.section)
    return Answer("A day pass costs 8 dollars.", [ev], [Hit(p, 0.031, 1, "rrf")],
                  {"retrieve": 0.012, "extract": 0.2}, confidence, grounded)


def test_highlight_escapes_and_marks():
    html = highlight("x <script>alert(1)</script> Pay online.", "Pay online.")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.endswith("<mark>Pay online.</mark>")
    assert highlight("a  b\nc d", "b c") == "a  <mark>b\nc</mark> d"
    assert highlight("0123456789", "zz", 4) == "0123<mark>45</mark>6789"
    assert highlight("abc", "zzz") == "abc"


def test_evidence_panel_shows_span_title_section_scores_timings():
    html = evidence_html(_answer(), True, 0.2, "sample")
    assert "<mark>A day pass costs 8 dollars.</mark>" in html
    assert "Passes &amp; prices" in html and "Types of passes" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html  # document text is escaped
    assert "score 0.031" in html and "rrf" in html and "span 0.70" in html  # on hover
    assert "retrieval rank 1" in html and "cited" in html
    assert "retrieval" in html and "12 ms" in html and "span extraction" in html


def test_the_cited_passage_comes_first_in_the_panel():
    """Session 51's person test: the passage the reply quotes was the third card, under two
    the reranker put higher; a reader looking at the top card saw the wrong passage."""
    answer = _answer()
    other = Passage("e::p0", "e", "What can go in", "Fruit peel and leaves.", 0, 22, ["1"])
    answer.passages = [Hit(other, 0.5, 1, "cross"), *answer.passages]
    answer.passages[1].rank = 2
    html = evidence_html(answer, True, 0.2, "sample")
    assert html.index("A day pass costs") < html.index("Fruit peel and leaves.")
    # the card's rank is named as the retriever's: the cited card comes first with rank 2
    assert html.index("retrieval rank 2") < html.index("retrieval rank 1")


def test_only_the_spans_the_reply_cites_are_marked_cited():
    """Session 52's person test: the reply quoted one light-code row, and the top card, marked
    "cited" and highlighted, held another evidence span the reply does not say."""
    answer = _answer()
    other = Passage("e::p0", "e", "Lights", "Amber, flashing: call service.", 0, 30, ["1"])
    amber = Evidence("e", "Lights", "Amber, flashing: call service.", 0, 30, ["1"], 0.5,
                     "e::p0", "")
    answer.evidence.append(amber)
    answer.passages = [Hit(other, 0.5, 1, "cross"), *answer.passages]
    answer.passages[1].rank = 2
    html = evidence_html(answer, True, 0.2, "sample", numbers={0: 1})
    assert html.count("<mark") == 1 and "<mark>A day pass costs 8 dollars.</mark>" in html
    assert html.count("· cited") == 1
    assert html.index("A day pass costs") < html.index("Amber, flashing")
    # without the reply's numbers every evidence span counts, as before
    assert evidence_html(answer, True, 0.2, "sample").count("· cited") == 2


def test_evidence_panel_without_good_evidence():
    html = evidence_html(_answer(confidence=0.05), False, 0.2, "sample")
    assert "No good evidence" in html and "threshold 0.20" in html
    assert "<mark>" not in html
    assert "Passes &amp; prices" in html  # closest passages still listed


def test_evidence_panel_and_reply_name_the_kind_of_answer_the_pick_lacks():
    """A turn refused because the best sentence holds no amount for a "how much" question
    (``Answer.extra["missing"]``) says so, in the reply and in the panel's status."""
    from app.session import refusal

    answer = _answer(confidence=0.2)
    answer.grounded, answer.extra = False, {"missing": "money"}
    html = evidence_html(answer, False, 0.2, "sample")
    assert "asks for a price or amount" in html and "No good evidence" not in html
    assert "Passes &amp; prices" in html and "<mark>" not in html
    assert refusal(answer, "sample").startswith(
        "The closest passages in sample do not give a price or amount for that")
    answer.extra = {"missing": "judgement"}  # "is it worth it?" and no sentence judges
    assert "asks for a recommendation or judgement" in evidence_html(answer, False, 0.2,
                                                                     "sample")
    assert refusal(answer, "sample").startswith(
        "The closest passages in sample do not give a recommendation or judgement")


def test_evidence_panel_and_reply_name_what_no_document_mentions():
    """A turn refused because no document names what it asks is on offer
    (``Answer.extra["absent"]``) says so, in the reply and in the panel's status."""
    from app.session import refusal

    answer = _answer(confidence=0.2)
    answer.grounded, answer.extra = False, {"absent": ["scooters"]}
    html = evidence_html(answer, False, 0.2, "sample")
    assert "no document mentions &quot;scooters&quot;" in html
    assert "No good evidence" not in html and "Passes &amp; prices" in html
    assert refusal(answer, "sample").startswith(
        'None of the documents in sample mention "scooters"')


def test_evidence_panel_and_reply_say_an_unsure_repeat_was_refused():
    """A turn refused because its unsure pick repeats an earlier reply
    (``Answer.extra["repeated"]``) says that its best sentence was already given, in the reply
    and in the panel's status, and still lists the closest passages."""
    from app.session import refusal

    answer = _answer(confidence=0.2)
    answer.grounded, answer.extra = False, {"repeated": "unsure"}
    html = evidence_html(answer, False, 0.2, "sample")
    assert "one an earlier reply already gave" in html and "No good evidence" not in html
    assert "the decision was not sure of it" in html
    assert "Passes &amp; prices" in html and "<mark>" not in html
    assert refusal(answer, "sample").startswith(
        "The best sentence I found in sample is one I already gave you, so I won't give it again")
    # refused although sure: the sentence holds none of the words the question newly asks
    answer.extra = {"repeated": "nothing new"}
    html = evidence_html(answer, False, 0.2, "sample")
    assert "holds none of the words this question newly asks" in html
    assert "not sure" not in html
    assert refusal(answer, "sample").startswith("The best sentence I found in sample is one I")


class _Fixed:
    """A pipeline that gives a fixed Answer."""

    answer_: Answer

    def answer(self, history):
        return self.answer_


def test_threshold_and_grounded_flag(tmp_path):
    # The app hands its threshold to the pipeline, whose Answer.grounded is the decision ...
    pytest.importorskip("re3g.pipeline")
    bot = ChatApp(AppConfig(min_confidence=0.3)).pipelines.factory(tmp_path, Settings())
    assert bot.config.min_confidence == 0.3
    # ... which the app displays: a reply with evidence, or "no good evidence".
    _index(tmp_path / "sample", "sample")
    fixed = _Fixed()
    chat = ChatApp(AppConfig(indexes_dir=tmp_path, min_confidence=0.3), factory=lambda *_: fixed)

    def is_grounded(answer):
        fixed.answer_ = answer
        reply, _, html = list(chat.doc_turn("How much is a day pass?", chat.new_session()))[-1]
        assert ("Grounded in" in html) == (reply == answer.text)
        return reply == answer.text

    assert is_grounded(_answer(0.9))
    assert not is_grounded(_answer(0.29, grounded=False))  # what the pipeline says at 0.3
    # a refused turn keeps its question, with an empty reply, for the user's next turn
    fixed.answer_ = _answer(0.29, grounded=False)
    session = chat.new_session()
    list(chat.doc_turn("Are there boats on New Year's Day?", session))
    assert session.history == ["Are there boats on New Year's Day?", ""]
    assert not is_grounded(_answer(0.9, grounded=False))
    # an answer the decision calls tentative is shown with a caution, not as "grounded"
    unsure = _answer(0.32)
    unsure.extra["tentative"] = True
    fixed.answer_ = unsure
    reply, _, html = list(chat.doc_turn("How much is a day pass?", chat.new_session()))[-1]
    assert reply == unsure.text and "Tentative" in html and "may not say this" in html
    session = chat.new_session()
    shown, _, _ = list(chat.doc_turn("How much is a day pass?", session, display=True))[-1]
    assert shown.endswith(TENTATIVE_NOTE) and session.history[-1] == unsure.text
    # a reader unsure of its sentence: the runner-up is named under the reply and highlighted
    other = Evidence("d", "Passes & prices", "Intro bold.", 100, 111, ["1"], 0.4, "d::p0",
                     "Types of passes")
    unsure.evidence.append(other)
    unsure.extra.update(tentative_reason="sentence", sure=0.31)
    reply, _, html = list(chat.doc_turn("How much is a day pass?", chat.new_session()))[-1]
    assert "not sure which sentence answers (how sure: 0.31)" in html
    assert "may not say" not in html and "sureness" not in html
    # both sentences are marked in their passage's card, the runner-up in its own colour
    assert html.count("<mark") == 2 and 'class="re3g-alt"' in html
    shown, _, _ = list(chat.doc_turn("How much is a day pass?", chat.new_session(),
                                     display=True))[-1]
    assert 'The documents also say: "Intro bold."' in shown


def test_a_reply_from_another_document_says_so(tmp_path):
    """Session 56's person test: a railway conversation's "is there a student discount?" was
    answered from the bike-share page, and only the evidence card's title said so. The chat
    now names the other document under such a reply; the history keeps the plain reply, and a
    reply from the same document, or the first one, gets no note."""
    _index(tmp_path / "sample", "sample")
    fixed = _Fixed()
    chat = ChatApp(AppConfig(indexes_dir=tmp_path), factory=lambda *_: fixed)
    session = chat.new_session()
    fixed.answer_ = _answer()
    first, _, _ = list(chat.doc_turn("How much is a day pass?", session, display=True))[-1]
    again, _, _ = list(chat.doc_turn("And a week?", session, display=True))[-1]
    assert "another document" not in first and "another document" not in again
    moved = _answer()
    moved.evidence[0].doc_id, moved.evidence[0].title = "rail", "Railway fares"
    fixed.answer_ = moved
    shown, _, _ = list(chat.doc_turn("student discount?", session, display=True))[-1]
    assert shown.endswith('*From another document: "Railway fares".*')
    assert session.history[-1] == moved.text
    # a refused turn in between does not count as the last answer's document
    fixed.answer_ = _answer(0.1, grounded=False)
    list(chat.doc_turn("and parking?", session, display=True))
    fixed.answer_ = moved
    shown, _, _ = list(chat.doc_turn("and for children?", session, display=True))[-1]
    assert "another document" not in shown


def test_a_whole_row_reply_names_the_cell_asked(tmp_path):
    """Session 56's person test: "how much is a family return?" got the whole fares row. The
    chat names the cell asked under the reply (on screen only); a question naming no one column
    gets no note."""
    _index(tmp_path / "sample", "sample")
    row = "Ticket: Return, full line; Adult: £18; Child (5 to 15): £9; Family (2 adults): £48"
    ev = Evidence("rail", "Fares", row, 0, len(row), ["7"], 0.7, "rail::p1", "Fares")
    fixed = _Fixed()
    fixed.answer_ = Answer(row, [ev], [], {}, 0.9, True)
    chat = ChatApp(AppConfig(indexes_dir=tmp_path), factory=lambda *_: fixed)
    session = chat.new_session()
    shown, _, _ = list(chat.doc_turn("how much is a family return?", session, display=True))[-1]
    assert shown.endswith("*In short: Family (2 adults): £48.*"), shown
    assert session.history[-1] == row
    shown, _, _ = list(chat.doc_turn("how much is a return?", session, display=True))[-1]
    assert "In short" not in shown


@pytest.mark.parametrize("message,match", [("", "empty"), ("  \n", "empty"), (None, "empty"),
                                           ("x" * 2001, "limit"), ("a\x00b", "NUL")])
def test_bad_messages(message, match):
    chat = ChatApp(AppConfig(), factory=lambda *_: None)
    with pytest.raises(DataError, match=match):
        chat.check_message(message)


def test_uploads_are_private_unless_shared(tmp_path):
    _index(tmp_path / "sample", "sample", 11)
    a, b = new_session_id(), new_session_id()
    _index(tmp_path / "uploads" / a / "notes", "notes", 2)
    private = CorpusCatalog(tmp_path)
    assert [c.key for c in private.for_session(a)] == ["sample", f"upload:{a}/notes"]
    assert [c.key for c in private.for_session(b)] == ["sample"]
    with pytest.raises(DataError, match="not available"):
        private.resolve(b, f"upload:{a}/notes")
    for crafted in ("../sample", "uploads", f"uploads/{a}/notes", "/etc", ".tmp"):
        with pytest.raises(DataError):
            private.resolve(b, crafted)
    # a server that shares uploads lists only the corpora their owners shared
    shared = CorpusCatalog(tmp_path, share_uploads=True)
    assert f"upload:{a}/notes" not in [c.key for c in shared.for_session(b)]
    _index(tmp_path / "uploads" / a / "public", "public", 1)
    manifest = tmp_path / "uploads" / a / "public" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "shared": True}))
    assert [c.key for c in shared.for_session(b)] == ["sample", f"upload:{a}/public"]
    assert f"upload:{a}/public" not in [c.key for c in private.for_session(b)]
    assert private.choices(a)[0] == ("sample (11 docs)", "sample")


def test_forget_session_deletes_only_that_session(tmp_path):
    a, b = new_session_id(), new_session_id()
    _index(tmp_path / "uploads" / a / "n1")
    _index(tmp_path / "uploads" / b / "n2")
    CorpusCatalog(tmp_path).forget_session(a)
    assert not (tmp_path / "uploads" / a).exists()
    assert (tmp_path / "uploads" / b / "n2").exists()
    (tmp_path / "uploads" / b / "n3").mkdir()
    (tmp_path / "uploads" / b / "n3" / "manifest.json").write_text('{"shared": true}')
    CorpusCatalog(tmp_path, share_uploads=True).forget_session(b)  # private ones go anyway
    assert not (tmp_path / "uploads" / b / "n2").exists()
    assert (tmp_path / "uploads" / b / "n3").exists()  # a shared one stays


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", "x\\y", "", "   ", "\x00", "!!!",
                                  "a" * 61])
def test_bad_corpus_names(name):
    with pytest.raises(DataError):
        corpus_slug(name)


def test_upload_target_stays_inside(tmp_path):
    cat = CorpusCatalog(tmp_path)
    sid = new_session_id()
    key, folder = cat.upload_target(sid, "My notes (2024)")
    assert key == f"upload:{sid}/my-notes-2024"
    assert folder.resolve().is_relative_to((tmp_path / "uploads").resolve())
    with pytest.raises(DataError):
        cat.upload_target("../../etc", "notes")


def test_settings_are_validated():
    assert Settings("bm25", 3.0, 1, "extractive").checked() == Settings("bm25", 3, True,
                                                                        "extractive")
    for bad in (Settings(mode="grep"), Settings(k=0), Settings(k="many"),
                Settings(generator="gpt")):
        with pytest.raises(Re3GError):
            bad.checked()


def test_chat_command_options(tmp_path):
    from re3g.cli import build_parser
    from re3g_app.cli import start_settings

    parser = build_parser()
    args = parser.parse_args(["chat"])
    assert (args.host, args.port, args.index, args.share_uploads) == ("127.0.0.1", 7860,
                                                                      "sample", False)
    assert start_settings(args).mode == "hybrid"
    args = parser.parse_args(["chat", "--port", "7861", "--mode", "bm25", "-k", "3",
                              "--no-rerank", "--share-uploads"])
    assert start_settings(args) == Settings("bm25", 3, False, "extractive")
    assert args.share_uploads and args.port == 7861
    cfg = tmp_path / "re3g.toml"
    cfg.write_text('[retrieval]\nmode = "dense"\nk = 7\n')
    from_file = start_settings(parser.parse_args(["chat", "--config", str(cfg)]))
    assert (from_file.mode, from_file.k) == ("dense", 7)


class _Warmable:
    """A pipeline that counts its warm-ups (and can fail them)."""

    def __init__(self, fail: bool = False) -> None:
        self.warm_ups, self.fail = 0, fail

    def answer(self, history):
        return Answer(history[-1], grounded=True)

    def warm_up(self):
        self.warm_ups += 1
        if self.fail:
            raise Re3GError("cannot load the reranker models/nowhere")
        return self


def test_warm_start_default_first_then_settings_on_first_use(tmp_path):
    import gradio as gr

    _index(tmp_path / "sample", "sample")
    _index(tmp_path / "other", "other")
    made: dict = {}

    def factory(index, settings):
        made[(index.name, settings)] = bot = _Warmable(fail=index.name == "broken")
        return bot

    chat = ChatApp(AppConfig(indexes_dir=tmp_path), factory=factory)
    assert "sample" in chat.warm_default()  # the first session's corpus and settings
    assert [(key, bot.warm_ups) for key, bot in made.items()] == [(("sample", Settings()), 1)]
    session = chat.new_session()
    assert list(chat.warm_session(session)) == [gr.update()]  # already warm: nothing loads
    assert chat.apply_settings("other", "bm25", 3, False, "extractive", session)[1] == ""
    steps = list(chat.warm_session(session))
    assert steps[0].startswith("⏳ Loading other") and steps[-1] == ""
    assert made[("other", Settings("bm25", 3, False, "extractive"))].warm_ups == 1
    assert list(chat.warm_session(session)) == [gr.update()]
    assert all(bot.warm_ups == 1 for bot in made.values())
    # a pipeline that fails to warm says why and is tried again next time
    _index(tmp_path / "broken", "broken")
    chat.apply_settings("broken", "bm25", 3, False, "extractive", session)
    assert list(chat.warm_session(session))[-1] == "⚠️ cannot load the reranker models/nowhere"
    assert list(chat.warm_session(session))[-1].startswith("⚠️")
    assert made[("broken", Settings("bm25", 3, False, "extractive"))].warm_ups == 2
    # pipelines without warm_up and servers without a corpus have nothing to warm
    assert "sample" in ChatApp(AppConfig(indexes_dir=tmp_path),
                               factory=lambda *_: None).warm_default()
    assert ChatApp(AppConfig(indexes_dir=tmp_path / "none")).warm_default() is None


def test_launch_reports_a_failed_warm_up_and_starts_anyway(tmp_path, capsys):
    from re3g_app import build_app
    from re3g_app.server import _warm_default

    _index(tmp_path / "sample", "sample")
    demo = build_app(AppConfig(indexes_dir=tmp_path), factory=lambda *_: _Warmable(fail=True))
    _warm_default(demo, quiet=False)  # no exception: the server would start
    err = capsys.readouterr().err
    assert "loading 'sample'" in err and "warm-up failed" in err and "models/nowhere" in err
