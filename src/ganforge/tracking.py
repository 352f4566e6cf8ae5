"""Experiment tracking on MLflow: kedro-mlflow's hook, made to fail (or step aside) clearly.

kedro-mlflow turns each ``kedro run`` into an MLflow run, logs every parameter a node reads
(flattened: ``wgan.variant.training.epochs``) and hands the catalog's MLflow datasets (metric
histories, artifacts) the active run. What this adds for GAN Forge:

- a tracking server that cannot be reached stops the run before anything runs, with one line
  saying what to do (``tracking.mlflow_unreachable: fail``, the default), or the run goes on
  untracked with a warning (``warn``); every file the catalog writes is written either way;
- in a distributed run only rank 0 logs (``RANK`` as torchrun sets it);
- a failed run is closed once (and says so once), not once per node that ran;
- each run is tagged with its variants, the git commit and the Kedro run id (also the save
  version of the run's checkpoint and reports), and, as each run manifest is saved, with that
  variant's data fingerprint, source and version; the manifest's resolved configuration (the
  variant's section over ``training_defaults``) is logged as ``<variant>.resolved.*`` parameters;
- no tag or parameter names a folder of the machine that ran it: paths are written relative to
  the project root (ganforge.project_paths.portable_paths), the absolute ``project_path`` that
  kedro-mlflow would tag is left out, and ``mlflow.source.name`` is the program's name alone.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
from filelock import FileLock
from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl
from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook
from kedro_mlflow.framework.hooks.utils import _flatten_dict
from kedro_mlflow.io.catalog.switch_catalog_logging import switch_catalog_logging

from ganforge.errors import GanForgeError
from ganforge.project_paths import portable_paths
from ganforge.utils import git_state

logger = logging.getLogger(__name__)

UNREACHABLE_POLICIES = ("fail", "warn")
#: seconds to wait for the tracking server's port before calling it unreachable
CONNECT_TIMEOUT = 3.0


class TrackingUnavailableError(GanForgeError):
    """The MLflow tracking server (or store) cannot be used and the settings say to stop."""


class TrackingHooks(MlflowHook):
    """kedro-mlflow's hook with a reachability check, rank-0 logging and GAN Forge's run tags."""

    #: the root that logged paths are written relative to (the context's; else the working folder)
    _project_path: Path | None = None

    @hook_impl
    def after_context_created(self, context) -> None:  # noqa: ANN001 - KedroContext
        self._project_path = Path(getattr(context, "project_path", None) or Path.cwd())
        self._untracked_because: str | None = None
        self._is_mlflow_enabled, self.run_id = True, None
        policy = str((context.params.get("tracking") or {}).get("mlflow_unreachable", "fail"))
        if policy not in UNREACHABLE_POLICIES:
            raise TrackingUnavailableError(
                f"tracking.mlflow_unreachable is '{policy}'; use one of: {', '.join(UNREACHABLE_POLICIES)}.")
        rank = int(os.environ.get("RANK", "0"))
        if rank != 0:
            self._untracked_because = f"this is rank {rank} of a distributed run; rank 0 logs"
            return
        uri = _configured_tracking_uri(context)
        problem = _unreachable(uri)
        if problem is None:
            try:
                with _store_lock(uri):
                    super().after_context_created(context)
            except Exception as error:  # the store itself refused: bad path, bad credentials, ...
                problem = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        if problem is not None:
            self._step_aside(uri, problem, policy)

    def _step_aside(self, uri: str, problem: str, policy: str) -> None:
        what = f"MLflow tracking at {uri} cannot be used ({problem})."
        if policy == "fail":
            raise TrackingUnavailableError(
                f"{what} Start the server, point server.mlflow_tracking_uri in conf/<env>/mlflow.yml at one that "
                "runs, or run untracked with --params=tracking.mlflow_unreachable=warn.")
        logger.warning("%s Running untracked: files are written to the catalog as usual.", what)
        self._untracked_because = problem
        mlflow.set_tracking_uri(uri)  # the champion registry then warns too, rather than using another store
        # whatever asks MLflow anyway (the champion registry) should fail at once, not retry for minutes
        os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
        os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(int(CONNECT_TIMEOUT))

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:  # noqa: ANN001
        # catalog factories ({variant}.final_grid, ...) are only built when first asked for; build
        # them now so that switching MLflow logging on or off reaches them too
        for name in pipeline.datasets():
            if not name.startswith("params:") and name != "parameters":
                catalog.get(name, fallback_to_runtime_pattern=True)
        if self._untracked_because is not None:
            self._is_mlflow_enabled, self.run_id = False, None
            switch_catalog_logging(catalog, False)
            return
        super().before_pipeline_run(self._portable_run_params(run_params), pipeline, catalog)
        if self._is_mlflow_enabled:
            mlflow.set_tags(_run_tags(run_params, pipeline))
            # kedro-mlflow restarts the run before each node (for threads). Nested, every restart
            # in this thread would stack the same run once more, and a failed run would be closed,
            # and logged as closed, once per node that ran. Not nested, a restart of the run that
            # is already active here is skipped.
            self.mlflow_config.tracking.run.nested = False

    def _portable_run_params(self, run_params: dict[str, Any]) -> dict[str, Any]:
        """``run_params`` as kedro-mlflow tags them: paths relative to the project root, and no
        ``project_path`` (unset values are not tagged)."""
        return {**portable_paths(run_params, self._project_path or Path.cwd()), "project_path": None}

    def _log_param(self, name: str, value: Any) -> None:
        """Every parameter kedro-mlflow logs (those nodes read, the resolved configuration) goes
        through here: a path under the project root is logged relative to it."""
        super()._log_param(name, portable_paths(value, self._project_path or Path.cwd()))

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node) -> None:  # noqa: ANN001
        if self.run_id is None or not dataset_name.endswith(".run_manifest") or not isinstance(data, dict):
            return
        # named after the manifest's namespace: the variant's, or a sweep member's (<variant>.seed_<s>)
        experiment = dataset_name.removesuffix(".run_manifest")
        mlflow.set_tags(_data_tags(data, experiment))
        # the variant's resolved configuration (its section over training_defaults), as the run used it
        resolved = _flatten_dict(d={f"{experiment}.resolved": data.get("parameters") or {}}, recursive=True, sep=".")
        for name, value in resolved.items():
            self._log_param(self.sanitize_param_name(name), value)


def _configured_tracking_uri(context) -> str:  # noqa: ANN001
    try:
        if "mlflow" not in context.config_loader.config_patterns:
            context.config_loader.config_patterns["mlflow"] = ["mlflow*", "mlflow*/**", "**/mlflow*"]
        configured = (context.config_loader["mlflow"].get("server") or {}).get("mlflow_tracking_uri")
    except MissingConfigException:
        configured = None
    return configured or os.environ.get("MLFLOW_TRACKING_URI") or "mlruns"


def _store_lock(uri: str) -> FileLock | nullcontext:
    """Runs started together on a new SQLite store would each create its tables (and the
    experiment) and all but one fail: they take turns, the first creating what the others find."""
    if not uri.startswith("sqlite:///"):
        return nullcontext()
    database = Path(uri.removeprefix("sqlite:///"))
    return FileLock(f"{database}.lock") if database.parent.is_dir() else nullcontext()


def _unreachable(uri: str) -> str | None:
    """Why an HTTP(S) tracking server cannot be reached, or ``None``. A local store (sqlite, a
    folder) needs no server: it is created on first use."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("http", "https"):
        return None
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=CONNECT_TIMEOUT):
            return None
    except OSError as error:
        return error.strerror or type(error).__name__


def _run_tags(run_params: dict[str, Any], pipeline) -> dict[str, str]:  # noqa: ANN001
    from ganforge.gan import VARIANTS

    variants = sorted({node.namespace.split(".")[0] for node in pipeline.nodes if node.namespace}
                      & set(VARIANTS.names()))
    tags = {"kedro.run_id": str(run_params.get("run_id") or run_params.get("session_id")),
            "ganforge.variants": ",".join(variants),
            # MLflow's default is the path of the program that started the run
            "mlflow.source.name": Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "kedro"}
    git = git_state()
    if git:
        tags.update({"git.commit": git["commit"], "git.dirty": str(git["dirty"]).lower()})
    return tags


def _data_tags(manifest: dict[str, Any], variant: str) -> dict[str, str]:
    """``<variant>.data.fingerprint``, ``.source`` and ``.version`` (per domain for two-domain variants)."""
    data = manifest.get("data") or {}
    records = {f"{variant}.data": data} if "source" in data else {
        f"{variant}.data.{domain}": record for domain, record in data.items() if isinstance(record, dict)}
    tags = {f"{variant}.data.fingerprint": str(data.get("fingerprint"))}
    for prefix, record in records.items():
        tags.update({f"{prefix}.fingerprint": str(record.get("fingerprint")),
                     f"{prefix}.source": str(record.get("source")),
                     f"{prefix}.version": str(record.get("model_input_version"))})
    return tags
