"""The report's figures, one module per kind, each with its ``draw``: ``convergence``,
``epoch_time``, ``pareto``, ``scaling``, ``tuning``, ``claims``. How a contender looks is
``look``, the axes ``scales``, what every figure shares ``figure``."""

from suite.plots import claims, convergence, epoch_time, pareto, scaling, tuning
from suite.plots.epoch_time import seconds_per_million
from suite.plots.look import legend_name
from suite.plots.pareto import frontier

__all__ = [
    "claims",
    "convergence",
    "epoch_time",
    "frontier",
    "legend_name",
    "pareto",
    "scaling",
    "seconds_per_million",
    "tuning",
]
