"""The progress display of a grid: a bar over runs and epochs on a terminal, one line per
finished run otherwise (CI logs, pipes)."""

from __future__ import annotations

import os
import sys
from typing import Any

from suite import metrics, results
from suite.timed_run import Task


class Progress:
    """A progress bar over runs (and epochs) on a terminal; one plain line per run otherwise."""

    def __init__(self, total: int, initial: int = 0) -> None:
        self.total, self.count = total, initial
        self.interactive = sys.stderr.isatty() and not os.environ.get("CI")
        self.bar = self.epochs = None

    def __enter__(self) -> Progress:
        if self.interactive:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, initial=self.count, unit="run", position=0)
            self.epochs = tqdm(total=0, unit="epoch", position=1, leave=False)
        return self

    def __exit__(self, *_exc: object) -> None:
        for bar in (self.epochs, self.bar):
            if bar is not None:
                bar.close()

    def starting(self, task: Task) -> None:
        if self.bar is not None:
            self.bar.set_description(f"{task.dataset} f{task.fold} s{task.seed} {task.model}")
            self.epochs.reset(total=None)

    def epoch(self, epoch: int, total: int) -> None:
        if self.epochs is not None:
            self.epochs.total = total
            self.epochs.n = epoch
            self.epochs.refresh()

    def finished(self, record: dict[str, Any]) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.update(1)
            return
        print(
            f"[{self.count}/{self.total}] {record['dataset']} {record['split']} "
            f"f{record['fold']} s{record['seed']} {record['model']} {record['backend']}: "
            f"{outcome_text(record)}",
            file=sys.stderr,
            flush=True,
        )


def outcome_text(record: dict[str, Any]) -> str:
    """``"ok, fit 1.23s, rmse 0.9050"`` or ``"failed (why)"``: one run in a few words."""
    if record["status"] != results.OK:
        return f"{record['status']} ({record['reason']})"
    parts = [f"fit {record['fit_s']:.2f}s"]
    for metric in metrics.primaries():
        value = record.get(metric.column)
        if value is not None and value == value:  # not NaN
            parts.append(f"{metric.title.lower()} {value:.4f}")
    return "ok, " + ", ".join(parts)
