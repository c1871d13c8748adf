"""The post's claims judged on small synthetic folders: holds, reversed, depends, on par, not
resolved, overhead-bound, single runs, not measured, and stale folders left out."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from suite import answer
from suite.analysis import claims, provenance
from suite.analysis.folder import analyse_folders
from suite.analysis.paired import PAR
from suite.analysis.provenance import Folder


def runs(dataset: str, times: dict[str, list[float]], target: float = 0.92, **extra) -> list[dict]:
    """Ok CPU rating runs, one per fold, each contender's time to the RMSE target given."""
    rows = []
    for label, seconds in times.items():
        for fold, time in enumerate(seconds):
            rows.append(
                {
                    "run_id": f"{dataset}-{label}-{fold}",
                    "dataset": dataset,
                    "label": label,
                    "model": label,
                    "backend": "cpu",
                    "status": "ok",
                    "fold": fold,
                    "seed": 0,
                    "n_threads": 2,
                    "fit_s": time * 2,
                    "ratings_per_s": 1e6 / time,
                    "rating_target": target,
                    "ranking_target": np.nan,
                    "time_to_rating_target_s": time,
                    "time_to_ranking_target_s": np.nan,
                    **extra,
                }
            )
    return rows


def folder(rows: list[dict], name: str = "results", status: str = "current") -> Folder:
    frame = pd.DataFrame(rows)
    return Folder(Path(name), name, frame, pd.DataFrame(), {}, ["abc"], False, "2026", status)


def judged(*folders: Folder) -> dict[str, claims.Claim]:
    return {claim.id: claim for claim in claims.judge(list(folders))}


def said(claim: claims.Claim) -> list[str]:
    """The claim's evidence in words, as every output renders it."""
    return answer.sentences(claim)


def ratios(claim: claims.Claim) -> list:
    """Every ratio behind a claim (deciding, context, speed-ups), in order."""
    return [e.ratio for e in claim.evidence if e.ratio is not None]


NOISE = np.array([1.0, 1.05, 0.97, 1.02, 0.99])


def test_custom_solutions_faster_holds_when_bespoke_wins_every_fold() -> None:
    rows = runs("ml-100k", {"torch-biased-mf": list(0.8 * NOISE), "numba-sgd": list(0.2 * NOISE)})
    claim = judged(folder(rows))["custom-faster"]
    assert claim.verdict == "holds"
    (ratio,) = ratios(claim)
    assert ratio.value == pytest.approx(4.0, rel=0.01) and ratio.low > PAR
    assert "numba-sgd faster" in said(claim)[0]


def test_reversed_where_pytorch_wins() -> None:
    rows = runs("ml-100k", {"torch-als": list(0.1 * NOISE), "numba-sgd": list(0.4 * NOISE)})
    assert judged(folder(rows))["custom-faster"].verdict == "reversed: PyTorch is faster"


def test_a_verdict_resolved_on_one_data_set_names_where_and_where_not() -> None:
    clear = runs("ml-100k", {"torch-als": list(0.1 * NOISE), "numba-sgd": list(0.4 * NOISE)})
    swings = np.array([1.0, 2.0, 0.5, 1.6, 0.7])  # the interval spans both outcomes
    noisy = runs("synthetic-1m", {"torch-als": list(swings), "numba-sgd": list(swings[::-1])})
    claim = judged(folder(clear + noisy))["custom-faster"]
    assert claim.verdict == (
        "reversed: PyTorch is faster on ml-100k, rating; not resolved on synthetic-1m, rating"
    )


def test_a_place_two_folders_measure_is_named_once() -> None:
    clear = runs("ml-100k", {"torch-als": list(0.1 * NOISE), "numba-sgd": list(0.4 * NOISE)})
    swings = np.array([1.0, 2.0, 0.5, 1.6, 0.7])
    noisy = runs("synthetic-1m", {"torch-als": list(swings), "numba-sgd": list(swings[::-1])})
    claim = judged(folder(clear + noisy), folder(clear + noisy, "results/again"))
    assert claim["custom-faster"].verdict == (
        "reversed: PyTorch is faster on ml-100k, rating; not resolved on synthetic-1m, rating"
    )


def test_depends_on_scale_names_both_sides() -> None:
    small = runs("ml-100k", {"torch-biased-mf": list(0.8 * NOISE), "numba-sgd": list(0.2 * NOISE)})
    large = runs("synthetic-1m", {"torch-biased-mf": list(2 * NOISE), "numba-sgd": list(9 * NOISE)})
    claim = judged(folder(small + large))["custom-faster"]
    assert claim.verdict.startswith("depends on the data set or contest")
    assert set(claim.datasets) == {"ml-100k", "synthetic-1m"}


def test_on_par_only_within_ten_percent_and_not_resolved_beyond() -> None:
    par = runs("ml-100k", {"torch-biased-mf": list(0.50 * NOISE), "numba-sgd": list(0.51 * NOISE)})
    assert judged(folder(par))["custom-faster"].verdict.startswith("on par")
    noisy = runs(
        "ml-100k",
        {"torch-biased-mf": [0.5, 0.9, 0.3, 0.6, 0.45], "numba-sgd": [0.5, 0.4, 0.6, 0.5, 0.55]},
    )
    assert judged(folder(noisy))["custom-faster"].verdict.startswith("not resolved")


def test_one_slow_pair_pulls_the_ratio_from_the_medians_and_the_text_says_which_is_which() -> None:
    mine = [0.25, 16.0, 7.6, 0.25, 0.23]  # two folds far slower (as torch-bpmf's were)
    rows = runs("ml-100k", {"torch-bpmf": mine, "numba-sgd": [0.29, 0.39, 0.33, 0.27, 0.29]})
    (sentence,) = said(judged(folder(rows))["custom-faster"])
    assert "(geometric mean of 5 paired runs; medians 0.25 s and 0.29 s)" in sentence
    assert "torch-bpmf takes 3." in sentence  # the geometric mean of the paired ratios


def test_an_overhead_bound_fit_judges_nothing() -> None:
    rows = runs("tiny", {"torch-biased-mf": list(0.04 * NOISE), "numba-sgd": list(0.002 * NOISE)})
    claim = judged(folder(rows))["custom-faster"]
    assert "overhead-bound" in said(claim)[0]
    assert claim.verdict.startswith("not judged")


def test_a_single_run_ratio_has_no_interval() -> None:
    rows = runs("synthetic-1m", {"torch-biased-mf": [2.0], "numba-sgd": [9.0]})
    claim = judged(folder(rows))["custom-faster"]
    (ratio,) = ratios(claim)
    assert not ratio.resolved and "too few for an interval" in said(claim)[0]
    assert "(one run: 2 s and 9 s)" in said(claim)[0]
    assert claim.verdict.startswith("not judged")


def test_without_targets_or_folders_a_claim_is_not_measured() -> None:
    rows = runs("ml-100k", {"torch-biased-mf": list(NOISE), "numba-sgd": list(NOISE)}, target=None)
    for row in rows:
        row["rating_target"] = np.nan
    found = judged(folder(rows))
    assert found["custom-faster"].verdict == "not measured"
    assert found["gpus"].verdict.startswith("not measured here")
    assert found["parallel"].verdict.startswith("not measured")


def test_stale_folders_are_left_out_and_named() -> None:
    rows = runs("ml-100k", {"torch-biased-mf": list(0.8 * NOISE), "numba-sgd": list(0.2 * NOISE)})
    found = judged(folder(rows, "results/old", status="stale"))
    assert found["custom-faster"].verdict == (
        "not measured (the folders that might measure it are stale: results/old)"
    )


def test_als_against_sgd_and_the_lines_of_code() -> None:
    rows = runs("ml-100k", {"torch-als": list(0.1 * NOISE), "numpy-sgd": list(3 * NOISE)})
    found = judged(folder(rows))
    assert found["als-faster"].verdict == "holds"
    fewer = found["fewer-lines"]
    assert fewer.verdict.startswith("converges faster: holds; in fewer lines:")
    lines = {e.name: e.value for e in fewer.evidence if e.role == claims.CODE_LINES}
    assert lines["code lines torch-als"] > 50 and lines["code lines numpy-sgd"] > 50


def test_thread_speed_ups_pair_the_same_runs_in_two_folders() -> None:
    times = {"torch-biased-mf": list(NOISE), "numba-sgd": list(NOISE)}
    one = pd.DataFrame(runs("ml-100k", times)).assign(n_threads=1)
    many = pd.DataFrame(runs("ml-100k", times)).assign(n_threads=2)
    many.loc[many["label"] == "torch-biased-mf", "fit_s"] /= 1.8
    many.loc[many["label"] == "numba-sgd", "fit_s"] /= 1.2
    claim = judged(
        folder(one.to_dict("records"), "results/speed-1"), folder(many.to_dict("records"), "r/2")
    )["parallel"]
    times = {e.name: e.ratio.value for e in claim.evidence}
    assert times["fit time torch-biased-mf, 2 threads / 1 thread"] == pytest.approx(1 / 1.8)
    assert claim.verdict.startswith("holds")


def test_thread_speed_ups_within_ten_percent_resolve_nothing() -> None:
    times = {"torch-biased-mf": list(NOISE), "numba-sgd": list(NOISE)}
    one = pd.DataFrame(runs("ml-100k", times)).assign(n_threads=1)
    many = pd.DataFrame(runs("ml-100k", times)).assign(n_threads=2)
    many["fit_s"] = many["fit_s"] / np.tile(NOISE[::-1], 2)  # speed-ups of 0.97-1.03
    claim = judged(
        folder(one.to_dict("records"), "results/speed-1"), folder(many.to_dict("records"), "r/2")
    )["parallel"]
    assert claim.verdict.startswith(
        "not resolved: no trainer's fit time falls beyond ±10% with more threads on this machine"
    )


def test_the_summary_holds_every_claim_with_its_figures() -> None:
    rows = runs("ml-100k", {"torch-biased-mf": list(0.8 * NOISE), "numba-sgd": list(0.2 * NOISE)})
    measured = folder(rows)
    document = answer.summary(analyse_folders(Path("results"), [measured]))
    assert [c["id"] for c in document["claims"]] == [c[0] for c in claims.CLAIMS]
    custom = next(c for c in document["claims"] if c["id"] == "custom-faster")
    assert custom["figures"][0]["low"] > 1 and custom["commit"] == "abc"
    assert custom["figures"][0]["runs"] == 5
    assert custom["link"] == "results/REPORT.md"
    assert document["folders"][0]["status"] == "current"


def test_provenance_tells_current_stale_and_unknown() -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=provenance.REPOSITORY, capture_output=True, text=True, check=True
        ).stdout.strip()

    head = git("rev-parse", "HEAD")
    root = git("rev-list", "--max-parents=0", "HEAD").splitlines()[0]
    assert provenance.status([head])[0] == "current"
    assert provenance.status([head], dirty=True)[0] == "stale"
    state, changed, _ = provenance.status([root])
    assert state == "stale" and changed  # the contenders changed since the first commit
    assert provenance.status(["0" * 40])[0] == "unknown"
    assert provenance.status([])[0] == "unknown"


def test_changes_declared_neutral_leave_a_folder_current_and_are_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def git(*args: str) -> list[str]:
        return subprocess.run(
            ["git", *args], cwd=provenance.REPOSITORY, capture_output=True, text=True, check=True
        ).stdout.split()

    root = git("rev-list", "--max-parents=0", "HEAD")[0]
    monkeypatch.setattr(provenance, "NEUTRAL", {})  # every change since, none passed over
    _, changed, _ = provenance.status([root])
    declared = {
        (c, path): "test"
        for path in changed
        for c in git("log", "--format=%H", f"{root}..HEAD", "--", path)
    }
    monkeypatch.setattr(provenance, "NEUTRAL", declared)
    state, left, passed = provenance.status([root])
    assert (state, left) == ("current", []) and len(passed) >= len(changed)
    kept = changed[0]
    monkeypatch.setattr(provenance, "NEUTRAL", {k: v for k, v in declared.items() if k[1] != kept})
    state, left, _ = provenance.status([root])
    assert (state, left) == ("stale", [kept])


def test_a_grid_file_makes_only_its_own_folders_stale() -> None:
    counts = provenance._counts_for
    assert counts("suite/configs/speed.toml", ["speed"])
    assert not counts("suite/configs/speed.toml", ["default"])
    assert counts("suite/configs/speed.toml", None)  # grids unknown: every change counts
    assert counts("suite/configs/tuned/ml-100k/kfold5-fold0-seed0.toml", ["speed"])
    assert counts("suite/configs/__init__.py", ["speed"])
    assert counts("baselines/numba_sgd.py", ["speed"])


def test_a_splits_tuned_settings_make_only_folders_with_runs_on_that_split_stale() -> None:
    counts = provenance._counts_for
    fold0 = "suite/configs/tuned/ml-100k/kfold5-fold0-seed0.toml"
    kfold = {("ml-100k", "kfold", 0, 0), ("ml-100k", "kfold", 1, 0)}
    assert counts(fold0, ["default"], kfold)
    assert not counts(fold0, ["default"], {("ml-100k", "kfold", 1, 0)})
    assert not counts(fold0, ["speed"], {("ml-100k", "holdout", 0, 0)})
    assert not counts(fold0, ["scaling"], {("synthetic-1m", "holdout", 0, 0)})
    assert counts(fold0, ["default"], None)  # runs unknown: it counts
    holdout = "suite/configs/tuned/ml-100k/holdout0.2-seed1.toml"
    assert counts(holdout, ["x"], {("ml-100k", "holdout", 0, 1)})
    assert not counts(holdout, ["x"], {("ml-100k", "holdout", 0, 0)})
    assert not counts(holdout, ["x"], {("ml-100k +features", "holdout", 0, 1)})
    featured = "suite/configs/tuned/ml-100k/cold-items0.2-seed1+features.toml"
    assert counts(featured, ["x"], {("ml-100k +features, cold items", "cold-items", 0, 1)})
    assert not counts(featured, ["x"], {("ml-100k +features, cold items", "cold-items", 0, 2)})
    assert not counts(featured, ["x"], {("ml-100k", "holdout", 0, 1)})
    assert counts("suite/configs/tuned/ml-100k.toml", ["x"], {("ml-100k", "holdout", 0, 0)})
    assert not counts("suite/configs/tuned/ml-100k.toml", ["x"], {("ml-1m", "holdout", 0, 0)})
    assert counts("suite/configs/tuned/file-0123abcd.toml", ["x"], {("u.data", "holdout", 0, 0)})


def test_a_library_patch_makes_only_folders_with_its_contenders_stale() -> None:
    counts = provenance._counts_for
    patch = "patches/libmf-0.9.2-terminate.patch"
    assert counts(patch, ["default"], None, {"torch-mf", "libmf-bpr"})
    assert not counts(patch, ["features"], None, {"torch-hybrid", "lightfm-warp-hybrid"})
    assert counts(patch, ["features"], None, {"torch-hybrid", "a-retired-contender"})
    assert counts(patch, ["default"], None, None)  # contenders unknown: it counts
    assert counts("patches/README", ["default"], None, {"torch-mf"})  # not a library's patch


def test_a_folder_passed_over_changes_is_named_by_commit_not_by_every_file() -> None:
    folder = Folder(Path("results"), "results", pd.DataFrame(), pd.DataFrame(), {}, [], False, "")
    folder.status = "current"
    folder.neutral = ["a.py@03d769b376", "b.py@03d769b376", "a.py@080313ac35"]
    assert answer.status_text(folder) == (
        "current (changes declared measurement-neutral since: 3 file change(s) in commit(s) "
        "03d769b376, 080313ac35, listed in suite/analysis/provenance.py's NEUTRAL)"
    )


def test_a_contenders_own_module_makes_only_folders_that_ran_it_stale() -> None:
    counts = provenance._counts_for
    own = "baselines/libmf_sgd.py"  # libmf-sgd's and libmf-bpr's, imported by no other file
    assert counts(own, ["default"], None, {"torch-mf", "libmf-bpr"})
    assert not counts(own, ["features"], None, {"torch-hybrid", "lightfm-warp-hybrid"})
    assert counts(own, ["features"], None, {"torch-hybrid", "a-retired-contender"})
    assert counts(own, ["features"], None, None)
    assert counts("baselines/floors.py", ["features"], None, {"torch-hybrid"})  # imported
    assert counts("suite/models/base.py", ["features"], None, {"torch-hybrid"})


def hybrid_runs(times: dict[str, list[float]], target: float | None) -> list[dict]:
    """Ok CPU ranking runs of the same hybrid model trained two ways (``time``: to the
    NDCG@10 target, NaN where a run never reached it; fit times twice that, or 1 s)."""
    rows = runs("ml-100k +features", times, target=None)
    for row in rows:
        reached = row["time_to_rating_target_s"]
        row.update(
            rating_target=np.nan,
            time_to_rating_target_s=np.nan,
            ranking_target=np.nan if target is None else target,
            time_to_ranking_target_s=np.nan if target is None else reached,
            fit_s=reached * 2 if np.isfinite(reached) else 1.0,
        )
    return rows


def test_the_hybrids_are_raced_to_the_ndcg_target_where_one_is_set() -> None:
    times = {"torch-hybrid": list(0.5 * NOISE), "lightfm-bpr-hybrid": list(2.0 * NOISE)}
    claim = judged(folder(hybrid_runs(times, 0.3)))["lightfm-quicker"]
    assert claim.verdict == "reversed: PyTorch is faster"
    assert "time to NDCG@10 0.3: torch-hybrid takes 0.25× lightfm-bpr-hybrid's" in said(claim)[0]


def test_a_hybrid_that_misses_the_target_gives_no_ratio_and_the_claim_says_so() -> None:
    times = {"torch-hybrid": list(0.5 * NOISE), "lightfm-bpr-hybrid": [np.nan] * 4 + [2.0]}
    claim = judged(folder(hybrid_runs(times, 0.3)))["lightfm-quicker"]
    assert not claim.ratios
    assert claim.verdict == (
        "not judged at equal accuracy: ml-100k +features: NDCG@10 0.3 not reached by "
        "lightfm-bpr-hybrid in 4 of 5 runs"
    )


def test_the_fastest_hybrid_of_each_side_is_raced_and_the_twins_are_context() -> None:
    times = {
        "torch-hybrid": list(0.5 * NOISE),
        "lightfm-bpr-hybrid": list(2.0 * NOISE),
        "lightfm-warp-hybrid": list(1.0 * NOISE),  # LightFM at its best: another loss
    }
    claim = judged(folder(hybrid_runs(times, 0.3)))["lightfm-quicker"]
    assert [(r.a, r.b) for r in claim.ratios] == [("torch-hybrid", "lightfm-warp-hybrid")]
    assert claim.verdict == "reversed: PyTorch is faster"
    first, second = said(claim)
    assert "the fastest hybrid of each side, time to NDCG@10 0.3: torch-hybrid takes " in first
    assert "the same hybrid model trained two ways (context): torch-hybrid takes 0.25× " in second
    assert "lightfm-bpr-hybrid's time to target" in second


def test_a_side_none_of_whose_hybrids_reaches_the_target_is_named_with_the_other_sides() -> None:
    times = {
        "torch-hybrid": [np.nan, 0.5, np.nan, 0.6, np.nan],
        "lightfm-bpr-hybrid": [np.nan, 2.0, 2.1, np.nan, 1.9],
        "lightfm-warp-hybrid": list(1.0 * NOISE),
    }
    claim = judged(folder(hybrid_runs(times, 0.12)))["lightfm-quicker"]
    assert not claim.ratios
    assert said(claim) == [
        "ml-100k +features: NDCG@10 0.12 not reached by torch-hybrid in 3 of 5 runs: no ratio "
        "at equal accuracy; lightfm-warp-hybrid reached it in every run"
    ]  # lightfm-bpr-hybrid's misses do not matter: its side has a hybrid that made it


def test_without_a_target_the_hybrids_fit_times_say_accuracy_was_not_compared() -> None:
    times = {"torch-hybrid": list(0.5 * NOISE), "lightfm-bpr-hybrid": list(2.0 * NOISE)}
    claim = judged(folder(hybrid_runs(times, None)))["lightfm-quicker"]
    assert (
        "fit time at equal epochs (no NDCG@10 target set: accuracy not compared)" in said(claim)[0]
    )


def test_gpus_races_the_fastest_on_cuda_and_shows_each_twin_as_context_only() -> None:
    cpu = runs("synthetic-1m", {"numba-sgd": list(0.5 * NOISE)})
    cuda = runs(
        "synthetic-1m",
        {"torch-als": list(0.15 * NOISE), "torch-biased-mf": [0.3, 0.9, 0.2, 0.6, 0.4]},
    )
    for row in cuda:
        row["backend"] = "cuda"
    lent = replace(folder(cpu + cuda), env={"gpu": {"name": "NVIDIA H200"}, "usable_cores": 16})
    skipped = runs("ml-100k", {"torch-als": [0.1], "numba-sgd": [0.2]})
    skipped[0].update(backend="cuda", status="skipped")  # no GPU where this folder ran
    here = replace(folder(skipped, "results/cpu"), env={"usable_cores": 2})
    claim = judged(lent, here)["gpus"]
    # torch-als on CUDA takes 0.3x numba-sgd's time on every seed; where and on what, said
    assert claim.verdict == "holds on synthetic-1m, rating (NVIDIA H200 against 16 CPU cores)"
    assert [ratio.a for ratio in claim.ratios] == ["torch-als (cuda)"]  # the verdict's only
    assert len(claim.evidence) == 2
    context = said(claim)[1]
    assert context.startswith("synthetic-1m, rating, the same model trained two ways")
    assert "torch-biased-mf (cuda) takes" in context and "numba-sgd's time to target" in context
    assert context.endswith("not resolved")  # its interval spans both outcomes


def test_gpus_does_not_repeat_a_twin_that_is_already_the_race() -> None:
    cpu = runs("synthetic-1m", {"numba-sgd": list(0.5 * NOISE)})
    cuda = runs("synthetic-1m", {"torch-biased-mf": list(0.2 * NOISE)})
    for row in cuda:
        row["backend"] = "cuda"
    claim = judged(folder(cpu + cuda))["gpus"]
    assert len(claim.evidence) == 1 and "trained two ways" not in said(claim)[0]
