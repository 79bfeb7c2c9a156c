"""Starting the chat server: Gradio's queue, upload cache and its guards, the clean-up of
private uploads at start and stop, the warm start and launch options.

    >>> demo, url = launch("127.0.0.1", 7860, block=False)   # doctest: +SKIP
    >>> demo.close()                                           # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import gradio as gr

from .guard import UploadGuard
from .layout import CSS, HEAD, build_app
from .pipelines import PipelineFactory
from .settings import AppConfig

log = logging.getLogger(__name__)


def launch(host: str = "127.0.0.1", port: int = 7860, config: AppConfig | None = None,
           factory: PipelineFactory | None = None, block: bool = True, quiet: bool = False,
           warm: bool = True) -> tuple[gr.Blocks, str]:
    """Build, queue and start the app; returns (demo, local URL).

    With ``warm`` (default), the pipeline the first session will use (the default corpus with
    the initial settings) loads its index, JVM and models and answers one warm-up turn
    before the server starts listening, so the first question is as fast as later ones
    (:meth:`re3g_app.session.ChatApp.warm_default`). A pipeline that fails to warm is
    reported (stderr and the log) and the server starts anyway: the first question then
    shows the same error, and other corpora and settings still work. Once it listens, one
    question goes through the server itself (``/chat``, in a session of its own), so the
    first-event costs of Gradio and of the app's turn are paid before ``launch`` returns too.

    Gradio's upload cache is put under ``<indexes>/uploads/.tmp`` (unless GRADIO_TEMP_DIR was
    set before), so uploads are written only inside the app's data folder; it is guarded by
    :class:`~re3g_app.guard.UploadGuard` (quotas; raw uploads never served). Before the
    server starts, the private uploads a previous server left (a killed one) and its upload
    cache are deleted, and when it stops (``demo.close()``, Ctrl+C) every private upload is
    deleted (:meth:`~re3g_app.session.ChatApp.shutdown`). One server per indexes folder.
    """
    from re3g.data.ingest import MAX_TOTAL_BYTES

    cfg = config or AppConfig()
    tmp = use_upload_cache(cfg.indexes_dir)
    demo = build_app(cfg, factory)
    chat_app = demo.chat_app  # type: ignore[attr-defined]
    clean_at_start(chat_app.catalog.root, tmp, chat_app.remove_stale)
    demo.queue(default_concurrency_limit=cfg.concurrency, max_size=256)
    warmed = _warm_default(demo, quiet) if warm else False
    _app, url, _ = demo.launch(
        server_name=host, server_port=port, prevent_thread_lock=True,
        max_file_size=MAX_TOTAL_BYTES, css=CSS, head=HEAD, show_error=True, quiet=quiet,
        footer_links=["api"], theme=gr.themes.Soft(),
        app_kwargs=_app_kwargs(tmp, chat_app.shutdown),
    )
    url = str(url or f"http://{host}:{port}/")
    if warm:
        _warm_server(url, chat=warmed)
    if block and not getattr(sys, "ps1", sys.flags.interactive):  # as Gradio's own launch
        demo.block_thread()
    return demo, url


_OWN_TEMP_DIRS: set[str] = set()  # GRADIO_TEMP_DIR values this module set


def use_upload_cache(indexes_dir: Path) -> Path:
    """Point Gradio's upload cache (GRADIO_TEMP_DIR) at ``<indexes>/uploads/.tmp`` unless the
    user set it; returns the folder in use."""
    own = (Path(indexes_dir) / "uploads" / ".tmp").resolve()
    current = os.environ.get("GRADIO_TEMP_DIR")
    if not current or current in _OWN_TEMP_DIRS:
        os.environ["GRADIO_TEMP_DIR"] = current = str(own)
        _OWN_TEMP_DIRS.add(current)
    folder = Path(current).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clean_at_start(indexes_root: Path, cache: Path, remove_stale: Callable[[], int]) -> None:
    """Before a server starts: put back indexes a crashed build left missing, delete the
    private uploads of sessions that no longer exist (``remove_stale``) and, when the upload
    cache is the app's own folder, the raw files left in it."""
    from re3g.retrieve.swap import recover_all

    recover_all(indexes_root)
    removed = remove_stale()
    if removed:
        log.info("removed the private uploads of %d earlier session(s)", removed)
    if cache.name == ".tmp" and cache.parent == (indexes_root / "uploads").resolve():
        for p in cache.iterdir():
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()


def _app_kwargs(cache: Path, on_stop: Callable[[], None]) -> dict[str, Any]:
    """FastAPI options of the server: the upload guard and a lifespan that runs ``on_stop``
    when the server stops."""
    from starlette.middleware import Middleware

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            on_stop()

    return {"middleware": [Middleware(UploadGuard, cache_dir=cache)], "lifespan": lifespan}


def _warm_default(demo: gr.Blocks, quiet: bool) -> bool:
    """Warm the default pipeline (see :func:`launch`), saying so on stderr unless ``quiet``;
    True when it is warm."""
    from re3g.errors import Re3GError

    chat_app = demo.chat_app  # type: ignore[attr-defined]
    say = (lambda text: None) if quiet else (lambda text: print(text, file=sys.stderr,
                                                                  flush=True))
    say(f"re3g chat: loading {chat_app.config.default_corpus!r} (index, models, one warm-up "
        "turn) before accepting questions...")
    t0 = time.perf_counter()
    try:
        label = chat_app.warm_default()
    except Re3GError as exc:
        log.warning("warm-up failed: %s", exc)
        say(f"re3g chat: warm-up failed, the first question will say so: {exc}")
        return False
    except Exception:  # a bug: the traceback goes to the log, the server still starts
        log.exception("warm-up failed")
        say("re3g chat: warm-up failed (see the traceback above); starting anyway")
        return False
    if label is None:
        say("re3g chat: no corpus yet (build one or upload documents); nothing to warm")
        return False
    say(f"re3g chat: {label} warmed in {time.perf_counter() - t0:.1f} s")
    return True


WARM_QUESTION = "/docs What do these documents cover?"
"""The question the server asks itself at start (``/docs``: never the code tool)."""


def _warm_server(url: str, chat: bool) -> None:
    """Requests through the running server, in a session of its own: with ``chat`` (the
    default pipeline is warm) :data:`WARM_QUESTION` to ``/chat``, then ``/clear``. They pay
    Gradio's first-event costs (it imports matplotlib around the first event it processes,
    about 0.7 s on 2 cores) and the app's (router, rendering) before the server says it is
    ready."""
    try:
        from gradio_client import Client

        client = Client(url, verbose=False)
        if chat:
            client.predict(WARM_QUESTION, api_name="/chat")
        client.predict(api_name="/clear")  # the warm-up session keeps no conversation
    except Exception as exc:  # noqa: BLE001 - an optimisation only; the server works without
        log.warning("warm-up request to %s failed: %s: %s", url, type(exc).__name__, exc)
