"""Models of the model zoo's known wrong outputs (known_failures/models.toml)."""

from __future__ import annotations

import copy

import torch


def batch_norm_batch_statistics(module, inputs):
    """TVM's FX translator (fx_translator.py, `_batch_norm_2d_module`) emits relax.nn.batch_norm
    without `training`, whose default is True: every BatchNorm2d of an eval-mode model normalises
    with its batch's mean and biased variance, not its running statistics. A copy of the model with
    only its BatchNorm2d layers in training mode computes the same."""
    model = copy.deepcopy(module)
    for layer in model.modules():
        if isinstance(layer, torch.nn.BatchNorm2d):
            layer.train()
    with torch.no_grad():
        out = model(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]
