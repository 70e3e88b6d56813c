"""The torch programs of the dynamic-shape cases, and the factory that builds one at a size.

Self-contained on purpose (imports only the standard library and torch): a repro script
embeds this file verbatim.

    build("Add", [("data", ["b", 3]), ("data", ["b", 3])], b=5)

returns `(Add(), (x, y))` with x and y of shape (5, 3). A shape entry is an int or an
expression over the size keywords (`"b"`, `"2*b"`, `"b+1"`). A keyword `in1.b` overrides
`b` for input 1 only: that is how a probe breaks a relation between inputs that share a dim.

Input kinds:
    ("data", shape)           values of `dtype` (standard normal; small ints for integer dtypes)
    ("mask", shape)           bool, about half True
    ("index", shape, high)    int64 in [0, high), high an int or an expression
    ("value", expr)           a 0-d int64 tensor holding the value of expr (item()-driven sizes)
    ("signed", shape, expr)   |normal| + 0.5, times the sign of expr (picks a cond branch)
    ("sparse", shape)         float32 with about half the entries exactly zero
"""

import torch
import torch.nn.functional as F


def _value(expr, sizes):
    if isinstance(expr, int):
        return expr
    return int(eval(expr, {"__builtins__": {}}, dict(sizes)))


def _sizes_for(index, sizes):
    """The size keywords as input `index` sees them: `in<index>.<name>` overrides `<name>`."""
    own = {k: v for k, v in sizes.items() if "." not in k}
    prefix = f"in{index}."
    own.update({k[len(prefix):]: v for k, v in sizes.items() if k.startswith(prefix)})
    return own


def _make(spec, sizes, dtype, gen):
    kind = spec[0]
    if kind == "value":
        return torch.tensor(_value(spec[1], sizes), dtype=torch.int64)
    shape = [_value(d, sizes) for d in spec[1]]
    if kind == "data":
        if dtype.is_floating_point:
            return torch.randn(shape, generator=gen).to(dtype)
        return torch.randint(-9, 10, shape, generator=gen).to(dtype)
    if kind == "mask":
        return torch.rand(shape, generator=gen) > 0.5
    if kind == "index":
        return torch.randint(0, _value(spec[2], sizes), shape, generator=gen)
    if kind == "signed":
        sign = 1.0 if _value(spec[2], sizes) > 0 else -1.0
        return (torch.randn(shape, generator=gen).abs() + 0.5) * sign
    if kind == "sparse":
        values = torch.randn(shape, generator=gen)
        return torch.where(torch.rand(shape, generator=gen) > 0.5, values, torch.zeros(()))
    raise ValueError(f"unknown input kind {kind!r}")


def build(program, inputs, dtype="float32", seed=0, init=None, **sizes):
    """(module, inputs) of `program` (a class of this module) at the given sizes."""
    torch_dtype = getattr(torch, dtype)
    torch.manual_seed(seed)
    module = globals()[program](**(init or {})).eval()
    if torch_dtype.is_floating_point:
        module = module.to(torch_dtype)
    gen = torch.Generator().manual_seed(seed)
    made = tuple(_make(spec, _sizes_for(i, sizes), torch_dtype, gen) for i, spec in enumerate(inputs))
    return module, made


def short_program(program, inputs, dtype="float32", seed=0, init=None, **sizes):
    """How a short repro rebuilds `build(...)`'s module: its class and the lines that make it as
    build does (the harness writes the inputs itself). See harness/short_repro.py."""
    torch_dtype = getattr(torch, dtype)
    cls = globals()[program]
    arguments = ", ".join(f"{k}={v!r}" for k, v in (init or {}).items())
    cast = f".to(torch.{dtype})" if torch_dtype.is_floating_point and torch_dtype != torch.float32 else ""
    weighted = any(True for _ in cls(**(init or {})).state_dict())
    return {"imports": ["import torch.nn.functional as F"], "source": [cls],
            "build": ([f"torch.manual_seed({seed})  # its weights, drawn as the harness draws them"] if weighted else [])
            + [f"model = {program}({arguments}).eval(){cast}"]}


class Layer(torch.nn.Module):
    """One torch.nn layer, by name: Layer("Linear", [8, 5]) is torch.nn.Linear(8, 5)."""

    def __init__(self, kind, args=()):
        super().__init__()
        self.layer = getattr(torch.nn, kind)(*args)

    def forward(self, x):
        return self.layer(x)


# ------------------------------------------------------------------------------ elementwise


class Add(torch.nn.Module):
    def forward(self, x, y):
        return x + y


class Mul(torch.nn.Module):
    def forward(self, x, y):
        return x * y


class Gelu(torch.nn.Module):
    def forward(self, x):
        return F.gelu(x)


class Where(torch.nn.Module):
    def forward(self, cond, x, y):
        return torch.where(cond, x, y)


class MulBySize(torch.nn.Module):
    """A tensor times a size: the size is a SymInt operand of aten.mul.Tensor."""

    def forward(self, x):
        return x * x.shape[0]


# ------------------------------------------------------------------------------ reductions


class SumDim(torch.nn.Module):
    def forward(self, x):
        return x.sum(dim=1)


class MeanKeepdim(torch.nn.Module):
    def forward(self, x):
        return x.mean(dim=-1, keepdim=True)


class MaxDim(torch.nn.Module):
    def forward(self, x):
        values, indices = x.max(dim=0)
        return values, indices


class Argmax(torch.nn.Module):
    def forward(self, x):
        return x.argmax(dim=1)


class Cumsum(torch.nn.Module):
    def forward(self, x):
        return x.cumsum(dim=1)


# ------------------------------------------------------------------------------ matmul, linear


class Matmul(torch.nn.Module):
    def forward(self, x, y):
        return x @ y


class Bmm(torch.nn.Module):
    def forward(self, x, y):
        return torch.bmm(x, y)


# ------------------------------------------------------------------------------ convolution, pooling


class Conv2d(torch.nn.Module):
    def __init__(self, stride=1, padding=1):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, stride=stride, padding=padding)

    def forward(self, x):
        return self.conv(x)


class MaxPool2d(torch.nn.Module):
    def forward(self, x):
        return F.max_pool2d(x, 2)


class AvgPool2d(torch.nn.Module):
    def forward(self, x):
        return F.avg_pool2d(x, 3, stride=1, padding=1)


class AdaptiveAvgPool2d(torch.nn.Module):
    def forward(self, x):
        return F.adaptive_avg_pool2d(x, 3)


# ------------------------------------------------------------------------------ reshape, view


class ViewMinusOne(torch.nn.Module):
    def forward(self, x):
        return x.view(-1, x.shape[-1])


class Flatten(torch.nn.Module):
    def forward(self, x):
        return x.flatten(1)


class Transpose(torch.nn.Module):
    def forward(self, x):
        return x.transpose(1, 2)


class Squeeze(torch.nn.Module):
    def forward(self, x):
        return x.squeeze(1) * 2


class Unsqueeze(torch.nn.Module):
    def forward(self, x):
        return x.unsqueeze(1) * 2


class SplitHalves(torch.nn.Module):
    """(2*d, n) -> (d, 2, n): the view's first size is the floordiv of a SymInt."""

    def forward(self, x):
        return x.reshape(x.shape[0] // 2, 2, -1)


# ------------------------------------------------------------------------------ cat, stack


class Cat(torch.nn.Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = dim

    def forward(self, x, y):
        return torch.cat([x, y], self.dim)


class Stack(torch.nn.Module):
    def forward(self, x, y, z):
        return torch.stack([x, y, z], 1)


# ------------------------------------------------------------------------------ slicing, indexing


class Slice(torch.nn.Module):
    def forward(self, x):
        return x[1:, ::2]


class Select(torch.nn.Module):
    def forward(self, x):
        return x[0] + x[:, 0].sum()


class SelectLast(torch.nn.Module):
    def forward(self, x):
        return x[-1] * 2


class Index(torch.nn.Module):
    def forward(self, x, index):
        return x[index]


class IndexSelect(torch.nn.Module):
    def forward(self, x, index):
        return torch.index_select(x, 1, index)


class Gather(torch.nn.Module):
    def forward(self, x, index):
        return torch.gather(x, 1, index)


# ------------------------------------------------------------------------------ expand, broadcast


class ExpandAs(torch.nn.Module):
    def forward(self, x, y):
        return x.expand(-1, y.shape[1]) + y


class ExpandFirstRow(torch.nn.Module):
    """x[:1] has one row, but its size is min(1, b) to a symbolic-shape compiler."""

    def forward(self, x):
        return x[:1].expand(x.shape[0], -1) * 2


class AddFirstRow(torch.nn.Module):
    def forward(self, x):
        return x[:1] + x


# ------------------------------------------------------------------------------ softmax, normalisation


class Softmax(torch.nn.Module):
    def forward(self, x):
        return F.softmax(x, dim=-1)


class LogSoftmax(torch.nn.Module):
    def forward(self, x):
        return F.log_softmax(x, dim=1)


class LayerNorm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = torch.nn.LayerNorm(8)
        with torch.no_grad():
            self.norm.weight.normal_()
            self.norm.bias.normal_()

    def forward(self, x):
        return self.norm(x)


class BatchNorm2d(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = torch.nn.BatchNorm2d(3)
        with torch.no_grad():
            self.norm.running_mean.normal_()
            self.norm.running_var.uniform_(0.5, 2.0)

    def forward(self, x):
        return self.norm(x)


# ------------------------------------------------------------------------------ interpolation


class Upsample(torch.nn.Module):
    def __init__(self, mode="bilinear", size=None):
        super().__init__()
        self.mode, self.size = mode, size

    def forward(self, x):
        if self.size is not None:
            return F.interpolate(x, size=tuple(self.size), mode=self.mode)
        return F.interpolate(x, scale_factor=2, mode=self.mode)


# ------------------------------------------------------------------------------ embedding, attention


class Attention(torch.nn.Module):
    def __init__(self, causal=False):
        super().__init__()
        self.causal = causal

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)


class SelfAttention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = torch.nn.MultiheadAttention(16, 2, batch_first=True)

    def forward(self, x):
        return self.attention(x, x, x, need_weights=False)[0]


# ------------------------------------------------------------------------------ arithmetic on sizes


class ArangeSizePlusOne(torch.nn.Module):
    def forward(self, x):
        return torch.arange(x.shape[0] + 1, dtype=x.dtype) * x.mean()


class DropLast(torch.nn.Module):
    def forward(self, x):
        return x[: x.shape[0] - 1] * 2


class FlattenBySize(torch.nn.Module):
    def forward(self, x):
        return x.reshape(x.shape[0] * x.shape[1]) * 2


class ReshapeToNumel(torch.nn.Module):
    """x.numel() as a size: aten.sym_numel.default while the graph is not decomposed."""

    def forward(self, x):
        return x.reshape(x.numel()) * 2


class FirstRowHalfTimes(torch.nn.Module):
    """The first row repeated b // 2 times (slicing to b // 2 makes torch.export give up)."""

    def forward(self, x):
        return x[0].expand(x.shape[0] // 2, -1) * 2


class FirstFew(torch.nn.Module):
    def forward(self, x):
        return x[: x.shape[0] % 3 + 2] * 2


class FillNegSize(torch.nn.Module):
    def forward(self, x):
        return torch.full((x.shape[1],), -x.shape[0], dtype=x.dtype) + x[0]


class FullOfSize(torch.nn.Module):
    def forward(self, x):
        return x.new_full((x.shape[0],), 2.0) + x[:, 0]


class SplitColumns(torch.nn.Module):
    def forward(self, x):
        first, second, third = x.split(2, dim=1)
        return first * 2 + second, third


# ------------------------------------------------------------------------------ control flow


class CondOnSize(torch.nn.Module):
    """torch.cond whose predicate compares a size with 4: each branch is taken by some size."""

    def __init__(self, compare="gt"):
        super().__init__()
        self.compare = compare

    def forward(self, x):
        n = x.shape[0]
        predicate = {"gt": n > 4, "ge": n >= 4, "lt": n < 4, "le": n <= 4, "eq": n == 4, "ne": n != 4}
        return torch.cond(predicate[self.compare], lambda x: x.sin() + 1, lambda x: x.cos() - 1, (x,))


class CondOnData(torch.nn.Module):
    """torch.cond on the sign of the data: the input's sign keyword picks the branch."""

    def forward(self, x, w):
        return torch.cond(x.sum() > 0, lambda x, w: (x @ w).relu(), lambda x, w: x.exp() - 1, (x, w))


# ------------------------------------------------------------------------------ data-dependent shapes


class Nonzero(torch.nn.Module):
    def forward(self, x):
        return torch.nonzero(x)


class MaskedSelect(torch.nn.Module):
    def forward(self, x):
        return torch.masked_select(x, x > 0)


class Unique(torch.nn.Module):
    def forward(self, x):
        return torch.unique(x)


class TakeFirstK(torch.nn.Module):
    """x[:k] with k = n.item(), bounded by torch._check so export accepts it."""

    def forward(self, x, n):
        k = n.item()
        torch._check(k >= 1)
        torch._check(k <= x.shape[0])
        return x[:k] * 2


class ZerosOfK(torch.nn.Module):
    """A new tensor whose size is an item(): a shape that exists only at run time."""

    def forward(self, x, n):
        k = n.item()
        torch._check(k >= 1)
        torch._check(k <= 8)
        return torch.zeros(k, x.shape[1]) + x.mean(dim=0)


class AssertPositive(torch.nn.Module):
    def __init__(self, message=True):
        super().__init__()
        self.message = message

    def forward(self, x):
        if self.message:
            torch._assert_async(x.abs().sum() > 0, "all zero")
        else:
            torch._assert_async(x.abs().sum() > 0)
        return x * 2
