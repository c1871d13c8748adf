"""The one place the suite computes its figures: every renderer only draws what this layer says.

- ``paired``: the paired test of a difference and the paired ratio (one estimator, one on-par
  rule), the only place a confidence interval is computed;
- ``summary``: one row per contender setting of a results folder (means, spreads, medians);
- ``standings``: each contest's entrants ranked by paired tests against the best and the floor;
- ``speed``: speed ratios of a data set (the same model trained two ways, CUDA against CPU,
  against the contest's reference), times to target, budgets;
- ``growth``: cost-growth slopes over planted data sizes;
- ``targets``: the targets of ``suite/targets.toml``, judged;
- ``claims``: the 2017 post's claims, judged across folders;
- ``provenance``: what a folder was measured on, and whether it is current;
- ``figures`` and ``window``: each figure's numbers (points, curves, bars) and its y window,
  drawn as PNG (``suite.plots``) and as HTML (``suite.site``);
- ``gate`` and ``versus``: the regression gate's comparison with its reference, and two run
  folders contender by contender (``mfbench check``, ``mfbench compare``);
- ``folder``: all of the above for one folder (``analyse``) and across folders
  (``analyse_root``), computed once.
"""
