"""Compare TVM's outputs with eager PyTorch's, facet by facet, so one bug never hides another.

Self-contained on purpose (imports only torch and math): repro scripts embed this file, so
a repro judges its outputs with exactly the code that judged the case.

Facets, each judged on its own and all of them reported:
    count   how many outputs (the common prefix is still compared output by output)
    shape   an output's shape (values cannot be compared when it differs)
    dtype   an output's dtype; its values are still compared, after a cast to the expected dtype
    values  elements finite on both sides, within the rule's tolerance (integers and bools exactly)
    nan     where NaNs are
    inf     where infinities are, and their signs

Rules (`judged_by`): integer and bool outputs are compared `exact`; floating outputs with
`torch.testing.assert_close`'s tolerances for their dtype; float16 and bfloat16 outputs that
fail those are judged `fp64-ref` when a float64 reference exists, as torch's own compiler
accuracy check does (`torch._dynamo.utils.same(..., fp64_ref=...)`): TVM's RMS error against the
float64 result may not exceed 3x eager's own plus one unit in the last place (one rounding more
than eager's), and no single element may stray further from it
than 3x eager's worst element plus two units in the last place (one wild element is a bug, not
rounding, however large the tensor). A case may widen the
tolerance (`override`), only with a written reason, or have its dtype judged `fp64-ref` too
(`fp64_dtypes`: a row's Tolerance with float64_reference, where eager's own error is measured).
"""

from __future__ import annotations

import math

import torch

# torch.testing.assert_close's defaults, per dtype (rtol, atol).
DEFAULT_TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-7),
    "float32": (1.3e-6, 1e-5),
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "complex128": (1e-7, 1e-7),
    "complex64": (1.3e-6, 1e-5),
    "complex32": (1e-3, 1e-5),
}
HALF_DTYPES = ("float16", "bfloat16")
# The fp64-reference rule: TVM's RMS error may be FP64_RMS_FACTOR times eager's (torch uses 3
# for half types), and per element that factor times eager's worst plus FP64_ULPS units in the last place.
FP64_RMS_FACTOR = 3.0
FP64_ULPS = 2.0
FACETS = ("count", "shape", "dtype", "values", "nan", "inf")


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


def _number(value) -> float | int | bool | None:
    """A JSON-friendly element value (NaN and infinities spelled as strings)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _cosine_and_rel_l2(e: torch.Tensor, a: torch.Tensor) -> tuple[float | None, float | None]:
    """Scale-aware figures over elements finite in both: cosine similarity and ||a-e|| / ||e||."""
    mask = torch.isfinite(e) & torch.isfinite(a)
    e, a = e[mask], a[mask]
    # Both ratios are scale-free; dividing by the largest magnitude first keeps the norms from
    # underflowing (near the smallest normal) or overflowing (near the largest float).
    scale = float(torch.maximum(e.abs().max(), a.abs().max())) if e.numel() else 0.0
    if scale > 0.0:
        e, a = e / scale, a / scale
    ne, na = float(e.norm()), float(a.norm())
    rel_l2 = float((a - e).norm()) / ne if ne > 0.0 else None
    if ne == 0.0 or na == 0.0:
        return None, rel_l2
    return float((e * a).sum()) / (ne * na), rel_l2


def _widen(t: torch.Tensor) -> torch.Tensor:
    """A tensor in the widest type of its kind, real: float64 (complex as pairs), or int64."""
    if t.is_complex():
        return torch.view_as_real(t.to(torch.complex128))
    if t.is_floating_point():
        return t.double()
    return t.long()


def _common(expected: torch.Tensor, actual: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both sides in one type for the values facets: the actual is cast to the expected dtype,
    except a floating actual against an integer expectation, compared as floats so that a
    fraction is not truncated away."""
    if actual.dtype != expected.dtype:
        if expected.is_complex() and not actual.is_complex():
            actual = actual.to(expected.dtype)
        elif not (actual.is_floating_point() and not expected.is_floating_point()):
            actual = actual.to(expected.dtype)
        if actual.is_complex() and not expected.is_complex():
            expected = expected.to(actual.dtype)
    e, a = _widen(expected), _widen(actual)
    if e.is_floating_point() != a.is_floating_point():
        e, a = e.double(), a.double()
    return e, a


def _first(mask: torch.Tensor) -> int:
    return int(mask.reshape(-1).nonzero()[0])


def _pattern_facet(index: int, facet: str, wrong: torch.Tensor, e: torch.Tensor, a: torch.Tensor) -> dict:
    i = _first(wrong)
    return {"output": index, "facet": facet, "count": int(wrong.sum()), "numel": wrong.numel(),
            "first": i, "expected": _number(e.reshape(-1)[i].item()), "got": _number(a.reshape(-1)[i].item())}


def _ulp(ref: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """One unit in the last place of `dtype` at the magnitude of `ref` (float64)."""
    info = torch.finfo(dtype)
    return torch.exp2(torch.floor(torch.log2(ref.abs().clamp(min=info.tiny)))) * info.eps


def _fp64_rule(e: torch.Tensor, a: torch.Tensor, ref: torch.Tensor, dtype: torch.dtype,
               atol: float, outside: torch.Tensor) -> tuple[bool, dict, torch.Tensor]:
    """torch's fp64-reference accuracy rule, plus a per-element bound (see the module docstring).

    Returns the verdict, the RMS figures, and the elements beyond the per-element bound (or,
    where the reference cannot judge them, outside assert_close's tolerance: `outside`).
    """
    # A reference beyond the dtype's range (a pool's padding of float16's lowest is float64's
    # lowest in the float64 run) measures no rounding: eager's "error" there would be ~1e308 and
    # excuse any value, so such elements keep assert_close's verdict.
    judgeable = torch.isfinite(ref) & (ref.abs() <= torch.finfo(dtype).max)
    mask = torch.isfinite(e) & torch.isfinite(a) & judgeable
    beyond = outside & ~judgeable
    if not bool(mask.any()):
        return not bool(beyond.any()), {}, beyond
    eager_err = (e[mask] - ref[mask]).abs()
    tvm_err = (a[mask] - ref[mask]).abs()
    eager_rms = float(eager_err.square().mean().sqrt())
    tvm_rms = float(tvm_err.square().mean().sqrt())
    ulp = _ulp(ref[mask], dtype)
    rms_ok = tvm_rms <= FP64_RMS_FACTOR * eager_rms + float(ulp.square().mean().sqrt()) + atol
    bound = FP64_RMS_FACTOR * float(eager_err.max()) + FP64_ULPS * ulp + atol
    beyond[mask] = tvm_err > bound
    return rms_ok and not bool(beyond.any()), {"tvm_rms_err": tvm_rms, "eager_rms_err": eager_rms}, beyond


class _Reference:
    """The float64 reference outputs, computed on first use (it costs an eager run)."""

    def __init__(self, source):
        self.source, self.outputs = source, None

    def get(self, index: int) -> torch.Tensor | None:
        if self.outputs is None:
            found = self.source() if callable(self.source) else self.source
            self.outputs = list(found) if found is not None else []
        if index < len(self.outputs) and self.outputs[index] is not None:
            return _as_tensor(self.outputs[index])
        return None


def _compare_one(index: int, expected: torch.Tensor, actual: torch.Tensor, tol,
                 reference: _Reference, fp64_dtypes: tuple[str, ...] = HALF_DTYPES) -> dict:
    """Every facet of one output; `tol` is (rtol, atol) or None for the table's default."""
    out = {"facets": [], "max_abs_err": 0.0, "max_rel_err": 0.0, "rtol": 0.0, "atol": 0.0,
           "cosine": None, "rel_l2_err": None, "judged_by": None}
    facets = out["facets"]
    if tuple(expected.shape) != tuple(actual.shape):
        facets.append({"output": index, "facet": "shape", "expected": list(expected.shape),
                       "got": list(actual.shape)})
        return out
    if expected.dtype != actual.dtype:
        facets.append({"output": index, "facet": "dtype", "expected": dtype_name(expected.dtype),
                       "got": dtype_name(actual.dtype)})
    exact = not (expected.is_floating_point() or expected.is_complex())
    if tol is not None:  # a row's override, with its reason; integers too (uint8 resampling: atol=1)
        rtol, atol = tol
        out["judged_by"] = "override"
    else:
        rtol, atol = default_tolerance(expected.dtype)
        out["judged_by"] = "exact" if exact else "assert_close"
    out.update(rtol=rtol, atol=atol)
    if expected.numel() == 0:
        return out
    if expected.dtype == torch.uint64 and actual.dtype == torch.uint64:
        # int64 would wrap values past 2**63 (and torch neither subtracts nor orders uint64):
        # the differing elements are found and measured in Python's integers.
        e_list, a_list = expected.reshape(-1).tolist(), actual.reshape(-1).tolist()
        gaps = [abs(x - y) for x, y in zip(e_list, a_list, strict=True)]
        out["max_abs_err"] = float(max(gaps))
        wrong = torch.tensor([g != 0 for g in gaps])
        if bool(wrong.any()):
            i = _first(wrong)
            facets.append({"output": index, "facet": "values", "count": int(wrong.sum()), "numel": wrong.numel(),
                           "first": i, "expected": e_list[i], "got": a_list[i], "max_abs_err": out["max_abs_err"]})
        return out
    e, a = _common(expected, actual)
    if not e.is_floating_point():
        diff = (e.double() - a.double()).abs()
        wrong = diff > atol + rtol * e.double().abs() if out["judged_by"] == "override" else e != a
        out["max_abs_err"] = float(diff.max())
        if bool(wrong.any()):
            facets.append({**_pattern_facet(index, "values", wrong, e, a), "max_abs_err": out["max_abs_err"]})
        return out

    e_nan, a_nan = torch.isnan(e), torch.isnan(a)
    if bool((e_nan != a_nan).any()):
        facets.append(_pattern_facet(index, "nan", e_nan != a_nan, e, a))
    both = ~(e_nan | a_nan)
    e_inf, a_inf = torch.isinf(e), torch.isinf(a)
    wrong_inf = both & (e_inf | a_inf) & (e != a)
    if bool(wrong_inf.any()):
        facets.append(_pattern_facet(index, "inf", wrong_inf, e, a))
        infinite = True  # an infinity against a number: the error is infinite, not the finite elements' largest
    else:
        infinite = False
    finite = both & ~e_inf & ~a_inf
    diff = torch.zeros_like(e)
    diff[finite] = (a[finite] - e[finite]).abs()
    outside = finite & (diff > atol + rtol * e.abs())
    if bool(finite.any()):
        out["max_abs_err"] = float(diff[finite].max())
        nonzero = finite & (e != 0)
        if bool(nonzero.any()):
            out["max_rel_err"] = float((diff[nonzero] / e[nonzero].abs()).max())
    if infinite:  # infinite (a record writes null: JSON holds no infinity), never a 0 that reads as no error
        out["max_abs_err"] = out["max_rel_err"] = math.inf
    out["cosine"], out["rel_l2_err"] = _cosine_and_rel_l2(e.reshape(-1), a.reshape(-1))
    if not bool(outside.any()):
        return out
    extra = {}
    ref = reference.get(index) if (out["judged_by"] == "assert_close"
                                   and dtype_name(expected.dtype) in fp64_dtypes) else None
    # A reference that did not come out in float64 (a dtype= argument fixed it) judges nothing.
    if ref is not None and ref.dtype == torch.float64 and tuple(ref.shape) == tuple(expected.shape):
        ok, extra, beyond = _fp64_rule(e, a, _widen(ref), expected.dtype, atol, outside)
        out["judged_by"] = "fp64-ref"
        if ok:
            out.update(extra)
            return out
        if bool(beyond.any()):  # the elements that are wrong by this rule, not by assert_close's
            outside = beyond
    facet = _pattern_facet(index, "values", outside, e, a)
    facet.update(max_abs_err=out["max_abs_err"] if math.isfinite(out["max_abs_err"]) else None,
                 rtol=rtol, atol=atol, **extra)
    facets.append(facet)
    return out


def describe(facet: dict) -> str:
    """One facet as text: `output 0: values 3/12 outside rtol=... (first at 4: expected 1, got 2)`."""
    where = f"output {facet['output']}: " if facet.get("output") is not None else ""
    kind = facet["facet"]
    if kind in ("count", "shape", "dtype"):
        return f"{where}{kind} {facet['got']} != expected {facet['expected']}"
    if kind == "property":
        return f"{where}{facet['got']}"
    bound = (f" outside rtol={facet['rtol']:g} atol={facet['atol']:g}" if "rtol" in facet else
             " differ" if kind == "values" else " misplaced")
    error = ("" if "max_abs_err" not in facet else "max abs err inf; " if facet["max_abs_err"] is None
             else f"max abs err {facet['max_abs_err']:.3g}; ")
    rms = (f"rms err {facet['tvm_rms_err']:.3g} vs eager's {facet['eager_rms_err']:.3g} against float64; "
           if "tvm_rms_err" in facet else "")
    return (f"{where}{kind} {facet['count']}/{facet['numel']}{bound} ({error}{rms}first at flat index "
            f"{facet['first']}: expected {facet['expected']}, got {facet['got']})")


def facet_signature(facets: list[dict]) -> str:
    """What differs, without the numbers: equal bugs share it across ops and sizes."""
    parts = []
    for facet in facets:
        where = f"output {facet['output']} " if facet.get("output") is not None else ""
        detail = f" {facet['got']} != {facet['expected']}" if facet["facet"] == "dtype" else ""
        parts.append(f"{where}{facet['facet']}{detail}")
    return "; ".join(parts)


def compare_outputs(expected: list, actual: list, tol=None, reference: list | None = None,
                    fp64_dtypes: tuple[str, ...] = HALF_DTYPES) -> dict:
    """Compare flattened output lists facet by facet.

    `tol` is an (rtol, atol) pair that replaces the table for floating outputs, or None;
    `reference` the same outputs computed in float64 (entries may be None), for half outputs,
    or a function returning them, called only when a half output needs them; `fp64_dtypes`
    the dtypes judged so (half precision, and a row's float64_reference dtype).
    Returns `ok`, `facets` (every difference), `message` (them, as one line), the error
    figures, `degenerate` and `judged_by` (the rules applied, `+`-joined).
    """
    summary = {"ok": True, "message": None, "facets": [], "max_abs_err": 0.0, "max_rel_err": 0.0,
               "rtol": None, "atol": None, "cosine": None, "rel_l2_err": None, "degenerate": None,
               "judged_by": None}
    try:
        exp_t = [_as_tensor(x) for x in expected]
        act_t = [_as_tensor(x) for x in actual]
    except TypeError as err:
        facet = {"output": None, "facet": "count", "expected": len(expected), "got": str(err)}
        return {**summary, "ok": False, "facets": [facet], "message": str(err)}
    if len(exp_t) != len(act_t):
        summary["facets"].append({"output": None, "facet": "count", "expected": len(exp_t), "got": len(act_t)})
    summary["degenerate"] = degenerate_kind(exp_t)
    cosines, rules = [], []
    lazy = _Reference(reference)
    for i, (e, a) in enumerate(zip(exp_t, act_t, strict=False)):
        one = _compare_one(i, e, a, tol, lazy, fp64_dtypes)
        summary["facets"].extend(one["facets"])
        summary["max_abs_err"] = max(summary["max_abs_err"], one["max_abs_err"])
        summary["max_rel_err"] = max(summary["max_rel_err"], one["max_rel_err"])
        if one["rtol"] or one["atol"]:
            summary["rtol"] = max(summary["rtol"] or 0.0, one["rtol"])
            summary["atol"] = max(summary["atol"] or 0.0, one["atol"])
        if one["cosine"] is not None:
            cosines.append(one["cosine"])
        if one["rel_l2_err"] is not None:
            summary["rel_l2_err"] = max(summary["rel_l2_err"] or 0.0, one["rel_l2_err"])
        if one["judged_by"] and one["judged_by"] not in rules:
            rules.append(one["judged_by"])
    if summary["rtol"] is None:
        summary["rtol"] = summary["atol"] = 0.0
    summary["cosine"] = min(cosines) if cosines else None
    summary["judged_by"] = "+".join(rules) or None
    for key in ("max_abs_err", "max_rel_err"):
        if not math.isfinite(summary[key]):
            summary[key] = None
    if summary["facets"]:
        summary["ok"] = False
        summary["message"] = "; ".join(describe(f) for f in summary["facets"])
    return summary


def compare_structure(expected: list, actual: list) -> list[dict]:
    """The count, shape and dtype facets only: what a random op's outputs must share with eager's."""
    facets = []
    if len(expected) != len(actual):
        facets.append({"output": None, "facet": "count", "expected": len(expected), "got": len(actual)})
    for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
        e, a = _as_tensor(e), _as_tensor(a)
        if tuple(e.shape) != tuple(a.shape):
            facets.append({"output": i, "facet": "shape", "expected": list(e.shape), "got": list(a.shape)})
        elif e.dtype != a.dtype:
            facets.append({"output": i, "facet": "dtype", "expected": dtype_name(e.dtype),
                           "got": dtype_name(a.dtype)})
    return facets
