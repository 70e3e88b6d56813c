"""Comparisons, logical and bitwise ops: bool or integer results, compared exactly.

Values are drawn to make the answer interesting: comparisons see floats on exact halves
(equal elements are common) and scalars on halves too; logical ops see many zeros; bitwise
scalars range past the small ones (uint8 & 255, int8 | -128), and the edge tier adds
scalars outside the tensor's dtype, which PyTorch wraps.
"""

from opsuite.draw.calls import (
    inplace_pair,
    inplace_tensor_scalar,
    pair,
    tensor_scalar,
    unary_with,
    zerodim_other,
)
from opsuite.draw.values import coarse, zeros_often
from opsuite.table.row import INTS, OpRow, dtypes_for, operand_twins

BITS = INTS + ("bool",)
# Compared operands of different dtypes: int with float, a float16 tensor with a (often 0-dim)
# float64 one, bool with float.
COMPARE_MIX = ("int32+float32", "float16+float64", "bool+float32")
# Bitwise operands: signed with unsigned (-> int16), bool with int.
BITS_MIX = ("int8+uint8", "bool+int32")

_compare = pair("real", transform=coarse)
_compare_scalar = tensor_scalar("real", ties=True, transform=coarse)
_bits = pair("real")
# Bit patterns: low bits, sign bits, all ones, and values past int8's range.
_bits_scalar = tensor_scalar("real", choices=(5, 3, -2, 6, 12, 255, -128, 1, -1, 64))
_logical = pair("real", transform=zeros_often)
# The second operand of a `.Tensor` overload as a 0-dim tensor (operand_twins); these
# overloads refuse a Python scalar (`x == 0.5` and `x & 1` call the `.Scalar` overloads).
_compare_zerodim = zerodim_other("real", transform=coarse)
_bits_zerodim = zerodim_other("real")


def _comparison_rows(name: str) -> list[OpRow]:
    tensor = OpRow(f"aten.{name}.Tensor", _compare, dtypes_for(name) + COMPARE_MIX)
    return [
        tensor,
        OpRow(f"aten.{name}.Scalar", _compare_scalar, dtypes_for(name) + ("int32+float32", "bool+int64")),
        *operand_twins(tensor, zerodim=_compare_zerodim),
    ]


def _bits_rows(name: str, decompose: bool = True) -> list[OpRow]:
    dtypes = (dtypes_for(name) if decompose else BITS) + BITS_MIX
    tensor = OpRow(f"aten.{name}.Tensor", _bits, dtypes, decompose=decompose)
    return [tensor, *operand_twins(tensor, zerodim=_bits_zerodim)]


_bitwise_or_ = OpRow("aten.bitwise_or_.Tensor", inplace_pair("real"), dtypes_for("bitwise_or") + ("int8+int32",),
                     decompose=False)

ROWS = [
    *_comparison_rows("eq"),
    *_comparison_rows("ne"),
    *_comparison_rows("lt"),
    *_comparison_rows("le"),
    *_comparison_rows("gt"),
    *_comparison_rows("ge"),
    OpRow("aten.logical_not.default", unary_with("real", transform=zeros_often), dtypes_for("logical_not")),
    OpRow("aten.logical_and.default", _logical, dtypes_for("logical_and") + ("int32+float16",)),
    OpRow("aten.logical_or.default", _logical, dtypes_for("logical_or") + ("int32+float16",)),
    OpRow("aten.logical_xor.default", _logical, dtypes_for("logical_xor") + ("int32+float16",)),
    OpRow("aten.bitwise_not.default", unary_with("real"), dtypes_for("bitwise_not")),
    *_bits_rows("bitwise_and"),
    OpRow("aten.bitwise_and.Scalar", _bits_scalar, dtypes_for("bitwise_and") + ("bool+int64",)),
    *_bits_rows("bitwise_or"),
    OpRow("aten.bitwise_or.Scalar", _bits_scalar, dtypes_for("bitwise_or") + ("bool+int64",)),
    *_bits_rows("bitwise_xor"),
    OpRow("aten.bitwise_xor.Scalar", _bits_scalar, dtypes_for("bitwise_xor") + ("bool+int64",)),
    # decomposition functionalises bitwise_or_ into bitwise_or: only decompose=False reaches these
    _bitwise_or_,
    *operand_twins(_bitwise_or_, zerodim=_bits_zerodim, inplace=True),
    OpRow("aten.bitwise_or_.Scalar", inplace_tensor_scalar("real"), dtypes_for("bitwise_or"), decompose=False),
    # decomposition rewrites the operator overloads to bitwise_*: only decompose=False reaches these
    *_bits_rows("__and__", decompose=False),
    OpRow("aten.__and__.Scalar", _bits_scalar, BITS + ("bool+int64",), decompose=False),
    *_bits_rows("__or__", decompose=False),
    OpRow("aten.__or__.Scalar", _bits_scalar, BITS + ("bool+int64",), decompose=False),
    *_bits_rows("__xor__", decompose=False),
    OpRow("aten.__xor__.Scalar", _bits_scalar, BITS + ("bool+int64",), decompose=False),
]
