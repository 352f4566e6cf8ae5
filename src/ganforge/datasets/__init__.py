"""Custom Kedro datasets for GAN Forge."""

from .cache_dataset import CacheDataset
from .torch_dataset import TorchDataset

__all__ = ["CacheDataset", "TorchDataset"]
