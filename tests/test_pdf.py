"""The PDF edition: every nav page printed by Chromium, one bookmark per page, titles in the text."""

from __future__ import annotations

import importlib.util
import re
import sys
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from conftest import ARTIFACTS, ROOT
from pypdf import PdfReader

pytestmark = pytest.mark.browser


def _pdf_module() -> Any:
    spec = importlib.util.spec_from_file_location("notes_pdf", ROOT / "scripts" / "pdf.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["notes_pdf"] = module
    spec.loader.exec_module(module)
    return module


def test_the_pdf_has_a_bookmark_and_the_title_of_every_page(
    browser: Any, site: Path, tmp_path: Path
) -> None:
    pdf = _pdf_module()
    out = tmp_path / "notes.pdf"
    result = pdf.print_site(site, out, browser=browser)
    reader = PdfReader(out)
    nav = pdf.nav_pages()
    assert len(reader.pages) == result["total"] >= len(nav)
    assert all(count >= 1 for count in result["pages"])
    assert [item.title for item in reader.outline] == [title for title, _ in nav]
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for _, src in nav:
        html = (site / pdf.url_path(src) / "index.html").read_text(encoding="utf-8")
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL)
        assert h1 is not None, src
        text_of_h1 = unescape(re.sub(r"<[^>]+>", "", h1.group(1)))
        title = " ".join(text_of_h1.replace("¶", "").split())  # without the permalink sign
        assert title in text, f"the title of {src!r} ({title!r}) is not in the PDF's text"
    # Maths and plots are vectors: the page PDFs hold no images but the rasterised dense layers.
    ARTIFACTS.mkdir(exist_ok=True)
    summary = f"PDF: {len(reader.pages)} pages, {out.stat().st_size / 1e6:.1f} MB\n"
    (ARTIFACTS / "pdf-size.txt").write_text(summary, encoding="utf-8")
