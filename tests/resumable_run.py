"""A run of a dozen small cases, as its own process, so a test can kill it half-way.

    python -m tests.resumable_run OUT [--resume]
"""

import sys
from pathlib import Path

import torch

from harness.runner import RunOptions, execute
from tests.helpers import op_case

UNARY = ["sin", "cos", "exp", "tanh", "abs", "neg", "sigmoid", "relu", "floor", "ceil", "sqrt", "erf"]


def cases():
    out = []
    for i, name in enumerate(UNARY):
        x = torch.rand(4, 3, generator=torch.Generator().manual_seed(i)) + 0.5
        out.append(op_case(f"aten.{name}.default", [x], seed=i))
    return out


if __name__ == "__main__":
    out = Path(sys.argv[1])
    # Batches of four: records arrive a batch at a time, so a kill can land between two batches.
    execute(cases(), RunOptions(out=out, jobs=1, resume="--resume" in sys.argv, batch=4))
