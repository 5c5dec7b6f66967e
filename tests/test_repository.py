"""The project's promises about itself: two README commands, CI runs one, everything pinned."""

from __future__ import annotations

import os
import re
from importlib import metadata

import pytest
from conftest import IN_CI, ROOT


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.DOTALL)]


def test_readme_gives_two_commands_and_ci_runs_the_test_one() -> None:
    commands = _readme_commands()
    assert len(commands) == 2, commands
    build, test = commands
    assert build.endswith("nox -s docs")
    assert test.endswith("nox -s tests")
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci_lines, ".ci/run must run README's test command exactly"


def _name(requirement: str) -> str:
    return re.split(r"[=<>!\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_constraints_pin_torch_and_every_installed_package() -> None:
    # Only a nox environment is made from constraints.txt alone; a hand-made one may hold more.
    if not os.environ.get("NOX_CURRENT_SESSION"):
        if IN_CI:
            pytest.fail("CI must run the tests through nox")
        pytest.skip("not in a nox session")
    lines = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pins = {_name(line): line for line in lines if line and not line.startswith("#")}
    assert pins["torch"] == "torch==2.13.0"
    assert all("==" in line for line in pins.values())
    installed = {_name(dist.metadata["Name"]) for dist in metadata.distributions()}
    # Packaging tools come with the environment; notes is the project itself.
    unpinned = installed - set(pins) - {"notes", "pip", "setuptools", "wheel"}
    assert unpinned == set(), f"installed but not pinned in constraints.txt: {sorted(unpinned)}"


def test_every_module_has_one_api_page_without_executed_code() -> None:
    package = ROOT / "src" / "notes"
    modules = {
        path.stem if path.is_file() else path.name
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    modules = {name for name in modules if not name.startswith("_")}
    reference = ROOT / "docs" / "reference"
    pages = {path.stem: path.read_text(encoding="utf-8") for path in reference.glob("*.md")}
    for module in sorted(modules):
        assert module in pages, f"notes.{module} has no page docs/reference/{module}.md"
        assert f"::: notes.{module}" in pages[module]
    for name, text in pages.items():
        assert not re.search(r"exec=", text), f"reference/{name}.md must not execute code"
