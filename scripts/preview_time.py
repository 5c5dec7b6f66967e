"""Time the live preview's rebuild after an edit to one page's prose, as `nox -s serve` does.

    NO_MKDOCS_2_WARNING=1 OMP_NUM_THREADS=1 python scripts/preview_time.py notation.md

Builds the site once with ``NOTES_PREVIEW=1`` (every block runs, the caches fill), then edits
one paragraph of the page twice, rebuilding in the same process after each edit as
``mkdocs serve`` does, and prints the three times and what the preview reused. The page is
restored afterwards. The site goes to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["NOTES_PREVIEW"] = "1"

from mkdocs.commands.build import build
from mkdocs.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def rebuild(site: str) -> float:
    """One build in this process, as ``mkdocs serve`` runs it; its wall time in seconds."""
    config = load_config(str(ROOT / "mkdocs.yml"), strict=True, site_dir=site)
    config.plugins.on_startup(command="serve", dirty=False)
    start = time.perf_counter()
    build(config, serve_url="http://127.0.0.1:8000/")
    config.plugins.on_shutdown()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="a page under docs/, e.g. notation.md")
    page = ROOT / "docs" / parser.parse_args().page
    original = page.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as site:
        times = [rebuild(site)]
        try:
            for edit in range(2):
                page.write_text(original.replace("\n\n", f"\n\nEdited {edit}.\n\n", 1), "utf-8")
                times.append(rebuild(site))
        finally:
            page.write_text(original, encoding="utf-8")
    sys.stdout.write(
        f"first build {times[0]:.1f} s; after a prose edit {times[1]:.1f} s, {times[2]:.1f} s\n"
    )


if __name__ == "__main__":
    main()
