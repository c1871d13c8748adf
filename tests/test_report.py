"""The report: tables and findings computed from a small, hand-made results frame."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from suite import readme, report, results
from suite.analysis.folder import DatasetAnalysis, dataset_analysis
from suite.analysis.growth import growths
from suite.analysis.summary import summarize
from suite.errors import InputError
from suite.models.base import Contest


def analysed(frame: pd.DataFrame, reference: str | None = None) -> DatasetAnalysis:
    """The toy data set of ``frame``, analysed as a folder's data set is."""
    curves = pd.DataFrame(columns=results.CURVE_COLUMNS)
    return dataset_analysis("toy", summarize(frame), frame, curves, reference)


def record(model: str, seed: int, **values) -> dict:
    base = {column: float("nan") for column in results.COLUMNS}
    base.update(
        run_id=f"{model}-{values.get('backend', 'cpu')}-{seed}",
        dataset="toy",
        split="holdout",
        fold=0,
        seed=seed,
        model=model,
        backend="cpu",
        n_threads=2,
        params="{}",
        status="ok",
        reason="",
        n_users=10,
        n_items=20,
        n_train=80,
        n_test=20,
        epochs=5,
        started_at="2026-01-01T00:00:00Z",
        config="test",
        rating_target=0.9,
        rating_noise_floor=0.8,
        relevance_threshold=4.0,
    )
    base.update(values)
    return base


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            record(
                "torch-biased-mf",
                0,
                rmse=0.90,
                mae=0.70,
                ndcg_at_10=0.10,
                precision_at_10=0.08,
                fit_s=2.0,
                ratings_per_s=1000.0,
                peak_rss_mb=400,
                time_to_rating_target_s=1.0,
            ),
            record(
                "torch-biased-mf",
                1,
                rmse=0.92,
                mae=0.72,
                ndcg_at_10=0.12,
                precision_at_10=0.09,
                fit_s=4.0,
                ratings_per_s=500.0,
                peak_rss_mb=420,
                time_to_rating_target_s=3.0,
            ),
            record(
                "torch-biased-mf",
                0,
                backend="cuda",
                rmse=0.90,
                mae=0.70,
                ndcg_at_10=0.10,
                precision_at_10=0.08,
                fit_s=0.5,
                ratings_per_s=4000.0,
                peak_rss_mb=900,
            ),
            record(
                "implicit-als",
                0,
                ndcg_at_10=0.30,
                precision_at_10=0.2,
                fit_s=1.0,
                ratings_per_s=8000.0,
                peak_rss_mb=100,
            ),
            record(
                "torch-mf-seed",
                0,
                rmse=3.0,
                mae=2.9,
                ndcg_at_10=0.01,
                precision_at_10=0.01,
                fit_s=10.0,
                ratings_per_s=100.0,
                peak_rss_mb=400,
            ),
            record(
                "torch-mf",
                0,
                rmse=0.95,
                mae=0.75,
                ndcg_at_10=0.05,
                precision_at_10=0.04,
                fit_s=1.0,
                ratings_per_s=20000.0,
                peak_rss_mb=400,
                time_to_rating_target_s=float("nan"),
            ),
            record("lightfm-warp", 0, status="skipped", reason="lightfm is not installed"),
        ]
    )


def test_summary_means_spreads_and_medians(frame) -> None:
    summary = summarize(frame).set_index(["model", "backend"])
    row = summary.loc[("torch-biased-mf", "cpu")]
    assert row["runs"] == 2 and row["rmse_mean"] == pytest.approx(0.91)
    assert row["rmse_std"] == pytest.approx(0.0141421, rel=1e-4)
    assert (row["fit_median"], row["fit_min"], row["fit_max"]) == (3.0, 2.0, 4.0)
    assert ("lightfm-warp", "cpu") not in summary.index  # skipped runs have no numbers


def test_contest_tables_keep_rating_and_ranking_apart(frame) -> None:
    tables = report.contest_tables(analysed(frame))
    rating, ranking = tables.split("Top-N ranking:")
    lines = {
        line.split("|")[1].strip() + "/" + line.split("|")[2].strip(): line
        for line in rating.splitlines()
        if line.startswith("| ")
    }
    assert "0.9100 ± 0.0141" in lines["torch-biased-mf/cpu"]
    assert "implicit-als" not in rating and "| implicit-als " in ranking
    assert "torch-biased-mf" not in ranking  # a rating model's NDCG is a finding of its table


def test_cost_and_cuda_tables(frame) -> None:
    data = analysed(frame, "torch-biased-mf")
    cost = report.cost_table(data, data.standings[Contest.RATING])
    lines = {line.split("|")[1].strip(): line for line in cost.splitlines()[2:]}
    assert "3.00 [2.00–4.00]" in lines["torch-biased-mf"]
    assert "never" in lines["torch-mf"]  # torch-mf never hit the target
    assert "implicit-als" not in lines  # another contest
    cuda = report.cuda_table(data)
    assert "| 0.25×  " in cuda  # on CUDA a quarter of its CPU time per rating (seed 0: paired)
    apart = frame[(frame["backend"] == "cuda") | (frame["model"] != "torch-biased-mf")]
    assert report.cuda_table(analysed(apart)) == ""  # CUDA and CPU rows of different contenders


def test_sections_say_what_the_numbers_say(frame, tmp_path: Path) -> None:
    frame.to_csv(tmp_path / "results.csv", index=False)
    text = report.write_report(tmp_path).path.read_text()
    verdict = text.split("## Verdict")[1].split("## Environment")[0]
    assert "**toy.** Rating prediction (RMSE): **torch-biased-mf (cuda)** has the best" in verdict
    assert "GPU: measured" not in verdict and "GPU: " in verdict
    assert "### Rating prediction (RMSE)" in text and "### Top-N ranking (NDCG@10)" in text
    assert "Fastest to RMSE ≤ 0.9: **torch-biased-mf** (cpu) after 2.00 s" in text
    assert "Rating models rank too, as a finding: the best, **" in text


def test_a_cost_grid_makes_no_accuracy_verdict(frame, tmp_path: Path) -> None:
    frame.to_csv(tmp_path / "results.csv", index=False)
    (tmp_path / results.GRID_FILE).write_text(json.dumps({"name": "toy", "cost_only": True}))
    text = report.write_report(tmp_path).path.read_text()
    verdict = text.split("## Verdict")[1].split("## Environment")[0]
    assert "Accuracy: not judged — a cost grid" in verdict
    assert "has the best" not in text and "is best" not in text and "tied for best" not in text
    assert "not judged (cost grid)" in text and "Fastest to RMSE ≤ 0.9" in text  # cost stays
    assert "learned nothing" not in text.split("## How to read this")[0]
    (tmp_path / results.GRID_FILE).write_text(json.dumps({"name": "toy", "cost_only": False}))
    assert "has the best" in report.write_report(tmp_path).path.read_text()


def test_noise_floor_distance(frame) -> None:
    table = report.noise_floor_table(summarize(frame))
    assert "+0.1100" in table  # 0.91 - 0.80


def test_write_report_makes_markdown_and_plots(frame, tmp_path: Path) -> None:
    frame.assign(params=[{}] * len(frame)).to_json(
        tmp_path / "results.jsonl", orient="records", lines=True
    )
    curves = [
        {
            "run_id": "torch-biased-mf-cpu-0",
            "epoch": e,
            "elapsed_s": e * 0.4,
            "epoch_s": 0.4,
            "train_loss": 1.0 / e,
            "test_rmse": 1.0 - e * 0.02,
            "test_ndcg_at_10": 0.02 * e,
        }
        for e in range(1, 6)
    ]
    results.append(tmp_path / results.CURVES_FILE, curves)
    (tmp_path / "env.json").write_text(json.dumps({"cpu": "Test CPU", "cores": 2}))
    written = report.write_report(tmp_path)
    text = written.path.read_text()
    assert "Test CPU" in text and "## toy" in text and "Skipped and failed runs" in text
    assert "lightfm is not installed" in text
    assert (tmp_path / "convergence-toy.png").stat().st_size > 1000
    assert (tmp_path / "epoch-time-toy.png").exists() is False  # no epoch times in this frame
    assert "### toy" in written.main_tables


def test_readme_headline_block_is_refreshed_from_results(frame, tmp_path: Path) -> None:
    frame.to_csv(tmp_path / "results.csv", index=False)
    readme_file = tmp_path / "README.md"
    readme_file.write_text(
        f"# x\n{readme.CLAIMS_START}\nold claims\n{readme.CLAIMS_END}\n"
        f"{readme.README_START}\nold table\n{readme.README_END}\ntail\n"
    )
    readme.update_readme(readme_file, tmp_path)
    text = readme_file.read_text()
    assert "old table" not in text and "old claims" not in text and text.endswith("tail\n")
    assert "#### toy" in text and "0.9100 ± 0.0141" in text
    assert text.index(
        "the 2017 post's claims, decided by a protocol fixed in advance"
    ) < text.index("#### toy")
    assert "well-written custom solutions are still much faster" in text
    assert (tmp_path / readme.SUMMARY_FILE).is_file()  # the same claims as data


def test_readme_without_markers_is_refused(frame, tmp_path: Path) -> None:
    frame.to_csv(tmp_path / "results.csv", index=False)
    (tmp_path / "README.md").write_text("# no markers\n")
    with pytest.raises(InputError, match="no <!-- headline:start -->"):
        readme.update_readme(tmp_path / "README.md", tmp_path)


def test_cost_growth_slopes(tmp_path: Path) -> None:
    rows = []
    for n in (10_000, 100_000, 1_000_000):
        rows.append(
            record(
                "linear",
                0,
                dataset=f"planted-{n}",
                n_train=n,
                fit_s=n / 1e5,
                epoch_s_median=n / 1e6,
                fit_rss_growth_mb=n / 1e4,
                rmse=1.0,
            )
        )
        rows.append(
            record(
                "quadratic",
                0,
                dataset=f"planted-{n}",
                n_train=n,
                fit_s=1.0,
                epoch_s_median=(n / 1e4) ** 2,
                fit_rss_growth_mb=5.0,
                rmse=1.0,
            )
        )
    section = report.scaling_section(growths(summarize(pd.DataFrame(rows))), tmp_path)
    lines = {line.split("|")[1].strip(): line for line in section.splitlines() if "|" in line}
    assert "| 1.00 " in lines["linear"] and "| 2.00 " in lines["quadratic"]
    assert "| 0.00 " in lines["quadratic"]  # constant memory
    assert (tmp_path / "scaling.png").exists()
    other_family = pd.DataFrame(rows).assign(rating_noise_floor=float("nan"))
    assert report.scaling_section(growths(summarize(other_family)), tmp_path) == ""
