"""Project hooks: run facts for the manifests, telemetry off, one clear line for user errors
(ganforge.error_report), settings checked before any node runs (ganforge.run_checks), the
folders a run writes into kept inside data/ when --params names them, each run reading back
the versions it saved itself (in Airflow, the versions its DAG run saved), and a training marked
finished only once the catalog has stored its checkpoint."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from ganforge.error_report import install_short_error_hook
from ganforge.project_paths import check_written_paths
from ganforge.run_checks import check_environment, check_load_versions, check_parameters
from ganforge.run_version import run_version_from_environment

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

logger = logging.getLogger(__name__)


class GanForgeHooks:
    def __init__(self) -> None:
        self._params: dict[str, Any] = {}
        self._data_parameters: dict[str, Any] | None = None
        self._domain_parameters: dict[str, Any] = {}
        self._catalog = None

    @hook_impl
    def after_context_created(self, context) -> None:  # noqa: ANN001 - KedroContext
        self._params = context.params
        self._data_parameters = context.params.get("data")
        # the data parameters of each two-domain variant's domains (<variant>.domain_a.data, ...)
        self._domain_parameters = {
            name: {domain: section[domain].get("data") for domain in ("domain_a", "domain_b")
                   if isinstance(section.get(domain), dict)}
            for name, section in context.params.items() if isinstance(section, dict) and "variant" in section
            and any(domain in section for domain in ("domain_a", "domain_b"))}
        # again here: a logging configuration applied after the settings were imported replaces it
        install_short_error_hook()
        check_environment(context.config_loader.conf_source, context.env)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:  # noqa: ANN001
        project_path = Path(run_params.get("project_path") or Path.cwd())
        # --params (and kedro reproduce's manifest) may not send a run's writes outside data/
        check_written_paths(run_params.get("runtime_params") or {}, self._params, project_path)
        _require_domain_parameters(pipeline, catalog)
        check_parameters(pipeline, catalog)
        check_load_versions(catalog, dict(run_params.get("load_versions") or {}))
        _remove_abandoned_writes(project_path / "data")
        self._catalog = catalog
        # Kedro's session id is also the save version of every versioned dataset of this run,
        # so it identifies the run's checkpoint, grids and reports together.
        catalog["run_info"] = {
            "run_id": run_params.get("session_id") or run_params.get("run_id"),
            "pipeline_name": pipeline_label(run_params),
            # what the records write relative to (ganforge.project_paths.portable_paths), not recorded itself
            "project_path": str(project_path),
            "env": run_params.get("env"),
            "load_versions": dict(run_params.get("load_versions") or {}),
            "runtime_params": dict(run_params.get("runtime_params") or run_params.get("extra_params") or {}),
            "command": " ".join(["kedro", *sys.argv[1:]]) if sys.argv else None,
            "data_parameters": self._data_parameters,
            "domain_data_parameters": self._domain_parameters,
        }

        version = run_version_from_environment()
        if version:
            _read_inputs_of_own_run(catalog, pipeline, version, run_params.get("load_versions") or {})

    @hook_impl
    def before_node_run(self, node, catalog) -> None:  # noqa: ANN001
        version = run_version_from_environment()
        if version:
            _clear_earlier_attempt(catalog, node.outputs, version)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node) -> None:  # noqa: ANN001
        if _is_training_checkpoint(dataset_name, data):
            from ganforge.gan import finish_resume_state

            # only now, with the checkpoint stored, is the run finished: a save that failed (a
            # full disk) leaves the final state unfinished, and the same command returns it
            finish_resume_state(data)
        if self._catalog is not None:
            _read_back_own_version(self._catalog, dataset_name)


def pipeline_label(run_params: dict[str, Any]) -> str:
    """The pipelines a run ran, as ``--pipelines`` takes them (``dcgan``, ``dcgan,wgan``). Kedro
    1.x passes ``pipeline_names``, a list (``None`` for the default pipeline); older Kedro passed
    ``pipeline_name``."""
    names = run_params.get("pipeline_names") or run_params.get("pipeline_name") or ["__default__"]
    return ",".join([names] if isinstance(names, str) else names)


def _remove_abandoned_writes(data_folder: Path) -> None:
    """Temporaries that killed saves left anywhere under data/ (the engine cleans its resume
    folder itself, by lock) go at the next run, once old enough not to be another run's."""
    from ganforge.utils import remove_old_temporaries

    for temporary in remove_old_temporaries(data_folder):
        logger.info("Removed %s, left by a save that was interrupted.", temporary)


def _is_training_checkpoint(dataset_name: str, data: Any) -> bool:
    """A checkpoint a training node saved (``<variant>.checkpoint``, a sweep member's
    ``<variant>.seed_<s>.checkpoint``), not one that was loaded and passed on."""
    from ganforge.gan.state import CHECKPOINT_FORMAT

    return (dataset_name.rpartition(".")[2] == "checkpoint" and isinstance(data, dict)
            and data.get("format") == CHECKPOINT_FORMAT and "config" in data)


def _versioned(catalog, name: str):  # noqa: ANN001, ANN202
    """The catalog's dataset ``name`` if it is versioned (unwrapping a cache), else None."""
    from kedro.io import CachedDataset
    from kedro.io.core import AbstractVersionedDataset

    if name.startswith("params:") or name == "parameters" or name not in catalog:
        return None
    dataset = catalog.get(name)
    if isinstance(dataset, CachedDataset):  # OptionalDataset wraps the versioned dataset
        dataset = dataset._dataset
    return dataset if isinstance(dataset, AbstractVersionedDataset) and dataset._version else None


def _read_back_own_version(catalog, name: str) -> None:  # noqa: ANN001
    """A run reads back what it saved itself. Unpinned, a versioned dataset saved in a run and read
    later in it (model_input, by training) is read at its newest version on disk: another run's,
    when two runs overlap, and with other data parameters this one would train on that run's data.
    A load version chosen with --load-versions stays as it is."""
    from kedro.io.core import Version

    dataset = _versioned(catalog, name)
    if dataset is not None and dataset._version.save and not dataset._version.load:
        dataset._version = Version(dataset._version.save, dataset._version.save)


def _read_inputs_of_own_run(catalog, pipeline, version: str, chosen: dict[str, str]) -> None:  # noqa: ANN001
    """The same across the sessions of one DAG run: an input that an earlier task of the run saved
    (under the run's version) is read at that version, not at a newer one of another DAG run."""
    from kedro.io.core import Version

    for name in pipeline.inputs():
        dataset = _versioned(catalog, name)
        if dataset is None or name in chosen:
            continue
        unpinned = dataset._version
        dataset._version = Version(version, unpinned.save)
        if not dataset.exists():  # not saved in this DAG run (e.g. the champion's checkpoint)
            dataset._version = unpinned


def _clear_earlier_attempt(catalog, outputs: list[str], version: str) -> None:  # noqa: ANN001
    """A retried Airflow task saves under its DAG run's version again; what a failed attempt saved
    there (the version belongs to this DAG run alone) is removed first, or the save would fail."""
    for name in outputs:
        dataset = _versioned(catalog, name)
        filesystem = getattr(dataset, "_fs", None)
        if dataset is None or filesystem is None:
            continue
        path = str(dataset._get_versioned_path(version))
        if filesystem.exists(path):
            logger.warning("Removing %s, left by an earlier attempt of this task in the same DAG run.", path)
            filesystem.rm(path, recursive=True)


def _require_domain_parameters(pipeline, catalog) -> None:  # noqa: ANN001
    """A two-domain variant without one of its domains' data settings fails here, before anything
    runs, with what to add (Kedro would only name the missing dataset)."""
    from ganforge.errors import ConfigError

    missing = sorted(name.removeprefix("params:") for name in pipeline.inputs()
                     if name.startswith("params:") and ".domain_" in name and name not in catalog)
    if missing:
        variant = missing[0].split(".")[0]
        raise ConfigError(
            f"Missing parameters {', '.join(missing)}: a two-domain variant needs the data settings of both "
            f"domains. Add them to conf/base/parameters_{variant}.yml, e.g. `{variant}: {{domain_b: {{data: "
            "{source: sklearn_digits}}}}` (any data source, as under `data:`).")
