"""MkDocs hook: a warning raised by a page's code fails its block, and so the strict build.

`mkdocs build --strict` fails on MkDocs' own warnings, but a ``DeprecationWarning`` or a
``UserWarning`` raised while markdown-exec runs a block only reaches the terminal, and the page
builds as if nothing were wrong. Each block therefore runs with Python's warnings turned into
errors: the block fails with the warning's message and line, markdown-exec reports it, and
the strict build stops. Code outside the blocks (MkDocs, the plugins) keeps its usual filters.

A page that means to show a warning catches it itself (``warnings.catch_warnings``).
"""

from __future__ import annotations

import warnings
from typing import Any

from markdown_exec._internal.formatters import python as exec_python
from markdown_source import STORE  # hooks/ is on sys.path while hooks load

# MkDocs executes this file again at every rebuild of the preview: wrap markdown-exec's own
# runner once, and keep the wrapper (hooks/preview.py caches around whatever is installed).
_KEPT: dict[Any, Any] = STORE.setdefault("block_warnings", {})
if "run_python" not in _KEPT:
    _unchecked = exec_python._run_python

    def _run_python(code: str, *args: Any, **kwargs: Any) -> str:
        """markdown-exec's runner, with every warning an exception while the block runs."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            output: str = _unchecked(code, *args, **kwargs)
        return output

    _KEPT["run_python"] = _run_python
exec_python._run_python = _KEPT["run_python"]
