"""Command line: `harness run|check|list|report|merge|doctor` (also `python -m harness`).

Exit status: 0 when nothing unexpected happened, 1 when a case failed unexpectedly (or a
report found a regression), 2 for bad input (unknown op, missing directory, corrupt
results, unloadable convert map), always with a one-line message.
"""

from __future__ import annotations

import argparse
import collections
import logging
import sys
from pathlib import Path

from harness import merge as merging
from harness import sources
from harness.case import UNEXPECTED
from harness.pool import PoolError
from harness.records import ResultsError, read_results
from harness.runner import Progress, RunOptions, execute, format_line, minimise
from harness.targets import TARGETS, available_cores

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
    parser.add_argument("--timeout", type=float, default=60.0, help="per-case limit in seconds")
    parser.add_argument("--resume", action="store_true", help="continue the run recorded in --out")
    parser.add_argument("--verbose", action="store_true", help="a line per case, passes included")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run cases and write DIR/results.jsonl and the reports")
    _add_selection(run)
    _add_run_options(run)

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

    merge = commands.add_parser("merge", help="merge shard outputs into one directory")
    merge.add_argument("dirs", type=Path, nargs="+")
    merge.add_argument("--out", type=Path, required=True)

    doctor = commands.add_parser(
        "doctor", help="what a CUDA run will and will not do here; exit 0 runs, 3 compile only, 1 broken")
    doctor.add_argument("--json", action="store_true", help="the facts and the verdict as JSON")
    return parser


def _families(args) -> list[tuple[str, list[str] | None]]:
    chosen = [(f, getattr(args, f)) for f in sources.FAMILIES if getattr(args, f, None) is not None]
    return chosen or [(f, None) for f in sources.FAMILIES]


def _plan(args) -> list:
    cases = []
    for family, patterns in _families(args):
        profile = args.profile or ("nightly" if family == "models" else "quick")
        try:
            cases.extend(sources.select(sources.load([family], profile, args.seed, patterns), patterns))
        except sources.SelectionError:
            # Suggestions need every name, not only the prefiltered ones: this raises with them.
            sources.select(sources.load([family], profile, args.seed), patterns)
            raise
    return cases


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
    return RunOptions(out=out, target=args.target, profile=args.profile, seed=args.seed,
                      jobs=args.jobs, timeout=args.timeout, convert_map=args.convert_map,
                      resume=args.resume, replace=replace)


def _render(out: Path) -> None:
    plugin = sources.reporter()
    if plugin is None:
        print(f"(no reports plugin installed; records are in {out / 'results.jsonl'})")
        return
    for path in plugin.render(out):
        print(f"wrote {path}")


def _finish(records: list[dict], families: list[str], out: Path) -> int:
    counts = collections.Counter(r["status"] for r in records)
    print("statuses: " + ", ".join(f"{s}={n}" for s, n in sorted(counts.items())))
    unexpected = [r for r in records if r["status"] in UNEXPECTED]
    if counts.get("xpass"):
        commands = {c for f in families if (c := sources.update_command(f))}
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
    print(f"{len(cases)} cases, target {args.target}, profile {args.profile}, {args.jobs} jobs -> {out}")
    options = _options(args, out)
    records = execute(cases, options, Progress(len(cases), args.verbose))
    if args.profile == "nightly":
        for family, _ in _families(args):
            shrinker = getattr(sources.case_source(family), "minimise", None)
            if shrinker is not None:
                minimise(cases, records, options, shrinker)
    _render(out)
    return _finish(records, [f for f, _ in _families(args)], out)


def _loaded(profile: str, seed: int, patterns: list[str] | None = None) -> list:
    """Every installed family's cases (only those `patterns` could select); a family that
    cannot build its cases is left out."""
    cases = []
    for family in sources.FAMILIES:
        try:
            cases.extend(sources.load([family], profile, seed, patterns))
        except sources.SelectionError:
            continue
    return cases


def _cases_of(name: str, profile: str, seed: int) -> list:
    return [c for c in _loaded(profile, seed, [name]) if sources.matches(c, name)]


def cmd_check(args) -> int:
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
    out = args.out or Path("results") / "check" / sources_safe(args.name)
    print(f"{len(cases)} cases of {args.name} on {args.target} -> {out}")

    def show(case, record):
        print(format_line(record), flush=True)
        if record.get("repro"):
            print(f"    repro: {record['repro']}", flush=True)

    records = execute(cases, _options(args, out, replace=not args.resume), show)
    return _finish(records, list(sources.FAMILIES), out)


def sources_safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)


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
    return plugin.report(args.dir, args.baseline)


def cmd_merge(args) -> int:
    for directory in args.dirs:
        if not directory.is_dir():
            raise UsageError(f"{directory}: no such directory")
    count = merging.merge(args.dirs, args.out)
    print(f"merged {count} records from {len(args.dirs)} directories into {args.out}")
    _render(args.out)
    return 0


def cmd_doctor(args) -> int:
    from harness import doctor

    return doctor.main(as_json=args.json)


COMMANDS = {"run": cmd_run, "check": cmd_check, "list": cmd_list, "report": cmd_report,
            "merge": cmd_merge, "doctor": cmd_doctor}


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


if __name__ == "__main__":
    sys.exit(main())
