"""MkDocs hook: the claims ledger, generated from the checks the pages run while they build.

- Before a page's blocks run, each executed Python block gets a first line, hidden from the
  page (``# markdown-exec: hide``), that tells `notes.checks` which page and block the next
  claims come from. The page's source, its script and its copies are not changed.
- After the page is converted, its blocks are mapped to the section (heading anchor) they sit in.
- ``claims.md`` is generated last: one table per page of every check the pages ran (claim,
  holds or the wrong alternative rejected, measured, expected, tolerance, basis), linked to the
  section. ``claims.json`` holds the same rows for tests, and the build prints the totals.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markdown_source import segments  # hooks/ is on sys.path while hooks load
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, InclusionLevel

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

LEDGER = "claims.md"
_EXEC = re.compile(r"""\bexec=["']?(?:1|true|on|yes)\b""", re.IGNORECASE)
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?:`{3,}|~{3,})(?P<info>.*?)\s*$")
_HEADING = re.compile(r"^#{1,6}\s+\S")

_block_heading: dict[str, list[int]] = {}  # page -> index of the heading each block sits under
_sections: dict[str, dict[int, str]] = {}  # page -> block -> anchor
_titles: dict[str, str] = {}
_done: set[str] = set()
_ledger_built = False


def _instrument(src: str, markdown: str) -> tuple[str, list[int]]:
    """Insert the hidden ``_at(page, block)`` line into each executed Python block."""
    out: list[str] = []
    headings, block_heading = -1, []
    for is_code, text in segments(markdown):
        if not is_code:
            headings += sum(1 for line in text.splitlines() if _HEADING.match(line))
            out.append(text)
            continue
        first, _, rest = text.partition("\n")
        match = _FENCE.match(first)
        language, _, options = (match["info"].strip() if match else "").partition(" ")
        if match is None or language not in {"python", "py"} or not _EXEC.search(options):
            out.append(text)
            continue
        block_heading.append(headings)
        marker = (
            f"{match['indent']}__import__('notes.checks').checks._at({src!r}, "
            f"{len(block_heading)})  # markdown-exec: hide"
        )
        out.append(f"{first}\n{marker}\n{rest}")
    return "".join(out), block_heading


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the ledger page (filled in when it is built, after every other page)."""
    global _ledger_built  # noqa: PLW0603
    _ledger_built = False
    _done.clear()
    _checks()._LEDGER.clear()
    files.append(
        File.generated(
            config, LEDGER, content="# Claims ledger\n", inclusion=InclusionLevel.NOT_IN_NAV
        )
    )
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Instrument the page's blocks; for the ledger page, write the ledger."""
    src = page.file.src_uri
    if src == LEDGER:
        return _ledger_markdown(src)
    if _ledger_built and src != LEDGER:
        raise PluginError(f"{src} was converted after the claims ledger: its claims are missing")
    _checks()._LEDGER[:] = [r for r in _checks()._LEDGER if r["page"] != src]
    instrumented, _block_heading[src] = _instrument(src, markdown)
    return instrumented


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Map each block to the anchor of the heading it sits under; stop attributing claims."""
    src = page.file.src_uri
    _checks()._at(None, None)
    _titles[src] = page.title or src
    anchors: list[str] = []
    stack = list(reversed(list(page.toc)))
    while stack:
        item = stack.pop()
        anchors.append(item.id)
        stack.extend(reversed(list(item.children)))
    sections = {}
    for block, heading in enumerate(_block_heading.get(src, []), 1):
        if 0 <= heading < len(anchors):
            sections[block] = anchors[heading]
    _sections[src] = sections
    _done.add(src)
    return html


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _rows() -> list[dict[str, Any]]:
    rows = []
    for record in _checks()._LEDGER:
        page, block = record["page"], record["block"]
        if page is None:
            continue
        rows.append({**record, "section": _sections.get(page, {}).get(block, "")})
    return rows


def _ledger_markdown(src: str) -> str:
    global _ledger_built  # noqa: PLW0603
    _ledger_built = True
    rows = _rows()
    pages = list(dict.fromkeys(r["page"] for r in rows))
    claims = {(r["page"], r["block"], r["claim"]) for r in rows}
    with_alt = {(r["page"], r["block"], r["claim"]) for r in rows if r["alternative"]}
    alternatives = sum(1 for r in rows if r["alternative"])
    lines = [
        "# Claims ledger",
        "",
        (
            "Every check the pages ran while this site was built, generated from the checks "
            "themselves (`notes.checks`): the claim, the value measured, what was expected, the "
            "tolerance and its basis. A row marked *rejects* is the same check run on a named "
            "wrong alternative, which it must reject for the build to pass."
        ),
        "",
        (
            f"**{len(rows)} checks** on {len(pages)} pages: {len(claims)} claims hold, "
            f"{len(with_alt)} of them shown rejecting {alternatives} wrong alternatives."
        ),
        "",
    ]
    for page in pages:
        lines += [
            f"## {_titles.get(page, page)}",
            "",
            "| section | claim | outcome | measured | expected | tolerance | basis |",
            "| --- | --- | --- | ---: | ---: | ---: | --- |",
        ]
        for r in (r for r in rows if r["page"] == page):
            link = f"{page}#{r['section']}" if r["section"] else page
            label = r["section"].replace("-", " ") or "top"
            outcome = f"rejects *{_cell(r['alternative'])}*" if r["alternative"] else "holds"
            lines.append(
                f"| [{_cell(label)}]({link}) | {_cell(r['claim'])} | {outcome} | "
                f"{r['measured']:.6g} | {_cell(r['expected'])} | {r['tolerance']:.3g} | "
                f"{_cell(r['basis'])} |"
            )
        lines.append("")
    return "\n".join(lines)


def on_post_build(config: MkDocsConfig) -> None:
    """Write claims.json and print the totals."""
    rows = _rows()
    target = Path(config.site_dir) / "claims.json"
    target.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    claims = {(r["page"], r["block"], r["claim"]) for r in rows}
    with_alt = {(r["page"], r["block"], r["claim"]) for r in rows if r["alternative"]}
    unstated = sum(1 for r in rows if r["basis"] == "stated tolerance")
    print(
        f"\nclaims ledger: {len(rows)} checks on {len({r['page'] for r in rows})} pages; "
        f"{len(claims)} claims, {len(with_alt)} with a rejected alternative "
        f"({sum(1 for r in rows if r['alternative'])} alternatives rejected); "
        f"{unstated} checks without a stated basis"
    )


def _checks() -> Any:
    """`notes.checks` as imported now (the preview may re-import the package between builds)."""
    return importlib.import_module("notes.checks")
