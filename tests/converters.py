"""Deliberately broken converters, passed to the importer as custom convert maps.

Each map replaces the importer's converter for `sin.default` (or removes it), so a test
can show the engine reports that fault with the right status and stage.
"""

import ctypes
import os
import signal
import sys
import time

from tvm import relax


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
# float32's tolerance is atol 1e-5 + rtol 1e-4 * |expected|: a relative error of 1.5e-4 breaks it
# wherever |expected| > 0.2, one of 0.5e-4 nowhere; twice that tolerance would accept both.
JUST_OUTSIDE_AND_INSIDE = {"sin.default": _scaled(relax.op.sin, 1 + 1.5e-4),
                           "cos.default": _scaled(relax.op.cos, 1 + 0.5e-4)}
REMOVED = {"sin.default": None}
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
