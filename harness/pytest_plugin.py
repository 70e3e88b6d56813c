"""Cases as pytest items: `pytest opsuite -k aten.add`, `pytest opsuite -n auto`.

A test module names the families whose cases it runs and takes the `case` parameter:

    CASE_SOURCE = (OP, OPINFO)           # harness.family.Family objects (one, or several)

    def test_case(case, harness_case):
        harness_case(case)

Each item runs in an isolated worker exactly as `harness run` would, and its records are
appended to `--harness-out`/results.jsonl (several xdist processes share the file).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import env
from harness.family import Family
from harness.pool import DEFAULT_TIMEOUT, Pool, PoolOptions
from harness.records import RESULTS_FILE, ResultsWriter, expectation_of, new_record
from harness.runner import RunOptions, finish, format_line, prepare, repro_lines
from harness.sources import PROFILES, packages
from harness.targets import TARGETS, resolve


def pytest_addoption(parser) -> None:
    group = parser.getgroup("harness", "conformance harness")
    group.addoption("--harness-target", default="llvm", choices=TARGETS)
    group.addoption("--harness-profile", default="quick", choices=PROFILES)
    group.addoption("--harness-seed", type=int, default=0)
    group.addoption("--harness-timeout", type=float, default=DEFAULT_TIMEOUT)
    group.addoption("--harness-convert-map", default=None, metavar="MODULE:ATTR")
    group.addoption("--harness-out", default="results/pytest", help="directory for results.jsonl and repros")


def _options(config) -> RunOptions:
    return RunOptions(out=Path(config.getoption("--harness-out")), target=config.getoption("--harness-target"),
                      profile=config.getoption("--harness-profile"), seed=config.getoption("--harness-seed"),
                      jobs=1, timeout=config.getoption("--harness-timeout"),
                      convert_map=config.getoption("--harness-convert-map"), replace=True)


def pytest_configure(config) -> None:
    # Only the controlling process prepares the directory; xdist workers append to it.
    if not hasattr(config, "workerinput") and _uses_cases(config):
        prepare(_options(config))


def _uses_cases(config) -> bool:
    """Whether the session names a path in a case family's package (only then is DIR prepared)."""
    return any(package in str(a) for package in packages() for a in config.args)


def pytest_generate_tests(metafunc) -> None:
    source = getattr(metafunc.module, "CASE_SOURCE", None)
    if source is None or "case" not in metafunc.fixturenames:
        return
    config = metafunc.config
    families = (source,) if isinstance(source, Family) else tuple(source)
    profile, seed = config.getoption("--harness-profile"), config.getoption("--harness-seed")
    cases = [case for family in families for case in family.build(profile, seed)]
    metafunc.parametrize("case", cases, ids=[c.case_id for c in cases])


class _ItemRunner:
    def __init__(self, options: RunOptions):
        self.options = options
        self.spec = resolve(options.target)
        self.versions = env.library_versions()
        # Each xdist process has a pool of its own, whose worker would otherwise share slot 0's
        # log file with the other processes' workers (and their stderr tails with it).
        log_dir = Path(options.out) / "logs"
        if os.environ.get("PYTEST_XDIST_WORKER"):
            log_dir = log_dir / os.environ["PYTEST_XDIST_WORKER"]
        # The run's deploy stage too, so an item's record is the one `harness run` writes.
        self.pool = Pool(PoolOptions(target=options.target, jobs=1, timeout=options.timeout,
                                     convert_map=options.convert_map, log_dir=log_dir,
                                     out=Path(options.out), deploy_sample=options.deploy_sample))
        self.writer = ResultsWriter(Path(options.out) / RESULTS_FILE)

    def __call__(self, case) -> None:
        records = self.pool.run_one(case, new_record(case, self.options.target, self.versions))
        finish(case, records, self.options.target, Path(self.options.out), self.spec.tvm_target,
               self.options.convert_map)
        self.writer.write(records)
        failed = [r for r in records if r["status"] not in ("pass", "skip", "xfail")]
        if failed:
            lines = ["\n".join([format_line(r), *repro_lines(r)]) for r in failed]
            pytest.fail("\n".join(lines), pytrace=False)
        if all(r["status"] == "skip" for r in records):
            pytest.skip(records[0].get("skip_reason") or "skip")
        if any(r["status"] == "xfail" for r in records):
            pytest.xfail(expectation_of(next(r for r in records if r["status"] == "xfail")).get("reason", ""))

    def close(self) -> None:
        self.pool.close()
        self.writer.close()


@pytest.fixture(scope="session")
def harness_case(request):
    runner = _ItemRunner(_options(request.config))
    yield runner
    runner.close()
