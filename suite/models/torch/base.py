"""What every PyTorch contender shares: it runs where PyTorch can use its device."""

from __future__ import annotations

import torch

from suite.models.base import Model, Requirement


def torch_available(backend: str) -> tuple[bool, str]:
    """Whether PyTorch can run on ``backend`` here, and why not."""
    if backend == "cuda" and not torch.cuda.is_available():
        build = "built without CUDA" if torch.version.cuda is None else "no GPU visible"
        return False, f"CUDA unavailable (torch {torch.__version__}: {build})"
    if backend == "mps" and not torch.backends.mps.is_available():
        return False, "MPS (Apple GPU) unavailable"
    return True, ""


class TorchContender(Model):
    """A contender written in PyTorch: it runs where PyTorch can use the device it asks for."""

    requirements = (Requirement("torch"),)
    method = "sgd"  # its MF, BPR and hybrid trainers; ALS and Gibbs contenders say otherwise

    @classmethod
    def available(cls, backend: str = "cpu") -> tuple[bool, str]:
        ok, reason = super().available(backend)
        return torch_available(backend) if ok else (ok, reason)
