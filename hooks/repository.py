"""MkDocs hook: link the repository without asking GitHub for anything when a page is viewed.

With ``repo_url`` set, Material shows a link to the repository in the header and each page's
"view source" and "edit" buttons (``content.action.view``/``content.action.edit``). Its script
would also fetch the repository's stars and forks from api.github.com, a request to another
host; dropping the ``data-md-component="source"`` mark keeps the plain link and stops the fetch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.pages import Page

_MARK = ' data-md-component="source"'


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    return output.replace(_MARK, "")
