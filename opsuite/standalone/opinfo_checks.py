"""Property checks for OpInfo samples of random ops, whose output values cannot be compared with TVM's.

The engine has already checked output count, shapes and dtypes (harness.compare.compare_structure)
before calling a check. Self-contained (torch only): a repro script embeds this file verbatim.
"""

import torch


def random_draw(expected, actual, inputs):
    """A random op (bernoulli, normal, dropout in training, ...): TVM draws from its own generator,
    so only what holds for every draw is compared: where eager's draw is finite, TVM's is too.
    """
    for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
        if not (isinstance(e, torch.Tensor) and e.is_floating_point()):
            continue
        if bool(torch.isfinite(e).all()) and not bool(torch.isfinite(a).all()):
            bad = int((~torch.isfinite(a)).sum())
            return f"output {index}: {bad}/{a.numel()} non-finite values where every eager draw is finite"
    return None
