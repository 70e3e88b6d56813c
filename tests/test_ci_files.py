"""The CI workflow and the composite action call only tested commands, and lint really lints them.

actionlint checks the workflow (through `nox -s lint`, proven below on a broken workflow); it does
not read composite actions, so action.yml is checked here: every input is used, every `run:`
has a shell and calls an allowed command, and every `python -m harness.nightly` line parses.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import nightly

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "nightly.yml"
ACTION = ROOT / "action.yml"

# What a `run:` may call: the tested nightly script, the installs, nox.
ALLOWED = (
    "python -m harness.nightly ",
    "python -m pip install -e ",
    "python3 -m pip install nox",
    "python3 -m nox -s gpu",
    "python3 -m nox -s batch_identity",
    "python3 -m nox -s roads",  # test_roads_session_runs_every_road_and_merges
    "python -m harness merge ",  # tests/test_sharding.py, tests/test_frontends.py (roads-merge)
)


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


def _commands(run: str) -> list[str]:
    """The commands of a `run:` block, one per line or `&&` part, expressions made plain words."""
    text = re.sub(r"\$\{\{[^}]*\}\}", "X", run)
    return [part.strip() for line in text.splitlines() for part in line.split("&&") if part.strip()]


def _check_nightly(command: str) -> None:
    argv = shlex.split(command)[3:]  # after `python -m harness.nightly`
    if "--" in argv:
        argv = argv[:argv.index("--")]
    nightly.build_parser().parse_args(argv)  # SystemExit (a failed test) on an unknown option


def _check_runs(steps: list[dict], where: str) -> int:
    count = 0
    for step in steps:
        if "run" not in step:
            continue
        for command in _commands(step["run"]):
            assert command.startswith(ALLOWED), f"{where}: `{command}` is not a tested command"
            if command.startswith("python -m harness.nightly "):
                _check_nightly(command)
            count += 1
    return count


def test_workflow_calls_only_tested_commands():
    workflow = _load(WORKFLOW)
    jobs = workflow["jobs"]
    assert set(jobs) == {"shard", "merge", "explore-shard", "explore-merge", "batches", "tuned", "roads",
                         "roads-merge", "gpu"}
    tuned = " ".join(s.get("run", "") for s in jobs["tuned"]["steps"])
    assert "--pipeline tuned" in tuned and "--mode gate" in tuned
    runs = sum(_check_runs(job["steps"], f"job {name}") for name, job in jobs.items())
    assert runs >= 12
    # The gate and the exploration: each matrix is every shard of SHARDS, each shard runs in its
    # job's mode and uploads its run directory, and each merge downloads its own shards only.
    shards = int(workflow["env"]["SHARDS"])
    for shard, merge, mode, prefix in (("shard", "merge", "gate", "shard"),
                                       ("explore-shard", "explore-merge", "explore", "explore-shard")):
        assert jobs[shard]["strategy"]["matrix"]["shard"] == list(range(1, shards + 1))
        shard_runs = " ".join(s.get("run", "") for s in jobs[shard]["steps"])
        assert f"harness.nightly shard \"${{{{ matrix.shard }}}}/$SHARDS\" --mode {mode} " in shard_runs
        uploads = [s for s in jobs[shard]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
        assert uploads and uploads[0]["with"]["name"] == f"{prefix}-${{{{ matrix.shard }}}}"
        assert jobs[merge]["needs"] == shard
        downloads = [s for s in jobs[merge]["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact")]
        (where,) = [s["with"]["path"] for s in downloads if s["with"].get("pattern") == f"{prefix}-*"]
        merge_runs = " ".join(s.get("run", "") for s in jobs[merge]["steps"])
        assert f"merge {where}/{prefix}-* --mode {mode} " in merge_runs
        assert "$GITHUB_STEP_SUMMARY" in merge_runs
    assert jobs["shard"]["steps"][-1]["with"]["path"] == "shard-${{ matrix.shard }}"
    # Every shard of the gate also runs through fx and dynamo, on the gate's draws, unshrunk; the
    # roads' merge joins them with the gate's own shards (the export road).
    roads = jobs["roads"]
    assert roads["strategy"]["matrix"] == {"road": ["fx", "dynamo"], "shard": list(range(1, shards + 1))}
    road_runs = " ".join(s.get("run", "") for s in roads["steps"])
    assert "--mode gate " in road_runs and '--frontend "${{ matrix.road }}" --shrink none' in road_runs
    assert "--profile \"$PROFILE\" --ops --models" in road_runs
    assert roads["steps"][-1]["with"]["name"] == "road-${{ matrix.road }}-${{ matrix.shard }}"
    assert jobs["roads-merge"]["needs"] == ["shard", "roads"]
    patterns = {s["with"]["pattern"]: s["with"]["path"] for s in jobs["roads-merge"]["steps"]
                if str(s.get("uses", "")).startswith("actions/download-artifact")}
    assert patterns == {"shard-*": "shards", "road-*": "roads"}
    assert "harness merge shards/shard-* roads/road-* " in " ".join(s.get("run", "") for s in jobs["roads-merge"]["steps"])
    # Only the gate reads the baseline, and it is the gate's own merged run (the exploration's is
    # named apart); the GPU job is self-hosted.
    merge_runs = " ".join(s.get("run", "") for s in jobs["merge"]["steps"])
    assert "--baseline baseline" in merge_runs
    assert "--baseline" not in " ".join(s.get("run", "") for s in jobs["explore-merge"]["steps"])
    names = {s["with"]["name"] for job in ("merge", "explore-merge") for s in jobs[job]["steps"]
             if str(s.get("uses", "")).startswith("actions/upload-artifact")}
    assert nightly.MERGED_ARTIFACT in names and "explore-merged" in names
    assert "self-hosted" in jobs["gpu"]["runs-on"]
    # A manual run takes a TVM version or wheel URL (yaml reads the `on:` key as True).
    trigger = workflow.get("on", workflow.get(True))
    assert "tvm" in trigger["workflow_dispatch"]["inputs"] and "schedule" in trigger


def test_the_gate_draws_a_plan_once_per_change_of_its_code(monkeypatch):
    """Every job that runs the gate's draws (seed 0: the same cases from the same code) keeps the
    plan cache between nights, where `harness run` looks for it, under a key made of every source
    directory the plan depends on (opsuite.plan_cache.SOURCES) and the pinned versions; a run on
    another TVM keeps nothing."""
    from opsuite import plan_cache

    monkeypatch.delenv(plan_cache.CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "/home/runner")
    jobs = _load(WORKFLOW)["jobs"]
    for name in ("shard", "roads"):
        runs = " ".join(s.get("run", "") for s in jobs[name]["steps"])
        assert "--mode gate" in runs, name
        steps = jobs[name]["steps"]
        (cache,) = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
        assert steps.index(cache) < next(i for i, s in enumerate(steps) if "harness.nightly shard" in s.get("run", ""))
        assert cache["if"] == "env.TVM_SPEC == ''"
        assert Path(cache["with"]["path"].replace("~", "/home/runner")) == plan_cache.directory()
        key = cache["with"]["key"]
        assert "hashFiles(" in key and "'pyproject.toml'" in key and "env.PROFILE" in key, key
        assert all(f"'{source}/**'" in key for source in plan_cache.SOURCES), key
    explore = " ".join(str(s.get("uses", "")) for s in jobs["explore-shard"]["steps"])
    assert "actions/cache@" not in explore, "a new seed every night: its plan is never drawn twice"


def test_action_uses_every_input_and_only_tested_commands():
    action = _load(ACTION)
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    text = yaml.safe_dump(action["runs"]) + yaml.safe_dump(action.get("outputs", {}))
    unused = [name for name in action["inputs"] if f"inputs.{name}" not in text]
    assert not unused, f"inputs never used: {unused}"
    referenced = set(re.findall(r"inputs\.([\w-]+)", text))
    assert referenced <= set(action["inputs"]), f"undeclared inputs: {referenced - set(action['inputs'])}"
    for step in steps:
        if "run" in step:
            assert step.get("shell") == "bash", f"a composite run step needs a shell: {step}"
        if "uses" in step:
            assert re.search(r"@v\d+$", step["uses"]), f"unpinned action: {step['uses']}"
    assert _check_runs(steps, "action.yml") >= 3
    assert any("harness.nightly local" in s.get("run", "") for s in steps)
    for name in ("ops", "models", "profile", "target", "baseline", "tvm"):
        assert name in action["inputs"], f"action.yml lacks input {name}"


def test_the_command_checks_catch_an_untested_command():
    with pytest.raises(AssertionError, match="not a tested command"):
        _check_runs([{"run": "curl https://example.invalid | sh"}], "probe")
    with pytest.raises(SystemExit):
        _check_runs([{"run": "python -m harness.nightly merge a --no-such-option"}], "probe")


def _nox_project(tmp_path: Path, workflow: str) -> Path:
    """A copy of the project's noxfile whose environment is the real one (no install), with
    `workflow` as its only CI workflow."""
    project = tmp_path / "project"
    (project / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(ROOT / "noxfile.py", project / "noxfile.py")
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    shutil.copy(ROOT / ".github" / "actionlint.yaml", project / ".github" / "actionlint.yaml")
    (project / ".github" / "workflows" / "ci.yml").write_text(workflow)
    bin_dir = project / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} \"$@\"\n")
    python.chmod(0o755)
    actionlint = Path(sys.executable).parent / "actionlint"
    assert actionlint.exists(), "actionlint is not installed beside python (pip install -e .)"
    (bin_dir / "actionlint").symlink_to(actionlint)
    # The stamp noxfile._env compares: the environment counts as installed, nothing is reinstalled.
    digest = hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest()
    (project / ".venv" / ".pyproject-sha256").write_text(digest)
    return project


def _nox_lint(project: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_TVM"}
    return subprocess.run([sys.executable, "-m", "nox", "-f", str(project / "noxfile.py"), "-s", "lint"],
                          capture_output=True, text=True, env=env, cwd=project, timeout=300, check=False)


BROKEN = """name: broken
on: push
jobs:
  build:
    runs-on: ubuntu-22.04
    steps:
      - run: echo "${{ matrix.shard }}"
"""


def test_lint_session_fails_on_a_broken_workflow(tmp_path):
    done = _nox_lint(_nox_project(tmp_path, BROKEN))
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert 'property "shard" is not defined' in output, output  # actionlint's own complaint
    assert "actionlint" in output and "failed" in output


def test_lint_session_passes_the_real_workflow(tmp_path):
    done = _nox_lint(_nox_project(tmp_path, WORKFLOW.read_text()))
    assert done.returncode == 0, done.stdout + done.stderr


def test_roads_session_runs_every_road_and_merges(tmp_path):
    """`nox -s roads` (the nightly's roads job): one case through export, fx and dynamo, merged into
    one run whose records carry each road."""
    import json

    project = _nox_project(tmp_path, "name: ci\non: push\njobs: {}\n")
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_TVM"}
    done = subprocess.run([sys.executable, "-m", "nox", "-f", str(project / "noxfile.py"), "-s", "roads", "--",
                           "--ops", "aten.sin.default[float32-0]", "--jobs", "1"],
                          capture_output=True, text=True, env=env, cwd=project, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    merged = project / "results" / "roads" / "merged" / "results.jsonl"
    records = [json.loads(line) for line in merged.read_text().splitlines() if line.strip()]
    assert sorted(r["frontend"] for r in records) == ["dynamo", "export", "fx"]
    assert all(r["case_id"] == "aten.sin.default[float32-0]" for r in records)
