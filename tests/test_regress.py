"""The regression gate: it passes an unchanged tree and fails a real regression, naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from harness_helpers import gate_config_file, ratings_file

from suite import regress
from suite.analysis import gate
from suite.cli import main
from suite.config import Grid, ModelSpec
from suite.errors import InputError


def rows(changes: dict | None = None) -> pd.DataFrame:
    """Two seeds of two models on one data set (a rating and a ranking model)."""
    base = []
    for seed, rmse, ndcg, norm in ((0, 0.90, 0.10, 10.0), (1, 0.91, 0.11, 11.0)):
        base.append(
            {
                "dataset": "d",
                "model": "numpy-als",
                "backend": "cpu",
                "split": "holdout",
                "fold": 0,
                "seed": seed,
                "status": "ok",
                "rmse": rmse,
                "ndcg_at_10": ndcg,
                "fit_norm": norm,
                "fit_s": 1.0,
            }
        )
        base.append(
            {
                "dataset": "d",
                "model": "popularity",
                "backend": "cpu",
                "split": "holdout",
                "fold": 0,
                "seed": seed,
                "status": "ok",
                "rmse": float("nan"),
                "ndcg_at_10": 0.05,
                "fit_norm": 0.1,
                "fit_s": 0.5,
            }
        )
    frame = pd.DataFrame(base)
    for (model, seed, column), value in (changes or {}).items():
        frame.loc[(frame["model"] == model) & (frame["seed"] == seed), column] = value
    return frame


def verdicts(table: pd.DataFrame) -> dict[tuple, str]:
    return {
        (r.check, r.model, None if pd.isna(r.seed) else int(r.seed)): r.verdict
        for r in table.itertuples()
    }


def test_identical_results_pass() -> None:
    table = gate.compare(rows(), rows(), gate.Tolerances())
    assert set(table["verdict"]) == {"ok"}
    assert len(table) == 2 * 2 + 2 * 1 + 2  # rmse (rating model), ndcg (both), speed


def test_worse_accuracy_beyond_the_tolerance_fails() -> None:
    now = rows({("numpy-als", 0, "rmse"): 0.93, ("popularity", 1, "ndcg_at_10"): 0.04})
    found = verdicts(gate.compare(rows(), now, gate.Tolerances(accuracy_floor=0.002)))
    assert found[("rmse", "numpy-als", 0)] == "FAIL"
    assert found[("ndcg_at_10", "popularity", 1)] == "FAIL"
    assert found[("rmse", "numpy-als", 1)] == "ok"


def test_changes_within_the_seed_spread_pass() -> None:
    # The reference's RMSE differs by 0.01 between seeds (std 0.0071): allowed drift 0.0035.
    now = rows({("numpy-als", 0, "rmse"): 0.903})
    found = verdicts(gate.compare(rows(), now, gate.Tolerances(accuracy_floor=0.001)))
    assert found[("rmse", "numpy-als", 0)] == "ok"


def test_better_accuracy_never_fails() -> None:
    now = rows({("numpy-als", 0, "rmse"): 0.5, ("numpy-als", 0, "ndcg_at_10"): 0.9})
    assert set(gate.compare(rows(), now, gate.Tolerances())["verdict"]) == {"ok"}


def test_slower_normalised_fit_fails_beyond_the_factor() -> None:
    slower = rows({("numpy-als", 0, "fit_norm"): 14.0, ("numpy-als", 1, "fit_norm"): 15.0})
    found = verdicts(gate.compare(rows(), slower, gate.Tolerances(speed_factor=1.3)))
    assert found[(gate.SPEED_CHECK, "numpy-als", None)] == "FAIL"  # √(14/10 · 15/11) = 1.38
    a_bit = rows({("numpy-als", 0, "fit_norm"): 12.0, ("numpy-als", 1, "fit_norm"): 13.0})
    found = verdicts(gate.compare(rows(), a_bit, gate.Tolerances(speed_factor=1.3)))
    assert found[(gate.SPEED_CHECK, "numpy-als", None)] == "ok"  # √(12/10 · 13/11) = 1.19


def test_fits_too_short_to_time_are_not_speed_checked_and_say_so() -> None:
    reference = rows({("popularity", 0, "fit_s"): 0.01, ("popularity", 1, "fit_s"): 0.01})
    slower = rows({("popularity", 0, "fit_norm"): 5.0, ("popularity", 1, "fit_norm"): 5.0})
    table = gate.compare(reference, slower, gate.Tolerances(min_fit_s=0.25))
    speed = table[table["check"] == gate.SPEED_CHECK].set_index("model")
    assert speed.loc["numpy-als", "verdict"] == "ok"
    assert speed.loc["popularity", "verdict"] == "unchecked"
    assert (
        "reference fit 0.010 s is under 0.25 s: too short to time"
        in speed.loc["popularity", "allowed"]
    )
    assert "FAIL" not in set(table["verdict"])
    assert "1 speed row(s) not checked (why: in the table)" in regress.render(table)


def test_a_contender_that_no_longer_runs_ok_fails_the_gate_by_name() -> None:
    now = rows({("numpy-als", 1, "status"): "failed", ("numpy-als", 1, "reason"): "boom"})
    found = verdicts(gate.compare(rows(), now, gate.Tolerances()))
    assert found[("ran ok", "numpy-als", 1)] == "FAIL"
    table = gate.compare(rows(), now, gate.Tolerances())
    failed = table[table["verdict"] == "FAIL"]
    assert list(failed["allowed"]) == ["ok in the reference; now failed: boom"]
    missing = rows()[lambda f: ~((f["model"] == "popularity") & (f["seed"] == 0))]
    found = verdicts(gate.compare(rows(), missing, gate.Tolerances()))
    assert found[("ran ok", "popularity", 0)] == "FAIL"  # not run at all: "now not run"


def test_retired_contenders_fail_and_new_ones_are_reported() -> None:
    reference = pd.concat([rows(), rows().assign(model="retired-model")])
    now = pd.concat([rows(), rows().assign(model="torch-mf")])
    table = gate.compare(reference, now, gate.Tolerances())
    failed = table[table["verdict"] == "FAIL"]
    assert set(failed["model"]) == {"retired-model"} and set(failed["check"]) == {"ran ok"}
    gone = table[table["verdict"] == "gone"]
    assert list(gone["model"]) == ["retired-model"]
    assert "no longer registered" in gone["check"].iloc[0]
    assert list(table.loc[table["verdict"] == "new", "model"]) == ["torch-mf"]


def test_render_lists_failures_first() -> None:
    now = rows({("numpy-als", 1, "rmse"): 1.5})
    text = regress.render(gate.compare(rows(), now, gate.Tolerances()))
    assert "**1 regression(s)**" in text
    first_row = text.split("\n")[6]
    assert "numpy-als" in first_row and "FAIL" in first_row


def test_reference_must_exist_match_the_config_and_schema(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no check.json .* create one with"):
        regress.load_reference(tmp_path, "ci")
    schema = regress.SCHEMA_VERSION
    (tmp_path / regress.CHECK_FILE).write_text(json.dumps({"schema": schema, "config": "quick"}))
    with pytest.raises(InputError, match="made with config 'quick', not 'ci'"):
        regress.load_reference(tmp_path, "ci")
    (tmp_path / regress.CHECK_FILE).write_text(json.dumps({"schema": 0, "preset": "ci"}))
    with pytest.raises(InputError, match=f"schema 0, this mfbench reads {schema}"):
        regress.load_reference(tmp_path, "ci")


TINY_MODELS = """
[[models]]
name = "numpy-als"
params = { epochs = 3, factors = 4 }
[[models]]
name = "numpy-sgd"
params = { epochs = 40, factors = 4 }
"""


@pytest.mark.slow
def test_gate_end_to_end_passes_unchanged_and_fails_a_doctored_reference(
    tmp_path: Path, capsys
) -> None:
    config = gate_config_file(tmp_path, ratings_file(tmp_path), "tiny", TINY_MODELS)
    reference = tmp_path / "reference"
    common = ["check", "--config", str(config), "--reference", str(reference)]

    assert main([*common, "--update", "--out", str(tmp_path / "first")]) == 0
    assert (reference / regress.CHECK_FILE).exists() and (reference / "results.csv").exists()
    # Unchanged tree: same accuracy to the last digit; speed well within a loose factor.
    assert main([*common, "--out", str(tmp_path / "second"), "--speed-factor", "3"]) == 0
    assert "No regression" in (tmp_path / "second" / "CHECK.md").read_text()

    doctored = pd.read_csv(reference / "results.csv")
    als = doctored["model"] == "numpy-als"
    doctored.loc[als & (doctored["seed"] == 1), "rmse"] -= 0.3  # "the reference was better"
    doctored.loc[doctored["model"] == "numpy-sgd", "fit_norm"] /= 10  # "and faster"
    doctored.to_csv(reference / "results.csv", index=False)
    capsys.readouterr()
    assert main([*common, "--out", str(tmp_path / "refused")]) == 2  # edited behind its back
    assert "results.csv: changed since the reference was written" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()  # refused before any work
    regress.vouch(reference, ["results.csv"])  # the edit made on purpose
    assert main([*common, "--out", str(tmp_path / "third")]) == 1
    report = (tmp_path / "third" / "CHECK.md").read_text()
    failed = [line for line in report.splitlines() if "FAIL" in line]
    assert len(failed) == 2
    assert any("rmse" in line and "numpy-als" in line and "| 1 " in line for line in failed)
    assert any("fit_norm" in line and "numpy-sgd" in line for line in failed)
    assert any("re-measured " in line for line in failed)  # a slowdown is confirmed first
    remeasured = pd.read_csv(tmp_path / "third" / regress.REMEASURED / "results.csv")
    assert set(remeasured["model"]) == {"numpy-sgd"}  # only the contender that failed
    assert "**2 regression(s)**" in capsys.readouterr().out


def _measured_again(monkeypatch, second: pd.DataFrame) -> list[list[str]]:
    """Make ``_confirm_slowdowns`` see ``second`` as its new measurement; the models of each
    grid it runs."""
    ran: list[list[str]] = []
    monkeypatch.setattr(
        regress.runner, "run_grid", lambda grid, *_, **__: ran.append([m.name for m in grid.models])
    )
    tol = gate.Tolerances()
    monkeypatch.setattr(regress, "_compared", lambda *_: gate.compare(rows(), second, tol))
    return ran


def test_a_slowdown_is_believed_only_when_measuring_again_repeats_it(
    monkeypatch, tmp_path: Path
) -> None:
    grid = Grid("g", [], [ModelSpec("numpy-als"), ModelSpec("popularity")])
    slower = {("numpy-als", 0, "fit_norm"): 20.0, ("numpy-als", 1, "fit_norm"): 22.0}
    first = gate.compare(rows(), rows(slower), gate.Tolerances())
    assert verdicts(first)[(gate.SPEED_CHECK, "numpy-als", None)] == "FAIL"  # x2.00

    def confirmed(second: pd.DataFrame) -> pd.Series:
        ran = _measured_again(monkeypatch, second)
        args = (grid, first, tmp_path, rows(), tmp_path, gate.Tolerances(), True)
        table = regress._confirm_slowdowns(*args)
        assert ran == [["numpy-als"]]  # only the failing contender runs again
        return table[table["check"] == gate.SPEED_CHECK].set_index("model").loc["numpy-als"]

    burst = confirmed(rows({("numpy-als", 0, "fit_norm"): 11.0}))  # x1.05 the second time
    assert burst["verdict"] == "ok" and burst["change"] == 1.05
    assert "(took 2.00×, re-measured 1.05×)" in burst["allowed"]
    real = confirmed(rows({**slower, ("numpy-als", 1, "fit_norm"): 16.0}))  # x1.71
    assert real["verdict"] == "FAIL" and real["change"] == 1.71  # the smaller ratio is judged
    assert "(took 2.00×, re-measured 1.71×)" in real["allowed"]


def test_gate_refuses_a_reference_of_another_config(tmp_path: Path, capsys) -> None:
    (tmp_path / regress.CHECK_FILE).write_text(
        json.dumps({"schema": regress.SCHEMA_VERSION, "preset": "other"})
    )
    code = main(["check", "--reference", str(tmp_path)])
    assert code == 2
    assert "made with config 'other', not 'ci'" in capsys.readouterr().err


def test_noisier_contenders_get_their_own_speed_limit() -> None:
    reference = rows().assign(model=lambda f: f["model"].replace("numpy-als", "torch-mf-seed"))
    slower = reference.copy()
    slower.loc[slower["model"] == "torch-mf-seed", "fit_norm"] *= 1.6
    tolerances = gate.Tolerances(speed_factor=1.3)
    found = verdicts(gate.compare(reference, slower, tolerances))
    assert found[(gate.SPEED_CHECK, "torch-mf-seed", None)] == "ok"  # 1.6 <= 2.0
    slower.loc[slower["model"] == "torch-mf-seed", "fit_norm"] *= 1.5
    found = verdicts(gate.compare(reference, slower, tolerances))
    assert found[(gate.SPEED_CHECK, "torch-mf-seed", None)] == "FAIL"  # 2.4 > 2.0


def env_of(cpu: str, kernels: str) -> dict:
    blas = {"user_api": "blas", "internal_api": "openblas", "architecture": kernels}
    return {"cpu": cpu, "threadpools": [{"user_api": "openmp"}, blas]}


def test_machine_class_is_the_cpu_and_its_blas_kernels() -> None:
    assert regress.machine_class(env_of("AMD EPYC", "Haswell")) == "AMD EPYC / Haswell"
    assert regress.machine_class({"cpu": "Apple M2", "threadpools": []}) == "Apple M2"


def make_reference(folder: Path, cpu: str, kernels: str) -> pd.DataFrame:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "env.json").write_text(json.dumps(env_of(cpu, kernels)))
    meta = {"schema": regress.SCHEMA_VERSION, "config": "ci", "files": {}}
    (folder / regress.CHECK_FILE).write_text(json.dumps(meta))
    return rows()


def test_speed_on_another_machine_class_is_unchecked_and_said(tmp_path: Path) -> None:
    reference = make_reference(tmp_path, "Intel Xeon", "SkylakeX")
    slower = rows({("numpy-als", 0, "fit_norm"): 40.0, ("numpy-als", 1, "fit_norm"): 40.0})
    speed = regress.speed_reference(tmp_path, reference, "AMD EPYC / Haswell")
    assert speed.runs is None and speed.known == ["Intel Xeon / SkylakeX"]
    table = gate.compare(reference, slower, gate.Tolerances(), speed)
    speed_rows = table[table["check"] == gate.SPEED_CHECK]
    assert set(speed_rows["verdict"]) == {"unchecked"} and len(speed_rows) == 2
    assert "FAIL" not in set(table["verdict"])
    text = regress.render(table)
    assert "No regression: 6 checks passed; 2 speed row(s) not checked" in text
    assert "**Speed not checked on this machine:** no speed reference for this machine " in text
    assert "(AMD EPYC / Haswell); the reference has Intel Xeon / SkylakeX" in text


def test_a_speed_file_of_this_machine_class_is_used(tmp_path: Path) -> None:
    reference = make_reference(tmp_path / "ref", "Intel Xeon", "SkylakeX")
    amd_run = tmp_path / "amd"
    amd_run.mkdir()
    (amd_run / "env.json").write_text(json.dumps(env_of("AMD EPYC", "Haswell")))
    amd = rows({("numpy-als", 0, "fit_norm"): 20.0, ("numpy-als", 1, "fit_norm"): 22.0})
    amd.assign(run_id=range(len(amd)), params="{}", reason="").reindex(
        columns=sorted(set(amd.columns) | set(regress.results.REQUIRED_COLUMNS))
    ).to_csv(amd_run / "results.csv", index=False)
    path = regress.write_speed_reference(amd_run, tmp_path / "ref")
    assert path.name == "speed-amd-epyc-haswell.csv"
    speed = regress.speed_reference(tmp_path / "ref", reference, "AMD EPYC / Haswell")
    assert speed.known == ["Intel Xeon / SkylakeX", "AMD EPYC / Haswell"]
    same_as_amd = gate.compare(reference, amd, gate.Tolerances(), speed)
    assert set(same_as_amd["verdict"]) == {"ok"}  # judged against AMD's figures, not Intel's
    slower = amd.assign(fit_norm=amd["fit_norm"] * 1.5)
    found = verdicts(gate.compare(reference, slower, gate.Tolerances(), speed))
    assert found[(gate.SPEED_CHECK, "numpy-als", None)] == "FAIL"
    newcomer = pd.concat([amd, amd.assign(model="numba-sgd")])
    found = verdicts(gate.compare(reference, newcomer, gate.Tolerances(), speed))
    assert found[(gate.SPEED_CHECK, "numba-sgd", None)] == "unchecked"  # AMD has no figure
    with pytest.raises(InputError, match="was made on this machine class"):
        regress.write_speed_reference(tmp_path / "ref", tmp_path / "ref")
    stale = regress.write_reference(amd_run, tmp_path / "ref", "ci", gate.Tolerances())
    assert stale == [path] and not path.exists()  # a new reference retires other classes' figures


def test_a_damaged_speed_file_is_a_one_line_error(tmp_path: Path) -> None:
    reference = make_reference(tmp_path, "Intel Xeon", "SkylakeX")
    (tmp_path / "speed-amd-epyc.csv").write_text(",".join(regress.SPEED_COLUMNS) + ",machine\n")
    with pytest.raises(InputError, match=r"speed-amd-epyc.csv: not a speed reference: needs rows"):
        regress.speed_reference(tmp_path, reference, "AMD EPYC / Haswell")


def test_a_reference_is_only_made_of_a_complete_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "env.json").write_text(json.dumps(env_of("AMD EPYC", "Haswell")))
    frame = rows({("numpy-als", 1, "status"): "failed", ("numpy-als", 1, "reason"): "boom"})
    frame.assign(run_id=range(len(frame)), params="{}").reindex(
        columns=sorted(set(frame.columns) | set(regress.results.REQUIRED_COLUMNS))
    ).to_csv(run / "results.csv", index=False)
    make_reference(tmp_path / "ref", "Intel Xeon", "SkylakeX")
    with pytest.raises(InputError, match=r"--update-speed: 1 run\(s\) in .* failed .*boom"):
        regress.write_speed_reference(run, tmp_path / "ref")
    with pytest.raises(InputError, match=r"--update: 1 run\(s\) in .* failed"):
        regress.write_reference(run, tmp_path / "ref", "ci", gate.Tolerances())


def test_a_looser_command_line_factor_also_loosens_a_contenders_own_limit() -> None:
    assert gate.Tolerances(speed_factor=1.3).speed_limit("torch-mf-seed") == 2.0
    assert gate.Tolerances(speed_factor=3.0).speed_limit("torch-mf-seed") == 3.0
    assert gate.Tolerances(speed_factor=1.3).speed_limit("retired-model") == 1.3


def speed_line(text: str, model: str) -> list[str]:
    """The cells of ``model``'s speed row in a rendered CHECK.md."""
    (line,) = [
        line
        for line in text.splitlines()
        if line.startswith(f"| {gate.SPEED_CHECK}") and f"| {model} " in line
    ]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_a_speed_row_shows_now_over_reference_as_a_ratio_against_its_limit() -> None:
    slower = rows({("numpy-als", 0, "fit_norm"): 14.0, ("numpy-als", 1, "fit_norm"): 15.0})
    faster = rows({("popularity", 0, "fit_norm"): 0.07, ("popularity", 1, "fit_norm"): 0.076})
    now = pd.concat(
        [slower[slower["model"] == "numpy-als"], faster[faster["model"] != "numpy-als"]]
    )
    table = gate.compare(rows(), now, gate.Tolerances(speed_factor=1.3, min_fit_s=0.25))
    text = regress.render(table)
    header = [cell.strip() for cell in text.splitlines()[4].strip("|").split("|")]
    assert header[6:9] == ["now", "change", "allowed"]
    als = dict(zip(header, speed_line(text, "numpy-als"), strict=True))
    assert (als["reference"], als["now"], als["change"]) == ("10.5", "14.5", "takes 1.38×")
    assert (als["allowed"], als["verdict"]) == ("≤ 1.3×", "FAIL")  # 14.5 / 10.5 > 1.3
    popularity = dict(zip(header, speed_line(text, "popularity"), strict=True))
    assert (popularity["change"], popularity["verdict"]) == ("takes 0.73×", "ok")  # 0.073 / 0.1
    assert text.splitlines()[2].startswith("**1 regression(s)** out of 8 checks.")


def test_accuracy_rows_show_a_signed_difference_against_a_bound_on_it() -> None:
    now = rows({("numpy-als", 0, "ndcg_at_10"): 0.09, ("numpy-als", 0, "rmse"): 0.901})
    table = gate.compare(rows(), now, gate.Tolerances(accuracy_floor=0.002))
    text = regress.render(table)
    ndcg = next(line for line in text.splitlines() if line.startswith("| ndcg_at_10 "))
    assert "| -0.01 " in ndcg and "| ≥ -0.0035 " in ndcg and ndcg.rstrip(" |").endswith("FAIL")
    rmse = next(line for line in text.splitlines() if "| rmse " in line and "| 0 " in line)
    assert "| +0.001 " in rmse and "| ≤ +0.0035 " in rmse and "| ok " in rmse


def test_a_speed_ratio_is_judged_as_it_is_shown() -> None:
    def judged(factor: float) -> tuple[str, str]:  # every run ``factor`` × its reference's
        now = rows({("numpy-als", seed, "fit_norm"): (10.0 + seed) * factor for seed in (0, 1)})
        cells = speed_line(
            regress.render(gate.compare(rows(), now, gate.Tolerances())), "numpy-als"
        )
        return cells[7], cells[9]

    assert judged(1.304) == ("takes 1.30×", "ok")  # shown 1.30: within "≤ 1.3×"
    assert judged(1.306) == ("takes 1.31×", "FAIL")


def one(model: str, changes: dict | None = None, **columns) -> pd.DataFrame:
    """``rows()``'s two numpy-als runs, renamed ``model``, with ``changes`` and ``columns``."""
    frame = rows(changes)
    return frame[frame["model"] == "numpy-als"].assign(model=model, **columns)


def test_every_speed_row_not_compared_is_listed_with_its_reason(tmp_path: Path) -> None:
    make_reference(tmp_path / "ref", "Intel Xeon", "SkylakeX")
    nan = float("nan")
    reference = pd.concat(
        [
            one("numpy-als"),
            one("numba-sgd", fit_s=0.01),  # too short to time
            one("torch-mf"),
            one("lightfm-bpr"),
            one("torch-bpr", status="skipped", fit_norm=nan),
            one("torch-mf-seed"),
        ]
    )
    now = pd.concat(
        [
            one("numpy-als"),
            one("numba-sgd"),
            one("torch-mf", {("numpy-als", 1, "status"): "failed"}),
            one("lightfm-bpr", fit_norm=nan),  # the config does not calibrate
            one("torch-bpr", status="skipped", fit_norm=nan),
            one("torch-ials"),  # a newcomer
            one("torch-mf-seed").assign(seed=lambda f: f["seed"] + 1),  # seeds 1, 2
        ]
    )
    speed = regress.speed_reference(tmp_path / "ref", reference, "Intel Xeon / SkylakeX")
    table = gate.compare(reference, now, gate.Tolerances(min_fit_s=0.25), speed)
    speed_rows = table[table["check"] == gate.SPEED_CHECK].set_index("model")
    assert len(speed_rows) == 7 and speed_rows.loc["numpy-als", "verdict"] == "ok"
    why = speed_rows.loc[speed_rows["verdict"] == "unchecked", "allowed"].to_dict()
    assert why == {
        "lightfm-bpr": "no fit_norm (the config does not calibrate)",
        "numba-sgd": "reference fit 0.010 s is under 0.25 s: too short to time",
        "torch-bpr": "no run ok now (2 skipped)",
        "torch-ials": "no speed figure for it on this machine class",
        "torch-mf": "1 of 2 runs not ok now (1 failed): no median of all",
        "torch-mf-seed": (
            "timed on other runs than the reference (now only: holdout f0 s2; "
            "reference only: holdout f0 s0)"
        ),
    }
    assert pd.isna(speed_rows.loc["torch-mf", "now"])  # no median of the runs that were left
    text = regress.render(table)
    for model, reason in why.items():
        assert reason in speed_line(text, model)
    assert "6 speed row(s) not checked (why: in the table)" in text.splitlines()[2]


def test_the_headline_says_only_what_the_table_holds(tmp_path: Path) -> None:
    reference = make_reference(tmp_path, "Intel Xeon", "SkylakeX")
    speed = regress.speed_reference(tmp_path, reference, "AMD EPYC / Haswell")
    skipped = rows().assign(status="skipped")
    nothing = regress.render(gate.compare(skipped, skipped, gate.Tolerances(), speed))
    assert nothing.splitlines()[2] == (
        "No check was made: nothing was compared; 2 speed row(s) not checked (why: in the table)."
    )
    assert "No regression" not in nothing and "passed" not in nothing
    newcomer = pd.concat([rows(), rows().assign(model="torch-mf")])
    worse = newcomer.assign(rmse=newcomer["rmse"] + 0.1)
    text = regress.render(gate.compare(rows(), worse, gate.Tolerances(), speed))
    assert text.splitlines()[2].startswith(
        "**2 regression(s)** out of 6 checks; 3 speed row(s) not checked (why: in the table); "
        "1 contender(s) with no ok run in the reference, not checked. **Speed not checked "
        "on this machine:** no speed reference for this machine class (AMD EPYC / Haswell)"
    )


def test_an_update_is_headed_as_a_new_reference_not_as_regressions(tmp_path: Path) -> None:
    reference = make_reference(tmp_path, "Intel Xeon", "SkylakeX")
    speed = regress.speed_reference(tmp_path, reference, "AMD EPYC / Haswell")
    worse = rows().assign(rmse=rows()["rmse"] + 0.1)
    table = gate.compare(rows(), worse, gate.Tolerances(), speed)
    text = regress.render(table, update=True)
    assert text.startswith("# mfbench check --update: a new reference")
    assert "2 row(s) beyond the gate's tolerances (expected after a deliberate change" in text
    assert "regression(s)** out of" not in text
