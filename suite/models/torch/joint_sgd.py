"""The fused trainer's plain-SGD epoch: one joint table, one gather and one scatter-add a step.

Per-sample SGD on (biased) MF (Funk 2006; biases as in Koren, Bell & Volinsky, "Matrix
Factorization Techniques for Recommender Systems", 2009), applied a minibatch at a time with
the batch's updates summed (Hogwild-style): the same update ``MinibatchTrainer``'s fused step
makes with ``optimizer="sgd"``, written so that a step is a dozen PyTorch ops whatever the
model. On small data a step's cost is the ops' dispatch, not their arithmetic, so the count is
what matters there.

For the epoch the module's tables are copied side by side into one *joint table*: a user's
row is ``[p_u, b_u, 1]`` and an item's ``[q_i, 1, b_i]`` (items after users), so that

    r̂ = μ + b_u + b_i + p_u · q_i = μ + row_u · row_i.

A step gathers the batch's user rows and item rows in one ``index_select``, takes each rating's
error ``e = r̂ - r``, forms every row's step ``-2 lr (e · other + l2 · own)`` (its constant
column set to 0) and adds them all back with one ``index_add_``. The loss is the same sum
as the other trainers' (``Σ e² + l2 Σ ‖θ‖²``, the constant 1s taken out). After the epoch
the table is copied back into the module, so callbacks and predictions see the usual module.
"""

from __future__ import annotations

import torch
from torch import nn

from suite.threads import fewer_threads

#: Steps whose gathered rows hold fewer entries than this run on one intra-op thread: their
#: ops are too small to split, and waking a second thread for each costs more than it saves.
#: It sits between the post's 10⁴-rating matrix at k = 32 (one thread faster) and ML-100K's
#: default batches at k = 32 (two threads no slower, and faster on larger sets).
SINGLE_THREAD_BELOW = 1 << 16


@torch.no_grad()
def sgd_epoch(
    module: nn.Module,
    lr: float,
    l2: float,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    order: torch.Tensor,
    batch_size: int,
) -> float:
    """One epoch of minibatch SGD on ``module`` over ``data`` (users, items, ratings) in
    ``order``; returns the epoch's mean loss.

    ``module`` is a ``MatrixFactorization`` or ``BiasedMatrixFactorization`` (the latter has
    ``user_biases``, ``item_biases`` and a fixed ``global_bias``).
    """
    table = JointTable(module)
    users, items, ratings = (column.index_select(0, order) for column in data)
    target = ratings.to(table.rows.dtype) - table.offset  # what the dot products must reach
    size = min(batch_size, len(order))
    with fewer_threads(1 if 2 * size * table.width < SINGLE_THREAD_BELOW else None):
        loss = _steps(table, lr, l2, users, items + table.n_users, target, size)
    table.write_back(module)
    return loss


class JointTable:
    """A (biased) MF module's embeddings as one table of rows, users then items.

    Attributes
    ----------
    rows : Tensor
        ``(n_users + n_items) × width``: ``[p_u, b_u, 1]`` then ``[q_i, 1, b_i]`` (biased),
        or ``p_u`` then ``q_i``.
    n_users, factors, width : int
    offset : float
        The global bias (0 for the unbiased model).
    biased : bool
    """

    def __init__(self, module: nn.Module) -> None:
        users, items = module.user_factors.weight.detach(), module.item_factors.weight.detach()
        self.n_users, self.factors = users.shape
        self.biased = hasattr(module, "user_biases")
        if self.biased:
            user_ones = users.new_ones(len(users), 1)
            item_ones = items.new_ones(len(items), 1)
            users = torch.cat((users, module.user_biases.weight.detach(), user_ones), 1)
            items = torch.cat((items, item_ones, module.item_biases.weight.detach()), 1)
        self.rows = torch.cat((users, items))
        self.width = self.rows.shape[1]
        self.offset = float(module.global_bias) if self.biased else 0.0

    @torch.no_grad()
    def write_back(self, module: nn.Module) -> None:
        """Copy the rows into ``module``'s embeddings."""
        users, items = self.rows[: self.n_users], self.rows[self.n_users :]
        k = self.factors
        module.user_factors.weight.copy_(users[:, :k])
        module.item_factors.weight.copy_(items[:, :k])
        if self.biased:
            module.user_biases.weight.copy_(users[:, k : k + 1])
            module.item_biases.weight.copy_(items[:, k + 1 :])


def _steps(
    table: JointTable,
    lr: float,
    l2: float,
    users: torch.Tensor,
    items: torch.Tensor,
    target: torch.Tensor,
    size: int,
) -> float:
    """The epoch's steps over batches of ``size`` (``items`` already offset into the table)."""
    n, width, rows = len(target), table.width, table.rows
    full = n // size
    # Each step's indices, users then items, laid out once for the epoch.
    whole = slice(0, full * size)
    paired = torch.stack((users[whole].view(full, size), items[whole].view(full, size)), 1)
    steps = paired.view(full, 2 * size).unbind(0)
    if n > full * size:
        steps = (*steps, torch.cat((users[full * size :], items[full * size :])))
    gathered = rows.new_empty(2 * size, width)
    step_rows = rows.new_empty(2 * size, width)
    errors = rows.new_empty(n)  # every rating's error, for the epoch's loss
    scaled = rows.new_empty(size)
    penalties = rows.new_empty(len(steps))
    rate = -2.0 * lr
    for number, index in enumerate(steps):
        m = len(index) // 2
        start = number * size
        mine = torch.index_select(rows, 0, index, out=gathered[: 2 * m])
        user_rows, item_rows = mine[:m], mine[m:]
        error = errors[start : start + m]
        torch.linalg.vecdot(user_rows, item_rows, out=error)
        error -= target[start : start + m]
        flat = mine.view(-1)
        torch.dot(flat, flat, out=penalties[number])
        torch.mul(error, rate, out=scaled[:m])
        change = step_rows[: 2 * m]
        step = scaled[:m].unsqueeze(1)
        torch.mul(item_rows, step, out=change[:m])
        torch.mul(user_rows, step, out=change[m:])
        change.add_(mine, alpha=rate * l2)
        if table.biased:  # the constant 1s stay
            change[:m, table.factors + 1] = 0
            change[m:, table.factors] = 0
        rows.index_add_(0, index, change)
    ones = 2 * n if table.biased else 0  # the constant columns' share of the penalty
    wide = torch.float32 if rows.device.type == "mps" else torch.float64  # MPS: no float64
    squared = errors.to(wide).dot(errors.to(wide))
    return float(squared + l2 * (penalties.to(wide).sum() - ones)) / n
