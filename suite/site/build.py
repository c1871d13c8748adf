"""``mfbench publish``: a static, offline site from result folders.

``publish`` reads and analyses every folder first (bad input stops before anything is
written), judges the post's claims across the run folders (``suite.analysis.folder``), builds
the pages (``suite.site.pages``), and writes the site to a fresh folder beside ``out`` that
then replaces it, so a failed build leaves the old site as it was. The site is one page per
folder plus ``index.html``, ``assets/`` (BokehJS from the ``bokeh`` package, the site's
script and style) and ``data/`` (each folder's data files, for download).
"""

from __future__ import annotations

import importlib.resources
import multiprocessing
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from suite import safe_io
from suite.analysis.folder import analyse_folders
from suite.errors import InputError
from suite.site import index, pages, sources
from suite.site.layout import BOKEH, SCRIPT, STYLE

#: Where ``publish`` looks by default: the committed folders.
DEFAULT_ROOT = Path("results")
#: The file that marks a folder as a site ``publish`` wrote (and may replace).
MARKER = ".mfbench-site"


def publish(folders: Sequence[Path] | None, out: Path) -> list[str]:
    """Build the site of ``folders`` (default: ``discover(DEFAULT_ROOT)``) into ``out``.

    Returns one line per folder saying what its page holds, then one for the site.
    ``InputError`` for a folder that does not exist, malformed data, or an ``out`` that
    cannot be a site folder.
    """
    out = Path(out)
    _check_out(out)
    bokeh = _bokeh()
    paths = list(folders) if folders else sources.discover(DEFAULT_ROOT)
    read = [sources.read(Path(folder)) for folder in paths]
    sources.name_pages(read)
    runs = [source.analysis.measured for source in read if source.analysis is not None]
    judged = analyse_folders(DEFAULT_ROOT, runs) if runs else None
    page_of = _pages_by_folder(read)
    links = [("index.html", "index")] + [(f"{s.name}.html", s.title) for s in read]
    built = _build_pages(read, links, page_of)
    front = index.index_page(read, judged, page_of, links)
    files: dict[str, Any] = {page.file: page.html for page in [front, *built]}
    files[STYLE] = _asset("site.css")
    files[SCRIPT] = _asset("site.js")
    if any(page.figure_count for page in built):
        files[BOKEH] = bokeh
    for source in read:
        for path in source.files:
            files[f"data/{source.name}/{path.name}"] = path
    _write(out, files)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    figures = sum(page.figure_count for page in built)
    return [page.note for page in built] + [
        f"site: {out / 'index.html'} ({len(built)} folder page(s), {figures} figure(s), "
        f"{size / 1e6:.1f} MB)"
    ]


def _build_pages(
    read: list[sources.PublishedFolder], links: pages.Links, page_of: Any
) -> list[pages.Page]:
    """Every folder's page, built in parallel on Linux (one process per core: building the
    Bokeh figures is most of ``publish``'s time); each comes back without its figure
    objects, as ``figures`` counts only (``Page.figure_count``)."""
    workers = min(len(read), os.cpu_count() or 1)
    if workers < 2 or sys.platform != "linux":
        return [pages.source_page(source, links, page_of) for source in read]
    context = multiprocessing.get_context("fork")
    titles = {source.title: page_of(source.title) for source in read}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(
            pool.map(_page_without_figures, read, [links] * len(read), [titles] * len(read))
        )


def _page_without_figures(
    source: sources.PublishedFolder, links: pages.Links, titles: dict[str, str | None]
) -> pages.Page:
    page = pages.source_page(source, links, titles.get)
    return pages.Page(page.file, page.html, [], page.note, len(page.figures))


def _check_out(out: Path) -> None:
    """``InputError`` where ``out`` cannot become the site: a file, a path through a file,
    or a folder with other content than a site ``publish`` wrote."""
    for parent in [out, *out.parents]:
        if parent.exists() and not parent.is_dir():
            raise InputError(f"--out {out}: {parent} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise InputError(
            f"--out {out}: the folder holds files that are not a site mfbench wrote; "
            "give an empty or new folder"
        )


def _pages_by_folder(read: list[sources.PublishedFolder]) -> Any:
    """A function from a folder's name (as the analysis names it: its path as given) to its
    page on the site, or None."""
    by_name = {source.title: f"{source.name}.html" for source in read}
    return by_name.get


def _asset(name: str) -> bytes:
    return (importlib.resources.files("suite.site") / "assets" / name).read_bytes()


def _bokeh() -> Path:
    """BokehJS as the ``bokeh`` package ships it (``mfbench[site]``): the same version as
    the Python side that serialised the figures."""
    try:
        from bokeh.util.paths import bokehjs_path
    except ImportError:
        raise InputError(
            "mfbench publish draws its figures with Bokeh: pip install 'mfbench[site]'"
        ) from None
    found = Path(bokehjs_path()) / "js" / "bokeh.min.js"
    if not found.is_file():
        raise InputError(f"the bokeh package has no {found}: reinstall it")
    return found


def _write(out: Path, files: dict[str, Any]) -> None:
    """Write ``files`` (relative path: text, bytes or a file to copy) as the folder ``out``,
    replacing what a previous publish left there only once all is written."""
    parent = safe_io.make_folder(out.parent if str(out.parent) else Path("."), "--out")
    fresh = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    try:
        for relative, content in files.items():
            target = fresh / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, target)
            elif isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        (fresh / MARKER).write_text("written by mfbench publish; replaced by the next\n")
        os.chmod(fresh, 0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", suffix=".tmp", dir=parent))
            os.replace(out, old / out.name)
            os.replace(fresh, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(fresh, out)
    except OSError as exc:
        raise safe_io.unwritable(out, exc) from exc
    finally:
        if fresh.exists():
            shutil.rmtree(fresh, ignore_errors=True)
