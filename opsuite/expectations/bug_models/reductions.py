"""Models of the reduction converters' known bugs (known_failures/reductions.toml).

Each computes what the converter emits, in torch and in the dtype TVM returns. Two pieces of
TVM's CPU kernels are reproduced step by step because their results depend on the order of
evaluation: the reductions (a serial fold over the reduced elements in row-major order, with
LLVM's `select(a > b, a, b)` for max, so a NaN wins only as the newest element) and the sort
(`tvm.contrib.sort.argsort` is libstdc++'s std::stable_sort with a plain `<`, which a NaN
breaks in a way only its exact merge order predicts).
"""

from __future__ import annotations

import math

import torch

from opsuite.expectations.bug_models import on_call

# ------------------------------------------------------------------------------ reductions


def _axes(x: torch.Tensor, dim) -> list[int]:
    if dim is None:
        return list(range(x.dim()))
    dims = [dim] if isinstance(dim, int) else list(dim)
    return sorted(d % max(x.dim(), 1) for d in dims)


def _rows(x: torch.Tensor, axes: list[int]) -> torch.Tensor:
    """x with the reduced axes moved last and flattened: (*kept, reduced elements in row-major order)."""
    kept = [d for d in range(x.dim()) if d not in axes]
    moved = x.permute(kept + axes) if x.dim() else x.reshape(1)
    return moved.reshape([x.shape[d] for d in kept] + [math.prod(x.shape[d] for d in axes)])


def _shaped(result: torch.Tensor, x: torch.Tensor, axes: list[int], keepdim: bool) -> torch.Tensor:
    if not keepdim:
        return result
    return result.reshape([1 if d in axes else x.shape[d] for d in range(x.dim())])


def _fold_max(x: torch.Tensor, dim, keepdim: bool):
    """topi.max as compiled: acc = select(acc > v, acc, v) over the reduced elements in order,
    from the dtype's lowest value. Over zero elements nothing is written: the output holds
    whatever its buffer held (unknown)."""
    axes = _axes(x, dim)
    rows = _rows(x, axes)
    low = -math.inf if x.is_floating_point() else (torch.iinfo(x.dtype).min if x.dtype != torch.bool else 0)
    acc = torch.full(rows.shape[:-1], low, dtype=x.dtype)
    for k in range(rows.shape[-1]):
        acc = torch.where(acc > rows[..., k], acc, rows[..., k])
    unknown = torch.full(acc.shape, rows.shape[-1] == 0)
    return _shaped(acc, x, axes, keepdim), _shaped(unknown, x, axes, keepdim)


def _fold_min(x: torch.Tensor, dim, keepdim: bool):
    """topi.min as compiled: acc = select(acc < v, acc, v) from the dtype's highest value, the
    mirror of _fold_max (a NaN wins only as the newest element)."""
    axes = _axes(x, dim)
    rows = _rows(x, axes)
    high = math.inf if x.is_floating_point() else (torch.iinfo(x.dtype).max if x.dtype != torch.bool else 1)
    acc = torch.full(rows.shape[:-1], high, dtype=x.dtype)
    for k in range(rows.shape[-1]):
        acc = torch.where(acc < rows[..., k], acc, rows[..., k])
    unknown = torch.full(acc.shape, rows.shape[-1] == 0)
    return _shaped(acc, x, axes, keepdim), _shaped(unknown, x, axes, keepdim)


def max_min_by_fold(module, inputs):
    """max.default / min.default: relax.max/min over every axis, topi's serial select fold (the
    op read from the case's module)."""
    args, _ = module.call_arguments(inputs)
    fold = _fold_min if module.op_name.startswith("aten.min") else _fold_max
    out, unknown = fold(args[0], None, False)
    return {"outputs": [out], "unknown": [unknown]}


@on_call
def any_as_max(x, dim=None, keepdim=False):
    """_any emits relax.max(x): the largest element in x's dtype, not whether one is nonzero
    (a bool input goes through int8 and back)."""
    source = x.to(torch.int8) if x.dtype == torch.bool else x
    out, unknown = _fold_max(source, dim, keepdim)
    return {"outputs": [out.to(x.dtype)], "unknown": [unknown]}


def _fold_arg(x: torch.Tensor, dim, keepdim: bool, smallest: bool) -> torch.Tensor:
    """topi.argmax/argmin: a serial fold of (index, value) pairs, the accumulator on the left:
    the new element wins unless the accumulator compares strictly better (or equal with a
    lower index), so a NaN, which compares false, takes over and then yields to the next."""
    axes = _axes(x, dim)
    rows = _rows(x, axes)
    info = torch.finfo(x.dtype) if x.is_floating_point() else torch.iinfo(x.dtype)
    start = (math.inf if smallest else -math.inf) if x.is_floating_point() else (info.max if smallest else info.min)
    value = torch.full(rows.shape[:-1], start, dtype=x.dtype)
    index = torch.full(rows.shape[:-1], -1, dtype=torch.int64)
    for k in range(rows.shape[-1]):
        new = rows[..., k]
        better = value < new if smallest else value > new
        keep = better | ((value == new) & (index < k))
        index = torch.where(keep, index, torch.full_like(index, k))
        value = torch.where(better, value, new)
    return _shaped(index, x, axes, keepdim)


def argmax_argmin_by_fold(module, inputs):
    """argmax.default / argmin.default as topi folds them (the op read from the case's module)."""
    args, kwargs = module.call_arguments(inputs)
    x, dim, keepdim = (list(args) + [None, False])[:3]
    dim, keepdim = kwargs.get("dim", dim), kwargs.get("keepdim", keepdim)
    return _fold_arg(x, dim, keepdim, smallest=module.op_name.startswith("aten.argmin"))


def _sum_in_dtype(x: torch.Tensor, axes: list[int], keepdim: bool) -> torch.Tensor:
    """topi.sum: a serial fold in x's own dtype (torch would accumulate half types in float32)."""
    rows = _rows(x, axes)
    acc = torch.zeros(rows.shape[:-1], dtype=x.dtype)
    for k in range(rows.shape[-1]):
        acc = acc + rows[..., k]
    return _shaped(acc, x, axes, keepdim)


def _mean(x: torch.Tensor, axes: list[int], keepdim: bool) -> torch.Tensor:
    count = math.prod(x.shape[d] for d in axes)
    return _sum_in_dtype(x, axes, keepdim) / torch.tensor(count, dtype=x.dtype)


def _variance(x: torch.Tensor, axes: list[int], keepdim: bool) -> torch.Tensor:
    """relax.variance: mean((x - mean(x, keepdims=True)) ** 2), dividing by N."""
    deviation = x - _mean(x, axes, True)
    return _mean(deviation * deviation, axes, keepdim)


@on_call
def mean_over_no_dims(x, dim=None, keepdim=False, dtype=None):
    """_mean passes dim=[] to relax.mean, which reduces no axis: x itself (cast to dtype=)."""
    return x.to(dtype) if dtype is not None else x


@on_call
def std_over_no_dims(x, dim=None, correction=None, keepdim=False):
    """_std passes dim=[] to relax.std: sqrt((x - x) ** 2), 0 (NaN for a non-finite x)."""
    return torch.sqrt(_variance(x, [], keepdim))


@on_call
def var_over_no_dims(x, dim=None, correction=None, keepdim=False):
    """_var_correction passes dim=[] to relax.variance ((x - x) ** 2) and scales it by
    n / (n - correction) with n = 1 element reduced: NaN for any correction but 0."""
    correction = 1 if correction is None else correction
    var = _variance(x, [], keepdim)
    return var if correction == 0 else var * torch.tensor(math.nan, dtype=x.dtype)


@on_call
def var_dim_over_no_dims(x, dim=None, unbiased=True, keepdim=False):
    """var.dim decomposes to var.correction with correction = 1 if unbiased else 0, and so meets
    the same dim=[] of _var_correction."""
    return var_over_no_dims.__wrapped__(x, dim, int(unbiased), keepdim)


@on_call
def var_scaled_by_converter(x, dim=None, correction=None, keepdim=False):
    """_var_correction: relax.variance (dividing by n) times n / (n - correction), a constant
    NaN when n - correction <= 0 (torch divides by n - correction: inf, NaN or a negative)."""
    correction = 1 if correction is None else correction
    axes = _axes(x, dim)
    var = _variance(x, axes, keepdim)
    if correction == 0:
        return var
    n = math.prod(x.shape[d] for d in axes)
    scale = math.nan if n - correction <= 0 else float(n) / float(n - correction)
    return var * torch.tensor(scale, dtype=x.dtype)


@on_call
def std_without_correction(x, dim=None, correction=None, keepdim=False):
    """_std calls relax.std, which divides by N whatever the correction."""
    return torch.sqrt(_variance(x, _axes(x, dim), keepdim))


@on_call
def prod_in_input_dtype(x, dtype=None):
    """_prod emits relax.prod(x) in x's own dtype: neither dtype= nor the int64 promotion of
    integer and bool inputs (products wrap around in x's width)."""
    if x.dtype == torch.bool:
        return x.all()
    if x.is_floating_point():
        rows = x.reshape(1, -1)
        acc = torch.ones((), dtype=x.dtype)
        for k in range(rows.shape[-1]):
            acc = acc * rows[0, k]
        return acc
    return x.to(torch.int64).prod().to(x.dtype)


def _in_input_dtype(x: torch.Tensor, dtype, scan) -> torch.Tensor:
    """relax.cumsum/cumprod without dtype= keep an integer input's width (torch: int64); the
    int64 result wraps to the same value as the narrow one would."""
    if dtype is not None:
        return scan(x.to(dtype))
    if x.is_floating_point():
        return scan(x)
    return scan(x.to(torch.int64)).to(x.dtype)


@on_call
def cumsum_in_input_dtype(x, dim, dtype=None):
    return _in_input_dtype(x, dtype, lambda t: t.cumsum(dim))


@on_call
def cumprod_in_input_dtype(x, dim, dtype=None):
    return _in_input_dtype(x, dtype, lambda t: t.cumprod(dim))


@on_call
def norm_in_input_dtype(x, ord=2, dim=None, keepdim=False, dtype=None):  # noqa: A002 - the schema's name
    """linalg_vector_norm.default goes to _norm, which never reads dtype=: |x| ** ord summed,
    then ** (1 / ord), in x's dtype (max/min of |x| for ord = +-inf)."""
    axes = _axes(x, dim)
    magnitude = x.abs()
    if ord == math.inf:
        return magnitude.amax(dim=axes, keepdim=keepdim)
    if ord == -math.inf:
        return magnitude.amin(dim=axes, keepdim=keepdim)
    powered = torch.pow(magnitude, torch.tensor(float(ord), dtype=x.dtype))
    return torch.pow(_sum_in_dtype(powered, axes, keepdim), torch.tensor(1.0 / ord, dtype=x.dtype))


@on_call
def norm_inf_by_fold(x, ord=2, dim=None, keepdim=False, dtype=None):  # noqa: A002 - the schema's name
    """linalg_vector_norm with ord = +-inf: _norm's relax.max/min of |x|, folded as topi compiles
    it (a NaN wins only as the newest element)."""
    fold = _fold_max if ord == math.inf else _fold_min
    out, unknown = fold(x.abs(), dim, keepdim)
    return {"outputs": [out], "unknown": [unknown]}


# ------------------------------------------------------------------------------ sorting


def _insertion_sort(keys: list, order: list, lo: int, hi: int, less) -> None:
    for i in range(lo + 1, hi):
        item = order[i]
        if less(keys[item], keys[order[lo]]):
            order[lo + 1:i + 1] = order[lo:i]
            order[lo] = item
            continue
        j = i
        while less(keys[item], keys[order[j - 1]]):
            order[j] = order[j - 1]
            j -= 1
        order[j] = item


def _merge(keys: list, first: list, second: list, less) -> list:
    """std::__move_merge: take from the second run only when it is strictly less."""
    out, i, j = [], 0, 0
    while i < len(first) and j < len(second):
        if less(keys[second[j]], keys[first[i]]):
            out.append(second[j])
            j += 1
        else:
            out.append(first[i])
            i += 1
    return out + first[i:] + second[j:]


def _merge_sort_with_buffer(keys: list, run: list, less) -> list:
    """std::__merge_sort_with_buffer: insertion-sorted chunks of 7, then merge passes."""
    run, step = list(run), 7
    for lo in range(0, len(run), step):
        _insertion_sort(keys, run, lo, min(lo + step, len(run)), less)
    while step < len(run):
        merged = []
        for lo in range(0, len(run), 2 * step):
            merged += _merge(keys, run[lo:lo + step], run[lo + step:lo + 2 * step], less)
        run, step = merged, step * 2
    return run


def _merge_backward(keys: list, first: list, second: list, less) -> list:
    """std::__move_merge_adaptive_backward: from the back, the first run's element goes last
    when the second run's is strictly less than it."""
    out, i, j = [], len(first) - 1, len(second) - 1
    while i >= 0 and j >= 0:
        if less(keys[second[j]], keys[first[i]]):
            out.append(first[i])
            i -= 1
        else:
            out.append(second[j])
            j -= 1
    return first[:i + 1] + second[:j + 1] + out[::-1]


def stable_sort(keys: list, descending: bool = False, less=None) -> list[int]:
    """The permutation libstdc++'s std::stable_sort gives, with `<` (or `>`) as the only test:
    both halves merge-sorted with a buffer, then merged forward (halves of equal length) or
    backward. Equal to a stable sort wherever the keys are ordered; with NaN it is what the
    kernel does."""
    if less is None:
        def less(a, b):
            return a > b if descending else a < b

    n = len(keys)
    if n < 2:
        return list(range(n))
    middle = (n + 1) // 2
    first = _merge_sort_with_buffer(keys, range(middle), less)
    second = _merge_sort_with_buffer(keys, range(middle, n), less)
    if middle <= n - middle:
        return _merge(keys, first, second, less)
    return _merge_backward(keys, first, second, less)


def _sort_keys(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What tvm.contrib.sort.argsort compares for each element of x, and where that is unknown.

    A bfloat16 input is read as float32: element f's key is the 4 bytes at 4 * f (elements 2f
    and 2f + 1 as one float); from the middle of the tensor on that is past the buffer."""
    if x.dtype != torch.bfloat16:
        return x, torch.zeros(x.shape, dtype=torch.bool)
    flat = x.reshape(-1)
    count = flat.numel() // 2
    paired = flat[:2 * count].contiguous().view(torch.float32)
    keys = torch.zeros(flat.numel(), dtype=torch.float32)
    keys[:count] = paired
    unknown = torch.arange(flat.numel()) >= count
    return keys.reshape(x.shape), unknown.reshape(x.shape)


def argsort_kernel(x: torch.Tensor, dim: int, descending: bool):
    """(indices, unknown) of tvm.contrib.sort.argsort along dim: a line whose keys are all
    known sorts exactly; a line with an unknown key is unknown as a whole."""
    keys, unknown = _sort_keys(x)
    dim = dim % max(x.dim(), 1)
    lines = keys.movedim(dim, -1).reshape(-1, x.shape[dim] if x.dim() else 1)
    bad = unknown.movedim(dim, -1).reshape(lines.shape).any(-1, keepdim=True).expand(lines.shape)
    order = torch.tensor([stable_sort(line.tolist(), descending) for line in lines],
                         dtype=torch.int64).reshape(lines.shape)
    shape = keys.movedim(dim, -1).shape
    return (order.reshape(shape).movedim(-1, dim).reshape(x.shape),
            bad.reshape(shape).movedim(-1, dim).reshape(x.shape).contiguous())


@on_call
def argsort_by_kernel(x, dim=-1, descending=False, stable=False):
    order, unknown = argsort_kernel(x, dim, descending)
    return {"outputs": [order], "unknown": [unknown]}


@on_call
def sort_by_kernel(x, dim=-1, descending=False, stable=False):
    """_sort: argsort, then gather_elements(x, indices)."""
    order, unknown = argsort_kernel(x, dim, descending)
    return {"outputs": [x.gather(dim, order), order], "unknown": [unknown, unknown]}


@on_call
def median_by_kernel(x, dim=None, keepdim=False):
    """relax.median: argsort along the axis (the flattened input without one), then the
    element at (n - 1) // 2 of the sorted line; median.default returns the value only."""
    line = x.reshape(-1) if dim is None else x
    axis = -1 if dim is None else dim % max(x.dim(), 1)
    order, unknown = argsort_kernel(line, axis, False)
    mid = (line.shape[axis] - 1) // 2 if line.dim() else 0
    pick = order.narrow(axis, mid, 1) if line.dim() else order.reshape(1)
    bad = unknown.narrow(axis, mid, 1) if line.dim() else unknown.reshape(1)
    value = line.gather(axis, pick) if line.dim() else line.reshape(1)
    if dim is None:
        return {"outputs": [value.reshape(())], "unknown": [bad.reshape(())]}
    if not keepdim:
        value, pick, bad = value.squeeze(axis), pick.squeeze(axis), bad.squeeze(axis)
    return {"outputs": [value, pick], "unknown": [bad, bad]}


@on_call
def topk_all_for_k0(x, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - the schema's name
    """_topk passes k=0 on to relax topk, whose kernel reads k < 1 as every element: the whole
    line, in the order _topk_line gives (ties by index; a NaN where the kernel's heap and
    stable_sort leave it)."""
    dim = dim % max(x.dim(), 1)
    if x.shape[dim] == 0:
        return [x, torch.zeros(x.shape, dtype=torch.int64)]
    lines = x.movedim(dim, -1).reshape(-1, x.shape[dim])
    orders = [_topk_line(line, 0, largest) for line in lines.tolist()]
    shape = x.movedim(dim, -1).shape
    indices = torch.tensor(orders, dtype=torch.int64).reshape(shape).movedim(-1, dim)
    return [x.gather(dim, indices), indices]


@on_call
def topk_by_kernel(x, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - the schema's name
    """tvm.contrib.sort.topk on bfloat16: it chooses as _topk_line does by the float32 keys argsort
    reads (see _sort_keys) and writes each chosen key back as a float32 into the bfloat16 values buffer, so
    value element e holds one half (the low for even e, the high for odd) of the key chosen for
    output position e // 2; the indices are the chosen ones."""
    dim = dim % max(x.dim(), 1)
    keys, unknown = _sort_keys(x)
    lines = keys.movedim(dim, -1).reshape(-1, x.shape[dim])
    line_bad = unknown.movedim(dim, -1).reshape(lines.shape).any(-1, keepdim=True)
    shape = list(keys.movedim(dim, -1).shape[:-1]) + [k]
    chosen = torch.tensor([_topk_line(line, k, largest) for line in lines.tolist()],
                          dtype=torch.int64).reshape(shape).movedim(-1, dim).contiguous()
    bad = line_bad.expand(lines.shape[0], k).reshape(shape).movedim(-1, dim).contiguous()
    if x.dtype != torch.bfloat16:
        return {"outputs": [x.gather(dim, chosen), chosen], "unknown": [bad, bad]}
    keys, _ = _sort_keys(x)
    written = keys.gather(dim, chosen).reshape(-1).contiguous().view(torch.bfloat16)
    count = chosen.numel()
    slot_unknown = bad.reshape(-1)[torch.arange(count) // 2].reshape(chosen.shape)
    return {"outputs": [written[:count].reshape(chosen.shape), chosen], "unknown": [slot_unknown, bad]}


def _push_heap(heap: list, hole: int, top: int, value, less) -> None:
    parent = (hole - 1) // 2
    while hole > top and less(heap[parent], value):
        heap[hole] = heap[parent]
        hole, parent = parent, (parent - 1) // 2
    heap[hole] = value


def _adjust_heap(heap: list, start: int, value, less) -> None:
    """libstdc++'s std::__adjust_heap: the hole at `start` sifts down to a leaf along the larger
    children, then `value` is pushed up from there (std::__push_heap)."""
    n = len(heap)
    hole = child = start
    while child < (n - 1) // 2:
        child = 2 * (child + 1)
        if less(heap[child], heap[child - 1]):
            child -= 1
        heap[hole] = heap[child]
        hole = child
    if n % 2 == 0 and child == (n - 2) // 2 and n:
        child = 2 * (child + 1)
        heap[hole] = heap[child - 1]
        hole = child - 1
    _push_heap(heap, hole, start, value, less)


def _make_heap(heap: list, less) -> None:
    """libstdc++'s std::make_heap."""
    for start in range((len(heap) - 2) // 2, -1, -1):
        _adjust_heap(heap, start, heap[start], less)


def _topk_line(line: list, k: int, largest: bool) -> list[int]:
    """The indices tvm.contrib.sort.topk chooses from one line, in its order: the first k
    (index, value) pairs made a heap with the kernel's stable comparison (`>` for largest, `<`
    otherwise, ties by the lower index), each later pair pushed in and the heap's top popped
    when it compares before the top, then the heap std::stable_sort-ed with that comparison. A
    NaN, which the comparison does not order, stays where these steps leave it."""
    def less(a, b):
        (i, u), (j, v) = a, b
        if u == v:
            return i < j
        return u > v if largest else u < v

    k = len(line) if k < 1 else min(k, len(line))
    heap = list(enumerate(line[:k]))
    _make_heap(heap, less)
    for item in enumerate(line):
        if item[0] < k or not less(item, heap[0]):
            continue
        heap.append(item)
        _push_heap(heap, len(heap) - 1, 0, heap[-1], less)
        # pop_heap: the top moves to the back, the back's value sifts down from the top
        last = heap[-1]
        heap[-1] = heap[0]
        rest = heap[:-1]
        _adjust_heap(rest, 0, last, less)
        heap = rest
    order = stable_sort(heap, less=less)
    return [heap[o][0] for o in order]


@on_call
def max_dim_by_topk(x, dim, keepdim=False):
    """_max_dim emits relax topk(x, k=1, axis=dim, largest=True) and squeezes dim unless keepdim.
    The CPU topk kernel (_topk_line with k=1) keeps the first element of each line and replaces it
    by each later one that compares greater: a NaN first stays, a NaN later never enters; a bfloat16 input is read as float32 keys (see
    _sort_keys) and the chosen key is written back as a float32 into the bfloat16 values, so value
    element e holds one half (low for even e, high for odd) of the key chosen for line e // 2."""
    d = dim % max(x.dim(), 1)
    keys, unknown = _sort_keys(x)
    lines = keys.movedim(d, -1).reshape(-1, x.shape[d])
    bad_lines = unknown.movedim(d, -1).reshape(lines.shape).any(-1)
    picks, bad = [], []
    for line, line_bad in zip(lines.tolist(), bad_lines.tolist(), strict=True):
        picks.append(_topk_line(line, 1, largest=True)[0])
        bad.append(line_bad)
    kept = list(keys.movedim(d, -1).shape[:-1])
    index = torch.tensor(picks, dtype=torch.int64).reshape(kept + [1]).movedim(-1, d)
    bad = torch.tensor(bad, dtype=torch.bool).reshape(kept + [1]).movedim(-1, d)
    if x.dtype == torch.bfloat16:
        chosen = keys.gather(d, index).reshape(-1).contiguous().view(torch.bfloat16)
        values = chosen[:index.numel()].reshape(index.shape)
        # slot e holds half of line e // 2's key: unknown where that line's key is
        slot_bad = bad.reshape(-1)[torch.arange(index.numel()) // 2].reshape(index.shape)
    else:
        values, slot_bad = x.gather(d, index), bad
    outputs, masks = [values, index], [slot_bad, bad]
    if not keepdim:
        outputs = [t.squeeze(d) for t in outputs]
        masks = [t.squeeze(d) for t in masks]
    return {"outputs": outputs, "unknown": masks}
