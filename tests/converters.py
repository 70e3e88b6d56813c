"""Deliberately broken converters, passed to the importer as custom convert maps.

Each map replaces the importer's converter for `sin.default` (or removes it), so a test
can show the engine reports that fault with the right status and stage.
"""

import ctypes
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
    import os

    os.abort()


def hangs(node, importer):
    time.sleep(3600)


def returns_float32(node, importer):
    """Right values, wrong dtype: what a float64 program silently computed in float32 looks like."""
    x = _arg(node, importer)
    y = importer.block_builder.emit(relax.op.sin(relax.op.astype(x, "float32")))
    return y


WRONG = {"sin.default": wrong_function}
REMOVED = {"sin.default": None}
RAISES = {"sin.default": raises}
SEGFAULTS = {"sin.default": segfaults}
ABORTS = {"sin.default": aborts}
HANGS = {"sin.default": hangs}
FLOAT32 = {"sin.default": returns_float32}
NOT_A_DICT = ["sin.default"]


def bakes_example_size(node, importer):
    """relu, then a reshape to the export example's shape: a symbolic dim lost on import."""
    example = [d.node.hint if hasattr(d, "node") else int(d) for d in node.meta["val"].shape]
    return importer.block_builder.emit(relax.op.reshape(relax.op.nn.relu(_arg(node, importer)), example))


BAKES_SIZE = {"relu.default": bakes_example_size}


def calls_undefined_device_function(node, importer):
    """A kernel calling a function no CUDA header declares: TVM generates it, the device
    compiler (NVRTC, nvcc) rejects it; LLVM would only fail when the symbol is resolved."""
    x = _arg(node, importer)

    def kernel(a):
        return te.compute(a.shape, lambda *i: tirx.call_extern(a.dtype, "harness_undefined_device_function",
                                                                a(*i)), name="calls_undefined")

    return importer.block_builder.emit_te(kernel, x)


UNDEFINED_DEVICE_FUNCTION = {"sin.default": calls_undefined_device_function}
