"""Shape ops: views and reshapes, permutations, squeeze/unsqueeze, expand, flatten,
joins and splits, flip/roll/tile/repeat.

Export keeps these overloads as written, and `run_decompositions` rewrites many of them into
another row's op (reshape -> view, transpose -> permute, chunk -> split_with_sizes, ...).
Their own converters are only reached without decomposition, so those rows set
`decompose=False`; an op whose decomposition is a graph of several ops also keeps a
decomposed row (the path users hit) beside its `nodecomp` row.
"""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from opsuite.draw import shapes as S
from opsuite.draw import size_args as A
from opsuite.draw import values as V
from opsuite.draw.context import Call, Ctx, call, variant
from opsuite.draw.values import ALL_DTYPES
from opsuite.standalone.metadata_programs import metadata_program
from opsuite.table.row import FLOATS, OpRow, dtypes_for

SHAPES = S.movement_shapes(0, 5)
RANKED = S.movement_shapes(1, 5)


def _any(ctx: Ctx, shapes=SHAPES, **kwargs) -> st.SearchStrategy:
    return ctx.tensors(shapes, **kwargs)


def reshape_calls(ctx: Ctx, contiguous: bool = False) -> st.SearchStrategy[Call]:
    """A tensor and sizes of the same element count (with a -1 to infer, zero-size included)."""
    layouts = ("contiguous",) if contiguous else V.LAYOUTS
    return _any(ctx, layouts=layouts).flatmap(lambda x: A.reshape_targets(x.shape).map(
        lambda sizes: call(x, sizes, variant=variant("infer" if -1 in sizes else None))))


def reshape_as_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """A tensor and another (same dtype, its own values) whose shape it is reshaped to."""
    return _any(ctx).flatmap(lambda x: A.reshape_targets(x.shape, infer=False).flatmap(
        lambda sizes: ctx.tensors(tuple(sizes), operand=1, seed_slot=0).map(lambda other: call(x, other))))


def permute_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    return _any(ctx).flatmap(lambda x: A.permutations(x.dim()).map(lambda p: call(x, p)))


def transpose_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """Two dims, equal or not, negative spellings; a 0-d tensor accepts dims 0 and -1."""
    @st.composite
    def draw(d):
        x = d(_any(ctx))
        a, b = d(S.dims(x.dim())), d(S.dims(x.dim()))
        same = a % max(x.dim(), 1) == b % max(x.dim(), 1)
        return call(x, a, b, variant=variant("same" if same else None, "scalar" if not x.dim() else None))
    return draw()


def squeeze_calls(ctx: Ctx, form: str) -> st.SearchStrategy[Call]:
    """squeeze() / squeeze(dim) / squeeze(dims): dims that are size 1 and dims that are not."""
    def build(x):
        rank = x.dim()
        if form == "default":
            return st.just(call(x))
        if form == "dim":
            return S.dims(rank).map(lambda d: call(x, d, variant=variant("one" if x.shape[d] == 1 else "kept") if rank else "scalar"))
        dims = S.dim_lists(rank) if rank else st.sampled_from([[0], [-1]])
        return st.one_of(st.just([]), dims).map(lambda ds: call(x, ds, variant="no-dims" if not ds else "default"))
    return _any(ctx).flatmap(build)


def unsqueeze_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    return _any(ctx).flatmap(lambda x: st.integers(-x.dim() - 1, x.dim()).map(lambda d: call(x, d)))


def expand_calls(ctx: Ctx, as_tensor: bool = False, implicit: bool = False) -> st.SearchStrategy[Call]:
    """A tensor and a target it broadcasts to: grown size-1 sides, -1 sides, new leading sides."""
    @st.composite
    def draw(d):
        x = d(_any(ctx, S.movement_shapes(0, 4)))
        target = d(A.expand_targets(x.shape))
        lead = len(target) - x.dim()
        resolved = [x.shape[i - lead] if s == -1 else s for i, s in enumerate(target)]
        label = variant("lead" if lead else None, "infer" if -1 in target else None)
        if as_tensor:
            return call(x, d(ctx.tensors(tuple(resolved), operand=1, seed_slot=0)), variant=label)
        if implicit and d(st.booleans()):
            return call(x, target, implicit=True, variant=variant(label, "implicit"))
        return call(x, target, variant=label)
    return draw()


def flatten_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """start_dim <= end_dim after normalisation, each maybe negative; 0-d tensors included."""
    @st.composite
    def draw(d):
        x = d(_any(ctx))
        top = max(x.dim(), 1)
        start = d(st.integers(0, top - 1))
        end = d(st.integers(start, top - 1))
        return call(x, d(A.spell(start, x.dim())), d(A.spell(end, x.dim())))
    return draw()


def unflatten_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """One dim split into sizes whose product is its side (a -1 among them, zero sides too)."""
    @st.composite
    def draw(d):
        x = d(_any(ctx, S.movement_shapes(1, 4)))
        dim = d(S.dims(x.dim()))
        sizes = d(A.reshape_targets((x.shape[dim],), min_rank=1, max_rank=3))
        return call(x, dim, sizes, variant=variant("infer" if -1 in sizes else None))
    return draw()


def cat_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """1-4 tensors equal but along `dim` (zero-size parts included), each of its operand's
    dtype; sometimes a legacy 1-D empty tensor, which torch lets join anything."""
    @st.composite
    def draw(d):
        shape = d(S.movement_shapes(1, 4))
        dim = d(S.dims(len(shape)))
        tensors = []
        for i in range(d(st.integers(1, 4))):
            side = list(shape)
            side[dim] = d(S.counts(0, 4))
            tensors.append(d(ctx.tensors(tuple(side), operand=i, seed_slot=0)))
        # A 1-D empty tensor beside tensors of another rank: legacy, only torch's cat allows it.
        legacy = S.degenerate_allowed() and d(st.integers(0, 4)) == 0 and len(shape) > 1
        if legacy:
            tensors.insert(d(st.integers(0, len(tensors))), d(ctx.tensors((0,), operand=1, seed_slot=0)))
        mixed = len({t.dtype for t in tensors}) > 1
        return call(tensors, dim, variant=variant("legacy-1d" if legacy else None, "mixed" if mixed else None))
    return draw()


def stack_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """1-4 tensors of one shape (0-d included), a new dim anywhere in [-(rank+1), rank]."""
    @st.composite
    def draw(d):
        shape = d(S.movement_shapes(0, 4))
        tensors = [d(ctx.tensors(shape, operand=i, seed_slot=0)) for i in range(d(st.integers(1, 4)))]
        return call(tensors, d(st.integers(-len(shape) - 1, len(shape))))
    return draw()


def split_calls(ctx: Ctx, form: str) -> st.SearchStrategy[Call]:
    """split(size) / split_with_sizes(sizes) / chunk(n) along a dim, uneven and zero-size parts."""
    @st.composite
    def draw(d):
        x = d(_any(ctx, RANKED))
        dim = d(S.dims(x.dim()))
        side = x.shape[dim]
        if form == "split":
            arg = d(st.integers(1 if side else 0, side + 2))
            label = "uneven" if arg and side % arg else "size-0" if not arg else None
        elif form == "sizes":
            arg = d(A.split_sizes(side))
            # A zero part before the last repeats a cut position; a last one only ends at the side.
            label = "inner-zero-part" if 0 in arg[:-1] else "zero-part" if 0 in arg else None
        else:
            arg = d(st.integers(1, 6))
            label = "uneven" if side % arg else None
        return call(x, arg, dim, variant=variant(label, "along-empty" if not side else None))
    return draw()


def unbind_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """Any dim; unbinding a zero-size dim gives no outputs at all."""
    return _any(ctx, RANKED).flatmap(lambda x: S.dims(x.dim()).map(
        lambda d: call(x, d, variant=variant("along-empty" if not x.shape[d] else None))))


def flip_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """Distinct dims, negative spellings, or none at all."""
    def build(x):
        dims = S.dim_lists(x.dim()).map(lambda ds: call(x, ds)) if x.dim() else st.nothing()
        return st.one_of(dims, st.just(call(x, [], variant="no-dims")))
    return _any(ctx).flatmap(build)


def roll_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """Shifts beyond the side and negative, per dim; or one shift over the flattened tensor."""
    @st.composite
    def draw(d):
        x = d(_any(ctx, RANKED))
        if d(st.integers(0, 3)) == 0:
            return call(x, [d(st.integers(-7, 7))], variant=variant("flat", "along-empty" if not x.numel() else None))
        dims = d(S.dim_lists(x.dim()))
        shifts = [d(st.integers(-7, 7)) for _ in dims]
        return call(x, shifts, dims, variant=variant("along-empty" if any(not x.shape[i] for i in dims) else None))
    return draw()


def tile_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """Repeats shorter than, equal to or longer than the rank; zero repeats."""
    return _any(ctx, S.movement_shapes(0, 4, max_side=4)).flatmap(
        lambda x: st.lists(S.counts(0, 3), max_size=x.dim() + 2).map(
            lambda reps: call(x, reps, variant=variant(
                "short" if len(reps) < x.dim() else "long" if len(reps) > x.dim() else None))))


def repeat_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """Repeats at least as long as the rank (torch requires it), extra leading ones, zeros."""
    return _any(ctx, S.movement_shapes(0, 4, max_side=4)).flatmap(
        lambda x: st.integers(x.dim(), x.dim() + 2).flatmap(
            lambda n: st.lists(S.counts(0, 3), min_size=n, max_size=n).map(
                lambda reps: call(x, reps, variant=variant("long" if n > x.dim() else None)))))


def narrow_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """start in [-side, side] (negative counts from the end), any length that fits."""
    @st.composite
    def draw(d):
        x = d(_any(ctx, RANKED))
        dim = d(S.dims(x.dim()))
        side = x.shape[dim]
        start = d(st.integers(-side, side))
        length = d(S.counts(0, side - (start + side if start < 0 else start)))
        begin = start + side if start < 0 else start
        return call(x, dim, start, length, variant=variant("neg-start" if start < 0 else None,
                                                             "from-start" if begin == 0 else None))
    return draw()


def select_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """An index in [-side, side - 1] along a dim of non-zero side."""
    @st.composite
    def draw(d):
        x = d(_any(ctx, RANKED).filter(lambda t: any(t.shape)))
        dim = d(st.sampled_from([i for i, side in enumerate(x.shape) if side]))
        index = d(st.integers(-x.shape[dim], x.shape[dim] - 1))
        return call(x, d(A.spell(dim, x.dim())), index, variant=variant("neg-index" if index < 0 else None))
    return draw()


def slice_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """Optional start/end anywhere (negative, beyond the side, None), steps 1 to 5."""
    @st.composite
    def draw(d):
        x = d(_any(ctx, RANKED))
        dim = d(S.dims(x.dim()))
        start, end = d(A.slice_bounds(x.shape[dim])), d(A.slice_bounds(x.shape[dim]))
        step = d(st.sampled_from((1, 1, 2, 3, 5)))
        if not S.degenerate_allowed() and not len(range(x.shape[dim])[slice(start, end, step)]):
            # bounds that select nothing: run to the end, from the start if need be
            end = None
            start = start if len(range(x.shape[dim])[slice(start, end, step)]) else None
        outside = any(b is not None and not -x.shape[dim] <= b <= x.shape[dim] for b in (start, end))
        label = variant("out-of-range" if outside else None, "step" if step > 1 else None)
        return call(x, dim, start, end, step, variant=label)
    return draw()


def diagonal_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """Any two distinct dims (negative spellings), offsets past the edges included."""
    @st.composite
    def draw(d):
        x = d(_any(ctx, S.movement_shapes(2, 5)))
        dim1, dim2 = d(st.lists(st.integers(0, x.dim() - 1), min_size=2, max_size=2, unique=True))
        offset = d(st.integers(-5, 5))
        if not S.degenerate_allowed():  # an offset past the edge gives an empty diagonal
            offset = max(-(x.shape[dim1] - 1), min(offset, x.shape[dim2] - 1))
        return call(x, offset, d(A.spell(dim1, x.dim())), d(A.spell(dim2, x.dim())),
                    variant=variant("swapped" if dim1 > dim2 else None))
    return draw()


def triangle_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """Batched matrices, the default diagonal or one in [-5, 5] (past the corners included)."""
    return _any(ctx, S.movement_shapes(2, 4)).flatmap(lambda x: st.one_of(
        st.just(call(x)), st.integers(-5, 5).map(lambda k: call(x, k, variant="diagonal"))))


@st.composite
def _strided_view(draw) -> tuple[list[int], list[int], int | None, int]:
    size = draw(st.lists(st.integers(1, 4), max_size=3))
    if size and S.degenerate_allowed() and draw(st.integers(0, 7)) == 0:
        size[draw(st.integers(0, len(size) - 1))] = 0
    stride = [draw(st.integers(0, 4)) for _ in size]
    offset = draw(st.one_of(st.none(), st.integers(0, 5)))
    reach = (offset or 0) + (sum((n - 1) * s for n, s in zip(size, stride, strict=True)) + 1 if all(size) else 0)
    return size, stride, offset, reach


def as_strided_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """A view into a contiguous tensor's storage: overlapping and zero strides, an offset; or
    the whole storage in row-major order (`whole`).

    The input is contiguous on purpose: as_strided reads the storage, and TVM receives a
    contiguous copy, so any other layout would compare different memory.
    """
    @st.composite
    def draw(d):
        if d(st.integers(0, 3)) == 0:  # the whole storage in row-major order: a reshape
            x = d(ctx.tensors(S.movement_shapes(1, 3).filter(lambda s: all(s)), layouts=("contiguous",)))
            size = d(A.reshape_targets(x.shape, max_rank=3, infer=False))
            return call(x, size, list(torch.empty(size).stride()), variant="whole")
        size, stride, offset, reach = d(_strided_view())
        rows = d(st.integers(1, 3))
        shape = (rows, max(1, -(-reach // rows)) + d(st.integers(0, 2)))
        x = d(ctx.tensors(shape, layouts=("contiguous",)))
        overlap = any(s == 0 for s in stride) or len(set(stride)) < len(stride)
        args = (x, size, stride) if offset is None else (x, size, stride, offset)
        compact = all(n == 1 or s == c for n, s, c in zip(size, stride, torch.empty(size).stride(), strict=True))
        if compact and not offset and math.prod(size) == x.numel():
            return call(*args, variant="whole")
        return call(*args, variant=variant("overlap" if overlap else None, "offset" if offset else None))
    return draw()


def meshgrid_calls(ctx: Ctx, indexing: bool) -> st.SearchStrategy[Call]:
    """1-4 tensors, each 0-d or 1-d (zero length included); indexing "ij" or "xy"."""
    @st.composite
    def draw(d):
        shapes = d(st.lists(st.sampled_from([(), (0,), (1,), (2,), (3,), (4,)]), min_size=1, max_size=4))
        if not S.degenerate_allowed():
            shapes = [(3,) if s == (0,) else s for s in shapes]
        tensors = [d(ctx.tensors(s, operand=i, seed_slot=0)) for i, s in enumerate(shapes)]
        single = "single-0d" if shapes == [()] else None
        if indexing:
            how = d(st.sampled_from(("ij", "xy")))
            return call(tensors, indexing=how, variant=variant(how, single))
        return call(tensors, variant=variant(single))
    return draw()


def unary_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    return _any(ctx).map(lambda x: call(x))


def clone_calls(ctx: Ctx, formats=A.memory_formats) -> st.SearchStrategy[Call]:
    """A tensor and maybe a memory_format its rank allows (channels_last at rank 4 and 5)."""
    return _any(ctx).flatmap(lambda x: formats(x.dim()).map(lambda f: call(x) if f is None else call(
        x, memory_format=f, variant=str(f).removeprefix("torch."))))


def contiguous_formats(rank: int) -> st.SearchStrategy:
    """contiguous() refuses preserve_format; channels_last needs rank 4."""
    return A.memory_formats(rank).filter(lambda f: f is not torch.preserve_format)


def copy_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """copy(self, src): src broadcasts to self and is cast to self's dtype (operand 1's dtype).

    Floats copied into an integer self stay in range: an out-of-range float-to-int cast is
    undefined behaviour in C++ and differs between backends.
    """
    @st.composite
    def draw(d):
        x = d(_any(ctx, S.movement_shapes(0, 4)))
        narrowing = ctx.part(1) in FLOATS and ctx.part(0) not in FLOATS + ("bool",)
        src = d(ctx.tensors(d(S.broadcastable_to(tuple(x.shape))), "positive" if narrowing else "real", operand=1, seed_slot=0))
        if ctx.part(0) == "bool":  # a bool self holds src != 0: zeros among src make the copy a mixed mask
            src = V.zeros_often(src)
        label = variant("broadcast" if src.shape != x.shape else None)
        if d(st.booleans()):
            return call(x, src, True, variant=variant(label, "non-blocking"))
        return call(x, src, variant=label)
    return draw()


def convert_calls(ctx: Ctx, form: str) -> st.SearchStrategy[Call]:
    """A tensor converted to a drawn dtype, in the spelling of `form`.

    Floats converted to an integer dtype stay in range (undefined behaviour otherwise), so
    the edge tier converts floats only to floating dtypes and bool.
    """
    @st.composite
    def draw(d):
        source_float = ctx.dtype in FLOATS
        targets = FLOATS + ("bool",) if source_float and ctx.edge else ALL_DTYPES
        target = d(A.dtype_args(targets))
        narrowing = source_float and not (target.is_floating_point or target == torch.bool)
        x = d(ctx.tensors(S.movement_shapes(0, 4), "positive" if narrowing else "real"))
        label = "to-" + str(target).removeprefix("torch.") + ("-same" if target == getattr(torch, ctx.dtype) else "")
        fmt = d(A.memory_formats(x.dim()))
        extra = {} if fmt is None else {"memory_format": fmt}
        if form == "type_as":
            return call(x, d(V.tensors(str(target).removeprefix("torch."), d(S.movement_shapes(0, 2)))), variant=label)
        if form == "to.dtype":
            copy = d(st.booleans())
            # With copy=False and no memory_format, export drops the defaults: to(x, dtype) alone.
            return call(x, target, False, copy, variant=variant(label, "bare" if not copy and not extra else None),
                        **extra)
        place = d(st.sampled_from(({}, {"layout": torch.strided}, {"device": torch.device("cpu")})))
        if form == "to.dtype_layout":
            return call(x, dtype=target, copy=d(st.booleans()), variant=label, **place, **extra)
        if d(st.integers(0, 4)) == 0:
            return call(x, variant="no-dtype", **place, **extra)
        return call(x, dtype=target, variant=label, **place, **extra)
    return draw()


def assert_metadata_calls(ctx: Ctx) -> st.SearchStrategy[Call]:
    """_assert_tensor_metadata(x, size=, stride=, dtype=, ...): each keyword stated truly or left out
    (a false one fails in eager already), so the import must keep the graph around the check."""
    @st.composite
    def draw(d):
        x = d(ctx.tensors(d(S.shapes(max_rank=4))))
        facts = {"size": list(x.shape), "stride": list(x.stride()), "dtype": x.dtype,
                 "device": x.device, "layout": x.layout}
        chosen = d(st.lists(st.sampled_from(sorted(facts)), unique=True, max_size=len(facts)))
        return call(x, variant="-".join(sorted(chosen)) or "none", **{k: facts[k] for k in chosen})
    return draw()


ALL = dtypes_for("reshape")
# Undecomposed twins of decomposed rows: one float, one int and bool are enough for the converter.
TWIN = ("float32", "int64", "bool")
COPY_MIXED = ("int32+float32", "float16+float64", "bool+float32", "uint8+int64")
ROWS = [
    OpRow("aten._assert_tensor_metadata.default", assert_metadata_calls, ("float32", "float16", "int64"),
          edge=False, factory=metadata_program),
    OpRow("aten.view.default", lambda ctx: reshape_calls(ctx, contiguous=True), dtypes_for("view")),
    OpRow("aten.reshape.default", reshape_calls, ALL, decompose=False),
    OpRow("aten.reshape_as.default", reshape_as_calls, dtypes_for("reshape_as"), decompose=False),
    OpRow("aten.permute.default", permute_calls, dtypes_for("permute")),
    OpRow("aten.transpose.int", transpose_calls, dtypes_for("transpose"), decompose=False),
    OpRow("aten.squeeze.default", lambda ctx: squeeze_calls(ctx, "default"), dtypes_for("squeeze"), decompose=False),
    OpRow("aten.squeeze.dim", lambda ctx: squeeze_calls(ctx, "dim"), dtypes_for("squeeze"), decompose=False),
    OpRow("aten.squeeze.dims", lambda ctx: squeeze_calls(ctx, "dims"), dtypes_for("squeeze")),
    OpRow("aten.unsqueeze.default", unsqueeze_calls, dtypes_for("unsqueeze")),
    OpRow("aten.expand.default", lambda ctx: expand_calls(ctx, implicit=True), dtypes_for("expand")),
    OpRow("aten.expand_as.default", lambda ctx: expand_calls(ctx, as_tensor=True), dtypes_for("expand_as"),
            decompose=False),
    OpRow("aten.broadcast_to.default", expand_calls, dtypes_for("broadcast_to"), decompose=False),
    OpRow("aten.flatten.using_ints", flatten_calls, dtypes_for("flatten"), decompose=False),
    OpRow("aten.unflatten.int", unflatten_calls, dtypes_for("unflatten"), decompose=False),
    # Mixed operands: cat promotes to a common dtype.
    OpRow("aten.cat.default", cat_calls, dtypes_for("cat") + ("float16+float32", "int8+uint8", "bool+int32")),
    OpRow("aten.concat.default", cat_calls, dtypes_for("cat"), decompose=False),
    OpRow("aten.stack.default", stack_calls, dtypes_for("stack")),
    OpRow("aten.stack.default", stack_calls, TWIN, decompose=False, label="nodecomp"),
    OpRow("aten.split.Tensor", lambda ctx: split_calls(ctx, "split"), dtypes_for("split"), decompose=False),
    OpRow("aten.split_with_sizes.default", lambda ctx: split_calls(ctx, "sizes"), dtypes_for("split_with_sizes")),
    OpRow("aten.chunk.default", lambda ctx: split_calls(ctx, "chunk"), dtypes_for("chunk"), decompose=False),
    OpRow("aten.unbind.int", unbind_calls, dtypes_for("unbind")),
    OpRow("aten.unbind.int", unbind_calls, TWIN, decompose=False, label="nodecomp"),
    OpRow("aten.flip.default", flip_calls, dtypes_for("flip")),
    OpRow("aten.roll.default", roll_calls, dtypes_for("roll")),
    OpRow("aten.roll.default", roll_calls, TWIN, decompose=False, label="nodecomp"),
    OpRow("aten.tile.default", tile_calls, dtypes_for("tile"), decompose=False),
    OpRow("aten.repeat.default", repeat_calls, dtypes_for("repeat")),
    OpRow("aten.narrow.default", narrow_calls, dtypes_for("narrow"), decompose=False),
    OpRow("aten.select.int", select_calls, dtypes_for("select")),
    OpRow("aten.slice.Tensor", slice_calls, dtypes_for("slice")),
    OpRow("aten.diagonal.default", diagonal_calls, dtypes_for("diagonal")),
    OpRow("aten.tril.default", triangle_calls, dtypes_for("tril")),
    OpRow("aten.tril.default", triangle_calls, TWIN, decompose=False, label="nodecomp"),
    OpRow("aten.triu.default", triangle_calls, dtypes_for("triu")),
    OpRow("aten.triu.default", triangle_calls, TWIN, decompose=False, label="nodecomp"),
    OpRow("aten.as_strided.default", as_strided_calls, dtypes_for("as_strided")),
    # meshgrid decomposes to view + expand; its converter is reached only undecomposed.
    OpRow("aten.meshgrid.default", lambda ctx: meshgrid_calls(ctx, False), dtypes_for("meshgrid"), decompose=False),
    OpRow("aten.meshgrid.indexing", lambda ctx: meshgrid_calls(ctx, True), dtypes_for("meshgrid")),
    OpRow("aten.meshgrid.indexing", lambda ctx: meshgrid_calls(ctx, True), TWIN,
            decompose=False, label="nodecomp"),
    OpRow("aten.clone.default", clone_calls, dtypes_for("clone")),
    OpRow("aten.contiguous.default", lambda ctx: clone_calls(ctx, contiguous_formats), dtypes_for("contiguous"),
            decompose=False),
    OpRow("aten.lift_fresh_copy.default", unary_calls, ALL, decompose=False),
    OpRow("aten.alias.default", unary_calls, ALL),
    OpRow("aten.detach.default", unary_calls, ALL, decompose=False),
    # In place: decomposition drops detach_ altogether, so only an undecomposed graph has it.
    OpRow("aten.detach_.default", unary_calls, ALL, decompose=False),
    # Mixed rows: self's dtype + src's dtype (copy casts src to self's dtype).
    OpRow("aten.copy.default", copy_calls, ALL + COPY_MIXED),
    # copy_ writes into an input; decomposition turns it into copy, so the copy_ converter
    # (which rebinds the destination) is reached only undecomposed.
    OpRow("aten.copy_.default", copy_calls, ALL + COPY_MIXED, decompose=False),
    OpRow("aten._to_copy.default", lambda ctx: convert_calls(ctx, "_to_copy"), ALL),
    # to and type_as decompose to _to_copy: their converters are reached only undecomposed.
    OpRow("aten.to.dtype", lambda ctx: convert_calls(ctx, "to.dtype"), dtypes_for("to"), decompose=False),
    OpRow("aten.to.dtype_layout", lambda ctx: convert_calls(ctx, "to.dtype_layout"), dtypes_for("to"),
            decompose=False),
    OpRow("aten.type_as.default", lambda ctx: convert_calls(ctx, "type_as"), ALL, decompose=False),
]
