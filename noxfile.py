#!/usr/bin/env -S python3 -m nox -f
# /// script
# dependencies = ["nox>=2025.2.9"]
# ///
"""Every way to build, check and test the project; CI only calls this file."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
CONSTRAINTS = ROOT / "constraints.txt"
# One intra-op thread: the pages run thousands of tiny tensor operations, for which a second
# OpenMP thread costs more in hand-off than it saves (10x slower on a loaded 2-core machine).
BUILD_ENV = {"NO_MKDOCS_2_WARNING": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}


def _install(session: nox.Session, *groups: str) -> None:
    """Install the dependency groups (pinned) and `notes` itself, once per environment.

    The environment is reused; a stamp of the pins and the groups lets a second run skip pip.
    """
    stamp_key = hashlib.sha256(
        CONSTRAINTS.read_bytes() + (ROOT / "pyproject.toml").read_bytes() + repr(groups).encode()
    ).hexdigest()
    stamp = Path(session.virtualenv.location) / ".notes-install-stamp"
    if stamp.exists() and stamp.read_text() == stamp_key:
        session.log("environment up to date, skipping install")
        return
    requirements = nox.project.dependency_groups(PYPROJECT, *groups)
    session.install("-c", str(CONSTRAINTS), *requirements, "-e", ".")
    stamp.write_text(stamp_key)


@nox.session(python="3.11", default=True)
def tests(session: nox.Session) -> None:
    """Run the tests in tests/ and the doctests of src/notes (pytest)."""
    _install(session, "test", "docs")
    session.run("pytest", *session.posargs, env=BUILD_ENV)


@nox.session(python="3.11", default=False)
def bench(session: nox.Session) -> None:
    """Time notes against plain-PyTorch references; print the table, write build/bench.json."""
    _install(session, "docs")
    session.run("python", "benchmarks/speed.py", "--json", "build/bench.json", *session.posargs)


@nox.session(python="3.11", default=True)
def docs(session: nox.Session) -> None:
    """Build the site strictly into site/."""
    _install(session, "docs")
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "site", *session.posargs, env=BUILD_ENV
    )


@nox.session(python="3.11", default=False)
def offline(session: nox.Session) -> None:
    """Build the offline edition (opens from file://) and pack it as build/notes-offline.zip."""
    _install(session, "docs")
    target = ROOT / "build" / "offline"
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        str(target),
        env={**BUILD_ENV, "OFFLINE": "true"},
    )
    archive = shutil.make_archive(str(ROOT / "build" / "notes-offline"), "zip", target)
    session.log("offline edition: %s (%.1f MB)", archive, Path(archive).stat().st_size / 1e6)


@nox.session(python="3.11", default=False)
def serve(session: nox.Session) -> None:
    """Preview on http://127.0.0.1:8000: rebuilds on save, re-running only the code that changed.

    ``NOTES_PREVIEW=1`` turns on hooks/preview.py's cache of block outputs; src/ is watched too.
    """
    _install(session, "docs")
    session.run(
        "mkdocs",
        "serve",
        "--dev-addr",
        "127.0.0.1:8000",
        "--watch",
        "src",
        *session.posargs,
        env={**BUILD_ENV, "NOTES_PREVIEW": "1"},
    )


@nox.session(python="3.11", default=False)
def pdf(session: nox.Session) -> None:
    """Build the site and print it with Chromium into build/notes.pdf (a bookmark per page)."""
    _install(session, "docs", "pdf")
    target = ROOT / "build" / "pdf-site"
    session.run("mkdocs", "build", "--strict", "--site-dir", str(target), env=BUILD_ENV)
    session.run("python", "scripts/pdf.py", "--site", str(target), "--out", "build/notes.pdf")


@nox.session(python="3.11", default=True)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check, and mypy on the package."""
    _install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(python="3.11", default=False)
def lock(session: nox.Session) -> None:
    """Regenerate constraints.txt from a fresh environment of every group."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "dev"), "torch==2.13.0")
    frozen = session.run("pip", "freeze", "--exclude-editable", silent=True) or ""
    header = [
        "# Every package the nox sessions install, pinned. Regenerate with: nox -s lock",
        "# torch is pinned to the CPU build that pip finds on this machine's disk.",
    ]
    pins = [
        "torch==2.13.0" if line.startswith("torch==") else line
        for line in frozen.splitlines()
        if line and not line.startswith("#")
    ]
    CONSTRAINTS.write_text("\n".join(header + sorted(pins, key=str.lower)) + "\n")


@nox.session(python=False, default=False)
def clean(session: nox.Session) -> None:
    """Remove build products."""
    for path in ("site", "build", ".pytest_cache"):
        shutil.rmtree(ROOT / path, ignore_errors=True)
    session.log("cleaned (environment in %s kept)", os.fspath(ROOT / ".nox"))


if __name__ == "__main__":
    nox.main()
