"""Models of the pooling converters' known bugs (known_failures/nn_pool.toml)."""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F

from opsuite.expectations.bug_models import on_call


def _tuple(value, nd: int) -> list[int]:
    if isinstance(value, int):
        return [value] * nd
    value = list(value)
    return value * nd if len(value) == 1 else value


def _lowest(dtype: torch.dtype):
    """topi's min_value: the dtype's lowest; bfloat16's is computed in float32, whose lowest
    rounds to -inf in bfloat16."""
    if dtype == torch.bfloat16:
        return float("-inf")
    return torch.finfo(dtype).min if dtype.is_floating_point else torch.iinfo(dtype).min


def _out_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (math.ceil if ceil_mode else math.floor)(span / stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:  # the last window must start inside
        out -= 1
    return out


def _windows(x: torch.Tensor, nd: int, kernel, stride, padding, dilation, ceil_mode, fill) -> torch.Tensor:
    """(N, C, *out, window): each output's window elements in row-major order, the padding
    (also the extra right/bottom padding ceil_mode needs) holding `fill`."""
    pads, outs = [], []
    for axis in range(nd):
        size = x.shape[2 + axis]
        out = _out_size(size, kernel[axis], stride[axis], padding[axis], dilation[axis], ceil_mode)
        reach = (out - 1) * stride[axis] + dilation[axis] * (kernel[axis] - 1) + 1
        outs.append(out)
        pads.append((padding[axis], max(reach - size - padding[axis], 0)))
    flat_pads = [p for pair in reversed(pads) for p in pair]
    padded = F.pad(x, flat_pads, value=fill) if any(flat_pads) else x
    view = padded
    for axis in range(nd):
        span = dilation[axis] * (kernel[axis] - 1) + 1
        view = view.unfold(2 + axis, span, stride[axis])[..., ::dilation[axis]]
        view = view.narrow(2 + axis, 0, outs[axis])
    return view.reshape(*view.shape[:2 + nd], math.prod(kernel))


def tvm_max_pool(x, nd, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False) -> torch.Tensor:
    """relax max_pool{nd}d as topi computes it: the padding holds the dtype's lowest value, and
    the window is reduced one element at a time with TIR's max, select(acc > v, acc, v): a NaN
    replaces the running maximum and the next element replaces the NaN, so a NaN survives only
    as the window's last element."""
    kernel = _tuple(kernel_size, nd)
    stride = _tuple(stride, nd) if stride not in (None, [], ()) else kernel
    padding, dilation = _tuple(padding, nd), _tuple(dilation, nd)
    unbatched = x.dim() == nd + 1
    if unbatched:
        x = x.unsqueeze(0)
    lowest = _lowest(x.dtype)
    windows = _windows(x, nd, kernel, stride, padding, dilation, ceil_mode, lowest)
    acc = torch.full(windows.shape[:-1], lowest, dtype=x.dtype)
    for j in range(windows.shape[-1]):
        value = windows[..., j]
        acc = torch.where(acc > value, acc, value)
    return acc.squeeze(0) if unbatched else acc


def max_pool_with_zero_indices(module, inputs):
    """_max_pool2d_with_indices / _max_pool3d_with_indices return (max_pool, zeros_like(output)):
    the indices are all 0, in the input's dtype."""
    args, kwargs = module.call_arguments(inputs)
    nd = 3 if "max_pool3d" in module.op_name else 2
    out = tvm_max_pool(args[0], nd, *args[1:], **kwargs)
    return [out, torch.zeros_like(out)]


def avg_pool_without_divisor(module, inputs):
    """_avg_pool2d/_avg_pool3d never read divisor_override: the sums are divided by the window's
    size (as count_include_pad and ceil_mode define it), as if no divisor were given."""
    args, kwargs = module.call_arguments(inputs)
    pool = F.avg_pool3d if "avg_pool3d" in module.op_name else F.avg_pool2d
    x, kernel_size, stride = args[0], args[1], (args[2] if len(args) > 2 else None) or None
    rest = list(args[3:6])  # padding, ceil_mode, count_include_pad; divisor_override dropped
    return pool(x, kernel_size, stride, *rest)


def max_pool(module, inputs):
    """_max_pool1d/2d/3d build relax max_pool{nd}d, which topi pads with the dtype's lowest finite
    value (not -inf) and reduces with select(acc > v, acc, v): see tvm_max_pool."""
    args, kwargs = module.call_arguments(inputs)
    nd = next(n for n in (1, 2, 3) if f"max_pool{n}d" in module.op_name)
    return [tvm_max_pool(args[0], nd, *args[1:], **kwargs)]


@on_call
def adaptive_avg_pool_even_axes_first(x, output_size):
    """relax adaptive_avg_pool as legalised: each window is summed one element at a time in x's
    dtype with the reduction axes whose input side is a multiple of the output side as the outer
    loops and the others inside (the PrimFunc's adaptive_pool_sum_l1 block), then divided by the
    window's size; torch sums in row-major order, so where huge values cancel, other small terms
    are absorbed."""
    nd = len(output_size)
    sizes = list(x.shape[-nd:])
    even = [a for a in range(nd) if sizes[a] % output_size[a] == 0]
    order = even + [a for a in range(nd) if a not in even]
    out = torch.empty(*x.shape[:-nd], *output_size, dtype=x.dtype)
    for index in itertools.product(*(range(o) for o in output_size)):
        bounds = [(index[a] * sizes[a] // output_size[a], -(-(index[a] + 1) * sizes[a] // output_size[a]))
                  for a in range(nd)]
        acc = torch.zeros(x.shape[:-nd], dtype=x.dtype)
        for offsets in itertools.product(*(range(*bounds[a]) for a in order)):
            position = [0] * nd
            for axis, offset in zip(order, offsets, strict=True):
                position[axis] = offset
            acc = acc + x[(..., *position)]
        out[(..., *index)] = acc / math.prod(hi - lo for lo, hi in bounds)
    return [out]
