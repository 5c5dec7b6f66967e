"""Shared fixtures: a strict build of the real site, and throwaway sites in temporary copies."""

from __future__ import annotations

import ast
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
IN_CI = os.environ.get("CI", "").lower() == "true"

# In CI, property tests draw the same examples every run, so a red run can be replayed exactly;
# on a developer's machine they explore new examples each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if IN_CI:
    settings.load_profile("ci")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the speed tests first, before Chromium or the site build starts.

    The speed tests gate on ratios measured in one run, which load does not bias much; still,
    they are less noisy on a quiet machine, and later tests start Chromium (kept open for the
    session), serve the site from a thread and fill the heap. The sort is stable: every other
    test keeps its order.
    """
    items.sort(key=lambda item: item.get_closest_marker("speed") is None)


def url_path(src: str) -> str:
    """The directory URL MkDocs gives a page: ``index.md`` -> "", ``a/b.md`` -> ``a/b/``."""
    stem = src.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        return stem.removesuffix("index")
    return f"{stem}/"


@dataclass(frozen=True)
class Build:
    """The outcome of one ``mkdocs build --strict``."""

    returncode: int
    output: str
    site: Path


def mkdocs_build(config: Path, site: Path, *, env: dict[str, str] | None = None) -> Build:
    """Run ``mkdocs build --strict`` in a fresh interpreter and capture everything it says."""
    full_env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONHASHSEED": "0", **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
        cwd=config.parent,
    )
    return Build(result.returncode, result.stdout + result.stderr, site)


def throwaway_site(tmp: Path, pages: dict[str, str]) -> Path:
    """Copy the site's configuration and machinery into `tmp` with only `pages` as content.

    The real ``mkdocs.yml`` is used as it is, up to its last key, ``nav``, which is replaced by
    the given pages; hooks, stylesheets and the bibliography are the real ones.
    """
    config_text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    head, sep, _ = config_text.partition("\nnav:\n")
    if not sep:
        raise AssertionError("mkdocs.yml must end with its nav key")
    nav = "".join(f"  - {name}\n" for name in pages)
    (tmp / "mkdocs.yml").write_text(f"{head}\nnav:\n{nav}", encoding="utf-8")
    shutil.copytree(ROOT / "hooks", tmp / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp / "src").symlink_to(ROOT / "src")
    docs = tmp / "docs"
    docs.mkdir()
    for keep in ("bibliography.yml", "stylesheets", "javascripts"):
        source = ROOT / "docs" / keep
        if source.is_dir():
            shutil.copytree(source, docs / keep)
        elif source.exists():
            shutil.copy(source, docs / keep)
    for name, text in pages.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text, encoding="utf-8")
    return tmp / "mkdocs.yml"


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site, built once per test session with ``mkdocs build --strict``.

    ``NOTES_TEST_SITE=<folder>`` (never set in CI) reuses a strict build made by hand, to
    rerun a few tests against it while working on them.
    """
    prebuilt = os.environ.get("NOTES_TEST_SITE")
    if prebuilt and not IN_CI:
        return Path(prebuilt)
    out = tmp_path_factory.mktemp("site") / "site"
    build = mkdocs_build(ROOT / "mkdocs.yml", out)
    assert build.returncode == 0, build.output
    (ARTIFACTS).mkdir(exist_ok=True)
    (ARTIFACTS / "build-log.txt").write_text(build.output, encoding="utf-8")
    return out


def _chromium_args() -> list[str]:
    """The switches scripts/pdf.py launches Chromium with: one list for the PDF and the tests."""
    tree = ast.parse((ROOT / "scripts" / "pdf.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "CHROMIUM_ARGS":
            return list(ast.literal_eval(node.value))
    raise AssertionError("scripts/pdf.py defines no CHROMIUM_ARGS")


CHROMIUM_ARGS = _chromium_args()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def server(site: Path) -> Iterator[str]:
    """The built site served over HTTP on a free local port; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "Debian's chromium is not installed (apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        if IN_CI:
            raise
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
