"""The op table's own helpers: property checks for random and unordered outputs, distinct
values, windows that fit their inputs, and the torchvision program factory."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from opsuite.draw import shapes as S
from opsuite.draw.context import Ctx
from opsuite.draw.distinct import MAX_NUMEL, distinct_tensors
from opsuite.draw.windows import input_sides, windows
from opsuite.standalone.dropout_properties import dropout_train, native_dropout_train
from opsuite.standalone.order_properties import topk_unsorted


def _dropped(x: torch.Tensor, p: float, seed: int) -> torch.Tensor:
    """Dropout as torch defines it, with its own seed: another valid draw than eager's."""
    drop = torch.rand(x.shape, generator=torch.Generator().manual_seed(seed)) < p
    return torch.where(drop, 0.0, x / (1 - p))


def test_dropout_check_accepts_another_draw_and_rejects_the_identity():
    x = torch.rand(16, 32) + 0.5
    eager, other = _dropped(x, 0.5, 1), _dropped(x, 0.5, 2)
    assert dropout_train([eager], [other], (x,)) is None
    assert "scaled by 1" in dropout_train([eager], [x.clone()], (x,))
    assert "p=1 kept" in dropout_train([torch.zeros_like(x)], [x.clone()], (x,))


def test_native_dropout_check_needs_the_mask_of_the_kept_elements():
    x = torch.rand(16, 32) + 0.5
    eager, other = _dropped(x, 0.2, 3), _dropped(x, 0.2, 4)
    assert native_dropout_train([eager, eager != 0], [other, other != 0], (x, 0.2)) is None
    assert "mask" in native_dropout_train([eager, eager != 0], [other, ~(other != 0)], (x, 0.2))


def test_topk_unsorted_takes_any_order_but_not_other_elements():
    x = torch.tensor([[5.0, 1.0, 4.0, 2.0], [0.5, 3.0, -1.0, 7.0]])
    values, indices = torch.topk(x, 2, -1, True, True)
    assert topk_unsorted([values, indices], [values.flip(-1), indices.flip(-1)], (x,)) is None
    wrong = torch.topk(x, 2, -1, False, True)
    assert "as a set" in topk_unsorted([values, indices], list(wrong), (x,))
    assert "indices" in topk_unsorted([values, indices], [values, indices.flip(-1)], (x,))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.sampled_from(("float16", "bfloat16", "int8", "uint8", "float32")), st.booleans(),
       S.layer_shapes(0, 3, 5), st.data())
def test_distinct_tensors_have_no_ties(dtype, edge, shape, data):
    x = data.draw(distinct_tensors(Ctx(dtype, edge), st.just(shape)))
    flat = x.reshape(-1).double()
    finite = flat[~torch.isnan(flat)]
    assert x.shape == shape and finite.unique().numel() == finite.numel()


@settings(max_examples=1, deadline=None, derandomize=True)
@given(st.data())
def test_distinct_tensors_refuse_more_than_they_can_keep_exact(data):
    with pytest.raises(ValueError, match="distinct"):
        data.draw(distinct_tensors(Ctx("float16"), st.just((MAX_NUMEL + 1,))))


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.integers(1, 3).flatmap(lambda nd: windows(nd, pool=True).flatmap(
    lambda w: st.tuples(st.just(w), input_sides(w)))))
def test_input_sides_give_every_window_an_output(drawn):
    window, sides = drawn
    assert all(window.outputs(s, axis) >= 1 for axis, s in enumerate(sides))
    assert all(p <= k // 2 for p, k in zip(window.padding, window.kernel, strict=True))


@settings(max_examples=50, deadline=None, derandomize=True)
@given(S.sides(4))
def test_sides_stay_in_range(side):
    assert 0 <= side <= 4


def test_vision_program_calls_roi_align():
    from opsuite.standalone.vision_programs import vision_op_program

    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    rois = torch.tensor([[0.0, 0.0, 0.0, 3.0, 3.0]])
    module, inputs = vision_op_program("torchvision.roi_align.default", args=[x, rois, 1.0, 1, 1, 2, False])
    assert len(inputs) == 2
    # bilinear samples of a linear ramp average to its value at the box's centre (1.5, 1.5)
    assert math.isclose(float(module(*inputs)), 1.5 * 4 + 1.5)
