"""Models of the normalisation converters' known bugs (known_failures/nn_norm.toml).

The batch-norm converters (tvm/relax/frontend/torch/exported_program_translator.py,
`_batch_norm`) emit relax.nn.batch_norm, legalised by topi.nn.batch_norm (python TE):

    training:  mean = sum(x) / n, var = sum((x - mean)^2) / n over every axis but 1,
               out = (x - mean) / sqrt(var + eps)
    eval:      out = (x - running_mean) / sqrt(running_var + eps)
    then       out * weight, + bias; new running mean = (1 - momentum) * running_mean + momentum * mean

The sums are loops in the input's dtype, and `var + eps` adds a float32 constant, which
promotes a float16 or bfloat16 result to float32: the models compute in those same steps.
bfloat16 is computed in float32 throughout (TVM's BF16 legalisation keeps its intermediate
buffers in float32), float16 one rounded operation at a time.
"""

from __future__ import annotations

import torch

from opsuite.expectations.bug_models import on_call

_HALF = (torch.float16, torch.bfloat16)


def _computed(t):
    """A tensor as TVM computes with it: bfloat16 in float32, anything else as it is."""
    return t.float() if t is not None and t.dtype == torch.bfloat16 else t


def _channel_shape(x: torch.Tensor) -> list[int]:
    shape = [1] * x.dim()
    shape[1] = x.shape[1]
    return shape


def _loop_sum(t: torch.Tensor, dims: list[int]) -> torch.Tensor:
    """A reduction over `dims` as TVM's loop computes it: one element at a time, in row-major
    order, the accumulator rounded to t's dtype after each addition."""
    keep = [d for d in range(t.dim()) if d not in dims]
    flat = t.permute(keep + dims).reshape(*[t.shape[d] for d in keep], -1)
    acc = torch.zeros(flat.shape[:-1], dtype=t.dtype)
    for i in range(flat.shape[-1]):
        acc = acc + flat[..., i]
    return acc


def _plus_eps(var: torch.Tensor, eps: float) -> torch.Tensor:
    """TE's `var + eps`: eps is a float32 constant, so a half variance is promoted to float32."""
    if var.dtype in _HALF:
        return var.float() + torch.tensor(eps, dtype=torch.float32)
    return var + torch.tensor(eps, dtype=var.dtype)


def _affine(out: torch.Tensor, x: torch.Tensor, weight, bias) -> torch.Tensor:
    shape = _channel_shape(x)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def topi_batch_norm_train(x, weight, bias, eps) -> tuple[torch.Tensor, torch.Tensor]:
    """topi.nn.batch_norm with training=True: the output and the batch mean."""
    x, weight, bias = _computed(x), _computed(weight), _computed(bias)
    dims = [d for d in range(x.dim()) if d != 1]
    n = torch.tensor(x.numel() // x.shape[1], dtype=x.dtype)
    mean = _loop_sum(x, dims) / n
    diff = x - mean.reshape(_channel_shape(x))
    var = _loop_sum(diff * diff, dims) / n
    out = diff / torch.sqrt(_plus_eps(var.reshape(_channel_shape(x)), eps))
    return _affine(out, x, weight, bias), mean


def topi_batch_norm_eval(x, weight, bias, running_mean, running_var, eps) -> torch.Tensor:
    x, weight, bias = _computed(x), _computed(weight), _computed(bias)
    running_mean, running_var = _computed(running_mean), _computed(running_var)
    shape = _channel_shape(x)
    mean = running_mean if running_mean is not None else torch.zeros(x.shape[1], dtype=x.dtype)
    var = running_var if running_var is not None else torch.ones(x.shape[1], dtype=x.dtype)
    out = (x - mean.reshape(shape)) / torch.sqrt(_plus_eps(var.reshape(shape), eps))
    return _affine(out, x, weight, bias)


@on_call
def batch_norm_as_training_momentum_eps(x, weight, bias, running_mean, running_var, training, momentum, eps,
                                        cudnn_enabled=False):
    """batch_norm.default goes to `_batch_norm` with the schema read as (..., momentum, eps) from
    args[5], args[6]: batch statistics always (training=True whatever `training` says), and
    eps = momentum."""
    return [topi_batch_norm_train(x, weight, bias, momentum)[0]]


def _new_running_mean(running_mean, batch_mean, momentum):
    """(1 - momentum) * running_mean + momentum * mean, the python floats float32 constants that
    promote half operands."""
    dtype = torch.float32 if batch_mean.dtype in _HALF else batch_mean.dtype
    if running_mean is None:
        running_mean = torch.zeros_like(batch_mean)
    return (torch.tensor(1 - momentum, dtype=dtype) * running_mean.to(dtype)
            + torch.tensor(momentum, dtype=dtype) * batch_mean.to(dtype))


@on_call
def native_batch_norm_legit_functional_always_training(x, weight, bias, running_mean, running_var, training,
                                                       momentum, eps):
    """_batch_norm_legit_functional: batch statistics even in eval mode (the training flag only
    ever switches training on), then (output, new running mean, zeros, zeros, zeros) for torch's
    (output, save_mean, save_invstd, new running mean, new running var)."""
    out, mean = topi_batch_norm_train(x, weight, bias, eps)
    zeros = torch.zeros(x.shape[1], dtype=x.dtype)
    return [out, _new_running_mean(running_mean, mean, momentum), zeros, zeros, zeros]


@on_call
def native_batch_norm_legit_always_training(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """_native_batch_norm_legit.default decomposes to the functional form, whose converter's first
    three outputs come back: (output from batch statistics, new running mean, zeros)."""
    return native_batch_norm_legit_functional_always_training.__wrapped__(
        x, weight, bias, running_mean, running_var, training, momentum, eps)[:3]


@on_call
def native_batch_norm_legit_no_training_output_thrice(x, weight, bias, running_mean, running_var, momentum, eps):
    """_batch_norm_legit_no_training returns the normalised tensor alone, so torch's getitem 1 and 2
    (save_mean, save_invstd: empty in eval) read that same tensor."""
    out = topi_batch_norm_eval(x, weight, bias, running_mean, running_var, eps)
    return [out, out, out]


def _rsqrt(t: torch.Tensor) -> torch.Tensor:
    return 1 / torch.sqrt(t)


def topi_instance_norm(x, weight, bias, axes: list[int], eps: float) -> torch.Tensor:
    """topi.nn.instance_norm (C++): one pass summing x and x^2 in float32, var = E[x^2] - mean^2,
    out = (x - mean) * rsqrt(var + eps), cast back to float16 for a float16 input, then
    * weight + bias over axis 1 (ones and zeros where torch has none)."""
    x32 = x.float()
    n = 1
    for d in axes:
        n *= x.shape[d]
    keep = [1 if d in axes else s for d, s in enumerate(x.shape)]
    total = _loop_sum(x32, axes).reshape(keep)
    squares = _loop_sum(x32 * x32, axes).reshape(keep)
    mean = total / n
    var = squares / n - mean * mean
    out = ((x32 - mean) * _rsqrt(var + eps)).to(x.dtype)
    shape = _channel_shape(x)
    out = out * (weight if weight is not None else torch.ones(x.shape[1], dtype=x.dtype)).reshape(shape)
    return out + (bias if bias is not None else torch.zeros(x.shape[1], dtype=x.dtype)).reshape(shape)


@on_call
def instance_norm_default_eps(x, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                              cudnn_enabled=False):
    """_instance_norm reads eps from args[4] (running_var), None without running statistics, so
    eps is always the default 1e-5; statistics per instance, over the axes after 1."""
    return [topi_instance_norm(x, weight, bias, list(range(2, x.dim())), 1e-5)]


@on_call
def native_batch_norm_legit_no_stats_output_thrice(x, weight, bias, training, momentum, eps):
    """_batch_norm_legit_no_stats: relax instance_norm over every axis but 1 (batch statistics,
    right), returned alone, so getitem 1 and 2 (save_mean, save_invstd) read that same tensor."""
    out = topi_instance_norm(x, weight, bias, [0] + list(range(2, x.dim())), eps)
    return [out, out, out]


def topi_layer_norm(x, weight, bias, normalized_shape, eps) -> torch.Tensor:
    """topi.nn.layer_norm (C++), two passes in float32: mean, then var = E[(x - mean)^2];
    out = (x - mean) * rsqrt(var + eps), cast back for float16, then * weight + bias. A row
    whose squares overflow has var = inf and comes out 0."""
    axes = list(range(x.dim() - len(normalized_shape), x.dim()))
    x32 = x.float()
    n = 1
    for d in axes:
        n *= x.shape[d]
    keep = [1 if d in axes else s for d, s in enumerate(x.shape)]
    mean = _loop_sum(x32, axes).reshape(keep) / n
    diff = x32 - mean
    var = _loop_sum(diff * diff, axes).reshape(keep) / n
    out = (diff * _rsqrt(var + eps)).to(x.dtype)
    out = out * (weight if weight is not None else torch.ones(normalized_shape, dtype=x.dtype))
    return out + (bias if bias is not None else torch.zeros(normalized_shape, dtype=x.dtype))


@on_call
def native_layer_norm_output_thrice(x, normalized_shape, weight, bias, eps):
    """_native_layer_norm returns relax layer_norm's output alone, so getitem 1 and 2 (mean and
    rstd) read that same tensor."""
    out = topi_layer_norm(x, weight, bias, list(normalized_shape), eps)
    return [out, out, out]



def topi_group_norm(x, weight, bias, groups: int, eps: float) -> torch.Tensor:
    """topi.nn.group_norm (C++): x reshaped to (N, G, C/G, ...), one pass summing x and x^2 in
    float32 (a float16 input cast first), var = E[x^2] - mean^2, out = (x - mean) * rsqrt(var +
    eps), cast back for float16, then * weight + bias. A group whose squares overflow has
    var = inf - inf = NaN."""
    grouped = x.float().reshape(x.shape[0], groups, x.shape[1] // groups, *x.shape[2:])
    axes = list(range(2, grouped.dim()))
    n = 1
    for d in axes:
        n *= grouped.shape[d]
    keep = [1 if d in axes else s for d, s in enumerate(grouped.shape)]
    mean = _loop_sum(grouped, axes).reshape(keep) / n
    var = _loop_sum(grouped * grouped, axes).reshape(keep) / n - mean * mean
    out = ((grouped - mean) * _rsqrt(var + eps)).to(x.dtype).reshape(x.shape)
    return _affine(out, x, weight, bias)


@on_call
def group_norm_one_pass(x, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """_group_norm: relax.nn.group_norm, legalised by topi.nn.group_norm (one-pass variance)."""
    return [topi_group_norm(x, weight, bias, num_groups, eps)]


@on_call
def native_group_norm_output_thrice(x, weight, bias, n, c, hxw, group, eps):
    """_native_group_norm returns relax.nn.group_norm's normalised tensor alone, so torch's getitem
    1 and 2 (the groups' mean and rstd, shaped (N, group)) read that same input-shaped tensor."""
    out = topi_group_norm(x, weight, bias, group, eps)
    return [out, out, out]


def group_norm_backward_decomposed(module, inputs):
    """Not TVM: torch's own decomposition of native_group_norm_backward (torch._decomp, what
    run_decompositions hands the importer, which TVM computes faithfully), run in eager. It takes
    the weight gradient as (sum(dy * x) - sum(dy) * mean) * rstd in float32: where dy * x
    overflows, inf - inf is NaN; eager's fused kernel answers -inf, float64 the exact 0."""
    from torch._decomp import decomposition_table

    args, kwargs = module.call_arguments(inputs)
    return list(decomposition_table[torch.ops.aten.native_group_norm_backward.default](*args, **kwargs))
