"""The chat's pipeline behind a ``re3g serve`` endpoint (``re3g chat --backend URL``).

:class:`HttpPipeline` sends the session's whole conversation to ``URL/answer`` and decodes
the :class:`~re3g.types.Answer` the server built (evidence, passages, timings, confidence:
:mod:`re3g.scale.wire`), so the chat shows what it shows for an in-process pipeline. The
server owns the index and the settings; the chat's corpus and settings panel do not change
what it answers with. Standard library HTTP only (no Ray in the chat's process).

>>> HttpPipeline("http://127.0.0.1:8000/").url
'http://127.0.0.1:8000'
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from re3g.errors import ModelError, QueryError
from re3g.scale.wire import answer_from_wire
from re3g.types import Answer

from .pipelines import Pipeline, PipelineFactory
from .settings import Settings

TIMEOUT_S = 300.0


class HttpPipeline:
    """A pipeline whose answers come from a ``re3g serve`` endpoint at ``url``.

    >>> bot = HttpPipeline("http://127.0.0.1:8000")
    >>> bot.answer(["How much is a day pass?"]).text  # doctest: +SKIP
    '8 dollars a day.'
    """

    def __init__(self, url: str, timeout: float = TIMEOUT_S) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"HttpPipeline({self.url!r})"

    def answer(self, history: Sequence[str]) -> Answer:
        """The server's Answer to the last user turn of ``history``."""
        body = json.dumps({"history": list(history)}).encode()
        req = urllib.request.Request(f"{self.url}/answer", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                data = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                why = json.loads(exc.read()).get("error") or exc.reason
            except (ValueError, AttributeError):
                why = exc.reason
            if exc.code == 400:
                raise QueryError(str(why)) from exc
            raise ModelError(f"the re3g server at {self.url} failed: {why}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ModelError(f"cannot reach the re3g server at {self.url}: {reason}") from exc
        return answer_from_wire(data["answer"])


def http_factory(url: str, timeout: float = TIMEOUT_S) -> PipelineFactory:
    """A pipeline factory for the chat whose pipelines all answer through ``url`` (the corpus
    and settings the chat passes are the server's business).

    >>> make = http_factory("http://127.0.0.1:8000")
    >>> make(Path("indexes/sample"), Settings()).url
    'http://127.0.0.1:8000'
    """

    def make(index: Path, settings: Settings) -> Pipeline:
        return HttpPipeline(url, timeout)

    return make
