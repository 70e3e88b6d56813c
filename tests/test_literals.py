"""The short repro's literal writer: every value it writes comes back bit for bit (or says it cannot)."""

import math

import pytest
import torch

from harness import literals
from harness.literals import (
    Unwritable,
    names_used,
    same_bits,
    same_storage,
    tensor_source,
    value_source,
)
from opsuite.draw.values import ALL_DTYPES, make_tensor


def rebuild(lines: list[str], name: str):
    """Run the written lines as a repro would: torch imported, `nan` and `inf` defined where used."""
    source = "\n".join(lines)
    scope = {"torch": torch, **{n: float(n) for n in names_used(source)}}
    exec(source, scope)  # noqa: S102 - the writer's own output, under test
    return scope[name]


def round_trip(t: torch.Tensor, **options) -> tuple[torch.Tensor, list[str]]:
    lines, exact = tensor_source(t, "x", **options)
    assert exact, lines
    back = rebuild(lines, "x")
    assert same_bits(back, t), (lines, t, back)
    if not t.is_contiguous() or t.storage_offset():
        assert same_storage(back, t), (lines, t, back)
    return back, lines


def _bits(values, dtype):
    return torch.tensor(values, dtype=dtype)


def _specials(dtype: str) -> torch.Tensor:
    """Every edge value the suite draws in this dtype, plus the ones it could meet (subnormals)."""
    d = getattr(torch, dtype)
    if d == torch.bool:
        return torch.tensor([True, False, True])
    if d.is_floating_point:
        info = torch.finfo(d)
        values = [math.nan, math.inf, -math.inf, -0.0, 0.0, info.max, -info.max, info.max / 2, info.tiny,
                  -info.tiny, info.tiny / 4, info.eps, 1.0, -1.0, 0.1, 1 / 3, 65504.0 if d != torch.float16 else 3.0]
        return torch.tensor(values, dtype=torch.float64).to(d)
    info = torch.iinfo(d)
    return torch.tensor([info.min, info.max, 0, 1, info.max - 1], dtype=d)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_every_suite_dtype_round_trips_its_edge_values(dtype):
    _, lines = round_trip(_specials(dtype))
    assert "torch.load" not in "\n".join(lines) and "base64" not in "\n".join(lines)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("edge", [False, True])
def test_generated_values_round_trip_in_every_layout(dtype, edge):
    for layout in ("contiguous", "transposed", "sliced"):
        t = make_tensor((3, 5), dtype, seed=7, edge=edge, layout=layout)
        back, _ = round_trip(t)
        assert back.stride() == t.stride()


def test_a_float_is_written_in_the_fewest_digits_that_keep_its_bits():
    _, lines = round_trip(torch.tensor([0.1, 1 / 3, 2.0], dtype=torch.float16))
    assert lines == ["x = torch.tensor([0.1, 0.3333, 2.0], dtype=torch.float16)"]
    _, lines = round_trip(torch.tensor([0.1, -0.0], dtype=torch.bfloat16))
    assert lines == ["x = torch.tensor([0.1, -0.0], dtype=torch.bfloat16)"]
    _, lines = round_trip(torch.tensor([0.1], dtype=torch.float64))
    assert lines == ["x = torch.tensor([0.1], dtype=torch.float64)"]


def test_nan_sign_and_payload_survive():
    negative_nan = torch.tensor([-math.nan, 1.0], dtype=torch.float32)
    assert torch.signbit(negative_nan[0])
    _, lines = round_trip(negative_nan)
    assert "-nan" in lines[0]
    # bfloat16's conversion from float makes every NaN the positive quiet one: raw bits instead
    bf16 = _bits([-64, 16256], torch.int16).view(torch.bfloat16)  # -NaN (0xFFC0), 1.0
    _, lines = round_trip(bf16)
    assert ".view(torch.bfloat16)" in "\n".join(lines)
    payload = _bits([0x7F800001, 0], torch.int32).view(torch.float32)  # a signalling NaN's payload
    round_trip(payload)


def test_zero_dim_and_empty_tensors_keep_shape_and_strides():
    round_trip(torch.tensor(-0.0))
    round_trip(torch.empty(0, 3, dtype=torch.int8))
    odd = torch.empty_strided((2, 0, 3), (7, 5, 1), dtype=torch.bfloat16)
    round_trip(odd)
    one = torch.zeros(1, 4)[:, ::2]  # size-1 axis with a stride torch.tensor would not give
    round_trip(one)


def test_a_views_storage_is_rebuilt_too_for_kernels_that_read_past_the_strides():
    # aten._embedding_bag reads a sliced index tensor as if it were dense: garbage in the gaps made
    # the short repro fail in eager where the case had read the zeros of its own storage
    indices = make_tensor((7,), "int64", "index", seed=1, high=3, layout="sliced")
    back, lines = round_trip(indices)
    assert "torch.zeros(14, dtype=torch.int64).as_strided((7,), (2,), 0)" in lines[-1]
    assert torch.equal(back.as_strided((14,), (1,)), indices.as_strided((14,), (1,)))


def test_overlapping_and_offset_views_are_rebuilt_from_their_storage():
    expanded = torch.tensor([1.5, -2.0]).reshape(2, 1).expand(2, 3)
    _, lines = round_trip(expanded)
    assert "as_strided" in lines[-1]
    offset = torch.arange(10, dtype=torch.int32)[3:7]
    back, _ = round_trip(offset)
    assert back.storage_offset() == 3


def test_large_tensors_are_drawn_with_their_edge_values_in_place():
    t = make_tensor((20, 30), "float32", "positive", seed=3)
    t[2, 5], t[7, 1], t[9, 9] = math.nan, -math.inf, -0.0
    lines, exact = tensor_source(t, "x", seed=11)
    assert not exact and len(lines) <= 4, lines
    back = rebuild(lines, "x")
    assert back.shape == t.shape and back.dtype == t.dtype and back.stride() == t.stride()
    assert torch.equal(torch.isnan(back), torch.isnan(t)) and torch.equal(torch.isinf(back), torch.isinf(t))
    assert torch.signbit(back[9, 9]) and back[9, 9] == 0
    finite = torch.isfinite(t) & (t != 0)
    assert back[finite].min() >= t[finite].min() - 1e-3 and back[finite].max() <= t[finite].max() + 1e-3
    assert torch.equal(rebuild(lines, "x"), back) or torch.isnan(back).any(), "the draw is seeded"
    ints = make_tensor((100,), "int8", seed=1, edge=True)
    lines, exact = tensor_source(ints, "y")
    back = rebuild(lines, "y")
    info = torch.iinfo(torch.int8)
    assert torch.equal(back == info.min, ints == info.min) and torch.equal(back == info.max, ints == info.max)
    transposed = make_tensor((10, 12), "bfloat16", seed=2, layout="transposed")
    assert rebuild(tensor_source(transposed, "z")[0], "z").stride() == transposed.stride()


@pytest.mark.parametrize("value, text", [
    (1.5, "1.5"), (-0.0, "-0.0"), (math.nan, "nan"), (-math.inf, "-inf"), (True, "True"), (None, "None"),
    (3, "3"), (complex(1, -2), "complex(1.0, -2.0)"), (torch.float16, "torch.float16"),
    (torch.channels_last, "torch.channels_last"), (torch.strided, "torch.strided"),
    (torch.device("cpu"), "torch.device('cpu')"), (torch.Size([2, 3]), "torch.Size([2, 3])"),
    (slice(1, None, 2), "slice(1, None, 2)"), (Ellipsis, "..."), ([1, (2,), {"a": 0.5}], "[1, (2,), {'a': 0.5}]"),
    ("mean", "'mean'"),
])
def test_constants_are_written_as_python_source(value, text):
    assert value_source(value) == text
    scope = {"torch": torch, "nan": math.nan, "inf": math.inf}
    back = eval(text, scope)  # noqa: S307 - the writer's own output, under test
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(back)
    else:
        assert back == value and type(back) is type(value)


def test_what_has_no_literal_form_is_refused_with_the_reason():
    with pytest.raises(Unwritable, match="Generator"):
        value_source(torch.Generator())
    with pytest.raises(Unwritable, match="function"):
        value_source(print)
    with pytest.raises(Unwritable, match="sparse"):
        tensor_source(torch.eye(3).to_sparse(), "x")
    big_view = torch.arange(10_000.0)[5000:5003]
    with pytest.raises(Unwritable, match="storage"):
        tensor_source(big_view, "x")


def test_long_literals_wrap():
    lines, _ = tensor_source(make_tensor((4, 4, 4), "float64", seed=5), "x")
    assert len(lines) > 1 and all(len(line) <= literals.WIDTH + 20 for line in lines)
