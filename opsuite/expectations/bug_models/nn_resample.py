"""Models of the resampling converters' known bugs (known_failures/nn_resample.toml).

The upsample converters (exported_program_translator.py `_upsample_impl`) all emit
relax.image.resize2d with coordinate_transformation_mode "half_pixel" (or "align_corners")
and rounding_method "round"; topi.image.resize2d reads every pixel as float32, interpolates
in float32 and casts the result back to the input's dtype (a float to integer cast truncates).
`tvm_resize2d` computes that in torch, step by step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_F32 = torch.float32


def _source(out: int, size: int, align_corners: bool) -> torch.Tensor:
    """topi's get_inx: the float32 source coordinate of each output position."""
    x = torch.arange(out, dtype=_F32)
    if align_corners:
        return torch.tensor(size - 1, dtype=_F32) / torch.tensor(out - 1, dtype=_F32) * x
    scale = torch.tensor(size, dtype=_F32) / torch.tensor(out, dtype=_F32)
    return (x + 0.5) * scale - 0.5


def _pick(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """x[..., rows, cols] as float32, the indices clamped into the image (get_2d_pixel)."""
    rows = rows.clamp(0, x.shape[-2] - 1)
    cols = cols.clamp(0, x.shape[-1] - 1)
    return x.to(_F32)[..., rows[:, None], cols[None, :]]


def _cubic_weights(t: torch.Tensor, alpha: float) -> list[torch.Tensor]:
    t2, t3 = t * t, t * t * t
    return [alpha * (t3 - 2 * t2 + t),
            (alpha + 2) * t3 - (3 + alpha) * t2 + 1,
            -(alpha + 2) * t3 + (3 + 2 * alpha) * t2 - alpha * t,
            -alpha * t3 + alpha * t2]


def tvm_resize2d(x: torch.Tensor, size, method: str, align_corners: bool) -> torch.Tensor:
    """topi.image.resize2d on an NCHW tensor, to `size` = (out_h, out_w)."""
    return _cast_back(_resize2d_float(x, size, method, align_corners), x.dtype)[0]


def _cast_back(value: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
    """_cast_output's value.astype(dtype), and which elements it leaves unknown: a float32 cast
    to an integer dtype truncates, and one whose truncation the dtype cannot hold (a bicubic
    overshoot below 0 or past 255 for uint8, NaN) is LLVM's fptoui/fptosi of an out-of-range
    value, a poison value (TVM gives 0 where torch's cast wraps)."""
    if dtype.is_floating_point:
        return value.to(dtype), None
    info = torch.iinfo(dtype)
    whole = value.trunc()
    unknown = value.isnan() | (whole < info.min) | (whole > info.max)
    return value.nan_to_num(0).to(dtype), (unknown if bool(unknown.any()) else None)


def _resize2d_float(x: torch.Tensor, size, method: str, align_corners: bool) -> torch.Tensor:
    """resize2d's float32 value before the cast back to x's dtype."""
    out_h, out_w = size
    in_y = _source(out_h, x.shape[-2], align_corners)
    in_x = _source(out_w, x.shape[-1], align_corners)
    if method == "nearest_neighbor":
        # te.round lowers to round-half-to-even (llvm nearbyint)
        value = _pick(x, torch.round(in_y).long(), torch.round(in_x).long())
    elif method == "linear":
        y0, x0 = torch.floor(in_y), torch.floor(in_x)
        ty, tx = (in_y - y0)[:, None], (in_x - x0)[None, :]
        y0, x0 = y0.long(), x0.long()
        top = _pick(x, y0, x0) * (1.0 - tx) + _pick(x, y0, x0 + 1) * tx
        bottom = _pick(x, y0 + 1, x0) * (1.0 - tx) + _pick(x, y0 + 1, x0 + 1) * tx
        value = top * (1.0 - ty) + bottom * ty
    elif method == "cubic":
        y0, x0 = torch.floor(in_y), torch.floor(in_x)
        wy = [w[:, None] for w in _cubic_weights(in_y - y0, -0.75)]
        wx = [w[None, :] for w in _cubic_weights(in_x - x0, -0.75)]
        y0, x0 = y0.long(), x0.long()
        rows = []
        for j in range(4):
            row = 0
            for i in range(4):
                row = row + _pick(x, y0 + j - 1, x0 + i - 1) * wx[i]
            rows.append(row)
        value = 0
        for j in range(4):
            value = value + rows[j] * wy[j]
    else:
        raise ValueError(f"no such resize method {method!r}")
    return value


def _out_size(x: torch.Tensor, size, scales) -> list[int]:
    """_upsample_impl's output size: `size`, or int(side * scale) for each side."""
    if size:
        return list(size)
    if not isinstance(scales, list | tuple):
        scales = [scales, scales]
    return [int(side * scale) for side, scale in zip(x.shape[-2:], scales, strict=True)]


def resize2d_as_topi(module, inputs):
    """What the upsample converters emit, per op: resize2d to output_size (or int(side * scale)),
    with half_pixel coordinates unless align_corners is set.

    upsample_nearest2d.vec: nearest_neighbor, the source (i + 0.5) * in / out - 0.5 rounded to
    nearest (its align_corners is read from scale_factors' slot: None), where torch picks
    floor(i * in / out). upsample_bilinear2d.vec and upsample_bicubic2d.vec: linear and cubic
    (alpha -0.75). _upsample_bilinear2d_aa: plain linear, no antialiasing, scales ignored. Every
    pixel is read as float32 and the result cast back to the input's dtype: float64 carries
    float32 rounding and integers are truncated, not rounded."""
    args, kwargs = module.call_arguments(inputs)
    op = module.op_name
    x, size = args[0], args[1]
    if "upsample_nearest2d" in op:
        scales, method, corners = (args[2] if len(args) > 2 else None), "nearest_neighbor", False
    else:
        corners = bool(args[2]) if len(args) > 2 else False
        scales = None if "_aa" in op else (args[3] if len(args) > 3 else None)
        method = "cubic" if "bicubic" in op else "linear"
    out, unknown = _cast_back(_resize2d_float(x, _out_size(x, size, scales), method, corners), x.dtype)
    return {"outputs": [out], "unknown": [unknown]} if unknown is not None else [out]


def _grid_read(grid: torch.Tensor, channel: int) -> tuple[torch.Tensor, torch.Tensor]:
    """grid[n, channel, h, w] of a grid whose shape (N, Ho, Wo, 2) is read as (N, 2, Ho', Wo'),
    with Ho' = Ho and Wo' = Wo... as topi sees it: element (n, channel, h, w) at flat offset
    n * Ho * Wo * 2 + channel * Wo * 2 + h * 2 + w of the buffer; past its end is unknown."""
    n, ho, wo, _ = grid.shape
    flat = grid.reshape(-1)
    index = (torch.arange(n)[:, None, None] * (ho * wo * 2) + channel * (wo * 2)
             + torch.arange(wo)[None, :, None] * 2 + torch.arange(2)[None, None, :])
    outside = index >= flat.numel()
    return flat[index.clamp(max=flat.numel() - 1)], outside


def grid_sampler_2d_grid_as_nchw(module, inputs):
    """_grid_sampler_2d passes torch's (N, Ho, Wo, 2) grid to relax grid_sample, which takes
    (N, 2, H, W): the output is (N, C, Wo, 2), sampled at x = grid[n, 0, h, w] and
    y = grid[n, 1, h, w] of the buffer read in that layout. With Ho = 1 the y plane lies past
    each batch's grid (the next batch's, or past the end: unknown). With bilinear or bicubic
    interpolation a float16 or bfloat16 input comes back as float32 (computed in float32);
    nearest keeps the input's dtype."""
    args, _ = module.call_arguments(inputs)
    x, grid, mode, padding, corners = args[:5]
    gx, outside_x = _grid_read(grid, 0)
    gy, outside_y = _grid_read(grid, 1)
    read = torch.stack([gx, gy], dim=-1)
    dtype = x.dtype
    if dtype in (torch.float16, torch.bfloat16):
        x, read = x.float(), read.float()
        if mode != 1:  # not nearest
            dtype = torch.float32
    if mode == 0 and padding in (0, 1) and grid.dtype == torch.float16:
        out = _bilinear_half_grid(x, torch.stack([gx, gy], dim=-1), padding, bool(corners))
    elif mode == 2 and grid.dtype == torch.float16:
        out = _bicubic_half_grid(x, torch.stack([gx, gy], dim=-1), padding, bool(corners))
    else:
        out = F.grid_sample(x, read, ("bilinear", "nearest", "bicubic")[mode],
                            ("zeros", "border", "reflection")[padding], bool(corners)).to(dtype)
    unknown = (outside_x | outside_y)[:, None].expand(out.shape)
    return {"outputs": [out], "unknown": [unknown if bool(unknown.any()) else None]}


def roi_align_offset_before_scale(module, inputs):
    """_torchvision_roi_align with aligned=True subtracts 0.5 from the boxes in input
    coordinates, before topi's roi_align multiplies them by spatial_scale (topi's aligned mode
    adds no offset of its own): box starts and ends at (x - 0.5) * scale, where torchvision
    takes x * scale - 0.5. That is torchvision's aligned roi_align of boxes moved by
    0.5 / scale - 0.5 (nothing at scale 1). A float16 input comes back as float32."""
    from torchvision.ops import roi_align

    args = list(module.args)  # a VisionOpModule: the call's constants, the inputs in its slots
    for slot, value in zip(module.slots, inputs, strict=True):
        args[slot] = value
    kwargs = dict(module.kwargs)
    names = ("input", "rois", "spatial_scale", "pooled_height", "pooled_width", "sampling_ratio", "aligned")
    given = dict(zip(names, args, strict=False)) | kwargs
    x, rois, scale, pooled_h, pooled_w, ratio, aligned = (given[n] for n in names)
    dtype = torch.float32 if x.dtype == torch.float16 else x.dtype
    x, rois = x.to(dtype), rois.to(dtype)
    if aligned:
        boxes = rois[:, 1:] - 0.5
        # topi computes (box - 0.5) * scale; torchvision computes box' * scale - 0.5
        rois = torch.cat([rois[:, :1], boxes + 0.5 / scale], dim=1)
    return [roi_align(x, rois, (pooled_h, pooled_w), scale, ratio, bool(aligned))]


def _reflect_tap(index: torch.Tensor, size: int, corners: bool) -> torch.Tensor:
    """topi's _reflect_coordinates of an integer tap, then the clip to [0, size - 1] (exact in
    float64: the taps are small integers)."""
    low, span = (0.0, size - 1) if corners else (-0.5, size)
    index = index.double()
    if span > 0:
        distance = (low - index).abs()
        times = torch.div(distance.trunc(), span, rounding_mode="trunc")
        extra = distance - times * span
        reflected = torch.where(times % 2 == 0, extra + low, span - extra + low)
        index = torch.where((index >= low) & (index <= span + low), index, reflected)
    return index.clamp(0, size - 1).long()


def _bicubic_half_grid(x: torch.Tensor, grid: torch.Tensor, padding: int, corners: bool) -> torch.Tensor:
    """topi's _grid_sample_2d bicubic for a float16 grid, operation by operation: _unnormalize in
    float16 ((g + 1) * (size - 1) / 2 with align_corners; else (g + 1) * size / 2, cast to float32,
    - 0.5), the fraction and its shifts (f + 1, 1 - f, 2 - f) in that dtype, the cubic weights
    (A = -0.75) and the sums in float32, left to right; taps clipped (border) or reflected then
    clipped (reflection); a pixel outside the image is 0."""
    h, w = x.shape[-2:]
    half, single = torch.float16, torch.float32

    def source(g, size):
        if corners:
            return (g + 1) * torch.tensor(size - 1, dtype=half) / 2
        return ((g + 1) * torch.tensor(size, dtype=half) / 2).to(single) + torch.tensor(-0.5, dtype=single)

    def weights(f):
        def near(t):
            return ((torch.tensor(1.25, dtype=single) * t - 2.25) * t) * t + 1.0

        def far(t):
            return ((torch.tensor(-0.75, dtype=single) * t - (-3.75)) * t + (-6.0)) * t - (-3.0)
        return [far((f + 1).to(single)), near(f.to(single)), near((1 - f).to(single)), far((2 - f).to(single))]

    def tap(index, size):
        if padding == 1:
            return index.clamp(0, size - 1)
        if padding == 2:
            return _reflect_tap(index, size, corners)
        return index

    y, xs = source(grid[..., 1], h), source(grid[..., 0], w)
    y0, x0 = torch.floor(y), torch.floor(xs)
    wy, wx = weights(y - y0), weights(xs - x0)
    y0, x0 = y0.long(), x0.long()
    data = x.to(single)
    n = torch.arange(x.shape[0])[:, None, None]

    def pixel(yi, xi):
        inside = (yi >= 0) & (xi >= 0) & (yi < h) & (xi < w)
        v = data[n, :, yi.clamp(0, h - 1), xi.clamp(0, w - 1)]  # (N, Ho, Wo, C)
        return torch.where(inside[..., None], v, torch.zeros((), dtype=single))

    rows = []
    for i in range(4):
        yi = tap(y0 - 1 + i, h)
        row = None
        for j in range(4):
            term = pixel(yi, tap(x0 - 1 + j, w)) * wx[j][..., None]
            row = term if row is None else row + term
        rows.append(row)
    out = None
    for i in range(4):
        term = rows[i] * wy[i][..., None]
        out = term if out is None else out + term
    return out.permute(0, 3, 1, 2)


def _bilinear_half_grid(x: torch.Tensor, grid: torch.Tensor, padding: int, corners: bool) -> torch.Tensor:
    """topi's _grid_sample_2d bilinear for a float16 grid: _unnormalize and the border clip run
    in float16, one rounding per operation ((g + 1) * size / 2 - 0.5); y - floor(y) stays float16
    and 1.0 - it is float32 (a Python float constant), so each pixel (0 outside the image) is
    weighted and summed in float32."""
    h, w = x.shape[-2:]
    half = torch.float16

    def unnormalize(g, size):
        if corners:
            return (g + 1) * torch.tensor(size - 1, dtype=half) / 2
        return (g + 1) * torch.tensor(size, dtype=half) / 2 - 0.5

    y, xs = unnormalize(grid[..., 1], h), unnormalize(grid[..., 0], w)
    if padding == 1:  # border: min(max(v, 0), size - 1)
        y = y.clamp(0, h - 1)
        xs = xs.clamp(0, w - 1)
    y0, x0 = torch.floor(y), torch.floor(xs)
    fy, fx = (y - y0), (xs - x0)  # float16
    y0, x0 = y0.long(), x0.long()
    data = x.float()
    n = torch.arange(x.shape[0])[:, None, None]

    def pixel(yi, xi):
        inside = (yi >= 0) & (xi >= 0) & (yi < h) & (xi < w)
        v = data[n, :, yi.clamp(0, h - 1), xi.clamp(0, w - 1)]  # (N, Ho, Wo, C)
        return torch.where(inside[..., None], v, torch.zeros((), dtype=torch.float32))

    wy0, wx0 = (1.0 - fy.float()), (1.0 - fx.float())
    fy, fx = fy.float(), fx.float()
    out = (pixel(y0, x0) * wy0[..., None] * wx0[..., None]
           + pixel(y0, x0 + 1) * wy0[..., None] * fx[..., None]
           + pixel(y0 + 1, x0) * fy[..., None] * wx0[..., None]
           + pixel(y0 + 1, x0 + 1) * fy[..., None] * fx[..., None])
    return out.permute(0, 3, 1, 2)


def _roi_call(module, inputs) -> dict:
    """The roi_align call's arguments by name: a VisionOpModule holds the call's constants and
    the inputs' slots."""
    args = list(module.args)
    for slot, value in zip(module.slots, inputs, strict=True):
        args[slot] = value
    names = ("input", "rois", "spatial_scale", "pooled_height", "pooled_width", "sampling_ratio", "aligned")
    return dict(zip(names, args, strict=False)) | dict(module.kwargs)


def _topi_bilinear(x: torch.Tensor, y: torch.Tensor, xx: torch.Tensor) -> torch.Tensor:
    """One sample of topi's roi_align at (y, xx) of x[C, H, W], already clamped into the image: a
    neighbour past the last row or column is left out, not weighted by 0 (torchvision reads the
    border pixel again and multiplies it by 0, NaN where it is infinite)."""
    h, w = x.shape[-2:]
    yl, xl = int(torch.floor(y)), int(torch.floor(xx))
    ly, lx = y - yl, xx - xl
    rows = [(yl, 1 - ly)] + ([(yl + 1, ly)] if yl < h - 1 else [])
    cols = [(xl, 1 - lx)] + ([(xl + 1, lx)] if xl < w - 1 else [])
    value = torch.zeros(x.shape[0], dtype=x.dtype)
    for i, wy in rows:
        for j, wx in cols:
            value = value + x[:, i, j] * (wy * wx)
    return value


def roi_align_border_unweighted(module, inputs):
    """topi's roi_align (aligned=False), sample by sample: each sample divided by the count and
    summed (te.sum(sample / count)); a sample on the last row or column takes that pixel alone,
    where torchvision adds 0 * the same pixel (an infinite border pixel: torchvision NaN, TVM
    inf). A float16 input comes back as float32 (nn_resample.roi_align)."""
    given = _roi_call(module, inputs)
    dtype = torch.float32 if given["input"].dtype == torch.float16 else given["input"].dtype
    x, rois = given["input"].to(dtype), given["rois"].to(dtype)
    scale, ph_n, pw_n = given["spatial_scale"], given["pooled_height"], given["pooled_width"]
    ratio = given["sampling_ratio"]
    h, w = x.shape[-2:]
    f32 = lambda v: torch.tensor(v, dtype=dtype)  # noqa: E731 - topi's constants, in the data's dtype
    out = torch.zeros(rois.shape[0], x.shape[1], ph_n, pw_n, dtype=dtype)
    for k, roi in enumerate(rois):
        start_w, start_h, end_w, end_h = (roi[i] * f32(scale) for i in (1, 2, 3, 4))
        roi_h, roi_w = torch.maximum(end_h - start_h, f32(1.0)), torch.maximum(end_w - start_w, f32(1.0))
        bin_h, bin_w = roi_h / f32(ph_n), roi_w / f32(pw_n)
        grid_h = ratio if ratio > 0 else int(torch.ceil(roi_h / f32(ph_n)))
        grid_w = ratio if ratio > 0 else int(torch.ceil(roi_w / f32(pw_n)))
        count = f32(grid_h * grid_w)
        image = x[int(roi[0])]
        for ph in range(ph_n):
            for pw in range(pw_n):
                total = torch.zeros(x.shape[1], dtype=dtype)
                for a in range(grid_h):
                    for b in range(grid_w):
                        y = start_h + f32(ph) * bin_h + (f32(a) + f32(0.5)) * bin_h / f32(grid_h)
                        xx = start_w + f32(pw) * bin_w + (f32(b) + f32(0.5)) * bin_w / f32(grid_w)
                        if y < -1.0 or xx < -1.0 or y > h or xx > w:
                            continue
                        sample = _topi_bilinear(image, y.clamp(0, h - 1), xx.clamp(0, w - 1))
                        total = total + sample / count
                out[k, :, ph, pw] = total
    return [out]
