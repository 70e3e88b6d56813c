"""Alpha is drawn only where it can change the answer."""

import torch

from opsuite.draw.calls import _scalable, inplace_pair, pair, tensor_scalar
from opsuite.draw.context import Ctx
from opsuite.generate import collect


def test_scalable_needs_a_finite_nonzero_element_in_every_value():
    assert _scalable(torch.tensor([0.0, 2.0]), 3)
    assert not _scalable(torch.tensor([0.0, float("inf")]), 3)
    assert not _scalable(torch.zeros(3, 0), 3)
    assert not _scalable(torch.tensor([1, 2], dtype=torch.int8), 0)


def test_every_drawn_alpha_scales_operands_that_can_show_it():
    drawn = 0
    for generator in (pair("real", alpha=True), inplace_pair("real", alpha=True), tensor_scalar("real", alpha=True)):
        for dtype in ("float32", "int8"):
            for call in collect(generator(Ctx(dtype, edge=True)), 30, seed=7):
                if "alpha" in call.kwargs:
                    drawn += 1
                    assert _scalable(*call.args), call
    assert drawn > 0  # the property was exercised, not vacuously true
