"""The comparator: every facet judged on its own (count, shape, dtype, values, NaN and inf
patterns), assert_close's tolerances, the float64-reference rule for half precision, exact
integers, degenerate references."""

import dataclasses
import json
import math

import pytest
import torch
from torch.testing._comparison import default_tolerances

from harness.compare import (
    DEFAULT_TOLERANCES,
    compare_outputs,
    compare_structure,
    degenerate_kind,
    facet_signature,
)
from tests.helpers import sin_case


def kinds(result) -> list[tuple]:
    return [(f["output"], f["facet"]) for f in result["facets"]]


def test_equal_outputs_pass_and_report_zero_error():
    x = torch.randn(4, 5)
    result = compare_outputs([x], [x.clone()])
    assert result["ok"] and result["facets"] == [] and result["message"] is None
    assert result["max_abs_err"] == 0.0
    assert result["cosine"] == pytest.approx(1.0)
    assert result["judged_by"] == "assert_close"


@pytest.mark.parametrize("value", [2.2251e-308, 5e-324, 1e300])
def test_figures_hold_at_the_ends_of_the_float64_range(value):
    """A smallest-normal or subnormal output is compared like any other (its norms squared underflow)."""
    out = compare_outputs([torch.tensor([value, -value], dtype=torch.float64)],
                          [torch.tensor([value, -value], dtype=torch.float64)])
    assert out["ok"] and not out["facets"]
    assert out["cosine"] == pytest.approx(1.0)


def test_error_figures_are_recorded_even_when_passing():
    x = torch.ones(3, dtype=torch.float64)
    result = compare_outputs([x], [x + 1e-9])
    assert result["ok"]
    assert result["max_abs_err"] == pytest.approx(1e-9, rel=1e-3)
    assert result["max_rel_err"] == pytest.approx(1e-9, rel=1e-3)


def test_value_outside_tolerance_is_a_values_facet_with_its_figures():
    x = torch.tensor([1.0, 2.0, 3.0])
    result = compare_outputs([x], [torch.tensor([1.0, 2.1, 3.0])])
    assert not result["ok"]
    (facet,) = result["facets"]
    assert (facet["output"], facet["facet"], facet["count"], facet["numel"], facet["first"]) == (0, "values", 1, 3, 1)
    assert facet["expected"] == 2.0 and facet["got"] == pytest.approx(2.1)
    assert "values 1/3 outside rtol=1.3e-06 atol=1e-05" in result["message"]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64,
                                   torch.complex64, torch.complex128])
def test_default_tolerances_are_assert_closes(dtype):
    assert DEFAULT_TOLERANCES[str(dtype).removeprefix("torch.")] == default_tolerances(dtype)


def test_float32_rounding_noise_of_many_ulps_is_a_mismatch():
    # 1e-4 relative: inside the old table's float32 rtol, ~800 ULPs, outside assert_close's.
    x = torch.tensor([1.0, 2.0])
    assert not compare_outputs([x], [x * (1 + 1e-4)])["ok"]
    assert compare_outputs([x], [x * (1 + 1e-7)])["ok"]


def test_nan_equals_nan_and_a_misplaced_nan_is_its_own_facet():
    nan = float("nan")
    assert compare_outputs([torch.tensor([nan, 1.0])], [torch.tensor([nan, 1.0])])["ok"]
    result = compare_outputs([torch.tensor([nan, 1.0])], [torch.tensor([0.0, 1.0])])
    assert kinds(result) == [(0, "nan")]
    result = compare_outputs([torch.tensor([0.0, 1.0])], [torch.tensor([nan, 2.0])])
    assert kinds(result) == [(0, "nan"), (0, "values")]


def test_infinities_must_match_in_sign_and_are_their_own_facet():
    inf = float("inf")
    assert compare_outputs([torch.tensor([inf, -inf])], [torch.tensor([inf, -inf])])["ok"]
    assert kinds(compare_outputs([torch.tensor([inf])], [torch.tensor([-inf])])) == [(0, "inf")]
    assert kinds(compare_outputs([torch.tensor([inf, 1.0])], [torch.tensor([3.0e38, 1.0])])) == [(0, "inf")]


def test_dtype_difference_is_a_facet_and_values_are_still_compared_after_the_cast():
    x = torch.randn(3, dtype=torch.float64)
    result = compare_outputs([x], [x.float()])
    assert kinds(result) == [(0, "dtype")]
    assert "dtype float32 != expected float64" in result["message"]
    # A dtype bug and a value bug on the same output: both are reported.
    result = compare_outputs([torch.tensor([1.0, 2.0])], [torch.tensor([1, 3], dtype=torch.int64)])
    assert kinds(result) == [(0, "dtype"), (0, "values")]
    # An integer expectation is not rounded into agreement with a fractional answer.
    result = compare_outputs([torch.tensor([1, 2])], [torch.tensor([1.0, 2.5])])
    assert kinds(result) == [(0, "dtype"), (0, "values")]


def test_shape_difference_is_a_facet():
    result = compare_outputs([torch.zeros(2, 3)], [torch.zeros(3, 2)])
    assert kinds(result) == [(0, "shape")]
    assert result["facets"][0]["expected"] == [2, 3] and result["facets"][0]["got"] == [3, 2]


def test_integers_and_bools_are_compared_exactly():
    assert kinds(compare_outputs([torch.tensor([10**12])], [torch.tensor([10**12 + 1])])) == [(0, "values")]
    assert not compare_outputs([torch.tensor([True, False])], [torch.tensor([True, True])])["ok"]
    result = compare_outputs([torch.tensor([1, 2], dtype=torch.int8)], [torch.tensor([1, 2], dtype=torch.int8)])
    assert result["ok"] and result["judged_by"] == "exact"


def test_every_output_is_compared_when_one_differs():
    a, b = torch.randn(2), torch.randn(3)
    result = compare_outputs([a, b], [a.double(), b + 1])
    assert kinds(result) == [(0, "dtype"), (1, "values")]
    assert result["message"].startswith("output 0: dtype float64 != expected float32; output 1: values 3/3")


def test_a_missing_output_is_the_count_facet_and_the_rest_is_still_compared():
    a, b = torch.randn(2), torch.randn(3)
    assert kinds(compare_outputs([a, b], [a])) == [(None, "count")]
    assert kinds(compare_outputs([a, b], [a + 1])) == [(None, "count"), (0, "values")]


def test_half_precision_uses_assert_closes_tolerance_without_a_reference():
    x = torch.tensor([1.0], dtype=torch.float16)
    one_ulp = torch.tensor([1.0 + 2**-10], dtype=torch.float16)
    four_ulps = torch.tensor([1.0 + 2**-10 * 4], dtype=torch.float16)
    assert compare_outputs([x], [one_ulp])["ok"]
    assert not compare_outputs([x], [four_ulps])["ok"]


def _noisy(ref: torch.Tensor, seed: int) -> torch.Tensor:
    """`ref` in float16 with up to 3 ULPs of error per element: what a compound op (a softmax,
    a norm) leaves after several roundings."""
    gen = torch.Generator().manual_seed(seed)
    return (ref + torch.randint(-3, 4, ref.shape, generator=gen) * 2**-10).to(torch.float16)


def test_half_precision_judged_against_float64_accepts_errors_like_eagers():
    ref = torch.linspace(1.0, 1.9, 64, dtype=torch.float64)
    eager, tvm = _noisy(ref, 0), _noisy(ref, 1)
    assert not compare_outputs([eager], [tvm])["ok"]  # without the reference: up to 6 ULPs apart
    result = compare_outputs([eager], [tvm], reference=lambda: [ref])
    assert result["ok"] and result["judged_by"] == "fp64-ref"


def test_half_precision_judged_against_float64_rejects_a_real_error():
    ref = torch.linspace(1.0, 1.9, 64, dtype=torch.float64)
    eager = _noisy(ref, 0)
    tvm = _noisy(ref, 1)
    tvm[7] += 0.05  # one element 50 ULPs off: a bug, not rounding
    result = compare_outputs([eager], [tvm], reference=lambda: [ref])
    assert kinds(result) == [(0, "values")] and result["judged_by"] == "fp64-ref"
    assert result["facets"][0]["count"] == 1 and "rms err" in result["message"]


def test_half_precision_reference_beyond_the_dtype_excuses_nothing():
    # A max pool's padding: float16's lowest in eager, float64's lowest in the float64 run. Eager's
    # "error" of ~1.8e308 there must not make every other element's error look like rounding.
    lowest16, lowest64 = torch.finfo(torch.float16).min, torch.finfo(torch.float64).min
    ref = torch.tensor([lowest64, 1.0, 2.0, 3.0], dtype=torch.float64)
    eager = torch.tensor([lowest16, 1.0, 2.0, 3.0], dtype=torch.float16)
    tvm = eager + 1  # a real fault on every element (the lowest absorbs it)
    result = compare_outputs([eager], [tvm], reference=lambda: [ref])
    assert kinds(result) == [(0, "values")] and result["judged_by"] == "fp64-ref"
    assert result["facets"][0]["count"] == 3
    assert compare_outputs([eager], [eager.clone()], reference=lambda: [ref])["ok"]


def test_the_float64_reference_is_computed_only_when_needed():
    calls = []

    def reference():
        calls.append(1)
        return None

    x = torch.randn(8).half()
    assert compare_outputs([x], [x.clone()], reference=reference)["ok"]
    assert compare_outputs([x.float()], [x.float() + 1], reference=reference)["facets"]
    assert calls == []
    assert compare_outputs([x], [x + 1], reference=reference)["facets"]
    assert calls == [1]


def test_case_tolerance_override_replaces_the_table():
    x = torch.tensor([1.0])
    assert not compare_outputs([x], [x + 0.01])["ok"]
    result = compare_outputs([x], [x + 0.01], tol=(0.02, 0.0))
    assert result["ok"] and result["judged_by"] == "override"


def test_complex_outputs_compare_real_and_imaginary_parts():
    z = torch.tensor([1 + 2j, 3 - 1j], dtype=torch.complex64)
    assert compare_outputs([z], [z.clone()])["ok"]
    assert kinds(compare_outputs([z], [z + 1j])) == [(0, "values")]


def test_uint64_compares_exactly_beyond_int64():
    big = torch.tensor([2**63 + 5, 7], dtype=torch.uint64)
    assert compare_outputs([big], [big.clone()])["ok"]
    assert kinds(compare_outputs([big], [torch.tensor([2**63 + 6, 7], dtype=torch.uint64)])) == [(0, "values")]


def test_an_infinite_error_is_recorded_as_unknown_not_as_a_number():
    result = compare_outputs([torch.tensor([1.0])], [torch.tensor([float("inf")])])
    assert kinds(result) == [(0, "inf")] and result["max_abs_err"] is None
    result = compare_outputs([torch.tensor([1e38], dtype=torch.float32)], [torch.tensor([-1e38])])
    assert math.isfinite(result["max_abs_err"])


def test_signature_names_facets_without_numbers():
    result = compare_outputs([torch.randn(2), torch.randn(3)], [torch.randn(2).double(), torch.randn(3)])
    assert facet_signature(result["facets"]) == "output 0 dtype float64 != float32; output 0 values; output 1 values"


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
    assert compare_structure([torch.randn(3)], [torch.randn(3)]) == []
    (facet,) = compare_structure([torch.randn(3)], [torch.randn(3).double()])
    assert facet["facet"] == "dtype"


def test_none_outputs_are_dropped_on_both_sides_and_a_missing_output_still_counts():
    import numpy as np
    import tvm

    from harness.stages import flatten_outputs, tvm_outputs

    t = tvm.runtime.tensor(np.ones(2, dtype="float32"))
    assert len(tvm_outputs([t, None, t])) == len(flatten_outputs((torch.ones(2), None, torch.ones(2)))) == 2
    assert len(tvm_outputs([t, None])) != len(flatten_outputs((torch.ones(2), torch.ones(2))))


def test_a_reference_not_in_float64_is_no_reference():
    eager = torch.tensor([1.0, 1.5], dtype=torch.bfloat16)
    tvm = eager + 0.25  # far beyond bfloat16's tolerance
    result = compare_outputs([eager], [tvm], reference=lambda: [eager.clone()])
    assert kinds(result) == [(0, "values")] and result["judged_by"] == "assert_close"


def test_uint64_outputs_are_compared_exactly_over_their_whole_range():
    top = 2**64 - 2  # past int64: no promotion may wrap it
    u64 = lambda values: torch.tensor(values, dtype=torch.uint64)  # noqa: E731
    assert compare_outputs([u64([top, 1])], [u64([top, 1])])["ok"]
    result = compare_outputs([u64([top, 1])], [u64([top - 3, 1])])
    assert not result["ok"] and result["max_abs_err"] == 3.0
    assert result["message"] == (f"output 0: values 1/2 differ (max abs err 3; first at flat index 0: "
                                 f"expected {top}, got {top - 3})")
    # A gap wider than int64 holds: taken in int64, top + 1 and 0 would read as 1 apart.
    assert compare_outputs([u64([top + 1])], [u64([0])])["max_abs_err"] == float(2**64 - 1)


def test_complex_outputs_compare_real_and_imaginary_parts_within_their_tolerance():
    z = torch.tensor([1 + 1j, 2 - 1j], dtype=torch.complex64)
    assert compare_outputs([z], [z + 1e-7j])["ok"]
    result = compare_outputs([z], [z + 0.1j])  # only the imaginary parts are off
    assert not result["ok"] and "values 2/4 outside rtol=1.3e-06 atol=1e-05" in result["message"]
    assert result["max_abs_err"] == pytest.approx(0.1, rel=1e-5)
    conj = compare_outputs([z], [z.conj().resolve_conj()])
    assert not conj["ok"] and "first at flat index 1: expected 1.0, got -1.0" in conj["message"]


def test_an_infinite_error_is_infinite_not_zero():
    result = compare_outputs([torch.tensor([1.0, 2.0, 3.0])], [torch.tensor([1.0, math.inf, 4.0])])
    assert not result["ok"] and kinds(result) == [(0, "inf"), (0, "values")]
    assert "max abs err inf; first at flat index 2" in result["message"]
    # JSON holds no infinity: the record's figures are null, never a 0 that reads as no error.
    assert result["max_abs_err"] is None and result["max_rel_err"] is None
    json.dumps(result["facets"], allow_nan=False)


def test_a_rows_override_holds_integers_too():
    expected = torch.tensor([10, 200, 7], dtype=torch.uint8)
    off_by_one = torch.tensor([9, 201, 7], dtype=torch.uint8)
    assert not compare_outputs([expected], [off_by_one])["ok"]  # integers are exact by default
    within = compare_outputs([expected], [off_by_one], tol=(0.0, 1.0))
    assert within["ok"] and within["judged_by"] == "override"
    beyond = compare_outputs([expected], [torch.tensor([8, 200, 7], dtype=torch.uint8)], tol=(0.0, 1.0))
    assert kinds(beyond) == [(0, "values")]


def test_float32_judged_against_float64_only_where_a_row_asks():
    # A gradient that is exactly 0: eager's float32 kernel gives 5e-5 (beyond atol), TVM 0.
    ref = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    eager = torch.tensor([5.1e-5, 1.0, 2.0])
    tvm = torch.tensor([0.0, 1.0, 2.0])
    assert not compare_outputs([eager], [tvm], reference=lambda: [ref])["ok"]  # float32: assert_close alone
    result = compare_outputs([eager], [tvm], reference=lambda: [ref], fp64_dtypes=("float32",))
    assert result["ok"] and result["judged_by"] == "fp64-ref"
    wrong = tvm + torch.tensor([0.0, 0.0, 1e-3])  # far beyond eager's own error: a bug
    result = compare_outputs([eager], [wrong], reference=lambda: [ref], fp64_dtypes=("float32",))
    assert kinds(result) == [(0, "values")] and result["facets"][0]["first"] == 2


def test_a_float64_reference_tolerance_keeps_the_defaults_and_adds_the_dtype():
    from harness.case import Tolerance
    from harness.compare import HALF_DTYPES
    from harness.stages import judging

    case = sin_case()
    assert judging(case) == {"tol": None}
    wide = dataclasses.replace(case, tolerance=Tolerance(1e-3, 1e-3, "measured"))
    assert judging(wide) == {"tol": (1e-3, 1e-3)}
    fp64 = dataclasses.replace(case, tolerance=Tolerance(1.3e-6, 1e-5, "measured", float64_reference=True))
    assert judging(fp64) == {"tol": None, "fp64_dtypes": (*HALF_DTYPES, case.dtype)}
