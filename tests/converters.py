"""Deliberately broken converters, passed to the importer as custom convert maps.

Each map replaces the importer's converter for `sin.default` (or removes it), so a test
can show the engine reports that fault with the right status and stage.
"""

import ctypes
import os
import signal
import sys
import time

from tvm import relax, te, tirx


def _arg(node, importer):
    return importer.env[node.args[0]]


def wrong_function(node, importer):
    """Computes cos where sin was asked for: numerically wrong, structurally fine."""
    return importer.block_builder.emit(relax.op.cos(_arg(node, importer)))


def raises(node, importer):
    raise RuntimeError("converter exploded on purpose")


def segfaults(node, importer):
    ctypes.string_at(0)  # reads address 0: SIGSEGV


def aborts(node, importer):
    os.abort()


def announces_and_dies(node, importer):
    """A line on stderr, a second for other processes to write theirs, then SIGKILL (which,
    unlike SIGSEGV, no handler follows with a backtrace: the line stays in the stderr tail)."""
    print(f"about to crash in pid {os.getpid()}", file=sys.stderr, flush=True)
    time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGKILL)


def hangs(node, importer):
    # Far past any limit a test sets, yet finite: if the timeout never fired, the case would end
    # (the converter returns None) and the test fail, instead of the suite hanging.
    time.sleep(120)


def returns_float32(node, importer):
    """Right values, wrong dtype: what a float64 program silently computed in float32 looks like."""
    x = _arg(node, importer)
    y = importer.block_builder.emit(relax.op.sin(relax.op.astype(x, "float32")))
    return y


def _scaled(function, factor: float):
    """The right function, times `factor`: off by a known relative error."""
    def convert(node, importer):
        value = function(_arg(node, importer))
        return importer.block_builder.emit(relax.op.multiply(value, relax.const(factor, "float32")))

    return convert


WRONG = {"sin.default": wrong_function}
# float32's tolerance is assert_close's, atol 1e-5 + rtol 1.3e-6 * |expected|: over sin's and cos's
# range a relative error of 2e-5 breaks it wherever |expected| > 0.54, one of 0.5e-5 nowhere;
# twice that tolerance would accept both.
JUST_OUTSIDE_AND_INSIDE = {"sin.default": _scaled(relax.op.sin, 1 + 2e-5),
                           "cos.default": _scaled(relax.op.cos, 1 + 0.5e-5)}
REMOVED = {"sin.default": None}
REMOVED_SIN_COS = {"sin.default": None, "cos.default": None}
# TVM's FX table (from_fx, the fx and dynamo roads) is keyed by the called function's name.
FX_WRONG = {"sin": wrong_function}


def flatten_plus_one(node, importer):
    """torch.flatten of a batch of 2 (the fx road's conv_bn_program), plus 1."""
    flat = importer.block_builder.emit(relax.op.reshape(_arg(node, importer), (2, -1)))
    return importer.block_builder.emit(relax.op.add(flat, relax.const(1.0, "float32")))


FX_FLATTEN_PLUS_ONE = {"flatten": flatten_plus_one}
RAISES = {"sin.default": raises}
SEGFAULTS = {"sin.default": segfaults}
ABORTS = {"sin.default": aborts}
ANNOUNCES_AND_DIES = {"sin.default": announces_and_dies}
HANGS = {"sin.default": hangs}
FLOAT32 = {"sin.default": returns_float32}
# sin answered with cos's values; cos answered with sin's values, in float32.
WRONG_VALUES_AND_DTYPE = {"sin.default": wrong_function, "cos.default": returns_float32}
NOT_A_DICT = ["sin.default"]


def bakes_example_size(node, importer):
    """relu, then a reshape to the export example's shape: a symbolic dim lost on import."""
    example = [d.node.hint if hasattr(d, "node") else int(d) for d in node.meta["val"].shape]
    return importer.block_builder.emit(relax.op.reshape(relax.op.nn.relu(_arg(node, importer)), example))


BAKES_SIZE = {"relu.default": bakes_example_size}


def cos_wrong_while_asked(node, importer):
    """cos, except sin while HARNESS_TEST_FAULT is set: a fault its repro (run without it) never shows."""
    import os

    op = relax.op.sin if os.environ.get("HARNESS_TEST_FAULT") else relax.op.cos
    return importer.block_builder.emit(op(_arg(node, importer)))


# Two defects for the bug-report drafts: sin always wrong, cos wrong only during the run.
DRAFTS = {"sin.default": wrong_function, "cos.default": cos_wrong_while_asked}


def _shifted(importer, value):
    """`value` + 1 (a bool flipped): a second, different bug on top of whatever the converter does."""
    info = value.ty
    if not isinstance(info, relax.TensorType):
        return value
    dtype = str(info.dtype)
    if dtype == "bool":
        return importer.block_builder.emit(relax.op.logical_not(value))
    return importer.block_builder.emit(relax.op.add(value, relax.const(1, dtype)))


def _moved(importer, value):
    """Every element of `value` moved: a finite x to x + 1 + |x|/2 (no fixed point, far outside
    any tolerance), a NaN or inf to 0, an integer + 1, a bool flipped: a second fault no value
    can hide."""
    info = value.ty
    if not isinstance(info, relax.TensorType) or not str(info.dtype).startswith(("float", "bfloat")):
        return _shifted(importer, value)
    dtype, emit, op = str(info.dtype), importer.block_builder.emit, relax.op
    wide = "float64" if dtype == "float64" else "float32"  # isnan has no bfloat16 lowering
    x = emit(op.astype(value, wide))
    moved = emit(op.add(emit(op.add(x, relax.const(1, wide))), emit(op.multiply(emit(op.abs(x)), relax.const(0.5, wide)))))
    finite = emit(op.logical_not(emit(op.logical_or(emit(op.isnan(x)), emit(op.isinf(x))))))
    return emit(op.astype(emit(op.where(finite, moved, emit(op.zeros_like(x)))), dtype))


def _plus_one(name, shift=None):
    def converter(node, importer):
        value = importer.create_convert_map()[name](node)  # TVM's own converter, bound to this importer
        if any(user.op == "output" for user in node.users):
            if isinstance(value, relax.Call):  # returned unemitted (max_pool3d's squeeze of an
                value = importer.block_builder.emit(value)  # unbatched input): no type to shift by yet
            return (shift or _shifted)(importer, value)
        return value
    converter.__name__ = f"plus_one_{name}"
    return converter


def _every_converter(shift=None) -> dict:
    from tvm.relax.frontend.torch.exported_program_translator import ExportedProgramImporter

    return {name: _plus_one(name, shift) for name in ExportedProgramImporter().create_convert_map()}


# Every converter of the importer, with its output + 1 wherever that output is the program's.
PLUS_ONE = _every_converter()
# The same, with every element of the program's outputs moved (see _moved: no value hides it).
MOVED = _every_converter(_moved)


def wrong_function_plus_one(node, importer):
    """cos + 1 where sin was asked for: the known bug (cos) with a second one on top."""
    return _shifted(importer, wrong_function(node, importer))


def float32_plus_one(node, importer):
    """The float32 dtype bug with wrong values on top."""
    return _shifted(importer, returns_float32(node, importer))


WRONG_PLUS_ONE = {"sin.default": wrong_function_plus_one}
FLOAT32_PLUS_ONE = {"sin.default": float32_plus_one}


def keeps_rows_of_the_largest_size(node, importer):
    """relu, then only the first 192 rows: right while the declared range (cat of n and 2n rows,
    n <= 64) holds, silently short beyond it."""
    relu = relax.op.nn.relu(_arg(node, importer))
    return importer.block_builder.emit(relax.op.strided_slice(relu, axes=[0], begin=[0], end=[192]))


KEEPS_192_ROWS = {"relu.default": keeps_rows_of_the_largest_size}
SEGFAULTS_RELU = {"relu.default": segfaults}
WRONG_RELU = {"relu.default": wrong_function}


def sin_accepting_integers(node, importer):
    """sin that first casts integer and bool inputs to float32, as eager does: it fixes a known
    failure (unary float ops reject integer inputs at import), so that case passes unexpectedly."""
    x = _arg(node, importer)
    if not str(x.ty.dtype).startswith(("float", "bfloat")):
        x = relax.op.astype(x, "float32")
    return importer.block_builder.emit(relax.op.sin(x))


SIN_ACCEPTS_INTEGERS = {"sin.default": sin_accepting_integers}


def calls_undefined_device_function(node, importer):
    """A kernel calling a function no CUDA header declares: TVM generates it, the device
    compiler (NVRTC, nvcc) rejects it; LLVM would only fail when the symbol is resolved."""
    x = _arg(node, importer)

    def kernel(a):
        return te.compute(a.shape, lambda *i: tirx.call_extern(a.dtype, "harness_undefined_device_function",
                                                                a(*i)), name="calls_undefined")

    return importer.block_builder.emit_te(kernel, x)


UNDEFINED_DEVICE_FUNCTION = {"sin.default": calls_undefined_device_function}
