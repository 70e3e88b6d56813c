"""The command line: honest exit statuses, one-line errors, nothing recorded is lost."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from tests.crafted import record, write_dir

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def harness(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True,
                          env=ENV, cwd=cwd or ROOT, timeout=600)


@pytest.fixture
def here(capsys):
    """The command run in this process, as `harness` runs it in another: no interpreter, torch
    and TVM to start again for a command that ends in an error."""
    def command(*args):
        code = main(list(args))
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(["harness", *args], code, captured.out, captured.err)

    return command


def _one_line_error(done, code=2):
    assert done.returncode == code, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("harness: error:"), done.stderr
    return lines[0]


@pytest.mark.slow
def test_unknown_op_is_a_one_line_error_with_suggestions(here):
    line = _one_line_error(here("check", "aten.sinn.default"))
    assert "unknown op or model 'aten.sinn.default'" in line
    assert "aten.sin.default" in line  # the suggestion


def test_unknown_glob_in_run_is_an_error(tmp_path, here):
    # A model glob: the suggestions then come from the zoo's names, without building every op case
    # (the check above does that for ops).
    line = _one_line_error(here("run", "--models", "resnet1000*", "--out", str(tmp_path)))
    assert line.startswith("harness: error: unknown op or model 'resnet1000*': no case matches; did you mean ")
    assert not (tmp_path / "results.jsonl").exists()


def test_report_on_missing_directory(tmp_path, here):
    line = _one_line_error(here("report", str(tmp_path / "nope")))
    assert line == f"harness: error: {tmp_path / 'nope'}: no such directory"
    # A directory that holds a run: only the baseline can be what is missing.
    run = write_dir(tmp_path / "run", [record("aten.a.default[float32-0]", "aten.a.default")])
    line = _one_line_error(here("report", str(run), "--baseline", str(tmp_path / "nope")))
    assert line == f"harness: error: {tmp_path / 'nope'}: no such baseline directory"


def test_report_on_corrupt_results_names_the_line(tmp_path, here):
    good = {"case_id": "a", "kind": "op", "op": "x", "status": "pass", "stage": "compare",
            "target": "llvm", "dtype": "float32"}
    (tmp_path / "results.jsonl").write_text(json.dumps(good) + "\n{broken\n")
    line = _one_line_error(here("report", str(tmp_path)))
    assert "results.jsonl:2" in line


def test_bad_shard_and_jobs_are_errors(tmp_path, here):
    line = _one_line_error(here("run", "--ops", "aten.sin.default", "--shard", "3/2", "--out", str(tmp_path)))
    assert line == "harness: error: --shard '3/2': I must be between 1 and N"
    line = _one_line_error(here("run", "--ops", "aten.sin.default", "--jobs", "0", "--out", str(tmp_path)))
    assert line == "harness: error: --jobs must be at least 1"
    line = _one_line_error(here("run", "--ops", "aten.sin.default", "--worker-cases", "0", "--out", str(tmp_path)))
    assert line == "harness: error: --worker-cases must be at least 1"
    assert not (tmp_path / "results.jsonl").exists()


def test_worker_cases_reaches_the_pool(tmp_path, monkeypatch):
    from harness import runner
    from harness.pool import PoolError

    seen = []

    class Refusing:
        def __init__(self, options):
            seen.append(options)
            raise PoolError("stop here")

    monkeypatch.setattr(runner, "Pool", Refusing)
    options = runner.RunOptions(out=tmp_path, worker_cases=7)
    with pytest.raises(PoolError):
        runner.execute(lambda: [], options)
    assert [o.max_cases_per_worker for o in seen] == [7]


def test_unloadable_convert_map_is_an_error(tmp_path, here):
    line = _one_line_error(here("check", "aten.sin.default", "--convert-map", "no_such_module:MAP",
                                "--out", str(tmp_path)))
    assert "no_such_module" in line


@pytest.mark.slow
def test_check_prints_a_line_per_case_and_repros_then_refuses_to_mix_runs(tmp_path, here):
    out = tmp_path / "sin"
    done = harness("check", "aten.sin.default", "--convert-map", "tests.converters:WRONG", "--jobs", "1",
                   "--out", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    case_lines = [line for line in done.stdout.splitlines() if line.startswith("aten.sin.default[")]
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(case_lines) == len(records) >= 3
    assert any(r["status"] == "mismatch" for r in records)
    repro_lines = [line for line in done.stdout.splitlines() if line.strip().startswith("repro:")]
    assert len(repro_lines) == sum(1 for r in records if r["repro"])
    assert all(Path(line.split("repro:")[1].strip()).exists() for line in repro_lines)

    # `run` into a directory that holds a run: refused, and the records stay as they were.
    before = (out / "results.jsonl").read_text()
    _one_line_error(here("run", "--ops", "aten.sin.default", "--out", str(out)))
    assert (out / "results.jsonl").read_text() == before
    # Resuming with another target would mix two runs: refused too.
    _one_line_error(here("run", "--ops", "aten.sin.default", "--out", str(out), "--resume",
                         "--target", "cuda"))
    assert (out / "results.jsonl").read_text() == before


def test_list_prints_ids_without_running(tmp_path):
    done = harness("list", "--ops", "aten.sin.default")
    assert done.returncode == 0
    ids = done.stdout.split()
    assert ids and all(i.startswith("aten.sin.default[") for i in ids)
    assert len(ids) == len(set(ids))


@pytest.mark.slow
def test_prefiltered_selection_equals_selection_from_every_case():
    from harness import sources

    every = sources.load(["op", "opinfo"], "quick", 0)
    for patterns in (["aten.sin.default"], ["sin"], ["aten.add"], ["aten.sin.default[bool-0]"],
                     ["aten.gt.*", "neg"]):
        fast = sources.select(sources.load(["op", "opinfo"], "quick", 0, patterns), patterns)
        assert [c.case_id for c in fast] == [c.case_id for c in sources.select(every, patterns)], patterns
    # Patterns with little before their first wildcard prefilter little: loading with them builds
    # (nearly) every case again, seconds of work, so only the prefilter's promise is checked, that
    # it never turns away a case the pattern selects.
    for patterns in (["aten.*"], ["*float16*"]):
        chosen = sources.select(every, patterns)
        assert chosen and all(sources.could_match(c.op, patterns) for c in chosen), patterns
    assert len(sources.load(["op", "opinfo"], "quick", 0, ["aten.sin.default"])) < len(every) / 10
    assert [c.case_id for c in sources.select(every, ["aten.sin.default[bool-0]"])] == ["aten.sin.default[bool-0]"]
