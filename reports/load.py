"""A results directory as the reports see it: its records, its fingerprint, and per-record facts.

Everything a report shows is computed from `results.jsonl` (and the fingerprint the run wrote
beside it); nothing here runs a case. Probe records (runs outside a dynamic program's declared
constraints) describe the probe, not the op, so they are kept apart from the matrix.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from harness.case import FAILURES
from harness.records import ResultsError, frontend_of, read_results  # noqa: F401 - frontend_of: part of this module's API

# A record's outcome: its status, except that a pass on a degenerate reference proves little
# ("degenerate"; unless every reference of the op is, by its definition: a pass of zeros proves
# all it can) and a CUDA case that compiled on a machine without a GPU "compiles".
GOOD = ("pass", "compiles")
# Worst first: the order cells are coloured and counts are listed in.
SEVERITY = ("crash", "timeout", "deploy_error", "run_error", "compile_error", "import_error", "import_unsupported",
            "export_error", "mismatch", "xpass", "xfail", "degenerate", "compiles", "pass", "skip")
FAILING = frozenset(FAILURES) | {"xpass"}  # what makes a run fail: unexpected outcomes


@dataclass
class Run:
    directory: Path
    records: list[dict]  # every non-probe record
    probes: list[dict]
    environment: dict


def load(directory: str | Path) -> Run:
    directory = Path(directory)
    records = read_results(directory)
    env_file = directory / "environment.json"
    environment = {}
    if env_file.exists():
        try:
            environment = json.loads(env_file.read_text())
        except json.JSONDecodeError as err:
            raise ResultsError(f"{env_file}: corrupt environment fingerprint ({err.msg})") from None
    return Run(directory, [r for r in records if not r.get("probe")],
               [r for r in records if r.get("probe")], environment)


def outcome(record: dict) -> str:
    status = record["status"]
    if status == "pass" and record.get("degenerate") and not by_definition(record):
        return "degenerate"
    if status == "skip" and record.get("skip_reason") == "no-gpu":
        return "compiles"  # the engine only says no-gpu after tvm.compile for CUDA succeeded
    return status


def by_definition(record: dict) -> str | None:
    """Why the record's reference is degenerate whatever was drawn (its row says: a fill is
    constant, isnan of an integer all False), or None."""
    return (record.get("meta") or {}).get("degenerate_by_definition")


def column(record: dict, by_frontend: bool = False) -> str:
    """The matrix column of a record: `target/dtype`, or `target/dynamic` for symbolic programs;
    `frontend:target/dtype` where the records hold several frontends (a column group each)."""
    name = f"{record['target']}/{'dynamic' if record['kind'] == 'dynamic' else record['dtype']}"
    return f"{frontend_of(record)}:{name}" if by_frontend else name


def split_column(name: str) -> tuple[str | None, str, str]:
    """(frontend or None, target, dtype) of a matrix column."""
    frontend, _, rest = name.rpartition(":")
    target, _, dtype = rest.partition("/")
    return frontend or None, target, dtype


def input_elements(record: dict) -> int:
    """How many input elements the case feeds: what "smallest example" is measured by."""
    total = 0
    for shape in record.get("input_shapes") or ():
        total += math.prod(int(d) for d in shape) if isinstance(shape, list) else 1
    return total


def _relative(path: str | None, directory: Path) -> str | None:
    if not path:
        return None
    parts = PurePosixPath(str(path).replace("\\", "/")).parts
    if len(parts) >= 3 and parts[-3] == "repro":
        relative = PurePosixPath(*parts[-3:])
        if (Path(directory) / relative).is_file():
            return str(relative)
    return None


def repro_link(record: dict, directory: Path) -> str | None:
    """The repro to show, as a path relative to the report directory, when it is there: the short
    one (the case in one screen) where the run wrote one, else the full one.

    Relative, so a copied or merged directory's reports still link to its own scripts, and
    two directories holding the same records render the same links.
    """
    return _relative(record.get("short_repro"), directory) or _relative(record.get("repro"), directory)


def full_repro_link(record: dict, directory: Path) -> str | None:
    """The full repro (every stage as the harness runs it, convert maps and symbolic checks included)."""
    return _relative(record.get("repro"), directory)
