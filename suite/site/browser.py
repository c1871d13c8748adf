"""Headless Chromium for the site: the tests' browser and the screenshots in ``docs/``.

Driven with Playwright's Python package on the system's Chromium (Debian's ``chromium``;
Playwright's own browser download is never used). As root, Chromium needs ``--no-sandbox``;
the other flags keep it off the network and quiet, and each launch gets a fresh profile.

Screenshots: ``python -m suite.site.browser SITE_DIR docs/`` writes ``site-index.png`` and
``site-results.png`` (the page of ``results/``).
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Where Debian installs Chromium.
CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def missing() -> str | None:
    """Why no browser can be started here (None when one can)."""
    if not Path(CHROMIUM).is_file() and not shutil.which("chromium"):
        return "no Chromium (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no playwright package (pip install playwright; its browsers are not needed)"
    return None


def executable() -> str:
    """The Chromium to drive."""
    return CHROMIUM if Path(CHROMIUM).is_file() else str(shutil.which("chromium"))


@contextlib.contextmanager
def browser(width: int = 1366, height: int = 900) -> Iterator[Any]:
    """A headless Chromium context with a fresh profile, closed on exit."""
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="mfbench-chromium-") as profile,
        sync_playwright() as driver,
    ):
        context = driver.chromium.launch_persistent_context(
            profile,
            executable_path=executable(),
            args=list(FLAGS),
            headless=True,
            viewport={"width": width, "height": height},
            device_scale_factor=1,
        )
        try:
            yield context
        finally:
            context.close()


def open_page(context: Any, path: Path, timeout_ms: int = 20_000) -> Any:
    """Open a page of the site and wait until its figures are drawn (``data-plots``)."""
    page = context.new_page()
    page.goto(Path(path).resolve().as_uri(), wait_until="load")
    page.wait_for_function("document.body.dataset.plots === 'ready'", timeout=timeout_ms)
    return page


def screenshots(site: Path, out: Path) -> list[Path]:
    """``site-index.png``: the top of the index; ``site-results.png``: the page of
    ``results/`` at its first data set (summary table and Pareto figure), 1366 px wide."""
    out.mkdir(parents=True, exist_ok=True)
    shots = [
        (site / "index.html", None, 760, out / "site-index.png"),
        (site / "results.html", "table-data-1", 1240, out / "site-results.png"),
    ]
    for page_path, anchor, height, png in shots:
        with browser(1366, height) as context:
            page = open_page(context, page_path)
            if anchor:
                page.evaluate(f"document.getElementById('{anchor}').scrollIntoView()")
                page.wait_for_timeout(300)
            page.screenshot(path=str(png), full_page=False)
            page.close()
    return [png for *_, png in shots]


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m suite.site.browser SITE_DIR OUT_DIR")
    for written in screenshots(Path(sys.argv[1]), Path(sys.argv[2])):
        print(written)
