"""Code taken from a page runs: each block's copy, each excerpt's standalone form.

- The copy button of every executed block copies a program (``data-notes-copy``, made by
  ``hooks/copy_context.py``); run on a reader's install from a folder outside the clone, it
  prints what the page shows under that block, and nothing else.
- Every excerpt's standalone form (``hooks/excerpts.py``, listed in ``standalone.json``) runs
  its docstring examples with `notes` not importable, and imports only torch, math, numpy and
  typing modules of the standard library.
- The slicing and the excerpt checks themselves, on small made-up pages and modules.
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, url_path
from test_page_code import (
    Reader,
    missing_output,
    reader,
    reader_env,
    run_as_reader,
    shown_outputs,
)

sys.path.insert(0, str(ROOT / "hooks"))
import copy_context
import excerpts
from markdown_source import fenced_blocks

_BLOCK = re.compile(r'<div class="language-python highlight" data-notes-block="(\d+)" '
                    r'data-notes-copy="([^"]*)">')  # fmt: skip
_EXEC = re.compile(r"""\bexec=["']?(?:1|true)\b""")
ALLOWED = {"torch", "math", "numpy", "__future__", "typing", "collections", "dataclasses"}
ALLOWED |= {"operator", "itertools", "functools", "contextlib"}  # standard library


@pytest.fixture(scope="session")
def readers_install() -> Reader:
    """The reader's install of test_page_code (one per session); ask for it before `site`."""
    return reader()


def executed_blocks() -> list[tuple[str, int]]:
    """(page, block number) of every executed Python block, from the Markdown sources."""
    found = []
    for md in sorted((ROOT / "docs").rglob("*.md")):
        blocks = [
            b
            for b in fenced_blocks(md.read_text(encoding="utf-8"))
            if b.info.split(" ")[0] in {"python", "py"} and _EXEC.search(b.info)
        ]
        page = md.relative_to(ROOT / "docs").as_posix()
        found += [(page, n) for n in range(1, len(blocks) + 1)]
    return found


def snippet_excerpts() -> list[tuple[str, str]]:
    """(page, ``notes/<path>.py:<name>``) of every excerpt, from the Markdown sources."""
    found = []
    for md in sorted((ROOT / "docs").rglob("*.md")):
        for line in md.read_text(encoding="utf-8").splitlines():
            match = excerpts._SNIPPET.match(line)
            if match:
                page = md.relative_to(ROOT / "docs").as_posix()
                found.append((page, f"{match['path']}:{match['name']}"))
    return found


@dataclass(frozen=True)
class Copy:
    program: str  # what the copy button copies
    expected: list[str]  # the text results and plots shown under the block
    region: str  # the page's HTML from the block to the next one


_FOLDED = re.compile(
    r'<div class="notes-figure">(.*?)<details class="notes-figure-code"><summary>[^<]*</summary>'
    r"(.*?)</details>",
    re.DOTALL,
)


def unfold(page_html: str) -> str:
    """Put each figure's folded code back above the figure (hooks/figures.py shows it below)."""
    return _FOLDED.sub(lambda m: f'<div class="notes-figure">{m[2]}{m[1]}', page_html)


def copies(page_html: str) -> dict[int, Copy]:
    """Block number -> its copy, and what the page shows under it (a figure: above its code)."""
    page_html = unfold(page_html)
    marks = list(_BLOCK.finditer(page_html))
    found = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(page_html)
        region = page_html[mark.end() : end]
        found[int(mark[1])] = Copy(html.unescape(mark[2]), shown_outputs(region), region)
    return found


def leftover(stdout: str, expected: list[str]) -> list[str]:
    """What `stdout` prints besides the expected outputs (found in order), piece by piece."""
    rest, position = [], 0
    for text in expected:
        found = stdout.find(text, position)
        rest.append(stdout[position:found])
        position = found + len(text)
    rest.append(stdout[position:])
    return [piece.strip() for piece in rest if piece.strip()]


@pytest.fixture(scope="session")
def copy_runs(
    readers_install: Reader, site: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, int], tuple[Copy, subprocess.CompletedProcess[str]]]:
    """Every block's copy, run on the reader's install, a few at a time (one per core)."""
    python = readers_install.python
    jobs = []
    for src in sorted({page for page, _ in executed_blocks()}):
        page_html = (site / url_path(src) / "index.html").read_text(encoding="utf-8")
        jobs += [((src, n), copy) for n, copy in copies(page_html).items()]

    scripts = []
    for _, copy in jobs:
        folder = tmp_path_factory.mktemp("copy")  # outside the clone
        (folder / "copied.py").write_text(copy.program, encoding="utf-8")
        scripts.append(folder / "copied.py")

    def run(script: Path) -> subprocess.CompletedProcess[str]:
        return run_as_reader(python, script, script.parent)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(run, scripts))
    return {key: (copy, result) for (key, copy), result in zip(jobs, results, strict=True)}


@pytest.mark.build
@pytest.mark.reader
@pytest.mark.parametrize(("src", "block"), executed_blocks(), ids=str)
def test_block_copy_runs_alone_and_prints_what_the_page_shows_under_it(
    copy_runs: dict[tuple[str, int], tuple[Copy, subprocess.CompletedProcess[str]]],
    src: str,
    block: int,
) -> None:
    assert (src, block) in copy_runs, f"{src}: block {block} has no copy (data-notes-copy)"
    copy, result = copy_runs[src, block]
    assert result.returncode == 0, (
        f"{src} block {block}: the copy fails on its own:\n{result.stderr[-2500:]}"
    )
    missing = missing_output(result.stdout, copy.expected)
    assert missing is None, f"{src} block {block}: the copy does not print\n{missing[:400]}"
    # Anything else it prints must be on the page under the block too (HTML a block prints
    # beside its plot); a print kept from an earlier block would not be.
    extra = [piece for piece in leftover(result.stdout, copy.expected) if piece not in copy.region]
    assert not extra, f"{src} block {block}: the copy also prints\n{extra[0][:400]}"


_RUN_DOCTESTS = """
import doctest, importlib.util, sys
sys.modules["notes"] = None  # `import notes` raises ImportError
spec = importlib.util.spec_from_file_location("standalone", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["standalone"] = module
spec.loader.exec_module(module)
flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
result = doctest.testmod(module, optionflags=flags)
print(result)
sys.exit(1 if result.failed or not result.attempted else 0)
"""


@pytest.mark.build
@pytest.mark.parametrize(("src", "excerpt"), snippet_excerpts(), ids=str)
def test_excerpt_standalone_form_runs_its_examples_without_notes(
    site: Path, src: str, excerpt: str, tmp_path: Path
) -> None:
    forms = json.loads((site / "standalone.json").read_text(encoding="utf-8"))
    codes = [f["code"] for f in forms if f["page"] == src and f["excerpt"] == excerpt]
    assert codes, f"{src}: {excerpt} has no standalone form"
    code = codes[0]
    page_html = (site / url_path(src) / "index.html").read_text(encoding="utf-8")
    assert html.escape(code) in page_html, f"{src} does not show the standalone {excerpt}"
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                node.module or ""
            ]  # fmt: skip
            assert all(m.split(".")[0] in ALLOWED for m in modules), ast.unparse(node)
    path = tmp_path / "standalone_form.py"
    path.write_text(code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", _RUN_DOCTESTS, str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=reader_env(),
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{excerpt}:\n{result.stdout[-3000:]}{result.stderr[-2000:]}"


# The machinery on small made-up pages: what a copy holds.


def _program(*blocks: str, number: int | None = None) -> str:
    page = "".join(f'```python exec="1" source="above" session="s"\n{b}\n```\n\n' for b in blocks)
    found = copy_context.page_copies(page, "Made up", "made-up/")
    return found[(number or len(blocks)) - 1].program


def test_copy_holds_the_imports_and_definitions_a_block_reads_and_drops_prints() -> None:
    program = _program(
        "import math\nimport torch\nx = torch.ones(3)\nprint(x)\nassert x.sum() == 3\ny = 2",
        "print(math.sqrt(x.sum()))",
    )
    assert "import math" in program
    assert "x = torch.ones(3)" in program
    assert "print(x)" not in program
    assert "assert x.sum()" not in program
    assert "y = 2" not in program


def test_copy_holds_earlier_draws_from_a_generator_the_block_draws_from() -> None:
    program = _program(
        "import torch\ng = torch.Generator().manual_seed(0)\na = torch.randn(2, generator=g)",
        "b = torch.randn(2, generator=g)\nprint(b)",
    )
    assert "a = torch.randn(2, generator=g)" in program  # the draw moves g's state


def test_copy_holds_an_earlier_training_step_of_a_model_it_uses() -> None:
    program = _program(
        "import torch\nmodel = torch.nn.Linear(2, 1)\nopt = torch.optim.SGD(model.parameters())",
        "loss = model(torch.ones(2)).sum()\nloss.backward()\nopt.step()\nunrelated = 3",
        "print(model.weight)",
    )
    for line in ("opt = torch.optim.SGD", "loss.backward()", "opt.step()"):
        assert line in program
    assert "unrelated = 3" not in program


def test_copy_holds_a_call_that_trains_models_handed_over_in_a_comprehension() -> None:
    # the call receives the very objects `models` holds, through a list built on the spot
    program = _program(
        "import torch\nmodels = {k: torch.nn.Linear(2, 1) for k in 'ab'}",
        "train([models[k] for k in 'ab'])\nsquares = [models[k].weight ** 2 for k in 'ab']",
        "print(models['a'].weight)",
    )
    assert "train([models[k] for k in 'ab'])" in program
    assert "squares" not in program  # values computed from the objects are not the objects


def test_copy_holds_only_the_last_binding_of_a_rebound_name() -> None:
    program = _program("k = 1\nprint(k)", "k = 2", "print(k)")
    assert "k = 2" in program
    assert "k = 1" not in program


def test_copy_ignores_a_name_the_block_binds_before_it_reads_it() -> None:
    program = _program(
        "import torch\ng = torch.Generator().manual_seed(0)\nx = torch.randn(9, generator=g)",
        "g = torch.Generator().manual_seed(1)\nprint(torch.randn(2, generator=g))",
    )
    assert "manual_seed(0)" not in program
    assert "x = torch.randn(9" not in program


def test_copy_keeps_a_loop_it_needs_without_its_prints() -> None:
    program = _program(
        "total = []\nfor k in range(3):\n    total.append(k)\n    print(k)", "print(total)"
    )
    assert "total.append(k)" in program
    assert "print(k)" not in program
    namespace: dict[str, object] = {}
    exec(compile(program.replace("print(total)", "result = total"), "copy", "exec"), namespace)  # noqa: S102
    assert namespace["result"] == [0, 1, 2]


def test_copy_holds_a_loop_that_fills_a_name_through_a_function_it_calls() -> None:
    program = _program(
        "samples = {'a': []}\ndef record(x):\n    samples['a'].append(x)\n"
        "for k in range(3):\n    record(k)\nunrelated = 3",
        "print(samples['a'])",
    )
    assert "    record(k)" in program
    assert "unrelated = 3" not in program
    namespace: dict[str, object] = {}
    exec(compile(program.replace("print(", "result = ("), "copy", "exec"), namespace)  # noqa: S102
    assert namespace["result"] == [0, 1, 2]


def test_copy_of_a_block_without_session_is_the_block_alone() -> None:
    fence = '```python exec="1" source="above"\n{}\n```\n\n'
    page = fence.format("x = 1") + fence.format("print(x)")
    program = copy_context.page_copies(page, "Made up", "made-up/")[1].program
    assert "x = 1" not in program


# The excerpt checks, on a made-up package.

_MODULE = '''\
"""A made-up module."""

from __future__ import annotations

import math

import torch

from notes import _check as check
from notes._helpers import _half
from notes._helpers import third as _third

# --8<-- [start:renamed]
def scaled(x: torch.Tensor, third: float = 3.0) -> torch.Tensor:
    """x over a third of `third`: a helper imported under another name than a parameter's."""
    return x / _third(third)
# --8<-- [end:renamed]

# --8<-- [start:whole]
def double(x: torch.Tensor) -> torch.Tensor:
    """Twice x.

    Examples:
        >>> from notes.made import double
        >>> double(torch.ones(1)).tolist()
        [2.0]
    """
    check.tensor(x)
    return 4 * _half(x) * math.cos(0.0)
# --8<-- [end:whole]


class Box:
    # --8<-- [start:method]
    def size(self) -> int:
        return 1
    # --8<-- [end:method]


# --8<-- [start:loose]
def one() -> int:
    return 1
LOOSE = 2
# --8<-- [end:loose]
'''


@pytest.fixture
def made_up_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "__init__.py").write_text("")
    (notes / "made.py").write_text(_MODULE)
    (notes / "_check.py").write_text(
        "import torch\n\n\ndef tensor(x):\n    if not isinstance(x, torch.Tensor):\n"
        "        raise TypeError('x must be a tensor')\n"
    )
    (notes / "_helpers.py").write_text(
        "import scipy\n\n\ndef _half(x):\n    return x / 2\n\n\ndef third(x):\n    return x / 3\n"
    )
    monkeypatch.setattr(excerpts, "SRC", tmp_path)
    excerpts._modules.clear()
    yield tmp_path
    excerpts._modules.clear()


@pytest.mark.usefixtures("made_up_package")
def test_standalone_form_copies_the_helpers_and_resolves_module_aliases() -> None:
    names, code = excerpts.standalone("notes/made.py", "whole")
    assert names == ["double"]
    assert "def _half(x):" in code
    assert "def tensor(x):" in code
    assert "    tensor(x)" in code  # check.tensor(x), the alias resolved
    assert ">>> from notes" not in code
    assert "import scipy" not in code  # _helpers imports it, but _half does not use it
    namespace: dict[str, object] = {}
    exec(compile(code, "standalone", "exec"), namespace)  # noqa: S102
    import torch  # noqa: PLC0415

    assert namespace["double"](torch.ones(1)).tolist() == [2.0]  # type: ignore[operator]


@pytest.mark.usefixtures("made_up_package")
def test_standalone_form_binds_a_helper_under_the_name_it_is_imported_as() -> None:
    _, code = excerpts.standalone("notes/made.py", "renamed")
    assert "def third(x):" in code
    assert "_third = third" in code
    namespace: dict[str, object] = {}
    exec(compile(code, "standalone", "exec"), namespace)  # noqa: S102
    import torch  # noqa: PLC0415

    assert namespace["scaled"](torch.ones(1), 6.0).tolist() == [0.5]  # type: ignore[operator]


@pytest.mark.usefixtures("made_up_package")
def test_excerpt_of_a_method_cut_out_of_its_class_is_refused() -> None:
    with pytest.raises(excerpts.ExcerptError, match="indented"):
        excerpts.standalone("notes/made.py", "method")


@pytest.mark.usefixtures("made_up_package")
def test_excerpt_holding_code_outside_a_definition_is_refused() -> None:
    with pytest.raises(excerpts.ExcerptError, match="whole top-level defs or classes only"):
        excerpts.standalone("notes/made.py", "loose")


def test_standalone_form_refuses_a_helper_that_imports_another_library(
    made_up_package: Path,
) -> None:
    (made_up_package / "notes" / "_helpers.py").write_text(
        "import scipy\n\n\ndef _half(x):\n    return scipy.special.expit(x) * 0 + x / 2\n"
    )
    excerpts._modules.clear()
    with pytest.raises(excerpts.ExcerptError, match="scipy"):
        excerpts.standalone("notes/made.py", "whole")


# The copy button itself, in Chromium: it copies the program, not the block as shown.


@pytest.mark.build
@pytest.mark.browser
def test_copy_button_copies_the_program_with_its_context(browser: Any, server: str) -> None:
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    page.goto(server, wait_until="networkidle")  # the home page: one session
    blocks = page.locator("[data-notes-copy]")
    # the first block whose copy carries statements from an earlier block
    with_context = [
        blocks.nth(i)
        for i in range(blocks.count())
        if "\n# from block " in (blocks.nth(i).get_attribute("data-notes-copy") or "")
    ]
    assert with_context, "no block of the home page copies statements of an earlier block"
    block = with_context[0]
    expected = block.get_attribute("data-notes-copy")
    assert expected is not None
    if not block.is_visible():  # a figure's code, folded under it: open it as a reader would
        block.locator("xpath=ancestor::details[1]/summary").click()
    block.hover()
    block.locator("[data-clipboard-target]").click()  # Material's copy button
    copied = page.evaluate("navigator.clipboard.readText()")
    context.close()
    assert copied == expected
