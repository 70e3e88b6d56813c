"""Programs for the ops that exist only in graphs with symbolic sizes, control flow, and
data-dependent shapes.

- arithmetic and comparisons on sizes (`operator.add`, `operator.floordiv`, `operator.gt`, ...)
  and `aten.sym_size.int`, which torch.export emits when a size is used as a value;
- `torch.cond` (`higher_order.cond`), each branch taken by some run size: on a size
  comparison (one program per comparison operator) and on the data;
- shapes known only at run time: `nonzero`, `masked_select`, `unique`, and sizes read with
  `item()` (`aten._local_scalar_dense.default` once decomposed, `aten.item.default` if not),
  bounded with `torch._check` (`aten._assert_scalar.default`); `_assert_async` on data.

Run sizes of data-dependent programs vary the data (`values`), not only the dims.
"""

from __future__ import annotations

from opsuite.dynamic.program import DynProgram, data, family, signed, sparse, value

B = (1, 16)

SIZE_ARITHMETIC = [
    DynProgram("operator.add", "ArangeSizePlusOne", (data("b", 3),), {"b": B}),
    DynProgram("operator.sub", "DropLast", (data("b", 3),), {"b": (3, 16)}),
    DynProgram("operator.mul", "FlattenBySize", (data("b", "n"),), {"b": B, "n": (1, 32)}),
    DynProgram("aten.sym_numel.default", "ReshapeToNumel", (data("b", "n"),), {"b": B, "n": (1, 32)},
               decompose=False),
    DynProgram("operator.floordiv", "FirstRowHalfTimes", (data("b", 3),), {"b": (4, 16)}),
    DynProgram("operator.mod", "FirstFew", (data("b", 3),), {"b": (4, 16)}),
    DynProgram("operator.neg", "FillNegSize", (data("b", 3),), {"b": B}),
    DynProgram("aten.sym_size.int", "FullOfSize", (data("b", 3),), {"b": B}),
    DynProgram("operator.getitem", "SplitColumns", (data("b", 6),), {"b": B}),
]

# One program per comparison with 4; running at 4 as well as 2, 9 and 16 takes both branches
# of every comparison. All in quick: each is the only case for its operator.* convert-map key.
CONTROL_FLOW = [
    DynProgram(f"operator.{compare}", "CondOnSize", (data("b", 3),), {"b": (2, 16)}, init={"compare": compare},
               variant=f"cond-b-{compare}-4", also=({"b": 4},))
    for compare in ("gt", "ge", "lt", "le", "eq", "ne")
] + [
    DynProgram("higher_order.cond", "CondOnSize", (data("b", 3),), {"b": (2, 16)}, init={"compare": "gt"},
               also=({"b": 4},)),
    DynProgram("higher_order.cond", "CondOnData", (signed("b", 4, sign="sign"), data(4, 4)), {"b": B},
               values={"sign": (1, -1, 1, -1)}, variant="data"),
]

# Sizes that only exist at run time. `values` picks the data (the k of item(), the seed of the
# zeros) per run; the declared dims stay symbolic as usual.
DATA_DEPENDENT = [
    DynProgram("aten.nonzero.default", "Nonzero", (sparse("b", 4),), {"b": B}),
    DynProgram("aten.masked_select.default", "MaskedSelect", (data("b", 5),), {"b": B}),
    DynProgram("aten._unique2.default", "Unique", (data("b"),), {"b": (2, 64)}, dtype="int64"),
    DynProgram("aten._local_scalar_dense.default", "TakeFirstK", (data(8, 3), value("k")), {},
               values={"k": (1, 3, 8)}, variant="item-k"),
    DynProgram("aten.item.default", "TakeFirstK", (data(8, 3), value("k")), {}, values={"k": (1, 3, 8)},
               decompose=False, variant="item-k"),
    DynProgram("aten._assert_scalar.default", "TakeFirstK", (data("b", 3), value("k")), {"b": (8, 16)},
               values={"k": (1, 5, 8)}, variant="item-k-b"),
    DynProgram("aten.full.default", "ZerosOfK", (data("b", 3), value("k")), {"b": B},
               values={"k": (1, 4, 8)}, variant="item-k"),
    DynProgram("aten._assert_async.msg", "AssertPositive", (data("b", 3),), {"b": B}),
    DynProgram("aten._assert_async.default", "AssertPositive", (data("b", 3),), {"b": B},
               init={"message": False}, decompose=False),
]

PROGRAMS = (family("size-arithmetic", SIZE_ARITHMETIC) + family("control-flow", CONTROL_FLOW)
            + family("data-dependent", DATA_DEPENDENT))

# Ops of the importer's convert map that no exported graph of this torch contains, so no
# program can be for them; a test re-checks each reason.
NO_PROGRAM = {
    "aten.sym_constrain_range_for_size.default": (
        "torch 2.14's export records torch._check_is_size and direct calls of "
        "sym_constrain_range_for_size as range constraints and _assert_scalar nodes; the op "
        "itself never reaches the graph (decomposed or not)"),
    "aten.sym_stride.int": (
        "export computes a contiguous input's stride from its sizes: x.stride(0) over symbolic "
        "dims becomes aten.sym_size.int, never sym_stride (decomposed or not)"),
    "aten.sym_storage_offset.default": (
        "export's inputs have storage offset 0: x.storage_offset() is the constant 0 in the "
        "graph, never sym_storage_offset (decomposed or not)"),
}
