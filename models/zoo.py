"""One row per TorchVision model: its input and why, and its limits.

The denominator is `torchvision.models.list_models()` (classification, segmentation,
detection, video, optical flow, quantized); tests/test_models.py fails when a listed model
has no row here or a row names a model that is not listed.

Inputs are the smallest each model takes, under one rule per family (the reasons below,
recorded in every case's meta). Numbers that are measured rather than decided (the float32
rounding noise behind each tolerance, the seconds a model takes) live in models/measured.py;
known failures, as for ops, in opsuite/expectations/known_failures/models.toml.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.case import Tolerance
from models.measured import MEASURED

# ---------------------------------------------------------------- why each input size
CNN = ("downsamples by 32 and ends in adaptive pooling, so any size from 32 runs; 64x64 is the "
       "smallest multiple of 32 whose last stage still sees a 2x2 map (at 32x32 every 3x3 "
       "kernel there reads only its centre tap)")
ALEXNET = "smallest multiple of 32 it takes: below 63x63 its third max-pool has nothing to pool"
INCEPTION = ("smallest multiple of 32 it takes: the stem needs 75x75 (at 64x64 a 3x3 kernel "
             "outgrows a 2x2 map)")
VIT = ("the position embedding is built for the builder's image_size (without weights any size "
       "divisible by the patch): 64x64 (56x56 for 14x14 patches) gives 4x4 patches (2x2 for 32x32 "
       "patches), so every attention still mixes several tokens besides the class token, at a "
       "sequence 12x (/32: 10x) shorter than 224x224's")
SWIN = ("window-constrained: 224x224 (V2: 256x256) is the size whose 7x7 (V2: 8x8) windows tile "
        "every stage exactly and keep shifted windows in three of four stages; smaller inputs "
        "run too but take the padding path, and below 128x128 the third stage loses its shift")
MAXVIT = ("window-constrained: every stage is partitioned into 7x7 windows and grids, so the "
          "input must be a multiple of 224 (7 x the total stride of 32)")
SEGMENTATION = ("the backbone is dilated to output stride 8 (ResNet) or 16 (MobileNetV3) and the "
                "head upsamples back: 64x64 keeps an 8x8 (4x4) map at the head")
DETECTION = ("the detector resizes every image to min_size itself; min_size = max_size = 128 "
             "(from 800/1333, 320/640 for the _320 variant) keeps the FPN's coarsest level at 2x2 "
             "and costs about (800/128)^2 = 40x less")
SSD = ("the detector resizes every image to its fixed 300x300 (SSDlite: 320x320) itself, so the "
       "image size is free: 64x64 images")
VIDEO_CNN = ("8 frames of 64x64: the 3D ResNets downsample time by 8 and space by 16, so the last "
             "stage sees 1x4x4 (4 frames of 32x32 run too, but end at 1x2x2)")
S3D = ("its head is an AvgPool3d over 2x7x7 after a total stride of 8 in time and 32 in space: "
       "16 frames of 224x224 is the smallest clip it takes")
MVIT = ("fixed by the architecture: the position embedding is built for 16 frames of 224x224")
SWIN3D = ("8 frames of 112x112: 4x28x28 tokens, which the 7x7 spatial windows tile with shifts in "
          "the first two stages; the 8-frame temporal window covers the whole clip, so only spatial "
          "shifts run (a temporal shift needs 32 frames, 4x the cost); 4 frames of 32x32 run too")
RAFT = ("the correlation pyramid needs feature maps of at least 16x16 at stride 8: 128x128 is the "
        "smallest size it takes")
QUANTIZED = "as its float counterpart"
QUANTIZED_SHUFFLENET = ("as its float counterpart; below 64x64 the quantized channel shuffle fails "
                        "in eager itself (`required rank 4 tensor to use channels_last format`)")

# ---------------------------------------------------------------- default limits
# A model past its limit is a `timeout`, not a hung night: four times its last measured
# seconds (room for a loaded machine), and never less than this.
TIMEOUT = 900.0
DETECTION_OPTIONS = {"min_size": 128, "max_size": 128}


@dataclass(frozen=True)
class ModelRow:
    name: str
    size: int | tuple[int, int]  # square side, or (height, width)
    why: str  # why this input: the smallest the model takes, under its family's rule
    frames: int | None = None  # video: clip length
    options: Mapping[str, object] = field(default_factory=dict)  # builder keyword arguments
    tolerance: Tolerance | None = None  # None: derived from the measured float32 noise

    @property
    def hw(self) -> tuple[int, int]:
        return (self.size, self.size) if isinstance(self.size, int) else tuple(self.size)

    @property
    def noise(self) -> float | None:
        """float32 eager against float64 eager, relative L2 (None: not measured)."""
        return MEASURED.get(self.name, {}).get("noise")

    @property
    def cost(self) -> float:
        """Expected seconds on a 2-core CPU, from the last full run (for sharding)."""
        return MEASURED.get(self.name, {}).get("seconds", 60.0)

    @property
    def timeout(self) -> float:
        return max(TIMEOUT, 4.0 * self.cost)


def _rows(names: str, size, why: str, **fields) -> list[ModelRow]:
    return [ModelRow(name, size, why, **fields) for name in names.split()]


ROWS: dict[str, ModelRow] = {row.name: row for row in [
    # ------------------------------------------------------------ classification
    ModelRow("alexnet", 64, ALEXNET),
    *_rows("convnext_tiny convnext_small convnext_base convnext_large", 64, CNN),
    *_rows("densenet121 densenet161 densenet169 densenet201", 64, CNN),
    ModelRow("efficientnet_b0", 64, CNN),
    *_rows("efficientnet_b1 efficientnet_b2 efficientnet_b3 efficientnet_b4 "
           "efficientnet_b5 efficientnet_b6 efficientnet_b7", 64, CNN),
    *_rows("efficientnet_v2_s efficientnet_v2_m efficientnet_v2_l", 64, CNN),
    ModelRow("googlenet", 64, CNN),
    ModelRow("inception_v3", 96, INCEPTION),
    ModelRow("maxvit_t", 224, MAXVIT),
    *_rows("mnasnet0_5 mnasnet0_75 mnasnet1_0 mnasnet1_3", 64, CNN),
    *_rows("mobilenet_v2 mobilenet_v3_large mobilenet_v3_small", 64, CNN),
    *_rows("regnet_x_400mf regnet_x_800mf regnet_x_1_6gf regnet_x_3_2gf regnet_x_8gf "
           "regnet_x_16gf regnet_x_32gf", 64, CNN),
    *_rows("regnet_y_400mf regnet_y_800mf regnet_y_1_6gf regnet_y_3_2gf regnet_y_8gf "
           "regnet_y_16gf regnet_y_32gf regnet_y_128gf", 64, CNN),
    *_rows("resnet18 resnet34 resnet50 resnet101 resnet152", 64, CNN),
    *_rows("resnext50_32x4d resnext101_32x8d resnext101_64x4d wide_resnet50_2 wide_resnet101_2",
           64, CNN),
    *_rows("shufflenet_v2_x0_5 shufflenet_v2_x1_0 shufflenet_v2_x1_5 shufflenet_v2_x2_0", 64, CNN),
    *_rows("squeezenet1_0 squeezenet1_1", 64, CNN),
    *_rows("swin_t swin_s swin_b", 224, SWIN),
    *_rows("swin_v2_t swin_v2_s swin_v2_b", 256, SWIN),
    *_rows("vgg11 vgg11_bn vgg13 vgg13_bn vgg16 vgg16_bn vgg19 vgg19_bn", 64, CNN),
    *_rows("vit_b_16 vit_b_32 vit_l_16 vit_l_32", 64, VIT, options={"image_size": 64}),
    ModelRow("vit_h_14", 56, VIT, options={"image_size": 56}),
    # ------------------------------------------------------------ segmentation
    *_rows("deeplabv3_mobilenet_v3_large deeplabv3_resnet50 deeplabv3_resnet101 fcn_resnet50 "
           "fcn_resnet101 lraspp_mobilenet_v3_large", 64, SEGMENTATION),
    # ------------------------------------------------------------ detection
    *_rows("fasterrcnn_mobilenet_v3_large_320_fpn fasterrcnn_mobilenet_v3_large_fpn "
           "fasterrcnn_resnet50_fpn fasterrcnn_resnet50_fpn_v2 fcos_resnet50_fpn "
           "keypointrcnn_resnet50_fpn maskrcnn_resnet50_fpn maskrcnn_resnet50_fpn_v2 "
           "retinanet_resnet50_fpn retinanet_resnet50_fpn_v2", 128, DETECTION,
           options=DETECTION_OPTIONS),
    *_rows("ssd300_vgg16 ssdlite320_mobilenet_v3_large", 64, SSD),
    # ------------------------------------------------------------ video
    *_rows("mc3_18 r2plus1d_18 r3d_18", 64, VIDEO_CNN, frames=8),
    ModelRow("s3d", 224, S3D, frames=16),
    *_rows("mvit_v1_b mvit_v2_s", 224, MVIT, frames=16),
    *_rows("swin3d_t swin3d_s swin3d_b", 112, SWIN3D, frames=8),
    # ------------------------------------------------------------ optical flow
    *_rows("raft_small raft_large", 128, RAFT),
    # ------------------------------------------------------------ quantized (post-training, fbgemm)
    *_rows("quantized_googlenet quantized_mobilenet_v2 quantized_mobilenet_v3_large "
           "quantized_resnet18 quantized_resnet50 quantized_resnext101_32x8d "
           "quantized_resnext101_64x4d", 64, QUANTIZED),
    ModelRow("quantized_inception_v3", 96, QUANTIZED),
    *_rows("quantized_shufflenet_v2_x0_5 quantized_shufflenet_v2_x1_0 quantized_shufflenet_v2_x1_5 "
           "quantized_shufflenet_v2_x2_0", 64, QUANTIZED_SHUFFLENET),
]}

# The families the importer's authors advertise; each must pass or carry a reasoned expectation
# (reports.zoo_report prints their verdicts).
ADVERTISED = {
    "VGG": "vgg*", "ResNet": "resnet[0-9]*", "ResNeXt": "resnext*", "MobileNetV2": "mobilenet_v2",
    "MobileNetV3": "mobilenet_v3_*", "MNASNet": "mnasnet*", "EfficientNet": "efficientnet_b*",
    "EfficientNetV2": "efficientnet_v2_*", "ViT": "vit_*", "Swin-T": "swin_t", "SwinV2-T": "swin_v2_t",
    "MaxViT": "maxvit_t",
}

# CI: plain convolutions, depthwise convolutions with squeeze-excitation, and attention.
QUICK = ("resnet18", "mobilenet_v3_small", "squeezenet1_1", "vit_b_32")

# Models that also run as one program exported with a symbolic batch (the first also in CI).
DYNAMIC_BATCH = ("resnet18", "mobilenet_v2", "efficientnet_b0", "convnext_tiny", "vit_b_32", "swin_t")


def profile_models(profile: str) -> tuple[str, ...]:
    """The models a profile runs: QUICK in CI, every row of the zoo otherwise."""
    return QUICK if profile == "quick" else tuple(ROWS)
