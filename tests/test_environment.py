"""env.json's load figures: captured before and after each session, and the report's caveats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from harness_helpers import config_file, ratings_file

from suite import environment, runner
from suite.config import load_config
from suite.environment import CpuTimes
from suite.errors import InputError
from suite.executors import local

QUIET = {"loadavg_1m": 0.3, "loadavg_5m": 0.4, "loadavg_15m": 0.5, "busy_pct": 2.0}


def session(
    before: dict | None = None, after: dict | None = None, **facts: object
) -> dict[str, object]:
    """One load session of env.json: quiet before and after unless told otherwise."""
    return {
        "resumed": False,
        "cpu": "AMD EPYC",
        "cores": 2,
        "threads_per_run": 1,
        "git_commit": "abc1234def",
        "git_dirty": False,
        "before": {**QUIET, "steal_pct": 0.0, "sample_s": 0.5, **(before or {})},
        "after": {**QUIET, "steal_pct": 0.5, "ended": "finished", "run_s": 60.0, **(after or {})},
        **facts,
    }


def env_with(*sessions: dict, **facts: object) -> dict[str, object]:
    base = {"cpu": "AMD EPYC", "cores": 2, "git_commit": "abc1234def", "git_dirty": False}
    return {**base, "load": list(sessions), **facts}


# caveats --------------------------------------------------------------------------------


def test_a_quiet_clean_run_has_no_caveat() -> None:
    assert environment.caveats(env_with(session())) == []
    at_the_limit = session(before={"loadavg_1m": 2.0}, after={"loadavg_1m": 2.0, "steal_pct": 5})
    assert environment.caveats(env_with(at_the_limit)) == []  # equal is not above


def test_a_busy_machine_before_the_run_is_said() -> None:
    env = env_with(session(before={"loadavg_1m": 3.1, "busy_pct": 80.0}))
    assert environment.caveats(env) == [
        "The machine was busy: load average 3.1 on 2 cores before the run; timings may be "
        "slower than this machine can do."
    ]


def test_a_load_average_left_by_work_that_had_ended_is_not_a_busy_machine() -> None:
    # A run started right after another: the 1-minute average still counts the first one,
    # while the CPU sample taken then found the machine idle.
    tail = env_with(session(before={"loadavg_1m": 2.04, "busy_pct": 0.0}))
    assert environment.caveats(tail) == []
    no_sample = env_with(session(before={"loadavg_1m": 2.5, "busy_pct": None}))
    assert environment.caveats(no_sample)  # without a sample the average is all there is


def test_a_busy_machine_after_the_run_says_what_the_run_itself_used() -> None:
    own_load = env_with(session(after={"loadavg_1m": 2.9}))  # 1.9 without its own thread
    assert environment.caveats(own_load) == []
    env = env_with(
        session(before={"loadavg_1m": 2.5, "busy_pct": 60.0}, after={"loadavg_1m": 3.04})
    )
    (sentence,) = environment.caveats(env)
    assert sentence == (
        "The machine was busy: load average 2.5 on 2 cores before the run and 3.04 on 2 cores "
        "after the run (the run's own threads account for up to 1); timings may be slower than "
        "this machine can do."
    )


def test_cpu_steal_during_the_run_above_the_threshold_is_said() -> None:
    env = env_with(session(before={"steal_pct": 40.0}))  # a 0.5 s sample: not the run
    assert environment.caveats(env) == []
    (sentence,) = environment.caveats(env_with(session(after={"steal_pct": 12.3})))
    assert sentence.startswith(
        "The CPU was shared: the hypervisor gave 12.3% of the CPU time during the run to other "
        "virtual machines (more than 5%)"
    )


def test_a_dirty_tree_is_said_with_its_commit() -> None:
    env = env_with(session(git_dirty=True), git_dirty=True)
    assert environment.caveats(env) == [
        "The source tree had uncommitted changes: these numbers are not those of commit "
        "abc1234 alone."
    ]


def test_an_old_env_without_load_figures_gets_no_load_caveat() -> None:
    old = {"cpu": "AMD EPYC", "cores": 2, "git_commit": "abc1234def", "git_dirty": False}
    assert environment.caveats(old) == []
    assert environment.caveats({}) == []
    (dirty,) = environment.caveats({**old, "git_dirty": True})
    assert dirty.startswith("The source tree had uncommitted changes")


def test_figures_the_machine_could_not_give_are_passed_over() -> None:
    unknown = dict.fromkeys(["loadavg_1m", "loadavg_5m", "loadavg_15m", "busy_pct", "steal_pct"])
    killed = session(before=unknown)
    del killed["after"]  # a killed session has no after part
    assert environment.caveats(env_with(killed, cores=None)) == []


def test_a_run_resumed_on_other_code_or_another_cpu_is_said() -> None:
    first = session()
    resumed = session(resumed=True, git_commit="fedcba987", cpu="Intel Xeon")
    sentences = environment.caveats(env_with(first, resumed))
    assert (
        "The run was resumed on other code: its runs were measured on the commits abc1234 and "
        "fedcba9, not on one alone." in sentences
    )
    assert any("resumed on another CPU" in s and "AMD EPYC and Intel Xeon" in s for s in sentences)
    busy_resume = session(resumed=True, before={"loadavg_1m": 4.0, "busy_pct": 90.0})
    (busy,) = environment.caveats(env_with(first, busy_resume))
    assert "4 on 2 cores before the resumed run (session 2 of 2)" in busy


# capture --------------------------------------------------------------------------------


def test_cpu_times_read_proc_stat_and_give_none_without_it(tmp_path: Path, monkeypatch) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 5 20 800 10 3 2 60 7 0\ncpu0 1 2 3 4 5 6 7 8 9 0\n")
    monkeypatch.setattr(environment, "PROC_STAT", stat)
    assert environment.cpu_times() == CpuTimes(busy=130, steal=60, total=1000)
    stat.write_text("cpu  100 5 20 800 10 3 2\n")  # a kernel without the steal field
    assert environment.cpu_times() == CpuTimes(busy=130, steal=0, total=940)
    stat.write_text("intr 1 2 3\n")
    assert environment.cpu_times() is None
    monkeypatch.setattr(environment, "PROC_STAT", tmp_path / "absent")
    assert environment.cpu_times() is None


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="no /proc/stat on this system")
def test_cpu_times_of_this_machine_add_up() -> None:
    times = environment.cpu_times()
    assert times is not None and 0 <= times.steal <= times.total
    assert 0 < times.busy < times.total


def fake_readings(monkeypatch, readings: list[CpuTimes | None], loadavg=None) -> None:
    """``cpu_times`` gives ``readings`` in turn; ``os.getloadavg`` gives ``loadavg`` or fails;
    the machine is a 2-core "test CPU" outside a git checkout."""
    queue = list(readings)
    monkeypatch.setattr(environment, "cpu_times", lambda: queue.pop(0))
    monkeypatch.setattr(environment, "environment", lambda: {"cpu": "test CPU", "cores": 2})
    monkeypatch.setattr(environment, "_cpu_model", lambda: "test CPU")
    monkeypatch.setattr(environment, "_git", lambda *_args: None)  # not a checkout

    def getloadavg() -> tuple[float, float, float]:
        if loadavg is None:
            raise OSError("no load average")
        return loadavg

    monkeypatch.setattr(environment.os, "getloadavg", getloadavg)


def test_a_session_records_before_and_after(tmp_path: Path, monkeypatch) -> None:
    fake_readings(
        monkeypatch,
        [
            CpuTimes(busy=100, steal=0, total=1000),
            CpuTimes(busy=150, steal=10, total=1100),  # before: 50% busy, 10% stolen
            CpuTimes(busy=1150, steal=20, total=3100),  # the run: 50% busy, 0.5% stolen
        ],
        loadavg=(1.234, 0.5, 0.25),
    )
    path = tmp_path / "env.json"
    started = environment.start_session(path, resumed=False, threads_per_run=2, sample_s=0)
    written = json.loads(path.read_text())
    assert written["cpu"] == "test CPU" and len(written["load"]) == 1
    assert "after" not in written["load"][0]  # until the session ends
    environment.end_session(started, "finished")
    (recorded,) = json.loads(path.read_text())["load"]
    assert recorded["before"] == {
        "loadavg_1m": 1.23,
        "loadavg_5m": 0.5,
        "loadavg_15m": 0.25,
        "busy_pct": 50.0,
        "steal_pct": 10.0,
        "sample_s": 0,
    }
    after = recorded["after"]
    assert after["ended"] == "finished" and after["run_s"] >= 0
    assert (after["busy_pct"], after["steal_pct"], after["loadavg_1m"]) == (50.0, 0.5, 1.23)
    assert recorded["threads_per_run"] == 2 and recorded["resumed"] is False


def test_without_proc_stat_or_load_average_the_figures_are_none(tmp_path, monkeypatch) -> None:
    fake_readings(monkeypatch, [None, None, None])
    path = tmp_path / "env.json"
    environment.end_session(environment.start_session(path, resumed=False, sample_s=0), "finished")
    env = json.loads(path.read_text())
    (recorded,) = env["load"]
    for part in ("before", "after"):
        for key in ("loadavg_1m", "loadavg_5m", "loadavg_15m", "busy_pct", "steal_pct"):
            assert recorded[part][key] is None, (part, key)
    assert environment.caveats(env) == []


def test_a_resumed_session_is_appended_and_a_fresh_one_starts_over(tmp_path, monkeypatch) -> None:
    fake_readings(monkeypatch, [None] * 9)
    path = tmp_path / "env.json"
    environment.end_session(environment.start_session(path, resumed=False, sample_s=0), "finished")
    first = json.loads(path.read_text())["load"][0]
    environment.end_session(environment.start_session(path, resumed=True, sample_s=0), "finished")
    sessions = json.loads(path.read_text())["load"]
    assert len(sessions) == 2 and sessions[0] == first and sessions[1]["resumed"] is True
    environment.start_session(path, resumed=False, sample_s=0)  # nothing recorded before it
    assert len(json.loads(path.read_text())["load"]) == 1


def test_resuming_with_a_damaged_env_file_is_a_one_line_error(tmp_path, monkeypatch) -> None:
    fake_readings(monkeypatch, [None] * 2)
    path = tmp_path / "env.json"
    path.write_text("{")
    with pytest.raises(InputError, match=r"env.json:1: not env.json .*; delete it"):
        environment.start_session(path, resumed=True, sample_s=0)
    path.write_text(json.dumps({"cpu": "x", "load": {"before": {}}}))
    with pytest.raises(InputError, match=r"not an env.json .*; delete it"):
        environment.start_session(path, resumed=True, sample_s=0)


@pytest.mark.parametrize(
    ("raised", "ended"), [(KeyboardInterrupt, "interrupted"), (RuntimeError, "error")]
)
def test_a_session_that_is_stopped_still_records_how_it_ended(
    tmp_path, monkeypatch, raised, ended
) -> None:
    fake_readings(monkeypatch, [None] * 3)
    monkeypatch.setattr(environment, "SAMPLE_S", 0)
    path = tmp_path / "env.json"
    with pytest.raises(raised), environment.recorded_session(path, resumed=False):
        raise raised()
    assert json.loads(path.read_text())["load"][0]["after"]["ended"] == ended


# the runner -----------------------------------------------------------------------------

FAILING_AND_OK = """
[[models]]
name = "torch-biased-mf"
params = { optimizer = "sgd", lr = 1e6, epochs = 3, batch_size = 8 }
[[models]]
name = "popularity"
"""


def test_the_runner_writes_the_after_part_also_with_failed_runs_and_on_resume(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(environment, "SAMPLE_S", 0.05)
    config = load_config(str(config_file(tmp_path, ratings_file(tmp_path), FAILING_AND_OK, "[0]")))
    out = runner.run_grid(config, tmp_path / "run", in_process=True)
    assert set(pd.read_csv(out / "results.csv")["status"]) == {"failed", "ok"}
    env = json.loads((out / "env.json").read_text())
    assert env["cores"] >= 1 and env["versions"]["torch"]  # the machine facts are still there
    (first,) = env["load"]
    assert first["resumed"] is False and first["threads_per_run"] == 1
    assert first["before"]["sample_s"] == 0.05
    assert first["after"]["ended"] == "finished" and first["after"]["run_s"] >= 0
    assert set(first["after"]) >= {"loadavg_1m", "loadavg_15m", "busy_pct", "steal_pct"}

    runner.run_grid(config, out, resume=True, in_process=True)  # retries the failed run
    sessions = json.loads((out / "env.json").read_text())["load"]
    assert len(sessions) == 2 and sessions[0] == first
    assert sessions[1]["resumed"] is True and sessions[1]["after"]["ended"] == "finished"


def test_an_interrupted_run_records_that_it_was_interrupted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(environment, "SAMPLE_S", 0)

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(local, "run_task", interrupted)
    models = '[[models]]\nname = "popularity"\n'
    config = load_config(str(config_file(tmp_path, ratings_file(tmp_path), models, "[0]")))
    with pytest.raises(KeyboardInterrupt):
        runner.run_grid(config, tmp_path / "run", in_process=True)
    (recorded,) = json.loads((tmp_path / "run" / "env.json").read_text())["load"]
    assert recorded["after"]["ended"] == "interrupted"


def test_env_names_every_contender_library_and_the_version_of_this_tree(capsys) -> None:
    from suite import models
    from suite.cli import main

    recorded = environment.environment()["versions"]
    for name in models.names():
        for requirement in models.get(name).requirements:
            assert recorded[requirement.distribution] == requirement.version(), name
    if shutil.which("java"):
        assert recorded["java"] and recorded["java"][0].isdigit()  # Spark's runtime
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"mfbench {recorded['mfbench']}"
