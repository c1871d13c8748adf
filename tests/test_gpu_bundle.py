"""One GPU lease: ``make gpu-bundle``, ``scripts/gpu-run``, the ``gpu`` config and ``--dry-run``.

Nothing here needs a GPU or the network (but the one test marked ``network``): the offline
install runs with a Python 3.12 where one is found, ``scripts/gpu-run`` runs with
``GPU_RUN_REQUIRE_GPU=0`` and this interpreter, and data sets are replaced by stand-ins of the
same size where only their size matters. The CUDA code paths stay covered by the
skip-marked CUDA tests of each contender.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from suite import cli, config, data, estimate, runner
from suite.data import movielens, synthetic
from suite.timed_run import Task

ROOT = Path(__file__).resolve().parents[1]
GPU_RUN = ROOT / "scripts" / "gpu-run"
TORCH_CONTENDERS = ("torch-biased-mf", "torch-mf", "torch-bpr", "torch-ials", "torch-bpmf")
CPU_ONLY = ("numba-sgd", "implicit-als")
ARCHIVE_LIMIT = 16 * 1024 * 1024

needs_bash = pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("tar") is None, reason="needs bash and tar"
)


def offline_env(**extra: str) -> dict[str, str]:
    """This environment without pip's settings (no index, no find-links: as on the device)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


def python312() -> str | None:
    """A Python 3.12 interpreter that runs (``python3.12`` or pyenv's), else None."""
    candidates = [shutil.which("python3.12")]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))
    for candidate in filter(None, candidates):
        done = subprocess.run([candidate, "--version"], capture_output=True, check=False)
        if done.returncode == 0:
            return candidate
    return None


@pytest.fixture(scope="module")
def mfbench_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mfbench wheel, built offline from a copy of this checkout's sources."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("suite", "baselines"):
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    wheels = tmp_path_factory.mktemp("wheels")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index"]
    command += ["--no-build-isolation", "--wheel-dir", str(wheels), str(source)]
    subprocess.run(command, check=True, env=offline_env(), capture_output=True, timeout=300)
    (wheel,) = wheels.glob("mfbench-*.whl")
    return wheel


def fake_bundle(folder: Path, wheel: Path, commit: str = "0123456789abcdef") -> Path:
    """A bundle of the mfbench wheel alone, an empty data folder and a recorded commit."""
    (folder / "data").mkdir(parents=True)
    shutil.copy(wheel, folder / wheel.name)
    (folder / "COMMIT").write_text(commit + "\n")
    (folder / "STATUS").write_text("")
    return folder


def fake_nvidia_smi(folder: Path, works: bool) -> str:
    """A PATH whose ``nvidia-smi`` lists one GPU (``works``) or fails as without a driver."""
    folder.mkdir()
    script = folder / "nvidia-smi"
    body = 'echo "GPU 0: NVIDIA H200 (UUID: GPU-test)"' if works else "echo failed; exit 9"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


# -- the offline install ------------------------------------------------------------------------


def test_the_bundle_installs_offline_with_python_312(mfbench_wheel: Path, tmp_path: Path) -> None:
    interpreter = python312()
    if interpreter is None:
        pytest.skip("no Python 3.12 here")
    done = subprocess.run([interpreter, "-m", "pip", "--version"], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"{interpreter} has no pip")
    bundled = [w for w in (ROOT / "gpu-bundle").glob("*.whl") if not w.name.startswith("mfbench")]
    site = tmp_path / "site"
    command = [interpreter, "-m", "pip", "install", "--no-index", "--no-deps", "--quiet"]
    command += ["--target", str(site), str(mfbench_wheel), *map(str, bundled)]
    done = subprocess.run(command, capture_output=True, text=True, env=offline_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    shown = subprocess.run(
        [
            interpreter,
            "-c",
            "import importlib.metadata, suite; print(suite.__file__); "
            "print(importlib.metadata.version('mfbench'))",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**offline_env(), "PYTHONPATH": str(site)},
        check=True,
    ).stdout.split()
    assert shown == [str(site / "suite" / "__init__.py"), _version()]
    assert (site / "suite" / "configs" / "gpu.toml").is_file()
    assert (site / "suite" / "configs" / "tuned" / "ml-100k" / "kfold5-fold0-seed0.toml").is_file()
    if any(w.name.startswith("implicit-") for w in bundled):  # pip took its cp312 build
        assert list((site / "implicit").rglob("*.so"))


def _version() -> str:
    from suite import __version__

    return __version__


@pytest.mark.network
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_gpu_bundle_gathers_wheels_and_data_under_64_mib(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    done = subprocess.run(
        # --no-print-directory: under an outer make (`make -C DIR test`) a nested make prints
        # "Leaving directory" last
        [
            "make",
            "-s",
            "--no-print-directory",
            "-C",
            str(ROOT),
            "gpu-bundle",
            f"GPU_BUNDLE={bundle}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "MiB of the 64 MiB a device call carries" in done.stdout.splitlines()[-1]
    names = sorted(path.name for path in bundle.glob("*.whl"))
    assert [name.split("-")[0] for name in names] == ["implicit", "mfbench", "tqdm"]
    assert "cp312" in names[0]
    assert (bundle / "data" / "raw" / "ml-100k" / "u.data").is_file()
    assert len((bundle / "COMMIT").read_text().strip()) == 40
    size = sum(path.stat().st_size for path in bundle.rglob("*") if path.is_file())
    assert size < 64 * 1024 * 1024


# -- scripts/gpu-run ------------------------------------------------------------------------------


@needs_bash
def test_without_a_gpu_it_stops_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": fake_nvidia_smi(tmp_path / "bin", works=False)}
    env["OUT"] = str(tmp_path / "out")
    done = subprocess.run(
        ["bash", str(GPU_RUN)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "gpu-run: no NVIDIA GPU here (nvidia-smi finds none); run it on the device machine"
    ]
    assert not (tmp_path / "out" / "gpu-results.tar.gz").exists()
    assert "no NVIDIA GPU" in (tmp_path / "out" / "gpu-run.log").read_text()


@needs_bash
def test_a_torch_without_cuda_stops_it_in_one_line(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this torch sees CUDA")
    env = {**os.environ, "PATH": fake_nvidia_smi(tmp_path / "bin", works=True)}
    env |= {"OUT": str(tmp_path / "out"), "GPU_RUN_PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(GPU_RUN)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"gpu-run: torch {torch.__version__} sees no CUDA device"]


@needs_bash
def test_without_a_bundle_it_says_how_to_make_one(tmp_path: Path) -> None:
    env = {**os.environ, "OUT": str(tmp_path / "out"), "GPU_BUNDLE": str(tmp_path / "none")}
    env["GPU_RUN_REQUIRE_GPU"] = "0"
    done = subprocess.run(
        ["bash", str(GPU_RUN)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("gpu-run: no wheels in ") and "make gpu-bundle" in line


@needs_bash
@pytest.mark.slow
def test_it_installs_the_bundle_runs_the_grid_and_packs_one_archive(
    mfbench_wheel: Path, tmp_path: Path
) -> None:
    bundle = fake_bundle(tmp_path / "bundle", mfbench_wheel, commit="c0ffee" * 6 + "c0ff")
    grid = tmp_path / "tiny.toml"
    grid.write_text(
        'name = "tiny"\ncurve_users = 50\n'
        '[[datasets]]\nname = "synthetic-10k"\n'
        '[[models]]\nname = "torch-biased-mf"\nbackends = ["cpu", "cuda"]\n'
        "params = { epochs = 1 }\n"
        '[[models]]\nname = "popularity"\n'
    )
    out = tmp_path / "out"
    env = offline_env(
        OUT=str(out),
        GPU_BUNDLE=str(bundle),
        GPU_RUN_CONFIG=str(grid),
        GPU_RUN_PYTHON=sys.executable,
        GPU_RUN_REQUIRE_GPU="0",
    )
    done = subprocess.run(
        ["bash", str(GPU_RUN)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(path.name for path in out.iterdir()) == ["gpu-results.tar.gz", "gpu-run.log"]
    log = (out / "gpu-run.log").read_text()
    assert "gpu-run: " in log and "the grid finished: 3 runs recorded" in log
    assert f"suite {_version()} from " in log and "/site/suite/__init__.py" in log  # the wheel's
    archive = out / "gpu-results.tar.gz"
    assert archive.stat().st_size < ARCHIVE_LIMIT
    with tarfile.open(archive) as packed:
        names = packed.getnames()
        records = [json.loads(line) for line in packed.extractfile("gpu/results.jsonl")]
    assert all(name == "gpu" or name.startswith("gpu/") for name in names)
    assert {"gpu/results.jsonl", "gpu/results.csv", "gpu/env.json", "gpu/grid.json"} <= set(names)
    assert not [name for name in names if name.endswith(".npz") or ".splits" in name]
    assert {(r["model"], r["backend"], r["status"]) for r in records} == {
        ("torch-biased-mf", "cpu", "ok"),
        ("torch-biased-mf", "cuda", "skipped"),
        ("popularity", "cpu", "ok"),
    }
    assert {r["git_commit"] for r in records} == {"c0ffee" * 6 + "c0ff"}  # the bundle's commit


@needs_bash
def test_pack_leaves_out_split_files_and_names_the_top_folder_gpu(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    (folder / ".splits").mkdir(parents=True)
    (folder / ".splits" / "ml-100k-f0-s0.npz").write_bytes(b"\0" * 1000)
    (folder / "results.jsonl").write_text('{"run_id": "a"}\n')
    (folder / "curves.jsonl").write_text("")
    (folder / ".lock").write_text("")
    archive = tmp_path / "back" / "gpu-results.tar.gz"
    done = subprocess.run(
        ["bash", str(GPU_RUN), "pack", str(folder), str(archive)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    with tarfile.open(archive) as packed:
        assert sorted(packed.getnames()) == ["gpu", "gpu/curves.jsonl", "gpu/results.jsonl"]


@needs_bash
def test_pack_refuses_an_archive_over_16_mib(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "curves.jsonl").write_bytes(os.urandom(ARCHIVE_LIMIT + (1 << 20)))
    archive = tmp_path / "gpu-results.tar.gz"
    done = subprocess.run(
        ["bash", str(GPU_RUN), "pack", str(folder), str(archive)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert "over the 16 MiB" in line
    assert not archive.exists()


# -- the gpu config, its plan and its estimate ----------------------------------------------------


def test_the_gpu_config_runs_the_pytorch_contenders_on_cuda_beside_cpu() -> None:
    grid = config.load_config("gpu")
    backends = {spec.name: spec.backends for spec in grid.models}
    for name in TORCH_CONTENDERS:
        assert backends[name] == ["cpu", "cuda"]
    for name in CPU_ONLY:
        assert backends[name] == ["cpu"]
    assert [d.name for d in grid.datasets] == ["ml-100k", "synthetic-1m", "synthetic-10m"]
    assert all(d.seeds == [0] for d in grid.datasets)
    assert grid.n_threads is None  # every core
    assert grid.eval_users == 20_000
    large = grid.datasets[-1]
    for spec in grid.models:
        if spec.datasets is None or large.name in spec.datasets:
            for _, params in grid.variants(large, spec):
                assert params.get("epochs", 1) <= 10, spec.name


class StandIn:
    """A data set's size and a digest, without its ratings (all a plan and an estimate read)."""

    def __init__(self, name: str, n_ratings: int, n_users: int, n_items: int) -> None:
        self.name, self.n_ratings, self.n_users, self.n_items = name, n_ratings, n_users, n_items

    def __len__(self) -> int:
        return self.n_ratings

    def digest(self) -> str:
        return f"{self.name:0<64}"


def stand_in(spec: config.DatasetSpec) -> StandIn:
    if spec.name in synthetic.PLANTED_SETS:
        return StandIn(spec.name, **synthetic.PLANTED_SETS[spec.name])
    release = movielens.RELEASES[spec.name]
    return StandIn(spec.name, release.n_ratings, release.n_users, release.n_items)


def test_the_gpu_config_is_estimated_to_fit_in_8_minutes_on_16_cores(monkeypatch) -> None:
    """With ML-100K's tuned settings; generating the planted sets takes ~50 s more."""
    monkeypatch.delenv("MFBENCH_TUNED")  # the committed tuned settings, as a real run has them
    monkeypatch.setattr(runner.Datasets, "load", lambda _self, spec, seed=0: (stand_in(spec), 0.0))
    grid = config.load_config("gpu")
    grid.n_threads = 16
    planned = estimate.estimate_grid(grid)
    assert planned.unknown == 0
    assert len(planned.runs) == 43
    assert planned.total_s + 60 < 8 * 60


def test_dry_run_lists_every_planned_run_and_a_total_and_writes_nothing(
    monkeypatch, tmp_path: Path, capsys
) -> None:
    names = [spec.name for spec in config.load_config("gpu").datasets]
    small = {  # one small set per name (the same data twice would be the same runs)
        name: synthetic.planted(n_users=60, n_items=40, n_ratings=900, seed=seed)
        for seed, name in enumerate(names)
    }
    monkeypatch.setattr(data, "load", lambda name, **_kwargs: small[name])
    monkeypatch.chdir(tmp_path)
    code = cli.main(["run", "--config", "gpu", "--threads", "16", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("gpu: 43 planned runs (dry run: nothing was run or written)")
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| ")][1:]
    planned = {(cells[5].strip(), cells[6].strip()) for cells in rows}
    expected = {(name, backend) for name in TORCH_CONTENDERS for backend in ("cpu", "cuda")}
    assert expected | {(name, "cpu") for name in CPU_ONLY} <= planned
    assert {cells[7].strip() for cells in rows} == {"16"}
    assert "estimated total: " in out and "an ESTIMATE" in out
    # every CUDA run scaled from the lease's committed CUDA runs, none guessed from its CPU run
    cuda = [cells for cells in rows if cells[6].strip() == "cuda"]
    assert cuda and all("(results/gpu" in cells[-2] for cells in cuda)
    assert "CUDA run(s) have no CUDA measurement" not in out
    assert list(tmp_path.iterdir()) == []


def test_dry_run_does_not_combine_with_resume(tmp_path: Path, capsys) -> None:
    code = cli.main(["run", "--dry-run", "--resume", "--out", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "mfbench: error: --dry-run plans a new grid; it does not combine with --resume"
    ]


# -- the cost model ---------------------------------------------------------------------------


def task(model: str = "torch-mf", backend: str = "cpu", threads: int = 2, epochs: int = 3) -> Task:
    return Task(
        run_id="r",
        config="test",
        dataset="d",
        split="holdout",
        fold=0,
        seed=0,
        model=model,
        label=model,
        backend=backend,
        n_threads=threads,
        params={"epochs": epochs, "factors": 32},
        split_file="",
    )


def measured(**columns: object) -> pd.DataFrame:
    """One committed CPU run of torch-mf: 1 s an epoch on 10^6 ratings at 2 threads."""
    row = dict.fromkeys(estimate.COLUMNS, float("nan"))
    row |= {"dataset": "d", "model": "torch-mf", "backend": "cpu", "status": "ok", "n_threads": 2}
    row |= {"n_train": 1e6, "n_test": 2.5e5, "n_items": 100, "epochs": 3, "epoch_s_median": 1.0}
    row |= {"params": '{"factors": 32}', "started_at": "2026-01-01T00:00:00Z", "source": "here"}
    return pd.DataFrame([row | columns])


def test_training_time_grows_linearly_with_ratings_and_is_shared_among_threads() -> None:
    size = estimate.Size(n_train=2e6, n_test=5e5, n_users=10, n_items=100)
    at_2 = estimate.estimate_run(task(threads=2), size, measured(), 10)
    at_8 = estimate.estimate_run(task(threads=8), size, measured(), 10)
    assert at_2.seconds == pytest.approx(estimate.WORKER_START_S + 3 * 2.0)
    speed_up = 4**estimate.THREAD_EXPONENT
    assert at_8.seconds == pytest.approx(estimate.WORKER_START_S + 3 * 2.0 / speed_up)
    assert at_2.basis == "1.0M ratings, k=32, 2 thr (here)"


def test_a_cuda_run_without_a_cuda_measurement_is_a_stated_guess() -> None:
    size = estimate.Size(n_train=1e6, n_test=2.5e5, n_users=10, n_items=100)
    cpu = estimate.estimate_run(task(threads=2), size, measured(), 10)
    cuda = estimate.estimate_run(task(backend="cuda", threads=2), size, measured(), 10)
    assert cuda.guessed and cuda.basis.startswith("guess from CPU: ")
    expected = (cpu.seconds - estimate.WORKER_START_S) / estimate.CUDA_SPEEDUP
    assert cuda.seconds == pytest.approx(estimate.WORKER_START_S + expected + estimate.CUDA_START_S)
    on_cuda = measured(backend="cuda", epoch_s_median=0.1)
    assert not estimate.estimate_run(task(backend="cuda"), size, on_cuda, 10).basis.startswith(
        "guess"
    )


def test_a_contender_never_measured_is_unknown_and_left_out_of_the_total() -> None:
    size = estimate.Size(n_train=1e6, n_test=2.5e5, n_users=10, n_items=100)
    known = estimate.estimate_run(task(), size, measured(), 10)
    unknown = estimate.estimate_run(task(model="torch-bpr"), size, measured(), 10)
    assert unknown.seconds is None and unknown.basis.startswith("unknown")
    planned = estimate.PlanEstimate([known, unknown], load_s=1.0, split_s=0.5, n_threads=2)
    assert planned.unknown == 1
    assert planned.total_s == pytest.approx(known.seconds + 1.5)


def test_the_committed_results_are_the_measurements() -> None:
    found = estimate.measurements()
    assert {"torch-mf", "numba-sgd", "implicit-als"} <= set(found["model"])
    assert set(found["status"]) == {"ok"}
    assert not found["source"].str.startswith("results/runs").any()
