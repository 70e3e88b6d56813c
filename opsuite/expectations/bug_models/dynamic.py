"""Models of the dynamic-shape programs' known bugs (known_failures/dynamic.toml).

A dynamic program's model is called with the program's module and its inputs at one run
size, and computes what the compiled program returns at that size.
"""

from __future__ import annotations

import torch


def expand_first_row_from_slice(module, inputs):
    """ExpandFirstRow, x[:1].expand(b, -1) * 2: the slice is typed (min(1, b), 3), so
    broadcast_to's kernel reads the one-row slice buffer at the output's row: row 0 is right,
    every later row is read past the buffer (uninitialised memory, unknown)."""
    (x,) = inputs
    out = x[:1].expand(x.shape[0], -1) * 2
    unknown = torch.zeros(out.shape, dtype=torch.bool)
    unknown[1:] = True
    return {"outputs": [out], "unknown": [unknown]}
