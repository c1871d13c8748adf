"""The 2017 post's claims, judged from result folders: what the reader gets first.

Each claim of Rosenthal's "Matrix Factorization in PyTorch" (``CLAIMS``) gets a verdict in
words the numbers support, and the evidence behind it: every figure as data (a paired ratio,
a count), each with the place it was measured and the folder that holds it. The renderers
(``suite.readme``, ``suite.report``, the site) write them out; nothing here is text about a
number but the verdict itself.

- **Speed at equal accuracy** decides the speed claims: each run's time to its data set's
  target (``rating_target`` RMSE, ``ranking_target`` NDCG@10; ``suite.timed_run``), the best
  PyTorch contender against the fastest other one, per contest, as a paired ratio
  (``suite.analysis.paired``: the geometric mean of the per-run ratios over the same folds ×
  seeds, with its interval, read by the one on-par rule). Fits shorter than ``OVERHEAD_S``
  are overhead-bound and judge nothing.
- Only **current** folders count (``suite.analysis.provenance``): measured on code whose
  contenders and harness have not changed since. A claim none of them measures says "not
  measured".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from suite import models
from suite import results as results_io
from suite.analysis.paired import PAR, Ratio, Reading, paired_ratio
from suite.analysis.provenance import Folder
from suite.analysis.speed import PER_RATING, TARGET_COLUMN, ratio_of, target_of
from suite.models.base import Contest

#: What each piece of evidence is to its claim.
DECIDING = "deciding"  # a ratio the verdict rests on
CONTEXT = "context"  # a ratio shown beside the verdict, not part of it (the same model twice)
MISSED = "missed"  # a race that gave no ratio: a side missed the target
SPEED_UP = "speed-up"  # a trainer's fit time on more threads over one thread
ON_CUDA = "on CUDA"  # a contender's time per rating on CUDA over its own on the CPU
CODE_LINES = "code lines"  # a contender's lines of model and training code


@dataclass(frozen=True)
class Evidence:
    """One figure behind a claim: a paired ratio, a count, or a race without a ratio.

    ``lead`` says where and what was compared (``"ml-100k, rating: "``, ``"ml-100k, the
    fastest ALS against the fastest SGD, "``); ``note`` is what a race without a ratio
    found (who missed the target).
    """

    name: str
    role: str
    dataset: str
    folder: str
    lead: str = ""
    ratio: Ratio | None = None
    value: float = math.nan  # a count (``CODE_LINES``)
    unit: str = ""
    note: str = ""

    @property
    def place(self) -> str:
        """Where it was measured: ``lead`` up to its first colon."""
        return self.lead.split(":")[0].strip()


@dataclass
class Claim:
    """One claim of the post, judged."""

    id: str
    quote: str
    verdict: str = "not measured"
    evidence: list[Evidence] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)  # label -> contender, where it matters

    def add(self, evidence: Evidence) -> None:
        self.evidence.append(evidence)
        if evidence.dataset not in self.datasets:
            self.datasets.append(evidence.dataset)
        if evidence.folder not in self.folders:
            self.folders.append(evidence.folder)

    @property
    def ratios(self) -> list[Ratio]:
        """The ratios the verdict rests on (``a``: the side the claim speaks for)."""
        return [e.ratio for e in self.evidence if e.role == DECIDING and e.ratio is not None]

    def judged(self) -> list[tuple[Ratio, str]]:
        """The deciding ratios a verdict may rest on (an interval, not overhead-bound), with
        their places."""
        return [
            (e.ratio, e.place)
            for e in self.evidence
            if e.role == DECIDING and e.ratio is not None and e.ratio.judged
        ]


def _ratio_evidence(
    name: str, role: str, ratio: Ratio, dataset: str, folder: str, lead: str
) -> Evidence:
    return Evidence(name, role, dataset, folder, lead, ratio, unit=f"× {ratio.quantity}")


# -- who raced whom ---------------------------------------------------------------------------


def entrants(runs: pd.DataFrame, contest: Contest) -> pd.DataFrame:
    """The ok CPU runs of ``contest``'s trained, non-floor contenders."""
    ok = results_io.ok_runs(runs)
    ok = ok[ok["backend"] == "cpu"]
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
            if target_of(runs, contest) is not None:
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
            ratio = ratio_of(runs, mine, theirs, TARGET_COLUMN[contest])
            if ratio is None:
                continue
            name = f"{mine} / {theirs}"
            claim.add(_ratio_evidence(name, DECIDING, ratio, dataset, folder.name, f"{dataset}: "))
            for label in (mine, theirs):
                model = _model_of(runs, label)
                claim.models[label] = model
                claim.add(
                    Evidence(
                        f"code lines {label}",
                        CODE_LINES,
                        dataset,
                        folder.name,
                        value=float(models.code_lines(model) or 0),
                        unit="lines",
                    )
                )
    if not claim.ratios:
        return
    faster = _speed_verdict(claim, "PyTorch", "numpy")
    first = claim.ratios[0]
    lines = {label: models.code_lines(model) or 0 for label, model in claim.models.items()}
    mine, theirs = lines.get(first.a, 0), lines.get(first.b, 0)
    fewer = "yes" if mine < theirs else "no"
    claim.verdict = (
        f"converges faster: {faster}; in fewer lines: {fewer} ({first.a} {mine} lines of model "
        f"and training code, {first.b} {theirs})"
    )


def _custom_faster(claim: Claim, folders: list[Folder]) -> None:
    """3. Well-written custom solutions are still much faster."""
    _race_sides(claim, folders, models.is_pytorch, _is_bespoke)
    claim.verdict = _speed_verdict(claim, "PyTorch", "bespoke", holds_when="theirs")


def _als_faster(claim: Claim, folders: list[Folder]) -> None:
    """4. ALS is more efficient than SGD; implicit is blazingly fast."""
    _race_sides(
        claim,
        folders,
        lambda m: models.method(m) == "als",
        lambda m: models.method(m) == "sgd",
        "the fastest ALS against the fastest SGD, ",
    )
    claim.verdict = _speed_verdict(claim, "ALS", "SGD")


def _race_sides(
    claim: Claim,
    folders: list[Folder],
    mine: Callable[[str], bool],
    theirs: Callable[[str], bool],
    note: str = "",
) -> None:
    """In each race of ``folders``, the fastest of ``mine`` against the fastest of ``theirs``
    (``fastest``), added to ``claim`` as a deciding ratio."""
    for folder in folders:
        for dataset, contest, runs in races(folder):
            a, b = fastest(runs, contest, mine), fastest(runs, contest, theirs)
            if a is None or b is None:
                continue
            ratio = ratio_of(runs, a, b, TARGET_COLUMN[contest])
            if ratio is not None:
                name = f"{contest.value}: {a} / {b}"
                lead = f"{dataset}, {contest.value}: {note}"
                claim.add(_ratio_evidence(name, DECIDING, ratio, dataset, folder.name, lead))


def _lightfm_quicker(claim: Claim, folders: list[Folder]) -> None:
    """5. LightFM operates much quicker than a similar solution in a deep learning framework.

    On a data set where a PyTorch hybrid ran beside its LightFM twin (``Model.same_model_as``)
    and the grid sets an NDCG@10 target, the two sides race at their best, as in the other
    speed claims: the fastest LightFM hybrid against the fastest PyTorch one (``fastest``:
    the lowest median time to the target among the hybrids that reached it in every run). A
    side none of whose hybrids reached it in every run gives no ratio, and the claim names who
    missed. The twins' own race is shown beside it as context, outside the verdict. Without a
    target only the twins' fit times at equal epochs can be compared, and the evidence says
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
    target = target_of(runs, Contest.RANKING)
    if target is None:
        for model, other in twins:
            ratio = ratio_of(runs, model, other, "fit_s", "fit time")
            if ratio is not None:
                lead = (
                    f"{dataset}, the same hybrid model, fit time at equal epochs (no NDCG@10 "
                    "target set: accuracy not compared): "
                )
                name = f"fit time {model} / {other}"
                claim.add(_ratio_evidence(name, DECIDING, ratio, dataset, folder.name, lead))
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
        note = f"{missed}: no ratio at equal accuracy" + "".join(f"; {m}" for m in made)
        claim.add(Evidence("target missed, hybrids", MISSED, dataset, folder.name, note=note))
        return [missed]  # the twins' race: one of them missed too
    mine, theirs = sides
    ratio = ratio_of(runs, mine, theirs, column)
    if ratio is not None:
        lead = f"{dataset}, the fastest hybrid of each side, time to {reached}: "
        name = f"time to target {mine} / {theirs}"
        claim.add(_ratio_evidence(name, DECIDING, ratio, dataset, folder.name, lead))
    for model, other in twins:
        if [model, other] == sides:
            continue
        lead = f"{dataset}, the same hybrid model trained two ways (context): "
        short = _misses(runs, [model, other], column)
        ratio = None if short else ratio_of(runs, model, other, column)
        if ratio is None:
            said = f"{reached} not reached by " + ", ".join(short) if short else "no paired runs"
            name = f"twins {model} / {other}"
            claim.add(Evidence(name, MISSED, dataset, folder.name, lead, note=said))
        else:
            name = f"time to target {model} / {other}"
            claim.add(_ratio_evidence(name, CONTEXT, ratio, dataset, folder.name, lead))
    return []


def _side(runs: pd.DataFrame, library: str) -> list[str]:
    """The labels of ``runs``' hybrids written with ``library``."""
    labels = runs.drop_duplicates("label").set_index("label")["model"]
    return [label for label, model in labels.items() if _hybrid(library)(str(model))]


def _misses(runs: pd.DataFrame, labels: list[str], column: str) -> list[str]:
    """``"torch-hybrid in 3 of 5 runs"`` for each of ``labels`` that missed the target."""
    short = []
    ok = results_io.ok_runs(runs)
    for label in labels:
        times = ok[(ok["label"] == label) & (ok["backend"] == "cpu")][column]
        if times.isna().any():
            short.append(f"{label} in {int(times.isna().sum())} of {len(times)} runs")
    return short


def _parallel(claim: Claim, folders: list[Folder]) -> None:
    """2. Easily parallelised across CPUs, turbo-boosted on GPUs."""
    times: dict[bool, list[Ratio]] = {True: [], False: []}  # PyTorch's, the others'
    for one, many in thread_pairs(folders):
        shared = one.results.merge(many.results, on="run_id", suffixes=("_1", "_n"))
        shared = shared[
            (shared["status_1"] == results_io.OK) & (shared["status_n"] == results_io.OK)
        ]
        for (label, model), runs in shared.groupby(["label_1", "model_1"], sort=False):
            threads = int(runs["n_threads_n"].iloc[0])
            indexed = runs.set_index("run_id")
            ratio = paired_ratio(
                indexed["fit_s_n"],
                indexed["fit_s_1"],
                f"{label} on {threads} threads",
                f"{label} on 1 thread",
                "fit time",
            )
            if ratio is None:
                continue
            times[models.is_pytorch(str(model))].append(ratio)
            claim.add(
                Evidence(
                    f"fit time {label}, {threads} threads / 1 thread",
                    SPEED_UP,
                    str(runs["dataset_1"].iloc[0]),
                    many.name,
                    ratio=ratio,
                    unit="× fit time (on all threads / on 1)",
                )
            )
    for folder in folders:
        _cuda_rows(claim, folder)
    if not times[True] or not times[False]:
        claim.verdict = (
            "not measured: no current folder ran the same runs on 1 and on more threads"
            if not claim.evidence
            else "partly measured (see the figures)"
        )
    else:
        claim.verdict = _parallel_verdict(times)


def _parallel_verdict(times: dict[bool, list[Ratio]]) -> str:
    """Claim 2's verdict from the fit-time ratios (all threads over one) of PyTorch's trainers
    (``times[True]``) and the others': none judged unless some trainer's interval lies below
    ``1 / PAR``."""
    mine, theirs = (float(np.median([r.value for r in times[side]])) for side in (True, False))
    medians = (
        f"medians: PyTorch's trainers take {mine:.2f}× their one-thread fit time, the others "
        f"{theirs:.2f}×"
    )
    timed = [r for r in times[True] + times[False] if r.resolved]
    if not any(r.reading is Reading.LOWER for r in timed):
        return (
            "not resolved: no trainer's fit time falls beyond ±10% with more threads on this "
            f"machine ({medians})"
        )
    if mine <= theirs * PAR:
        return (
            f"holds: PyTorch's trainers gain from threads as the hand-parallelised do ({medians})"
        )
    return f"reversed: the hand-parallelised solutions gain more from threads ({medians})"


def _cuda_rows(claim: Claim, folder: Folder) -> None:
    """Each contender's time per rating on CUDA over its own on the CPU, paired by run."""
    runs = folder.results
    cuda = results_io.ok_runs(runs)
    cuda = cuda[cuda["backend"] == "cuda"]
    for (dataset, label), _ in cuda.groupby(["dataset", "label"], sort=False):
        data_runs = runs[runs["dataset"] == dataset]
        ratio = ratio_of(
            data_runs,
            str(label),
            str(label),
            PER_RATING,
            PER_RATING,
            ("cuda", "cpu"),
            (f"{label} on CUDA", f"{label} on the CPU"),
        )
        if ratio is None:
            continue
        claim.add(
            Evidence(
                f"time per rating {label}, CUDA / CPU",
                ON_CUDA,
                str(dataset),
                folder.name,
                f"{dataset}: ",
                ratio,
                unit="× time per rating (CUDA / CPU)",
            )
        )


def _gpus(claim: Claim, folders: list[Folder]) -> None:
    """6. As GPUs get larger, deep learning frameworks may replace bespoke CPU solutions."""
    for folder in folders:
        runs = folder.results
        cuda = results_io.ok_runs(runs)
        cuda = cuda[cuda["backend"] == "cuda"]
        for dataset, gpu in cuda.groupby("dataset", sort=False):
            data_runs = runs[runs["dataset"] == dataset]
            for contest in Contest:
                column = TARGET_COLUMN[contest]
                bespoke = fastest(data_runs, contest, _is_bespoke)
                on_gpu = entrants(gpu.assign(backend="cpu"), contest)
                if bespoke is None or column not in on_gpu or on_gpu[column].isna().all():
                    continue
                best = str(on_gpu.groupby("label")[column].median().idxmin())
                ratio = ratio_of(
                    data_runs, best, bespoke, column, backends=("cuda", "cpu"),
                    names=(f"{best} (cuda)", bespoke),
                )  # fmt: skip
                if ratio is not None:
                    name = f"{contest.value}: {best} on CUDA / {bespoke} on CPU"
                    lead = f"{dataset}, {contest.value}: "
                    claim.add(
                        _ratio_evidence(name, DECIDING, ratio, str(dataset), folder.name, lead)
                    )
                raced = (best, bespoke)
                _same_model_on_gpu(
                    claim, folder.name, str(dataset), contest, on_gpu, data_runs, raced
                )
    if not claim.evidence:
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
        if not ((runs["backend"] == "cuda") & (runs["status"] == results_io.OK)).any():
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
        ratio = ratio_of(
            data_runs, str(label), twin, column, backends=("cuda", "cpu"),
            names=(f"{label} (cuda)", twin),
        )  # fmt: skip
        if ratio is None:
            continue
        name = f"{contest.value}: {label} on CUDA / {twin} on CPU"
        lead = f"{dataset}, {contest.value}, the same model trained two ways (context): "
        claim.add(_ratio_evidence(name, CONTEXT, ratio, dataset, folder, lead))


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
        if not claim.evidence and claim.verdict == "not measured":
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
    mine_faster = [place for ratio, place in judged if ratio.reading is Reading.LOWER]
    theirs_faster = [place for ratio, place in judged if ratio.reading is Reading.HIGHER]
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
    if judged and all(r.reading is Reading.ON_PAR for r, _ in judged):
        return f"on par: neither is faster beyond ±{(PAR - 1) * 100:.0f}%"
    if not judged:
        return "not judged: every fit was overhead-bound or had too few runs"
    return "not resolved: the intervals include both outcomes"


def _model_of(runs: pd.DataFrame, label: str) -> str:
    return str(runs.loc[runs["label"] == label, "model"].iloc[0])


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
