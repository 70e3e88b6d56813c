"""The worker pool: replacement limits, start-up faults, per-case limits, crashes with several
jobs, dynamic programs that kill their worker, and no worker outliving the run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import env
from harness.case import Case, DynamicSpec, Program
from harness.cli import main
from harness.pool import Pool, PoolError, PoolOptions
from harness.records import new_record
from tests import factories
from tests.helpers import add_case, cat_program, run, sin_case

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = env.library_versions()


def _items(cases):
    return [(case, new_record(case, "llvm", VERSIONS)) for case in cases]


def _pid_case(pid_file: Path, index: int) -> Case:
    return Case(f"test.pid[float32-{index}]", "op", "aten.sin.default",
                Program(factories.pid_program, {"pid_file": str(pid_file)}), "float32")


def _pids(pid_file: Path) -> list[int]:
    return [int(line) for line in pid_file.read_text().split()]


def test_a_worker_is_replaced_after_its_case_limit_and_not_before(tmp_path):
    pid_file = tmp_path / "pids"
    with Pool(PoolOptions(target="llvm", log_dir=tmp_path / "logs", max_cases_per_worker=2)) as pool:
        first = pool.run_one(*_items([_pid_case(pid_file, 0)])[0])
        assert len(pool.workers) == 1, "retired before its limit"
        second = pool.run_one(*_items([_pid_case(pid_file, 1)])[0])
        assert pool.workers == [], "kept past its limit"
    assert [first[0]["status"], second[0]["status"]] == ["pass", "pass"]
    one, two = _pids(pid_file)
    assert one == two  # the same worker ran both


def test_a_worker_past_the_memory_limit_is_replaced(tmp_path):
    pid_file = tmp_path / "pids"
    # Every worker holds torch and TVM, far more than 1 MB: the case leaves it too large.
    with Pool(PoolOptions(target="llvm", log_dir=tmp_path / "logs", max_rss_mb=1.0)) as pool:
        (record,) = pool.run_one(*_items([_pid_case(pid_file, 0)])[0])
        assert pool.workers == [], "kept past its memory limit"
    assert record["status"] == "pass" and len(_pids(pid_file)) == 1


def test_a_worker_that_dies_while_starting_is_a_one_line_error(tmp_path, capsys):
    code = main(["run", "--ops", "aten.sin.default[float32-0]", "--jobs", "1", "--out", str(tmp_path),
                 "--convert-map", "tests.startup_faults:DIES"])
    assert code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == ["harness: error: worker failed to start: worker start-up failed on purpose"]


def test_a_worker_that_starts_too_slowly_stops_the_pool(tmp_path):
    options = PoolOptions(target="llvm", log_dir=tmp_path, convert_map="tests.startup_faults:SLOW",
                          startup_seconds=2.0)
    started = time.monotonic()
    with Pool(options) as pool, pytest.raises(PoolError, match=r"^worker did not start within 2s$"):
        pool.run_one(sin_case(), new_record(sin_case(), "llvm", VERSIONS))
    assert time.monotonic() - started < 50, "the start-up limit, not the slow start, ended the wait"
    assert pool.workers == []


def _sleeping(**fields) -> Case:
    return Case("test.sleeps[float32-0]", "op", "aten.sin.default", Program(factories.sleeping_program, {}),
                "float32", **fields)


def test_a_case_timeout_overrides_the_runs(tmp_path):
    records = run([_sleeping(timeout=3.0)], tmp_path, timeout=120)
    slept = records["test.sleeps[float32-0]"]
    assert (slept["status"], slept["stage"], slept["error"]) == ("timeout", "eager", "no result within 3s")
    assert 3 <= slept["seconds"]["total"] < 60


def _dynamic_cat(variant: str, **fields) -> Case:
    return Case(f"dyn.cat[float32-{variant}]", "dynamic", "aten.cat.default", Program(cat_program, {}), "float32",
                dynamic=DynamicSpec(dims={"n": (2, 64)}, shapes=({0: "n"}, {0: "2*n"}),
                                    sizes=({"n": 2}, {"n": 17}), probes=({"n": 65},)), **fields)


def _dynamic_sleeping(**fields) -> Case:
    return Case("dyn.sleeps[float32-0]", "dynamic", "aten.sin.default", Program(factories.sleeping_program, {}),
                "float32", dynamic=DynamicSpec(dims={"r": (2, 32)}, shapes=({0: "r"},),
                                               sizes=({"rows": 2}, {"rows": 9})), **fields)


def test_a_dynamic_program_that_crashes_its_worker_has_a_record_per_size(tmp_path):
    records = run([_dynamic_cat("crash")], tmp_path, "tests.converters:SEGFAULTS_RELU")
    assert sorted(records) == ["dyn.cat[float32-crash]@n=17", "dyn.cat[float32-crash]@n=2"]
    for record in records.values():
        assert (record["status"], record["signal"], record["stage"]) == ("crash", "SIGSEGV", "import")
        assert record["dynamic_case"] == "dyn.cat[float32-crash]" and record["dynamic_status"] == "crash"
    assert [r["sizes"] for r in records.values()] == [{"n": 2}, {"n": 17}]


def test_a_dynamic_program_that_hangs_has_a_timeout_per_size(tmp_path):
    records = run([_dynamic_sleeping(timeout=3.0)], tmp_path, timeout=120)
    assert sorted(records) == ["dyn.sleeps[float32-0]@rows=2", "dyn.sleeps[float32-0]@rows=9"]
    for record in records.values():
        assert (record["status"], record["stage"], record["error"]) == ("timeout", "eager", "no result within 3s")
        assert record["dynamic_case"] == "dyn.sleeps[float32-0]" and record["dynamic_status"] == "timeout"
    assert [r["sizes"] for r in records.values()] == [{"rows": 2}, {"rows": 9}]


def test_with_two_jobs_a_crash_record_holds_only_its_own_workers_stderr(tmp_path):
    sentinel = tmp_path / "stop-ticking"
    ticker = Case("test.ticker[float32-0]", "op", "aten.add.Tensor",
                  Program(factories.ticking_program, {"sentinel": str(sentinel)}), "float32")
    options = PoolOptions(target="llvm", jobs=2, log_dir=tmp_path / "logs",
                          convert_map="tests.converters:ANNOUNCES_AND_DIES")
    finished = {}
    with Pool(options) as pool:
        # One worker first (slot 0), idle and ready: the ticker then surely goes to it, and the
        # first crash to the second worker (slot 1), whose replacement runs the second crash
        # while the ticker still writes to its own log.
        pool.run_one(add_case(), new_record(add_case(), "llvm", VERSIONS))
        for case, records in pool.run(_items([ticker, sin_case(variant="a"), sin_case(variant="b")])):
            finished[case.case_id] = records[0]
            if case.case_id == "aten.sin.default[float32-b]":
                sentinel.touch()
    assert finished["test.ticker[float32-0]"]["status"] == "pass"
    tails = []
    for variant in ("a", "b"):
        record = finished[f"aten.sin.default[float32-{variant}]"]
        assert (record["status"], record["signal"]) == ("crash", "SIGKILL")
        # Only the crashing case's own line: no tick of the other live worker, nothing of the
        # first crash in the second's tail.
        (line,) = record["stderr_tail"].splitlines()
        assert line.startswith("about to crash in pid "), record["stderr_tail"]
        tails.append(line)
    assert tails[0] != tails[1]
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["worker-0.log", "worker-1.log"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state  # a zombie has ended; only its parent has not reaped it


def test_no_worker_outlives_a_killed_run(tmp_path):
    pid_file = tmp_path / "pids"
    proc = subprocess.Popen([sys.executable, "-m", "tests.orphaned_workers", str(tmp_path), str(pid_file)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and (not pid_file.exists() or len(_pids(pid_file)) < 2):
            assert proc.poll() is None, "the run ended before its workers hung"
            time.sleep(0.1)
        workers = _pids(pid_file)
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], "workers outlived the killed run"


def test_a_short_check_runs_on_one_worker_and_a_long_one_on_every_job(tmp_path):
    """`harness check` (cases built while a worker starts) starts a second worker only for work
    that repays its start-up; `run` keeps --jobs as given."""
    from harness.pool import useful_jobs
    from harness.runner import RunOptions, execute

    pid_file = tmp_path / "pids"
    cases = [_pid_case(pid_file, i) for i in range(6)]
    execute(lambda: cases, RunOptions(out=tmp_path / "check", jobs=2, batch=1))
    assert len(set(_pids(pid_file))) == 1 and len(_pids(pid_file)) == 6
    assert [p.name for p in (tmp_path / "check" / "logs").iterdir()] == ["worker-0.log"]
    many = [_pid_case(pid_file, i) for i in range(40)]
    assert useful_jobs(many, 2) == 2 and useful_jobs(many, 1) == 1 and useful_jobs(cases, 2) == 1
    model = Case("m[float32-64x64]", "model", "m", Program(factories.pid_program, {}), "float32", cost=60.0)
    assert useful_jobs([model], 4) == 4  # one long unit: the pool itself starts only one worker for it
