"""The TorchVision model zoo as cases (the `models` entry point of `harness.cases`)."""

from models.cases import cases

__all__ = ["cases"]
