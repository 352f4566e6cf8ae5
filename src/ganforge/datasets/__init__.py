"""Custom Kedro datasets for GAN Forge."""

from .torch_dataset import TorchDataset

__all__ = ["TorchDataset"]
