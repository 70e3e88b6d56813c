"""Models of the activation converters' known bugs (known_failures/activations.toml).

Each computes, in torch and in the input's dtype, the expression the converter emits
(tvm/relax/frontend/torch/base_fx_graph_translator.py), so the model and TVM round alike.
"""

from __future__ import annotations

import torch

from opsuite.expectations.bug_models import on_call


def _select_max(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """TIR max as LLVM lowers it: select(a > b, a, b), so a NaN on the left loses to b and a NaN
    on the right wins."""
    return torch.where(a > b, a, b)


def _select_min(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.where(a < b, a, b)


@on_call
def relu_by_select(x):
    """relax.nn.relu is max(x, 0): relu(NaN) = 0."""
    return _select_max(x, torch.zeros((), dtype=x.dtype))


def _operands(a, b):
    dtype = torch.result_type(a, b)
    a, b = torch.as_tensor(a).to(dtype), torch.as_tensor(b).to(dtype)
    return torch.broadcast_tensors(a, b)


@on_call
def maximum_by_select(a, b):
    return _select_max(*_operands(a, b))


@on_call
def minimum_by_select(a, b):
    return _select_min(*_operands(a, b))


@on_call
def hardswish_unfused(x):
    """_hardswish: x * (clip(x + 3, 0, 6) / 6), the division before the product: x * 6 never
    overflows, where torch's x * clip(x + 3, 0, 6) / 6 gives inf for x near the dtype's max."""
    return x * (torch.clamp(x + 3, 0, 6) / 6)


@on_call
def softshrink_by_masks(x, lambd=0.5):
    """_softshrink: (x - l) * (x > l) + (x + l) * (x < -l), the masks cast to x's dtype, so an
    infinite x meets inf * 0 = NaN in the branch it does not take."""
    lambd = torch.tensor(lambd, dtype=x.dtype)
    return (x - lambd) * (x > lambd).to(x.dtype) + (x + lambd) * (x < -lambd).to(x.dtype)


@on_call
def celu_divides_exp(x, alpha=1.0):
    """_celu: alpha * min(0, exp(x) / alpha - 1) + relu(x), exp(x) / alpha for exp(x / alpha)."""
    alpha = torch.tensor(alpha, dtype=x.dtype)
    return alpha * _select_min(torch.zeros((), dtype=x.dtype), torch.exp(x) / alpha - 1) + \
        _select_max(x, torch.zeros((), dtype=x.dtype))


@on_call
def elu_alpha_only(x, alpha=1.0, scale=1.0, input_scale=1.0):
    """_elu: -alpha * relu(1 - exp(x)) + relu(x); scale and input_scale are never read."""
    zero = torch.zeros((), dtype=x.dtype)
    return torch.tensor(-alpha, dtype=x.dtype) * _select_max(1 - torch.exp(x), zero) + _select_max(x, zero)


def _clip(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """relax.clip as topi.clip computes it: max(min(x, hi), lo), each a select, so a NaN becomes hi
    and with lo > hi the answer is lo."""
    return _select_max(_select_min(x, torch.tensor(hi, dtype=x.dtype)), torch.tensor(lo, dtype=x.dtype))


@on_call
def clamp_max_unbounded(x, max):  # noqa: A002 - the schema's own name
    """_clamp_max reads its bound from args[2], which clamp_max does not have: clip(x, -inf, inf),
    the input unchanged but for NaN, which the select-based clip turns into +inf."""
    return _clip(x, -float("inf"), float("inf"))


@on_call
def clamp_min_wins(x, min=None, max=None):  # noqa: A002 - the schema's own names
    """relax.clip(x, min, max) computes max(min(x, max), min): with min > max the answer is min
    (and a NaN becomes max, then min)."""
    return _clip(x, -float("inf") if min is None else min, float("inf") if max is None else max)


@on_call
def selu_without_scale(x):
    """run_decompositions rewrites selu into elu(x, alpha=1.6733, scale=1.0507), and _elu drops scale."""
    return elu_alpha_only.__wrapped__(x, alpha=1.6732632423543772848170429916717)


# Where each op's bounds sit in its call: (name, position, default) of the lower and upper bound.
_CLIP_BOUNDS = {
    "clamp": (("min", 1, None), ("max", 2, None)),
    "clamp_min": (("min", 1, None), None),
    "hardtanh": (("min_val", 1, -1.0), ("max_val", 2, 1.0)),
    "relu6": None,
}


def clip_by_select(module, inputs):
    """relax.clip as the clamp, clamp_min, hardtanh and relu6 converters emit it (a missing bound
    is infinite; relu6 is clip(x, 0, 6)), each bound a select, so a NaN becomes the upper bound."""
    args, kwargs = module.call_arguments(inputs)
    name = str(module.op).split(".")[1].rstrip("_")
    bounds = _CLIP_BOUNDS[name]
    if bounds is None:
        return _clip(args[0], 0.0, 6.0)

    def bound(spec, missing):
        if spec is None:
            return missing
        key, position, default = spec
        value = kwargs.get(key, args[position] if len(args) > position else default)
        return missing if value is None else value

    return _clip(args[0], bound(bounds[0], -float("inf")), bound(bounds[1], float("inf")))


@on_call
def hardsigmoid_by_select(x):
    """_hardsigmoid: clip(x + 3, 0, 6) / 6, relax.clip's bounds each a select, so NaN becomes 6 / 6 = 1."""
    return _clip(x + torch.tensor(3, dtype=x.dtype), 0.0, 6.0) / torch.tensor(6, dtype=x.dtype)


@on_call
def clamp_tensor_by_select(x, min=None, max=None):  # noqa: A002 - the schema's own names
    """_clamp with tensor bounds: maximum(x, min), then minimum(., max), each TIR max/min (a select:
    a NaN in x takes the bound's value, a NaN bound wins), then relax.clip(., -inf, inf), whose
    selects turn a NaN left over into +inf."""
    y = x
    if min is not None:
        y = _select_max(y, min.to(x.dtype))
    if max is not None:
        y = _select_min(y, max.to(x.dtype))
    return _clip(y, -float("inf"), float("inf"))


@on_call
def gelu_float16_steps(x, approximate="none"):
    """relax.nn.gelu's legalisation (legalize_ops/nn.py _nn_gelu) for float16: x * 0.5**0.5 in
    float16, erf in float32 cast back, then x * (0.5 + erf * 0.5) in float16, one rounding per
    operation; for negative x, 0.5 + erf * 0.5 cancels to a few float16 units, where torch
    computes the whole expression in float32 and rounds once."""
    half = torch.float16
    erf = torch.erf((x * torch.tensor(0.5**0.5, dtype=half)).float()).to(half)
    return x * (torch.tensor(0.5, dtype=half) + erf * torch.tensor(0.5, dtype=half))
