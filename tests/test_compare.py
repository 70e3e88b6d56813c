"""The comparator: shapes, dtypes, NaN, infinities, exact integers, degenerate references."""

import math

import pytest
import torch

from harness.compare import DEFAULT_TOLERANCES, compare_outputs, compare_structure, degenerate_kind


def test_equal_outputs_pass_and_report_zero_error():
    x = torch.randn(4, 5)
    result = compare_outputs([x], [x.clone()])
    assert result["ok"]
    assert result["max_abs_err"] == 0.0
    assert result["cosine"] == pytest.approx(1.0)


def test_error_figures_are_recorded_even_when_passing():
    x = torch.ones(3, dtype=torch.float64)
    result = compare_outputs([x], [x + 1e-9])
    assert result["ok"]
    assert result["max_abs_err"] == pytest.approx(1e-9, rel=1e-3)
    assert result["max_rel_err"] == pytest.approx(1e-9, rel=1e-3)


def test_value_outside_tolerance_is_a_mismatch():
    x = torch.tensor([1.0, 2.0, 3.0])
    result = compare_outputs([x], [torch.tensor([1.0, 2.1, 3.0])])
    assert not result["ok"]
    assert "1/3 elements" in result["message"]


def test_nan_equals_nan_but_not_a_number():
    nan = float("nan")
    assert compare_outputs([torch.tensor([nan, 1.0])], [torch.tensor([nan, 1.0])])["ok"]
    assert not compare_outputs([torch.tensor([nan, 1.0])], [torch.tensor([0.0, 1.0])])["ok"]
    assert not compare_outputs([torch.tensor([0.0, 1.0])], [torch.tensor([nan, 1.0])])["ok"]


def test_infinities_must_match_in_sign():
    inf = float("inf")
    assert compare_outputs([torch.tensor([inf, -inf])], [torch.tensor([inf, -inf])])["ok"]
    assert not compare_outputs([torch.tensor([inf])], [torch.tensor([-inf])])["ok"]
    assert not compare_outputs([torch.tensor([inf])], [torch.tensor([3.0e38])])["ok"]


def test_dtype_difference_is_a_mismatch_even_with_equal_values():
    x = torch.randn(3, dtype=torch.float64)
    result = compare_outputs([x], [x.float()])
    assert not result["ok"]
    assert "dtype float32 != expected float64" in result["message"]


def test_shape_difference_is_a_mismatch():
    result = compare_outputs([torch.zeros(2, 3)], [torch.zeros(3, 2)])
    assert not result["ok"] and "shape" in result["message"]


def test_integers_and_bools_are_compared_exactly():
    assert not compare_outputs([torch.tensor([10**12])], [torch.tensor([10**12 + 1])])["ok"]
    assert not compare_outputs([torch.tensor([True, False])], [torch.tensor([True, True])])["ok"]
    assert compare_outputs([torch.tensor([1, 2], dtype=torch.int8)], [torch.tensor([1, 2], dtype=torch.int8)])["ok"]


def test_output_count_and_elementwise_tuples():
    a, b = torch.randn(2), torch.randn(3)
    assert not compare_outputs([a, b], [a])["ok"]
    result = compare_outputs([a, b], [a, b + 1])
    assert not result["ok"] and result["message"].startswith("output 1")


def test_tolerance_table_orders_precisions():
    rtol = {k: v[0] for k, v in DEFAULT_TOLERANCES.items()}
    assert rtol["float64"] < rtol["float32"] < rtol["float16"] <= rtol["bfloat16"]


def test_half_precision_uses_its_looser_tolerance():
    x = torch.tensor([1.0], dtype=torch.float16)
    y = torch.tensor([1.0 + 2**-10 * 4], dtype=torch.float16)  # 4 ULP away
    assert compare_outputs([x], [y])["ok"]
    assert not compare_outputs([x.float()], [y.float()])["ok"]


def test_case_tolerance_override_replaces_the_table():
    x = torch.tensor([1.0])
    assert not compare_outputs([x], [x + 0.01])["ok"]
    assert compare_outputs([x], [x + 0.01], tol=(0.02, 0.0))["ok"]


@pytest.mark.parametrize(
    ("tensors", "kind"),
    [
        ([torch.zeros(3, 3)], "all-zero"),
        ([torch.full((4,), 2.5)], "constant"),
        ([torch.full((4,), math.nan)], "all-nan"),
        ([torch.zeros(0, 3)], "empty"),
        ([torch.ones(5, dtype=torch.bool)], "constant"),
        ([torch.randn(5)], None),
        ([torch.zeros(3), torch.randn(3)], None),
    ],
)
def test_degenerate_references_are_flagged(tensors, kind):
    assert degenerate_kind(tensors) == kind
    assert compare_outputs(tensors, tensors)["degenerate"] == kind


def test_structure_only_comparison_ignores_values():
    assert compare_structure([torch.randn(3)], [torch.randn(3)]) is None
    assert "dtype" in compare_structure([torch.randn(3)], [torch.randn(3).double()])


def test_none_outputs_are_dropped_on_both_sides_and_a_missing_output_still_counts():
    import numpy as np
    import tvm

    from harness.stages import flatten_outputs, tvm_outputs

    t = tvm.runtime.tensor(np.ones(2, dtype="float32"))
    assert len(tvm_outputs([t, None, t])) == len(flatten_outputs((torch.ones(2), None, torch.ones(2)))) == 2
    assert len(tvm_outputs([t, None])) != len(flatten_outputs((torch.ones(2), torch.ones(2))))


def test_uint64_outputs_are_compared_exactly_over_their_whole_range():
    top = 2**64 - 2  # past int64: no promotion may wrap it
    u64 = lambda values: torch.tensor(values, dtype=torch.uint64)  # noqa: E731
    assert compare_outputs([u64([top, 1])], [u64([top, 1])])["ok"]
    result = compare_outputs([u64([top, 1])], [u64([top - 3, 1])])
    assert not result["ok"] and result["max_abs_err"] == 3.0
    assert result["message"] == (f"output 0: 1/2 elements differ exactly-compared "
                                 f"(first at flat index 0: expected {top}, got {top - 3})")
    # A gap wider than int64 holds: taken in int64, top + 1 and 0 would read as 1 apart.
    assert compare_outputs([u64([top + 1])], [u64([0])])["max_abs_err"] == float(2**64 - 1)


def test_complex_outputs_compare_real_and_imaginary_parts_within_their_tolerance():
    z = torch.tensor([1 + 1j, 2 - 1j], dtype=torch.complex64)
    assert compare_outputs([z], [z + 1e-6j])["ok"]
    result = compare_outputs([z], [z + 0.1j])  # only the imaginary parts are off
    assert not result["ok"] and "2/4 elements outside rtol=0.0001 atol=1e-05" in result["message"]
    assert result["max_abs_err"] == pytest.approx(0.1, rel=1e-5)
    assert (result["rtol"], result["atol"]) == DEFAULT_TOLERANCES["complex64"]
    conj = compare_outputs([z], [z.conj().resolve_conj()])
    assert not conj["ok"] and "first at flat index 1: expected 1, got -1" in conj["message"]


def test_an_infinite_error_is_infinite_not_zero():
    result = compare_outputs([torch.tensor([1.0, 2.0])], [torch.tensor([1.0, math.inf])])
    assert not result["ok"]
    assert "max abs err inf; first at flat index 1: expected 2, got inf" in result["message"]
    # JSON holds no infinity: the record's figure is null, never a 0 that reads as no error.
    assert result["max_abs_err"] is None and result["max_rel_err"] is None
