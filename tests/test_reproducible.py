"""Two builds of the same sources give byte-identical pages, plots and scripts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import ROOT, mkdocs_build

pytestmark = pytest.mark.build

# Allowed to differ, and why: the sitemap carries the build date; timings.js carries the
# measured run times (kept out of the HTML for exactly this reason).
VOLATILE = {"sitemap.xml", "sitemap.xml.gz", "javascripts/timings.js"}


def digests(site: Path) -> dict[str, str]:
    return {
        path.relative_to(site).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(site.rglob("*"))
        if path.is_file() and path.relative_to(site).as_posix() not in VOLATILE
    }


def test_second_build_is_byte_identical(site: Path, tmp_path: Path) -> None:
    again = mkdocs_build(ROOT / "mkdocs.yml", tmp_path / "again")
    assert again.returncode == 0, again.output
    first, second = digests(site), digests(again.site)
    assert first.keys() == second.keys()
    differing = sorted(name for name in first if first[name] != second[name])
    assert differing == [], f"files differ between two builds: {differing}"
    kinds = {Path(name).suffix for name in first}
    assert {".html", ".py"} <= kinds  # the comparison covered pages and scripts
