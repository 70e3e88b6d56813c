"""Convolutions: conv1d/2d/3d, transposed, the core `convolution`, its backward, and col2im.

One drawing of a convolution (`ConvSpec`) serves every signature: groups 1 or 2, one or two
channels per group, kernel/stride/padding/dilation from `windows`, output_padding below
max(stride, dilation) for transposed ones, bias or none, batched or unbatched input where the
overload takes it. Sides stay tiny: a 3-d convolution is the slowest case to compile.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from opsuite.draw import shapes as S
from opsuite.draw.context import Call, Ctx, Generator, call
from opsuite.draw.windows import Window, input_sides, windows
from opsuite.table.row import OpRow, dtypes_for


@dataclass(frozen=True)
class ConvSpec:
    window: Window
    transposed: bool
    output_padding: tuple[int, ...]
    groups: int
    batch: int | None  # None: unbatched input
    in_channels: int
    out_channels: int
    sides: tuple[int, ...]

    @property
    def input_shape(self) -> tuple[int, ...]:
        lead = () if self.batch is None else (self.batch,)
        return (*lead, self.in_channels, *self.sides)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        if self.transposed:
            return (self.in_channels, self.out_channels // self.groups, *self.window.kernel)
        return (self.out_channels, self.in_channels // self.groups, *self.window.kernel)


def _transposed_sides(window: Window, output_padding: tuple[int, ...]) -> st.SearchStrategy[tuple[int, ...]]:
    """Input sides whose transposed-convolution output, (n-1)s - 2p + d(k-1) + op + 1, is positive."""
    lows = []
    for i in range(len(window.kernel)):
        n = 1
        while (n - 1) * window.stride[i] - 2 * window.padding[i] + window.dilation[i] * (window.kernel[i] - 1) \
                + output_padding[i] + 1 < 1:
            n += 1
        lows.append(n)
    return st.tuples(*[st.integers(low, low + 2) for low in lows])


def conv_specs(nd: int, transposed: bool, unbatched: bool) -> st.SearchStrategy[ConvSpec]:
    """Convolution configurations over `nd` spatial dims.

    >>> conv_specs(2, False, True).example().weight_shape  # doctest: +SKIP
    (2, 1, 3, 3)
    """
    @st.composite
    def draw(d):
        window = d(windows(nd, max_kernel=3 if nd < 3 else 2))
        if transposed:
            output_padding = tuple(d(st.integers(0, max(s, dl) - 1)) for s, dl in zip(window.stride, window.dilation,
                                                                                      strict=True))
            sides = d(_transposed_sides(window, output_padding))
        else:
            output_padding = (0,) * nd
            sides = d(input_sides(window, slack=2))
        groups = d(st.sampled_from((1, 2)))
        batch = d(S.sides(2))
        if unbatched and d(st.integers(0, 3)) == 0:
            batch = None
        return ConvSpec(window, transposed, output_padding, groups, batch,
                        groups * d(st.integers(1, 2)), groups * d(st.integers(1, 2)), sides)

    return draw()


def _operands(d, ctx: Ctx, spec: ConvSpec) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    x = d(ctx.tensors(spec.input_shape))
    weight = d(ctx.tensors(spec.weight_shape, operand=1, seed_slot=0))
    bias = d(ctx.tensors((spec.out_channels,), operand=1, seed_slot=0)) if d(st.booleans()) else None
    return x, weight, bias


def _label(spec: ConvSpec, bias) -> str:
    w = spec.window
    parts = [f"g{spec.groups}", "bias" if bias is not None else "nobias"]
    parts += ["strided"] if max(w.stride) > 1 else []
    parts += ["padded"] if max(w.padding) > 0 else []
    parts += ["dilated"] if max(w.dilation) > 1 else []
    parts += ["outpad"] if max(spec.output_padding) > 0 else []
    # torch allows output_padding below max(stride, dilation); at or above the stride is the rarer half
    parts += ["outpadbystride"] if any(o >= s for o, s in zip(spec.output_padding, w.stride, strict=True)) else []
    parts += ["unbatched"] if spec.batch is None else []
    return "-".join(parts)


def conv_nd(nd: int) -> Generator:
    """conv{nd}d(input, weight, bias, stride, padding, dilation, groups), trailing arguments
    omitted or given, each as a list (SymInt[n] arguments take no bare int, unlike a pool's int[n])."""
    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            spec = d(conv_specs(nd, transposed=False, unbatched=True))
            x, weight, bias = _operands(d, ctx, spec)
            w = spec.window
            args = [x, weight, bias, list(w.stride), list(w.padding), list(w.dilation), spec.groups]
            if spec.groups == 1 and w == Window(w.kernel, (1,) * nd, (0,) * nd, (1,) * nd) and d(st.booleans()):
                args = args[:3] if bias is not None else args[:2]  # every default left to the schema
            return call(*args, variant=_label(spec, bias))

        return draw()

    return calls


def conv_transpose_nd(nd: int) -> Generator:
    """conv_transpose{nd}d(input, weight, bias, stride, padding, output_padding, groups, dilation)."""
    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            spec = d(conv_specs(nd, transposed=True, unbatched=True))
            x, weight, bias = _operands(d, ctx, spec)
            w = spec.window
            return call(x, weight, bias, list(w.stride), list(w.padding),
                        list(spec.output_padding), spec.groups, list(w.dilation),
                        variant=_label(spec, bias))

        return draw()

    return calls


def _convolution_args(d, ctx: Ctx) -> tuple[list, ConvSpec]:
    nd = d(st.sampled_from((2, 1, 3)))
    spec = d(conv_specs(nd, transposed=d(st.booleans()), unbatched=False))
    x, weight, bias = _operands(d, ctx, spec)
    w = spec.window
    return [x, weight, bias, list(w.stride), list(w.padding), list(w.dilation), spec.transposed,
            list(spec.output_padding), spec.groups], spec


def convolution(ctx: Ctx) -> st.SearchStrategy[Call]:
    """convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
    groups): 1-, 2- and 3-d, plain and transposed."""
    @st.composite
    def draw(d):
        args, spec = _convolution_args(d, ctx)
        kind = ("transposed-" if spec.transposed else "") + f"{len(spec.sides)}d"
        return call(*args, variant=f"{kind}-{_label(spec, args[2])}")

    return draw()


OUTPUT_MASKS = ([True, True, True], [True, False, False], [False, True, False], [False, False, True],
                [True, True, False])


def convolution_backward(ctx: Ctx) -> st.SearchStrategy[Call]:
    """convolution_backward(grad_output, input, weight, bias_sizes, <forward arguments>, output_mask):
    grad_output has the forward's output shape, computed by running the forward once."""
    @st.composite
    def draw(d):
        args, spec = _convolution_args(d, ctx)
        x, weight, bias = args[:3]
        out = torch.ops.aten.convolution.default(*args)
        grad = d(ctx.tensors(tuple(out.shape), operand=1, seed_slot=0))
        mask = d(st.sampled_from(OUTPUT_MASKS))
        # torch.export's meta kernel needs bias_sizes whenever the bias gradient is asked for
        bias_sizes = [spec.out_channels] if bias is not None or mask[2] else None
        kind = ("transposed-" if spec.transposed else "") + f"{len(spec.sides)}d"
        variant = f"{kind}-mask{''.join('1' if m else '0' for m in mask)}"
        return call(grad, x, weight, bias_sizes, *args[3:], mask, variant=variant)

    return draw()


def col2im(ctx: Ctx) -> st.SearchStrategy[Call]:
    """col2im(columns[N?, C*kh*kw, L], output_size, kernel_size, dilation, padding, stride): L is
    the number of sliding blocks the window makes over output_size."""
    @st.composite
    def draw(d):
        window = d(windows(2))
        size = d(input_sides(window))
        blocks = window.outputs(size[0], 0) * window.outputs(size[1], 1)
        channels = d(st.integers(1, 2))
        lead = d(st.sampled_from(((), (1,), (2,))))
        columns = d(ctx.tensors((*lead, channels * window.kernel[0] * window.kernel[1], blocks)))
        label = "batched" if lead else "unbatched"
        if lead and lead[0] > 1 and channels > 1:  # several planes along both leading axes
            label += f"-n{lead[0]}c{channels}"
        return call(columns, list(size), list(window.kernel), list(window.dilation), list(window.padding),
                    list(window.stride), variant=label)

    return draw()


CONV = dtypes_for("nn.functional.conv2d")

# conv1d/2d/3d and conv_transpose1d/2d are CompositeImplicit: run_decompositions turns them into
# `convolution`, so decompose=False is the only way their own converters run.
ROWS = [
    OpRow("aten.conv1d.default", conv_nd(1), dtypes_for("nn.functional.conv1d"), decompose=False),
    OpRow("aten.conv2d.default", conv_nd(2), CONV, decompose=False),
    OpRow("aten.conv3d.default", conv_nd(3), dtypes_for("nn.functional.conv3d"), decompose=False),
    OpRow("aten.conv_transpose1d.default", conv_transpose_nd(1), dtypes_for("nn.functional.conv_transpose1d"),
          decompose=False),
    OpRow("aten.conv_transpose2d.input", conv_transpose_nd(2), dtypes_for("nn.functional.conv_transpose2d"),
          decompose=False),
    OpRow("aten.convolution.default", convolution, CONV),
    OpRow("aten.convolution_backward.default", convolution_backward, CONV),
    OpRow("aten.col2im.default", col2im, dtypes_for("nn.functional.fold", dtypes_for("nn.functional.unfold"))),
]
