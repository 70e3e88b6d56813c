"""Result records: one JSON object per line of `results.jsonl`, appended and flushed per case.

Field by field (scripts outside the repo read these; do not rename):
    case_id          stable readable id; a dynamic program's records add `@size`
    kind             "op" | "dynamic" | "model": how the case runs (one op, a dynamic program, a model)
    family           the case family that made it (harness.family.Family.name: "op", "opinfo",
                     "model"), or null for a case built outside any family; absent in records
                     written before the field existed
    op               the aten overload the case is for, or the model name
    aten_ops         every op in the (decomposed) exported graph: aten overloads, plus `operator.*`,
                     `higher_order.*` and other namespaces (`torchvision.roi_align.default`)
    dtype            the case's dtype ("float32", ..., or "mixed")
    target           "llvm" | "cuda"
    frontend         "export" | "dynamo" | "fx": the road into TVM (harness.frontends); records
                     written before the field existed went through export
    call             fx and dynamo only: what the case's module called. An op case calls the op's
                     public torch function or Tensor method (`torch.sin`, `Tensor.add_`,
                     `torch.nn.functional.elu`) where in eager it does exactly what the aten
                     overload does, else the overload (`aten`); an OpInfo sample its function
                     (`torch.sin`); any other module is `module`; null when the case stopped
                     before its module was built (harness.frontends.user_call)
    dynamo           dynamo only: graphs TVM's backend received and compiled, calls of the compiled
                     graphs, graph-break reasons (the proof that TVM computed the outputs)
    status           one of harness.case.STATUSES
    raw_status       the status before expectations were applied (differs for xfail/xpass)
    stage            the stage the case failed at, or the last stage it reached
    error            one line: exception type and first informative line
    error_signature  `stage: error` with numbers, addresses, paths, variable names normalised
    unsupported_ops  for import_unsupported: the aten overloads the importer has no converter for
    skip_reason      for skip: "no-gpu", "eager: ...", ...
    signal           for crash: the signal name
    max_abs_err, max_rel_err  the largest elementwise errors (relative: over nonzero reference elements)
    rel_l2_err, cosine        scale-aware: ||tvm - eager|| / ||eager|| and cosine similarity (worst output)
    rtol, atol, tolerance_reason
    degenerate       why the reference proves little ("all-zero", "constant", ...), or null
    facets           every output facet that differs (harness.compare): output index, facet (count,
                     shape, dtype, values, nan, inf, property), expected, got, and error figures
    judged_by        the rule(s) that judged the values: exact, assert_close, fp64-ref, override,
                     property (`+`-joined when outputs differ in kind)
    model_checks     for a mismatch: per applicable expectation with a model of the bug, whether
                     TVM's outputs are the model's ({"ok": bool, "message": ...})
    seconds          per stage, plus "total"
    peak_rss_mb      per stage, the worker's resident-memory high-water mark
    seed, repro, input_shapes, input_dtypes
    repro_error      when writing the repro script failed: why (the record and the run go on)
    short_repro      the short repro (path or null): the case in about one screen, inputs as literals,
                     the call spelled out, no harness import and no serialised data (harness.short_repro)
    short_repro_error  when a failure has no short repro: why (a custom convert map, the symbolic
                     check, a property check, an argument with no literal form, ...)
    dynamic_case     for dynamic programs: the id of the compiled program all its sizes share
    dynamic_status   for dynamic programs: the program's verdict, the worst status of its sizes
                     (probes are findings, not verdicts: they do not count)
    sizes            for dynamic programs: this record's concrete size
    probe            for runs outside the declared constraints: what was broken, and the outcome
    symbolic         for dynamic programs: the symbolic check (harness.symbolic): declared dim ->
                     torch symbol, the module's bounds per dim, problems, notes
    expectation      the id of the expectation that turned this record into xfail/xpass
    expected         that expectation in full: id, reason, status, stage, match, facets, model, link
    partly_expected  for a failure no expectation explains wholly: the id of the one that explains
                     the most of it; `unexplained` lists the facets it does not (the new bug)
    device_compile   CUDA only (harness.device_compile): compiler (nvrtc|nvcc), where (`harness`: the
                     kernels compiled per arch without a GPU; `tvm.compile`: by TVM for the device),
                     archs (arch -> compiled | rejected | build failed | not tried), seconds per
                     arch, remembered (archs whose verdict an identical source already had); when
                     rejected: failed_arch, first_error, errors, source_line, kernel
    pipeline         "default" (tvm.compile's own) or "tuned" (MetaSchedule first: harness.tuning); a
                     dynamic-shape program under --pipeline tuned is built with the default one and
                     says so in `pipeline_note`
    tuning           under the tuned pipeline: trials, seed, work_dir (its logs and database), seconds,
                     tasks, and candidates measured (built and ran) or failed (harness.tuning.measured):
                     measured 0 means TVM's default schedules were compiled
    deploy           the deploy stage (harness.deploy), for a static case that passed: {"ran": false,
                     "reason"} when it was not drawn, else {"ran": true, "seconds", "command" (reruns the
                     fresh process), "library" (kept only when it failed)}; null when the case did not
                     pass in its worker (or a dynamic program, or a record from before the field)
    meta             the case's free-form description (generator variant, arguments)
    torch_version, tvm_version
"""

from __future__ import annotations

import copy
import fcntl
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path

from harness.case import STATUSES, Case

RESULTS_FILE = "results.jsonl"
MINIMAL_FILE = "minimal.jsonl"  # a nightly run's shrunk examples, apart from its own records
REQUIRED = ("case_id", "kind", "op", "status", "stage", "target", "dtype")


class ResultsError(Exception):
    """A results file that cannot be read; the message is one line naming file and line."""


def new_record(case: Case, target: str, versions: dict, pipeline: str = "default", frontend: str = "export") -> dict:
    return {
        "case_id": case.case_id,
        "kind": case.kind,
        "family": case.family or None,
        "op": case.op,
        "aten_ops": [],
        "dtype": case.dtype,
        "target": target,
        "frontend": frontend,
        "status": None,
        "raw_status": None,
        "stage": None,
        "error": None,
        "error_signature": None,
        "unsupported_ops": None,
        "skip_reason": None,
        "signal": None,
        "max_abs_err": None,
        "max_rel_err": None,
        "rel_l2_err": None,
        "cosine": None,
        "rtol": None,
        "atol": None,
        "tolerance_reason": case.tolerance.reason if case.tolerance else None,
        "degenerate": None,
        "facets": None,
        "judged_by": None,
        "seconds": {},
        "peak_rss_mb": {},
        "seed": case.seed,
        "repro": None,
        "short_repro": None,
        "input_shapes": [],
        "input_dtypes": [],
        "dynamic_case": None,
        "dynamic_status": None,
        "sizes": None,
        "probe": None,
        "symbolic": None,
        "expectation": None,
        "device_compile": None,
        "pipeline": pipeline,
        "deploy": None,
        "meta": dict(case.meta),
        "torch_version": versions.get("torch_version"),
        "tvm_version": versions.get("tvm_version"),
    }


def frontend_of(record: dict) -> str:
    """The road a record went through; records written before `frontend` existed took export."""
    return record.get("frontend") or "export"


def _clean(value):
    """JSON has no NaN or infinity: such figures are recorded as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def dumps(record: dict) -> str:
    return json.dumps(_clean(record), sort_keys=False, allow_nan=False, default=str)


class ResultsWriter:
    """Appends records to results.jsonl; each line is written whole, flushed and synced.

    An exclusive lock around each append lets several processes (pytest-xdist workers)
    share one file without interleaving lines.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held for the run

    def write(self, records: Iterable[dict]) -> None:
        text = "".join(dumps(r) + "\n" for r in records)
        if not text:
            return
        fcntl.flock(self._file, fcntl.LOCK_EX)
        try:
            self._file.write(text)
            self._file.flush()
            os.fsync(self._file.fileno())
        finally:
            fcntl.flock(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def validate(record: object, where: str) -> dict:
    if not isinstance(record, dict):
        raise ResultsError(f"{where}: not a JSON object")
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise ResultsError(f"{where}: record lacks {', '.join(missing)}")
    if record["status"] not in STATUSES:
        raise ResultsError(f"{where}: unknown status {record['status']!r}")
    return record


def read_results(path: str | os.PathLike, allow_torn_tail: bool = False) -> list[dict]:
    """Every record of a results file, validated.

    A run killed while writing can leave the last line without its newline; with
    `allow_torn_tail` such a line is dropped (it is an unfinished record), any other bad
    line is an error.
    """
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.exists():
        raise ResultsError(f"{path}: no such results file")
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    torn = lines[-1] != ""
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        last = number == len(lines)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            if last and torn and allow_torn_tail:
                break
            raise ResultsError(f"{path}:{number}: corrupt results line ({err.msg})") from None
        records.append(validate(obj, f"{path}:{number}"))
    return records


def truncate_torn_tail(path: str | os.PathLike) -> None:
    """Cut an unfinished last line so appends start on a line of their own."""
    path = Path(path)
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(path, "r+b") as f:
            f.truncate(cut)


def size_case_id(case: Case, size: dict, probe: bool = False) -> str:
    label = ",".join(f"{k}={v}" for k, v in size.items())
    return f"{case.case_id}@{'probe:' if probe else ''}{label}"


def per_size(case: Case, record: dict) -> list[dict]:
    """A dynamic program that failed before any run: the same verdict for each of its sizes."""
    records = []
    for size in case.dynamic.sizes:
        one = copy.deepcopy(record)
        one.update(case_id=size_case_id(case, size), dynamic_case=case.case_id, sizes=dict(size))
        records.append(one)
    return records


# Most severe first: an unexpected failure outranks an expected one, a silent wrong answer
# outranks a loud error, and a pass outranks a size that eager could not run (skip).
SEVERITY = ("crash", "timeout", "mismatch", "deploy_error", "run_error", "compile_error", "import_error",
            "import_unsupported", "export_error", "xpass", "xfail", "pass", "skip")


def worst_status(statuses: Iterable[str]) -> str | None:
    ranked = sorted(statuses, key=SEVERITY.index)
    return ranked[0] if ranked else None


def set_dynamic_status(records: list[dict]) -> None:
    """Give every record of one dynamic program the program's verdict: the worst of its sizes."""
    verdict = worst_status(r["status"] for r in records if not r.get("probe"))
    for record in records:
        if record.get("dynamic_case") is not None:
            record["dynamic_status"] = verdict


def expectation_of(record: dict) -> dict:
    """The expectation that explained a record, in full ({} if none); records written before
    expectations had ids carried the full entry in `expectation` itself."""
    found = record.get("expected") or record.get("expectation")
    return found if isinstance(found, dict) else {}


def finished_cases(records: Iterable[dict]) -> set[str]:
    """Ids of cases already done: a dynamic program counts once for all its sizes."""
    return {r.get("dynamic_case") or r["case_id"] for r in records}
