"""``mfbench run --executor dask``: the same runs and records as local, lost workers, resume.

The grids run on a real ``distributed.LocalCluster`` of two worker processes (one shared by
the module, reached by ``--scheduler`` as an existing cluster would be; one started by the
executor itself). Workers are lost on purpose by a task function that kills its own worker.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness_helpers import assert_one_line_error, config_file, ratings_file, run_cli

from suite import results, runner
from suite.config import load_config
from suite.executors import dask as dask_executor
from suite.executors import local

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

pytestmark = pytest.mark.slow

#: Four quick runs: two contenders × two seeds on the tiny generated ratings.
FAST_MODELS = """
[[models]]
name = "popularity"
[[models]]
name = "numba-sgd"
params = { epochs = 3, factors = 4 }
"""

#: The quick grid compared across executors (3 runs on synthetic-10k: one of each kind).
SAME_GRID = [
    "--dataset",
    "synthetic-10k",
    "--model",
    "numba-sgd,torch-biased-mf,popularity",
    "--seeds",
    "1",
    "--threads",
    "1",
    "--epochs",
    "3",
    "--no-report",
]
ACCURACY = ["rmse", "mae", "precision_at_10", "recall_at_10", "ndcg_at_10", "map_at_10"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A two-worker LocalCluster for the module, as an existing cluster: reached by address."""
    import dask

    folder = tmp_path_factory.mktemp("cluster")
    with (
        pytest.MonkeyPatch.context() as patch,
        dask.config.set({"distributed.nanny.pre-spawn-environ": {}}),
    ):
        patch.setenv("MFBENCH_DATA", str(folder / "cache"))  # what the workers inherit
        patch.setenv("MFBENCH_TUNED", str(folder / "tuned"))
        local = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    try:
        yield local
    finally:
        local.close()


def _records(out: Path) -> list[dict[str, Any]]:
    return results.read_jsonl(out / results.RESULTS_FILE)


def _by_run(out: Path) -> dict[str, dict[str, Any]]:
    rows = _records(out)
    assert len({row["run_id"] for row in rows}) == len(rows), "a run recorded twice"
    return {row["run_id"]: row for row in rows}


def test_local_and_dask_give_the_same_runs_and_accuracy(cluster, tmp_path: Path, capsys) -> None:
    local, dask_out = tmp_path / "local", tmp_path / "dask"
    code, _, err = run_cli(["run", *SAME_GRID, "--out", local], capsys)
    assert code == 0, err
    dask_args = ["--executor", "dask", "--scheduler", cluster.scheduler_address]
    code, _, err = run_cli(["run", *SAME_GRID, "--out", dask_out, *dask_args], capsys)
    assert code == 0, err
    assert "[3/3] synthetic-10k holdout f0 s" in err  # the same progress lines as local
    one, other = _by_run(local), _by_run(dask_out)
    assert len(one) == 3 and one.keys() == other.keys()
    for run_id, row in one.items():
        twin = other[run_id]
        assert row["status"] == twin["status"] == "ok", (row["reason"], twin["reason"])
        key = (row["dataset"], row["model"], row["seed"])
        assert (twin["dataset"], twin["model"], twin["seed"]) == key
        assert {c: row[c] for c in ACCURACY} == {c: twin[c] for c in ACCURACY}, key
    assert {row["executor"] for row in one.values()} == {"local"}
    assert {row["executor"] for row in other.values()} == {"dask"}
    assert all(row["dask_worker"].startswith("tcp://") for row in other.values())


def test_the_local_cluster_is_sized_from_cores_and_retries_a_run_once() -> None:
    cores = dask_executor._cores()
    with dask_executor.DaskExecutor(threads_per_run=max(1, cores // 2)) as executor:
        client = executor._client
        assert list(client.nthreads().values()) == [1] * (cores // max(1, cores // 2))
        assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures) == 1
        assert client.run(lambda: os.environ.get("OMP_NUM_THREADS")) == dict.fromkeys(
            client.nthreads(), os.environ.get("OMP_NUM_THREADS")
        )  # the workers' runs get this environment, not Dask's one-thread settings
    assert client.status == "closed" and executor._cluster is None


def _loses_its_worker(
    task: Any, *args: Any, deaths: dict[str, int], marks: str
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """The Dask task, but the worker dies mid-run the first ``deaths[run_id]`` times."""
    tries = Path(marks) / task.run_id
    tries.mkdir(parents=True, exist_ok=True)
    attempt = len(list(tries.iterdir()))
    (tries / str(attempt)).touch()
    if attempt < deaths.get(task.run_id, 0):
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGKILL)).start()
        outcome = dask_executor.run_on_worker_default(task, *args)
        time.sleep(60)  # the kill comes first, however quick the run was
        return outcome
    return dask_executor.run_on_worker_default(task, *args)


def _run_losing_workers(
    cluster: Any, config: Path, out: Path, deaths: dict[str, int], marks: Path
) -> dict[str, dict[str, Any]]:
    """The grid of ``config`` on ``cluster``, its workers killed as ``deaths`` says."""
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need not import us
    try:
        executor = dask_executor.DaskExecutor(
            scheduler=cluster.scheduler_address,
            run_on_worker=functools.partial(_loses_its_worker, deaths=deaths, marks=str(marks)),
        )
        runner.run_grid(load_config(str(config)), out, executor=executor)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert len((out / "results.csv").read_text().splitlines()) == 1 + len(_records(out))
    return _by_run(out)


def test_a_lost_worker_is_retried_once_and_no_record_is_lost_or_repeated(
    cluster, tmp_path: Path
) -> None:
    config = config_file(tmp_path, ratings_file(tmp_path), FAST_MODELS)
    tasks = [t for split in runner.plan(load_config(str(config)), tmp_path) for t in split.tasks]
    ids = {t.run_id for t in tasks}
    once = next(t.run_id for t in tasks if t.model == "numba-sgd" and t.seed == 0)
    twice = next(t.run_id for t in tasks if t.model == "popularity" and t.seed == 1)

    marks = tmp_path / "tries-once"
    rows = _run_losing_workers(cluster, config, tmp_path / "once", {once: 1}, marks)
    assert rows.keys() == ids  # every run recorded, exactly once
    assert len(list((marks / once).iterdir())) == 2
    assert all(row["status"] == "ok" for row in rows.values())  # retried on another worker

    marks = tmp_path / "tries-twice"
    rows = _run_losing_workers(cluster, config, tmp_path / "twice", {twice: 2}, marks)
    assert rows.keys() == ids
    assert len(list((marks / twice).iterdir())) == 2  # one retry, never a third try
    assert rows[twice]["status"] == "failed"
    assert "Dask worker lost while running it, on 2 workers" in rows[twice]["reason"]
    assert "(the last: tcp://127.0.0.1:" in rows[twice]["reason"]  # the lost worker named
    # A run waiting behind the retried one on the same worker is charged that worker's loss
    # too (the scheduler counts every run sent to a lost worker): usually its retry ends ok,
    # but if both its workers are lost it fails the same way (suite.dask_executor's docstring;
    # --resume runs it again). Either way it is recorded once, and never failed for another
    # reason.
    for run_id, row in rows.items():
        if run_id != twice:
            assert row["status"] == "ok" or row["reason"].startswith("Dask worker lost"), row

    # The scheduler is left as it was found (one retry for the session, then put back).
    with distributed.Client(cluster) as client:
        assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures) == 3


def test_resume_works_across_executors(cluster, tmp_path: Path, capsys, caplog) -> None:
    caplog.set_level(logging.INFO, logger="mfbench")
    config = config_file(tmp_path, ratings_file(tmp_path), FAST_MODELS)
    out = tmp_path / "run"
    records = out / results.RESULTS_FILE
    dask_args = ["--executor", "dask", "--scheduler", cluster.scheduler_address]
    code, _, err = run_cli(["run", "--config", config, "--out", out, "--no-report"], capsys)
    assert code == 0, err
    complete = _by_run(out)
    first_two = records.read_text().splitlines()[:2]
    records.write_text("\n".join(first_two) + "\n")  # as if stopped after two runs

    code, _, err = run_cli(["run", "--resume", "--out", out, "--no-report", *dask_args], capsys)
    assert code == 0 and "2 already recorded" in caplog.text, err
    after_dask = records.read_text().splitlines()
    assert after_dask[:2] == first_two and len(after_dask) == 4
    resumed = _by_run(out)
    assert resumed.keys() == complete.keys()
    assert [row["executor"] for row in resumed.values()] == ["local"] * 2 + ["dask"] * 2
    for run_id, row in resumed.items():
        assert {c: row[c] for c in ACCURACY} == {c: complete[run_id][c] for c in ACCURACY}

    records.write_text("\n".join(after_dask[:3]) + "\n")  # and back: dask's records, local
    code, _, err = run_cli(["run", "--resume", "--out", out, "--no-report"], capsys)
    assert code == 0 and "3 already recorded" in caplog.text, err
    final = records.read_text().splitlines()
    assert final[:3] == after_dask[:3] and _by_run(out).keys() == complete.keys()
    assert json.loads(final[3])["executor"] == "local"


#: Two runs of a few seconds each.
SLOW_MODELS = """
[[models]]
name = "numpy-sgd"
params = { epochs = 40, factors = 8 }
"""


def _runs_going(client: Any) -> int:
    return sum(client.run(lambda: len(local.RUNNING)).values())


def test_ctrl_c_stops_the_runs_on_an_existing_cluster(cluster, tmp_path: Path) -> None:
    config = config_file(tmp_path, ratings_file(tmp_path, 150, 100, 6000), SLOW_MODELS)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "suite", "run", "--config", config, "--out", out]
    command += ["--executor", "dask", "--scheduler", cluster.scheduler_address, "--no-report"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    with distributed.Client(cluster) as client:
        deadline = time.monotonic() + 60
        while _runs_going(client) < 2:  # both runs are fitting, one on each worker
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the runs did not start"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 130, err
        assert "interrupted: 0 of 2 runs are recorded" in err and "Traceback" not in err
        deadline = time.monotonic() + 5
        while _runs_going(client):  # killed, not left to fit for nobody
            assert time.monotonic() < deadline, "a run kept going after Ctrl-C"
            time.sleep(0.1)
    assert not _records(out)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


GRID = ["run", "--dataset", "synthetic-10k", "--model", "popularity", "--no-report"]


def test_scheduler_without_the_dask_executor_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    argv = [*GRID, "--out", out, "--scheduler", "tcp://127.0.0.1:8786"]
    assert_one_line_error(argv, capsys, "--scheduler tcp://127.0.0.1:8786", "--executor dask")
    assert not out.exists()


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_S", 1.0)
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "run"
    argv = [*GRID, "--out", out, "--executor", "dask", "--scheduler", address]
    assert_one_line_error(argv, capsys, f"--scheduler {address}: no Dask scheduler answered")
    assert not out.exists()  # refused before the folder is made


def test_dask_not_installed_says_which_extra(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    argv = [*GRID, "--out", tmp_path / "run", "--executor", "dask"]
    assert_one_line_error(argv, capsys, "--executor dask", "pip install 'mfbench[dask]'")


def test_in_process_does_not_go_with_dask(tmp_path: Path, capsys) -> None:
    argv = [*GRID, "--out", tmp_path / "run", "--executor", "dask", "--in-process"]
    assert_one_line_error(argv, capsys, "--in-process", "--executor dask")
