"""Known failures as data: list-valued ops, predicates negated and joined, and the files themselves."""

import fnmatch

import pytest
import torch

import opsuite
from harness.case import Case, Program
from harness.programs import op_program
from harness.sources import could_match
from opsuite import dynamic, expectations, predicates
from opsuite.table import rows


def _case(op: str, *tensors: torch.Tensor) -> Case:
    return Case(f"{op}[float32-0]", "op", op, Program(op_program, {"op": op, "args": list(tensors)}), "float32")


def test_a_list_of_ops_names_each_of_them_and_no_other():
    entry = {"op": ["aten.sin.default", "aten.co*"], "reason": "one bug, several ops"}
    assert expectations.entry_matches(entry, _case("aten.sin.default"))
    assert expectations.entry_matches(entry, _case("aten.cosh.default"))
    assert not expectations.entry_matches(entry, _case("aten.tan.default"))


def test_an_op_that_is_neither_a_string_nor_a_list_of_strings_is_rejected(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[expect]]\nop = []\nreason = "r"\n')
    with pytest.raises(expectations.ExpectationsError, match="non-empty list"):
        expectations.load_file(path)


def test_predicates_negate_and_join():
    empty = _case("aten.sin.default", torch.zeros(3, 0))
    full = _case("aten.sin.default", torch.zeros(3, 2))
    assert predicates.parse("!empty")(full) and not predicates.parse("!empty")(empty)
    scalar_empty = _case("aten.add.Tensor", torch.zeros(3, 0), torch.tensor(1.0))
    assert predicates.parse("empty & scalar")(scalar_empty) and not predicates.parse("empty & scalar")(empty)
    assert predicates.parse("empty & !scalar")(empty) and not predicates.parse("empty & !scalar")(scalar_empty)
    with pytest.raises(ValueError):
        predicates.parse("empty & bogus")


def _patterns(entry: dict) -> list[str]:
    return [entry["op"]] if isinstance(entry["op"], str) else entry["op"]


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def test_every_entry_names_an_op_with_a_row():
    with_rows = {row.op for row in rows()} | {program.op for program in dynamic.programs()}
    for entry in expectations.load():
        for op in _patterns(entry):
            # An OpInfo case's op is its entry (`opinfo.add`); test_opinfo checks those name cases.
            # Globs are checked against the cases themselves, below.
            assert op in with_rows or op.startswith("opinfo.") or _is_glob(op), \
                f"{entry['_file'].name}: {op} has no row"


def test_every_glob_names_a_row_op_or_a_case():
    globs = sorted({p for entry in expectations.load() for p in _patterns(entry) if _is_glob(p)})
    assert globs

    def unmatched(profile: str, patterns: list[str]) -> list[str]:
        # Only the cases of ops a pattern could name are built (the family's `wanted` filter).
        cases = opsuite.cases(profile, 0, wanted=lambda op: could_match(op, patterns))
        names = {c.op for c in cases} | {c.case_id for c in cases}
        return [p for p in patterns if not any(fnmatch.fnmatchcase(name, p) for name in names)]

    # Most pin quick cases; an entry may pin a case only the nightly profile has.
    stale = unmatched("quick", globs)
    stale = unmatched("nightly", stale) if stale else stale
    assert stale == [], "known-failure globs that name no op with a row and no case"


def _call_case(op: str, *args, decompose: bool = True) -> Case:
    return Case(f"{op}[int8-0]", "op", op, Program(op_program, {"op": op, "args": list(args)}), "int8",
                decompose=decompose)


def test_scalar_outside_compares_int_scalars_with_the_first_tensors_dtype():
    outside = predicates.parse("scalar_outside")
    assert outside(_call_case("aten.add.Scalar", torch.zeros(2, dtype=torch.uint8), -1))
    assert outside(_call_case("aten.__or__.Scalar", torch.zeros(2, dtype=torch.int8), 255))
    assert not outside(_call_case("aten.__or__.Scalar", torch.zeros(2, dtype=torch.uint8), 255))
    assert not outside(_call_case("aten.add.Scalar", torch.zeros(2), -1e30))  # floats take any scalar


def test_nan_inf_and_decomposed_look_at_the_values_and_the_import_path():
    x = torch.tensor([1.0, float("nan")])
    assert predicates.parse("nan & !inf")(_call_case("aten.relu.default", x))
    assert predicates.parse("inf")(_call_case("aten.relu.default", torch.tensor([float("-inf")])))
    assert not predicates.parse("nan")(_call_case("aten.relu.default", torch.zeros(2, dtype=torch.int8)))
    assert predicates.parse("!decomposed")(_call_case("aten.celu.default", x, decompose=False))
    assert predicates.parse("decomposed")(_call_case("aten.celu.default", x))
