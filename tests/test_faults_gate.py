"""The fault catalogue of the regression gate: damaged references are refused in one line
before any work, and nothing the reference ran ok passes unseen."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from harness_helpers import assert_one_line_error, gate_config_file, ratings_file, run_cli

from suite import regress, timed_run
from suite.cli import main

GATE_MODELS = """
[[models]]
name = "popularity"
[[models]]
name = "numpy-als"
params = { epochs = 2, factors = 4 }
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(config, reference)``: a gate reference made by ``check --update`` in this process."""
    folder = tmp_path_factory.mktemp("gate")
    config = gate_config_file(folder, ratings_file(folder), "tiny", GATE_MODELS)
    reference = folder / "reference"
    argv = ["check", "--config", config, "--reference", reference, "--update", "--in-process"]
    assert main([str(arg) for arg in [*argv, "--out", folder / "first"]]) == 0
    return config, reference


@pytest.fixture
def gate(made, tmp_path: Path) -> tuple[list, Path]:
    """``(check argv without --out, a private copy of the reference)``."""
    config, reference = made
    copy = tmp_path / "reference"
    shutil.copytree(reference, copy)
    return ["check", "--config", config, "--reference", copy, "--in-process"], copy


def refused(gate, capsys, tmp_path: Path, *needles: str) -> None:
    """The gate stops in one line naming the problem, and before running anything."""
    argv, _ = gate
    assert_one_line_error([*argv, "--out", tmp_path / "run"], capsys, *needles)
    assert not (tmp_path / "run").exists()


def edit_meta(reference: Path, **changes) -> None:
    path = reference / regress.CHECK_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def test_an_intact_reference_passes(gate, tmp_path, capsys) -> None:
    argv, _ = gate
    code, out, err = run_cli([*argv, "--out", tmp_path / "run", "--speed-factor", "5"], capsys)
    assert code == 0, err + out
    assert "No regression" in out


def test_check_json_that_is_not_json_is_refused(gate, tmp_path, capsys) -> None:
    (gate[1] / regress.CHECK_FILE).write_text('{"schema": 2,')
    refused(gate, capsys, tmp_path, "check.json:1: not a gate reference's check.json")


def test_check_json_that_is_not_an_object_is_refused(gate, tmp_path, capsys) -> None:
    (gate[1] / regress.CHECK_FILE).write_text("[2]")
    refused(gate, capsys, tmp_path, "check.json: not a gate reference (not a JSON object)")


def test_a_reference_of_another_schema_is_refused(gate, tmp_path, capsys) -> None:
    edit_meta(gate[1], schema=1)
    refused(gate, capsys, tmp_path, "schema 1, this mfbench reads 2")


def test_unknown_tolerances_are_refused(gate, tmp_path, capsys) -> None:
    edit_meta(gate[1], tolerances={"speed_factr": 2})
    refused(gate, capsys, tmp_path, "check.json: unknown tolerance 'speed_factr'")


@pytest.mark.parametrize("value", ["nan", 0.5, "x"])
def test_tolerances_that_would_pass_anything_are_refused(gate, tmp_path, capsys, value) -> None:
    edit_meta(gate[1], tolerances={"speed_factor": float(value) if value != "x" else value})
    refused(gate, capsys, tmp_path, "check.json: tolerance speed_factor = ", "must be a number")


def test_a_truncated_reference_is_refused(gate, tmp_path, capsys) -> None:
    results_csv = gate[1] / "results.csv"
    lines = results_csv.read_text().splitlines(keepends=True)
    results_csv.write_text("".join(lines[:-2]))
    refused(gate, capsys, tmp_path, "results.csv: changed since", f"{len(lines) - 3} rows, ")


def test_an_edited_reference_is_refused(gate, tmp_path, capsys) -> None:
    results_csv = gate[1] / "results.csv"
    results_csv.write_text(results_csv.read_text().replace("numpy-als", "numpy-alz", 1))
    refused(gate, capsys, tmp_path, "results.csv: changed since", "same rows")


def test_a_reference_missing_its_results_is_refused(gate, tmp_path, capsys) -> None:
    (gate[1] / "results.csv").unlink()
    refused(gate, capsys, tmp_path, "results.csv: missing from the reference")


def test_a_damaged_env_file_is_refused(gate, tmp_path, capsys) -> None:
    (gate[1] / "env.json").write_text("{")
    refused(gate, capsys, tmp_path, "env.json: changed since")


def test_a_speed_file_nobody_vouched_for_is_refused(gate, tmp_path, capsys) -> None:
    shutil.copy(gate[1] / "results.csv", gate[1] / "speed-other-cpu.csv")
    refused(gate, capsys, tmp_path, "speed-other-cpu.csv: not written by `mfbench check")


def test_a_reference_without_digests_is_refused(gate, tmp_path, capsys) -> None:
    meta = json.loads((gate[1] / regress.CHECK_FILE).read_text())
    del meta["files"]
    (gate[1] / regress.CHECK_FILE).write_text(json.dumps(meta))
    refused(gate, capsys, tmp_path, "lists no file digests; refresh it with --update")


def test_update_replaces_a_damaged_reference(gate, tmp_path, capsys) -> None:
    argv, reference = gate
    (reference / "results.csv").write_text("run_id\n")
    code, out, err = run_cli([*argv, "--update", "--out", tmp_path / "run"], capsys)
    assert code == 0, err
    assert "reference updated" in out
    assert run_cli([*argv, "--out", tmp_path / "again", "--speed-factor", "5"], capsys)[0] == 0


def test_a_contender_that_now_fails_every_run_fails_the_gate(gate, tmp_path, capsys, monkeypatch):
    real_run = timed_run._run

    def numpy_als_broken(task, *args, **kwargs):
        if task.model == "numpy-als":
            raise RuntimeError("numpy-als broke")
        return real_run(task, *args, **kwargs)

    monkeypatch.setattr(timed_run, "_run", numpy_als_broken)
    argv, _ = gate
    code, out, _ = run_cli([*argv, "--out", tmp_path / "run", "--speed-factor", "5"], capsys)
    assert code == 1
    failed = [line for line in out.splitlines() if "FAIL" in line]
    assert len(failed) == 2  # one per seed, each named
    assert all("ran ok" in line and "numpy-als broke" in line for line in failed)
    assert any("| 0 " in line for line in failed) and any("| 1 " in line for line in failed)


def test_a_contender_left_out_of_the_run_fails_the_gate(made, tmp_path, capsys) -> None:
    config, reference = made
    only_popularity = GATE_MODELS.split("[[models]]")[1]
    fewer = gate_config_file(
        tmp_path, config.parent / "u.data", "tiny", "[[models]]" + only_popularity
    )
    argv = ["check", "--config", fewer, "--reference", reference, "--in-process"]
    code, out, _ = run_cli([*argv, "--out", tmp_path / "run", "--speed-factor", "5"], capsys)
    assert code == 1
    assert out.count("ok in the reference; now not run") == 2  # numpy-als, both seeds
    assert "**2 regression(s)**" in out


def test_every_speed_row_left_out_is_listed_with_why(gate, tmp_path, capsys) -> None:
    argv, _ = gate
    run_cli([*argv, "--out", tmp_path / "run", "--speed-factor", "5"], capsys)
    text = (tmp_path / "run" / "CHECK.md").read_text()
    speed_rows = [line for line in text.splitlines() if regress.SPEED_CHECK in line]
    assert len(speed_rows) == 2  # both contenders: compared or "unchecked" with a reason
    unchecked = [line for line in speed_rows if "unchecked" in line]
    assert all("too short to time" in line for line in unchecked)
    assert "speed row(s) not checked" in text.split("\n\n")[1]
