"""Print the built site into one PDF with Chromium: every page of the nav, a bookmark per page.

Run through ``python3 -m nox -s pdf`` (it builds the site first), or on a built site:

    python scripts/pdf.py --site site --out build/notes.pdf

Chromium is Debian's (``shutil.which("chromium")``), driven by Playwright; no browser is
downloaded. Each page is printed with the site's print stylesheet (no navigation, folded code
opened), so maths (MathJax SVG) and plots (inline SVG) stay vectors; pypdf merges the pages
and adds the bookmarks.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pypdf import PdfReader, PdfWriter

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Loader(yaml.SafeLoader):
    """mkdocs.yml with its !ENV and !!python tags read as plain values."""


def _ignore_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> None:  # noqa: ARG001
    return None


_Loader.add_multi_constructor("", _ignore_tag)


def nav_pages(config: Path = ROOT / "mkdocs.yml") -> list[tuple[str, str]]:
    """``(title, source path)`` of every page in the nav, in order."""
    nav = yaml.load(config.read_text(encoding="utf-8"), Loader=_Loader)["nav"]

    def walk(items: list[Any], section: str | None) -> Iterator[tuple[str, str]]:
        for item in items:
            if isinstance(item, str):
                yield section or item, item
            else:
                for title, value in item.items():
                    if isinstance(value, list):
                        yield from walk(value, title)
                    else:
                        yield title, value

    return list(walk(nav, None))


def url_path(src: str) -> str:
    stem = src.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        return stem.removesuffix("index")
    return f"{stem}/"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def print_site(site: Path, out: Path, browser: Any = None) -> dict[str, Any]:
    """Print every nav page of `site` into `out` with `browser` (default: a new Chromium).

    Returns:
        The bookmarks' titles, the PDF pages per site page, and their total.
    """
    if browser is not None:
        return _print(site, out, browser)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("Debian's chromium is needed: apt-get install -y chromium")
    with sync_playwright() as p:
        own = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            return _print(site, out, own)
        finally:
            own.close()


def _print(site: Path, out: Path, browser: Any) -> dict[str, Any]:
    pages = nav_pages()
    writer = PdfWriter()
    counts = []
    with serve(site) as base:
        page = browser.new_page()
        for title, src in pages:
            page.goto(base + url_path(src), wait_until="networkidle")
            page.evaluate("document.querySelectorAll('details').forEach((d) => (d.open = true))")
            pdf = page.pdf(
                format="A4",
                margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"},
                print_background=False,
            )
            reader = PdfReader(io.BytesIO(pdf))
            counts.append(len(reader.pages))
            writer.append(reader, outline_item=title)
        page.close()
    writer.add_metadata({"/Title": "notes", "/Creator": "scripts/pdf.py (Chromium, pypdf)"})
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        writer.write(handle)
    return {"titles": [t for t, _ in pages], "pages": counts, "total": sum(counts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "site")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "notes.pdf")
    args = parser.parse_args()
    result = print_site(args.site, args.out)
    size = args.out.stat().st_size / 1e6
    sys.stdout.write(
        f"{args.out}: {result['total']} PDF pages from {len(result['titles'])} site pages, "
        f"{size:.1f} MB\n"
    )


if __name__ == "__main__":
    main()
