"""Models of the linear-algebra converters' known bugs (known_failures/linalg.toml).

The mm, bmm, matmul, linear and addmm converters emit relax.matmul/relax.linear with
out_dtype="float32" hard-coded: the operands are cast to float32 and multiplied and summed there,
whatever their dtype (an integer product does not wrap, a float64 one loses precision).
"""

from __future__ import annotations

import torch

from opsuite.expectations.bug_models import on_call
from opsuite.expectations.bug_models.pointwise import operands


def _matmul_float32(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """torch.matmul's shapes, the operands cast to float32 and each output element summed one
    term at a time in k's order, each product rounded to float32 before it is added, as TVM's
    compiled reduction loop does (established on nightly's linear[bfloat16-edge-nobias-0]: TVM
    gives this loop's NaN bit for bit): a product beyond float32's range is inf, and with an
    infinite term of the other sign the sum is NaN, where torch's gemm (fused multiply-add) keeps
    the exact product and ends at -inf."""
    a, b = a.to(torch.float32), b.to(torch.float32)
    vector_a, vector_b = a.dim() == 1, b.dim() == 1
    a = a.unsqueeze(0) if vector_a else a
    b = b.unsqueeze(-1) if vector_b else b
    acc = torch.zeros(torch.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1]))
    for j in range(a.shape[-1]):
        acc = acc + a[..., :, j:j + 1] * b[..., j:j + 1, :]
    acc = acc.squeeze(-2) if vector_a else acc
    return acc.squeeze(-1) if vector_b else acc


@on_call
def matmul_in_float32(a, b):
    """mm, bmm, matmul: `_binary_op` over relax.matmul(a, b, out_dtype="float32")."""
    return _matmul_float32(*operands(a, b))


@on_call
def linear_in_float32(x, weight, bias=None):
    """_linear: relax.linear(x, weight, bias, "float32"), x @ weight.T in float32 (a bias of
    another dtype is refused at import)."""
    out = _matmul_float32(x, weight.transpose(-1, -2))
    return out if bias is None else out + bias


@on_call
def addmm_in_float32(x, mat1, mat2, *, beta=1, alpha=1):
    """_addmm: matmul(mat1, mat2, out_dtype="float32"), times relax.const(alpha, float32) unless
    alpha is 1 (left out when 0), plus x * beta in x's dtype unless beta is 0."""
    result = None
    if alpha != 0:
        result = _matmul_float32(mat1, mat2)
        if alpha != 1:
            result = result * torch.tensor(alpha, dtype=torch.float32)
    if beta != 0:
        bias = x if beta == 1 else x * torch.tensor(beta).to(x.dtype)
        result = bias if result is None else bias + result
    return result


@on_call
def baddbmm_decomposed(x, batch1, batch2, *, beta=1, alpha=1):
    """baddbmm as run_decompositions leaves it, through TVM: bmm (relax.matmul with out_dtype
    float32), times alpha, and with beta=0 that product alone (float32); otherwise plus x * beta,
    _binary_op casting both terms to torch.promote_types(x's dtype, float32) (an integer x to
    float32, float64 to float64 with the product's float32 precision). float16 and bfloat16 are
    decomposed in float32 and cast back. TVM's arithmetic simplifier folds a product with the
    constant 0.0 to 0 (x * 0 -> 0, also for floats), so with alpha=0 the NaN and inf of
    batch1 @ batch2 are gone."""
    half = x.dtype if x.dtype in (torch.float16, torch.bfloat16) else None
    if half is not None:
        x, batch1, batch2 = x.float(), batch1.float(), batch2.float()
    if alpha == 0:
        product = torch.zeros(batch1.shape[:-1] + batch2.shape[-1:], dtype=torch.float32)
    else:
        product = _matmul_float32(batch1, batch2)
        if alpha != 1:
            product = product * torch.tensor(alpha, dtype=torch.float32)
    if beta == 0:
        out = product
    else:
        bias = x if beta == 1 else x * torch.tensor(beta).to(x.dtype)
        common = torch.promote_types(bias.dtype, torch.float32)
        out = bias.to(common) + product.to(common)
    return out if half is None else out.to(half)


@on_call
def einsum_in_operand_dtype(equation, tensors):
    """_einsum emits relax.einsum, whose result keeps the operands' dtype: torch's einsum answers
    int64 where it reduces integer operands (a sum, which promotes), TVM the operand dtype, the
    sum wrapping in its width (the int64 result cast down)."""
    exact = torch.einsum(equation, *[t.to(torch.int64) if not t.is_floating_point() else t for t in tensors])
    return exact.to(tensors[0].dtype)
