"""A variant's champion in MLflow's model registry, read and written as a Kedro dataset."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import mlflow
from kedro.io import AbstractDataset
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ganforge.project_paths import portable_paths

logger = logging.getLogger(__name__)

#: champion record keys also set as plain tags of the model version, to read in the MLflow UI
READABLE_TAGS = ("checkpoint_version", "run_id", "epoch", "score_label", "fid", "data_version", "promoted_at")


class ChampionRegistryDataset(AbstractDataset):
    """The registered model ``registered_model``; the champion is the version behind ``alias``.

    - ``load()`` gives the champion's record (checkpoint version, scores, data version, date of
      promotion), or ``{}`` when there is no champion yet (or, with a warning, no registry).
    - ``save(update)`` takes ``{"promoted", "reason", "champion"}``. On a promotion it adds a model
      version pointing at the champion's checkpoint, which stays in the Kedro catalog (its path is
      the tag ``checkpoint``; the version's source is the MLflow run that promoted it), and moves
      the alias there. Either way the decision and its reason become tags of the active run.

    The alias moves only here, so a kept champion is never touched, and each variant has its own
    registered model, so variants promoted in the same run (or at once) never race.
    """

    def __init__(self, registered_model: str, checkpoint_path: str, alias: str = "champion",
                 tracking_uri: str | None = None, metadata: dict[str, Any] | None = None) -> None:
        self._name, self._alias, self._tracking_uri = registered_model, alias, tracking_uri
        self._checkpoint_path = Path(checkpoint_path)
        self.metadata = metadata

    def _client(self) -> MlflowClient:
        # None: the tracking (and registry) URI that kedro-mlflow set from conf/<env>/mlflow.yml
        return MlflowClient(tracking_uri=self._tracking_uri, registry_uri=self._tracking_uri)

    def load(self) -> dict[str, Any]:
        try:
            version = self._client().get_model_version_by_alias(self._name, self._alias)
        except Exception as error:  # noqa: BLE001 - an unreachable server raises transport errors
            no_champion_yet = isinstance(error, MlflowException) and error.error_code in (
                "RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")
            if not no_champion_yet:
                logger.warning("The model registry cannot be read (%s); going on as if '%s' had no champion.",
                               _first_line(error), self._name)
            return {}
        return {**json.loads(version.tags.get("record", "{}")), "registry_version": version.version}

    def save(self, update: dict[str, Any]) -> None:
        try:
            self._record_decision(update)
            if update.get("promoted"):
                self._promote(update["champion"], update["reason"])
        except Exception as error:  # noqa: BLE001 - the decision file is written either way
            logger.warning("The promotion could not be recorded in the model registry (%s); the decision is in "
                           "promotion_decision.json.", _first_line(error))

    def _promote(self, record: dict[str, Any], reason: str) -> None:
        client = self._client()
        try:
            client.create_registered_model(self._name, description="GAN Forge champions of one variant; "
                                           f"the alias '{self._alias}' marks the current one.")
        except MlflowException as error:
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        checkpoint = self._checkpoint_path / record["checkpoint_version"] / self._checkpoint_path.name
        run = mlflow.active_run()
        # tags name paths relative to the project root (Kedro runs there), no folder of this machine
        tags = portable_paths({"record": record, "checkpoint": str(checkpoint)}, Path.cwd())
        # with no run to point at, the source is the checkpoint, as the tag names it (relative)
        version = client.create_model_version(
            self._name, source=f"runs:/{run.info.run_id}" if run else tags["checkpoint"],
            run_id=run.info.run_id if run else None, description=reason,
            tags={"record": json.dumps(tags["record"]), "checkpoint": tags["checkpoint"],
                  **{key: str(record.get(key)) for key in READABLE_TAGS}})
        client.set_registered_model_alias(self._name, self._alias, version.version)
        logger.info("Model registry: '%s' version %s is now the '%s'.", self._name, version.version, self._alias)

    def _record_decision(self, update: dict[str, Any]) -> None:
        if mlflow.active_run() is None:
            return
        mlflow.set_tags({f"{self._name}.promoted": str(bool(update.get("promoted"))).lower(),
                         f"{self._name}.promotion_reason": str(update.get("reason"))[:5000]})

    def _describe(self) -> dict[str, Any]:
        return {"registered_model": self._name, "alias": self._alias, "checkpoint_path": str(self._checkpoint_path)}


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"[:300]
