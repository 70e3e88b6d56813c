"""Models of the indexing converters' known bugs (known_failures/indexing.toml).

TVM's gather kernels (take in "fast" mode, index_tensor's adv_index) read element
sum(index_d * stride_d) of the flattened input with the raw indices: a negative index is
not wrapped, so it reads another row of the input, or memory before it. `fast_take` and
`fast_index` compute the same addresses: where one falls inside the input they return that
element; where it falls outside, TVM reads uninitialised memory (it changes from run to run),
and they mark the element unknown.
"""

from __future__ import annotations

import math

import torch

from opsuite.expectations.bug_models import on_call


def _read(x: torch.Tensor, offsets: torch.Tensor, unknown: torch.Tensor | None = None):
    """x's elements at these flat offsets, and where the offset leaves x (or reads an unknown element)."""
    flat = x.reshape(-1)
    outside = (offsets < 0) | (offsets >= flat.numel())
    if flat.numel() == 0:
        return torch.zeros(offsets.shape, dtype=x.dtype), torch.ones(offsets.shape, dtype=torch.bool)
    safe = offsets.clamp(0, flat.numel() - 1)
    if unknown is not None:
        outside = outside | unknown.reshape(-1)[safe]
    return flat[safe], outside


def fast_take(x: torch.Tensor, index: torch.Tensor, axis: int, unknown: torch.Tensor | None = None):
    """relax.take(x, index, axis) with mode="fast": (outputs, unknown mask)."""
    axis = axis % x.dim()
    outer, side = math.prod(x.shape[:axis]), x.shape[axis]
    inner = math.prod(x.shape[axis + 1:])
    offsets = ((torch.arange(outer).view(-1, 1, 1) * side + index.long().reshape(1, -1, 1)) * inner
               + torch.arange(inner).view(1, 1, -1))
    out, bad = _read(x, offsets, unknown)
    shape = tuple(x.shape[:axis]) + tuple(index.shape) + tuple(x.shape[axis + 1:])
    return out.reshape(shape), bad.reshape(shape)


def fast_index(x: torch.Tensor, indices: list[torch.Tensor]):
    """relax.index_tensor(x, indices): the index tensors broadcast together, unwrapped."""
    indices = torch.broadcast_tensors(*[i.long() for i in indices])
    strides = [math.prod(x.shape[d + 1:]) for d in range(len(indices))]
    inner = math.prod(x.shape[len(indices):])
    base = sum(i * s for i, s in zip(indices, strides, strict=True))
    offsets = base.reshape(-1, 1) + torch.arange(inner).view(1, -1)
    out, bad = _read(x, offsets)
    shape = tuple(indices[0].shape) + tuple(x.shape[len(indices):])
    return out.reshape(shape), bad.reshape(shape)


def _squeeze_all(index: torch.Tensor) -> torch.Tensor:
    return index.reshape([d for d in index.shape if d != 1])


@on_call
def index_unwrapped(x, indices):
    """_index_tensor's paths, each with TVM's unwrapped addressing: one index tensor -> take
    along its dim; no None -> index_tensor; every index 1-D (or 2-D with a side of 1) -> takes
    from the last indexed dim back; otherwise None becomes an arange of shape (side, 1, ...)."""
    given = [(d, i) for d, i in enumerate(indices) if i is not None]
    if len(given) == 1:
        out, bad = fast_take(x, given[0][1], given[0][0])
    elif len(given) == len(indices):
        out, bad = fast_index(x, [i for _, i in given])
    elif all(i.dim() == 1 or (i.dim() == 2 and 1 in i.shape) for _, i in given):
        out, bad = x, None
        for d, i in reversed(given):
            out, bad = fast_take(out, _squeeze_all(i) if i.dim() > 1 else i, d, bad)
    else:
        rank = max(i.dim() for _, i in given)
        full = [i if i is not None else torch.arange(x.shape[d]).reshape([x.shape[d]] + [1] * (rank - 1))
                for d, i in enumerate(indices)]
        out, bad = fast_index(x, full)
    return {"outputs": [out], "unknown": [bad]}


@on_call
def select_unwrapped(x, dim, index):
    """_select: take(x, const(index), dim), the index not wrapped."""
    out, bad = fast_take(x, torch.tensor(index), dim)
    return {"outputs": [out], "unknown": [bad]}


@on_call
def index_select_scalar(x, dim, index):
    """_index_select: take(x, index, dim); a 0-d index removes the dim (torch keeps it, size 1)."""
    out, bad = fast_take(x, index, dim)
    return {"outputs": [out], "unknown": [bad]}


@on_call
def isin_not_inverted(elements, test_elements, assume_unique=False, invert=False):
    """_isin: any(elements[..., None] == test_elements.flatten()); invert is never read."""
    return (elements.unsqueeze(-1) == test_elements.reshape(-1)).sum(-1) > 0


def _search(boundaries: list, value, right: bool) -> int:
    """topi.searchsorted's binary search: every comparison with NaN is false, so NaN lands at 0."""
    lo, hi = 0, len(boundaries)
    while lo < hi:
        mid = lo + ((hi - lo) >> 1)
        if (boundaries[mid] <= value) if right else (boundaries[mid] < value):
            lo = mid + 1
        else:
            hi = mid
    return lo


@on_call
def bucketize_nan_first(x, boundaries, out_int32=False, right=False):
    """relax.bucketize is topi.searchsorted: a NaN input goes to bucket 0, torch puts it last."""
    found = [_search(boundaries.tolist(), v, right) for v in x.reshape(-1).tolist()]
    return torch.tensor(found, dtype=torch.int32 if out_int32 else torch.int64).reshape(x.shape)


@on_call
def scatter_flat_offsets(x, dim, index, value):  # also scatter.src: value is then the src tensor
    """topi.scatter_elements addresses self with the index tensor's own flat offsets: with
    i flat over the index's dims before `dim` and j flat over those after it, the update for
    index position (i, k, j) goes to i * stride(dim - 1) + index[i, k, j] * stride(dim) + j of
    self, which is the right place only where the index's shape equals self's in those dims
    (the outermost dim on either side of `dim` excepted). scatter.src reads its src at the
    same flat offsets, which are src's own only where src has the index's shape."""
    dim = dim % x.dim()
    out = x.clone().reshape(-1)
    after = math.prod(x.shape[dim + 1:])
    before_stride = x.shape[dim] * after
    i_after = math.prod(index.shape[dim + 1:])
    i_before = math.prod(index.shape[:dim])
    flat = index.reshape(i_before, index.shape[dim], i_after)
    # updates are read at the index's own flat offsets too: src's first index.numel() elements
    updates = value.reshape(-1)[:index.numel()].reshape(flat.shape) if isinstance(value, torch.Tensor) \
        else torch.full(flat.shape, value, dtype=x.dtype)
    for i in range(i_before):
        for j in range(i_after):
            for k in range(index.shape[dim]):
                position = int(flat[i, k, j])
                position += x.shape[dim] if position < 0 else 0
                out[i * before_stride + position * after + j] = updates[i, k, j]
    return out.reshape(x.shape)


@on_call
def index_put_diagonal(x, indices, values, accumulate=False):
    """_index_put with a None index: each None becomes arange(side) shaped (side, 1, ..., 1),
    so two Nones broadcast along the same axis and address the diagonal (i, i, ...); the
    kernel then writes values' k-th flat element (a 0-d values is broadcast, nothing else is) at
    the k-th position of the broadcast indices; past values' end it reads uninitialised memory."""
    rank = max(i.dim() for i in indices if i is not None)
    full = [i.long() if i is not None else torch.arange(x.shape[d]).reshape([x.shape[d]] + [1] * rank)
            for d, i in enumerate(indices)]
    full = [i + (i < 0) * x.shape[d] for d, i in enumerate(torch.broadcast_tensors(*full))]
    out = x.clone()
    source = values.reshape(-1) if values.dim() else values.expand(full[0].shape).reshape(-1)
    unknown = torch.zeros(x.shape, dtype=torch.bool)
    for k, where in enumerate(zip(*[i.reshape(-1).tolist() for i in full], strict=True)):
        if k >= source.numel():
            unknown[where] = True  # read past values' buffer
            continue
        out[where] = out[where] + source[k] if accumulate else source[k]
    return {"outputs": [out], "unknown": [unknown]}


@on_call
def take_unwrapped(x, index):
    """Decomposed take is index.Tensor of the flattened input: take along its only dim, where
    every negative index reads before the buffer."""
    out, bad = fast_take(x.reshape(-1), index, 0)
    return {"outputs": [out], "unknown": [bad]}
