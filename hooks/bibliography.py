"""MkDocs hook: one bibliography for the whole site, cited as ``[@key]`` on any page.

``docs/bibliography.yml`` holds every work once. In a page, ``[@key]`` (or ``[@a; @b]``)
becomes an author-year link to the page's reference list, which the hook appends at the end of
the page under "References", in order of first citation and formatted the same way everywhere.
An unknown key fails the build.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

_CITE = re.compile(r"\[(@[A-Za-z0-9_:-]+(?:\s*;\s*@[A-Za-z0-9_:-]+)*)\]")
_FIELDS = ("authors", "title", "year")
_works: dict[str, dict[str, Any]] = {}


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Load and check the bibliography once per build."""
    path = Path(config.docs_dir) / "bibliography.yml"
    works = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key, work in works.items():
        missing = [field for field in _FIELDS if not work.get(field)]
        if missing:
            raise ValueError(f"bibliography.yml: {key} lacks {', '.join(missing)}")
    _works.clear()
    _works.update(works)
    return config


def _short(work: dict[str, Any]) -> str:
    """Author-year label: 'Robbins and Monro, 1951', 'Kingma et al., 2014' (or ``short``)."""
    if work.get("short"):
        return f"{work['short']}, {work['year']}"
    names = [name.strip() for name in re.split(r",\s*|\s+and\s+", work["authors"]) if name]
    surnames = [name.split()[-1] for name in names]
    if len(surnames) == 1:
        who = surnames[0]
    elif len(surnames) == 2:
        who = f"{surnames[0]} and {surnames[1]}"
    else:
        who = f"{surnames[0]} et al."
    return f"{who}, {work['year']}"


def format_entry(work: dict[str, Any]) -> str:
    """One reference, as HTML: authors (year). *Title*. Venue. link."""
    parts = [
        f"{html.escape(work['authors'])} ({work['year']}).",
        f"<em>{html.escape(work['title'])}</em>.",
    ]
    if work.get("venue"):
        parts.append(f"{html.escape(work['venue'])}.")
    if work.get("url"):
        url = html.escape(work["url"], quote=True)
        parts.append(f'<a href="{url}">{url}</a>')
    if work.get("note"):
        parts.append(html.escape(work["note"]))
    return " ".join(parts)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace citations with links and append the page's reference list."""
    cited: list[str] = []

    def cite(match: re.Match[str]) -> str:
        links = []
        for key in (part.strip()[1:] for part in match[1].split(";")):
            if key not in _works:
                raise ValueError(f"{page.file.src_uri}: [@{key}] is not in bibliography.yml")
            if key not in cited:
                cited.append(key)
            links.append(f"[{_short(_works[key])}](#ref-{key})")
        return "(" + "; ".join(links) + ")"

    body = _CITE.sub(cite, markdown)
    if not cited:
        return body
    items = "\n".join(f'<li id="ref-{key}">{format_entry(_works[key])}</li>' for key in cited)
    return f'{body.rstrip()}\n\n## References\n\n<ol class="notes-references">\n{items}\n</ol>\n'
