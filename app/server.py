"""Starting the chat server: Gradio's queue, upload cache and launch options.

    >>> demo, url = launch("127.0.0.1", 7860, block=False)   # doctest: +SKIP
    >>> demo.close()                                           # doctest: +SKIP
"""

from __future__ import annotations

import os

import gradio as gr

from .layout import CSS, build_app
from .pipelines import PipelineFactory
from .settings import AppConfig


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
        max_file_size=MAX_TOTAL_BYTES, css=CSS, show_error=True, quiet=quiet,
        footer_links=["api"], theme=gr.themes.Soft(),
    )
    return demo, str(url or f"http://{host}:{port}/")
