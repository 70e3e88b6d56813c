"""The calls a program's forward makes, recorded once in eager and spelled as a user writes them.

For the short repro: a program built by a factory (an OpModule, an OpInfo sample module, any
module whose forward is a short straight line of torch calls) is run once under a
TorchFunctionMode, which sees each top-level call (an aten overload, `torch.add`, a tensor
method, `torch.nn.functional.gelu`) with its arguments, but not what runs inside it. The
calls are then written out as source:

    torch.ops.aten.elu.default(x, alpha=1.0, scale=1.0, input_scale=3.0)

A tensor argument is named after the input it is (by identity) or the earlier result it is;
an aten overload's arguments after the first non-tensor one are spelled with their schema
names. What cannot be spelled (an attribute read, a callable argument, a tensor that is
neither an input nor a result, a module with weights) raises `Unwritable`.
"""

from __future__ import annotations

import copy
import functools
import importlib
import keyword
from dataclasses import dataclass

import torch
from torch.overrides import TorchFunctionMode

from harness.literals import Unwritable, value_source

MAX_CALLS = 6  # a longer forward is a program of its own, not one call

_BINARY = {"__add__": "+", "__sub__": "-", "__mul__": "*", "__truediv__": "/", "__floordiv__": "//",
           "__mod__": "%", "__pow__": "**", "__matmul__": "@", "__and__": "&", "__or__": "|",
           "__xor__": "^", "__lshift__": "<<", "__rshift__": ">>", "__eq__": "==", "__ne__": "!=",
           "__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">="}
_REFLECTED = {f"__r{k[2:]}": v for k, v in _BINARY.items() if k[2:-2] in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor")}
_UNARY = {"__neg__": "-{}", "__invert__": "~{}", "__abs__": "abs({})", "__pos__": "+{}"}
# Where public torch functions live, searched by identity, most specific first.
_NAMESPACES = ("torch.nn.functional", "torch.special", "torch.linalg", "torch.fft", "torch")


@dataclass
class Recorded:
    func: object
    args: tuple
    kwargs: dict
    result: object


class _Recorder(TorchFunctionMode):
    """Records top-level calls only: inside a handler the mode is off, so nested calls pass by."""

    def __init__(self):
        super().__init__()
        self.calls: list[Recorded] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        self.calls.append(Recorded(func, tuple(args), dict(kwargs), result))
        return result


def input_names(count: int) -> list[str]:
    return ["x"] if count == 1 else list("xyzw")[:count] if count <= 4 else [f"x{i}" for i in range(count)]


def record(module, inputs) -> tuple[list[Recorded], object]:
    """Run `module(*inputs)` once in eager, recording its top-level torch calls and its output."""
    recorder = _Recorder()
    with torch.no_grad(), recorder:
        output = module(*inputs)
    return recorder.calls, output


def _function_path(func) -> str:
    """`torch.add`, `torch.nn.functional.gelu`, `torch.ops.aten.elu.default`: a name that resolves to func."""
    if isinstance(func, torch._ops.OpOverload | torch._ops.OpOverloadPacket):
        return f"torch.ops.{func}"
    name = getattr(func, "__name__", None)
    if name is None:
        raise Unwritable(f"cannot name the called {type(func).__name__}")
    for namespace in _NAMESPACES:
        if getattr(importlib.import_module(namespace), name, None) is func:
            return f"{namespace}.{name}"
    public = _public_names().get(id(func))
    if public is not None:  # torch.linalg.lu_factor is torch._C._linalg.linalg_lu_factor
        return public
    module = getattr(func, "__module__", None)
    if module and getattr(importlib.import_module(module), name, None) is func:
        return f"{module}.{name}"
    raise Unwritable(f"cannot name the called function {name!r}")


@functools.cache
def _public_names() -> dict[int, str]:
    """id -> public dotted name, for everything the torch namespaces export under another name."""
    found: dict[int, str] = {}
    for namespace in reversed(_NAMESPACES):  # the most specific namespace wins
        module = importlib.import_module(namespace)
        for attr, value in vars(module).items():
            if callable(value) and not attr.startswith("_"):
                found[id(value)] = f"{namespace}.{attr}"
    return found


class _Names:
    """Source text for each tensor a call may receive: an input's name or an earlier result's."""

    def __init__(self, inputs, names):
        self.by_id = {id(t): n for t, n in zip(inputs, names, strict=True)}
        self.keep: dict[int, object] = {}  # holds recorded results alive, so their ids stay theirs

    def add_result(self, value, text: str) -> None:
        if isinstance(value, torch.Tensor):
            self.by_id.setdefault(id(value), text)
            self.keep[id(value)] = value
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                self.add_result(item, f"{text}[{i}]")

    def source(self, value) -> str:
        if isinstance(value, torch.Tensor):
            if id(value) not in self.by_id:
                raise Unwritable("a tensor argument is neither an input nor an earlier result")
            return self.by_id[id(value)]
        if isinstance(value, list | tuple) and not isinstance(value, torch.Size) and _has_tensor(value):
            inner = ", ".join(self.source(v) for v in value)
            return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
        if callable(value) and not isinstance(value, torch.dtype | torch.memory_format | torch.layout):
            raise Unwritable(f"a callable argument ({getattr(value, '__name__', type(value).__name__)})")
        return value_source(value)


def _has_tensor(value) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    return isinstance(value, list | tuple) and any(_has_tensor(v) for v in value)


def _keyword_ok(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and name != "self"


def _overload_args(func, args: tuple, names: _Names) -> list[str]:
    """Positional tensors stay positional; from the first other argument on, `name=value`."""
    schema = [a.name for a in func._schema.arguments if not a.kwarg_only]
    split = next((i for i, a in enumerate(args) if not _has_tensor(a)), len(args))
    if len(args) > len(schema) or not all(_keyword_ok(n) for n in schema[split:len(args)]):
        split = len(args)
    return ([names.source(a) for a in args[:split]]
            + [f"{schema[i]}={names.source(a)}" for i, a in enumerate(args) if i >= split])


def spell(call: Recorded, names: _Names) -> str:
    func, args, kwargs = call.func, call.args, call.kwargs
    name = getattr(func, "__name__", "")
    method = getattr(torch.Tensor, name, None) is func and args and isinstance(args[0], torch.Tensor)
    if method and not kwargs and name in _BINARY and len(args) == 2:
        return f"{names.source(args[0])} {_BINARY[name]} {names.source(args[1])}"
    if method and not kwargs and name in _REFLECTED and len(args) == 2:
        return f"{names.source(args[1])} {_REFLECTED[name]} {names.source(args[0])}"
    if method and not kwargs and name in _UNARY and len(args) == 1:
        return _UNARY[name].format(names.source(args[0]))
    if method and not kwargs and name == "__getitem__" and len(args) == 2:
        return f"{names.source(args[0])}[{names.source(args[1])}]"
    descriptor = getattr(func, "__self__", None)
    if name == "__get__" and getattr(descriptor, "__objclass__", None) is torch._C.TensorBase and len(args) == 1:
        return f"{names.source(args[0])}.{descriptor.__name__}"  # an attribute read: x.mT, x.real
    keywords = [f"{k}={names.source(v)}" for k, v in kwargs.items()]
    if method and not name.startswith("__"):
        rest = [names.source(a) for a in args[1:]] + keywords
        return f"{names.source(args[0])}.{name}({', '.join(rest)})"
    if isinstance(func, torch._ops.OpOverload):
        positional = _overload_args(func, args, names)
    else:
        positional = [names.source(a) for a in args]
    return f"{_function_path(func)}({', '.join(positional + keywords)})"


def forward_source(module, inputs) -> tuple[list[str], list[str], object]:
    """(parameter names, body lines, eager output) of a forward equivalent to module's.

    Raises Unwritable when the module holds weights or its forward is not a short straight
    line of spellable torch calls over its inputs.
    """
    if any(True for _ in module.parameters()) or any(True for _ in module.buffers()):
        raise Unwritable("the program holds weights: its calls alone do not rebuild it")
    # An input passed twice is two inputs of the exported program: record them as two tensors.
    tensors = [copy.deepcopy(t) if any(t is u for u in inputs[:i]) else t for i, t in enumerate(inputs)]
    if not all(isinstance(t, torch.Tensor) for t in tensors):
        raise Unwritable("an input of the program is not a tensor")
    params = input_names(len(tensors))
    calls, output = record(module, tensors)
    if not calls:
        raise Unwritable("the forward makes no torch call")
    if len(calls) > MAX_CALLS:
        raise Unwritable(f"the forward makes {len(calls)} torch calls (a program, not a call)")
    names = _Names(tensors, params)
    body = []
    for index, call in enumerate(calls):
        text = spell(call, names)
        if index == len(calls) - 1 and call.result is output:
            body.append(f"return {text}")
            return params, body, output
        result_name = f"t{index}"
        names.add_result(call.result, result_name)
        body.append(f"{result_name} = {text}" if call.result is not None else text)
    body.append(f"return {_output_source(output, names)}")
    return params, body, output


def _output_source(output, names: _Names) -> str:
    if output is None:
        return "None"
    if isinstance(output, torch.Tensor):
        return names.source(output)
    if isinstance(output, list | tuple):
        inner = ", ".join(_output_source(o, names) for o in output)
        return f"[{inner}]" if isinstance(output, list) else f"({inner}{',' if len(output) == 1 else ''})"
    return value_source(output)
