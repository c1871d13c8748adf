"""The post's claims decided by a protocol fixed in advance (``suite/claims.toml``): a
same-model pair decides, an after-the-fact pick cannot, a folder measured under another
protocol decides nothing, Holm's adjustment, thread gains paired across two folders, the
summary; and which changes make a folder stale."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from suite import answer, protocol
from suite.analysis import claims, paired, provenance
from suite.analysis.folder import analyse_folders
from suite.analysis.provenance import Folder
from suite.errors import InputError

PROTOCOL = """
[rules]
alpha = 0.05
par = 1.10
much = 2.0
min_runs = 5
min_fit_s = 1.0
test_tolerance = 0.01

[[claims]]
id = "custom-faster"
short = "Bespoke code is much faster"
quote = "well-written custom solutions are still much faster"
question = "Is bespoke code of the same model at least 2x faster?"
a_side = "PyTorch"
b_side = "bespoke"
asserted = "b"
much = true
headline = "3a"

[[claims.deciding]]
id = "3a"
a = "torch-biased-mf"
b = "numba-sgd"
place = "synthetic-1m"
folder = "claims-1m"
target = 0.82

[[claims.deciding]]
id = "3b"
a = "torch-biased-mf autograd"
b = "numba-sgd"
place = "synthetic-1m"
folder = "claims-1m"
target = 0.82

[[claims.context]]
id = "3c"
a = "torch-biased-mf autograd"
b = "torch-biased-mf"
place = "synthetic-1m"
folder = "claims-1m"
target = 0.82

[[claims]]
id = "parallel"
short = "PyTorch parallelises as well"
quote = "easily parallelized"
question = "Do PyTorch's trainers gain as much from threads?"
a_side = "PyTorch"
b_side = "hand-parallelised"
asserted = "a"
much = false
on_par_holds = true
headline = "2a"

[[claims.deciding]]
id = "2a"
a = "torch-biased-mf"
b = "numba-sgd"
place = "synthetic-1m"
folder = "claims-threads"
threads_folder = "claims-threads-1"
measure = "thread_gain"
"""

NOISE = np.array([1.0, 1.05, 0.97, 1.02, 0.99])


@pytest.fixture
def fixed(tmp_path: Path) -> protocol.Protocol:
    """The protocol above, as a file (its digest is what the records carry)."""
    path = tmp_path / "claims.toml"
    path.write_text(PROTOCOL, encoding="utf-8")
    return protocol.load(path)


def runs(
    times: dict[str, list[float]],
    digest: str,
    dataset: str = "synthetic-1m",
    target: float = 0.82,
    **extra,
) -> list[dict]:
    """Ok CPU rating runs on fresh data per seed, one per seed, each contender's time to the
    RMSE target as given (NaN: it missed), measured under protocol ``digest``."""
    rows = []
    for label, seconds in times.items():
        for seed, time in enumerate(seconds):
            rows.append(
                {
                    "run_id": f"{dataset}-{label}-{seed}",
                    "dataset": dataset,
                    "label": label,
                    "model": label.split(" ")[0],
                    "backend": "cpu",
                    "status": "ok",
                    "reason": "" if np.isfinite(time) else "validation RMSE never met",
                    "fold": 0,
                    "seed": seed,
                    "n_threads": 2,
                    "fit_s": time if np.isfinite(time) else 9.0,
                    "rating_target": target,
                    "ranking_target": np.nan,
                    "time_to_rating_target_s": time,
                    "time_to_ranking_target_s": np.nan,
                    "end_to_end_s": time + 1.5,
                    "data_digest": f"data-{seed}",
                    "n_test": 200,
                    "n_train": 800,
                    "disturbed": False,
                    "protocol": digest,
                    **extra,
                }
            )
    return rows


def folder(rows: list[dict], name: str = "results/claims-1m", status: str = "current") -> Folder:
    frame = pd.DataFrame(rows)
    return Folder(Path(name), name, frame, pd.DataFrame(), {}, ["abc"], False, "2026", status)


def judged(fixed: protocol.Protocol, *folders: Folder) -> dict[str, claims.Claim]:
    return {claim.id: claim for claim in claims.judge(list(folders), fixed)}


def evidence(claim: claims.Claim, comparison: str) -> claims.Evidence:
    return next(e for e in claim.evidence if e.comparison and e.comparison.id == comparison)


def test_a_same_model_pair_decides_the_claim(fixed) -> None:
    times = {
        "torch-biased-mf": list(4.0 * NOISE),
        "torch-biased-mf autograd": list(12.0 * NOISE[::-1]),
        "numba-sgd": list(1.0 * NOISE),
    }
    claim = judged(fixed, folder(runs(times, fixed.digest)))["custom-faster"]
    fused, autograd = evidence(claim, "3a"), evidence(claim, "3b")
    assert fused.ratio.value == pytest.approx(4.0, rel=1e-6) and fused.ratio.low > 2
    assert not fused.ratio.corrected  # fresh data per seed: no overlap to correct for
    assert fused.outcome == autograd.outcome == claims.HOLDS
    assert fused.p_adjusted >= fused.ratio.p  # Holm across the two deciding comparisons
    assert claim.verdict == "holds (all 2 comparisons)"
    assert evidence(claim, "3c").role == claims.CONTEXT  # shown, not counted
    assert fused.end_to_end is not None and fused.end_to_end.value < fused.ratio.value
    assert claim.headline is fused
    assert "Holm-adjusted p" in answer.evidence_sentence(fused)


def test_faster_but_not_much_is_said_so(fixed) -> None:
    times = {
        "torch-biased-mf": list(1.5 * NOISE),
        "torch-biased-mf autograd": list(1.5 * NOISE),
        "numba-sgd": list(1.0 * NOISE[::-1] + 0.0),
    }
    claim = judged(fixed, folder(runs(times, fixed.digest)))["custom-faster"]
    assert evidence(claim, "3a").outcome == claims.NOT_MUCH
    assert claim.verdict == "faster, not much (all 2 comparisons)"


def test_an_after_the_fact_pick_is_not_a_deciding_figure(fixed) -> None:
    """cornac-mf is the fastest bespoke contender here, and torch-als the fastest PyTorch one:
    picked after the run, they would say PyTorch is faster. The protocol's pairs decide."""
    times = {
        "torch-biased-mf": list(4.0 * NOISE),
        "torch-biased-mf autograd": list(12.0 * NOISE),
        "numba-sgd": list(1.0 * NOISE),
        "cornac-mf": list(0.3 * NOISE),
        "torch-als": list(0.2 * NOISE),
    }
    claim = judged(fixed, folder(runs(times, fixed.digest)))["custom-faster"]
    compared = {(e.comparison.a, e.comparison.b) for e in claim.evidence if e.ratio is not None}
    assert "cornac-mf" not in str(compared) and "torch-als" not in str(compared)
    assert claim.verdict == "holds (all 2 comparisons)"


def test_a_folder_measured_under_another_protocol_decides_nothing(fixed) -> None:
    times = {"torch-biased-mf": list(4 * NOISE), "numba-sgd": list(NOISE)}
    claim = judged(fixed, folder(runs(times, "0123456789ab")))["custom-faster"]
    assert all(e.ratio is None for e in claim.evidence)
    assert "measured under another protocol (0123456789ab" in evidence(claim, "3a").note
    stale = judged(fixed, folder(runs(times, fixed.digest), status="stale"))["custom-faster"]
    assert "is stale" in evidence(stale, "3a").note
    assert judged(fixed)["custom-faster"].verdict == "not measured"


def test_a_missed_target_a_short_race_or_too_few_runs_decide_nothing(fixed) -> None:
    missed = {"torch-biased-mf": [4.0, np.nan, 4.1, 3.9, 4.0], "numba-sgd": list(NOISE)}
    found = evidence(judged(fixed, folder(runs(missed, fixed.digest)))["custom-faster"], "3a")
    assert found.role == claims.MISSED and "missed the target in 1 of 5 runs" in found.note
    short = {"torch-biased-mf": list(0.4 * NOISE), "numba-sgd": list(0.1 * NOISE)}
    found = evidence(judged(fixed, folder(runs(short, fixed.digest)))["custom-faster"], "3a")
    assert found.role == claims.MISSED and "too short a race" in found.note
    few = {"torch-biased-mf": [4.0, 4.1, 3.9], "numba-sgd": [1.0, 1.1, 0.9]}
    found = evidence(judged(fixed, folder(runs(few, fixed.digest)))["custom-faster"], "3a")
    assert "3 paired runs, fewer than the protocol's 5" in found.note
    elsewhere = runs(
        {"torch-biased-mf": list(4 * NOISE), "numba-sgd": list(NOISE)}, fixed.digest, target=0.9
    )
    found = evidence(judged(fixed, folder(elsewhere))["custom-faster"], "3a")
    assert "ran to target 0.9, not the protocol's 0.82" in found.note


def test_a_disturbed_run_keeps_a_comparison_from_deciding(fixed) -> None:
    rows = runs({"torch-biased-mf": list(4 * NOISE), "numba-sgd": list(NOISE)}, fixed.digest)
    rows[0]["disturbed"] = True
    found = evidence(judged(fixed, folder(rows))["custom-faster"], "3a")
    assert found.role == claims.MISSED and "1 disturbed run(s), to be measured again" in found.note


def test_overlapping_training_sets_get_the_nadeau_bengio_correction(fixed) -> None:
    rows = runs({"torch-biased-mf": list(4 * NOISE), "numba-sgd": list(NOISE[::-1])}, fixed.digest)
    for row in rows:
        row["data_digest"] = "one data set, five splits"
    plain = runs({"torch-biased-mf": list(4 * NOISE), "numba-sgd": list(NOISE[::-1])}, fixed.digest)
    corrected = evidence(judged(fixed, folder(rows))["custom-faster"], "3a").ratio
    fresh = evidence(judged(fixed, folder(plain))["custom-faster"], "3a").ratio
    assert corrected.corrected and not fresh.corrected
    assert corrected.value == pytest.approx(fresh.value)
    assert corrected.high - corrected.low > fresh.high - fresh.low


def test_holm_adjusts_three_tests() -> None:
    assert paired.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert paired.holm([0.2, math.nan, 0.01]) == pytest.approx([0.2, math.nan, 0.02], nan_ok=True)
    assert paired.holm([0.5, 0.5, 0.5]) == pytest.approx([1.0, 1.0, 1.0])  # capped at 1


def test_thread_gains_pair_the_same_runs_in_two_folders(fixed) -> None:
    times = {"torch-biased-mf": list(2 * NOISE), "numba-sgd": list(2 * NOISE)}
    one = pd.DataFrame(runs(times, fixed.digest)).assign(n_threads=1)
    many = pd.DataFrame(runs(times, fixed.digest)).assign(n_threads=2)
    many.loc[many["label"] == "torch-biased-mf", "fit_s"] /= 1.3
    many.loc[many["label"] == "numba-sgd", "fit_s"] /= 1.9 * NOISE
    found = judged(
        fixed,
        folder(one.to_dict("records"), "results/claims-threads-1"),
        folder(many.to_dict("records"), "results/claims-threads"),
    )["parallel"]
    gain = evidence(found, "2a")
    assert gain.ratio.value == pytest.approx(1.9 / 1.3, rel=0.02)  # PyTorch gains less
    assert gain.outcome == claims.REVERSED and found.verdict == "reversed"


def test_the_summary_carries_every_comparison_with_its_provenance(fixed, monkeypatch) -> None:
    times = {
        "torch-biased-mf": list(4 * NOISE),
        "torch-biased-mf autograd": list(9 * NOISE),
        "numba-sgd": list(NOISE),
    }
    monkeypatch.setattr(protocol, "load", lambda path=None: fixed)
    monkeypatch.setattr(protocol, "digest", lambda path=None: fixed.digest)
    document = answer.summary(analyse_folders(Path("results"), [folder(runs(times, fixed.digest))]))
    assert document["protocol"] == fixed.digest and document["holm_family"] == 2
    custom = next(c for c in document["claims"] if c["id"] == "custom-faster")
    first = custom["comparisons"][0]
    assert (first["id"], first["a"], first["b"], first["place"]) == (
        "3a",
        "torch-biased-mf",
        "numba-sgd",
        "synthetic-1m",
    )
    assert first["n"] == 5 and first["low"] > 2 and first["p_adjusted"] < 0.05
    assert first["outcome"] == "holds" and first["commit"] == "abc"
    assert first["folder"] == "results/claims-1m" and custom["headline"] == "3a"


def test_the_protocol_file_is_refused_in_one_line_when_malformed(tmp_path: Path) -> None:
    path = tmp_path / "claims.toml"
    path.write_text(PROTOCOL.replace('headline = "3a"', 'headline = "9z"'), encoding="utf-8")
    with pytest.raises(InputError, match=r"claims.toml: \[\[claims\]\] #1: headline '9z'"):
        protocol.load(path)
    path.write_text(PROTOCOL.replace('measure = "thread_gain"', 'measure = "speed"'))
    with pytest.raises(InputError, match="measure = 'speed'; choose from time_to_target"):
        protocol.load(path)
    path.write_text(PROTOCOL.replace("min_runs = 5", "min_runs = 5\nfastest = 1"))
    with pytest.raises(InputError, match=r"\[rules\]: unknown key 'fastest'"):
        protocol.load(path)


def test_the_committed_protocol_agrees_with_the_measuring_code() -> None:
    from suite import timed_run

    fixed = protocol.load()
    assert fixed.rules.test_tolerance == timed_run.TEST_TOLERANCE
    assert fixed.rules.par == paired.PAR and fixed.rules.alpha == paired.ALPHA
    assert [c.id for c in fixed.claims] == [
        "fewer-lines",
        "parallel",
        "custom-faster",
        "als-faster",
        "lightfm-quicker",
        "gpus",
    ]
    assert all(claim.deciding for claim in fixed.claims)


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


def test_the_readme_answer_is_one_line_per_claim_with_its_headline_figure(fixed) -> None:
    times = {
        "torch-biased-mf": list(4 * NOISE),
        "torch-biased-mf autograd": list(9 * NOISE),
        "numba-sgd": list(NOISE[::-1]),
    }
    found = claims.judge([folder(runs(times, fixed.digest))], fixed)
    table = answer.markdown(found, hardware={"results/claims-1m": "Toy CPU, 2 cores"})
    custom = next(line for line in table.splitlines() if "custom solutions" in line)
    assert "**holds (all 2 comparisons)**" in custom
    assert "torch-biased-mf / numba-sgd: 4.00× [" in custom and "n = 5" in custom
    assert "synthetic-1m (Toy CPU, 2 cores)" in custom
    assert "(results/claims-1m/REPORT.md#claim-custom-faster)" in custom
    opening = answer.plain_answer(found).splitlines()
    assert opening[0].startswith("- Bespoke code is much faster: **holds (all 2 comparisons)**")
    assert opening[1].startswith("- Not measured here: PyTorch parallelises as well (not measured")
    table = answer.provenance_table([folder(runs(times, fixed.digest))], found)
    assert table.splitlines()[-1].endswith("| custom-faster |")


def test_every_committed_deciding_figure_recomputes_from_results_csv() -> None:
    """scripts/recompute-claims: plain pandas/scipy against results/summary.json."""
    import sys

    done = subprocess.run(
        [sys.executable, "scripts/recompute-claims"],
        cwd=provenance.REPOSITORY,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.endswith("deciding figures recomputed, 0 mismatched")
    assert int(last.split()[0]) >= 10
