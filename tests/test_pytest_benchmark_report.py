"""pytest-benchmark JSON → the same results frame and REPORT.md as a harness run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suite import results
from suite.cli import main
from suite.errors import InputError


def bench(kind: str, model: str, median: float, **info) -> dict:
    return {
        "name": f"test_{kind}[{model}]",
        "extra_info": {
            "kind": kind,
            "dataset": "synthetic-100k",
            "model": model,
            "backend": "cpu",
            "n_threads": 2,
            **info,
        },
        "stats": {"min": median * 0.9, "max": median * 1.2, "median": median, "rounds": 3},
    }


DOCUMENT = {
    "machine_info": {"cpu": {"brand_raw": "Bench CPU", "count": 2}, "python_version": "3.11"},
    "commit_info": {"id": "abc123", "dirty": False},
    "datetime": "2026-11-28T00:00:00",
    "version": "5.3.1",
    "benchmarks": [
        bench(
            "fit",
            "numpy-als",
            2.0,
            rmse=0.92,
            ndcg_at_10=0.05,
            precision_at_10=0.04,
            ratings=400_000,
            params={"epochs": 5},
        ),
        bench("epoch", "numpy-als", 0.4),
        bench("predict", "numpy-als", 0.01),
        bench("score", "numpy-als", 0.02),
        bench(
            "fit",
            "lightfm-warp",
            1.0,
            rmse=None,
            ndcg_at_10=0.3,
            precision_at_10=0.2,
            ratings=200_000,
        ),
        {"name": "someone_elses_benchmark", "extra_info": {}, "stats": {"median": 1.0}},
    ],
}


def test_rows_per_model_with_timings_spread_and_extra_info(tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(DOCUMENT))
    frame, env = results.from_pytest_benchmark(path)
    als = frame.set_index("model").loc["numpy-als"]
    assert (als["fit_s"], als["fit_s_min"], als["fit_s_max"]) == (2.0, 1.8, 2.4)
    assert als["epoch_s_median"] == 0.4 and als["predict_s"] == 0.01 and als["score_s"] == 0.02
    assert als["rmse"] == 0.92 and als["ratings_per_s"] == 200_000 and als["repeats"] == 3
    assert json.loads(als["params"]) == {"epochs": 5}
    assert len(frame) == 2 and list(frame.columns[: len(results.COLUMNS)]) == results.COLUMNS
    assert env["cpu"] == "Bench CPU" and env["git_commit"] == "abc123"


def test_report_from_pytest_benchmark(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(DOCUMENT))
    assert main(["report", "--pytest-benchmark", str(path)]) == 0
    text = (tmp_path / "bench" / "REPORT.md").read_text()
    assert "2.00 [1.80–2.40]" in text and "Bench CPU" in text and "### Top-N ranking" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"bench.json:1: not valid JSON"),
        ('{"benchmarks": 3}', "not a pytest-benchmark file"),
        ('{"benchmarks": []}', "holds no mfbench benchmark"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bench.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        results.from_pytest_benchmark(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        results.from_pytest_benchmark(tmp_path / "absent.json")
