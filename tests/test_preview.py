"""The live preview's cache: an edit to prose runs no code; an edit to a block re-runs its session."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import throwaway_site

pytestmark = pytest.mark.build

PAGE = """# Cached

Some prose.

```python exec="1" result="text" session="c"
from notes.checks import claim, close

x = 2.0
print(claim("x is two", lambda v: close(v, 2.0, atol=0, basis="exact"), x))
```

```python exec="1" result="text" session="c"
print(x + 1)
```
"""

API = """# API

See [close][notes.checks.close] (a page under reference/, as the real API pages are).

::: notes.checks
"""

# Three builds in one process, as `mkdocs serve` does: first, after a prose edit, after a
# code edit to the second block. Each prints the preview's count of blocks run and reused.
DRIVER = textwrap.dedent(
    """
    import logging, os, sys
    from pathlib import Path
    logging.basicConfig(level=logging.WARNING)  # a strict build's warnings, to the output
    os.environ["NOTES_PREVIEW"] = "1"
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    config_file, page = sys.argv[1], Path(sys.argv[2])
    def once():
        config = load_config(config_file, strict=True)
        config.plugins.on_startup(command="serve", dirty=False)
        build(config, serve_url="http://127.0.0.1:8000/")
        config.plugins.on_shutdown()
        site = Path(config.site_dir)
        api = (site / "reference" / "api" / "index.html").read_text()
        return (site / "cached" / "index.html").read_text(), api
    first, api_first = once()
    page.write_text(page.read_text().replace("Some prose.", "Some edited prose."))
    second, api_second = once()
    page.write_text(page.read_text().replace("print(x + 1)", "print(x + 2)"))
    third, _ = once()
    print("RESULT", "<code>3.0" in first, "<code>3.0" in second, "<code>4.0" in third)
    print("API", api_first == api_second, 'id="notes.checks.close"' in api_second)
    """
)


def test_the_preview_reruns_only_what_changed(tmp_path: Path) -> None:
    config = throwaway_site(tmp_path, {"cached.md": PAGE, "reference/api.md": API})
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, str(config), str(tmp_path / "docs" / "cached.md")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"NO_MKDOCS_2_WARNING": "1", "PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    lines = output.splitlines()
    runs = [line for line in lines if line.startswith("preview:") and "blocks run" in line]
    assert runs == [
        "preview: 2 blocks run, 0 reused from the cache",
        "preview: 0 blocks run, 2 reused from the cache",
        # the first block's output is reused; the session is replayed for the edited block
        "preview: 1 blocks run, 1 reused from the cache",
    ], output
    assert "RESULT True True True" in output, output
    # the API page is rendered once, then reused, byte for byte, its anchor still registered
    api = [line for line in lines if line.startswith("preview:") and "API" in line]
    assert api == [f"preview: {n} API blocks reused from the cache" for n in (0, 1, 1)], output
    assert "API True True" in output, output
