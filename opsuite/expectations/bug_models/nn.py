"""Models of the nn converters' known bugs (known_failures/nn.toml): softmax, dropout, losses and
attention (tvm/relax/frontend/torch/base_fx_graph_translator.py and exported_program_translator.py).
"""

from __future__ import annotations

import math

import torch

from opsuite.expectations.bug_models import on_call


def _computed(t: torch.Tensor) -> torch.Tensor:
    """bfloat16 as TVM computes it: in float32 (its BF16 legalisation keeps intermediates in float32)."""
    return t.float() if t.dtype == torch.bfloat16 else t


def tvm_log_softmax(x: torch.Tensor, dim: int) -> torch.Tensor:
    """topi.nn.log_softmax: x - max - log(sum(exp(x - max))), in x's dtype."""
    y = _computed(x)
    if y.numel() == 0:
        return y.to(x.dtype)
    top = y.amax(dim=dim, keepdim=True)
    out = y - top - torch.log(torch.exp(y - top).sum(dim=dim, keepdim=True))
    return out.to(x.dtype)


@on_call
def softmax_in_input_dtype(x, dim, dtype=None):
    """_softmax never reads dtype=: relax.nn.softmax in the input's dtype."""
    return torch.softmax(x, dim)


@on_call
def log_softmax_in_input_dtype(x, dim, dtype=None):
    """_log_softmax never reads dtype=: relax.nn.log_softmax in the input's dtype."""
    return tvm_log_softmax(x, dim)


@on_call
def dropout_identity(x, p, train):
    """The dropout converters are `lambda node: env[node.args[0]]`: the input, whatever `train`."""
    return [x]


@on_call
def native_dropout_input_twice(x, p, train):
    """native_dropout maps to the input itself, so getitem 0 and 1 (output, mask) both read it."""
    return [x, x]


@on_call
def cross_entropy_kwargs_only(logits, target, weight=None, reduction=1, ignore_index=-100, label_smoothing=0.0):
    """_cross_entropy_default reads reduction and ignore_index from kwargs only and never reads
    label_smoothing: passed positionally they are ignored, so it is log_softmax over the last
    axis, then nll_loss with the weights, mean reduction and ignore_index -100."""
    logp = tvm_log_softmax(logits, -1)
    if logp.dim() == 1:
        logp, target = logp.unsqueeze(0), target.unsqueeze(0)
    return torch.nn.functional.nll_loss(logp, target, weight, reduction="mean", ignore_index=-100)


def scaled_dot_product_attention_default_scale(module, inputs):
    """_scaled_dot_product_attention ignores scale= and enable_gqa=: relax attention scales by
    1/sqrt(E) and folds (batch, heads) of q, k and v into one axis with a reshape each. With fewer
    key/value heads than query heads that reshape of k and v to the query's row count wraps its
    flat index around their size: query row r = b * Hq + h meets key/value row r mod (B * Hk)."""
    args, kwargs = module.call_arguments(inputs)
    q, k, v = args[0], args[1], args[2]
    mask = args[3] if len(args) > 3 else kwargs.get("attn_mask")
    causal = args[5] if len(args) > 5 else kwargs.get("is_causal", False)
    if q.dim() != 4:
        raise ValueError("the converter accepts only 2-d and 4-d operands")
    batch, q_heads, length, embed = q.shape
    rows = batch * q_heads
    wrap = torch.arange(rows) % (k.shape[0] * k.shape[1])
    qf = _computed(q).reshape(rows, length, embed)
    kf = _computed(k).reshape(-1, k.shape[2], embed)[wrap]
    vf = _computed(v).reshape(-1, v.shape[2], v.shape[3])[wrap]
    p = torch.bmm(qf, kf.transpose(1, 2)) / math.sqrt(embed)
    if mask is not None:
        p = (p.reshape(batch, q_heads, length, -1) + _computed(mask)).reshape(rows, length, -1)
    if causal:  # topi.trilu zeroes the masked scores, exp, trilu again, then normalises
        keep = torch.ones(p.shape[-2:], dtype=torch.bool).tril()
        p = torch.where(keep, p, torch.zeros((), dtype=p.dtype))
        e = torch.where(keep, torch.exp(p - p.amax(-1, keepdim=True)), torch.zeros((), dtype=p.dtype))
        s = e / e.sum(-1, keepdim=True)
    else:
        s = torch.softmax(p, -1)
    return [torch.bmm(s, vf).reshape(batch, q_heads, length, -1).to(q.dtype)]
