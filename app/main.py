"""The Gradio chat: conversation, evidence panel, settings, corpora and uploads.

    from app.main import AppConfig, build_app, launch
    launch(host="127.0.0.1", port=7860)                      # what `re3g chat` runs
    demo = build_app(AppConfig(indexes_dir="indexes"))       # a gr.Blocks for tests/embedding

Scripts can drive the chat with gradio_client; each Client is one session::

    from gradio_client import Client
    c = Client("http://127.0.0.1:7860/")
    c.predict("How much is a day pass?", api_name="/chat")   # -> reply text
    c.predict("And for students?", api_name="/chat")         # same conversation

API endpoints: ``/chat`` (message -> reply text), ``/settings`` (corpus, mode, k, rerank,
generator), ``/clear``, ``/build_index`` (files, name -> status text).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr

from app import render
from app.code_tool import CODE_NOTE, CodeTool, route_message
from app.corpora import CorpusCatalog, new_session_id
from app.pipelines import (
    GENERATORS,
    MODES,
    PipelineCache,
    PipelineFactory,
    Settings,
    default_factory,
    stream_answer,
)
from re3g.errors import DataError, Re3GError
from re3g.types import Answer

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
"""Longest message accepted, in characters (longer ones are refused with a message)."""
MIN_CONFIDENCE: float | None = None
"""Default threshold: None uses the pipeline's own (0.30 with the dense-fallback extractor,
0.20 with a trained extractor); a reply whose confidence is below it, or that the pipeline
did not ground, says there is no good evidence instead of answering."""
MAX_PASSAGES_SHOWN = 5
MAX_UPLOAD_CORPORA = 5
"""Uploaded corpora one session may keep."""
DOCUMENTS_FILE = "documents.json"
UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".zip"]
NO_EVIDENCE = (
    "I could not find good evidence for that in {corpus}, so I won't guess. "
    "Try rephrasing with words the documents would use, or pick another corpus."
)


@dataclass
class AppConfig:
    """Everything ``build_app`` needs; ``re3g chat`` fills it from its options."""

    indexes_dir: Path = Path("indexes")
    default_corpus: str = "sample"
    share_uploads: bool = False
    concurrency: int = 2
    min_confidence: float | None = MIN_CONFIDENCE
    config_path: str | None = None
    settings: Settings = field(default_factory=Settings)
    max_message_chars: int = MAX_MESSAGE_CHARS
    title: str = "re3g · chat over documents"
    code: dict[str, Any] | None = None  # code-tool LLM spec (re3g.toml [code]); None: default
    code_auto: bool = True  # route programming questions to the code tool automatically

    def __post_init__(self) -> None:
        self.indexes_dir = Path(self.indexes_dir)
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {self.min_confidence}")


@dataclass
class Session:
    """One browser tab's (or one API client's) conversation and choices, kept in gr.State."""

    id: str
    corpus: str = ""
    settings: Settings = field(default_factory=Settings)
    history: list[str] = field(default_factory=list)
    evidence: dict[int, str] = field(default_factory=dict)
    uploads: list[str] = field(default_factory=list)
    code_auto: bool = True


class ChatApp:
    """The app's behaviour as small methods; :func:`build_app` wires them to components.

    ``factory(index_path, settings)`` makes a pipeline (default: ``Re3G.from_config``); tests
    and embedders may pass their own.
    """

    def __init__(self, config: AppConfig, factory: PipelineFactory | None = None) -> None:
        self.config = config
        self.catalog = CorpusCatalog(config.indexes_dir, share_uploads=config.share_uploads)
        overrides = {} if config.min_confidence is None else {
            "min_confidence": config.min_confidence}
        self.pipelines = PipelineCache(factory or default_factory(config.config_path,
                                                                  **overrides))
        self.code_tool = CodeTool(config.code if config.code is not None
                                  else _code_spec(config.config_path))

    # ------------------------------------------------------------------ sessions and settings

    def new_session(self) -> Session:
        choices = [c.key for c in self.catalog.shared()]
        corpus = self.config.default_corpus if self.config.default_corpus in choices else (
            choices[0] if choices else "")
        return Session(new_session_id(), corpus=corpus, settings=self.config.settings,
                       code_auto=self.config.code_auto)

    def ensure(self, session: Session | None) -> Session:
        return session if isinstance(session, Session) else self.new_session()

    def on_load(self, session: Session | None) -> tuple[Any, Session, str]:
        session = self.ensure(session)
        return (self._corpus_update(session), session,
                render.message_html("Evidence for each reply appears here."))

    def forget(self, session: Session | None) -> None:
        """Called by Gradio when a session's state expires: drop its private uploads."""
        if isinstance(session, Session) and session.uploads:
            for key in session.uploads:
                with contextlib.suppress(DataError):
                    self.pipelines.forget(self.catalog.resolve(session.id, key).path)
            self.catalog.forget_session(session.id)

    def _corpus_update(self, session: Session) -> Any:
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

    def clear(self, session: Session | None) -> tuple[list, str, Session, str]:
        session = self.ensure(session)
        session.history.clear()
        session.evidence.clear()
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

    def _bot_for(self, session: Session) -> tuple[Any, str]:
        if not session.corpus:
            raise DataError("No corpus is available yet: build one or upload documents.")
        corpus = self.catalog.resolve(session.id, session.corpus)
        return self.pipelines.get(corpus.path, session.settings), corpus.label

    def threshold(self, answer: Answer) -> float:
        """The confidence threshold in force: the app's, else the one the pipeline used."""
        if self.config.min_confidence is not None:
            return self.config.min_confidence
        return float(answer.extra.get("min_confidence") or 0.0)

    def is_grounded(self, answer: Answer) -> bool:
        return bool(answer.grounded) and answer.confidence >= self.threshold(answer)

    def set_code_auto(self, value: bool, session: Session | None) -> Session:
        """UI handler of the "route code questions to the code tool" toggle."""
        session = self.ensure(session)
        session.code_auto = bool(value)
        return session

    def turn(self, message: str, session: Session) -> Iterator[tuple[str, Answer | None, str]]:
        """Run one turn: yields (reply so far, None, "") while streaming, then
        (final reply, Answer, evidence HTML). ``/code``, ``/docs`` and ``/both`` prefixes (or the
        automatic router, when on) send the turn to the code tool, the documents, or both."""
        route, text = route_message(message, session.code_auto)
        if route == "code":
            yield from self.code_turn(text or message)
            return
        if route == "both":
            reply, answer, html = "", None, ""
            for step in self.doc_turn(text, session):
                reply, answer, html = step
                yield reply, None, ""
            head = f"{reply}\n\n---\n\n"
            for code_reply, code_answer, _ in self.code_turn(text):
                if code_answer is None:
                    yield head + code_reply, None, ""
                else:
                    yield head + code_reply, answer or code_answer, html
            return
        yield from self.doc_turn(text or message, session)

    def code_turn(self, question: str) -> Iterator[tuple[str, Answer | None, str]]:
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

    def doc_turn(self, message: str, session: Session
                 ) -> Iterator[tuple[str, Answer | None, str]]:
        """A document-grounded turn. A grounded exchange is added to the session's history;
        one without good evidence is shown but not kept for later queries."""
        bot, label = self._bot_for(session)
        history = [*session.history, message]
        t0 = time.perf_counter()
        text = ""
        answer: Answer | None = None
        for piece in stream_answer(bot, history):
            if isinstance(piece, Answer):
                answer = piece
            else:
                text += piece
                yield text, None, ""
        if answer is None:  # pragma: no cover - stream_answer always ends with an Answer
            raise Re3GError("the pipeline returned no answer")
        answer.timings.setdefault("total", time.perf_counter() - t0)
        grounded = self.is_grounded(answer)
        reply = answer.text.strip() if grounded else NO_EVIDENCE.format(corpus=label)
        if grounded and not reply:
            reply = text.strip() or NO_EVIDENCE.format(corpus=label)
        html = render.evidence_html(answer, grounded, self.threshold(answer), label,
                                    max_passages=MAX_PASSAGES_SHOWN)
        if grounded:  # an exchange without evidence would only add noise to later queries
            session.history += [message, reply]
        yield reply, answer, html

    def respond(self, message: str, chat: list | None, session: Session | None
                ) -> Iterator[tuple[Any, list, str, str, Session]]:
        """UI handler: outputs (textbox, chatbot, evidence, notice, state)."""
        session = self.ensure(session)
        chat = list(chat or [])
        try:
            text = self.check_message(message)
        except DataError as exc:
            yield gr.update(), chat, gr.update(), f"⚠️ {exc}", session
            return
        chat.append({"role": "user", "content": text})
        chat.append({"role": "assistant", "content": "…"})
        yield "", chat, render.message_html("Searching…"), "", session
        try:
            for reply, answer, html in self.turn(text, session):
                chat[-1] = {"role": "assistant", "content": reply}
                if answer is None:
                    yield "", chat, gr.update(), "", session
                else:
                    session.evidence[len(chat) - 1] = html
                    yield "", chat, html, "", session
        except Re3GError as exc:
            chat[-1] = {"role": "assistant", "content": f"⚠️ {exc}"}
            yield "", chat, render.message_html(str(exc)), f"⚠️ {exc}", session
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

    def show_evidence(self, session: Session | None, evt: gr.SelectData) -> Any:
        """Clicking a reply shows that reply's evidence again."""
        if isinstance(session, Session):
            index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            if isinstance(index, int) and index in session.evidence:
                return session.evidence[index]
        return gr.update()

    # ------------------------------------------------------------------ uploads

    def build_corpus(self, files: Sequence[str] | str | None, name: str, session: Session | None,
                     progress: gr.Progress = gr.Progress(track_tqdm=True)  # noqa: B008
                     ) -> tuple[str, Any, Session]:
        """Read uploaded files, build an index in this session's folder, select it.
        Outputs (status, corpus dropdown, state)."""
        session = self.ensure(session)
        try:
            status = self._build(files, name, session, progress)
        except Re3GError as exc:
            return f"⚠️ {exc}", gr.update(), session
        except OSError as exc:
            log.exception("upload build failed")
            return f"⚠️ Could not write the index ({exc.strerror}).", gr.update(), session
        return status, self._corpus_update(session), session

    def _build(self, files: Sequence[str] | str | None, name: str, session: Session,
               progress: gr.Progress) -> str:
        from re3g.data.ingest import load_files, write_doc2dial
        from re3g.retrieve import build_index

        paths = [files] if isinstance(files, str) else [str(f) for f in (files or [])]
        if not paths:
            raise DataError("Choose one or more files first (.txt, .md, .html, .pdf or .zip).")
        names = [os.path.basename(p) for p in paths]
        name = (name or "").strip() or (
            re.sub(r"[^\w -]+", " ", Path(names[0]).stem).strip()[:40] or "my documents")
        key, folder = self.catalog.upload_target(session.id, name)
        if key not in session.uploads and len(session.uploads) >= MAX_UPLOAD_CORPORA:
            raise DataError(f"A session may keep at most {MAX_UPLOAD_CORPORA} uploaded corpora.")
        progress(0.02, desc="Reading files")
        docs = load_files(paths, names=names, domain="upload")
        progress(0.1, desc=f"Indexing {len(docs)} documents")
        stages = {"bm25": (0.35, "Encoding passages"), "dense": (0.95, "Finishing")}

        def on_stage(stage: str, _seconds: float) -> None:
            frac, desc = stages.get(stage, (0.5, stage))
            progress(frac, desc=desc)

        self.pipelines.forget(folder)
        # The pipeline finds the documents (for sentence-level evidence spans) through the
        # manifest's source, relative to the index folder.
        build_index(docs, folder, name=name, source=DOCUMENTS_FILE, progress=True,
                    on_stage=on_stage)
        write_doc2dial(docs, folder / DOCUMENTS_FILE)
        if key not in session.uploads:
            session.uploads.append(key)
        session.corpus = key
        progress(1.0, desc="Ready")
        n_words = sum(len(d.text.split()) for d in docs)
        return (f"✅ Built **{name}** from {len(docs)} document(s), {n_words:,} words. "
                "It is now the selected corpus.")


def build_app(config: AppConfig | None = None, factory: PipelineFactory | None = None
              ) -> gr.Blocks:
    """The Gradio Blocks of the chat (call ``.queue(...)`` and ``.launch()``, or use
    :func:`launch`)."""
    chat_app = ChatApp(config or AppConfig(), factory)
    cfg = chat_app.config
    with gr.Blocks(title=cfg.title, delete_cache=(3600, 3600)) as demo:
        state = gr.State(None, delete_callback=chat_app.forget)
        gr.Markdown(f"## {cfg.title}\nAsk questions; every reply shows the passage it comes "
                    "from, with the extracted span highlighted.")
        with gr.Row():
            with gr.Column(scale=3):
                # choices are per session (set on load); the server checks every value
                corpus = gr.Dropdown(label="Corpus", choices=chat_app.catalog.choices(""),
                                     elem_id="re3g-corpus", interactive=True,
                                     allow_custom_value=True)
                chatbot = gr.Chatbot(label="Conversation", height=480, elem_id="re3g-chat",
                                     buttons=["copy", "copy_all"], feedback_options=None,
                                     sanitize_html=True)
                msg = gr.Textbox(placeholder="Ask a question about the documents…",
                                 show_label=False, elem_id="re3g-msg", lines=1)
                with gr.Row():
                    send = gr.Button("Send", variant="primary", elem_id="re3g-send")
                    clear = gr.Button("Clear conversation", elem_id="re3g-clear")
                notice = gr.Markdown(elem_id="re3g-notice")
            with gr.Column(scale=2):
                gr.Markdown("### Evidence")
                evidence = gr.HTML(elem_id="re3g-evidence")
                settings = _settings_panel(cfg.settings)
                code_auto = gr.Checkbox(value=cfg.code_auto, elem_id="re3g-code-auto",
                                        label="Send programming questions to the code tool "
                                              "(or start a message with /code, /docs, /both)")
                files, up_name, build, up_status = _upload_panel()
        api_msg = gr.Textbox(visible=False)
        api_reply = gr.Textbox(visible=False)

        demo.load(chat_app.on_load, [state], [corpus, state, evidence], api_visibility="private")
        _wire_chat(chat_app, msg, send, chatbot, evidence, notice, state, cfg)
        clear.click(chat_app.clear, [state], [chatbot, evidence, state, notice], api_name="clear")
        chatbot.clear(chat_app.clear, [state], [chatbot, evidence, state, notice],
                      api_visibility="private")
        chatbot.select(chat_app.show_evidence, [state], [evidence], api_visibility="private")
        for comp in (corpus, *settings):
            comp.change(chat_app.apply_settings, [corpus, *settings, state], [state, notice],
                        api_name="settings" if comp is corpus else None,
                        api_visibility="public" if comp is corpus else "private")
        code_auto.change(chat_app.set_code_auto, [code_auto, state], [state],
                         api_visibility="private")
        build.click(chat_app.build_corpus, [files, up_name, state], [up_status, corpus, state],
                    api_name="build_index", concurrency_limit=1, concurrency_id="build")
        api_msg.submit(chat_app.api_chat, [api_msg, state], [api_reply, state], api_name="chat",
                       concurrency_id="model", concurrency_limit=cfg.concurrency)
    demo.chat_app = chat_app  # type: ignore[attr-defined]
    return demo


def _settings_panel(defaults: Settings) -> tuple[Any, Any, Any, Any]:
    with gr.Accordion("Settings", open=False):
        mode = gr.Radio(list(MODES), value=defaults.mode, label="Retrieval mode",
                        elem_id="re3g-mode")
        k = gr.Slider(1, 20, value=defaults.k, step=1, label="Passages retrieved (k)")
        rerank = gr.Checkbox(value=defaults.rerank, label="Rerank with the trained reranker")
        generator = gr.Dropdown(list(GENERATORS), value=defaults.generator,
                                label="Generator backend")
    return mode, k, rerank, generator


def _upload_panel() -> tuple[Any, Any, Any, Any]:
    from re3g.data.ingest import MAX_FILE_BYTES, MAX_TOTAL_BYTES

    with gr.Accordion("Your documents", open=False, elem_id="re3g-upload"):
        gr.Markdown(f".txt, .md, .html, .pdf or a .zip of them; up to "
                    f"{MAX_FILE_BYTES // 2**20} MB a file, {MAX_TOTAL_BYTES // 2**20} MB in all. "
                    "Only you see what you upload.")
        files = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, label="Files",
                        elem_id="re3g-files")
        name = gr.Textbox(label="Corpus name", placeholder="e.g. my notes",
                          elem_id="re3g-corpus-name")
        build = gr.Button("Build index", elem_id="re3g-build")
        status = gr.Markdown(elem_id="re3g-upload-status")
    return files, name, build, status


def _wire_chat(chat_app: ChatApp, msg: Any, send: Any, chatbot: Any, evidence: Any,
               notice: Any, state: Any, cfg: AppConfig) -> None:
    outputs = [msg, chatbot, evidence, notice, state]
    for trigger in (msg.submit, send.click):
        trigger(chat_app.respond, [msg, chatbot, state], outputs, api_visibility="private",
                concurrency_id="model", concurrency_limit=cfg.concurrency,
                show_progress="minimal")


def launch(host: str = "127.0.0.1", port: int = 7860, config: AppConfig | None = None,
           factory: PipelineFactory | None = None, block: bool = True, quiet: bool = False
           ) -> tuple[gr.Blocks, str]:
    """Build, queue and start the app; returns (demo, local URL).

    Gradio's upload cache is put under ``<indexes>/uploads/.tmp`` (unless GRADIO_TEMP_DIR is
    already set) so uploads are written only inside the app's data folder.
    """
    from re3g.data.ingest import MAX_TOTAL_BYTES

    cfg = config or AppConfig()
    tmp = (cfg.indexes_dir / "uploads" / ".tmp").resolve()
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRADIO_TEMP_DIR", str(tmp))
    demo = build_app(cfg, factory)
    demo.queue(default_concurrency_limit=cfg.concurrency, max_size=256)
    _app, url, _ = demo.launch(
        server_name=host, server_port=port, prevent_thread_lock=not block,
        max_file_size=MAX_TOTAL_BYTES, css=render.CSS, show_error=True, quiet=quiet,
        footer_links=["api"], theme=gr.themes.Soft(),
    )
    return demo, str(url or f"http://{host}:{port}/")


def settings_replace(settings: Settings, **changes: Any) -> Settings:
    """A validated copy of ``settings`` with ``changes`` (used by the CLI)."""
    return replace(settings, **changes).checked()


def _code_spec(config_path: str | None) -> dict[str, Any] | None:
    """The [code] table of the config file, or None (the packaged offline default)."""
    if not config_path:
        return None
    from re3g.config import Config

    try:
        code = dict(Config.load(config_path).code)
    except Re3GError:
        return None
    code.pop("enabled", None)
    return code or None
