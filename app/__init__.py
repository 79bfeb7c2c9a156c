"""The re3g Gradio front end: chat over documents with the evidence beside every reply.

The source folder ``app/`` installs as the package ``re3g_app``::

    from re3g_app import AppConfig, build_app, launch
    launch(host="127.0.0.1", port=7860)                  # what `re3g chat` runs
    demo = build_app(AppConfig(indexes_dir="indexes"))   # a gr.Blocks, for embedding or tests

Scripts can drive the chat with gradio_client; each Client is one session::

    from gradio_client import Client
    c = Client("http://127.0.0.1:7860/")
    c.predict("How much is a day pass?", api_name="/chat")   # -> reply text
    c.predict("And for students?", api_name="/chat")         # same conversation

API endpoints: ``/chat`` (message -> reply text), ``/chat_cited`` (message -> streamed dicts,
the last with the reply's citations: text, doc id, span ids, offsets), ``/export``
("markdown" | "json" -> the conversation), ``/feedback`` (reply, "up" | "down" | "passage",
passage), ``/settings`` (corpus, mode, k, rerank, generator), ``/clear``, ``/build_index``
(files, name, share=False -> status text, corpus), ``/cancel_build``.

Modules, one job each: ``settings`` (Settings panel values, AppConfig), ``session`` (a
conversation's state and turn handling: ChatApp), ``pipelines`` (the pipeline cache),
``uploads`` (per-session corpora from uploaded files), ``corpora`` (which indexes a session
may use), ``guard`` (upload quotas; raw uploads never served), ``render`` (evidence HTML and
escaped replies), ``citations`` (reply sentences -> evidence, [n] markers), ``exchange`` (a
question and its reply as kept for feedback and export), ``docview`` (a whole document with
the span marked), ``actions`` (document view, feedback, export, the tool switch), ``feedback``
(the JSON-lines log), ``export`` (Markdown / JSON), ``code_tool`` (the code assistant), ``layout``
(gr.Blocks and CSS), ``server`` (launch) and ``cli`` (the ``re3g chat`` subcommand, found by
``re3g`` through the ``re3g.commands`` entry point).

The app imports re3g; re3g never imports the app. Gradio loads only when the names below are
used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"AppConfig": "settings", "ChatApp": "session", "build_app": "layout",
            "launch": "server"}
__all__ = ["AppConfig", "ChatApp", "build_app", "launch"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
