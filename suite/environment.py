"""What a run folder's numbers were measured on: machine, GPU, libraries, threads, git tree.

Besides these fixed facts, ``env.json`` says how busy the machine was while it measured, in
``env["load"]``: one *session* per ``mfbench run`` that wrote into the folder (the first, then
one per ``--resume``), each appended, never overwritten, so every run's timings have the
conditions they were measured under next to them::

    "load": [
      {
        "resumed": false,
        "started_at": "2026-11-28T09:19:49Z",
        "cpu": "AMD EPYC", "cores": 2, "threads_per_run": 1,
        "git_commit": "1676df6…", "git_dirty": false,
        "before": {"loadavg_1m": 0.08, "loadavg_5m": 0.65, "loadavg_15m": 0.9,
                   "busy_pct": 1.0, "steal_pct": 0.0, "sample_s": 0.25},
        "after": {"ended": "finished", "ended_at": "2026-11-28T09:21:52Z", "run_s": 122.8,
                  "loadavg_1m": 1.04, "loadavg_5m": 0.81, "loadavg_15m": 0.93,
                  "busy_pct": 50.7, "steal_pct": 0.4}
      }
    ]

``before`` is taken just before the first run: the load averages, and the share of all
cores' time that was busy (``busy_pct``: user, system, interrupts) or stolen by the
hypervisor for other virtual machines (``steal_pct``) over a ``sample_s`` second sample of
``/proc/stat``. ``after`` is taken when the session ends: the load averages then, and the
busy and stolen shares over the whole session (``run_s`` seconds; mfbench's own runs are
part of ``busy_pct``). ``ended`` is ``"finished"`` (failed runs included), ``"interrupted"``
(Ctrl-C) or ``"error"`` (e.g. the disk filled up); a session without ``after`` was killed.
A figure this machine cannot give (no ``/proc/stat``, no load average) is ``null``. Each
session repeats the CPU, commit and dirtiness of the tree it ran on, since a resumed run may
have run on other code or another machine than the facts at the top of the file describe. A
run that is not a resumption starts ``env.json`` afresh.

``caveats`` turns these into the sentences a report opens with.
"""

from __future__ import annotations

import logging
import os
import platform
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_info

from suite import safe_io
from suite.errors import InputError
from suite.threads import resolve_threads

log = logging.getLogger("mfbench")

PROC_STAT = Path("/proc/stat")
SAMPLE_S = 0.25  # the "before" sample of /proc/stat: ~25 clock ticks per core (USER_HZ 100)
# Above this share of stolen CPU time during a run, a CPU-bound fit took ~5% longer or more
# than on a host of its own, and unevenly so: as much as the seed-to-seed spread of a fit
# time, so the report says so. Dedicated hosts and quiet cloud VMs show well under 1%.
STEAL_CAVEAT_PCT = 5.0


def environment() -> dict[str, Any]:
    """Where a run folder's numbers come from: machine, GPU, versions, BLAS/OpenMP, git commit."""
    import torch

    env: dict[str, Any] = {
        "captured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": resolve_threads(None),
        "ram_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions(),
        "torch_cuda": torch.version.cuda,
        "gpu": None,
        "thread_settings": {
            "torch_num_threads": torch.get_num_threads(),
            **{
                var: os.environ.get(var)
                for var in (
                    "OMP_NUM_THREADS",
                    "OMP_WAIT_POLICY",
                    "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS",
                )
            },
        },
        "threadpools": [
            {k: v for k, v in pool.items() if k != "filepath"} for pool in threadpool_info()
        ],
        **code_version(),
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        env["gpu"] = {
            "name": props.name,
            "memory_gb": round(props.total_memory / 2**30, 1),
            "count": torch.cuda.device_count(),
            "driver": _nvidia_driver(),
        }
    return env


#: The libraries of the harness itself (every contender's own are read from its class).
HARNESS_PACKAGES = (
    "numpy",
    "scipy",
    "pandas",
    "threadpoolctl",
    "matplotlib",
    "optuna",
    "dask",
    "distributed",
)


def versions() -> dict[str, str | None]:
    """mfbench's version (from its source, not from install metadata that may be stale), the
    harness's libraries' and every registered contender's (``suite.models.library_versions``:
    e.g. torch, implicit, pyspark, and Java for Spark); None where one is not installed."""
    from suite import __version__, models

    found: dict[str, str | None] = {"mfbench": __version__}
    found |= {name: _version(name) for name in HARNESS_PACKAGES}
    found |= models.library_versions()
    return found


def code_version() -> dict[str, Any]:
    """The git commit of the code running now, and whether its tracked files had changes
    (results folders aside: a gate reference or report written beside the code is no change
    to what measures).

    Where the code runs from no checkout (an installed wheel, as on a GPU lease),
    ``$MFBENCH_GIT_COMMIT`` and ``$MFBENCH_GIT_DIRTY`` (1 or 0) say what it was built from.
    """
    given = os.environ.get("MFBENCH_GIT_COMMIT")
    if given:
        return {"git_commit": given, "git_dirty": os.environ.get("MFBENCH_GIT_DIRTY") == "1"}
    return {
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(
            _git(
                "status", "--porcelain", "--untracked-files=no", "--", ":/", ":(top,exclude)results"
            )
        ),
    }


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=Path(__file__).parent,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _nvidia_driver() -> str | None:
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout else None


@dataclass(frozen=True)
class CpuTimes:
    """All cores' time since boot, from the ``cpu`` line of ``/proc/stat``, in clock ticks."""

    busy: int  # user, nice, system, irq, softirq: work, ours or anyone's
    steal: int  # ready to run, but the hypervisor was running another virtual machine
    total: int  # busy, steal, idle and iowait


def cpu_times() -> CpuTimes | None:
    """This machine's cumulative CPU times, or ``None`` where ``/proc/stat`` gives none."""
    try:
        with PROC_STAT.open(encoding="ascii") as stat:
            fields = stat.readline().split()
    except (OSError, UnicodeDecodeError):
        return None
    if not fields or fields[0] != "cpu" or not all(f.isdigit() for f in fields[1:9]):
        return None
    # user nice system idle iowait irq softirq steal (guest time is counted in user already);
    # kernels before 2.6.11 have no steal field: zero then.
    ticks = [int(f) for f in fields[1:9]] + [0] * (9 - len(fields[:9]))
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    return CpuTimes(busy=user + nice + system + irq + softirq, steal=steal, total=sum(ticks))


def cpu_shares(start: CpuTimes | None, end: CpuTimes | None) -> dict[str, float | None]:
    """The busy and stolen shares of all cores' time from ``start`` to ``end``, in percent.

    ``None`` each where either reading is missing or no clock tick passed between them.
    """
    if start is None or end is None or end.total <= start.total:
        return {"busy_pct": None, "steal_pct": None}
    total = end.total - start.total
    return {
        "busy_pct": round(100 * (end.busy - start.busy) / total, 1),
        "steal_pct": round(100 * (end.steal - start.steal) / total, 1),
    }


def load_average() -> dict[str, float | None]:
    """The 1, 5 and 15 minute load averages (runnable tasks); ``None`` each where unknown."""
    try:
        averages: tuple[float | None, ...] = os.getloadavg()
    except (OSError, AttributeError):  # not available (AttributeError: not on this OS)
        averages = (None, None, None)
    return {
        f"loadavg_{minutes}m": None if value is None else round(value, 2)
        for minutes, value in zip((1, 5, 15), averages, strict=True)
    }


@dataclass
class Session:
    """One ``mfbench run`` writing into a run folder, as ``start_session`` began recording it."""

    path: Path  # the folder's env.json
    env: dict[str, Any]  # its content, this session last in env["load"]
    cpu_at_start: CpuTimes | None
    started_s: float  # time.perf_counter() at the start


def start_session(
    path: Path,
    *,
    resumed: bool,
    threads_per_run: int | None = None,
    sample_s: float | None = None,
) -> Session:
    """Record, in ``path`` (a run folder's ``env.json``), the conditions a session starts in.

    Parameters
    ----------
    path : Path
        The ``env.json`` to write.
    resumed : bool
        Whether runs were already recorded in the folder before this session. If so, an
        existing ``path`` keeps its machine facts and earlier sessions, and this session is
        appended to its ``load`` list; otherwise ``path`` is written afresh with the machine
        facts of ``environment()`` (nothing measured in the folder before is described).
    threads_per_run : int, optional
        The threads each run of the session uses: part of the load it causes itself.
    sample_s : float, optional
        Seconds of ``/proc/stat`` over which the busy and stolen shares before the run are
        measured (the process sleeps meanwhile, so it measures the others); ``SAMPLE_S``
        by default.

    Returns
    -------
    Session
        What ``end_session`` needs to record the end.

    Raises
    ------
    InputError
        If an existing ``path`` is not an ``env.json``, or it cannot be written.
    """
    env = _read_env(path) if resumed and path.exists() else environment()
    sample_s = SAMPLE_S if sample_s is None else sample_s
    first = cpu_times()
    time.sleep(sample_s)
    start = cpu_times()
    session = {
        "resumed": resumed,
        "started_at": _now(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "threads_per_run": threads_per_run,
        **code_version(),
        "before": {**load_average(), **cpu_shares(first, start), "sample_s": sample_s},
    }
    env["load"] = [*env.get("load", []), session]
    safe_io.write_json(path, env)
    return Session(path, env, start, time.perf_counter())


def end_session(session: Session, ended: str) -> None:
    """Record how ``session`` ended (``"finished"``, ``"interrupted"``, ``"error"``).

    The load averages now and the busy and stolen shares over the whole session are written
    as the session's ``after`` part, atomically.
    """
    session.env["load"][-1]["after"] = {
        "ended": ended,
        "ended_at": _now(),
        "run_s": round(time.perf_counter() - session.started_s, 1),
        **load_average(),
        **cpu_shares(session.cpu_at_start, cpu_times()),
    }
    safe_io.write_json(session.path, session.env)


@contextmanager
def recorded_session(
    path: Path, *, resumed: bool, threads_per_run: int | None = None
) -> Iterator[None]:
    """The block, with its conditions before and after recorded in ``path`` (``env.json``).

    The end is recorded however the block ends: finished, interrupted (Ctrl-C) or by an
    error; only a killed process leaves its session without an ``after`` part. When the
    block failed, a failure to write that part is logged and the block's error goes on.
    """
    session = start_session(path, resumed=resumed, threads_per_run=threads_per_run)
    try:
        yield
    except KeyboardInterrupt:
        _end_after_failure(session, "interrupted")
        raise
    except Exception:
        _end_after_failure(session, "error")
        raise
    end_session(session, "finished")


def _end_after_failure(session: Session, ended: str) -> None:
    try:
        end_session(session, ended)
    except InputError as exc:  # e.g. the disk is full: the error that stopped the runs matters
        log.warning("%s (the end of this session is not recorded)", exc)


def _read_env(path: Path) -> dict[str, Any]:
    """An existing ``env.json``, which must be an object whose ``load`` (if any) is a list."""
    hint = "delete it to have this machine's facts written afresh"
    try:
        env = safe_io.read_json(path, "env.json")
    except InputError as exc:
        raise InputError(f"{exc}; {hint}") from exc
    if not isinstance(env, dict) or not isinstance(env.get("load", []), list):
        raise InputError(f"{path}: not an env.json (an object, its load a list); {hint}")
    return env


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def caveats(env: dict[str, Any]) -> list[str]:
    """What a reader of a run folder's numbers must know about how they were measured.

    One sentence each, and only what ``env`` shows to be true:

    - the machine was busy: a 1-minute load average above the number of cores before a
      session (unless the CPU sample taken then found less than one core's worth of work:
      the average still counts work that had just ended), or after it once the session's
      own threads are taken off (more runnable tasks than cores: runs waited for a core);
    - CPU steal above ``STEAL_CAVEAT_PCT`` during a session (a virtual machine whose host
      ran others on its cores);
    - the source tree had uncommitted changes (``git_dirty``);
    - a resumed run that ran on other code or another CPU than it started on.

    Load figures that are missing (run folders older than them, a killed session, a
    machine that cannot give them) are passed over in silence, never guessed.

    Parameters
    ----------
    env : dict
        The content of a run folder's ``env.json``, of any age.

    Returns
    -------
    list of str
        The sentences, in the order above; empty when there is nothing to say.
    """
    sessions = [s for s in env.get("load") or [] if isinstance(s, dict)]
    sentences = [
        _busy_caveat(env, sessions),
        _steal_caveat(sessions),
        _dirty_caveat(env, sessions),
        _mixed_caveat(env, sessions, "git_commit", _short_commit, "other code", "commits"),
        _mixed_caveat(env, sessions, "cpu", str, "another CPU", "CPUs"),
    ]
    return [sentence for sentence in sentences if sentence]


def _busy_caveat(env: dict[str, Any], sessions: list[dict[str, Any]]) -> str | None:
    occasions = []
    for number, session in enumerate(sessions):
        cores = session.get("cores") or env.get("cores")
        name = _session_name(session, number, len(sessions))
        threads = session.get("threads_per_run")
        for moment in ("before", "after"):
            sample = session.get(moment) or {}
            load = sample.get("loadavg_1m")
            # At the end, the load still counts the session's own threads: only the rest is
            # someone else's.
            own = threads if moment == "after" and isinstance(threads, int) else 0
            if not isinstance(cores, int) or not _is_number(load) or load - own <= cores:
                continue
            if moment == "before" and _idle_then(sample, cores):
                continue
            text = f"{_two_decimals(load)} on {_plural(cores, 'core')} {moment} {name}"
            if own:
                text += f" (the run's own threads account for up to {own})"
            occasions.append(text)
    if not occasions:
        return None
    return (
        f"The machine was busy: load average {_join(occasions)}; timings may be slower than "
        "this machine can do."
    )


def _idle_then(moment: dict[str, Any], cores: int) -> bool:
    """Whether the CPU sample taken at ``moment`` (``busy_pct``) found less than one core's
    worth of work: then a high 1-minute load average is the decaying tail of work that had
    ended (e.g. a benchmark run just before this one), not a machine that was busy."""
    busy = moment.get("busy_pct")
    return _is_number(busy) and busy < 100 / cores


def _steal_caveat(sessions: list[dict[str, Any]]) -> str | None:
    stolen = []
    for number, session in enumerate(sessions):
        steal = (session.get("after") or {}).get("steal_pct")
        if _is_number(steal) and steal > STEAL_CAVEAT_PCT:
            name = _session_name(session, number, len(sessions))
            stolen.append(f"{_two_decimals(steal)}% of the CPU time during {name}")
    if not stolen:
        return None
    return (
        f"The CPU was shared: the hypervisor gave {_join(stolen)} to other virtual machines "
        f"(more than {_two_decimals(STEAL_CAVEAT_PCT)}%); timings may be slower and noisier than "
        "this machine can do."
    )


def _dirty_caveat(env: dict[str, Any], sessions: list[dict[str, Any]]) -> str | None:
    dirty = [facts for facts in (env, *sessions) if facts.get("git_dirty")]
    if not dirty:
        return None
    commit = dirty[0].get("git_commit")
    of = f"commit {_short_commit(commit)}" if commit else "its commit"
    return f"The source tree had uncommitted changes: these numbers are not those of {of} alone."


def _mixed_caveat(
    env: dict[str, Any],
    sessions: list[dict[str, Any]],
    key: str,
    shown: Callable[[Any], str],
    other: str,
    plural: str,
) -> str | None:
    """A sentence when the sessions of a folder ran on more than one ``key`` (commit, CPU)."""
    values = [facts.get(key) for facts in (env, *sessions) if facts.get(key)]
    distinct = list(dict.fromkeys(shown(value) for value in values))
    if len(distinct) < 2:
        return None
    return (
        f"The run was resumed on {other}: its runs were measured on the {plural} "
        f"{_join(distinct)}, not on one alone."
    )


def _session_name(session: dict[str, Any], number: int, count: int) -> str:
    if not session.get("resumed"):
        return "the run"
    return f"the resumed run (session {number + 1} of {count})"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def _join(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _short_commit(commit: Any) -> str:
    return str(commit)[:7]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _two_decimals(value: float) -> str:
    """``value`` with at most two decimals and no trailing zeros: 3.1, 2.04, 5."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
