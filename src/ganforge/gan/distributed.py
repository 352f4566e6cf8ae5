"""Data-parallel training on torch.distributed, launched from inside the training call.

:func:`train_data_parallel` starts the worker processes with the elastic launcher (the API behind
``torchrun``) and waits for them; each worker runs the engine's loop as one member of the group,
and rank 0's result comes back as this call's return value. So only the training step is
distributed: the program around it (a ``kedro run``) runs once and receives one checkpoint.
Launchers that re-run the whole program on every rank (Lightning's default DDP strategy,
``accelerate launch``) would run every Kedro node N times.

Worker results and errors travel through files, in a private temporary folder on one node and
in a folder on shared storage across nodes: the checkpoint with ``torch.save`` (read back with
``weights_only=True``), a user error as its class and message, so it ends the run in the same
one clear line as on one process. The other nodes of a multi-node run start their workers with
``kedro join-training <variant>`` (:func:`join_training`), which reads the launching node's input
from that folder.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.launcher.api import LaunchConfig, elastic_launch

from ganforge import errors
from ganforge.errors import ConfigError, GanForgeError
from ganforge.gan.engine import TrainingResult, train_in_group
from ganforge.gan.parallel import ProcessGroup
from ganforge.gan.recipes import RECIPES
from ganforge.gan.shards import ShardedImages
from ganforge.gan.variants import recipe_of
from ganforge.utils import atomic_write_bytes, resolve_device

logger = logging.getLogger(__name__)

RESULT_FILE = "result.pt"
#: a multi-node run's input for the other nodes (model input, configuration, warm start)
LAUNCH_FILE = "launch.pt"


def train_data_parallel(
    model_input: dict[str, Any], config: dict[str, Any], warm_start: dict[str, Any] | None = None
) -> TrainingResult:
    """Train on ``training.distributed.nproc_per_node`` processes (per node) and return rank 0's
    result. On one node the processes share the input through shared memory and the exchange
    folder is private; with several nodes it is :func:`exchange_folder` on shared storage, where
    the other nodes' :func:`join_training` finds the input."""
    settings = config["training"]["distributed"]
    backend = choose_backend(config)
    logger.info("Training '%s' on %d processes (%d per node, %d node(s), %s).", config["name"],
                settings["nproc_per_node"] * settings["nnodes"], settings["nproc_per_node"], settings["nnodes"],
                backend)
    run_id = f"ganforge-{config['name']}-{uuid.uuid4().hex[:12]}"
    if settings["nnodes"] == 1:
        with tempfile.TemporaryDirectory(prefix="ganforge-workers-") as folder:
            return _launch(model_input, config, warm_start, backend, Path(folder), run_id)
    folder = exchange_folder(config)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        bundle = {"run_id": run_id, "backend": backend, "model_input": _portable(model_input), "config": config,
                  "warm_start": warm_start}
        buffer = io.BytesIO()
        torch.save(bundle, buffer)
        atomic_write_bytes(folder / LAUNCH_FILE, buffer.getvalue())
        logger.info("Waiting for %d more node(s) at %s: run `kedro join-training %s` on each.",
                    settings["nnodes"] - 1, settings["rdzv_endpoint"], config["name"])
        return _launch(model_input, config, warm_start, backend, folder, run_id)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def join_training(folder: Path, timeout_seconds: float) -> None:
    """Another node's part of a multi-node run: wait for the launching node's input in the shared
    ``folder``, then start this node's workers in the same rendezvous."""
    deadline = time.monotonic() + timeout_seconds
    while not (folder / LAUNCH_FILE).exists():
        if time.monotonic() > deadline:
            raise ConfigError(f"No training to join appeared in {folder} within {timeout_seconds:.0f} s. Start "
                              "`kedro run` on the first node, and check that data/ is on storage both nodes share.")
        time.sleep(1.0)
    bundle = torch.load(folder / LAUNCH_FILE, map_location="cpu", weights_only=True)
    config = bundle["config"]
    logger.info("Joining the training of '%s' (%s) at %s.", config["name"], bundle["run_id"],
                config["training"]["distributed"]["rdzv_endpoint"])
    _launch(_restored(bundle["model_input"]), config, bundle["warm_start"], bundle["backend"], folder,
            bundle["run_id"], result_expected=False)


def _portable(model_input: dict[str, Any]) -> dict[str, Any]:
    """The input as plain data for ``torch.save``: a sharded set travels as its folder (on the
    shared storage), since loading with ``weights_only=True`` rebuilds no classes of ours."""
    if "domains" in model_input:
        return {**model_input, "domains": {name: _portable(domain) for name, domain in model_input["domains"].items()}}
    images = model_input["images"]
    return {**model_input, "images": {"shards": str(images.folder)}} if isinstance(images, ShardedImages) \
        else model_input


def _restored(model_input: dict[str, Any]) -> dict[str, Any]:
    if "domains" in model_input:
        return {**model_input, "domains": {name: _restored(domain) for name, domain in model_input["domains"].items()}}
    images = model_input["images"]
    return {**model_input, "images": ShardedImages(images["shards"])} if isinstance(images, dict) else model_input


def exchange_folder(config: dict[str, Any]) -> Path:
    """Where the nodes of a multi-node run exchange input, errors and the result: next to the
    resume state, which rank 0 (on whichever node) writes and every node reads."""
    return Path(config["training"]["resume_dir"]) / "distributed" / config["name"]


def _launch(model_input: dict[str, Any], config: dict[str, Any], warm_start: dict[str, Any] | None, backend: str,
            folder: Path, run_id: str, result_expected: bool = True) -> TrainingResult | None:
    settings = config["training"]["distributed"]
    launch = LaunchConfig(
        min_nodes=settings["nnodes"],
        max_nodes=settings["nnodes"],
        nproc_per_node=settings["nproc_per_node"],
        run_id=run_id,
        rdzv_backend="c10d",
        rdzv_endpoint=settings["rdzv_endpoint"],
        rdzv_configs={"join_timeout": settings["rdzv_timeout_seconds"]},
        max_restarts=0,  # a failed worker ends the run; the resume state is what restarts it
        monitor_interval=0.2,
        start_method="spawn",
    )
    try:
        elastic_launch(launch, run_worker)(model_input, config, warm_start, backend, str(folder), os.getpid())
    except ChildFailedError as failure:
        raise worker_error(folder, failure) from None
    return read_result(folder) if result_expected else None


def choose_backend(config: dict[str, Any]) -> str:
    """The collective backend for the configured device, after checking that the variant and the
    machine can train this way."""
    settings, name = config["training"]["distributed"], config["name"]
    if not getattr(RECIPES[recipe_of(name)], "data_parallel", True):
        raise ConfigError(f"Variant '{name}' cannot train data-parallel yet: its recipe calls network methods "
                          "other than forward, which DistributedDataParallel does not synchronize. Set "
                          "training.distributed.enabled: false.")
    device = resolve_device(config["training"]["device"])
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"training.distributed needs CUDA or the CPU, not {device.type}. Set training.device: cpu.")
    backend = settings["backend"] if settings["backend"] != "auto" else ("nccl" if device.type == "cuda" else "gloo")
    if backend == "nccl" and device.type != "cuda":
        raise ConfigError("training.distributed.backend: nccl needs CUDA devices. Use backend: gloo (or auto) on CPU.")
    host, _, port = settings["rdzv_endpoint"].rpartition(":")
    if settings["nnodes"] > 1 and (not host or port in ("", "0")):
        raise ConfigError(f"training.distributed.nnodes is {settings['nnodes']} but rdzv_endpoint is "
                          f"'{settings['rdzv_endpoint']}'. Set it to host:port of the first node, reachable from "
                          "every node (e.g. node0.cluster:29400).")
    if device.type == "cuda" and torch.cuda.device_count() < settings["nproc_per_node"]:
        raise ConfigError(f"training.distributed.nproc_per_node is {settings['nproc_per_node']} but this machine has "
                          f"{torch.cuda.device_count()} CUDA device(s). Use one process per GPU.")
    return backend


def run_worker(model_input: dict[str, Any], config: dict[str, Any], warm_start: dict[str, Any] | None,
               backend: str, exchange: str, launcher_pid: int) -> None:
    """One worker process: join the group, train, and (rank 0) leave the result for the launcher."""
    group = ProcessGroup(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"]),
                         backend)
    _log_from_rank_zero(group)
    _exit_with_launcher(launcher_pid)
    if config["training"]["num_threads"] is None and resolve_device(config["training"]["device"]).type == "cpu":
        # the processes of one node share its cores
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ["LOCAL_WORLD_SIZE"])))
    dist.init_process_group(backend)
    try:
        result = train_in_group(model_input, config, group, warm_start=warm_start)
        if group.is_main:
            fields = {field.name: getattr(result, field.name) for field in dataclasses.fields(result)}
            torch.save(fields, Path(exchange) / RESULT_FILE)
    except Exception as error:
        record = {"rank": group.rank, "type": type(error).__name__, "message": str(error),
                  "user_error": isinstance(error, GanForgeError)}
        (Path(exchange) / f"error-rank{group.rank}.json").write_text(json.dumps(record))
        raise
    finally:
        dist.destroy_process_group()


def read_result(exchange: Path) -> TrainingResult:
    saved = torch.load(exchange / RESULT_FILE, map_location="cpu", weights_only=True)
    return TrainingResult(**saved)


def worker_error(exchange: Path, failure: ChildFailedError) -> Exception:
    """The error to raise for failed workers: the first user error as itself (its one-line
    message), otherwise the first worker's exception, named with its rank."""
    records = [json.loads(path.read_text()) for path in sorted(exchange.glob("error-rank*.json"))]
    records.sort(key=lambda record: (not record["user_error"], record["rank"]))
    if not records:
        return RuntimeError(f"A training worker stopped without an error report ({failure.get_first_failure()[1]}).")
    first = records[0]
    if first["user_error"]:
        kind = getattr(errors, first["type"], GanForgeError)
        return kind(first["message"])
    return RuntimeError(f"Training worker rank {first['rank']} failed: {first['type']}: {first['message']}")


def _log_from_rank_zero(group: ProcessGroup) -> None:
    """Spawned workers start without the launcher's logging setup: rank 0 logs the progress the
    one-process loop would, the other ranks only warnings."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s [rank {group.rank}] %(message)s", "%H:%M:%S"))
    package = logging.getLogger("ganforge")
    package.addHandler(handler)
    package.setLevel(logging.INFO if group.is_main else logging.WARNING)


def _exit_with_launcher(launcher_pid: int) -> None:
    """If the launching process dies (killed, its pod evicted), the workers stop too rather than
    train on as orphans that hold the resume file."""

    def watch() -> None:
        while True:
            if os.getppid() != launcher_pid:
                os._exit(1)
            time.sleep(1.0)

    threading.Thread(target=watch, name="ganforge-launcher-watch", daemon=True).start()
