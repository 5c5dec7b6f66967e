"""MkDocs hook: in the live preview (`nox -s serve`), re-execute only the code that changed.

`mkdocs serve` rebuilds the whole site on every save, and markdown-exec would run every block
of every page again (most of a build's time). With ``NOTES_PREVIEW=1`` (set by `nox -s serve`)
each executed Python block's output is cached under

- the code of its session so far in this build, up to and including the block (a block's output
  depends on the blocks before it in its session), and
- a fingerprint of the `notes` package's source files (a change there re-runs everything, with
  the package re-imported).

On a hit the block is not run; the claims it recorded are replayed into the ledger.
The API pages are cached the same way: each ``::: identifier`` block's HTML, with the headings
and aliases mkdocstrings registers for cross-references, under the package's fingerprint and
``mkdocs.yml``, so a prose edit renders no docstring again; and so is each code block's
highlighting, under its text and the highlighter's settings. On the
first miss in a session, the session's earlier blocks are run again, silently, to rebuild its
state, and from then on the session runs normally. An edit to one page's prose therefore runs
no code at all, and an edit to one block runs that page's session only. `nox -s docs` and the
tests never set ``NOTES_PREVIEW``: the real build always runs everything.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markdown_exec._internal.formatters import python as exec_python
from markdown_source import STORE, sources_digest  # hooks/ is on sys.path while hooks load

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

ENABLED = os.environ.get("NOTES_PREVIEW") == "1"
# MkDocs executes this file again at every rebuild; what must outlive a build lives in STORE:
# markdown-exec's own runner (not the wrapper an earlier load installed), the outputs, the
# package's fingerprint and the counts.
_KEPT: dict[Any, Any] = STORE.setdefault("preview", {})
_original = _KEPT.setdefault("run_python", exec_python._run_python)
_cache: dict[tuple[Any, ...], tuple[str, list[dict[str, Any]]]] = _KEPT.setdefault("outputs", {})
_state: dict[str, Any] = _KEPT.setdefault("state", {"fingerprint": "", "hits": 0, "runs": 0})
_rendered: dict[tuple[Any, ...], tuple[str, list[Any]]] = _KEPT.setdefault("api", {})
_aliases: dict[tuple[str, str], tuple[str, ...]] = _KEPT.setdefault("aliases", {})
_highlighted: dict[str, str] = _KEPT.setdefault("highlighted", {})
_chains: dict[str | None, list[str]] = {}
_live: set[str | None] = set()


def _run(code: str, returncode: int | None = None, session: str | None = None, **extra: Any) -> str:
    chain = _chains.setdefault(session, [])
    chain.append(code)
    key = (_state["fingerprint"], session, tuple(chain) if session else code)
    if key in _cache:
        _state["hits"] += 1
        output, records = _cache[key]
        _checks()._LEDGER.extend(records)
        return output
    if session is not None and session not in _live:
        exec_python._sessions_globals.pop(session, None)  # rebuild the state from scratch
        saved = list(_checks()._LEDGER)
        for earlier in chain[:-1]:
            _original(earlier, returncode, session, **extra)
        _checks()._LEDGER[:] = saved  # the replayed blocks' claims came from the cache
        _live.add(session)
    _state["runs"] += 1
    before = len(_checks()._LEDGER)
    output: str = _original(code, returncode, session, **extra)
    _cache[key] = (output, _checks()._LEDGER[before:])
    return output


def _process_block(self: Any, identifier: str, yaml_block: str, heading_level: int = 0) -> Any:
    """mkdocstrings' rendering of one ``:::`` block, from the cache when nothing changed."""
    import yaml  # noqa: PLC0415 - mkdocstrings' own dependency

    page = self._autorefs.current_page
    key = (_state["fingerprint"], getattr(page, "url", None), identifier, yaml_block, heading_level)
    handlers = self._handlers
    handler = handlers.get_handler(handlers.get_handler_name(yaml.safe_load(yaml_block) or {}))
    if key in _rendered and handler.outer_layer:
        _state["api hits"] += 1
        html, headings = _rendered[key]
        handler._headings.extend(copy.deepcopy(h) for h in headings)
        return html, handler, None
    html, handler, data = _KEPT["process_block"](self, identifier, yaml_block, heading_level)
    if handler.outer_layer:
        _rendered[key] = (html, [copy.deepcopy(h) for h in handler._headings])
    return html, handler, data


def _get_aliases(self: Any, identifier: str) -> tuple[str, ...]:
    """The aliases of a rendered object; remembered, since a cached block collects nothing."""
    found: tuple[str, ...] = _KEPT["get_aliases"](self, identifier)
    key = (_state["fingerprint"], identifier)
    if found:
        _aliases[key] = found
    return found or _aliases.get(key, ())


def _highlight(self: Any, *args: Any, **kwargs: Any) -> str:
    """pymdownx's highlighting of one code block, reused when the block and settings recur."""
    settings = sorted((k, repr(v)) for k, v in vars(self).items() if k != "md")
    key = repr((settings, args, sorted(kwargs.items())))
    if key not in _highlighted:
        _highlighted[key] = _KEPT["highlight"](self, *args, **kwargs)
    return _highlighted[key]


def _cache_api_pages() -> None:
    from mkdocstrings._internal.extension import AutoDocProcessor  # noqa: PLC0415
    from mkdocstrings_handlers.python import PythonHandler  # noqa: PLC0415
    from pymdownx.highlight import Highlight  # noqa: PLC0415

    _KEPT.setdefault("highlight", Highlight.highlight)
    Highlight.highlight = _highlight  # type: ignore[method-assign]
    _KEPT.setdefault("process_block", AutoDocProcessor._process_block)
    _KEPT.setdefault("get_aliases", PythonHandler.get_aliases)
    AutoDocProcessor._process_block = _process_block  # type: ignore[method-assign]
    PythonHandler.get_aliases = _get_aliases  # type: ignore[method-assign]


def on_config(config: MkDocsConfig) -> None:
    """Start a build: new chains; a changed package is re-imported and invalidates the cache."""
    if not ENABLED:
        return
    root = Path(config.config_file_path).parent
    fingerprint = sources_digest(root / "src" / "notes")
    fingerprint += hashlib.sha256((root / "mkdocs.yml").read_bytes()).hexdigest()
    if fingerprint != _state["fingerprint"]:
        if _state["fingerprint"]:
            for name in [m for m in sys.modules if m == "notes" or m.startswith("notes.")]:
                del sys.modules[name]
        _cache.clear()
        _state["fingerprint"] = fingerprint
    _chains.clear()
    _live.clear()
    _state.update({"hits": 0, "runs": 0, "api hits": 0})
    exec_python._run_python = _run
    _cache_api_pages()


def on_post_build(config: MkDocsConfig) -> None:
    """Say how much code the preview ran."""
    if ENABLED:
        print(f"preview: {_state['runs']} blocks run, {_state['hits']} reused from the cache")
        print(f"preview: {_state['api hits']} API blocks reused from the cache")


def _checks() -> Any:
    """`notes.checks` as imported now (the preview may re-import the package between builds)."""
    return importlib.import_module("notes.checks")
