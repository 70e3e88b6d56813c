"""Models of known TVM bugs: what TVM computes where it differs from PyTorch.

One module per known_failures file. An expectation of a wrong output (known_failures/*.toml,
`model = "MODULE.NAME"`, e.g. "activations.elu_alpha_only") names one of these functions; a
case is an expected failure only where TVM's outputs equal the model's, so a second bug on top
of a known one is still caught. A model is `model(module, inputs)`,
called with the case's torch module and inputs, returning the outputs TVM gives; `on_call`
writes one as a function of the op call's own arguments:

    @on_call
    def add_without_alpha(x, other, alpha=1):  # aten.add.Tensor, with alpha dropped
        return torch.add(x, other)

A model may return {"outputs": [...], "unknown": [mask or None per output]} where some elements
cannot be predicted (uninitialised memory); the others must still match.
"""

from __future__ import annotations

import functools
import importlib


def on_call(fn):
    """A model written as `fn(*args, **kwargs)` of the call the case's op module makes."""
    @functools.wraps(fn)
    def model(module, inputs):
        args, kwargs = module.call_arguments(inputs)
        return fn(*args, **kwargs)
    return model


def resolve(name: str):
    """The model `MODULE.NAME` names (a module of this package, a function in it)."""
    module, _, function = name.rpartition(".")
    try:
        found = getattr(importlib.import_module(f"{__name__}.{module}"), function, None) if module else None
    except ModuleNotFoundError:
        found = None
    if not callable(found):
        raise ValueError(f"no model {name!r}: expected MODULE.NAME of a function in opsuite/expectations/bug_models/")
    return found
