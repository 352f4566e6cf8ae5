"""Paths as the project accepts and records them.

- A folder that a run writes into (:data:`WRITTEN_PATH_SETTINGS`), when given with ``--params``,
  must lie inside the project's ``data/`` folder; the project's own configuration files
  (``conf/<env>/parameters*.yml``) may point it anywhere. A run manifest (``kedro reproduce``)
  is held to the same rule for every path it names (ganforge.reproduction).
- "Inside" is decided on the path as the run would use it: relative to the project root, ``~``
  expanded, symlinks followed; ``data/`` itself counts as inside.
- Records (run manifests, MLflow tags and parameters) write paths under the project root
  relative to it and paths under the home folder as ``~/...``, so that they name no folder of
  the machine that ran them (:func:`portable_paths`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ganforge.errors import ConfigError

DATA_FOLDER = "data"
#: the settings naming a folder that a run writes into (training.resume_dir, data.staging_path, ...)
WRITTEN_PATH_SETTINGS = ("resume_dir", "tensorboard_dir", "staging_path")


def data_folder(project_path: Path) -> Path:
    """The project's data folder, symlinks followed."""
    return (Path(project_path) / DATA_FOLDER).resolve()


def resolves_inside_data(path: str | os.PathLike, project_path: Path) -> bool:
    """Whether ``path`` (relative to the project root unless absolute) is ``data/`` or below it."""
    candidate = Path(path).expanduser()
    if not candidate.is_absolute():
        candidate = Path(project_path) / candidate
    return candidate.resolve().is_relative_to(data_folder(project_path))


def require_inside_data(setting: str, path: Any, project_path: Path, fix: str) -> None:
    """Raises ConfigError, ending in ``fix``, unless ``path`` resolves inside ``data/``."""
    if not isinstance(path, str) or not resolves_inside_data(path, project_path):
        raise ConfigError(f"{setting} is '{path}', outside the project's data folder "
                          f"({data_folder(project_path)}). {fix}")


def check_written_paths(runtime_params: Mapping[str, Any], params: Mapping[str, Any], project_path: Path) -> None:
    """Every folder a run writes into that the runtime parameters (``--params``) set lies inside
    ``data/``: ``training_defaults.resume_dir``, ``<variant>.variant.training.tensorboard_dir``,
    ``data.staging_path``, ``<variant>.domain_a.data.staging_path``, ...

    The value checked is the one the run will use, read from the resolved ``params``, so an
    interpolation (``${...}``) in a --params value cannot lead the check astray.
    """
    for setting, value in _leaves(runtime_params):
        if setting.rsplit(".", 1)[-1] in WRITTEN_PATH_SETTINGS:
            used = _lookup(params, setting, default=value)
            if used is not None:
                require_inside_data(setting, used, project_path,
                                    "Give a path under data/ with --params, or set it in conf/local/parameters.yml "
                                    "(the project's configuration may point anywhere).")


def portable_paths(value: Any, project_path: Path) -> Any:
    """``value`` (a string, or mappings and lists holding strings) with every path under the
    project root written relative to it (the root itself as ``.``), and every other path under the
    home folder as ``~/...``; nothing else changes."""
    project, home = Path(project_path), Path.home()
    replacements = [(root, "") for root in _spellings(project)] + [(root, "~" + os.sep) for root in _spellings(home)]
    whole = {**{root: "~" for root in _spellings(home)}, **{root: "." for root in _spellings(project)}}

    def rewrite(item: Any) -> Any:
        if isinstance(item, str):
            if item in whole:
                return whole[item]
            for root, replacement in replacements:
                item = item.replace(root + os.sep, replacement)
            return item
        if isinstance(item, Mapping):
            return {key: rewrite(element) for key, element in item.items()}
        if isinstance(item, list | tuple):
            return [rewrite(element) for element in item]
        return item

    return rewrite(value)


def _spellings(folder: Path) -> list[str]:
    """``folder`` as given and with symlinks followed, longest first; never the filesystem root."""
    spellings = {str(folder), str(folder.resolve())} - {os.sep, ""}
    return sorted(spellings, key=len, reverse=True)


def _leaves(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _leaves(value, f"{name}.")
        else:
            yield name, value


def _lookup(tree: Any, dotted: str, default: Any) -> Any:
    for key in dotted.split("."):
        if not isinstance(tree, Mapping) or key not in tree:
            return default
        tree = tree[key]
    return tree
