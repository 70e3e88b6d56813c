"""Elementwise math: unary functions, rounding, and binary arithmetic.

Activations live in activations.py; comparisons, logical and bitwise ops in comparison.py.
Rows whose converter decomposition bypasses (the export rewrites the op into others before
the importer sees it) run with `decompose=False`, and get a small `decomposed` twin for the
path a default import takes.
"""

from hypothesis import strategies as st

from opsuite.draw.calls import inplace_pair, pair, tensor_scalar, unary_with, zerodim_other
from opsuite.draw.context import Call, Ctx, call
from opsuite.draw.shapes import broadcast_pair, element_shapes
from opsuite.draw.shapes import shapes as ranked_shapes
from opsuite.draw.values import halves, is_float, specials_often
from opsuite.table.row import (
    ALL,
    FLOATS,
    INTS,
    NUMERIC,
    OpRow,
    decomposed_twin,
    dtypes_for,
    operand_twins,
)

# Mixed operand dtypes, `self+other`: int with float, signed with unsigned (-> int16), and a
# float16 tensor beside a float64 one that is often 0-dim (PyTorch keeps float16 then).
PROMOTE = ("int32+float16", "int8+uint8", "float16+float64")
# A tensor and a scalar of another kind: int tensor and float scalar, bool tensor and int scalar.
SCALAR_MIX = ("int32+float32", "bool+int64")
# In-place: `self` keeps its dtype, `other` may be wider or of a lower category.
INPLACE_MIX = ("float16+float32", "float32+int32")
NO_BOOL = NUMERIC


# ---------------------------------------------------------------- named generators


def round_decimals_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """round(x, decimals=d) for d in -2..3, on values that sit on ties at that decimal
    (k/2 * 10**-d), so half-to-even rounding and the scaling are both tested."""
    @st.composite
    def draw(d):
        decimals = d(st.sampled_from([-2, -1, 0, 1, 2, 3]))
        x = halves(d(ctx.tensors(element_shapes(), "real")))
        x.mul_(10.0 ** -decimals)
        return call(x, decimals=decimals, variant=f"decimals={decimals}")
    return draw()


def _with_rounding_mode(inner) -> "callable":
    """Adds the required keyword `rounding_mode` (None, floor or trunc) to another generator's calls."""
    def calls(ctx: Ctx) -> st.SearchStrategy[Call]:
        return st.tuples(inner(ctx), st.sampled_from([None, "floor", "trunc"])).map(
            lambda cm: Call(cm[0].args, {**cm[0].kwargs, "rounding_mode": cm[1]},
                            f"{cm[0].variant}-{cm[1] or 'true'}"))
    return calls


def pow_tensor_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """pow(base, exponent), both tensors: positive bases with real exponents, or any base with
    integral exponents (negative bases); integer exponents 0..4 for integer dtypes."""
    @st.composite
    def draw(d):
        sa, sb = d(broadcast_pair())
        exp_dtype = ctx.part(1)
        negative_bases = d(st.booleans())
        base = d(ctx.tensors(sa, "real" if negative_bases else "positive"))
        if is_float(exp_dtype):
            exponent = d(ctx.tensors(sb, "real", operand=1))
            if negative_bases:
                exponent.round_()
        else:
            exponent = d(ctx.tensors(sb, "index", operand=1, edge=False, high=5))
        return call(base, exponent, variant="negative-bases" if negative_bases else "positive-bases")
    return draw()


def pow_exponent_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """pow(tensor, exponent scalar): integral exponents on any base, fractional ones on positive
    bases; integer tensors take exponents >= 0 (negative ones raise) or a float (`int32+float32`)."""
    @st.composite
    def draw(d):
        kind = ctx.part(1)
        if is_float(kind):
            exponent = d(st.sampled_from([2.0, 3.0, 0.0, 1.0, -1.0, -2.0, 0.5, -0.5, 2.5, 1.0 / 3]))
        else:
            exponent = d(st.sampled_from([2, 3, 0, 1, 5]))
        integral = float(exponent).is_integer()
        domain = "real" if integral else "positive"
        x = d(ctx.tensors(element_shapes(), domain, operand=0))
        return call(x, exponent, variant=f"{type(exponent).__name__}-{'integral' if integral else 'fractional'}")
    return draw()


def pow_base_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """pow(base scalar, exponent tensor): positive, zero and negative bases (negative ones with
    integral exponents); integer exponent tensors hold 0..4."""
    @st.composite
    def draw(d):
        exp_dtype, kind = ctx.part(0), ctx.part(1)
        floats = is_float(exp_dtype)
        exponent = d(ctx.tensors(element_shapes(), "real" if floats else "index", operand=0,
                                 high=None if floats else 5))
        base = d(st.sampled_from([2.0, 0.5, 2.5, 1.0, -2.0, 0.0] if is_float(kind) else [2, 3, -2, 1, 0]))
        if base < 0 and floats:
            exponent.round_()
        return call(base, exponent, variant=f"{type(base).__name__}-{'negative' if base < 0 else 'base'}")
    return draw()


# ------------------------------------------------------------------------------ rows

_DIVISOR = pair("real", divisor=True, rhs_domain="nonzero")
_ROUNDING_SCALAR = tensor_scalar("real", divisor=True)

_floor_divide = OpRow(  # decomposition rewrites floor_divide to div.Tensor_mode(floor)
    "aten.floor_divide.default", _DIVISOR, dtypes_for("floor_divide") + PROMOTE, decompose=False)
_rsub_tensor = OpRow(  # decomposition rewrites rsub to sub: only decompose=False reaches _rsub
    "aten.rsub.Tensor", pair("real", alpha=True), dtypes_for("rsub") + PROMOTE, decompose=False)
_rsub_scalar = OpRow(
    "aten.rsub.Scalar", tensor_scalar("real", alpha=True), dtypes_for("rsub") + ("int32+float32",),
    decompose=False)
_logaddexp = OpRow(  # decomposition rewrites logaddexp into a dozen core ops
    "aten.logaddexp.default", pair("real"), dtypes_for("logaddexp") + ("float16+float32",), decompose=False)
_add = OpRow("aten.add.Tensor", pair("real", alpha=True), dtypes_for("add") + PROMOTE)
_add_ = OpRow(  # decomposition functionalises add_ into add: only decompose=False reaches this key
    "aten.add_.Tensor", inplace_pair("real", alpha=True), dtypes_for("add") + INPLACE_MIX, decompose=False)
_sub = OpRow("aten.sub.Tensor", pair("real", alpha=True), dtypes_for("sub") + PROMOTE)
_mul = OpRow("aten.mul.Tensor", pair("real"), dtypes_for("mul") + PROMOTE)
_mul_ = OpRow(  # decomposition functionalises mul_ into mul: only decompose=False reaches this key
    "aten.mul_.Tensor", inplace_pair("real"), dtypes_for("mul") + INPLACE_MIX, decompose=False)
_div = OpRow("aten.div.Tensor", pair("real", rhs_domain="nonzero"), dtypes_for("div") + PROMOTE)
_div_mode = OpRow("aten.div.Tensor_mode", _with_rounding_mode(_DIVISOR), NO_BOOL + PROMOTE)
_fmod = OpRow("aten.fmod.Tensor", _DIVISOR, dtypes_for("fmod") + PROMOTE)
_remainder = OpRow("aten.remainder.Tensor", _DIVISOR, dtypes_for("remainder") + PROMOTE)
_maximum = OpRow("aten.maximum.default", pair("real"), dtypes_for("maximum") + PROMOTE)
_minimum = OpRow("aten.minimum.default", pair("real"), dtypes_for("minimum") + PROMOTE)
_atan2 = OpRow("aten.atan2.default", pair("real"), dtypes_for("atan2") + ("int32+float16",))

# The second operand as a Python scalar or a 0-dim tensor (operand_twins). Subtraction takes no
# bool operand and an integer division no bool divisor (0 raises, 1 leaves every remainder 0);
# rsub, fmod and remainder.Tensor (eager refuses a Python scalar `other` there: `x % 2` calls
# remainder.Scalar), maximum, minimum and atan2 take no Python scalar, only a 0-dim tensor.
# The tensor has rank 1..4 and no empty side: the scalar decides the answer, which an empty
# or single-element output (a degenerate reference) could not show.
_SIDED = ranked_shapes(1, 4)
_ALPHA_SCALAR, _ALPHA_ZERODIM = tensor_scalar("real", alpha=True, shape=_SIDED), zerodim_other("real", alpha=True)
_DIVISOR_SCALAR = tensor_scalar("real", divisor=True, shape=_SIDED)
_DIVISOR_ZERODIM = zerodim_other("real", divisor=True)
_NUMBERS = ("int", "float")
_OPERAND_TWINS = [
    *operand_twins(_add, _ALPHA_SCALAR, _ALPHA_ZERODIM),
    *operand_twins(_add_, _ALPHA_SCALAR, _ALPHA_ZERODIM, inplace=True),
    *operand_twins(_sub, _ALPHA_SCALAR, _ALPHA_ZERODIM, kinds=_NUMBERS),
    *operand_twins(_rsub_tensor, zerodim=_ALPHA_ZERODIM),
    *operand_twins(_mul, tensor_scalar("real", nonzero=True, shape=_SIDED), zerodim_other("real")),
    *operand_twins(_mul_, tensor_scalar("real", nonzero=True, shape=_SIDED), zerodim_other("real"), inplace=True),
    *operand_twins(_div, tensor_scalar("real", nonzero=True, shape=_SIDED), zerodim_other("real", rhs_domain="nonzero")),
    *operand_twins(_div_mode, _with_rounding_mode(_DIVISOR_SCALAR), _with_rounding_mode(_DIVISOR_ZERODIM),
                   kinds=_NUMBERS),
    *operand_twins(_floor_divide, _DIVISOR_SCALAR, _DIVISOR_ZERODIM, kinds=_NUMBERS),
    *operand_twins(_fmod, zerodim=_DIVISOR_ZERODIM),
    *operand_twins(_remainder, zerodim=_DIVISOR_ZERODIM),
    *operand_twins(_maximum, zerodim=zerodim_other("real")),
    *operand_twins(_minimum, zerodim=zerodim_other("real")),
    *operand_twins(_atan2, zerodim=zerodim_other("real")),
]

_max_other = OpRow(  # decomposition rewrites max.other to maximum
    "aten.max.other", pair("real"), ALL + ("int32+float16",), decompose=False)
_min_other = OpRow(  # decomposition rewrites min.other to minimum
    "aten.min.other", pair("real"), ALL + ("int32+float16",), decompose=False)
_square = OpRow(  # decomposition rewrites square to pow.Tensor_Scalar(2)
    "aten.square.default", unary_with("real"), dtypes_for("square"), decompose=False)
# An integer or bool holds neither NaN nor an infinity: isnan and isinf of one are all False,
# isfinite all True, by definition.
_NO_SPECIALS = "integer and bool values are never NaN or infinite"
_SPECIAL_FREE = {d: _NO_SPECIALS for d in INTS + ("bool",)}
_isfinite = OpRow(  # decomposition rewrites isfinite to abs/eq/ne/mul
    "aten.isfinite.default", unary_with("real", transform=specials_often), dtypes_for("isfinite"), decompose=False,
    degenerate={d: r for d, r in _SPECIAL_FREE.items() if d in dtypes_for("isfinite")})

ROWS = [
    # unary math; int and bool inputs compute in the default float dtype
    OpRow("aten.sin.default", unary_with("real"), dtypes_for("sin")),
    OpRow("aten.cos.default", unary_with("real"), dtypes_for("cos")),
    OpRow("aten.tan.default", unary_with("real"), dtypes_for("tan")),
    OpRow("aten.sinh.default", unary_with("real"), dtypes_for("sinh")),
    OpRow("aten.cosh.default", unary_with("real"), dtypes_for("cosh")),
    OpRow("aten.tanh.default", unary_with("real"), dtypes_for("tanh")),
    OpRow("aten.asin.default", unary_with("unit", int_domain="index"), dtypes_for("asin")),
    OpRow("aten.acos.default", unary_with("unit", int_domain="index"), dtypes_for("acos")),
    OpRow("aten.atan.default", unary_with("real"), dtypes_for("atan")),
    OpRow("aten.asinh.default", unary_with("real"), dtypes_for("asinh")),
    OpRow("aten.acosh.default", unary_with("above_one"), dtypes_for("acosh"),
          degenerate={"bool": "acosh of False is NaN and of True 0: every finite answer is zero"}),
    OpRow("aten.atanh.default", unary_with("unit", int_domain="index"), dtypes_for("atanh")),
    OpRow("aten.erf.default", unary_with("real"), dtypes_for("erf")),
    OpRow("aten.exp.default", unary_with("real"), dtypes_for("exp")),
    OpRow("aten.expm1.default", unary_with("small"), dtypes_for("expm1")),
    OpRow("aten.log.default", unary_with("positive"), dtypes_for("log")),
    OpRow("aten.log2.default", unary_with("positive"), dtypes_for("log2")),
    OpRow("aten.log10.default", unary_with("positive"), dtypes_for("log10")),
    OpRow("aten.log1p.default", unary_with("small", int_domain="positive"), dtypes_for("log1p")),
    OpRow("aten.sqrt.default", unary_with("positive"), dtypes_for("sqrt")),
    OpRow("aten.rsqrt.default", unary_with("positive"), dtypes_for("rsqrt")),
    OpRow("aten.reciprocal.default", unary_with("nonzero"), dtypes_for("reciprocal")),
    OpRow("aten.abs.default", unary_with("real"), dtypes_for("abs")),
    OpRow("aten.neg.default", unary_with("real"), dtypes_for("neg")),
    OpRow("aten.sign.default", unary_with("real"), dtypes_for("sign")),
    _square,
    decomposed_twin(_square),
    OpRow("aten.isnan.default", unary_with("real", transform=specials_often), dtypes_for("isnan"),
          degenerate={d: r for d, r in _SPECIAL_FREE.items() if d in dtypes_for("isnan")}),
    OpRow("aten.isinf.default", unary_with("real", transform=specials_often), dtypes_for("isinf"),
          degenerate={d: r for d, r in _SPECIAL_FREE.items() if d in dtypes_for("isinf")}),
    _isfinite,
    decomposed_twin(_isfinite),
    # rounding: values on exact halves, where round-half-to-even and round-half-away differ
    OpRow("aten.ceil.default", unary_with("real", transform=halves), dtypes_for("ceil")),
    OpRow("aten.floor.default", unary_with("real", transform=halves), dtypes_for("floor")),
    OpRow("aten.trunc.default", unary_with("real", transform=halves), dtypes_for("trunc")),
    OpRow("aten.round.default", unary_with("real", transform=halves), dtypes_for("round")),
    OpRow("aten.round.decimals", round_decimals_calls, FLOATS),
    # binary arithmetic
    _add,
    OpRow("aten.add.Scalar", tensor_scalar("real", alpha=True), dtypes_for("add") + SCALAR_MIX),
    _add_,
    _sub,
    OpRow("aten.sub.Scalar", tensor_scalar("real", alpha=True), dtypes_for("sub") + ("int32+float32",)),
    _rsub_tensor,
    decomposed_twin(_rsub_tensor),
    _rsub_scalar,
    decomposed_twin(_rsub_scalar),
    _mul,
    OpRow("aten.mul.Scalar", tensor_scalar("real", nonzero=True), dtypes_for("mul") + SCALAR_MIX),
    _mul_,
    _div,
    OpRow("aten.div.Scalar", tensor_scalar("real", nonzero=True), dtypes_for("div") + SCALAR_MIX),
    _div_mode,
    OpRow("aten.div.Scalar_mode", _with_rounding_mode(_ROUNDING_SCALAR), NO_BOOL + ("int32+float32",)),
    _floor_divide,
    decomposed_twin(_floor_divide),
    _fmod,
    OpRow("aten.fmod.Scalar", _ROUNDING_SCALAR, dtypes_for("fmod") + ("int32+float32",)),
    _remainder,
    OpRow("aten.remainder.Scalar", _ROUNDING_SCALAR, dtypes_for("remainder") + ("int32+float32",)),
    OpRow("aten.pow.Tensor_Tensor", pow_tensor_calls, dtypes_for("pow") + ("int32+float16", "float16+float64")),
    OpRow("aten.pow.Tensor_Scalar", pow_exponent_calls, dtypes_for("pow") + ("int32+float32",)),
    OpRow("aten.pow.Scalar", pow_base_calls, dtypes_for("pow") + ("int32+float32",)),
    _atan2,
    _logaddexp,
    decomposed_twin(_logaddexp),
    _maximum,
    _minimum,
    _max_other,
    decomposed_twin(_max_other),
    _min_other,
    decomposed_twin(_min_other),
    *_OPERAND_TWINS,
]
