"""Known failures as data: list-valued ops, the noncompact predicate, and the files themselves."""

import pytest
import torch

from harness.case import Case, Program
from harness.programs import op_program
from opsuite import expectations, predicates
from opsuite.table import rows
from opsuite.values import make_tensor


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


@pytest.mark.parametrize(("shape", "layout", "expected"), [
    ((3, 0), "contiguous", True),  # PyTorch gives strides (1, 1); compact is (0, 1)
    ((2, 0, 3), "contiguous", True),
    ((0, 3), "contiguous", False),
    ((1, 0), "contiguous", False),  # a side of 1 is not checked
    ((0, 3), "sliced", True),  # an empty view keeps the slice's stride
    ((3, 3), "transposed", False),  # the engine makes a non-empty tensor contiguous
])
def test_noncompact_names_inputs_that_reach_tvm_with_other_strides(shape, layout, expected):
    case = _case("aten.sin.default", make_tensor(shape, "float32", layout=layout))
    assert predicates.parse("noncompact")(case) is expected


def test_predicates_negate_and_join():
    empty = _case("aten.sin.default", torch.zeros(3, 0))
    full = _case("aten.sin.default", torch.zeros(3, 2))
    assert predicates.parse("!empty")(full) and not predicates.parse("!empty")(empty)
    assert predicates.parse("empty & noncompact")(empty)
    assert not predicates.parse("empty & !noncompact")(empty)
    with pytest.raises(ValueError):
        predicates.parse("empty & bogus")


def test_every_entry_names_an_op_with_a_row_or_a_glob():
    with_rows = {row.op for row in rows()}
    for entry in expectations.load():
        for op in [entry["op"]] if isinstance(entry["op"], str) else entry["op"]:
            # An OpInfo case's op is its entry (`opinfo.add`); test_opinfo checks those name cases.
            assert op in with_rows or op.startswith("opinfo.") or any(ch in op for ch in "*?["), \
                f"{entry['_file'].name}: {op} has no row"
