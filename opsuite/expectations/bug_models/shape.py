"""Models of the shape converters' known bugs (known_failures/shape.toml)."""

from __future__ import annotations

from opsuite.expectations.bug_models import on_call
from opsuite.expectations.bug_models.indexing import fast_take


@on_call
def meshgrid_single_as_is(tensors, indexing="ij"):
    """_meshgrid returns a single input as it is: a 0-d input stays 0-d (torch makes it 1-d)."""
    if len(tensors) != 1:
        raise ValueError("the converter returns its input as is only for a single tensor")
    return list(tensors)


@on_call
def narrow_length_as_end(x, dim, start, length):
    """_narrow slices [start, length) where torch takes [start, start + length): strided_slice
    with `length` as its end (start normalised as a Python slice would)."""
    where = [slice(None)] * x.dim()
    where[dim] = slice(start, length)
    return x[tuple(where)]


@on_call
def select_unwrapped(x, dim, index):
    """_select: take(x, const(index), dim) with the index not wrapped: a negative index reads
    the previous row of the input, or before the buffer (unknown)."""
    import torch

    out, bad = fast_take(x, torch.tensor(index), dim)
    return {"outputs": [out], "unknown": [bad]}


@on_call
def to_unconverted(x, *args, **kwargs):
    """_to converts only when node.args is (x, dtype) or dtype= is a keyword; otherwise x as is."""
    return x
