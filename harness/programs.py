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
