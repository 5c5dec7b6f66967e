"""The offline edition: packed as a zip, opened from file:// with no server and no network."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from conftest import ARTIFACTS, ROOT, mkdocs_build
from test_browser import RAW_TEX, VISIBLE_PROSE_JS

pytestmark = [pytest.mark.build, pytest.mark.browser]


@pytest.fixture(scope="module")
def offline_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build with OFFLINE=true, zip it as `nox -s offline` does, and unpack the zip elsewhere."""
    tmp = tmp_path_factory.mktemp("offline")
    build = mkdocs_build(ROOT / "mkdocs.yml", tmp / "built", env={"OFFLINE": "true"})
    assert build.returncode == 0, build.output
    archive = Path(shutil.make_archive(str(tmp / "notes-offline"), "zip", build.site))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "offline-zip-size.txt").write_text(f"{archive.stat().st_size}\n")
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(tmp / "unpacked")
    return tmp / "unpacked"


def check_offline_page(browser: Any, html_file: Path, name: str) -> None:
    """Open one page from file:// and check it is whole: maths, plots, no network, no errors."""
    context = browser.new_context()
    page = context.new_page()
    remote: list[str] = []
    errors: list[str] = []
    local = {"file", "data", "about", "blob"}
    page.on("request", lambda r: None if urlparse(r.url).scheme in local else remote.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html_file.as_uri(), wait_until="load")
    assert remote == [], f"{name} asked the network for {remote}"
    assert errors == [], f"{name} logged errors {errors}"
    prose = page.evaluate(VISIBLE_PROSE_JS)
    assert not [tex for tex in RAW_TEX if tex in prose], f"{name} shows raw TeX"
    assert page.locator(".arithmatex:not(:has(svg))").count() == 0
    plots = page.locator("svg.notes-plot")
    for i in range(plots.count()):
        box = plots.nth(i).bounding_box()
        assert box is not None, f"{name}: plot {i} is not displayed"
        assert box["width"] > 100, f"{name}: plot {i} is {box['width']} px wide"
        assert box["height"] > 50, f"{name}: plot {i} is {box['height']} px high"
    context.close()


def test_offline_pages_render_from_file_urls(browser: Any, offline_site: Path) -> None:
    pages = [p for p in sorted(offline_site.rglob("*.html")) if p.name != "404.html"]
    assert len(pages) > 5
    for html_file in pages:
        check_offline_page(browser, html_file, html_file.relative_to(offline_site).as_posix())


def test_offline_search_works_from_file_url(browser: Any, offline_site: Path) -> None:
    page = browser.new_page()
    page.goto((offline_site / "index.html").as_uri(), wait_until="load")
    page.keyboard.press("/")
    page.locator("input.md-search__input").type("Monte", delay=50)
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=15_000)
    assert "Monte" in page.locator(".md-search-result").inner_text()
    link = results.first.locator("a").first.get_attribute("href")
    assert link is not None
    assert "http" not in link
    page.close()
