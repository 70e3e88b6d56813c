"""Models of reduction bugs compute what TVM computes, on the draws the nightly profile met."""

from __future__ import annotations

import math

import torch

from opsuite.expectations.bug_models import reductions
from tests.helpers import op_case


def _call(model, op, *args, **kwargs):
    case = op_case(op, args, kwargs)
    module, inputs = case.program.build()
    return model(module, inputs)


def test_var_dim_over_every_dim_reduces_nothing_and_scales_by_the_correction_it_decomposes_to():
    x = torch.tensor([[1.0, 2.0], [4.0, 8.0]])
    biased = _call(reductions.var_dim_over_no_dims, "aten.var.dim", x, [], False)
    assert biased.shape == x.shape and biased.eq(0).all()  # (x - x) ** 2, nothing reduced
    unbiased = _call(reductions.var_dim_over_no_dims, "aten.var.dim", x, [], True)
    assert unbiased.shape == x.shape and unbiased.isnan().all()  # n / (n - 1) with n = 1
    assert not math.isnan(float(torch.var(x, [], unbiased=True)))  # torch reduces every dim


def test_argmax_and_argmin_keep_the_folds_start_index_on_the_dtypes_extreme():
    assert _call(reductions.argmax_argmin_by_fold, "aten.argmax.default",
                 torch.tensor([[0, 0], [0, 3]], dtype=torch.uint8), 1).tolist() == [-1, 1]
    assert _call(reductions.argmax_argmin_by_fold, "aten.argmin.default",
                 torch.tensor([127], dtype=torch.int8)).item() == -1
    assert _call(reductions.argmax_argmin_by_fold, "aten.argmin.default",
                 torch.tensor([5, 127], dtype=torch.int8)).item() == 0
