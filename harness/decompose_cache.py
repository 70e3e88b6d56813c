"""Keeps torch from recomputing the CompositeImplicitAutograd op set on every decomposition.

`ExportedProgram.run_decompositions()` walks every registered op of every namespace to find the
CompositeImplicitAutograd ones, twice per call: 0.06 s of the 0.13 s a one-op program's
decomposition costs (torch 2.14.1). The answer depends only on which ops and kernels are
registered, which in a worker is fixed once torch and TVM are imported, so it is kept and
recomputed whenever the registered op names change. The decomposed graphs are the same
(tests/test_decompose_cache.py).
"""

from __future__ import annotations

import sys

_ORIGINAL_NAME = "_collect_all_valid_cia_ops"


def install() -> bool:
    """Replace torch's function in every module that imported it; False if torch lacks it."""
    import torch
    from torch._export import utils

    original = getattr(utils, _ORIGINAL_NAME, None)
    if original is None or getattr(original, "harness_cached", False):
        return original is not None
    kept: dict = {}

    def cached():
        names = frozenset(torch._C._dispatch_get_all_op_names())
        if kept.get("names") != names:
            kept.update(names=names, ops=original())
        return set(kept["ops"])  # callers may change what they get

    cached.harness_cached = True
    cached.__wrapped__ = original
    for module in list(sys.modules.values()):
        if getattr(module, _ORIGINAL_NAME, None) is original:
            setattr(module, _ORIGINAL_NAME, cached)
    return True
