"""Property checks for ops whose values cannot be compared with eager's: random samplers and
uninitialised memory.

Each check is `check(expected, actual, inputs) -> None | str`: None when `actual` has the
property, else a one-line message. The engine has already compared count, shape and dtype.
Random checks judge the support of the distribution exactly and its moments statistically,
against eager's own sample where the distribution's parameters are baked into the program
(eager drew from the same distribution, so two samples must agree in mean and spread).

Imports only torch and math: a repro script embeds this module's source.
"""

import math

import torch

# Moments are compared only from this many elements on; fewer leave the check to the support.
MIN_SAMPLE = 200
# How many standard errors two sample means may differ by: about 1 in 10^8 false alarms.
SIGMAS = 6.0


def _flat(value) -> torch.Tensor:
    return torch.as_tensor(value).detach().reshape(-1).double()


def _moments_agree(expected: torch.Tensor, actual: torch.Tensor) -> str | None:
    n = actual.numel()
    if n < MIN_SAMPLE:
        return None
    mean_e, mean_a = expected.mean().item(), actual.mean().item()
    var_e, var_a = expected.var().item(), actual.var().item()
    slack = SIGMAS * math.sqrt((var_e + var_a) / n) + 1e-3
    if abs(mean_e - mean_a) > slack:
        return f"sample mean {mean_a:.4g} differs from eager's {mean_e:.4g} by more than {slack:.3g}"
    spread_e, spread_a = math.sqrt(var_e), math.sqrt(var_a)
    if abs(spread_e - spread_a) > SIGMAS * (spread_e + spread_a) / math.sqrt(2 * n) + 1e-3:
        return f"sample std {spread_a:.4g} differs from eager's {spread_e:.4g}"
    return None


def _finite(actual: torch.Tensor) -> str | None:
    if not torch.isfinite(actual).all():
        return "non-finite values in a sample"
    return None


def structure_only(expected, actual, inputs) -> None:
    """Uninitialised memory (empty, empty_like, ...): only count, shape and dtype mean anything."""
    return None


def _each(expected, actual, judge) -> str | None:
    for e, a in zip(expected, actual, strict=True):
        message = judge(_flat(e), _flat(a))
        if message:
            return message
    return None


def uniform_unit(expected, actual, inputs) -> str | None:
    """rand: every value in [0, 1] (1 only by rounding in low precision), moments of U(0, 1)."""
    def judge(e, a):
        if a.numel() and not ((a >= 0) & (a <= 1)).all():
            return f"values outside [0, 1]: min {a.min().item():.4g}, max {a.max().item():.4g}"
        return _moments_agree(e, a)
    return _each(expected, actual, judge)


def same_distribution(expected, actual, inputs) -> str | None:
    """randn, randn_like: finite values whose mean and spread agree with eager's sample."""
    return _each(expected, actual, lambda e, a: _finite(a) or _moments_agree(e, a))


def zero_one(expected, actual, inputs) -> str | None:
    """bernoulli: only 0 and 1, in a proportion that agrees with eager's sample of the same p."""
    def judge(e, a):
        if not ((a == 0) | (a == 1)).all():
            return "values other than 0 and 1"
        if e.numel() and e.min() == e.max() and not (a == e[0]).all():
            return f"eager's p makes every value {e[0].item():g}; got others"
        return _moments_agree(e, a)
    return _each(expected, actual, judge)


def non_negative(expected, actual, inputs) -> str | None:
    """exponential: finite values >= 0 whose mean and spread agree with eager's (same lambda)."""
    def judge(e, a):
        if a.numel() and (a < 0).any():
            return f"negative values (min {a.min().item():.4g})"
        if a.numel() and (a == 0).all():  # a sample of exact zeros has probability ~0
            return "every value is 0"
        return _finite(a) or _moments_agree(e, a)
    return _each(expected, actual, judge)


def permutation(expected, actual, inputs) -> str | None:
    """randperm: each of 0..n-1 exactly once."""
    def judge(e, a):
        if not torch.equal(torch.sort(a).values, torch.arange(a.numel(), dtype=torch.float64)):
            return "not a permutation of 0..n-1"
        return None
    return _each(expected, actual, judge)
