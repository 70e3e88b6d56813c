"""Build one TorchVision model with seeded random weights, and seeded inputs for it.

Imports only the standard library, torch and torchvision: a repro script embeds this file
verbatim and rebuilds the very model a case ran from its name, seed and sizes.

Nothing is downloaded (`weights=None`, `weights_backbone=None`). TorchVision's own random
initialisation is not good enough for a comparison: it zero-initialises some heads (the
logits of vit_b_16 are exactly 0, those of efficientnet_b0 ~1e-14) and leaves batch-norm
statistics at 0/1, so an allclose would pass whatever TVM computes. So every parameter is
drawn again from the seed, and then one eval-mode calibration pass on the first
CALIBRATION_BATCH seeded inputs (a run of batch b <= 8 sees a prefix of them)

  - scales each convolution and linear layer so that its output has unit standard deviation
    on that data (a one-pass LSUV: depth neither explodes nor vanishes the activations), and
  - gives every batch norm the per-channel mean of its input and the variance pooled over
    its channels, so eval-mode batch norm really normalises.

Buffers that are not learned state (relative-position index tables, coordinate tables) are
part of the architecture and are left as built; `structural_buffers` lists them.
Finally the calibration outputs are checked (finite, not ~0, not constant): a model whose
reference proves nothing fails to build, with the reason.
"""

import math

import torch
import torchvision
from torch import nn

TASK_MODULES = {
    "classification": torchvision.models,
    "segmentation": torchvision.models.segmentation,
    "detection": torchvision.models.detection,
    "video": torchvision.models.video,
    "optical_flow": torchvision.models.optical_flow,
    "quantized": torchvision.models.quantization,
}

# How many inputs the calibration pass sees. Where the last feature maps are 1x1 or 2x2 a
# couple of images would give statistics of rank one or two, which do not carry over to
# the next image (activations then grow by 1000x through EfficientNet's last stages).
CALIBRATION_BATCH = 8

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm,
          nn.modules.instancenorm._InstanceNorm)
_AFFINE = (nn.modules.conv._ConvNd, nn.Linear)


class DegenerateReference(ValueError):
    """The model's output on seeded data proves nothing (non-finite, ~0 or constant)."""


def task_of(name):
    """The TorchVision module family `name` is listed under (`list_models(module=...)`)."""
    for task, module in TASK_MODULES.items():
        if name in torchvision.models.list_models(module=module):
            return task
    raise KeyError(f"{name!r} is not a TorchVision model")


def _generator(seed, stream):
    """Independent random streams per purpose, all derived from the one seed."""
    return torch.Generator().manual_seed(seed * 1009 + stream)


def construct(name, task, options=None):
    """The model with TorchVision's architecture and nothing downloaded."""
    kwargs = {"weights": None}
    if task in ("segmentation", "detection"):
        kwargs["weights_backbone"] = None
    if task == "quantized":
        kwargs["quantize"] = False  # quantised below, after our initialisation
    kwargs.update(options or {})
    return torchvision.models.get_model(name, **kwargs)


def _normal(tensor, std, gen):
    tensor.copy_(torch.randn(tensor.shape, generator=gen, dtype=torch.float32).mul_(std))


def _uniform(tensor, low, high, gen):
    tensor.copy_(torch.rand(tensor.shape, generator=gen, dtype=torch.float32).mul_(high - low).add_(low))


def _fan_in(weight):
    return max(1, weight[0].numel()) if weight.dim() > 1 else max(1, weight.numel())


@torch.no_grad()
def reinitialise(model, seed):
    """Draw every parameter and every normalisation statistic again from `seed`."""
    gen = _generator(seed, 0)
    for module in model.modules():
        for pname, param in module.named_parameters(recurse=False):
            if not param.is_floating_point():
                continue
            if isinstance(module, _NORMS):
                if pname == "weight":
                    _uniform(param, 0.5, 1.5, gen)
                else:
                    _normal(param, 0.1, gen)
            elif pname.endswith("bias"):
                _normal(param, 0.1, gen)
            elif param.dim() >= 2 and ("weight" in pname or isinstance(module, _AFFINE)):
                _normal(param, 1.0 / math.sqrt(_fan_in(param)), gen)
            elif "scale" in pname:
                # layer scales (ConvNeXt: 1e-6, which silences every residual branch) and
                # SwinV2's logit scale: of order one, so every branch contributes
                _uniform(param, 0.5, 1.5, gen)
            else:
                # embeddings, class tokens, relative-position bias tables
                _normal(param, 0.5, gen)
        # Normalisation state kept in buffers: batch-norm running statistics, and the
        # affine of FrozenBatchNorm2d (detection backbones), which holds it all in buffers.
        for bname, buf in module.named_buffers(recurse=False):
            if buf is None or not buf.is_floating_point():
                continue
            if bname == "running_mean":
                _normal(buf, 0.1, gen)
            elif bname == "running_var":
                _uniform(buf, 0.5, 1.5, gen)
            elif type(module).__name__ == "FrozenBatchNorm2d":
                if bname == "weight":
                    _uniform(buf, 0.5, 1.5, gen)
                elif bname == "bias":
                    _normal(buf, 0.1, gen)
    return model


def structural_buffers(model):
    """Names of the buffers `reinitialise` leaves alone: architecture, not learned state."""
    learned = {"running_mean", "running_var", "num_batches_tracked"}
    names = []
    for mname, module in model.named_modules():
        frozen = type(module).__name__ == "FrozenBatchNorm2d"
        for bname, _ in module.named_buffers(recurse=False):
            if bname in learned or frozen:
                continue
            names.append(f"{mname}.{bname}" if mname else bname)
    return names


def _floats(value):
    leaves, _ = torch.utils._pytree.tree_flatten(value)
    return [x for x in leaves if isinstance(x, torch.Tensor) and x.is_floating_point()]


def health(outputs):
    """Why these reference outputs would prove nothing, or None when they are fine."""
    tensors = _floats(outputs)
    if not tensors:
        return "no floating-point output"
    for index, t in enumerate(tensors):
        if t.numel() == 0:
            continue
        t = t.double()
        if not bool(torch.isfinite(t).all()):
            return f"output {index} has non-finite values"
        scale = float(t.abs().max())
        if scale < 1e-6:
            return f"output {index} is ~0 (max |x| = {scale:.3g})"
        if t.numel() > 1 and float(t.std()) <= 1e-6 * scale:
            return f"output {index} is constant ({float(t.reshape(-1)[0]):.6g})"
    if all(t.numel() == 0 for t in tensors):
        return "every output is empty"
    return None


@torch.no_grad()
def calibrate(model, inputs, seed):
    """One eval-mode pass on seeded data that sets the scale of every layer as it goes.

    Each convolution and linear layer is scaled so that its output has unit standard
    deviation, and each batch norm gets the per-channel mean of its input and the variance
    pooled over all its channels (times a seeded per-channel factor in [0.5, 1.5]). Pooled,
    not per-channel: a channel that happens to vary little on a few calibration images would
    otherwise be divided by a tiny variance and blow up on the next image.

    Returns the outputs of that pass: exactly what the calibrated model computes on this data.
    """
    model.eval()
    gen = _generator(seed, 3)
    done = set()

    # Only the first call counts: a layer shared across levels or iterations (FPN heads,
    # RAFT's update block) is calibrated once, on its first input.
    def unit_scale(module, args, output):
        if module in done or not isinstance(output, torch.Tensor) or not output.is_floating_point():
            return None
        done.add(module)
        std = float(output.float().std()) if output.numel() > 1 else 0.0
        if not math.isfinite(std) or std < 1e-12:
            return None
        module.weight.div_(std)
        if getattr(module, "bias", None) is not None:
            module.bias.div_(std)
        return output / std

    def batch_statistics(module, args):
        x = args[0]
        if module in done or not isinstance(x, torch.Tensor) or x.numel() <= x.shape[1]:
            return
        done.add(module)
        channels = x.transpose(0, 1).reshape(x.shape[1], -1).float()
        pooled = float(channels.var(dim=1).mean())
        if not math.isfinite(pooled) or pooled < 1e-12:
            return
        module.running_mean.copy_(channels.mean(dim=1))
        factor = torch.rand(x.shape[1], generator=gen).add_(0.5)
        module.running_var.copy_(factor.mul_(pooled))

    hooks = [m.register_forward_hook(unit_scale) for m in model.modules()
             if isinstance(m, _AFFINE) and isinstance(getattr(m, "weight", None), torch.Tensor)]
    hooks += [m.register_forward_pre_hook(batch_statistics) for m in model.modules()
              if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_var is not None]
    try:
        return model(*inputs)
    finally:
        for hook in hooks:
            hook.remove()


def make_inputs(task, seed, batch, height, width, frames):
    """Seeded inputs of the shape the task takes.

    Sample i is the same whatever the batch (samples are drawn one after another), so the
    calibration images are the first inputs of every run and a smaller batch is a prefix.
    """
    gen = _generator(seed, 1)
    shape = {"video": (3, frames, height, width), "optical_flow": (2, 3, height, width)}.get(
        task, (3, height, width))
    if task == "detection":
        # a list of images in [0, 1]; the model normalises and resizes them itself
        return ([torch.rand(shape, generator=gen) for _ in range(batch)],)
    samples = torch.stack([torch.randn(shape, generator=gen) for _ in range(batch)])
    if task == "optical_flow":
        return (samples[:, 0].contiguous(), samples[:, 1].contiguous())
    return (samples,)


@torch.no_grad()
def quantize(model, inputs):
    """Post-training static quantisation, as torchvision's quantize_model, on our data."""
    torch.backends.quantized.engine = "fbgemm"
    model.eval()
    model.qconfig = torch.ao.quantization.QConfig(
        activation=torch.ao.quantization.default_observer,
        weight=torch.ao.quantization.default_per_channel_weight_observer)
    model.fuse_model()
    torch.ao.quantization.prepare(model, inplace=True)
    model(*inputs)
    torch.ao.quantization.convert(model, inplace=True)
    return model


def build_model(name, seed=0, batch=1, height=224, width=224, frames=8, options=None, calibrated=True):
    """`(model.eval(), inputs)` for TorchVision model `name`, everything drawn from `seed`.

    `options` are extra keyword arguments of the TorchVision builder (an image size the
    architecture is built for, a detector's resize limits). The weights depend on the seed
    and the sizes but not on `batch`, so one model can be run at several batch sizes.
    `calibrated=False` stops after the seeded re-initialisation: the same architecture, for a
    trace whose outcome no weight decides (not for a quantised model, whose modules the
    calibration data's observers choose).
    """
    task = task_of(name)
    torch.manual_seed(seed)  # TorchVision's own initialisation, overwritten below, uses it
    model = construct(name, task, options)
    reinitialise(model, seed)
    if not calibrated:
        if task == "quantized":
            raise ValueError(f"{name}: a quantised model is built from its calibration; it has no uncalibrated form")
        return model.eval(), make_inputs(task, seed, batch, height, width, frames)
    calibration = make_inputs(task, seed, CALIBRATION_BATCH, height, width, frames)
    outputs = calibrate(model, calibration, seed)
    problem = health(outputs)
    if problem is not None:
        raise DegenerateReference(f"{name} with seed {seed}: {problem}")
    if task == "quantized":
        quantize(model, calibration)
    return model.eval(), make_inputs(task, seed, batch, height, width, frames)


def short_program(name, seed=0, batch=1, height=224, width=224, frames=8, options=None):
    """How a short repro rebuilds `build_model(...)`: TorchVision's constructor, then this module's
    seeded re-initialisation and calibration, and the seeded inputs. See harness/short_repro.py."""
    task = task_of(name)
    keywords = {"weights": None, **({"weights_backbone": None} if task in ("segmentation", "detection") else {}),
                **({"quantize": False} if task == "quantized" else {}), **(options or {})}
    arguments = ", ".join([repr(name)] + [f"{k}={v!r}" for k, v in keywords.items()])
    build = [f"torch.manual_seed({seed})  # TorchVision's own initialisation, drawn again below",
             f"model = torchvision.models.get_model({arguments})",
             f"reinitialise(model, {seed})",
             f"calibration = make_inputs({task!r}, {seed}, {CALIBRATION_BATCH}, {height}, {width}, {frames})",
             f"calibrate(model, calibration, {seed})"]
    build += ["quantize(model, calibration)"] if task == "quantized" else []
    return {"imports": ["import math", "import torchvision", "from torch import nn"],
            "source": ["_NORMS", "_AFFINE", _generator, _normal, _uniform, _fan_in, reinitialise, calibrate, make_inputs]
            + ([quantize] if task == "quantized" else []),
            "build": [*build, "model = model.eval()"],
            "inputs": f"make_inputs({task!r}, {seed}, {batch}, {height}, {width}, {frames})"}
