"""The contract between case families (opsuite/, models/) and the engine (see also harness/family.py).

A `Case` is plain, picklable data: it crosses a process boundary to reach the worker
that runs it, and it is written back out as a standalone repro script. Everything
callable on it (the program factory, a property check, an expectation predicate) must
therefore be a module-level function.

A `Program` is `factory(**kwargs) -> (torch.nn.Module, tuple_of_inputs)`. The factory's
module must import only the standard library, torch and torchvision: repro scripts embed
that module's source verbatim, so a repro runs the very code the harness ran.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = ("op", "dynamic", "model")

STATUSES = (
    "pass",
    "mismatch",
    "export_error",
    "import_unsupported",
    "import_error",
    "compile_error",
    "run_error",
    "deploy_error",  # the exported library failed to save, load or run in a fresh process
    "crash",
    "timeout",
    "xfail",
    "xpass",
    "skip",
)
FAILURES = frozenset(STATUSES) - {"pass", "xfail", "xpass", "skip"}
# What makes a run (or `check`) exit non-zero: anything a declared expectation did not predict.
UNEXPECTED = FAILURES | {"xpass"}

# The facets of a wrong output (harness.compare), and those that only a model of the bug explains:
# wrong values, and a wrong shape, beside which eager's values cannot judge TVM's at all.
OUTPUT_FACETS = ("count", "shape", "dtype", "values", "nan", "inf", "property")
MODELLED_FACETS = ("shape", "values", "nan", "inf", "property")

# Stages in the order a case goes through them. `symbolic` only runs for dynamic cases; `deploy`
# (harness.deploy) only for a static case that passed in the worker and was chosen to ship.
# The roads into TVM (`--frontend`, harness.frontends); export is the default and the
# only one batches, dynamic programs and repro scripts follow.
FRONTENDS = ("export", "dynamo", "fx")

# `trace` and `dynamo` are the fx and dynamo roads' own (harness.frontends); the export road
# never reaches them.
STAGES = ("eager", "export", "decompose", "trace", "dynamo", "import", "symbolic", "compile", "run", "compare",
          "deploy")

_CASE_ID = re.compile(r"^[A-Za-z0-9_.:+\-]+(\[[A-Za-z0-9_.,=+\-]+\])?$")


@dataclass(frozen=True)
class Program:
    """A torch program: `factory(**kwargs)` returns `(module, inputs)`."""

    factory: Callable[..., tuple[Any, tuple[Any, ...]]]
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def build(self, **overrides: Any) -> tuple[Any, tuple[Any, ...]]:
        return self.factory(**{**self.kwargs, **overrides})


@dataclass(frozen=True)
class Tolerance:
    """A per-case widening of the default tolerance; the reason is mandatory.

    `float64_reference`: keep rtol and atol, and judge what misses them against a float64 run
    as half precision is (harness.compare), for an op whose eager result in this dtype is itself
    measurably further from float64 than the tolerance (the reason gives the numbers)."""

    rtol: float
    atol: float
    reason: str
    float64_reference: bool = False

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("a tolerance override needs a written reason")


@dataclass(frozen=True)
class Expectation:
    """A known failure, declared as data.

    It applies to a case when the dtype, target and `when` predicate all match; an applicable
    expectation turns a failure that matches `status`, `stage` and `match` into `xfail`, and a
    pass into `xpass` (a strict failure: the expectation is stale).
    """

    reason: str
    status: str | None = None  # e.g. "mismatch"; None accepts any failure status
    stage: str | None = None  # e.g. "import"; None accepts any stage
    match: str | None = None  # regex searched in the one-line error
    id: str | None = None  # stable, unique among the declared entries; records carry it
    # A wrong output: the facets it explains ("values", "dtype", ..., or "values[1]" for output
    # 1 only); a wrong-values facet is explained only where TVM's outputs match `model`.
    facets: tuple[str, ...] | None = None
    # module-level model(module, inputs) -> what TVM computes: a list of outputs, or a dict
    # {"outputs": [...], "unknown": [mask or None, ...]} whose masked elements nobody can predict.
    model: Callable | None = None
    unmodelled: str | None = None  # why no model can exist (reads of uninitialised memory)
    dtypes: tuple[str, ...] | None = None
    targets: tuple[str, ...] | None = None
    when: Callable[[Case], bool] | None = None  # module-level predicate over the case
    link: str | None = None
    # The failure shows on some runs only (TVM reads uninitialised memory): a pass is not an xpass.
    flaky: bool = False
    # Dynamic programs: only the run sizes whose every named value lies in its [lo, hi] range
    # (a failure that shows only from some size on, e.g. {"b": (2, 16)}).
    sizes: Mapping[str, tuple[int, int]] | None = None
    # The frontends whose converters the entry is about (harness.frontends.FRONTENDS); a failure
    # through another road is not explained by it.
    frontends: tuple[str, ...] = ("export",)

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("an expectation needs a written reason")
        if self.status is not None and self.status not in FAILURES:
            raise ValueError(f"expectation status {self.status!r} is not a failure status")
        if self.stage is not None and self.stage not in STAGES:
            raise ValueError(f"expectation stage {self.stage!r} is not one of {STAGES}")
        if self.match is not None:
            re.compile(self.match)
        for facet in self.facets or ():
            if facet.split("[")[0] not in OUTPUT_FACETS:
                raise ValueError(f"expectation facet {facet!r} is not one of {OUTPUT_FACETS} (or NAME[i])")
        if (self.model is None and self.unmodelled is None
                and any(f.split("[")[0] in MODELLED_FACETS for f in self.facets or ())):
            raise ValueError("an expectation of wrong values or shapes needs a model of the bug, or "
                             "`unmodelled` saying why none can exist")
        for name, (lo, hi) in (self.sizes or {}).items():
            if lo > hi:
                raise ValueError(f"expectation sizes: {name} range [{lo}, {hi}] is empty")

    def applies(self, case: Case, target: str) -> bool:
        if self.dtypes is not None and case.dtype not in self.dtypes:
            return False
        if self.targets is not None and target not in self.targets:
            return False
        return self.when is None or bool(self.when(case))

    def covers(self, size: Mapping[str, Any] | None) -> bool:
        """Whether a record of this run size is in scope (always, without a `sizes` scope)."""
        if self.sizes is None:
            return True
        if size is None:
            return False
        return all(k in size and lo <= size[k] <= hi for k, (lo, hi) in self.sizes.items())

    def explains(self, status: str, stage: str | None, error: str | None) -> bool:
        """Whether a failure of this status, stage and error is this bug (facets aside)."""
        if status not in FAILURES:
            return False
        if self.status is not None and status != self.status:
            return False
        if self.stage is not None and stage != self.stage:
            return False
        return self.match is None or re.search(self.match, error or "") is not None

    def names(self, facet: dict) -> bool:
        """Whether this expectation declares a differing output facet (a record's facet dict)."""
        kind, output = facet["facet"], facet.get("output")
        return any(f == kind or f == f"{kind}[{output}]" for f in self.facets or ())

    @property
    def key(self) -> str:
        """What a record and a model check call this expectation by."""
        return self.id or self.reason


_DIM_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def _linear(expr: str, name: str) -> tuple[int, int]:
    """(a, c) with expr == a*name + c: the only form of derived dim torch.export accepts."""
    def at(value: int) -> int:
        return eval(expr, {"__builtins__": {}}, {name: value})

    return at(1) - at(0), at(0)


@dataclass(frozen=True)
class DynamicSpec:
    """Symbolic dims for export, and the concrete sizes the compiled program runs at.

    `dims` maps a symbol to its (min, max); `shapes` gives, per input, the axes that are
    dynamic and their expression (`"b"`, `"2*b"`, `"b+1"`: one dim, linear); each entry of
    `sizes` is a set of factory keyword overrides producing inputs of one concrete size;
    `probes` are sizes outside the declared constraints (a dim out of its range, or inputs
    that break a relation such as a shared dim), run to record what happens: an error or a
    silent run.
    """

    dims: Mapping[str, tuple[int, int]]
    shapes: tuple[Mapping[int, str] | None, ...]
    sizes: tuple[Mapping[str, Any], ...]
    probes: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if not self.sizes:
            raise ValueError("a dynamic program needs at least one run size")
        for name, (lo, hi) in self.dims.items():
            if not 0 <= lo <= hi:
                raise ValueError(f"dim {name}: range [{lo}, {hi}] is empty or negative")
        for index, axes in enumerate(self.shapes):
            for axis, expr in (axes or {}).items():
                names = _DIM_NAME.findall(expr)
                if len(names) != 1 or names[0] not in self.dims:
                    raise ValueError(f"input {index} axis {axis}: {expr!r} must use exactly one "
                                     f"declared dim (declared: {', '.join(self.dims)})")
                if _linear(expr, names[0])[0] <= 0:
                    raise ValueError(f"input {index} axis {axis}: {expr!r} is not increasing in {names[0]}")

    def violations(self, input_shapes: list[list[int]]) -> list[str]:
        """The declared constraints that inputs of these concrete shapes break.

        Each dim's value is read from the first axis that carries it; any other axis that
        disagrees breaks a relation (a shared dim, `2*b`, `b+1`), and a value outside its
        range breaks the range.
        """
        values: dict[str, int] = {}
        broken = []
        for index, axes in enumerate(self.shapes):
            if not axes or index >= len(input_shapes):
                continue
            for axis, expr in sorted(axes.items()):
                (name,) = _DIM_NAME.findall(expr)
                size = input_shapes[index][axis]
                a, c = _linear(expr, name)
                if name in values:
                    if a * values[name] + c != size:
                        broken.append(f"input {index} axis {axis} is {size}, but {expr} = "
                                      f"{a * values[name] + c} for {name}={values[name]}")
                elif (size - c) % a:
                    broken.append(f"input {index} axis {axis} is {size}, not of the form {expr}")
                else:
                    values[name] = (size - c) // a
        for name, value in values.items():
            lo, hi = self.dims[name]
            if not lo <= value <= hi:
                broken.append(f"{name}={value} outside [{lo}, {hi}]")
        return broken


@dataclass(frozen=True)
class Case:
    case_id: str
    kind: str
    op: str  # the aten overload the case is for (`aten.add.Tensor`) or the model name
    program: Program
    dtype: str
    seed: int = 0
    tolerance: Tolerance | None = None
    expectations: tuple[Expectation, ...] = ()
    decompose: bool = True  # run the ExportedProgram decompositions, as the importer does by default
    nondeterministic: bool = False  # eager is run twice and must agree before it is a reference
    # A property the outputs must have instead of equal values (random ops), module-level:
    # check(expected_outputs, actual_outputs, inputs) -> None or a one-line mismatch message.
    check: Callable[[list[Any], list[Any], tuple[Any, ...]], str | None] | None = None
    dynamic: DynamicSpec | None = None
    timeout: float | None = None  # seconds; overrides the run's per-case limit
    cost: float = 1.0  # expected relative cost, for sharding
    meta: Mapping[str, Any] = field(default_factory=dict)  # shown in reports and repros
    family: str = ""  # the family that made it (harness.family.Family.build sets it)
    # A cheaper build that torch.export traces exactly as `program`'s, leaving out what only the
    # reference needs (a model's calibration pass: export traces with fake tensors, so no value
    # decides its outcome). A case that declares an export failure is exported from it first, and
    # its reference is built only if that export succeeds (harness.stages).
    tracing: Program | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.case_id}: kind {self.kind!r} is not one of {KINDS}")
        if not _CASE_ID.match(self.case_id):
            raise ValueError(f"case id {self.case_id!r} is not of the form name[variant]")
        if self.dynamic is not None and self.kind != "dynamic":
            raise ValueError(f"{self.case_id}: only dynamic cases carry a DynamicSpec")


def check_unique(cases: list[Case]) -> list[Case]:
    """Reject duplicate case ids: a duplicate would silently overwrite a verdict."""
    seen: dict[str, Case] = {}
    for case in cases:
        if case.case_id in seen:
            raise ValueError(f"duplicate case id {case.case_id!r}")
        seen[case.case_id] = case
    return cases


def wants_repro(record: dict) -> bool:
    return not record.get("probe") and (record["status"] in FAILURES or record["status"] in ("xfail", "xpass"))


def safe_name(case_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", case_id).strip("_")[:180]
