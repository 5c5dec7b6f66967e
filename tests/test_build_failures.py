"""The strict build is the site's test runner: prove that it fails when a page is wrong.

Each case builds a throwaway site (the real configuration and hooks, one or two small pages) in
a temporary directory and checks the exit status and the message. A good page must build, so
that a failure below is caused by the one broken thing in it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import mkdocs_build, throwaway_site

pytestmark = pytest.mark.build

HOME = """# Home

A claim, computed and checked, with a numbered equation:

$$
m = \\frac{1}{n}\\sum_{i=1}^n x_i \\label{home-mean}
$$

See \\eqref{home-mean} and [the other page](other.md#a-section) [@mathjax].

```python exec="1" source="above" result="text" session="home"
import torch
from notes.checks import assert_close

x = torch.arange(1.0, 5.0)
print(assert_close(x.mean(), 2.5, atol=1e-6, name="mean"))
```
"""

OTHER = """# Other

## A section

Equation \\eqref{home-mean} lives on the home page.
"""

BROKEN = {
    "block raises": (
        '```python exec="1" session="x"\nraise RuntimeError("boom from a block")\n```\n',
        "boom from a block",
    ),
    "assertion fails": (
        (
            '```python exec="1" result="text" session="x"\n'
            "from notes.checks import assert_close\n"
            'print(assert_close(1.0, 2.0, atol=1e-9, name="one"))\n```\n'
        ),
        "one = 1, expected 2",
    ),
    "bare assert fails": (
        '```python exec="1" session="x"\nassert 1 + 1 == 3, "arithmetic claim broken"\n```\n',
        "arithmetic claim broken",
    ),
    "broken link": ("See [nowhere](missing-page.md).\n", "missing-page.md"),
    "broken anchor": ("See [a section](other.md#no-such-section).\n", "no-such-section"),
    "unknown equation label": ("See \\eqref{no-such-equation}.\n", "no-such-equation"),
    "unknown citation": ("As shown by [@nobody2099].\n", "nobody2099"),
    "TeX error": ("$$\n\\frac{1}{\n$$\n", "TeX error"),
}


def test_good_throwaway_site_builds(tmp_path: Path) -> None:
    config = throwaway_site(tmp_path, {"index.md": HOME, "other.md": OTHER})
    build = mkdocs_build(config, tmp_path / "site")
    assert build.returncode == 0, build.output
    html = (build.site / "index.html").read_text(encoding="utf-8")
    assert "mean = 2.5 (expected 2.5" in html
    assert 'id="eq-home-mean"' in html
    other = (build.site / "other" / "index.html").read_text(encoding="utf-8")
    assert 'href="../#eq-home-mean"' in other


@pytest.mark.parametrize("case", list(BROKEN), ids=lambda c: c.replace(" ", "-"))
def test_broken_page_fails_the_build(tmp_path: Path, case: str) -> None:
    body, message = BROKEN[case]
    page = f"# Broken\n\nThis page holds one mistake: {case}.\n\n{body}"
    config = throwaway_site(tmp_path, {"index.md": HOME, "other.md": OTHER, "broken.md": page})
    build = mkdocs_build(config, tmp_path / "site")
    assert build.returncode != 0, f"the build passed despite: {case}\n{build.output}"
    assert message in build.output
