"""The rows of the coverage matrix: every denominator entry, read from the installed libraries.

Three families of rows, each its own denominator, named as the case families whose records
name them (a record's `family`):

    op      canonical op names (`aten.add.Tensor`, `operator.add`, `higher_order.cond`) from the
            importer's convert map and the core ATen overloads (opsuite.coverage.denominators),
            and `reached`: every aten overload an OpInfo sample's exported, decomposed graph
            reaches (opsuite.opinfo.cases.reached) or a zoo model's does (models.graph_ops):
            what users' programs meet
    opinfo  PyTorch OpInfo entries, as `opinfo.<name>[.<variant>]` (the `op` of an OpInfo case)
    model   torchvision.models.list_models()

Rows the records add are kept too: an op case for an overload outside the denominators, and
ops that only appear in the graphs of other cases (`aten_ops`), so nothing a run touched is
hidden. Each row says what is planned for it (the op table, the zoo, the OpInfo selection) and,
where the case families declare one, why it has no case.

The case-family modules are imported read-only (they read torch and TVM; nothing is run); a
family that is not installed yet contributes no planned rows rather than failing the report.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

FAMILIES = ("op", "opinfo", "model")
OPINFO_PREFIX = "opinfo."
# Denominator labels as summary.json and the CSV spell them.
DENOMINATORS = ("convert_map", "core", "reached", "opinfo", "model")


@dataclass
class CoverageRow:
    """One row of the coverage matrix before grading: what is counted, and what is planned for it."""

    name: str
    family: str
    denominators: list[str] = field(default_factory=list)
    planned: int = 0  # cases the case families declare for it (op-table rows, zoo rows, entries)
    no_case: str | None = None  # the declared reason it has no case


@functools.cache
def _op_inventory() -> dict[str, dict]:
    from opsuite.coverage import inventory

    return inventory.inventory()


@functools.cache
def _opinfo() -> tuple[tuple[str, ...], dict[str, str], bool]:
    """OpInfo entry ids, the excluded ones with their reasons, and whether cases exist at all."""
    from opsuite.coverage import denominators

    entries = denominators.opinfo_entries()
    try:
        from opsuite.opinfo import cases as opinfo
    except ImportError:  # the OpInfo family is not installed: every entry is without a plan
        return entries, {}, False
    if not hasattr(opinfo, "excluded"):
        return entries, {}, False
    excluded = {k.removeprefix(OPINFO_PREFIX): v for k, v in opinfo.excluded().items()}
    return entries, excluded, True


@functools.cache
def _reached() -> tuple[str, ...]:
    """Overloads that OpInfo samples' graphs or zoo models' graphs reach."""
    found: set[str] = set()
    try:
        from opsuite.opinfo import cases as opinfo
    except ImportError:
        pass
    else:
        found.update(opinfo.reached() if hasattr(opinfo, "reached") else ())
    try:
        from models.graph_ops import GRAPH_OPS
    except ImportError:
        pass
    else:
        found.update(op for ops in GRAPH_OPS.values() for op in ops if op.startswith("aten."))
    return tuple(sorted(found))


@functools.cache
def _models() -> tuple[tuple[str, ...], frozenset[str]]:
    import torchvision

    listed = tuple(sorted(torchvision.models.list_models()))
    try:
        from models.zoo import ROWS
    except ImportError:
        return listed, frozenset()
    return listed, frozenset(ROWS)


def rows(records: list[dict]) -> dict[str, CoverageRow]:
    """Every row of the matrix, by name: denominators first, then what the records add."""
    table: dict[str, CoverageRow] = {}
    for name, info in _op_inventory().items():
        table[name] = CoverageRow(name, "op", list(info["denominators"]), info["rows"], info["no_case"])

    entries, excluded, planned = _opinfo()
    for entry in entries:
        reason = excluded.get(entry)
        table[OPINFO_PREFIX + entry] = CoverageRow(OPINFO_PREFIX + entry, "opinfo", ["opinfo"],
                                                   int(planned and reason is None), reason)

    for name in _reached():
        if name not in table:
            table[name] = CoverageRow(name, "op", [], 0, None)
        table[name].denominators.append("reached")

    listed, zoo = _models()
    for name in listed:
        table[name] = CoverageRow(name, "model", ["model"], int(name in zoo), None)

    for record in records:
        name = record["op"]
        if name not in table:
            table[name] = CoverageRow(name, family_of(record), [], 0, None)
    for record in records:
        for used in record.get("aten_ops") or ():
            if used not in table:
                table[used] = CoverageRow(used, "op", [], 0, None)
    return table


def family_of(record: dict) -> str:
    """The family of the case that made the record (its `family`); records written before that
    field existed are told apart by how their `op` is spelled."""
    if record.get("family") in FAMILIES:
        return record["family"]
    if record["kind"] == "model":
        return "model"
    if record["op"].startswith(OPINFO_PREFIX):
        return "opinfo"
    if record["kind"] == "dynamic" and "." not in record["op"]:
        return "model"  # a model exported with a symbolic batch: `op` is the model's name, op names are dotted
    return "op"
