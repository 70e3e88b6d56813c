"""Python source for a case's values, for the short repro: tensors and constants written as literals.

    tensor_source(torch.tensor([1.5, float("nan")], dtype=torch.bfloat16), "x")
    -> (["x = torch.tensor([1.5, nan], dtype=torch.bfloat16)"], exact=True)

A small tensor is written exactly: every element in the shortest decimal that converts back
to the same bits in its dtype (NaN, +-inf and -0.0 included), and a non-contiguous layout
rebuilt with its strides (and storage offset, through its storage). The writer runs what it
wrote and compares bit patterns; a tensor whose values a decimal cannot carry (a NaN with a
payload, a bfloat16 NaN with its sign set) is written as the integer bits it holds, viewed.
A large tensor is drawn from a seeded generator over the range of its own values, with its
edge values (non-finite, signed zeros, extremes of magnitude) put back at their places: the
same shape, dtype, layout and edge pattern, not the same numbers.

Constants (`value_source`) cover what aten calls and OpInfo samples pass: numbers (NaN and
infinities included), bools, None, strings, dtypes, memory formats, layouts, devices, sizes,
slices, Ellipsis, and lists, tuples and dicts of those. Anything else raises `Unwritable`.
"""

from __future__ import annotations

import math

import torch

# Elements up to which a tensor is written value by value (a 4x4x4 tensor, a row of 64).
EXACT_LIMIT = 64
WIDTH = 96  # wrap literal lines here

# The integer dtype of the same width: how raw bit patterns are written and compared.
_BITS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


class Unwritable(ValueError):
    """A value the short repro cannot write as a literal; the message says which."""


def dtype_source(dtype: torch.dtype) -> str:
    return str(dtype)  # "torch.float32"


def _float_source(v: float) -> str:
    if math.isnan(v):
        return "-nan" if math.copysign(1.0, v) < 0 else "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(float(v))


def value_source(value) -> str:
    """Python source that evaluates to `value` (with `torch` imported and `nan`, `inf` defined)."""
    if value is None or value is Ellipsis:
        return "..." if value is Ellipsis else "None"
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        return _float_source(value)
    if isinstance(value, complex):
        return f"complex({_float_source(value.real)}, {_float_source(value.imag)})"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, torch.dtype | torch.memory_format | torch.layout):
        return str(value) if str(value).startswith("torch.") else f"torch.{value}"
    if isinstance(value, torch.device):
        return f"torch.device({str(value)!r})"
    if isinstance(value, torch.Size):
        return f"torch.Size({list(value)!r})"
    if isinstance(value, slice):
        return f"slice({value_source(value.start)}, {value_source(value.stop)}, {value_source(value.step)})"
    if isinstance(value, list):
        return "[" + ", ".join(value_source(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(value_source(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{value_source(k)}: {value_source(v)}" for k, v in value.items()) + "}"
    raise Unwritable(f"an argument of type {type(value).__name__} has no literal form")


def names_used(source: str) -> set[str]:
    """The special floats a piece of source relies on (`nan`, `inf`): the repro defines them."""
    import re

    return set(re.findall(r"\b(nan|inf)\b", source))


# ----------------------------------------------------------------------------- exact values


def _bits(t: torch.Tensor) -> torch.Tensor:
    t = t.detach().contiguous()
    if t.is_complex():
        t = torch.view_as_real(t).contiguous()
    if t.dtype == torch.bool:
        return t.to(torch.uint8)
    return t.view(_BITS[t.element_size()])


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same dtype, shape, strides, storage offset and bit pattern of every element."""
    return (a.dtype == b.dtype and a.shape == b.shape and a.stride() == b.stride()
            and a.storage_offset() == b.storage_offset() and torch.equal(_bits(a), _bits(b)))


def _contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def _shortest(values: torch.Tensor) -> list[str]:
    """Each element as the shortest `%.Ng` text that converts back to the same bits in its dtype."""
    flat = values.reshape(-1)
    doubles = flat.double().tolist()
    target = _bits(flat)
    texts: list[str | None] = [None] * len(doubles)
    for digits in range(1, 18):
        pending = [i for i, t in enumerate(texts) if t is None]
        if not pending:
            break
        tried = {i: f"{doubles[i]:.{digits}g}" for i in pending}
        back = torch.tensor([float(tried[i]) for i in pending], dtype=torch.float64).to(flat.dtype)
        ok = torch.eq(_bits(back), target[pending])
        for i, good in zip(pending, ok.tolist(), strict=True):
            if good:
                texts[i] = tried[i]
    out = []
    for i, text in enumerate(texts):
        text = text if text is not None else repr(doubles[i])
        if text in ("nan", "-nan", "inf", "-inf"):
            text = _float_source(doubles[i])
        elif not any(c in text for c in ".en"):
            text += ".0"  # 3 -> 3.0: a float, and -0 -> -0.0 keeps its sign
        out.append(text)
    return out


def _element_texts(t: torch.Tensor) -> list[str]:
    if t.dtype == torch.bool:
        return [str(v) for v in t.reshape(-1).tolist()]
    if t.is_complex():
        parts = torch.view_as_real(t.reshape(-1))
        real, imag = _shortest(parts[:, 0]), _shortest(parts[:, 1])
        return [f"complex({r}, {i})" for r, i in zip(real, imag, strict=True)]
    if t.is_floating_point():
        return _shortest(t)
    return [str(v) for v in t.reshape(-1).tolist()]


def _wrap(prefix: str, items: list[str], suffix: str, indent: str = "    ") -> list[str]:
    """`prefix[a, b, ...]suffix`, wrapped at WIDTH with continuation lines indented."""
    one = f"{prefix}[{', '.join(items)}]{suffix}"
    if len(one) <= WIDTH:
        return [one]
    lines, line = [], f"{prefix}["
    for k, item in enumerate(items):
        piece = item + (", " if k < len(items) - 1 else "")
        if len(line) + len(piece.rstrip()) > WIDTH and line.strip() not in ("", f"{prefix}[".strip()):
            lines.append(line.rstrip())
            line = indent
        line += piece
    lines.append(line + f"]{suffix}")
    return lines


def _nested(texts: list[str], shape: tuple[int, ...]) -> str:
    if not shape:
        return texts[0]
    if len(shape) == 1:
        return "[" + ", ".join(texts) + "]"
    step = len(texts) // shape[0]
    return "[" + ", ".join(_nested(texts[k * step:(k + 1) * step], shape[1:]) for k in range(shape[0])) + "]"


def _values_lines(name: str, texts: list[str], shape: tuple[int, ...], dtype: str) -> list[str]:
    """`name = torch.tensor(<values>, dtype=...)` in the most readable form that fits."""
    if not shape:
        return [f"{name} = torch.tensor({texts[0]}, dtype={dtype})"]
    nested = _nested(texts, shape)
    line = f"{name} = torch.tensor({nested}, dtype={dtype})"
    if len(line) <= WIDTH:
        return [line]
    if len(shape) == 2:  # a row per line
        rows = [_nested(texts[k * shape[1]:(k + 1) * shape[1]], shape[1:]) for k in range(shape[0])]
        return [f"{name} = torch.tensor(["] + [f"    {r}," for r in rows] + [f"], dtype={dtype})"]
    reshape = f".reshape({', '.join(map(str, shape))})" if len(shape) > 1 else ""
    return _wrap(f"{name} = torch.tensor(", texts, f", dtype={dtype}){reshape}")


def _bits_lines(name: str, t: torch.Tensor, shape: tuple[int, ...]) -> list[str]:
    """The values as their integer bit patterns, viewed back: for what no decimal can carry."""
    raw = _bits(t)
    texts = [str(v) for v in raw.reshape(-1).tolist()]
    view = f".view({dtype_source(t.dtype)})" + (f".reshape({', '.join(map(str, shape))})" if len(shape) > 1 else "")
    lines = [f"# {name}: raw bit patterns (a NaN payload or sign that no decimal literal keeps)"]
    return lines + _wrap(f"{name} = torch.tensor(", texts, f", dtype={dtype_source(raw.dtype)}){view}")


def _storage(t: torch.Tensor) -> torch.Tensor:
    """t's whole storage, as a flat tensor of its dtype."""
    size = t.untyped_storage().nbytes() // t.element_size()
    return torch.tensor([], dtype=t.dtype).set_(t.untyped_storage(), 0, (size,))


def same_storage(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same bits in the whole storage: what a kernel that ignores strides reads."""
    return same_bits(_storage(a), _storage(b))


def _literal(name: str, t: torch.Tensor) -> list[str]:
    """`name = torch.tensor(...)` holding t's values, or their raw bits where no decimal keeps them."""
    dtype = dtype_source(t.dtype)
    lines = _values_lines(name, _element_texts(t), tuple(t.shape), dtype)
    return lines if same_bits(_run(lines, name), t) else _bits_lines(name, t, tuple(t.shape))


def _exact_lines(name: str, t: torch.Tensor) -> list[str]:
    """Lines that rebuild `t` bit for bit, its layout (and, for a view, its storage) included."""
    dtype = dtype_source(t.dtype)
    shape = tuple(t.shape)
    # Dense: what torch.tensor makes. Strides of size-1 axes or empty tensors count too: a case's
    # sliced or transposed layout leaves them other than torch's own, and the repro keeps them.
    dense = t.stride() == _contiguous_strides(shape) and t.storage_offset() == 0
    if t.numel() == 0:
        if dense:
            return [f"{name} = torch.empty({shape}, dtype={dtype})"]
        return [f"{name} = torch.empty_strided({shape}, {t.stride()}, dtype={dtype})"]
    if dense:
        return _literal(name, t)
    storage = _storage(t)
    if storage.numel() > 4 * EXACT_LIMIT:
        raise Unwritable(f"{name} is a view into {storage.numel()} elements of storage, too many to write out")
    if _non_overlapping(t):
        # The values in the case's layout (transposed, sliced, channels-last), over a storage that
        # is zero elsewhere as the case's is: a kernel that wrongly reads the gaps reads the same.
        if storage.numel() == t.numel() and t.storage_offset() == 0:  # a permutation: no gaps
            layout = f"torch.empty_strided({shape}, {t.stride()}, dtype={dtype})"
        else:
            layout = f"torch.zeros({storage.numel()}, dtype={dtype}).as_strided({shape}, {t.stride()}, {t.storage_offset()})"
        lines = _literal(name, t.contiguous()) + [f"{name} = {layout}.copy_({name})"]
        if same_storage(_run(lines, name), t):
            return lines
    # Overlapping views (expanded, as_strided) or a storage with other values: the storage itself.
    return _literal(f"{name}_storage", storage) + [
        f"{name} = {name}_storage.as_strided({shape}, {t.stride()}, {t.storage_offset()})"]


def _non_overlapping(t: torch.Tensor) -> bool:
    """Whether every element of t has a storage element of its own (copy_ into it is defined)."""
    axes = sorted((s, n) for s, n in zip(t.stride(), t.shape, strict=True) if n > 1)
    reach = 1
    for stride, size in axes:
        if stride < reach:
            return False
        reach = stride * size
    return True


# ----------------------------------------------------------------------------- drawn values


def _edges(flat: torch.Tensor) -> torch.Tensor:
    """Positions of the values a random draw would not give: non-finite, signed zeros, extremes."""
    if flat.dtype == torch.bool:
        return torch.zeros(flat.shape, dtype=torch.bool)
    if flat.is_floating_point():
        x = flat.double()
        info = torch.finfo(flat.dtype)
        magnitude = x.abs()
        return (~torch.isfinite(x)) | ((x == 0) & torch.signbit(x)) | (magnitude >= info.max / 4) | (
            (magnitude > 0) & (magnitude <= 2 * info.eps))
    info = torch.iinfo(flat.dtype)
    return (flat == info.min) | (flat == info.max) | (flat == info.max - 1)


def _drawn_lines(name: str, t: torch.Tensor, seed: int, comment: bool) -> list[str]:
    dtype = dtype_source(t.dtype)
    shape = tuple(t.shape)
    flat = t.detach().contiguous().reshape(-1)
    edge = _edges(flat)
    bulk = flat[~edge]
    gen = f"torch.Generator().manual_seed({seed})"
    size = ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "")
    if t.dtype == torch.bool:
        share = float(flat.float().mean()) if flat.numel() else 0.5
        draw = f"torch.rand(({size}), generator={gen}) < {share:.3g}"
    elif t.is_floating_point():
        lo, hi = (float(bulk.min()), float(bulk.max())) if bulk.numel() else (-1.0, 1.0)
        draw = (f"torch.empty(({size}), dtype={dtype}).uniform_({_float_source(round(lo, 4))}, "
                f"{_float_source(round(hi, 4))}, generator={gen})")
    elif t.is_complex():
        raise Unwritable(f"{name}: a complex tensor of {flat.numel()} elements is too large to write out")
    else:
        lo, hi = (int(bulk.min()), int(bulk.max())) if bulk.numel() else (0, 1)
        draw = f"torch.randint({lo}, {hi + 1}, ({size}), generator={gen}, dtype={dtype})"
    lines = [f"# {name}: {flat.numel()} values drawn over the case's range (not its own numbers)"
             + (", its edge values put back in place" if bool(edge.any()) else "")] if comment else []
    lines.append(f"{name} = {draw}")
    if bool(edge.any()):
        where = edge.nonzero().reshape(-1)
        texts = _element_texts(flat[where])
        lines += _wrap(f"{name}.view(-1)[{where.tolist()}] = torch.tensor(", texts, f", dtype={dtype})")
    if t.stride() != _contiguous_strides(shape) or t.storage_offset() != 0:
        if not _non_overlapping(t):
            raise Unwritable(f"{name}: an overlapping view of {flat.numel()} elements is too large to write out")
        size = _storage(t).numel()
        lines.append(f"{name} = torch.zeros({size}, dtype={dtype}).as_strided({shape}, {t.stride()}, "
                     f"{t.storage_offset()}).copy_({name})")
    return lines


# ----------------------------------------------------------------------------- entry point


def _run(lines: list[str], name: str) -> torch.Tensor:
    scope: dict = {"torch": torch, "nan": float("nan"), "inf": float("inf")}
    exec("\n".join(lines), scope)  # noqa: S102 - our own generated literal, checked against the original
    return scope[name]


def tensor_source(t: torch.Tensor, name: str, limit: int = EXACT_LIMIT, seed: int = 0,
                  comment: bool = True) -> tuple[list[str], bool]:
    """Lines assigning `name`, and whether they rebuild `t` exactly (False: a seeded draw)."""
    if not isinstance(t, torch.Tensor):
        raise Unwritable(f"{name} is a {type(t).__name__}, not a tensor")
    if t.layout != torch.strided or t.is_quantized or t.device.type != "cpu":
        raise Unwritable(f"{name}: a {t.layout} {t.device.type} tensor has no literal form")
    t = t.detach()
    if t.numel() <= limit:
        lines = _exact_lines(name, t)
        rebuilt = _run(lines, name)
        dense = t.stride() == _contiguous_strides(tuple(t.shape)) and t.storage_offset() == 0
        if not same_bits(rebuilt, t) or not (dense or t.numel() == 0 or same_storage(rebuilt, t)):
            raise Unwritable(f"{name}: its values do not survive a literal ({t.dtype}, {tuple(t.shape)})")
        return lines, True
    lines = _drawn_lines(name, t, seed, comment)
    rebuilt = _run(lines, name)
    if rebuilt.shape != t.shape or rebuilt.dtype != t.dtype or rebuilt.stride() != t.stride():
        raise Unwritable(f"{name}: a drawn stand-in does not match its shape, dtype or strides")
    return lines, False
