"""How sharp are the harness's own tests? Deliberate one-line breakages of the engine (and of the
expectations command), each of which the tests named beside it must catch.

    python -m tests.mutations                # every breakage (tens of minutes on 2 cores)
    python -m tests.mutations NAME ...       # some of them
    python -m tests.mutations --list         # names, anchors and tests
    nox -s mutations [-- NAME ...]

Each breakage replaces one line of the engine, found by its exact text (its anchor), in a copy
of the tree made in a temporary directory: the working tree is never touched. An anchor that is
not exactly one line of its file stops the script (the engine changed under the breakage: move
the anchor). First the unbroken copy must pass every test named below; then, per breakage, the
named tests run against the broken copy, and it is `caught` when some of them fail. Exit status
0 only when every breakage is caught. Not part of the default test run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Breakage:
    name: str
    path: str  # relative to the repository root
    anchor: str  # the whole line replaced, without its newline
    replacement: str
    tests: tuple[str, ...]  # pytest node ids that must catch it


B = Breakage
RUN_OUTCOMES = "tests/test_run_outcomes.py"
EXPECT = "tests/test_records_and_expectations.py"
EXPECTATIONS_COMMAND = "tests/test_expectations_command.py"
BATCH = "tests/test_batch.py"
GATE = "tests/test_nightly_gate.py"
ROADS = "tests/test_roads.py"
CIA = "tests/test_cia_override.py"
BREAKAGES = (
    B("resume reruns every case", "harness/runner.py",
      "    todo = [c for c in cases if c.case_id not in done]",
      "    todo = list(cases)",
      ("tests/test_runs.py::test_killed_run_resumes_to_the_same_records",)),
    B("resume discards the partial file and reruns everything", "harness/runner.py",
      "        existing = prepare(options, pool.tvm_fields() if pool is not None else None)",
      "        existing = prepare(options, pool.tvm_fields() if pool is not None else None) and "
      "(Path(options.out) / RESULTS_FILE).unlink() or []",
      ("tests/test_runs.py::test_killed_run_resumes_to_the_same_records",)),
    B("probes count in the program's verdict", "harness/records.py",
      '    verdict = worst_status(r["status"] for r in records if not r.get("probe"))',
      '    verdict = worst_status(r["status"] for r in records)',
      ("tests/test_dynamic.py::test_program_verdict_is_the_worst_size_and_ignores_probes",)),
    B("expectations turn probes", "harness/expect.py",
      '    if record.get("probe"):',
      "    if False:",
      (f"{EXPECT}::test_probes_are_findings_no_expectation_turns",)),
    B("a silent wrong probe is called silent-correct", "harness/stages.py",
      '        outcome = {"pass": "silent-correct", "mismatch": "silent-wrong"}.get(result["status"], "rejected")',
      '        outcome = {"pass": "silent-correct", "mismatch": "silent-correct"}.get(result["status"], "rejected")',
      ("tests/test_dynamic.py::test_each_probe_outcome_and_a_converter_wrong_only_outside_the_range",)),
    B("the crash signal is dropped", "harness/pool.py",
      '                        records = _died(worker, "crash", f"worker died ({sig})", signal=sig)',
      '                        records = _died(worker, "crash", f"worker died ({sig})")',
      ("tests/test_faults.py::test_segfault_is_a_crash_and_the_next_case_still_runs",)),
    B("eager dying is TVM's crash", "harness/pool.py",
      '                    if _stage_reached(worker) == "eager":',
      '                    if False:',
      ("tests/test_faults.py::test_eager_dying_is_a_skip_with_its_signal_not_tvms_crash",)),
    B("a crash is placed at the eager stage", "harness/pool.py",
      '    return (worker.record or worker.base).get("stage") or "eager"',
      '    return "eager"',
      ("tests/test_faults.py::test_segfault_is_a_crash_and_the_next_case_still_runs",)),
    B("the tolerance is doubled", "harness/compare.py",
      "    outside = finite & (diff > atol + rtol * e.abs())",
      "    outside = finite & (diff > 2 * (atol + rtol * e.abs()))",
      ("tests/test_faults.py::test_an_error_just_past_the_tolerance_is_a_mismatch_and_just_within_a_pass",)),
    B("an expectation's stage is not checked", "harness/case.py",
      "        if self.stage is not None and stage != self.stage:",
      "        if False:",
      (f"{EXPECT}::test_a_failure_unlike_the_expectation_stays_a_failure",)),
    B("an expectation's size scope is ignored", "harness/expect.py",
      "    return [e for e in case.expectations if e.applies(case, target) and e.covers(size)]",
      "    return [e for e in case.expectations if e.applies(case, target)]",
      (f"{EXPECT}::test_a_sizes_scope_explains_only_the_sizes_inside_it",)),
    B("an xpass does not fail the run", "harness/case.py",
      'UNEXPECTED = FAILURES | {"xpass"}',
      "UNEXPECTED = FAILURES",
      (f"{RUN_OUTCOMES}::test_an_unexpected_pass_fails_the_run_and_prints_the_update_command",)),
    B("the pytest plugin passes an xpass", "harness/pytest_plugin.py",
      '        failed = [r for r in records if r["status"] not in ("pass", "skip", "xfail")]',
      '        failed = [r for r in records if r["status"] not in ("pass", "skip", "xfail", "xpass")]',
      ("tests/test_pytest_plugin.py",)),
    B("a stage failure is reported under another stage", "harness/stages.py",
      "            raise StageFailure(status, name, one_line_error(exc), exc=exc) from exc",
      '            raise StageFailure(status, "run", one_line_error(exc), exc=exc) from exc',
      ("tests/test_faults.py::test_raising_converter_is_an_import_error",)),
    B("eager run twice is trusted when it disagrees", "harness/stages.py",
      "        if case.nondeterministic and not _same(expected, _eager(module, inputs)):",
      "        if False:",
      (f"{RUN_OUTCOMES}::test_a_reference_that_two_eager_runs_disagree_on_is_no_reference",)),
    B("the torn last line is kept", "harness/records.py",
      '    if data and not data.endswith(b"\\n"):',
      "    if False:",
      (f"{RUN_OUTCOMES}::test_a_torn_last_line_is_cut_before_a_run_resumes",)),
    B("resume ignores a changed seed, profile or convert map", "harness/runner.py",
      '_RESUME_KEYS = ("target", "profile", "seed", "convert_map", "pipeline", "trials", "frontend")',
      '_RESUME_KEYS = ("target",)',
      (f"{RUN_OUTCOMES}::test_resume_refuses_another_profile_seed_or_convert_map",)),
    B("shards balance counts, not cost", "harness/sources.py",
      "        loads[lightest] += case.cost",
      "        loads[lightest] += 1",
      ("tests/test_sharding.py::test_shards_of_a_fixed_set_are_exactly_the_longest_first_split",
       "tests/test_sharding.py::test_shards_partition_the_cases_and_balance_their_cost")),
    B("merge drops the repros", "harness/merge.py",
      "                record[key] = str(copy)",
      "                record[key] = None",
      ("tests/test_sharding.py::test_merged_shards_render_like_an_unsharded_run",
       "tests/test_sharding.py::test_merge_joins_targets_and_refuses_a_case_twice")),
    B("the per-case timeout never fires", "harness/pool.py",
      "            elif worker.case is not None and now >= worker.deadline:",
      "            elif worker.case is not None and now >= worker.deadline + 1e9:",
      ("tests/test_faults.py::test_hang_is_a_timeout_and_the_next_case_still_runs",)),
    B("a case's own time limit is ignored", "harness/pool.py",
      "        limit = case.timeout or self.timeout",
      "        limit = self.timeout",
      ("tests/test_pool.py::test_a_case_timeout_overrides_the_runs",)),
    B("the start-up limit never fires", "harness/pool.py",
      "            elif not worker.ready and now >= worker.started + self.options.startup_seconds:",
      "            elif not worker.ready and now >= worker.started + self.options.startup_seconds + 1e9:",
      ("tests/test_pool.py::test_a_worker_that_starts_too_slowly_stops_the_pool",)),
    B("log slots handed out round-robin (two live workers can share a log file)", "harness/pool.py",
      "        taken = {w.slot for w in self.workers}",
      "        self._spawned = getattr(self, '_spawned', -1) + 1; return self._spawned % max(1, self.options.jobs)",
      ("tests/test_pool.py::test_with_two_jobs_a_crash_record_holds_only_its_own_workers_stderr",)),
    B("a worker is never replaced after many cases", "harness/pool.py",
      "            if (worker.cases_run >= self.options.max_cases_per_worker",
      "            if (worker.cases_run >= self.options.max_cases_per_worker + 10**9",
      ("tests/test_pool.py::test_a_worker_is_replaced_after_its_case_limit_and_not_before",)),
    B("a worker past the memory limit is kept", "harness/pool.py",
      '                    or message.get("rss_mb", 0) > self.options.max_rss_mb):',
      "                    or False):",
      ("tests/test_pool.py::test_a_worker_past_the_memory_limit_is_replaced",)),
    B("workers outlive a killed run", "harness/worker.py",
      "    _die_with_parent()",
      "    pass",
      ("tests/test_pool.py::test_no_worker_outlives_a_killed_run",)),
    B("an infinite error is reported as 0", "harness/compare.py",
      "        infinite = True  # an infinity against a number: the error is infinite, not the finite elements' largest",
      "        infinite = False",
      ("tests/test_compare.py::test_an_infinite_error_is_infinite_not_zero",)),
    B("uint64 errors are taken in int64 (wrapping)", "harness/compare.py",
      "    if expected.dtype == torch.uint64 and actual.dtype == torch.uint64:",
      "    if False:",
      ("tests/test_compare.py::test_uint64_outputs_are_compared_exactly_over_their_whole_range",)),
    B("a dynamic program's crash leaves one record, not one per size", "harness/pool.py",
      "    if case.dynamic is not None:",
      "    if False:",
      ("tests/test_pool.py::test_a_dynamic_program_that_crashes_its_worker_has_a_record_per_size",
       "tests/test_pool.py::test_a_dynamic_program_that_hangs_has_a_timeout_per_size")),
    B("a worker that dies while starting does not say why", "harness/pool.py",
      '                    raise PoolError("worker failed to start: " + (tail[-1] if tail else '
      '_signal_name(worker.proc.returncode)))',
      '                    raise PoolError("worker failed to start")',
      ("tests/test_pool.py::test_a_worker_that_dies_while_starting_is_a_one_line_error",)),
    B("the symbolic stage is skipped", "harness/stages.py",
      "        if case.dynamic is not None:",
      "        if False:",
      ("tests/test_dynamic.py::test_a_converter_that_bakes_in_the_example_size_fails_the_symbolic_stage",)),
    B("an earlier run is deleted, not moved aside", "harness/runner.py",
      '        results.replace(out / "results.prev.jsonl")',
      "        results.unlink()",
      (f"{RUN_OUTCOMES}::test_an_earlier_run_is_moved_aside_only_when_asked",)),
    B("expectations are written with Python's True", "opsuite/expectations/rewrite.py",
      "    if isinstance(value, bool):  # before int: True is an int, and TOML spells it true",
      "    if False:",
      (f"{EXPECTATIONS_COMMAND}::test_every_known_failures_file_dumps_to_toml_that_loads_back_the_same_entries",)),
    B("update leaves an entry's passing dtypes in it", "opsuite/expectations/rewrite.py",
      '            kept.append({**entry, "dtypes": xfail_dtypes})',
      "            kept.append(entry)",
      (f"{EXPECTATIONS_COMMAND}::test_update_drops_narrows_and_keeps_entries_and_leaves_a_loadable_file",)),
    B("minimal examples are not written", "harness/runner.py",
      "            writer.write([record])",
      "            pass",
      (f"{RUN_OUTCOMES}::test_a_nightly_run_writes_its_minimal_examples_apart",)),
    B("a batch's members read each other's outputs", "harness/batch.py",
      "        parts.append(tvm_outputs(entries[start:start + count]))",
      "        parts.append(tvm_outputs(entries[:count]))",
      (f"{BATCH}::test_members_of_a_batch_get_the_records_they_get_alone",)),
    B("a batch's ops all go to its first member", "harness/batch.py",
      "        found[owner].add(name)",
      "        found[0].add(name)",
      (f"{BATCH}::test_members_of_a_batch_get_the_records_they_get_alone",)),
    B("a batch that fails to import loses its members", "harness/batch.py",
      "                report(index, run_case(case, session, members[index][1], progress))",
      "                pass",
      (f"{BATCH}::test_a_batch_that_fails_to_import_runs_each_member_alone",)),
    B("a member refused for a missing converter is told the whole batch's", "harness/batch.py",
      '    return [one_line_error(AssertionError(f"Unsupported function types {sorted(n)}")) if n else None',
      '    return [one_line_error(AssertionError(f"Unsupported function types {sorted(missing)}")) if n else None',
      (f"{BATCH}::test_members_refused_for_missing_converters_get_the_records_they_get_alone",)),
    B("a member none of whose ops was refused is credited with a refusal", "harness/batch.py",
      "            if refused and refused[position]:",
      "            if refused:",
      (f"{BATCH}::test_members_refused_for_missing_converters_get_the_records_they_get_alone",)),
    B("cases declared to lack a converter share the wrong outputs' batches", "harness/pool.py",
      "            key = (item[0].decompose, kind)",
      '            key = (item[0].decompose, "outputs")',
      (f"{BATCH}::test_only_cases_that_can_share_a_program_are_batched",)),
    B("a crashed batch's members are never run alone", "harness/pool.py",
      "        self._pending.extendleft([member] for member in reversed(worker.unreported()))",
      "        pass",
      (f"{BATCH}::test_a_crash_inside_a_batch_is_the_crashing_case_own_record",)),
    B("cases expected to fail before the comparison join batches", "harness/batch.py",
      '    if all(e.stage == "compare" and e.status == "mismatch" and not e.flaky for e in declared):',
      '    if all(e.stage != "export" and not e.flaky for e in declared):',
      (f"{BATCH}::test_only_cases_that_can_share_a_program_are_batched",)),
    B("the exploration fails on its findings", "harness/nightly_verdict.py",
      '        return 1 if self.mode == "gate" and self.unexpected else 0',
      "        return 1 if self.unexpected else 0",
      (f"{GATE}::test_a_new_case_is_a_finding_for_the_exploration_and_red_for_the_gate",)),
    B("a flaky case flips the gate", "harness/nightly_verdict.py",
      '    return bool(record and expectation_of(record).get("flaky"))',
      "    return False",
      (f"{GATE}::test_flaky_cases_are_listed_apart_and_never_flip_the_gate",)),
    B("merge drops the shards' shrunk examples", "harness/merge.py",
      "    if minimal:",
      "    if False:",
      (f"{GATE}::test_the_findings_show_the_shrunk_example_merged_from_the_shards",)),
    B("a shipped case is run by the worker as well", "harness/stages.py",
      "    return shipped",
      "    return _run_and_compare(case, session, session.relax.VirtualMachine(executable, session.device), "
      "shipped, clock, module, inputs, expected)",
      (f"{ROADS}::test_a_deployed_case_with_right_outputs_passes_on_the_shipped_run_alone",)),
    B("a shipped case that fails here too is called a deploy_error", "harness/stages.py",
      '    if one["status"] != "pass":',
      "    if False:",
      (f"{ROADS}::test_a_shipped_case_that_fails_here_too_gets_the_verdict_of_a_case_that_does_not_ship",)),
    B("a road's repro imports the export road's importer", "harness/road_repro.py",
      '    return {"road_label": f" through {road}", "road_doc": _DOC[road], "road_import": IMPORT[road],',
      '    return {"road_label": f" through {road}", "road_doc": _DOC[road], "road_import": IMPORT["export"],',
      ("tests/test_road_repro.py::test_a_road_failure_repro_follows_the_road_and_its_convert_map",)),
    B("the override leaves its kernels behind after the block", "harness/cia_override.py",
      "                op.py_kernels.update(saved)",
      "                op.py_kernels.update(saved) if False else None",
      (f"{CIA}::test_state_inside_and_after_the_block_matches_torchs",)),
    B("the override skips the backend kernels of an op with none", "harness/cia_override.py",
      "                    kernels.update(dict.fromkeys(backend_table, orig_cia_callable))",
      "                    pass",
      (f"{CIA}::test_state_inside_and_after_the_block_matches_torchs",)),
)


class AnchorError(Exception):
    pass


def copy_tree(destination: Path) -> Path:
    """The working tree's files (tracked, and untracked but not ignored) copied to `destination`."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def _anchored(breakage: Breakage, tree: Path) -> tuple[list[str], int]:
    """The file's lines and the index of the one line that is the anchor."""
    lines = (tree / breakage.path).read_text().split("\n")
    at = [i for i, line in enumerate(lines) if line == breakage.anchor]
    if len(at) != 1:
        raise AnchorError(f"{breakage.name}: {len(at)} lines of {breakage.path} read {breakage.anchor!r} "
                          "(expected exactly 1): the engine changed; move this breakage's anchor")
    return lines, at[0]


def apply(breakage: Breakage, tree: Path) -> None:
    lines, at = _anchored(breakage, tree)
    lines[at] = breakage.replacement
    (tree / breakage.path).write_text("\n".join(lines))


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree)}


def run_tests(tree: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, list[str], float]:
    """('passed' | 'failed' | 'error' | 'hung', failed test ids, seconds) of the tests in `tree`."""
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", *tests, "-q", "-n", "0", "-rf",
                               "-p", "no:cacheprovider"], cwd=tree, env=_env(tree), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hung", [], time.monotonic() - started
    failed = re.findall(r"^FAILED (\S+)", done.stdout, re.M)
    outcome = {0: "passed", 1: "failed"}.get(done.returncode, "error")
    if outcome == "error":  # not a test failing: the tests could not run (e.g. an import broke)
        failed = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["(no output)"]
    return outcome, failed, time.monotonic() - started


def check_copy(tree: Path) -> None:
    """The copy, not the working tree, must be what the tests import."""
    code = "import harness, opsuite, tests; print(harness.__file__, opsuite.__file__, tests.__file__)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tree, env=_env(tree), capture_output=True,
                          text=True, check=True)
    if not all(Path(p).resolve().is_relative_to(tree.resolve()) for p in done.stdout.split()):
        raise SystemExit(f"mutations: the copy in {tree} is not what Python imports: {done.stdout.strip()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutations", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="breakages to run (default: all)")
    parser.add_argument("--list", action="store_true", help="print the breakages and exit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unbroken copy's run")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per test run")
    args = parser.parse_args(argv)
    by_name = {b.name: b for b in BREAKAGES}
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        print(f"mutations: error: unknown breakage {unknown[0]!r} (see --list)", file=sys.stderr)
        return 2
    chosen = [by_name[n] for n in args.names] or list(BREAKAGES)
    if args.list:
        for b in chosen:
            print(f"{b.name}\n    {b.path}: {b.anchor.strip()}\n    ->  {b.replacement.strip()}\n"
                  f"    tests: {' '.join(b.tests)}")
        return 0
    with tempfile.TemporaryDirectory(prefix="harness-mutations-") as scratch:
        pristine = copy_tree(Path(scratch) / "tree")
        check_copy(pristine)
        for b in chosen:  # every anchor first: a stale one stops the script before any long run
            _anchored(b, pristine)
        if not args.no_baseline:
            every = tuple(dict.fromkeys(t for b in chosen for t in b.tests))
            outcome, failed, seconds = run_tests(pristine, every, args.timeout)
            print(f"unbroken tree: {outcome} ({len(every)} test selections, {seconds:.0f}s)", flush=True)
            if outcome != "passed":
                print(f"mutations: error: the unbroken tree does not pass: {failed}", file=sys.stderr)
                return 2
        rows = []
        for b in chosen:
            tree = Path(scratch) / "broken"
            shutil.copytree(pristine, tree)
            apply(b, tree)
            outcome, failed, seconds = run_tests(tree, b.tests, args.timeout)
            shutil.rmtree(tree)
            verdict = "caught" if outcome == "failed" else "SURVIVED" if outcome == "passed" else outcome.upper()
            rows.append((b, verdict, failed))
            print(f"{verdict:<9} {b.name} ({seconds:.0f}s){': ' if failed else ''}{', '.join(failed)}", flush=True)
    print("\n| breakage | file | verdict | caught by |\n|---|---|---|---|")
    for b, verdict, failed in rows:
        print(f"| {b.name} | {b.path} | {verdict} | {'<br>'.join(f'`{t}`' for t in failed)} |")
    caught = sum(verdict == "caught" for _, verdict, _ in rows)
    print(f"\n{caught} of {len(rows)} breakages caught")
    return 0 if caught == len(rows) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AnchorError as err:
        print(f"mutations: error: {err}", file=sys.stderr)
        sys.exit(2)
