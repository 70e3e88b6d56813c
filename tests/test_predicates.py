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
