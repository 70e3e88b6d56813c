"""Whether a known failure of the export road is also one of the fx and dynamo roads.

TVM's two PyTorch tables share most converters: ExportedProgramImporter and TorchFXImporter
both derive from BaseFXGraphImporter, and an entry such as `"sin.default": self._unary_op(
relax.op.sin)` in one is the same code as `"sin": self._unary_op(relax.op.sin)` in the other.
An entry may name the fx and dynamo roads (`frontends`) only where that holds for each of its
ops: the converter the export table holds for the overload and the one the FX table holds for
the name an fx graph calls it by (the public function or Tensor method, `atan2`; the overload
itself, `_cdist_forward.default`, for a private op) are the same function with the same bound
arguments, and neither reaches a helper that one of the two importers overrides.
"""

from __future__ import annotations

import fnmatch
import functools
import inspect
import types

from harness.programs import resolve_op


@functools.cache
def tables():
    """(export table, FX table by name, helper names an importer overrides, the base class)."""
    from tvm.relax.frontend.torch.base_fx_graph_translator import BaseFXGraphImporter
    from tvm.relax.frontend.torch.exported_program_translator import ExportedProgramImporter
    from tvm.relax.frontend.torch.fx_translator import TorchFXImporter

    fx = {k if isinstance(k, str) else getattr(k, "__name__", k): v
          for k, v in TorchFXImporter().create_convert_map().items()}
    overridden = {name for cls in (ExportedProgramImporter, TorchFXImporter) for name, value in vars(cls).items()
                  if callable(value) and name in vars(BaseFXGraphImporter)}
    return ExportedProgramImporter().create_convert_map(), fx, overridden, BaseFXGraphImporter


def identity(fn, base):
    """What makes two converters the same code: the function (a bound method's, a closure's code
    and the values it closes over) and a partial's bound arguments; the importer itself, which a
    closure may hold, is left out (the two tables' importers differ by construction)."""
    if isinstance(fn, functools.partial):
        return ("partial", identity(fn.func, base), fn.args, tuple(sorted(fn.keywords.items())))
    if inspect.ismethod(fn):
        return ("method", fn.__func__)
    if isinstance(fn, types.FunctionType):
        cells = tuple(identity(c.cell_contents, base) for c in fn.__closure__ or ()
                      if not isinstance(c.cell_contents, base))
        return ("function", fn.__code__, cells)
    return ("value", fn)


def _names(fn) -> set[str]:
    """The attribute names a converter's code (and the functions it closes over) reads."""
    if isinstance(fn, functools.partial):
        return _names(fn.func)
    fn = fn.__func__ if inspect.ismethod(fn) else fn
    if not isinstance(fn, types.FunctionType):
        return set()
    found = set(fn.__code__.co_names)
    for cell in fn.__closure__ or ():
        if isinstance(cell.cell_contents, types.FunctionType) or inspect.ismethod(cell.cell_contents):
            found |= _names(cell.cell_contents)
    return found


def fx_name(op: str) -> str:
    """The FX table's key for an aten overload as an fx graph calls it."""
    packet = resolve_op(op).overloadpacket.__name__
    return op.removeprefix("aten.") if packet.startswith("_") else packet


def not_shared(op: str) -> str | None:
    """Why the export table's converter of `op` is not the FX table's, or None when it is."""
    if not op.startswith("aten.") or op.count(".") != 2:
        return f"{op}: not an aten overload (an OpInfo sample or a model reaches several converters)"
    export, fx, overridden, base = tables()
    key, name = op.removeprefix("aten."), fx_name(op)
    if key not in export or name not in fx:
        return f"{op}: no converter in the {'export' if key not in export else 'FX'} table"
    if identity(export[key], base) != identity(fx[name], base):
        return f"{op}: the export table's {key!r} and the FX table's {name!r} are different code"
    reached = sorted((_names(export[key]) | _names(fx[name])) & overridden)
    if reached:
        return f"{op}: the shared converter calls {', '.join(reached)}, which an importer overrides"
    return None


def ops_named(pattern: str) -> list[str]:
    """The overloads an entry's `op` pattern names: itself, the op of a case-id glob
    (`aten.take.default[[]nodecomp-*`), or the op table's rows an op glob matches."""
    from opsuite.table import rows

    op = pattern.split("[[]", 1)[0]  # a case id's bracket is escaped in a glob
    if not any(c in op for c in "*?["):
        return [op]
    return sorted(row.op for row in rows() if fnmatch.fnmatchcase(row.op, op))


def entry_not_shared(entry: dict) -> list[str]:
    """Why an entry's claim about the export road's converters is not one about the FX table's:
    a reason for each op it names whose converter is not shared (none: it carries over)."""
    patterns = [entry["op"]] if isinstance(entry["op"], str) else entry["op"]
    ops = [op for pattern in patterns for op in ops_named(pattern)]
    return [why for why in map(not_shared, ops) if why] if ops else [f"{patterns}: names no row"]
