"""`tvm = "SPEC"` scopes a known failure to the TVM releases the bug is in: the running TVM's
version decides whether the entry is attached; a malformed scope is rejected when the file loads."""

import pytest
import torch

from harness.case import Case, Program
from harness.programs import op_program
from opsuite.expectations import entries


def _case() -> Case:
    return Case("aten.clamp.default[int64-0]", "op", "aten.clamp.default",
                Program(op_program, {"op": "aten.clamp.default", "args": [torch.arange(4)], "kwargs": {"min": 1}}),
                "int64")


def _entry(**fields) -> dict:
    return {"id": "t.clamp", "op": "aten.clamp.default", "reason": "one bound becomes an infinite int",
            "status": "compile_error", "stage": "compile", "match": "Cannot convert infinity", **fields}


@pytest.mark.parametrize(("scope", "version", "applies"), [
    (">=0.27", "0.27.0.post1", True),   # a post release is after its release
    (">=0.27", "0.26.0", False),
    (">=0.27", "0.28.dev0", True),      # a nightly is a prerelease: counted, not left out
    ("<0.28", "0.28.dev0", False),      # PEP 440: "<0.28" leaves out 0.28's own prereleases ...
    ("<0.28.dev0", "0.27.1", True),
    ("<0.28.dev0", "0.28.dev0", False),
    (">=0.28", "0.28.dev0", False),     # ... and they sort before 0.28
    (">=0.28.dev0", "0.28.dev5", True),
    (">=0.26,<0.27", "0.26.0", True),
    (">=0.26,<0.27", "0.27.0", False),
    ("==0.27.*", "0.27.0.post1", True),
    (">=0.27", None, False),            # no TVM version known: only unscoped entries apply
    (">=0.27", "not-a-version", False),
])
def test_a_scope_holds_exactly_the_versions_it_names(scope, version, applies):
    assert entries.applies_to_tvm(_entry(tvm=scope), version) is applies


def test_an_unscoped_entry_applies_to_every_tvm():
    assert entries.applies_to_tvm(_entry(), "0.1.0") and entries.applies_to_tvm(_entry(), None)


def test_attach_gives_the_expectation_only_to_a_tvm_inside_the_scope():
    scoped = [_entry(tvm=">=0.27")]
    (under_27,) = entries.attach([_case()], scoped, tvm_version="0.27.0.post1")
    (under_26,) = entries.attach([_case()], scoped, tvm_version="0.26.0")
    assert [x.id for x in under_27.expectations] == ["t.clamp"]
    assert under_26.expectations == ()


def test_attach_checks_the_tvm_this_process_imports_by_default(monkeypatch):
    monkeypatch.setattr(entries.env, "tvm_version", lambda: "0.26.0")
    (case,) = entries.attach([_case()], [_entry(tvm=">=0.27")])
    assert case.expectations == ()
    monkeypatch.setattr(entries.env, "tvm_version", lambda: "0.27.0.post1")
    (case,) = entries.attach([_case()], [_entry(tvm=">=0.27")])
    assert [x.id for x in case.expectations] == ["t.clamp"]


@pytest.mark.parametrize(("text", "message"), [
    ('tvm = ">=zero"', "is not a version specifier"),
    ('tvm = "0.27"', "is not a version specifier"),  # a bare version is not a specifier: say ==0.27
    ("tvm = 27", "must be a version specifier string"),
    ('tvm = ""', "must be a version specifier string"),
])
def test_a_malformed_scope_is_rejected_when_the_file_loads(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text('[[expect]]\nid = "t.x"\nop = "aten.sin.default"\nreason = "r"\n' + text + "\n")
    with pytest.raises(entries.ExpectationsError, match=f"bad.toml: entry 1 \\(t.x\\): .*{message}"):
        entries.load_file(path)


def test_a_well_formed_scope_loads_and_scopes(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text('[[expect]]\nid = "t.x"\nop = "aten.clamp.default"\nreason = "r"\ntvm = ">=0.27"\n')
    (entry,) = entries.load_file(path)
    assert entry["tvm"] == ">=0.27"
    assert [len(c.expectations) for c in entries.attach([_case()], [entry], tvm_version="0.27.0")] == [1]
