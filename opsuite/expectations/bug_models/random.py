"""Models of the random converters' known bugs (known_failures/random.toml).

These converters do not sample at all, so what TVM returns is fully determined by the input.
"""

from __future__ import annotations

import torch

from opsuite.expectations.bug_models import on_call


@on_call
def bernoulli_returns_input(x, p=0.5, *, generator=None):
    """bernoulli.p is mapped to dropout's identity (`lambda node: self.env[node.args[0]]`)."""
    return x.clone()


@on_call
def exponential_returns_zeros(x, lambd=1.0, *, generator=None):
    """_exponential: relax.zeros_like(x), whatever lambd."""
    return torch.zeros_like(x)
