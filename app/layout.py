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
from .settings import AppConfig, Settings
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
    with gr.Accordion("Your documents", open=False, elem_id="re3g-upload"):
        gr.Markdown(Uploads.limits_note())
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
