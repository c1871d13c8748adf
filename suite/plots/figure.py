"""What every figure shares: matplotlib off-screen, panels with room for a legend, saving."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite import safe_io

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 110


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the file-only Agg backend (no display is ever needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@dataclass(frozen=True)
class LegendPlan:
    """Where a figure's legend goes, and the room it needs (inches)."""

    below: bool
    columns: int
    width: float
    height: float


def legend_plan(names: Sequence[str], plot_width: float) -> LegendPlan:
    """Right of the panels in one column for up to 20 names; below them, in columns, beyond."""
    longest = max((len(name) for name in names), default=0)
    column = 0.06 * longest + 0.6  # inches a column takes at font size 7
    if len(names) <= 20:
        return LegendPlan(False, 1, column, 0.0)
    columns = max(1, int(plot_width // column))
    rows = math.ceil(len(names) / columns)
    return LegendPlan(True, columns, 0.0, 0.15 * rows + 0.3)


def new_figure(
    panels: int, panel_size: tuple[float, float], names: Sequence[str]
) -> tuple[Figure, list[Axes], LegendPlan]:
    """A figure of ``panels`` side by side with room for a legend of ``names``."""
    width, height = panel_size[0] * panels, panel_size[1]
    plan = legend_plan(names, width)
    figure, axes = pyplot().subplots(
        1,
        panels,
        figsize=(width + plan.width, height + plan.height),
        squeeze=False,
        layout="constrained",
    )
    return figure, list(axes[0]), plan


def figure_legend(figure: Figure, axes: Iterable[Axes], plan: LegendPlan) -> None:
    """One legend for every panel, each name once, where ``plan`` says."""
    entries: dict[str, Any] = {}
    for one in axes:
        for handle, label in zip(*one.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    if entries:
        figure.legend(
            list(entries.values()),
            list(entries),
            loc="outside lower center" if plan.below else "outside right upper",
            fontsize=7,
            ncols=plan.columns,
        )


def save(figure: Figure, path: Path) -> None:
    """Write ``figure`` to ``path`` (its suffix is the format) and close it."""
    if figure.get_layout_engine() is None:
        figure.tight_layout()
    try:
        safe_io.write_with(path, functools.partial(figure.savefig, dpi=DPI, format=path.suffix[1:]))
    finally:
        pyplot().close(figure)
