"""The fault catalogue of run folders: resume, one writer, torn lines, unwritable output,
reports of grids that went wrong, Ctrl-C and killed processes.

Each bad input ends in one line naming the culprit, exit code 2 and no traceback; each fault
loses no finished run and repeats none. The process-level faults (signals, a file-size limit)
run real ``mfbench`` processes and are marked slow; CI runs them.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness_helpers import assert_one_line_error, config_file, ratings_file, run_cli

from suite import results, runner, timed_run
from suite.lock import FolderLock

FAST_MODELS = """
[[models]]
name = "popularity"
[[models]]
name = "numpy-als"
params = { epochs = 2, factors = 4 }
"""

#: Long enough fits to interrupt: a few seconds each on the tiny data.
SLOW_MODELS = """
[[models]]
name = "numpy-sgd"
params = { epochs = 20, factors = 8 }
"""


@pytest.fixture
def grid(tmp_path: Path) -> Path:
    """A 4-run config (two fast contenders × two seeds) on a generated ratings file."""
    return config_file(tmp_path, ratings_file(tmp_path), FAST_MODELS)


def run_in_process(config: Path, out: Path, capsys, *extra: str) -> tuple[int, str, str]:
    return run_cli(["run", "--config", config, "--out", out, "--in-process", *extra], capsys)


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()


def run_ids(out: Path) -> list[str]:
    return [json.loads(line)["run_id"] for line in lines_of(out / results.RESULTS_FILE)]


# -- resume: exactly the saved grid ------------------------------------------------------------


def test_resume_of_a_folder_that_does_not_exist_is_refused(tmp_path: Path, capsys) -> None:
    line = assert_one_line_error(
        ["run", "--resume", "--out", tmp_path / "typo"], capsys, "no such run folder to resume"
    )
    assert "typo" in line and not (tmp_path / "typo").exists()  # nothing started


def test_an_out_that_is_a_file_is_refused_before_any_data_is_loaded(
    grid: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")

    def planned(*args: object) -> None:
        raise AssertionError("the grid was planned (its data loaded) before --out was checked")

    monkeypatch.setattr(runner, "plan", planned)
    command = ["run", "--config", grid, "--out", taken, "--in-process"]
    assert_one_line_error(command, capsys, "a file, not a folder", str(taken))
    assert taken.read_text() == "mine"


def test_resume_of_a_folder_without_a_grid_is_refused(tmp_path: Path, capsys) -> None:
    assert_one_line_error(
        ["run", "--resume", "--out", tmp_path], capsys, "holds no grid.json", str(tmp_path)
    )


def test_resume_of_a_damaged_grid_file_is_refused(tmp_path: Path, capsys) -> None:
    (tmp_path / "grid.json").write_text('{"name": "x", "datasets": [')
    assert_one_line_error(["run", "--resume", "--out", tmp_path], capsys, "grid.json: not a saved")


def test_resume_with_flags_that_change_the_grid_is_refused(grid, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys, "--no-report")[0] == 0
    saved = (out / "grid.json").read_text()
    line = assert_one_line_error(
        ["run", "--config", grid, "--threads", "2", "--resume", "--out", out],
        capsys,
        "describes another grid than the one saved in",
        "grid.n_threads: saved 1, asked 2",
    )
    assert "--out" in line and (out / "grid.json").read_text() == saved  # left as it was


def test_resume_with_the_same_flags_continues(grid, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys, "--no-report")[0] == 0
    code, _, err = run_in_process(grid, out, capsys, "--no-report", "--resume")
    assert code == 0, err
    assert len(run_ids(out)) == 4  # nothing run twice


def test_a_folder_with_results_is_not_overwritten(grid, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys, "--no-report")[0] == 0
    before = (out / results.RESULTS_FILE).read_bytes()
    assert_one_line_error(
        ["run", "--config", grid, "--out", out], capsys, "already holds results (results.jsonl"
    )
    assert (out / results.RESULTS_FILE).read_bytes() == before


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--seeds", "0", "argument --seeds: 0 is below the minimum, 1"),
        ("--folds", "1", "argument --folds: 1 is below the minimum, 2"),
        ("--epochs", "0", "argument --epochs: 0 is below the minimum, 1"),
        ("--threads", "-4", "argument --threads: -4 is below the minimum, 1"),
        ("--seeds", "two", "argument --seeds: 'two' is not a whole number"),
        ("--model", " , ", "--model ' , ': names no model"),
        ("--dataset", "", "--dataset '': names no dataset"),
        ("--out", "", "argument --out: an empty path"),
    ],
)
def test_grid_flags_out_of_range_are_refused(flag, value, message, capsys) -> None:
    assert_one_line_error(["run", flag, value], capsys, message)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--speed-factor", "nan"], "argument --speed-factor: 'nan' is not a finite number"),
        (["--speed-factor", "0.5"], "argument --speed-factor: 0.5 is below the minimum, 1"),
        (["--accuracy-floor", "-1"], "argument --accuracy-floor: -1 is below the minimum, 0"),
        (["--reference", ""], "argument --reference: an empty path"),
    ],
)
def test_gate_flags_that_would_pass_anything_are_refused(argv, message, capsys) -> None:
    assert_one_line_error(["check", *argv], capsys, message)


def test_a_config_that_is_not_text_is_refused(tmp_path: Path, capsys) -> None:
    config = tmp_path / "grid.toml"
    config.write_bytes(b"\xff\xfe\x00name = 1")
    assert_one_line_error(["run", "--config", config], capsys, "grid.toml: not a TOML file")


def test_report_against_an_unknown_reference_model_is_refused(grid, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys, "--no-report")[0] == 0
    assert_one_line_error(
        ["report", out, "--reference-model", "torch-svd"],
        capsys,
        "--reference-model torch-svd: no such contender",
        "(it has numpy-als, popularity)",
    )


# -- one writer per run folder -----------------------------------------------------------------


def test_a_second_writer_of_a_run_folder_is_refused(grid, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys, "--no-report")[0] == 0
    before = (out / results.RESULTS_FILE).read_bytes()
    with FolderLock(out):  # as a running `mfbench run --resume` holds it
        assert_one_line_error(
            ["run", "--resume", "--out", out],
            capsys,
            f"another mfbench (pid {os.getpid()}) is writing to this run folder",
        )
    assert (out / results.RESULTS_FILE).read_bytes() == before
    assert run_in_process(grid, out, capsys, "--no-report", "--resume")[0] == 0  # released


# -- torn and damaged results files --------------------------------------------------------------


def test_resume_completes_a_folder_whose_last_line_is_torn(grid, tmp_path, capsys, caplog) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys, "--no-report")[0] == 0
    path = out / results.RESULTS_FILE
    whole = lines_of(path)
    path.write_text("\n".join(whole[:2]) + "\n" + whole[2][: len(whole[2]) // 2])  # killed
    code, _, err = run_cli(["report", out], capsys)
    assert code == 0 and "skipped a torn final line" in caplog.text  # readable, and says so
    code, _, err = run_in_process(grid, out, capsys, "--no-report", "--resume")
    assert code == 0, err
    assert "removed a torn final line" in caplog.text
    after = lines_of(path)
    assert after[:2] == whole[:2] and len(after) == 4  # nothing lost, the torn run redone
    assert sorted(run_ids(out)) == sorted(json.loads(line)["run_id"] for line in whole)
    code, _, err = run_in_process(grid, out, capsys, "--no-report", "--resume")
    assert code == 0 and len(run_ids(out)) == 4  # and the file stays valid


def test_a_record_whose_newline_was_lost_is_kept(tmp_path: Path) -> None:
    path = tmp_path / results.RESULTS_FILE
    path.write_text('{"run_id": "a", "status": "ok"}\n{"run_id": "b", "status": "ok"}')
    results.append(path, [{"run_id": "c", "status": "ok"}])
    assert [row["run_id"] for row in results.read_jsonl(path)] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"run_id": "a"}\nnot json\n{"run_id": "c"}\n', "results.jsonl:2: not a JSON record"),
        ('{"run_id": "a"}\n[1, 2]\n', "results.jsonl:2: not a run record"),
        ('{"status": "ok"}\n', "results.jsonl:1: not a run record"),
        ('{"run_id": "a"}\n\xff\xfe\n', "results.jsonl:2: not a JSON record"),
    ],
)
def test_a_damaged_results_file_is_named_with_its_line(tmp_path, text, message, capsys) -> None:
    (tmp_path / results.RESULTS_FILE).write_bytes(text.encode("utf-8", "surrogateescape"))
    assert_one_line_error(["report", tmp_path], capsys, message)


def test_a_damaged_results_csv_is_named(tmp_path: Path, capsys) -> None:
    (tmp_path / "results.csv").write_bytes(bytes(range(256)) * 4)
    assert_one_line_error(["report", tmp_path], capsys, "results.csv: not a well-formed CSV")


def test_a_damaged_env_file_is_named(grid, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys, "--no-report")[0] == 0
    (out / "env.json").write_text("{cpu: ")
    assert_one_line_error(["report", out], capsys, "env.json:1: not env.json")


# -- unwritable output ---------------------------------------------------------------------------


def test_out_under_a_file_is_refused(grid, tmp_path, capsys) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    assert_one_line_error(
        ["run", "--config", grid, "--out", blocker / "run"],
        capsys,
        f"--out {blocker / 'run'}: cannot create the folder",
    )


def test_report_of_an_unwritable_readme_is_refused(grid, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys, "--no-report")[0] == 0
    assert_one_line_error(
        ["report", out, "--readme", tmp_path / "missing.md"], capsys, "--readme", "missing.md"
    )


def _file_size_limit(limit: int):
    def limited() -> None:  # the next write past ``limit`` fails with EFBIG, as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limited


@pytest.mark.slow
def test_a_full_disk_stops_the_grid_in_one_line_and_resume_completes_it(tmp_path) -> None:
    data = ratings_file(tmp_path, 30, 20, 200)  # split files of ~10 kB
    config = config_file(tmp_path, data, FAST_MODELS, seeds="[0, 1, 2, 3, 4, 5]")
    out = tmp_path / "run"
    command = [str(part) for part in _mfbench_run(config, out)]
    # Past 12 kB a write fails: results.jsonl (~1.3 kB a record) tears after about 9 runs.
    full = subprocess.run(
        command, capture_output=True, text=True, timeout=300, preexec_fn=_file_size_limit(12_000)
    )
    errors = [line for line in full.stderr.splitlines() if "error" in line]
    assert full.returncode == 2, full.stderr
    assert "Traceback" not in full.stderr and len(errors) == 1, full.stderr
    assert "cannot write (File too large)" in errors[0] and "--resume --out" in errors[0]
    recorded = results.read_jsonl(out / results.RESULTS_FILE)  # still readable
    assert 1 <= len(recorded) < 12
    done = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    ids = run_ids(out)
    assert len(ids) == 12 and len(set(ids)) == 12  # every run once: none lost, none repeated
    assert [row["run_id"] for row in recorded] == ids[: len(recorded)]


# -- no run, no report crash ---------------------------------------------------------------------


def test_a_grid_whose_every_run_failed_still_reports(grid, tmp_path, capsys, monkeypatch) -> None:
    def broken(*_args, **_kwargs):
        raise RuntimeError("the contender crashed")

    monkeypatch.setattr(timed_run, "_run", broken)
    out = tmp_path / "run"
    code, _, err = run_in_process(grid, out, capsys)
    assert code == 0, err  # the grid completed; its failures are in the report
    frame = results.read_csv(out / "results.csv")
    assert len(frame) == 4 and set(frame["status"]) == {"failed"}
    report = (out / "REPORT.md").read_text()
    assert "the contender crashed" in report and "## Skipped and failed runs" in report
    assert "Best ranking" not in report and "Most accurate" not in report


def test_a_data_set_where_only_an_untrained_contender_ran_reports(tmp_path, capsys) -> None:
    config = config_file(tmp_path, ratings_file(tmp_path), '[[models]]\nname = "popularity"')
    code, _, err = run_in_process(config, tmp_path / "run", capsys)
    assert code == 0, err
    report = (tmp_path / "run" / "REPORT.md").read_text()
    assert "Only floors ran in this contest (popularity): nothing to rank." in report
    assert "throughput" not in report.split("## How to read this")[0].lower()


def test_ranking_metrics_are_undefined_when_nothing_is_relevant(tmp_path, capsys) -> None:
    data = ratings_file(tmp_path)
    data.write_text(
        "".join(
            f"{u}\t{i}\t{1 + (u * i) % 3}\t{900_000_000 + k}\n"  # a 1-3 scale: nothing >= 4
            for k, (u, i) in enumerate((u, i) for u in range(1, 41) for i in range(1, 31))
        )
    )
    config = config_file(tmp_path, data, FAST_MODELS)
    code, _, err = run_in_process(config, tmp_path / "run", capsys)
    assert code == 0, err
    frame = results.read_csv(tmp_path / "run" / "results.csv")
    assert frame["ndcg_at_10"].isna().all() and (frame["n_ranked_users"] == 0).all()
    assert frame["reason"].str.contains("ranking metrics undefined").all()
    assert frame.loc[frame["model"] == "numpy-als", "rmse"].notna().all()  # rating still scored
    report = (tmp_path / "run" / "REPORT.md").read_text()
    assert "Best: " not in report.split("### Top-N ranking")[1] and "No ranking result" in report


@pytest.mark.parametrize("kinds", [["epoch"], ["predict", "score"], ["fit"]])
def test_a_pytest_benchmark_file_with_some_kinds_reports(tmp_path, kinds, capsys) -> None:
    benchmarks = [
        {
            "extra_info": {"kind": kind, "dataset": "toy", "model": "numpy-als", "backend": "cpu"}
            | (
                {"ndcg_at_10": 0.1, "rmse": 1.0, "ratings": 1000, "epochs": 2}
                if kind == "fit"
                else {}
            ),
            "stats": {"median": 0.5, "min": 0.4, "max": 0.6, "rounds": 3},
        }
        for kind in kinds
    ]
    source = tmp_path / "bench.json"
    source.write_text(json.dumps({"benchmarks": benchmarks, "datetime": "2026-11-28"}))
    code, _, err = run_cli(["report", "--pytest-benchmark", source], capsys)
    assert code == 0, err
    assert (tmp_path / "bench" / "REPORT.md").exists() and (tmp_path / "bench" / "results.csv")


# -- signals and killed processes ----------------------------------------------------------------


def _mfbench_run(config: Path, out: Path, *extra: str) -> list[str]:
    command = [sys.executable, "-m", "suite", "run", "--config", config, "--out", out]
    return [*map(str, command), "--no-report", *extra]


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (dead, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(condition, what: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _worker_of(main_pid: int) -> int | None:
    """The busy run's worker: a child of the forkserver, itself a child of ``mfbench``."""
    for child in _children(main_pid):
        workers = _children(child)
        if workers:
            return workers[0]
    return None


@pytest.fixture
def slow_grid(tmp_path: Path) -> Path:
    return config_file(tmp_path, ratings_file(tmp_path, 150, 100, 6000), SLOW_MODELS, "[0, 1, 2]")


#: One fit of minutes (numpy-sgd, about 0.1 s an epoch on 6,000 ratings): Ctrl-C must not wait
#: for it. The bound below allows the worker's SIGTERM grace and the interpreter's exit (about
#: 1 s here, 2 s on a loaded CI machine), far less than the fit.
MINUTES_LONG_MODELS = """
[[models]]
name = "numpy-sgd"
params = { epochs = 2000, factors = 8 }
"""


@pytest.mark.slow
def test_ctrl_c_during_a_long_fit_ends_it_without_waiting(tmp_path) -> None:
    grid = config_file(tmp_path, ratings_file(tmp_path, 150, 100, 6000), MINUTES_LONG_MODELS)
    out = tmp_path / "run"
    process = subprocess.Popen(_mfbench_run(grid, out), stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: _worker_of(process.pid), "a worker", process)
    time.sleep(0.5)  # inside the fit
    worker = _worker_of(process.pid)
    pressed = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    took = time.monotonic() - pressed
    assert process.returncode == 130, err
    assert took < 10.0, f"Ctrl-C took {took:.1f} s: it waited for the fit"
    assert not _running(worker), "the busy worker outlived mfbench"
    assert "interrupted: 0 of 2 runs are recorded" in err and "mfbench: interrupted" in err


def test_a_stop_signal_while_a_worker_starts_is_acted_on_after_the_start() -> None:
    from suite.executors import local

    finished = False
    with pytest.raises(KeyboardInterrupt), local._stop_signals_held():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        finished = True  # the request to the fork server is never cut in half
    assert finished


@pytest.mark.slow
def test_sigkill_of_mfbench_mid_run_loses_and_repeats_nothing(slow_grid, tmp_path) -> None:
    out = tmp_path / "run"
    process = subprocess.Popen(_mfbench_run(slow_grid, out), stderr=subprocess.DEVNULL)
    records = out / results.RESULTS_FILE
    _wait_for(lambda: records.exists() and records.read_text().count("\n") >= 1, "a run", process)
    _wait_for(lambda: _worker_of(process.pid), "the next worker", process)
    worker = _worker_of(process.pid)
    process.kill()
    process.wait(timeout=30)
    deadline = time.monotonic() + 5
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(worker), "the orphaned worker kept running"
    before = lines_of(records)
    done = subprocess.run(
        _mfbench_run(slow_grid, out, "--resume"), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    after = lines_of(records)
    assert after[: len(before)] == before
    assert len(after) == 3 and len(set(run_ids(out))) == 3


@pytest.mark.slow
def test_a_killed_worker_is_a_failed_run_and_resume_redoes_only_it(slow_grid, tmp_path) -> None:
    out = tmp_path / "run"
    process = subprocess.Popen(_mfbench_run(slow_grid, out), stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: _worker_of(process.pid), "a worker", process)
    os.kill(_worker_of(process.pid), signal.SIGKILL)
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err  # the grid goes on
    first = results.read_jsonl(out / results.RESULTS_FILE)
    failed = [row for row in first if row["status"] == "failed"]
    assert len(first) == 3 and len(failed) == 1
    assert failed[0]["reason"] == "worker process died (exit code -9)"
    done = subprocess.run(
        _mfbench_run(slow_grid, out, "--resume"), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0 and "2 already recorded" in done.stderr, done.stderr
    rows = results.read_jsonl(out / results.RESULTS_FILE)
    assert rows[:3] == first and len(rows) == 4  # only the killed run ran again
    assert rows[3]["run_id"] == failed[0]["run_id"] and rows[3]["status"] == "ok"


@pytest.mark.slow
def test_two_concurrent_resumes_one_is_refused(slow_grid, tmp_path) -> None:
    out = tmp_path / "run"
    first = subprocess.Popen(_mfbench_run(slow_grid, out), stderr=subprocess.DEVNULL)
    _wait_for(lambda: _worker_of(first.pid), "a worker", first)
    second = subprocess.run(
        _mfbench_run(slow_grid, out, "--resume"), capture_output=True, text=True, timeout=120
    )
    first.send_signal(signal.SIGINT)
    first.wait(timeout=30)
    assert second.returncode == 2, second.stderr
    assert second.stderr.strip() == (
        f"mfbench: error: --out {out}: another mfbench (pid {first.pid}) is writing to this "
        "run folder; wait for it to finish, or use another --out"
    )
    assert runner.saved_grid(out).name == "test-grid"
