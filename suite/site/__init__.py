"""``mfbench publish``: the static, offline, browser-tested results site.

One page per result folder (verdict, sortable tables, interactive figures, environment and
provenance) and an index that opens with the claims table (``summary.json``). Modules, one
job each: ``sources`` (which folders, read), ``pages`` (a folder's page), ``index`` (the
index), ``tables``, ``figures``, ``growth`` and ``trials`` (what a page shows), ``claims``
(summary.json), ``provenance`` (env.json, commits, digests), ``look`` (the figures' look),
``layout``, ``html`` and ``markdown`` (HTML), ``build`` (the whole site, written in one swap)
and ``browser`` (headless Chromium, for the tests and the screenshots).
"""

from suite.site.build import publish

__all__ = ["publish"]
