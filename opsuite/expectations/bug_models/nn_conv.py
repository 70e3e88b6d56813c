"""Models of the convolution converters' known bugs (known_failures/nn_conv.toml)."""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from opsuite.expectations.bug_models import on_call


def _pairs(value, nd: int) -> list[int]:
    return list(value) * nd if len(value) == 1 else list(value)


@on_call
def conv_transpose2d_by_dilated_input(x, weight, bias=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                                      groups=1, dilation=(1, 1)):
    """topi's conv2d_transpose: the input dilated by the stride and the kernel by the dilation
    (zeros inserted between their elements), the input padded by dilation * (k - 1) - padding
    (+ output_padding after), then a plain convolution with the flipped kernel. Every output
    element sums over the inserted zeros too, so an infinite weight or input meets
    0 * inf = NaN where torch's scatter never multiplies them. conv1d_transpose is lowered the
    same way (topi's group_conv1d_transpose_ncw, the kernel dilated by relax's legalisation):
    a height of 1."""
    return _transpose_by_dilated_input(x, weight, bias, stride, padding, output_padding, groups, dilation)


def _transpose_by_dilated_input(x, weight, bias, stride, padding, output_padding, groups, dilation):
    if weight.dim() == 3:
        def tall(v, pad):
            return [pad] + _pairs(list(v), 1)
        x = x.unsqueeze(-2)
        out = _transpose_by_dilated_input(x, weight.unsqueeze(-2), bias, tall(stride, 1), tall(padding, 0),
                                          tall(output_padding, 0), groups, tall(dilation, 1))
        return out.squeeze(-2)
    stride, padding = _pairs(stride, 2), _pairs(padding, 2)
    output_padding, dilation = _pairs(output_padding, 2), _pairs(dilation, 2)
    unbatched = x.dim() == 3
    if unbatched:
        x = x.unsqueeze(0)
    n, c, h, w = x.shape
    dilated = torch.zeros(n, c, (h - 1) * stride[0] + 1, (w - 1) * stride[1] + 1, dtype=x.dtype)
    dilated[:, :, ::stride[0], ::stride[1]] = x
    pads = []
    for axis in (1, 0):  # F.pad lists the last axis first
        reach = dilation[axis] * (weight.shape[2 + axis] - 1)
        pads += [reach - padding[axis], reach - padding[axis] + output_padding[axis]]
    padded = F.pad(dilated, pads)
    c_in, c_out = weight.shape[:2]
    kh, kw = (dilation[i] * (weight.shape[2 + i] - 1) + 1 for i in (0, 1))
    dilated_kernel = torch.zeros(c_in, c_out, kh, kw, dtype=weight.dtype)
    dilated_kernel[:, :, ::dilation[0], ::dilation[1]] = weight
    kernel = dilated_kernel.flip(2, 3).reshape(groups, c_in // groups, c_out, kh * kw).transpose(1, 2)
    kernel = kernel.reshape(groups, c_out, -1)  # (group, out channel, (in channel, kh, kw))
    columns = F.unfold(padded, (kh, kw)).reshape(n, groups, 1, kernel.shape[-1], -1)
    # one term at a time in the reduction's order (in channel, kh, kw), as the compiled loop
    # adds them: with infinities and values near the maximum the order decides inf or NaN
    acc = torch.zeros(n, groups, c_out, columns.shape[-1], dtype=x.dtype)
    for j in range(kernel.shape[-1]):
        acc = acc + columns[:, :, :, j, :] * kernel[None, :, :, j, None]
    out = acc.reshape(n, groups * c_out, padded.shape[2] - kh + 1, -1)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out


@on_call
def col2im_diagonal_planes(columns, output_size, kernel_size, dilation, padding, stride):
    """col2im decomposes into index_put(zeros, [None, None, rows, cols], values, accumulate).
    _index_put replaces each None by arange(dim).reshape(dim, 1, ...), both aligned on the same
    axis, so the batch and channel indices broadcast together instead of as an outer product,
    and topi's index_put reads the values by flat position in that broadcast index space
    (values[k], no broadcasting): with batch == channels > 1 only the planes (i, i) are
    written, each with batch 0's channel i; every other plane stays 0."""
    unbatched = columns.dim() == 2
    if unbatched:
        columns = columns.unsqueeze(0)
    first = F.fold(columns[:1], output_size, kernel_size, dilation, padding, stride)[0]
    out = torch.zeros(columns.shape[0], *first.shape, dtype=columns.dtype)
    planes = min(columns.shape[0], first.shape[0])
    if columns.shape[0] == 1 or first.shape[0] == 1:
        out = F.fold(columns, output_size, kernel_size, dilation, padding, stride)
    else:
        for i in range(planes):
            out[i, i] = first[i]
    return out.squeeze(0) if unbatched else out


def _direct_conv(x, weight, bias, stride, padding, dilation, groups):
    """topi's direct convolution (conv1d_ncw, conv2d_nchw, conv3d_ncdhw and their group forms):
    each output element sums its input channel's window one product at a time, the reduction in
    (in channel, kernel offsets) order, each product rounded before it is added (no fused
    multiply-add), so a product beyond the dtype's range is inf even where the exact sum is
    finite, and meeting an infinity of the other sign makes NaN."""
    nd = x.dim() - 2
    stride, padding, dilation = (_pairs(list(v), nd) for v in (stride, padding, dilation))
    x = F.pad(x, [p for side in reversed(padding) for p in (side, side)])
    out_channels, per_group = weight.shape[0], weight.shape[1]
    sizes = [(x.shape[2 + i] - dilation[i] * (weight.shape[2 + i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    source = [(o // (out_channels // groups)) * per_group for o in range(out_channels)]
    acc = torch.zeros(x.shape[0], out_channels, *sizes, dtype=x.dtype)
    for c in range(per_group):
        channels = [first + c for first in source]
        for offsets in itertools.product(*(range(k) for k in weight.shape[2:])):
            window = tuple(slice(o * dilation[i], o * dilation[i] + stride[i] * (sizes[i] - 1) + 1, stride[i])
                           for i, o in enumerate(offsets))
            acc = acc + x[(slice(None), channels) + window] * weight[(slice(None), c) + offsets].reshape(1, -1, *[1] * nd)
    return acc if bias is None else acc + bias.reshape(1, -1, *[1] * nd)


def direct_conv(module, inputs):
    """A forward convolution in its own dtype, summed as topi's direct convolution sums it."""
    args, _ = module.call_arguments(inputs)
    return _forward(module, args)


def _forward(module, args):
    op = str(module.op)
    if "convolution" in op:
        x, weight, bias, stride, padding, dilation, _, _, groups = args
    else:
        x, weight, bias, stride, padding, dilation, groups = (list(args) + [None, [1], [0], [1], 1][len(args) - 2:])[:7]
    unbatched = x.dim() == weight.dim() - 1
    x = x.unsqueeze(0) if unbatched else x
    out = _direct_conv(x, weight, bias, stride, padding, dilation, groups)
    return out.squeeze(0) if unbatched else out


def conv_in_float32(module, inputs):
    """out_dtype="float32" hard-coded: relax convolves the operands cast to float32 and returns
    float32, whatever their dtype (a float64 convolution loses precision, an int64 one rounds);
    summed as topi sums it (`_direct_conv`, `_transpose_by_dilated_input`)."""
    as_float32 = torch.utils._pytree.tree_map(
        lambda t: t.float() if isinstance(t, torch.Tensor) else t, inputs)
    args, _ = module.call_arguments(as_float32)
    op = str(module.op)
    if "conv_transpose" in op:
        return _transpose_by_dilated_input(*(list(args) + [None, [1], [0], [0], 1, [1]][len(args) - 2:])[:8])
    if "convolution" in op and args[6]:
        x, weight, bias, stride, padding, dilation, _, output_padding, groups = args
        return _transpose_by_dilated_input(x, weight, bias, stride, padding, output_padding, groups, dilation)
    return _forward(module, args)
