"""Project commands added to `kedro` (Kedro loads ``<package>.cli.cli``).

``kedro reproduce <run_manifest.json>`` re-runs a past experiment from its manifest (the same
parameters, data parameters and seed) and checks that the data and the checkpoint match; the
manifest is checked in full first (ganforge.reproduction says what it accepts).
``kedro join-training <variant>`` is the other nodes' part of a multi-node training run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project


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
    from ganforge.errors import GanForgeError
    from ganforge.reproduction import read_manifest, runtime_params_from_manifest

    project_path = Path.cwd()
    try:  # the whole manifest is checked before anything runs or is written
        manifest = read_manifest(manifest_path)
        runtime_params = runtime_params_from_manifest(manifest, project_path)
    except GanForgeError as error:
        raise click.ClickException(f"Not reproducing {manifest_path}: {error}") from None
    variant = manifest.variant
    metadata = bootstrap_project(project_path)
    configure_project(metadata.package_name)
    seed = runtime_params[variant]["variant"]["training"]["seed"]
    click.echo(f"Reproducing '{variant}' run {manifest.run_id} (seed {seed}) ...")
    # a reproduction never depends on a tracking server: if it cannot be reached, run untracked
    runtime_params["tracking"] = {"mlflow_unreachable": "warn"}
    with KedroSession.create(project_path=project_path, env=env, runtime_params=runtime_params) as session:
        session_id = session.session_id
        session.run(pipeline_names=[variant])
    new_path = project_path / f"data/08_reporting/{variant}/run_manifest.json/{session_id}/run_manifest.json"
    reproduced = json.loads(new_path.read_text())
    checks = {
        "data fingerprint": (manifest.data.fingerprint, reproduced["data"]["fingerprint"]),
        "checkpoint digest": (manifest.training.checkpoint_digest, reproduced["training"]["checkpoint_digest"]),
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
