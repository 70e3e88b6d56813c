"""A converter skeleton for an op the importer lacks: a module ready for `--convert-map FILE:MAP`.

The module reads every argument of the op's torch schema from the fx node (positional, keyword
or default, in schema order), turns tensor arguments into their Relax expressions, and either
builds the obvious Relax op (a one-tensor op whose name Relax also has, e.g. `relax.op.sin`) or
raises NotImplementedError with a hint: the schema and the Relax ops with a similar name.
"""

from __future__ import annotations

import difflib
import re

import torch

from harness.converters import key_of

_HEADER = '''"""Converter for {op}, for `harness bringup {op} --watch {path}` (or `--convert-map {module}:MAP`).

Schema: {schema}

A converter is `fn(node, importer) -> relax.Expr`: `node` is the torch.fx node (`node.args`,
`node.kwargs` in schema order), `importer.env[n]` is the Relax expression of an earlier node `n`,
and `importer.block_builder.emit(expr)` binds a new one. Once it passes, the same function goes
into the convert map of python/tvm/relax/frontend/torch/exported_program_translator.py.
"""

from tvm import relax


def _arg(node, index, name, default):
    """The argument at schema position `index`, given positionally, by keyword, or defaulted."""
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)

'''


def overload(op: str):
    """The torch OpOverload of `aten.sin.default`, or None when torch has no such overload."""
    parts = op.split(".")
    if len(parts) != 3:
        return None
    try:
        return getattr(getattr(getattr(torch.ops, parts[0]), parts[1]), parts[2])
    except (AttributeError, RuntimeError):
        return None


def schema_of(op: str) -> str | None:
    found = overload(op)
    return str(found._schema) if found is not None else None


def _relax_ops() -> list[str]:
    from tvm import relax

    return sorted(n for n in dir(relax.op) if not n.startswith("_") and callable(getattr(relax.op, n)))


def _reader(index: int, arg) -> str:
    kind = str(arg.type)
    default = repr(arg.default_value) if arg.has_default_value() else "None"
    raw = f"_arg(node, {index}, {arg.name!r}, {default})"
    if kind == "Tensor":
        return f"importer.env[{raw}]"
    if kind == "Optional[Tensor]":
        return f"(lambda a: None if a is None else importer.env[a])({raw})"
    if kind in ("List[Tensor]", "List[Optional[Tensor]]"):
        return f"[None if a is None else importer.env[a] for a in {raw}]"
    return raw


def _identifier(name: str) -> str:
    name = re.sub(r"\W", "_", name)
    return f"{name}_" if name in ("self", "input", "min", "max", "sum", "all", "any", "type", "round", "abs") else name


def render(op: str, path: str = "converter.py") -> str:
    """The skeleton module's source for `op` (`aten.amax.default`)."""
    found = overload(op)
    if found is None:
        raise ValueError(f"{op}: not a torch overload (expected aten.<name>.<overload>)")
    schema = found._schema
    packet = op.split(".")[1]
    key = key_of(op)
    fn = re.sub(r"\W", "_", key)
    relax_ops = _relax_ops()
    lines = [f"def {fn}(node, importer):", f'    """{op}: {schema}"""']
    names = []
    for index, arg in enumerate(schema.arguments):
        if arg.kwarg_only and str(arg.type) not in ("Tensor", "Optional[Tensor]"):
            reader = f"node.kwargs.get({arg.name!r}, {repr(arg.default_value) if arg.has_default_value() else 'None'})"
        else:
            reader = _reader(index, arg)
        names.append(_identifier(arg.name))
        lines.append(f"    {names[-1]} = {reader}")
    tensors = [a for a in schema.arguments if str(a.type) == "Tensor"]
    obvious = (packet in relax_ops and len(schema.arguments) == 1 and len(tensors) == 1
               and [str(r.type) for r in schema.returns] == ["Tensor"])
    if obvious:
        lines.append(f"    return importer.block_builder.emit(relax.op.{packet}({names[0]}))")
    else:
        similar = difflib.get_close_matches(packet, relax_ops, n=4, cutoff=0.6)
        hint = (f"relax.op has {', '.join(similar)}" if similar
                else "no relax.op has a similar name: compose it from several")
        message = f"{op}: build the Relax expression from {', '.join(names)}; {hint}"
        lines.append(f"    raise NotImplementedError({message!r})")
    module = re.sub(r"\W", "_", path.rsplit("/", 1)[-1].removesuffix(".py"))
    header = _HEADER.format(op=op, schema=schema, path=path, module=module)
    return header + "\n" + "\n".join(lines) + f"\n\n\nMAP = {{{key!r}: {fn}}}\n"
