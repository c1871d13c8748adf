"""The PyTorch MF contenders' training loop: ``MinibatchTrainer`` and its fused steps.

The trainer owns the optimizer, the device's data and the batching, apart from the
representation (``suite.models.torch.modules``) and the loss (``suite.models.torch.losses``),
so swapping the optimizer or adding weight decay is one argument — as the post promises. It
takes gradients either by autograd (the post's way) or by the same gradient written out in
PyTorch ops (``trainer="fused"``, the default: identical updates, less overhead per batch).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from suite.models.torch.joint_sgd import sgd_epoch
from suite.models.torch.losses import per_example_l2, squared_error
from suite.models.torch.modules import BiasedMatrixFactorization

OPTIMIZERS = ("sgd", "adagrad", "adam", "sparse_adam")
TRAINERS = ("autograd", "fused")

#: ``batch_size=None`` ("auto") aims at this many optimizer steps per epoch, within
#: ``AUTO_BATCH_RANGE``: see ``auto_batch_size``.
AUTO_STEPS_PER_EPOCH = 32
AUTO_BATCH_RANGE = (64, 8192)


def auto_batch_size(n_examples: int) -> int:
    """The batch of ``batch_size=None``: ``ceil(n_examples / 32)``, clipped to ``[64, 8192]``.

    A fixed batch ties the number of optimizer steps to the size of the data: a batch sized
    for a large set leaves a small one a step or two an epoch, too few to move factors that
    start near 0 to the rating scale. A batch that is a fixed share of the data makes every
    epoch the same number of steps at every size, so that ``lr``, ``lr_decay`` and
    ``epochs`` describe the same optimisation (``tests/test_defaults_at_scale.py`` holds the
    defaults to it on planted sets of several sizes). More steps an epoch cost time per step
    and gained little beyond ``AUTO_STEPS_PER_EPOCH``; the floor keeps tiny sets from steps
    of a handful of ratings, the ceiling keeps large sets' throughput.

    Parameters
    ----------
    n_examples : int
        Training examples an epoch visits (ratings).
    """
    low, high = AUTO_BATCH_RANGE
    return min(max(-(-n_examples // AUTO_STEPS_PER_EPOCH), low), high)


@dataclass
class MinibatchTrainer:
    """Shuffled minibatch training: the optimizer, batching and loss weights.

    The loss of a batch is the *sum* over its examples of ``(r̂ - r)² + l2 · ‖θ_example‖²``
    (``squared_error + l2 · per_example_l2``), not their mean, so that ``lr`` means the same
    step per rating whatever the batch: with ``optimizer="sgd"`` it is the step size of
    per-sample SGD (Funk 2006), which ``batch_size=1`` reproduces exactly, and larger batches
    apply the same per-rating steps together (Hogwild-style). Adam and Adagrad normalise the
    gradient's scale away, so for them the sum and the mean differ only through ``eps``.
    ``weight_decay`` is the optimizer's (the post's way of adding L2). Data stay on the device;
    each epoch draws one permutation. ``batch_size=None`` sizes the batches from the data
    (``auto_batch_size``); an int is used as given.

    Two ways to get the gradients of the same loss:

    - ``trainer="autograd"``: loss → ``backward()`` → ``step()``, the post's way, for any
      module and loss;
    - ``trainer="fused"``: the gradient of that loss for (biased) MF written out in PyTorch
      ops — gather the batch's rows, residuals, per-row gradients, scatter-add them into
      each table's ``.grad`` and ``step()`` — with preallocated buffers and no autograd
      graph. Plain SGD (no momentum, no weight decay) skips the dense ``.grad`` and the
      optimizer: ``joint_sgd.sgd_epoch`` adds each step straight into the touched rows of
      one table that holds users' and items' rows and biases, the same update in fewer ops.
    """

    # ``TorchMF``'s defaults (the batch keeps the number of steps per epoch at every size).
    # ``TorchBiasedMF`` has numba-sgd's plain SGD.
    optimizer: str = "adam"
    lr: float = 0.02
    weight_decay: float = 0.0
    l2: float = 0.1
    batch_size: int | None = None
    trainer: str = "fused"

    def batch_for(self, n_examples: int) -> int:
        """The batch size an epoch over ``n_examples`` uses: ``batch_size``, or the auto one."""
        return auto_batch_size(n_examples) if self.batch_size is None else self.batch_size

    def make_optimizer(self, module: nn.Module, sparse: bool) -> torch.optim.Optimizer:
        """The optimizer; dense gradients on CPU/CUDA get PyTorch's fused single-kernel step."""
        params = list(module.parameters())
        options = {"lr": self.lr}
        if self.optimizer != "sparse_adam":
            options["weight_decay"] = self.weight_decay
            if not sparse and params[0].device.type in ("cpu", "cuda"):
                options["fused"] = True
        kinds = {
            "sgd": torch.optim.SGD,
            "adagrad": torch.optim.Adagrad,
            "adam": torch.optim.Adam,
            "sparse_adam": torch.optim.SparseAdam,
        }
        return kinds[self.optimizer](params, **options)

    def epoch(
        self,
        module: nn.Module,
        optimizer: torch.optim.Optimizer,
        data: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        order: torch.Tensor,
    ) -> float:
        """One pass over ``data`` (users, items, ratings) in ``order``; the mean loss."""
        size = self.batch_for(len(order))
        if self.trainer == "fused" and _plain_sgd(optimizer):
            lr = optimizer.param_groups[0]["lr"]
            return sgd_epoch(module, lr, self.l2, data, order, size)
        users, items, ratings = (column.index_select(0, order) for column in data)  # shuffled
        step = self._fused_step if self.trainer == "fused" else self._autograd_step
        work = _Workspace(module, min(size, len(order)))
        wide = torch.float32 if ratings.device.type == "mps" else torch.float64  # MPS: no f64
        total = torch.zeros((), device=ratings.device, dtype=wide)
        for start in range(0, len(order), size):
            batch = slice(start, start + size)
            total += step(module, optimizer, users[batch], items[batch], ratings[batch], work)
        return float(total) / len(order)

    def _autograd_step(self, module, optimizer, user, item, rating, _work) -> torch.Tensor:
        loss = squared_error(module(user, item), rating)
        if self.l2:
            loss = loss + self.l2 * per_example_l2(module, user, item)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    @torch.no_grad()
    def _fused_step(self, module, optimizer, user, item, rating, work) -> torch.Tensor:
        """``∂/∂θ`` of ``Σ (r̂ - r)² + l2 · per_example_l2`` by hand, then the step.

        With ``e = r̂ - r``: a user row gets ``2 (e q_i + l2 p_u)``, an item row
        ``2 (e p_u + l2 q_i)``, biases ``2 (e + l2 b)``, summed over the batch's ratings by
        ``index_add_`` into ``.grad``, then ``optimizer.step()``. Returns the batch's summed
        loss. (Plain SGD takes ``joint_sgd.sgd_epoch`` instead.)
        """
        n = len(user)
        users_w, items_w = module.user_factors.weight, module.item_factors.weight
        p_u = torch.index_select(users_w, 0, user, out=work.user_rows[:n])
        q_i = torch.index_select(items_w, 0, item, out=work.item_rows[:n])
        rows, error = work.rows[:n], work.error[:n]
        torch.mul(p_u, q_i, out=rows)
        torch.sum(rows, dim=1, out=error)
        flat_p, flat_q = p_u.reshape(-1), q_i.reshape(-1)
        penalty = flat_p.dot(flat_p) + flat_q.dot(flat_q)
        biased = isinstance(module, BiasedMatrixFactorization)
        if biased:
            b_u = module.user_biases.weight.view(-1).index_select(0, user)
            b_i = module.item_biases.weight.view(-1).index_select(0, item)
            error += b_u + b_i + module.global_bias
            penalty += b_u.dot(b_u) + b_i.dot(b_i)
        error -= rating
        loss = error.dot(error) + self.l2 * penalty
        # Scaled once, on the batch's vectors (``index_add_(alpha=...)`` is slow: ``_scatter``).
        error *= 2.0
        shrink = 2.0 * self.l2
        _zeroed_grad(users_w).index_add_(0, user, _rows(p_u, q_i, error, shrink, rows))
        _zeroed_grad(items_w).index_add_(0, item, _rows(q_i, p_u, error, shrink, rows))
        if biased:
            for table, index, bias in (
                (module.user_biases, user, b_u),
                (module.item_biases, item, b_i),
            ):
                sums = torch.bincount(
                    index, weights=error + shrink * bias, minlength=len(table.weight)
                )
                _zeroed_grad(table.weight).view(-1).add_(sums.to(table.weight.dtype))
        optimizer.step()
        return loss


class _Workspace:
    """Per-batch buffers of the fused trainer, allocated once per epoch."""

    def __init__(self, module: nn.Module, batch_size: int):
        weight = module.user_factors.weight
        rows = (batch_size, weight.shape[1])
        self.user_rows = weight.new_empty(rows)
        self.item_rows = weight.new_empty(rows)
        self.rows = weight.new_empty(rows)
        self.error = weight.new_empty(batch_size)


def _plain_sgd(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer`` is SGD without momentum, weight decay or maximisation."""
    group = optimizer.param_groups[0]
    return isinstance(optimizer, torch.optim.SGD) and not (
        group["momentum"] or group["weight_decay"] or group["maximize"]
    )


def _zeroed_grad(table: torch.Tensor) -> torch.Tensor:
    """``table.grad``, allocated or set to 0."""
    if table.grad is None:
        table.grad = torch.zeros_like(table)
        return table.grad
    return table.grad.zero_()


def _scatter(table: torch.Tensor, index: torch.Tensor, rows: torch.Tensor, alpha: float) -> None:
    """``table.grad = 0; table.grad[index] += alpha · rows`` (duplicates summed).

    ``rows`` is scaled in place first: ``index_add_(alpha=...)`` is several times slower than
    a plain ``index_add_`` on CPU.
    """
    _zeroed_grad(table).index_add_(0, index, rows.mul_(alpha))


def _scatter_sum(
    column: torch.Tensor, index: torch.Tensor, values: torch.Tensor, alpha: float
) -> None:
    """``column.grad = 0; column.grad[index] += alpha · values`` for a one-column table."""
    sums = torch.bincount(index, weights=values, minlength=column.shape[0])
    column.grad = sums.mul_(alpha).to(column.dtype).view_as(column)


def _rows(
    own: torch.Tensor, other: torch.Tensor, error: torch.Tensor, l2: float, out: torch.Tensor
) -> torch.Tensor:
    """``error · other + l2 · own`` for each row, written into ``out``."""
    torch.mul(other, error.unsqueeze(1), out=out)
    return out.add_(own, alpha=l2) if l2 else out
