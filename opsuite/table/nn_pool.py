"""Pooling: max (with and without indices), average, adaptive average, and their backwards.

Windows come from `windows` with padding within half the kernel (the pools' own limit), so
windows hang into the padding; ceil_mode adds a partial last window, count_include_pad and
divisor_override change the average's divisor. Max pools that return indices draw distinct
values: under ties the index torch picks is an implementation accident.
"""

from __future__ import annotations

import math

import torch
from hypothesis import assume
from hypothesis import strategies as st

from opsuite.draw import shapes as S
from opsuite.draw.context import Call, Ctx, Generator, call
from opsuite.draw.distinct import MAX_NUMEL, distinct_tensors
from opsuite.draw.windows import Window, input_sides, spelled, windows
from opsuite.table.row import FLOATS, OpRow, dtypes_for


def _pool_input(d, nd: int, window: Window, unbatched: bool) -> tuple[int, ...]:
    """(N, C, *sides), or (C, *sides) now and then where the overload takes unbatched input."""
    sides = d(input_sides(window))
    channels = d(S.sides(3, empty=False))
    if unbatched and d(st.integers(0, 3)) == 0:
        return (channels, *sides)
    return (d(S.sides(2)), channels, *sides)


def _fit_distinct(shape: tuple[int, ...], nd: int) -> tuple[int, ...]:
    """`shape`, or one batch, one channel and sides <= 5 when it has more than MAX_NUMEL elements
    (distinct values are exact only up to that many; a reach of 3 still fits in 5)."""
    if math.prod(shape) <= MAX_NUMEL:
        return shape
    return (1, 1, *(min(s, 5) for s in shape[-nd:]))


def _flags(**flags: bool) -> list[str]:
    return [name for name, on in flags.items() if on]


def max_pool(nd: int, distinct: bool = False) -> Generator:
    """max_pool{nd}d[_with_indices](x, kernel, stride, padding, dilation, ceil_mode), each
    argument spelled as a list or a bare int, stride also [] (= kernel); trailing ones omitted
    now and then."""
    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            # 3-d windows over distinct values stay undilated, so _fit_distinct's sides <= 5 fit them.
            window = d(windows(nd, max_kernel=3, max_dilation=1 if distinct and nd == 3 else 2, pool=True))
            shape = _pool_input(d, nd, window, unbatched=True)
            if distinct:
                shape = _fit_distinct(shape, nd)
            x = d(distinct_tensors(ctx, st.just(shape)) if distinct else ctx.tensors(shape))
            ceil = d(st.booleans())
            stride = d(spelled(window.stride, allow_empty=True))
            args = [x, d(spelled(window.kernel)), stride, d(spelled(window.padding)), d(spelled(window.dilation)), ceil]
            if not ceil and max(window.dilation) == 1 and d(st.booleans()):
                args = args[:4]
            label = _flags(ceil=ceil, padded=max(window.padding) > 0, dilated=max(window.dilation) > 1,
                           unbatched=len(shape) == nd + 1, kernelstride=stride == [])
            return call(*args, variant="-".join(label) or "plain")

        return draw()

    return calls


def max_pool2d_backward(ctx: Ctx) -> st.SearchStrategy[Call]:
    """max_pool2d_with_indices_backward(grad, x, kernel, stride, padding, dilation, ceil_mode,
    indices): indices and grad's shape come from running the forward once on distinct values."""
    @st.composite
    def draw(d):
        window = d(windows(2, max_kernel=3, pool=True))
        x = d(distinct_tensors(ctx, st.just(_fit_distinct(_pool_input(d, 2, window, unbatched=True), 2))))
        ceil = d(st.booleans())
        forward = [list(window.kernel), list(window.stride), list(window.padding), list(window.dilation), ceil]
        out, indices = torch.ops.aten.max_pool2d_with_indices.default(x, *forward)
        # A dilated window lying wholly in the padding gets an index past the input from eager's
        # forward, and eager's backward then corrupts the heap: such windows are not drawn.
        assume(bool((indices < x.shape[-1] * x.shape[-2]).all()))
        grad = d(ctx.tensors(tuple(out.shape), operand=1, seed_slot=0))
        return call(grad, x, *forward, indices, variant="-".join(_flags(ceil=ceil)) or "floor")

    return draw()


def _avg_args(d, nd: int, window: Window, divisor: bool) -> tuple[list, list[str]]:
    ceil, include_pad = d(st.booleans()), d(st.booleans())
    args = [d(spelled(window.kernel)), d(spelled(window.stride, allow_empty=True)), d(spelled(window.padding)),
            ceil, include_pad]
    label = _flags(ceil=ceil, nopadcount=not include_pad, padded=max(window.padding) > 0)
    if divisor:
        override = d(st.sampled_from((None, 3, 1)))
        args.append(override)
        label += [f"div{override}"] if override else []
    return args, label


def avg_pool(nd: int) -> Generator:
    """avg_pool{nd}d(x, kernel, stride, padding, ceil_mode, count_include_pad[, divisor_override])."""
    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            window = d(windows(nd, max_kernel=3, max_dilation=1, pool=True))
            x = d(ctx.tensors(_pool_input(d, nd, window, unbatched=True)))
            args, label = _avg_args(d, nd, window, divisor=nd > 1)
            if max(window.padding) == 0 and d(st.integers(0, 3)) == 0:  # the input fits the unpadded window
                args, label = args[:2], ["defaults"]
            label += _flags(unbatched=x.dim() == nd + 1)
            return call(x, *args, variant="-".join(label) or "plain")

        return draw()

    return calls


def avg_pool2d_backward(ctx: Ctx) -> st.SearchStrategy[Call]:
    """avg_pool2d_backward(grad, x, kernel, stride, padding, ceil_mode, count_include_pad,
    divisor_override): every argument given, grad shaped like the forward's output."""
    @st.composite
    def draw(d):
        window = d(windows(2, max_kernel=3, max_dilation=1, pool=True))
        x = d(ctx.tensors(_pool_input(d, 2, window, unbatched=True)))
        args, label = _avg_args(d, 2, window, divisor=True)
        out = torch.ops.aten.avg_pool2d.default(x, *args)
        return call(d(ctx.tensors(tuple(out.shape), operand=1, seed_slot=0)), x, *args, variant="-".join(label) or "plain")

    return draw()


def adaptive_avg_pool(nd: int, unbatched: bool = True) -> Generator:
    """adaptive_avg_pool{nd}d(x, output_size): output sides that divide the input, that do not
    (overlapping bins), and that exceed it."""
    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            window = Window((1,) * nd, (1,) * nd, (0,) * nd, (1,) * nd)
            shape = _pool_input(d, nd, window, unbatched)
            sides = shape[-nd:]
            out = [d(st.integers(1, s + 1)) for s in sides]
            kind = "divides" if all(s % o == 0 for s, o in zip(sides, out, strict=True)) else "uneven"
            return call(d(ctx.tensors(shape)), out, variant=kind)

        return draw()

    return calls


def adaptive_avg_pool2d_backward(ctx: Ctx) -> st.SearchStrategy[Call]:
    """_adaptive_avg_pool2d_backward(grad, x): grad shaped like the forward's output."""
    @st.composite
    def draw(d):
        sides = (d(st.integers(1, 5)), d(st.integers(1, 5)))
        x = d(ctx.tensors((d(S.sides(2, empty=False)), d(S.sides(3, empty=False)), *sides)))
        out = [d(st.integers(1, s + 1)) for s in sides]
        grad = d(ctx.tensors((*x.shape[:2], *out), operand=1, seed_slot=0))
        return call(grad, x, variant="divides" if all(s % o == 0 for s, o in zip(sides, out, strict=True)) else "uneven")

    return draw()


MAX_POOL = dtypes_for("nn.functional.max_pool2d")

# max_pool1d/2d/3d and adaptive_avg_pool2d/3d are CompositeImplicit: run_decompositions
# rewrites them (max_pool*_with_indices, _adaptive_avg_pool*), so decompose=False is the only
# way their own converters run. The *_with_indices and _adaptive_* rows are the core forms.
ROWS = [
    OpRow("aten.max_pool1d.default", max_pool(1), dtypes_for("nn.functional.max_pool1d"), decompose=False),
    OpRow("aten.max_pool2d.default", max_pool(2), MAX_POOL, decompose=False),
    OpRow("aten.max_pool3d.default", max_pool(3), dtypes_for("nn.functional.max_pool3d"), decompose=False),
    OpRow("aten.max_pool2d_with_indices.default", max_pool(2, distinct=True), MAX_POOL),
    OpRow("aten.max_pool3d_with_indices.default", max_pool(3, distinct=True), dtypes_for("nn.functional.max_pool3d")),
    OpRow("aten.max_pool2d_with_indices_backward.default", max_pool2d_backward,
          dtypes_for("max_pool2d_with_indices_backward")),
    OpRow("aten.avg_pool1d.default", avg_pool(1), dtypes_for("nn.functional.avg_pool1d")),
    OpRow("aten.avg_pool2d.default", avg_pool(2), dtypes_for("nn.functional.avg_pool2d")),
    OpRow("aten.avg_pool3d.default", avg_pool(3), dtypes_for("nn.functional.avg_pool3d")),
    OpRow("aten.avg_pool2d_backward.default", avg_pool2d_backward, FLOATS),
    OpRow("aten.adaptive_avg_pool1d.default", adaptive_avg_pool(1), dtypes_for("nn.functional.adaptive_avg_pool1d")),
    OpRow("aten.adaptive_avg_pool2d.default", adaptive_avg_pool(2), dtypes_for("nn.functional.adaptive_avg_pool2d"),
          decompose=False),
    OpRow("aten.adaptive_avg_pool3d.default", adaptive_avg_pool(3), dtypes_for("nn.functional.adaptive_avg_pool3d"),
          decompose=False),
    OpRow("aten._adaptive_avg_pool2d.default", adaptive_avg_pool(2), dtypes_for("nn.functional.adaptive_avg_pool2d")),
    OpRow("aten._adaptive_avg_pool3d.default", adaptive_avg_pool(3), dtypes_for("nn.functional.adaptive_avg_pool3d")),
    OpRow("aten._adaptive_avg_pool2d_backward.default", adaptive_avg_pool2d_backward,
          dtypes_for("nn.functional.adaptive_avg_pool2d")),
]
NO_CASE: dict[str, str] = {
    "aten._adaptive_avg_pool1d.default": "a convert-map key with no such overload in this torch "
                                         "(torch.ops.aten has no _adaptive_avg_pool1d): nothing can call it",
}
