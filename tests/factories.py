"""Program factories and a property check for the harness's own tests.

Self-contained on purpose (standard library and torch only): a repro script embeds the module
that defines a case's factory or check verbatim. Factories that leave a trace (a pid file, lines
on stderr) let a test see which worker process ran a case.
"""

import os
import sys
import time
from pathlib import Path

import torch


class Sin(torch.nn.Module):
    def forward(self, x):
        return torch.sin(x)


class AddOne(torch.nn.Module):
    def forward(self, x):
        return x + 1


class Noisy(torch.nn.Module):
    """A different answer on every call: eager cannot be its own reference."""

    def forward(self, x):
        return x + torch.rand_like(x)


class Refuses(torch.nn.Module):
    def forward(self, x):
        raise RuntimeError("eager refuses this input on purpose")


class Segfaults(torch.nn.Module):
    """Eager itself dies (as PyTorch's float16 conv1d did on a nightly draw): no reference exists."""

    def forward(self, x):
        import ctypes

        ctypes.string_at(0)  # reads address 0: SIGSEGV
        return x


def _input(rows=3):
    return torch.linspace(-2.0, 2.0, rows * 4).reshape(rows, 4)


def sin_program(rows=3):
    """sin over a (rows, 4) ramp: `rows` is the dim a dynamic program varies."""
    return Sin(), (_input(rows),)


def pid_program(pid_file):
    """sin, after appending the pid of the process that builds it to `pid_file`."""
    with open(pid_file, "a") as f:
        f.write(f"{os.getpid()}\n")
    return Sin(), (_input(),)


def sleeping_program(seconds=120.0, rows=3):
    """sin, after `seconds` asleep: a case that outlives any limit a test sets, in its eager stage."""
    time.sleep(seconds)
    return sin_program(rows)


def ticking_program(sentinel, seconds=600.0):
    """x + 1, after printing a tick to stderr every 0.1 s until `sentinel` exists."""
    stop = time.monotonic() + seconds
    while not Path(sentinel).exists() and time.monotonic() < stop:
        print(f"tick from pid {os.getpid()}", file=sys.stderr, flush=True)
        time.sleep(0.1)
    return AddOne(), (_input(),)


def noisy_program():
    return Noisy(), (_input(),)


def refused_program():
    return Refuses(), (_input(),)


def eager_segfault_program():
    return Segfaults(), (_input(),)


def sorted_values(expected, actual, inputs):
    """A property: the outputs hold the same values, in any order."""
    for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
        if not torch.allclose(e.reshape(-1).sort().values, a.reshape(-1).sort().values, atol=1e-5):
            return f"output {index}: not the same values in another order"
    return None


class SinThenBreak(torch.nn.Module):
    """Sine, a forced graph break, then +1: dynamo hands TVM two graphs and runs Python between."""

    def forward(self, x):
        y = torch.sin(x)
        torch._dynamo.graph_break()
        return y + 1


def graph_break_program(rows=3):
    return SinThenBreak(), (_input(rows),)


class ItemScaled(torch.nn.Module):
    """Scales by a Python number read from a tensor: dynamo breaks the graph at `.item()`."""

    def forward(self, x):
        return x * x.sum().item()


def item_program(rows=3):
    return ItemScaled(), (_input(rows),)


class SignBranch(torch.nn.Module):
    """Python control flow on a tensor's value: torch.fx.symbolic_trace cannot follow it."""

    def forward(self, x):
        if x.sum() > 0:
            return x + 1
        return x - 1


def branch_program(rows=3):
    return SignBranch(), (_input(rows),)


class Passthrough(torch.nn.Module):
    """Returns its input: dynamo finds no op to hand a backend, so nothing reaches TVM."""

    def forward(self, x):
        return x


def passthrough_program(rows=3):
    return Passthrough(), (_input(rows),)


class ConvBn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.bn = torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)

    def forward(self, x):
        return torch.flatten(self.bn(self.conv(x)), 1)


def conv_bn_program():
    """A convolution and an eval-mode BatchNorm2d whose running statistics are far from any
    batch's, then torch.flatten: the fx road's batch-norm bug shows in every output element."""
    torch.manual_seed(0)
    module = ConvBn().eval()
    module.bn.running_mean.fill_(3.0)
    module.bn.running_var.fill_(5.0)
    return module, (torch.randn(2, 3, 6, 6),)
