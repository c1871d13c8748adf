"""The 2017 post's claims, judged from result folders: what the reader gets first.

Each claim of Rosenthal's "Matrix Factorization in PyTorch" (``CLAIMS``) gets a verdict in
words the numbers support, the deciding figures with their 95% intervals, the data sets, and
the folder that holds the evidence. Nothing here is written by hand:

- **Speed at equal accuracy** decides the speed claims: each run's time to its data set's
  target (``rating_target`` RMSE, ``ranking_target`` NDCG@10; ``suite.execute``), the best
  PyTorch contender against the fastest other one, per contest. A ratio is the geometric mean
  of the paired per-run ratios over the same folds × seeds, with a t-interval on their logs
  (``Ratio``); it reads "faster" only when its interval lies beyond ±10%, "on par" only when
  it lies within, and "not resolved" otherwise. Fewer than ``MIN_RUNS`` pairs give no
  interval. Fits shorter than ``OVERHEAD_S`` are overhead-bound and judge nothing.
- Only **current** folders count (``suite.provenance``): measured on code whose contenders
  and harness have not changed since. A claim none of them measures says "not measured".
"""

from __future__ import annotations

import inspect
import io
import math
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from suite import metrics, models, stats
from suite.models.base import Contest
from suite.provenance import Folder

#: Pairs of runs a speed ratio needs for an interval (folds × seeds, or repeats).
MIN_RUNS = 3
#: A ratio whose interval lies within this factor either way of 1 is "on par".
PAR = 1.1
#: Fits shorter than this are dominated by fixed costs: they judge no speed claim.
OVERHEAD_S = 0.05
#: Each contest's time-to-target column of the records.
TARGET_COLUMN = {
    Contest.RATING: "time_to_rating_target_s",
    Contest.RANKING: "time_to_ranking_target_s",
}
TARGET_SETTING = {Contest.RATING: "rating_target", Contest.RANKING: "ranking_target"}


@dataclass(frozen=True)
class Ratio:
    """``a``'s time over ``b``'s on the same runs: geometric mean and 95% interval."""

    a: str
    b: str
    value: float
    low: float
    high: float
    runs: int
    a_median: float
    b_median: float

    @property
    def resolved(self) -> bool:
        return self.runs >= MIN_RUNS and math.isfinite(self.low)

    @property
    def overhead_bound(self) -> bool:
        return min(self.a_median, self.b_median) < OVERHEAD_S

    def reading(self) -> str:
        """``"a faster"``, ``"b faster"``, ``"on par"``, ``"not resolved"`` or why not judged."""
        if self.overhead_bound:
            return f"overhead-bound (a fit under {OVERHEAD_S * 1000:.0f} ms): not judged"
        if not self.resolved:
            return f"not resolved ({self.runs} paired run(s): too few for an interval)"
        if self.high < 1 / PAR:
            return f"{self.a} faster"
        if self.low > PAR:
            return f"{self.b} faster"
        if self.low >= 1 / PAR and self.high <= PAR:
            return "on par"
        return "not resolved"

    def text(self) -> str:
        interval = f" [{self.low:.2f}, {self.high:.2f}]" if self.resolved else ""
        return f"{self.a} / {self.b} = {self.value:.2f}×{interval} ({self.medians('.3g')})"

    def medians(self, spec: str) -> str:
        """``"medians 0.23 s against 0.25 s, 5 runs"``: what the ratio (the geometric mean of
        the paired ratios, which one slow pair can pull far from the medians') came from."""
        a, b = format(self.a_median, spec), format(self.b_median, spec)
        if self.runs == 1:
            return f"{a} s against {b} s, 1 run"
        return f"medians {a} s against {b} s, {self.runs} runs"


def time_ratio(runs: pd.DataFrame, a: str, b: str, column: str) -> Ratio | None:
    """``a``'s ``column`` over ``b``'s (labels, CPU runs), paired by (fold, seed)."""
    sides = [
        _ok_cpu(runs, label).set_index(["fold", "seed"])[column].astype(float) for label in (a, b)
    ]
    pairs = pd.concat(sides, axis=1, join="inner").dropna()
    pairs = pairs[(pairs > 0).all(axis=1)]
    if pairs.empty:
        return None
    logs = np.log(pairs.iloc[:, 0]) - np.log(pairs.iloc[:, 1])
    difference = stats.paired_difference(logs, pd.Series(0.0, index=logs.index), 0.0)
    low, high = (math.nan, math.nan) if difference is None else (difference.low, difference.high)
    return Ratio(
        a,
        b,
        float(math.exp(logs.mean())),
        math.exp(low) if math.isfinite(low) else math.nan,
        math.exp(high) if math.isfinite(high) else math.nan,
        len(pairs),
        float(pairs.iloc[:, 0].median()),
        float(pairs.iloc[:, 1].median()),
    )


def _ok_cpu(runs: pd.DataFrame, label: str) -> pd.DataFrame:
    """``label``'s ok CPU runs."""
    return runs[(runs["label"] == label) & (runs["backend"] == "cpu") & (runs["status"] == "ok")]


@dataclass(frozen=True)
class Figure:
    """One deciding figure of a claim, machine-readable (``summary.json``)."""

    name: str
    value: float
    low: float | None
    high: float | None
    unit: str
    dataset: str
    folder: str


@dataclass
class Claim:
    """One claim of the post, judged."""

    id: str
    quote: str
    verdict: str = "not measured"
    said: list[str] = field(default_factory=list)  # the sentences behind the verdict
    figures: list[Figure] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)  # mine (a) against theirs (b)
    places: list[str] = field(default_factory=list)  # where each ratio was measured
    models: dict[str, str] = field(default_factory=dict)  # label -> contender, where it matters

    def add_ratio(self, name: str, ratio: Ratio, dataset: str, folder: str, context: str) -> None:
        """A speed ratio the verdict rests on, ``a`` the side the claim speaks for (PyTorch,
        ALS, ...); its place is ``context`` up to the first colon."""
        self.ratios.append(ratio)
        self.places.append(context.split(":")[0].strip())
        self.add_context(name, ratio, dataset, folder, context)

    def judged(self) -> list[tuple[Ratio, str]]:
        """The ratios a verdict may rest on (an interval, not overhead-bound), with places."""
        return [
            (ratio, place)
            for ratio, place in zip(self.ratios, self.places, strict=True)
            if ratio.resolved and not ratio.overhead_bound
        ]

    def add_context(self, name: str, ratio: Ratio, dataset: str, folder: str, lead: str) -> None:
        """A ratio's figure and sentence (``lead`` first); called alone, context shown beside
        the verdict and not part of it (e.g. the same model trained two ways)."""
        self.add(
            _ratio_figure(name, ratio, dataset, folder),
            f"{lead}{ratio.text()}: {ratio.reading()}",
        )

    def add(self, figure: Figure, sentence: str) -> None:
        self.figures.append(figure)
        self.said.append(sentence)
        if figure.dataset not in self.datasets:
            self.datasets.append(figure.dataset)
        if figure.folder not in self.folders:
            self.folders.append(figure.folder)


def _no_ratio_figure(name: str, dataset: str, folder: str) -> Figure:
    """The figure of a race that gave no ratio (a side missed the target)."""
    return Figure(name, math.nan, None, None, "× time to target", dataset, folder)


def _ratio_figure(name: str, ratio: Ratio, dataset: str, folder: str) -> Figure:
    return Figure(
        name,
        ratio.value,
        ratio.low if ratio.resolved else None,
        ratio.high if ratio.resolved else None,
        "× time to target",
        dataset,
        folder,
    )


# -- who raced whom ---------------------------------------------------------------------------


def entrants(runs: pd.DataFrame, contest: Contest) -> pd.DataFrame:
    """The ok CPU runs of ``contest``'s trained, non-floor contenders."""
    ok = runs[(runs["status"] == "ok") & (runs["backend"] == "cpu")]
    keep = ok["model"].map(
        lambda m: models.enters(m, contest) and models.trains(m) and not models.is_floor(m)
    )
    return ok[keep.astype(bool)]


def fastest(runs: pd.DataFrame, contest: Contest, which: Callable[[str], bool]) -> str | None:
    """The label among ``which`` contenders with the lowest median time to ``contest``'s target,
    among those that met it in every run; None if none did."""
    column = TARGET_COLUMN[contest]
    if column not in runs:
        return None
    chosen = entrants(runs, contest)
    chosen = chosen[chosen["model"].map(which).astype(bool)]
    times = chosen.groupby("label")[column].agg(["median", lambda s: s.notna().all()])
    times.columns = ["median", "always"]
    times = times[times["always"] & times["median"].notna()]
    return None if times.empty else str(times["median"].idxmin())


def _is_bespoke(model: str) -> bool:
    return not models.is_pytorch(model)


def races(folder: Folder) -> list[tuple[str, Contest, pd.DataFrame]]:
    """Each (data set, contest) of ``folder`` that set a target: the runs to judge it on."""
    found = []
    for dataset, runs in folder.results.groupby("dataset", sort=False):
        for contest in Contest:
            if _target(runs, contest) is not None:
                found.append((str(dataset), contest, runs))
    return found


# -- the claims -------------------------------------------------------------------------------


def _fewer_lines(claim: Claim, folders: list[Folder]) -> None:
    """1. Faster convergence in fewer lines than the hand-written numpy MF."""
    for folder in folders:
        for dataset, contest, runs in races(folder):
            if contest is not Contest.RATING:
                continue
            mine = fastest(runs, contest, models.is_pytorch)
            theirs = fastest(runs, contest, lambda m: models.library(m) == "numpy")
            if mine is None or theirs is None:
                continue
            ratio = time_ratio(runs, mine, theirs, TARGET_COLUMN[contest])
            if ratio is None:
                continue
            claim.add_ratio(f"{mine} / {theirs}", ratio, dataset, folder.name, f"{dataset}: ")
            for label in (mine, theirs):
                model = _model_of(runs, label)
                claim.models[label] = model
                claim.figures.append(
                    Figure(
                        f"code lines {label}", code_lines(model), None, None, "lines", dataset,
                        folder.name,
                    )
                )  # fmt: skip
    if not claim.ratios:
        return
    faster = _speed_verdict(claim, "PyTorch", "numpy")
    first = claim.ratios[0]
    lines = {label: code_lines(label_model) for label, label_model in claim.models.items()}
    mine, theirs = lines.get(first.a, 0), lines.get(first.b, 0)
    fewer = "yes" if mine < theirs else "no"
    claim.verdict = (
        f"converges faster: {faster}; in fewer lines: {fewer} ({first.a} {mine} lines of model "
        f"and training code, {first.b} {theirs})"
    )


def _custom_faster(claim: Claim, folders: list[Folder]) -> None:
    """3. Well-written custom solutions are still much faster."""
    for folder in folders:
        for dataset, contest, runs in races(folder):
            mine = fastest(runs, contest, models.is_pytorch)
            theirs = fastest(runs, contest, _is_bespoke)
            if mine is None or theirs is None:
                continue
            ratio = time_ratio(runs, mine, theirs, TARGET_COLUMN[contest])
            if ratio is not None:
                name = f"{contest.value}: {mine} / {theirs}"
                claim.add_ratio(name, ratio, dataset, folder.name, f"{dataset}, {contest.value}: ")
    claim.verdict = _speed_verdict(claim, "PyTorch", "bespoke", holds_when="theirs")


def _als_faster(claim: Claim, folders: list[Folder]) -> None:
    """4. ALS is more efficient than SGD; implicit is blazingly fast."""
    for folder in folders:
        for dataset, contest, runs in races(folder):
            als = fastest(runs, contest, lambda m: models.method(m) == "als")
            sgd = fastest(runs, contest, lambda m: models.method(m) == "sgd")
            if als is None or sgd is None:
                continue
            ratio = time_ratio(runs, als, sgd, TARGET_COLUMN[contest])
            if ratio is not None:
                context = f"{dataset}, {contest.value}: the fastest ALS against the fastest SGD, "
                name = f"{contest.value}: {als} / {sgd}"
                claim.add_ratio(name, ratio, dataset, folder.name, context)
    claim.verdict = _speed_verdict(claim, "ALS", "SGD")


def _lightfm_quicker(claim: Claim, folders: list[Folder]) -> None:
    """5. LightFM operates much quicker than a similar solution in a deep learning framework.

    On a data set where a PyTorch hybrid ran beside its LightFM twin (``Model.same_model_as``)
    and the grid sets an NDCG@10 target, the two sides race at their best, as in the other
    speed claims: the fastest LightFM hybrid against the fastest PyTorch one (``fastest``:
    the lowest median time to the target among the hybrids that reached it in every run). A
    side none of whose hybrids reached it in every run gives no ratio, and the claim names who
    missed. The twins' own race is shown beside it as context, outside the verdict. Without a
    target only the twins' fit times at equal epochs can be compared, and the sentence says
    that their accuracy was not.
    """
    missed = []
    for folder in folders:
        for dataset, data_runs in folder.results.groupby("dataset", sort=False):
            labels = set(data_runs["label"])
            twins = [
                (model, other)
                for model in dict.fromkeys(data_runs["model"])
                if models.is_pytorch(model)
                and (other := models.twin(model))
                and models.library(other) == "lightfm"
                and {model, other} <= labels
            ]
            if twins:
                missed += _hybrid_race(claim, data_runs, twins, str(dataset), folder)
    claim.verdict = _speed_verdict(claim, "PyTorch", "LightFM", holds_when="theirs")
    if missed and claim.verdict == "not measured":
        claim.verdict = "not judged at equal accuracy: " + "; ".join(missed)
    elif missed:
        claim.verdict += " (elsewhere not judged: " + "; ".join(missed) + ")"


def _hybrid(library: str) -> Callable[[str], bool]:
    """Whether a contender is a hybrid (``Model.uses_features``) written with ``library``."""

    def test(model: str) -> bool:
        known = models.facts(model)
        return known is not None and known.uses_features and known.library == library

    return test


def _hybrid_race(
    claim: Claim,
    runs: pd.DataFrame,
    twins: list[tuple[str, str]],
    dataset: str,
    folder: Folder,
) -> list[str]:
    """Claim 5 on one data set (``twins``: each PyTorch hybrid with its LightFM twin), added to
    ``claim``; returns what kept it from a ratio at equal accuracy (a missed target), if so."""
    target = _target(runs, Contest.RANKING)
    if target is None:
        for model, other in twins:
            ratio = time_ratio(runs, model, other, "fit_s")
            if ratio is not None:
                context = (
                    f"{dataset}, the same hybrid model, fit time at equal epochs (no NDCG@10 "
                    "target set: accuracy not compared): "
                )
                claim.add_ratio(f"fit time {model} / {other}", ratio, dataset, folder.name, context)
        return []
    column = TARGET_COLUMN[Contest.RANKING]
    reached = f"NDCG@10 {target:g}"
    libraries = ("torch", "lightfm")
    sides = [fastest(runs, Contest.RANKING, _hybrid(library)) for library in libraries]
    if None in sides:
        short = [
            miss
            for library, best in zip(libraries, sides, strict=True)
            if best is None
            for miss in _misses(runs, _side(runs, library), column)
        ]
        made = [f"{best} reached it in every run" for best in sides if best is not None]
        missed = f"{dataset}: {reached} not reached by " + ", ".join(short)
        claim.add(
            _no_ratio_figure("target missed, hybrids", dataset, folder.name),
            f"{missed}: no ratio at equal accuracy" + "".join(f"; {m}" for m in made),
        )
        return [missed]  # the twins' race: one of them missed too
    mine, theirs = sides
    ratio = time_ratio(runs, mine, theirs, column)
    if ratio is not None:
        context = f"{dataset}, the fastest hybrid of each side, time to {reached}: "
        claim.add_ratio(f"time to target {mine} / {theirs}", ratio, dataset, folder.name, context)
    for model, other in twins:
        if [model, other] == sides:
            continue
        twin_said = f"{dataset}, the same hybrid model trained two ways (context): "
        short = _misses(runs, [model, other], column)
        ratio = None if short else time_ratio(runs, model, other, column)
        if ratio is None:
            said = f"{reached} not reached by " + ", ".join(short) if short else "no paired runs"
            claim.add(
                _no_ratio_figure(f"twins {model} / {other}", dataset, folder.name), twin_said + said
            )
        else:
            name = f"time to target {model} / {other}"
            claim.add_context(name, ratio, dataset, folder.name, twin_said)
    return []


def _side(runs: pd.DataFrame, library: str) -> list[str]:
    """The labels of ``runs``' hybrids written with ``library``."""
    labels = runs.drop_duplicates("label").set_index("label")["model"]
    return [label for label, model in labels.items() if _hybrid(library)(str(model))]


def _misses(runs: pd.DataFrame, labels: list[str], column: str) -> list[str]:
    """``"torch-hybrid in 3 of 5 runs"`` for each of ``labels`` that missed the target."""
    short = []
    for label in labels:
        times = _ok_cpu(runs, label)[column]
        if times.isna().any():
            short.append(f"{label} in {int(times.isna().sum())} of {len(times)} runs")
    return short


def _target(runs: pd.DataFrame, contest: Contest) -> float | None:
    """The target ``runs`` were timed to in ``contest`` (one per data set), None if none."""
    setting = TARGET_SETTING[contest]
    if setting not in runs or runs[setting].isna().all():
        return None
    return float(runs[setting].dropna().iloc[0])


def _parallel(claim: Claim, folders: list[Folder]) -> None:
    """2. Easily parallelised across CPUs, turbo-boosted on GPUs."""
    gains: dict[bool, list[Figure]] = {True: [], False: []}  # PyTorch's, the others'
    for one, many in thread_pairs(folders):
        shared = one.results.merge(many.results, on="run_id", suffixes=("_1", "_n"))
        shared = shared[(shared["status_1"] == "ok") & (shared["status_n"] == "ok")]
        for (label, model), runs in shared.groupby(["label_1", "model_1"], sort=False):
            ratios = (runs["fit_s_1"] / runs["fit_s_n"]).astype(float)
            logs = np.log(ratios[np.isfinite(ratios) & (ratios > 0)].to_numpy())
            if not len(logs):
                continue
            difference = stats.paired_difference(
                pd.Series(logs), pd.Series(np.zeros(len(logs))), 0.0
            )
            low = math.exp(difference.low) if difference else None
            high = math.exp(difference.high) if difference else None
            value = float(math.exp(logs.mean()))
            threads = int(runs["n_threads_n"].iloc[0])
            interval = f" [{low:.2f}, {high:.2f}]" if low is not None else ""
            gain = Figure(
                f"speed-up {label}, 1 → {threads} threads",
                value,
                low,
                high,
                "× (fit time on 1 thread / on all)",
                str(runs["dataset_1"].iloc[0]),
                many.name,
            )
            gains[models.is_pytorch(str(model))].append(gain)
            claim.add(gain, f"{label}: {value:.2f}×{interval} from 1 to {threads} threads")
    for folder in folders:
        _gpu_rows(claim, folder)
    if not gains[True] or not gains[False]:
        claim.verdict = (
            "not measured: no current folder ran the same runs on 1 and on more threads"
            if not claim.figures
            else "partly measured (see the figures)"
        )
    else:
        claim.verdict = _parallel_verdict(gains)


def _parallel_verdict(gains: dict[bool, list[Figure]]) -> str:
    """Claim 2's verdict from the speed-ups of PyTorch's trainers (``gains[True]``) and the
    others': none judged unless some trainer's interval lies beyond ``PAR``."""
    mine, theirs = (float(np.median([f.value for f in gains[side]])) for side in (True, False))
    medians = f"median speed-up {mine:.2f}× against {theirs:.2f}×"
    speed_ups = [f for f in gains[True] + gains[False] if f.low is not None]
    if not any(f.low > PAR for f in speed_ups):
        spread = ", ".join(f"{f.value:.2f}" for f in speed_ups)
        return (
            "not resolved: no trainer gains beyond ±10% from more threads on this machine "
            f"({medians}; every speed-up: {spread})"
        )
    if mine >= theirs / PAR:
        return (
            f"holds: PyTorch's trainers gain from threads as the hand-parallelised do ({medians})"
        )
    return f"reversed: the hand-parallelised solutions gain more from threads ({medians})"


def _gpu_rows(claim: Claim, folder: Folder) -> None:
    runs = folder.results
    cuda = runs[(runs["backend"] == "cuda") & (runs["status"] == "ok")]
    for (dataset, label), gpu in cuda.groupby(["dataset", "label"], sort=False):
        cpu = runs[
            (runs["dataset"] == dataset) & (runs["label"] == label) & (runs["backend"] == "cpu")
        ]
        cpu = cpu[cpu["status"] == "ok"]
        if cpu.empty:
            continue
        value = float(gpu["ratings_per_s"].median() / cpu["ratings_per_s"].median())
        claim.add(
            Figure(
                f"CUDA / CPU throughput {label}", value, None, None, "×", str(dataset), folder.name
            ),
            f"{dataset}: {label} on CUDA {value:.1f}× its CPU throughput",
        )


def _gpus(claim: Claim, folders: list[Folder]) -> None:
    """6. As GPUs get larger, deep learning frameworks may replace bespoke CPU solutions."""
    for folder in folders:
        runs = folder.results
        cuda = runs[(runs["backend"] == "cuda") & (runs["status"] == "ok")]
        for dataset, gpu in cuda.groupby("dataset", sort=False):
            data_runs = runs[runs["dataset"] == dataset]
            for contest in Contest:
                column = TARGET_COLUMN[contest]
                bespoke = fastest(data_runs, contest, _is_bespoke)
                on_gpu = entrants(gpu.assign(backend="cpu"), contest)
                if bespoke is None or column not in on_gpu or on_gpu[column].isna().all():
                    continue
                best = on_gpu.groupby("label")[column].median().idxmin()
                mine = on_gpu[on_gpu["label"] == best].assign(label=f"{best} (cuda)")
                ratio = time_ratio(pd.concat([mine, data_runs]), f"{best} (cuda)", bespoke, column)
                if ratio is not None:
                    name = f"{contest.value}: {best} on CUDA / {bespoke} on CPU"
                    context = f"{dataset}, {contest.value}: "
                    claim.add_ratio(name, ratio, str(dataset), folder.name, context)
                raced = (best, bespoke)
                _same_model_on_gpu(
                    claim, folder.name, str(dataset), contest, on_gpu, data_runs, raced
                )
    if not claim.figures:
        claim.verdict = "not measured here: no current folder holds CUDA runs (no GPU was lent)"
        return
    claim.verdict = _speed_verdict(claim, "PyTorch on the GPU", "bespoke on the CPU")
    judged = [place for _, place in claim.judged()]
    if claim.verdict in ("holds", "reversed: bespoke on the CPU is faster") and judged:
        claim.verdict += f" on {_places(judged)}"  # where, when it is everywhere it was judged
    claim.verdict += f" ({_hardware(folders)})"


def _hardware(folders: list[Folder]) -> str:
    """What claim 6 raced: ``"NVIDIA H200 against 16 CPU cores"``, from the folders' env."""
    seen = []
    for folder in folders:
        runs = folder.results
        if not ((runs["backend"] == "cuda") & (runs["status"] == "ok")).any():
            continue
        gpu = (folder.env.get("gpu") or {}).get("name", "a GPU")
        cores = folder.env.get("usable_cores") or folder.env.get("cores")
        seen.append(f"{gpu} against {cores} CPU cores" if cores else f"{gpu} against the CPU")
    return "; ".join(dict.fromkeys(seen))


def _same_model_on_gpu(
    claim: Claim,
    folder: str,
    dataset: str,
    contest: Contest,
    on_gpu: pd.DataFrame,
    data_runs: pd.DataFrame,
    raced: tuple[str, str],
) -> None:
    """Context for claim 6, not part of its verdict: each PyTorch contender on CUDA against its
    bespoke twin on the CPU (the same model trained two ways, ``models.twin``), so that a
    faster fastest-against-fastest is not read as the GPU's doing when it is the method's.
    ``raced``: the (CUDA, CPU) pair the verdict already compares, not repeated."""
    column = TARGET_COLUMN[contest]
    for label, model in on_gpu.groupby("label", sort=False)["model"].first().items():
        twin = models.twin(str(model))
        if twin is None or models.is_pytorch(twin) or (label, twin) == raced:
            continue
        mine = on_gpu[on_gpu["label"] == label].assign(label=f"{label} (cuda)")
        ratio = time_ratio(pd.concat([mine, data_runs]), f"{label} (cuda)", twin, column)
        if ratio is None:
            continue
        name = f"{contest.value}: {label} on CUDA / {twin} on CPU"
        lead = f"{dataset}, {contest.value}, the same model trained two ways (context): "
        claim.add_context(name, ratio, dataset, folder, lead)


#: The post's claims, in its words, and who judges each.
CLAIMS: tuple[tuple[str, str, Callable[[Claim, list[Folder]], None]], ...] = (
    (
        "fewer-lines",
        "[PyTorch MF] will converge faster in fewer lines of code [than the hand-written numpy MF]",
        _fewer_lines,
    ),
    (
        "parallel",
        "models can often be easily parallelized across multiple CPU's or turbo-boosted on "
        "GPU's with little effort compared to, say, writing Cython code and parallelizing by hand",
        _parallel,
    ),
    ("custom-faster", "well-written custom solutions are still much faster", _custom_faster),
    (
        "als-faster",
        "Alternating Least Squares is an elegant and more efficient method than SGD … "
        "implicit … blazingly fast speed",
        _als_faster,
    ),
    (
        "lightfm-quicker",
        "LightFM is built from the ground up with sparse features in mind and consequently "
        "operates much quicker than a similar solution in a deep learning framework",
        _lightfm_quicker,
    ),
    (
        "gpus",
        "As GPUs get larger … it may make sense to fully switch over to deep learning "
        "frameworks from bespoke CPU solutions",
        _gpus,
    ),
)


def judge(folders: list[Folder]) -> list[Claim]:
    """Every claim of ``CLAIMS``, judged on the current ``folders`` only."""
    current = [folder for folder in folders if folder.status == "current"]
    judged = []
    for claim_id, quote, judge_one in CLAIMS:
        claim = Claim(claim_id, quote)
        judge_one(claim, current)
        if not claim.figures and claim.verdict == "not measured":
            stale = [f.name for f in folders if f.status != "current"]
            claim.verdict = "not measured" + (
                f" (the folders that might measure it are stale: {', '.join(stale)})"
                if stale
                else ""
            )
        judged.append(claim)
    return judged


def _places(places: list[str]) -> str:
    """Each place once (two folders may both measure one data set and contest)."""
    return "; ".join(dict.fromkeys(places))


def _speed_verdict(claim: Claim, mine: str, theirs: str, holds_when: str = "mine") -> str:
    """The verdict of a claim's speed ratios (``a``: ``mine``): holds / reversed / on par /
    depends (where it flips) / not resolved; ``holds_when`` says whose speed it asserts."""
    if not claim.ratios:
        return "not measured"
    judged = claim.judged()
    mine_faster = [place for ratio, place in judged if ratio.high < 1 / PAR]
    theirs_faster = [place for ratio, place in judged if ratio.low > PAR]
    if mine_faster and theirs_faster:
        return (
            f"depends on the data set or contest: {mine} faster on {_places(mine_faster)}, "
            f"{theirs} on {_places(theirs_faster)}"
        )
    if mine_faster or theirs_faster:
        winner = mine if mine_faster else theirs
        asserted = mine if holds_when == "mine" else theirs
        said = "holds" if winner == asserted else f"reversed: {winner} is faster"
        untold = [p for _, p in judged if p not in mine_faster and p not in theirs_faster]
        if not untold:
            return said
        faster = _places(mine_faster or theirs_faster)
        return f"{said} on {faster}; not resolved on {_places(untold)}"
    if judged and all(r.low >= 1 / PAR and r.high <= PAR for r, _ in judged):
        return "on par: neither is faster beyond ±10%"
    if not judged:
        return "not judged: every fit was overhead-bound or had too few runs"
    return "not resolved: the intervals include both outcomes"


def _model_of(runs: pd.DataFrame, label: str) -> str:
    return str(runs.loc[runs["label"] == label, "model"].iloc[0])


# -- lines of code ----------------------------------------------------------------------------


def code_lines(model: str) -> int:
    """Lines of code of ``model``'s model and training: the modules its class and its bases
    (but the shared ``Model`` contract) are defined in, without blank lines, comments or
    docstrings."""
    contender = models.lookup(model)
    if contender is None:
        return 0
    files = {
        inspect.getsourcefile(klass)
        for klass in contender.__mro__
        if issubclass(klass, models.Model) and klass is not models.Model
    }
    return sum(_code_lines(Path(path)) for path in files if path)


def _code_lines(path: Path) -> int:
    source = path.read_text(encoding="utf-8")
    lines: set[int] = set()
    previous = tokenize.INDENT
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        kind = token.type
        docstring = kind == tokenize.STRING and previous in (
            tokenize.INDENT,
            tokenize.NEWLINE,
            tokenize.DEDENT,
        )
        if kind not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENDMARKER) and not docstring:  # fmt: skip
            lines.update(range(token.start[0], token.end[0] + 1))
        if kind not in (tokenize.COMMENT, tokenize.NL):
            previous = kind
    return len(lines)


def thread_pairs(folders: list[Folder]) -> list[tuple[Folder, Folder]]:
    """Folders that ran the same runs (run ids) on one thread and on more: (1, many)."""
    found = []
    for one in folders:
        threads = set(one.results["n_threads"].dropna().astype(int))
        if threads != {1}:
            continue
        ids = set(one.results["run_id"])
        for many in folders:
            more = set(many.results["n_threads"].dropna().astype(int))
            if many is not one and more and min(more) > 1 and ids & set(many.results["run_id"]):
                found.append((one, many))
    return found


def primary_title(contest: Contest) -> str:
    return metrics.primary(contest).title


# -- what the reader gets ---------------------------------------------------------------------


def markdown(judged: list[Claim], link_root: str = "") -> str:
    """The claims table: the post's words, the verdict, the deciding figures, the evidence."""
    rows = [
        "| the 2017 post said | verdict today | deciding figures (95% interval) | evidence |",
        "|---|---|---|---|",
    ]
    for claim in judged:
        figures = "<br>".join(_escape(sentence) for sentence in claim.said) or "–"
        evidence = (
            ", ".join(f"[{name}]({link_root}{name}/REPORT.md)" for name in claim.folders) or "–"
        )
        rows.append(
            f"| “{_escape(claim.quote)}” | **{_escape(claim.verdict)}** | {figures} | {evidence} |"
        )
    return "\n".join(rows)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def summary(judged: list[Claim], folders: list[Folder]) -> dict:
    """``summary.json``: the claims and their figures, machine-readable, with each folder's
    provenance (written by the same code as the markdown)."""

    def number(value: float | None) -> float | None:
        return None if value is None or not math.isfinite(value) else round(float(value), 6)

    return {
        "claims": [
            {
                "id": claim.id,
                "quote": claim.quote,
                "verdict": claim.verdict,
                "said": claim.said,
                "figures": [
                    {
                        "name": figure.name,
                        "value": number(figure.value),
                        "low": number(figure.low),
                        "high": number(figure.high),
                        "unit": figure.unit,
                        "dataset": figure.dataset,
                        "folder": figure.folder,
                    }
                    for figure in claim.figures
                ],
                "datasets": claim.datasets,
                "folder": claim.folders[0] if claim.folders else None,
                "folders": claim.folders,
                "commit": _commit_of(claim, folders),
                "link": f"{claim.folders[0]}/REPORT.md" if claim.folders else None,
            }
            for claim in judged
        ],
        "folders": [
            {
                "folder": folder.name,
                "commits": folder.commits,
                "date": folder.measured_at,
                "status": folder.status,
                "changed_since": folder.changed,
            }
            for folder in folders
        ],
    }


def _commit_of(claim: Claim, folders: list[Folder]) -> str | None:
    """The commit the claim's first folder was measured on."""
    for folder in folders:
        if claim.folders and folder.name == claim.folders[0] and folder.commits:
            return folder.commits[0]
    return None
