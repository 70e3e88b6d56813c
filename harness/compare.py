"""Compare TVM's outputs with eager PyTorch's: count, shape, dtype, then values.

Self-contained on purpose (imports only torch and math): repro scripts embed this file, so
a repro judges its outputs with exactly the code that judged the case.

Floating outputs use the per-dtype tolerances of DEFAULT_TOLERANCES unless the case
widens them (with a reason); integer and bool outputs must be equal. NaN equals NaN,
infinities must match in sign, and a dtype that differs from eager's is a mismatch.
"""

from __future__ import annotations

import math

import torch

# (rtol, atol) per dtype. Half types get several ULPs of room because eager computes many
# half ops in float32 and rounds once, while a compiler may round after every step.
DEFAULT_TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-7),
    "float32": (1e-4, 1e-5),
    "float16": (1e-2, 1e-3),
    "bfloat16": (5e-2, 1e-2),
    "complex64": (1e-4, 1e-5),
    "complex128": (1e-7, 1e-7),
}


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def default_tolerance(dtype: torch.dtype) -> tuple[float, float]:
    """The table's tolerance for a dtype; exact (0, 0) for integer and bool dtypes."""
    return DEFAULT_TOLERANCES.get(dtype_name(dtype), (0.0, 0.0))


def _as_tensor(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, bool | int | float):
        return torch.tensor(value)
    raise TypeError(f"cannot compare output of type {type(value).__name__}")


def degenerate_kind(tensors: list[torch.Tensor]) -> str | None:
    """Why a reference proves little, or None: every output empty, all-NaN, all-zero or constant."""
    kinds = []
    for t in tensors:
        if t.numel() == 0:
            kinds.append("empty")
            continue
        if t.is_complex():
            t = torch.view_as_real(t)
        if t.is_floating_point():
            t64 = t.double()
            if bool(torch.isnan(t64).all()):
                kinds.append("all-nan")
                continue
            finite = t64[~torch.isnan(t64)]
            if bool((finite == 0).all()):
                kinds.append("all-zero")
                continue
            kinds.append("constant" if t.numel() > 1 and bool((finite == finite[0]).all()) else None)
        else:
            t64 = t.long() if t.dtype != torch.uint64 else t
            if bool((t64 == 0).all()):
                kinds.append("all-zero")
            else:
                flat = t64.reshape(-1)
                kinds.append("constant" if t.numel() > 1 and bool((flat == flat[0]).all()) else None)
    if kinds and all(k is not None for k in kinds):
        return kinds[0]
    return None


def _cosine_and_rel_l2(e: torch.Tensor, a: torch.Tensor) -> tuple[float | None, float | None]:
    """Scale-aware figures over elements finite in both: cosine similarity and ||a-e|| / ||e||."""
    mask = torch.isfinite(e) & torch.isfinite(a)
    e, a = e[mask], a[mask]
    ne, na = float(e.norm()), float(a.norm())
    rel_l2 = float((a - e).norm()) / ne if ne > 0.0 else None
    if ne == 0.0 or na == 0.0:
        return None, rel_l2
    return float((e * a).sum()) / (ne * na), rel_l2


def _compare_one(index: int, expected: torch.Tensor, actual: torch.Tensor, tol) -> dict:
    """Compare one output; `tol` is (rtol, atol) or None for the table's default."""
    where = f"output {index}"
    result = {"ok": True, "message": None, "max_abs_err": 0.0, "max_rel_err": 0.0,
              "rtol": 0.0, "atol": 0.0, "cosine": None, "rel_l2_err": None}
    if tuple(expected.shape) != tuple(actual.shape):
        return {**result, "ok": False,
                "message": f"{where}: shape {tuple(actual.shape)} != expected {tuple(expected.shape)}"}
    if expected.dtype != actual.dtype:
        return {**result, "ok": False,
                "message": f"{where}: dtype {dtype_name(actual.dtype)} != expected {dtype_name(expected.dtype)}"}
    if expected.numel() == 0:
        return result
    if expected.is_complex():
        expected, actual = torch.view_as_real(expected), torch.view_as_real(actual)
    if not expected.is_floating_point():
        e, a = expected, actual
        bad = e != a
        if expected.dtype == torch.uint64:
            # torch neither subtracts nor orders uint64 (nor promotes it to int64, which could not
            # hold it): the differing elements' errors are taken exactly in Python's integers.
            gaps = [abs(x - y) for x, y in zip(e[bad].tolist(), a[bad].tolist(), strict=True)]
            result["max_abs_err"] = float(max(gaps, default=0))
        else:
            result["max_abs_err"] = float((e.long() - a.long()).abs().max())
        if bool(bad.any()):
            i = int(bad.reshape(-1).nonzero()[0])
            result.update(ok=False, message=(
                f"{where}: {int(bad.sum())}/{bad.numel()} elements differ exactly-compared "
                f"(first at flat index {i}: expected {e.reshape(-1)[i].item()}, got {a.reshape(-1)[i].item()})"))
        return result

    rtol, atol = tol if tol is not None else default_tolerance(expected.dtype)
    result.update(rtol=rtol, atol=atol)
    e, a = expected.double(), actual.double()
    e_nan, a_nan = torch.isnan(e), torch.isnan(a)
    e_inf, a_inf = torch.isinf(e), torch.isinf(a)
    finite = ~(e_nan | a_nan | e_inf | a_inf)
    # An infinity against a number (or the other infinity) is an infinite error, not none: the
    # figures must not say 0 for a mismatch. NaN against a number has no size.
    infinite = (e_inf | a_inf) & ~(e_nan | a_nan) & (e != a)
    diff = torch.zeros_like(e)
    diff[finite] = (a[finite] - e[finite]).abs()
    bad = (e_nan != a_nan) | infinite | (finite & (diff > atol + rtol * e.abs()))
    if bool(infinite.any()):
        result["max_abs_err"] = result["max_rel_err"] = math.inf
    elif bool(finite.any()):
        result["max_abs_err"] = float(diff[finite].max())
        nonzero = finite & (e != 0)
        if bool(nonzero.any()):
            result["max_rel_err"] = float((diff[nonzero] / e[nonzero].abs()).max())
    result["cosine"], result["rel_l2_err"] = _cosine_and_rel_l2(e.reshape(-1), a.reshape(-1))
    if bool(bad.any()):
        flat_bad = bad.reshape(-1)
        i = int(flat_bad.nonzero()[0])
        result.update(ok=False, message=(
            f"{where}: {int(flat_bad.sum())}/{flat_bad.numel()} elements outside rtol={rtol:g} atol={atol:g} "
            f"(max abs err {result['max_abs_err']:.3g}; first at flat index {i}: "
            f"expected {e.reshape(-1)[i].item():.6g}, got {a.reshape(-1)[i].item():.6g})"))
    return result


def compare_outputs(expected: list, actual: list, tol=None) -> dict:
    """Compare flattened output lists; returns a dict with `ok`, `message` and the error figures.

    `tol` is an (rtol, atol) pair that replaces the table for floating outputs, or None.
    """
    summary = {"ok": True, "message": None, "max_abs_err": 0.0, "max_rel_err": 0.0,
               "rtol": None, "atol": None, "cosine": None, "rel_l2_err": None, "degenerate": None}
    if len(expected) != len(actual):
        return {**summary, "ok": False,
                "message": f"{len(actual)} outputs, expected {len(expected)}"}
    try:
        exp_t = [_as_tensor(x) for x in expected]
        act_t = [_as_tensor(x) for x in actual]
    except TypeError as err:
        return {**summary, "ok": False, "message": str(err)}
    summary["degenerate"] = degenerate_kind(exp_t)
    cosines = []
    for i, (e, a) in enumerate(zip(exp_t, act_t, strict=True)):
        one = _compare_one(i, e, a, tol)
        summary["max_abs_err"] = max(summary["max_abs_err"], one["max_abs_err"])
        summary["max_rel_err"] = max(summary["max_rel_err"], one["max_rel_err"])
        if one["rtol"] or one["atol"]:
            summary["rtol"] = max(summary["rtol"] or 0.0, one["rtol"])
            summary["atol"] = max(summary["atol"] or 0.0, one["atol"])
        if one["cosine"] is not None:
            cosines.append(one["cosine"])
        if one["rel_l2_err"] is not None:
            summary["rel_l2_err"] = max(summary["rel_l2_err"] or 0.0, one["rel_l2_err"])
        if not one["ok"] and summary["ok"]:
            summary.update(ok=False, message=one["message"])
    if summary["rtol"] is None:
        summary["rtol"] = summary["atol"] = 0.0
    summary["cosine"] = min(cosines) if cosines else None
    for key in ("max_abs_err", "max_rel_err"):
        if not math.isfinite(summary[key]):
            summary[key] = None
    return summary


def compare_structure(expected: list, actual: list) -> str | None:
    """Count, shape and dtype only: what a random op's outputs must share with eager's."""
    if len(expected) != len(actual):
        return f"{len(actual)} outputs, expected {len(expected)}"
    for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
        e, a = _as_tensor(e), _as_tensor(a)
        if tuple(e.shape) != tuple(a.shape):
            return f"output {i}: shape {tuple(a.shape)} != expected {tuple(e.shape)}"
        if e.dtype != a.dtype:
            return f"output {i}: dtype {dtype_name(a.dtype)} != expected {dtype_name(e.dtype)}"
    return None
