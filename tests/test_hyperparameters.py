"""One hyperparameter at a time: changing any documented hyperparameter changes the fit."""

from __future__ import annotations

import numpy as np
import pytest
from model_helpers import fitted_output, quick, tiny_ratings

from suite import models

#: Knobs that change how the work is done, not what is learned (same updates, same result):
#: by name for every contender that has it, or by (contender, name).
PERFORMANCE_ONLY = {
    "sparse": "gradient storage format: the same SGD/Adagrad updates",
    "hogwild": "threads running the epoch; with one thread it is the serial loop",
    "trainer": "how gradients are taken: the same updates (tests/test_agreement.py)",
    "cache_ratings": "where SVD++ reads a user's items: the same updates (test_rating_peers)",
    ("torch-ials", "batch_size"): "rows per batched solve: the same systems (test_torch_ials)",
    ("numba-sgd", "kernel"): "the same updates in float32 or float64 (test_agreement)",
    "master": "where Spark runs (this process's JVM, or a cluster): the same ALS",
    "driver_memory": "the Spark JVM's heap: the same ALS",
}

#: A different valid value where "double it / flip it" would not do.
ALTERNATIVE = {
    "optimizer": lambda value: "sgd" if value != "sgd" else "adam",
    "learning_schedule": lambda value: "adadelta",
    "neg_prop": lambda value: 1,  # implicit caps LMF negatives at factors + 2 (see its class)
    "max_ratings": lambda value: 50,
    "lr_decay": lambda value: value / 2,
    "blocks": lambda value: 3,  # Spark seeds each block's initial factors: the fit changes
    "bins": lambda value: 7,  # LIBMF's blocks set the order of its updates
    "solver": lambda value: "cholesky" if value == "cg" else "cg",  # exact vs 3 CG steps
}

#: Base settings a comparison needs: without zero_grad, gradients pile up over the epoch
#: (the post's loop) and diverge unless the step is small; a burn-in longer than the quick
#: fit's 3 sweeps keeps no sample either way.
CONTEXT = {
    ("torch-mf-seed", "zero_grad"): {"lr": 1e-4},
    ("torch-bpmf", "burn_in"): {"burn_in": 1},
    # Its default l2 (25) holds 8 factors near 0 on the tiny set, where 3 CG steps already
    # converge: a smaller one leaves room for one more step, or the exact solve, to differ.
    ("torch-ials", "solver"): {"l2": 0.5},
    ("torch-ials", "cg_steps"): {"l2": 0.5, "cg_steps": 1},
}


def changed(param: str, value):
    if param in ALTERNATIVE:
        return ALTERNATIVE[param](value)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 2 if value else 0.05
    raise AssertionError(f"no rule to change {param}={value!r}")


def cases() -> list[tuple[str, str]]:
    return [
        (name, param)
        for name in models.names()
        for param in models.hyperparameters(name)
        if param not in PERFORMANCE_ONLY and (name, param) not in PERFORMANCE_ONLY
    ]


@pytest.fixture(scope="module")
def train():
    return tiny_ratings(seed=2)


#: The reference fits, one per contender and settings: the cases of a contender share it.
_REFERENCES: dict[tuple[str, str], np.ndarray] = {}


def reference_output(name: str, base: dict, train) -> np.ndarray:
    """``fitted_output`` of ``name`` at ``base``, fitted once per module run."""
    key = (name, repr(sorted(base.items())))
    if key not in _REFERENCES:
        _REFERENCES[key] = fitted_output(models.create(name, n_threads=1, **base).fit(train), train)
    return _REFERENCES[key]


@pytest.mark.parametrize(("name", "param"), cases())
def test_changing_a_hyperparameter_changes_the_result(name, param, train) -> None:
    base = quick(name, **CONTEXT.get((name, param), {}))
    value = base.get(param, models.hyperparameters(name)[param])
    variant = {**base, param: changed(param, value)}
    reference = reference_output(name, base, train)
    output = fitted_output(models.create(name, n_threads=1, **variant).fit(train), train)
    assert output.shape != reference.shape or not np.allclose(output, reference), (
        f"{name}: {param}={variant[param]!r} gave the same fit as {value!r}"
    )
