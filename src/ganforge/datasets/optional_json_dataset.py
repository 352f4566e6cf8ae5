"""A JSON dataset that loads as an empty dict until its first version is saved."""

from __future__ import annotations

from typing import Any

from kedro_datasets.json import JSONDataset


class OptionalJSONDataset(JSONDataset):
    """``json.JSONDataset`` whose load returns ``{}`` when nothing was saved yet (e.g. the
    champion registry before the first promotion)."""

    def load(self) -> Any:
        if not self.exists():
            return {}
        return super().load()
