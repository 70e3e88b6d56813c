"""The coverage matrix: a row per denominator entry, a cell per target x dtype, a grade per row.

Two ways a case counts towards an op, kept apart everywhere:
- a case *for* the op: its record's `op` is the row (`aten.add.Tensor`, `opinfo.sin`, `resnet18`).
  Only these fill the target x dtype and dynamic cells and decide the grade.
- a case that *uses* the op: the op is in the record's `aten_ops` (the decomposed graph) but the
  case is for something else. Shown as the "used by" and "models" columns: evidence that the op
  converts in context, never part of the grade (a failing model does not say which op failed).

An op that only the `reached` denominator names and that no case is for is graded on the cases
that use it: they are the only evidence there is, and each is an OpInfo sample small enough to
point at the op.

Grades, over a row's own non-probe records (skips are "not applicable": eager does not support
the dtype). A CUDA case on a machine without a GPU "compiles": TVM generated its kernels and the
device compiler accepted every one of them for each listed arch; nothing ran.
- full:     at least one case passed on a non-degenerate reference, and no case failed (a pass on
            a degenerate reference, e.g. an empty output, is neither proof nor failure, unless
            the op's row says every reference of that dtype is, as a fill's is; a case that
            compiles is no failure);
- partial:  at least one such pass or case that compiles, and at least one case that did not
            pass (a failure, an expected failure, an unexpected pass);
- compiles: no case ran, some compile and none failed: the most a machine without a GPU proves;
- unproven: cases ran and some passed, but only on degenerate references (an empty, all-zero or
            constant output cannot tell a right converter from a wrong one), none on a proper one;
- none:     cases ran (or compiled), and none of them passed or compiled;
- skipped:  every case of the row was skipped;
- not run:  the case families plan cases for the row, but these records hold none;
- no case:  nothing is planned (with the declared reason where the families give one).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import pandas as pd

from harness.case import FRONTENDS
from reports import universe
from reports.load import SEVERITY, Run, column, frontend_of, outcome, split_column

GRADES = ("full", "partial", "compiles", "unproven", "none", "skipped", "not run", "no case")
_TARGETS = ("llvm", "cuda")
_DTYPES = ("float32", "float16", "bfloat16", "float64", "complex64", "complex128", "int8", "uint8",
           "int16", "int32", "int64", "bool")


@dataclass
class Cell:
    counts: collections.Counter  # outcome -> records
    case_ids: list[str]
    # CUDA: arch -> verdict -> records whose kernels got that verdict (compiled, rejected, ...)
    kernels: dict[str, collections.Counter] = field(default_factory=dict)

    @property
    def worst(self) -> str:
        return min(self.counts, key=SEVERITY.index)

    @property
    def text(self) -> str:
        text = cell_text(self.counts)
        kernels = kernel_text(self.kernels)
        return f"{text} · {kernels}" if kernels else text


@dataclass
class MatrixRow:
    row: universe.CoverageRow
    grade: str
    cells: dict[str, Cell] = field(default_factory=dict)  # column -> its own cases, in column order
    own: collections.Counter = field(default_factory=collections.Counter)  # outcome -> records
    uses: collections.Counter = field(default_factory=collections.Counter)  # by non-model cases
    models: dict[str, str] = field(default_factory=dict)  # model using the op -> the model's grade

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def statuses(self) -> list[str]:
        return sorted(self.own, key=SEVERITY.index)


@dataclass
class Matrix:
    rows: list[MatrixRow]
    columns: list[str]
    by_name: dict[str, MatrixRow]


def cell_text(counts: collections.Counter) -> str:
    """`9/12 · 3 mismatch`: passes over the cases that ran, then every other outcome by count."""
    ran = sum(n for o, n in counts.items() if o not in ("skip", "compiles"))
    parts = [f"{counts.get('pass', 0)}/{ran}"] if ran else []
    parts += [f"{counts[o]} {o}" for o in SEVERITY if o != "pass" and counts.get(o)]
    return " · ".join(parts)


def kernel_text(kernels: dict[str, collections.Counter]) -> str:
    """`kernels sm_80 sm_89 sm_90 3/3`: how many cases' kernels compiled per arch, archs with
    the same count grouped; a rejection names its arch."""
    if not kernels:
        return ""
    groups: dict[str, list[str]] = {}
    for arch in sorted(kernels, key=_arch_number):
        counts = kernels[arch]
        tried = sum(n for v, n in counts.items() if v != "not tried")
        if not tried:
            continue
        label = f"{counts.get('compiled', 0)}/{tried}"
        failed = [f"{n} {v}" for v, n in sorted(counts.items()) if v not in ("compiled", "not tried")]
        groups.setdefault(label + (f" ({', '.join(failed)})" if failed else ""), []).append(arch)
    return "kernels " + " · ".join(f"{' '.join(archs)} {label}" for label, archs in groups.items())


def _arch_number(arch: str) -> int:
    digits = "".join(ch for ch in arch if ch.isdigit())
    return int(digits) if digits else 0


def cell_kernels(records) -> dict[str, collections.Counter]:
    kernels: dict[str, collections.Counter] = {}
    for record in records:
        for arch, verdict in ((record.get("device_compile") or {}).get("archs") or {}).items():
            kernels.setdefault(arch, collections.Counter())[verdict] += 1
    return kernels


def grade(own: collections.Counter, row: universe.CoverageRow) -> str:
    if not own:
        return "not run" if row.planned else "no case"
    ran = {o: n for o, n in own.items() if o != "skip"}
    if not ran:
        return "skipped"
    proven, compiled = ran.get("pass", 0), ran.get("compiles", 0)
    clean = proven + compiled + ran.get("degenerate", 0) == sum(ran.values())
    if proven and clean:
        return "full"
    if compiled and clean:
        return "compiles"
    if proven or compiled:
        return "partial"
    return "unproven" if ran.get("degenerate") else "none"


def column_key(name: str) -> tuple:
    frontend, target, dtype = split_column(name)
    f = (FRONTENDS.index(frontend) if frontend in FRONTENDS else len(FRONTENDS), frontend or "")
    t = _TARGETS.index(target) if target in _TARGETS else len(_TARGETS)
    if dtype == "dynamic":
        d = (2, 0, "")
    elif dtype in _DTYPES:
        d = (0, _DTYPES.index(dtype), "")
    else:
        d = (1, 0, dtype)  # mixed operand dtypes (`int32+float16`) after the plain ones
    return (f, t, target, d)


def frame(run: Run) -> pd.DataFrame:
    """One line per record with what the matrix groups by."""
    columns = ["case_id", "op", "target", "kind", "dtype", "status", "outcome", "column", "family",
               "aten_ops", "device_compile", "frontend"]
    several = len({frontend_of(r) for r in run.records}) > 1
    return pd.DataFrame(
        [{"case_id": r["case_id"], "op": r["op"], "target": r["target"], "kind": r["kind"],
          "dtype": r["dtype"], "status": r["status"], "outcome": outcome(r), "column": column(r, several),
          "family": universe.family_of(r), "aten_ops": list(r.get("aten_ops") or []),
          "device_compile": r.get("device_compile"), "frontend": frontend_of(r)}
         for r in run.records], columns=columns)


def graded(df: pd.DataFrame) -> pd.DataFrame:
    """The records a row's grade counts: the export road's where the records hold it (the other
    roads have their own columns and the differential view), else those of the first road."""
    present = [f for f in FRONTENDS if f in set(df["frontend"])]
    return df[df["frontend"] == present[0]] if len(present) > 1 else df


def _programs(group: pd.DataFrame) -> list:
    """The device-compile reports of a cell, one per compiled program (a dynamic program's
    sizes share one compile)."""
    seen, found = set(), []
    for case_id, report in zip(group["case_id"], group["device_compile"], strict=True):
        key = case_id.split("@", 1)[0]
        if isinstance(report, dict) and key not in seen:
            seen.add(key)
            found.append(report)
    return found


def build(run: Run) -> Matrix:
    table = universe.rows(run.records)
    df = frame(run)
    cells: dict[str, dict[str, Cell]] = collections.defaultdict(dict)
    for (op, col), group in df.groupby(["op", "column"], sort=True):
        kernels = cell_kernels({"device_compile": d} for d in _programs(group))
        cells[op][col] = Cell(collections.Counter(group["outcome"]), sorted(group["case_id"]), kernels)
    own = {op: collections.Counter(group["outcome"]) for op, group in graded(df).groupby("op")}

    used = graded(df).explode("aten_ops").dropna(subset=["aten_ops"])
    used = used[used["aten_ops"] != used["op"]]
    by_cases = used[used["family"] != "model"]
    uses = {op: collections.Counter(group["outcome"]) for op, group in by_cases.groupby("aten_ops")}

    rows = []
    for name, row in table.items():
        counts = own.get(name, collections.Counter())
        if not counts and row.denominators == ["reached"]:
            counts = uses.get(name, collections.Counter())
        ordered = dict(sorted(cells.get(name, {}).items(), key=lambda item: column_key(item[0])))
        rows.append(MatrixRow(row, grade(counts, row), ordered, counts,
                              uses.get(name, collections.Counter())))
    by_name = {r.name: r for r in rows}
    by_model = used[used["family"] == "model"]
    for op, group in by_model.groupby("aten_ops"):
        by_name[op].models = {m: by_name[m].grade for m in sorted(set(group["op"]))}

    order = {f: i for i, f in enumerate(universe.FAMILIES)}
    rows.sort(key=lambda r: (order.get(r.row.family, len(order)), r.name))
    return Matrix(rows, sorted(set(df["column"]), key=column_key), by_name)


def grade_counts(matrix: Matrix, denominator: str) -> dict[str, int]:
    """How many rows of one denominator have each grade, and the total."""
    chosen = [r for r in matrix.rows if denominator in r.row.denominators]
    counts = collections.Counter(r.grade for r in chosen)
    return {"total": len(chosen), **{g: counts.get(g, 0) for g in GRADES}}
