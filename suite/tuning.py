"""Hyperparameter search: the same Optuna budget for every contender, on validation data only.

Rendle et al., "On the Difficulty of Evaluating Baselines" (2019), showed that how evenly
contenders are tuned decides a benchmark's ranking; so every contender gets the same number
of trials of Optuna's seeded TPE sampler (Akiba et al., "Optuna", KDD 2019) over the ranges
its class declares (``Hyperparameter.search``), and nothing it is tuned on is ever tested:

- the data set is split as the grid splits it, and only the *training* part of one split
  (fold 0 of a k-fold, the holdout's train) is used; ``suite.data.splits.validation`` carves
  the validation part out of it, so no test rating is seen while tuning;
- each trial trains on the rest with early stopping on that validation part
  (``suite.early_stopping``; its epochs are the budget's ``max_epochs``) and scores its best
  epoch; the first trial is the contender's defaults; a percentile pruner ends trials that
  fall far behind, from the per-epoch scores (``KEEP_PERCENTILE``);
- a contender whose library trains every epoch in one call is scored after its fit, and
  ``epochs`` is then searched like any other hyperparameter.

The winner of each contender is its fastest trial within ``TIED`` of its best validation
score; its ``epochs`` is the epoch early stopping kept. A winner within ``EDGE`` of a bound of
its range (on the range's scale), or still improving at its last epoch, is flagged: the range
may have cut the search short.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from tabulate import tabulate

from suite import data, environment, metrics, models, plots, safe_io
from suite.data import splits
from suite.data.ratings import Ratings
from suite.early_stopping import VALIDATION_FRACTION, EarlyStopping
from suite.errors import InputError
from suite.models.base import Hyperparameter, Model, ModelFitError, StopTraining

#: A winner this close to a bound of its range (share of the range, on its scale) is flagged.
EDGE = 0.05

#: Trials within this share of the best validation score are tied: the fastest of them wins.
TIED = 0.001

#: Epochs of a trial that early stopping may stop (the budget of one trial).
MAX_EPOCHS = 100

#: The pruner ends a trial whose validation score after an epoch is worse than this
#: percentile of the earlier trials' scores at that epoch: only the worst quarter. The median
#: (Optuna's default) ends slow starters — plain SGD from a small initialisation lags Adam
#: for its first epochs and ends better — so the search would see fast starters only.
KEEP_PERCENTILE = 75.0


class _Pruned(StopTraining):
    """Optuna's pruner ended the trial (a ``StopTraining``, so ``fit`` returns normally)."""


@dataclass
class Tuned:
    """One contender's search: its trials and the winner."""

    model: str
    metric: metrics.Metric
    trials: list[dict[str, Any]]  # number, state, params, score, best_epoch, fit_s
    best_params: dict[str, Any] = field(default_factory=dict)
    best_score: float = math.nan
    best_number: int | None = None  # the winning trial
    top_score: float = math.nan  # the best score of any trial (the winner's is within TIED)
    on_edge: list[str] = field(default_factory=list)  # winning values at a bound
    search_s: float = math.nan  # wall time of the whole search
    stopped: str = ""  # why the search ended: stalled, the trial cap, the time limit

    @property
    def trials_to_best(self) -> int | None:
        """The trial (1-based) whose score was the best any trial reached; None if none did."""
        complete = [t for t in self.trials if t["state"] == "complete"]
        if not complete:
            return None
        pick = max if self.metric.higher_is_better else min
        return int(pick(complete, key=lambda t: t["score"])["number"]) + 1


def search_space(model: str, early_stopping: bool = True) -> dict[str, Hyperparameter]:
    """The hyperparameters tuning varies for ``model``: those with a declared search range.

    ``epochs`` is not searched where early stopping decides it.
    """
    specs = models.get(model).specs()
    return {
        name: spec
        for name, spec in specs.items()
        if spec.search is not None and not (early_stopping and name == "epochs")
    }


def tune(
    model: str,
    fit: Ratings,
    validation: Ratings,
    *,
    n_trials: int,
    seed: int = 0,
    patience: int = 3,
    max_epochs: int = MAX_EPOCHS,
    n_threads: int | None = None,
    timeout_s: float | None = None,
    stall_trials: int | None = None,
    min_trials: int = 0,
    start_from: Mapping[str, Any] | None = None,
    candidates: np.ndarray | None = None,
) -> Tuned:
    """Search ``model``'s hyperparameters: at most ``n_trials`` trials, scored on
    ``validation``; with ``stall_trials``, the search also ends once that many trials in a row
    have not improved the best score (by more than ``TIED``): an equal effect, not only an
    equal count, for every contender.

    Parameters
    ----------
    model : str
        A registered contender.
    fit, validation : Ratings
        What each trial trains on, and the held-out part of the same training half it is
        scored on (``suite.data.splits.validation``).
    n_trials, seed : int
        The budget (the same for every contender), and the sampler's seed.
    patience, max_epochs : int
        Early stopping of each trial, and the most epochs it may run.
    n_threads : int, optional
        Threads of each fit.
    timeout_s : float, optional
        A wall-clock budget as well: the search stops at whichever comes first.
    stall_trials : int, optional
        Trials without improvement that end the search, once ``min_trials`` have run (the
        sampler's random start alone would otherwise end a search that TPE never guided).
    candidates : numpy.ndarray, optional
        The items a ranking contender's validation score ranks (``EarlyStopping``): a
        validation part of cold items is ranked among those items only.
    start_from : mapping, optional
        Settings tried second, after the defaults (a warm start: e.g. this split's earlier
        winner, when its ranges are widened); values outside the ranges are left to the
        sampler. It counts against the budget like any trial.
    """
    contender = models.get(model)
    stoppable = contender.epoch_curve
    space = search_space(model, early_stopping=stoppable)
    metric = EarlyStopping.metric(contender)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failed trials are in trials.csv
    study = optuna.create_study(
        direction="maximize" if metric.higher_is_better else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.PercentilePruner(
            KEEP_PERCENTILE, n_startup_trials=5, n_warmup_steps=patience
        ),
    )
    study.enqueue_trial(starting_point(model, space))
    if start_from:
        study.enqueue_trial(within(start_from, space))
    fixed = {"epochs": max_epochs} if stoppable and "epochs" in contender.specs() else {}

    def objective(trial: optuna.Trial) -> float:
        params = {name: _suggest(trial, name, spec) for name, spec in space.items()} | fixed
        try:  # create refuses settings that cannot train together: not a trial
            instance = models.create(model, n_threads=n_threads, seed=seed, **params)
        except InputError as exc:
            raise optuna.TrialPruned(str(exc)) from exc
        stopper = EarlyStopping(fit, validation, patience, seed=seed, candidates=candidates)
        instance.prepare(fit)  # as the harness does: neither counts as the trial's fit time
        instance.warm_up()
        started = time.perf_counter()
        instance.fit(fit, on_epoch=_reporting(trial, stopper))
        trial.set_user_attr("fit_s", time.perf_counter() - started)
        if trial.user_attrs.get("pruned"):
            raise optuna.TrialPruned
        stopper.finish(instance)
        score = stopper.best_score if stoppable else stopper.score(instance)
        trial.set_user_attr("best_epoch", stopper.best_epoch if stoppable else params["epochs"])
        return score

    # A setting that diverges (ModelFitError) is a failed trial; the search goes on.
    started = time.perf_counter()
    study.optimize(
        objective,
        n_trials=n_trials,
        timeout=timeout_s,
        catch=(ModelFitError,),
        callbacks=[
            _progress(model, n_trials),
            _stall(stall_trials, metric.higher_is_better, min_trials),
        ],
    )
    tuned = _result(model, metric, study, space, stoppable, max_epochs)
    tuned.search_s = time.perf_counter() - started
    tuned.stopped = study.user_attrs.get("stopped", "at the trial cap")
    if len(study.trials) < n_trials and tuned.stopped == "at the trial cap":
        tuned.stopped = "at the time limit"
    return tuned


def _stall(trials: int | None, higher_is_better: bool, min_trials: int = 0) -> Any:
    """Optuna callback: stop the study once ``trials`` trials in a row (finished ones, failed
    and pruned included) have not bettered the best score by more than ``TIED``, and at least
    ``min_trials`` have run."""

    def check(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trials is None or trial.number + 1 < min_trials:
            return
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not complete:
            return
        best, best_at = complete[0].value, complete[0].number
        for t in complete[1:]:
            better = t.value > best if higher_is_better else t.value < best
            if better and abs(t.value - best) > TIED * abs(best):
                best, best_at = t.value, t.number
        if trial.number - best_at >= trials:
            study.set_user_attr(
                "stopped", f"after {trials} trials without improvement (at least {min_trials})"
            )
            study.stop()

    return check


def starting_point(model: str, space: dict[str, Hyperparameter]) -> dict[str, Any]:
    """The first trial of every search: the contender's defaults, where in its ranges."""
    return within(models.hyperparameters(model), space)


def within(settings: Mapping[str, Any], space: dict[str, Hyperparameter]) -> dict[str, Any]:
    """The values of ``settings`` that ``space`` searches and that lie in its ranges."""
    return {
        name: settings[name]
        for name, spec in space.items()
        if settings.get(name) is not None and _in_range(settings[name], spec)
    }


def _in_range(value: Any, spec: Hyperparameter) -> bool:
    if spec.type in (int, float):
        low, high = spec.search
        return low <= value <= high
    return value in spec.search


def _progress(model: str, n_trials: int) -> Any:
    """Optuna callback: one line on stderr per finished trial, with the best so far."""

    def report(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        score = f" {trial.value:.4f}" if trial.value is not None else ""
        try:
            best = f"; best {study.best_value:.4f} (trial {study.best_trial.number})"
        except ValueError:  # no trial complete yet
            best = ""
        print(
            f"{model}: trial {trial.number + 1}/{n_trials} {trial.state.name.lower()}{score}{best}",
            file=sys.stderr,
            flush=True,
        )

    return report


def _reporting(trial: optuna.Trial, stopper: EarlyStopping) -> Any:
    """``on_epoch``: early stopping first, then the epoch's score to Optuna's pruner."""

    def on_epoch(epoch: int, model: Model) -> None:
        try:
            stopper.on_epoch(epoch, model)
        finally:
            if math.isfinite(stopper.last_score):
                trial.report(stopper.last_score, epoch)
        if trial.should_prune():
            trial.set_user_attr("pruned", True)
            raise _Pruned

    return on_epoch


def _suggest(trial: optuna.Trial, name: str, spec: Hyperparameter) -> Any:
    if spec.type is int:
        low, high = spec.search
        return trial.suggest_int(name, int(low), int(high), log=spec.log)
    if spec.type is float:
        low, high = spec.search
        return trial.suggest_float(name, float(low), float(high), log=spec.log)
    return trial.suggest_categorical(name, list(spec.search))


def _result(
    model: str,
    metric: metrics.Metric,
    study: optuna.Study,
    space: dict,
    stoppable: bool,
    max_epochs: int,
) -> Tuned:
    trials = [
        {
            "number": t.number,
            "state": t.state.name.lower(),
            "params": t.params,
            "score": t.value if t.value is not None else math.nan,
            "best_epoch": t.user_attrs.get("best_epoch", math.nan),
            "fit_s": t.user_attrs.get("fit_s", math.nan),
        }
        for t in study.trials
    ]
    tuned = Tuned(model, metric, trials)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        return tuned
    winner = fastest_of_the_best(complete, metric.higher_is_better)
    tuned.top_score = float(study.best_value)
    tuned.best_params = dict(winner.params)
    stopped_here = stoppable and "epochs" in models.get(model).specs()
    if stopped_here:
        tuned.best_params["epochs"] = int(winner.user_attrs["best_epoch"])
    tuned.best_score = float(winner.value)
    tuned.best_number = winner.number
    tuned.on_edge = [name for name, spec in space.items() if at_edge(winner.params[name], spec)]
    if stopped_here and tuned.best_params["epochs"] >= max_epochs:
        tuned.on_edge.append("epochs")  # still improving when the budget ran out
    return tuned


def fastest_of_the_best(
    complete: list[optuna.trial.FrozenTrial], higher_is_better: bool
) -> optuna.trial.FrozenTrial:
    """The fastest trial whose score is within ``TIED`` (relative) of the best score.

    A 0.1% difference on one validation split is small beside that split's own sampling
    error (about 0.007 for an RMSE on 8,000 ratings), so the tie goes to the cheaper setting.
    """
    best = max(t.value for t in complete) if higher_is_better else min(t.value for t in complete)
    tied = [t for t in complete if abs(t.value - best) <= TIED * abs(best)]
    return min(tied, key=lambda t: (t.user_attrs.get("fit_s", math.inf), t.number))


def at_edge(value: Any, spec: Hyperparameter) -> bool:
    """Whether a numeric ``value`` lies within ``EDGE`` of a bound of ``spec.search``."""
    if spec.type not in (int, float) or spec.search is None:
        return False
    low, high = (math.log(v) for v in spec.search) if spec.log else spec.search
    where = math.log(value) if spec.log else value
    return min(where - low, high - where) <= EDGE * (high - low)


# -- a search of several contenders on one data set ---------------------------------------------


def tune_dataset(
    dataset: str,
    names: list[str],
    out: Path,
    *,
    split: str = "holdout",
    folds: int = 5,
    fold: int = 0,
    n_trials: int = 30,
    seed: int = 0,
    patience: int = 3,
    max_epochs: int = MAX_EPOCHS,
    n_threads: int | None = None,
    timeout_s: float | None = None,
    stall_trials: int | None = None,
    min_trials: int = 0,
    save_as_tuned: bool = False,
    warm_start: bool = False,
    features: bool = False,
) -> Path:
    """``mfbench tune``: tune each of ``names`` on the training half of one split of
    ``dataset`` (``fold`` of a ``folds``-fold split, or the holdout or cold-items split of
    ``seed``), with the data set's side features where ``features``.

    A validation part is carved out of that training half (``validation_part``: on a
    cold-items split, whole items, as the test half is); the split's test half is never
    seen, so the winners may be used on this split's test ratings only (``save_as_tuned``
    keeps them as this split's own tuned settings, ``suite.settings.split_instance``;
    ``warm_start`` tries the ones saved before second, ``tune``'s ``start_from``). Each
    contender's search is written to ``out`` as soon as it ends (a crash keeps the ones
    before). Returns the settings file.
    """
    from suite.config import DatasetSpec
    from suite.settings import split_instance, tuned_settings

    for name in names:
        models.get(name)  # unknown names fail here, listing the valid ones
    if split == "kfold" and not 0 <= fold < folds:
        raise InputError(f"--fold {fold}: a {folds}-fold split has folds 0 to {folds - 1}")
    safe_io.make_folder(out, "--out")  # an unusable folder is refused before any search
    ratings = data.load(dataset, features=features)
    train, _ = splits.split(ratings, split, fold=fold, folds=folds, seed=seed)
    fit, validation, candidates = validation_part(train, split, seed)
    env = environment.environment()
    where = {"kfold": f"fold {fold} of a {folds}-fold split", "cold-items": "a cold-items split"}
    spec = DatasetSpec(dataset, split=split, folds=folds, features=features)
    instance = split_instance(spec, fold, seed)
    earlier = tuned_settings(dataset, instance) if warm_start else {}
    provenance = {
        "data set": spec.label,
        "split": instance,
        "protocol": (
            f"training part of {where.get(split, 'a holdout')} (seed {seed}); "
            f"{len(validation):,} of its {len(train):,} ratings held out as validation"
            + (
                f" ({int(candidates.sum()):,} items held out whole (cold), ranked among themselves)"
                if candidates is not None
                else ""
            )
            + f", the other {len(fit):,} trained on; the split's test ratings are never seen, "
            "and the winners are used on this split only"
        ),
        "budget": (
            f"at most {n_trials} Optuna TPE trials per contender (seed {seed}), the first at "
            f"its defaults"
            + (
                f", ended after {stall_trials} trials without improvement once {min_trials} ran"
                if stall_trials
                else ""
            )
            + f"; pruner: worst {100 - KEEP_PERCENTILE:g}% at an epoch ended"
            + (f", at most {timeout_s:g} s each" if timeout_s else "")
            + (
                "; warm start: this split's saved winners tried second"
                if warm_start and earlier
                else ""
            )
        ),
        "early stopping": f"patience {patience}, at most {max_epochs} epochs",
        "commit": f"{env.get('git_commit')}{' (dirty)' if env.get('git_dirty') else ''}",
    }
    searched: list[Tuned] = []
    settings = out / "settings.toml"
    for name in names:
        tuned = tune(
            name,
            fit,
            validation,
            n_trials=n_trials,
            seed=seed,
            patience=patience,
            max_epochs=max_epochs,
            n_threads=n_threads,
            timeout_s=timeout_s,
            stall_trials=stall_trials,
            min_trials=min_trials,
            start_from=earlier.get(name),
            candidates=candidates,
        )
        failed = sum(trial["state"] == "fail" for trial in tuned.trials)
        print(
            f"{name}: validation {tuned.metric.title} {tuned.best_score:.4f} {tuned.best_params}"
            f" (best at trial {tuned.trials_to_best} of {len(tuned.trials)}, {tuned.stopped})"
            + (f" ({failed} trial(s) diverged)" if failed else "")
        )
        searched.append(tuned)
        settings = write(out, searched, provenance)  # after each: a crash keeps these
    print(f"settings: {settings}")
    if save_as_tuned:
        saved = save(settings, dataset, instance)
        print(f"saved as the tuned settings of {dataset}, {instance}: {saved}")
    return settings


def validation_part(
    train: Ratings, split: str, seed: int
) -> tuple[Ratings, Ratings, np.ndarray | None]:
    """``(fit, validation, candidates)`` of a training half: a random 10% of its ratings
    (``splits.validation``), or, on a cold-items split, 10% of its items held out whole
    (``splits.cold_items``, seeded apart from the split's own draw), so that a search is
    scored as the split's test half is — ranking the held-out items among themselves
    (``candidates``; None: every item)."""
    if split != "cold-items":
        return (*splits.validation(train, VALIDATION_FRACTION, seed), None)
    salted = np.random.SeedSequence([seed, splits.VALIDATION_SALT]).generate_state(1)[0]
    fit, validation = splits.cold_items(train, VALIDATION_FRACTION, int(salted))
    return fit, validation, validation.items_seen() & ~fit.items_seen()


# -- the tuning folder ----------------------------------------------------------------------


#: The first line of a settings file (``write``), above its search's provenance.
TITLE = "# Tuned settings:"
#: The line above the provenance of earlier winners that ``save`` keeps.
KEPT = "# kept from the tuned settings before, chosen by this search:"


def write(folder: Path, results: list[Tuned], provenance: dict[str, Any]) -> Path:
    """Write ``settings.toml`` (the winners, with ``provenance``), ``trials.csv`` and
    ``TUNING.md`` into ``folder``; return the settings file."""
    safe_io.make_folder(folder, "--out")
    lines = [
        f"{TITLE} written by `mfbench tune`; every value from the trials in trials.csv.",
        *(f"# {key}: {value}" for key, value in provenance.items()),
    ]
    for tuned in results:
        if not tuned.best_params:
            lines += ["", f"# {tuned.model}: no trial completed"]
            continue
        values = ", ".join(f"{k} = {_toml(v)}" for k, v in sorted(tuned.best_params.items()))
        edge = f"  # at the edge of its range: {', '.join(tuned.on_edge)}" if tuned.on_edge else ""
        lines += [
            "",
            f"# validation {tuned.metric.title} {tuned.best_score:.4f} "
            f"({sum(t['state'] == 'complete' for t in tuned.trials)} of {len(tuned.trials)} "
            "trials complete)",
            f'"{tuned.model}" = {{ {values} }}{edge}',
        ]
    settings = folder / "settings.toml"
    safe_io.write_text(settings, "\n".join(lines) + "\n")
    frame = trials_frame(results)
    safe_io.write_csv(frame, folder / "trials.csv")
    title = f"{provenance.get('data set', '')}: tuning trials"  # the axes say what is plotted
    drawn = plots.tuning.draw(title, frame, folder / PLOT)
    safe_io.write_text(folder / "TUNING.md", _summary(results, provenance, drawn))
    return settings


#: The tuning folder's plot (``plots.tuning``).
PLOT = "pareto.png"


def trials_frame(results: list[Tuned]) -> pd.DataFrame:
    """One row per trial of every contender: its settings, score, fit time, and whether it won."""
    rows = [
        {
            "model": t.model,
            "contest": t.metric.contest.value,
            "metric": t.metric.title,
            "higher_is_better": t.metric.higher_is_better,
            **trial,
            "winner": trial["number"] == t.best_number,
            "on_edge": ", ".join(t.on_edge) if trial["number"] == t.best_number else "",
        }
        for t in results
        for trial in t.trials
    ]
    return pd.DataFrame(rows)


def save(settings: Path, dataset: str, instance: str | None = None) -> Path:
    """Make ``settings`` the tuned settings every grid uses on ``dataset`` (merged over the
    contenders saved before: tuning one contender keeps the others' winners, each with its
    comments, under the provenance of the search that chose them).

    They go to ``suite.settings.tuned_folder()`` under the data set's key (``tuned_key``),
    and with ``instance`` (one split, ``split_instance``) into its folder as that split's own:
    the folder ``$MFBENCH_TUNED`` names, or the source tree's ``suite/configs/tuned/``. An
    installed mfbench (in site-packages) is never written to: set ``MFBENCH_TUNED`` there.
    """
    import tomllib

    from suite.settings import tuned_folder, tuned_key

    folder = tuned_folder()
    if not os.environ.get("MFBENCH_TUNED") and _installed(folder):
        raise InputError(
            f"--save: the tuned settings folder {folder} is inside the installed mfbench; set "
            "MFBENCH_TUNED=DIR to keep them in a folder of your own (grids then read it)"
        )
    key = tuned_key(dataset)
    target = folder / key / f"{instance}.toml" if instance else folder / f"{key}.toml"
    text = settings.read_text(encoding="utf-8")
    new = tomllib.loads(text)
    if target.is_file():
        for provenance, entries in _searches(target.read_text(encoding="utf-8")):
            kept = [entry for entry in entries if _winner_of(entry) not in new]
            if kept:
                text += f"\n{KEPT}\n{provenance}\n" + "".join(f"\n{entry}\n" for entry in kept)
    safe_io.make_folder(target.parent, "--save")
    safe_io.write_text(target, text)
    return target


def _installed(folder: Path) -> bool:
    """Whether ``folder`` lies in an installed package (site-packages), not a source tree."""
    return any(part in ("site-packages", "dist-packages") for part in folder.resolve().parts)


def _searches(text: str) -> list[tuple[str, list[str]]]:
    """A settings file's searches: each one's provenance comment and its entry blocks."""
    searches: list[tuple[str, list[str]]] = [("", [])]  # entries before any provenance
    for block in text.strip().split("\n\n"):
        if block.startswith((TITLE, KEPT)):  # a provenance comment: a new search begins
            searches.append(("\n".join(block.splitlines()[1:]), []))  # its title: anew
        elif _winner_of(block) is not None:
            searches[-1][1].append(block)
    return searches


def _winner_of(block: str) -> str | None:
    """The contender a block of a settings file (``write``) sets, if any."""
    for line in block.splitlines():
        if line.startswith('"'):
            return line.split('"')[1]
    return None


def _summary(results: list[Tuned], provenance: dict[str, Any], plotted: bool) -> str:
    rows = [
        [
            t.model,
            t.metric.title,
            f"{t.top_score:.4f} ({t.best_score:.4f})"
            if math.isfinite(t.best_score)
            else "none complete",
            ", ".join(f"{k}={_shown(v)}" for k, v in sorted(t.best_params.items())) or "–",
            ", ".join(t.on_edge) or "–",
            "/".join(
                str(sum(x["state"] == state for x in t.trials))
                for state in ("complete", "pruned", "fail")
            )
            + f" of {len(t.trials)}",
            f"{t.trials_to_best or '–'} ({t.stopped or '–'})",
            f"{t.search_s:.0f}" if math.isfinite(t.search_s) else "–",
        ]
        for t in results
    ]
    table = tabulate(
        rows,
        headers=[
            "contender",
            "metric",
            "best validation (winner's)",
            "winner",
            "at a range's edge",
            "complete/pruned/failed trials",
            "best at trial (search ended)",
            "search s",
        ],
        tablefmt="github",
        disable_numparse=True,
    )
    said = "\n".join(f"- {key}: {value}" for key, value in provenance.items())
    figure = (
        f"\n![validation score vs fit time of every trial]({PLOT})\n\n"
        "Each dot is a completed trial; each line is a contender's Pareto frontier (the best "
        "validation score reached by trials that took at most that long); the star is the "
        "winner, marked with any value at the edge of its range. Every trial, pruned and "
        "failed ones included, is in trials.csv (a pruned trial's score is that of the epoch "
        "it was ended at).\n"
        if plotted
        else ""
    )
    return f"# mfbench tuning\n\n{said}\n\n{table}\n{figure}"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)  # floats at full precision: the settings are what was tuned


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
