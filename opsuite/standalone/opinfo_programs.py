"""Program factory for OpInfo cases: rebuild one OpInfo sample and call the entry's op on it.

Self-contained on purpose (imports only the standard library and torch, the OpInfo database
included): a repro script embeds this file verbatim, so it regenerates the very sample the
harness ran from (entry name, variant, dtype, sample index, seed) instead of shipping tensors.

    module, inputs = opinfo_program("add", "", "float32", 0, 0)

Every tensor of the sample (its input, and any tensor inside args or kwargs) becomes an input
of the exported program; every other value is a constant baked into the graph.
"""

import functools
import random
import sys

import torch
from torch.utils import _pytree as pytree


@functools.cache
def _entries():
    from torch.testing._internal.common_methods_invocations import op_db

    return {(e.name, e.variant_test_name): e for e in op_db}


def find_entry(name, variant=""):
    """The op_db entry with this name and variant_test_name."""
    try:
        return _entries()[(name, variant)]
    except KeyError:
        raise LookupError(f"no OpInfo entry {name!r} (variant {variant!r}) in this torch") from None


def seed_all(seed):
    """Seed every generator OpInfo sample functions draw from.

    make_tensor draws from torch's global generator; a few sample functions also call
    `random` or numpy. numpy is already imported by the OpInfo database, so it is seeded
    through sys.modules rather than imported here (this module may import only torch).
    """
    torch.manual_seed(seed)
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed % 2**32)


def samples(name, variant, dtype, seed, count=None):
    """The first `count` (all when None) CPU samples of an entry in `dtype`, the same for the same seed."""
    entry = find_entry(name, variant)
    seed_all(seed)
    found = []
    generated = _sample_iterator(entry, getattr(torch, dtype))
    try:
        with torch.no_grad():
            for sample in generated:
                found.append(sample)
                if count is not None and len(found) >= count:
                    break
    finally:
        # Close a half-used sample generator now: left to the garbage collector, its cleanup
        # (a decorator's `torch.no_grad()` re-entered) runs inside whatever torch.export trace
        # is under way and records `_set_grad_enabled` into that graph (seen on index_put).
        getattr(generated, "close", lambda: None)()
    return found


def _sample_iterator(entry, dtype):
    """The entry's samples as its sample function yields them, so that the generator itself can
    be closed. OpInfo.sample_inputs wraps it in a tracking iterator without `close`; called with
    set_seed=False (by default OpInfo reseeds before every sample with a seed of its own, which
    would make every run seed draw the same values) that wrapper adds nothing to the draws."""
    from torch.testing._internal.opinfo.core import OpInfo

    if type(entry).sample_inputs is OpInfo.sample_inputs:
        return iter(entry.sample_inputs_func(entry, "cpu", dtype, False))
    return iter(entry.sample_inputs("cpu", dtype, requires_grad=False, set_seed=False))


def sample_at(name, variant, dtype, index, seed):
    found = samples(name, variant, dtype, seed, count=index + 1)
    if len(found) <= index:
        raise IndexError(f"OpInfo {name!r} has {len(found)} samples in {dtype}, not {index + 1}")
    return found[index]


def describe(value):
    """A compact, stable text for a sample's arguments: Tensor[2,3] for tensors, repr otherwise."""
    if isinstance(value, torch.Tensor):
        layout = "" if value.is_contiguous() else ",noncontig"
        return f"Tensor[{','.join(map(str, value.shape))}{layout}]"
    if isinstance(value, list | tuple) and not isinstance(value, torch.Size):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={describe(v)}" for k, v in value.items()) + "}"
    return repr(value)


def sample_description(sample):
    parts = [describe(sample.input)]
    parts += [describe(a) for a in sample.args]
    parts += [f"{k}={describe(v)}" for k, v in sample.kwargs.items()]
    text = f"({', '.join(parts)})"
    return f"{sample.name}: {text}" if sample.name else text


class OpInfoModule(torch.nn.Module):
    """forward(*tensors) calls `op(input, *args, **kwargs)` with the sample's tensors put back."""

    def __init__(self, op, leaves, spec, slots):
        super().__init__()
        self.op = op
        self.leaves = leaves  # the flattened (input, args, kwargs), tensors replaced by None
        self.spec = spec
        self.slots = slots  # positions in `leaves` of the forward's tensor inputs, in order

    def call_arguments(self, inputs):
        """The positional and keyword arguments the op is called with, for these inputs."""
        leaves = list(self.leaves)
        for slot, tensor in zip(self.slots, inputs, strict=True):
            leaves[slot] = tensor
        sample_input, args, kwargs = pytree.tree_unflatten(leaves, self.spec)
        return (sample_input, *args), kwargs

    def forward(self, *inputs):
        args, kwargs = self.call_arguments(inputs)
        return self.op(*args, **kwargs)


def sample_program(op, sample):
    """A module calling `op` on one SampleInput, and the sample's tensors in order."""
    leaves, spec = pytree.tree_flatten((sample.input, tuple(sample.args), dict(sample.kwargs)))
    slots = [i for i, leaf in enumerate(leaves) if isinstance(leaf, torch.Tensor)]
    inputs = tuple(leaves[i].detach() for i in slots)
    constants = [None if i in slots else leaf for i, leaf in enumerate(leaves)]
    return OpInfoModule(op, constants, spec, slots), inputs


def opinfo_program(name, variant, dtype, index, seed):
    """The module and inputs of sample `index` of OpInfo entry (name, variant) in `dtype`."""
    entry = find_entry(name, variant)
    return sample_program(entry.op, sample_at(name, variant, dtype, index, seed))
