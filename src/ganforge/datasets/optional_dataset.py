"""A wrapper dataset that loads as ``None`` until its first version is saved."""

from __future__ import annotations

from typing import Any

from kedro.io import CachedDataset


class OptionalDataset(CachedDataset):
    """Wraps any dataset (``dataset:`` as in ``CachedDataset``, ``versioned: true`` on both levels)
    so that a report can read a variant's latest artifact, or ``None`` for a variant that has not
    run yet, instead of failing on "Did not find any versions"."""

    def load(self) -> Any:
        if not self._cache.exists() and not self._dataset.exists():
            return None
        return super().load()
