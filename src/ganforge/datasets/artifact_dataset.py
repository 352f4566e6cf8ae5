"""A versioned catalog file that is also logged as an artifact of the active MLflow run."""

from __future__ import annotations

from typing import Any

from kedro.io import Version
from kedro_mlflow.io.artifacts import MlflowArtifactDataset


class VersionedArtifactDataset(MlflowArtifactDataset):
    """kedro-mlflow's ``MlflowArtifactDataset`` with ``versioned: true`` on the outer entry.

    With the flag on the wrapped ``dataset:`` (as kedro-mlflow documents) the wrapped dataset picks
    its own save version, and Kedro 1.x refuses a catalog whose datasets disagree on it. Here Kedro
    hands the run's version (and any ``--load-versions`` choice) to the wrapper, which passes it on.
    """

    def __new__(cls, dataset: dict[str, Any], artifact_path: str | None = None, version: Version | None = None,
                run_id: str | None = None, metadata: dict[str, Any] | None = None):  # noqa: ANN204
        wrapped = MlflowArtifactDataset(dataset={**dataset, "versioned": version is not None}, run_id=run_id,
                                        artifact_path=artifact_path, metadata=metadata)
        if version is not None:  # the definition parser accepts only the flag; the version itself goes here
            wrapped._version = version
        return wrapped
