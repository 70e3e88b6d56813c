"""The nightly sequence as the CI workflow and the composite action run it: `python -m harness.nightly`.

    shard I/N --out DIR [-- RUN ARGS]   one cost-balanced shard (`harness run --shard I/N`); its
                                        unexpected outcomes are judged after the merge, so only
                                        bad input (2) or a crash of the command fails the job
    baseline --out DIR                  the previous night's merged run, downloaded with GitHub's
                                        `gh` CLI (a missing one is not an error: the first night)
    merge SHARD... --out DIR [--baseline DIR] [--summary FILE] [--issues]
                                        `harness merge`, `harness report` against the baseline when
                                        there is one (and says so when there is none), coverage.md
                                        into FILE (the job summary), exit 1 on a regression or any
                                        unexpected outcome
    local --shards N --out DIR [--ops-list GLOBS] [--models-list GLOBS] [merge options] [-- RUN ARGS]
                                        every shard in turn, then merge: the whole sequence on one
                                        machine (the composite action's step, and its test)
    install-tvm SPEC [--dry-run]        put a TVM version or wheel (path or URL) over the pinned one

Every step calls the `harness` command line in a subprocess, so what CI runs is exactly what a
person runs. Exit status: 0 good, 1 regression or unexpected outcome, 2 bad input.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from harness.case import UNEXPECTED
from harness.records import ResultsError, read_results

BAD_INPUT = 2
MERGED_ARTIFACT = "nightly-merged"


def harness(*args: str) -> int:
    print("+ harness " + " ".join(args), flush=True)
    return subprocess.run([sys.executable, "-m", "harness", *args], check=False).returncode


def cmd_shard(args) -> int:
    status = harness("run", "--shard", args.shard, "--out", str(args.out), *args.run_args)
    if status == 1:
        print(f"shard {args.shard}: unexpected outcomes recorded; the merge job judges the run", flush=True)
        return 0
    return status


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


def _summary(out: Path, baseline: Path | None, verdict: str, lines: list[str]) -> str:
    coverage = out / "coverage.md"
    parts = [f"## Conformance nightly: {verdict}", ""]
    parts.append(f"Compared against the previous night's merged run ({baseline})." if _has_results(baseline)
                 else "No baseline: there is no previous night's merged run (the first night), so nothing "
                      "is compared and no regression can be reported.")
    parts += ["", *lines, ""]
    if coverage.is_file():
        parts.append(coverage.read_text())
    return "\n".join(parts) + "\n"


def cmd_merge(args) -> int:
    status = harness("merge", *map(str, args.shards), "--out", str(args.out))
    if status != 0:
        return status
    report = ["report", str(args.out)]
    if _has_results(args.baseline):
        report += ["--baseline", str(args.baseline)]
    else:
        where = f" at {args.baseline}" if args.baseline else ""
        print(f"no baseline{where}: the first night; nothing to compare against", flush=True)
    if args.issues:
        report += ["--issues", "--issues-timeout", str(args.issues_timeout)]
    report_status = harness(*report)
    if report_status not in (0, 1):
        return report_status
    try:
        records = read_results(args.out)
    except ResultsError as err:
        print(f"nightly: error: {err}", file=sys.stderr)
        return BAD_INPUT
    unexpected = collections.Counter(r["status"] for r in records if r["status"] in UNEXPECTED)
    lines = []
    if report_status == 1:
        lines.append("- **regressions** against the baseline: see the diff below and diff.md")
    if unexpected:
        lines.append("- **unexpected outcomes**: " + ", ".join(f"{s} {n}" for s, n in sorted(unexpected.items())))
    verdict = "FAILED" if lines else "passed"
    if not lines:
        lines.append(f"- {len(records)} records, no regression, no unexpected outcome")
    text = _summary(args.out, args.baseline, verdict, lines)
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as f:
            f.write(text)
    print(f"nightly: {verdict}: " + "; ".join(lines), flush=True)
    return 1 if verdict == "FAILED" else 0


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
                                              run_args=args.run_args))
        if status != 0:
            return status
        shards.append(shard_dir)
    return cmd_merge(argparse.Namespace(shards=shards, out=args.out / "merged", baseline=args.baseline,
                                        summary=args.summary, issues=args.issues,
                                        issues_timeout=args.issues_timeout))


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.nightly", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    shard = commands.add_parser("shard", help="run one shard (harness run --shard I/N)")
    shard.add_argument("shard", metavar="I/N")
    shard.add_argument("--out", type=Path, required=True)

    baseline = commands.add_parser("baseline", help="download the previous night's merged run")
    baseline.add_argument("--out", type=Path, required=True)
    baseline.add_argument("--workflow", default="nightly.yml")
    baseline.add_argument("--branch", default="main")
    baseline.add_argument("--artifact", default=MERGED_ARTIFACT)
    baseline.add_argument("--limit", type=int, default=10, help="how many earlier runs to look through")

    def merge_options(p):
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

    install = commands.add_parser("install-tvm", help="install a TVM version or wheel over the pinned one")
    install.add_argument("spec", help="a version (0.28.0), a wheel path or URL; empty keeps the pinned TVM")
    install.add_argument("--dry-run", action="store_true", help="print the pip command only")
    return parser


COMMANDS = {"shard": cmd_shard, "baseline": cmd_baseline, "merge": cmd_merge, "local": cmd_local,
            "install-tvm": cmd_install_tvm}


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
