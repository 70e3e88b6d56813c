"""Models of arithmetic bugs compute what TVM computes: the converter's semantics in torch, and,
through real TVM, the five behaviours the declared reasons establish only by experiment."""

from __future__ import annotations

import torch

from harness.case import Expectation
from opsuite.expectations.bug_models import activations, creation, linalg, pointwise
from tests.helpers import model_output, op_case, run


def test_integer_true_division_truncates_and_a_zero_divisor_is_unknown():
    found = model_output(pointwise.binary_op, "aten.div.Tensor", torch.tensor([-7, 7, 5], dtype=torch.int32),
                         torch.tensor([2, 2, 0], dtype=torch.int32))
    quotient, unknown = found["outputs"][0], found["unknown"][0]
    assert quotient.dtype == torch.int32 and quotient[:2].tolist() == [-3, 3]
    assert unknown.tolist() == [False, False, True]


def test_a_zero_dim_operand_decides_the_promoted_dtype_and_alpha_is_dropped():
    out = model_output(pointwise.binary_op, "aten.sub.Tensor", torch.tensor(3, dtype=torch.int8),
                       torch.tensor([5, 1], dtype=torch.uint8), alpha=2)
    assert out.dtype == torch.int16 and out.tolist() == [-2, 2]


def test_a_float_scalar_becomes_a_truncated_constant_of_an_int_tensor():
    out = model_output(pointwise.binary_op, "aten.div.Scalar", torch.tensor([-7, 9], dtype=torch.int32), 2.68)
    assert out.dtype == torch.int32 and out.tolist() == [-3, 4]


def test_adding_the_constant_int_min_is_an_or_where_the_sum_overflows():
    x = torch.tensor([5, -3, 2147483647], dtype=torch.int32)
    out = model_output(pointwise.binary_op, "aten.add.Tensor", x, -2147483648, alpha=2)
    assert out.tolist() == [-2147483643, -3, -1]  # wrapping would give 2147483645 for -3
    wraps = model_output(pointwise.binary_op, "aten.add.Tensor", x, torch.tensor(-2147483648, dtype=torch.int32))
    assert wraps.tolist() == [-2147483643, 2147483645, -1]  # a runtime tensor is no constant to fold


def test_floor_mod_overflowing_its_quotient_is_minus_inf():
    out = model_output(pointwise.binary_op, "aten.remainder.Scalar", torch.tensor([1.7e38, 1.0]), 1e-30)
    assert out[0].item() == -float("inf") and torch.isfinite(out[1])


def test_bfloat16_floor_mod_is_computed_in_float32_and_rounded_once():
    # TVM on llvm: 2.40625 % 0.69921875 gives 0.30859375 (step by step in bfloat16: 0.3125), and a
    # finite dividend over an infinite divisor gives a - 0 * inf = NaN.
    x = torch.tensor([2.40625, -2.40625], dtype=torch.bfloat16)
    y = torch.tensor([0.69921875, float("inf")], dtype=torch.bfloat16)
    out = model_output(pointwise.binary_op, "aten.remainder.Tensor", x, y)
    assert out.dtype == torch.bfloat16 and out[0].item() == 0.30859375 and out[1].isnan()


def test_a_multiply_by_a_zero_constant_is_that_zero_everywhere():
    out = model_output(pointwise.multiply_by_folded_zero, "aten.mul.Scalar", torch.tensor([float("inf"), float("nan"), -2.0],
                                                                                          dtype=torch.float64), 0.0)
    assert out.dtype == torch.float64 and out.tolist() == [0.0, 0.0, 0.0]
    out = model_output(pointwise.multiply_by_folded_zero, "aten.mul.Scalar", torch.tensor([3, -4], dtype=torch.int32), 0.0)
    assert out.dtype == torch.int32 and out.tolist() == [0, 0]


def test_floor_division_floors_the_rounded_quotient():
    x, y = torch.tensor([-0.5, 1.7e38, 7.0]), torch.tensor([float("inf"), 1e-30, 2.0])
    out = model_output(pointwise.floor_of_quotient, "aten.div.Tensor_mode", x, y, rounding_mode="floor")
    assert out.tolist() == [-0.0, float("inf"), 3.0]  # torch: -1, NaN, 3
    assert model_output(pointwise.binary_op, "aten.floor_divide.default", x, y).tolist() == out.tolist()


def test_a_select_based_clip_makes_nan_its_upper_bound():
    x = torch.tensor([float("nan"), 7.0, -5.0])
    assert model_output(activations.clip_by_select, "aten.clamp.default", x, -1.0, 2.0).tolist() == [2.0, 2.0, -1.0]
    assert model_output(activations.clip_by_select, "aten.clamp_min.default", x, -1.0).tolist() == [float("inf"), 7.0, -1.0]
    assert model_output(activations.clip_by_select, "aten.hardtanh.default", x, max_val=3.0).tolist() == [3.0, 3.0, -1.0]
    assert model_output(activations.clip_by_select, "aten.relu6_.default", x).tolist() == [6.0, 6.0, 0.0]


def test_log_add_exp_overflows_without_the_maximum_taken_out():
    x = torch.tensor([32752.0, 1.0], dtype=torch.float16)
    out = model_output(pointwise.log_of_exp_sum, "aten.logaddexp.default", x, torch.tensor([0.3, 11.0], dtype=torch.float16))
    assert out[0].item() == float("inf") and abs(out[1].item() - 11.0) < 0.01


def test_the_matmul_converters_multiply_in_float32_without_wrapping():
    a = torch.tensor([[200, 202]], dtype=torch.uint8)
    out = model_output(linalg.matmul_in_float32, "aten.mm.default", a, torch.tensor([[1], [1]], dtype=torch.uint8))
    assert out.dtype == torch.float32 and out.item() == 402.0  # torch wraps uint8 to 146


def test_each_float32_term_is_rounded_before_it_is_added_so_an_overflowing_one_is_inf():
    # nightly's linear[bfloat16-edge-nobias-0]: -inf + (-1.69e38 * -2.30 = inf) is NaN in TVM's
    # loop; a fused multiply-add (torch's float32 matmul) keeps the exact product and ends at -inf
    x = torch.tensor([[-3.9375, -float("inf"), 3.5781, -1.6948e38]] * 3, dtype=torch.bfloat16)
    # stored column-major, as the draw's was: weight.T is contiguous and torch takes its gemm path
    weight = torch.tensor([[2.3906, 0.2402, -3.3281, -2.2969]] * 3, dtype=torch.bfloat16).T.contiguous().T
    out = model_output(linalg.linear_in_float32, "aten.linear.default", x, weight)
    assert out.dtype == torch.float32 and out.isnan().all()


def test_decomposed_baddbmm_promotes_the_add_and_returns_the_bare_product_with_beta_0():
    x, b1, b2 = torch.ones(1, dtype=torch.float64), torch.full((1, 1, 2), 0.1, dtype=torch.float64), torch.ones(1, 2, 1,
                                                                                                              dtype=torch.float64)
    out = model_output(linalg.baddbmm_decomposed, "aten.baddbmm.default", x, b1, b2)
    assert out.dtype == torch.float64 and out.item() == 1 + float(torch.tensor(0.2, dtype=torch.float32))
    bare = model_output(linalg.baddbmm_decomposed, "aten.baddbmm.default", torch.tensor([float("nan")], dtype=torch.float64),
                        b1, b2, beta=0.0)
    assert bare.dtype == torch.float32 and not bare.isnan().any()
    small = model_output(linalg.baddbmm_decomposed, "aten.baddbmm.default", torch.ones(1, dtype=torch.uint8),
                         torch.full((1, 1, 2), 200, dtype=torch.uint8), torch.ones(1, 2, 1, dtype=torch.uint8))
    assert small.dtype == torch.float32 and small.item() == 401.0  # torch wraps uint8 to 145
    half = model_output(linalg.baddbmm_decomposed, "aten.baddbmm.default", torch.ones(1, dtype=torch.bfloat16),
                        b1.bfloat16(), b2.bfloat16(), alpha=0.0)
    assert half.dtype == torch.bfloat16 and half.item() == 1.0


def test_linspace_with_one_step_can_have_two_points():
    out = model_output(creation.linspace_by_arange, "aten.linspace.default", 1.07, 5.0, 1, dtype=torch.float64)
    assert out.dtype == torch.float32 and out.shape == (2,)


def _expects(model, facets) -> tuple[Expectation]:
    return (Expectation(reason="the modelled bug", status="mismatch", stage="compare", id="modelled",
                        facets=facets, model=model),)


def test_tvm_computes_what_the_experiment_based_reasons_say(tmp_path):
    nan, inf = float("nan"), float("inf")
    cases = [
        # x * 0.0 is folded to 0, so alpha=0 loses batch1 @ batch2's NaN and inf.
        op_case("aten.baddbmm.default", [torch.ones(1, 2), torch.tensor([[[nan, 1.0]], [[inf, 2.0]]]),
                                          torch.ones(2, 2, 2)], {"alpha": 0.0, "beta": 2.0}, variant="fold",
                expectations=_expects(linalg.baddbmm_decomposed, ("nan",))),
        # The window is computed in float32 and rounded once.
        op_case("aten.hamming_window.default", [16], {"dtype": torch.bfloat16}, dtype="bfloat16",
                expectations=_expects(creation.hamming_window_rounded_once, ("values",))),
        # numpy's arange rounds start to bfloat16 first.
        op_case("aten.arange.start_step", [17.23, 0.0, -0.5], {"dtype": torch.bfloat16}, dtype="bfloat16",
                expectations=_expects(creation.arange_by_numpy, ("values",))),
        # x * 0.0 with a Python scalar: the legalised multiply stores the constant 0.
        op_case("aten.mul.Scalar", [torch.tensor([inf, nan, -2.0], dtype=torch.float64), 0.0], dtype="float64",
                variant="fold", expectations=_expects(pointwise.multiply_by_folded_zero, ("nan",))),
        # x + INT_MIN as a constant is folded to x | INT_MIN (LLVM's nsw add).
        op_case("aten.add.Tensor", [torch.tensor([5, -3, 2147483647, -2147483648], dtype=torch.int32), -2147483648],
                {"alpha": 2}, dtype="int32", variant="fold", expectations=_expects(pointwise.binary_op, ("values",))),
        # float16 floor_mod is rounded at every step.
        op_case("aten.remainder.Tensor", [torch.tensor(6, dtype=torch.int32),
                                          torch.tensor([-2.9219, -2.0684, -2.6504, -0.3386], dtype=torch.float16)],
                dtype="int32+float16", expectations=_expects(pointwise.binary_op, ("values",))),
    ]
    records = run(cases, tmp_path / "run", jobs=2)
    for case in cases:
        record = records[case.case_id]
        assert record["status"] == "xfail", (case.case_id, record["status"], record.get("error"))
        assert record["model_checks"]["modelled"]["ok"]


def test_leaky_relu_with_a_zero_slope_loses_the_nan_of_minus_inf_times_zero():
    inf, nan = float("inf"), float("nan")
    x = torch.tensor([-inf, nan, 1.5, -2.0], dtype=torch.bfloat16)
    (found,) = model_output(pointwise.leaky_relu_with_folded_zero, "aten.leaky_relu.default", x, negative_slope=0.0)
    assert found.tolist() == [0.0, 0.0, 1.5, 0.0]
    assert torch.ops.aten.leaky_relu.default(x, 0.0)[:2].isnan().all()  # torch: -inf * 0 and NaN * 0
