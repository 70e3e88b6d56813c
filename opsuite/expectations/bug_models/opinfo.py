"""Models of known bugs met by OpInfo cases (known_failures/opinfo.toml).

Each is written against the OpInfo sample's own call (`on_call`), and computes what the
converter of the aten overload the sample decomposes to emits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from opsuite.expectations.bug_models import on_call
from opsuite.expectations.bug_models.nn_norm import topi_batch_norm_eval


@on_call
def batch_norm_functional_outputs(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """_batch_norm_legit_functional: relax batch_norm in training mode (batch statistics, the
    biased variance), returned as (output, new running mean, zeros, zeros, zeros): torch's
    output 1 and 2 (the saved mean and inverse std) are relax's momentum-updated running mean
    and zeros."""
    axes = [0] + list(range(2, x.dim()))
    shape = [1, x.shape[1]] + [1] * (x.dim() - 2)
    mean = x.mean(dim=axes)
    var = ((x - mean.reshape(shape)) ** 2).mean(dim=axes)
    out = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    new_mean = (1 - momentum) * running_mean + momentum * mean
    return [out, new_mean, torch.zeros(x.shape[1], dtype=x.dtype)]


def _source(out_side: int, in_side: int, align_corners: bool) -> torch.Tensor:
    """topi.image.resize's get_inx in float32: half_pixel (x + 0.5) * in / out - 0.5, or
    align_corners (in - 1) / (out - 1) * x."""
    x = torch.arange(out_side, dtype=torch.float32)
    if align_corners:
        return torch.tensor(in_side - 1, dtype=torch.float32) / (out_side - 1) * x
    return (x + 0.5) * (torch.tensor(in_side, dtype=torch.float32) / out_side) - 0.5


def _lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return a * (1.0 - t) + b * t


@on_call
def upsample_bilinear_without_antialias(x, output_size=None, align_corners=False, scale_factors=None):
    """_upsample_bilinear2d_aa: plain bilinear resize2d to the output size (from scale_factors:
    int(side * factor)), no antialiasing filter; computed as topi's resize2d does, in float32:
    lerp(a, b, t) = a * (1 - t) + b * t along x, then along y, neighbours clamped to the edge."""
    if output_size is None:
        output_size = [int(side * factor) for side, factor in zip(x.shape[2:], scale_factors, strict=True)]
    height, width = x.shape[2:]
    in_y, in_x = _source(output_size[0], height, align_corners), _source(output_size[1], width, align_corners)
    y0, x0 = torch.floor(in_y), torch.floor(in_x)
    ty, tx = (in_y - y0).view(-1, 1), in_x - x0
    y0, x0 = y0.long(), x0.long()

    def pixel(dy, dx):
        rows = (y0 + dy).clamp(0, height - 1)
        cols = (x0 + dx).clamp(0, width - 1)
        return x[:, :, rows][:, :, :, cols]

    top = _lerp(pixel(0, 0), pixel(0, 1), tx)
    bottom = _lerp(pixel(1, 0), pixel(1, 1), tx)
    return _lerp(top, bottom, ty).to(x.dtype)


@on_call
def grid_sample_grid_as_nchw(x, grid, interpolation_mode=0, padding_mode=0, align_corners=False):
    """_grid_sampler_2d hands torch's (N, H, W, 2) grid to relax grid_sample, which reads a grid
    laid out (N, 2, H, W): the output is (N, C, W, 2) (grid dims 2 and 3), sampled at x =
    grid[n, 0, h, w] and y = grid[n, 1, h, w] of the torch-laid-out tensor."""
    read = grid[:, 0:2].permute(0, 2, 3, 1)
    return torch.grid_sampler_2d(x, read, interpolation_mode, padding_mode, align_corners)


_GRID_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
_GRID_PADDINGS = {"zeros": 0, "border": 1, "reflection": 2}


@on_call
def functional_grid_sample_grid_as_nchw(x, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """F.grid_sample decomposes to grid_sampler_2d: the same grid read as (N, 2, H, W)."""
    return grid_sample_grid_as_nchw.__wrapped__(x, grid, _GRID_MODES[mode], _GRID_PADDINGS[padding_mode],
                                                bool(align_corners))


@on_call
def group_norm_output_thrice(x, weight, bias, n, c, hw, group, eps):
    """_native_group_norm returns the normalised tensor alone; the program's getitem of output
    1 and 2 on a tensor returns the tensor itself: (output, output, output)."""
    out = torch.ops.aten.native_group_norm(x, weight, bias, n, c, hw, group, eps)[0]
    return [out, out, out]


@on_call
def layer_norm_output_thrice(x, normalized_shape, weight, bias, eps):
    """_native_layer_norm returns the normalised tensor alone: (output, output, output)."""
    out = torch.ops.aten.native_layer_norm(x, normalized_shape, weight, bias, eps)[0]
    return [out, out, out]


@on_call
def max_pool3d_zero_indices(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """_max_pool3d_with_indices returns zeros_like(output) as the indices: float zeros."""
    out = F.max_pool3d(x, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)
    return [out, torch.zeros_like(out)]



def avg_pool_without_divisor(module, inputs):
    """F.avg_pool2d/3d with divisor_override: _avg_pool2d/_avg_pool3d never read it, so the sums
    are divided by the window's size (as count_include_pad and ceil_mode define it)."""
    args, kwargs = module.call_arguments(inputs)
    names = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
    given = {**dict(zip(names, args[1:], strict=False)), **kwargs}
    given.pop("divisor_override", None)
    pool = F.avg_pool3d if module.op.__name__ == "avg_pool3d" else F.avg_pool2d
    return pool(args[0], **given)


def max_pool_with_zero_indices(module, inputs):
    """F.max_pool1d/2d(..., return_indices=True): _max_pool*_with_indices return (max_pool,
    zeros_like(output)): the indices are all 0, in the input's dtype."""
    from opsuite.expectations.bug_models.nn_pool import tvm_max_pool

    args, kwargs = module.call_arguments(inputs)
    names = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
    given = {**dict(zip(names, args[1:], strict=False)), **kwargs}
    given.pop("return_indices", None)
    nd = 1 if "1d" in module.op.__name__ else 2
    stride = given.get("stride")
    out = tvm_max_pool(args[0], nd, given["kernel_size"], () if stride is None else stride,
                       given.get("padding", 0), given.get("dilation", 1), given.get("ceil_mode", False))
    return [out, torch.zeros_like(out)]


@on_call
def native_batch_norm_eval_output_thrice(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """native_batch_norm in eval exports as _native_batch_norm_legit_no_training, whose converter
    returns the normalised tensor alone: torch's save_mean and save_invstd (empty in eval) read
    that same tensor."""
    out = topi_batch_norm_eval(x, weight, bias, running_mean, running_var, eps)
    return [out, out, out]


@on_call
def flash_attention_decomposed(*args, **kwargs):
    """torch's own decomposition of _scaled_dot_product_flash_attention_for_cpu (run before import)
    returns _scaled_dot_product_attention_math's (output, attention weights): output 1 is the
    (N, H, L, S) weights where the op returns the (N, H, L) logsumexp."""
    from torch._decomp import decomposition_table

    op = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu.default
    return list(decomposition_table[op](*args, **kwargs))
