"""MkDocs hook: each page's code as a download, and how long the page took to run.

- **Download.** For every page with executed Python blocks, a script holding those blocks in
  order (lines hidden with ``# markdown-exec: hide`` included) is added to the site beside the
  page (``flows/coupling.md`` -> ``flows/coupling.py``) and linked under the page title.
- **Run time.** The time from the page's Markdown to its HTML (which is when markdown-exec runs
  the blocks) is measured per page. It is written to ``javascripts/timings.js`` and shown on the
  page by ``javascripts/notes.js``, not baked into the HTML, so that two builds of the same
  sources give byte-identical pages. ``mkdocs build`` ends with a table of pages and seconds.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from markdown_source import fenced_blocks, title  # hooks/ is on sys.path while hooks load
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

_EXEC = re.compile(r"""\bexec=["']?(?:1|true|on|yes)\b""", re.IGNORECASE)
_HIDE = re.compile(r"\s*#\s*markdown-exec:\s*hide\s*$")
TIMINGS = "javascripts/timings.js"

_scripts: dict[str, str] = {}  # page source path -> script path
_started: dict[str, float] = {}
_seconds: dict[str, float] = {}


def executed_blocks(markdown: str) -> list[str]:
    """The source of every executed Python block of a page, in order, hidden lines kept."""
    blocks: list[str] = []
    for block in fenced_blocks(markdown):
        language, _, options = block.info.partition(" ")
        if language not in {"python", "py"} or not _EXEC.search(options):
            continue
        if any("--8<--" in line for line in block.lines):
            raise ValueError("an executed block cannot include snippets (--8<--)")
        blocks.append("\n".join(_HIDE.sub("", line) for line in block.lines).strip("\n"))
    return blocks


# Optional extras (pyproject.toml) and a name in page code that needs each one.
EXTRAS = {"digits": ("load_digits",)}  # notes.flows.load_digits reads scikit-learn's digits


def extras_for(blocks: list[str]) -> list[str]:
    """The optional extras a page's code needs, from the names it uses."""
    return [
        extra
        for extra, names in EXTRAS.items()
        if any(re.search(rf"\b{name}\b", code) for name in names for code in blocks)
    ]


def requirements(blocks: list[str]) -> str:
    """What a page's code needs: ``notes`` or ``notes[digits]``, and the torch it ran with."""
    import torch  # noqa: PLC0415  (the torch this build runs, not a dependency of the hooks)

    extras = extras_for(blocks)
    package = f"notes[{','.join(extras)}]" if extras else "notes"
    return f"{package}; the numbers shown were computed with torch {torch.__version__}"


def script_for(page_title: str, page_url: str, blocks: list[str]) -> str:
    """A runnable script from a page's blocks, with a header saying where it comes from."""
    extras = extras_for(blocks)
    install = f"'.[{','.join(extras)}]'" if extras else "."
    header = (
        f'"""Code of the notes page "{page_title}" ({page_url}), in page order.\n\n'
        f"Needs: {requirements(blocks)}.\n"
        "Generated when the site was built; run it with `python` where `notes` is installed: in a\n"
        f"clone, `pip install -c constraints.txt {install}` (README: Run a page's code). It prints\n"
        'what the page shows.\n"""\n'
    )
    return header + "".join(f"\n# --- block {n} ---\n{code}\n" for n, code in enumerate(blocks, 1))


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add a script beside each page that executes code."""
    _scripts.clear()
    for file in list(files.documentation_pages()):
        blocks = executed_blocks(file.content_string)
        if not blocks:
            continue
        heading = title(file.content_string)
        src = PurePosixPath(file.src_uri)
        script_uri = str(src.with_suffix(".py"))
        if src.stem == "index":  # flows/index.md -> flows/flows.py; index.md -> home.py
            # (never notes.py: a script of that name would shadow the package it imports)
            script_uri = str(src.parent / f"{src.parent.name or 'home'}.py")
        content = script_for(heading[1] if heading else file.src_uri, file.url or "/", blocks)
        files.append(File.generated(config, script_uri, content=content))
        _scripts[file.src_uri] = script_uri
    return files


@event_priority(-100)  # last: the clock starts just before the Markdown is converted
def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Link the page's script and leave a slot for its run time under the title."""
    src = page.file.src_uri
    _started[src] = time.perf_counter()
    if src not in _scripts:
        return markdown
    link = PurePosixPath(_scripts[src]).relative_to(PurePosixPath(src).parent)
    note = (
        f'<p class="notes-page-code" markdown="span">[:material-download: Download this page\'s '
        f'code]({link}){{ download }} <span class="notes-runtime" data-page="{src}"></span></p>'
    )
    heading = title(markdown)
    if heading is None:
        return f"{note}\n\n{markdown}"
    return f"{markdown[: heading.end()]}\n\n{note}\n{markdown[heading.end() :]}"


@event_priority(100)  # first: stop the clock as soon as the HTML exists
def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Record how long the page took to convert (its blocks run during conversion)."""
    src = page.file.src_uri
    if src in _started:
        _seconds[src] = time.perf_counter() - _started.pop(src)
    return html


def on_post_build(config: MkDocsConfig) -> None:
    """Write the run times for the pages to show, and print the table."""
    timed = {src: round(_seconds[src], 2) for src in sorted(_seconds) if src in _scripts}
    target = Path(config.site_dir) / TIMINGS
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"window.notesTimings = {json.dumps(timed, indent=1)};\n", encoding="utf-8")
    rows = sorted(_seconds.items(), key=lambda item: -item[1])
    width = max((len(src) for src, _ in rows), default=4)
    print(f"\n{'page':<{width}}  seconds")
    for src, seconds in rows:
        print(f"{src:<{width}}  {seconds:7.2f}")
    print(f"{'total':<{width}}  {sum(_seconds.values()):7.2f}\n")
