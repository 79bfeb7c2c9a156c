"""``re3g serve --ray``: the pipeline as Ray Serve deployments behind one JSON HTTP endpoint.

Three deployments, each a :class:`~re3g.pipeline.Re3G` built from the same config in every
replica and each with its own replica count: **retrieval** (query building and the
first-stage candidates, :meth:`Re3G.candidates`), **selection** (reranking, extraction and
the answer-or-abstain decision, :meth:`Re3G.settle`) and **generation** (the reply,
:meth:`Re3G.generate`). A **gateway** deployment takes HTTP requests, keeps conversations per
session and calls the three in turn, so an answer is what ``Re3G.answer`` gives in one
process. The HTTP proxy listens on 127.0.0.1 unless told otherwise.

Routes (JSON in, JSON out):

- ``POST /answer`` with ``{"history": [...]}`` (the client keeps the conversation: strings
  alternating user, agent, ... or ``{"role", "content"}`` messages), or with
  ``{"session": ID, "message": TEXT}`` (the server keeps it; ``"reset": true`` starts over).
  Reply: ``{"reply", "session", "answer"}`` (``answer``: :mod:`re3g.scale.wire`).
- ``POST /v1/chat/completions``: OpenAI-style ``{"messages": [...]}``; the reply's
  ``choices[0].message.content`` is the answer's text, ``re3g`` the whole answer.
- ``GET /health``.

>>> Sessions(max_sessions=1).turns("a", "hi")
['hi']
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from re3g.config import Config
from re3g.errors import QueryError, Re3GError
from re3g.generate.refusal import refused_reply
from re3g.types import Hit, Turn

DEFAULT_PORT = 8000
MAX_SESSIONS = 10_000
MAX_SESSION_TURNS = 200


@dataclass(frozen=True)
class Replicas:
    """Replica counts per deployment and the CPUs each replica asks the cluster for.

    >>> Replicas(retrieval=2).total
    5
    """

    retrieval: int = 1
    selection: int = 1
    generation: int = 1
    gateway: int = 1
    cpus: float = 1.0

    @property
    def total(self) -> int:
        return self.retrieval + self.selection + self.generation + self.gateway


class Sessions:
    """Conversations by session id (the most recent ``max_sessions``), as plain strings
    alternating user, agent, ...

    >>> s = Sessions()
    >>> s.turns("x", "How much is a day pass?")
    ['How much is a day pass?']
    >>> s.record("x", ["How much is a day pass?"], "8 dollars.")
    >>> s.turns("x", "And a month?")
    ['How much is a day pass?', '8 dollars.', 'And a month?']
    """

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self.max_sessions = max_sessions
        self._items: OrderedDict[str, list[str]] = OrderedDict()
        self._lock = threading.Lock()

    def turns(self, session: str, message: str, reset: bool = False) -> list[str]:
        """The session's history with ``message`` as the new user turn."""
        with self._lock:
            if reset:
                self._items.pop(session, None)
            past = list(self._items.get(session, []))
        return [*past, message]

    def record(self, session: str, turns: list[str], reply: str) -> None:
        """Keep ``turns`` and ``reply`` as the session's conversation."""
        with self._lock:
            self._items[session] = [*turns, reply][-MAX_SESSION_TURNS:]
            self._items.move_to_end(session)
            while len(self._items) > self.max_sessions:
                self._items.popitem(last=False)


def keep_replica_on_loopback() -> None:
    """In a Serve replica on a loopback node (a local cluster), make its inter-deployment gRPC
    server listen on 127.0.0.1: Ray Serve 2.60 binds it to ``[::]:0`` (every interface) in
    ``Replica._on_initialized``, which runs after the deployment's constructor, where this is
    called. On a real cluster (a routable node address) nothing changes.
    """
    import ray
    from ray.serve._private import replica

    from re3g.scale.cluster import LOCAL_NAMES

    bind = replica.add_port_to_grpc_server
    if ray.util.get_node_ip_address() not in LOCAL_NAMES or getattr(bind, "loopback", False):
        return

    def on_loopback(server: Any, address: str) -> int:
        return bind(server, address.replace("[::]", "127.0.0.1", 1))

    on_loopback.loopback = True  # type: ignore[attr-defined]
    replica.add_port_to_grpc_server = on_loopback


class RetrievalStage:
    """Deployment body: the dialogue query and first-stage candidates of normalised turns."""

    def __init__(self, config: Config) -> None:
        from re3g.pipeline import Re3G

        keep_replica_on_loopback()
        self.bot = Re3G(config)

    def __call__(self, turns: list[Turn]) -> tuple[str, list[Hit]]:
        return self.bot.candidates(turns)


class SelectionStage:
    """Deployment body: ranking, extraction and the decision (an Answer without text)."""

    def __init__(self, config: Config) -> None:
        from re3g.pipeline import Re3G

        keep_replica_on_loopback()
        self.bot = Re3G(config)

    def __call__(self, turns: list[Turn], query: str, hits: list[Hit],
                 timings: dict[str, float]) -> Any:
        return self.bot.settle(turns, query, hits, timings)


class GenerationStage:
    """Deployment body: the reply from selected evidence."""

    def __init__(self, config: Config) -> None:
        from re3g.pipeline import Re3G

        keep_replica_on_loopback()
        self.bot = Re3G(config)

    def __call__(self, turns: list[Turn], evidence: list[Any], hits: list[Hit]) -> str:
        return self.bot.generate(turns, evidence, hits)


class Gateway:
    """Deployment body: the HTTP routes (see the module doc) over the three stages."""

    def __init__(self, retrieval: Any, selection: Any, generation: Any, config: Config
                 ) -> None:
        keep_replica_on_loopback()
        self.retrieval, self.selection, self.generation = retrieval, selection, generation
        self.config = config
        self.sessions = Sessions()

    async def answer(self, history: Any) -> Any:
        """The Answer to ``history``, as ``Re3G.answer`` gives it, stage by stage."""
        from re3g.data.query import normalize_history
        from re3g.pipeline import STAGES

        t0 = time.perf_counter()
        timings = dict.fromkeys(STAGES, 0.0)
        turns, cut = normalize_history(history, self.config.max_turn_chars)
        t1 = time.perf_counter()
        timings["query"] = t1 - t0
        query, hits = await self.retrieval.remote(turns)
        timings["retrieve"] = time.perf_counter() - t1
        ans = await self.selection.remote(turns, query, hits, timings)
        if cut:
            ans.extra["truncated"] = cut
        t = time.perf_counter()
        ans.text = (await self.generation.remote(turns, ans.evidence, ans.passages)
                    if ans.grounded else refused_reply(ans, self.config.abstain_reply))
        ans.timings["generate"] = time.perf_counter() - t
        ans.timings["total"] = time.perf_counter() - t0
        return ans

    async def __call__(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        from re3g.scale.wire import answer_to_wire

        path = request.url.path.rstrip("/")
        if request.method == "GET" and path.endswith("/health"):
            return JSONResponse({"ok": True})
        if request.method != "POST":
            return JSONResponse({"error": "POST JSON to /answer or /v1/chat/completions"},
                                status_code=405)
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise QueryError("the request body must be a JSON object")
            if path.endswith("/v1/chat/completions"):
                messages = [m for m in body.get("messages") or []
                            if isinstance(m, dict) and m.get("role") != "system"]
                ans = await self.answer(messages)
                return JSONResponse(completion(ans, body.get("model")))
            if not path.endswith("/answer"):
                return JSONResponse({"error": f"no route {path or '/'}"}, status_code=404)
            session = body.get("session")
            if "history" in body:
                history, turns = body["history"], None
            else:
                if not isinstance(body.get("message"), str):
                    raise QueryError('send {"history": [...]} or {"session": ID, '
                                     '"message": TEXT}')
                session = str(session or uuid.uuid4().hex)
                turns = self.sessions.turns(session, body["message"],
                                            bool(body.get("reset")))
                history = turns
            ans = await self.answer(history)
            if turns is not None:
                # a refused turn keeps its question with an empty reply, as in the chat
                self.sessions.record(session, turns, ans.kept_reply)
            return JSONResponse({"reply": ans.text, "session": session,
                                 "answer": answer_to_wire(ans)})
        except (QueryError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Re3GError as exc:
            return JSONResponse({"error": str(exc)}, status_code=500)


def completion(answer: Any, model: str | None = None) -> dict[str, Any]:
    """An OpenAI-style chat completion holding ``answer`` (and all of it under ``re3g``)."""
    from re3g.scale.wire import answer_to_wire

    return {"id": f"re3g-{uuid.uuid4().hex[:12]}", "object": "chat.completion",
            "created": int(time.time()), "model": model or "re3g",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": answer.text}}],
            "re3g": answer_to_wire(answer)}


def build_app(config: Config, replicas: Replicas = Replicas()) -> Any:
    """The Serve application: the gateway bound to the three stage deployments."""
    from ray import serve

    def deployment(body: type, name: str, n: int, cpus: float) -> Any:
        return serve.deployment(body, name=name, num_replicas=n,
                                ray_actor_options={"num_cpus": cpus})

    cpus = replicas.cpus
    retrieval = deployment(RetrievalStage, "retrieval", replicas.retrieval, cpus).bind(config)
    selection = deployment(SelectionStage, "selection", replicas.selection, cpus).bind(config)
    generation = deployment(GenerationStage, "generation", replicas.generation, cpus
                            ).bind(config)
    return deployment(Gateway, "gateway", replicas.gateway, 0.0).bind(
        retrieval, selection, generation, config)


def start(config: Config, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          replicas: Replicas = Replicas()) -> str:
    """Deploy the pipeline on the connected cluster (:func:`re3g.scale.cluster.connect`)
    and return its URL once every replica is up."""
    from ray import serve

    from re3g.scale.cluster import require_connected

    require_connected()
    try:
        serve.start(http_options={"host": host, "port": port})
        serve.run(build_app(config, replicas), name="re3g", route_prefix="/")
    except Re3GError:
        raise
    except Exception as exc:  # noqa: BLE001 - Serve and the replicas raise many kinds
        raise Re3GError(f"cannot start the re3g deployments on {host}:{port}: "
                        f"{type(exc).__name__}: {exc}") from exc
    return f"http://{host}:{port}"


def stop() -> None:
    """Remove the deployments and stop Serve on the connected cluster."""
    from ray import serve

    serve.shutdown()
