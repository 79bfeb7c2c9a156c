"""End to end in a real headless browser: Debian's chromium driven by Playwright.

Opens the chat, asks two turns, checks the reply and the highlighted evidence, uploads a
small Markdown document, and asks about it; uploads a document planted with markup (HTML,
Markdown images and links, URLs) and checks that none of it becomes an element in the chat or
the evidence panel; closes a tab and checks its private upload is deleted. Real pipeline,
real sample index.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian chromium is not installed at /usr/bin/chromium "
                              "(apt-get install -y chromium chromium-driver)"),
]
pytest.importorskip("playwright")
pytest.importorskip("re3g.pipeline")

from app_support import sample_index, start_app  # noqa: E402

TIMEOUT_MS = 90_000
MOON = """# Moon base handbook

## Oxygen
Every resident of the moon base gets 40 litres of oxygen per day. Extra oxygen costs
3 credits a litre at the north airlock.

## Meals
Meals are served at 7, 12 and 19 hours in the dome canteen.
"""


PLANTED = """Badge office
============

The badge fee is 12 credits <img src=x onerror="window.re3gPwned=1"> <a href="http://evil.example/pay">pay here</a> <script>window.re3gPwned=2</script> ![logo](http://evil.example/logo.png) [portal](http://evil.example/portal) www.evil.example billing@evil.example **loud** $$x^2$$ and is paid at the north desk.

Opening hours
=============

The badge office opens at 9 and closes at 17 hours.
"""  # noqa: E501 - one paragraph: the reply quotes it whole


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    indexes = tmp_path_factory.mktemp("indexes")
    sample_index(indexes)
    demo, url = start_app(indexes)
    yield url, indexes
    demo.close()


@pytest.fixture(scope="module")
def browser_context():
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="re3g-chromium-")
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield ctx
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


def open_page(ctx, url: str):
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.goto(url)
    pg.wait_for_selector("#re3g-msg textarea")
    return pg


@pytest.fixture(scope="module")
def page(server, browser_context):
    return open_page(browser_context, server[0])


def ask(page, question: str) -> str:
    """Type a question and wait until its reply and its evidence are final; return the reply."""
    before = page.locator("#re3g-chat [data-testid='bot']").count()
    page.fill("#re3g-msg textarea", question)
    page.press("#re3g-msg textarea", "Enter")
    page.wait_for_function(
        """n => {
            const bots = document.querySelectorAll("#re3g-chat [data-testid='bot']");
            const ev = document.querySelector('#re3g-evidence');
            return bots.length > n && bots[bots.length - 1].innerText.trim() !== '…'
                && ev && !ev.innerText.includes('Searching')
                && (ev.querySelector('.re3g-ok') || ev.querySelector('.re3g-weak')
                    || ev.querySelector('.re3g-unsure'));
        }""", arg=before)
    return page.locator("#re3g-chat [data-testid='bot']").last.inner_text()


def test_two_turns_with_highlighted_evidence(page):
    first = ask(page, "How much does a day pass cost?")
    assert "8 dollars" in first
    mark = page.locator("#re3g-evidence mark").first
    assert mark.is_visible()
    assert "8 dollars" in mark.inner_text()
    evidence = page.inner_text("#re3g-evidence")
    assert "Millbrook Bike Share" in evidence and "Types of passes" in evidence
    assert "ms" in page.inner_text("#re3g-evidence .re3g-timings")

    second = ask(page, "And how much is an annual membership?")
    assert second.strip()
    assert page.locator("#re3g-chat [data-testid='user']").count() == 2
    assert page.locator("#re3g-chat [data-testid='bot']").count() == 2
    assert page.locator("#re3g-evidence mark").first.is_visible()
    # clicking the first reply brings its evidence back
    page.locator("#re3g-chat [data-testid='bot']").first.click()
    page.wait_for_function(
        "() => document.querySelector('#re3g-evidence mark')?.innerText.includes('8 dollars')")


def upload(page, doc: Path, name: str) -> None:
    """Put ``doc`` in the upload box and name the corpus (the build is not started)."""
    panel = page.locator("#re3g-files")
    if not panel.is_visible():
        page.click("#re3g-upload button:has-text('Your documents'), #re3g-upload .label-wrap")
    page.wait_for_selector("#re3g-files", state="visible")
    for attempt in range(3):  # the upload widget can miss a file set while it is rendering
        page.set_input_files("#re3g-files input[type=file]", str(doc))
        try:
            page.wait_for_selector(f"#re3g-files :text('{doc.name}')", timeout=30_000)
            break
        except Exception:
            if attempt == 2:
                raise
    page.fill("#re3g-corpus-name input, #re3g-corpus-name textarea", name)


def test_upload_a_document_and_ask_about_it(page, tmp_path):
    doc = tmp_path / "moonbase.md"
    doc.write_text(MOON)
    upload(page, doc, "moon base")
    page.evaluate("""() => {  // every text the notice shows, to see the loading message
        window.re3gNotices = [];
        const notice = document.querySelector('#re3g-notice');
        new MutationObserver(() => window.re3gNotices.push(notice.innerText)).observe(
            notice, {subtree: true, childList: true, characterData: true});
    }""")
    page.click("#re3g-build")
    page.wait_for_selector("#re3g-upload-status :text('Built')")
    assert "moon base" in page.input_value("#re3g-corpus input")
    # the new corpus is loaded (and warmed) when chosen, with a notice that then clears
    page.wait_for_function("() => window.re3gNotices.some(t => t.includes('Loading moon base'))"
                           " && !document.querySelector('#re3g-notice').innerText.trim()")

    reply = ask(page, "How much oxygen does each resident get per day?")
    assert "40 litres" in reply
    assert "Moon base handbook" in page.inner_text("#re3g-evidence")


def test_bad_input_shows_a_message(page):
    page.fill("#re3g-msg textarea", "x" * 5000)
    page.press("#re3g-msg textarea", "Enter")
    page.wait_for_selector("#re3g-notice :text('limit is')")


def test_document_markup_is_never_rendered(page, tmp_path):
    doc = tmp_path / "badges.txt"
    doc.write_text(PLANTED)
    upload(page, doc, "badges")
    page.click("#re3g-build")
    page.wait_for_selector("#re3g-upload-status:has-text('Built badges')")
    reply = ask(page, "How much is the badge fee?")
    assert "12 credits" in reply
    # the planted markup is shown as text ...
    assert "<img src=x" in reply and "![logo](http://evil.example/logo.png)" in reply
    assert "<img src=x" in page.inner_text("#re3g-evidence")
    # ... and none of it became an element, in the chat or the evidence panel
    for where in ("#re3g-chat", "#re3g-evidence"):
        for tag in ("img", "script", "a[href*='evil']", "strong", "iframe", ".katex"):
            found = page.locator(f"{where} [data-testid='bot'] {tag}, {where} .re3g-text {tag}")
            assert found.count() == 0, (where, tag)
    links = page.eval_on_selector_all("#re3g-chat a, #re3g-evidence a",
                                      "els => els.map(e => e.href)")
    assert not [h for h in links if "evil" in h], links
    assert page.evaluate("() => window.re3gPwned") is None


def test_closing_a_tab_deletes_its_private_upload(server, browser_context, tmp_path):
    url, indexes = server
    before = set((indexes / "uploads").glob("*/tab-notes"))
    tab = open_page(browser_context, url)
    doc = tmp_path / "tab.md"
    doc.write_text("# Tab notes\n\n## Lockers\nLockers cost 2 credits a day.\n")
    upload(tab, doc, "tab notes")
    tab.click("#re3g-build")
    tab.wait_for_selector("#re3g-upload-status:has-text('Built tab notes')")
    built = set((indexes / "uploads").glob("*/tab-notes")) - before
    assert len(built) == 1
    tab.close()  # Gradio's unload ends the session: its private upload goes
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and next(iter(built)).exists():
        time.sleep(0.5)
    assert not next(iter(built)).exists()
