"""Uploads without a server (issue 18, items A-C): how long private uploads live, what one
upload may cost (passages, build time, cancel), the upload cache's guard, and escaping.

Real parts: real files read by re3g.data.ingest, the real catalog and guard; builds that are
refused or cancelled stop before an index would be written.
"""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace

import pytest

pytest.importorskip("gradio")

from re3g.data.ingest import limits  # noqa: E402
from re3g.errors import BuildCancelled, DataError  # noqa: E402
from re3g.types import Answer  # noqa: E402
from re3g_app import AppConfig, ChatApp  # noqa: E402
from re3g_app.corpora import CorpusCatalog, new_session_id  # noqa: E402
from re3g_app.render import escape_markdown  # noqa: E402

MARKUP = ('<img src=x onerror="alert(1)"> <a href="http://evil.example">click</a> '
          '<script>alert(2)</script> ![pic](http://evil.example/p.png) [link](http://e.x) '
          'www.evil.example mail@evil.example $$x^2$$')


def _no_progress(*_args, **_kwargs):
    return None


def _corpus(folder, shared=False):
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"name": folder.name, "shared": shared}))
    return folder


def _headings(path, n):
    path.write_text("".join(f"# Heading {i}\nline {i}.\n" for i in range(n)))
    return path


# ---------------------------------------------------------------------------- B: limits, cancel

def test_too_many_passages_are_refused_with_the_file_and_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_PASSAGES", 50)
    chat = ChatApp(AppConfig(indexes_dir=tmp_path), factory=lambda *_: None)
    f = _headings(tmp_path / "headings.md", 400)
    session = chat.new_session()
    status, _, _ = chat.build_corpus([str(f)], "many", False, session, progress=_no_progress)
    assert status.startswith("⚠️") and "headings.md" in status
    assert "at most 50" in status and "MAX\\_PASSAGES" in status  # escaped for Markdown
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").rglob("*"))


def test_a_build_over_its_time_limit_stops(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_BUILD_SECONDS", 0)
    chat = ChatApp(AppConfig(indexes_dir=tmp_path), factory=lambda *_: None)
    f = _headings(tmp_path / "notes.md", 3)
    with pytest.raises(BuildCancelled, match="0 s limit"):
        chat.uploads.build([str(f)], "notes", new_session_id(), [], _no_progress)
    assert not any(tmp_path.rglob("manifest.json"))


def test_cancel_stops_the_running_build(tmp_path, monkeypatch):
    import re3g.retrieve

    started = threading.Event()

    def slow_build(docs, folder, check, **_kwargs):
        started.set()
        for _ in range(600):  # 60 s unless cancelled
            check()
            time.sleep(0.1)
        raise AssertionError("the build was not cancelled")

    monkeypatch.setattr(re3g.retrieve, "build_index", slow_build)
    chat = ChatApp(AppConfig(indexes_dir=tmp_path), factory=lambda *_: None)
    session = chat.new_session()
    f = _headings(tmp_path / "notes.md", 3)
    result: list = []
    worker = threading.Thread(target=lambda: result.append(chat.build_corpus(
        [str(f)], "notes", False, session, progress=_no_progress)))
    worker.start()
    assert started.wait(30)
    t0 = time.perf_counter()
    assert chat.cancel_build(session).startswith("⏹️")
    worker.join(10)
    assert result and result[0][0].startswith("⚠️") and "cancelled" in result[0][0]
    assert time.perf_counter() - t0 < 2
    assert session.uploads == [] and session.corpus != "upload:"
    assert chat.cancel_build(session) != "⏹️ Build cancelled; nothing was changed."  # none left


# ---------------------------------------------------------------------------- A: lifetimes

def test_a_closed_tab_deletes_its_private_uploads(tmp_path):
    chat = ChatApp(AppConfig(indexes_dir=tmp_path), factory=lambda *_: None)
    request = SimpleNamespace(session_hash="tab-1")
    _, session, _ = chat.on_load(None, request)
    folder = _corpus(tmp_path / "uploads" / session.id / "notes")
    session.uploads.append(f"upload:{session.id}/notes")
    other = _corpus(tmp_path / "uploads" / new_session_id() / "theirs")
    chat.on_unload(request)
    assert not folder.exists() and not folder.parent.exists()
    assert other.exists()


def test_an_expired_session_deletes_private_but_keeps_shared(tmp_path):
    chat = ChatApp(AppConfig(indexes_dir=tmp_path, share_uploads=True),
                   factory=lambda *_: None)
    session = chat.new_session()
    private = _corpus(tmp_path / "uploads" / session.id / "mine")
    shared = _corpus(tmp_path / "uploads" / session.id / "ours", shared=True)
    session.uploads += [f"upload:{session.id}/mine", f"upload:{session.id}/ours"]
    chat.forget(session)  # Gradio's delete_callback when the state expires
    assert not private.exists() and shared.exists()


def test_shutdown_and_start_delete_every_private_upload(tmp_path):
    from re3g_app.server import clean_at_start

    chat = ChatApp(AppConfig(indexes_dir=tmp_path), factory=lambda *_: None)
    a, b = new_session_id(), new_session_id()
    private = [_corpus(tmp_path / "uploads" / a / "x"), _corpus(tmp_path / "uploads" / b / "y")]
    shared = _corpus(tmp_path / "uploads" / b / "z", shared=True)
    half_built = tmp_path / "uploads" / a / ".x.tmp-1-1"
    half_built.mkdir()
    chat.shutdown()
    assert not any(p.exists() for p in private) and shared.exists()
    assert not (tmp_path / "uploads" / a).exists()
    # at start-up (after a server that was killed): the same, and the raw upload cache
    _corpus(tmp_path / "uploads" / a / "x")
    cache = tmp_path / "uploads" / ".tmp"
    (cache / "f00").mkdir(parents=True)
    (cache / "f00" / "notes.md").write_text("raw")
    clean_at_start(tmp_path.resolve(), cache.resolve(), chat.remove_stale)
    assert not (tmp_path / "uploads" / a).exists() and shared.exists()
    assert list(cache.iterdir()) == []


def test_sharing_needs_a_server_that_shares(tmp_path):
    chat = ChatApp(AppConfig(indexes_dir=tmp_path), factory=lambda *_: None)
    f = _headings(tmp_path / "notes.md", 3)
    with pytest.raises(DataError, match="does not share uploads"):
        chat.uploads.build([str(f)], "notes", new_session_id(), [], _no_progress, share=True)
    assert not CorpusCatalog(tmp_path, share_uploads=True).for_session(new_session_id())


# ---------------------------------------------------------------------------- A: the cache guard

def _guarded_app(cache):
    """A stand-in for Gradio's upload and file routes, behind the real guard."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Route

    from re3g_app.guard import UploadGuard

    async def upload(request):
        form = await request.form()
        out = []
        for i, item in enumerate(form.getlist("files")):
            path = cache / f"u{time.time_ns()}{i}" / item.filename
            path.parent.mkdir(parents=True)
            path.write_bytes(await item.read())
            out.append(str(path))
        return JSONResponse(out)

    async def file(request):
        return FileResponse(request.path_params["path"])

    return Starlette(routes=[Route("/gradio_api/upload", upload, methods=["POST"]),
                             Route("/gradio_api/file={path:path}", file)],
                     middleware=[Middleware(UploadGuard, cache_dir=cache)])


def test_upload_quotas_and_no_raw_files_served(tmp_path, monkeypatch):
    from starlette.testclient import TestClient

    monkeypatch.setattr(limits, "MAX_CLIENT_CACHE_BYTES", 250_000)
    monkeypatch.setattr(limits, "MAX_CACHE_BYTES", 400_000)
    cache = tmp_path / "cache"
    cache.mkdir()
    outside = tmp_path / "public.txt"
    outside.write_text("fine")
    app = _guarded_app(cache)
    one = TestClient(app, client=("10.0.0.1", 1000))
    blob = b"x" * 100_000
    paths = []
    for _ in range(2):
        r = one.post("/gradio_api/upload", files={"files": ("a.md", blob)})
        assert r.status_code == 200, r.text
        paths += r.json()
    r = one.post("/gradio_api/upload", files={"files": ("a.md", blob)})
    assert r.status_code == 413 and "limit is 0.2 MB per client" in r.text
    # raw uploads are served to nobody, the uploader included; other files as before
    assert one.get(f"/gradio_api/file={paths[0]}").status_code == 403
    assert TestClient(app).get(f"/gradio_api/file={paths[0]}").status_code == 403
    assert one.get(f"/gradio_api/file/{paths[0]}").status_code == 403  # the older route
    assert one.head(f"/gradio_api/file={paths[0]}").status_code == 403
    assert one.get(f"/gradio_api/file={outside}").status_code == 200
    # a built upload's files are deleted, which frees the client's quota
    for p in paths:
        (tmp_path / p).unlink()
    assert one.post("/gradio_api/upload", files={"files": ("a.md", blob)}).status_code == 200
    # the global quota counts every client's files
    two = TestClient(app, client=("10.0.0.2", 1000))
    assert two.post("/gradio_api/upload", files={"files": ("b.md", blob)}).status_code == 200
    assert two.post("/gradio_api/upload", files={"files": ("b.md", blob)}).status_code == 200
    r = TestClient(app, client=("10.0.0.3", 1000)).post(
        "/gradio_api/upload", files={"files": ("c.md", blob)})
    assert r.status_code == 413 and "upload cache is full" in r.text


# ---------------------------------------------------------------------------- C: escaping

class _Fixed:
    def __init__(self, text):
        self.text = text

    def answer(self, history):
        return Answer(self.text, grounded=True, confidence=0.9)


def test_replies_quoting_documents_are_escaped_in_the_chat_only(tmp_path):
    _corpus(tmp_path / "sample")
    chat = ChatApp(AppConfig(indexes_dir=tmp_path), factory=lambda *_: _Fixed(MARKUP))
    session = chat.new_session()
    *_, (_, shown, _, _, _) = chat.respond(f"/docs {MARKUP}", [], session)
    user, reply = shown[-2]["content"], shown[-1]["content"]
    for text in (user, reply):
        assert "<" not in text and "](" not in text.replace("\\](", "")
        assert "http://" not in text and "www." not in text and "$$" not in text
        assert "@evil" not in text.replace("\\@", "")
    assert reply == escape_markdown(MARKUP)
    # the API returns the plain text, and the history keeps it
    replies = [r for r, _ in chat.api_chat(f"/docs {MARKUP}", chat.new_session())]
    assert replies[-1] == MARKUP
    assert session.history[-1] == MARKUP


def test_upload_errors_naming_a_hostile_file_are_escaped(tmp_path):
    chat = ChatApp(AppConfig(indexes_dir=tmp_path), factory=lambda *_: None)
    f = tmp_path / "<img src=x onerror=alert(1)>.exe"
    f.write_bytes(b"MZ")
    status, _, _ = chat.build_corpus([str(f)], "x", False, chat.new_session(),
                                     progress=_no_progress)
    assert status.startswith("⚠️") and "<img" not in status and "&lt;img" in status
