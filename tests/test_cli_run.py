"""``mfbench run / report / list``: flags, and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from harness_helpers import TWO_MODELS, config_file, ratings_file

import suite
from suite.cli import main


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_run_with_flags_then_report(tmp_path: Path, capsys) -> None:
    data = ratings_file(tmp_path)
    out = tmp_path / "run"
    code, stdout, _ = run_cli(
        [
            "run",
            "--dataset",
            str(data),
            "--model",
            "numpy-als,popularity",
            "--seeds",
            "2",
            "--threads",
            "1",
            "--epochs",
            "2",
            "--param",
            "numpy-als.factors=3",
            "--out",
            str(out),
            "--in-process",
        ],
        capsys,
    )
    assert code == 0 and "| numpy-als" in stdout and (out / "REPORT.md").exists()
    frame = pd.read_csv(out / "results.csv")
    assert len(frame) == 4 and set(frame["seed"]) == {0, 1}
    assert frame["params"].str.contains('"factors": 3').sum() == 2
    assert frame["params"].str.contains('"epochs": 2').sum() == 2
    code, stdout, _ = run_cli(["report", str(out)], capsys)
    assert code == 0 and "report:" in stdout


def test_list_shows_contenders_backends_and_availability(capsys) -> None:
    code, stdout, _ = run_cli(["list"], capsys)
    assert code == 0
    rows = [line.split("|")[1:3] for line in stdout.splitlines() if line.startswith("| ")]
    assert [" torch-biased-mf", "cuda"] in [[a.rstrip(), b.strip()] for a, b in rows]
    assert "ml-100k" in stdout and "default" in stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--model", "torch-svd"], "unknown model 'torch-svd'; choose from torch-mf"),
        (["run", "--dataset", "ml-7k"], "data set 'ml-7k': not a file, and not one of"),
        (["run", "--backend", "tpu"], "backend 'tpu'; choose from cpu, cuda, mps"),
        (["run", "--config", "nightly"], "--config nightly: no such file, and not one of"),
        (["run", "--param", "torch-mf.lr"], "expected MODEL.KEY=VALUE"),
        (["run", "--param", "torch-mf.speed=3"], "unknown parameter 'speed'"),
        (["run", "--threads", "0"], "argument --threads: 0 is below the minimum, 1"),
        (["run", "--resume"], "--resume needs --out DIR"),
        (
            ["run", "--config", "speed", "--param", "numba-sgd.factors=16"],
            "numba-sgd.factors is set on the command line",
        ),
        (["check", "--update", "--update-speed"], "not allowed with argument --update"),
        (["run", "--split", "random"], "argument --split: invalid choice: 'random'"),
        (["report", "/nonexistent"], "no results.jsonl or results.csv"),
    ],
)
def test_errors_are_one_line_with_exit_2(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(argv))
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2, err
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "speed = 3",
            "grid.toml: unknown key 'speed'; valid: calibrate, cost_only, curve_users",
        ),
        ("[[datasets]]\nname = 'ml-100k'\nfold = 2", "[[datasets]] #1: unknown key 'fold'"),
        (
            "[[datasets]]\nname = 'ml-100k'\n[[models]]\nname = 'numpy-als'\nparams = { lr = 1 }",
            "model 'numpy-als': unknown parameter 'lr'",
        ),
        ("n_threads = 1\nname = = 3\n", "grid.toml: Invalid value (at line 2, column 8)"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, text: str, message: str, capsys) -> None:
    config = tmp_path / "grid.toml"
    config.write_text(text)
    code, _, err = run_cli(["run", "--config", str(config)], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_config_grid_runs_in_workers(tmp_path: Path, capsys) -> None:
    config = config_file(tmp_path, ratings_file(tmp_path), TWO_MODELS, seeds="[0]")
    code, _, err = run_cli(["run", "--config", str(config), "--out", str(tmp_path / "r")], capsys)
    assert code == 0, err
    assert "[3/3]" in err  # plain progress lines when not on a terminal


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"mfbench {suite.__version__}"


@pytest.mark.parametrize(
    ("argv", "defaults"),
    [
        (["run"], []),
        (["report"], []),
        (["check"], ["--reference REFERENCE", "(default: results/ci)", "(default: ci)"]),
        (["list"], []),
        (["data"], []),
        (["data", "fetch"], []),
        (["data", "info"], ["(default: 0)"]),
    ],
)
def test_every_command_has_help_with_examples_and_defaults(argv, defaults, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert exit_info.value.code == 0
    assert "examples: mfbench " in text
    assert all(default in text for default in defaults), text


def test_resuming_a_folder_whose_grid_uses_retired_names_is_a_one_line_error(
    tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    grid = {
        "name": "old",
        "datasets": [{"name": "synthetic-seed-2017"}],
        "models": [{"name": "numpy-als", "params": {"iterations": 3}}],
    }
    (out / "grid.json").write_text(json.dumps(grid))
    code, _, err = run_cli(["run", "--resume", "--out", str(out)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "grid.json: model 'numpy-als': unknown parameter 'iterations'" in err
