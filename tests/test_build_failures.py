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
    "wrong alternative passes": (
        (
            '```python exec="1" result="text" session="x"\n'
            "from notes.checks import claim, close\n"
            "check = lambda v: close(v, 2.0, atol=0.5, basis='too loose')\n"
            'print(claim("one plus one is two", check, 1.0 + 1.0, rejects={"1.9": 1.9}))\n```\n'
        ),
        "claim 'one plus one is two': its check also accepts the wrong alternative '1.9'",
    ),
    "block warns": (
        (
            '```python exec="1" session="x"\nimport warnings\n'
            'warnings.warn("an old API, from a block", DeprecationWarning)\n```\n'
        ),
        "DeprecationWarning: an old API, from a block",
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


LEDGER_PAGE = """# Ledger test

## First section

```python exec="1" result="text" session="l"
from notes.checks import claim, close, mean
import torch

check = lambda v: close(v, 0.25, atol=1e-15, basis="exact in binary")
print(claim("a quarter", check, 0.5**2, rejects={"a half": 0.5, "a third": 1 / 3}))
```

## Second section

```python exec="1" result="text" session="l"
x = torch.randn(1000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
print(claim("centred", lambda s: mean(s, 0.0), x))
```
"""


def test_the_ledger_lists_exactly_the_checks_the_pages_ran(tmp_path: Path) -> None:
    import json  # noqa: PLC0415

    config = throwaway_site(
        tmp_path, {"index.md": HOME, "other.md": OTHER, "ledger-test.md": LEDGER_PAGE}
    )
    build = mkdocs_build(config, tmp_path / "site")
    assert build.returncode == 0, build.output
    rows = json.loads((build.site / "claims.json").read_text(encoding="utf-8"))
    got = [(r["page"], r["section"], r["claim"], r["alternative"], r["passed"]) for r in rows]
    assert got == [
        ("index.md", "home", "mean", None, True),
        ("ledger-test.md", "first-section", "a quarter", None, True),
        ("ledger-test.md", "first-section", "a quarter", "a half", False),
        ("ledger-test.md", "first-section", "a quarter", "a third", False),
        ("ledger-test.md", "second-section", "centred", None, True),
    ], got
    html = (build.site / "claims" / "index.html").read_text(encoding="utf-8")
    assert "5 checks" in html
    assert html.count("<tr>") == (1 + 1) + (1 + 4)  # per page: a header row, a row per check
    assert 'href="../ledger-test/#second-section"' in html
    assert "claims ledger: 5 checks on 2 pages; 3 claims, 1 with a rejected alternative" in (
        build.output
    )
