"""The fault catalogue of run identity and provenance: what a run is, what a record says it
measured, and that nothing is repeated, mixed, overwritten or silently ignored.

Each bad input ends in one line naming the culprit, exit code 2 and no traceback; each fault
loses no finished run and repeats none. Grids run in this process (``--in-process``) on a
tiny generated ratings file; the process-level cases (signals) run real ``mfbench``
processes and are marked slow.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from harness_helpers import assert_one_line_error, config_file, ratings_file, run_cli

from suite import models, regress, report, results, runner, settings, tuning
from suite.config import load_config
from suite.data.files import read_ratings
from suite.data.ratings import Ratings
from suite.errors import InputError
from suite.lock import LOCK_FILE, FolderLock

FAST_MODELS = """
[[models]]
name = "popularity"
[[models]]
name = "numpy-als"
params = { epochs = 2, factors = 4 }
"""


@pytest.fixture(autouse=True)
def own_tuned_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tuned settings of these tests' own (none to start with): no test reads or writes the
    package's."""
    folder = tmp_path / "tuned"
    folder.mkdir()
    monkeypatch.setenv("MFBENCH_TUNED", str(folder))
    return folder


@pytest.fixture
def grid(tmp_path: Path) -> Path:
    """A 4-run config (two fast contenders × two seeds) on a generated ratings file."""
    return config_file(tmp_path, ratings_file(tmp_path), FAST_MODELS)


def run_in_process(config_path: Path, out: Path, capsys, *extra: str) -> tuple[int, str, str]:
    argv = ["run", "--config", config_path, "--out", out, "--in-process", "--no-report", *extra]
    return run_cli(argv, capsys)


def records(out: Path) -> list[dict]:
    return results.read_jsonl(out / results.RESULTS_FILE)


# -- what a run is -------------------------------------------------------------------------------


def test_a_run_id_does_not_change_with_the_thread_count(grid: Path, tmp_path: Path) -> None:
    one, two = load_config(str(grid)), load_config(str(grid))
    one.n_threads, two.n_threads = 1, 2
    ids = [[t.run_id for p in runner.plan(g, tmp_path) for t in p.tasks] for g in (one, two)]
    assert ids[0] == ids[1] and len(set(ids[0])) == 4


def test_a_run_id_follows_the_data_content_not_the_path(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    ratings_file(first)
    shutil.copy(first / "u.data", second / "u.data")  # the same content elsewhere
    (tmp_path / "c").mkdir()
    ratings_file(tmp_path / "c", n=900)  # other content, same base name

    def ids(folder: Path) -> list[str]:
        grid = load_config(str(config_file(folder, folder / "u.data", FAST_MODELS)))
        return [t.run_id for p in runner.plan(grid, folder) for t in p.tasks]

    assert ids(first) == ids(second)
    assert not set(ids(first)) & set(ids(tmp_path / "c"))


def test_resume_on_another_core_count_repeats_nothing(
    grid: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = grid.read_text().replace("n_threads = 1", "n_threads = 0")  # every core
    grid.write_text(raw)
    out = tmp_path / "run"
    monkeypatch.setattr(runner, "resolve_threads", lambda n_threads: n_threads or 1)
    assert run_in_process(grid, out, capsys)[0] == 0
    # resumed on a bigger machine
    monkeypatch.setattr(runner, "resolve_threads", lambda n_threads: n_threads or 2)
    code, _, err = run_cli(["run", "--resume", "--out", out, "--in-process", "--no-report"], capsys)
    assert code == 0, err
    assert len(records(out)) == 4  # nothing repeated
    assert run_cli(["report", out], capsys)[0] == 0  # and the folder still reports


def test_resume_keeps_the_folders_settings_when_tuned_settings_changed(
    grid: Path, tmp_path: Path, capsys, caplog, own_tuned_folder: Path
) -> None:
    caplog.set_level(logging.INFO, logger="mfbench")
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys)[0] == 0
    lines = (out / results.RESULTS_FILE).read_text().splitlines()
    (out / results.RESULTS_FILE).write_text("\n".join(lines[:2]) + "\n")  # two runs left
    data = load_config(str(grid)).datasets[0].name
    tuned = own_tuned_folder / f"{settings.tuned_key(data)}.toml"
    tuned.write_text('"numpy-als" = { l2 = 0.5 }\n')  # a `tune --save` since
    code, _, err = run_cli(["run", "--resume", "--out", out, "--in-process", "--no-report"], capsys)
    assert code == 0, err
    rows = records(out)
    assert len(rows) == 4 and len({row["run_id"] for row in rows}) == 4
    default = models.hyperparameters("numpy-als")["l2"]
    assert {row["params"]["l2"] for row in rows if row["model"] == "numpy-als"} == {default}
    assert "the resume runs the folder's own" in caplog.text


def test_resume_refuses_data_that_changed_and_loses_nothing(
    grid: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys)[0] == 0
    before = (out / results.RESULTS_FILE).read_bytes()
    ratings_file(tmp_path, n=900)  # the same file, rewritten with other ratings
    data = str(tmp_path / "u.data")
    assert_one_line_error(
        ["run", "--resume", "--out", out],
        capsys,
        f"the data set {data} changed since",
        "content digest",
    )
    assert (out / results.RESULTS_FILE).read_bytes() == before


def test_resume_refuses_a_folder_without_a_saved_plan(grid: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys)[0] == 0
    (out / runner.PLAN_FILE).unlink()  # as an older mfbench left it
    assert_one_line_error(["run", "--resume", "--out", out], capsys, "holds no plan.json")


def test_resume_from_another_directory_reads_the_same_file(
    grid: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = config_file(tmp_path, Path("u.data"), FAST_MODELS)  # named relatively
    out = tmp_path / "run"
    assert run_in_process(relative, out, capsys)[0] == 0
    saved = json.loads((out / results.GRID_FILE).read_text())
    assert saved["datasets"][0]["name"] == str(tmp_path / "u.data")  # absolute, resolved
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ratings_file(elsewhere, n=900)  # another u.data where the resume is started
    monkeypatch.chdir(elsewhere)
    lines = (out / results.RESULTS_FILE).read_text().splitlines()
    (out / results.RESULTS_FILE).write_text("\n".join(lines[:3]) + "\n")
    code, _, err = run_cli(["run", "--resume", "--out", out, "--in-process", "--no-report"], capsys)
    assert code == 0, err
    assert {row["data_digest"] for row in records(out)} == {records(out)[0]["data_digest"]}


# -- every record carries its provenance ---------------------------------------------------------


def test_every_record_says_what_it_measured(grid: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys)[0] == 0
    digest = read_ratings(tmp_path / "u.data").digest()
    for row in records(out):
        assert row["data_digest"] == digest
        assert "git_commit" in row and isinstance(row["git_dirty"], bool)
        facts = json.loads(row["model_facts"])
        assert facts["contests"] and "floor" in facts and facts["library"]
        assert json.loads(row["library_version"])  # e.g. {"numpy": "2.4.6"}


def test_an_old_folder_reports_with_the_facts_it_recorded(grid: Path, tmp_path: Path, capsys):
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys)[0] == 0
    path = out / results.RESULTS_FILE
    rows = records(out)
    for row in rows:  # as if numpy-als had entered the ranking contest only when it ran
        if row["model"] == "numpy-als":
            facts = json.loads(row["model_facts"])
            row["model_facts"] = json.dumps({**facts, "contests": ["ranking"]})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    results.write_csv(out)
    text = report.write_report(out).path.read_text()
    assert "Rating prediction" not in text.split("## ")[1]  # no rating entrant recorded


def test_the_report_refuses_runs_of_one_name_on_two_data_sets(
    grid: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys)[0] == 0
    rows = records(out)
    rows[0]["data_digest"] = "0" * 64
    (out / results.RESULTS_FILE).write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert_one_line_error(["report", out], capsys, "were measured on 2 different data sets")


def test_compare_does_not_pair_runs_on_different_data(tmp_path: Path, capsys) -> None:
    sides = []
    for name, size in (("a", 1200), ("b", 900)):
        folder = tmp_path / name
        folder.mkdir()
        data = ratings_file(folder, n=size)
        shared = folder / "shared.data"  # the same path's name in both, other content
        data.rename(shared)
        grid = config_file(folder, shared, FAST_MODELS)
        grid.write_text(grid.read_text().replace(str(shared), "shared.data"))
        out = folder / "run"
        cwd = Path.cwd()
        os.chdir(folder)
        try:
            assert run_in_process(grid, out, capsys)[0] == 0
        finally:
            os.chdir(cwd)
        sides.append(out)
    for row_side in sides:  # the same label on both sides, as for one relative path
        rows = records(row_side)
        for row in rows:
            row["dataset"] = "shared.data"
        (row_side / results.RESULTS_FILE).write_text(
            "".join(json.dumps(row) + "\n" for row in rows)
        )
    assert_one_line_error(["compare", *sides], capsys, "different data", "shared.data")


# -- nothing overwritten -------------------------------------------------------------------------


@pytest.mark.parametrize("held", ["results.csv", "REPORT.md", "env.json", "check.json"])
def test_run_refuses_a_folder_that_holds_results(
    grid: Path, tmp_path: Path, capsys, held: str
) -> None:
    out = tmp_path / "copy"
    out.mkdir()
    (out / held).write_text("committed\n")
    assert_one_line_error(
        ["run", "--config", grid, "--out", out, "--in-process"],
        capsys,
        f"--out {out}: already holds results ({held})",
    )
    assert (out / held).read_text() == "committed\n"
    assert not (out / results.RESULTS_FILE).exists()


def test_check_never_runs_into_its_reference(tmp_path: Path, capsys) -> None:
    reference = tmp_path / "ref"
    reference.mkdir()
    (reference / "check.json").write_text("{}")
    assert_one_line_error(
        ["check", "--reference", reference, "--out", reference, "--update"],
        capsys,
        "already holds results (check.json)",
    )
    assert (reference / "check.json").read_text() == "{}"


# -- nothing repeated ----------------------------------------------------------------------------


def test_a_backend_listed_twice_is_refused(tmp_path: Path, capsys) -> None:
    data = ratings_file(tmp_path)
    argv = ["run", "--dataset", data, "--model", "numpy-als", "--backend", "cpu,cpu"]
    assert_one_line_error(
        [*argv, "--out", tmp_path / "run"], capsys, "backends: 'cpu' is listed twice"
    )


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("seeds = [0, 1]", "seeds = [0, 0]", "seeds: 0 is listed twice"),
        (
            'name = "numpy-als"\n',
            'name = "numpy-als"\nbackends = ["cpu", "cpu"]\n',
            "'cpu' is listed twice",
        ),
        (
            'name = "popularity"\n',
            'name = "popularity"\n[[models]]\nname = "popularity"\nlabel = "again"\n',
            "is the same run as",
        ),
    ],
)
def test_a_run_listed_twice_in_a_config_is_refused(
    grid: Path, tmp_path: Path, capsys, old: str, new: str, needle: str
) -> None:
    grid.write_text(grid.read_text().replace(old, new, 1))
    assert_one_line_error(["run", "--config", grid, "--out", tmp_path / "run"], capsys, needle)
    assert not (tmp_path / "run" / results.RESULTS_FILE).exists()


def test_a_deleted_lock_file_lets_no_second_writer_in(grid: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys)[0] == 0
    with FolderLock(out):
        (out / LOCK_FILE).unlink()  # someone tidies the folder while a grid runs into it
        with pytest.raises(InputError, match="another mfbench"), FolderLock(out):
            pass
        assert_one_line_error(["run", "--resume", "--out", out], capsys, "is writing to this")


def test_the_report_counts_a_repeated_record_once(grid: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys)[0] == 0
    path = out / results.RESULTS_FILE
    path.write_text(path.read_text() + path.read_text().splitlines()[0] + "\n")
    frame, _ = results.load(out)
    assert len(frame) == 4 and frame["run_id"].is_unique


# -- nothing ignored -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (["--param", "torch-mf.lr=0.1"], ["--param torch-mf.lr", "not a contender of this grid"]),
        (["--folds", "3"], ["--folds 3", "read by a kfold split only"]),
        (["--model", "popularity", "--epochs", "5"], ["--epochs 5", "no contender"]),
    ],
)
def test_a_flag_that_would_set_nothing_is_refused(
    tmp_path: Path, capsys, extra: list[str], needles: list[str]
) -> None:
    data = ratings_file(tmp_path)
    argv = ["run", "--dataset", data, "--out", tmp_path / "run"]
    if "--model" not in extra:
        argv += ["--model", "numpy-als"]
    assert_one_line_error([*argv, *extra], capsys, *needles)


def test_a_format_for_a_named_data_set_is_refused(tmp_path: Path, capsys) -> None:
    argv = ["run", "--dataset", "synthetic-10k", "--format", "u.data", "--model", "popularity"]
    assert_one_line_error([*argv, "--out", tmp_path / "run"], capsys, "applies to ratings files")


def test_a_split_setting_the_split_does_not_read_is_refused(
    grid: Path, tmp_path: Path, capsys
) -> None:
    grid.write_text(grid.read_text().replace('split = "holdout"', 'split = "holdout"\nfolds = 3'))
    assert_one_line_error(
        ["run", "--config", grid, "--out", tmp_path / "run"], capsys, "folds = 3 is read by a kfold"
    )


def test_tune_refuses_an_out_under_a_file_before_any_search(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    started = time.monotonic()
    argv = ["tune", "--dataset", ratings_file(tmp_path), "--model", "numpy-als", "--trials", "50"]
    assert_one_line_error([*argv, "--out", blocker / "tune"], capsys, f"--out {blocker / 'tune'}")
    assert time.monotonic() - started < 30  # refused at once, not after 50 trials


def test_tune_refuses_folds_with_a_holdout(tmp_path: Path, capsys) -> None:
    argv = ["tune", "--dataset", ratings_file(tmp_path), "--model", "numpy-als", "--folds", "3"]
    assert_one_line_error([*argv, "--out", tmp_path / "t"], capsys, "--folds 3")


# -- paths ---------------------------------------------------------------------------------------


def test_tuned_settings_follow_the_files_content_not_its_name(tmp_path: Path) -> None:
    for name, size in (("a", 1200), ("b", 1200), ("c", 900)):
        (tmp_path / name).mkdir()
        ratings_file(tmp_path / name, n=size)
    keys = {name: settings.tuned_key(str(tmp_path / name / "u.data")) for name in "abc"}
    assert keys["a"] == keys["b"] != keys["c"]  # copies share settings, other files do not
    assert settings.tuned_key("ml-100k") == "ml-100k"


def test_tune_save_never_writes_into_an_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    installed = tmp_path / "lib" / "site-packages" / "suite" / "configs" / "tuned"
    monkeypatch.delenv("MFBENCH_TUNED")
    monkeypatch.setattr(settings, "tuned_folder", lambda: installed)
    winners = tmp_path / "settings.toml"
    winners.write_text(f'{tuning.TITLE} test\n"numpy-als" = {{ factors = 8 }}\n')
    with pytest.raises(InputError, match="inside the installed mfbench; set MFBENCH_TUNED"):
        tuning.save(winners, "ml-100k")
    assert not installed.exists()


def test_two_files_of_one_name_get_their_own_plots(tmp_path: Path, capsys) -> None:
    datasets = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        datasets.append(str(ratings_file(tmp_path / name, n=1200 if name == "a" else 900)))
    out = tmp_path / "run"
    argv = ["run", "--dataset", ",".join(datasets), "--model", "numpy-als,popularity"]
    assert run_cli([*argv, "--threads", "1", "--out", out, "--in-process"], capsys)[0] == 0
    curves = sorted(path.name for path in out.glob("convergence-*.png"))
    assert len(curves) == 2 and curves[0] != curves[1], curves
    assert all(name.startswith("convergence-u_data-") for name in curves)


# -- signals and early exits ---------------------------------------------------------------------


@pytest.mark.slow
def test_sigterm_and_sighup_stop_like_ctrl_c(tmp_path: Path) -> None:
    """One grid per signal, both at once (each is mostly a worker's start-up)."""
    slow = '[[models]]\nname = "numpy-sgd"\nparams = { epochs = 20, factors = 8 }\n'
    config_path = config_file(tmp_path, ratings_file(tmp_path, 150, 100, 6000), slow)
    grids = {}
    for stop in (signal.SIGTERM, signal.SIGHUP):
        out = tmp_path / f"run-{stop.name}"
        command = [sys.executable, "-m", "suite", "run", "--config", config_path, "--out", out]
        process = subprocess.Popen(
            [*map(str, command), "--no-report"], stderr=subprocess.PIPE, text=True
        )
        grids[stop] = (out, process)
    deadline = time.monotonic() + 60
    for stop, (out, process) in grids.items():
        while not (out / results.RESULTS_FILE).exists():  # the first run is recorded
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.1)
        process.send_signal(stop)
    resumed = {}
    for stop, (out, process) in grids.items():
        _, err = process.communicate(timeout=30)
        assert process.returncode == 130, (stop.name, err)
        assert "Traceback" not in err and "BrokenPipe" not in err, err
        assert "continue with `mfbench run --resume" in err and "mfbench: interrupted" in err
        assert len(records(out)) >= 1
        resume = [sys.executable, "-m", "suite", "run", "--resume", "--out", str(out)]
        resumed[stop] = subprocess.Popen([*resume, "--no-report"], stderr=subprocess.DEVNULL)
    for stop, process in resumed.items():
        out = grids[stop][0]
        assert process.wait(timeout=120) == 0 and len(records(out)) == 2, stop.name
        # nothing lost, nothing repeated


def test_ctrl_c_while_starting_up_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from suite import cli

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["list"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "mfbench: interrupted"


@pytest.mark.parametrize("seed", ["-1", "99999999999"])
def test_data_info_refuses_a_bad_seed(capsys, seed: str) -> None:
    assert_one_line_error(["data", "info", "synthetic-seed-2017", "--seed", seed], capsys, "--seed")


def test_data_info_refuses_a_named_pipe_at_once(tmp_path: Path, capsys) -> None:
    pipe = tmp_path / "ratings.pipe"
    os.mkfifo(pipe)
    assert_one_line_error(["data", "info", pipe], capsys, f"{pipe}: not a regular file")


# -- input that would be silently altered --------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "users"),
    [(["007", "7"], 2), (["1e3", "1000"], 2), (["1.0", "1"], 2), (["+7", "7"], 2), (["7", "7"], 1)],
)
def test_ids_are_kept_as_the_file_writes_them(tmp_path: Path, ids: list[str], users: int) -> None:
    path = tmp_path / "ids.data"
    path.write_text("".join(f"{user}\t{item}\t4\n" for item, user in enumerate(ids)))
    ratings = read_ratings(path)
    assert ratings.n_users == users
    assert sorted(map(str, ratings.user_ids)) == sorted(set(ids))


def test_ratings_in_other_scripts_digits_are_named(tmp_path: Path, capsys) -> None:
    path = tmp_path / "digits.data"
    path.write_text("1\t1\t3\n2\t1\t\u0663\n")  # ARABIC-INDIC DIGIT THREE
    assert_one_line_error(
        ["data", "info", path], capsys, f"{path}:2: rating '\u0663' is not a number"
    )


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"n_users": 2.7}, "n_users=2.7 must be a whole number"),
        ({"user": np.array([[0, 1], [1, 0]])}, "user must be a 1-d array"),
        ({"rating": np.ones((4, 1))}, "ratings must be a 1-d array"),
        ({"user_ids": np.array(["a", "a"])}, "user id 'a' names two user codes"),
        ({"item": np.array([0, 1, 0, 0])}, "the pair (user code 1, item code 0) is rated twice"),
    ],
)
def test_the_python_api_refuses_what_it_would_alter(kwargs: dict, needle: str) -> None:
    given = {"user": np.array([0, 0, 1, 1]), "item": np.array([0, 1, 0, 1])}
    given |= {"rating": np.array([4.0, 3.0, 5.0, 1.0])}
    given |= kwargs
    with pytest.raises(InputError) as refused:
        Ratings(given.pop("user"), given.pop("item"), given.pop("rating"), **given)
    assert needle in str(refused.value)
    assert "\n" not in str(refused.value)


def test_an_old_folder_with_old_column_names_still_reports(grid, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys)[0] == 0
    frame = pd.read_csv(out / "results.csv").rename(
        columns={"rating_target": "rmse_target", "rating_noise_floor": "noise_floor_rmse"}
    )
    old = tmp_path / "old"
    old.mkdir()
    frame.drop(columns=["data_digest", "model_facts"]).to_csv(old / "results.csv", index=False)
    loaded, _ = results.load(old)
    assert loaded["rating_target"].eq(1.5).all()
    assert run_cli(["report", old], capsys)[0] == 0


# -- the gate compares what the reference lacks --------------------------------------------------


@pytest.mark.slow
def test_the_gate_fails_a_contender_the_reference_never_ran_ok(tmp_path: Path, capsys) -> None:
    from harness_helpers import gate_config_file

    models = '[[models]]\nname = "popularity"\n[[models]]\nname = "bias-only"\n'
    gate = gate_config_file(tmp_path, ratings_file(tmp_path), "newcomer", models)
    reference = tmp_path / "ref"
    argv = ["check", "--config", gate, "--reference", reference, "--in-process"]
    assert run_cli([*argv, "--update", "--out", tmp_path / "c1"], capsys)[0] == 0
    rows = pd.read_csv(reference / "results.csv", dtype={"reason": object})
    skipped = rows["model"] == "bias-only"  # as if it had been skipped when the reference ran
    rows.loc[skipped, "status"] = "skipped"
    rows.loc[skipped, "reason"] = "no Java runtime"
    rows.to_csv(reference / "results.csv", index=False)
    regress.vouch(reference, ["results.csv"])  # the edited reference, trusted again
    code, out, _ = run_cli([*argv, "--out", tmp_path / "c2"], capsys)
    assert code == 1, out
    assert "not vouched for, no ok run in the reference: bias-only" in out
    assert "skipped in the reference: never compared" in (tmp_path / "c2" / "CHECK.md").read_text()
    assert run_cli([*argv, "--out", tmp_path / "c3", "--allow-new"], capsys)[0] == 0


# -- nothing listens beyond this machine ---------------------------------------------------------


LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def listening(pid: int) -> set[str]:
    """The addresses the process ``pid`` and its children listen on."""
    psutil = pytest.importorskip("psutil")
    process = psutil.Process(pid)
    found = set()
    for each in [process, *process.children(recursive=True)]:
        for connection in each.net_connections(kind="tcp"):
            if connection.status == psutil.CONN_LISTEN:
                found.add(connection.laddr.ip)
    return found


@pytest.mark.slow
def test_a_local_spark_listens_on_loopback_only() -> None:
    from baselines import spark_als

    ok, why = spark_als.SparkALS.available()
    if not ok:
        pytest.skip(why)
    spark = spark_als.session("local[1]", "1g")
    addresses = listening(spark_als.jvm_pid(spark))
    assert addresses and addresses <= LOOPBACK, addresses


@pytest.mark.slow
def test_the_dask_executor_listens_on_loopback_only() -> None:
    pytest.importorskip("distributed")
    from suite.executors.dask import DaskExecutor

    with DaskExecutor(threads_per_run=1, n_workers=1):
        addresses = listening(os.getpid())
    assert addresses and addresses <= LOOPBACK, addresses


# -- a disturbed run is flagged, not reported as clean -------------------------------------------


def test_a_run_with_an_epoch_far_beyond_its_median_is_flagged(grid: Path, tmp_path: Path, capsys):
    out = tmp_path / "run"
    assert run_in_process(grid, out, capsys)[0] == 0
    rows = records(out)
    assert all(row["disturbed"] is False for row in rows if row["status"] == "ok")
    assert all(row["load_1m_start"] >= 0 and row["load_1m_end"] >= 0 for row in rows)
    for row in rows:  # as if another process had held the cores in one epoch
        if row["model"] == "numpy-als":
            row.update(disturbed=True, epoch_swing=10.0, epoch_s_max=10 * row["epoch_s_median"])
    (out / results.RESULTS_FILE).write_text("".join(json.dumps(row) + "\n" for row in rows))
    results.write_csv(out)
    text = report.write_report(out).path.read_text()
    section = text.split("## Disturbed runs")[1]
    assert "numpy-als" in section and "10.0×" in section and "popularity" not in section


def test_a_slow_first_epoch_is_set_up_not_a_disturbance() -> None:
    from suite.measure import epoch_swing

    setup = [0.10, 0.011, 0.012, 0.011, 0.012]  # implicit's ALS on ML-100K: its pool starts
    assert epoch_swing(setup) == pytest.approx(0.012 / 0.0115)
    burst = [0.012, 0.011, 0.012, 0.90, 0.011]  # another process held the cores once
    assert epoch_swing(burst) > 3
    assert math.isnan(epoch_swing([0.1, 0.01, 0.01]))  # too few epochs to judge


def test_runs_wait_for_openmp_awake(monkeypatch: pytest.MonkeyPatch) -> None:
    from suite import threads

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    threads.settle_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # a user's own choice stays
    threads.settle_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
