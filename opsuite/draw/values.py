"""Values: tensors from a seed (domain-aware, with an edge tier), Python scalars, value transforms.

Hypothesis draws the structure of a case (shape, dtype, domain, layout, a seed); the
values themselves come from a seeded generator here, so a case is cheap to build, exact
to rebuild, and shrinks towards small shapes and seed 0.

    make_tensor      a tensor of a shape, dtype and value domain from a seed; `relayout` gives
                     the same values a non-contiguous layout
    tensors          the strategy: shape, seed and layout drawn, values from make_tensor
    scalars          a Python scalar of a dtype's kind
    halves, coarse, specials_often, zeros_often
                     in-place transforms that make ties, equal elements, NaN/inf and zeros common
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from hypothesis import strategies as st

FLOAT_DTYPES = ("float32", "float16", "bfloat16", "float64")
INT_DTYPES = ("int32", "int64", "int8", "uint8")
ALL_DTYPES = FLOAT_DTYPES + INT_DTYPES + ("bool",)

# Value domains: (low, high) for the magnitude of generated values, and how they are drawn.
#   real      normal(0, 1) * 2          anything finite
#   positive  uniform(0.1, 4)           log, sqrt, rsqrt, reciprocal, pow bases
#   unit      uniform(-0.95, 0.95)      acos, asin, atanh
#   above_one uniform(1.05, 4)          acosh
#   nonzero   +-uniform(0.25, 4)        divisors, fmod/remainder right-hand sides
#   prob      uniform(0.05, 0.95)       probabilities, bernoulli p
#   small     uniform(-1, 1)            exp-like ops in half precision
#   index     integers in [0, high)     gather/index/embedding indices (pass high)
DOMAINS = ("real", "positive", "unit", "above_one", "nonzero", "prob", "small", "index")
LAYOUTS = ("contiguous", "transposed", "sliced")


def torch_dtype(name: str) -> torch.dtype:
    return getattr(torch, name)


def _floats(n: int, domain: str, gen: torch.Generator) -> torch.Tensor:
    u = torch.rand(n, generator=gen, dtype=torch.float64)
    if domain == "real":
        return torch.randn(n, generator=gen, dtype=torch.float64) * 2
    if domain == "positive":
        return 0.1 + u * 3.9
    if domain == "unit":
        return (u * 2 - 1) * 0.95
    if domain == "above_one":
        return 1.05 + u * 2.95
    if domain == "nonzero":
        sign = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).double()
        return sign * (0.25 + u * 3.75)
    if domain == "prob":
        return 0.05 + u * 0.9
    if domain == "small":
        return u * 2 - 1
    raise ValueError(f"unknown float domain {domain!r}")


def _ints(n: int, dtype: torch.dtype, domain: str, high: int | None, gen: torch.Generator) -> torch.Tensor:
    info = torch.iinfo(dtype)
    if domain == "index":
        if high is None or high < 1:
            raise ValueError("an index domain needs high >= 1")
        return torch.randint(0, high, (n,), generator=gen, dtype=torch.int64)
    if domain in ("positive", "above_one", "prob"):
        lo, hi = 1, 9
    elif domain == "unit":
        # acos, asin, atanh of an integer: outside [-1, 1] every value is NaN, so the few
        # finite ones (acos(1) == 0) made an all-NaN-or-zero reference.
        lo, hi = (-1, 2) if info.min < 0 else (0, 2)
    elif domain == "nonzero":
        values = torch.randint(1, 9, (n,), generator=gen, dtype=torch.int64)
        sign = torch.where(torch.rand(n, generator=gen) < 0.5, -1, 1) if info.min < 0 else 1
        return values * sign
    else:
        lo, hi = (-9, 10) if info.min < 0 else (0, 19)
    return torch.randint(lo, hi, (n,), generator=gen, dtype=torch.int64)


def _edge_values(dtype: torch.dtype) -> list[float]:
    if dtype.is_floating_point:
        info = torch.finfo(dtype)
        return [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, info.max / 2, -info.max / 2,
                info.tiny, -info.tiny, info.eps, 1.0, -1.0]
    if dtype == torch.bool:
        return [True, False]
    info = torch.iinfo(dtype)
    return [info.min, info.max, 0, 1, -1 if info.min < 0 else 2, info.max - 1]


def make_tensor(shape, dtype: str, domain: str = "real", seed: int = 0, edge: bool = False,
                high: int | None = None, layout: str = "contiguous") -> torch.Tensor:
    """A tensor of `shape` and `dtype` with values from `domain`, deterministic in `seed`.

    `edge` scatters the dtype's edge values (NaN, +-inf, -0.0, huge, tiny; integer extremes)
    over about a third of the elements. `layout` "transposed" or "sliced" returns a
    non-contiguous view with the same shape and values.

    >>> make_tensor((2, 3), "float16", "positive", seed=1).dtype
    torch.float16
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; expected one of {DOMAINS}")
    shape = tuple(int(s) for s in shape)
    tdtype = torch_dtype(dtype)
    gen = torch.Generator().manual_seed(seed)
    n = 1
    for s in shape:
        n *= s
    if tdtype == torch.bool:
        flat = torch.rand(n, generator=gen) < 0.5
    elif tdtype.is_floating_point:
        if domain == "index":
            flat = torch.randint(0, high or 1, (n,), generator=gen).double()
        else:
            flat = _floats(n, domain, gen)
    else:
        flat = _ints(n, tdtype, domain, high, gen)
    flat = flat.to(tdtype)
    if edge and n:
        specials = torch.tensor(_edge_values(tdtype), dtype=torch.float64 if tdtype.is_floating_point else None)
        specials = specials.to(tdtype)
        picks = torch.randperm(n, generator=gen)[: max(1, n // 3)]
        flat[picks] = specials[torch.randint(0, len(specials), (len(picks),), generator=gen)]
    tensor = flat.reshape(shape)
    return relayout(tensor, layout)


def relayout(tensor: torch.Tensor, layout: str) -> torch.Tensor:
    """The same shape and values in another memory layout."""
    if layout == "contiguous" or tensor.dim() == 0:
        return tensor
    if layout == "transposed":
        if tensor.dim() < 2:
            return relayout(tensor, "sliced")
        return tensor.transpose(-1, -2).contiguous().transpose(-1, -2)
    if layout == "sliced":
        wide = torch.zeros((*tensor.shape[:-1], tensor.shape[-1] * 2), dtype=tensor.dtype)
        wide[..., ::2] = tensor
        return wide[..., ::2]
    raise ValueError(f"unknown layout {layout!r}")


# ------------------------------------------------------------------------------ strategies


def tensors(dtype: str, shape: st.SearchStrategy | Sequence[int], domain: str = "real",
            edge: bool = False, layouts: Sequence[str] = LAYOUTS,
            high: int | None = None, seed_offset: int = 0) -> st.SearchStrategy[torch.Tensor]:
    """Tensors of `dtype` whose shape is drawn from `shape` (a strategy or a fixed shape).

    The drawn value seed is shifted by `seed_offset` (see `Ctx.tensors`: operands drawn alike
    still hold different values).

    >>> tensors("float32", (2, 3), "positive").example().shape  # doctest: +SKIP
    torch.Size([2, 3])
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; expected one of {DOMAINS}")
    if not set(layouts) <= set(LAYOUTS):
        raise ValueError(f"layouts must be among {LAYOUTS}")
    shape_st = shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))
    return st.builds(
        lambda s, seed, layout: make_tensor(s, dtype, domain, seed=seed + seed_offset, edge=edge, high=high,
                                            layout=layout),
        shape_st, st.integers(0, 2**16), st.sampled_from(tuple(layouts)))


def scalars(dtype: str, low: float = -3.0, high: float = 3.0) -> st.SearchStrategy[int | float | bool]:
    """A Python scalar suited to `dtype`: bool for bool, int for integer dtypes, float otherwise.

    >>> scalars("int32").example()  # doctest: +SKIP
    2
    """
    if dtype == "bool":
        return st.booleans()
    if torch.is_floating_point(torch.empty((), dtype=getattr(torch, dtype))):
        return st.floats(low, high, allow_nan=False, allow_infinity=False, width=32).map(lambda x: round(x, 3))
    return st.integers(int(low), int(high))


def is_float(dtype: str) -> bool:
    return torch.empty((), dtype=getattr(torch, dtype)).is_floating_point()


def is_int(dtype: str) -> bool:
    return dtype != "bool" and not is_float(dtype)


# ------------------------------------------------------------------------ value transforms
# In place on purpose: a non-contiguous tensor stays the same view of its storage.


def halves(t: torch.Tensor) -> torch.Tensor:
    """Floats rounded to multiples of 0.5: exact ties for round-half-to-even and equal elements.

    >>> halves(torch.tensor([0.3, 1.2, -2.6]))
    tensor([ 0.5000,  1.0000, -2.5000])
    """
    if t.is_floating_point():
        t.mul_(2).round_().div_(2)
    return t


def coarse(t: torch.Tensor) -> torch.Tensor:
    """Few distinct values, so two operands meet equal elements often: floats become halves in
    about [-1, 1], integers are floor-divided by 4.

    >>> coarse(torch.tensor([0.3, 1.2, -2.6]))
    tensor([ 0.0000,  0.5000, -1.5000])
    """
    if t.is_floating_point():
        t.mul_(0.5).round_().mul_(0.5)
    elif t.dtype != torch.bool:
        t.floor_divide_(4)
    return t


def specials_often(t: torch.Tensor) -> torch.Tensor:
    """Floats with NaN, +inf and -inf in about a fifth of the elements each (isnan, isinf and
    isfinite answer all-False or all-True on ordinary values)."""
    if t.is_floating_point():
        big, small = t > 1.2, t < -1.2
        middle = (t > 0.5) & ~big
        t[big], t[small], t[middle] = float("nan"), float("inf"), float("-inf")
    return t


def zeros_often(t: torch.Tensor) -> torch.Tensor:
    """About half the elements set to zero (logical ops need both truth values).

    >>> zeros_often(torch.tensor([0.5, 3.0, -4.0, 1.1]))
    tensor([ 0.,  3., -4.,  0.])
    """
    if t.dtype != torch.bool and t.numel():
        small = t.abs() < 1.2 if t.is_floating_point() else t.abs() < 5 if t.dtype != torch.uint8 else t < 5
        t[small] = 0
    return t
