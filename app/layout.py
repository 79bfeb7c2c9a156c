"""The page: gr.Blocks with the conversation, evidence panel, settings and uploads, and its CSS.

    >>> demo = build_app(AppConfig(indexes_dir="no-indexes-here"), factory=lambda *_: None)
    >>> type(demo).__name__, demo.chat_app.config.settings.k
    ('Blocks', 20)
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
.re3g-evidence mark, .re3g-doc mark { background: #ffe066; color: #111; padding: 0 2px;
  border-radius: 2px; }
.re3g-evidence mark.re3g-alt { background: #d0ebff; }
.re3g-passage { border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 6px 8px; margin: 6px 0; }
.re3g-passage.used { border-color: #e0a800; }
.re3g-head { margin-bottom: 2px; }
.re3g-scores { color: var(--body-text-color-subdued); font-size: 0.85em; margin-bottom: 4px; }
.re3g-ok { color: #2b8a3e; margin-bottom: 4px; }
.re3g-weak { color: #c92a2a; margin-bottom: 4px; }
.re3g-unsure { color: #b35c00; margin-bottom: 4px; }
.re3g-timings td, .re3g-timings th { padding: 1px 8px; font-size: 0.85em; }
.re3g-text[data-re3g-open] { cursor: pointer; }
.re3g-passage .re3g-text { white-space: pre-line; }
.re3g-tools { display: flex; gap: 6px; margin-top: 4px; flex-wrap: wrap; }
.re3g-tools button, .re3g-doc-top button { font-size: 0.85em; padding: 2px 8px;
  border: 1px solid var(--border-color-primary); border-radius: 4px;
  background: var(--background-fill-secondary); cursor: pointer; }
.re3g-badge, a.re3g-cite { font-size: 0.8em; font-weight: 600; color: #1c5fb0;
  vertical-align: super; text-decoration: none; }
a.re3g-cite:hover { text-decoration: underline; }
.re3g-doc { border: 2px solid #e0a800; border-radius: 6px; padding: 6px 10px;
  font-size: 0.92em; }
.re3g-doc-top { display: flex; gap: 8px; align-items: center; flex-wrap: wrap;
  margin-bottom: 4px; }
.re3g-doc-close { margin-left: auto; }
.re3g-doc-text { white-space: pre-wrap; max-height: 55vh; overflow-y: auto; }
.re3g-doc-h { display: block; font-weight: 700; font-size: 1.1em; margin-top: 4px; }
.re3g-doc-passage { background: rgba(255, 224, 102, 0.25); }
#re3g-evidence .re3g-evidence { max-height: 50vh; overflow-y: auto; padding-right: 4px; }
#re3g-evidence-heading, #re3g-chat-heading { margin: 0 0 4px 0; font-size: 1.1em; }
#re3g-chat-label { margin: 0; }
#re3g-chat { height: calc(100vh - 270px) !important; min-height: 320px; }
#re3g-chat .top-panel { background: var(--block-background-fill); border-radius: 6px;
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.2); }
#re3g-tool-line { min-height: 0; }
:focus-visible, #re3g-page button:focus-visible, #re3g-page textarea:focus-visible,
#re3g-page a:focus-visible { outline: 3px solid #1c7ed6 !important; outline-offset: 2px; }
@media (max-width: 700px) {
  #re3g-chat { height: 62vh !important; min-height: 280px; }
  #re3g-evidence .re3g-evidence { max-height: none; }
}
"""
"""Styles of the page: the conversation fills the window height beside the evidence column
(stacked on narrow windows), the evidence panel's and document view's HTML (:mod:`.render`,
:mod:`.docview`), citation markers and a visible keyboard focus."""

HEAD = """<script>
(() => {
  // Clicks on what the app's HTML offers (citations, passage cards, source files) go to the
  // server as one short action string through a hidden textbox and button.
  const act = (value) => {
    const box = document.querySelector('#re3g-action textarea, #re3g-action input');
    const button = document.querySelector('#re3g-action-btn');
    if (!box || !button) return;
    box.value = value;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => button.click(), 60);
  };
  window.re3gAct = act;
  // Save a download payload {name, mime, data (base64)} as a file.
  window.re3gSave = (payload) => {
    if (!payload) return;
    const p = JSON.parse(payload);
    const bytes = Uint8Array.from(atob(p.data), c => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], {type: p.mime}));
    const a = document.createElement('a');
    a.href = url; a.download = p.name; document.body.appendChild(a); a.click();
    setTimeout(() => { URL.revokeObjectURL(url); a.remove(); }, 1000);
  };
  window.re3gShowMark = () => {
    let tries = 0;
    const go = () => {
      const mark = document.querySelector('#re3g-doc #re3g-doc-mark');
      if (mark) { mark.scrollIntoView({block: 'center'}); return; }
      if (++tries < 40) setTimeout(go, 50);
    };
    go();
  };
  const handle = (e) => {
    const t = e.target instanceof Element ? e.target : null;
    if (!t) return;
    const cite = t.closest('a.re3g-cite');
    if (cite) {
      e.preventDefault(); e.stopPropagation();
      const m = (cite.getAttribute('href') || '').match(/re3g-cite-(\\d+)-(\\d+)$/);
      if (m) act('cite:' + m[1] + ':' + m[2]);
      return;
    }
    const open = t.closest('[data-re3g-open]');
    if (open) { act('open:' + open.getAttribute('data-re3g-open')); return; }
    const right = t.closest('[data-re3g-right]');
    if (right) { act('right:' + right.getAttribute('data-re3g-right')); return; }
    const src = t.closest('[data-re3g-source]');
    if (src) { act('source:' + src.getAttribute('data-re3g-source')); return; }
    if (t.closest('.re3g-doc-close')) act('close');
  };
  document.addEventListener('click', handle, true);
})();
</script>"""
"""The page's script (``launch(head=...)``): see :mod:`.actions` for the action strings."""

_SCROLL_JS = "() => { window.re3gShowMark && window.re3gShowMark(); }"
_SAVE_JS = "(payload) => { window.re3gSave && window.re3gSave(payload); }"


def build_app(config: AppConfig | None = None, factory: PipelineFactory | None = None
              ) -> gr.Blocks:
    """The Gradio Blocks of the chat (call ``.queue(...)`` and ``.launch()``, or use
    :func:`re3g_app.launch`)."""
    chat_app = ChatApp(config or AppConfig(), factory)
    cfg = chat_app.config
    cache_age = UPLOAD_CACHE_MAX_AGE_S
    with gr.Blocks(title=cfg.title, delete_cache=(cache_age, cache_age),
                   elem_id="re3g-page") as demo:
        # a session's state (and its private uploads) goes after SESSION_IDLE_S unused
        state = gr.State(None, delete_callback=chat_app.forget, time_to_live=SESSION_IDLE_S)
        gr.Markdown(f"## {cfg.title}\nAsk questions; every reply shows the passages it comes "
                    "from: click a [n] marker or a passage to read the whole document.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                gr.HTML('<h2 id="re3g-chat-heading">Conversation</h2>',
                        elem_id="re3g-chat-label", padding=False)
                # replies quoting documents are escaped (render.escape_markdown); no LaTeX
                chatbot = gr.Chatbot(label="Conversation", show_label=False, elem_id="re3g-chat",
                                     height="calc(100vh - 270px)",
                                     buttons=["copy", "copy_all"],
                                     feedback_options=["Like", "Dislike"],
                                     sanitize_html=True, latex_delimiters=[])
                msg = gr.Textbox(placeholder="Ask a question about the documents… "
                                             "(Enter sends, Shift+Enter for a new line)",
                                 label="Your question", show_label=False, elem_id="re3g-msg",
                                 lines=1, max_lines=6)
                with gr.Row():
                    send = gr.Button("Send", variant="primary", elem_id="re3g-send")
                    clear = gr.Button("Clear conversation", elem_id="re3g-clear")
                with gr.Row():
                    tool_line = gr.Markdown(elem_id="re3g-tool-line")
                    switch = gr.Button("Answer from the documents instead", size="sm",
                                       elem_id="re3g-switch", visible=False)
                notice = gr.Markdown(elem_id="re3g-notice")
            with gr.Column(scale=2, min_width=320):
                corpus = gr.Dropdown(label="Corpus", choices=chat_app.catalog.choices(""),
                                     elem_id="re3g-corpus", interactive=True,
                                     allow_custom_value=True)
                gr.HTML('<h2 id="re3g-evidence-heading">Evidence</h2>', padding=False)
                evidence = gr.HTML(elem_id="re3g-evidence")
                doc_view = gr.HTML(elem_id="re3g-doc")
                export_md, export_json = _export_buttons()
                settings = _settings_panel(cfg.settings)
                code_auto = gr.Checkbox(value=cfg.code_auto, elem_id="re3g-code-auto",
                                        label="Send programming questions to the code tool "
                                              "(or start a message with /code, /docs, /both)")
                files, up_name, share, build, cancel, up_status = _upload_panel(
                    cfg.share_uploads)
        hidden = _hidden_parts()

        demo.load(chat_app.on_load, [state], [corpus, state, evidence], api_visibility="private")
        demo.unload(chat_app.on_unload)  # a closed tab ends its session (private uploads go)
        _wire_chat(chat_app, msg, send, chatbot, evidence, notice, state, cfg,
                   (tool_line, switch), doc_view)
        clear.click(chat_app.clear, [state], [chatbot, evidence, state, notice], api_name="clear"
                    ).then(chat_app.actions.tool_line, [state], [tool_line, switch],
                           api_visibility="private"
                           ).then(_no_document, None, [doc_view], api_visibility="private")
        chatbot.clear(chat_app.clear, [state], [chatbot, evidence, state, notice],
                      api_visibility="private"
                      ).then(_no_document, None, [doc_view], api_visibility="private")
        chatbot.select(chat_app.show_evidence, [state], [evidence], api_visibility="private")
        chatbot.like(chat_app.actions.on_like, [state], [notice], api_visibility="private")
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
        _wire_page_actions(chat_app, hidden, state, doc_view, evidence, notice,
                           (export_md, export_json))
        _wire_api(chat_app, state, cfg)
    demo.chat_app = chat_app  # type: ignore[attr-defined]
    return demo


def _export_buttons() -> tuple[Any, Any]:
    with gr.Row(elem_id="re3g-export"):
        md = gr.Button("⬇ Export Markdown", size="sm", elem_id="re3g-export-md")
        js = gr.Button("⬇ Export JSON", size="sm", elem_id="re3g-export-json")
    return md, js


def _hidden_parts() -> dict[str, Any]:
    """Components the page's script and API clients use; rendered but never shown."""
    return {
        "action": gr.Textbox(visible="hidden", elem_id="re3g-action", label="action"),
        "action_btn": gr.Button("act", visible="hidden", elem_id="re3g-action-btn"),
        "download": gr.Textbox(visible="hidden", elem_id="re3g-download", label="download"),
    }


def _wire_page_actions(chat_app: ChatApp, hidden: dict[str, Any], state: Any, doc_view: Any,
                       evidence: Any, notice: Any, exports: tuple[Any, Any]) -> None:
    actions = chat_app.actions
    download = hidden["download"]
    hidden["action_btn"].click(
        actions.act, [hidden["action"], state], [doc_view, evidence, notice, download],
        api_visibility="private", show_progress="hidden",
    ).then(None, None, None, js=_SCROLL_JS).then(None, [download], None, js=_SAVE_JS)
    for button, fmt in zip(exports, ("markdown", "json"), strict=True):
        button.click(lambda session, f=fmt: actions.download(f, session), [state], [download],
                     api_visibility="private", show_progress="hidden"
                     ).then(None, [download], None, js=_SAVE_JS)


def _wire_api(chat_app: ChatApp, state: Any, cfg: AppConfig) -> None:
    """Endpoints for gradio_client and the HTTP API only (their components are not shown)."""
    api_msg = gr.Textbox(visible=False)
    api_reply = gr.Textbox(visible=False)
    api_msg.submit(chat_app.api_chat, [api_msg, state], [api_reply, state], api_name="chat",
                   concurrency_id="model", concurrency_limit=cfg.concurrency)
    cited_msg = gr.Textbox(visible=False)
    cited = gr.JSON(visible=False)
    cited_msg.submit(chat_app.api_chat_cited, [cited_msg, state], [cited, state],
                     api_name="chat_cited", concurrency_id="model",
                     concurrency_limit=cfg.concurrency)
    fmt = gr.Textbox(visible=False)
    exported = gr.Textbox(visible=False)
    fmt.submit(chat_app.actions.api_export, [fmt, state], [exported], api_name="export")
    reply = gr.Number(visible=False, precision=0)
    kind = gr.Textbox(visible=False)
    passage = gr.Number(visible=False, precision=0)
    recorded = gr.Textbox(visible=False)
    kind.submit(chat_app.actions.api_feedback, [reply, kind, passage, state], [recorded],
                api_name="feedback")


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


def _no_document() -> str:
    """The document view emptied: a new answer or a cleared chat must not sit beside the
    document and highlight an earlier answer opened (session 56's person test). Selecting a
    message keeps it: a citation marker is clicked inside one."""
    return ""


def _wire_chat(chat_app: ChatApp, msg: Any, send: Any, chatbot: Any, evidence: Any,
               notice: Any, state: Any, cfg: AppConfig, tool: tuple[Any, Any],
               doc_view: Any) -> None:
    outputs = [msg, chatbot, evidence, notice, state]
    for trigger in (msg.submit, send.click):
        trigger(chat_app.respond, [msg, chatbot, state], outputs, api_visibility="private",
                concurrency_id="model", concurrency_limit=cfg.concurrency,
                show_progress="minimal"
                ).then(chat_app.actions.tool_line, [state], list(tool), api_visibility="private"
                       ).then(_no_document, None, [doc_view], api_visibility="private")
    switch = tool[1]
    switch.click(chat_app.switch_tool, [chatbot, state], outputs, api_visibility="private",
                 concurrency_id="model", concurrency_limit=cfg.concurrency,
                 show_progress="minimal"
                 ).then(chat_app.actions.tool_line, [state], list(tool), api_visibility="private"
                        ).then(_no_document, None, [doc_view], api_visibility="private")
