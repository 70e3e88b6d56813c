"""Command line: `harness run|check|list|report|merge|bringup|doctor|serve` (also `python -m harness`).

Exit status: 0 when nothing unexpected happened, 1 when a case failed unexpectedly (or a
report found a regression), 2 for bad input (unknown op, missing directory, corrupt
results, unloadable convert map), always with a one-line message.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import logging
import os
import sys
from pathlib import Path

from harness import forkserver, sources
from harness import merge as merging
from harness.case import FRONTENDS, UNEXPECTED, safe_name
from harness.deploy import DEFAULT_SAMPLE
from harness.family import OPTIONS
from harness.pool import DEFAULT_BATCH, DEFAULT_TIMEOUT, WORKER_CASES, PoolError
from harness.records import ResultsError, read_results
from harness.runner import (
    SHRINK_CHOICES,
    Progress,
    RunOptions,
    execute,
    format_line,
    minimise,
    repro_lines,
)
from harness.targets import TARGETS, available_cores
from harness.tuning import DEFAULT_TRIALS, PIPELINES, TuningUnavailable, check_dependencies

BAD_INPUT = 2


class UsageError(Exception):
    pass


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ops", nargs="*", metavar="GLOB",
                        help="op cases whose overload or id matches (no GLOB: every op case)")
    parser.add_argument("--models", nargs="*", metavar="GLOB",
                        help="model cases whose name matches (no GLOB: every model)")
    parser.add_argument("--profile", default="quick", choices=sources.PROFILES)
    parser.add_argument("--seed", type=int, default=0, help="seed for case generation and inputs")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default="llvm", choices=TARGETS)
    parser.add_argument("--out", type=Path, help="output directory (results.jsonl, reports, repros)")
    parser.add_argument("--shard", help="run the I-th of N cost-balanced shards, e.g. 2/4")
    parser.add_argument("--convert-map", metavar="MODULE:ATTR",
                        help="dict of extra/replacement converters passed to the importer (None removes one)")
    parser.add_argument("--jobs", type=int, default=available_cores(), help="parallel workers")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="per-case limit in seconds")
    parser.add_argument("--resume", action="store_true", help="continue the run recorded in --out")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, metavar="N",
                        help="the most op cases compiled as one program, each judged alone (1: no batching)")
    parser.add_argument("--worker-cases", type=int, default=WORKER_CASES, metavar="N",
                        help="cases a worker runs before a fresh process replaces it")
    parser.add_argument("--pipeline", default="default", choices=PIPELINES,
                        help="tuned: MetaSchedule (static_shape_tuning) before tvm.compile, each case alone")
    parser.add_argument("--trials", type=int, default=DEFAULT_TRIALS, metavar="N",
                        help="the tuned pipeline's trial budget per case (each case's time limit grows with it)")
    parser.add_argument("--deploy-sample", type=float, default=DEFAULT_SAMPLE, metavar="F",
                        help="fraction of op cases whose library is exported and run in a fresh process "
                             "after they pass (models: always unless 0; 1: every case)")
    parser.add_argument("--frontend", default="export", choices=FRONTENDS,
                        help="the road into TVM: torch.export (default), torch.compile with TVM's "
                             "dynamo backend, or torch.fx.symbolic_trace + from_fx")
    parser.add_argument("--verbose", action="store_true", help="a line per case, passes included")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run cases and write DIR/results.jsonl and the reports")
    _add_selection(run)
    _add_run_options(run)
    run.add_argument("--shrink", default="all", choices=SHRINK_CHOICES,
                     help="nightly profile: which failures hypothesis shrinks to minimal examples "
                          "(unexpected: only those no expectation explains, as the nightly gate does)")

    check = commands.add_parser("check", help="run every case of one op or model, a line per case")
    check.add_argument("name", metavar="OP", help="e.g. aten.add.Tensor, add, or a model name")
    check.add_argument("--profile", default="quick", choices=sources.PROFILES)
    check.add_argument("--seed", type=int, default=0)
    _add_run_options(check)

    listing = commands.add_parser("list", help="print case ids without running anything")
    _add_selection(listing)
    # The inventory: without --profile, every model of the zoo and the quick op cases.
    listing.set_defaults(profile=None)

    report = commands.add_parser("report", help="render DIR's records; diff against a baseline")
    report.add_argument("dir", type=Path)
    report.add_argument("--baseline", type=Path)
    report.add_argument("--issues", action="store_true",
                        help="also write DIR/issues/: a bug-report draft per defect, each confirmed to reproduce")
    report.add_argument("--issues-timeout", type=float, default=300.0, metavar="SECONDS",
                        help="time limit for running each draft's script once")

    bringup = commands.add_parser("bringup", help="bring up one op: schema, converter, failures, skeleton")
    bringup.add_argument("name", metavar="OP", help="e.g. aten.amax.default")
    bringup.add_argument("--profile", default="quick", choices=sources.PROFILES)
    bringup.add_argument("--seed", type=int, default=0)
    bringup.add_argument("--target", default="llvm", choices=TARGETS)
    bringup.add_argument("--out", type=Path, help="output directory (default results/bringup/OP)")
    bringup.add_argument("--convert-map", metavar="MODULE:ATTR", help="converters to try (as in run)")
    bringup.add_argument("--watch", type=Path, metavar="FILE",
                         help="re-run the op's cases whenever FILE (a module with MAP) changes")
    bringup.add_argument("--skeleton", type=Path, metavar="FILE",
                         help="where to write the converter skeleton (default converters/KEY.py)")
    bringup.add_argument("--jobs", type=int, default=available_cores())
    bringup.add_argument("--timeout", type=float, default=60.0)
    bringup.add_argument("--interval", type=float, default=1.0, help="seconds between checks of FILE")
    bringup.add_argument("--max-iterations", type=int, metavar="N", help="stop --watch after N runs")

    merge = commands.add_parser("merge", help="merge shard outputs into one directory")
    merge.add_argument("dirs", type=Path, nargs="+")
    merge.add_argument("--out", type=Path, required=True)

    serve = commands.add_parser(
        "serve", help="keep torch and TVM imported in the background: workers start in a fraction of the time")
    serve.add_argument("--idle", type=float, default=forkserver.DEFAULT_IDLE, metavar="SECONDS",
                       help="exit after this long with nothing to do")
    serve.add_argument("--stop", action="store_true", help="stop this environment's server")

    doctor = commands.add_parser(
        "doctor", help="what a CUDA run will and will not do here; exit 0 runs, 3 compile only, 1 broken")
    doctor.add_argument("--json", action="store_true", help="the facts and the verdict as JSON")
    return parser


def _families(args) -> list:
    """(family, patterns) for each family the options select (none given: every family)."""
    every = sources.families()
    chosen = [(f, getattr(args, f.option)) for f in every if getattr(args, f.option, None) is not None]
    return chosen or [(f, None) for f in every]


def _plan(args) -> list:
    cases = []
    for option in OPTIONS:
        # An option's patterns may match in any of the families it selects: they are matched together.
        chosen = [(f, patterns) for f, patterns in _families(args) if f.option == option]
        if not chosen:
            continue
        patterns = chosen[0][1]
        try:
            cases.extend(sources.select(_load(chosen, args, patterns), patterns))
        except sources.SelectionError:
            # Suggestions need every name, not only the prefiltered ones: this raises with them.
            sources.select(_load(chosen, args, None), patterns)
            raise
    return cases


def _load(chosen: list, args, patterns: list[str] | None) -> list:
    return [c for f, _ in chosen for c in sources.load([f.name], args.profile or f.list_profile, args.seed, patterns)]


def _shard(cases: list, args) -> list:
    if getattr(args, "shard", None):
        index, count = sources.parse_shard(args.shard)
        return sources.shard(cases, index, count)
    return cases


def _options(args, out: Path, replace: bool = False) -> RunOptions:
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    if args.batch < 1:
        raise UsageError("--batch must be at least 1")
    if args.worker_cases < 1:
        raise UsageError("--worker-cases must be at least 1")
    if args.trials < 0:
        raise UsageError("--trials must be at least 0")
    if not 0.0 <= args.deploy_sample <= 1.0:
        raise UsageError("--deploy-sample must be between 0 and 1")
    if args.frontend == "dynamo" and args.target != "llvm":
        # relax_dynamo compiles for the device of the inputs, and the cases' inputs are on the CPU.
        raise UsageError("--frontend dynamo runs on --target llvm only (TVM's dynamo backend compiles "
                         "for the inputs' device)")
    if args.pipeline == "tuned" and args.frontend != "export":
        raise UsageError("--pipeline tuned runs on --frontend export only (the other roads compile inside "
                         "TVM's own frontends)")
    if args.pipeline == "tuned":
        try:
            check_dependencies()  # before the output directory is touched; workers check the rest
        except TuningUnavailable as err:
            raise UsageError(str(err)) from None
    return RunOptions(out=out, target=args.target, profile=args.profile, seed=args.seed,
                      jobs=args.jobs, timeout=args.timeout, convert_map=args.convert_map,
                      resume=args.resume, replace=replace, batch=args.batch, pipeline=args.pipeline,
                      trials=args.trials, deploy_sample=args.deploy_sample, frontend=args.frontend,
                      worker_cases=args.worker_cases)


def _render(out: Path) -> None:
    plugin = sources.reporter()
    if plugin is None:
        print(f"(no reports plugin installed; records are in {out / 'results.jsonl'})")
        return
    for path in plugin.render(out):
        print(f"wrote {path}")


def _finish(records: list[dict], families: list, out: Path) -> int:
    counts = collections.Counter(r["status"] for r in records)
    print("statuses: " + ", ".join(f"{s}={n}" for s, n in sorted(counts.items())))
    unexpected = [r for r in records if r["status"] in UNEXPECTED]
    if counts.get("xpass"):
        commands = {f.update for f in families if f.update}
        print(f"{counts['xpass']} unexpected passes: their expectations are stale. Update them with:")
        for command in sorted(commands) or ["(edit the expectations of the cases listed above)"]:
            print("    " + command.format(results=out))
    if unexpected:
        print(f"{len(unexpected)} unexpected outcomes; records in {out / 'results.jsonl'}")
        return 1
    return 0


def cmd_run(args) -> int:
    cases = _shard(_plan(args), args)
    out = args.out or Path("results") / "run"
    print(f"{len(cases)} cases, target {args.target}, profile {args.profile}, pipeline {args.pipeline}, "
          f"{args.jobs} jobs -> {out}")
    options = _options(args, out)
    records = execute(cases, options, Progress(len(cases), args.verbose))
    if args.profile == "nightly":
        for family, _ in _families(args):
            if family.minimise is not None:
                minimise([c for c in cases if c.family == family.name], records, options, family.minimise,
                         which=args.shrink)
    _render(out)
    return _finish(records, [f for f, _ in _families(args)], out)


def _loaded(profile: str, seed: int, patterns: list[str] | None = None) -> list:
    """Every installed family's cases (only those `patterns` could select); a family that
    cannot build its cases is left out."""
    cases = []
    for family in sources.families():
        try:
            cases.extend(sources.load([family.name], profile, seed, patterns))
        except sources.SelectionError:
            continue
    return cases


def _cases_of(name: str, profile: str, seed: int) -> list:
    return [c for c in _loaded(profile, seed, [name]) if sources.matches(c, name)]


def cmd_check(args) -> int:
    out = args.out or Path("results") / "check" / safe_name(args.name)
    options = _options(args, out, replace=not args.resume)

    def plan() -> list:
        cases = _cases_of(args.name, args.profile, args.seed)
        if not cases and args.profile != "nightly":
            # A profile may leave an op out to stay cheap (an OpInfo entry whose overloads rows
            # already test); checking that op by name still means its cases.
            cases = _cases_of(args.name, "nightly", args.seed)
            if cases:
                print(f"{args.name} has no {args.profile} cases: checking its nightly ones")
        if not cases:
            sources.select(_loaded(args.profile, args.seed), [args.name])  # raises with suggestions
        cases = _shard(cases, args)
        print(f"{len(cases)} cases of {args.name} on {args.target} -> {out}")
        return cases

    def show(case, record):
        print(format_line(record), flush=True)
        for line in repro_lines(record):
            print(line, flush=True)

    # The workers start while the cases are built (harness.runner.execute).
    records = execute(plan, options, show)
    return _finish(records, sources.families(), out)


def cmd_list(args) -> int:
    for case in _plan(args):
        print(case.case_id)
    return 0


def cmd_report(args) -> int:
    if not args.dir.is_dir():
        raise UsageError(f"{args.dir}: no such directory")
    if args.baseline is not None and not args.baseline.is_dir():
        raise UsageError(f"{args.baseline}: no such baseline directory")
    plugin = sources.reporter()
    if plugin is None:
        records = read_results(args.dir)
        counts = collections.Counter(r["status"] for r in records)
        print("statuses: " + ", ".join(f"{s}={n}" for s, n in sorted(counts.items())))
        return 0
    status = plugin.report(args.dir, args.baseline)
    if args.issues:
        from harness import issues

        written, rejected = issues.write(args.dir, plugin, args.issues_timeout)
        print(f"wrote {len(written)} bug-report drafts to {args.dir / issues.ISSUES_DIR}"
              + (f"; {len(rejected)} not written (see index.md)" if rejected else ""))
    return status


def cmd_bringup(args) -> int:
    from harness import bringup

    try:
        return bringup.bringup(
            args.name, profile=args.profile, seed=args.seed, target=args.target, out=args.out,
            convert_map=args.convert_map, watch=args.watch, skeleton_path=args.skeleton,
            jobs=args.jobs, timeout=args.timeout, interval=args.interval,
            max_iterations=args.max_iterations)
    except ValueError as err:
        raise UsageError(str(err)) from None


def cmd_merge(args) -> int:
    for directory in args.dirs:
        if not directory.is_dir():
            raise UsageError(f"{directory}: no such directory")
    count = merging.merge(args.dirs, args.out)
    print(f"merged {count} records from {len(args.dirs)} directories into {args.out}")
    _render(args.out)
    return 0


def cmd_serve(args) -> int:
    if args.stop:
        pid = forkserver.stop()
        print(f"stopped the server (pid {pid})" if pid else f"no server listens on {forkserver.address()}")
        return 0
    if args.idle <= 0:
        raise UsageError("--idle must be positive")
    try:
        answer = forkserver.start(args.idle)
    except forkserver.ServerError as err:
        raise UsageError(str(err)) from None
    print(f"server pid {answer['pid']} on {forkserver.address()}: this environment's workers are forked from it "
          f"until it is idle for {answer['idle']:g}s or `harness serve --stop`")
    return 0


def cmd_doctor(args) -> int:
    from harness import doctor

    return doctor.main(as_json=args.json)


COMMANDS = {"run": cmd_run, "check": cmd_check, "list": cmd_list, "report": cmd_report,
            "merge": cmd_merge, "bringup": cmd_bringup, "doctor": cmd_doctor, "serve": cmd_serve}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # OpInfo's module imports torch's C++-extension helper, which warns on every machine without
    # a CUDA runtime: noise on stderr, where an error must be the only line.
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, sources.SelectionError, ResultsError, PoolError, merging.MergeError) as err:
        print(f"harness: error: {err}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        print("harness: interrupted; every finished case is in results.jsonl (continue with --resume)",
              file=sys.stderr)
        return 130


def entry() -> None:
    """The `harness` command (and `python -m harness`): main(), then the atexit hooks, then an
    exit that skips finalising torch's and TVM's modules, half a second of a short `check` for
    nothing: every record is written and its file closed by the time main() returns."""
    code = main()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
