"""One conversation's state and the app's behaviour per turn, as small methods that
:func:`re3g_app.layout.build_app` wires to Gradio components.

A session's life: :meth:`ChatApp.on_load` starts it (a browser tab; an API client's starts at
its first call), :meth:`ChatApp.on_unload` (the tab closed or reloaded) and
:meth:`ChatApp.forget` (Gradio dropped the session's state: idle for
:data:`~re3g_app.settings.SESSION_IDLE_S`) end it and delete its private uploads, and
:meth:`ChatApp.shutdown` deletes every session's private uploads when the server stops.

What the chat shows of documents is escaped (:func:`re3g_app.render.escape_markdown`); the
``/chat`` API returns the reply as plain text.
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from re3g.errors import DataError, Re3GError
from re3g.extract.rows import asked_cell
from re3g.generate.refusal import because
from re3g.types import Answer

from . import render
from .actions import PageActions
from .citations import marked_markdown
from .code_tool import CODE_NOTE, CodeTool, corpus_score, route_message
from .corpora import CorpusCatalog, new_session_id
from .exchange import Exchange
from .feedback import FeedbackLog
from .pipelines import Pipeline, PipelineCache, PipelineFactory, default_factory, stream_answer
from .settings import AppConfig, Settings
from .uploads import Uploads

log = logging.getLogger(__name__)

MAX_PASSAGES_SHOWN = 5
NOT_SURE = "Not sure: the documents may not say exactly this."
TENTATIVE_NOTE = f"*{NOT_SURE} Check the passage in the evidence panel.*"
NEXT_SENTENCE_NOTE = (f"*{NOT_SURE} The next closest sentence: \"{{other}}\" (in blue in the "
                      "evidence panel).*")
UNSURE_PICK_NOTE = ("*Not sure this is the sentence you asked about. The documents also say: "
                    "\"{other}\" (in blue in the evidence panel).*")
MOVED_NOTE = "*From another document: \"{title}\".*"
CELL_NOTE = "*In short: {label}: {value}.*"
NO_EVIDENCE = (
    "I could not find good evidence for that in {corpus}, so I won't guess. "
    "Try rephrasing with words the documents would use, or pick another corpus."
)

LISTED = "What the documents do say nearby is listed beside the chat."
"""What the chat adds to a refusal check's reply (:func:`re3g.generate.refusal.because`)."""


def refusal(answer: Answer, corpus: str) -> str:
    """The reply to a refused turn: why one of the pipeline's refusal checks refused it, in
    the library's words (:func:`re3g.generate.refusal.because`: the kind of answer asked for
    is not given, what is asked about is not mentioned by any document or by the closest one,
    or nothing beyond an earlier reply), with where the closest passages are shown; else
    :data:`NO_EVIDENCE`.

    >>> refusal(Answer("", grounded=False, extra={"missing": "money"}), "sample")[:60]
    'The closest passages in sample do not give a price or amount'
    >>> refusal(Answer("", grounded=False, extra={"absent": ["scooters"]}), "sample")[:54]
    'None of the documents in sample mention "scooters", so'
    >>> refusal(Answer("", grounded=False, extra={"absent": ["parking"],
    ...                                           "absent_from": "Plots"}), "sample")[:69]
    'The closest document in sample, "Plots", does not mention "parking", '
    >>> refusal(Answer("", grounded=False, extra={"repeated": "nothing new"}), "sample")[:58]
    'The best sentence I found in sample is one I already gave '
    >>> refusal(Answer("", grounded=False), "sample")[:40]
    'I could not find good evidence for that '
    """
    why = because(answer, corpus)
    return f"{why} {LISTED}" if why else NO_EVIDENCE.format(corpus=corpus)


Step = tuple[str, Answer | None, str]
"""One step of a turn: (reply so far, the final Answer or None while streaming, evidence
HTML)."""


def tentative_note(answer: Answer) -> str:
    """What the chat adds under a tentative reply: that the reader was unsure of its sentence
    (``tentative_reason`` "sentence") or that the documents may not say this, and the runner-up
    sentence (the second evidence) when there is one.

    >>> from re3g.types import Evidence
    >>> ev = [Evidence("d", "T", "A day pass costs 8 dollars.", 0, 27, ["1"]),
    ...       Evidence("d", "T", "Lost bikes cost 1200 dollars.", 28, 57, ["2"])]
    >>> tentative_note(Answer("", ev, extra={"tentative_reason": "sentence"}))[:60]
    '*Not sure this is the sentence you asked about. The document'
    """
    if len(answer.evidence) < 2:
        return TENTATIVE_NOTE
    other = " ".join(answer.evidence[1].text.split())
    if len(other) > 300:
        other = other[:297].rstrip() + "..."
    if answer.extra.get("tentative_reason") == "sentence":
        return UNSURE_PICK_NOTE.format(other=other)
    return NEXT_SENTENCE_NOTE.format(other=other)


def moved_note(answer: Answer, before: Answer | None) -> str | None:
    """What the chat adds under a grounded reply quoted from another document than the last
    grounded reply was: the conversation moved, and the user should see where to (session 56's
    person test: a fares question on a railway page answered from the bike-share page, said
    only by the evidence card's title). None when it stays, or nothing was answered before.

    >>> from re3g.types import Evidence
    >>> fares = Answer("", [Evidence("rail", "Railway fares", "Adults pay 15 pounds.", 0, 21,
    ...                              ["1"])])
    >>> bikes = Answer("", [Evidence("bike", "Bike share fees", "Students pay 45.", 0, 16,
    ...                              ["4"])])
    >>> moved_note(bikes, fares)
    '*From another document: "Bike share fees".*'
    >>> moved_note(fares, fares) is None, moved_note(bikes, None) is None
    (True, True)
    """
    if before is None or not answer.evidence or not before.evidence:
        return None
    top, last = answer.evidence[0], before.evidence[0]
    if top.doc_id == last.doc_id:
        return None
    return MOVED_NOTE.format(title=render.escape_markdown(" ".join(top.title.split())))


def cell_note(question: str, answer: Answer) -> str | None:
    """What the chat adds under a reply whose top evidence is one whole table row: the cell
    ``question`` asks about (:func:`re3g.extract.rows.asked_cell`), so "how much is a family
    return?" reads "In short: Family: 48 pounds." under the row with every fare (session 56's
    person test). None for any other reply, or when no one cell is asked.

    >>> from re3g.types import Evidence
    >>> row = "Ticket: Return; Adult: 18 pounds; Family: 48 pounds"
    >>> cell_note("family return?", Answer(row, [Evidence("r", "Fares", row, 0, 52, ["7"])]))
    '*In short: Family: 48 pounds.*'
    >>> cell_note("return?", Answer(row, [Evidence("r", "Fares", row, 0, 52, ["7"])])) is None
    True
    """
    if not answer.evidence or len(answer.evidence[0].span_ids) != 1:
        return None
    found = asked_cell(question, answer.evidence[0].text)
    if found is None:
        return None
    label, value = (render.escape_markdown(" ".join(x.split())) for x in found)
    return CELL_NOTE.format(label=label, value=value.rstrip("."))


@dataclass
class Session:
    """One browser tab's (or one API client's) conversation and choices, kept in gr.State.

    >>> Session("0123456789abcdef", corpus="sample").history
    []
    """

    id: str
    corpus: str = ""
    settings: Settings = field(default_factory=Settings)
    history: list[str] = field(default_factory=list)
    evidence: dict[int, str] = field(default_factory=dict)
    uploads: list[str] = field(default_factory=list)
    code_auto: bool = True
    exchanges: dict[int, Exchange] = field(default_factory=dict)
    """Finished exchanges by the chat index of their reply (API turns: 1, 3, 5, ...)."""

    def next_key(self) -> int:
        """The key of the next exchange when no chat index is given (API clients)."""
        return max(self.exchanges, default=-1) + 2

    def last(self) -> tuple[int, Exchange] | None:
        """The latest exchange and its key, or None."""
        if not self.exchanges:
            return None
        key = max(self.exchanges)
        return key, self.exchanges[key]


class ChatApp:
    """The app's behaviour as small methods; :func:`re3g_app.build_app` wires them to
    components.

    ``factory(index_path, settings)`` makes a pipeline (default: ``Re3G`` over
    ``config.pipeline_config``); tests and embedders may pass their own. Whether a reply is
    grounded is the pipeline's decision (``Answer.grounded``, taken with the app's
    ``min_confidence``); the app displays it.

    >>> chat = ChatApp(AppConfig(indexes_dir="no-indexes-here"), factory=lambda *_: None)
    >>> chat.check_message("  How much is a day pass? ")
    'How much is a day pass?'
    >>> chat.check_message("")
    Traceback (most recent call last):
    ...
    re3g.errors.DataError: Type a question first: the message is empty.
    """

    def __init__(self, config: AppConfig, factory: PipelineFactory | None = None) -> None:
        self.config = config
        self.catalog = CorpusCatalog(config.indexes_dir, share_uploads=config.share_uploads)
        self.pipelines = PipelineCache(factory or default_factory(
            config.pipeline_config, **config.pipeline_overrides()))
        self.uploads = Uploads(self.catalog, self.pipelines, upload_cache=upload_cache_dir())
        # browser sessions by Gradio's session hash, to end them on unload
        self._live: weakref.WeakValueDictionary[str, Session] = weakref.WeakValueDictionary()
        self.code_tool = CodeTool(config.code_spec())
        self.actions = PageActions(self, FeedbackLog(config.feedback_path))
        self._warm: weakref.WeakSet[Any] = weakref.WeakSet()  # pipelines already warmed

    # ------------------------------------------------------------------ warm start

    def warm(self, bot: Pipeline) -> bool:
        """Warm ``bot`` with its ``warm_up()`` (:meth:`re3g.pipeline.Re3G.warm_up`: every
        component loaded and one turn through every stage), once; pipelines without
        ``warm_up`` are left as they are. Returns True when this call did the work."""
        warm_up = getattr(bot, "warm_up", None)
        if not callable(warm_up) or self.is_warm(bot):
            return False
        warm_up()
        self._warm.add(bot)
        return True

    def is_warm(self, bot: Pipeline) -> bool:
        """True when :meth:`warm` has warmed ``bot`` (or it has nothing to warm)."""
        if not callable(getattr(bot, "warm_up", None)):
            return True
        try:
            return bot in self._warm
        except TypeError:  # an object that cannot be weakly referenced is never recorded
            return False

    def warm_default(self) -> str | None:
        """Load and warm the pipeline the first session will use (the default corpus with
        the initial settings); ``launch`` calls it before the server accepts requests.
        Returns the corpus label, or None when no corpus exists yet. Errors propagate."""
        session = self.new_session()
        if not session.corpus:
            return None
        bot, label = self._bot_for(session)
        self.warm(bot)
        return label

    def warm_session(self, session: Session | None) -> Iterator[Any]:
        """UI handler chained after a settings change: warm the pipeline of the session's
        corpus and settings when they are used for the first time, with a notice while it
        loads (output: the notice). A pipeline that fails to load says why, as the next
        question would."""
        if not isinstance(session, Session) or not session.corpus:
            yield gr.update()
            return
        try:
            bot, label = self._bot_for(session)
            if self.is_warm(bot):
                yield gr.update()
                return
            yield f"⏳ Loading {label} with these settings (index, models, one warm-up turn)…"
            self.warm(bot)
        except Re3GError as exc:
            yield f"⚠️ {exc}"
            return
        except Exception as exc:  # the log has the traceback; the page stays usable
            log.exception("warm-up failed")
            yield f"⚠️ Loading failed ({type(exc).__name__}); questions will retry."
            return
        yield ""

    # ------------------------------------------------------------------ sessions and settings

    def new_session(self) -> Session:
        choices = [c.key for c in self.catalog.shared()]
        corpus = self.config.default_corpus if self.config.default_corpus in choices else (
            choices[0] if choices else "")
        return Session(new_session_id(), corpus=corpus, settings=self.config.settings,
                       code_auto=self.config.code_auto)

    def ensure(self, session: Session | None) -> Session:
        return session if isinstance(session, Session) else self.new_session()

    def on_load(self, session: Session | None, request: gr.Request | None = None
                ) -> tuple[Any, Session, str]:
        """UI handler of the page load: the session starts (outputs corpus menu, state,
        evidence)."""
        session = self.ensure(session)
        if request is not None and getattr(request, "session_hash", None):
            self._live[request.session_hash] = session
        return (self._corpus_update(session), session,
                render.message_html("Evidence for each reply appears here."))

    def on_unload(self, request: gr.Request) -> None:
        """Gradio's unload (the tab was closed or reloaded): end the page's session now."""
        session = self._live.pop(getattr(request, "session_hash", "") or "", None)
        self.forget(session)

    def forget(self, session: Session | None) -> None:
        """A session ended (unload, or Gradio dropped its expired state): stop its build and
        delete its private uploads."""
        if isinstance(session, Session):
            self.uploads.forget(session.id, session.uploads)
            session.uploads.clear()

    def shutdown(self) -> None:
        """The server stops: stop running builds and delete every session's private uploads
        (shared ones stay)."""
        self.uploads.cancel_all()
        self.catalog.remove_private()

    def remove_stale(self) -> int:
        """Before the server starts: delete the private uploads earlier servers left (no
        session of theirs exists any more); returns how many session folders were cleaned."""
        return self.catalog.remove_private()

    def _corpus_update(self, session: Session) -> Any:
        """The corpus menu for ``session`` (its choices, its corpus selected)."""
        choices = self.catalog.choices(session.id)
        keys = [k for _, k in choices]
        if session.corpus not in keys:
            session.corpus = keys[0] if keys else ""
        return gr.update(choices=choices, value=session.corpus or None)

    def apply_settings(self, corpus: str, mode: str, k: float, rerank: bool, generator: str,
                       session: Session | None) -> tuple[Session, str]:
        session = self.ensure(session)
        try:
            session.settings = Settings(mode, int(k), bool(rerank), generator).checked()
            if corpus and corpus != session.corpus:
                self.catalog.resolve(session.id, corpus)
                session.corpus = corpus
        except Re3GError as exc:
            return session, f"⚠️ {exc}"
        return session, ""

    def set_code_auto(self, value: bool, session: Session | None) -> Session:
        """UI handler of the "route code questions to the code tool" toggle."""
        session = self.ensure(session)
        session.code_auto = bool(value)
        return session

    def clear(self, session: Session | None) -> tuple[list, str, Session, str]:
        session = self.ensure(session)
        session.history.clear()
        session.evidence.clear()
        session.exchanges.clear()
        return [], render.message_html("Conversation cleared."), session, ""

    # ------------------------------------------------------------------ answering

    def check_message(self, message: Any) -> str:
        """The message, stripped; DataError with a user-facing reason when unusable."""
        if not isinstance(message, str) or not message.strip():
            raise DataError("Type a question first: the message is empty.")
        if len(message) > self.config.max_message_chars:
            raise DataError(
                f"The message is {len(message):,} characters long; the limit is "
                f"{self.config.max_message_chars:,}. Please ask a shorter question."
            )
        if "\x00" in message:
            raise DataError("The message contains a NUL character.")
        return message.strip()

    def _bot_for(self, session: Session) -> tuple[Pipeline, str]:
        if not session.corpus:
            raise DataError("No corpus is available yet: build one or upload documents.")
        corpus = self.catalog.resolve(session.id, session.corpus)
        return self.pipelines.get(corpus.path, session.settings), corpus.label

    def threshold(self, answer: Answer) -> float:
        """The confidence threshold the pipeline applied (shown in the evidence panel)."""
        used = answer.extra.get("min_confidence")
        if used is None:
            used = self.config.min_confidence
        return float(used or 0.0)

    def _scorer(self, session: Session) -> Any:
        """The router's corpus score for the session's corpus (None: no corpus yet)."""
        if not session.corpus:
            return None

        def score(question: str) -> float | None:
            try:
                bot, _label = self._bot_for(session)
            except Re3GError:
                return None
            return corpus_score(bot, question)

        return score

    def turn(self, message: str, session: Session, display: bool = False,
             key: int | None = None, route: str | None = None) -> Iterator[Step]:
        """Run one turn: yields (reply so far, None, "") while streaming, then
        (final reply, Answer, evidence HTML), and records the exchange in
        ``session.exchanges[key]`` (default: :meth:`Session.next_key`). ``/code``, ``/docs``
        and ``/both`` prefixes (or ``route``, or the automatic router, when on, which keeps a
        question the open corpus matches well on the documents) send the turn to the code
        tool, the documents, or both. With ``display``, the document reply is escaped for the
        chat's Markdown (it quotes documents) and carries citation markers linking to the
        reply ``key``; the code tool's answer stays Markdown (its code blocks)."""
        key = session.next_key() if key is None else key
        if route is None:
            route, text = route_message(message, session.code_auto, self._scorer(session))
        else:
            text = message
        text = text or message
        history = list(session.history)
        if route == "code":
            for step in self.code_turn(text):
                if step[1] is not None:
                    session.exchanges[key] = Exchange.of(text, history, step[1], "code", "",
                                                         reply=step[0])
                yield step
            return
        if route == "both":
            reply, answer, html = "", None, ""
            for step in self.doc_turn(text, session, display, key):
                reply, answer, html = step
                yield reply, None, ""
            doc = session.exchanges.get(key)
            head = f"{reply}\n\n---\n\n"
            for code_reply, code_answer, _ in self.code_turn(text):
                if code_answer is None:
                    yield head + code_reply, None, ""
                else:
                    if doc is not None:
                        doc.route, doc.reply = "both", f"{doc.reply}\n\n{code_reply}"
                    yield head + code_reply, answer or code_answer, html
            return
        yield from self.doc_turn(text, session, display, key)

    def code_turn(self, question: str) -> Iterator[Step]:
        """Answer with the code LLM; a model that fails is a message, never a crash."""
        text = ""
        try:
            for piece in self.code_tool.stream(question):
                text += piece
                yield text, None, ""
        except Re3GError as exc:
            msg = (f"The code tool is unavailable: {exc}. Questions about the documents still "
                   "work.")
            yield msg, Answer(msg, grounded=False, extra={"route": "code"}), \
                render.message_html(msg)
            return
        note = CODE_NOTE.format(model=self.code_tool.name)
        yield text, Answer(text, grounded=True, extra={"route": "code"}), \
            render.message_html(note)

    def doc_turn(self, message: str, session: Session, display: bool = False,
                 key: int | None = None) -> Iterator[Step]:
        """A document-grounded turn. A grounded exchange is added to the session's history;
        of a refused one only the question is kept, with an empty reply
        (:attr:`re3g.types.Answer.kept_reply`): the user's next turn may follow it ("And on
        New Year's Eve?"), and the refusal's words reach no later query. With ``display``
        the reply is escaped for the chat (:func:`re3g_app.render.escape_markdown`) and each
        sentence taken from evidence carries its citation marker; the history keeps the plain
        text. The exchange is recorded in ``session.exchanges[key]``."""
        key = session.next_key() if key is None else key
        before = list(session.history)
        shown = render.escape_markdown if display else str
        bot, label = self._bot_for(session)
        # the last answered turn over this corpus (a corpus switched to is no move to note)
        last_grounded = next((x.answer for x in reversed(session.exchanges.values())
                              if x.route == "docs" and x.corpus == label
                              and x.answer is not None and x.answer.grounded), None)
        history = [*session.history, message]
        t0 = time.perf_counter()
        text = ""
        answer: Answer | None = None
        for piece in stream_answer(bot, history):
            if isinstance(piece, Answer):
                answer = piece
            else:
                text += piece
                yield shown(text), None, ""
        if answer is None:  # pragma: no cover - stream_answer always ends with an Answer
            raise Re3GError("the pipeline returned no answer")
        answer.timings.setdefault("total", time.perf_counter() - t0)
        grounded = bool(answer.grounded)
        reply = answer.text.strip() if grounded else refusal(answer, label)
        if grounded and not reply:
            reply = text.strip() or NO_EVIDENCE.format(corpus=label)
        exchange = Exchange.of(message, before, answer, "docs", label, reply=reply)
        numbers = {c.evidence: c.n for c in exchange.citations}
        html = render.evidence_html(answer, grounded, self.threshold(answer), label,
                                    max_passages=MAX_PASSAGES_SHOWN, key=key, numbers=numbers)
        session.history += [message, reply if grounded else answer.kept_reply]
        session.exchanges[key] = exchange
        shown_reply = (marked_markdown(exchange.parts, key) if display and exchange.citations
                       else shown(reply))
        if display and grounded and answer.extra.get("tentative"):
            # on screen only: history keeps the reply
            shown_reply += "\n\n" + tentative_note(answer)
        for note in ((cell_note(message, answer), moved_note(answer, last_grounded))
                     if display and grounded else ()):
            if note:
                shown_reply += "\n\n" + note
        yield shown_reply, answer, html

    def respond(self, message: str, chat: list | None, session: Session | None,
                route: str | None = None) -> Iterator[tuple[Any, list, str, str, Session]]:
        """UI handler: outputs (textbox, chatbot, evidence, notice, state); ``route`` forces
        the tool (the "answer from the documents instead" switch)."""
        session = self.ensure(session)
        chat = list(chat or [])
        try:
            text = self.check_message(message)
        except DataError as exc:
            yield gr.update(), chat, gr.update(), f"⚠️ {render.escape_markdown(str(exc))}", \
                session
            return
        chat.append({"role": "user", "content": render.escape_markdown(text)})
        chat.append({"role": "assistant", "content": "…"})
        yield "", chat, render.message_html("Searching…"), "", session
        try:
            key = len(chat) - 1
            for reply, answer, html in self.turn(text, session, display=True, key=key,
                                                 route=route):
                chat[-1] = {"role": "assistant", "content": reply}
                if answer is None:
                    yield "", chat, gr.update(), "", session
                else:
                    session.evidence[len(chat) - 1] = html
                    yield "", chat, html, "", session
        except Re3GError as exc:
            note = f"⚠️ {render.escape_markdown(str(exc))}"
            chat[-1] = {"role": "assistant", "content": note}
            yield "", chat, render.message_html(str(exc)), note, session
        except Exception as exc:  # keep the session usable; the log has the traceback
            log.exception("turn failed")
            msg = f"Something went wrong ({type(exc).__name__}); please try again."
            chat[-1] = {"role": "assistant", "content": f"⚠️ {msg}"}
            yield "", chat, render.message_html(msg), f"⚠️ {msg}", session

    def api_chat(self, message: str, session: Session | None) -> Iterator[tuple[str, Session]]:
        """API handler for ``/chat``: message in, reply text out (streamed), per client."""
        session = self.ensure(session)
        try:
            text = self.check_message(message)
            for reply, _answer, _html in self.turn(text, session):
                yield reply, session
        except Re3GError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc

    def api_chat_cited(self, message: str, session: Session | None
                       ) -> Iterator[tuple[dict[str, Any], Session]]:
        """API handler for ``/chat_cited``: like ``/chat``, but each streamed step is a dict:
        ``{"reply", "final": False}`` while the reply streams, then the whole exchange
        (:meth:`re3g_app.exchange.Exchange.to_dict`: reply, reply with [n] markers, route,
        citations with doc id, span ids and offsets, evidence) with ``"final": True``."""
        session = self.ensure(session)
        try:
            text = self.check_message(message)
            key = session.next_key()
            for reply, answer, _html in self.turn(text, session, key=key):
                if answer is None:
                    yield {"reply": reply, "final": False, "citations": []}, session
            exchange = session.exchanges.get(key)
            if exchange is not None:
                yield {**exchange.to_dict(), "final": True}, session
        except Re3GError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc

    def switch_tool(self, chat: list | None, session: Session | None
                    ) -> Iterator[tuple[Any, list, str, str, Session]]:
        """UI handler of the switch under the reply: ask the latest question again with the
        other tool (documents after a code answer, the code tool after a document answer),
        in place of the latest exchange. Outputs as :meth:`respond`."""
        session = self.ensure(session)
        chat = list(chat or [])
        last = session.last()
        if last is None or len(chat) < 2:
            yield gr.update(), chat, gr.update(), "", session
            return
        key, exchange = last
        session.exchanges.pop(key, None)
        session.evidence.pop(key, None)
        if session.history[:len(exchange.history)] == exchange.history:
            # what the turn added (its question, and its reply or the empty kept reply)
            del session.history[len(exchange.history):]
        del chat[key - 1:]
        target = "docs" if exchange.route in ("code", "both") else "code"
        yield from self.respond(exchange.question, chat, session, route=target)

    def show_evidence(self, session: Session | None, evt: gr.SelectData) -> Any:
        """Clicking a reply shows that reply's evidence again."""
        if isinstance(session, Session):
            index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            if isinstance(index, int) and index in session.evidence:
                return session.evidence[index]
        return gr.update()

    # ------------------------------------------------------------------ uploads

    def build_corpus(self, files: Sequence[str] | str | None, name: str, share: bool,
                     session: Session | None,
                     progress: gr.Progress = gr.Progress(track_tqdm=True)  # noqa: B008
                     ) -> tuple[str, Any, Session]:
        """UI handler: read uploaded files, build an index in this session's folder, select
        it; ``share`` offers it to other sessions on a server that shares uploads. Outputs
        (status, corpus dropdown, state)."""
        session = self.ensure(session)
        try:
            key, status = self.uploads.build(files, name, session.id, session.uploads, progress,
                                             share=bool(share))
        except Re3GError as exc:
            return f"⚠️ {render.escape_markdown(str(exc))}", gr.update(), session
        except OSError as exc:
            log.exception("upload build failed")
            return f"⚠️ Could not write the index ({exc.strerror}).", gr.update(), session
        if key not in session.uploads:
            session.uploads.append(key)
        session.corpus = key
        return status, self._corpus_update(session), session

    def cancel_build(self, session: Session | None) -> str:
        """UI handler of "Cancel build" (and of a new upload, before it queues): stop the
        session's running build; the corpus it would replace stays as it was. Output: the
        upload status."""
        if isinstance(session, Session) and self.uploads.cancel(session.id):
            return "⏹️ Build cancelled; nothing was changed."
        return gr.update()


def upload_cache_dir() -> Path:
    """Gradio's upload cache folder (``GRADIO_TEMP_DIR``, which :func:`re3g_app.launch` puts
    under the indexes folder, else Gradio's default)."""
    from gradio.utils import get_upload_folder

    return Path(os.environ.get("GRADIO_TEMP_DIR") or get_upload_folder())
