"""Case families are objects: each option's families come from them, and every record names its family."""

import pytest

from harness import sources
from harness.family import Family
from harness.records import new_record
from reports import universe


def test_each_installed_family_is_a_family_object_selected_by_its_own_option():
    found = sources.families()
    assert all(isinstance(f, Family) for f in found)
    by_option = {option: [f.name for f in found if f.option == option] for option in ("ops", "models")}
    # The plan order: the --ops families, then the --models ones.
    assert [f.name for f in found] == by_option["ops"] + by_option["models"]
    assert {"op", "opinfo"} <= set(by_option["ops"]) and "model" in by_option["models"]
    assert sources.packages() >= {"opsuite", "models"}


def test_a_family_builds_cases_that_carry_its_name_into_their_records():
    cases = sources.load(["opinfo"], "quick", 0, ["opinfo.addmv"])
    assert cases and {c.family for c in cases} == {"opinfo"}
    record = new_record(cases[0], "llvm", {})
    assert record["family"] == "opinfo" and record["kind"] == "op"
    # A family built from a plain function stamps its name on whatever the function returns.
    probe = Family(name="probe", option="ops", cases=lambda profile, seed: cases[:1])
    assert [c.family for c in probe.build("quick", 0)] == ["probe"]


def test_a_family_needs_a_known_option_and_a_plain_name():
    with pytest.raises(ValueError, match="option"):
        Family(name="x", option="everything", cases=lambda profile, seed: [])
    with pytest.raises(ValueError, match="name"):
        Family(name="Two Words", option="ops", cases=lambda profile, seed: [])


def test_reports_read_the_family_and_guess_only_for_old_records():
    # The record's own family decides, however its op is spelled.
    assert universe.family_of({"family": "model", "kind": "dynamic", "op": "resnet18"}) == "model"
    assert universe.family_of({"family": "op", "kind": "op", "op": "opinfo.looks_like_an_entry"}) == "op"
    # Records from before the field: the old reading of `kind` and `op`.
    assert universe.family_of({"kind": "op", "op": "opinfo.add"}) == "opinfo"
    assert universe.family_of({"kind": "dynamic", "op": "resnet18"}) == "model"
    assert universe.family_of({"kind": "dynamic", "op": "aten.add.Tensor"}) == "op"


def test_pytest_items_come_from_a_family_and_record_its_name(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    module = tmp_path / "test_probe_cases.py"
    module.write_text(
        "from harness.family import Family\n"
        "from tests.helpers import sin_case\n\n"
        "CASE_SOURCE = Family(name='probe', option='ops', cases=lambda profile, seed: [sin_case()])\n\n\n"
        "def test_case(case, harness_case):\n"
        "    harness_case(case)\n")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "pytest", str(module), "-p", "harness.pytest_plugin", "-q",
                           "-p", "no:cacheprovider", "--harness-out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stdout + done.stderr
    (record,) = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert record["case_id"] == "aten.sin.default[float32-0]" and record["family"] == "probe"
