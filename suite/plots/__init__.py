"""The report's PNG figures, one module per kind, each with its ``draw`` of the figure's data
(``suite.analysis.figures``): ``convergence``, ``epoch_time``, ``pareto``, ``scaling``,
``tuning``, ``claims``. How a contender looks is ``contender_look``, the axes ``scales``, what every
figure shares ``figure``."""

from suite.plots import claims, convergence, epoch_time, pareto, scaling, tuning
from suite.plots.contender_look import legend_name

__all__ = [
    "claims",
    "convergence",
    "epoch_time",
    "legend_name",
    "pareto",
    "scaling",
    "tuning",
]
