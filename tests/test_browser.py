"""Every built page in a real browser: offline, no console errors, maths typeset, search, theme.

Playwright drives Debian's Chromium (``shutil.which("chromium")``); no browser is downloaded.
Without Chromium the tests skip on a developer's machine and fail when ``CI=true``.
Screenshots of every page land in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import pytest
from conftest import ARTIFACTS, ROOT, url_path

pytestmark = pytest.mark.browser

# Text that must never be visible outside code: raw TeX left untypeset.
RAW_TEX = ("$$", "\\[", "\\(", "\\begin{", "\\frac", "\\label{", "\\eqref{")

# Visible text of the article, code blocks removed (code may legitimately hold "$").
VISIBLE_PROSE_JS = """() => {
  const article = document.querySelector("article").cloneNode(true);
  article.querySelectorAll("pre, code, script, style").forEach((el) => el.remove());
  return article.innerText;
}"""


def built_pages() -> list[str]:
    # Parametrisation needs the list before the site is built: one page per Markdown file.
    docs = ROOT / "docs"
    pages = [url_path(md.relative_to(docs).as_posix()) for md in sorted(docs.rglob("*.md"))]
    return [*pages, "claims/"]  # the claims ledger is generated while the site is built


@pytest.mark.parametrize("path", built_pages(), ids=lambda p: p or "home")
def test_page_is_offline_clean_and_typeset(
    browser: Any, server: str, site: Path, path: str
) -> None:
    assert (site / path / "index.html").exists(), f"{path} was not built"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    foreign: list[str] = []
    errors: list[str] = []
    host = urlparse(server).netloc
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if urlparse(request.url).scheme in {"http", "https", "ws", "wss"}
            and urlparse(request.url).netloc != host
            else None
        ),
    )
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(server + path, wait_until="networkidle")
    assert response is not None
    assert response.ok, f"{path}: HTTP {response.status}"

    assert foreign == [], f"{path} asked other hosts for {foreign}"
    assert errors == [], f"{path} logged console errors {errors}"
    prose = page.evaluate(VISIBLE_PROSE_JS)
    leftovers = [tex for tex in RAW_TEX if tex in prose]
    assert leftovers == [], f"{path} shows raw TeX {leftovers}"
    untypeset = page.locator(".arithmatex:not(:has(svg))").count()
    assert untypeset == 0, f"{path}: {untypeset} maths elements hold no SVG"
    runtime = page.locator(".notes-runtime")
    if runtime.count():  # pages with code say how long it ran, and link a working script
        assert "ran in" in runtime.inner_text(), f"{path}: run time not shown"
        links = page.locator(".notes-page-code a[download]")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        assert [h.rsplit(".", 1)[-1] for h in hrefs if h] == ["py", "ipynb"], hrefs
        for href in hrefs:
            assert href is not None
            assert page.request.get(urljoin(page.url, href)).ok, f"{path}: {href} missing"

    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    name = (path.strip("/") or "home").replace("/", "__")
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    context.close()


def test_search_finds_a_word_from_a_page(browser: Any, server: str) -> None:
    page = browser.new_page()
    page.goto(server, wait_until="networkidle")
    page.keyboard.press("/")  # Material's shortcut focuses the search box
    page.locator("input.md-search__input").type("Monte", delay=50)  # key events feed search
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10_000)
    assert results.count() >= 1
    assert "Monte" in page.locator(".md-search-result").inner_text()
    page.close()


def test_dark_mode_toggle_switches_scheme(browser: Any, server: str) -> None:
    context = browser.new_context(color_scheme="light")
    page = context.new_page()
    page.goto(server, wait_until="networkidle")
    body = page.locator("body")
    assert body.get_attribute("data-md-color-scheme") == "default"
    light_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.locator("label.md-header__button[for^='__palette']:visible").first.click()
    page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")
    dark_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark_bg != light_bg
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "home-dark.png"), full_page=False)
    # The choice survives a reload (Material stores it).
    page.reload(wait_until="networkidle")
    assert body.get_attribute("data-md-color-scheme") == "slate"
    context.close()


# Every code block (source) and every printed result, by its scroll and client widths.
BLOCK_WIDTHS_JS = """() => [...document.querySelectorAll("article pre > code")].map((code) => ({
  kind: code.closest("div[class*='language-']")?.className.match(/language-(\\w+)/)?.[1] ?? "",
  scroll: code.scrollWidth,
  client: code.clientWidth,
  line: code.innerText.split("\\n").reduce((a, b) => (a.length >= b.length ? a : b), ""),
}))"""


@pytest.mark.parametrize("path", built_pages(), ids=lambda p: p or "home")
def test_no_code_or_result_block_scrolls_sideways_at_1280_px(
    browser: Any, server: str, path: str
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + path, wait_until="networkidle")
    blocks = page.evaluate(BLOCK_WIDTHS_JS)
    page.close()
    cut = [b for b in blocks if b["scroll"] > b["client"] + 1]
    assert cut == [], f"{path}: {len(cut)} of {len(blocks)} blocks scroll sideways: {cut[:3]}"


@pytest.mark.parametrize("path", built_pages(), ids=lambda p: p or "home")
def test_result_blocks_wrap_on_a_phone(browser: Any, server: str, path: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(server + path, wait_until="networkidle")
    blocks = [b for b in page.evaluate(BLOCK_WIDTHS_JS) if b["kind"] == "text"]
    page.close()
    cut = [b for b in blocks if b["scroll"] > b["client"] + 1]
    assert cut == [], f"{path}: {len(cut)} of {len(blocks)} results hide their ends: {cut[:3]}"


def test_figure_code_is_folded_under_the_figure(browser: Any, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server, wait_until="networkidle")  # the home page has one figure
    figure = page.locator("div.notes-figure").first
    details = figure.locator("details.notes-figure-code")
    assert details.count() == 1
    assert details.get_attribute("open") is None, "the figure's code starts folded"
    assert not details.locator("pre").is_visible()
    # The figure comes before its code, and the folded code opens with a click.
    order = figure.evaluate(
        "(el) => el.querySelector('svg').compareDocumentPosition(el.querySelector('details'))"
    )
    assert order & 4, "the code should follow the figure"
    details.locator("summary").click()
    assert "to_svg(" in details.locator("pre").inner_text()
    page.close()
