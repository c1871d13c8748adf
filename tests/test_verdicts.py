"""The verdicts: ties, winners, floors, budgets and speed ratios from small result frames
(computed by ``suite.analysis``, worded by ``suite.verdicts`` and ``suite.report``)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from suite import report, results, verdicts, wording
from suite.analysis import paired, speed
from suite.analysis import standings as ranked
from suite.analysis.folder import DatasetAnalysis, dataset_analysis
from suite.analysis.summary import summarize
from suite.models.base import Contest
from suite.wording import markdown

NAN = float("nan")


def runs_of(
    values: dict[str, list[float]],
    metric: str = "rmse",
    *,
    params: dict[str, dict] | None = None,
    **columns: dict[str, list[float]],
) -> pd.DataFrame:
    """One ok run per (contender, fold) with ``metric`` set; ``columns`` add per-run values."""
    rows = []
    for name, series in values.items():
        for fold, value in enumerate(series):
            row = {column: NAN for column in results.COLUMNS}
            row.update(
                run_id=f"{name}-{fold}",
                dataset="toy",
                split="kfold",
                fold=fold,
                seed=0,
                model=name.split("[")[0],
                label=name,
                backend="cpu",
                n_threads=2,
                params=json.dumps((params or {}).get(name, {})),
                status="ok",
                reason="",
                n_train=800,
                n_test=200,
                epochs=10,
                ratings_processed=8000,
                fit_s=1.0,
                ratings_per_s=8000.0,
                peak_rss_mb=100.0,
                config="test",
            )
            row[metric] = value
            for column, by_name in columns.items():
                if name in by_name:
                    row[column] = by_name[name][fold]
            rows.append(row)
    return pd.DataFrame(rows)


def standings(runs: pd.DataFrame, contest: Contest) -> ranked.Standings:
    return ranked.standings(summarize(runs), runs, contest)


def analysed(runs: pd.DataFrame, reference: str | None = None) -> DatasetAnalysis:
    curves = pd.DataFrame(columns=results.CURVE_COLUMNS)
    return dataset_analysis("toy", summarize(runs), runs, curves, reference)


def said(sentence: wording.Sentence | None) -> str:
    return markdown(sentence) if sentence is not None else ""


NOISE = [0.0, 0.004, -0.003, 0.002, -0.001]


def test_a_difference_within_noise_is_reported_tied() -> None:
    runs = runs_of(
        {
            "torch-biased-mf": [0.910 + e for e in NOISE],
            "numpy-als": [0.911 - e for e in NOISE],  # differences flip sign
            "numba-sgd": [0.930 + e / 4 for e in NOISE],
            "bias-only": [0.950 + e for e in NOISE],
        }
    )
    table = standings(runs, Contest.RATING)
    assert [e.label for e in table.winners] == ["torch-biased-mf", "numpy-als"]
    text = said(verdicts.contest_verdict(table))
    assert "**torch-biased-mf** and **numpy-als** are tied for best" in text
    assert "every contender beats the floor bias-only" in text
    best = said(verdicts.winner_sentence(table))
    assert "tied with it: **numpy-als**" in best and "numba-sgd" not in best
    numba = next(e for e in table.entrants if e.label == "numba-sgd")
    assert numba.vs_best.significant and numba.vs_best.mean == pytest.approx(0.02, abs=1e-3)


def test_a_contender_tied_with_the_best_and_the_floor_is_not_a_winner() -> None:
    runs = runs_of(
        {
            "torch-ials": [0.38 + e / 10 for e in NOISE],
            "implicit-lmf": [0.38, 0.05, 0.36, 0.08, 0.17],  # some folds diverged
            "popularity": [0.17 + e / 10 for e in NOISE],
        },
        metric="ndcg_at_10",
    )
    table = standings(runs, Contest.RANKING)
    lmf = next(e for e in table.entrants if e.label == "implicit-lmf")
    assert lmf.tied_with_best and lmf.beats_floor is False  # the noise ties it with both
    assert [e.label for e in table.winners] == ["torch-ials"]
    assert table.too_noisy_to_place == [lmf]
    text = said(verdicts.contest_verdict(table))
    assert "**torch-ials** is best (0.3800), significantly ahead of every other contender " in text
    assert "ahead of every other contender that beats the floor" in text
    assert "implicit-lmf is not shown to beat the floor popularity" in text
    best = said(verdicts.winner_sentence(table))
    assert "implicit-lmf" not in best and "every other contender that beats the floor" in best


def test_a_real_difference_names_one_winner() -> None:
    runs = runs_of(
        {
            "torch-ials": [0.38 + e / 10 for e in NOISE],
            "implicit-bpr": [0.30 + e / 10 for e in NOISE],
            "popularity": [0.17 + e / 10 for e in NOISE],
        },
        metric="ndcg_at_10",
    )
    table = standings(runs, Contest.RANKING)
    assert [e.label for e in table.winners] == ["torch-ials"]
    text = said(verdicts.contest_verdict(table))
    assert "**torch-ials** is best (0.3800), significantly ahead of every other contender" in text
    assert "every other contender is significantly worse" in said(verdicts.winner_sentence(table))


def test_no_winner_on_noise() -> None:
    """The post's random matrix: nobody beats the floor, so nobody wins."""
    runs = runs_of(
        {
            "implicit-lmf": [0.009, 0.004, 0.010, 0.003, 0.006],
            "lightfm-warp": [0.005, 0.007, 0.003, 0.006, 0.004],
            "popularity": [0.005, 0.006, 0.004, 0.005, 0.005],
        },
        metric="ndcg_at_10",
    )
    table = standings(runs, Contest.RANKING)
    assert table.no_winner and table.winners == []
    assert "**no winner**" in said(verdicts.contest_verdict(table))
    sentence = said(verdicts.winner_sentence(table))
    assert sentence.startswith("**No winner**") and "floor **popularity**" in sentence
    assert verdicts.floor_sentence(table) is None  # the winner sentence already says it


def test_a_contender_at_floor_level_is_flagged() -> None:
    runs = runs_of(
        {
            "torch-biased-mf": [0.91 + e for e in NOISE],
            "numpy-sgd": [1.125 - e for e in NOISE],  # no better than the global mean
            "global-mean": [1.12 + e for e in NOISE],
        }
    )
    table = standings(runs, Contest.RATING)
    assert [e.label for e in table.learned_nothing] == ["numpy-sgd"]
    assert "numpy-sgd learned nothing beyond the floor global-mean" in (
        said(verdicts.contest_verdict(table))
    )
    assert "**numpy-sgd** (1.1246)" in said(verdicts.floor_sentence(table))
    text = report.standings_table(table, summarize(runs))
    line = next(line for line in text.splitlines() if line.startswith("| numpy-sgd"))
    assert "**learned nothing**" in line


def test_one_run_is_not_tested_and_a_missing_floor_is_said() -> None:
    runs = runs_of({"numba-sgd": [0.83], "torch-biased-mf": [0.85]})
    table = standings(runs, Contest.RATING)
    assert not table.tested and [e.label for e in table.winners] == ["numba-sgd"]
    assert "too few runs for a paired test" in said(verdicts.winner_sentence(table))
    assert "in a single run, so no tie or floor is tested" in said(verdicts.contest_verdict(table))
    assert "No floor ran" in said(verdicts.floor_sentence(table))


def test_ranking_models_do_not_enter_the_rating_contest() -> None:
    runs = runs_of({"torch-biased-mf": [0.91, 0.92], "implicit-als": [NAN, NAN]})
    runs["ndcg_at_10"] = [0.05, 0.06, 0.30, 0.31]
    data = analysed(runs)
    rating, ranking = data.standings[Contest.RATING], data.standings[Contest.RANKING]
    assert [e.label for e in rating.entrants] == ["torch-biased-mf"]
    assert [e.label for e in ranking.entrants] == ["implicit-als"]  # rating models: a finding
    assert "the best, **torch-biased-mf**, reaches NDCG@10 0.0550" in (
        said(verdicts.rating_models_rank(data))
    )


def test_throughput_ratios_only_within_a_contest_at_the_same_k() -> None:
    runs = runs_of(
        {
            "torch-biased-mf": [0.91, 0.92],
            "numba-sgd": [0.92, 0.93],
            "cornac-mf": [0.93, 0.94],
            "bias-only": [0.95, 0.96],
            "implicit-als": [NAN, NAN],
        },
        params={
            "torch-biased-mf": {"factors": 32},
            "numba-sgd": {"factors": 32},
            "cornac-mf": {"factors": 10},
            "implicit-als": {"factors": 32},
        },
        ratings_per_s={
            "torch-biased-mf": [1e6, 1e6],
            "numba-sgd": [4e6, 4e6],
            "cornac-mf": [9e6, 9e6],
            "bias-only": [3e7, 3e7],
            "implicit-als": [2e6, 2e6],
        },
    )
    data = analysed(runs, "torch-biased-mf")
    text = report.cost_table(data, data.standings[Contest.RATING])
    cells = {line.split("|")[1].strip(): line for line in text.splitlines()[2:]}
    assert "| 0.25×, 2 runs " in cells["numba-sgd"]  # same contest, same k: a quarter the time
    assert "n/a (k differs)" in cells["cornac-mf"]  # different work per rating
    assert "n/a (floor)" in cells["bias-only"]  # never against a non-trained baseline
    assert "implicit-als" not in cells  # another contest: no ratio at all


def test_same_model_at_different_k_is_not_compared() -> None:
    runs = runs_of(
        {"torch-biased-mf": [0.91, 0.92], "numba-sgd": [0.92, 0.93]},
        params={"torch-biased-mf": {"factors": 128}, "numba-sgd": {"factors": 32}},
    )
    data = analysed(runs)
    (pair,) = data.twins
    assert math.isnan(pair.factors) and pair.ratio is None
    assert "ran with different factors, so their time per rating is not compared" in (
        said(verdicts.twins_sentence(pair, "RMSE", data.budgets))
    )
    assert "ran with different factors, not compared" in said(verdicts.speed_verdict([pair]))


def test_same_model_at_each_k_compares_the_fastest_settings() -> None:
    """The speed preset: PyTorch against the compiled SGD at each k, settings swept."""
    names = ["torch-biased-mf[factors=32]", "torch-biased-mf[factors=128]"]
    names += ["numba-sgd[factors=32]", "numba-sgd[factors=128]"]
    speed = [[2.0e6, 2.1e6, 1.9e6], [1.0e6, 1.1e6, 0.9e6], [7e6, 7.2e6, 6.8e6], [2e6, 2.1e6, 2e6]]
    runs = runs_of(
        {name: [0.91, 0.92, 0.93] for name in names},
        params={name: {"factors": int(name.split("=")[1][:-1])} for name in names},
        ratings_per_s=dict(zip(names, speed, strict=True)),
    )
    by_k = {pair.factors: pair for pair in analysed(runs).twins}
    # time per rating, the geometric mean of the paired runs' ratios
    assert by_k[32].ratio.value == pytest.approx(3.5, rel=0.01)
    assert by_k[32].ratio.reading is paired.Reading.HIGHER
    assert by_k[128].ratio.value == pytest.approx(2.0, rel=0.02)
    text = said(verdicts.speed_verdict(list(by_k.values())))
    assert "torch-biased-mf[factors=32] takes 3.50× numba-sgd[factors=32]'s time per rating" in text
    assert "(geometric mean of 3 paired runs) at 32 factors: numba-sgd[factors=32] faster" in text
    assert "torch-biased-mf[factors=128] takes 2.04× numba-sgd[factors=128]'s time" in text


def test_throughput_is_on_par_only_when_its_interval_lies_within_ten_percent() -> None:
    def pair_of(mine: list[float], theirs: list[float]) -> speed.Twins:
        runs = runs_of(
            {"torch-ials": [0.3, 0.3, 0.3], "implicit-als": [0.3, 0.3, 0.3]},
            metric="ndcg_at_10",
            params={"torch-ials": {"factors": 64}, "implicit-als": {"factors": 64}},
            ratings_per_s={"torch-ials": mine, "implicit-als": theirs},
        )
        (pair,) = analysed(runs).twins
        return pair

    noisy = pair_of([1.0e6, 1.2e6, 0.9e6], [1.1e6, 0.95e6, 1e6])  # no difference detected...
    assert noisy.ratio.reading is paired.Reading.NOT_RESOLVED  # ...is no evidence of parity
    assert "not resolved" in said(verdicts.speed_verdict([noisy]))
    close = pair_of([1.0e6, 1.01e6, 0.99e6], [1.0e6, 1.0e6, 1.0e6])
    assert close.ratio.reading is paired.Reading.ON_PAR
    assert "torch-ials on par with implicit-als (64 factors" in said(
        verdicts.speed_verdict([close])
    )


def test_budgets_flag_capped_and_early_stopped_runs() -> None:
    runs = runs_of(
        {"torch-mf-seed": [1.0, 1.0], "torch-mf": [0.9, 0.9]},
        params={"torch-mf": {"epochs": 40}, "torch-mf-seed": {"epochs": 1}},
        epochs={"torch-mf-seed": [1, 1], "torch-mf": [12, 12]},
        ratings_processed={"torch-mf-seed": [100, 100], "torch-mf": [9600, 9600]},
    )
    rows = summarize(runs).set_index("label")

    def budget(row: pd.Series) -> str:
        return verdicts.budget_text(speed.budget(row))

    assert budget(rows.loc["torch-mf-seed"]) == "capped: 12% of each epoch"
    assert budget(rows.loc["torch-mf"]) == "stopped early: 12 of 40 epochs"
    kept = rows.loc["torch-mf"].copy()
    kept["best_epoch"] = 9.0  # early stopping put the 9th epoch's state back
    assert budget(kept) == "stopped early: 12 of 40 epochs, best 9 kept"


def test_gpu_sentence_says_measured_or_why_not() -> None:
    runs = runs_of({"torch-mf": [0.9, 0.9]})
    skipped = runs.iloc[:1].assign(
        backend="cuda", status="skipped", reason="CUDA unavailable", run_id="x"
    )
    assert said(verdicts.gpu_verdict(analysed(pd.concat([runs, skipped])), None)) == (
        "GPU: not measured on this run — CUDA unavailable."
    )
    assert "runs nothing on CUDA" in said(verdicts.gpu_verdict(analysed(runs), None))
    on_gpu = runs.assign(backend="cuda", ratings_per_s=4 * 8000.0, run_id=runs["run_id"] + "g")
    both = pd.concat([runs, on_gpu])
    assert said(verdicts.gpu_verdict(analysed(both), "H200")) == (
        "GPU (H200): torch-mf on CUDA takes 0.25× its time per rating on the CPU "
        "(geometric mean of 2 paired runs, too few for an interval)."
    )


def test_corrected_test_is_wider_than_the_plain_paired_test() -> None:
    a = pd.Series([0.910, 0.920, 0.900, 0.915, 0.905])
    b = pd.Series([0.912, 0.918, 0.903, 0.914, 0.909])
    plain, corrected = paired.paired_difference(a, b, 0.0), paired.paired_difference(a, b, 0.25)
    assert corrected.p > plain.p and corrected.high - corrected.low > plain.high - plain.low
    assert corrected.low < corrected.mean < corrected.high
    assert paired.paired_difference(a[:1], b[:1], 0.25) is None
    constant = paired.paired_difference(a, a + 0.01, 0.25)
    assert constant.p == 0.0 and constant.significant


def test_a_single_run_ratio_says_its_noise_is_not_measured() -> None:
    runs = runs_of(
        {"torch-biased-mf": [0.85], "numba-sgd": [0.83]},
        params={"torch-biased-mf": {"factors": 128}, "numba-sgd": {"factors": 128}},
        ratings_per_s={"torch-biased-mf": [1.0e6], "numba-sgd": [1.25e6]},
    )
    data = analysed(runs)
    (pair,) = data.twins
    assert not pair.ratio.resolved and pair.ratio.reading is paired.Reading.TOO_FEW
    assert (
        "torch-biased-mf takes 1.25× numba-sgd's time per rating (one run) at 128 factors: "
        "not resolved (1 paired run(s): too few for an interval)"
    ) in said(verdicts.speed_verdict([pair]))
    assert "(one run)" in said(verdicts.twins_sentence(pair, "RMSE", data.budgets))
    assert wording.times(0.0014) == "0.0014×" and wording.times(0.41) == "0.41×"


def test_a_contender_the_test_could_not_pair_is_not_called_tied() -> None:
    runs = runs_of({"torch-biased-mf": [0.91 + e for e in NOISE], "numpy-als": [0.95]})
    table = standings(runs, Contest.RATING)
    assert table.best.label == "torch-biased-mf"  # numpy-als: one run, fold 0 only
    numpy_als = next(e for e in table.entrants if e.label == "numpy-als")
    assert numpy_als.vs_best is None and not numpy_als.tied_with_best
    assert [e.label for e in table.winners] == ["torch-biased-mf"]


def test_ahead_of_the_floor_but_too_noisy_is_not_called_learned_nothing() -> None:
    runs = runs_of(
        {
            "lightfm-bpr-hybrid": [0.16, 0.19, 0.13],
            "torch-hybrid": [0.20, 0.08, 0.14],  # far ahead on average, too noisy to tell
            "torch-bpr": [0.015, 0.04, 0.0],  # the floor's values: nothing learned
            "popularity": [0.016, 0.04, 0.0],
        },
        metric="ndcg_at_10",
    )
    table = standings(runs, Contest.RANKING)
    assert [e.label for e in table.unproven] == ["torch-hybrid"]
    assert [e.label for e in table.learned_nothing] == ["torch-bpr"]
    text = said(verdicts.contest_verdict(table))
    assert "torch-bpr learned nothing beyond the floor popularity" in text
    assert "torch-hybrid is not shown to beat the floor popularity (0.0187) (too noisy)" in text
    assert "Ahead of the floor **popularity**" in said(verdicts.floor_sentence(table))
    text = report.standings_table(table, summarize(runs))
    line = next(line for line in text.splitlines() if line.startswith("| torch-hybrid"))
    assert "not shown (noisy)" in line


def test_a_contender_without_a_curve_is_not_said_to_never_reach_the_target() -> None:
    rows = pd.DataFrame(
        {
            "model": ["numba-sgd", "surprise-svd", "torch-mf"],
            "label": ["numba-sgd", "surprise-svd", "torch-mf"],
            "backend": ["cpu"] * 3,
            "rating_target": [0.92] * 3,
            "time_to_rating_target_s": [0.4, NAN, NAN],
            "rmse_mean": [0.91, 0.91, 0.95],
        }
    )
    sentence = said(verdicts.time_to_target(speed.target_race(rows), "RMSE"))
    assert "never reached by torch-mf;" in sentence
    assert "not timed (no per-epoch curve): surprise-svd." in sentence
    assert verdicts.time_to_target_text(rows.iloc[1]) == "not timed (no curve)"
    assert verdicts.time_to_target_text(rows.iloc[2]) == "never"


def test_the_posts_capped_loop_is_not_judged_on_accuracy() -> None:
    runs = runs_of(
        {
            "torch-mf": [0.90, 0.91, 0.905],
            "torch-mf-seed": [2.7, 2.8, 2.75],  # a capped budget: far behind the floor
            "bias-only": [0.94, 0.95, 0.945],
        }
    )
    table = ranked.standings(summarize(runs), runs, Contest.RATING)
    text = said(verdicts.contest_verdict(table))
    assert "torch-mf-seed: capped budget, accuracy not judged" in text
    assert "learned nothing" not in text and "every contender else beats" in text
