"""Dynamic-shape programs per op family: symbolic batch, sequence, spatial and feature dims.

Ranges start at 1 wherever torch.export allows it, so every program also runs at size 1.
Where they do not, torch.export refuses the range itself ("Not all values of h ... satisfy
the generated guard"): an output or intermediate size must not be able to become 1, so an
unpadded kernel or a pooling window sets the min (conv 3x3 stride 2: h >= 5, pool 2: h >= 4).
"""

from __future__ import annotations

from opsuite.dynamic.program import DynProgram, data, family, index, mask

B = (1, 16)  # batch
S = (1, 32)  # sequence, spatial, features

ELEMENTWISE = [
    # two inputs sharing one symbol
    DynProgram("aten.add.Tensor", "Add", (data("b", 3), data("b", 3)), {"b": (1, 64)}),
    DynProgram("aten.add.Tensor", "Add", (data("b", 3), data("b", 3)), {"b": (1, 64)}, dtype="int64"),
    DynProgram("aten.add.Tensor", "Add", (data("b", 3), data("b", 3)), {"b": (1, 64)}, dtype="float16",
               quick=False),
    # broadcasting between a symbolic-rank-3 and a rank-1 operand that share n
    DynProgram("aten.mul.Tensor", "Mul", (data("b", 1, "n"), data("n")), {"b": B, "n": S}),
    DynProgram("aten.gelu.default", "Gelu", (data("b", "s", 8),), {"b": B, "s": S}),
    DynProgram("aten.where.self", "Where", (mask("b", "n"), data("b", "n"), data(1, "n")), {"b": B, "n": S}),
    # a size as an operand of a tensor op
    DynProgram("aten.mul.Tensor", "MulBySize", (data("b", 4),), {"b": B}, variant="size-operand"),
]

REDUCTIONS = [
    DynProgram("aten.sum.dim_IntList", "SumDim", (data("b", "n", 4),), {"b": B, "n": S}),
    DynProgram("aten.mean.dim", "MeanKeepdim", (data("b", "n"),), {"b": B, "n": S}),
    DynProgram("aten.max.dim", "MaxDim", (data("b", 6),), {"b": B}),
    # n >= 2: an argmax over one element is always 0, a reference that proves nothing
    DynProgram("aten.argmax.default", "Argmax", (data("b", "n"),), {"b": B, "n": (2, 32)}),
    DynProgram("aten.cumsum.default", "Cumsum", (data("b", "n"),), {"b": B, "n": S}, quick=False),
]

MATMUL = [
    DynProgram("aten.addmm.default", "Layer", (data("b", "s", 8),), {"b": B, "s": S}, init={"kind": "Linear", "args": [8, 5]}),
    DynProgram("aten.linear.default", "Layer", (data("b", "s", 8),), {"b": B, "s": S}, init={"kind": "Linear", "args": [8, 5]},
               decompose=False),
    # the inner dim k is one symbol shared by both operands
    DynProgram("aten.mm.default", "Matmul", (data("n", "k"), data("k", "m")), {"n": S, "k": S, "m": S}),
    DynProgram("aten.bmm.default", "Bmm", (data("b", "m", "k"), data("b", "k", 5)), {"b": B, "m": S, "k": S}),
]

CONVOLUTION = [
    DynProgram("aten.convolution.default", "Conv2d", (data("b", 3, "h", "w"),), {"b": B, "h": S, "w": S}),
    DynProgram("aten.convolution.default", "Conv2d", (data("b", 3, "h", "w"),), {"b": B, "h": (5, 33), "w": (5, 33)},
               init={"stride": 2, "padding": 0}, variant="b-h-w-stride2"),
    DynProgram("aten.convolution.default", "Layer", (data("b", 4, "l"),), {"b": B, "l": (4, 64)},
               init={"kind": "Conv1d", "args": [4, 2, 3]}, quick=False),
    DynProgram("aten.max_pool2d_with_indices.default", "MaxPool2d", (data("b", 3, "h", "w"),),
               {"b": B, "h": (4, 32), "w": (4, 32)}),
    DynProgram("aten.avg_pool2d.default", "AvgPool2d", (data("b", 3, "h", "w"),), {"b": B, "h": S, "w": S}),
    DynProgram("aten._adaptive_avg_pool2d.default", "AdaptiveAvgPool2d", (data("b", 3, "h", "w"),),
               {"b": B, "h": (3, 32), "w": (3, 32)}, quick=False),
]

RESHAPE = [
    DynProgram("aten.view.default", "ViewMinusOne", (data("b", "s", 4),), {"b": B, "s": S}),
    DynProgram("aten.view.default", "Flatten", (data("b", 3, "n"),), {"b": B, "n": S}, variant="flatten"),
    DynProgram("aten.permute.default", "Transpose", (data("b", "s", 4),), {"b": B, "s": S}),
    DynProgram("aten.squeeze.dims", "Squeeze", (data("b", 1, "n"),), {"b": B, "n": S}),
    DynProgram("aten.unsqueeze.default", "Unsqueeze", (data("b", "n"),), {"b": B, "n": S}, quick=False),
    # a derived dim that is the only occurrence of its symbol: the view needs (2*d)//2
    DynProgram("operator.floordiv", "SplitHalves", (data("2*d", 6),), {"d": (2, 16)}),
]

CONCATENATION = [
    # derived dims: y is twice x, z one longer than x
    DynProgram("aten.cat.default", "Cat", (data("b", 3), data("2*b", 3)), {"b": (1, 32)}),
    DynProgram("aten.cat.default", "Cat", (data(2, "d"), data(2, "d+1")), {"d": S}, init={"dim": 1}),
    DynProgram("aten.cat.default", "Stack", (data("b", 4), data("b", 4), data("b", 4)), {"b": B},
               variant="stack", quick=False),
    DynProgram("aten.stack.default", "Stack", (data("b", 4), data("b", 4), data("b", 4)), {"b": B},
               decompose=False),
]

INDEXING = [
    # x[1:, ::2]: torch.export refuses ranges where b - 1 or (n + 1) // 2 could be 1
    DynProgram("aten.slice.Tensor", "Slice", (data("b", "n"),), {"b": (3, 16), "n": (3, 32)}),
    DynProgram("aten.select.int", "Select", (data("b", "n"),), {"b": B, "n": S}),
    DynProgram("aten.select.int", "SelectLast", (data("b", "n"),), {"b": B, "n": S}, variant="b-n-last"),
    # index tensors with their own symbolic length, values bounded by another symbol
    DynProgram("aten.index.Tensor", "Index", (data("b", 4), index("k", high="b")), {"b": B, "k": S}),
    DynProgram("aten.index_select.default", "IndexSelect", (data(3, "n"), index("k", high="n")), {"n": S, "k": S}),
    DynProgram("aten.gather.default", "Gather", (data("b", "n"), index("b", "k", high="n")),
               {"b": B, "n": S, "k": S}),
]

BROADCAST = [
    DynProgram("aten.expand.default", "ExpandAs", (data("b", 1), data("b", "n")), {"b": B, "n": S}),
    # broadcasting a one-row slice of a symbolic dim, by expand and by an elementwise op
    DynProgram("aten.expand.default", "ExpandFirstRow", (data("b", 3),), {"b": B}, variant="b-slice-row"),
    DynProgram("aten.add.Tensor", "AddFirstRow", (data("b", 3),), {"b": B}, variant="b-slice-row"),
]

NORMALISATION = [
    DynProgram("aten._softmax.default", "Softmax", (data("b", "n"),), {"b": B, "n": S}),
    DynProgram("aten._log_softmax.default", "LogSoftmax", (data("b", "n", 3),), {"b": B, "n": S}, quick=False),
    DynProgram("aten.native_layer_norm.default", "LayerNorm", (data("b", "s", 8),), {"b": B, "s": S}),
    DynProgram("aten._native_batch_norm_legit_no_training.default", "BatchNorm2d", (data("b", 3, "h", "w"),),
               {"b": B, "h": S, "w": S}),
    DynProgram("aten.native_group_norm.default", "Layer", (data("b", 4, "l"),), {"b": B, "l": S},
               init={"kind": "GroupNorm", "args": [2, 4]}),
]

INTERPOLATION = [
    DynProgram("aten.upsample_bilinear2d.vec", "Upsample", (data("b", 3, "h", "w"),), {"b": B, "h": S, "w": S},
               variant="b-h-w-x2"),
    DynProgram("aten.upsample_nearest2d.vec", "Upsample", (data("b", 3, "h", "w"),), {"b": B, "h": S, "w": S},
               init={"mode": "nearest"}, variant="b-h-w-x2", quick=False),
    # a fixed output size from a symbolic input size
    DynProgram("aten.upsample_bilinear2d.vec", "Upsample", (data("b", 3, "h", "w"),), {"b": B, "h": S, "w": S},
               init={"size": [8, 8]}, variant="b-h-w-to8x8"),
]

EMBEDDING = [
    DynProgram("aten.embedding.default", "Layer", (index("b", "s", high=10),), {"b": B, "s": S}, dtype="int64",
               init={"kind": "Embedding", "args": [10, 4]}),
]

ATTENTION = [
    DynProgram("aten.scaled_dot_product_attention.default", "Attention",
               (data("b", 2, "s", 8), data("b", 2, "s", 8), data("b", 2, "s", 8)), {"b": B, "s": S},
               decompose=False),
    # decomposed: bmm, softmax and the masking ops over symbolic sizes; keys longer than queries
    DynProgram("aten.bmm.default", "Attention",
               (data("b", 2, "s", 8), data("b", 2, "t", 8), data("b", 2, "t", 8)), {"b": B, "s": S, "t": S},
               variant="cross-attention", quick=False),
    DynProgram("aten.bmm.default", "Attention",
               (data("b", 2, "s", 8), data("b", 2, "s", 8), data("b", 2, "s", 8)), {"b": B, "s": S},
               init={"causal": True}, variant="causal-attention", quick=False),
    DynProgram("aten.addmm.default", "SelfAttention", (data("b", "s", 16),), {"b": B, "s": S},
               variant="multihead-attention", quick=False),
]

PROGRAMS = (family("elementwise", ELEMENTWISE) + family("reductions", REDUCTIONS) + family("matmul", MATMUL)
            + family("convolution", CONVOLUTION) + family("reshape", RESHAPE)
            + family("concatenation", CONCATENATION) + family("indexing", INDEXING)
            + family("broadcast", BROADCAST) + family("normalisation", NORMALISATION)
            + family("interpolation", INTERPOLATION) + family("embedding", EMBEDDING)
            + family("attention", ATTENTION))
