"""Write the executed Python blocks of a page, in order, as one script (to time or debug it).

    python benchmarks/extract_page.py docs/flows/training.md > /tmp/training.py
    PYTHONPATH=src /usr/bin/time -v python /tmp/training.py > /dev/null

Plot blocks (``html="1"``) are included, so the script does the page's whole work.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

BLOCK = re.compile(r"^```python exec=\"1\"[^\n]*\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def main() -> None:
    text = Path(sys.argv[1]).read_text(encoding="utf-8")
    blocks = BLOCK.findall(text)
    sys.stdout.write("\n\n".join(f"# --- block {i + 1}\n{code}" for i, code in enumerate(blocks)))


if __name__ == "__main__":
    main()
