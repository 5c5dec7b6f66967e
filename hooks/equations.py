r"""MkDocs hook: numbered equations, ``\eqref`` links and math typeset to SVG at build time.

Why build time: the page then needs no JavaScript and no request to any host to show its
maths, it prints crisply, and the HTML is byte-for-byte reproducible. MathJax 4 runs inside the
Python process through ``quickjax`` (QuickJS), about 10-30 ms an equation.

Conventions for page authors:

- display maths is ``$$ ... $$`` on lines of its own; put ``\label{name}`` inside to number it
  (numbers run 1, 2, ... per page, in the order of the labels);
- refer to it in prose, outside maths, with ``\eqref{name}``, on the same page or any other: the
  hook writes a Markdown link ``[(n)](page.md#eq-name)``, so MkDocs validates it like any link;
- an unknown label, a duplicate label or a TeX error fails the build.
"""

from __future__ import annotations

import html
import posixpath
import re
from typing import TYPE_CHECKING, Any

from markdown_source import STORE, segments, title  # hooks/ is on sys.path while hooks load

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page


_LABEL = re.compile(r"\\label\{([A-Za-z0-9_:.-]+)\}")
_EQREF = re.compile(r"\\eqref\{([A-Za-z0-9_:.-]+)\}")
_DISPLAY = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.DOTALL)
_INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.DOTALL)
_DEFS = re.compile(r"<defs>(.*?)</defs>", re.DOTALL)
_PATH_ID = re.compile(r'<path id="([^"]+)"')
_COUNTER = re.compile(r"MJX-\d+-")
_DATA_ATTRIBUTE = re.compile(r' data-[\w-]+="[^"]*"')

# label -> (source path of its page, equation number, page title)
_labels: dict[str, tuple[str, int, str]] = {}
_NAMESPACES = re.compile(r' xmlns(?::xlink)?="[^"]*"')
# (TeX, display) -> SVG: a pure function of the TeX, kept across the preview's rebuilds, and
# the MathJax context with it
_cache: dict[Any, Any] = STORE.setdefault("equations", {})


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Number every labelled equation of the site before any page is rendered."""
    _labels.clear()
    for file in files.documentation_pages():
        source = file.content_string
        heading = title(source)
        page_title = heading[1] if heading else file.src_uri
        number = 0
        for is_code, text in segments(source):
            if is_code:
                continue
            for label in _LABEL.findall(text):
                if label in _labels:
                    other = _labels[label][0]
                    raise ValueError(
                        f"equation label {label!r} in {file.src_uri} is already used in {other}"
                    )
                number += 1
                _labels[label] = (file.src_uri, number, page_title)
    return files


def _reference(label: str, page: Page) -> str:
    if label not in _labels:
        raise ValueError(f"\\eqref{{{label}}} in {page.file.src_uri}: no equation has that label")
    src_uri, number, title = _labels[label]
    if src_uri == page.file.src_uri:
        return f"[({number})](#eq-{label})"
    target = posixpath.relpath(src_uri, posixpath.dirname(page.file.src_uri) or ".")
    return f"[{title} ({number})]({target}#eq-{label})"


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Tag labelled equations with their number and turn ``\\eqref`` into checked links."""
    out: list[str] = []
    for is_code, text in segments(markdown):
        if is_code:
            out.append(text)
            continue
        tagged = _LABEL.sub(lambda m: f"\\tag{{{_labels[m[1]][1]}}}\\label{{{m[1]}}}", text)
        out.append(_EQREF.sub(lambda m: _reference(m[1], page), tagged))
    return "".join(out)


def _render(tex: str, *, display: bool) -> str:
    key = (tex, display)
    if key not in _cache:
        if "renderer" not in _cache:  # one MathJax context per process
            from quickjax import MathJaxRenderer  # noqa: PLC0415 - only when a page has maths

            _cache["renderer"] = MathJaxRenderer()
        svg = _cache["renderer"].render(tex, display=display)
        if "data-mjx-error" in svg or 'data-mml-node="mtext" fill="red"' in svg:
            error = re.search(r'(?:data-mjx-error|data-latex)="([^"]*)"', svg)
            raise ValueError(f"TeX error in {tex!r}: {error[1] if error else 'unknown'}")
        # Glyph ids carry a per-call counter; drop it so that ids depend on the glyph only.
        svg = _COUNTER.sub("mjx-", svg)
        # MathJax's data-* attributes (the TeX of every node, glyph codes) serve its own
        # menus and CSS, which this static page lacks: about a third of the bytes. The whole
        # TeX source stays once, as the label a screen reader speaks.
        svg = _DATA_ATTRIBUTE.sub("", svg)
        # Inline SVG in HTML needs no namespace declarations (the parser supplies them, and
        # maps xlink:href), and focusable is an old IE attribute: bytes on every equation.
        svg = _NAMESPACES.sub("", svg).replace(' focusable="false"', "")
        # The colour and stroke every equation sets on its outer group come from the
        # stylesheet instead (docs/stylesheets/notes.css), once for the site.
        svg = svg.replace('<g stroke="currentColor" fill="currentColor" stroke-width="0"', "<g")
        label = html.escape(tex.strip(), quote=True)
        _cache[key] = svg.replace("<svg ", f'<svg aria-label="{label}" ', 1)
    return _cache[key]


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace arithmatex's TeX with SVG; glyph definitions are shared once per page."""
    glyphs: dict[str, str] = {}

    def typeset(tex: str, *, display: bool) -> str:
        svg = _render(html.unescape(tex), display=display)
        defs = _DEFS.search(svg)
        if defs:
            for path in re.findall(r"<path [^>]*/>", defs[1]):
                glyph_id = _PATH_ID.search(path)
                if glyph_id:
                    glyphs.setdefault(glyph_id[1], path)
            svg = svg[: defs.start()] + svg[defs.end() :]
        return svg

    def display_math(match: re.Match[str]) -> str:
        tex = match[1]
        label = _LABEL.search(tex)
        anchor = ""
        if label:
            tex = _LABEL.sub("", tex)
            anchor = f' id="eq-{label[1]}"'
            if page.present_anchor_ids is not None:
                page.present_anchor_ids.add(f"eq-{label[1]}")
        return f'<div class="arithmatex"{anchor}>{typeset(tex, display=True)}</div>'

    def inline_math(match: re.Match[str]) -> str:
        return f'<span class="arithmatex">{typeset(match[1], display=False)}</span>'

    html_text = _DISPLAY.sub(display_math, html_text)
    html_text = _INLINE.sub(inline_math, html_text)
    if glyphs:
        # Short ids for the page's glyphs ("mjx-MM-I-1D453" -> "mj3f"): each of the thousands
        # of <use> elements on a page gets lighter. (Not SVG 2's plain href: Material's instant
        # navigation assigns every element's href property, read-only on <use>.)
        short = {key: f"mj{number:x}" for number, key in enumerate(sorted(glyphs))}

        def shorten(match: re.Match[str]) -> str:
            return match[1] + short.get(match[2], match[2]) + '"'

        html_text = re.sub(r'(xlink:href="#|id=")(mjx-[\w-]+)"', shorten, html_text)
        glyphs = {
            short[key]: re.sub(r'id="mjx-[\w-]+"', f'id="{short[key]}"', path)
            for key, path in glyphs.items()
        }
        defs = "".join(glyphs[key] for key in sorted(glyphs))
        html_text = (
            '<svg class="notes-math-defs" aria-hidden="true" focusable="false" '
            'style="position:absolute;width:0;height:0;overflow:hidden">'
            f"<defs>{defs}</defs></svg>{html_text}"
        )
    return html_text
