"""The convolution models sum as topi does: the direct convolution rounds each product before
adding it and adds the bias last, the transposed one multiplies the zeros it inserts."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from opsuite.expectations.bug_models import nn_conv
from tests.helpers import model_output


def test_the_direct_convolution_is_torchs_on_finite_values():
    torch.manual_seed(0)
    x, weight, bias = torch.randn(2, 4, 5, 6, dtype=torch.float64), torch.randn(6, 2, 3, 2, dtype=torch.float64), \
        torch.randn(6, dtype=torch.float64)
    got = model_output(nn_conv.direct_conv, "aten.conv2d.default", x, weight, bias, [2, 1], [1, 2], [1, 2], 2)
    torch.testing.assert_close(got, F.conv2d(x, weight, bias, [2, 1], [1, 2], [1, 2], 2))


def test_an_overflowing_product_is_inf_before_the_bias_is_added():
    # nightly's conv2d[float32-edge-g2-bias-padded-dilated-0]: 1.7e38 * -2.12 is -inf before the
    # bias 1.7e38 comes; torch (oneDNN) answers -1.9e38 there
    x = torch.tensor([-1.0, -2.3841689, 1.9915351, 1.7014117e38, -0.06921747, 0.7668696]).reshape(1, 2, 3, 1)
    weight = torch.tensor([-2.072179, 1.1662393, 0.41226733, -1.0696639, 0.34256202, 2.4727302, -2.1224391, -0.0,
                           1.0, 2.5457184, -0.0, -1.0]).reshape(2, 1, 3, 2)
    weight = torch.empty_strided((2, 1, 3, 2), (6, 6, 1, 3)).copy_(weight)  # the draw's layout
    bias = torch.tensor([-0.8093472, 1.7014117e38])
    args = (x, weight, bias, [1, 1], [2, 2], [1, 2], 2)
    assert torch.isfinite(F.conv2d(*args).flatten()[23])
    assert model_output(nn_conv.direct_conv, "aten.conv2d.default", *args).flatten()[23] == -float("inf")


def test_a_strided_transposed_convolution_multiplies_its_inserted_zeros():
    inf = float("inf")
    got = model_output(nn_conv.conv_transpose2d_by_dilated_input, "aten.conv_transpose1d.default", torch.ones(1, 1, 2),
                       torch.tensor([[[inf]]]), None, [2], [0], [0], 1, [1])
    assert got.flatten()[0] == inf and got.flatten()[1].isnan()  # torch: [inf, 0, inf]
    half = model_output(nn_conv.conv_in_float32, "aten.conv_transpose1d.default", torch.ones(1, 1, 2, dtype=torch.bfloat16),
                        torch.tensor([[[inf]]], dtype=torch.bfloat16), None, [2], [0], [0], 1, [1])
    assert half.dtype == torch.float32 and half.flatten()[1].isnan()
