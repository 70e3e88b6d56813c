"""Where an op is handled in the installed TVM: its convert-map key, converter, file and line.

The importer's convert map (`ExportedProgramImporter().create_convert_map()`) maps a key such as
`sin.default` (an aten overload without its namespace) to a function, a bound method or a
`functools.partial`. Generic converters are closures made by a factory (`_unary_op(relax.op.sin)`
returns `convert`): for those the relax functions the closure captured are named too, since the
factory's line alone says little about which relax op an aten op becomes.

Read-only: nothing here runs a case. Used by `harness bringup` and the bug-report drafts.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Converter:
    key: str  # the convert-map key (`sin.default`)
    qualname: str  # `BaseFXGraphImporter._unary_op.<locals>.convert`
    file: str | None
    line: int | None
    captured: tuple[str, ...] = field(default=())  # relax functions a generic converter closes over

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else "(source not available)"

    def source_path(self) -> str:
        """The file as it sits in TVM's source tree (`python/tvm/...:LINE`), for upstream readers."""
        if not self.file:
            return "(source not available)"
        index = self.file.rfind("/tvm/")  # site-packages/tvm/... or <checkout>/python/tvm/...
        relative = f"python{self.file[index:]}" if index >= 0 else self.file
        return f"{relative}:{self.line}"

    def describe(self) -> str:
        text = f"{self.qualname} at {self.where()}"
        if self.captured:
            text += f" (wraps {', '.join(self.captured)})"
        return text


def key_of(op: str) -> str:
    """The convert-map key of an op name: `aten.sin.default` -> `sin.default`."""
    return op.removeprefix("aten.")


@functools.cache
def convert_map() -> dict:
    from tvm.relax.frontend.torch.exported_program_translator import ExportedProgramImporter

    return ExportedProgramImporter().create_convert_map()


def _unwrap(fn):
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, "__func__", fn)  # a bound method's function


def _captured(fn) -> tuple[str, ...]:
    names = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        module = getattr(value, "__module__", "") or ""
        if callable(value) and module.startswith("tvm.relax"):
            names.append(f"{module}.{getattr(value, '__qualname__', getattr(value, '__name__', '?'))}")
    return tuple(names)


def describe_function(key: str, fn) -> Converter:
    inner = _unwrap(fn)
    qualname = getattr(inner, "__qualname__", type(inner).__name__)
    try:
        file = inspect.getsourcefile(inner)
        line = inspect.getsourcelines(inner)[1]
    except (OSError, TypeError):
        file, line = None, None
    return Converter(key, qualname, file, line, _captured(inner))


def converter_of(op: str, table: dict | None = None) -> Converter | None:
    """The converter the importer uses for `op` (from `table`, default the installed map)."""
    key = key_of(op)
    table = convert_map() if table is None else table
    fn = table.get(key)
    return None if fn is None else describe_function(key, fn)


def tvm_build() -> dict:
    """The installed TVM's version and git commit (None when the build did not record one)."""
    import tvm

    try:
        info = dict(tvm.support.libinfo())
    except Exception:  # noqa: BLE001 - an old or stripped build: no build info
        info = {}
    return {"version": getattr(tvm, "__version__", None), "git_commit": info.get("GIT_COMMIT_HASH") or None}
