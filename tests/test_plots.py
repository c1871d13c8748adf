"""The report's figures: looks, axis rules and the Pareto frontier, on small hand-made frames."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import matplotlib.colors
import numpy as np
import pandas as pd
import pytest

from suite import metrics, models, plots, results
from suite.analysis import figures as charts
from suite.analysis import window as windows
from suite.analysis.growth import Growth, fit
from suite.models.base import Contest
from suite.plots import contender_look as look
from suite.plots import scales

RMSE = metrics.primary(Contest.RATING)
NDCG = metrics.primary(Contest.RANKING)
PNG_MAGIC = b"\x89PNG"


@pytest.fixture
def figures(monkeypatch) -> list[Any]:
    """Figures the plot functions would save, kept open for inspection instead."""
    kept: list[Any] = []

    def keep(figure, path: Path) -> None:
        figure.canvas.draw()  # lay out, as saving would
        kept.append(figure)
        path.write_bytes(PNG_MAGIC)

    for kind in (plots.convergence, plots.epoch_time, plots.pareto, plots.scaling, plots.tuning):
        monkeypatch.setattr(kind, "save", keep)
    yield kept
    for figure in kept:
        plots.figure.pyplot().close(figure)


def texts(figure) -> list[str]:
    """Every piece of text in a figure: titles, labels, tick labels, notes, legend."""
    return [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]


def summary_row(model: str, label: str | None = None, backend: str = "cpu", **values) -> dict:
    row = {
        "dataset": "toy",
        "model": model,
        "label": label or model,
        "backend": backend,
        "runs": 3,
        "fit_median": 1.0,
        "fit_min": 0.9,
        "fit_max": 1.2,
        "epoch_s_median": 0.1,
        "epochs": 10.0,
        "ratings_processed": 1_000_000.0,
        "rmse_mean": float("nan"),
        "rmse_std": 0.01,
        "ndcg_at_10_mean": float("nan"),
        "ndcg_at_10_std": 0.01,
    }
    row.update(values)
    return row


# -- looks --------------------------------------------------------------------------------------


def test_family_of_registered_and_unknown_names() -> None:
    assert look.family("torch-biased-mf") == "torch"
    assert look.family("lightfm-warp-hybrid") == "lightfm"
    assert look.family("cornac-mf") == "cornac"
    assert look.family("implicit-als") == "implicit"
    assert look.family("surprise-svdpp") == "surprise"
    for floor in ("global-mean", "bias-only", "popularity"):
        assert look.family(floor) == "floor"
    assert look.family("spark-als") == "pyspark"
    assert look.family("someone-elses-mf") == "other"
    for name in models.names():  # read from the class's requirements, not from the name
        contender = models.get(name)
        expected = "floor" if contender.floor else contender.requirements[0].import_name
        assert look.family(name) == expected
        assert look.family(name) in look.FAMILY_LINES


def test_every_contender_has_its_own_colour_and_floors_are_grey() -> None:
    rgb = {name: np.array(matplotlib.colors.to_rgb(look.colour(name))) for name in models.names()}
    for first, second in itertools.combinations(rgb, 2):
        distance = np.linalg.norm(rgb[first] - rgb[second])
        assert distance > 0.15, f"{first} and {second} look alike: {distance:.2f}"
    for name, colour in rgb.items():
        grey = np.ptp(colour) < 1e-6
        assert grey == models.get(name).floor, name
    assert look.colour("torch-biased-mf") == look.colour("torch-biased-mf")  # fixed
    assert look.colour("not-registered") == look.colour("not-registered")


def test_settings_differ_by_marker_and_backends_by_fill() -> None:
    pairs = [
        ("torch-mf", "torch-mf[factors=32]"),
        ("torch-mf", "torch-mf[factors=128]"),
        ("torch-mf", "torch-mf[factors=32]"),  # same label on another backend
        ("numba-sgd", "numba-sgd"),
    ]
    marks = look.markers(pairs)
    assert marks["torch-mf[factors=32]"] != marks["torch-mf[factors=128]"]
    assert len(marks) == 3
    cpu = look.style("torch-mf", "torch-mf", "cpu")
    cuda = look.style("torch-mf", "torch-mf", "cuda")
    assert cpu["fillstyle"] == "full" and cuda["fillstyle"] == "none"
    assert cpu["color"] == cuda["color"] and cpu["linestyle"] == cuda["linestyle"]
    assert look.style("numpy-als", "numpy-als", "cpu")["linestyle"] != cpu["linestyle"]
    assert look.legend_name("torch-mf", "cuda") == "torch-mf (cuda)"
    assert look.legend_name("torch-mf", "cpu") == "torch-mf"


# -- log axes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high"),
    [(0.012, 0.095), (0.3, 0.9), (1.02, 1.09), (0.031, 0.033), (8e3, 8e6), (1e-4, 1e3), (5, 50)],
)
def test_log_ticks_label_short_and_long_spans(low: float, high: float) -> None:
    ticks = scales.log_ticks(low, high)
    inside = [t for t in ticks if low <= t <= high]
    assert len(inside) >= 2, ticks
    assert len(ticks) <= 12
    labels = scales.tick_labels(ticks)
    assert all(labels) and len(set(labels)) == len(labels)


def test_tick_labels_read_one_way_per_axis() -> None:
    assert scales.tick_labels([0.1, 0.2, 0.5]) == ["0.1", "0.2", "0.5"]
    assert scales.tick_labels([1e4, 1e5, 2e6]) == ["$10^{4}$", "$10^{5}$", "$2\\times10^{6}$"]


# -- the y window -------------------------------------------------------------------------------


def test_a_contender_far_off_is_named_not_cut() -> None:
    curves = {f"good-{i}": [1.05 - 0.01 * e - 0.005 * i for e in range(10)] for i in range(5)}
    curves["never-learns"] = [2.8, 2.79, 2.78]
    curves["starts-high"] = [2.6, 1.5, 1.0, 0.93]
    finals = {name: values[-1] for name, values in curves.items()}
    window = windows.y_window(curves, finals, guides=[0.93])
    assert windows.off_scale(curves, finals, guides=[0.93]) == ["never-learns", "starts-high"]
    never, starts = window.off_scale
    assert never.ends_off and never.side == "above" and never.value == pytest.approx(2.8)
    assert not starts.ends_off and starts.value == pytest.approx(2.6)
    assert window.high < 1.5  # the rest keep the view
    for name, values in curves.items():  # everything not named is in view
        if name not in {"never-learns", "starts-high"}:
            assert window.low <= min(values) and max(values) <= window.high
    lines = scales.off_scale_lines(window.off_scale, "RMSE")
    assert lines[0].startswith("never-learns: RMSE ends at 2.78")
    assert "in early epochs" in lines[1]


def test_curves_that_only_travel_stay_in_view() -> None:
    curves = {
        "slow": [1.06, 1.0, 0.95, 0.92, 0.91],
        "fast": [0.98, 0.94, 0.93, 0.92],
        "floor": [0.95, 0.95],
    }
    finals = {name: values[-1] for name, values in curves.items()}
    window = windows.y_window(curves, finals, guides=[0.8])
    assert window.off_scale == ()
    assert window.low < 0.8 and window.high > 1.06  # the guide and every point, padded


def test_off_scale_below_for_higher_is_better_and_many_settings_grouped() -> None:
    points = {f"m[setting={i}]": [0.30 + 0.001 * i] for i in range(10)}
    points |= {f"bad[setting={i}]": [-5.0 - i] for i in range(5)}
    finals = {name: values[0] for name, values in points.items()}
    window = windows.y_window(points, finals)
    assert {item.side for item in window.off_scale} == {"below"}
    assert len(window.off_scale) == 5
    lines = scales.off_scale_lines(window.off_scale, "NDCG@10", curve=False)
    assert lines == ["bad[…] (5 settings): NDCG@10 min -9 ↓"]


def test_a_contender_far_better_than_the_crowd_is_never_off_scale() -> None:
    """Ranking models' NDCG among the rating models' (synthetic-1m): the news stays in view."""
    points = {f"rating-{i}": [0.01, 0.02 + 0.001 * i] for i in range(6)}
    points |= {"ranker": [0.08, 0.17], "worse": [-0.5, -0.4]}
    finals = {name: values[-1] for name, values in points.items()}
    assert "ranker" in windows.off_scale(points, finals)  # direction unknown: either side
    window = windows.y_window(points, finals, higher_is_better=True)
    assert [item.name for item in window.off_scale] == ["worse"]
    assert window.high >= 0.17
    lower_is_better = windows.y_window(points, finals, higher_is_better=False)
    assert [item.name for item in lower_is_better.off_scale] == ["ranker"]


# -- frontier -----------------------------------------------------------------------------------


@pytest.fixture
def contest_rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            summary_row("d", fit_median=0.5, rmse_mean=1.00, ndcg_at_10_mean=0.30),
            summary_row("a", fit_median=1.0, rmse_mean=0.95, ndcg_at_10_mean=0.10),
            summary_row("b", fit_median=2.0, rmse_mean=0.90, ndcg_at_10_mean=0.35),
            summary_row("c", fit_median=3.0, rmse_mean=0.92, ndcg_at_10_mean=0.40),
            summary_row("e", fit_median=4.0, rmse_mean=float("nan"), ndcg_at_10_mean=0.50),
            summary_row("global-mean", fit_median=0.001, rmse_mean=0.5, ndcg_at_10_mean=0.9),
        ],
        index=["d", "a", "b", "c", "e", "floor"],
    )


def test_frontier_respects_the_metric_direction(contest_rows) -> None:
    # lower RMSE is better: c (slower, worse than b) is dominated; e has no RMSE
    assert charts.frontier(contest_rows, RMSE) == ["d", "a", "b"]
    # higher NDCG is better: a (slower and worse than d) is dominated; the floor never counts
    assert charts.frontier(contest_rows, NDCG) == ["d", "b", "c", "e"]


def test_frontier_keeps_equal_points_and_drops_an_equally_fast_worse_one() -> None:
    rows = pd.DataFrame(
        [
            summary_row("x", fit_median=1.0, rmse_mean=0.9),
            summary_row("y", fit_median=1.0, rmse_mean=0.9),
            summary_row("z", fit_median=1.0, rmse_mean=0.95),
        ]
    )
    assert sorted(charts.frontier(rows, RMSE)) == [0, 1]


# -- figures ------------------------------------------------------------------------------------


NO_RUNS = pd.DataFrame(columns=results.COLUMNS)


def test_pareto_needs_two_points(tmp_path: Path) -> None:
    rows = pd.DataFrame(
        [
            summary_row("torch-mf", fit_median=0.5, rmse_mean=1.00),
            summary_row("numba-sgd", fit_median=1.0, rmse_mean=0.95),
            summary_row("global-mean", fit_median=0.001, rmse_mean=1.1),
        ]
    )
    path = tmp_path / "pareto.png"
    alone = charts.pareto("toy", rows.iloc[[0, 2]], NO_RUNS, Contest.RATING)
    assert len(alone.points) == 1 and plots.pareto.draw(alone, path) is False  # the site draws it
    assert not path.exists()
    both = charts.pareto("toy", rows, NO_RUNS, Contest.RATING)
    assert [p.setting.label for p in both.frontier] == ["torch-mf", "numba-sgd"]
    assert plots.pareto.draw(both, path) is True
    assert path.read_bytes()[:4] == PNG_MAGIC


def test_pareto_draws_floors_as_named_lines_and_names_a_point_off_scale(
    figures, tmp_path: Path
) -> None:
    rows = pd.DataFrame(
        [
            summary_row("torch-mf", fit_median=1.0, rmse_mean=0.95),
            summary_row("numba-sgd", fit_median=2.0, rmse_mean=0.90),
            summary_row("cornac-mf", fit_median=3.0, rmse_mean=0.92),
            summary_row("torch-mf-seed", "never-learns", fit_median=5.0, rmse_mean=2.8),
            summary_row("bias-only", fit_median=0.01, rmse_mean=0.97),
        ]
    )
    chart = charts.pareto("toy", rows, NO_RUNS, Contest.RATING)
    assert [item.name for item in chart.window.off_scale] == ["never-learns"]
    assert plots.pareto.draw(chart, tmp_path / "p.png")
    words = texts(figures[0])
    assert "toy: RMSE vs fit time (rating)" in words
    assert "bias-only (floor) 0.97" in words  # a reference line, named
    assert "bias-only" not in words  # and not a point of the legend
    assert any("never-learns: RMSE 2.8 ↑" in w for w in words)


def test_epoch_times_skip_contenders_that_do_not_train(figures, tmp_path: Path) -> None:
    rows = pd.DataFrame(
        [
            summary_row("torch-biased-mf", epoch_s_median=0.5, epochs=10, ratings_processed=2e6),
            summary_row("torch-biased-mf", backend="cuda", epoch_s_median=0.05),
            summary_row("popularity", epoch_s_median=0.004, epochs=1, ratings_processed=8e4),
            summary_row("surprise-svd", epoch_s_median=float("nan")),
            summary_row("numba-sgd", ratings_processed=float("nan")),
        ]
    )
    seconds = charts.seconds_per_million(rows)
    assert seconds.iloc[0] == pytest.approx(0.5 / 2e5 * 1e6)  # 2.5 s per 10⁶ visited
    assert seconds.iloc[3:].isna().all()
    assert plots.epoch_time.draw(charts.epoch_times("toy", rows), tmp_path / "e.png") is True
    axes = figures[0].axes[0]
    bars = [label.get_text() for label in axes.get_yticklabels()]
    assert bars == ["torch-biased-mf (cuda)", "torch-biased-mf"]  # fastest first
    assert "10⁶ ratings visited" in axes.get_title()
    assert "2.5" in texts(figures[0])  # the value on its bar
    note = axes.get_xlabel()
    assert "does not train: popularity" in note
    assert "surprise-svd" in note and "numba-sgd" in note


def test_epoch_times_with_nothing_to_draw_writes_nothing(tmp_path: Path) -> None:
    rows = pd.DataFrame(
        [
            summary_row("popularity", epoch_s_median=0.004, epochs=1, ratings_processed=8e4),
            summary_row("torch-mf", epochs=0),
        ]
    )
    assert charts.epoch_times("toy", rows) is None  # nothing for any renderer to draw


def convergence(runs: pd.DataFrame, curves: pd.DataFrame) -> list[charts.Convergence]:
    """Each primary metric's convergence figure of the toy data set's runs (none without
    curves)."""
    found = [charts.convergence("toy", runs, curves, metric) for metric in metrics.primaries()]
    return [chart for chart in found if chart is not None]


def _runs_and_curves(ranking: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rating models' runs and curves (their NDCG too, a finding), and implicit-als's when
    ``ranking`` (no RMSE)."""
    runs, curves = [], []
    finals = {"torch-biased-mf": 0.91, "numba-sgd": 0.92, "numpy-als": 0.915, "torch-mf-seed": 2.8}
    if ranking:
        finals["implicit-als"] = math.nan
    for model, final in finals.items():
        for seed in (0, 1):
            run_id = f"{model}-{seed}"
            runs.append(
                {
                    "run_id": run_id,
                    "dataset": "toy",
                    "status": "ok",
                    "model": model,
                    "label": model,
                    "backend": "cpu",
                    "rating_target": 0.93,
                    "rating_noise_floor": math.nan,
                }
            )
            for epoch in range(1, 6):
                rmse = final if final > 2 else final + 0.1 / epoch
                curves.append(
                    {
                        "run_id": run_id,
                        "epoch": epoch,
                        "elapsed_s": 0.1 * epoch,
                        "epoch_s": 0.1,
                        "train_loss": 1.0,
                        "test_rmse": rmse + 0.001 * seed,
                        "test_ndcg_at_10": 0.05 * epoch,
                    }
                )
    return pd.DataFrame(runs), pd.DataFrame(curves)


def test_convergence_names_the_contender_it_leaves_off_scale(figures, tmp_path: Path) -> None:
    runs, curves = _runs_and_curves()
    assert plots.convergence.draw(convergence(runs, curves), tmp_path / "c.png") is True
    rating, ranking = figures[0].axes[:2]
    notes = [t.get_text() for t in rating.texts if t.get_text().startswith("off scale")]
    assert len(notes) == 1 and "torch-mf-seed: RMSE ends at 2.8" in notes[0]
    low, high = rating.get_ylim()
    assert low < 0.93 and 1.021 < high < 1.5  # every other point in view, and not flattened
    assert not [t for t in ranking.texts if t.get_text().startswith("off scale")]
    assert plots.convergence.draw([], tmp_path / "none.png") is False
    assert not (tmp_path / "none.png").exists()


def test_convergence_draws_no_panel_for_a_contest_no_entrant_ran(figures, tmp_path) -> None:
    runs, curves = _runs_and_curves(ranking=False)  # rating models rank only as a finding
    assert plots.convergence.draw(convergence(runs, curves), tmp_path / "c.png") is True
    labels = [axes.get_ylabel() for axes in figures[0].axes]
    assert any("RMSE" in label for label in labels)
    assert not any("NDCG" in label for label in labels)


def test_convergence_writes_a_png(tmp_path: Path) -> None:
    runs, curves = _runs_and_curves()
    assert plots.convergence.draw(convergence(runs, curves), tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == PNG_MAGIC


def test_scaling_draws_each_group(tmp_path: Path) -> None:
    groups = [
        pd.DataFrame(
            [
                summary_row(model, backend=backend, n_train=n, epoch_s_median=n / 1e6 * k)
                | {"fit_rss_growth_mb": n / 1e4}
                for n in (1e4, 1e5, 1e6)
            ]
        )
        for model, backend, k in (("torch-mf", "cpu", 1), ("torch-mf", "cuda", 0.1))
    ]
    found = [
        Growth(
            group,
            {column: fit(group, column) for column in ("epoch_s_median", "fit_rss_growth_mb")},
        )
        for group in groups
    ]
    assert found[0].slopes["epoch_s_median"].slope == pytest.approx(1.0)
    plots.scaling.draw(found, tmp_path / "scaling.png")
    assert (tmp_path / "scaling.png").read_bytes()[:4] == PNG_MAGIC


def test_claims_points_of_one_size_are_dodged_and_their_labels_kept_apart(tmp_path: Path) -> None:
    from suite.analysis.figures import ClaimPoint as Point
    from suite.plots.claims import dodged, draw, spread_labels

    at_100k = [  # two ratios 3 % apart at one size, and one far below: the figure's crowd
        Point(8e4, 3.15, 0.35, 28.1, "rating", "torch-bpmf / numba-sgd, ml-100k"),
        Point(8e4, 3.05, 0.3, 20.0, "rating", "torch-bpmf / cornac-mf, ml-100k"),
        Point(8e4, 0.33, 0.24, 0.39, "ranking", "torch-ials / implicit-als, ml-100k"),
    ]
    alone = Point(8e5, 3.1, None, None, "rating", "torch-als / cornac-mf, synthetic-1m")
    points = [*at_100k, alone]
    x = dodged(points)
    assert len({round(v) for v in x[:3]}) == 3  # no two bars on one line
    assert x[3] == alone.n_train and min(x[:3]) < 8e4 < max(x[:3])
    gap = 0.05
    y = np.log10(spread_labels(points, gap))
    assert y[0] - y[1] >= gap - 1e-9  # the crowded pair apart
    assert y[0] > y[1] > y[2]  # in the order of their points
    assert y[3] == pytest.approx(math.log10(3.1))  # its own column: left where it is
    assert draw(points, "claims", tmp_path / "claims.png")
    assert not draw([], "claims", tmp_path / "none.png") and not (tmp_path / "none.png").exists()
