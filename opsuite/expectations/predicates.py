"""Named predicates over a case, for expectations that hold for only some of an op's cases.

In known_failures/*.toml, `when = "NAME"` or `when = "NAME:ARG"`, negated with `!`, joined with
`&` (`"kwarg:alpha & !empty"`: a value bug that an empty output cannot show) and alternatives with
`|`, which binds looser (`"nan | inf & !empty"` is nan, or inf on a non-empty input). Each
predicate reads the call the case makes: an op-table case carries its arguments, an OpInfo
case's are built from its sample (its first argument, the sample's input, is `self`):
    kwarg:NAME      the call passes keyword argument NAME
    value:NAME=V    the call passes argument NAME (by keyword, or by position as the op's
                    schema names it) with the value V, a Python literal: `value:window_length=1`
    holds:NAME=V    the call passes argument NAME (named as for value:) as a list or tuple with
                    an element equal to V: `holds:output_size=1` (an output side of 1); NAME may
                    end in a slice, `holds:size[2:]=1`, to look at those elements only
    variant:TEXT    the case's variant label contains TEXT (e.g. "broadcast", "keepdim")
    sample:TEXT     an OpInfo case's sample description contains TEXT (e.g. "dim=None")
    tier:edge       the case is in the edge-value tier (NaN, inf, extremes)
    empty           some tensor input has a zero-size dimension
    empty_inner     some tensor input has a zero-size dimension after a dimension other than 1
                    (a loop of extent 0 inside another loop, once unit dims are dropped)
    empty_dim       the first tensor's dimension `dim` (by keyword or schema position; -1 when
                    not given, as sort, argsort and topk default) has size 0
    empty_not_first the first tensor has a zero-size dimension other than its first (a flat
                    index into it unravels through a division by that extent)
    scalar          some tensor input is 0-dimensional
    decomposed      the case runs run_decompositions before import (rows with `decompose=False`
                    reach the op's own converter; their `decomposed` twins do not)
    nan             some tensor input holds a NaN
    inf             some tensor input holds +-inf
    above:N         some tensor input holds a value greater than N (a bug only large values show)
    scalar_outside  a Python int argument lies outside the range of the first tensor input's
                    dtype (PyTorch wraps it; a constant of that dtype cannot hold it)
    zero_scalar     a Python scalar argument is zero or False (x + 0 is simplified away before
                    code generation, so a bug in the generated add never shows)
    zero_divisor    the second argument (a tensor or a Python number) holds a zero
    scalar_min      a Python int argument is the minimum of the first tensor input's integer
                    dtype (-2**31 for int32: a constant whose negation the dtype cannot hold)
    zerodim_widens  two tensor arguments of different dtypes, one 0-dim, for which
                    torch.promote_types gives another dtype than torch's own promotion (a 0-dim
                    operand of the same category does not decide the result in torch)
    float_outside   a Python float argument with an integer first tensor input that no integer
                    of its dtype holds: NaN, an infinity, or a value whose truncation lies
                    outside the dtype (numpy refuses to make a constant of it)
    const_divisor_zero  the second argument is a Python number that is zero once made a
                    constant of the first tensor input's dtype (0.6 for an int tensor)
    nan_first       the first tensor argument holds a NaN where the second (broadcast) does not
    shows:MODEL     the modelled bug changes this draw's answer: MODEL (MODULE.NAME of
                    bug_models, e.g. pointwise.binary_op) gives outputs that the harness's
                    comparison (the case's tolerance) tells from eager's, its unpredictable
                    elements aside; for a bug that most draws cannot show (floor(a / b) is
                    torch's floor division unless the quotient overflows, underflows or rounds)
    alpha_shows     the call passes alpha and dropping it changes eager's answer beyond the
                    output dtype's default tolerance (alpha * other may vanish beside self,
                    wrap to other, or leave an infinity unchanged)
    nonfinite_scalar  a Python number argument (positional or keyword) is NaN or an infinity,
                    or becomes one in the case's floating dtype (the first tensor's, else the
                    dtype argument's): 2**63 - 1 is inf in float16
    beyond_float32  a finite Python float argument lies beyond float32's range (a float64 value
                    that a float32 literal cannot hold)
    slice_none_kept a slice_scatter call whose start or end is None before an argument that
                    is not its default: the exported node keeps the None positionally
                    (trailing defaults are dropped), and the converter cannot make it an Expr
    slice_refused   a slice_scatter call whose bounds, normalised as TVM's converter does
                    (a negative bound plus the side once, unclamped; one past the side capped),
                    give start > end or a slice of another length than src's: relax refuses it
    adaptive_pool2d_unbatched  an adaptive_avg_pool1d call on an unbatched (C, L) input whose
                    output size is not 1: torch's decomposition makes it unsqueeze(-2), then
                    _adaptive_avg_pool2d on a 3-d (C, 1, L) tensor, then squeeze (an output size
                    of 1 becomes a mean instead)
    nan_then_padding  a max_pool call (max_poolNd[_with_indices]) with a window whose last real
                    element is a NaN and whose last element is padding: LLVM folds away a max
                    with a padding value it can see, so whether the NaN or the padding's lowest
                    survives is not what the row-major select model says
    sample_empty    an OpInfo case's sample description names a tensor with a zero-size
                    dimension (`Tensor[1,0,3]`)
    shuffle_side_zero  a pixel_shuffle call whose leading dims (all but the last three) are
                    nonzero and exactly one spatial side is 0: the width with a factor of 1 or
                    2, or the height with a factor of 1 (RewriteDataflowReshape takes only those
                    zero-size permutes for reshapes; measured over factors 1-3)
    negative_index  an integer tensor input other than the first holds a negative value
                    (an index that torch wraps and a converter may pass on raw)
    chunk_overrun   a chunk call whose n = min(chunks, side) sections of ceil(side / n) each
                    overrun the side before the last one ((n - 1) * ceil(side / n) > side): the
                    last of relax split's n sections has a negative size
    slice_backwards a slice call whose start, wrapped and clamped to the side as torch does,
                    lies after its end (torch returns an empty slice)
"""

from __future__ import annotations

import copy
import functools
import math
import re

import torch

from harness.case import Case

_OPINFO_CALLS: dict = {}  # case id -> the call an OpInfo case makes (built once per process)


def _call(case: Case) -> dict:
    """The call a case makes: {"op", "args", "kwargs"}. An op-table case carries its arguments;
    an OpInfo case carries only the name of its sample, so its call is built here, and every
    predicate sees the same tensors and arguments the worker's module will call the op with."""
    if "opinfo" not in case.meta:
        return case.program.kwargs
    key = (case.case_id, case.seed)
    if key not in _OPINFO_CALLS:
        module, inputs = case.program.build()
        args, kwargs = module.call_arguments(inputs)
        _OPINFO_CALLS[key] = {"op": None, "args": tuple(args), "kwargs": dict(kwargs)}
    return _OPINFO_CALLS[key]


def _tensors(case: Case) -> list[torch.Tensor]:
    found = []

    def walk(value):
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    walk(dict(_call(case)))
    return found


def kwarg(name: str, case: Case) -> bool:
    return name in (_call(case).get("kwargs") or {})


def _named_arguments(case: Case) -> dict:
    """The call's arguments by their schema names (positional ones named by the aten schema)."""
    call = _call(case)
    given = dict(call.get("kwargs") or {})
    op = call.get("op")
    args = list(call.get("args") or ())
    if isinstance(op, str) and op.count(".") == 2 and args:
        namespace, packet, overload = op.split(".")
        try:
            schema = getattr(getattr(getattr(torch.ops, namespace), packet), overload)._schema
        except AttributeError:
            return given
        given.update(zip((a.name for a in schema.arguments), args, strict=False))
    elif op is None and args:  # an OpInfo call: its first argument is the sample's input
        given.setdefault("self", args[0])
    return given


def value(spec: str, case: Case) -> bool:
    import ast

    name, _, literal = spec.partition("=")
    named = _named_arguments(case)
    return name in named and named[name] == ast.literal_eval(literal)


def holds(spec: str, case: Case) -> bool:
    import ast

    name, _, literal = spec.partition("=")
    name, bracket, bounds = name.partition("[")
    given = _named_arguments(case).get(name)
    if not isinstance(given, list | tuple):
        return False
    if bracket:
        start, _, stop = bounds.rstrip("]").partition(":")
        given = given[int(start) if start else None:int(stop) if stop else None]
    return ast.literal_eval(literal) in given


def variant(text: str, case: Case) -> bool:
    return text in str(case.meta.get("variant", ""))


def sample(text: str, case: Case) -> bool:
    return text in str(case.meta.get("sample", ""))


def tier(name: str, case: Case) -> bool:
    return case.meta.get("tier") == name


def empty(case: Case) -> bool:
    return any(t.numel() == 0 for t in _tensors(case))


def empty_inner(case: Case) -> bool:
    for t in _tensors(case):
        sizes = list(t.shape)
        if any(size == 0 and any(d != 1 for d in sizes[:i]) for i, size in enumerate(sizes)):
            return True
    return False


def empty_reduction(case: Case) -> bool:
    """A reduction of the first tensor over no elements: its reduced dims (args[1] or dim=; None
    or [] meaning all of them) hold a zero-size one."""
    tensors = _tensors(case)
    if not tensors:
        return False
    x = tensors[0]
    args = list(_call(case).get("args") or ())
    dims = args[1] if len(args) > 1 else (_call(case).get("kwargs") or {}).get("dim")
    if dims is None or dims == []:
        return x.numel() == 0
    dims = [dims] if isinstance(dims, int) else list(dims)
    return any(x.shape[d] == 0 for d in dims) if x.dim() else False


def empty_dim(case: Case) -> bool:
    tensors = _tensors(case)
    if not tensors or tensors[0].dim() == 0:
        return False
    dim = _named_arguments(case).get("dim", -1)
    return isinstance(dim, int) and tensors[0].shape[dim] == 0


def empty_first(case: Case) -> bool:
    """The call's first tensor has no elements (isin's `elements`)."""
    tensors = _tensors(case)
    return bool(tensors) and tensors[0].numel() == 0


def empty_not_first(case: Case) -> bool:
    tensors = _tensors(case)
    return bool(tensors) and 0 in tensors[0].shape[1:]


def scalar(case: Case) -> bool:
    return any(t.dim() == 0 for t in _tensors(case))


def decomposed(case: Case) -> bool:
    return case.decompose


def nan(case: Case) -> bool:
    return any(t.is_floating_point() and bool(t.isnan().any()) for t in _tensors(case))


def inf(case: Case) -> bool:
    return any(t.is_floating_point() and bool(t.isinf().any()) for t in _tensors(case))


def above(bound: str, case: Case) -> bool:
    return any(t.numel() > 0 and bool((t.double() > float(bound)).any()) for t in _tensors(case) if not t.is_complex())


def _ints(case: Case) -> list[int]:
    args = list(_call(case).get("args") or ()) + list((_call(case).get("kwargs") or {}).values())
    return [a for a in args if isinstance(a, int) and not isinstance(a, bool)]


def scalar_outside(case: Case) -> bool:
    tensors = _tensors(case)
    if not tensors or tensors[0].is_floating_point() or tensors[0].dtype == torch.bool:
        return False
    info = torch.iinfo(tensors[0].dtype)
    return any(not info.min <= v <= info.max for v in _ints(case))


def zero_scalar(case: Case) -> bool:
    args = list(_call(case).get("args") or ()) + list((_call(case).get("kwargs") or {}).values())
    return any(isinstance(a, bool | int | float) and a == 0 for a in args)


def zero_divisor(case: Case) -> bool:
    args = list(_call(case).get("args") or ())
    if len(args) < 2:
        return False
    divisor = args[1]
    if isinstance(divisor, torch.Tensor):
        return bool((divisor == 0).any()) if divisor.numel() else False
    return isinstance(divisor, bool | int | float) and divisor == 0


def scalar_min(case: Case) -> bool:
    tensors = _tensors(case)
    if not tensors or tensors[0].is_floating_point() or tensors[0].is_complex() or tensors[0].dtype == torch.bool:
        return False
    return torch.iinfo(tensors[0].dtype).min in _ints(case)


def zerodim_widens(case: Case) -> bool:
    args = [a for a in _call(case).get("args") or () if isinstance(a, torch.Tensor)]
    if len(args) != 2 or args[0].dtype == args[1].dtype or not any(a.dim() == 0 for a in args):
        return False
    return torch.result_type(*args) != torch.promote_types(args[0].dtype, args[1].dtype)


def _integral_first(case: Case) -> torch.dtype | None:
    tensors = _tensors(case)
    if not tensors or tensors[0].is_floating_point() or tensors[0].is_complex():
        return None
    return tensors[0].dtype


def float_outside(case: Case) -> bool:
    dtype = _integral_first(case)
    if dtype is None or dtype == torch.bool:  # numpy makes any float a bool, NaN included
        return False
    info = torch.iinfo(dtype)
    args = list(_call(case).get("args") or ()) + list((_call(case).get("kwargs") or {}).values())
    for value in (a for a in args if isinstance(a, float)):
        if value != value or value in (float("inf"), float("-inf")):
            return True
        if not info.min <= int(value) <= info.max:
            return True
    return False


def const_divisor_zero(case: Case) -> bool:
    args = list(_call(case).get("args") or ())
    tensors = _tensors(case)
    if len(args) < 2 or isinstance(args[1], torch.Tensor) or not isinstance(args[1], bool | int | float) or not tensors:
        return False
    divisor = args[1]
    if not (tensors[0].is_floating_point() or tensors[0].is_complex()):
        return divisor == divisor and abs(divisor) < 1  # truncated toward zero; NaN is no constant at all
    return bool(torch.tensor(divisor, dtype=torch.float64).to(tensors[0].dtype) == 0)  # 1e-30 is 0 in float16


def nan_first(case: Case) -> bool:
    args = [a for a in _call(case).get("args") or () if isinstance(a, torch.Tensor)]
    if len(args) < 2 or not args[0].is_floating_point():
        return False
    first, second = torch.broadcast_tensors(args[0], args[1])
    alone = first.isnan() & ~(second.isnan() if second.is_floating_point() else torch.zeros_like(first, dtype=torch.bool))
    return bool(alone.any())


def _told_apart(case: Case, module, inputs, expected: list, got: list) -> bool:
    """Whether the harness's comparison fails `got` against eager's `expected`: the case's
    tolerance, and for half precision the float64 reference, as when TVM's outputs are judged."""
    from harness.compare import compare_outputs
    from harness.stages import float64_run, judging

    reference = lambda: float64_run(lambda m, i: m(*i), module, inputs, case.seed)  # noqa: E731
    return not compare_outputs(expected, got, **judging(case), reference=reference)["ok"]


def shows(model_name: str, case: Case) -> bool:
    from harness.stages import flatten_outputs
    from opsuite.expectations.bug_models import resolve

    model = resolve(model_name)
    try:
        with torch.no_grad():  # on copies: an in-place op would write into the case's own inputs
            module, inputs = case.program.build()
            expected = flatten_outputs(module(*copy.deepcopy(inputs)))
            found = model(copy.deepcopy(module), copy.deepcopy(inputs))
    # Eager refuses the draw (x // 0 on integers: the case is a skip), or the model cannot compute
    # it (a fold over a 0-dim input): either way the model explains nothing there.
    except Exception:  # noqa: BLE001
        return False
    outputs = flatten_outputs(found["outputs"] if isinstance(found, dict) else found)
    unknown = list(found.get("unknown") or []) if isinstance(found, dict) else []
    for i, mask in enumerate(unknown):  # what nobody can predict is no evidence either way
        if mask is not None and i < len(outputs) and tuple(mask.shape) == tuple(expected[i].shape):
            outputs[i] = outputs[i].clone()
            outputs[i][mask] = expected[i].to(outputs[i].dtype)[mask]
    return _told_apart(case, module, inputs, expected, outputs)


def alpha_shows(case: Case) -> bool:
    if not kwarg("alpha", case):
        return False
    kwargs = dict(_call(case).get("kwargs") or {})
    kwargs.pop("alpha")
    try:
        with torch.no_grad():  # on copies: an in-place op (add_) would write into the case's own inputs
            module, inputs = case.program.build()
            expected = module(*[t.clone() for t in inputs])
            dropped_module, dropped_inputs = case.program.build(kwargs=kwargs)
            dropped = dropped_module(*[t.clone() for t in dropped_inputs])
    except Exception:  # noqa: BLE001 - eager refuses the draw: the case is a skip
        return False
    return _told_apart(case, module, tuple(t.clone() for t in inputs), [expected], [dropped])


def _python_numbers(case: Case) -> list[float]:
    args = list(_call(case).get("args") or ()) + list((_call(case).get("kwargs") or {}).values())
    return [a for a in args if isinstance(a, int | float) and not isinstance(a, bool)]


def _python_floats(case: Case) -> list[float]:
    return [a for a in _python_numbers(case) if isinstance(a, float)]


def _floating_dtype(case: Case) -> torch.dtype | None:
    tensors = _tensors(case)
    dtype = tensors[0].dtype if tensors else (_call(case).get("kwargs") or {}).get("dtype")
    return dtype if isinstance(dtype, torch.dtype) and dtype.is_floating_point else None


def nonfinite_scalar(case: Case) -> bool:
    dtype = _floating_dtype(case)
    for value in _python_numbers(case):
        if isinstance(value, float) and not math.isfinite(value):
            return True
        if dtype is not None and not torch.isfinite(torch.tensor(float(value), dtype=torch.float64).to(dtype)):
            return True
    return False


def beyond_float32(case: Case) -> bool:
    return any(math.isfinite(v) and abs(v) > torch.finfo(torch.float32).max for v in _python_floats(case))


def _first_tensor(named: dict):
    """The call's first tensor argument, by its schema name (`self`) or as a keyword `input`."""
    return named.get("self", named.get("input"))


def _slice_call(case: Case) -> tuple | None:
    """(input, src, dim, start, end, step) of a slice_scatter call, defaults filled in."""
    given = _named_arguments(case)
    x = _first_tensor(given)
    if not (isinstance(x, torch.Tensor) and isinstance(given.get("src"), torch.Tensor)):
        return None
    return (x, given["src"], given.get("dim", 0), given.get("start"), given.get("end"), given.get("step", 1))


def slice_none_kept(case: Case) -> bool:
    call = _slice_call(case)
    if call is None:
        return False
    _, _, _, start, end, step = call
    return (start is None and (end is not None or step != 1)) or (end is None and step != 1)


def slice_refused(case: Case) -> bool:
    call = _slice_call(case)
    if call is None or slice_none_kept(case):
        return False
    x, src, dim, start, end, step = call
    side = x.shape[dim]

    def converter(bound):  # base_fx_graph_translator._slice_scatter's _adjust
        if bound >= 2**63 - 1:
            return side
        if bound < 0:
            return side + bound
        return min(bound, side)

    first = converter(0 if start is None else start)
    last = converter(side if end is None else end)
    return first > last or len(range(first, last, step)) != src.shape[dim]


def adaptive_pool2d_unbatched(case: Case) -> bool:
    given = _named_arguments(case)
    x, size = _first_tensor(given), given.get("output_size")
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or size is None:
        return False
    size = [size] if isinstance(size, int) else list(size)
    return size != [1]


def nan_then_padding(case: Case) -> bool:
    from opsuite.expectations.bug_models.nn_pool import _out_size, _tuple, _windows

    op = str(_call(case).get("op", ""))
    nd = next((n for n in (1, 2, 3) if f"max_pool{n}d" in op), None)
    given = _named_arguments(case)
    x = _first_tensor(given)
    if nd is None or not isinstance(x, torch.Tensor) or not x.is_floating_point() or not bool(x.isnan().any()):
        return False
    kernel = _tuple(given["kernel_size"], nd)
    stride = given.get("stride")
    stride = _tuple(stride, nd) if stride not in (None, [], ()) else kernel
    padding, dilation = _tuple(given.get("padding", 0), nd), _tuple(given.get("dilation", 1), nd)
    marks = x.isnan().to(torch.int8)  # 0 a number, 1 a NaN, 2 padding
    if marks.dim() == nd + 1:
        marks = marks.unsqueeze(0)
    if any(_out_size(marks.shape[2 + a], kernel[a], stride[a], padding[a], dilation[a],
                     bool(given.get("ceil_mode", False))) <= 0 for a in range(nd)):
        return False
    windows = _windows(marks, nd, kernel, stride, padding, dilation, bool(given.get("ceil_mode", False)), 2)
    real = windows != 2
    if windows.numel() == 0:
        return False
    last_real = torch.where(real, torch.arange(windows.shape[-1]), -1).amax(-1)
    ends_padded = windows[..., -1] == 2
    nan_last = torch.gather(windows, -1, last_real.clamp(min=0).unsqueeze(-1)).squeeze(-1) == 1
    return bool((ends_padded & (last_real >= 0) & nan_last).any())


_EMPTY_TENSOR = re.compile(r"Tensor\[(?:\d+,)*0(?:,\d+)*\]")  # Tensor[0], Tensor[1,0,3]; not Tensor[10]


def sample_empty(case: Case) -> bool:
    return bool(_EMPTY_TENSOR.search(str(case.meta.get("sample", ""))))


def shuffle_side_zero(case: Case) -> bool:
    given = _named_arguments(case)
    x, r = _first_tensor(given), given.get("upscale_factor")
    if not isinstance(x, torch.Tensor) or x.dim() < 3 or not isinstance(r, int):
        return False
    *lead, _, h, w = x.shape
    if 0 in lead or (h == 0) == (w == 0):
        return False
    return (w == 0 and r <= 2) or (h == 0 and r == 1)


def negative_index(case: Case) -> bool:
    # The built inputs, not the call's arguments: an OpInfo case's arguments name its sample only.
    _, inputs = case.program.build()
    indices = [t for t in inputs if isinstance(t, torch.Tensor)][1:]
    return any(not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool and bool((t < 0).any())
               for t in indices)


def chunk_overrun(case: Case) -> bool:
    given = _named_arguments(case)
    x, chunks = _first_tensor(given), given.get("chunks")
    if not isinstance(x, torch.Tensor) or x.dim() == 0 or not isinstance(chunks, int):
        return False
    side = x.shape[given.get("dim", 0)]
    n = min(chunks, side)
    return n > 0 and (n - 1) * -(-side // n) > side


def slice_backwards(case: Case) -> bool:
    given = _named_arguments(case)
    x = _first_tensor(given)
    if not isinstance(x, torch.Tensor) or x.dim() == 0:
        return False
    side = x.shape[given.get("dim", 0)]

    def bound(value, default):
        value = default if value is None else value
        return min(max(value + side if value < 0 else value, 0), side)

    return bound(given.get("start"), 0) > bound(given.get("end"), side)


_PARAMETRISED = {"value": value, "holds": holds, "kwarg": kwarg, "variant": variant, "sample": sample, "tier": tier, "above": above, "shows": shows}
_PLAIN = {"empty": empty, "empty_inner": empty_inner, "empty_reduction": empty_reduction, "empty_dim": empty_dim, "empty_first": empty_first, "empty_not_first": empty_not_first, "scalar": scalar, "decomposed": decomposed, "nan": nan,
          "inf": inf, "scalar_outside": scalar_outside, "zero_scalar": zero_scalar, "zero_divisor": zero_divisor,
          "scalar_min": scalar_min, "zerodim_widens": zerodim_widens, "alpha_shows": alpha_shows,
          "float_outside": float_outside, "const_divisor_zero": const_divisor_zero, "nan_first": nan_first,
          "slice_none_kept": slice_none_kept, "slice_refused": slice_refused,
          "adaptive_pool2d_unbatched": adaptive_pool2d_unbatched, "nan_then_padding": nan_then_padding,
          "nonfinite_scalar": nonfinite_scalar, "beyond_float32": beyond_float32,
          "sample_empty": sample_empty,
          "shuffle_side_zero": shuffle_side_zero, "negative_index": negative_index,
          "chunk_overrun": chunk_overrun, "slice_backwards": slice_backwards}


def _all(predicates: tuple, case: Case) -> bool:
    return all(p(case) for p in predicates)


def _any(predicates: tuple, case: Case) -> bool:
    return any(p(case) for p in predicates)


def _not(predicate, case: Case) -> bool:
    return not predicate(case)


def parse(spec: str):
    """The predicate a `when` string names; a picklable callable taking a Case."""
    alternatives = [part.strip() for part in spec.split("|")]
    if len(alternatives) > 1:
        return functools.partial(_any, tuple(parse(part) for part in alternatives))
    parts = [part.strip() for part in spec.split("&")]
    if len(parts) > 1:
        return functools.partial(_all, tuple(parse(part) for part in parts))
    spec = parts[0]
    if spec.startswith("!"):
        return functools.partial(_not, parse(spec[1:].strip()))
    name, _, arg = spec.partition(":")
    if name in _PARAMETRISED and arg:
        return functools.partial(_PARAMETRISED[name], arg)
    if name in _PLAIN and not arg:
        return _PLAIN[name]
    raise ValueError(f"unknown predicate {spec!r}; known: {', '.join(sorted(_PLAIN))}, "
                     f"{', '.join(k + ':ARG' for k in sorted(_PARAMETRISED))}")
