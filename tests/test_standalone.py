"""Every module a repro script embeds imports nothing but the standard library, torch and torchvision.

A repro script carries the source of its case's program factory and property check verbatim
(harness/repro.py), so such a module importing anything else (the harness, hypothesis, the op
suite) would make a repro that fails on a machine with only torch and TVM.
"""

import ast
import importlib
import inspect
import pkgutil
import sys

import pytest

import opsuite.standalone
from opsuite.dynamic import programs
from opsuite.dynamic.program import to_case
from opsuite.opinfo import cases as opinfo
from opsuite.table import rows

ALLOWED = {"torch", "torchvision", "__future__"} | set(sys.stdlib_module_names)


def _imported(module) -> set[str]:
    """The top-level names of every import in the module, at any depth (function bodies too)."""
    found = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add("." if node.level else node.module.split(".")[0])
    return found


def _standalone_modules() -> list[str]:
    return [f"opsuite.standalone.{m.name}" for m in pkgutil.iter_modules(opsuite.standalone.__path__)]


def _embedded_modules() -> set[str]:
    """Every module a case of the op table, the dynamic programs, OpInfo or the zoo names as its
    program factory or property check: what repro scripts embed."""
    from models.build import build_model

    found = {row.factory.__module__ for row in rows()}
    found |= {row.check.__module__ for row in rows() if row.check is not None}
    found |= {check.__module__ for check in opinfo.CHECKS.values() if check is not None}
    found |= {c.program.factory.__module__ for c in [opinfo.cases("quick", 0)[0]]}
    found |= {to_case(p, 0, 0).program.factory.__module__ for p in programs()}
    found.add(build_model.__module__)
    return found


@pytest.mark.parametrize("name", _standalone_modules())
def test_standalone_module_imports_only_torch_and_the_standard_library(name):
    extra = _imported(importlib.import_module(name)) - ALLOWED
    assert not extra, f"{name} imports {sorted(extra)}: a repro embedding it would not run"


def test_every_embedded_module_imports_only_torch_and_the_standard_library():
    embedded = _embedded_modules()
    # The table's own modules and the harness's factory are what the suite embeds most.
    assert "harness.programs" in embedded and "opsuite.standalone.properties" in embedded
    for name in sorted(embedded):
        extra = _imported(importlib.import_module(name)) - ALLOWED
        assert not extra, f"{name} imports {sorted(extra)}: a repro embedding it would not run"


def test_the_check_sees_a_forbidden_import():
    """The test above can fail: a module importing the harness is caught."""
    import harness.repro

    assert "harness" not in ALLOWED and "harness" in _imported(harness.repro)
