"""Each page's downloadable script runs on its own and prints what the page shows."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, url_path

pytestmark = pytest.mark.build

_TEXT_RESULT = re.compile(
    r'<div class="language-text highlight"><pre><span></span><code>(.*?)</code></pre></div>',
    re.DOTALL,
)
_PLOT = re.compile(r'<svg class="notes-plot".*?</svg>', re.DOTALL)
_DOWNLOAD = re.compile(r'<a download href="([^"]+\.py)"')


def pages_with_code() -> list[str]:
    docs = ROOT / "docs"
    return sorted(
        md.relative_to(docs).as_posix()
        for md in docs.rglob("*.md")
        if re.search(r"""exec=["']?(1|true)""", md.read_text(encoding="utf-8"))
    )


def shown_outputs(page_html: str) -> list[str]:
    """What the page shows as block output, in order: text results and plots."""
    found = [
        (m.start(), html.unescape(re.sub(r"<[^>]+>", "", m[1])).strip())
        for m in _TEXT_RESULT.finditer(page_html)
    ]
    found += [(m.start(), m[0]) for m in _PLOT.finditer(page_html)]
    return [text for _, text in sorted(found) if text]


@pytest.mark.parametrize("src", pages_with_code())
def test_page_script_runs_alone_and_prints_the_page_output(
    site: Path, src: str, tmp_path: Path
) -> None:
    page = site / url_path(src) / "index.html"
    page_html = page.read_text(encoding="utf-8")
    link = _DOWNLOAD.search(page_html)
    assert link, f"{src} has code but no download link"
    script = (page.parent / link[1]).resolve()
    assert script.is_file(), f"{src} links {link[1]}, which was not built"

    # A fresh interpreter in an empty folder: only installed packages are importable.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONSTARTUP"}
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{script.name} failed:\n{result.stderr[-3000:]}"

    position = 0
    for expected in shown_outputs(page_html):
        found = result.stdout.find(expected, position)
        assert found >= 0, f"{script.name} does not print, in order:\n{expected[:500]}"
        position = found + len(expected)
