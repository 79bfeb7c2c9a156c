"""The code tool inside the chat: /code routing with a real tiny GGUF model on llama.cpp, and a
clear message (with the document pipeline still answering) when the code model is unreachable."""

from __future__ import annotations

import pytest
from app_support import sample_index, start_app
from gradio_client import Client

from re3g_app.code_tool import route_message


def test_route_message_prefixes_and_toggle():
    assert route_message("/code reverse a list", auto=False) == ("code", "reverse a list")
    assert route_message("/docs what is a day pass", auto=True)[0] == "docs"
    assert route_message("How much does a day pass cost?", auto=True)[0] == "docs"
    assert route_message("Write a Python function that reverses a list", auto=False)[0] == "docs"
    assert route_message("Write a Python function that reverses a list", auto=True)[0] in (
        "code", "both")


@pytest.fixture(scope="module")
def code_server(tmp_path_factory):
    from re3g.llm.models import smollm2_path

    pytest.importorskip("llama_cpp")
    indexes = tmp_path_factory.mktemp("code_indexes")
    sample_index(indexes)
    demo, url = start_app(indexes, code={"backend": "llamacpp", "model": str(smollm2_path())})
    yield url
    demo.close()


def test_code_prefix_uses_the_code_model(code_server):
    client = Client(code_server, verbose=False)
    reply = client.predict("/code Write a Python function add(a, b) that returns a + b.",
                           api_name="/chat")
    assert reply.strip() and "could not find" not in reply.lower()
    # the document pipeline answers the next turn as usual
    assert "8 dollars" in client.predict("How much does a day pass cost?", api_name="/chat")


def test_unreachable_code_endpoint_is_a_message(tmp_path):
    indexes = tmp_path / "indexes"
    indexes.mkdir()
    sample_index(indexes)
    demo, url = start_app(indexes, code={"backend": "openai", "base_url": "http://127.0.0.1:9/v1",
                                         "model": "scoder", "timeout": 2})
    try:
        client = Client(url, verbose=False)
        reply = client.predict("/code reverse a list in python", api_name="/chat")
        assert "code tool is unavailable" in reply.lower()
        assert "8 dollars" in client.predict("How much does a day pass cost?", api_name="/chat")
    finally:
        demo.close()
