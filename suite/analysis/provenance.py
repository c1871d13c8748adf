"""Which code a results folder was measured on, and whether that is still the code here.

A folder is **current** when none of the code that decides its numbers — the contenders and
the harness that runs, times and scores them (``MEASURING_CODE``) — changed between the
commit(s) its runs were measured on and the commit checked out now; **stale** otherwise (or
when it was measured on a tree with uncommitted changes); **unknown** when it names no
commit git knows. The claims (``suite.analysis.claims``) are computed from current folders only.
"""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from suite import models, safe_io
from suite import results as results_io
from suite.settings import FEATURES_MARK

#: Paths whose change makes a folder's numbers stale (relative to the repository root).
MEASURING_CODE = (
    "suite/models",
    "baselines",
    "suite/data",
    "suite/timed_run.py",
    "suite/metrics.py",
    "suite/measure.py",
    "suite/runner.py",
    "suite/executors",
    "suite/threads.py",
    "suite/early_stopping.py",
    "suite/configs",
    "patches",
)

#: The repository this file belongs to (where git is asked).
REPOSITORY = Path(__file__).resolve().parents[2]


@dataclass
class Folder:
    """One results folder, loaded, with what it was measured on."""

    path: Path
    name: str  # as the reader sees it: "results", "results/speed"
    results: pd.DataFrame
    curves: pd.DataFrame
    env: dict[str, Any]
    commits: list[str]
    dirty: bool
    measured_at: str
    status: str = "unknown"  # current | stale | unknown
    changed: list[str] = field(default_factory=list)  # measuring code changed since
    neutral: list[str] = field(default_factory=list)  # changes since, declared in NEUTRAL


def result_folders(root: Path) -> list[Path]:
    """``root`` and its immediate sub-folders that hold results (not ``runs/``), in order."""
    found = [root] if _holds_results(root) else []
    found += (
        sorted(
            path
            for path in root.iterdir()
            if path.is_dir() and path.name != "runs" and _holds_results(path)
        )
        if root.is_dir()
        else []
    )
    return found


def _holds_results(path: Path) -> bool:
    return (path / results_io.RESULTS_FILE).is_file() or (path / "results.csv").is_file()


def load(path: Path, name: str | None = None) -> Folder:
    """The folder at ``path``, its commits and its status against the code checked out now."""
    frame, curves = results_io.load(path)
    env_file = path / "env.json"
    env = safe_io.read_json(env_file, "env.json") if env_file.is_file() else {}
    commits = _commits(frame, env)
    configs = sorted(set(frame.get("config", pd.Series(dtype=object)).dropna().astype(str)))
    dirty = bool(frame.get("git_dirty", pd.Series(dtype=object)).eq(True).any())
    dirty |= any(session.get("git_dirty") for session in env.get("load", []))
    sessions = [session.get("started_at") for session in env.get("load", [])]
    measured_at = max([s for s in sessions if s] or [env.get("captured_at") or "?"])
    folder = Folder(path, name or path.as_posix(), frame, curves, env, commits, dirty, measured_at)
    ran = set(frame["model"].dropna().astype(str)) if "model" in frame else None
    folder.status, folder.changed, folder.neutral = status(
        commits, dirty, configs, _splits(frame), ran
    )
    return folder


def _splits(frame: pd.DataFrame) -> set[tuple[str, str, int, int]] | None:
    """Each run's (data set, split, fold, seed), or None where the records lack one."""
    columns = ["dataset", "split", "fold", "seed"]
    if frame.empty or any(c not in frame for c in columns) or frame[columns].isna().any(axis=None):
        return None
    rows = frame[columns].drop_duplicates().itertuples(index=False)
    return {(str(d), str(s), int(f), int(e)) for d, s, f, e in rows}


def _commits(frame: pd.DataFrame, env: dict[str, Any]) -> list[str]:
    """The commits the runs were measured on: the records', else env.json's sessions'."""
    recorded = frame.get("git_commit", pd.Series(dtype=object)).dropna().astype(str)
    found = [commit for commit in dict.fromkeys(recorded) if commit and commit != "nan"]
    if not found:
        sessions = [session.get("git_commit") for session in env.get("load", [])]
        found = [c for c in dict.fromkeys([*sessions, env.get("git_commit")]) if c]
    return found


def status(
    commits: list[str],
    dirty: bool = False,
    configs: list[str] | None = None,
    splits: set[tuple[str, str, int, int]] | None = None,
    ran: set[str] | None = None,
) -> tuple[str, list[str], list[str]]:
    """``("current" | "stale" | "unknown", measuring files changed since, changes passed
    over)``.

    ``configs`` names the grids the folder ran (its records' ``config``): of the grid files,
    only theirs count (every other file under ``suite/configs`` does); ``None`` or empty:
    every grid file counts. ``splits`` (each run's data set, split, fold and seed) narrows
    the tuned settings that count to those its runs read; ``ran`` (the contenders it ran)
    the library patches to those of libraries its contenders need. A file whose every change
    since is declared in ``NEUTRAL`` does not make the folder stale; it is listed
    (``file@commit``) as passed over.
    """
    if not commits:
        return "unknown", [], []
    changed: list[str] = []
    passed: list[str] = []
    for commit in commits:
        if _git("cat-file", "-e", f"{commit}^{{commit}}") is None:
            return "unknown", [], []
        listed = _git("diff", "--name-only", commit, "HEAD", "--", *MEASURING_CODE) or ""
        for line in listed.splitlines():
            if not line or line in changed or not _counts_for(line, configs, splits, ran):
                continue
            neutral = _neutral_changes(commit, line)
            if neutral:
                passed += [change for change in neutral if change not in passed]
            else:
                changed.append(line)
    return ("stale" if changed or dirty else "current"), changed, passed


def _neutral_changes(commit: str, path: str) -> list[str]:
    """``path@commit`` of each change of ``path`` since ``commit`` when every one of them is
    declared in ``NEUTRAL``, else none (git is asked only about the files declared there)."""
    if all(declared != path for _, declared in NEUTRAL):
        return []
    since = (_git("log", "--format=%H", f"{commit}..HEAD", "--", path) or "").split()
    if since and all((change, path) in NEUTRAL for change in since):
        return [f"{path}@{change[:10]}" for change in since]
    return []


_WIDER_RANGES = (
    "search ranges widened (read by mfbench tune only, never by a run); init_std's spec moved "
    "into COMMON_SPECS with the same type and bounds"
)

_CLAIMS_FILES = ("suite/measure.py", "suite/runner.py", "suite/timed_run.py")

_CLAIMS_PROTOCOL = (
    "the claims protocol's measurement (issue 40), taken only by grids that ask for it: time to "
    'target read on validation (target_on = "validation"), planted data drawn per seed '
    "(fresh_data), a contender's own thread count or target, a disturbed run measured again "
    "(remeasure); every record carries the protocol digest, and a run is flagged disturbed "
    "only when its slowest epoch is also 50 ms beyond the median (a flag, no figure). The "
    "54-run config of the issue-39 check, run on e126484 and on b4247f5, gave identical run "
    "ids, accuracy, epochs, ratings visited and curves"
)

_ANALYSIS_LAYER = (
    "moved or renamed, not changed (issue 39): the torch contenders split into "
    "suite/models/torch/, factors.py -> biased_factors.py, execute.py -> timed_run.py, statuses "
    "named by results.OK, docstrings without measured numbers; a thread count resolved by "
    "threads.resolve_threads where a contender was given none (the runner always gives one); "
    "each record's class facts also carry its lines of code. A config of 54 runs (every "
    "contender setting moved, one thread, synthetic-seed-2017 and synthetic-100k) gave "
    "identical accuracy, epochs, ratings visited and curves before and after"
)

#: Changes of measuring code that cannot change a recorded number, each declared by its commit
#: (full hash) and file, with why. A folder measured before one stays current on its account;
#: its provenance line names it. Keep this list short and every reason checkable.
NEUTRAL: dict[tuple[str, str], str] = {
    ("dfdd1a4d6dae64637dbf9b40ceb3690be89ff38b", "suite/executors/local.py"): (
        "a worker whose parent stopped listening (Ctrl-C, SIGTERM, SIGHUP) exits without a "
        "traceback: only on that path, where the run is not recorded"
    ),
    ("6b8961d8c4ae437cdbd6fee3579171b0eefc5058", "suite/executors/local.py"): (
        "a stop signal that arrives while a worker starts is acted on once it has started: "
        "only on that path, where the run is not recorded"
    ),
    ("06094b992e055ea07adebc9816d2ad43e8caac1c", "baselines/libmf_sgd.py"): (
        "LIBMF's speed_tolerance: the gate's allowed slow-down, read only by `mfbench check`"
    ),
    **{
        ("080313ac35d2ccc954dc0d1251f443717ed28951", path): _WIDER_RANGES
        for path in ("baselines/libmf_sgd.py", "suite/models/base.py")
    },
    **{
        ("03d769b376044f55acf95edfb8b08e3c11d02959", path): _WIDER_RANGES
        for path in (
            "baselines/cornac_mf.py",
            "baselines/libmf_sgd.py",
            "baselines/surprise_models.py",
            "suite/models/base.py",
            "suite/models/factors.py",
            "suite/models/torch_als.py",
            "suite/models/torch_bpmf.py",
            "suite/models/torch_bpr.py",
            "suite/models/torch_hybrid.py",
            "suite/models/torch_ials.py",
            "suite/models/torch_mf.py",
        )
    },
    ("a0bd936dd2bbf22c1bd990133b9c1c18b3fe4b75", "baselines/implicit_models.py"): _WIDER_RANGES,
    ("5371117de9b738f26d273870eaf9ac65a6654e08", "suite/early_stopping.py"): (
        "early stopping may rank a validation part's items only (candidates, None by default: "
        "passed by mfbench tune on a cold-items split, never by a run)"
    ),
    ("5371117de9b738f26d273870eaf9ac65a6654e08", "suite/models/torch_hybrid.py"): (
        "torch-hybrid's snapshot shares its feature inputs: called only by early stopping, "
        "which no recorded torch-hybrid run used (it failed before)"
    ),
    ("d004875fc58fb1f68e5826c9c1b1243a4ab90245", "baselines/lightfm_model.py"): (
        "LightFM's speed_tolerance: the gate's allowed slow-down, read only by `mfbench check`"
    ),
    **{
        (commit, "suite/models/__init__.py"): (
            "a fact query added in e0b341c and taken out again in 4ad0080: no net change "
            "(`git diff 20ca59c 4ad0080 -- suite/models/__init__.py` is empty)"
        )
        for commit in (
            "e0b341ca5507f0ffd75f17f9eb46cb96ebf0d07f",
            "4ad0080d6910264fe7d8abb6e711b1d135b748b2",
        )
    },
    **{
        ("d3676fa118b482eca470e72699ba59a3ce0659d6", path): _ANALYSIS_LAYER
        for path in (
            "baselines/cornac_mf.py",
            "baselines/implicit_models.py",
            "baselines/lightfm_model.py",
            "baselines/numba_sgd.py",
            "baselines/numpy_als.py",
            "baselines/numpy_sgd.py",
            "baselines/spark_als.py",
            "suite/data/cache.py",
            "suite/early_stopping.py",
            "suite/executors/base.py",
            "suite/executors/dask.py",
            "suite/executors/local.py",
            "suite/measure.py",
            "suite/models/__init__.py",
            "suite/models/biased_factors.py",
            "suite/models/code_lines.py",
            "suite/models/facts.py",
            "suite/models/torch/__init__.py",
            "suite/models/torch/als.py",
            "suite/models/torch/base.py",
            "suite/models/torch/bpmf.py",
            "suite/models/torch/bpr.py",
            "suite/models/torch/hybrid.py",
            "suite/models/torch/ials.py",
            "suite/models/torch/joint_sgd.py",
            "suite/models/torch/losses.py",
            "suite/models/torch/mf.py",
            "suite/models/torch/modules.py",
            "suite/models/torch/trainers.py",
            "suite/models/torch/wmf.py",
            "suite/models/torch_mf.py",
            "suite/runner.py",
            "suite/threads.py",
            "suite/timed_run.py",
        )
    },
    **{
        (commit, path): _CLAIMS_PROTOCOL
        for commit, paths in (
            ("13fec6d1dfaaa5e0ce10e510866259e3792085d7", _CLAIMS_FILES),
            ("48df4d55f32ea454531ebfe70929e71afa1a2db7", ("suite/timed_run.py",)),
            ("025310ec229d3c5f7c9e28ec3d965d306cefc3f4", ("suite/timed_run.py",)),
            ("b4247f5abdd2150fbb3e50163bd4c591051130cd", ("suite/runner.py",)),
        )
        for path in paths
    },
}


def _counts_for(
    path: str,
    configs: list[str] | None,
    splits: set[tuple[str, str, int, int]] | None = None,
    ran: set[str] | None = None,
) -> bool:
    """Whether a change of ``path`` can change the numbers of runs of the grids ``configs``
    on ``splits`` (each run's data set, split, fold and seed) of the contenders ``ran``
    (None: unknown, so any)."""
    grid = Path(path)
    if grid.parent.as_posix() == PATCHES:
        return _patch_counts_for(grid, ran)
    if ran is not None and _own_module_of_others(path, ran):
        return False
    if grid.parent.as_posix().startswith(TUNED):
        return _tuned_counts_for(grid, splits)
    if not configs or grid.parent.as_posix() != GRIDS or grid.suffix != ".toml":
        return True
    return grid.stem in configs


def _tuned_counts_for(path: Path, splits: set[tuple[str, str, int, int]] | None) -> bool:
    """Whether the tuned settings file ``path`` (``tuned/<data set>.toml`` or
    ``tuned/<data set>/<split instance>.toml``, ``settings.split_instance``) can reach one of
    the ``splits``: its data set's runs, on the split instance it names (a ratings file's
    ``file-`` key cannot be told from a run's name, so it counts)."""
    relative = path.relative_to(TUNED).with_suffix("")
    key = relative.parts[0]
    if splits is None or key.startswith("file-"):
        return True
    named = relative.parts[1] if len(relative.parts) > 1 else None
    instance = None if named is None else named.removesuffix(FEATURES_MARK)
    for dataset, split, fold, seed in splits:
        if dataset != key and not dataset.startswith(f"{key} "):
            continue
        if named is not None and (instance != named) != (FEATURES_MARK in dataset):
            continue  # settings tuned with side features reach only runs with them
        if instance is None or (
            instance.startswith(split)
            and (split != "kfold" or f"-fold{fold}-" in instance)
            and (split == "temporal" or instance.endswith(f"-seed{seed}"))
        ):
            return True
    return False


def _patch_counts_for(path: Path, ran: set[str] | None) -> bool:
    """Whether the patch ``path`` of a library (``<distribution>-<version>-<what>.patch``)
    reaches one of the contenders ``ran``: one needs that library, or is not registered here
    (it may have)."""
    named = re.match(r"(.+?)-\d", path.name)
    if ran is None or named is None:
        return True
    return _any_may(
        ran, lambda model: named.group(1) in {r.distribution for r in model.requirements}
    )


def _own_module_of_others(path: str, ran: set[str]) -> bool:
    """Whether ``path`` is the module of registered contenders (``models.REGISTRY``) none of
    which is in ``ran``, and no other file imports it: then its change reaches no run of theirs.
    A contender ``ran`` that is not registered here might live in it (it does not pass)."""
    module = path.removesuffix(".py").replace("/", ".")
    homes = {entry.partition(":")[0] for entry in models.REGISTRY.values()}
    if not path.endswith(".py") or module not in homes:
        return False
    if _any_may(ran, lambda model: _home(model.name) == module):
        return False
    return not _imported_elsewhere(path)


def _any_may(ran: set[str], reached: Callable[[type], bool]) -> bool:
    """Whether a change may reach a run of one of the contenders ``ran``: one is ``reached``,
    or is not registered here (nothing is known of it)."""
    for name in ran:
        model = models.lookup(name)
        if model is None or reached(model):
            return True
    return False


@functools.cache
def _imported_elsewhere(path: str) -> bool:
    """Whether a file of ``suite`` or ``baselines`` other than ``path`` imports its module."""
    module = path.removesuffix(".py").replace("/", ".")
    package, _, leaf = module.rpartition(".")
    imports = re.compile(
        rf"^\s*(from {re.escape(module)} import|import {re.escape(module)}\b|"
        rf"from {re.escape(package)} import .*\b{re.escape(leaf)}\b)",
        re.M,
    )
    for root in ("suite", "baselines"):
        for source in (REPOSITORY / root).rglob("*.py"):
            if source.relative_to(REPOSITORY).as_posix() != path and imports.search(
                source.read_text(encoding="utf-8")
            ):
                return True
    return False


def _home(name: str) -> str:
    return models.REGISTRY[name].partition(":")[0]


#: Where the patches of contenders' libraries live (``make install`` applies them).
PATCHES = "patches"
#: Where the grid files live: one grid's change does not make another grid's folders stale.
GRIDS = "suite/configs"
#: Where the tuned settings live: one split's winners reach only the runs on that split.
TUNED = "suite/configs/tuned"


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=30, cwd=REPOSITORY, check=False
        )
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None
