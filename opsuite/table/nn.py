"""Softmax and log-softmax, dropout, embeddings, cross-entropy, prelu and attention.

Dropout in training mode is random: those rows compare shape, dtype and the statistics of
opsuite/dropout_properties.py instead of values, on inputs that are nonzero everywhere so a
zero output marks a dropped element. In eval mode dropout is the identity and is compared
by value.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from opsuite.draw import shapes as S
from opsuite.draw.context import Call, Ctx, Generator, call
from opsuite.draw.values import make_tensor, torch_dtype
from opsuite.standalone.dropout_properties import dropout_train, native_dropout_train
from opsuite.table.row import FLOATS, OpRow, dtypes_for


def _is_float(ctx: Ctx) -> bool:
    return torch_dtype(ctx.dtype).is_floating_point


def softmax(public: bool) -> Generator:
    """softmax over any dim of a rank 0-4 tensor. `public` is softmax.int(x, dim, dtype=): a float
    dtype= is drawn for float inputs and always given for integer and bool ones (it is how they
    are accepted); otherwise _softmax(x, dim, half_to_float=False), the only CPU choice."""
    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            shape, dim = d(S.shape_and_dim(0, 4, 4))
            x = d(ctx.tensors(shape))
            if not public:
                return call(x, dim, False, variant="dim")
            out = d(st.sampled_from((None, torch.float32, torch.float64)))
            if not _is_float(ctx) and out is None:
                out = torch.float32
            if out is None or out == x.dtype:
                return call(x, dim, variant="dim")
            return call(x, dim, out, variant="dtype")

        return draw()

    return calls


DROPOUT_P = st.sampled_from((0.5, 0.2, 0.8, 0.0, 1.0))


def dropout(train: bool) -> Generator:
    """dropout(x, p, train): train=False is the identity for every p; train=True draws a tensor
    of a few hundred nonzero elements, enough for the kept fraction to be measured."""
    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            p = d(DROPOUT_P)
            if train:
                x = d(ctx.tensors((d(st.integers(8, 16)), d(st.integers(16, 32))), "nonzero"))
            else:
                x = d(ctx.tensors(d(S.layer_shapes(0, 4, 4))))
            return call(x, p, train, variant=f"p{p}")

        return draw()

    return calls


def _indices(d, high: int, shape, dtype: str = "int64") -> torch.Tensor:
    """Indices in [0, high) of `shape`, int64 or int32, in any layout (never edge values)."""
    return make_tensor(shape, dtype, "index", seed=d(st.integers(0, 2**16)), high=high,
                       layout=d(st.sampled_from(("contiguous", "transposed", "sliced"))))


def embedding(ctx: Ctx) -> st.SearchStrategy[Call]:
    """embedding(weight[V, D], indices[...], padding_idx, scale_grad_by_freq, sparse): indices of
    rank 0 to 3, int64 or int32; the last three only shape gradients, so forward is a gather."""
    @st.composite
    def draw(d):
        rows, width = d(S.sides(6, empty=False)), d(S.sides(4))
        weight = d(ctx.tensors((rows, width)))
        indices = _indices(d, rows, d(S.layer_shapes(0, 3, 3)), d(st.sampled_from(("int64", "int32"))))
        extra = d(st.sampled_from(((), (-1, False, False), (0, True, False), (rows - 1, False, True))))
        label = [str(indices.dtype).removeprefix("torch."), "padding" if extra and extra[0] >= 0 else ""]
        return call(weight, indices, *extra, variant="-".join(p for p in label if p))

    return draw()


def embedding_dense_backward(ctx: Ctx) -> st.SearchStrategy[Call]:
    """embedding_dense_backward(grad[..., D], indices[...], num_weights, padding_idx,
    scale_grad_by_freq): repeated indices accumulate, padding_idx rows stay zero."""
    @st.composite
    def draw(d):
        rows, width = d(S.sides(6, empty=False)), d(S.sides(4, empty=False))
        shape = d(S.layer_shapes(0, 3, 4))
        indices = _indices(d, rows, shape)
        grad = d(ctx.tensors((*shape, width)))
        padding = d(st.sampled_from((-1, 0)))
        scale = d(st.booleans())
        return call(grad, indices, rows, padding, scale,
                    variant="-".join(p for p in ("padding" if padding >= 0 else "", "freq" if scale else "") if p)
                    or "plain")

    return draw()


def embedding_bag(ctx: Ctx) -> st.SearchStrategy[Call]:
    """_embedding_bag(weight, indices[n], offsets, scale_grad_by_freq, mode, sparse,
    per_sample_weights, include_last_offset, padding_idx): sum (0, with or without per-sample
    weights), mean (1) and max (2) bags, empty bags included."""
    @st.composite
    def draw(d):
        rows, width, count = d(S.sides(6, empty=False)), d(S.sides(3, empty=False)), d(st.integers(1, 8))
        weight = d(ctx.tensors((rows, width)))
        indices = _indices(d, rows, (count,))
        cuts = sorted(d(st.lists(st.integers(0, count), min_size=1, max_size=4)))
        offsets = torch.tensor([0, *cuts[1:]], dtype=torch.int64)
        mode, include_last = d(st.sampled_from((0, 1, 2))), d(st.booleans())
        if include_last:
            offsets = torch.cat([offsets, torch.tensor([count])])
        per_sample = d(ctx.tensors((count,), operand=1, seed_slot=0)) if mode == 0 and d(st.booleans()) else None
        padding = d(st.sampled_from((-1, 0)))
        return call(weight, indices, offsets, False, mode, False, per_sample, include_last, padding,
                    variant=f"mode{mode}" + ("-weighted" if per_sample is not None else "")
                    + ("-lastoffset" if include_last else ""))

    return draw()


def cross_entropy(ctx: Ctx) -> st.SearchStrategy[Call]:
    """cross_entropy_loss(logits, target, weight, reduction, ignore_index, label_smoothing):
    class-index targets (some equal to ignore_index) or class-probability targets; logits of
    shape (C), (N, C) or (N, C, d1, d2); every reduction; class weights or None."""
    @st.composite
    def draw(d):
        classes, batch = d(st.integers(2, 5)), d(S.sides(3, empty=False))
        form = d(st.sampled_from(("nc", "c", "spatial")))
        spatial = (d(S.sides(3, empty=False)), d(S.sides(2, empty=False))) if form == "spatial" else ()
        lead = () if form == "c" else (batch,)
        logits = d(ctx.tensors((*lead, classes, *spatial)))
        ignore = -100  # the default; probability targets take no other
        if d(st.booleans()):
            target = _indices(d, classes, (*lead, *spatial))
            kind = "index"
            ignore = d(st.sampled_from((-100, 1)))
        else:
            target = torch.softmax(d(ctx.tensors(tuple(logits.shape), operand=1, seed_slot=0)).double(), 1 if lead else 0)
            target = target.to(logits.dtype)
            kind = "prob"
        weight = d(ctx.tensors((classes,), "positive", operand=1, seed_slot=0)) if d(st.booleans()) else None
        reduction, smoothing = d(st.sampled_from((1, 0, 2))), d(st.sampled_from((0.0, 0.1)))
        label = [kind, form, ["none", "mean", "sum"][reduction], "weighted" if weight is not None else "",
                 "smooth" if smoothing else "", "ignore1" if ignore == 1 else ""]
        return call(logits, target, weight, reduction, ignore, smoothing, variant="-".join(p for p in label if p))

    return draw()


def prelu(ctx: Ctx) -> st.SearchStrategy[Call]:
    """prelu(x, weight): one shared slope, or one per channel (dim 1) for inputs of rank >= 2."""
    @st.composite
    def draw(d):
        shape = d(S.layer_shapes(0, 4, 4))
        per_channel = len(shape) >= 2 and d(st.booleans())
        weight = d(ctx.tensors((shape[1] if per_channel else 1,), operand=1, seed_slot=0))
        return call(d(ctx.tensors(shape)), weight, variant="perchannel" if per_channel else "shared")

    return draw()


def attention(ctx: Ctx) -> st.SearchStrategy[Call]:
    """scaled_dot_product_attention(q, k, v, attn_mask, dropout_p=0, is_causal, scale=, enable_gqa=):
    3-d or 4-d operands, L != S, a bool or additive float mask broadcast over heads, is_causal
    (without a mask), an explicit scale, and grouped-query heads."""
    @st.composite
    def draw(d):
        batch, query, keys = d(S.sides(2, empty=False)), d(S.sides(4, empty=False)), d(S.sides(4, empty=False))
        embed, value_embed = d(S.sides(4, empty=False)), d(S.sides(3, empty=False))
        four_d, gqa = d(st.booleans()), False
        lead_q = lead_kv = (batch,)
        if four_d:
            kv_heads, gqa = d(st.sampled_from((1, 2))), d(st.booleans())
            lead_q, lead_kv = (batch, kv_heads * (2 if gqa else 1)), (batch, kv_heads)
        q = d(ctx.tensors((*lead_q, query, embed)))
        k = d(ctx.tensors((*lead_kv, keys, embed)))
        v = d(ctx.tensors((*lead_kv, keys, value_embed)))
        form = d(st.sampled_from(("plain", "causal", "boolmask", "floatmask")))
        kwargs: dict = {}
        if d(st.booleans()):
            kwargs["scale"] = d(st.sampled_from((0.5, 1.0, 0.125)))
        if gqa:
            kwargs["enable_gqa"] = True
        mask = None
        if form == "boolmask":
            mask = make_tensor((query, keys), "bool", seed=d(st.integers(0, 2**16)))
        elif form == "floatmask":
            mask = d(ctx.tensors((1, query, keys) if four_d else (query, keys), operand=1, seed_slot=0))
        args = [q, k, v, mask, 0.0, form == "causal"]
        label = [form, "4d" if four_d else "3d", "gqa" if gqa else "", "scale" if "scale" in kwargs else ""]
        return call(*args, variant="-".join(p for p in label if p), **kwargs)

    return draw()


SOFTMAX = dtypes_for("softmax")
DROPOUT = dtypes_for("nn.functional.dropout")

# softmax.int, log_softmax.int, dropout, dropout_, cross_entropy_loss, prelu and
# scaled_dot_product_attention are CompositeImplicit: run_decompositions rewrites them (into
# _softmax, native_dropout, log_softmax + nll_loss, _prelu_kernel, the flash-attention kernel),
# so decompose=False is the only way their own converters run.
ROWS = [
    OpRow("aten._softmax.default", softmax(public=False), FLOATS),
    OpRow("aten._log_softmax.default", softmax(public=False), FLOATS),
    OpRow("aten.softmax.int", softmax(public=True), SOFTMAX, decompose=False),
    OpRow("aten.log_softmax.int", softmax(public=True), dtypes_for("log_softmax"), decompose=False),
    OpRow("aten.dropout.default", dropout(train=False), DROPOUT, decompose=False, label="eval"),
    OpRow("aten.dropout.default", dropout(train=True), DROPOUT, decompose=False, label="train",
          check=dropout_train, edge=False),
    OpRow("aten.dropout_.default", dropout(train=False), DROPOUT, decompose=False, label="eval"),
    OpRow("aten.dropout_.default", dropout(train=True), DROPOUT, decompose=False, label="train",
          check=dropout_train, edge=False),
    OpRow("aten.native_dropout.default", dropout(train=False), DROPOUT, label="eval"),
    OpRow("aten.native_dropout.default", dropout(train=True), DROPOUT, label="train",
          check=native_dropout_train, edge=False),
    OpRow("aten.embedding.default", embedding, dtypes_for("nn.functional.embedding")),
    OpRow("aten.embedding_dense_backward.default", embedding_dense_backward, dtypes_for("nn.functional.embedding")),
    OpRow("aten._embedding_bag.default", embedding_bag, dtypes_for("nn.functional.embedding_bag")),
    OpRow("aten.cross_entropy_loss.default", cross_entropy, dtypes_for("nn.functional.cross_entropy"),
          decompose=False),
    OpRow("aten.prelu.default", prelu, dtypes_for("nn.functional.prelu"), decompose=False),
    OpRow("aten.scaled_dot_product_attention.default", attention,
          dtypes_for("nn.functional.scaled_dot_product_attention"), decompose=False),
]
