"""The targets of PyTorch at its best on CPU, judged on small hand-made folders."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from suite.analysis import targets
from suite.report import target_figure


def run(model: str, fold: int, dataset: str = "ml-100k", **values) -> dict:
    return {
        "run_id": f"{model}-{dataset}-{fold}",
        "dataset": dataset,
        "model": model,
        "label": model,
        "backend": "cpu",
        "status": "ok",
        "fold": fold,
        "seed": 0,
        "n_train": 80_000,
        "n_test": 20_000,
        "rating_target": 0.92 if dataset == "ml-100k" else None,
        "params": json.dumps({"factors": values.pop("factors", 32)}),
        **values,
    }


def state_of(judged: list[targets.Judged], start: str) -> targets.Judged:
    return next(j for j in judged if j.target.startswith(start))


@pytest.mark.parametrize(
    ("low", "high", "at_most", "expected"),
    [
        (0.5, 0.9, True, "met"),
        (1.1, 1.4, True, "missed"),
        (0.8, 1.2, True, "not resolved"),
        (0.31, 0.5, False, "met"),
        (0.1, 0.2, False, "missed"),
        (float("nan"), float("nan"), True, "not resolved"),
    ],
)
def test_an_interval_against_a_threshold(low, high, at_most, expected) -> None:
    assert targets.state(low, high, 1.0 if at_most else 0.3, at_most) == expected


def test_time_to_the_rating_target_pairs_the_contenders_named_in_advance() -> None:
    """cornac-mf is the fastest bespoke contender here, but the target names numba-sgd."""
    rows = []
    for fold, (torch_s, numba_s, cornac_s) in enumerate([(0.30, 0.50, 0.2), (0.32, 0.55, 0.21)]):
        rows += [
            run("torch-biased-mf", fold, time_to_rating_target_s=torch_s, fit_s=1.0, rmse=0.90),
            run("numba-sgd", fold, time_to_rating_target_s=numba_s, fit_s=1.0, rmse=0.90),
            run("cornac-mf", fold, time_to_rating_target_s=cornac_s, fit_s=1.0, rmse=0.90),
        ]
    rows.append(run("torch-biased-mf", 2, time_to_rating_target_s=0.31, fit_s=1.0, rmse=0.90))
    rows.append(run("numba-sgd", 2, time_to_rating_target_s=0.52, fit_s=1.0, rmse=0.90))
    rows.append(run("cornac-mf", 2, time_to_rating_target_s=0.22, fit_s=1.0, rmse=0.90))
    judged = targets.judge(pd.DataFrame(rows), pd.DataFrame())
    first = state_of(judged, "Time to the RMSE target")
    assert first.state == "met" and "torch-biased-mf takes 0.59× numba-sgd's" in target_figure(
        first
    )
    assert state_of(judged, "torch-ials").state == "not measured"  # no such runs here
    accuracy = state_of(judged, "torch-biased-mf's ml-100k RMSE")
    assert accuracy.state == "met" and "RMSE 0.9000" in target_figure(accuracy)


def test_accuracy_is_missed_on_a_slow_fit_even_at_the_rmse() -> None:
    rows = [run("torch-biased-mf", fold, rmse=0.890 + fold * 0.001, fit_s=4.0) for fold in range(3)]
    judged = targets.judge(pd.DataFrame(rows), pd.DataFrame())
    assert state_of(judged, "torch-biased-mf's ml-100k RMSE").state == "missed"


def test_bpr_target_reads_the_curve_and_a_run_that_never_gets_there_misses() -> None:
    rows, curve = [], []
    for fold in range(3):
        rows.append(run("implicit-bpr", fold, fit_s=0.5, ndcg_at_10=0.30))
        rows.append(run("torch-bpr", fold, fit_s=2.0, ndcg_at_10=0.33))
        for epoch, ndcg in enumerate([0.20, 0.31, 0.33], start=1):
            curve.append(
                {
                    "run_id": f"torch-bpr-ml-100k-{fold}",
                    "epoch": epoch,
                    "elapsed_s": 0.1 * epoch + 0.01 * fold,
                    "test_ndcg_at_10": ndcg,
                }
            )
    judged = targets.judge(pd.DataFrame(rows), pd.DataFrame(curve))
    bpr = state_of(judged, "torch-bpr reaches")
    assert bpr.state == "met" and bpr.speed.value == pytest.approx(0.42, abs=0.01)  # 0.21 s / 0.5 s
    assert target_figure(bpr).startswith("torch-bpr takes 0.42× implicit-bpr's fit time")
    curves = pd.DataFrame(curve)
    curves.loc[curves["run_id"] == "torch-bpr-ml-100k-2", "test_ndcg_at_10"] = 0.25
    bpr = state_of(targets.judge(pd.DataFrame(rows), curves), "torch-bpr reaches")
    assert bpr.state == "missed" and "never reached in 1 of 3 runs" in target_figure(bpr)


def test_small_data_throughput_only_at_equal_factors() -> None:
    def rows(numba_factors: int) -> pd.DataFrame:
        return pd.DataFrame(
            [
                run("torch-biased-mf", f, "synthetic-seed-2017", ratings_per_s=1e6 + f * 1e4)
                for f in range(3)
            ]
            + [
                run(
                    "numba-sgd",
                    f,
                    "synthetic-seed-2017",
                    ratings_per_s=2e6 - f * 1e4,
                    factors=numba_factors,
                )
                for f in range(3)
            ]
        )

    small = state_of(targets.judge(rows(32), pd.DataFrame()), "On synthetic-seed-2017")
    assert small.state == "met" and "k = 32" in target_figure(small)
    assert "time per rating" in target_figure(small)  # throughput, read as time
    unequal = state_of(targets.judge(rows(64), pd.DataFrame()), "On synthetic-seed-2017")
    assert unequal.state == "not measured"


def test_the_shipped_targets_load_and_each_sentence_names_its_contenders() -> None:
    listed = targets.load()
    assert [t["kind"] for t in listed] == list(targets.KINDS)
    for target in listed:
        text = targets.sentence(target)
        assert "{" not in text and target["dataset"] in text
        assert all(target[side] in text for side in ("mine", "theirs") if side in target)


def test_a_target_s_threshold_is_read_from_its_entry() -> None:
    rows = [run("torch-biased-mf", fold, rmse=0.890 + fold * 0.001, fit_s=1.0) for fold in range(3)]
    entry = {
        "kind": "rmse_within_fit_time",
        "dataset": "ml-100k",
        "mine": "torch-biased-mf",
        "fit_at_most_s": 3.0,
    }
    strict = targets.judge(pd.DataFrame(rows), pd.DataFrame(), [{**entry, "rmse_at_most": 0.85}])
    loose = targets.judge(pd.DataFrame(rows), pd.DataFrame(), [{**entry, "rmse_at_most": 0.95}])
    assert (strict[0].state, loose[0].state) == ("missed", "met")
    assert strict[0].target == "torch-biased-mf's ml-100k RMSE ≤ 0.85 at ≤ 3.0 s a fit"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[target]]\nkind = "fastest"', "[[target]] #1: kind 'fastest' is not one of"),
        (
            '[[target]]\nkind = "time_to_rating_target"\ndataset = "ml-100k"\nmine = "a"',
            "[[target]] #1 (time_to_rating_target): missing key(s) at_most, theirs",
        ),
        (
            '[[target]]\nkind = "time_to_rating_target"\ndataset = "x"\nat_most = 1\nmine = "a"'
            '\ntheirs = "b"\nfastest = 1',
            "[[target]] #1 (time_to_rating_target): unknown key(s) fastest",
        ),
        ("[[target]\n", "targets.toml: "),
    ],
)
def test_a_wrong_target_entry_is_named(text: str, message: str) -> None:
    with pytest.raises(targets.InputError, match=None) as raised:
        targets.load(text, "targets.toml")
    assert str(raised.value).startswith("targets.toml") and message in str(raised.value)
