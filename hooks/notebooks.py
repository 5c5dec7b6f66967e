"""MkDocs hook: a Jupyter notebook beside each page's script.

For every page with executed Python blocks, ``<page>.ipynb`` (nbformat 4) is added to the site
next to the page's ``.py`` (hooks/page_code.py): the page's prose as Markdown cells and its
executed blocks as code cells, in page order. The code cells are exactly the script's blocks
(hidden lines included), so the notebook prints what the page shows. It is linked under the
page title, beside the script.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import nbformat
from markdown_source import segments  # hooks/ is on sys.path while hooks load
from mkdocs.structure.files import File
from page_code import executed_blocks

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

_notebooks: dict[str, str] = {}  # page source -> notebook path
_LINK = re.compile(r'(<p class="notes-page-code">.*?</a>)', re.DOTALL)


def notebook_for(markdown: str) -> nbformat.NotebookNode:
    """The page as a notebook: prose runs as Markdown cells, executed blocks as code cells."""
    cells = []
    prose: list[str] = []
    for is_code, text in segments(markdown):
        blocks = executed_blocks(text) if is_code else []
        if blocks:
            if "".join(prose).strip():
                cells.append(nbformat.v4.new_markdown_cell("".join(prose).strip("\n")))
            prose = []
            cells.append(nbformat.v4.new_code_cell(blocks[0]))
        else:
            prose.append(text)
    if "".join(prose).strip():
        cells.append(nbformat.v4.new_markdown_cell("".join(prose).strip("\n")))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    # Deterministic cell ids: two builds of the same page give the same file.
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{number}"
    nbformat.validate(notebook)
    return notebook


def notebook_path(src_uri: str) -> str:
    """``a/b.md`` -> ``a/b.ipynb``; an index page takes its folder's name (as its script)."""
    src = PurePosixPath(src_uri)
    if src.stem == "index":
        return str(src.parent / f"{src.parent.name or 'home'}.ipynb")
    return str(src.with_suffix(".ipynb"))


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add a notebook beside each page that executes code."""
    _notebooks.clear()
    for file in list(files.documentation_pages()):
        markdown = file.content_string
        if not executed_blocks(markdown):
            continue
        uri = notebook_path(file.src_uri)
        text = nbformat.writes(notebook_for(markdown)) + "\n"
        files.append(File.generated(config, uri, content=text))
        _notebooks[file.src_uri] = uri
    return files


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Link the notebook beside the script's download link."""
    src = page.file.src_uri
    if src not in _notebooks:
        return html
    notebook = files.get_file_from_path(_notebooks[src])
    assert notebook is not None  # added in on_files
    link = f' · <a href="{notebook.url_relative_to(page.file)}" download>notebook</a>'
    return _LINK.sub(lambda m: m.group(1) + link, html, count=1)
