"""What the page's buttons and links do beyond asking: open a document at a citation or a
passage, feedback, exports, an upload's source file, and the line saying which tool answered.

Clicks inside the chat and the evidence panel (HTML the app writes) reach the server as one
short action string through a hidden textbox (the page's script in :mod:`.layout`):

    cite:<reply>:<n>        open the document at citation [n] of the reply
    open:<reply>:<passage>  open the document of a passage card, at the cited span if it holds one
    right:<reply>:<passage> feedback: this passage is the right one for the reply
    source:<doc id>         download the uploaded file the document came from (uploader only)
    close                   close the document view

Numbers are parsed as integers and looked up in the session's own exchanges; a doc id is only
looked up in the session's own uploaded corpus, so nothing a browser sends is used as a path.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from re3g.errors import Re3GError
from re3g.types import Document, Hit

from . import render
from .docview import Highlight, document_html, missing_html
from .exchange import Exchange
from .export import FORMATS, download_payload, export
from .feedback import FeedbackLog, feedback_record
from .uploads import SOURCES_FILE, SOURCES_FOLDER

if TYPE_CHECKING:
    from .session import ChatApp, Session

log = logging.getLogger(__name__)

Outputs = tuple[Any, Any, Any, Any]
"""(document view, evidence panel, notice, download payload)."""
TOOL_LINE = {"docs": "Answered from the documents: **{corpus}**",
             "code": "Answered by the **code tool**: no documents were used",
             "both": "Answered from the documents (**{corpus}**) and by the **code tool**"}
SWITCH_LABEL = {"docs": "Ask the code tool instead", "code": "Answer from the documents instead",
                "both": "Answer from the documents only"}


class PageActions:
    """The handlers of the page's document view, feedback, export and tool switch."""

    def __init__(self, chat: ChatApp, feedback: FeedbackLog) -> None:
        self.chat = chat
        self.feedback = feedback

    # ------------------------------------------------------------------ the action box

    def act(self, action: str, session: Session | None) -> Outputs:
        """UI handler of an action string (see the module doc)."""
        session = self.chat.ensure(session)
        kind, _, rest = str(action or "").partition(":")
        try:
            if kind == "close":
                return "", gr.update(), "", ""
            if kind == "source":
                return gr.update(), gr.update(), "", self.source_payload(session, rest)
            key, _, index = rest.partition(":")
            exchange = session.exchanges.get(int(key))
            if exchange is None or exchange.answer is None:
                raise Re3GError("that reply is no longer in this conversation")
            evidence = session.evidence.get(int(key), gr.update())
            if kind == "cite":
                return self.open_citation(session, exchange, int(index)), evidence, "", ""
            if kind == "open":
                return self.open_passage(session, exchange, int(index)), evidence, "", ""
            if kind == "right":
                return gr.update(), gr.update(), self.right_passage(session, exchange,
                                                                    int(index)), ""
        except ValueError:
            pass
        except Re3GError as exc:
            return gr.update(), gr.update(), f"⚠️ {render.escape_markdown(str(exc))}", ""
        return gr.update(), gr.update(), "", ""

    # ------------------------------------------------------------------ document view

    def _document(self, session: Session, doc_id: str) -> tuple[Document | None, str]:
        """The document ``doc_id`` of the session's corpus, and its source file name when this
        session uploaded it (else "")."""
        bot, _label = self.chat._bot_for(session)
        docs = getattr(bot, "documents", None)
        doc = docs.get(doc_id) if isinstance(docs, dict) else None
        return doc, (self._source_name(session, doc_id) or "") if doc is not None else ""

    def open_citation(self, session: Session, exchange: Exchange, n: int) -> str:
        """The document view at citation ``n`` of ``exchange``."""
        cited = next((c for c in exchange.citations if c.n == n), None)
        if cited is None:
            raise Re3GError(f"the reply has no citation [{n}]")
        hit = _hit_holding(exchange.answer.passages, cited.doc_id, cited.start,
                           cited.passage_id)
        doc, source = self._document(session, cited.doc_id)
        if doc is None:
            return missing_html(cited.title, cited.text)
        lo, hi = (hit.passage.start, hit.passage.end) if hit else (-1, -1)
        return document_html(doc, Highlight(cited.start, cited.end, lo, hi), source)

    def open_passage(self, session: Session, exchange: Exchange, index: int) -> str:
        """The document view of passage ``index`` of ``exchange`` (at its evidence span, if it
        holds one)."""
        hits = exchange.answer.passages
        if not 0 <= index < len(hits):
            raise Re3GError("that passage is no longer available")
        p = hits[index].passage
        ev = next((e for e in exchange.answer.evidence if e.doc_id == p.doc_id
                   and p.start <= e.start < p.end), None) if exchange.answer.grounded else None
        doc, source = self._document(session, p.doc_id)
        if doc is None:
            return missing_html(p.title, p.text)
        start, end = (ev.start, ev.end) if ev else (p.start, p.end)
        return document_html(doc, Highlight(start, end, p.start, p.end), source)

    # ------------------------------------------------------------------ uploads' sources

    def _source_name(self, session: Session, doc_id: str) -> str | None:
        """The source file of ``doc_id`` in the session's corpus when the session owns the
        corpus (its own upload), else None."""
        try:
            corpus = self.chat.catalog.resolve(session.id, session.corpus)
        except Re3GError:
            return None
        if corpus.owner != session.id:
            return None
        try:
            names = json.loads((corpus.path / SOURCES_FILE).read_text())
        except (OSError, ValueError):
            return None
        name = names.get(doc_id) if isinstance(names, dict) else None
        return name if isinstance(name, str) and name in _listing(corpus.path) else None

    def source_payload(self, session: Session, doc_id: str) -> str:
        """The download payload of an uploaded document's source file (own uploads only)."""
        name = self._source_name(session, doc_id)
        if name is None:
            raise Re3GError("the source file is only available to the session that uploaded it")
        corpus = self.chat.catalog.resolve(session.id, session.corpus)
        data = (corpus.path / SOURCES_FOLDER / name).read_bytes()
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return json.dumps({"name": name, "mime": mime,
                           "data": base64.b64encode(data).decode("ascii")})

    # ------------------------------------------------------------------ feedback

    def _record(self, session: Session, exchange: Exchange, kind: str,
                passage: Hit | None = None) -> str:
        who = hashlib.sha256(session.id.encode()).hexdigest()[:12]
        self.feedback.append(feedback_record(exchange, kind, who, passage))
        return {"up": "👍 Thanks: recorded that the reply was good.",
                "down": "👎 Thanks: recorded that the reply was not good.",
                "passage": "✓ Thanks: recorded the right passage for that reply."}[kind]

    def right_passage(self, session: Session, exchange: Exchange, index: int) -> str:
        """Feedback "this is the right passage" (passage ``index`` of the reply)."""
        hits = exchange.answer.passages if exchange.answer else []
        if not 0 <= index < len(hits):
            raise Re3GError("that passage is no longer available")
        return self._record(session, exchange, "passage", hits[index])

    def on_like(self, session: Any, evt: gr.LikeData) -> str:
        """UI handler of the chat's thumbs up / down on a reply (``session``: the
        :class:`~re3g_app.session.Session`; typed Any so Gradio can read the hints). Output:
        the notice."""
        session = self.chat.ensure(session)
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        exchange = session.exchanges.get(index) if isinstance(index, int) else None
        if exchange is None or evt.liked is None or evt.liked == "":
            return ""
        return self._record(session, exchange, "up" if evt.liked is True else "down")

    def api_feedback(self, reply: float, kind: str, passage: float | None,
                     session: Session | None) -> str:
        """API handler for ``/feedback``: ``kind`` "up", "down" or "passage" on the reply with
        key ``reply`` (1 for the first, 3 for the second, ...: as ``/chat`` numbers them),
        ``passage`` the index of the chosen passage (for "passage")."""
        session = self.chat.ensure(session)
        exchange = session.exchanges.get(int(reply))
        if exchange is None:
            raise gr.Error(f"no reply {int(reply)} in this conversation", print_exception=False)
        if kind == "passage":
            try:
                return self.right_passage(session, exchange, int(passage or 0))
            except Re3GError as exc:
                raise gr.Error(str(exc), print_exception=False) from exc
        if kind not in ("up", "down"):
            raise gr.Error("kind must be up, down or passage", print_exception=False)
        return self._record(session, exchange, kind)

    # ------------------------------------------------------------------ export

    def _ordered(self, session: Session) -> list[Exchange]:
        return [session.exchanges[k] for k in sorted(session.exchanges)]

    def download(self, fmt: str, session: Session | None) -> str:
        """UI handler of an export button: the payload the page's script saves."""
        session = self.chat.ensure(session)
        return download_payload(self._ordered(session), session.corpus, fmt)

    def api_export(self, fmt: str, session: Session | None) -> str:
        """API handler for ``/export``: the conversation as "markdown" or "json" text."""
        session = self.chat.ensure(session)
        if fmt not in FORMATS:
            raise gr.Error(f"format must be one of {sorted(FORMATS)}", print_exception=False)
        return export(self._ordered(session), session.corpus, fmt)

    # ------------------------------------------------------------------ which tool answered

    def tool_line(self, session: Session | None) -> tuple[str, Any]:
        """UI handler chained after a turn: which tool answered the latest reply, and the
        switch to the other one. Outputs (tool line, switch button)."""
        last = session.last() if hasattr(session, "last") else None
        if last is None:
            return "", gr.update(visible=False)
        _key, exchange = last
        corpus = render.escape_markdown(exchange.corpus or session.corpus)
        line = TOOL_LINE.get(exchange.route, "").format(corpus=corpus)
        return line, gr.update(visible=True, value=SWITCH_LABEL.get(exchange.route, ""))


def _hit_holding(hits: list[Hit], doc_id: str, start: int, pid: str = "") -> Hit | None:
    for h in hits:
        p = h.passage
        if (pid and p.pid == pid) or (p.doc_id == doc_id and p.start <= start < p.end):
            return h
    return None


def _listing(folder: Path) -> set[str]:
    """File names in the corpus's sources folder."""
    try:
        return {p.name for p in (folder / SOURCES_FOLDER).iterdir() if p.is_file()}
    except OSError:
        return set()
