"""The re3g Gradio front end: chat over documents with the evidence beside every reply.

    from app import build_app, launch
    launch(host="127.0.0.1", port=7860)          # what `re3g chat` runs
    demo = build_app(AppConfig(indexes_dir="indexes"))   # a gr.Blocks, for embedding or tests

The app imports re3g; re3g never imports the app. Gradio loads only when this package is used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AppConfig", "ChatApp", "build_app", "launch"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from app import main

        return getattr(main, name)
    raise AttributeError(f"module 'app' has no attribute {name!r}")
