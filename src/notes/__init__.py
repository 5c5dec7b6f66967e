"""notes: small, tested PyTorch functions behind the derivations on the notes site.

Each topic lives in one module named like its page (``notes.stochastic_approximation`` for
``docs/stochastic-approximation.md``). Two helpers serve every page:

- [`notes.plotting`][notes.plotting] turns a matplotlib figure into deterministic inline SVG;
- [`notes.checks`][notes.checks] holds the "compute, then assert" helpers a page block uses.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
