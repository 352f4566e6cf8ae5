"""Custom Kedro datasets for GAN Forge."""

from .cache_dataset import CacheDataset
from .optional_dataset import OptionalDataset
from .optional_json_dataset import OptionalJSONDataset
from .torch_dataset import TorchDataset

__all__ = ["CacheDataset", "OptionalDataset", "OptionalJSONDataset", "TorchDataset"]
