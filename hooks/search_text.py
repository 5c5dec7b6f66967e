"""MkDocs hook: the search plugin reads each page without its SVG (maths and plots).

Material's search plugin runs Python's HTML parser over every tag of a page to collect its
text. A page's inline SVG (every equation typeset at build time, every plot) is most of its
tags and holds no text the index keeps, so parsing it is most of the plugin's time. Just
before the plugin reads a page its content is swapped for a copy without the SVG elements;
just after, the full content is put back for the template. The search index is unchanged.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mkdocs.plugins import CombinedEvent, event_priority

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.nav import Navigation
    from mkdocs.structure.pages import Page

_TAG = re.compile(r"<svg\b|</svg>")
_full: dict[str, str | None] = {}


def without_svg(html: str) -> str:
    """`html` with every outermost ``<svg ...>...</svg>`` element removed (nesting respected)."""
    pieces, depth, start = [], 0, 0
    for tag in _TAG.finditer(html):
        if tag.group() == "<svg":
            if depth == 0:
                pieces.append(html[start : tag.start()])
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                start = tag.end()
    if depth:  # unbalanced: leave the page as it is
        return html
    pieces.append(html[start:])
    return "".join(pieces)


@event_priority(100)  # before the search plugin (priority 0)
def _strip(context: Any, page: Page, config: MkDocsConfig, nav: Navigation) -> Any:
    _full[page.file.src_uri] = page.content
    if page.content is not None:
        page.content = without_svg(page.content)
    return context


@event_priority(-100)  # after it: the template renders the full page
def _restore(context: Any, page: Page, config: MkDocsConfig, nav: Navigation) -> Any:
    page.content = _full.pop(page.file.src_uri, page.content)
    return context


on_page_context = CombinedEvent(_strip, _restore)
