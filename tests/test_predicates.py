"""Named predicates that scope expectations: parsing, negation, and what they see in a case."""

import pickle

import pytest
import torch

from harness.case import Case, Program
from harness.programs import op_program
from opsuite.expectations import predicates


def _case(*tensors, kwargs=None, variant="") -> Case:
    return Case("aten.add.Tensor[float32-0]", "op", "aten.add.Tensor",
                Program(op_program, {"op": "aten.add.Tensor", "args": list(tensors), "kwargs": kwargs or {}}),
                "float32", meta={"variant": variant})


def test_nan_sees_a_nan_in_any_floating_input():
    assert predicates.parse("nan")(_case(torch.ones(2), torch.tensor([1.0, float("nan")])))
    assert not predicates.parse("nan")(_case(torch.tensor([float("inf")]), torch.ones(2, dtype=torch.int64)))


def test_empty_inner_wants_a_zero_size_dim_inside_a_non_unit_one():
    inner = predicates.parse("empty_inner")
    assert inner(_case(torch.ones(3, 0))) and inner(_case(torch.ones(0, 0, 2))) and inner(_case(torch.ones(2, 1, 0)))
    assert not inner(_case(torch.ones(0, 3))) and not inner(_case(torch.ones(1, 1, 0, 4)))
    assert not inner(_case(torch.ones(2, 3), torch.ones(())))
    assert predicates.parse("empty")(_case(torch.ones(0, 3)))


def test_bang_negates_any_predicate_and_pickles():
    has_dtype = _case(torch.ones(2), kwargs={"dtype": torch.float64})
    plain = _case(torch.ones(2))
    without = predicates.parse("!kwarg:dtype")
    assert not without(has_dtype) and without(plain)
    assert predicates.parse("!!kwarg:dtype")(has_dtype)
    assert pickle.loads(pickle.dumps(without))(plain)


def test_bar_is_an_alternative_that_binds_looser_than_and():
    nan_only = _case(torch.tensor([float("nan")]))
    inf_empty = _case(torch.tensor([float("inf")]), torch.ones(0))
    inf_full = _case(torch.tensor([float("inf")]))
    either = predicates.parse("nan | inf & !empty")
    assert either(nan_only) and either(inf_full) and not either(inf_empty)
    assert not either(_case(torch.ones(2)))
    assert pickle.loads(pickle.dumps(either))(inf_full)
    with pytest.raises(ValueError, match="unknown predicate"):
        predicates.parse("nan | ")


def test_above_sees_a_value_past_the_bound_in_any_input():
    assert predicates.parse("above:1")(_case(torch.tensor([0, 2], dtype=torch.uint8)))
    assert not predicates.parse("above:1")(_case(torch.tensor([0, 1], dtype=torch.uint8), torch.ones(0)))


def test_unknown_predicates_are_rejected():
    with pytest.raises(ValueError, match="unknown predicate"):
        predicates.parse("!")
    with pytest.raises(ValueError, match="unknown predicate"):
        predicates.parse("!bogus")


def _call(op: str, *args, **kwargs) -> Case:
    return Case(f"{op}[int32-0]", "op", op, Program(op_program, {"op": op, "args": list(args), "kwargs": kwargs}),
                "int32")


def test_zero_divisor_looks_at_the_second_argument_only():
    zero = predicates.parse("zero_divisor")
    assert zero(_call("aten.div.Tensor", torch.tensor([1, 2]), torch.tensor(0)))
    assert zero(_call("aten.div.Tensor", torch.tensor([1, 2]), torch.tensor([3, 0])))
    assert zero(_call("aten.div.Scalar", torch.tensor([1.0]), 0.0))
    assert not zero(_call("aten.div.Tensor", torch.tensor([0, 2]), torch.tensor([3, 1])))
    assert not zero(_call("aten.div.Tensor", torch.tensor([1]), torch.ones(0)))


def test_scalar_min_wants_the_minimum_of_the_first_tensors_integer_dtype():
    at_min = predicates.parse("scalar_min")
    assert at_min(_call("aten.mul.Scalar", torch.ones(2, dtype=torch.int32), -2**31))
    assert not at_min(_call("aten.mul.Scalar", torch.ones(2, dtype=torch.int64), -2**31))
    assert not at_min(_call("aten.mul.Scalar", torch.ones(2, dtype=torch.int32), -2**31 + 1))
    assert not at_min(_call("aten.mul.Scalar", torch.ones(2), -2**31))


def test_zerodim_widens_only_where_promote_types_disagrees_with_torch():
    widens = predicates.parse("zerodim_widens")
    half, double = torch.ones(3, dtype=torch.float16), torch.ones(3, dtype=torch.float64)
    assert widens(_call("aten.mul.Tensor", half, torch.tensor(2.0, dtype=torch.float64)))
    assert widens(_call("aten.add.Tensor", torch.ones(3, dtype=torch.int8), torch.tensor(1, dtype=torch.uint8)))
    # the 0-dim operand is the narrower one: torch and promote_types both give float64
    assert not widens(_call("aten.mul.Tensor", torch.tensor(2.0, dtype=torch.float16), double))
    # a 0-dim operand of a higher category decides in torch too
    assert not widens(_call("aten.mul.Tensor", torch.ones(3, dtype=torch.int32), torch.tensor(2.0, dtype=torch.float16)))
    assert not widens(_call("aten.mul.Tensor", half, double))


def test_alpha_shows_where_dropping_alpha_changes_the_answer_beyond_tolerance():
    shows = predicates.parse("alpha_shows")
    assert shows(_call("aten.sub.Tensor", torch.tensor([1.0, 2.0]), torch.tensor([3.0]), alpha=2))
    assert shows(_call("aten.add.Tensor", torch.tensor([6, 7]), torch.tensor([3]), alpha=-1))
    assert not shows(_call("aten.sub.Tensor", torch.tensor([1.0, 2.0]), torch.tensor([3.0])))
    # -1 * INT64_MIN wraps to INT64_MIN: the term is the same with or without alpha
    assert not shows(_call("aten.add.Tensor", torch.tensor([6, 2**63 - 1]), torch.tensor([-2**63]), alpha=-1))
    # alpha * 1.2e-38 is far below float32's atol beside -1.2e-38
    x = torch.tensor(-1.1754944e-38)
    before = x.clone()
    assert not shows(_call("aten.add_.Tensor", x, torch.tensor(1.1754944e-38), alpha=-1.5))
    assert torch.equal(x, before), "the predicate ran the in-place op on the case's own input"
    # inf - 2 * y is inf (or NaN) whatever alpha is
    half = torch.tensor([float("nan"), 3.326, float("-inf")], dtype=torch.float16)
    assert not shows(_call("aten.sub.Tensor", torch.tensor(float("inf"), dtype=torch.float16), half, alpha=2))


def test_float_outside_wants_a_float_no_integer_of_the_tensors_dtype_holds():
    outside = predicates.parse("float_outside")
    ints = torch.ones(2, dtype=torch.int32)
    assert outside(_call("aten.mul.Scalar", ints, 1e30)) and outside(_call("aten.mul.Tensor", ints, float("nan")))
    assert outside(_call("aten.mul.Tensor", torch.ones(2, dtype=torch.uint8), float("-inf")))
    assert outside(_call("aten.mul.Tensor", torch.ones(2, dtype=torch.uint8), 300.5))
    assert not outside(_call("aten.mul.Scalar", ints, -2.5)) and not outside(_call("aten.mul.Scalar", ints, 2**40))
    assert not outside(_call("aten.mul.Scalar", torch.ones(2), 1e30))
    assert not outside(_call("aten.mul.Scalar", torch.ones(2, dtype=torch.bool), float("nan")))


def test_const_divisor_zero_is_zero_as_a_constant_of_the_tensors_dtype():
    zero = predicates.parse("const_divisor_zero")
    assert zero(_call("aten.div.Scalar", torch.ones(2, dtype=torch.int32), 0.6))
    assert zero(_call("aten.div.Tensor", torch.ones(2, dtype=torch.uint8), 0))
    assert zero(_call("aten.remainder.Scalar", torch.ones(2, dtype=torch.float16), 1e-30))
    assert zero(_call("aten.remainder.Scalar", torch.ones(2), -0.0))
    assert not zero(_call("aten.remainder.Scalar", torch.ones(2, dtype=torch.bfloat16), 1e-30))
    assert not zero(_call("aten.div.Scalar", torch.ones(2, dtype=torch.int32), 1.5))
    assert not zero(_call("aten.div.Tensor", torch.ones(2, dtype=torch.int32), torch.tensor(0)))


def test_nan_first_wants_a_nan_on_the_left_facing_a_number():
    first = predicates.parse("nan_first")
    nan = float("nan")
    assert first(_call("aten.maximum.default", torch.tensor([nan, 1.0]), torch.tensor([2.0, 3.0])))
    assert first(_call("aten.maximum.default", torch.tensor([nan]), torch.tensor([1, 2], dtype=torch.int32)))
    assert not first(_call("aten.maximum.default", torch.tensor([nan, 1.0]), torch.tensor([nan, nan])))
    assert not first(_call("aten.maximum.default", torch.tensor([1.0, 2.0]), torch.tensor([nan, 3.0])))
    assert not first(_call("aten.maximum.default", torch.tensor([1, 2]), torch.tensor([nan, 3.0])))


def test_shows_wants_the_model_to_differ_from_eager_on_the_draw():
    floor_of_quotient = predicates.parse("shows:pointwise.binary_op")
    # -0.5 / inf is -0.0, whose floor is -0.0; torch's floor division gives -1 (as Python's -0.5 // inf)
    assert floor_of_quotient(_call("aten.floor_divide.default", torch.tensor([-0.5, 7.0]),
                                   torch.tensor([float("inf")])))
    assert not floor_of_quotient(_call("aten.floor_divide.default", torch.tensor([-7.0, 7.0]), torch.tensor([2.0])))
    # an integer true division keeps its dtype: that shows whatever the values
    assert floor_of_quotient(_call("aten.div.Tensor", torch.tensor([4, 6]), torch.tensor([0, 3])))
    # a model that cannot compute the draw (a 0-dim input its fold has no axis for) explains nothing
    assert not predicates.parse("shows:reductions.argmax_argmin_by_fold")(
        _call("aten.argmax.default", torch.tensor(3.0)))
    with pytest.raises(ValueError, match="no model"):
        predicates.parse("shows:pointwise.nothing")(_call("aten.floor_divide.default", torch.ones(1), torch.ones(1)))


def test_shows_is_false_where_eager_refuses_the_draw():
    refused = _call("aten.floor_divide.default", torch.tensor([4, 6]), torch.tensor([0, 3]))
    assert not predicates.parse("shows:pointwise.binary_op")(refused)
    assert not predicates.parse("alpha_shows")(_call("aten.sub.Tensor", torch.tensor([True]), torch.tensor([True]),
                                                     alpha=2))


def test_empty_reduction_wants_a_zero_size_dim_among_the_reduced_ones():
    from tests.helpers import op_case

    def case(x, *args, **kwargs):
        return op_case("aten.std.correction", [x, *args], kwargs)

    empty_reduction = predicates.parse("empty_reduction")
    x = torch.zeros(2, 3, 0)
    assert empty_reduction(case(x, [2])) and empty_reduction(case(x, [-1, 0]))
    assert not empty_reduction(case(x, [0, 1]))  # 6 elements per (empty) output row
    assert empty_reduction(case(x, None)) and empty_reduction(case(x)) and empty_reduction(case(x, []))
    assert not empty_reduction(case(torch.zeros(2, 3), None))


def test_empty_dim_reads_the_dim_argument_with_sorts_default_of_minus_one():
    from tests.helpers import op_case

    empty_dim = predicates.parse("empty_dim")
    x = torch.zeros(1, 0, 3)
    assert empty_dim(op_case("aten.sort.default", [x, 1], {}))
    assert empty_dim(op_case("aten.sort.default", [x], {"dim": -2}))
    assert not empty_dim(op_case("aten.sort.default", [x, 0], {}))
    assert not empty_dim(op_case("aten.sort.default", [x], {}))  # dim -1 has 3 elements
    assert empty_dim(op_case("aten.sort.default", [torch.zeros(1, 0)], {}))
    assert empty_dim(op_case("aten.topk.default", [x, 0, 1], {}))  # topk's dim is its third argument
    assert not empty_dim(op_case("aten.sort.default", [torch.zeros(())], {}))


def test_empty_not_first_wants_a_zero_size_dim_after_the_first():
    from tests.helpers import op_case

    not_first = predicates.parse("empty_not_first")
    assert not_first(op_case("aten.cumsum.default", [torch.zeros(2, 0, 3), 0], {}))
    assert not_first(op_case("aten.cumsum.default", [torch.zeros(1, 1, 0), 2], {"dtype": torch.float64}))
    assert not not_first(op_case("aten.cumsum.default", [torch.zeros(0, 2), 0], {}))
    assert not not_first(op_case("aten.cumsum.default", [torch.zeros(0), 0], {}))
    assert not not_first(op_case("aten.cumsum.default", [torch.zeros(()), 0], {}))


def _slice(x, src, **kwargs) -> Case:
    return _call("aten.slice_scatter.default", x, src, **kwargs)


def test_slice_scatter_bounds_are_judged_as_the_converter_normalises_them():
    refused, kept = predicates.parse("slice_refused"), predicates.parse("slice_none_kept")
    x = torch.ones(5)
    # An end before the start: torch takes an empty slice, TVM keeps start > end.
    assert refused(_slice(x, torch.ones(0), dim=0, start=3, end=1))
    # A bound below -side: torch clamps it to 0; TVM adds the side once (-7 -> -2).
    assert refused(_slice(x, torch.ones(0), dim=0, start=0, end=-7))
    # Beyond the side is capped, as torch does: the same slice, accepted.
    assert not refused(_slice(x, torch.ones(5), dim=0, start=0, end=9))
    assert not refused(_slice(x, torch.ones(2), dim=0, start=1, end=5, step=2))
    # A None the exported node keeps (before a non-default step) is the other entry's.
    assert kept(_slice(x, torch.ones(3), dim=0, start=None, end=None, step=2))
    assert kept(_slice(x, torch.ones(3), dim=0, start=None, end=3))
    assert not kept(_slice(x, torch.ones(5), dim=0, start=0, end=None)) and not refused(
        _slice(x, torch.ones(5), dim=0, start=0, end=None))


def test_fill_values_no_literal_of_the_dtype_holds():
    nonfinite, beyond = predicates.parse("nonfinite_scalar"), predicates.parse("beyond_float32")
    assert nonfinite(_case(torch.ones(2), float("nan"))) and nonfinite(_case(torch.ones(2), float("-inf")))
    assert nonfinite(_case(torch.ones(2, dtype=torch.float16), 2**63 - 1))  # inf in float16
    assert not nonfinite(_case(torch.ones(2), 2**63 - 1)) and not nonfinite(_case(torch.ones(2), 1.5))
    assert beyond(_case(torch.ones(2, dtype=torch.float64), 1.7976931348623157e308))
    assert not beyond(_case(torch.ones(2), 3.0e38)) and not beyond(_case(torch.ones(2), float("inf")))


def test_value_reads_an_argument_by_name_whether_given_by_keyword_or_position():
    def call(op, args, kwargs=None):
        return Case(f"{op}[float32-0]", "op", op, Program(op_program, {"op": op, "args": args, "kwargs": kwargs or {}}),
                    "float32")

    one = predicates.parse("value:window_length=1")
    assert one(call("aten.hamming_window.periodic", [1, False], {"dtype": torch.bfloat16}))
    assert one(call("aten.hamming_window.default", [], {"window_length": 1}))
    assert not one(call("aten.hamming_window.periodic", [33, False]))
    assert predicates.parse("value:periodic=False")(call("aten.hamming_window.periodic", [33, False]))


def test_adaptive_pool2d_unbatched_wants_a_2d_input_and_an_output_size_other_than_1():
    unbatched = predicates.parse("adaptive_pool2d_unbatched")
    op = "aten.adaptive_avg_pool1d.default"
    assert unbatched(_call(op, torch.ones(2, 4), [2]))
    assert unbatched(_call(op, torch.ones(1, 3), output_size=[3]))
    assert unbatched(_call(op, torch.ones(1, 3), 2))
    # Output size 1 decomposes to a mean, not _adaptive_avg_pool2d; a batched input stays 3-d.
    assert not unbatched(_call(op, torch.ones(1, 2), [1]))
    assert not unbatched(_call(op, torch.ones(2, 1, 4), [2]))


def test_nan_then_padding_wants_a_window_whose_last_real_element_is_a_nan_before_padding():
    seen = predicates.parse("nan_then_padding")
    op = "aten.max_pool2d.default"
    nan = float("nan")
    x = torch.tensor([[[[1.9, -1.1, nan, 0.4]]]])
    kw = dict(kernel_size=[1, 2], stride=[2, 1], padding=[0, 1], dilation=[1, 2], ceil_mode=True)
    # The last window is x[2] (NaN) then the right padding.
    assert seen(_call(op, x, **kw))
    # The NaN followed by a real element, or no padding after it.
    assert not seen(_call(op, torch.tensor([[[[nan, 1.0, 2.0, 3.0]]]]), **kw))
    assert not seen(_call(op, torch.tensor([[[[1.0, nan, 2.0, 3.0]]]]), [1, 2], [1, 1]))
    assert not seen(_call(op, torch.ones(1, 1, 1, 4), **kw))


def test_holds_finds_an_element_of_a_list_argument():
    def call(args, kwargs=None):
        op = "aten._upsample_bilinear2d_aa.default"
        return Case(f"{op}[float32-0]", "op", op, Program(op_program, {"op": op, "args": args, "kwargs": kwargs or {}}),
                    "float32")

    x = torch.ones(1, 1, 4, 4)
    side1 = predicates.parse("holds:output_size=1")
    assert side1(call([x, [1, 6], True, None, None]))
    assert side1(call([x], {"output_size": [3, 1], "align_corners": True}))
    assert not side1(call([x, [2, 6], True, None, None]))
    assert not predicates.parse("holds:align_corners=1")(call([x, [1, 6], True, None, None]))  # not a list
    spatial1 = predicates.parse("holds:output_size[1:]=1")
    assert spatial1(call([x, [3, 1], True, None, None])) and not spatial1(call([x, [1, 6], True, None, None]))


def test_sample_empty_reads_a_zero_size_dim_in_an_opinfo_sample_description():
    def opinfo(description):
        return Case("opinfo.isfinite[float32-s0]", "op", "opinfo.isfinite", Program(op_program, {}), "float32",
                    meta={"sample": description})

    empty = predicates.parse("sample_empty")
    assert empty(opinfo("(Tensor[1,0,3])")) and empty(opinfo("(Tensor[0])")) and empty(opinfo("(Tensor[5], Tensor[2,0])"))
    assert not empty(opinfo("(Tensor[10,20])")) and not empty(opinfo("(Tensor[])"))
    assert not empty(opinfo("(Tensor[5], (0, 1))"))  # a 0 outside a tensor's shape
    assert not empty(_case(torch.zeros(3, 0)))  # an op-table case has no sample description


def test_predicates_see_an_opinfo_cases_own_call():
    """An OpInfo case names only its sample; the predicates build its call and read the same
    tensors and arguments the worker's module calls the op with."""
    from opsuite.opinfo.cases import sample_case, screen

    def sample(entry, index):
        return sample_case(entry, screen()[entry], "float32", index, 0)

    vector, empty, zero_dim = sample("isfinite", 0), sample("isfinite", 1), sample("isfinite", 2)
    assert [predicates.parse("empty")(c) for c in (vector, empty, zero_dim)] == [False, True, False]
    assert [predicates.parse("scalar")(c) for c in (vector, empty, zero_dim)] == [False, False, True]
    assert predicates.parse("!empty & !scalar")(vector)
    keepdim, plain = sample("mean", 1), sample("mean", 0)  # (Tensor[], dim=0, keepdim=True), (Tensor[])
    assert predicates.parse("kwarg:keepdim")(keepdim) and not predicates.parse("kwarg:keepdim")(plain)
    assert predicates.parse("value:keepdim=True")(keepdim)
    assert not predicates.parse("value:dtype='float32'")(plain)  # the sample's name is not its call


def test_shuffle_side_zero_follows_the_measured_zero_size_shapes():
    zero = predicates.parse("shuffle_side_zero")
    op = "aten.pixel_shuffle.default"
    # Shapes of the nightly draws: these failed to compile, those compiled.
    assert zero(_call(op, torch.ones(1, 2, 2, 0, 3), 1))
    assert zero(_call(op, torch.ones(1, 1, 8, 2, 0), 2))
    assert zero(_call(op, torch.ones(12, 3, 0), upscale_factor=2))
    assert not zero(_call(op, torch.ones(12, 0, 3), 2))  # the height, factor 2
    assert not zero(_call(op, torch.ones(18, 1, 0), 3))  # factor 3
    assert not zero(_call(op, torch.ones(0, 1, 1, 2, 3), 1))  # a zero leading dim only
    assert not zero(_call(op, torch.ones(2, 0, 1, 2, 0), 1))  # and a zero side: another error
    assert not zero(_call(op, torch.ones(4, 0, 0), 1))  # both sides
    assert not zero(_call(op, torch.ones(4, 2, 3), 2))


def test_negative_index_looks_at_integer_tensors_after_the_first():
    negative = predicates.parse("negative_index")
    op = "aten.take.default"
    x = -torch.ones(3, 3)
    assert negative(_call(op, x, torch.tensor([0, -1])))
    assert not negative(_call(op, x, torch.tensor([0, 8])))  # the first tensor's signs do not count
    assert not negative(_call(op, torch.tensor([-1, 2]), torch.tensor([1])))
    assert not negative(_call("aten.add.Tensor", torch.ones(2), torch.tensor([-1.0, 2.0])))  # not an index


def test_negative_index_reads_an_opinfo_sample_through_its_built_inputs():
    from opsuite.standalone.opinfo_programs import opinfo_program

    def sample(index):
        program = Program(opinfo_program, {"name": "take", "variant": "", "dtype": "float32", "index": index, "seed": 0})
        return Case(f"opinfo.take[float32-s{index}]", "op", "opinfo.take", program, "float32")

    # Seed 0: sample 1 takes indices [-9, -1, -3], sample 0 none below zero.
    negative = predicates.parse("negative_index")
    assert negative(sample(1)) and not negative(sample(0))


def test_chunk_overrun_wants_sections_that_pass_the_side_before_the_last():
    overrun = predicates.parse("chunk_overrun")
    op = "aten.chunk.default"
    # Measured: 5 in 4, 7 in 5 and 6 in 5 fail; 10 in 4 (3, 3, 3, 1) and 4 in 3 (2, 2) run.
    assert overrun(_call(op, torch.ones(5), chunks=4, dim=-1))
    assert overrun(_call(op, torch.ones(5, 5, 5, 4, 4), chunks=4, dim=2))
    assert overrun(_call(op, torch.ones(7), 5)) and overrun(_call(op, torch.ones(6), 5))
    assert not overrun(_call(op, torch.ones(10), 4)) and not overrun(_call(op, torch.ones(4), 3))
    assert not overrun(_call(op, torch.ones(2, 5), chunks=4, dim=0))  # the chunked dim is 2
    assert not overrun(_call(op, torch.ones(0), chunks=4))


def test_slice_backwards_wraps_and_clamps_the_bounds_as_torch_does():
    backwards = predicates.parse("slice_backwards")
    op = "aten.slice.Tensor"
    x = torch.ones(5)
    # Measured on a side of 5: these fail to compile, those compile.
    assert backwards(_call(op, x, dim=-1, start=100, end=-100, step=2))
    assert backwards(_call(op, x, -1, 4, -4)) and backwards(_call(op, x, 0, 3, 1))
    assert not backwards(_call(op, x, 0, 100, 50))  # both clamp to 5
    assert not backwards(_call(op, x, 0, -100, -200))  # both clamp to 0
    assert not backwards(_call(op, x, 0, 1, 1)) and not backwards(_call(op, x, 0, None, 3))


def test_empty_first_looks_at_the_first_tensor_only():
    first = predicates.parse("empty_first")
    assert first(_case(torch.ones(0), torch.ones(2, 3))) and first(_case(torch.ones(2, 0, 3), torch.ones(0)))
    assert not first(_case(torch.ones(2), torch.ones(0))) and not first(_case(torch.ones(())))
