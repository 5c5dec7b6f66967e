"""Each page's notebook: valid nbformat 4, its code cells exactly the page script's blocks."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.build

_BLOCK = re.compile(r"\n# --- block \d+ ---\n")


def script_blocks(script: str) -> list[str]:
    """The blocks of a page script written by hooks/page_code.py, in order."""
    return [block.rstrip("\n") for block in _BLOCK.split(script)[1:]]


def test_every_page_script_has_a_valid_notebook_with_the_same_code(site: Path) -> None:
    scripts = sorted(p for p in site.rglob("*.py") if not p.is_relative_to(site / "assets"))
    assert len(scripts) >= 8
    for script in scripts:
        notebook_file = script.with_suffix(".ipynb")
        assert notebook_file.exists(), f"{script.relative_to(site)} has no notebook beside it"
        notebook = nbformat.read(notebook_file, as_version=4)
        nbformat.validate(notebook)  # raises on an invalid notebook
        code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
        assert code == script_blocks(script.read_text(encoding="utf-8")), notebook_file
        prose = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
        assert prose, f"{notebook_file.name} has no prose"
        assert prose[0].lstrip().startswith("# "), "the first Markdown cell holds the title"


def test_pages_link_their_notebook(site: Path) -> None:
    html = (site / "flows" / "coupling" / "index.html").read_text(encoding="utf-8")
    assert 'href="../coupling.ipynb" download' in html


def test_no_page_weighs_more_than_1_mb(site: Path) -> None:
    sizes = {p.relative_to(site).as_posix(): p.stat().st_size for p in site.rglob("*.html")}
    heavy = {page: f"{size / 1e6:.2f} MB" for page, size in sizes.items() if size > 1_000_000}
    assert heavy == {}, f"pages over 1 MB: {heavy}"
