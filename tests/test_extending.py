"""Extending the suite: a contender is one file plus one registry line; a metric one entry."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from harness_helpers import gate_config_file, ratings_file

from suite import metrics, models, regress
from suite.cli import main
from suite.models.base import Contest

#: A contender written as a user would: its own module, nothing else of the suite edited.
THROWAWAY_MODULE = '''
"""Item means: a throwaway contender for the extension test."""

import numpy as np

from suite.models.base import Contest, Model


class ItemMean(Model):
    """Each item's mean training rating, shrunk towards the global mean (Koren 2010, eq. 2).

    Parameters
    ----------
    shrinkage : float
        Pseudo-ratings at the global mean added to every item.
    backend, n_threads, seed
        The common interface.
    """

    name = "item-mean"
    contests = (Contest.RATING,)

    def __init__(self, *, shrinkage=5.0, backend="cpu", n_threads=None, seed=0):
        self.shrinkage = shrinkage
        self.backend = backend
        self.n_threads = n_threads
        self.seed = seed

    def _fit(self, train, on_epoch):
        deviations = np.bincount(
            train.item, weights=train.rating - self.global_mean_, minlength=train.n_items
        )
        counts = np.bincount(train.item, minlength=train.n_items)
        means = self.global_mean_ + deviations / (counts + self.shrinkage)
        self.item_means_ = means.astype(np.float32)
        self._epoch_done(1, len(train), on_epoch)

    def _predict(self, users, items):
        return self.item_means_[items]

    def _score_items(self, users):
        return np.tile(self.item_means_, (len(users), 1))

    def _state_arrays(self):
        return [self.item_means_]
'''

MODELS = """
[[models]]
name = "item-mean"
[[models]]
name = "popularity"
"""


@pytest.fixture
def throwaway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The contender's file in a folder on the path, and its one registry line."""
    (tmp_path / "throwaway_contender.py").write_text(THROWAWAY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(models.REGISTRY, "item-mean", "throwaway_contender:ItemMean")
    return gate_config_file(tmp_path, ratings_file(tmp_path), "extension", MODELS)


@pytest.mark.slow
def test_a_new_contender_runs_reports_and_passes_the_gate(
    throwaway: Path, tmp_path: Path, capsys
) -> None:
    run = tmp_path / "run"
    assert main(["run", "--config", str(throwaway), "--out", str(run), "--in-process"]) == 0
    frame = pd.read_csv(run / "results.csv")
    mine = frame[frame["model"] == "item-mean"]
    assert len(mine) == 2 and set(mine["status"]) == {"ok"}
    assert mine["rmse"].between(0.5, 2.0).all() and mine["ndcg_at_10"].notna().all()
    report = (run / "REPORT.md").read_text()
    assert re.search(r"\| item-mean +\| cpu +\| 2 +\| \d\.\d{4} ± \d\.\d{4}", report)

    gate = ["check", "--config", str(throwaway), "--reference", str(tmp_path / "ref")]
    assert main([*gate, "--update", "--out", str(tmp_path / "c1"), "--in-process"]) == 0
    assert main([*gate, "--out", str(tmp_path / "c2"), "--in-process"]) == 0
    checked = (tmp_path / "c2" / "CHECK.md").read_text()
    assert "No regression" in checked
    gated = [line for line in checked.splitlines() if "| item-mean " in line]
    accuracy = [line for line in gated if line.split("|")[1].strip() in ("rmse", "ndcg_at_10")]
    assert len(accuracy) == 4 and all("| ok " in line for line in accuracy)  # 2 metrics × 2 seeds
    speed = [line for line in gated if line.startswith(f"| {regress.SPEED_CHECK}")]
    assert len(speed) == 1  # compared, or "unchecked" with the reason (a fit this short)

    assert main(["list"]) == 0
    assert "| item-mean " in capsys.readouterr().out


def hit_rate(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Per user: 1 when any relevant item is among the top ``k``."""
    return hits.max(axis=1)


def test_a_new_metric_is_one_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [
        metrics.Metric("hit", "HR", True, Contest.RANKING, hit_rate, cutoff=k) for k in (5, 10)
    ]
    monkeypatch.setattr(metrics, "METRICS", (*metrics.METRICS, *entries))
    out = tmp_path / "run"
    argv = ["run", "--dataset", str(ratings_file(tmp_path)), "--model", "numpy-als,popularity"]
    assert main([*argv, "--threads", "1", "--out", str(out), "--in-process"]) == 0
    frame = pd.read_csv(out / "results.csv")
    assert frame["hit_at_5"].between(0, 1).all()
    assert (frame["hit_at_5"] <= frame["hit_at_10"]).all()
    assert (frame["hit_at_10"] >= frame["precision_at_10"]).all()  # a hit at all ⊇ hits / 10
    assert "HR@5" in (out / "REPORT.md").read_text()


#: An executor written as a user would: its own module, nothing else of the suite edited.
THROWAWAY_EXECUTOR = '''
"""Runs a grid's tasks last first, in this process: a throwaway executor for the test."""

from pathlib import Path

from suite.executors.base import pending_tasks
from suite.executors.local import run_task


class BackwardsExecutor:
    """Each split's pending tasks in reverse order, in this process."""

    name = "backwards"
    options = ("in_process",)

    def __init__(self, *, threads_per_run, in_process=False):
        self.threads_per_run = threads_per_run

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def run(self, splits, done, progress):
        for split_plan, facts in splits:
            for task in reversed(pending_tasks(split_plan, done)):
                task.facts = facts
                progress.starting(task)
                yield run_task(task, progress.epoch, in_process=True)
            Path(split_plan.tasks[0].split_file).unlink(missing_ok=True)
'''


def test_a_new_executor_is_one_file_and_one_registry_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from suite import executors, results

    (tmp_path / "throwaway_executor.py").write_text(THROWAWAY_EXECUTOR)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(executors.REGISTRY, "backwards", "throwaway_executor:BackwardsExecutor")
    out = tmp_path / "run"
    argv = ["run", "--dataset", str(ratings_file(tmp_path)), "--model", "bias-only,popularity"]
    argv += ["--seeds", "2", "--threads", "1", "--out", str(out), "--no-report"]
    assert main([*argv, "--executor", "backwards"]) == 0
    records = results.read_jsonl(out / results.RESULTS_FILE)
    assert [r["model"] for r in records] == ["popularity", "bias-only"] * 2  # its order
    assert {r["executor"] for r in records} == {"backwards"}
    assert {r["status"] for r in records} == {"ok"}
    with pytest.raises(SystemExit) as refused:
        main([*argv[:-3], "--out", str(tmp_path / "no"), "--executor", "nowhere"])
    assert refused.value.code == 2
    assert "'local', 'dask', 'backwards'" in capsys.readouterr().err  # the registry's names


#: A data source written as a user would: its own module, nothing else of the suite edited.
THROWAWAY_SOURCE = '''
"""Tiny planted matrices named "tiny-<rank>": a throwaway data source for the test."""

from suite.data import synthetic


class TinySource:
    def names(self):
        return ["tiny-2", "tiny-4"]

    def load(self, name, *, seed, features, use_cache):
        rank = int(name.split("-")[1])
        return synthetic.planted(60, 40, 1500, rank=rank, seed=seed, name=name)

    def has_features(self, name):
        return False

    def fetch(self, name, *, force):
        return None


SOURCE = TinySource()
'''


def test_a_new_data_source_is_one_file_and_one_registry_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from suite.data import catalogue

    (tmp_path / "throwaway_source.py").write_text(THROWAWAY_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(catalogue.SOURCES, "tiny", "throwaway_source:SOURCE")
    size = len(catalogue.source_of("tiny-2").load("tiny-2", seed=0, features=False, use_cache=True))
    assert main(["data", "info", "tiny-2"]) == 0
    assert f"ratings {size:,}" in " ".join(capsys.readouterr().out.split())
    assert main(["data", "fetch", "tiny-4"]) == 0
    assert "tiny-4: generated, nothing to fetch" in capsys.readouterr().out
    assert main(["list"]) == 0
    assert "tiny-2, tiny-4" in capsys.readouterr().out
    out = tmp_path / "run"
    argv = ["run", "--dataset", "tiny-2", "--model", "bias-only,popularity", "--threads", "1"]
    assert main([*argv, "--out", str(out), "--in-process", "--no-report"]) == 0
    frame = pd.read_csv(out / "results.csv")
    assert set(frame["dataset"]) == {"tiny-2"} and set(frame["status"]) == {"ok"}
    assert (frame["n_train"] + frame["n_test"] <= size).all()  # cold test pairs are dropped
