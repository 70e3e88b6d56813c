"""The environment fingerprint written with every run."""

from __future__ import annotations

import platform
import socket
from importlib import metadata

from harness.targets import available_cores


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name() -> str | None:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001 - a broken driver means no usable GPU
        return None
    return None


def library_versions() -> dict[str, str | None]:
    return {
        "torch_version": _version("torch"),
        "torchvision_version": _version("torchvision"),
        "tvm_version": _version("apache-tvm"),
    }


def fingerprint(target: str, seed: int, profile: str) -> dict:
    return {
        **library_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "cpu": cpu_model(),
        "cores": available_cores(),
        "gpu": gpu_name(),
        "target": target,
        "seed": seed,
        "profile": profile,
    }
