"""Activations, clamps and where: elementwise ops with threshold-like scalar arguments.

Every scalar argument of the schema is drawn (alpha, scale, input_scale, negative_slope,
beta, threshold, lambd, min_val/max_val, approximate), each often left at its default.
Non-core activations are rewritten by decomposition before the importer sees them, so their
rows run with `decompose=False` and get a small `decomposed` twin.
"""

import torch
from hypothesis import strategies as st

from opsuite.draw.calls import (
    clamp_scalar_calls,
    clamp_tensor_calls,
    tensor_scalar,
    unary_with,
    where_calls,
)
from opsuite.table.row import NUMERIC, OpRow, decomposed_twin, dtypes_for


def _maybe(*values) -> st.SearchStrategy:
    """A value of an optional scalar argument; None leaves the schema's default."""
    return st.sampled_from((None, *values))


def no_vector_positive_inf(x: torch.Tensor) -> torch.Tensor:
    """+inf made half the dtype's largest value (the edge tier's own extreme) in a tensor of more
    than one element: there eager's vectorised CPU gelu (float32, float16, bfloat16) answers NaN,
    where its scalar path, float64 and the formula give inf, so such a draw would judge TVM's
    right inf against eager's NaN (and the largest value itself overflows eager's x * (1 + erf)).

    >>> no_vector_positive_inf(torch.tensor([float("inf"), -float("inf")])).tolist()[0] > 1.7e38
    True
    """
    if x.numel() < 2 or not x.is_floating_point():
        return x
    return torch.where(x == float("inf"), torch.finfo(x.dtype).max / 2, x)


_relu6 = OpRow(  # decomposition rewrites relu6 to hardtanh(0, 6)
    "aten.relu6.default", unary_with("real"), dtypes_for("nn.functional.relu6"), decompose=False)
_celu = OpRow(  # decomposition rewrites celu to expm1/where
    "aten.celu.default", unary_with("real", alpha=_maybe(0.5, 2.0, -1.5)), dtypes_for("nn.functional.celu"),
    decompose=False)
_selu = OpRow(  # decomposition rewrites selu to elu(alpha, scale)
    "aten.selu.default", unary_with("real"), dtypes_for("nn.functional.selu"), decompose=False)
_silu = OpRow(  # decomposition rewrites silu to x * sigmoid(x)
    "aten.silu.default", unary_with("real"), dtypes_for("nn.functional.silu"), decompose=False)
_hardsigmoid = OpRow(  # decomposition rewrites hardsigmoid to add/clamp/div
    "aten.hardsigmoid.default", unary_with("real"), dtypes_for("nn.functional.hardsigmoid"), decompose=False)
_hardswish = OpRow(  # decomposition rewrites hardswish to add/clamp/div/mul
    "aten.hardswish.default", unary_with("real"), dtypes_for("nn.functional.hardswish"), decompose=False)
_softplus = OpRow(  # decomposition rewrites softplus to exp/log1p/where
    "aten.softplus.default",
    unary_with("real", beta=_maybe(2.0, 0.5, -1.0), threshold=_maybe(1.0, 5.0, 0.5)),
    dtypes_for("nn.functional.softplus"), decompose=False)
_softshrink = OpRow(  # decomposition rewrites softshrink to abs/sign/where
    "aten.softshrink.default", unary_with("real", lambd=_maybe(0.0, 0.25, 1.5)),
    dtypes_for("nn.functional.softshrink"), decompose=False)
_clamp_min = OpRow(  # decomposition rewrites clamp_min to clamp(min, None)
    "aten.clamp_min.default", tensor_scalar("real", low=-4, high=4, extremes=False), NUMERIC + ("int32+float32",),
    decompose=False)
_clamp_max = OpRow(  # decomposition rewrites clamp_max to clamp(None, max)
    "aten.clamp_max.default", tensor_scalar("real", low=-4, high=4, extremes=False), NUMERIC + ("int32+float32",),
    decompose=False)

ROWS = [
    OpRow("aten.relu.default", unary_with("real"), dtypes_for("nn.functional.relu")),
    OpRow(  # decomposition functionalises relu_ into relu: only decompose=False reaches this key
        "aten.relu_.default", unary_with("real"), dtypes_for("nn.functional.relu"), decompose=False),
    _relu6,
    decomposed_twin(_relu6),
    OpRow(  # decomposition rewrites relu6_ to hardtanh
        "aten.relu6_.default", unary_with("real"), dtypes_for("nn.functional.relu6"), decompose=False),
    OpRow("aten.gelu.default", unary_with("real", transform=no_vector_positive_inf, approximate=_maybe("tanh", "none")),
          dtypes_for("nn.functional.gelu")),
    OpRow("aten.elu.default",
          unary_with("real", alpha=_maybe(0.5, 2.0, -1.0), scale=_maybe(2.0, 0.5), input_scale=_maybe(0.5, 3.0)),
          dtypes_for("nn.functional.elu")),
    _celu,
    decomposed_twin(_celu),
    _selu,
    decomposed_twin(_selu),
    _silu,
    decomposed_twin(_silu),
    OpRow(  # decomposition functionalises silu_ and rewrites it to x * sigmoid(x)
        "aten.silu_.default", unary_with("real"), dtypes_for("nn.functional.silu"), decompose=False),
    OpRow("aten.sigmoid.default", unary_with("real"), dtypes_for("sigmoid")),
    _hardsigmoid,
    decomposed_twin(_hardsigmoid),
    _hardswish,
    decomposed_twin(_hardswish),
    OpRow(  # decomposition functionalises hardswish_ and rewrites it to add/clamp/div/mul
        "aten.hardswish_.default", unary_with("real"), dtypes_for("nn.functional.hardswish"), decompose=False),
    OpRow("aten.hardtanh.default", unary_with("real", min_val=_maybe(-2, -0.5, 0), max_val=_maybe(0.5, 2, 3)),
          dtypes_for("nn.functional.hardtanh")),
    OpRow(  # decomposition functionalises hardtanh_ into hardtanh
        "aten.hardtanh_.default", unary_with("real", min_val=_maybe(-2, -0.5, 0), max_val=_maybe(0.5, 2, 3)),
        dtypes_for("nn.functional.hardtanh"), decompose=False),
    OpRow("aten.leaky_relu.default", unary_with("real", negative_slope=_maybe(0.2, -0.5, 1.5, 0.0)),
          dtypes_for("nn.functional.leaky_relu")),
    OpRow(  # decomposition functionalises leaky_relu_ into leaky_relu
        "aten.leaky_relu_.default", unary_with("real", negative_slope=_maybe(0.2, -0.5, 1.5, 0.0)),
        dtypes_for("nn.functional.leaky_relu"), decompose=False),
    _softplus,
    decomposed_twin(_softplus),
    _softshrink,
    decomposed_twin(_softshrink),
    OpRow("aten.clamp.default", clamp_scalar_calls, dtypes_for("clamp") + ("int32+float32",)),
    OpRow("aten.clamp.Tensor", clamp_tensor_calls, dtypes_for("clamp") + ("int32+float32",)),
    _clamp_min,
    decomposed_twin(_clamp_min),
    _clamp_max,
    decomposed_twin(_clamp_max),
    OpRow("aten.where.self", where_calls, dtypes_for("where") + ("int32+float16", "int8+uint8")),
]

NO_CASE: dict[str, str] = {
    "aten.softsign.default": (
        "the importer's key softsign.default names no aten op in this torch: torch.nn.functional.softsign "
        "is x / (1 + |x|) in Python and exports as abs/add/div, which have rows of their own"),
}

