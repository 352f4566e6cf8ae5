"""What a run's settings can be checked for before any node runs (the project hooks call these),
so that a mistake costs a second, not the data pipeline and part of a training: the
configuration environment, every parameter section the pipeline reads, and each
``--load-versions`` entry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from ganforge.errors import ConfigError


def check_environment(conf_source: str | Path, env: str | None) -> None:
    """``--env`` must name a folder of ``conf/``: Kedro would run on ``base`` alone, and a
    setting of that environment (the tracking store, say) would be missed with a puzzling error."""
    conf = Path(conf_source)
    if env is None or (conf / env).is_dir() or not conf.is_dir():
        return
    known = sorted(folder.name for folder in conf.iterdir() if folder.is_dir() and folder.name != "base")
    raise ConfigError(f"There is no configuration environment '{env}' (no folder conf/{env}). Use one of: "
                      f"{', '.join(known)}, or leave --env out.")


def _load(catalog, name: str) -> Any:  # noqa: ANN001 - DataCatalog
    return catalog.load(name) if name in catalog else None


def _check_variant(catalog, name: str) -> None:  # noqa: ANN001
    from ganforge.gan import resolve_experiment_config
    from ganforge.metrics.settings import resolve_evaluation_config

    variant = _load(catalog, name) or {}
    resolve_experiment_config(_load(catalog, "params:training_defaults") or {}, variant)
    label = variant.get("name", name.removeprefix("params:").split(".")[0])
    resolve_evaluation_config(_load(catalog, "params:evaluation") or {}, variant.get("evaluation"),
                              where=f"{label}.evaluation")


def _check_data(catalog, name: str) -> None:  # noqa: ANN001
    from ganforge.pipelines.data_processing.sources import check_data_settings

    check_data_settings(_load(catalog, name))


def _check_evaluation(catalog, name: str) -> None:  # noqa: ANN001
    from ganforge.metrics.settings import resolve_evaluation_config

    resolve_evaluation_config(_load(catalog, name) or {})


def _check_generate(catalog, name: str) -> None:  # noqa: ANN001
    from ganforge.pipelines.generation.nodes import check_generate_settings

    check_generate_settings(_load(catalog, name) or {})


#: the check of each parameter section a node can read, by the last part of its name
#: (``params:data`` and ``params:cyclegan.domain_a.data`` are both ``data``)
PARAMETER_CHECKS: dict[str, Callable[[Any, str], None]] = {
    "variant": _check_variant,
    "data": _check_data,
    "evaluation": _check_evaluation,
    "generate": _check_generate,
}


def check_parameters(pipeline, catalog) -> None:  # noqa: ANN001 - Pipeline, DataCatalog
    """Every parameter section the pipeline's nodes read, checked as its nodes will check it.

    Raises:
        ConfigError: the first bad section's problems, naming the keys.
    """
    for name in sorted(pipeline.inputs()):
        if name.startswith("params:"):
            check = PARAMETER_CHECKS.get(name.removeprefix("params:").split(".")[-1])
            if check is not None:
                check(catalog, name)


def check_load_versions(catalog, load_versions: dict[str, str]) -> None:  # noqa: ANN001
    """Each ``--load-versions`` entry names a version that was saved."""
    for name, version in load_versions.items():
        dataset = catalog.get(name, fallback_to_runtime_pattern=True) if name in catalog else None
        filesystem, folder = getattr(dataset, "_fs", None), getattr(dataset, "_filepath", None)
        if dataset is None or filesystem is None or folder is None or dataset.exists():
            continue
        saved = sorted(PurePosixPath(path).name for path in filesystem.ls(str(folder))) if filesystem.exists(
            str(folder)) else []
        shown = ", ".join(saved[-5:]) if saved else "none yet"
        raise ConfigError(f"--load-versions asks for version '{version}' of {name}, which was never saved. "
                          f"Its versions (newest last): {shown}.")
