"""The harness: records and their schema, curves, failures, skips, resume after Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from harness_helpers import TWO_MODELS, config_file, ratings_file

from suite import results, runner
from suite.config import load_config
from suite.errors import InputError


@pytest.fixture
def grid_dir(tmp_path: Path) -> tuple[Path, Path]:
    return config_file(tmp_path, ratings_file(tmp_path), TWO_MODELS), tmp_path / "run"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One grid run (in-process) that the read-only tests below share: (config, run folder)."""
    folder = tmp_path_factory.mktemp("grid")
    config = config_file(folder, ratings_file(folder), TWO_MODELS)
    with pytest.MonkeyPatch.context() as patch:  # its own data cache, as every test has
        patch.setenv("MFBENCH_DATA", str(folder / "cache"))
        out = runner.run_grid(load_config(str(config)), folder / "run", in_process=True)
    return config, out


def test_one_flat_record_per_run_with_the_schema(finished) -> None:
    _, out = finished
    frame = pd.read_csv(out / "results.csv")
    assert list(frame.columns[: len(results.COLUMNS)]) == results.COLUMNS
    assert len(frame) == 6  # 2 seeds × (torch cpu, torch cuda, implicit cpu)
    ok = frame[frame["status"] == "ok"]
    assert len(ok) == (6 if torch.cuda.is_available() else 4)
    assert ok["fit_s"].gt(0).all() and ok["ndcg_at_10"].between(0, 1).all()
    assert ok["n_threads"].eq(1).all() and ok["peak_rss_mb"].gt(0).all()
    torch_rows = ok[ok["model"] == "torch-biased-mf"]
    assert torch_rows["rmse"].notna().all() and torch_rows["epochs"].eq(3).all()
    assert ok[ok["model"] == "implicit-als"]["rmse"].isna().all()  # ranking model: no RMSE
    assert json.loads(torch_rows["params"].iloc[0])["factors"] == 4
    assert frame["run_id"].is_unique
    # Every model of a (data set, split, seed) saw the same train/test.
    assert ok.groupby("seed")[["n_train", "n_test"]].nunique().eq(1).all().all()


def test_curves_have_one_row_per_epoch_and_exclude_their_own_time(finished) -> None:
    _, out = finished
    frame = pd.read_csv(out / "results.csv")
    curves = pd.read_csv(out / "curves.csv")
    run = frame[(frame["model"] == "torch-biased-mf") & (frame["status"] == "ok")].iloc[0]
    rows = curves[curves["run_id"] == run["run_id"]]
    assert rows["epoch"].tolist() == [1, 2, 3]
    assert rows["elapsed_s"].is_monotonic_increasing
    assert rows["elapsed_s"].iloc[-1] <= run["fit_s"] + 1e-6
    assert rows["test_rmse"].notna().all() and rows["train_loss"].notna().all()
    assert run["epoch_s_median"] == pytest.approx(rows["epoch_s"].median())
    assert run["time_to_rating_target_s"] == pytest.approx(
        rows.loc[rows["test_rmse"] <= 1.5, "elapsed_s"].iloc[0]
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_unavailable_backend_is_a_skipped_record(finished) -> None:
    _, out = finished
    frame = pd.read_csv(out / "results.csv")
    skipped = frame[frame["status"] == "skipped"]
    assert set(skipped["backend"]) == {"cuda"} and len(skipped) == 2
    assert skipped["reason"].str.contains("CUDA unavailable").all()


@pytest.mark.slow
def test_a_failing_run_is_recorded_and_the_grid_goes_on(tmp_path: Path) -> None:
    models = """
[[models]]
name = "torch-biased-mf"
params = { optimizer = "sgd", lr = 1e6, epochs = 3, batch_size = 8 }
[[models]]
name = "popularity"
"""
    config = config_file(tmp_path, ratings_file(tmp_path), models, seeds="[0]")
    out = runner.run_grid(load_config(str(config)), tmp_path / "run")  # in worker processes
    frame = pd.read_csv(out / "results.csv").set_index("model")
    assert frame.loc["torch-biased-mf", "status"] == "failed"
    assert (
        "ModelFitError: torch-biased-mf: training loss became"
        in frame.loc["torch-biased-mf", "reason"]
    )
    assert frame.loc["popularity", "status"] == "ok"
    assert not (out / runner.SPLIT_FOLDER).exists()


def test_env_json_describes_the_machine(finished) -> None:
    _, out = finished
    env = json.loads((out / "env.json").read_text())
    assert env["cores"] >= 1 and env["versions"]["torch"] and env["versions"]["numpy"]
    assert isinstance(env["threadpools"], list) and "git_commit" in env and "cpu" in env


def test_refuses_to_overwrite_a_run_folder(finished) -> None:
    config, out = finished
    with pytest.raises(InputError, match=r"already holds results \(results.jsonl"):
        runner.run_grid(load_config(str(config)), out, in_process=True)


@pytest.mark.slow
def test_sigint_then_resume_loses_and_repeats_nothing(tmp_path: Path) -> None:
    models = """
[[models]]
name = "numpy-sgd"
params = { epochs = 4 }
[[models]]
name = "numpy-als"
params = { epochs = 10 }
"""
    config = config_file(
        tmp_path, ratings_file(tmp_path, 150, 100, 6000), models, seeds="[0, 1, 2]"
    )
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "suite",
        "run",
        "--config",
        str(config),
        "--out",
        str(out),
        "--no-report",
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    records = out / results.RESULTS_FILE
    deadline = time.monotonic() + 120
    while not (records.exists() and records.read_text().count("\n") >= 2):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no run finished in time"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "continue with `mfbench run --resume --out" in err
    before = records.read_text().splitlines()
    assert 2 <= len(before) < 6

    done = subprocess.run([*command[:-1], "--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = records.read_text().splitlines()
    assert after[: len(before)] == before  # nothing finished was lost or rewritten
    ids = [json.loads(line)["run_id"] for line in after]
    assert len(ids) == 6 and len(set(ids)) == 6  # every run once, none repeated
    assert f"{len(before)} already recorded" in done.stderr


def test_resume_retries_failed_runs_only(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    results.append(
        out / results.RESULTS_FILE,
        [
            {"run_id": "a", "status": "ok"},
            {"run_id": "b", "status": "failed"},
            {"run_id": "c", "status": "skipped"},
        ],
    )
    assert results.finished_ids(out) == {"a", "c"}


def test_torn_last_line_is_ignored_but_corruption_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text('{"run_id": "a"}\n{"run_id": "b", "sta')
    assert [row["run_id"] for row in results.read_jsonl(path)] == ["a"]
    path.write_text('{"run_id": "a"}\nnot json\n{"run_id": "c"}\n')
    with pytest.raises(InputError, match=r"results.jsonl:2: not a JSON record"):
        results.read_jsonl(path)


@pytest.mark.slow
def test_each_run_gets_a_fresh_worker_process(grid_dir) -> None:
    config, out = grid_dir
    runner.run_grid(load_config(str(config)), out)
    ok = pd.read_csv(out / "results.csv").query("status == 'ok'")
    assert len(ok) >= 4 and ok["pid"].is_unique and os.getpid() not in set(ok["pid"])
    assert ok["rss_baseline_mb"].lt(ok["peak_rss_mb"]).all()


def test_fresh_data_draws_each_seeds_own_planted_set(tmp_path) -> None:
    """``fresh_data``: each seed's runs get their own planted set (its own digest); without it
    every seed splits seed 0's set."""
    from suite.config import DatasetSpec, Grid, ModelSpec
    from suite.runner import plan

    def digests(fresh: bool) -> set[str]:
        grid = Grid(
            "fresh",
            [DatasetSpec("synthetic-seed-2017", seeds=[0, 1, 2], fresh_data=fresh)],
            [ModelSpec("global-mean")],
        )
        return {task.data_digest for split in plan(grid, tmp_path) for task in split.tasks}

    assert len(digests(True)) == 3 and len(digests(False)) == 1
