"""Isolation: a pool of worker processes, each running one case at a time.

A case that kills its worker (segfault, abort) becomes a `crash` record naming the signal
and the stage the worker had announced (a `skip` when it died in eager, before TVM had a part:
no reference exists, as when eager raises); a case that outlives its time limit has its worker
killed and becomes a `timeout` record. Either way a fresh worker takes the next case and
the run goes on. Workers are also replaced after many cases or when they grow too large,
so one leaky case cannot starve the rest of the run.

With `batch` above 1, op cases that may share a program (harness.batch.batch_kind) go to a
worker in batches; each member's records come back as it is judged. When a batch's worker
dies or hangs, every member it had not reported runs again alone, so a crash or timeout
record is always a case's own.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import selectors
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.case import Case
from harness.records import per_size
from harness.signature import error_signature
from harness.worker import _HEADER, send

STARTUP_SECONDS = 180.0  # the default limit on a worker's start (importing torch and TVM)


# Seconds a case may take when it sets no limit of its own (`--timeout`, `--harness-timeout`).
DEFAULT_TIMEOUT = 60.0

# The most op cases one batch holds by default (`--batch`). Measured on 2 cores: `python -m
# harness.bench --batch 16 32` gave 0.0847 s per case at 16 and 0.0544 s at 32 (unbatched 0.1527 s);
# the quick profile back to back took 393.8 s wall at 16 and 376.6 s at 32, with the same verdicts.
DEFAULT_BATCH = 32


# A worker's start-up measured 5.6 s on 2 cores (torch 1.3 s, the first export's dynamo start
# 1.6 s, TVM 2.5 s), an op case about 0.3 s run alone. Another worker is started only for work
# of at least WORKER_START_SECONDS, less than a start-up, because part of its start overlaps
# the cases the first worker runs meanwhile.
WORKER_START_SECONDS = 4.0
OP_CASE_SECONDS = 0.3

# A worker is retired after this many cases (`--worker-cases`). Each replacement costs ~17 worker-s
# (imports, warm-up, dynamo's first export, the deploy loader's own start); an op worker grows only
# ~50 MB per 1,000 cases, and max_rss_mb still retires one that a model left large. Measured: the
# quick profile at 400 took 478.6 s wall and without retirement 393.8 s (README, after Batches).
WORKER_CASES = 4000


def useful_jobs(cases: list[Case], jobs: int) -> int:
    """How many of `jobs` workers the cases keep busy for longer than each one takes to start:
    one for a short `harness check`, whose second worker would only slow the first."""
    work = sum(c.cost if c.kind == "model" else OP_CASE_SECONDS for c in cases)
    return max(1, min(jobs, math.floor(work / WORKER_START_SECONDS)))


class PoolError(Exception):
    """The pool cannot run at all (a worker fails to start); one line."""


@dataclass(frozen=True)
class PoolOptions:
    target: str
    jobs: int = 1
    timeout: float = DEFAULT_TIMEOUT
    convert_map: str | None = None
    log_dir: Path | None = None
    threads: int = 1
    # Replacement limits: a worker is retired after this many cases, or when a case leaves it
    # larger than this; and a worker that is not ready within startup_seconds stops the pool.
    max_cases_per_worker: int = WORKER_CASES
    max_rss_mb: float = 8000.0
    startup_seconds: float = STARTUP_SECONDS
    batch: int = 1  # the most op cases one program holds (1: every case alone)
    pipeline: str = "default"  # or "tuned" (harness.tuning): every case alone, with more time
    trials: int = 0  # the tuned pipeline's trial budget per case
    out: Path | None = None  # the run directory: tuning logs and shipped libraries go under it
    deploy_sample: float = 0.0  # which cases ship after they pass (harness.deploy); 0: none
    frontend: str = "export"  # the road into TVM; batches are built on the export road only

    def own_limit(self, case: Case) -> float:
        """A case's time limit without the deploy stage: its own or the run's, plus tuning."""
        from harness import tuning

        limit = case.timeout or self.timeout
        if self.pipeline == "tuned" and case.dynamic is None:
            limit = tuning.case_limit(limit, self.trials)
        return limit

    def limit(self, case: Case) -> float:
        """A case's time limit: own_limit, plus the deploy stage's process for a case that ships
        (harness.deploy.case_limit)."""
        from harness import deploy

        limit = self.own_limit(case)
        return deploy.case_limit(limit) if deploy.selected(case, self.deploy_sample, self.target) else limit


class _Worker:
    def __init__(self, slot: int, options: PoolOptions):
        self.slot, self.options = slot, options
        self.buffer = bytearray()
        self.case: Case | None = None
        self.base: dict | None = None
        self.members: list[tuple[Case, dict]] | None = None  # the batch it runs, if any
        self.reported: set[int] = set()
        self.record: dict | None = None
        self.deadline = self.assigned_at = self.limit = 0.0
        self.started = time.monotonic()
        self.ready = False
        self.tvm: dict | None = None  # the TVM it imported (harness.env.tvm_fields), once ready
        self.cases_run = 0
        self.log_path = None
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        env["TVM_NUM_THREADS"] = str(options.threads)
        env["OMP_NUM_THREADS"] = str(options.threads)
        env["HARNESS_THREADS"] = str(options.threads)
        if options.log_dir is not None:
            options.log_dir.mkdir(parents=True, exist_ok=True)
            self.log_path = options.log_dir / f"worker-{slot}.log"
            log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        else:
            log = subprocess.DEVNULL
        args = [options.target]
        if options.convert_map:
            args.append(options.convert_map)
        args += ["--frontend", options.frontend, "--pipeline", options.pipeline, "--trials", str(options.trials),
                 "--deploy-sample", repr(options.deploy_sample)]
        if options.out is not None:
            args += ["--out", str(options.out)]
        self.proc, cold = self._launch(args, env, log)
        if log is not subprocess.DEVNULL:
            if cold not in ("", "no server"):
                log.write(f"started cold, not forked by the warm server: {cold}\n".encode())
            log.close()
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.log_offset = self._log_size()

    @staticmethod
    def _launch(args: list[str], env: dict, log) -> tuple:
        """The worker (`harness.worker` ARGS), forked by this environment's warm server
        (harness.forkserver) when one answers, else started: (process, why it started cold or "")."""
        from harness import forkserver

        stderr = os.open(os.devnull, os.O_WRONLY) if log is subprocess.DEVNULL else log.fileno()
        try:
            forked, why = forkserver.fork_worker(args, env, stderr)
        finally:
            if log is subprocess.DEVNULL:
                os.close(stderr)
        if forked is not None:
            return forked, ""
        return subprocess.Popen([sys.executable, "-m", "harness.worker", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                                start_new_session=True), why

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size if self.log_path else 0
        except OSError:
            return 0

    def log_tail(self, lines: int = 20) -> str:
        """What the worker printed to stderr since its current case started."""
        if not self.log_path:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_offset)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _start(self, case: Case, base: dict, limit: float) -> None:
        self.case, self.base, self.record, self.members = case, base, None, None
        self.log_offset = self._log_size()
        self.assigned_at = time.monotonic()
        self.limit = limit  # seconds for the case; for a batch, for each member reported in turn
        self.deadline = self.assigned_at + limit

    def assign(self, case: Case, base: dict, limit: float) -> None:
        self._start(case, base, limit)
        send(self.proc.stdin, {"op": "run", "case": case, "base": base, "limit": self.options.own_limit(case)})

    def assign_batch(self, members: list[tuple[Case, dict]], batch_id: str, limit: float) -> None:
        self._start(*members[0], limit)
        self.members, self.reported = members, set()
        send(self.proc.stdin, {"op": "batch", "id": batch_id, "members": members})

    def unreported(self) -> list[tuple[Case, dict]]:
        return [m for i, m in enumerate(self.members or []) if i not in self.reported]

    def read_messages(self) -> tuple[list, bool]:
        """Messages that arrived, and whether the channel closed (the worker died)."""
        import pickle

        closed = False
        while True:
            try:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
            except BlockingIOError:
                break
            if not chunk:
                closed = True
                break
            self.buffer += chunk
        messages = []
        while len(self.buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buffer)
            if len(self.buffer) < _HEADER.size + size:
                break
            messages.append(pickle.loads(bytes(self.buffer[_HEADER.size:_HEADER.size + size])))
            del self.buffer[:_HEADER.size + size]
        return messages, closed

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()


def _signal_name(returncode: int) -> str:
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


def _stage_reached(worker: _Worker) -> str:
    """The stage the worker last announced for its case (eager until it announced one)."""
    return (worker.record or worker.base).get("stage") or "eager"


def _died(worker: _Worker, status: str, error: str, **extra) -> list[dict]:
    """Records for a case whose worker died or was killed, built from its last progress."""
    case = worker.case
    record = copy.deepcopy(worker.record or worker.base)
    stage = _stage_reached(worker)
    record.update(status=status, stage=stage, error=error,
                  error_signature=error_signature(stage, error), **extra)
    record["seconds"]["total"] = round(time.monotonic() - worker.assigned_at, 6)
    tail = worker.log_tail()
    if tail:
        record["stderr_tail"] = tail
    if case.dynamic is not None:
        return per_size(case, record)
    return [record]


class Pool:
    def __init__(self, options: PoolOptions):
        self.options = options
        self.workers: list[_Worker] = []
        self.selector = selectors.DefaultSelector()
        self._pending: deque[list[tuple[Case, dict]]] = deque()
        self._batches = 0

    def _free_slot(self) -> int:
        """The lowest slot no live worker holds: each live worker writes a log file of its own."""
        taken = {w.slot for w in self.workers}
        return next(slot for slot in range(len(taken) + 1) if slot not in taken)

    def _spawn(self) -> _Worker:
        worker = _Worker(self._free_slot(), self.options)
        self.workers.append(worker)
        self.selector.register(worker.proc.stdout, selectors.EVENT_READ, worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        """Stop a worker. Idle or not, it is killed: an idle one has sent every result and
        writes nothing but its (unbuffered) log, and waiting for torch and TVM to tear down
        would hold the run for over a second each time."""
        self.selector.unregister(worker.proc.stdout)
        self.workers.remove(worker)
        worker.kill()

    def run(self, items: Iterable[tuple[Case, dict]]) -> Iterator[tuple[Case, list[dict]]]:
        """Run (case, base record) pairs; yields (case, records) as each case ends.

        Workers stay alive afterwards for the next call; `close()` (or leaving the `with`
        block) stops them.
        """
        pending = self._pending = self._units(items)
        try:
            while pending or any(w.case is not None for w in self.workers):
                busy = sum(1 for w in self.workers if w.case is not None)
                while len(self.workers) < min(self.options.jobs, busy + len(pending)):
                    self._spawn()
                for worker in self.workers:
                    if worker.ready and worker.case is None and pending:
                        unit = pending.popleft()
                        if len(unit) == 1:
                            worker.assign(*unit[0], self.options.limit(unit[0][0]))
                        else:
                            self._batches += 1
                            worker.assign_batch(unit, f"b{self._batches}",
                                                max(self.options.limit(case) for case, _ in unit))
                yield from self._wait()
        except GeneratorExit:
            raise  # the caller stopped listening between cases: workers stay for the next call
        except BaseException:
            self.close()
            raise

    def keep_to(self, jobs: int) -> None:
        """Start no more than `jobs` workers from now on (those already started stay)."""
        self.options = dataclasses.replace(self.options, jobs=max(1, min(self.options.jobs, jobs)))

    def start(self, count: int | None = None) -> None:
        """Start `count` workers (default: every one) now, before there is a case for them:
        their start-up takes seconds. `run` starts the rest when there is work for them."""
        while len(self.workers) < min(self.options.jobs, self.options.jobs if count is None else count):
            self._spawn()

    def tvm_fields(self) -> dict | None:
        """The TVM a ready worker imported (harness.env.tvm_fields), waiting for one to be
        ready: the fingerprint's TVM without importing it in this process too (1.5 s)."""
        if not self.workers:
            self.start(1)
        while not any(w.ready for w in self.workers):
            for _ in self._wait():  # no case is assigned yet: nothing comes out
                pass
        return next(w.tvm for w in self.workers if w.ready)

    def _units(self, items: Iterable[tuple[Case, dict]]) -> deque[list[tuple[Case, dict]]]:
        """What each worker is handed: a case alone, or a batch of cases that share a program.

        Batches fill up in the cases' order, one per kind of program (decomposed or not) and
        kind of case (harness.batch.batch_kind), no larger than `batch`, nor than an even share
        per worker, so a short run keeps every worker busy. A case drawn for the deploy stage
        ships its own library, so it runs alone; under the tuned pipeline every case does (each
        is tuned with its own budget and logs).
        """
        from harness import deploy
        from harness.batch import batch_kind

        items = list(items)
        if self.options.batch <= 1 or self.options.pipeline == "tuned" or self.options.frontend != "export":
            return deque([item] for item in items)
        kinds = [None if deploy.selected(case, self.options.deploy_sample, self.options.target)
                 else batch_kind(case, self.options.target) for case, _ in items]
        share = math.ceil(sum(kind is not None for kind in kinds) / max(1, self.options.jobs))
        size = max(1, min(self.options.batch, share))
        units: deque[list[tuple[Case, dict]]] = deque()
        open_batches: dict[tuple[bool, str], list] = {}
        for item, kind in zip(items, kinds, strict=True):
            if kind is None:
                units.append([item])
                continue
            key = (item[0].decompose, kind)
            batch = open_batches.setdefault(key, [])
            batch.append(item)
            if len(batch) == size:
                units.append(open_batches.pop(key))
        units.extend(batch for batch in open_batches.values())
        return self._longest_first(units)

    def _longest_first(self, units: deque[list[tuple[Case, dict]]]) -> deque[list[tuple[Case, dict]]]:
        """Units whose cases are expected to be long (models: their cost is measured seconds; cases
        that ship a library to a second process) go first, the rest keep their order: a long unit
        started last would leave one worker busy while the others have nothing to do."""
        from harness import deploy

        def cost(unit: list[tuple[Case, dict]]) -> float:
            case = unit[0][0]
            shipped = deploy.selected(case, self.options.deploy_sample, self.options.target)
            return case.cost + (deploy.EXPECTED_SECONDS if shipped else 0.0) if len(unit) == 1 else 1.0

        return deque(sorted(units, key=cost, reverse=True))

    def _rerun_alone(self, worker: _Worker) -> None:
        """A batch's worker died or hung: its members not yet reported run again, each alone."""
        self._pending.extendleft([member] for member in reversed(worker.unreported()))
        self._retire(worker)

    def run_one(self, case: Case, base: dict) -> list[dict]:
        for _, records in self.run([(case, base)]):
            return records
        raise PoolError(f"no result for {case.case_id}")

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _wait(self) -> Iterator[tuple[Case, list[dict]]]:
        now = time.monotonic()
        deadlines = [w.deadline for w in self.workers if w.case is not None]
        deadlines += [w.started + self.options.startup_seconds for w in self.workers if not w.ready]
        wait = max(0.0, min(deadlines) - now) if deadlines else None
        for key, _ in self.selector.select(timeout=wait):
            worker = key.data
            messages, closed = worker.read_messages()
            for message in messages:
                yield from self._handle(worker, message)
            if closed and worker in self.workers:
                worker.proc.wait()
                if not worker.ready:
                    tail = worker.log_tail().strip().splitlines()
                    raise PoolError("worker failed to start: " + (tail[-1] if tail else _signal_name(worker.proc.returncode)))
                if worker.members is not None:
                    self._rerun_alone(worker)
                elif worker.case is not None:
                    sig = _signal_name(worker.proc.returncode)
                    case = worker.case
                    if _stage_reached(worker) == "eager":
                        # PyTorch died computing the reference: there is nothing to judge TVM
                        # against, as when eager raises (a skip, not TVM's crash).
                        records = _died(worker, "skip", f"worker died ({sig})", signal=sig,
                                        skip_reason=f"eager: worker died ({sig})")
                    else:
                        records = _died(worker, "crash", f"worker died ({sig})", signal=sig)
                    self._retire(worker)
                    yield case, records
                else:
                    self._retire(worker)
        now = time.monotonic()
        for worker in list(self.workers):
            if worker.members is not None and now >= worker.deadline:
                self._rerun_alone(worker)
            elif worker.case is not None and now >= worker.deadline:
                case = worker.case
                records = _died(worker, "timeout", f"no result within {worker.limit:g}s")
                self._retire(worker)
                yield case, records
            elif not worker.ready and now >= worker.started + self.options.startup_seconds:
                self._retire(worker)
                raise PoolError(f"worker did not start within {self.options.startup_seconds:g}s")

    def _handle(self, worker: _Worker, message: dict) -> Iterator[tuple[Case, list[dict]]]:
        kind = message["type"]
        if kind == "fatal":
            raise PoolError(message["error"])
        if kind == "ready":
            worker.ready, worker.tvm = True, message.get("tvm")
        elif kind == "progress":
            worker.record = message["record"]
        elif kind == "member":
            worker.reported.add(message["index"])
            # The members left may now run alone, one after another: each has its own time.
            worker.deadline = time.monotonic() + worker.limit
            yield worker.members[message["index"]][0], message["records"]
        elif kind in ("done", "batch_done"):
            case = worker.case
            worker.cases_run += len(worker.members) if worker.members is not None else 1
            worker.case = worker.members = None
            if (worker.cases_run >= self.options.max_cases_per_worker
                    or message.get("rss_mb", 0) > self.options.max_rss_mb):
                self._retire(worker)
            if kind == "done":
                yield case, message["records"]

    def close(self) -> None:
        for worker in list(self.workers):
            self._retire(worker)
