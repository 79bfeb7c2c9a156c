"""The Milvus backend (issue 19) on Milvus Lite, embedded and as a loopback server, over
data/sample: the same hits as the Lucene/FAISS backend, the manifest-driven open, atomic
loads behind an alias, and clear errors for bad URIs, unreachable servers, other encoders
and foreign collections."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pymilvus", reason="the Milvus backend needs the scale extra: "
                                        "pip install -e '.[scale]' (make test installs it)")
pytest.importorskip("milvus_lite", reason="Milvus Lite is part of the scale extra: "
                                          "pip install -e '.[scale]'")

from re3g.cli import main as cli  # noqa: E402
from re3g.data.corpus import load_corpus  # noqa: E402
from re3g.errors import BuildCancelled, IndexLoadError, Re3GError  # noqa: E402
from re3g.retrieve import build_index, open_index, read_manifest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
QUERIES = ["how do I start the chat?", "what does it cost to rent a bike",
           "my compost smells bad", "refund for a damaged bike",
           "Can I change the number of passages shown in the evidence panel?"]


@pytest.fixture(scope="module")
def docs():
    return load_corpus(SAMPLE)


@pytest.fixture(scope="module")
def lucene(tmp_path_factory, docs):
    out = tmp_path_factory.mktemp("lucene") / "sample"
    build_index(docs, out, source=str(SAMPLE), progress=False)
    return out


@pytest.fixture(scope="module")
def lite(tmp_path_factory, docs, lucene):
    out = tmp_path_factory.mktemp("milvus") / "sample"
    build_index(docs, out, source=str(SAMPLE), progress=False, backend="milvus",
                uri=str(out / "milvus.db"), vectors_from=lucene)
    return out


@pytest.fixture
def server(tmp_path):
    """A Milvus Lite gRPC server on 127.0.0.1 (what a Milvus server URI points at)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(Path(sys.executable).with_name("milvus-lite")), "server",
                             "--data-dir", str(tmp_path / "server.db"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("milvus-lite server did not start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def _pids(hits):
    return [h.passage.pid for h in hits]


def test_terms_are_lucenes_on_the_sample(lucene):
    from re3g.data.passages import passage_contents
    from re3g.retrieve.jvm import start_jvm
    from re3g.retrieve.terms import english_terms

    start_jvm()
    from pyserini.analysis import Analyzer, get_lucene_analyzer

    analyzer = Analyzer(get_lucene_analyzer())
    texts = [passage_contents(p) for p in open_index(lucene, "bm25").passages] + QUERIES
    assert [english_terms(t) for t in texts] == [analyzer.analyze(t) for t in texts]


def test_manifest_records_the_backend(lite):
    m = read_manifest(lite)
    assert m["backend"] == "milvus" and m["milvus"]["uri"] == "milvus.db"
    assert m["milvus"]["alias"] == "re3g_sample" and "RE3G_MILVUS_TOKEN" not in json.dumps(
        {k: v for k, v in m["milvus"].items() if k != "token_env"})
    assert m["bm25"] == {"k1": 0.9, "b": 0.4, "analysis": "lucene-english-porter/1"}
    assert m["dense"]["index_type"] == "HNSW" and m["dense"]["dim"] == 384
    assert not (lite / "passages.jsonl").exists() and (lite / "milvus.db").is_dir()


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_same_hits_as_lucene_and_faiss(lucene, lite, mode):
    a, b = open_index(lucene, mode), open_index(lite, mode)
    for q in QUERIES:
        ha, hb = a.search(q, k=10), b.search(q, k=10)
        assert _pids(ha) == _pids(hb), q
        assert [h.passage for h in ha] == [h.passage for h in hb]
        # BM25 differs only by Lucene's lossy length norms; cosines are the same vectors'
        assert [h.score for h in hb] == pytest.approx([h.score for h in ha], rel=0.01)
        assert [h.rank for h in hb] == list(range(1, len(hb) + 1))
    # (a batch is compared with a batch: the int8 query encoder's activations are quantised
    # per batch, so a query encoded alone can differ slightly on either backend)
    assert [_pids(r) for r in b.batch_search(QUERIES, k=5)] == [_pids(r) for r in
                                                                a.batch_search(QUERIES, k=5)]
    assert b.passages == a.passages


def test_hybrid_exposes_both_sides(lite):
    r = open_index(lite, "hybrid")
    assert r.sparse.search("bike fee", 3) and r.dense.search("bike fee", 3)
    assert r.encoder is r.dense.encoder and r.sparse.encoder is None
    assert r.sparse.search("is it", 5) == []  # stop words only: nothing, like Lucene


def test_bad_queries_and_fixed_bm25_parameters(lite):
    from re3g.errors import QueryError

    r = open_index(lite, "bm25")
    with pytest.raises(QueryError):
        r.search("   ")
    with pytest.raises(QueryError):
        r.search("fee", k=0)
    with pytest.raises(IndexLoadError, match="fixed when a Milvus index is built"):
        open_index(lite, "bm25", k1=1.2)


def test_bad_uris_leave_the_old_index_untouched(docs, lite, tmp_path):
    before = (lite / "manifest.json").read_text()
    for uri, message in [("foo://bar", "neither http"), ("notes.txt", "neither http"),
                         (str(tmp_path / "missing" / "x.db"), "does not exist"),
                         ("http://127.0.0.1:9", "cannot reach Milvus at http://127.0.0.1:9")]:
        with pytest.raises(Re3GError, match=message):
            build_index(docs, lite, progress=False, backend="milvus", uri=uri)
        assert (lite / "manifest.json").read_text() == before
    assert open_index(lite, "bm25").search("bike", 1)
    assert [p.name for p in lite.parent.iterdir() if p.name.startswith(".")] == []


def test_cli_errors_exit_2(lite, capsys):
    code = cli(["index", "--docs", str(SAMPLE), "--out", str(lite), "--backend", "milvus",
                "--uri", "http://127.0.0.1:9"])
    assert code == 2
    assert "cannot reach Milvus at http://127.0.0.1:9" in capsys.readouterr().err
    assert open_index(lite, "dense").search("bike", 1)


def test_missing_pymilvus_names_the_extra(docs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(Re3GError, match=r"pip install -e '\.\[scale\]'"):
        build_index(docs, tmp_path / "x", progress=False, backend="milvus")
    assert not (tmp_path / "x").exists()


def test_refuses_another_encoder_or_a_foreign_collection(lite, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(lite, other)
    with pytest.raises(IndexLoadError, match="built with encoder"):
        open_index(other, "dense", model="sentence-transformers/all-mpnet-base-v2")
    m = json.loads((other / "manifest.json").read_text())
    m["dense"]["model"] = "someone/else"
    (other / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexLoadError, match=r"built with model = .*all-MiniLM"):
        open_index(other, "dense")

    from pymilvus import DataType, MilvusClient

    foreign = tmp_path / "foreign"
    shutil.copytree(lite, foreign)
    shutil.rmtree(foreign / "milvus.db")
    client = MilvusClient(str(foreign / "milvus.db"))
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("pos", DataType.INT64, is_primary=True)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=384)
    client.create_collection("re3g_sample", schema=schema)
    client.close()
    from re3g.retrieve.milvus_conn import release_embedded

    release_embedded(foreign / "milvus.db")
    with pytest.raises(IndexLoadError, match="lacks the fields .*doc_id"):
        open_index(foreign, "dense")


def test_server_rebuild_swaps_the_alias_and_cancel_leaves_it(docs, lucene, server, tmp_path):
    from pymilvus import MilvusClient

    out = tmp_path / "remote"
    build_index(docs, out, progress=False, backend="milvus", uri=server, vectors_from=lucene)
    first = read_manifest(out)["milvus"]
    assert first["uri"] == server and not any(out.glob("*.db"))
    assert _pids(open_index(out, "hybrid").search(QUERIES[0], 5)) == _pids(
        open_index(lucene, "hybrid").search(QUERIES[0], 5))

    calls = []

    def cancel_during_load():
        calls.append(1)
        if len(calls) > 3:
            raise BuildCancelled("cancelled")

    with pytest.raises(BuildCancelled):
        build_index(docs, out, progress=False, backend="milvus", uri=server,
                    vectors_from=lucene, check=cancel_during_load)
    client = MilvusClient(server)
    assert client.list_collections() == [first["collection"]]
    assert client.describe_alias(first["alias"])["collection_name"] == first["collection"]
    assert read_manifest(out)["milvus"] == first

    build_index(docs, out, progress=False, backend="milvus", uri=server, vectors_from=lucene)
    second = read_manifest(out)["milvus"]
    assert second["collection"] != first["collection"]
    assert client.list_collections() == [second["collection"]]
    assert client.describe_alias(first["alias"])["collection_name"] == second["collection"]
    assert open_index(out, "bm25").search("bike fee", 3)
    client.close()


def test_a_lite_file_held_by_another_process_is_named(lite):
    from re3g.retrieve.milvus_conn import release_embedded

    release_embedded(lite / "milvus.db")  # this process's own server for the file (earlier tests)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pymilvus import MilvusClient; "
         f"MilvusClient({str(lite / 'milvus.db')!r}); print('ready', flush=True); "
         "sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(IndexLoadError, match="serves one process at a time"):
            open_index(lite, "bm25")
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert open_index(lite, "bm25").search("bike", 1)
