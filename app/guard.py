"""Guards in front of Gradio's upload cache: quotas on uploads, and no serving of raw uploads.

Gradio accepts ``POST /gradio_api/upload`` from anyone (no session needed) and serves every
file of its upload cache at ``/gradio_api/file=<path>`` to anyone who knows the path. The chat
only ever reads uploads on the server (to build an index), so :class:`UploadGuard`, an ASGI
middleware in front of the app:

- refuses an upload when the client (its address) would hold more than
  ``limits.MAX_CLIENT_CACHE_BYTES`` in the cache, or the cache would hold more than
  ``limits.MAX_CACHE_BYTES``, with HTTP 413 and a message that says which quota and how much
  is in use (an upload must say its size: ``Content-Length``; without it, HTTP 411);
- refuses (HTTP 403) every request for a file inside the upload cache (``/file=<path>`` and
  the older ``/file/<path>``), so nobody, the uploader included, can download raw uploaded
  files.

A client's bytes are the files its uploads wrote that are still in the cache: they stop
counting when a build deletes them (:meth:`re3g_app.uploads.Uploads.build`) or Gradio's cache
cleaning does (files older than an hour). Limits are read at call time from
:mod:`re3g.data.ingest.limits`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
_FILE_ROUTE = re.compile(r"/gradio_api/file[=/](?P<target>.*)$")
"""Gradio's file routes (``file=<path>`` and the deprecated ``file/<path>``)."""


def folder_bytes(folder: Path) -> int:
    """Total size of the regular files under ``folder`` (0 when it does not exist)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


class UploadGuard:
    """ASGI middleware: upload quotas per client and in all, and no raw uploads served.

    ``cache_dir`` is Gradio's upload cache (``GRADIO_TEMP_DIR``).

    >>> guard = UploadGuard(None, "/tmp/re3g-uploads")  # doctest: +SKIP
    """

    def __init__(self, app: ASGIApp, cache_dir: str | Path) -> None:
        self.app = app
        self.cache_dir = Path(cache_dir).resolve()
        self.by_client: dict[str, set[Path]] = {}  # the files each client's uploads wrote

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")  # already percent-decoded, as Gradio's routes see it
        method = scope.get("method", "GET")
        served = _FILE_ROUTE.search(path) if method in ("GET", "HEAD") else None
        if served and self._in_cache(served["target"]):
            await _text(send, 403, "Uploaded files are not served: they are only read on the "
                                   "server to build your corpus.")
            return
        if method == "POST" and path.rstrip("/").endswith("/upload"):
            await self._upload(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _in_cache(self, target: str) -> bool:
        """True when Gradio would resolve ``target`` (as its file route does) into the cache."""
        try:
            resolved = Path(os.path.abspath(target)).resolve()
        except (OSError, ValueError):
            return True  # an unreadable path is refused too
        return resolved == self.cache_dir or resolved.is_relative_to(self.cache_dir)

    def client_bytes(self, client: str) -> int:
        """Bytes the client's uploads still hold in the cache."""
        files = self.by_client.get(client, set())
        total = 0
        for f in list(files):
            try:
                total += f.stat().st_size
            except OSError:
                files.discard(f)  # built (deleted) or expired
        if not files:
            self.by_client.pop(client, None)
        return total

    def refusal(self, client: str, size: int) -> str | None:
        """Why an upload of ``size`` bytes from ``client`` is refused, or None."""
        from re3g.data.ingest import limits

        held = self.client_bytes(client)
        if held + size > limits.MAX_CLIENT_CACHE_BYTES:
            quota = limits.mb(limits.MAX_CLIENT_CACHE_BYTES)
            return (f"Upload refused: your uploads would hold {limits.mb(held + size)} in the "
                    f"server's upload cache; the limit is {quota} per client "
                    f"({limits.mb(held)} in use). Build a corpus from the files you uploaded "
                    "(that frees them) or wait an hour for them to expire.")
        used = folder_bytes(self.cache_dir)
        if used + size > limits.MAX_CACHE_BYTES:
            return (f"Upload refused: the server's upload cache is full ({limits.mb(used)} of "
                    f"{limits.mb(limits.MAX_CACHE_BYTES)} in use by all users). Try again "
                    "later.")
        return None

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        try:
            size = int(headers["content-length"])
        except (KeyError, ValueError):
            await _text(send, 411, "Upload refused: the request must say its size "
                                   "(Content-Length).")
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        why = self.refusal(client, size)
        if why is not None:
            await _text(send, 413, why)
            return
        status: list[int] = []
        body: list[bytes] = []

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body" and status == [200]:
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    self._remember(client, b"".join(body))
            await send(message)

        await self.app(scope, receive, record)

    def _remember(self, client: str, body: bytes) -> None:
        try:
            paths = json.loads(body)
        except ValueError:
            return
        if isinstance(paths, list):
            files = self.by_client.setdefault(client, set())
            files.update(Path(p).resolve() for p in paths if isinstance(p, str))


async def _text(send: Send, status: int, text: str) -> None:
    data = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
