"""Elementwise ops: unary math, activations, binary arithmetic and comparisons."""

from hypothesis import strategies as st

from opsuite.rows import FLOATS, NUMERIC, OpRow, binary, unary

ROWS = [
    OpRow("aten.sin.default", unary("real"), FLOATS),
    OpRow("aten.add.Tensor", binary("real", alpha=st.one_of(st.none(), st.sampled_from([2, -1]))),
          NUMERIC + ("int32+float16", "float16+float32")),
]
