"""Project commands added to `kedro` (Kedro loads ``<package>.cli.cli``).

``kedro reproduce <run_manifest.json>`` re-runs a past experiment from its manifest (the same
parameters, data parameters and seed) and checks that the data and the checkpoint match.
``kedro join-training <variant>`` is the other nodes' part of a multi-node training run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project


def runtime_params_from_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """Runtime parameters that make a new run use exactly the manifest's settings."""
    config = json.loads(json.dumps(manifest["parameters"]))
    config["evaluation"].pop("resolved_backbone", None)  # derived, not a setting
    params: dict[str, Any] = {config["name"]: {"variant": config}}
    if manifest.get("data_parameters") and "domain_a" in manifest["data"]:  # a two-domain variant
        params[config["name"]].update({domain: {"data": data} for domain, data in manifest["data_parameters"].items()})
    elif manifest.get("data_parameters"):
        params["data"] = manifest["data_parameters"]
    return params


@click.group(name="GAN Forge")
def cli() -> None:
    """GAN Forge project commands."""


@cli.command()
@click.argument("manifest_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--env", "-e", default=None, help="Kedro configuration environment.")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Exit non-zero unless data fingerprint and checkpoint digest match the manifest.")
def reproduce(manifest_path: Path, env: str | None, check: bool) -> None:
    """Re-run the experiment recorded in MANIFEST_PATH (a run_manifest.json) and compare."""
    manifest = json.loads(manifest_path.read_text())
    variant = manifest["variant"]
    if manifest["training"].get("warm_start"):
        raise click.ClickException(
            "This run was warm-started from a champion checkpoint (scheduled retraining); reproduce "
            "the champion's own run instead, or re-score the checkpoint with "
            f"`kedro run --pipeline={variant}_score --load-versions={variant}.checkpoint:{manifest['run_id']}`."
        )
    project_path = Path.cwd()
    metadata = bootstrap_project(project_path)
    configure_project(metadata.package_name)
    click.echo(f"Reproducing '{variant}' run {manifest.get('run_id')} (seed {manifest['seed']}) ...")
    # a reproduction never depends on a tracking server: if it cannot be reached, run untracked
    runtime_params = {**runtime_params_from_manifest(manifest), "tracking": {"mlflow_unreachable": "warn"}}
    with KedroSession.create(project_path=project_path, env=env, runtime_params=runtime_params) as session:
        session_id = session.session_id
        session.run(pipeline_name=variant)
    new_path = project_path / f"data/08_reporting/{variant}/run_manifest.json/{session_id}/run_manifest.json"
    reproduced = json.loads(new_path.read_text())
    checks = {
        "data fingerprint": (manifest["data"]["fingerprint"], reproduced["data"]["fingerprint"]),
        "checkpoint digest": (manifest["training"]["checkpoint_digest"], reproduced["training"]["checkpoint_digest"]),
    }
    mismatched = False
    for name, (before, after) in checks.items():
        same = before == after
        mismatched |= not same
        click.echo(f"  {name}: {'match' if same else 'DIFFERENT'} ({before} -> {after})")
    click.echo(f"New run manifest: {new_path}")
    if check and mismatched:
        click.echo("Not reproduced: the data or the code/environment differ (see the manifests' "
                   "'data', 'environment' and 'git' sections). On GPUs, bit-identity is not expected.", err=True)
        sys.exit(1)
    click.echo("Reproduced: identical data and checkpoint.")


@cli.command(name="join-training")
@click.argument("variant")
@click.option("--env", "-e", default=None, help="Kedro configuration environment.")
@click.option("--timeout", default=None, type=float,
              help="Seconds to wait for the first node's run (default: training.distributed.rdzv_timeout_seconds).")
def join_training(variant: str, env: str | None, timeout: float | None) -> None:
    """Start this node's workers in the multi-node training of VARIANT that `kedro run` on the
    first node launches (training.distributed.nnodes > 1; data/ on storage the nodes share)."""
    from ganforge.errors import GanForgeError
    from ganforge.gan import resolve_experiment_config
    from ganforge.gan.distributed import exchange_folder
    from ganforge.gan.distributed import join_training as join

    project_path = Path.cwd()
    metadata = bootstrap_project(project_path)
    configure_project(metadata.package_name)
    with KedroSession.create(project_path=project_path, env=env) as session:
        params = session.load_context().params
    if variant not in params:
        raise click.ClickException(f"Unknown variant '{variant}': no '{variant}' section in the parameters.")
    try:
        config = resolve_experiment_config(params.get("training_defaults", {}), params[variant]["variant"])
        settings = config["training"]["distributed"]
        join(exchange_folder(config), timeout if timeout is not None else settings["rdzv_timeout_seconds"])
    except GanForgeError as error:
        raise click.ClickException(str(error)) from None
