"""Helpers that run the real `kedro` command line on a throw-away copy of this project."""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ganforge.gan import DOMAINS, RECIPES, domains_of
from ganforge.gan import VARIANTS as REGISTERED_VARIANTS

REPO = Path(__file__).resolve().parents[1]
VARIANTS = tuple(REGISTERED_VARIANTS.names())
ONE_DOMAIN_VARIANTS = tuple(variant for variant in VARIANTS if domains_of(variant) == 1)
TWO_DOMAIN_VARIANTS = tuple(variant for variant in VARIANTS if domains_of(variant) == 2)


def tiny_params(variants=VARIANTS, epochs: int = 2, limit: int = 256, **extra: object) -> str:
    """Runtime parameters that shrink a run to seconds while keeping every code path."""
    params = {
        "data.limit": limit,
        "evaluation.n_samples": 100,
        "evaluation.every_n_epochs": 1,
        "evaluation.classifier.epochs": 1,
        "evaluation.contrastive.epochs": 1,
        "evaluation.kid_subsets": 10,
    }
    for variant in variants:
        params[f"{variant}.variant.training.epochs"] = epochs
        params[f"{variant}.variant.training.batch_size"] = 32
        params[f"{variant}.variant.training.log_every"] = 2
        params[f"{variant}.variant.evaluation.every_n_epochs"] = 1  # over a variant's own setting
        if domains_of(variant) == 2:
            for domain in DOMAINS:
                params[f"{variant}.{domain}.data.limit"] = limit
        if "stable_images" in RECIPES[REGISTERED_VARIANTS[variant].recipe].options.model_fields:
            # growth to full resolution within the first epoch of the tiny data
            params[f"{variant}.variant.recipe.stable_images"] = 32
            params[f"{variant}.variant.recipe.fade_images"] = 32
    params.update(extra)
    return ",".join(f"{key}={value}" for key, value in params.items())


@functools.cache
def _empty_tracking_store() -> Path:
    """An MLflow SQLite store with its tables and nothing else: creating the tables takes seconds,
    copying them does not. (The first run still creates the experiment, as on a new store.)"""
    from mlflow.tracking import MlflowClient

    folder = Path(tempfile.mkdtemp(prefix="ganforge-tracking-"))
    atexit.register(shutil.rmtree, folder, True)
    store = folder / "mlruns.db"
    MlflowClient(tracking_uri=f"sqlite:///{store}").search_experiments()
    return store


def make_project(root: Path) -> Path:
    """A project folder with this repo's conf/ and pyproject.toml, an empty data/ and an empty
    tracking store."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(_empty_tracking_store(), root / "mlruns.db")
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    (root / "src").mkdir()  # the ganforge package itself is imported from the installed project
    (root / ".telemetry").write_text("consent: false\n")
    return root


def kedro_env() -> dict[str, str]:
    env = dict(os.environ, KEDRO_DISABLE_TELEMETRY="true", PYTHONUNBUFFERED="1", MPLBACKEND="Agg",
               COLUMNS="200")
    env.setdefault("OMP_NUM_THREADS", "1")  # see tests/conftest.py
    env.pop("GANFORGE_TRACEBACK", None)
    return env


def kedro(project: Path, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``kedro <args>`` in ``project`` with the interpreter running the tests."""
    command = [sys.executable, "-m", "kedro", *args]
    result = subprocess.run(command, cwd=project, env=kedro_env(), capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout[-5000:]}\n{result.stderr[-5000:]}")
    return result


def versions(path: Path) -> list[Path]:
    """The version folders of a versioned dataset, oldest first."""
    return sorted(child for child in path.iterdir() if child.is_dir()) if path.exists() else []


def latest(path: Path) -> Path:
    """The file of the newest version of a versioned dataset at ``path``."""
    found = versions(path)
    assert found, f"no versions saved under {path}"
    return found[-1] / path.name


def write_unlabeled_folder(folder: Path, count: int, size: int = 16) -> Path:
    """``count`` random size×size RGB PNGs with no class folders (a user's own photos, in miniature)."""
    import torch
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    for index in range(count):
        pixels = torch.randint(0, 255, (size, size, 3), generator=generator, dtype=torch.uint8).numpy()
        Image.fromarray(pixels).save(folder / f"{index}.png")
    return folder


def tracking_client(project: Path):
    """An MLflow client on the project's default tracking store (conf/base/mlflow.yml)."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{project / 'mlruns.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def tracked_runs(project: Path) -> list:
    """The project's MLflow runs, oldest first."""
    client = tracking_client(project)
    experiment = client.get_experiment_by_name("ganforge")
    return sorted(client.search_runs([experiment.experiment_id]), key=lambda run: run.info.start_time)


def champion(project: Path, variant: str) -> dict:
    """The record of the model version behind the ``champion`` alias of ``ganforge.<variant>``."""
    version = tracking_client(project).get_model_version_by_alias(f"ganforge.{variant}", "champion")
    return {**json.loads(version.tags["record"]), "registry_version": int(version.version)}
