"""A run: cases in, one record per case (per size) appended to DIR/results.jsonl as each ends.

Resumable: `resume` reads what DIR already holds (dropping a line torn by a kill) and runs
only the cases not recorded yet, under the same configuration.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness import env, expect
from harness.case import FAILURES, Case, wants_repro
from harness.deploy import DEFAULT_SAMPLE
from harness.pool import (
    DEFAULT_BATCH,
    DEFAULT_TIMEOUT,
    WORKER_CASES,
    Pool,
    PoolOptions,
    useful_jobs,
)
from harness.progress import Progress  # noqa: F401 - the command line takes it from here
from harness.records import (
    MINIMAL_FILE,
    RESULTS_FILE,
    ResultsError,
    ResultsWriter,
    expectation_of,
    finished_cases,
    new_record,
    read_results,
    set_dynamic_status,
    truncate_torn_tail,
)
from harness.signature import one_line_error
from harness.targets import available_cores, resolve, worker_threads
from harness.tuning import DEFAULT_TRIALS

RUN_FILE = "run.json"
# What must be equal for --resume to continue a run rather than mix two.
_RESUME_KEYS = ("target", "profile", "seed", "convert_map", "pipeline", "trials", "frontend")
# What a run.json written before a key existed meant by leaving it out: the option's default.
_RESUME_DEFAULTS = {"pipeline": "default", "trials": DEFAULT_TRIALS, "frontend": "export"}


@dataclass
class RunOptions:
    out: Path
    target: str = "llvm"
    profile: str = "quick"
    seed: int = 0
    jobs: int = field(default_factory=available_cores)
    timeout: float = DEFAULT_TIMEOUT
    convert_map: str | None = None
    resume: bool = False
    replace: bool = False  # move an earlier results file aside instead of refusing (check)
    batch: int = DEFAULT_BATCH  # the most op cases one program holds (1: every case alone)
    pipeline: str = "default"  # or "tuned": MetaSchedule before tvm.compile (harness.tuning)
    trials: int = DEFAULT_TRIALS  # the tuned pipeline's trial budget per case
    deploy_sample: float = DEFAULT_SAMPLE  # op cases drawn for the deploy stage (harness.deploy)
    frontend: str = "export"  # the road into TVM (harness.frontends)
    worker_cases: int = WORKER_CASES  # cases a worker runs before a fresh one replaces it


def _build_settings(options: RunOptions) -> dict:
    """The pool's share of the options: how each case is built and shipped, and by which road."""
    return {"pipeline": options.pipeline, "trials": options.trials, "out": Path(options.out),
            "deploy_sample": options.deploy_sample, "frontend": options.frontend}


def _config(options: RunOptions) -> dict:
    config = asdict(options)
    config["out"] = str(options.out)
    return config


def prepare(options: RunOptions, tvm: dict | None = None) -> list[dict]:
    """Make DIR ready; returns the records already there when resuming. `tvm`: the fingerprint's
    TVM fields as a worker found them (else this process imports TVM to find them)."""
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / RESULTS_FILE
    run_file = out / RUN_FILE
    existing: list[dict] = []
    if options.resume:
        if results.exists():
            existing = read_results(results, allow_torn_tail=True)
            truncate_torn_tail(results)
        if run_file.exists():
            before = json.loads(run_file.read_text())
            now = _config(options)
            changed = [k for k in _RESUME_KEYS if before.get(k, _RESUME_DEFAULTS.get(k)) != now.get(k)]
            if changed:
                raise ResultsError(f"{out}: cannot resume a run with different {', '.join(changed)} "
                                   f"(was {', '.join(f'{k}={before.get(k)!r}' for k in changed)})")
    elif results.exists() and results.stat().st_size > 0:
        if not options.replace:
            count = sum(1 for line in results.read_text().splitlines() if line.strip())
            raise ResultsError(f"{results} already holds {count} records: pass --resume to continue "
                               "that run, or --out a new directory")
        results.replace(out / "results.prev.jsonl")
    run_file.write_text(json.dumps(_config(options), indent=2) + "\n")
    (out / "environment.json").write_text(
        json.dumps(env.fingerprint(options.target, options.seed, options.profile, tvm), indent=2) + "\n")
    return existing


def execute(cases: list[Case] | Callable[[], list[Case]], options: RunOptions,
            on_result: Callable[[Case, dict], None] = lambda case, record: None) -> list[dict]:
    """Run `cases` in isolated workers; returns every record in DIR (earlier ones included).

    `cases` may be a function that builds them: a worker then starts first, so that its
    imports of torch and TVM overlap the building, which is most of a short run's wait. The
    directory is prepared only once the cases are known: bad input leaves it as it was.
    """
    def pool_for(jobs: int) -> Pool:
        return Pool(PoolOptions(
            target=options.target, jobs=jobs, timeout=options.timeout, convert_map=options.convert_map,
            log_dir=Path(options.out) / "logs", threads=worker_threads(options.jobs), batch=options.batch,
            max_cases_per_worker=options.worker_cases,
            **_build_settings(options)))

    pool = pool_for(options.jobs) if callable(cases) else None
    if pool is not None:
        # One worker only: on two cores a second one's start-up would slow the building and the
        # first worker; `run` starts the others once the cases show there is work for them.
        pool.start(1)
    try:
        cases = cases() if callable(cases) else cases
        existing = prepare(options, pool.tvm_fields() if pool is not None else None)
    except BaseException:
        if pool is not None:
            pool.close()
        raise
    done = finished_cases(existing)
    todo = [c for c in cases if c.case_id not in done]
    if pool is not None:
        # `check` (cases built while a worker starts): another worker only for work that repays
        # its start-up; `run` keeps --jobs as given.
        pool.keep_to(useful_jobs(todo, options.jobs))
    spec = resolve(options.target)
    versions = env.library_versions()
    pool = pool or pool_for(max(1, min(options.jobs, len(todo) or 1)))
    records = list(existing)
    with pool, ResultsWriter(Path(options.out) / RESULTS_FILE) as writer:
        items = ((case, new_record(case, options.target, versions, options.pipeline, options.frontend))
                 for case in todo)
        for case, case_records in pool.run(items):
            finish(case, case_records, options.target, Path(options.out), spec.tvm_target, options.convert_map)
            writer.write(case_records)
            records.extend(case_records)
            for record in case_records:
                on_result(case, record)
    return records


def finish(case: Case, records: list[dict], target: str, out: Path, tvm_target: dict,
           convert_map: str | None) -> None:
    """Apply the case's expectations and write a repro (full and short) for each failure."""
    for record in records:
        expect.apply(case, target, record)
        if record["raw_status"] == "deploy_error":
            # The scripts rebuild the case in one process, where it passed: what reproduces this
            # failure is the shipped library, kept with its inputs, and the fresh process's command.
            record["repro_error"] = record["short_repro_error"] = (
                "a deploy failure: rerun `deploy.command` on the kept library")
        elif wants_repro(record):
            write_repros(case, record, out, tvm_target, convert_map)
    if case.dynamic is not None:
        set_dynamic_status(records)


def write_repros(case: Case, record: dict, out: Path, tvm_target: dict, convert_map: str | None) -> None:
    """The short repro where it can express the case, then the full one, which says why it is the
    only one where the short cannot. Neither failing to be written ends the run: the record says why."""
    # Imported here, not at the top: they import torch, and `harness check` starts its workers
    # before this process pays for torch.
    from harness import repro, short_repro
    from harness.literals import Unwritable

    only_because = None
    try:
        record["short_repro"] = short_repro.write(case, record, out, tvm_target, convert_map)
    except Unwritable as err:
        only_because = record["short_repro_error"] = str(err)
    except Exception as err:  # noqa: BLE001 - a short form we cannot write must not end the run
        only_because = record["short_repro_error"] = f"the short form failed: {one_line_error(err)}"
    try:
        record["repro"] = repro.write(case, record, out, tvm_target, convert_map, only_because)
    except Exception as err:  # noqa: BLE001 - a case's unpicklable argument must not end the run
        record["repro_error"] = one_line_error(err)


# Which failures a nightly run shrinks (`harness run --shrink`).
SHRINK_CHOICES = ("all", "unexpected", "none")


def minimise(cases: list[Case], records: list[dict], options: RunOptions, shrinker,
             echo: Callable[[str], None] = print, which: str = "all") -> list[dict]:
    """Hand the run's failures to a family's shrinker; record each minimal case and its repro.

    `which`: "all" shrinks every failure, declared ones too (their minimal examples feed triage
    and issue drafts); "unexpected" only those no expectation explains (a gate that reruns the
    same seed every night would shrink the same declared failures again); "none" nothing.

    `shrinker(failures, run_one, seed)` returns (case, record) pairs; `run_one` runs a case in
    the same isolated workers as the run. Minimal records go to DIR/minimal.jsonl, apart from
    the run's own records, so counts in results.jsonl stay those of the generated cases.
    """
    if which not in SHRINK_CHOICES:
        raise ValueError(f"which={which!r}: expected one of {', '.join(SHRINK_CHOICES)}")
    if which == "none":
        return []
    # A declared failure reads xfail; its raw status is the failure itself.
    key = "status" if which == "unexpected" else "raw_status"
    by_id = {c.case_id: c for c in cases}
    failures = [(by_id[r["case_id"]], r) for r in records
                if r["case_id"] in by_id and (r.get(key) or r["status"]) in FAILURES]
    if not failures:
        return []
    spec = resolve(options.target)
    versions = env.library_versions()
    out = Path(options.out)
    pool = Pool(PoolOptions(target=options.target, jobs=1, timeout=options.timeout,
                            convert_map=options.convert_map, log_dir=out / "logs",
                            threads=worker_threads(1), **_build_settings(options)))
    with pool:
        minimal = shrinker(failures, lambda case: pool.run_one(
            case, new_record(case, options.target, versions, options.pipeline, options.frontend)),
                           options.seed)
    written = []
    with ResultsWriter(out / MINIMAL_FILE) as writer:
        for case, record in minimal:
            finish(case, [record], options.target, out, spec.tvm_target, options.convert_map)
            record["shrunk_from"] = case.meta.get("shrunk_from")
            writer.write([record])
            written.append(record)
            echo(f"minimal: {record['case_id']} {record['raw_status']} inputs {record['input_shapes']}"
                 f" (from {record['shrunk_from']})")
            for line in repro_lines(record):
                echo(line)
    return written


def repro_lines(record: dict) -> list[str]:
    """`repro: PATH` for a failure, the short repro where there is one, and the full one beside it."""
    shown = record.get("short_repro") or record.get("repro")
    if not shown:
        return []
    full = record.get("repro")
    return [f"    repro: {shown}"] + ([f"    full repro: {full}"] if full and full != shown else [])


def format_line(record: dict) -> str:
    err = record.get("max_abs_err")
    err_text = f"{err:.2g}" if isinstance(err, float) else "-"
    seconds = record.get("seconds", {}).get("total")
    detail = record.get("skip_reason") or record.get("error") or ""
    if record["status"] in ("xfail", "xpass") and record.get("expectation"):
        detail = f"expected: {expectation_of(record).get('reason')}"
    elif record.get("partly_expected"):
        detail = f"{detail} [beyond {record['partly_expected']}]"
    return (f"{record['case_id']:<60} {record['status']:<18} {record.get('stage') or '-':<9} "
            f"err={err_text:<8} {seconds if seconds is not None else 0:7.2f}s  {detail}"[:400])
