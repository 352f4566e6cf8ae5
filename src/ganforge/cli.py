"""Project commands added to `kedro` (Kedro loads ``<package>.cli.cli``).

``kedro reproduce <run_manifest.json>`` re-runs a past experiment from its manifest (the same
parameters, data parameters and seed) and checks that the data and the checkpoint match; the
manifest is checked in full first (ganforge.reproduction says what it accepts).
``kedro join-training <variant>`` is the other nodes' part of a multi-node training run.
``kedro resume-states list`` shows the saved resume states of trainings (``training.resume_dir``);
``kedro resume-states prune --older-than DAYS --finished`` removes the stale ones.
"""

from __future__ import annotations

import json
import sys
import time
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


@cli.group(name="resume-states")
def resume_states() -> None:
    """List and prune the resume states of trainings (the folders training.resume_dir names)."""


@resume_states.command(name="list")
@click.option("--env", "-e", default=None, help="Kedro configuration environment.")
def list_resume_states(env: str | None) -> None:
    """Show each resume state: variant, key, epoch reached of planned, status, size, age."""
    from ganforge.gan.resume_states import resume_states as states_in

    for directory in _resume_dirs(env):
        records = states_in(directory)
        if not records:
            click.echo(f"No resume states in {_shown(directory)}.")
            continue
        click.echo(f"Resume states in {_shown(directory)}:")
        click.echo(_table(records))
        click.echo(f"{len(records)} state(s), {_mebibytes(sum(record.size for record in records))}.")


@resume_states.command()
@click.option("--older-than", type=click.FloatRange(min=0), default=None, metavar="DAYS",
              help="Only states last written more than DAYS days ago.")
@click.option("--finished", is_flag=True, help="Only states of finished trainings (their checkpoints are stored).")
@click.option("--dry-run", is_flag=True, help="Show what would be removed; remove nothing.")
@click.option("--env", "-e", default=None, help="Kedro configuration environment.")
def prune(older_than: float | None, finished: bool, dry_run: bool, env: str | None) -> None:
    """Remove the resume states that match every filter given (a running training's state is
    kept), and temporary files of interrupted writes. Nothing outside the resume folders."""
    from ganforge.gan.resume_states import prune_resume_states

    if older_than is None and not finished:
        raise click.UsageError("Say which states to remove: --older-than DAYS, --finished, or both.")
    verb = "Would remove" if dry_run else "Removed"
    for directory in _resume_dirs(env):
        removed = prune_resume_states(directory, older_than_days=older_than, finished=finished, dry_run=dry_run)
        for record in removed:
            click.echo(f"{verb} {_shown(record.path)} ({record.status}, epoch {_epoch(record)}, "
                       f"{record.age_days():.1f} days old, {_mebibytes(record.size)})")
        click.echo(f"{verb} {len(removed)} state(s) from {_shown(directory)}, "
                   f"{_mebibytes(sum(record.size for record in removed))}.")


def _resume_dirs(env: str | None) -> list[Path]:
    """The resume folders the configuration names: training_defaults' and any variant's own."""
    from kedro.framework.project import settings

    project_path = Path.cwd()
    metadata = bootstrap_project(project_path)
    configure_project(metadata.package_name)
    # the parameters as a run reads them, without a session (whose hooks would start tracking)
    params = settings.CONFIG_LOADER_CLASS(conf_source=str(project_path / settings.CONF_SOURCE), env=env,
                                          **settings.CONFIG_LOADER_ARGS)["parameters"]
    named = [params.get("training_defaults", {}).get("resume_dir", "data/06_models/resume")]
    named += [section["variant"].get("training", {}).get("resume_dir") for section in params.values()
              if isinstance(section, dict) and isinstance(section.get("variant"), dict)]
    return list(dict.fromkeys(project_path / folder for folder in named if folder))


def _table(records: list) -> str:  # noqa: ANN001 - ResumeStateRecord, imported lazily
    header = ("VARIANT", "KEY", "EPOCH", "STATUS", "SIZE", "LAST WRITTEN", "AGE (DAYS)")
    rows = [header] + [(record.variant, record.key, _epoch(record), record.status, _mebibytes(record.size),
                        time.strftime("%Y-%m-%d %H:%M", time.localtime(record.modified)),
                        f"{record.age_days():.1f}") for record in records]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def _epoch(record) -> str:  # noqa: ANN001
    if record.epoch is None:
        return "?"
    return f"{record.epoch}/{record.epochs if record.epochs is not None else '?'}"


def _mebibytes(size: int) -> str:
    return f"{size / 1024**2:.1f} MiB"


def _shown(path: Path) -> str:
    """``path`` relative to the project when inside it (as the configuration names it)."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)
