"""Program factory for TorchVision's own ops (torch.ops.torchvision.*).

Self-contained on purpose (imports only torch and torchvision): a repro script embeds this
file verbatim. Importing torchvision is what registers its ops; harness/programs.py imports
only torch, so its `op_program` cannot resolve them in a fresh process. The import waits for
the first program: it costs over a second (torchvision imports dynamo), and the op table
imports this module whether or not a torchvision row is selected.
`vision_op_program("torchvision.roi_align.default", args=[x, rois, 1.0, 2, 2, -1, False])`
returns a module calling that overload; tensor arguments (top-level only) become inputs.
"""

import torch


class VisionOpModule(torch.nn.Module):
    def __init__(self, op, args, kwargs, slots):
        super().__init__()
        import torchvision  # noqa: F401  (registers torch.ops.torchvision)

        namespace, packet, overload = op.split(".")
        self.op = getattr(getattr(getattr(torch.ops, namespace), packet), overload)
        self.args = args
        self.kwargs = kwargs
        self.slots = slots  # positions in args that take the inputs, in order

    def forward(self, *inputs):
        args = list(self.args)
        for slot, value in zip(self.slots, inputs, strict=True):
            args[slot] = value
        return self.op(*args, **self.kwargs)


def vision_op_program(op, args=(), kwargs=None):
    """A module calling one torchvision overload, and its tensor inputs in order."""
    slots = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor)]
    constants = [None if isinstance(a, torch.Tensor) else a for a in args]
    module = VisionOpModule(op, constants, dict(kwargs or {}), slots)
    return module, tuple(args[i] for i in slots)
