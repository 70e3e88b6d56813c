"""Models of pooling bugs compute what TVM computes, on the draws the nightly profile met."""

from __future__ import annotations

import torch

from opsuite.expectations.bug_models import nn_pool
from tests.helpers import model_output

INF, BIG = float("inf"), 8.988465674311579e+307


def test_adaptive_average_pool_sums_the_divisible_axes_first():
    # aten._adaptive_avg_pool3d.default[float64-edge-uneven-2], output (2, 1, 1) of a (4, 2, 4) ->
    # (3, 3, 2) pool: D 2..4, H 0..2, W 2..4 hold +-BIG, which cancel; TVM answered 0.2796127476793575
    x = torch.zeros(1, 1, 4, 2, 4, dtype=torch.float64)
    window = {(2, 0, 2): 2.970386638630995, (2, 0, 3): 2.9768195716551995, (2, 1, 2): 1.7349750699632303,
              (2, 1, 3): -BIG, (3, 0, 2): BIG, (3, 0, 3): 3.6047806931256305, (3, 1, 2): -0.7196111070417273,
              (3, 1, 3): -1.3678787116907702}
    for (d, h, w), value in window.items():
        x[0, 0, d, h, w] = value
    (found,) = model_output(nn_pool.adaptive_avg_pool_even_axes_first, "aten._adaptive_avg_pool3d.default", x, [3, 3, 2])
    assert found[0, 0, 2, 1, 1].item() == 0.2796127476793575
    assert torch.ops.aten._adaptive_avg_pool3d.default(x, [3, 3, 2])[0, 0, 2, 1, 1].item() == 0.18966135929914166


def test_adaptive_average_pool_model_is_torchs_where_the_order_cannot_matter():
    x = torch.randn(2, 3, 5, 4, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    (found,) = model_output(nn_pool.adaptive_avg_pool_even_axes_first, "aten._adaptive_avg_pool3d.default", x, [3, 2, 4])
    torch.testing.assert_close(found, torch.ops.aten._adaptive_avg_pool3d.default(x, [3, 2, 4]))
