"""Each page's downloadable script runs on a reader's install and prints what the page shows.

A reader's install is a fresh venv with `notes` and only its declared dependencies and extras:
``python -m venv`` then ``pip install -c constraints.txt '.[digits]'`` (README, "Run a page's
code"), exactly. torch==2.13.0 comes from the CPU wheel that pip finds on this machine's disk
(pip's ``find-links``); the install fails if it pulled a CUDA build. The venv lives in
``.nox/reader`` and is reused while ``constraints.txt`` and ``pyproject.toml`` are unchanged;
`notes` itself is reinstalled (``--no-deps``) when ``src/notes`` changed. The install runs in a
thread started by the first test that asks for it, so that it overlaps the site build.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ROOT, url_path

pytestmark = [pytest.mark.build, pytest.mark.reader]

_TEXT_RESULT = re.compile(
    r'<div class="language-text highlight"><pre><span></span><code>(.*?)</code></pre></div>',
    re.DOTALL,
)
_PLOT = re.compile(r'<svg class="notes-plot".*?</svg>', re.DOTALL)
_DOWNLOAD = re.compile(r'<a download href="([^"]+\.py)"')

VENV = ROOT / ".nox" / "reader"
EXTRAS = "digits"


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            h.update(file.relative_to(ROOT).as_posix().encode() + file.read_bytes())
    return h.hexdigest()


def reader_env() -> dict[str, str]:
    """The environment a reader runs in: no PYTHONPATH pointing into the clone."""
    drop = {"PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "VIRTUAL_ENV"}
    return {key: value for key, value in os.environ.items() if key not in drop}


class Reader:
    """The venv, installed in the background; `python` waits for it."""

    def __init__(self) -> None:
        self._error: BaseException | None = None
        self._log: list[str] = []
        self._thread = threading.Thread(target=self._install, daemon=True)
        self._thread.start()

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            args, capture_output=True, text=True, env=reader_env(), cwd=ROOT, check=False
        )
        self._log.append(f"$ {' '.join(args)}\n{result.stdout[-2000:]}{result.stderr[-4000:]}")
        if result.returncode:
            raise RuntimeError("\n".join(self._log))

    def _install(self) -> None:
        try:
            python = str(VENV / "bin" / "python")
            deps = _digest(ROOT / "constraints.txt", ROOT / "pyproject.toml")
            package = _digest(ROOT / "src" / "notes")
            stamp = VENV / ".notes-reader-stamp"
            old = stamp.read_text().split() if stamp.exists() else []
            if len(old) != 2 or old[0] != deps:
                shutil.rmtree(VENV, ignore_errors=True)
                self._run(sys.executable, "-m", "venv", str(VENV))
                self._run(python, "-m", "pip", "install", "-q", "-c", "constraints.txt",
                          f".[{EXTRAS}]")  # fmt: skip
            elif old[1] != package:
                self._run(python, "-m", "pip", "install", "-q", "--no-deps",
                          "--force-reinstall", ".")  # fmt: skip
            check = subprocess.run(
                [python, "-m", "pip", "list", "--format=freeze"],
                capture_output=True, text=True, env=reader_env(), check=True,
            )  # fmt: skip
            cuda = [line for line in check.stdout.splitlines() if line.startswith("nvidia")]
            if cuda:
                raise RuntimeError(f"pip pulled a CUDA build of torch: {cuda}")
            stamp.write_text(f"{deps} {package}")
        except BaseException as error:  # noqa: BLE001  (re-raised in the test that waits)
            self._error = error

    @property
    def python(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return str(VENV / "bin" / "python")


_reader: Reader | None = None


def reader() -> Reader:
    """The one reader install of this test session (started on first use)."""
    global _reader  # noqa: PLW0603
    if _reader is None:
        _reader = Reader()
    return _reader


@pytest.fixture(scope="session")
def readers_install() -> Reader:
    """Ask for it before `site` in a test's arguments: the install then overlaps the build."""
    return reader()


def pages_with_code() -> list[str]:
    docs = ROOT / "docs"
    return sorted(
        md.relative_to(docs).as_posix()
        for md in docs.rglob("*.md")
        if re.search(r"""exec=["']?(1|true)""", md.read_text(encoding="utf-8"))
    )


def shown_outputs(page_html: str) -> list[str]:
    """What the page shows as block output, in order: text results and plots."""
    found = [
        (m.start(), html.unescape(re.sub(r"<[^>]+>", "", m[1])).strip())
        for m in _TEXT_RESULT.finditer(page_html)
    ]
    found += [(m.start(), m[0]) for m in _PLOT.finditer(page_html)]
    return [text for _, text in sorted(found) if text]


def run_as_reader(python: str, script: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `script` with the reader's interpreter, from a folder outside the clone."""
    return subprocess.run(
        [python, str(script)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=reader_env(),
        timeout=600,
        check=False,
    )


def missing_output(stdout: str, expected: list[str]) -> str | None:
    """The first expected output that `stdout` does not print in order, or None."""
    position = 0
    for text in expected:
        found = stdout.find(text, position)
        if found < 0:
            return text
        position = found + len(text)
    return None


@pytest.mark.parametrize("src", pages_with_code())
def test_page_script_runs_on_a_readers_install_and_prints_the_page_output(
    readers_install: Reader, site: Path, src: str, tmp_path: Path
) -> None:
    python = readers_install.python
    page = site / url_path(src) / "index.html"
    page_html = page.read_text(encoding="utf-8")
    link = _DOWNLOAD.search(page_html)
    assert link, f"{src} has code but no download link"
    script = (page.parent / link[1]).resolve()
    assert script.is_file(), f"{src} links {link[1]}, which was not built"
    header = script.read_text(encoding="utf-8").split('"""')[1]
    assert "computed with torch" in header, f"{script.name} does not say its torch version"

    result = run_as_reader(python, script, tmp_path)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stderr[-3000:]}"
    missing = missing_output(result.stdout, shown_outputs(page_html))
    assert missing is None, f"{script.name} does not print, in order:\n{missing[:500]}"
