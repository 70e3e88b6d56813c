"""Matrix products, einsum, distances and real FFTs.

Sides are small (K <= 5), so half-precision sums stay within a few ULPs; every product draws
non-contiguous operands through the layouts of `values.tensors`. alpha/beta scalars
cover 0 (torch then ignores the other term, NaN included), 1 and fractions.
"""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from opsuite.draw import shapes as S
from opsuite.draw.context import Call, Ctx, call
from opsuite.draw.values import torch_dtype
from opsuite.table.row import OpRow, dtypes_for

SIDE = S.sides(5)


def _is_float(ctx: Ctx) -> bool:
    return torch_dtype(ctx.dtype).is_floating_point


def mm(ctx: Ctx) -> st.SearchStrategy[Call]:
    """mm(a[n, k], b[k, m]); a zero side now and then (k = 0 gives zeros)."""
    return st.tuples(SIDE, SIDE, SIDE).flatmap(
        lambda s: st.builds(call, ctx.tensors((s[0], s[1])), ctx.tensors((s[1], s[2]), operand=1, seed_slot=0)))


def bmm(ctx: Ctx) -> st.SearchStrategy[Call]:
    """bmm(a[b, n, k], b[b, k, m])."""
    return st.tuples(S.sides(3), SIDE, SIDE, SIDE).flatmap(
        lambda s: st.builds(call, ctx.tensors((s[0], s[1], s[2])), ctx.tensors((s[0], s[2], s[3]), operand=1, seed_slot=0)))


def _alpha_beta(ctx: Ctx) -> st.SearchStrategy[dict]:
    """beta/alpha keyword scalars, each omitted or given; ints for integer dtypes."""
    if _is_float(ctx):
        beta, alpha = st.sampled_from((None, 0.0, 1.0, 0.5, -2.0)), st.sampled_from((None, 1.0, 2.0, -0.5, 0.0))
    else:
        beta, alpha = st.sampled_from((None, 0, 1, 2, -1)), st.sampled_from((None, 1, 2, -1, 0))
    return st.fixed_dictionaries({"beta": beta, "alpha": alpha}).map(
        lambda kw: {k: v for k, v in kw.items() if v is not None})


def _scaled_variant(kwargs: dict, broadcast: bool) -> str:
    parts = ["broadcast" if broadcast else "same"] + [f"{k}{v}" for k, v in sorted(kwargs.items())]
    return "-".join(parts)


def addmm(batched: bool):
    """addmm(self, mat1, mat2, beta=, alpha=) / baddbmm over a batch: self broadcasts to the
    product's shape from a vector, a row, a column or a scalar."""
    def calls(ctx: Ctx):
        @st.composite
        def draw(d):
            b, n, k, m = d(S.sides(3)), d(SIDE), d(SIDE), d(SIDE)
            lead = (b,) if batched else ()
            out = (*lead, n, m)
            self_shape = d(st.sampled_from((out, (m,), (1, m), (n, 1), ())))
            kwargs = d(_alpha_beta(ctx))
            args = (d(ctx.tensors(self_shape)), d(ctx.tensors((*lead, n, k), operand=1, seed_slot=0)),
                    d(ctx.tensors((*lead, k, m), operand=1, seed_slot=0)))
            return call(*args, variant=_scaled_variant(kwargs, self_shape != out), **kwargs)

        return draw()

    return calls


def _matmul_shapes(d) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    n, k, m = d(SIDE), d(SIDE), d(SIDE)
    kind = d(st.sampled_from(("mm", "dot", "mv", "vm", "batched", "broadcast")))
    if kind == "dot":
        return (k,), (k,), kind
    if kind == "mv":
        return (n, k), (k,), kind
    if kind == "vm":
        return (k,), (k, m), kind
    if kind == "batched":
        b = d(S.sides(3))
        return (b, n, k), d(st.sampled_from(((k, m), (b, k, m)))), kind
    if kind == "broadcast":
        b, c = d(S.sides(3, empty=False)), d(S.sides(3, empty=False))
        return (b, 1, n, k), (c, k, m), kind
    return (n, k), (k, m), kind


def matmul(ctx: Ctx) -> st.SearchStrategy[Call]:
    """matmul over every rank pairing: dot, matrix-vector, vector-matrix, batched, broadcast batch."""
    @st.composite
    def draw(d):
        sa, sb, kind = _matmul_shapes(d)
        return call(d(ctx.tensors(sa)), d(ctx.tensors(sb, operand=1, seed_slot=0)), variant=kind)

    return draw()


# (equation, operand shapes built from sides a, b, c, d): contraction, transpose, diagonal,
# trace, outer product, sums, ellipsis broadcast, repeated operands.
EQUATIONS = {
    "ij,jk->ik": lambda a, b, c, d: [(a, b), (b, c)],
    "bij,bjk->bik": lambda a, b, c, d: [(d, a, b), (d, b, c)],
    "ij->ji": lambda a, b, c, d: [(a, b)],
    "ii->i": lambda a, b, c, d: [(a, a)],
    "ii": lambda a, b, c, d: [(a, a)],
    "i,j->ij": lambda a, b, c, d: [(a,), (b,)],
    "i,i->": lambda a, b, c, d: [(a,), (a,)],
    "ijk->j": lambda a, b, c, d: [(a, b, c)],
    "...ij,...jk->...ik": lambda a, b, c, d: [(d, 1, a, b), (c, b, a)],
    "bhqd,bhkd->bhqk": lambda a, b, c, d: [(1, d, a, b), (1, d, c, b)],
    "ij,ij,ij->i": lambda a, b, c, d: [(a, b), (a, b), (a, b)],
    "i,i,i->i": lambda a, b, c, d: [(a,), (a,), (a,)],
}


def einsum(ctx: Ctx) -> st.SearchStrategy[Call]:
    """einsum(equation, operands) over the equations of EQUATIONS."""
    @st.composite
    def draw(d):
        equation = d(st.sampled_from(sorted(EQUATIONS)))
        sizes = [d(S.sides(4, empty=False)) for _ in range(4)]
        operands = [d(ctx.tensors(shape, operand=i, seed_slot=0)) for i, shape in enumerate(EQUATIONS[equation](*sizes))]
        label = equation.replace("...", "E").replace(",", "_").replace("->", "_to_") or "x"
        return call(equation, operands, variant=label)

    return draw()


def outer(ctx: Ctx) -> st.SearchStrategy[Call]:
    """outer(u[n], v[m])."""
    return st.tuples(SIDE, SIDE).flatmap(
        lambda s: st.builds(call, ctx.tensors((s[0],)), ctx.tensors((s[1],), operand=1, seed_slot=0)))


def linear(ctx: Ctx) -> st.SearchStrategy[Call]:
    """linear(x[..., in], w[out, in], bias[out] or None), x of rank 1 to 4."""
    @st.composite
    def draw(d):
        lead = d(S.layer_shapes(0, 3, 3))
        fan_in, fan_out = d(SIDE), d(SIDE)
        x, w = d(ctx.tensors((*lead, fan_in))), d(ctx.tensors((fan_out, fan_in), operand=1, seed_slot=0))
        if d(st.booleans()):
            return call(x, w, d(ctx.tensors((fan_out,), operand=1, seed_slot=0)), variant="bias")
        return call(x, w, variant="nobias")

    return draw()


DISTANCE_P = st.sampled_from((2.0, 1.0, 0.0, 3.0, math.inf, 0.5))


def cdist(ctx: Ctx) -> st.SearchStrategy[Call]:
    """_cdist_forward(x1[..., P, M], x2[..., R, M], p, compute_mode): p in {0, 1, 2, 3, inf, 0.5},
    broadcast batch dims, and each compute_mode (None, 0, 1: matrix-product Euclid, 2: direct)."""
    @st.composite
    def draw(d):
        batch = d(st.sampled_from(((), (2,), (1, 2))))
        other = tuple(d(st.sampled_from((s, 1))) for s in batch)
        p_rows, r_rows, features = d(SIDE), d(SIDE), d(S.sides(4, empty=False))
        p, mode = d(DISTANCE_P), d(st.sampled_from((None, 0, 1, 2)))
        x1 = d(ctx.tensors((*batch, p_rows, features)))
        x2 = d(ctx.tensors((*other, r_rows, features)))
        return call(x1, x2, p, mode, variant=f"p{p}-mode{mode}")

    return draw()


def pdist(ctx: Ctx) -> st.SearchStrategy[Call]:
    """_pdist_forward(x[N, M], p) for p in {0, 1, 2, 3, inf, 0.5}."""
    @st.composite
    def draw(d):
        p = d(DISTANCE_P)
        x = d(ctx.tensors((d(S.sides(5)), d(S.sides(4, empty=False))), layouts=("contiguous",)))  # eager's demand
        return call(x, p, variant=f"p{p}")

    return draw()


def _fft_dims(d) -> tuple[tuple[int, ...], list[int]]:
    """A shape and dims to transform in increasing order: the kernels halve the last one listed."""
    shape, dims = d(S.shape_and_dims(1, 3, 5, empty=False))
    return shape, sorted(dims, key=lambda x: x % len(shape))


# Generation runs eager on each normal-tier draw to replace degenerate references
# (opsuite.generate.informative), in its own process: eager _fft_r2c crashed it (SIGSEGV) on a
# nightly draw, a (1, 4, 2) float64 tensor in transposed layout over dim -2, onesided. The FFT
# rows keep their draws as drawn; their references are rarely degenerate.
_FFT_UNRUN = {"*": "eager FFTs can crash the generating process, so generation does not run them"}


def fft_r2c(ctx: Ctx) -> st.SearchStrategy[Call]:
    """_fft_r2c(x, dims, normalization 0/1/2 (none, 1/sqrt(n), 1/n), onesided): a complex output."""
    @st.composite
    def draw(d):
        shape, dims = _fft_dims(d)
        norm, onesided = d(st.sampled_from((0, 1, 2))), d(st.booleans())
        return call(d(ctx.tensors(shape)), dims, norm, onesided,
                    variant=f"norm{norm}-{'onesided' if onesided else 'full'}")

    return draw()


def fft_c2r(ctx: Ctx) -> st.SearchStrategy[Call]:
    """_fft_c2r(z, dims, normalization, last_dim_size): z is complex, built from two tensors of
    the row's real dtype; the output's last transformed dim has 2(n-1) or 2(n-1)+1 points."""
    @st.composite
    def draw(d):
        shape, dims = _fft_dims(d)
        real, imag = d(ctx.tensors(shape)), d(ctx.tensors(shape))
        norm = d(st.sampled_from((0, 1, 2)))
        last = 2 * (shape[dims[-1]] - 1) + d(st.sampled_from((0, 1)))
        return call(torch.complex(real, imag), dims, norm, max(last, 1), variant=f"norm{norm}")

    return draw()


REAL_FFT = ("float32", "float64")  # CPU FFTs (pocketfft) take float and double only

ROWS = [
    OpRow("aten.mm.default", mm, dtypes_for("mm")),
    OpRow("aten.bmm.default", bmm, dtypes_for("bmm")),
    OpRow("aten.addmm.default", addmm(batched=False), dtypes_for("addmm")),
    OpRow("aten.baddbmm.default", addmm(batched=True), dtypes_for("baddbmm")),
    # matmul, einsum, outer and linear are CompositeImplicit: run_decompositions lowers them to
    # mm/bmm/mul/permute, so decompose=False is the only way their own converters run.
    OpRow("aten.matmul.default", matmul, dtypes_for("matmul"), decompose=False),
    OpRow("aten.einsum.default", einsum, dtypes_for("einsum"), decompose=False),
    OpRow("aten.outer.default", outer, dtypes_for("outer"), decompose=False),
    OpRow("aten.linear.default", linear, dtypes_for("linear"), decompose=False),
    OpRow("aten._cdist_forward.default", cdist, dtypes_for("cdist")),
    OpRow("aten._pdist_forward.default", pdist, dtypes_for("nn.functional.pdist")),
    OpRow("aten._fft_r2c.default", fft_r2c, REAL_FFT, degenerate=_FFT_UNRUN),
    # The dtype names the real component type: the input is complex64 / complex128.
    OpRow("aten._fft_c2r.default", fft_c2r, REAL_FFT, degenerate=_FFT_UNRUN),
]
