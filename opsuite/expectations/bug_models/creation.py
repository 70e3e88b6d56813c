"""Models of the creation converters' known bugs (known_failures/creation.toml).

relax.arange with constant start, end and step legalises to a constant computed by numpy,
`np.arange(start, end, step, dtype)` (tvm/relax/transform/legalize_ops/create.py), so the models
below call numpy the same way: numpy rounds start to the dtype, takes the step as the difference
of the first two points in the dtype, and decides the length as ceil((end - start) / step) in
float64.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from opsuite.expectations.bug_models import on_call
from opsuite.expectations.bug_models.linalg import _matmul_float32


def _np_arange(start, end, step, dtype: torch.dtype) -> torch.Tensor:
    if dtype == torch.bfloat16:
        # Imported here: loading the expectations must not cost a process that never calls a
        # model the second ml_dtypes takes to import.
        import ml_dtypes

        found = np.arange(start, end, step, dtype=ml_dtypes.bfloat16)
        return torch.from_numpy(found.view(np.int16).copy()).view(torch.bfloat16)
    return torch.from_numpy(np.arange(start, end, step, dtype=torch.empty((), dtype=dtype).numpy().dtype))


@on_call
def arange_by_numpy(start, end=None, step=1, *, dtype=None, **_):
    """_arange: relax.arange(start, end, step, dtype) of constants, which becomes numpy's arange
    in the dtype: for bfloat16, start is rounded first (17.23 -> 17.25) and every point steps
    from there in bfloat16, where torch adds i * step to the float start and rounds once."""
    if end is None:
        start, end = 0, start
    return _np_arange(start, end, step, dtype or torch.get_default_dtype())


@on_call
def linspace_by_arange(start, end, steps, **_):
    """_linspace: step = (end - start) / (steps - 1), then arange(start, end + step / 2, step) in
    float32 (the dtype keyword is never read; steps=1 gives arange(start, start + 1, 1), which
    numpy's float64 length can make two points)."""
    step = steps
    if steps != 1:
        step = (end - start) / (steps - 1)
        end = end + step / 2
    else:
        end = start + step
    return _np_arange(start, end, step, torch.float32)


@on_call
def linspace_scalars_truncated(start, end, steps, *, dtype=None, **_):
    """Integer linspace as run_decompositions writes it: an int64 arange `i`, then
    where(i < steps / 2, start + step * i, end - step * (steps - 1 - i)). `_binary_op` makes each
    float scalar a constant of the arange's int64 (the step -1.875 becomes -1, the midpoint 8.5
    becomes 8), so the points are built from truncated numbers."""
    def trunc(value):
        return int(value)  # relax.const(value, "int64"): truncation toward zero

    step = (end - start) / (steps - 1)
    i = torch.arange(steps, dtype=torch.int64)
    low = i * trunc(step) + trunc(start)
    high = trunc(end) - (trunc(steps - 1) - i) * trunc(step)
    return torch.where(i < trunc(steps / 2), low, high).to(dtype)


def _hamming(window_length: int, periodic: bool, alpha: float, beta: float) -> torch.Tensor:
    n = window_length + 1 if periodic else window_length
    index = torch.arange(n, dtype=torch.float32)
    window = alpha - beta * torch.cos(2 * math.pi * index / (n - 1))
    return window[:-1] if periodic else window


@on_call
def hamming_window_rounded_once(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, **_):
    """relax.hamming_window (topi.hamming_window): alpha - beta * cos(2 pi i / (N - 1)) computed in
    float32 and rounded once to the dtype (established by experiment), where eager builds the
    window step by step in the dtype (arange, mul_, cos_, mul_, add_, each rounded)."""
    return _hamming(window_length, periodic, alpha, beta).to(dtype or torch.get_default_dtype())


@on_call
def sparse_mm_in_float32(a, b):
    """_sparse_mm: relax.matmul(a, b, out_dtype="float32"), the operands cast to float32."""
    return _matmul_float32(a, b)


@on_call
def sparse_addmm_in_float32(x, mat1, mat2, *, beta=1.0, alpha=1.0):
    """_sparse_addmm: matmul(mat1, mat2, out_dtype="float32") times alpha, plus beta * x unless
    beta is 0 (an x of another dtype than float32 is refused there at import)."""
    product = _matmul_float32(mat1, mat2)
    if alpha != 1.0:
        product = product * torch.tensor(alpha, dtype=torch.float32)
    if beta == 0.0:
        return product
    return (x if beta == 1.0 else x * torch.tensor(beta, dtype=x.dtype)) + product
