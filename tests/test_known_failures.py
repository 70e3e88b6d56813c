"""Known failures as data: list-valued ops, predicates, and the files themselves."""

import pytest
import torch

from harness.case import Case, Program
from harness.programs import op_program
from opsuite import expectations, predicates
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


def test_every_entry_names_an_op_with_a_row_or_a_glob():
    with_rows = {row.op for row in rows()}
    for entry in expectations.load():
        for op in [entry["op"]] if isinstance(entry["op"], str) else entry["op"]:
            assert op in with_rows or any(ch in op for ch in "*?["), f"{entry['_file'].name}: {op} has no row"
