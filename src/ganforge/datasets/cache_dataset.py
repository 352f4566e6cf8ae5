"""A folder of cached entries: a PartitionedDataset that may be empty."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kedro.io.core import DatasetError
from kedro_datasets.partitions import PartitionedDataset


class CacheDataset(PartitionedDataset):
    """Like ``partitions.PartitionedDataset`` (lazy loading, one file per key) but an empty or
    missing folder loads as an empty cache instead of an error."""

    def load(self) -> dict[str, Callable[[], Any]]:
        try:
            return super().load()
        except DatasetError as error:
            if "No partitions found" in str(error):
                return {}
            raise
