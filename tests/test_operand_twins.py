"""Binary `.Tensor` rows also draw their second operand as a Python scalar and as a 0-dim tensor.

`x * 0.5` exports as aten.mul.Tensor(x, 0.5), and PyTorch promotes a Python scalar and a
0-dim operand differently from a dimensioned tensor; operand_twins gives each such row a
"scalar" and a "zerodim" twin, without changing the cases the row itself draws.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from harness.programs import resolve_op
from opsuite.generate import row_cases
from opsuite.table import rows
from opsuite.table.row import SCALAR_KINDS, ZERODIM_PARTNER

# The ids and draws of the touched ops' own cases (quick profile, seed 0), taken from the table
# as it stood before operand twins were added.
BEFORE = Path(__file__).parent / "data" / "operand_rows_before_twins.json"


def _binary_tensor_rows():
    """Rows (without a label) of a `.Tensor` overload called as op(self, other, ...)."""
    found = []
    for row in rows():
        if row.label or not row.op.endswith(".Tensor"):
            continue
        names = [a.name for a in resolve_op(row.op)._schema.arguments[:2]]
        if names == ["self", "other"]:
            found.append(row)
    return found


def _twin(row, label):
    matches = [r for r in rows() if r.op == row.op and r.label == label]
    return matches[0] if matches else None


def _digest(case) -> str:
    """The case's draw: every argument, tensors by dtype, shape, strides and bytes."""
    h = hashlib.sha1()

    def walk(value):
        if isinstance(value, torch.Tensor):
            h.update(f"T{value.dtype}{tuple(value.shape)}{value.stride()}".encode())
            wide = torch.float64 if value.is_floating_point() else torch.int64  # exact for every dtype drawn
            h.update(value.flatten().to(wide).numpy().tobytes())
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for k in sorted(value):
                h.update(str(k).encode())
                walk(value[k])
        else:
            h.update(repr(value).encode())

    walk(case.program.kwargs)
    return h.hexdigest()


def _inplace(op: str) -> bool:
    packet = op.split(".")[1]
    return packet.endswith("_") and not packet.startswith("__")


def _takes_python_scalar(op: str) -> bool:
    """Whether eager PyTorch accepts a Python int as `other` of this overload (rsub.Tensor does not)."""
    try:
        resolve_op(op)(torch.ones(2, dtype=torch.int64), 1)
    except RuntimeError:
        return False
    return True


def test_every_binary_tensor_row_has_scalar_and_zerodim_twins():
    binary = _binary_tensor_rows()
    assert len(binary) >= 20, [r.op for r in binary]
    for row in binary:
        scalar, zerodim = _twin(row, "scalar"), _twin(row, "zerodim")
        assert zerodim is not None, row.op
        if not _takes_python_scalar(row.op):
            assert scalar is None, row.op
            continue
        assert scalar is not None, row.op
        singles = [d for d in row.dtypes if "+" not in d]
        kinds = {pairing.split("+")[1] for pairing in scalar.dtypes}
        assert SCALAR_KINDS["int"] in kinds, row.op  # every such op takes an int scalar
        inplace = _inplace(row.op)
        for dtype in singles:
            pairings = [p for p in scalar.dtypes if p.split("+")[0] == dtype]
            if not inplace:  # an in-place op keeps only the pairings it can write back
                assert len(pairings) == len(kinds), (row.op, dtype, scalar.dtypes)
                assert f"{dtype}+{ZERODIM_PARTNER[dtype]}" in zerodim.dtypes, (row.op, dtype)
        assert (scalar.decompose, zerodim.decompose) == (row.decompose, row.decompose), row.op


def test_bool_tensors_meet_int_scalars_wherever_the_op_takes_bool():
    paired = set()
    for row in _binary_tensor_rows():
        if "bool" not in row.dtypes or _inplace(row.op) or not _takes_python_scalar(row.op):
            continue
        assert "bool+int64" in _twin(row, "scalar").dtypes, row.op
        paired.add(row.op)
    assert {"aten.add.Tensor", "aten.mul.Tensor", "aten.div.Tensor"} <= paired


@pytest.mark.parametrize("op", ["aten.mul.Tensor", "aten.div.Tensor", "aten.add_.Tensor"])
def test_twins_draw_a_python_scalar_of_the_named_kind_or_a_zero_dim_tensor(op):
    row = next(r for r in _binary_tensor_rows() if r.op == op)
    python = {"int64": int, "float32": float, "bool": bool}
    for case in row_cases(_twin(row, "scalar"), "quick", 0):
        other = case.program.kwargs["args"][1]
        assert type(other) is python[case.dtype.split("+")[1]], case.case_id
        assert case.meta["variant"].removeprefix("edge-").startswith(f"scalar-{type(other).__name__}")
        assert case.program.kwargs["args"][0].dtype == getattr(torch, case.dtype.split("+")[0])
    for case in row_cases(_twin(row, "zerodim"), "quick", 0):
        self, other = case.program.kwargs["args"][:2]
        assert other.dim() == 0 and self.dim() >= 1, case.case_id
        assert other.dtype == getattr(torch, case.dtype.split("+")[1]), case.case_id
        assert case.meta["variant"].removeprefix("edge-").startswith("zerodim")
    # An in-place op never meets an operand whose result it could not write back.
    if _inplace(op):
        assert not any(p.split("+")[0] in ("int32", "bool") and p.endswith("float32")
                       for p in _twin(row, "scalar").dtypes)


def test_the_rows_own_cases_keep_their_ids_and_draws():
    before = json.loads(BEFORE.read_text())
    now = {}
    for row in rows():
        if row.op in {c.split("[")[0] for c in before} and row.label in ("", "decomposed"):
            now.update({c.case_id: _digest(c) for c in row_cases(row, "quick", 0)})
    assert set(before) - set(now) == set()
    assert {c: now[c] for c in before} == before
