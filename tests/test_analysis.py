"""The analysis layer on a small made-up folder (a tie, a single run, an overhead-bound fit, a
missed target), and every renderer drawing the same numbers from its one object: REPORT.md,
summary.json, the site's page and figures, and the PNGs."""

from __future__ import annotations

import dataclasses
import html
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from suite import answer, plots, protocol, report
from suite import results as results_io
from suite.analysis import claims, paired
from suite.analysis.folder import FolderAnalysis, analyse, analyse_folders
from suite.analysis.paired import Reading
from suite.models.base import Contest
from suite.site import figures, publish
from suite.wording import speed

#: The toy protocol the records are measured under (``toy_protocol``).
TOY_DIGEST = "t0y0protocol"

TOY_PROTOCOL = """
[rules]
alpha = 0.05
par = 1.1
much = 2.0
min_runs = 5
min_fit_s = 0.5
test_tolerance = 0.01

[[claims]]
id = "custom-faster"
short = "Bespoke code is much faster"
quote = "well-written custom solutions are still much faster"
question = "Is numba-sgd faster than torch-biased-mf to the same RMSE?"
a_side = "PyTorch"
b_side = "bespoke"
asserted = "b"
much = false
headline = "t1"

[[claims.deciding]]
id = "t1"
a = "torch-biased-mf"
b = "numba-sgd"
place = "toy"
folder = "FOLDER"
target = 0.92
"""

#: Per-fold jitter: the two SGDs tie (their differences change sign), far below the floor.
NOISE = np.array([0.0, 0.004, -0.003, 0.002, -0.001])


def record(label: str, fold: int, **values) -> dict:
    """One ok CPU run of ``label`` on fold ``fold`` of a 5-fold toy split."""
    row = {
        "run_id": f"{label}-{fold}",
        "dataset": "toy",
        "split": "kfold",
        "fold": fold,
        "seed": 0,
        "model": label,
        "label": label,
        "backend": "cpu",
        "n_threads": 1,
        "params": {"factors": 32},
        "status": "ok",
        "reason": "",
        "n_users": 50,
        "n_items": 40,
        "n_train": 800,
        "n_test": 200,
        "epochs": 10,
        "ratings_processed": 8000,
        "rating_target": 0.92,
        "relevance_threshold": 4.0,
        "started_at": "2026-12-01T00:00:00Z",
        "config": "toy",
        "peak_rss_mb": 100.0,
        "epoch_s_median": 0.1,
        "protocol": TOY_DIGEST,
    }
    row.update(values)
    row["ratings_per_s"] = row["ratings_processed"] / row["fit_s"]
    return row


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A toy folder: torch-biased-mf and numba-sgd tied on RMSE (torch-biased-mf twice
    numba-sgd's time per rating on every fold), bias-only far behind, numpy-als on one fold
    only, and torch-mf missing the RMSE target on every fold."""
    path = tmp_path_factory.mktemp("toy")
    records, curves = [], []
    for fold in range(5):
        records += [
            record("torch-biased-mf", fold, rmse=0.910 + NOISE[fold], fit_s=2.0 + 0.1 * fold,
                   time_to_rating_target_s=1.0 + 0.05 * fold),
            record("numba-sgd", fold, rmse=0.911 - NOISE[fold], fit_s=1.0 + 0.05 * fold,
                   time_to_rating_target_s=0.5 + 0.025 * fold),
            record("bias-only", fold, rmse=0.950 + NOISE[fold], fit_s=0.01, epochs=1,
                   ratings_processed=800),
            record("torch-mf", fold, rmse=0.97 + NOISE[fold], fit_s=1.5,
                   time_to_rating_target_s=math.nan),
        ]  # fmt: skip
        for label, final in (("torch-biased-mf", 0.91), ("numba-sgd", 0.91), ("torch-mf", 0.97)):
            curves += [
                {
                    "run_id": f"{label}-{fold}",
                    "epoch": epoch,
                    "elapsed_s": 0.2 * epoch,
                    "epoch_s": 0.2,
                    "train_loss": 1.0,
                    "test_rmse": final + 0.05 / epoch,
                    "test_ndcg_at_10": math.nan,
                }
                for epoch in range(1, 6)
            ]
    records.append(record("numpy-als", 0, rmse=0.93, fit_s=3.0, time_to_rating_target_s=2.0))
    results_io.append(path / results_io.RESULTS_FILE, records)
    results_io.append(path / results_io.CURVES_FILE, curves)
    (path / "env.json").write_text(json.dumps({"cpu": "Toy CPU", "cores": 2}), encoding="utf-8")
    return path


@pytest.fixture(scope="module", autouse=True)
def toy_protocol(folder: Path, tmp_path_factory: pytest.TempPathFactory):
    """The claims judged by a one-comparison protocol whose folder is the toy folder."""
    path = tmp_path_factory.mktemp("protocol") / "claims.toml"
    path.write_text(TOY_PROTOCOL.replace("FOLDER", folder.name), encoding="utf-8")
    fixed = dataclasses.replace(protocol.load(path), digest=TOY_DIGEST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(protocol, "load", lambda path=None: fixed)
        patch.setattr(protocol, "digest", lambda path=None: TOY_DIGEST)
        yield fixed


@pytest.fixture(scope="module")
def found(folder: Path) -> FolderAnalysis:
    return analyse(folder)


def test_a_tie_a_floor_and_a_single_run_are_found_once(found: FolderAnalysis) -> None:
    (data,) = found.datasets
    table = data.standings[Contest.RATING]
    assert [e.label for e in table.winners] == ["torch-biased-mf", "numba-sgd"]  # tied
    assert table.floor.label == "bias-only" and table.best.beats_floor
    numpy_als = next(e for e in table.entrants if e.label == "numpy-als")
    assert numpy_als.runs == 1 and numpy_als.vs_best is None  # a single run: untested


def test_the_same_model_twice_is_one_paired_ratio_of_time_per_rating(found) -> None:
    (data,) = found.datasets
    (twins,) = [t for t in data.twins if t.model == "torch-biased-mf"]
    ratio = twins.ratio
    expected = np.exp(np.mean(np.log([(2.0 + 0.1 * f) / (1.0 + 0.05 * f) for f in range(5)])))
    assert ratio.value == pytest.approx(expected) == pytest.approx(2.0)
    assert ratio.runs == 5 and ratio.quantity == "time per rating"
    assert ratio.reading is Reading.HIGHER  # numba-sgd faster, beyond ±10%


def test_a_missed_target_and_a_single_run_ratio_are_said_as_such(found) -> None:
    (data,) = found.datasets
    assert data.race.first["label"] == "numba-sgd" and "torch-mf" in data.race.missed
    single = paired.paired_ratio(pd.Series([2.0], index=[0]), pd.Series([1.0], index=[0]), "a", "b")
    assert single.reading is Reading.TOO_FEW and math.isnan(single.low)
    short = paired.paired_ratio(
        pd.Series([0.01, 0.011, 0.012]), pd.Series([0.02, 0.021, 0.02]), "a", "b"
    )
    assert short.overhead_bound and short.reading is Reading.OVERHEAD_BOUND and not short.judged


def test_the_claims_are_decided_by_the_protocols_pair_only(found) -> None:
    custom = next(claim for claim in found.claims if claim.id == "custom-faster")
    (ratio,) = custom.ratios
    assert (ratio.a, ratio.b) == ("torch-biased-mf", "numba-sgd")
    assert ratio.value == pytest.approx(2.0) and ratio.reading is Reading.HIGHER
    assert ratio.corrected  # five folds of one data set: Nadeau-Bengio
    assert custom.headline.outcome == claims.HOLDS and custom.verdict == "holds"


def test_report_summary_and_site_render_the_same_figures(
    folder: Path, found: FolderAnalysis, tmp_path: Path
) -> None:
    (data,) = found.datasets
    (twins,) = [t for t in data.twins if t.model == "torch-biased-mf"]
    phrase = speed(twins.ratio)  # "torch-biased-mf takes 2.00× numba-sgd's time per rating..."
    assert phrase.startswith("torch-biased-mf takes 2.00× numba-sgd's time per rating [")
    text = report.write_report(folder).path.read_text(encoding="utf-8")
    assert phrase in text
    custom = next(claim for claim in found.claims if claim.id == "custom-faster")
    said = answer.sentences(custom)[0]
    assert said in text  # the claims table of REPORT.md
    measured = dataclasses.replace(found.measured, status="current")  # no git here: as if
    document = answer.summary(analyse_folders(folder, [measured]))
    figure = next(c for c in document["claims"] if c["id"] == "custom-faster")["comparisons"][0]
    assert figure["estimate"] == pytest.approx(custom.ratios[0].value, abs=1e-6)
    assert (figure["low"], figure["high"], figure["n"]) == (
        pytest.approx(custom.ratios[0].low, abs=1e-6),
        pytest.approx(custom.ratios[0].high, abs=1e-6),
        5,
    )
    publish([folder], tmp_path / "site")
    page = (tmp_path / "site" / f"{folder.name}.html").read_text(encoding="utf-8")
    assert phrase.replace("'", "&#x27;") in page
    assert html.escape(said) in page


def test_a_figure_is_computed_once_and_drawn_by_both_renderers(found, tmp_path, monkeypatch):
    (data,) = found.datasets
    chart = data.pareto[Contest.RATING]
    site = figures.pareto("p", chart)
    drawn = {
        (source["x"][0], source["y"][0])
        for r in site.model.renderers
        if "tip" in (source := r.data_source.data) and len(source["x"]) == 1
    }
    points = {(p.fit_s, p.score) for p in chart.points}
    assert drawn == points
    assert (site.model.y_range.start, site.model.y_range.end) == (
        chart.window.low,
        chart.window.high,
    )
    kept = []
    monkeypatch.setattr(plots.pareto, "save", lambda figure, path: kept.append(figure))
    assert plots.pareto.draw(chart, tmp_path / "p.png")
    axes = kept[0].axes[0]
    assert axes.get_ylim() == pytest.approx((chart.window.low, chart.window.high))
    marked = {
        (float(line.get_xdata()[0]), float(line.get_ydata()[0]))
        for line in axes.get_lines()
        if len(line.get_xdata()) == 1
    }
    assert points <= marked
    plots.figure.pyplot().close(kept[0])
