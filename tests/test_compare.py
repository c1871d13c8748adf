"""``mfbench compare``: verdicts on synthetic runs, the markdown, and the command line."""

from __future__ import annotations

import json
import math
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from harness_helpers import assert_one_line_error, run_cli

from suite import compare, results
from suite.analysis import paired, versus
from suite.cli import build_parser

#: Per-fold RMSE and NDCG@10 of the base runs: the fold effect is far larger than the changes
#: the tests make, so only a test that pairs runs by split finds those changes.
FOLD_RMSE = np.array([0.90, 0.95, 0.88, 0.93, 0.91])
FOLD_NDCG = np.array([0.080, 0.095, 0.070, 0.088, 0.076])
#: A small consistent shift's jitter, and noise that averages out.
JITTER = np.array([0.001, -0.001, 0.0005, 0.0, -0.0005])
NOISE = np.array([0.010, -0.012, 0.004, -0.003, 0.002])


def runs(
    label: str = "torch-biased-mf",
    *,
    rmse: np.ndarray | float | None = FOLD_RMSE,
    ndcg: np.ndarray | float = FOLD_NDCG,
    fit_s: float = 1.0,
    dataset: str = "ml-100k",
    backend: str = "cpu",
    folds: int = 5,
    seeds: tuple[int, ...] = (0,),
    split: str = "kfold",
    epochs: float = 10,
    ratings_processed: float = 800_000,
    n_threads: int = 2,
    status: str = "ok",
    tag: str = "a",
) -> pd.DataFrame:
    """Runs of one contender over ``folds`` × ``seeds`` (5-fold sizes: n_test/n_train 0.25);
    ``rmse`` and ``ndcg`` are one value or one per run."""
    pairs = list(product(range(folds), seeds))
    rmse_values = np.resize(np.nan if rmse is None else rmse, len(pairs))  # per fold, cycled
    ndcg_values = np.resize(ndcg, len(pairs))
    rows = [
        {
            "run_id": f"{tag}-{dataset}-{label}-{backend}-{fold}-{seed}",
            "dataset": dataset,
            "split": split,
            "fold": fold,
            "seed": seed,
            "model": label.split("[")[0],
            "label": label,
            "backend": backend,
            "n_threads": n_threads,
            "params": "{}",
            "status": status,
            "reason": "" if status == "ok" else "CUDA unavailable",
            "n_train": 80_000,
            "n_test": 20_000,
            "epochs": epochs,
            "rmse": rmse_values[i],
            "ndcg_at_10": ndcg_values[i],
            "fit_s": fit_s,
            "ratings_per_s": ratings_processed / fit_s,
            "ratings_processed": ratings_processed,
        }
        for i, (fold, seed) in enumerate(pairs)
    ]
    return pd.DataFrame(rows).reindex(columns=results.COLUMNS)


def one_row(a: pd.DataFrame, b: pd.DataFrame, **options) -> pd.Series:
    table = versus.compare_runs(a, b, **options)
    assert len(table) == 1, table
    return table.iloc[0]


# -- accuracy -----------------------------------------------------------------------------------


def test_a_higher_rmse_over_five_paired_folds_reads_worse_and_a_lower_one_better() -> None:
    base, higher = runs(), runs(rmse=FOLD_RMSE + 0.01 + JITTER, tag="b")
    worse = one_row(base, higher)
    assert worse["rmse_verdict"] == "worse"
    assert worse["rmse_diff"] == pytest.approx(0.01)
    assert 0 < worse["rmse_low"] < 0.01 < worse["rmse_high"]
    assert worse["rmse_pairs"] == 5
    assert worse["ndcg_at_10_verdict"] == "same"  # NDCG@10 untouched
    better = one_row(higher, base)
    assert better["rmse_verdict"] == "better"
    assert better["rmse_diff"] == pytest.approx(-0.01)


def test_a_higher_ndcg_reads_better_and_a_lower_one_worse() -> None:
    base, higher = runs(), runs(ndcg=FOLD_NDCG + 0.005 + JITTER / 10, tag="b")
    assert one_row(base, higher)["ndcg_at_10_verdict"] == "better"
    assert one_row(higher, base)["ndcg_at_10_verdict"] == "worse"


def test_runs_are_paired_by_split_not_by_row_order() -> None:
    shifted = runs(rmse=FOLD_RMSE + 0.01 + JITTER, tag="b")
    shuffled = shifted.sample(frac=1, random_state=3)
    assert one_row(runs(), shuffled)["rmse_verdict"] == "worse"
    # The same values on the wrong folds: the fold effect hides the change.
    mismatched = runs(rmse=(FOLD_RMSE + 0.01 + JITTER)[::-1], tag="b")
    assert one_row(runs(), mismatched)["rmse_verdict"] == "same"


def test_noise_reads_same() -> None:
    row = one_row(runs(), runs(rmse=FOLD_RMSE + NOISE, ndcg=FOLD_NDCG + NOISE / 10, tag="b"))
    assert row["rmse_verdict"] == row["ndcg_at_10_verdict"] == "same"
    assert row["rmse_low"] < 0 < row["rmse_high"]


def test_single_runs_read_untested_with_their_number_of_pairs() -> None:
    row = one_row(runs(folds=1), runs(rmse=0.99, folds=1, tag="b"))
    assert row["rmse_verdict"] == "untested (1 pair)"
    assert math.isnan(row["rmse_diff"])
    other_split = runs(split="holdout", tag="b")  # not the same test sets: nothing pairs
    assert one_row(runs(), other_split)["ndcg_at_10_verdict"] == "untested (0 pairs)"


def test_means_are_over_the_splits_both_sides_ran() -> None:
    row = one_row(runs(), runs(folds=3, tag="b"))
    assert row["rmse_a"] == row["rmse_b"] == pytest.approx(FOLD_RMSE[:3].mean())
    assert (row["runs_a"], row["runs_b"], row["rmse_pairs"]) == (5, 3, 3)
    unpaired = one_row(runs(), runs(split="holdout", folds=3, tag="b"))
    assert unpaired["rmse_a"] == pytest.approx(FOLD_RMSE.mean())


def test_a_ranking_model_has_no_rmse_verdict() -> None:
    row = one_row(runs("torch-bpr", rmse=None), runs("torch-bpr", rmse=None, tag="b"))
    assert row["rmse_verdict"] == ""
    assert row["ndcg_at_10_verdict"] == "same"


# -- time ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fit_b", "factor", "verdict"),
    [
        (1.5, 1.1, "slower"),
        (0.5, 1.1, "faster"),
        (1.05, 1.1, "same"),
        (0.95, 1.1, "same"),
        (1.5, 1.6, "same"),
        (1 / 1.5, 1.6, "same"),
    ],
)
def test_a_time_ratio_beyond_the_factor_is_slower_or_faster(fit_b, factor, verdict) -> None:
    row = one_row(runs(), runs(fit_s=fit_b, tag="b"), time_factor=factor)
    assert row["time_verdict"] == verdict
    assert row["fit_ratio"] == pytest.approx(fit_b)


@pytest.mark.parametrize(
    "other_work",
    [{"epochs": 20, "ratings_processed": 1_600_000}, {"ratings_processed": 816_001}],
)
@pytest.mark.parametrize("fit_b", [3.0, 0.3, 1.0])
def test_different_work_is_never_faster_or_slower(other_work, fit_b) -> None:
    row = one_row(runs(), runs(fit_s=fit_b, **other_work, tag="b"))
    assert row["time_verdict"] == "different work"


def test_work_within_one_percent_is_the_same_work() -> None:
    row = one_row(runs(), runs(fit_s=2.0, ratings_processed=807_000, tag="b"))
    assert row["time_verdict"] == "slower"


def test_other_thread_counts_are_not_compared_for_speed() -> None:
    row = one_row(runs(), runs(fit_s=0.5, n_threads=8, tag="b"))
    assert row["time_verdict"] == "different threads"


@pytest.mark.parametrize("factor", [1.0, 0.5, math.nan, math.inf])
def test_a_time_factor_not_above_one_is_refused(factor) -> None:
    with pytest.raises(ValueError, match="--time-factor"):
        versus.compare_runs(runs(), runs(tag="b"), time_factor=factor)


# -- membership and rendering -------------------------------------------------------------------


def two_sides() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A and B: one contender worse, one unchanged, one only in A, one only in B, one skip."""
    a = pd.concat(
        [
            runs(),
            runs("numba-sgd"),
            runs("numpy-als"),
            runs("torch-mf", backend="cuda", status="skipped"),
        ]
    )
    b = pd.concat(
        [
            runs(rmse=FOLD_RMSE + 0.01 + JITTER, tag="b"),
            runs("numba-sgd", tag="b"),
            runs("implicit-als", rmse=None, tag="b"),
        ]
    )
    return a, b


def side(name: str, frame: pd.DataFrame, env: dict | None = None) -> compare.Side:
    return compare.Side(name, Path(f"runs/{name.lower()}"), frame, env)


def test_only_in_a_or_b_and_the_runs_not_ok_are_listed() -> None:
    a, b = two_sides()
    assert versus.only_in(a, b) == [("ml-100k", "numpy-als", "cpu")]
    assert versus.only_in(b, a) == [("ml-100k", "implicit-als", "cpu")]
    failures = versus.not_ok(a, b)
    assert failures[["side", "label", "backend", "status", "runs"]].values.tolist() == [
        ["A", "torch-mf", "cuda", "skipped", 5]
    ]
    text = compare.compare_folders(side("A", a), side("B", b))
    assert "Only in A (1): ml-100k numpy-als (cpu)." in text
    assert "Only in B (1): ml-100k implicit-als (cpu)." in text
    assert "| A      | ml-100k   | torch-mf    | cuda      | skipped  | 5" in text


def test_the_table_names_the_test_alpha_and_both_folders() -> None:
    a, b = two_sides()
    text = compare.compare_folders(side("A", a), side("B", b))
    assert paired.TEST_NAME in text
    assert f"α = {paired.ALPHA:g}" in text
    assert "runs/a" in text and "runs/b" in text
    rows = [line for line in text.splitlines() if line.startswith("| ml-100k")]
    assert len(rows) == 2  # torch-biased-mf and numba-sgd, in A's order
    assert "torch-biased-mf" in rows[0] and "worse" in rows[0]
    assert "0.9140 → 0.9240" in rows[0]


def test_only_changed_hides_the_same_rows_and_says_when_nothing_changed() -> None:
    a, b = two_sides()
    table = versus.compare_runs(a, b)
    assert versus.changed(table).tolist() == [True, False]
    text = compare.compare_folders(side("A", a), side("B", b), only_changed=True)
    assert "| ml-100k   | torch-biased-mf" in text
    assert "numba-sgd" not in text
    assert "1 of 2 contenders in common changed" in text
    assert "Only in A (1)" in text  # the lists stay
    unchanged = compare.compare_folders(side("A", a), side("B", a), only_changed=True)
    assert "No change: all 3 contenders in common read 'same'" in unchanged
    assert "| ml-100k   | torch-biased-mf" not in unchanged


def test_untested_rows_are_not_called_changed() -> None:
    table = versus.compare_runs(runs(folds=1), runs(folds=1, tag="b"))
    assert table["rmse_verdict"].tolist() == ["untested (1 pair)"]
    assert versus.changed(table).tolist() == [False]  # nothing is known to have changed


ENV = {
    "captured_at": "2026-11-28T09:19:49Z",
    "cpu": "AMD EPYC",
    "cores": 2,
    "gpu": None,
    "python": "3.11.7",
    "versions": {"torch": "2.13.0+cpu"},
    "git_commit": "f0c6689f90726b5a17e970ccf62dc4406f289e02",
    "git_dirty": False,
}


def test_the_header_warns_when_the_machines_differ() -> None:
    a, b = two_sides()
    gpu = {"name": "NVIDIA H200", "count": 1}
    other = {**ENV, "gpu": gpu, "git_dirty": True, "versions": {"torch": "2.14.0"}}
    text = compare.compare_folders(side("A", a, ENV), side("B", b, other))
    assert "AMD EPYC, 2 cores, no GPU; commit f0c6689f90; 2026-11-28T09:19:49Z" in text
    assert "AMD EPYC, 2 cores, 1× NVIDIA H200; commit f0c6689f90 (dirty)" in text
    assert "torch 2.13.0+cpu → 2.14.0" in text
    assert "different machines" in text
    same = compare.compare_folders(side("A", a, ENV), side("B", b, ENV))
    assert "different machines" not in same
    assert "Versions that differ" not in same
    assert "no env.json in B" in compare.compare_folders(side("A", a, ENV), side("B", b))


# -- the command line ---------------------------------------------------------------------------


def run_folder(path: Path, frame: pd.DataFrame, env: dict | None = ENV) -> Path:
    path.mkdir()
    frame.to_csv(path / "results.csv", index=False)
    if env is not None:
        (path / "env.json").write_text(json.dumps(env))
    return path


def test_compare_two_folders_end_to_end(tmp_path, capsys) -> None:
    a, b = two_sides()
    folder_a, folder_b = run_folder(tmp_path / "a", a), run_folder(tmp_path / "b", b)
    out = tmp_path / "COMPARE.md"
    code, text, err = run_cli(["compare", folder_a, folder_b, "--out", out], capsys)
    assert code == 0, err
    assert "| ml-100k   | torch-biased-mf | cpu       | 5        | 5" in text
    assert "worse" in text
    assert out.read_text() == text
    code, changed_only, err = run_cli(["compare", folder_a, folder_b, "--only-changed"], capsys)
    assert code == 0, err
    assert "torch-biased-mf" in changed_only and "| ml-100k   | numba-sgd" not in changed_only


def test_the_default_time_factor_is_the_on_par_factor() -> None:
    args = build_parser().parse_args(["compare", "a", "b"])
    assert args.time_factor is None  # resolved to the one on-par factor when it runs
    assert versus.DEFAULT_TIME_FACTOR == paired.PAR


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    a, b = two_sides()
    return run_folder(tmp_path / "a", a), run_folder(tmp_path / "b", b)


def test_a_missing_folder_is_named(folders, tmp_path, capsys) -> None:
    folder_a, _ = folders
    assert_one_line_error(["compare", tmp_path / "nope", folder_a], capsys, "A ", "no such folder")
    assert_one_line_error(["compare", folder_a, tmp_path / "nope"], capsys, "B ", "nope")


def test_a_folder_without_results_is_named(folders, tmp_path, capsys) -> None:
    folder_a, _ = folders
    (tmp_path / "empty").mkdir()
    assert_one_line_error(
        ["compare", folder_a, tmp_path / "empty"], capsys, "B ", "empty", "no results"
    )
    skipped = run_folder(tmp_path / "skipped", runs(status="skipped"))
    assert_one_line_error(["compare", skipped, folder_a], capsys, "A ", "no ok runs")


def test_folders_without_a_contender_in_common_are_refused(folders, tmp_path, capsys) -> None:
    folder_a, _ = folders
    other = run_folder(tmp_path / "other", runs(dataset="ml-1m"))
    assert_one_line_error(["compare", folder_a, other], capsys, "no contender in common")


@pytest.mark.parametrize("factor", ["1", "0.5", "nan", "inf", "fast"])
def test_a_bad_time_factor_is_named(folders, capsys, factor) -> None:
    assert_one_line_error(["compare", *folders, "--time-factor", factor], capsys, "--time-factor")


def test_an_unwritable_out_is_named(folders, tmp_path, capsys) -> None:
    out = tmp_path / "no-such-folder" / "COMPARE.md"
    code, text, err = run_cli(["compare", *folders, "--out", out], capsys)
    assert code == 2
    assert err.startswith("mfbench: error: --out ") and len(err.splitlines()) == 1
    assert "| ml-100k" in text  # the table was still printed


def test_a_ratio_beyond_the_factor_but_within_run_to_run_noise_is_the_same() -> None:
    a = runs()
    b = runs(tag="b").assign(fit_s=[0.6, 2.2, 0.7, 2.0, 1.4])  # ×1.17 the paired geometric mean
    table = versus.compare_runs(a.assign(fit_s=[1.0, 1.2, 0.9, 1.1, 1.0]), b)
    assert table["fit_ratio"].iloc[0] == pytest.approx(1.169, abs=0.001)
    assert table["fit_low"].iloc[0] < 1 < table["fit_high"].iloc[0]
    assert table["time_verdict"].tolist() == ["same"]


def test_other_settings_are_never_faster_or_slower() -> None:
    a = runs().assign(params='{"factors": 20}')
    b = runs(fit_s=3.0, tag="b").assign(params='{"factors": 128}')
    assert versus.compare_runs(a, b)["time_verdict"].tolist() == ["different settings"]


def test_a_single_pair_time_ratio_says_its_noise_is_unknown() -> None:
    table = versus.compare_runs(runs(folds=1), runs(folds=1, fit_s=2.0, tag="b"))
    assert table["time_verdict"].tolist() == ["slower (one run: noise unknown)"]
