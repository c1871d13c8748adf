"""The folders a site is built from: which ones (``discover``), what each holds (run records,
a tuning search, or nothing), and their content, read once (``read``)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from suite import report, safe_io
from suite import results as results_io
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
class Source:
    """One folder to publish, read.

    ``kind`` is "runs" (results.jsonl or results.csv), "tuning" (trials.csv) or "empty";
    ``name`` is the page's file name without ``.html``, unique in the site.
    """

    path: Path
    kind: str
    name: str = ""
    results: pd.DataFrame = field(default_factory=pd.DataFrame)
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    env: dict[str, Any] = field(default_factory=dict)
    report: str | None = None  # REPORT.md (runs) or TUNING.md (tuning)
    trials: pd.DataFrame = field(default_factory=pd.DataFrame)
    files: list[Path] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The folder as the site names it (its path as given)."""
        return self.path.as_posix()

    @property
    def facts(self) -> dict[str, str]:
        """A tuning folder's protocol facts, the ``- name: value`` lines of its TUNING.md
        (``data set``, ``commit``, ...); empty for other folders."""
        if self.kind != "tuning" or not self.report:
            return {}
        found = re.findall(r"^- ([^:\n]+): (.+)$", self.report, re.M)
        return {name.strip(): value.strip() for name, value in found}


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


def read(folder: Path) -> Source:
    """Read a folder: records, curves and env.json of a run folder, trials of a tuning one,
    and the report beside them. ``InputError`` (one line) for a folder that does not exist
    or whose files are malformed."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    source = Source(folder, kind(folder))
    source.files = [folder / name for name in DATA_FILES if (folder / name).is_file()]
    if (folder / "env.json").is_file():
        env = safe_io.read_json(folder / "env.json", "env.json")
        source.env = env if isinstance(env, dict) else {}
    if source.kind == "runs":
        source.results, source.curves = report.load(folder)
        source.report = _text(folder / "REPORT.md")
    elif source.kind == "tuning":
        source.trials = trials(folder / "trials.csv")
        source.report = _text(folder / "TUNING.md")
    return source


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it as text ({exc})") from exc


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


def name_pages(sources: list[Source]) -> None:
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
