"""Coverage denominators, read from the installed libraries, never from a hand list.

- the importer's convert map: `ExportedProgramImporter().create_convert_map()` keys;
- the core ATen overloads: every `torch.ops.aten` overload tagged `torch.Tag.core`,
  without `.out` variants;
- PyTorch's OpInfo database (`op_db`), one entry per `name` + `variant_test_name`.

A convert-map key is an overload name without its namespace (`add.Tensor`); most resolve
to `aten.<key>`, some are Python operators on symbolic sizes (`add`, `getitem`), a
higher-order op (`cond`), another namespace (`roi_align.default` is torchvision's), or
name nothing in this torch. `resolve_key` says which.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Resolution:
    key: str  # the convert-map key as the importer spells it
    name: str  # canonical name: `aten.add.Tensor`, `operator.add`, `higher_order.cond`, ...
    kind: str  # "aten" | "operator" | "higher_order" | "other_namespace" | "unresolved"


@functools.cache
def convert_map_keys() -> tuple[str, ...]:
    from tvm.relax.frontend.torch.exported_program_translator import ExportedProgramImporter

    return tuple(sorted(ExportedProgramImporter().create_convert_map()))


def overload_exists(namespace: str, packet: str, overload: str) -> bool:
    try:
        return hasattr(getattr(getattr(torch.ops, namespace), packet), overload)
    except (AttributeError, RuntimeError):
        return False


def resolve_key(key: str) -> Resolution:
    if "." not in key:
        if key == "cond":
            return Resolution(key, "higher_order.cond", "higher_order")
        if hasattr(operator, key):
            return Resolution(key, f"operator.{key}", "operator")
        return Resolution(key, key, "unresolved")
    packet, overload = key.split(".", 1)
    if overload_exists("aten", packet, overload):
        return Resolution(key, f"aten.{key}", "aten")
    for namespace in ("torchvision", "prims", "quantized"):
        if namespace == "torchvision":
            try:
                import torchvision  # noqa: F401 - registers torch.ops.torchvision
            except ImportError:
                continue
        if overload_exists(namespace, packet, overload):
            return Resolution(key, f"{namespace}.{key}", "other_namespace")
    return Resolution(key, f"aten.{key}", "unresolved")


@functools.cache
def convert_map() -> tuple[Resolution, ...]:
    return tuple(resolve_key(k) for k in convert_map_keys())


def _is_out_variant(overload: str) -> bool:
    return overload == "out" or overload.endswith("_out") or overload.startswith("out_")


@functools.cache
def core_aten_overloads() -> tuple[str, ...]:
    found = []
    for packet_name in dir(torch.ops.aten):
        try:
            packet = getattr(torch.ops.aten, packet_name)
        except (AttributeError, RuntimeError):
            continue
        if not hasattr(packet, "overloads"):
            continue
        for overload in packet.overloads():
            if _is_out_variant(overload):
                continue
            if torch.Tag.core in getattr(packet, overload).tags:
                found.append(f"aten.{packet_name}.{overload}")
    return tuple(sorted(found))


def opinfo_id(entry) -> str:
    return f"{entry.name}.{entry.variant_test_name}" if entry.variant_test_name else entry.name


@functools.cache
def opinfo_entries() -> tuple[str, ...]:
    from torch.testing._internal.common_methods_invocations import op_db

    return tuple(sorted({opinfo_id(e) for e in op_db}))


@functools.cache
def union() -> dict[str, frozenset[str]]:
    """Every op the coverage matrix must show, with the denominators it belongs to.

    Keys are canonical names (`aten.add.Tensor`, `operator.add`, ...); values a subset of
    {"convert_map", "core"}. OpInfo entries are a denominator of their own (they name Python
    functions, not overloads) and are attributed to overloads through the records' aten_ops.
    """
    table: dict[str, set[str]] = {}
    for resolution in convert_map():
        table.setdefault(resolution.name, set()).add("convert_map")
    for name in core_aten_overloads():
        table.setdefault(name, set()).add("core")
    return {k: frozenset(v) for k, v in sorted(table.items())}
