"""Models of the recurrent converters' known bugs (known_failures/nn_rnn.toml)."""

from __future__ import annotations

import torch

_HALF = (torch.float16, torch.bfloat16)


def sequence_for_every_output(module, inputs):
    """The lstm and gru converters (exported_program_translator.py `_lstm`, `_gru`) unroll the
    recurrence right but return the output sequence alone; torch's getitem 1 (h_n) and 2 (c_n)
    then read it back unchanged (the importer's `_getitem` returns a tensor as it is for an
    integer index), so every output is the sequence. The sequence is torch's own, except for a
    float16/bfloat16 lstm, which `_lstm_cell_unroll` computes in that dtype (see
    `_lstm_sequence_in_dtype`)."""
    outputs = module(*inputs)
    args, _ = module.call_arguments(inputs)
    if "lstm" in str(module.op) and args[0].dtype in _HALF:
        return [_lstm_sequence_in_dtype(*args)] * len(outputs)
    return [outputs[0]] * len(outputs)


def _matmul_in_dtype(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """relax.matmul without out_dtype: the sum over k accumulated in the operands' dtype, one
    rounded term at a time (float16 [1, 2**-11, 2**-11] @ ones sums to 1.0 in TVM 0.27)."""
    acc = torch.zeros(a.shape[0], b.shape[1], dtype=a.dtype)
    for j in range(a.shape[1]):
        acc = acc + a[:, j:j + 1] * b[j:j + 1, :]
    return acc


def _lstm_sequence_in_dtype(x, hx, params, has_biases=True, num_layers=1, dropout=0.0, train=False,
                            bidirectional=False, batch_first=False):
    """`_lstm_cell_unroll` in the input's dtype: x_t @ W_ih.T + h @ W_hh.T (+ b_ih) (+ b_hh),
    the gates, c and h each a relax op rounded to the dtype, where torch's CPU cell accumulates
    the gates in float32 (float16 error against float64 several times eager's)."""
    per_direction = 4 if has_biases else 2
    steps = x.transpose(0, 1) if batch_first else x
    hidden = params[1].shape[1]
    directions = []
    for d in range(2 if bidirectional else 1):
        w_ih, w_hh, *biases = params[d * per_direction:(d + 1) * per_direction]
        h, c = hx[0][d], hx[1][d]
        out = []
        for t in (range(steps.shape[0] - 1, -1, -1) if d else range(steps.shape[0])):
            gates = _matmul_in_dtype(steps[t], w_ih.t()) + _matmul_in_dtype(h, w_hh.t())
            for bias in biases:
                gates = gates + bias
            i, f, g, o = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            out.append(h)
        directions.append(torch.stack(out[::-1] if d else out))
    sequence = torch.cat(directions, dim=2)
    return sequence.transpose(0, 1) if batch_first else sequence
