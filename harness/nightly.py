"""The nightly sequence as the CI workflow and the composite action run it: `python -m harness.nightly`.

    shard I/N --out DIR [--mode M] [-- RUN ARGS]
                                        one cost-balanced shard (`harness run --shard I/N`) with
                                        the mode's seed (gate: 0; explore: `explore-seed`); its
                                        unexpected outcomes are judged after the merge, so only
                                        bad input (2) or a crash of the command fails the job
    baseline --out DIR                  the previous night's merged run, downloaded with GitHub's
                                        `gh` CLI (a missing one is not an error: the first night)
    merge SHARD... --out DIR [--mode M] [--baseline DIR] [--summary FILE] [--issues]
                                        `harness merge`, `harness report` against the baseline when
                                        there is one (and says so when there is none), the verdict
                                        and coverage.md into FILE (the job summary); gate: exit 1
                                        on an unexpected outcome, explore: exit 0, the outcomes
                                        listed as new findings (harness.nightly_verdict)
    local --shards N --out DIR [--ops-list GLOBS] [--models-list GLOBS] [merge options] [-- RUN ARGS]
                                        every shard in turn, then merge: the whole sequence on one
                                        machine (the composite action's step, and its test)
    explore-seed [--github-output FILE] the exploration's seed (from GITHUB_RUN_ID, else the UTC date)
    install-tvm SPEC [--dry-run]        put a TVM version or wheel (path or URL) over the pinned one

Two jobs, one meaning each (M, `--mode`): `gate` (the default) runs seed 0 and is the night's bit;
`explore` draws a new seed and reports what it finds without failing. Every step calls the
`harness` command line in a subprocess, so what CI runs is exactly what a person runs. Exit
status: 0 good, 1 (gate only) an unexpected outcome, 2 bad input or a broken harness.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from harness.nightly_verdict import GATE_SEED, MODES, explore_seed, judge
from harness.records import ResultsError, read_results

BAD_INPUT = 2
MERGED_ARTIFACT = "nightly-merged"


def harness(*args: str) -> int:
    print("+ harness " + " ".join(args), flush=True)
    return subprocess.run([sys.executable, "-m", "harness", *args], check=False).returncode


class NightlyError(Exception):
    pass


def seeded(mode: str, run_args: list[str]) -> list[str]:
    """`harness run` options with the mode's seed (the gate's fixed one, or tonight's exploration
    seed) and, for the gate, `--shrink unexpected` unless the arguments choose."""
    if _given("--seed", run_args):
        raise NightlyError("the mode sets the seed (gate: 0, explore: explore-seed); drop --seed")
    if mode == "explore":
        try:
            seed, source = explore_seed(os.environ.get("GITHUB_RUN_ID"), _today())
        except ValueError as err:
            raise NightlyError(str(err)) from None
        print(f"exploration seed {seed} (from {source}); `harness run --seed {seed}` draws the same cases",
              flush=True)
        return [*run_args, "--seed", str(seed)]
    # The gate reruns one seed, so its declared failures are the same every night (explorations
    # shrink every failure they meet): shrinking them again is minutes spent on nothing new.
    shrink = [] if _given("--shrink", run_args) else ["--shrink", "unexpected"]
    return [*run_args, "--seed", str(GATE_SEED), *shrink]


def _given(option: str, run_args: list[str]) -> bool:
    return any(a == option or a.startswith(option + "=") for a in run_args)


def _today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def cmd_shard(args) -> int:
    try:
        run_args = seeded(args.mode, list(args.run_args))
    except NightlyError as err:
        print(f"nightly: error: {err}", file=sys.stderr)
        return BAD_INPUT
    status = harness("run", "--shard", args.shard, "--out", str(args.out), *run_args)
    if status == 1:
        print(f"shard {args.shard}: unexpected outcomes recorded; the merge job judges the run", flush=True)
        return 0
    return status


def cmd_explore_seed(args) -> int:
    try:
        seed, source = explore_seed(os.environ.get("GITHUB_RUN_ID"), _today())
    except ValueError as err:
        print(f"nightly: error: {err}", file=sys.stderr)
        return BAD_INPUT
    print(f"exploration seed {seed} (from {source})", flush=True)
    if args.github_output:
        with open(args.github_output, "a", encoding="utf-8") as f:
            f.write(f"seed={seed}\n")
    return 0


def _gh(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["gh", *args], capture_output=True, text=True, check=False)


def cmd_baseline(args) -> int:
    """Download the newest earlier run's merged artifact into DIR, if any run left one."""
    if shutil.which("gh") is None:
        print("no baseline: the gh command is not installed", flush=True)
        return 0
    listing = _gh("run", "list", "--workflow", args.workflow, "--branch", args.branch,
                  "--status", "completed", "--limit", str(args.limit), "--json", "databaseId")
    if listing.returncode != 0:
        print(f"no baseline: gh run list failed: {listing.stderr.strip()[:300]}", flush=True)
        return 0
    current = os.environ.get("GITHUB_RUN_ID")
    for run in json.loads(listing.stdout or "[]"):
        run_id = str(run["databaseId"])
        if run_id == current:
            continue
        got = _gh("run", "download", run_id, "--name", args.artifact, "--dir", str(args.out))
        if got.returncode == 0 and (Path(args.out) / "results.jsonl").is_file():
            print(f"baseline: run {run_id}'s {args.artifact} in {args.out}", flush=True)
            return 0
    print("no baseline: no earlier run left a merged artifact (the first night)", flush=True)
    return 0


def _has_results(directory: Path | None) -> bool:
    return directory is not None and (Path(directory) / "results.jsonl").is_file()


def _summary(out: Path, baseline: Path | None, mode: str, title: str, lines: list[str]) -> str:
    coverage = out / "coverage.md"
    parts = [f"## {title}", ""]
    if _has_results(baseline):
        parts.append(f"Compared against the previous night's merged run ({baseline}).")
    elif mode == "explore":
        parts.append("An exploration draws new cases every night: it reports what no expectation explains "
                     "and fails nothing.")
    else:
        parts.append("No baseline: there is no previous night's merged run (the first night), so nothing "
                     "is compared and no regression can be reported.")
    parts += ["", *lines, ""]
    if coverage.is_file():
        parts.append(coverage.read_text())
    return "\n".join(parts) + "\n"


def stamp(out: Path, mode: str) -> int | None:
    """Record the nightly mode in the merged run's fingerprint (the reports list new findings for
    an exploration); returns the run's seed. A gate run of another seed is not a gate run."""
    path = Path(out) / "environment.json"
    try:
        environment = json.loads(path.read_text()) if path.is_file() else {}
    except json.JSONDecodeError as err:
        raise NightlyError(f"{path}: corrupt fingerprint ({err.msg})") from None
    seed = environment.get("seed")
    if mode == "gate" and seed not in (None, GATE_SEED):
        raise NightlyError(f"the gate runs seed {GATE_SEED}, these shards ran seed {seed} "
                           "(an exploration: --mode explore)")
    environment["nightly_mode"] = mode
    path.write_text(json.dumps(environment, indent=2) + "\n")
    return seed


def cmd_merge(args) -> int:
    status = harness("merge", *map(str, args.shards), "--out", str(args.out))
    if status != 0:
        return status
    try:
        seed = stamp(args.out, args.mode)
    except NightlyError as err:
        print(f"nightly: error: {err}", file=sys.stderr)
        return BAD_INPUT
    report = ["report", str(args.out)]
    if _has_results(args.baseline):
        report += ["--baseline", str(args.baseline)]
    elif args.mode == "gate":
        where = f" at {args.baseline}" if args.baseline else ""
        print(f"no baseline{where}: the first night; nothing to compare against", flush=True)
    if args.issues:
        report += ["--issues", "--issues-timeout", str(args.issues_timeout)]
    report_status = harness(*report)
    if report_status not in (0, 1):
        return report_status
    try:
        records = read_results(args.out)
        baseline = read_results(args.baseline) if _has_results(args.baseline) else None
    except ResultsError as err:
        print(f"nightly: error: {err}", file=sys.stderr)
        return BAD_INPUT
    verdict = judge(records, baseline, args.mode)
    lines = verdict.lines()
    if report_status == 1 and args.mode == "gate" and not verdict.unexpected:
        lines.append("- the diff lists changes for the worse that are no unexpected outcome (a declared "
                     "failure, a flaky case, an op grade): see diff.md; the gate does not judge them")
    if args.mode == "explore":
        found = len(verdict.unexpected)
        title = f"Conformance nightly exploration (seed {seed}): " + (
            f"{found} new finding{'s' * (found != 1)}" if found else "nothing new")
    else:
        title = f"Conformance nightly gate (seed {GATE_SEED}): " + ("FAILED" if verdict.exit_status else "passed")
        if not verdict.unexpected:
            lines.insert(0, f"- {len(records)} records, no unexpected outcome")
    text = _summary(args.out, args.baseline, args.mode, title, lines)
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as f:
            f.write(text)
    print(f"nightly: {title}: " + "; ".join(lines), flush=True)
    return verdict.exit_status


def _selection(args) -> list[str]:
    """`--ops-list "a b"` / `--models-list "c"` (whitespace-separated globs, as a CI input gives
    them; `*` is every case of the family) as `harness run` options."""
    selection = []
    for family in ("ops", "models"):
        text = getattr(args, f"{family}_list", None)
        if text is not None and text.strip():
            selection += [f"--{family}", *text.split()]
    return selection


def cmd_local(args) -> int:
    selection = _selection(args)
    if not selection and (args.ops_list is not None or args.models_list is not None):
        print("nightly: error: --ops-list and --models-list select nothing", file=sys.stderr)
        return BAD_INPUT
    args.run_args = selection + list(args.run_args)
    shards = []
    for index in range(1, args.shards + 1):
        shard_dir = args.out / "shards" / str(index)
        status = cmd_shard(argparse.Namespace(shard=f"{index}/{args.shards}", out=shard_dir,
                                              run_args=args.run_args, mode=args.mode))
        if status != 0:
            return status
        shards.append(shard_dir)
    return cmd_merge(argparse.Namespace(shards=shards, out=args.out / "merged", baseline=args.baseline,
                                        summary=args.summary, issues=args.issues,
                                        issues_timeout=args.issues_timeout, mode=args.mode))


_VERSION = re.compile(r"^\d+(\.\d+)*([.-]?(post|dev|rc|a|b)\d*)*$")


def tvm_requirement(spec: str) -> str:
    """What pip installs for a TVM spec: a version (`0.28.0`) means apache-tvm of that version;
    a wheel path or URL is installed as given."""
    spec = spec.strip()
    if not spec:
        raise ValueError("empty TVM spec")
    if _VERSION.match(spec):
        return f"apache-tvm=={spec}"
    if spec.endswith(".whl") or "://" in spec or spec.startswith("apache-tvm"):
        return spec
    raise ValueError(f"{spec!r}: expected a TVM version (0.28.0), a wheel path or a wheel URL")


def cmd_install_tvm(args) -> int:
    if not args.spec.strip():
        print("install-tvm: no TVM requested; keeping the pinned one", flush=True)
        return 0
    try:
        requirement = tvm_requirement(args.spec)
    except ValueError as err:
        print(f"nightly: error: {err}", file=sys.stderr)
        return BAD_INPUT
    # --no-deps: the pinned torch and the rest of the set stay as they are; only TVM changes.
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--force-reinstall", requirement]
    print("+ " + " ".join(command), flush=True)
    if args.dry_run:
        return 0
    status = subprocess.run(command, check=False).returncode
    if status == 0:
        subprocess.run([sys.executable, "-c", "import tvm; print('installed TVM', tvm.__version__)"], check=False)
    return status


def mode_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=MODES, default="gate",
                        help="gate: seed 0, exit 1 on an unexpected outcome; explore: a new seed, "
                             "unexpected outcomes are reported as new findings and exit 0")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.nightly", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    shard = commands.add_parser("shard", help="run one shard (harness run --shard I/N)")
    shard.add_argument("shard", metavar="I/N")
    shard.add_argument("--out", type=Path, required=True)
    mode_option(shard)

    baseline = commands.add_parser("baseline", help="download the previous night's merged run")
    baseline.add_argument("--out", type=Path, required=True)
    baseline.add_argument("--workflow", default="nightly.yml")
    baseline.add_argument("--branch", default="main")
    baseline.add_argument("--artifact", default=MERGED_ARTIFACT)
    baseline.add_argument("--limit", type=int, default=10, help="how many earlier runs to look through")

    def merge_options(p):
        mode_option(p)
        p.add_argument("--baseline", type=lambda text: Path(text) if text.strip() else None,
                       help="the previous night's merged directory (absent or empty: first night)")
        p.add_argument("--summary", type=Path, help="append the markdown summary here (CI: $GITHUB_STEP_SUMMARY)")
        p.add_argument("--issues", action="store_true", help="also write bug-report drafts (report --issues)")
        p.add_argument("--issues-timeout", type=float, default=300.0)

    merge = commands.add_parser("merge", help="merge the shards, report against the baseline, summarise")
    merge.add_argument("shards", type=Path, nargs="+")
    merge.add_argument("--out", type=Path, required=True)
    merge_options(merge)

    local = commands.add_parser("local", help="every shard in turn, then merge (one machine)")
    local.add_argument("--shards", type=int, default=1)
    local.add_argument("--out", type=Path, required=True, help="DIR/shards/I and DIR/merged")
    merge_options(local)
    local.add_argument("--ops-list", metavar="GLOBS", help="whitespace-separated op globs (`*`: every op case)")
    local.add_argument("--models-list", metavar="GLOBS", help="whitespace-separated model globs (`*`: every model)")

    seed = commands.add_parser("explore-seed", help="print the exploration's seed for this run")
    seed.add_argument("--github-output", metavar="FILE", help="also append seed=N here (CI: $GITHUB_OUTPUT)")

    install = commands.add_parser("install-tvm", help="install a TVM version or wheel over the pinned one")
    install.add_argument("spec", help="a version (0.28.0), a wheel path or URL; empty keeps the pinned TVM")
    install.add_argument("--dry-run", action="store_true", help="print the pip command only")
    return parser


COMMANDS = {"shard": cmd_shard, "baseline": cmd_baseline, "merge": cmd_merge, "local": cmd_local,
            "explore-seed": cmd_explore_seed, "install-tvm": cmd_install_tvm}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after `--` goes to `harness run` as it is (shard, local).
    run_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    args = build_parser().parse_args(argv)
    args.run_args = run_args
    if getattr(args, "shards", None) is not None and isinstance(args.shards, int) and args.shards < 1:
        print("nightly: error: --shards must be at least 1", file=sys.stderr)
        return BAD_INPUT
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
