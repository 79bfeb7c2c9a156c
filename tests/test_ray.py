"""The Ray paths (issue 19) on a local cluster bound to loopback: ``re3g index --ray`` builds
the index a single process builds, ``re3g evaluate --ray`` writes the same report, ``re3g
serve`` answers as ``Re3G.answer`` does, and every listener stays on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray")

from re3g.cli import main  # noqa: E402
from re3g.errors import Re3GError  # noqa: E402
from re3g.scale.cluster import RayTarget, connect  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SUITE = ROOT / "data" / "suite" / "sample_dialogues.json"
CHUNK = 16  # passages per encoding call: the sample's 68 passages make 5 chunks
QUERIES = ["how much is a day pass", "can I get a refund for a damaged bike",
           "what goes in the compost", "how do I start the chat"]


@pytest.fixture(scope="module")
def chunked():
    """Encode in chunks of CHUNK passages (several Ray Data blocks and actor calls)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("re3g.retrieve.dense.ENCODE_CHUNK", CHUNK)
        yield


@pytest.fixture(scope="module")
def cluster():
    """One local Ray cluster for the module (two CPUs, loopback only)."""
    from re3g.scale.cluster import shutdown

    connect("local", num_cpus=2)
    yield
    shutdown()


@pytest.fixture(scope="module")
def single(tmp_path_factory, chunked):
    """The sample index built in this process."""
    from re3g.data.corpus import load_corpus
    from re3g.retrieve import build_index

    out = tmp_path_factory.mktemp("single") / "sample"
    build_index(load_corpus(SAMPLE), out, source="sample", progress=False)
    return out


def listeners(pids: set[int]) -> list[tuple[int, str, str]]:
    """(pid, name, address) of every listening TCP socket of ``pids``."""
    import psutil

    found = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            conns = proc.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found += [(pid, proc.name(), c.laddr.ip) for c in conns
                  if c.status == psutil.CONN_LISTEN]
    return found


def cluster_pids() -> set[int]:
    import psutil

    me = psutil.Process()
    return {me.pid, *(p.pid for p in me.children(recursive=True))}


def on_loopback(ip: str) -> bool:
    return ip in ("127.0.0.1", "::1", "::ffff:127.0.0.1")


def hits_of(index: Path, mode: str) -> list[list[tuple[str, float]]]:
    from re3g.retrieve import open_index

    runs = open_index(index, mode).batch_search(QUERIES, 10)
    return [[(h.passage.pid, h.score) for h in run] for run in runs]


def test_addresses_parse_and_bad_ones_are_refused():
    assert RayTarget.parse("local").local
    assert RayTarget.parse("auto").host is None
    assert RayTarget.parse("ray://head:10001").port == 10001
    assert RayTarget.parse(None, environ={"RAY_ADDRESS": "10.0.0.9:6379"}).host == "10.0.0.9"
    for bad in ("nohost", "head:port", "head:70000"):
        with pytest.raises(Re3GError, match="Ray address"):
            RayTarget.parse(bad)


def test_unreachable_address_exits_2_and_leaves_the_index(single, tmp_path, capsys):
    """Nothing listens on 127.0.0.1:PORT: a clear error naming it, exit 2, index as it was."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed
    address = f"127.0.0.1:{port}"
    target = tmp_path / "sample"
    shutil.copytree(single, target)
    before = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert main(["index", "--docs", str(SAMPLE), "--out", str(target), "--ray", address]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the Ray cluster at {address}" in err
    after = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert after == before
    assert main(["evaluate", "--docs", str(SAMPLE), "--dialogues", str(SUITE), "--out",
                 str(tmp_path / "eval"), "--index", str(target), "--ray", address]) == 2
    assert address in capsys.readouterr().err
    assert not (tmp_path / "eval").exists()


def test_driver_leaves_sigsegv_to_the_jvm(cluster):
    """ray.init turns Python's fault handler on in the driver; re3g turns it off again, so the
    JVM keeps the SIGSEGV it raises on purpose (pytest's own handler is off: pyproject)."""
    import faulthandler

    assert not faulthandler.is_enabled()


def test_every_listener_of_the_cluster_is_on_loopback(cluster):
    found = listeners(cluster_pids())
    names = {name for _, name, _ in found}
    assert any("gcs_server" in n for n in names) and any("raylet" in n for n in names), names
    outside = [f for f in found if not on_loopback(f[2])]
    assert not outside, f"listening beyond loopback: {outside}"


@pytest.mark.slow
def test_ray_index_is_the_single_process_index(cluster, single, tmp_path, chunked):
    """Same vectors to the bit (each chunk encoded in one call, as here), same hits."""
    from re3g.retrieve.dense import stored_vectors

    out = tmp_path / "ray-sample"
    assert main(["index", "--docs", str(SAMPLE), "--out", str(out), "--ray", "local"]) == 0
    a, b = stored_vectors(single / "dense"), stored_vectors(out / "dense")
    assert a.shape == (68, 384) and np.array_equal(a, b)
    for mode in ("bm25", "dense", "hybrid"):
        assert hits_of(out, mode) == hits_of(single, mode), mode
    built = json.loads((out / "manifest.json").read_text())
    assert built["n_passages"] == 68 and built["dense"]["faiss"] == "flat"


@pytest.mark.slow
def test_ray_index_on_milvus_answers_as_in_process(cluster, tmp_path, chunked):
    pytest.importorskip("pymilvus")
    from re3g.data.corpus import load_corpus
    from re3g.retrieve import build_index
    from re3g.scale.ray_index import ray_encoding

    docs = load_corpus(SAMPLE)
    here = build_index(docs, tmp_path / "here", backend="milvus", faiss_kind="flat",
                       progress=False)
    there = build_index(docs, tmp_path / "there", backend="milvus", faiss_kind="flat",
                        progress=False, encode=ray_encoding("local"))
    for mode in ("dense", "hybrid"):
        assert hits_of(there, mode) == hits_of(here, mode), mode


def without_clock(report: dict) -> dict:
    """The report less what measures wall time (it differs between any two runs)."""
    out = json.loads(json.dumps(report))
    out.pop("timings", None)
    out.get("knowledge_selection", {}).pop("latency_ms", None)
    return out


@pytest.mark.slow
def test_ray_evaluation_writes_the_single_process_report(cluster, single, tmp_path):
    """Every stage (grounding, response, answerability) on 12 sample-suite turns."""
    args = ["evaluate", "--docs", str(SAMPLE), "--dialogues", str(SUITE), "--index",
            str(single), "--limit", "12"]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    assert main([*args, "--out", str(tmp_path / "ray"), "--ray", "local",
                 "--ray-workers", "2"]) == 0
    one = json.loads((tmp_path / "one" / "report.json").read_text())
    ray = json.loads((tmp_path / "ray" / "report.json").read_text())
    assert {"grounding", "response", "answerability"} <= set(one)
    assert without_clock(ray) == without_clock(one)
    for name in ("grounding_predictions.json", "predictions_response.json",
                 "answerability.jsonl"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


def post(url: str, body: dict, timeout: float = 120.0) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_answers_as_the_pipeline_does(cluster, single):
    from re3g.config import Config
    from re3g.pipeline import Re3G
    from re3g.scale import serve
    from re3g.scale.wire import answer_from_wire
    from re3g_app.http_backend import HttpPipeline

    config = Config().with_overrides(index=str(single))
    url = serve.start(config, port=free_port(),
                      replicas=serve.Replicas(retrieval=2, cpus=0.25))
    try:
        outside = [f for f in listeners(cluster_pids()) if not on_loopback(f[2])]
        assert not outside, f"listening beyond loopback: {outside}"
        bot = Re3G(config)
        q1, q2 = "How much does a day pass cost?", "And can I get a refund?"
        want1 = bot.answer([q1])
        status, got = post(f"{url}/answer", {"session": "s1", "message": q1})
        assert status == 200 and got["session"] == "s1"
        a1 = answer_from_wire(got["answer"])
        assert (a1.text, a1.evidence, a1.grounded) == (want1.text, want1.evidence, want1.grounded)
        # a replica's torch runs on its own thread count, so the last digits may differ
        assert a1.confidence == pytest.approx(want1.confidence, abs=1e-6)
        assert [h.passage.pid for h in a1.passages] == [h.passage.pid for h in want1.passages]
        # the server kept the conversation: the second turn is answered in its context
        want2 = bot.answer([q1, want1.kept_reply, q2])
        status, got = post(f"{url}/answer", {"session": "s1", "message": q2})
        a2 = answer_from_wire(got["answer"])
        assert status == 200 and (a2.text, a2.evidence) == (want2.text, want2.evidence)
        # the client keeps it: the chat's adapter
        via_chat = HttpPipeline(url).answer([q1, want1.text, q2])
        assert (via_chat.text, via_chat.evidence) == (want2.text, want2.evidence)
        # a refused turn stays in the session as its question with an empty reply
        q3, q4 = "What is the capital of France?", "And how long can one ride last?"
        status, got = post(f"{url}/answer", {"session": "s1", "message": q3})
        assert status == 200 and not got["answer"]["grounded"]
        want4 = bot.answer([q1, want1.kept_reply, q2, want2.kept_reply, q3, "", q4])
        status, got = post(f"{url}/answer", {"session": "s1", "message": q4})
        assert answer_from_wire(got["answer"]).evidence == want4.evidence
        status, got = post(f"{url}/v1/chat/completions",
                           {"messages": [{"role": "user", "content": q1}]})
        assert status == 200 and got["choices"][0]["message"]["content"] == want1.text
        status, got = post(f"{url}/answer", {"history": []})
        assert status == 400 and got["error"]
    finally:
        serve.stop()
    time.sleep(0.5)
