"""Private uploads on a running server (issue 18, item A), through its HTTP API.

A server started with ``share_uploads`` over an indexes folder that an earlier (killed)
server left behind: its private uploads and raw upload cache must be gone at start, only
corpora their owners shared are listed to other clients, upload quotas hold for clients
without a session, raw uploads are never served, and stopping the server deletes every
private upload. Real server, real index builds; the chat pipeline is a stand-in (answers are
not what is tested here).
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("gradio_client")
pytest.importorskip("re3g.retrieve")

from app_support import free_port  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402

from re3g.data.ingest import limits  # noqa: E402
from re3g.types import Answer  # noqa: E402

STALE = "0123456789abcdef"
STALE_SHARED = "fedcba9876543210"
DOC = "# Moon base\n\n## Oxygen\nEvery resident gets 40 litres of oxygen per day.\n"


class _Echo:
    def answer(self, history):
        return Answer(str(history[-1]), grounded=True, confidence=0.9)


def _corpus(folder, shared=False):
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"name": folder.name, "shared": shared,
                                                      "corpus": {"n_documents": 1}}))
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from re3g_app import AppConfig, launch

    indexes = tmp_path_factory.mktemp("indexes")
    _corpus(indexes / "sample")
    _corpus(indexes / "uploads" / STALE / "secret")  # a killed server's private upload
    _corpus(indexes / "uploads" / STALE_SHARED / "handbook", shared=True)
    raw = indexes / "uploads" / ".tmp" / "0a1b" / "secret.md"
    raw.parent.mkdir(parents=True)
    raw.write_text("private text")
    cfg = AppConfig(indexes_dir=indexes, share_uploads=True)
    demo, url = launch("127.0.0.1", free_port(), config=cfg, factory=lambda *_: _Echo(),
                       block=False, quiet=True, warm=False)
    yield url, indexes, demo
    demo.close()


def test_start_removes_what_a_killed_server_left(server):
    _, indexes, _ = server
    assert not (indexes / "uploads" / STALE).exists()
    assert not (indexes / "uploads" / ".tmp" / "0a1b").exists()
    assert (indexes / "uploads" / STALE_SHARED / "handbook" / "manifest.json").is_file()


def test_only_shared_uploads_are_listed_to_others(server, tmp_path):
    url, indexes, _ = server
    doc = tmp_path / "moon.md"
    doc.write_text(DOC)
    owner = Client(url, verbose=False)
    status, private = owner.predict([handle_file(str(doc))], "moon", api_name="/build_index")
    assert status.startswith("✅"), status
    sharer = Client(url, verbose=False)
    status, shared = sharer.predict([handle_file(str(doc))], "sun", True,
                                    api_name="/build_index")
    assert status.startswith("✅") and "Other users" in status, status
    other = Client(url, verbose=False)
    refused = other.predict(private["value"], "bm25", 3, False, "extractive",
                            api_name="/settings")
    assert "not available" in refused
    assert other.predict(shared["value"], "bm25", 3, False, "extractive",
                         api_name="/settings") == ""
    assert other.predict(f"upload:{STALE_SHARED}/handbook", "bm25", 3, False, "extractive",
                         api_name="/settings") == ""
    # the raw uploaded files were deleted once built
    assert not [p for p in (indexes / "uploads" / ".tmp").rglob("*.md")]


def test_uploads_without_a_session_hit_the_quota_and_are_not_served(server, monkeypatch):
    import httpx

    url, _, _ = server
    monkeypatch.setattr(limits, "MAX_CLIENT_CACHE_BYTES", 300_000)
    blob = b"All work and no play. " * 9_000  # about 200 KB
    first = httpx.post(f"{url}gradio_api/upload", files={"files": ("a.md", blob)}, timeout=30)
    assert first.status_code == 200, first.text
    second = httpx.post(f"{url}gradio_api/upload", files={"files": ("b.md", blob)}, timeout=30)
    assert second.status_code == 413 and "per client" in second.text
    path = first.json()[0]
    assert httpx.get(f"{url}gradio_api/file={path}", timeout=30).status_code == 403


def test_stopping_the_server_deletes_private_uploads(server):
    _, indexes, demo = server
    assert list((indexes / "uploads").glob("*/moon"))
    demo.close()
    assert not list((indexes / "uploads").glob("*/moon"))
    assert list((indexes / "uploads").glob("*/sun"))  # shared: stays
