"""`python -m reports.same_run BEFORE AFTER`: two runs compared on verdicts and repro programs."""

import torch

from harness import repro
from reports import same_run
from tests.crafted import record, write_dir
from tests.helpers import op_case

TARGET = {"kind": "llvm"}


def _run(directory, status="mismatch", x=None, family=None, edit=lambda text: text):
    """A results directory with one failing sin case and its real repro script (optionally edited)."""
    x = torch.arange(6.0).reshape(2, 3) if x is None else x
    case = op_case("aten.sin.default", [x])
    failed = record(case.case_id, case.op, status=status, raw="mismatch")
    if family:
        failed["family"] = family
    path = repro.write(case, failed, directory, TARGET, None)
    with open(path, "r+") as f:
        text = edit(f.read())
        f.seek(0), f.truncate(), f.write(text)
    failed["repro"] = path
    write_dir(directory, [failed, record("aten.cos.default[float32-0]", "aten.cos.default")])
    return directory


def _compare(before, after, capsys):
    code = same_run.main([str(before), str(after)])
    return code, capsys.readouterr().out.strip().splitlines()[-1]


def test_two_renders_of_the_same_case_are_the_same_run(tmp_path, capsys):
    # torch.save writes a fresh serialization id each time: the arguments are compared as values.
    code, line = _compare(_run(tmp_path / "a"), _run(tmp_path / "b"), capsys)
    assert code == 0 and line.startswith("same: 2 records") and "1 repro programs equal" in line


def test_only_a_renamed_module_in_comments_is_still_the_same(tmp_path, capsys):
    renamed = _run(tmp_path / "b", family="op", edit=lambda t: t.replace(
        "(verbatim from module harness.programs)", "(verbatim from module somewhere.else)").replace(
        "Repro for", "A repro for"))
    code, line = _compare(_run(tmp_path / "a"), renamed, capsys)
    assert code == 0 and "fields only after: family" in line


def test_a_changed_verdict_differs(tmp_path, capsys):
    code, line = _compare(_run(tmp_path / "a"), _run(tmp_path / "b", status="xfail"), capsys)
    assert code == 1 and line.startswith("differ: 1 verdicts, 0 repro programs")


def test_changed_factory_source_or_arguments_differ(tmp_path, capsys):
    def edit(text):
        return text.replace("def op_program(op, args=(), kwargs=None):",
                            "def op_program(op, args=(), kwargs=None):\n    args = list(args)[:1]")

    code, line = _compare(_run(tmp_path / "a"), _run(tmp_path / "b", edit=edit), capsys)
    assert code == 1 and line.startswith("differ: 0 verdicts, 1 repro programs")
    code, line = _compare(_run(tmp_path / "a"), _run(tmp_path / "c", x=torch.ones(2, 3)), capsys)
    assert code == 1 and "1 repro programs" in line and "program: aten.sin.default" in line


def test_a_missing_case_and_bad_input(tmp_path, capsys):
    before = _run(tmp_path / "a")
    after = write_dir(tmp_path / "b", [record("aten.cos.default[float32-0]", "aten.cos.default")])
    code, line = _compare(before, after, capsys)
    assert code == 1 and "1 cases missing after" in line
    assert same_run.main([str(before), str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such directory" in err[0]


def _flaky_dirs(tmp_path, before: dict, after: dict):
    """Two runs of one take case whose entry is flaky in the run that failed as declared."""
    def one(name, fields):
        fields = dict(fields)
        return write_dir(tmp_path / name, [record("aten.take.default[int8-neg-0]", "aten.take.default", **fields)])
    return one("a", before), one("b", after)


FLAKY = {"expected": {"id": "indexing.take-2", "flaky": True}}


def test_a_flaky_case_that_changes_is_listed_apart_not_a_difference(tmp_path, capsys):
    # The same uninitialised read shows as NaN in one run and a wrong value in the next, or not
    # at all (the garbage happened to be the right answer).
    before, after = _flaky_dirs(tmp_path, dict(status="xfail", raw="mismatch", error="output 0: nan 1/1", **FLAKY),
                                dict(status="xfail", raw="mismatch", error="output 0: values 1/1", **FLAKY))
    code, line = _compare(before, after, capsys)
    assert code == 0 and line.startswith("same: 1 records")
    assert "listed apart (flaky cases, silently wrong probes): 1 records changed (aten.take.default[int8-neg-0])" in line
    before, after = _flaky_dirs(tmp_path, dict(status="pass"), dict(status="xfail", raw="mismatch", **FLAKY))
    assert _compare(before, after, capsys)[0] == 0


def test_a_flaky_case_failing_in_an_undeclared_way_still_differs(tmp_path, capsys):
    before, after = _flaky_dirs(tmp_path, dict(status="xfail", raw="mismatch", **FLAKY),
                                dict(status="crash", raw="crash", error="crash SIGSEGV"))
    code, line = _compare(before, after, capsys)
    assert code == 1 and line.startswith("differ: 1 verdicts") and "flaky" not in line
    # Without the flag the same change is a difference.
    before, after = _flaky_dirs(tmp_path, dict(status="xfail", raw="mismatch", error="output 0: nan 1/1",
                                               expected={"id": "indexing.take-2"}),
                                dict(status="xfail", raw="mismatch", error="output 0: values 1/1",
                                     expected={"id": "indexing.take-2"}))
    assert _compare(before, after, capsys)[0] == 1


def test_a_silently_wrong_probe_changes_only_its_signature_apart(tmp_path, capsys):
    # A constraint probe run outside the declared sizes reads past its buffers: NaN one run, not the next.
    probe = dict(status="skip", raw="skip", probe={"outcome": "silent-wrong"}, stage="compare")
    before, after = _flaky_dirs(tmp_path, dict(probe, error="output 0: nan 1/1"), dict(probe, error="output 0: values 1/1"))
    code, line = _compare(before, after, capsys)
    assert code == 0 and "listed apart (flaky cases, silently wrong probes): 1 records changed" in line
    right = dict(probe, probe={"outcome": "silent-correct"})
    before, after = _flaky_dirs(tmp_path, dict(right, error="output 0: nan 1/1"), dict(right, error="output 0: values 1/1"))
    assert _compare(before, after, capsys)[0] == 1
