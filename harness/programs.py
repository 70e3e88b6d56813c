"""Program factories for single-op cases.

Self-contained on purpose (imports only torch): a repro script embeds this file verbatim.
`op_program("aten.add.Tensor", args=[x, y], kwargs={"alpha": 2})` returns a module whose
forward calls exactly that overload; every tensor (also inside lists, as for `cat`) becomes
an input of the exported program, every other argument a constant baked into the graph.
"""

import torch


class _Input:
    """Placeholder for the i-th tensor input inside an argument template."""

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"inputs[{self.index}]"


def _template(value, tensors):
    if isinstance(value, torch.Tensor):
        tensors.append(value)
        return _Input(len(tensors) - 1)
    if isinstance(value, list | tuple):
        return type(value)(_template(v, tensors) for v in value)
    if isinstance(value, dict):
        return {k: _template(v, tensors) for k, v in value.items()}
    return value


def _fill(value, inputs):
    if isinstance(value, _Input):
        return inputs[value.index]
    if isinstance(value, list | tuple):
        return type(value)(_fill(v, inputs) for v in value)
    if isinstance(value, dict):
        return {k: _fill(v, inputs) for k, v in value.items()}
    return value


def resolve_op(name):
    """`aten.add.Tensor` -> torch.ops.aten.add.Tensor (an OpOverload)."""
    namespace, packet, overload = name.split(".")
    return getattr(getattr(getattr(torch.ops, namespace), packet), overload)


class OpModule(torch.nn.Module):
    def __init__(self, op, args, kwargs):
        super().__init__()
        self.op_name = op
        self.op = resolve_op(op)
        self.args = args
        self.kwargs = kwargs

    def call_arguments(self, inputs):
        """The positional and keyword arguments the op is called with, for these inputs."""
        return _fill(self.args, inputs), _fill(self.kwargs, inputs)

    def forward(self, *inputs):
        args, kwargs = self.call_arguments(inputs)
        return self.op(*args, **kwargs)


def op_program(op, args=(), kwargs=None):
    """A module calling one aten overload, and its tensor inputs in order."""
    tensors = []
    args_t = _template(list(args), tensors)
    kwargs_t = _template(dict(kwargs or {}), tensors)
    return OpModule(op, args_t, kwargs_t), tuple(tensors)


# Where a user finds an op by its packet name, in the order tried; a Tensor method comes last
# (in-place ops such as add_ exist only there: self is the first argument).
PUBLIC_NAMESPACES = (("torch", torch), ("torch.nn.functional", torch.nn.functional),
                     ("torch.special", torch.special), ("torch.linalg", torch.linalg))


def public_candidates(op):
    """The public torch calls named like the overload's packet: [(name, callable), ...]."""
    packet = resolve_op(op).overloadpacket.__name__
    if packet.startswith("_"):
        return []
    found = []
    for prefix, namespace in PUBLIC_NAMESPACES:
        fn = getattr(namespace, packet, None)
        if callable(fn) and not isinstance(fn, type):
            found.append((f"{prefix}.{packet}", fn))
    if callable(getattr(torch.Tensor, packet, None)):
        found.append((f"Tensor.{packet}", None))
    return found


class PublicOpModule(OpModule):
    """Like OpModule, but calls the public torch function or Tensor method users write
    (`torch.sin(x)`, `x.add_(y)`), which is what TVM's FX table is keyed by."""

    def __init__(self, op, call, fn, args, kwargs):
        super().__init__(op, args, kwargs)
        self.call = call  # "torch.sin", "Tensor.add_", ...
        self.fn = fn  # None for a Tensor method
        self.method = call.split(".")[-1]

    def forward(self, *inputs):
        args, kwargs = self.call_arguments(inputs)
        if self.fn is None:
            return getattr(args[0], self.method)(*args[1:], **kwargs)
        return self.fn(*args, **kwargs)


def _same(a, b):
    """Same structure, dtypes, shapes and values (NaN equal to NaN)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return False
        if (a.dtype, a.shape, a.layout, a.device) != (b.dtype, b.shape, b.layout, b.device):
            return False
        if a.is_complex() or a.is_floating_point():
            return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())
        return torch.equal(a, b)
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        # A namedtuple (torch.sort's) holds what the overload's plain tuple holds.
        return (isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    try:
        return bool(a == b) or (a != a and b != b)
    except Exception:  # noqa: BLE001 - values that cannot be compared are not the same
        return False


def _eager(module, inputs):
    """The module's outputs and its inputs after the call (in-place ops mutate their copies)."""
    copies = tuple(t.clone() for t in inputs)
    with torch.random.fork_rng(), torch.no_grad():
        torch.manual_seed(0)
        out = module(*copies)
    return out, copies


def public_op_module(module, inputs):
    """A PublicOpModule doing in eager exactly what `module` (an OpModule) does on `inputs`, or
    None: the first public call that accepts the arguments and gives the same outputs (and leaves
    the inputs as the overload does) is taken."""
    want = _eager(module, inputs)
    for call, fn in public_candidates(module.op_name):
        public = PublicOpModule(module.op_name, call, fn, module.args, module.kwargs)
        try:
            got = _eager(public, inputs)
        except Exception:  # noqa: BLE001 - a public call that refuses the arguments is not this op
            continue
        if _same(want, got):
            return public
    return None
