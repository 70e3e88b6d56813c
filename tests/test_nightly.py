"""The nightly sequence the CI workflow runs (shard -> merge -> baseline -> summary), for real.

Two nights of three cases in two shards: the first has no baseline and says so; the second runs a
deliberately wrong sin converter (tests/converters.py) against the first, and must fail with a
regression and an unexpected outcome in the job summary. The same wrong converter on two cases
fails the gate (seed 0) and is a new finding for the exploration (its own seed), which passes.
The baseline download is tested with a stand-in for GitHub's `gh` command (it only answers
`run list` and `run download`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import nightly
from harness.records import read_results

ROOT = Path(__file__).resolve().parent.parent
CASES = "aten.sin.default[float32-0] aten.cos.default[float32-0] aten.amax.default[float32-dim-0]"


def _nightly(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.nightly", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=1500, check=False)


@pytest.mark.slow
def test_two_nights_in_two_shards(tmp_path):
    first, second = tmp_path / "night1", tmp_path / "night2"
    summary1, summary2 = tmp_path / "summary1.md", tmp_path / "summary2.md"

    done = _nightly("local", "--shards", "2", "--out", str(first), "--ops-list", CASES,
                    "--summary", str(summary1), "--", "--jobs", "1")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    shards = [read_results(first / "shards" / str(i)) for i in (1, 2)]
    assert all(shards), "a shard ran no case: the split is not balanced"
    ids = [r["case_id"] for shard in shards for r in shard]
    assert sorted(ids) == sorted(CASES.split()) and len(set(ids)) == 3  # disjoint, complete
    merged = read_results(first / "merged")
    assert {r["status"] for r in merged} == {"pass", "xfail"}
    text = summary1.read_text()
    assert "passed" in text and "No baseline" in text and "first night" in text
    assert "# Coverage of TVM's torch.export importer" in text  # coverage.md went to the summary
    assert "no baseline" in done.stdout

    done = _nightly("local", "--shards", "2", "--out", str(second), "--ops-list", CASES,
                    "--baseline", str(first / "merged"), "--summary", str(summary2),
                    "--", "--jobs", "1", "--convert-map", "tests.converters:WRONG")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    text = summary2.read_text()
    assert "gate (seed 0): FAILED" in text
    assert "**regressions** (passed or failed as declared last night; a pass now failing as declared counts): `aten.sin.default[float32-0]` (mismatch)" in text
    assert "Compared against the previous night's merged run" in text
    diff = json.loads((second / "merged" / "diff.json").read_text())
    assert [c["case_id"] for c in diff["regressions"]] == ["aten.sin.default[float32-0]"]
    history = (second / "merged" / "history.jsonl").read_text().splitlines()
    assert len(history) == 2, "the baseline's history is carried forward"


@pytest.mark.slow
def test_the_same_wrong_output_fails_the_gate_and_is_a_finding_for_the_exploration(tmp_path):
    cases = "aten.sin.default[float32-0] aten.cos.default[float32-0]"
    verdicts, draws = {}, {}
    for mode in ("gate", "explore"):
        done = _nightly("local", "--mode", mode, "--shards", "1", "--out", str(tmp_path / mode),
                        "--ops-list", cases, "--summary", str(tmp_path / f"{mode}.md"),
                        "--", "--jobs", "1", "--convert-map", "tests.converters:WRONG",
                        env={"GITHUB_RUN_ID": "4242"})
        assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
        merged = tmp_path / mode / "merged"
        records = {r["case_id"]: r for r in read_results(merged)}
        verdicts[mode] = (done.returncode, json.loads((merged / "environment.json").read_text())["seed"],
                          {c: r["status"] for c, r in records.items()})
        draws[mode] = records["aten.sin.default[float32-0]"]["seed"]  # the case's own, from the run's
    assert verdicts["gate"] == (1, 0, {"aten.sin.default[float32-0]": "mismatch",
                                       "aten.cos.default[float32-0]": "pass"})
    assert verdicts["explore"] == (0, 4242, {"aten.sin.default[float32-0]": "mismatch",
                                             "aten.cos.default[float32-0]": "pass"})
    assert draws["gate"] != draws["explore"]
    assert "exploration seed 4242 (from GITHUB_RUN_ID 4242)" in done.stdout
    assert "gate (seed 0): FAILED" in (tmp_path / "gate.md").read_text()
    summary = (tmp_path / "explore.md").read_text()
    assert "exploration (seed 4242): 1 new finding" in summary
    merged = tmp_path / "explore" / "merged"
    section = (merged / "triage.md").read_text().split("## New findings (1)")[1].split("\n## ")[0]
    assert "example: `aten.sin.default[float32-0]` on llvm" in section and "seed 4242" in section
    repro = section.split("- repro: `python ")[1].split("`")[0]
    assert (merged / repro).is_file()
    assert "New findings" not in (tmp_path / "gate" / "merged" / "triage.md").read_text()


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    done = _nightly("merge", str(tmp_path / "missing"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "no such directory" in done.stderr
    done = _nightly("local", "--out", str(tmp_path / "x"), "--ops-list", " ", "--models-list", "")
    assert done.returncode == 2 and "select nothing" in done.stderr
    done = _nightly("install-tvm", "not a version")
    assert done.returncode == 2 and "expected a TVM version" in done.stderr


def test_install_tvm_keeps_the_pinned_set():
    assert nightly.tvm_requirement("0.28.0") == "apache-tvm==0.28.0"
    assert nightly.tvm_requirement("0.22.0.post1") == "apache-tvm==0.22.0.post1"
    wheel = "https://example.invalid/apache_tvm-0.28.dev0-cp311-cp311-linux_x86_64.whl"
    assert nightly.tvm_requirement(wheel) == wheel
    assert nightly.tvm_requirement("dist/apache_tvm-0.28-py3-none-any.whl").endswith(".whl")
    done = _nightly("install-tvm", "0.28.0", "--dry-run")
    assert done.returncode == 0 and "install --no-deps --force-reinstall apache-tvm==0.28.0" in done.stdout
    done = _nightly("install-tvm", "")
    assert done.returncode == 0 and "keeping the pinned one" in done.stdout


FAKE_GH = """#!{python}
# Stands in for GitHub's gh: `run list` prints RUNS; `run download ID --name N --dir D` fills D
# when ID has an artifact named N.
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(" ".join(args) + "\\n")
if args[:2] == ["run", "list"]:
    print(json.dumps([{{"databaseId": int(i)}} for i in os.environ["FAKE_GH_RUNS"].split()]))
elif args[:2] == ["run", "download"]:
    run_id, name, out = args[2], args[args.index("--name") + 1], args[args.index("--dir") + 1]
    if run_id not in os.environ["FAKE_GH_HAS"].split() or name != "nightly-merged":
        sys.exit("no artifact matches")
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "results.jsonl"), "w").write("")
"""


def _fake_gh(tmp_path: Path) -> dict:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.format(python=sys.executable))
    gh.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_GH_LOG": str(tmp_path / "gh.log")}


def test_baseline_is_the_newest_earlier_run_with_a_merged_artifact(tmp_path):
    env = {**_fake_gh(tmp_path), "GITHUB_RUN_ID": "30", "FAKE_GH_RUNS": "30 29 28 27", "FAKE_GH_HAS": "28 27"}
    done = _nightly("baseline", "--out", str(tmp_path / "baseline"), env=env)
    assert done.returncode == 0 and "run 28's nightly-merged" in done.stdout, done.stdout + done.stderr
    assert (tmp_path / "baseline" / "results.jsonl").is_file()
    calls = (tmp_path / "gh.log").read_text().splitlines()
    assert [c.split()[2] for c in calls if c.startswith("run download")] == ["29", "28"]  # never itself


def test_first_night_has_no_baseline_and_says_so(tmp_path):
    env = {**_fake_gh(tmp_path), "GITHUB_RUN_ID": "1", "FAKE_GH_RUNS": "1", "FAKE_GH_HAS": ""}
    done = _nightly("baseline", "--out", str(tmp_path / "baseline"), env=env)
    assert done.returncode == 0 and "first night" in done.stdout
    assert not (tmp_path / "baseline").exists()
