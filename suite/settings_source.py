"""Where a folder's settings came from, for its report: each contender's runs matched against
the tuned winners of their own split (``mfbench tune --save``, ``suite/configs/tuned/``), with
what each search said of its winner (at the edge of its range, or stopped by the epoch cap).

A run counts as tuned when every value its split's winner holds is the value the run
recorded; a value the config or the command line set instead is named. The tuned files read
are today's: a folder measured on other tuned settings shows them as not matching (and its
provenance as stale).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import tabulate

from suite.config import DatasetSpec, split_instance, tuned_folder, tuned_key, tuned_settings

#: The comment ``mfbench tune`` writes after a winner at a bound of its range (``tuning.write``).
_FLAGGED = re.compile(r'^"(?P<model>[^"]+)"\s*=\s*\{.*\}\s*#\s*at the edge of its range:\s*(.+)$')


def flags(path: Path) -> dict[str, str]:
    """What the search that wrote the tuned file ``path`` flagged, per contender: the names of
    its winner's values at the edge of their range (``epochs``: at the epoch cap)."""
    if not path.is_file():
        return {}
    found = (_FLAGGED.match(line.strip()) for line in path.read_text("utf-8").splitlines())
    return {match["model"]: match[2].strip() for match in found if match}


def section(dataset: str, runs: pd.DataFrame, folds: int | None = None) -> str:
    """The report's "where the settings come from" table for the runs on ``dataset``; empty
    where no contender has tuned settings for any of its splits. ``folds`` is the k of a
    k-fold split (default: the folds the runs cover)."""
    first = runs.iloc[0]
    spec = DatasetSpec(
        dataset, split=str(first["split"]), folds=folds or max(2, runs["fold"].nunique())
    )
    splits = {}  # each split's winners and flags, read once for every contender
    for fold, seed in runs.groupby(["fold", "seed"]).groups:
        instance = split_instance(spec, int(fold), int(seed))
        tuned_file = tuned_folder() / tuned_key(spec.name) / f"{instance}.toml"
        splits[fold, seed] = (tuned_settings(spec.name, instance), flags(tuned_file))
    rows = []
    for label, own in runs.groupby("label", sort=False):
        described = _describe(spec, own, splits)
        if described:
            rows.append({"contender": label, **described})
    if not rows:
        return ""
    note = (
        "Each run's settings against the winners tuned on its own split's training half "
        "(nested: the split's test ratings never seen), as `suite/configs/tuned/"
        f"{tuned_key(dataset)}/` holds them today. A value set by the config or the command "
        "line instead is named; a winner its search found at the edge of its range (or at the "
        "epoch cap) is flagged: a wider range might have done better."
    )
    return f"{note}\n\n{tabulate(rows, headers='keys', tablefmt='github')}"


def _describe(
    spec: DatasetSpec,
    runs: pd.DataFrame,
    splits: dict[tuple[Any, Any], tuple[dict[str, dict[str, Any]], dict[str, str]]],
) -> dict[str, str] | None:
    """One contender's row: how many of its splits ran their winners, what overrode them and
    what the searches flagged; None where no split of it has a winner. ``splits``: each
    (fold, seed)'s winners and flags."""
    model = str(runs["model"].iloc[0])
    tuned, overridden, flagged = 0, set(), []
    for (fold, seed), split_runs in runs.groupby(["fold", "seed"]):
        winners, split_flags = splits[fold, seed]
        winner = winners.get(model)
        if not winner:
            continue
        params = _params(split_runs["params"].iloc[0])
        differ = {name for name, value in winner.items() if params.get(name) != value}
        tuned += 1
        overridden |= differ
        edge = split_flags.get(model)
        if edge:
            flagged.append(f"fold {fold}: {edge}" if spec.split == "kfold" else edge)
    if not tuned:
        return None
    splits = runs.groupby(["fold", "seed"]).ngroups
    settings = f"tuned on its own split ({tuned} of {splits})"
    if overridden:
        settings += f"; set by the config instead: {', '.join(sorted(overridden))}"
    return {"settings": settings, "flagged by its search": "; ".join(flagged) or "–"}


def _params(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value or {})
