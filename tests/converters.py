"""Deliberately broken converters, passed to the importer as custom convert maps.

Each map replaces the importer's converter for `sin.default` (or removes it), so a test
can show the engine reports that fault with the right status and stage.
"""

import ctypes
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


def cos_wrong_while_asked(node, importer):
    """cos, except sin while HARNESS_TEST_FAULT is set: a fault its repro (run without it) never shows."""
    import os

    op = relax.op.sin if os.environ.get("HARNESS_TEST_FAULT") else relax.op.cos
    return importer.block_builder.emit(op(_arg(node, importer)))


# Two defects for the bug-report drafts: sin always wrong, cos wrong only during the run.
DRAFTS = {"sin.default": wrong_function, "cos.default": cos_wrong_while_asked}
