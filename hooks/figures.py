"""MkDocs hook: the code that draws a figure is folded under the figure.

An executed block that prints a plot (``html="1"`` and a call of ``to_svg``) is shown figure
first, with its code in a collapsed ``<details>`` below it. The code still runs when the site is
built, stays in the page's script and notebook, and keeps its copy button. The code of
derivations and checks stays open, above its output.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from markdown_source import segments  # hooks/ is on sys.path while hooks load

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?:`{3,}|~{3,})(?P<info>.*?)\s*$")
_EXEC = re.compile(r"""\bexec=["']?(?:1|true|on|yes)\b""", re.IGNORECASE)
_HTML = re.compile(r"""\bhtml=["']?(?:1|true|on|yes)\b""", re.IGNORECASE)
_SOURCE = re.compile(r"""\bsource=["']?above["']?""")
_OPEN = '<div class="notes-figure">'
_DIV = re.compile(r"<div\b|</div>")
SUMMARY = "Code for this figure"


def is_figure(info: str, code: str) -> bool:
    """An executed Python block that injects HTML and draws with `to_svg`."""
    language, _, options = info.strip().partition(" ")
    return (
        language in {"python", "py"}
        and bool(_EXEC.search(options))
        and bool(_HTML.search(options))
        and bool(_SOURCE.search(options))
        and "to_svg(" in code
    )


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Wrap each figure block in a marked div, with its source shown below the output."""
    out = []
    for is_code, text in segments(markdown):
        first, _, rest = text.partition("\n")
        match = _FENCE.match(first) if is_code else None
        if match is None or match["indent"] or not is_figure(match["info"], rest):
            out.append(text)
            continue
        first = _SOURCE.sub('source="below"', first)
        out.append(f"\n{_OPEN.replace('>', ' markdown>')}\n\n{first}\n{rest}\n</div>\n")
    return "".join(out)


def _matching_close(html: str, start: int) -> int:
    """The index just past the ``</div>`` that closes the ``<div`` at `start`."""
    depth = 0
    for tag in _DIV.finditer(html, start):
        depth += 1 if tag.group() == "<div" else -1
        if depth == 0:
            return tag.end()
    raise ValueError("unbalanced <div> in a figure block")


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fold the source (the highlighted block after the figure) into a closed <details>."""
    pieces, position = [], 0
    while (start := html.find(_OPEN, position)) >= 0:
        end = _matching_close(html, start)
        inner = html[start + len(_OPEN) : end - len("</div>")]
        code = inner.rfind('<div class="language-')
        if code < 0:
            raise ValueError(f"{page.file.src_uri}: a figure block has no source to fold")
        code_end = _matching_close(inner, code)
        folded = (
            f'{inner[:code]}<details class="notes-figure-code"><summary>{SUMMARY}</summary>'
            f"{inner[code:code_end]}</details>{inner[code_end:]}"
        )
        pieces += [html[position:start], _OPEN, folded, "</div>"]
        position = end
    pieces.append(html[position:])
    return "".join(pieces)
