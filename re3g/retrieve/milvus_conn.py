"""Where a Milvus index lives and how to reach it: Milvus Lite files, servers, tokens, errors.

A Milvus index is named by a URI, as ``pymilvus.MilvusClient`` takes it:

- ``./indexes/NAME/milvus.db``: Milvus Lite, embedded in this process (one process per file).
  A file inside the index folder is recorded relative to it (``milvus.db``), so it is written,
  swapped in and moved with the folder;
- ``http://host:19530`` (or ``https://``): a Milvus server (Lite's ``milvus-lite server``,
  Standalone, Distributed, Zilliz Cloud). The token, if any, is read from an environment
  variable (:data:`TOKEN_ENV` by default) when connecting, and never written anywhere.

>>> t = MilvusTarget.parse("http://127.0.0.1:19530", "indexes/doc2dial")
>>> t.uri, t.embedded, t.token_env
('http://127.0.0.1:19530', False, 'RE3G_MILVUS_TOKEN')
>>> MilvusTarget.parse("indexes/doc2dial/milvus.db", "indexes/doc2dial").uri
'milvus.db'
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from re3g.errors import IndexLoadError, Re3GError

TOKEN_ENV = "RE3G_MILVUS_TOKEN"
"""The environment variable a Milvus token (``user:password`` or an API key) is read from."""
INSTALL_HINT = "pip install -e '.[scale]'  (or `make setup-scale`)"
CONNECT_TIMEOUT_S = 10.0
GRPC_FORK_ENV = "GRPC_ENABLE_FORK_SUPPORT"
_URL_SCHEMES = ("http://", "https://")


def require_pymilvus() -> ModuleType:
    """The ``pymilvus`` module, or a Re3GError saying how to install the ``scale`` extra.

    gRPC's fork support is turned off first (unless the user set it): with it, a process
    that talks to Milvus and then starts a subprocess with ``preexec_fn`` (the code sandbox)
    restarts gRPC's poller in the forked child, which can abort there before ``exec``
    ("epoll_wait error: Bad file descriptor", grpc/grpc#43055). Nothing here forks a
    process that goes on using gRPC."""
    os.environ.setdefault(GRPC_FORK_ENV, "false")
    try:
        import pymilvus
    except ImportError as exc:
        raise Re3GError(f"the Milvus backend needs pymilvus and milvus-lite: {INSTALL_HINT}"
                        ) from exc
    return pymilvus


@dataclass(frozen=True)
class MilvusTarget:
    """A Milvus URI as recorded in an index manifest, and the variable holding its token.

    ``uri`` is a URL, an absolute ``.db`` path, or a ``.db`` path relative to the index folder
    (Milvus Lite inside the index).

    >>> MilvusTarget("milvus.db").resolve("indexes/x")
    'indexes/x/milvus.db'
    """

    uri: str
    token_env: str = TOKEN_ENV

    @property
    def embedded(self) -> bool:
        """True for a Milvus Lite file (not a server URL)."""
        return not self.uri.startswith(_URL_SCHEMES)

    @property
    def in_folder(self) -> bool:
        """True for a Milvus Lite file that lives inside the index folder."""
        return self.embedded and not Path(self.uri).is_absolute()

    @classmethod
    def parse(cls, uri: str, index_dir: str | Path, token_env: str = TOKEN_ENV
              ) -> MilvusTarget:
        """Check a user's ``--uri`` for the index at ``index_dir``; IndexLoadError (naming
        the URI) when it is neither an http(s) URL nor a path ending in ``.db``."""
        uri = uri.strip()
        if uri.startswith(_URL_SCHEMES):
            if not uri.split("://", 1)[1].strip("/"):
                raise IndexLoadError(f"Milvus URI {uri!r} names no host")
            return cls(uri.rstrip("/"), token_env)
        if "://" in uri or not uri.endswith(".db"):
            raise IndexLoadError(f"Milvus URI {uri!r} is neither http(s)://HOST:PORT (a Milvus "
                                 "server) nor a path ending in .db (a Milvus Lite file)")
        path = Path(uri).expanduser().absolute()
        folder = Path(index_dir).expanduser().absolute()
        if path.parent == folder:
            return cls(path.name, token_env)
        if folder in path.parents:
            raise IndexLoadError(f"Milvus Lite file {uri!r}: put it directly in the index folder "
                                 f"{index_dir} or outside it")
        if not path.parent.is_dir():
            raise IndexLoadError(f"Milvus Lite file {uri!r}: folder {path.parent} does not exist")
        return cls(str(path), token_env)

    def resolve(self, index_dir: str | Path) -> str:
        """The URI to connect to for the index folder ``index_dir``."""
        return str(Path(index_dir) / self.uri) if self.in_folder else self.uri

    def token(self) -> str:
        """The token from the environment ("" when the variable is unset)."""
        return os.environ.get(self.token_env, "") if self.token_env else ""


def connect(target: MilvusTarget, index_dir: str | Path,
            timeout: float = CONNECT_TIMEOUT_S) -> Any:
    """A ``MilvusClient`` for ``target``; IndexLoadError naming the URI when it cannot be
    reached, the token is refused, or a Lite file is held by another process."""
    pymilvus = require_pymilvus()
    uri = target.resolve(index_dir)
    try:
        with _quiet_logs():
            return pymilvus.MilvusClient(uri=uri, token=target.token(), timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - pymilvus raises several types; all mean "cannot"
        raise IndexLoadError(explain(exc, uri, target)) from exc


@contextmanager
def _quiet_logs() -> Iterator[None]:
    """Keep pymilvus's and Milvus Lite's tracebacks of a failed connection off the console:
    the IndexLoadError raised instead says what is wrong."""
    loggers = [logging.getLogger(name) for name in ("pymilvus", "milvus_lite")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def explain(exc: BaseException, uri: str, target: MilvusTarget | None = None) -> str:
    """A message for a pymilvus error that names the URI and what is wrong.

    >>> explain(RuntimeError("Fail connecting to server on h:1"), "http://h:1")
    'cannot reach Milvus at http://h:1: Fail connecting to server on h:1'
    """
    msg = str(getattr(exc, "message", "") or exc)
    low = msg.lower()
    env = target.token_env if target else TOKEN_ENV
    if any(w in low for w in ("auth", "credential", "permission denied", "token")):
        return (f"Milvus at {uri} refused the credentials (token from ${env}"
                f"{'' if os.environ.get(env) else ', which is not set'}): {msg}")
    if "open local milvus failed" in low or "lock" in low:
        return (f"cannot open Milvus Lite file {uri}: {msg}. A Lite file serves one process at "
                "a time; to share it, run `milvus-lite server --data-dir FILE --host 127.0.0.1 "
                "--port PORT` and build the index with --uri http://127.0.0.1:PORT")
    return f"cannot reach Milvus at {uri}: {msg}"


def release_embedded(path: str | Path) -> None:
    """Stop this process's Milvus Lite server for the file ``path`` (it holds a lock on the
    file and keeps serving it even after the folder moves), so the file can be moved, deleted
    or opened afresh."""
    try:
        from milvus_lite.server_manager import server_manager_instance
    except ImportError:  # no Milvus Lite: nothing embedded runs
        return
    server_manager_instance.release_server(str(path))
