"""Custom Kedro datasets for GAN Forge."""

from .artifact_dataset import VersionedArtifactDataset
from .cache_dataset import CacheDataset
from .champion_registry import ChampionRegistryDataset
from .optional_dataset import OptionalDataset
from .torch_dataset import TorchDataset

__all__ = [
    "CacheDataset", "ChampionRegistryDataset", "OptionalDataset", "TorchDataset", "VersionedArtifactDataset",
]
