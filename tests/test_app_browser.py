"""End to end in a real headless browser: Debian's chromium driven by Playwright.

Opens the chat, asks two turns, checks the reply and the highlighted evidence, uploads a
small Markdown document, and asks about it. Real pipeline, real sample index.
"""

from __future__ import annotations

import shutil
import tempfile
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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    indexes = tmp_path_factory.mktemp("indexes")
    sample_index(indexes)
    demo, url = start_app(indexes)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="re3g-chromium-")
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        pg = ctx.new_page()
        pg.set_default_timeout(TIMEOUT_MS)
        pg.goto(server)
        pg.wait_for_selector("#re3g-msg textarea")
        yield pg
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


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
                && (ev.querySelector('.re3g-ok') || ev.querySelector('.re3g-weak'));
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


def test_upload_a_document_and_ask_about_it(page, tmp_path):
    doc = tmp_path / "moonbase.md"
    doc.write_text(MOON)
    page.click("#re3g-upload button:has-text('Your documents'), #re3g-upload .label-wrap")
    page.wait_for_selector("#re3g-files", state="visible")
    for attempt in range(3):  # the upload widget can miss a file set while it is rendering
        page.set_input_files("#re3g-files input[type=file]", str(doc))
        try:
            page.wait_for_selector("#re3g-files :text('moonbase.md')", timeout=30_000)
            break
        except Exception:
            if attempt == 2:
                raise
    page.fill("#re3g-corpus-name input, #re3g-corpus-name textarea", "moon base")
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
