"""The folders a site is built from: which ones (``discover``), what each holds (run records,
a tuning search, or nothing), and their content, read and analysed once (``read``)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from suite import results as results_io
from suite import safe_io
from suite.analysis.folder import FolderAnalysis, analyse
from suite.errors import InputError

#: Files that make a folder a run folder, or a tuning folder.
RUN_FILES = (results_io.RESULTS_FILE, "results.csv")
TUNING_FILES = ("trials.csv",)
#: The data files a page offers for download, when the folder has them.
DATA_FILES = (
    "results.csv",
    "results.jsonl",
    "curves.csv",
    "env.json",
    "trials.csv",
    "settings.toml",
)
#: Folders under the results root that are never published (work in progress).
SKIPPED = ("runs",)


@dataclass
class PublishedFolder:
    """One folder to publish, read.

    ``kind`` is "runs" (results.jsonl or results.csv), "tuning" (trials.csv) or "empty";
    ``name`` is the page's file name without ``.html``, unique in the site. A run folder
    carries its analysis (``suite.analysis.folder.analyse``), a tuning folder its trials and
    its search's protocol (the ``# name: value`` lines that head its ``settings.toml``).
    """

    path: Path
    kind: str
    name: str = ""
    analysis: FolderAnalysis | None = None
    env: dict[str, Any] = field(default_factory=dict)
    trials: pd.DataFrame = field(default_factory=pd.DataFrame)
    facts: dict[str, str] = field(default_factory=dict)  # a tuning search's protocol
    files: list[Path] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The folder as the site names it (its path as given)."""
        return self.path.as_posix()

    @property
    def results(self) -> pd.DataFrame:
        """A run folder's records (empty for the others)."""
        return self.analysis.results if self.analysis is not None else pd.DataFrame()


def discover(root: Path) -> list[Path]:
    """The folders to publish by default: ``root`` and each folder directly under it (but
    ``runs``) that holds run records or tuning trials — or, for a folder that holds neither
    (``tuning/`` with one search per fold), each of its own folders that does — in name
    order, ``root`` first."""
    if not root.is_dir():
        raise InputError(f"{root}: no such folder (give the FOLDERs to publish)")
    found = [root] if kind(root) != "empty" else []
    for child in sorted(root.iterdir()):
        if not child.is_dir() or child.name in SKIPPED:
            continue
        if kind(child) != "empty":
            found.append(child)
        else:
            found += [g for g in sorted(child.iterdir()) if g.is_dir() and kind(g) != "empty"]
    if not found:
        raise InputError(f"{root}: holds no results folder (results.csv, results.jsonl)")
    return found


def kind(folder: Path) -> str:
    """ "runs", "tuning" or "empty": what ``folder`` holds."""
    if any((folder / name).is_file() for name in RUN_FILES):
        return "runs"
    if any((folder / name).is_file() for name in TUNING_FILES):
        return "tuning"
    return "empty"


def read(folder: Path) -> PublishedFolder:
    """Read a folder: a run folder's records, curves and env.json, analysed; a tuning
    folder's trials and protocol. ``InputError`` (one line) for a folder that does not exist
    or whose files are malformed."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    source = PublishedFolder(folder, kind(folder))
    source.files = [folder / name for name in DATA_FILES if (folder / name).is_file()]
    if (folder / "env.json").is_file():
        env = safe_io.read_json(folder / "env.json", "env.json")
        source.env = env if isinstance(env, dict) else {}
    if source.kind == "runs":
        source.analysis = analyse(folder, name=folder.as_posix())
    elif source.kind == "tuning":
        source.trials = trials(folder / "trials.csv")
        source.facts = protocol(folder / "settings.toml")
    return source


def protocol(settings: Path) -> dict[str, str]:
    """A tuning search's protocol: the ``# name: value`` comment lines that head the
    ``settings.toml`` that ``mfbench tune`` wrote (data set, split, protocol, budget, early
    stopping, commit); empty where there is no such file."""
    if not settings.is_file():
        return {}
    try:
        lines = settings.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{settings}: cannot read it as text ({exc})") from exc
    found = {}
    for line in lines[1:]:  # the first line says what wrote the file
        if not line.startswith("# "):
            break
        name, _, value = line[2:].partition(": ")
        if value:
            found[name.strip()] = value.strip()
    return found


def trials(path: Path) -> pd.DataFrame:
    """A tuning folder's ``trials.csv``: one row per trial (``suite.tuning.trials_frame``),
    its ``params`` parsed into dicts."""
    frame = results_io.read_csv(path)
    missing = {"model", "contest", "metric", "state", "score", "fit_s"} - set(frame.columns)
    if missing:
        raise InputError(f"{path}: not a trials file (no {', '.join(sorted(missing))} column)")
    for column, default in (("winner", False), ("on_edge", ""), ("higher_is_better", False)):
        if column not in frame:
            frame[column] = default
    frame["winner"] = frame["winner"].map(_true)
    frame["higher_is_better"] = frame["higher_is_better"].map(_true)
    frame["on_edge"] = [value if isinstance(value, str) else "" for value in frame["on_edge"]]
    frame["params"] = frame.get("params", pd.Series("", index=frame.index)).map(_params)
    return frame


def _true(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "1.0")


def _params(value: Any) -> dict[str, Any]:
    """A trial's settings: a Python dict's repr (as trials.csv holds them), else nothing."""
    if not isinstance(value, str) or not value.strip():
        return {}
    try:
        found = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return {}
    return found if isinstance(found, dict) else {}


def name_pages(sources: list[PublishedFolder]) -> None:
    """Give each source a page name, unique in the site, from its path: ``results``,
    ``results-speed``; a clash gets a number."""
    taken = {"index"}
    for source in sources:
        parts = [p for p in _shown(source.path).parts if p not in ("/", ".", "..")]
        base = re.sub(r"[^A-Za-z0-9_-]+", "_", "-".join(parts) or "folder").strip("_") or "folder"
        name, number = base, 2
        while name.lower() in taken:
            name, number = f"{base}-{number}", number + 1
        taken.add(name.lower())
        source.name = name


def _shown(path: Path) -> Path:
    """``path`` relative to the working folder where it lies under it, else its name
    (``/tmp/x/speed`` -> ``speed``)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return Path(path.resolve().name)
