"""Models of the pointwise converters' known bugs (known_failures/pointwise.toml).

Most pointwise ops go through one converter, `_binary_op` (tvm/relax/frontend/torch/
base_fx_graph_translator.py): it promotes two tensors of different dtypes with
torch.promote_types, which treats a 0-dim tensor like any other (torch lets a 0-dim operand of
the same category not decide the result), makes a Python scalar `relax.const(scalar, tensor
dtype)` (truncating a float scalar for an int tensor, any nonzero scalar True for a bool one),
reads only two operands (alpha is dropped), and emits the relax op, which computes in that dtype:
integer true division truncates, floor_mod is a - floor(a / b) * b rounded step by step, and
maximum/minimum are selects that lose a NaN on the left. `binary_op` computes all of that in
torch, so one model serves every entry whose ops go through `_binary_op`.
"""

from __future__ import annotations

import torch

from opsuite.expectations.bug_models import on_call
from opsuite.expectations.bug_models.activations import _clip, _select_max, _select_min


def constant(value, dtype: torch.dtype) -> torch.Tensor:
    """relax.const(value, dtype): numpy's conversion, a float truncated toward zero for an int
    dtype, any nonzero value True for bool (the import fails where an int does not fit)."""
    if isinstance(value, torch.Tensor):
        return value.to(dtype)
    wide = torch.float64 if isinstance(value, float) else torch.int64
    return torch.tensor(value, dtype=wide).to(dtype)


def operands(a, b) -> tuple[torch.Tensor, torch.Tensor]:
    """`_binary_op`'s operands: two tensors promoted by torch.promote_types (dims ignored), or a
    Python scalar made a constant of the tensor's dtype."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.dtype != b.dtype:
            common = torch.promote_types(a.dtype, b.dtype)
            a, b = a.to(common), b.to(common)
        return a, b
    if isinstance(a, torch.Tensor):
        return a, constant(b, a.dtype)
    return constant(a, b.dtype), b


def _integral(t: torch.Tensor) -> bool:
    return not (t.is_floating_point() or t.is_complex())


def _in_int64(fn, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """An integer (or bool) op of TIR, computed in int64 and wrapped back to the operands' dtype
    (a bool result is nonzero)."""
    out = fn(a.long(), b.long())
    return out != 0 if a.dtype == torch.bool else out.to(a.dtype)


def _divide(a: torch.Tensor, b: torch.Tensor):
    """relax.divide: true division for floats; for integers TIR's Div, which truncates, and whose
    result for a zero divisor nobody can predict (the elements are left unknown)."""
    if not _integral(a):
        return a / b
    a, b = torch.broadcast_tensors(a, b)
    zero = b == 0
    quotient = _in_int64(lambda x, y: torch.div(x, torch.where(y == 0, 1, y), rounding_mode="trunc"), a, b)
    return {"outputs": [quotient], "unknown": [zero]} if bool(zero.any()) else quotient


def _floor_mod(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """relax.floor_mod: for floats a - floor(a / b) * b, each step rounded to the dtype (so a / b
    overflowing to inf gives -inf, and float16 loses up to a unit of a, not of the result);
    bfloat16 is computed in float32 inside the kernel (TVM's bfloat16 legalisation) and rounded
    once, at the store."""
    if _integral(a):
        return _in_int64(torch.remainder, a, b)
    if a.dtype == torch.bfloat16:
        wide_a, wide_b = a.float(), b.float()
        return (wide_a - torch.floor(wide_a / wide_b) * wide_b).to(a.dtype)
    return a - torch.floor(a / b) * b


def _floor_divide(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """relax.floor_divide: floor(a / b) for floats; bfloat16 is computed in float32 inside the
    kernel (TVM's bfloat16 legalisation) and rounded once, at the store."""
    if _integral(a):
        return _in_int64(torch.floor_divide, a, b)
    if a.dtype == torch.bfloat16:
        return torch.floor(a.float() / b.float()).to(a.dtype)
    return torch.floor(a / b)


def _arith(fn):
    """An arithmetic relax op: integer and bool operands computed in int64 and wrapped back."""
    return lambda a, b: _in_int64(fn, a, b) if _integral(a) else fn(a, b)


# The relax op each overload's `_binary_op` emits, as torch computes it in the operands' dtype.
_RELAX_OPS = {
    "add": _arith(torch.add), "sub": _arith(torch.sub), "mul": _arith(torch.mul), "div": _divide,
    "maximum": _select_max, "minimum": _select_min, "max": _select_max, "min": _select_min,
    "remainder": _floor_mod, "floor_divide": _floor_divide,
    "bitwise_and": torch.bitwise_and, "bitwise_or": torch.bitwise_or, "bitwise_xor": torch.bitwise_xor,
    "__and__": torch.bitwise_and, "__or__": torch.bitwise_or, "__xor__": torch.bitwise_xor,
    "atan2": torch.atan2, "pow": torch.pow, "eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt, "ge": torch.ge,
}


def _relax_op(module):
    packet = str(module.op).split(".")[1]  # aten.add_.Tensor -> add_: in place or not, one relax op
    if packet.endswith("_") and not packet.startswith("__"):
        packet = packet[:-1]
    return _RELAX_OPS[packet]


def binary_op(module, inputs):
    """What `_binary_op` emits for the call: the operands promoted or made constants, alpha and
    rounding_mode=None dropped, the relax op computed in the common dtype."""
    args, _ = module.call_arguments(inputs)
    a, b = operands(args[0], args[1])
    relax_op = _relax_op(module)
    if relax_op is _RELAX_OPS["add"]:
        folded = _plus_constant_min(args[0], args[1], a, b)
        if folded is not None:
            return folded
    return relax_op(a, b)


def _plus_constant_min(first, second, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor | None:
    """An int32/int64 add of the constant INT_MIN, as compiled: LLVM's add carries `nsw` (signed
    overflow is poison), so it is folded to x | INT_MIN, which is x itself for a negative x where
    the wrapped sum would be x - 2**31 (established by experiment with relax.add on TVM 0.27;
    int8 and an add of two runtime tensors wrap). None where this does not apply."""
    if isinstance(first, torch.Tensor) == isinstance(second, torch.Tensor):
        return None
    tensor, const = (b, a) if isinstance(second, torch.Tensor) else (a, b)
    if tensor.dtype not in (torch.int32, torch.int64) or int(const) != torch.iinfo(tensor.dtype).min:
        return None
    return tensor | const


def not_equal_ordered(module, inputs):
    """relax.not_equal as compiled: the operands promoted as `_binary_op` does, and False
    wherever either is NaN (an ordered comparison), where torch's ne is True."""
    args, _ = module.call_arguments(inputs)
    a, b = operands(args[0], args[1])
    out = torch.ne(a, b)
    return out & ~(a.isnan() | b.isnan()) if a.is_floating_point() else out


@on_call
def rsub_without_alpha(x, other, alpha=1):
    """_rsub: relax.subtract(other, x), with a Python scalar `other` a constant of its default
    dtype (float32 or int32) and alpha dropped."""
    if not isinstance(other, torch.Tensor):
        other = torch.tensor(other, dtype=torch.float32 if isinstance(other, float) else torch.int32)
    return _arith(torch.sub)(other, x)


@on_call
def reciprocal_truncating(x):
    """_reciprocal: relax.divide(relax.const(1.0, x's dtype), x), an integer division for an int x."""
    return _divide(constant(1.0, x.dtype), x)


@on_call
def fmod_in_input_dtype(x, other):
    """_fmod: relax.mod(x, relax.const(other, x's dtype)): a float scalar is truncated for an int
    x (1.224 -> 1), and TIR's integer Mod truncates like C's %."""
    a, b = operands(x, other)
    a, b = torch.broadcast_tensors(a, b)
    zero = b == 0
    rest = _in_int64(lambda p, q: torch.fmod(p, torch.where(q == 0, 1, q)), a, b) if _integral(a) else torch.fmod(a, b)
    return {"outputs": [rest], "unknown": [zero]} if bool(zero.any()) else rest


@on_call
def clamp_in_input_dtype(x, min=None, max=None):  # noqa: A002 - the schema's own names
    """_clamp: relax.clip(x, min, max) in x's dtype: float bounds of an int x become int
    constants (truncated), and the result keeps x's dtype."""
    lo = -float("inf") if min is None else min
    hi = float("inf") if max is None else max
    if _integral(x):
        lo, hi = int(constant(lo, torch.int64)), int(constant(hi, torch.int64))
    return _clip(x, lo, hi)


@on_call
def multiply_by_folded_zero(x, other):
    """relax.multiply(x, relax.const(0, x's dtype)): TIR folds x * 0 to the constant itself while
    the legalised multiply is built, so every element is that zero (inf * 0 and NaN * 0 too)."""
    a, b = operands(x, other)
    product = _arith(torch.mul)(a, b)
    return torch.full_like(product, b.item())


@on_call
def leaky_relu_with_folded_zero(x, negative_slope=0.01):
    """topi.nn.leaky_relu, select(x > 0, x, x * alpha), with the constant alpha 0 folded: the
    negative branch is the constant 0, for -inf and NaN too."""
    return [torch.where(x > 0, x, torch.zeros_like(x))]


@on_call
def log_of_exp_sum(x, other):
    """relax.log_add_exp as topi legalises it: log(exp(a) + exp(b)) in the operands' dtype, with
    no maximum taken out first, so exp overflows (float16 above 11.1, float32 above 88.7)."""
    a, b = operands(x, other)
    return torch.log(torch.exp(a) + torch.exp(b))


@on_call
def floor_of_quotient(x, other, rounding_mode=None):
    """_div with rounding_mode='floor': relax.floor_divide(x, other), floor(x / other) of the
    rounded quotient for floats (a Python scalar divisor is relax.const(other), float32 or int32)."""
    if not isinstance(other, torch.Tensor):
        other = torch.tensor(other, dtype=torch.float32 if isinstance(other, float) else torch.int32)
    return _floor_divide(x, other)
