"""mfbench: a benchmark suite for matrix-factorization recommenders."""

__version__ = "0.2.0"
