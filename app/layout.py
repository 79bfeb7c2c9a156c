"""The page: gr.Blocks with the conversation, evidence panel, settings and uploads, and its CSS.

    >>> demo = build_app(AppConfig(indexes_dir="no-indexes-here"), factory=lambda *_: None)
    >>> type(demo).__name__, demo.chat_app.config.settings.k
    ('Blocks', 10)
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from re3g.config import GENERATORS, MODES

from .pipelines import PipelineFactory
from .session import ChatApp
from .settings import SESSION_IDLE_S, UPLOAD_CACHE_MAX_AGE_S, AppConfig, Settings
from .uploads import UPLOAD_TYPES, Uploads

CSS = """
.re3g-evidence { font-size: 0.92em; }
.re3g-evidence mark { background: #ffe066; color: #111; padding: 0 2px; border-radius: 2px; }
.re3g-passage { border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 6px 8px; margin: 6px 0; }
.re3g-passage.used { border-color: #e0a800; }
.re3g-head { margin-bottom: 2px; }
.re3g-scores { color: var(--body-text-color-subdued); font-size: 0.85em; margin-bottom: 4px; }
.re3g-ok { color: #2b8a3e; margin-bottom: 4px; }
.re3g-weak { color: #c92a2a; margin-bottom: 4px; }
.re3g-timings td, .re3g-timings th { padding: 1px 8px; font-size: 0.85em; }
"""
"""Styles of the evidence panel's HTML (:mod:`.render`)."""


def build_app(config: AppConfig | None = None, factory: PipelineFactory | None = None
              ) -> gr.Blocks:
    """The Gradio Blocks of the chat (call ``.queue(...)`` and ``.launch()``, or use
    :func:`re3g_app.launch`)."""
    chat_app = ChatApp(config or AppConfig(), factory)
    cfg = chat_app.config
    cache_age = UPLOAD_CACHE_MAX_AGE_S
    with gr.Blocks(title=cfg.title, delete_cache=(cache_age, cache_age)) as demo:
        # a session's state (and its private uploads) goes after SESSION_IDLE_S unused
        state = gr.State(None, delete_callback=chat_app.forget, time_to_live=SESSION_IDLE_S)
        gr.Markdown(f"## {cfg.title}\nAsk questions; every reply shows the passage it comes "
                    "from, with the extracted span highlighted.")
        with gr.Row():
            with gr.Column(scale=3):
                # choices are per session (set on load); the server checks every value
                corpus = gr.Dropdown(label="Corpus", choices=chat_app.catalog.choices(""),
                                     elem_id="re3g-corpus", interactive=True,
                                     allow_custom_value=True)
                # replies quoting documents are escaped (render.escape_markdown); no LaTeX
                chatbot = gr.Chatbot(label="Conversation", height=480, elem_id="re3g-chat",
                                     buttons=["copy", "copy_all"], feedback_options=None,
                                     sanitize_html=True, latex_delimiters=[])
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
                files, up_name, share, build, cancel, up_status = _upload_panel(
                    cfg.share_uploads)
        api_msg = gr.Textbox(visible=False)
        api_reply = gr.Textbox(visible=False)

        demo.load(chat_app.on_load, [state], [corpus, state, evidence], api_visibility="private")
        demo.unload(chat_app.on_unload)  # a closed tab ends its session (private uploads go)
        _wire_chat(chat_app, msg, send, chatbot, evidence, notice, state, cfg)
        clear.click(chat_app.clear, [state], [chatbot, evidence, state, notice], api_name="clear")
        chatbot.clear(chat_app.clear, [state], [chatbot, evidence, state, notice],
                      api_visibility="private")
        chatbot.select(chat_app.show_evidence, [state], [evidence], api_visibility="private")
        for comp in (corpus, *settings):
            # a corpus or settings used for the first time loads (and warms) its pipeline now,
            # with a notice, instead of on the next question
            comp.change(chat_app.apply_settings, [corpus, *settings, state], [state, notice],
                        api_name="settings" if comp is corpus else None,
                        api_visibility="public" if comp is corpus else "private"
                        ).then(chat_app.warm_session, [state], [notice],
                               api_visibility="private", concurrency_id="model",
                               concurrency_limit=cfg.concurrency, show_progress="minimal")
        code_auto.change(chat_app.set_code_auto, [code_auto, state], [state],
                         api_visibility="private")
        _wire_uploads(chat_app, files, up_name, share, build, cancel, up_status, corpus, state)
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


def _upload_panel(share_uploads: bool) -> tuple[Any, Any, Any, Any, Any, Any]:
    with gr.Accordion("Your documents", open=False, elem_id="re3g-upload"):
        gr.Markdown(Uploads.limits_note())
        files = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, label="Files",
                        elem_id="re3g-files")
        name = gr.Textbox(label="Corpus name", placeholder="e.g. my notes",
                          elem_id="re3g-corpus-name")
        share = gr.Checkbox(value=False, visible=share_uploads, elem_id="re3g-share",
                            label="Share this corpus with everyone using this server")
        with gr.Row():
            build = gr.Button("Build index", elem_id="re3g-build")
            cancel = gr.Button("Cancel build", elem_id="re3g-cancel", variant="stop")
        status = gr.Markdown(elem_id="re3g-upload-status")
    return files, name, share, build, cancel, status


def _wire_uploads(chat_app: ChatApp, files: Any, name: Any, share: Any, build: Any,
                  cancel: Any, status: Any, corpus: Any, state: Any) -> None:
    """Builds run one at a time (group "build"); a new upload first cancels the session's
    running build (outside the queue), and "Cancel build" stops the running one and drops a
    queued one."""
    building = build.click(
        chat_app.cancel_build, [state], [status], api_visibility="private",
        concurrency_limit=None, show_progress="hidden",
    ).then(chat_app.build_corpus, [files, name, share, state], [status, corpus, state],
           api_name="build_index", concurrency_limit=1, concurrency_id="build")
    # a built upload's files are deleted from the cache: empty the file box
    building.then(lambda text: None if str(text).startswith("✅") else gr.update(), [status],
                  [files], api_visibility="private", show_progress="hidden")
    cancel.click(chat_app.cancel_build, [state], [status], api_name="cancel_build",
                 concurrency_limit=None, cancels=[building])


def _wire_chat(chat_app: ChatApp, msg: Any, send: Any, chatbot: Any, evidence: Any,
               notice: Any, state: Any, cfg: AppConfig) -> None:
    outputs = [msg, chatbot, evidence, notice, state]
    for trigger in (msg.submit, send.click):
        trigger(chat_app.respond, [msg, chatbot, state], outputs, api_visibility="private",
                concurrency_id="model", concurrency_limit=cfg.concurrency,
                show_progress="minimal")
