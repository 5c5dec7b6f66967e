"""MkDocs hook: the offline edition (``OFFLINE=true``) works from ``file://`` with no network.

Material's offline plugin moves the search index into a script and turns directory URLs off;
it would also load its web-worker shim from a CDN. This hook swaps that address for the copy
shipped in ``docs/javascripts/vendor/`` and turns instant loading off (it needs ``fetch``,
which browsers refuse from ``file://``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mkdocs.plugins import event_priority

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

SHIM = "javascripts/vendor/iframe-worker-shim.js"


@event_priority(-100)  # after Material's offline plugin has added its shim
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Point the search shim at our copy and drop features that need a server."""
    offline = config.plugins.get("material/offline") or config.plugins.get("offline")
    if offline is None or not offline.config.enabled:
        return config
    polyfills = config.extra.get("polyfills", [])
    config.extra["polyfills"] = [SHIM if "iframe-worker" in url else url for url in polyfills]
    features = config.theme.get("features", [])
    config.theme["features"] = [f for f in features if not f.startswith("navigation.instant")]
    return config
