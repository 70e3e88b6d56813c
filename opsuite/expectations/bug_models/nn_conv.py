"""Models of the convolution converters' known bugs (known_failures/nn_conv.toml)."""

from __future__ import annotations

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
    0 * inf = NaN where torch's scatter never multiplies them."""
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


def conv_in_float32(module, inputs):
    """out_dtype="float32" hard-coded: relax convolves the operands cast to float32 and returns
    float32, whatever their dtype (a float64 convolution loses precision, an int64 one rounds)."""
    as_float32 = torch.utils._pytree.tree_map(
        lambda t: t.float() if isinstance(t, torch.Tensor) else t, inputs)
    return module(*as_float32)
