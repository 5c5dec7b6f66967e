"""Shared by the hooks: read a page's Markdown source, telling prose from fenced code.

One scanner for every hook, so that they agree on where a code block starts and ends (a
closing fence repeats the opening character at least as many times, with nothing after it).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

# What a hook keeps from one build to the next in the same process (`mkdocs serve` rebuilds in
# one process). MkDocs executes each hook file afresh whenever it loads the configuration, so a
# hook's own module-level state lasts one build; this module is imported the ordinary way and
# lasts the process. Keys are hook names; only caches whose entries cannot go stale belong here.
STORE: dict[str, dict[object, object]] = {}


def sources_digest(folder: Path) -> str:
    """SHA-256 of every ``.py`` file under `folder`, paths included: changes when any source does."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*?)\s*$")
_TITLE = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Fenced:
    """One fenced code block: its info string (``python exec="1"``) and its dedented lines."""

    info: str
    lines: list[str]


def segments(markdown: str) -> list[tuple[bool, str]]:
    """Split Markdown into ``(is_code, text)`` runs that join back to the whole source."""
    runs: list[tuple[bool, str]] = []
    buffer: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines(keepends=True):
        match = _FENCE.match(line)
        if fence is None and match:
            runs.append((False, "".join(buffer)))
            buffer, fence = [line], match["fence"]
        elif fence is not None and match and match["fence"].startswith(fence[0] * len(fence)):
            buffer.append(line)
            if not match["info"]:  # a closing fence carries no info string
                runs.append((True, "".join(buffer)))
                buffer, fence = [], None
        else:
            buffer.append(line)
    runs.append((fence is not None, "".join(buffer)))
    return runs


def fenced_blocks(markdown: str) -> list[Fenced]:
    """Every fenced code block, in order, with the opening fence's indent removed."""
    blocks = []
    for is_code, text in segments(markdown):
        if not is_code:
            continue
        lines = text.splitlines()
        opening = _FENCE.match(lines[0])
        assert opening is not None  # a code run starts with its fence
        closing = _FENCE.match(lines[-1]) if len(lines) > 1 else None
        closed = closing is not None and not closing["info"]
        body = lines[1:-1] if closed else lines[1:]
        indent = opening["indent"]
        blocks.append(Fenced(opening["info"].strip(), [line.removeprefix(indent) for line in body]))
    return blocks


def title(markdown: str) -> re.Match[str] | None:
    """The page's first ``# Title`` line outside code (group 1 is the text)."""
    offset = 0
    for is_code, text in segments(markdown):
        if not is_code:
            match = _TITLE.search(markdown, offset, offset + len(text))
            if match:
                return match
        offset += len(text)
    return None
