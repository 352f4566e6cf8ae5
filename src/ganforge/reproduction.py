"""What ``kedro reproduce`` accepts from a run manifest, and the runtime parameters it runs it with.

A manifest is untrusted input: anyone can hand one over, and its settings become a run's
parameters. So it is checked in full before anything runs or is written, and refused with one
line (:class:`~ganforge.errors.ManifestError`, or the ConfigError of the schema it fails) unless:

- it is a JSON object with the keys a run writes (:class:`RunManifest`) and no other, of a
  registered variant, and its ``parameters.name`` is that variant;
- its settings pass the checks a user's parameters pass, unknown keys included: the variant's
  configuration (ganforge.gan.config), its ``evaluation`` section (ganforge.metrics.settings) and
  the data parameters, per domain for a two-domain variant (data_processing.params, sources);
- every path it names (:data:`CONFIG_PATHS`, :data:`DATA_PATHS`) resolves inside the project's
  ``data/`` folder (ganforge.project_paths: relative to the project root, ``~`` expanded,
  symlinks followed);
- it asks for no network connection: ``training.distributed.enabled`` false, the default
  ``training.distributed.rdzv_endpoint``, ``evaluation.download_inception`` and ``data.download``
  not ``true``. What it leaves to ``auto`` or to the source's default (``null``) runs as
  ``false``: a reproduction opens no connection of its own (fetch missing data or weights first
  with an ordinary ``kedro run``);
- no setting holds an interpolation (``${...}``), which Kedro would resolve after these checks;
- the run did not warm-start from a champion (its manifest alone does not determine it).

The records (``data``, ``training``, ``environment``, ``git``) are read for the comparison only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ganforge.errors import ConfigError, ManifestError, validation_problems
from ganforge.gan import DOMAINS, VARIANTS, domains_of, resolve_experiment_config
from ganforge.gan.config import DistributedConfig
from ganforge.metrics.settings import resolve_evaluation_config
from ganforge.pipelines.data_processing.params import parse_data_params
from ganforge.pipelines.data_processing.sources import settle_source_defaults
from ganforge.project_paths import require_inside_data

#: every setting of a variant's configuration that names a file or folder
CONFIG_PATHS = (("training", "resume_dir"), ("training", "tensorboard_dir"), ("evaluation", "inception_weights"))
#: every data setting that names a file or folder
DATA_PATHS = ("path", "staging_path")
#: the one rendezvous a manifest may name: this machine, any free port
DEFAULT_RENDEZVOUS = DistributedConfig.model_fields["rdzv_endpoint"].default
#: ends each refusal of a manifest's settings
FIX = "Edit the manifest, or reproduce the run with the GAN Forge commit its git section names."
WHERE_MANIFESTS_ARE = "data/08_reporting/<variant>/run_manifest.json/<run id>/run_manifest.json"

_HEX = r"^[0-9a-f]+$"
_NAME = r"^[A-Za-z0-9_]+$"
_RUN_ID = r"^[0-9A-Za-z._:-]+$"


class _Record(BaseModel):
    """What a run recorded: read for the comparison, never turned into parameters."""

    model_config = ConfigDict(extra="allow")


class DataRecord(_Record):
    fingerprint: str = Field(pattern=_HEX)


class TrainingRecord(_Record):
    checkpoint_digest: str = Field(pattern=_HEX)
    warm_start: Any = None


class RunManifest(BaseModel):
    """The keys ``write_run_manifest`` writes (a test keeps the two the same)."""

    model_config = ConfigDict(extra="forbid")

    variant: str = Field(pattern=_NAME)
    run_id: str = Field(pattern=_RUN_ID)
    pipeline: str | None = None
    command: str | None = None
    parameters: dict[str, Any]
    seed: int
    data: DataRecord
    data_parameters: dict[str, Any] | None = None
    training: TrainingRecord
    environment: dict[str, Any] = {}
    git: dict[str, Any] | None = None


def read_manifest(path: Path) -> RunManifest:
    """The manifest at ``path``, its shape checked; one ManifestError if it is not one."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ManifestError(f"{path} is not a JSON run manifest ({_first_line(error)}). Give the "
                            f"run_manifest.json of a run: {WHERE_MANIFESTS_ARE}.") from None
    if not isinstance(raw, dict):
        raise ManifestError(f"{path} holds a JSON {type(raw).__name__}, not a run manifest (an object). "
                            f"Give the run_manifest.json of a run: {WHERE_MANIFESTS_ARE}.")
    try:
        return RunManifest.model_validate(raw)
    except ValidationError as error:
        raise ManifestError(f"{path} is not a run manifest of this project: {validation_problems(error, 'manifest')}. "
                            f"Give the run_manifest.json of a run ({WHERE_MANIFESTS_ARE}), unedited.") from None


def runtime_params_from_manifest(manifest: RunManifest, project_path: Path) -> dict[str, Any]:
    """Runtime parameters that re-run ``manifest``'s variant with exactly its settings, after
    every check in the module docstring; raises ManifestError/ConfigError otherwise."""
    variant = manifest.variant
    VARIANTS[variant]  # noqa: B018  (the registry's error lists the variants)
    if manifest.training.warm_start:
        raise ManifestError(
            "This run was warm-started from a champion checkpoint (scheduled retraining); reproduce the "
            "champion's own run instead, or re-score the checkpoint with "
            f"`kedro run --pipeline={variant}_score --load-versions={variant}.checkpoint:{manifest.run_id}`.")
    _refuse_interpolations({"parameters": manifest.parameters, "data_parameters": manifest.data_parameters})
    config = _checked_config(manifest.parameters, variant)
    data = _checked_data(manifest.data_parameters, variant)
    for setting, path in _named_paths(config, data):
        require_inside_data(setting, path, project_path,
                            f"A manifest may name only paths inside data/. {FIX}")
    _refuse_connections(config, data)
    _run_offline(config, data)
    params: dict[str, Any] = {variant: {"variant": config}}
    if domains_of(variant) == 2:
        params[variant].update({domain: {"data": settings} for domain, settings in data.items()})
    elif data:
        params["data"] = data[""]
    return params


def _checked_config(parameters: dict[str, Any], variant: str) -> dict[str, Any]:
    """The variant's configuration, checked like ``<variant>.variant`` in the parameters files."""
    if parameters.get("name") != variant:
        raise ManifestError(f"The manifest's parameters.name is '{parameters.get('name')}', not its variant "
                            f"'{variant}'. {FIX}")
    config = resolve_experiment_config({}, parameters, fix=FIX)
    evaluation = {key: value for key, value in config["evaluation"].items()
                  if key != "resolved_backbone"}  # derived, recorded by older versions
    config["evaluation"] = resolve_evaluation_config({}, evaluation, where=f"{variant}.evaluation", fix=FIX)
    return config


def _checked_data(data_parameters: dict[str, Any] | None, variant: str) -> dict[str, dict[str, Any]]:
    """The data parameters by domain (``""`` for a one-domain variant), checked like ``data:``."""
    if data_parameters is None:
        return {}
    if domains_of(variant) == 1:
        sections = {"": data_parameters}
    else:
        stray = sorted(set(data_parameters) - set(DOMAINS))
        if stray:
            raise ManifestError(f"data_parameters of the two-domain variant '{variant}' has {', '.join(stray)}; "
                                f"only {', '.join(DOMAINS)} are known. {FIX}")
        sections = data_parameters
    checked = {}
    for domain, raw in sections.items():
        where = _data_setting("", domain)
        if not isinstance(raw, dict):
            raise ManifestError(f"The manifest's {where} parameters are a {type(raw).__name__}, not a mapping. {FIX}")
        try:
            params = parse_data_params(raw)
            settle_source_defaults(params)  # the source exists and reads every option given
        except ConfigError as error:
            raise ManifestError(f"{domain + ': ' if domain else ''}{error} {FIX}") from None
        checked[domain] = params.model_dump(mode="json")
    return checked


def _named_paths(config: dict[str, Any], data: dict[str, dict[str, Any]]) -> Iterator[tuple[str, str]]:
    for section, key in CONFIG_PATHS:
        if config[section].get(key) is not None:
            yield f"{section}.{key}", config[section][key]
    for domain, settings in data.items():
        for key in DATA_PATHS:
            if settings.get(key) is not None:
                yield _data_setting(key, domain), settings[key]


def _refuse_connections(config: dict[str, Any], data: dict[str, dict[str, Any]]) -> None:
    distributed = config["training"]["distributed"]
    offline = "kedro reproduce runs on this machine alone and opens no network connection"
    if distributed["enabled"]:
        raise ManifestError(f"training.distributed.enabled is true: {offline}. Re-run a distributed "
                            f"training with kedro run on your own settings. {FIX}")
    if distributed["rdzv_endpoint"] != DEFAULT_RENDEZVOUS:
        raise ManifestError(f"training.distributed.rdzv_endpoint is '{distributed['rdzv_endpoint']}': {offline}; "
                            f"only '{DEFAULT_RENDEZVOUS}' is accepted. {FIX}")
    if config["evaluation"]["download_inception"] is True:
        raise ManifestError(f"evaluation.download_inception is true: {offline}. Set it to false or auto (both run "
                            "as false); fetch the weights first with kedro run if the score needs them. " + FIX)
    for domain, settings in data.items():
        if settings["download"] is True:
            raise ManifestError(f"{_data_setting('download', domain)} is true: {offline}. Set it to null or false; "
                                f"fetch the data first with kedro run --pipeline=data_processing. {FIX}")


def _run_offline(config: dict[str, Any], data: dict[str, dict[str, Any]]) -> None:
    """What the manifest leaves to ``auto`` or to the source's default is run without a download."""
    config["evaluation"]["download_inception"] = False
    for settings in data.values():
        settings["download"] = False


def _refuse_interpolations(settings: Any, where: str = "") -> None:
    if isinstance(settings, dict):
        for key, value in settings.items():
            _refuse_interpolations(value, f"{where}.{key}" if where else str(key))
    elif isinstance(settings, list):
        for index, value in enumerate(settings):
            _refuse_interpolations(value, f"{where}[{index}]")
    elif isinstance(settings, str) and "${" in settings:
        raise ManifestError(f"{where} holds an interpolation ('{settings}'), which Kedro would resolve at run time; "
                            f"a manifest records plain values. {FIX}")


def _data_setting(key: str, domain: str) -> str:
    return ".".join(part for part in (domain, "data", key) if part)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
