"""Padding, upsampling, grid sampling, pixel shuffle and roi_align: ops that move values
to new positions.

Pads are drawn per padded dim within what each mode accepts (reflection below the side,
circular at most the side, constant also negative, which crops). Resizes draw either an
output size or scale factors (the .vec overloads take exactly one), down- and up-sampling,
align_corners on and off. Grids and rois reach a little outside the input so the padding
modes and the sampling clamp matter.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from harness.case import Tolerance
from opsuite.draw import shapes as S
from opsuite.draw.context import Call, Ctx, Generator, call
from opsuite.draw.values import make_tensor
from opsuite.standalone.vision_programs import vision_op_program
from opsuite.table.row import NUMERIC, OpRow, dtypes_for

REFLECT, REPLICATE, CIRCULAR, CONSTANT = "reflect", "replicate", "circular", "constant"


def _pads(d, sides: tuple[int, ...], mode: str) -> list[int]:
    """(left, right) per padded dim, the last dim first, as the pad lists of torch spell them."""
    pads: list[int] = []
    for side in reversed(sides):
        for _ in range(2):
            if mode == REFLECT:
                pads.append(d(st.integers(0, min(side - 1, 2))))
            elif mode == CIRCULAR:
                pads.append(d(st.integers(0, min(side, 2))))
            elif mode == CONSTANT:  # a negative pad crops; the two may not crop more than the side
                low = -min(side, side + pads[-1], 1) if len(pads) % 2 else -min(side, 1)
                pads.append(d(st.integers(low, 2)))
            else:
                pads.append(d(st.integers(0, 2)))
    return pads


def spatial_pad(nd: int, mode: str) -> Generator:
    """reflection_pad{nd}d / replication_pad{nd}d(x, padding): x with one or two leading dims
    (unbatched and batched), each padded side nonempty where the mode reads from it."""
    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            batch = (d(S.sides(2)),) if d(st.booleans()) else ()  # only the batch may be empty
            lead = (*batch, d(S.sides(3, empty=False)))
            sides = tuple(d(S.sides(4, empty=False)) for _ in range(nd))
            pads = _pads(d, sides, mode)
            return call(d(ctx.tensors((*lead, *sides))), pads,
                        variant=("batched" if len(lead) == 2 else "unbatched") + ("-zero" if not any(pads) else ""))

        return draw()

    return calls


def constant_pad(ctx: Ctx) -> st.SearchStrategy[Call]:
    """constant_pad_nd(x, pad, value): rank 1-5, pads for 1 to rank trailing dims, negative pads
    (cropping) included, the fill value omitted or a scalar of the input's kind."""
    @st.composite
    def draw(d):
        shape = d(S.layer_shapes(1, 5, 3))
        padded = d(st.integers(1, len(shape)))
        pads = _pads(d, shape[len(shape) - padded:], CONSTANT)
        x = d(ctx.tensors(shape))
        label = ["crop" if min(pads) < 0 else "grow"]
        if d(st.booleans()):
            return call(x, pads, d(ctx.scalars()), variant="-".join([*label, "value"]))
        return call(x, pads, variant=label[0])

    return draw()


def pad(ctx: Ctx) -> st.SearchStrategy[Call]:
    """pad(x, pad, mode, value): every mode; reflect/replicate/circular pad the last 1-3 dims
    of a tensor with one or two more, constant any trailing dims and a float value or None."""
    @st.composite
    def draw(d):
        mode = d(st.sampled_from((CONSTANT, REFLECT, REPLICATE, CIRCULAR)))
        nd = d(st.integers(1, 3))
        lead = (d(S.sides(3, empty=False)),) + ((d(S.sides(2, empty=False)),) if d(st.booleans()) else ())
        sides = tuple(d(S.sides(4, empty=False)) for _ in range(nd))
        x = d(ctx.tensors((*lead, *sides)))
        pads = _pads(d, sides, mode)
        fills = (None, 2.0) if ctx.dtype == "uint8" else (None, 1.5, -2.0)  # -2 overflows uint8
        value = d(st.sampled_from(fills)) if mode == CONSTANT else None
        return call(x, pads, mode, value, variant=mode + ("-value" if value is not None else ""))

    return draw()


SCALES = st.sampled_from((0.5, 0.75, 1.0, 1.5, 2.0, 3.0))


def upsample(align: bool) -> Generator:
    """upsample_{nearest,bilinear,bicubic}2d.vec(x, output_size, [align_corners,] scale_factors):
    exactly one of output_size and scale_factors, down- and up-sampling, H != W."""
    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            size, scales = None, None
            if d(st.booleans()):
                size = [d(st.integers(1, 8)), d(st.integers(1, 8))]
            else:
                scales = [d(SCALES), d(SCALES)]
            smallest = 1 if size else 2  # a side of 1 scaled by 0.5 or 0.75 has no output
            shape = (d(S.sides(2, empty=False)), d(S.sides(3, empty=False)),
                     d(st.integers(smallest, 5)), d(st.integers(smallest, 5)))
            x = d(ctx.tensors(shape))
            corners = [d(st.booleans())] if align else []
            out = size or [int(s * f) for s, f in zip(shape[2:], scales, strict=True)]
            label = ["size" if size else "scale", "corners" if corners and corners[0] else "",
                     # whole-number upscales, where every coordinate convention picks the same pixels
                     "intscale" if all(o % s == 0 for o, s in zip(out, shape[2:], strict=True)) else "",
                     "out1" if 1 in out else ""]
            return call(x, size, *corners, scales, variant="-".join(p for p in label if p))

        return draw()

    return calls


def upsample_aa(ctx: Ctx) -> st.SearchStrategy[Call]:
    """_upsample_bilinear2d_aa(x, output_size, align_corners, scales_h, scales_w): antialiased
    bilinear, mostly downsampling (where antialiasing matters), scales given or None."""
    @st.composite
    def draw(d):
        h, w = d(st.integers(2, 8)), d(st.integers(2, 8))
        x = d(ctx.tensors((d(S.sides(2, empty=False)), d(S.sides(2, empty=False)), h, w)))
        size = [d(st.integers(1, h + 2)), d(st.integers(1, w + 2))]
        corners = d(st.booleans())
        scales = [size[0] / h, size[1] / w] if d(st.booleans()) else [None, None]
        # the same size, or halving, where antialiased and plain bilinear weights coincide
        exact = all(o in (s, s / 2) for o, s in zip(size, (h, w), strict=True))
        label = ["down" if size[0] * size[1] < h * w else "up", "corners" if corners else "",
                 "scales" if scales[0] else "", "exact" if exact else ""]
        return call(x, size, corners, *scales, variant="-".join(p for p in label if p))

    return draw()


MODES = ("bilinear", "nearest", "bicubic")
PADDINGS = ("zeros", "border", "reflection")


def grid_sample(ctx: Ctx) -> st.SearchStrategy[Call]:
    """grid_sampler_2d(x[N,C,H,W], grid[N,Ho,Wo,2], interpolation, padding, align_corners):
    every interpolation and padding mode; the grid reaches 20% outside [-1, 1] so padding
    is read. Grids are always float in [-1.2, 1.2] (the edge tier goes to the input only)."""
    @st.composite
    def draw(d):
        n, c = d(S.sides(2, empty=False)), d(S.sides(2, empty=False))
        x = d(ctx.tensors((n, c, d(st.integers(1, 5)), d(st.integers(1, 5)))))
        grid_shape = (n, d(st.integers(1, 4)), d(st.integers(1, 4)), 2)
        grid = (make_tensor(grid_shape, "float64", "small", seed=d(st.integers(0, 2**16))) * 1.2).to(x.dtype)
        mode, padding, corners = d(st.integers(0, 2)), d(st.integers(0, 2)), d(st.booleans())
        label = [MODES[mode], PADDINGS[padding], "corners" if corners else ""]
        return call(x, grid, mode, padding, corners, variant="-".join(p for p in label if p))

    return draw()


def affine_grid(ctx: Ctx) -> st.SearchStrategy[Call]:
    """affine_grid_generator(theta[N, 2, 3] or [N, 3, 4], size [N, C, (D,) H, W], align_corners)."""
    @st.composite
    def draw(d):
        volumetric = d(st.booleans())
        n = d(S.sides(2, empty=False))
        theta = d(ctx.tensors((n, 3, 4) if volumetric else (n, 2, 3), "small"))
        spatial = [d(st.integers(1, 4)) for _ in range(3 if volumetric else 2)]
        corners = d(st.booleans())
        return call(theta, [n, d(S.sides(3, empty=False)), *spatial], corners,
                    variant=("3d" if volumetric else "2d") + ("-corners" if corners else ""))

    return draw()


def pixel_shuffle(ctx: Ctx) -> st.SearchStrategy[Call]:
    """pixel_shuffle(x[*, C*r*r, H, W], r): factors 1-3, zero to two leading dims."""
    @st.composite
    def draw(d):
        r = d(st.integers(1, 3))
        lead = tuple(d(S.sides(2)) for _ in range(d(st.integers(0, 2))))
        shape = (*lead, d(S.sides(2, empty=False)) * r * r, d(S.sides(3)), d(S.sides(3)))
        return call(d(ctx.tensors(shape)), r, variant=f"r{r}")

    return draw()


def roi_align(ctx: Ctx) -> st.SearchStrategy[Call]:
    """torchvision roi_align(x[N,C,H,W], rois[K,5], spatial_scale, pooled_h, pooled_w,
    sampling_ratio, aligned): boxes (batch index, x1, y1, x2, y2) in input coordinates
    divided by the scale, some hanging over the border; adaptive (-1) or fixed sampling."""
    @st.composite
    def draw(d):
        n, c, h, w = d(S.sides(2, empty=False)), d(S.sides(2, empty=False)), d(st.integers(2, 6)), d(st.integers(2, 6))
        x = d(ctx.tensors((n, c, h, w)))
        scale = d(st.sampled_from((1.0, 0.5, 0.25)))
        count = d(st.integers(1, 4))
        seed = d(st.integers(0, 2**16))
        batch = make_tensor((count, 1), "float64", "index", seed=seed, high=n)
        corner = make_tensor((count, 2), "float64", "prob", seed=seed + 1) * torch.tensor([w, h]) - 0.5
        extent = make_tensor((count, 2), "float64", "positive", seed=seed + 2) * torch.tensor([w, h]) / 3
        rois = (torch.cat([batch, corner / scale, (corner + extent) / scale], dim=1)).to(x.dtype)
        pooled = (d(st.integers(1, 3)), d(st.integers(1, 3)))
        ratio, aligned = d(st.sampled_from((-1, 2))), d(st.booleans())
        label = [f"scale{scale}", "adaptive" if ratio < 0 else "fixed", "aligned" if aligned else ""]
        return call(x, rois, scale, *pooled, ratio, aligned, variant="-".join(p for p in label if p))

    return draw()


UPSAMPLE = dtypes_for("nn.functional.interpolate")
# PyTorch's own uint8 bilinear kernel is held to its float path, rounded, within 1
# (test_nn.py, test_upsamplingBiMode2d_consistency: assert_close(..., rtol=0, atol=1)).
UINT8_BILINEAR = Tolerance(0.0, 1.0, "uint8 bilinear resampling: PyTorch's own tests accept 1 (its uint8 kernel "
                                     "against its float path rounded, test_upsamplingBiMode2d_consistency)")
AFFINE = ("float32", "float64")  # eager has no float16/bfloat16 kernel on CPU
ROI_ALIGN = ("float32", "float16", "float64")  # torchvision's CPU kernel has no bfloat16

# pad.default is CompositeImplicit (run_decompositions turns it into constant_pad_nd or the
# reflection/replication/circular kernels), and the upsample .vec overloads decompose into
# their output-size forms: decompose=False is how their own converters run.
ROWS = [
    OpRow("aten.constant_pad_nd.default", constant_pad, dtypes_for("constant_pad_nd")),
    OpRow("aten.pad.default", pad, NUMERIC, decompose=False),
    OpRow("aten.reflection_pad1d.default", spatial_pad(1, REFLECT), NUMERIC),
    OpRow("aten.reflection_pad2d.default", spatial_pad(2, REFLECT), NUMERIC),
    OpRow("aten.reflection_pad3d.default", spatial_pad(3, REFLECT), NUMERIC),
    OpRow("aten.replication_pad2d.default", spatial_pad(2, REPLICATE), NUMERIC),
    OpRow("aten.replication_pad3d.default", spatial_pad(3, REPLICATE), NUMERIC),
    OpRow("aten.upsample_nearest2d.vec", upsample(align=False), UPSAMPLE, decompose=False),
    OpRow("aten.upsample_bilinear2d.vec", upsample(align=True), UPSAMPLE, decompose=False,
          tolerances={"uint8": UINT8_BILINEAR}),
    OpRow("aten.upsample_bicubic2d.vec", upsample(align=True), UPSAMPLE, decompose=False),
    OpRow("aten._upsample_bilinear2d_aa.default", upsample_aa, dtypes_for("_upsample_bilinear2d_aa")),
    OpRow("aten.grid_sampler_2d.default", grid_sample, dtypes_for("grid_sampler_2d")),
    OpRow("aten.affine_grid_generator.default", affine_grid, AFFINE),
    OpRow("aten.pixel_shuffle.default", pixel_shuffle, dtypes_for("nn.functional.pixel_shuffle")),
    OpRow("torchvision.roi_align.default", roi_align, ROI_ALIGN, factory=vision_op_program),
]
