"""Models of reduction bugs compute what TVM computes, on the draws the nightly profile met."""

from __future__ import annotations

import math

import torch

from opsuite.expectations.bug_models import reductions
from tests.helpers import model_output


def test_var_dim_over_every_dim_reduces_nothing_and_scales_by_the_correction_it_decomposes_to():
    x = torch.tensor([[1.0, 2.0], [4.0, 8.0]])
    biased = model_output(reductions.var_dim_over_no_dims, "aten.var.dim", x, [], False)
    assert biased.shape == x.shape and biased.eq(0).all()  # (x - x) ** 2, nothing reduced
    unbiased = model_output(reductions.var_dim_over_no_dims, "aten.var.dim", x, [], True)
    assert unbiased.shape == x.shape and unbiased.isnan().all()  # n / (n - 1) with n = 1
    assert not math.isnan(float(torch.var(x, [], unbiased=True)))  # torch reduces every dim


def test_argmax_and_argmin_keep_the_folds_start_index_on_the_dtypes_extreme():
    assert model_output(reductions.argmax_argmin_by_fold, "aten.argmax.default",
                        torch.tensor([[0, 0], [0, 3]], dtype=torch.uint8), 1).tolist() == [-1, 1]
    assert model_output(reductions.argmax_argmin_by_fold, "aten.argmin.default",
                        torch.tensor([127], dtype=torch.int8)).item() == -1
    assert model_output(reductions.argmax_argmin_by_fold, "aten.argmin.default",
                        torch.tensor([5, 127], dtype=torch.int8)).item() == 0


def test_topk_heap_puts_a_nan_where_the_kernel_did():
    nan = float("nan")
    # k=0 (every element) on [nan, 1.7e38], largest: TVM answered [1.7e38, nan], indices [1, 0]
    values, indices = model_output(reductions.topk_all_for_k0, "aten.topk.default",
                                   torch.tensor([[nan, 1.7014117e38]]), 0, -1, True, True)
    assert indices.tolist() == [[1, 0]] and values[0, 1].isnan()
    # ordinary keys: the heap and stable_sort give torch's order, ties by index
    x = torch.tensor([3.0, 1.0, 3.0, 2.0, -1.0, 5.0, 0.0, 2.0])
    for k in (1, 3, 8):
        assert reductions._topk_line(x.tolist(), k, True) == torch.sort(x, descending=True, stable=True)[1][:k].tolist()
        assert reductions._topk_line(x.tolist(), k, False) == torch.sort(x, stable=True)[1][:k].tolist()


def test_max_dim_keeps_a_leading_nan_and_passes_over_a_later_one():
    nan = float("nan")
    values, indices = model_output(reductions.max_dim_by_topk, "aten.max.dim",
                                   torch.tensor([[nan, 1.0, 2.0], [1.0, nan, 2.0]]), 1)["outputs"]
    assert values[0].isnan() and indices.tolist() == [0, 2] and values[1] == 2.0


def test_var_correction_beyond_the_count_is_nan_in_tvm():
    x = torch.tensor([1.0, 3.0], dtype=torch.float64)
    assert model_output(reductions.var_scaled_by_converter, "aten.var.correction", x, [0], correction=2).isnan()
    assert torch.var(x, [0], correction=2).isinf()


def test_infinity_norm_folds_its_absolute_values_so_a_nan_yields_to_the_next_element():
    nan = float("nan")
    x = torch.tensor([[1.0, nan, -2.0], [nan, 3.0, -1.0], [0.5, -4.0, nan]], dtype=torch.float64)
    found = model_output(reductions.norm_inf_by_fold, "aten.linalg_vector_norm.default", x, math.inf, [1], True)
    assert found["outputs"][0].reshape(-1)[:2].tolist() == [2.0, 3.0]  # the NaN was replaced
    assert math.isnan(found["outputs"][0].reshape(-1)[2].item())  # a NaN last survives
    assert torch.linalg.vector_norm(x, math.inf, [1]).isnan().all()  # torch: NaN for every row
    smallest = model_output(reductions.norm_inf_by_fold, "aten.linalg_vector_norm.default", x, -math.inf, [1], True)
    assert smallest["outputs"][0].reshape(-1)[:2].tolist() == [2.0, 1.0]
