"""The one training loop every family runs.

A :class:`~ganforge.gan.recipes.Recipe` says what the networks are and what a step does; the
engine does the rest: the data on the device and its seeded per-epoch order, the step loop, EMA,
the progress bar and log lines, TensorBoard, the NaN guard, and a resume state holding every
network and optimizer the recipe declares. Step scalars are collected on the device and read
back every ``log_every`` steps, so the loop does not synchronize with the host on every step.

With ``training.distributed.enabled`` the same loop runs in each process of a data-parallel
group (:mod:`ganforge.gan.training` chooses, :mod:`ganforge.gan.distributed` starts the
processes, :mod:`ganforge.gan.parallel` says what changes); rank 0 alone writes, logs and
returns the result.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ganforge.errors import ConfigError, TrainingDivergedError
from ganforge.gan.data import DOMAINS, DomainPairBatches, InMemoryBatches, StreamingBatches, is_two_domain
from ganforge.gan.ema import ExponentialMovingAverage
from ganforge.gan.networks import model_spec
from ganforge.gan.parallel import (
    SINGLE_PROCESS,
    ProcessGroup,
    average_across_processes,
    data_parallel,
    with_global_batch_norm,
)
from ganforge.gan.recipes import RECIPES, Recipe, StepContext
from ganforge.gan.resume import ResumeFile, mark_finished, resume_key, resume_path
from ganforge.gan.shards import ShardedImages
from ganforge.gan.state import CHECKPOINT_FORMAT, TrainingState, load_weights, upgrade_checkpoint
from ganforge.gan.variants import domains_of, recipe_of
from ganforge.images import to_uint8
from ganforge.utils import content_digest, resolve_device

logger = logging.getLogger(__name__)


@dataclass
class TrainingResult:
    checkpoint: dict[str, Any]
    history: list[dict[str, float]]
    epoch_samples: dict[int, torch.Tensor]
    snapshots: dict[int, dict[str, Any]]
    device: str
    resumed_from_epoch: int
    #: world size and backend of a data-parallel run ({} on one process)
    distributed: dict[str, Any] = field(default_factory=dict)


def require_labels_if_conditional(config: dict[str, Any], model_input: dict[str, Any]) -> None:
    """A conditional variant (cGAN) cannot train on data without class labels."""
    labeled = model_input.get("labels") is not None and int(model_input.get("num_classes") or 0) >= 2
    if config["model"].get("conditional") and not labeled:
        raise ConfigError(
            f"Variant '{config['name']}' is conditional (model.conditional: true) but the data "
            f"source '{model_input.get('source')}' has no class labels. Use labeled data (class "
            "subfolders for image_folder) or an unconditional variant."
        )


def check_input(config: dict[str, Any], model_input: dict[str, Any]) -> None:
    """What a variant needs of its input, checked before training: labels for a conditional
    model; for a two-domain variant both domains, each non-empty, of one image size (and one
    channel count where the recipe needs it)."""
    require_labels_if_conditional(config, model_input)
    name, two = config["name"], is_two_domain(model_input)
    if (domains_of(name) == 2) != two:
        wanted = "two domains (domain_a and domain_b)" if domains_of(name) == 2 else "one data set"
        raise ConfigError(f"Variant '{name}' trains on {wanted}; run it with `kedro run --pipeline={name}`, "
                          "which prepares its data.")
    if not two:
        return
    domains = model_input["domains"]
    for domain in DOMAINS:
        if domains[domain]["images"].shape[0] == 0:
            raise ConfigError(f"Variant '{name}': {domain} has no images. Check {name}.{domain}.data in "
                              f"conf/base/parameters_{name}.yml.")
    shape_a, shape_b = (tuple(domains[domain]["images"].shape[1:]) for domain in DOMAINS)
    if shape_a[1:] != shape_b[1:]:
        raise ConfigError(f"Variant '{name}': domain_a images are {shape_a[1]}×{shape_a[2]} but domain_b images "
                          f"are {shape_b[1]}×{shape_b[2]}. Set the same data.image_size in both domains.")
    if shape_a[0] != shape_b[0] and RECIPES[recipe_of(name)].equal_channels:
        raise ConfigError(f"Variant '{name}' needs both domains with the same channel count, but domain_a has "
                          f"{shape_a[0]} and domain_b {shape_b[0]}. Set data.channels the same in both domains.")


def input_geometry(model_input: dict[str, Any]) -> tuple[int, int, int]:
    """(channels, image size, classes) of the training input (of domain A for two domains)."""
    first = model_input["domains"]["domain_a"] if is_two_domain(model_input) else model_input
    images = first["images"]
    return int(images.shape[1]), int(images.shape[-1]), int(first.get("num_classes") or 0)


def spec_for(config: dict[str, Any], model_input: dict[str, Any]) -> dict[str, Any]:
    spec = model_spec(config["model"], *input_geometry(model_input))
    if is_two_domain(model_input):
        spec["domain_channels"] = [int(model_input["domains"][domain]["images"].shape[1]) for domain in DOMAINS]
    return spec


def batch_source(model_input: dict[str, Any], config: dict[str, Any], device: torch.device,
                 group: ProcessGroup = SINGLE_PROCESS) -> InMemoryBatches | StreamingBatches | DomainPairBatches:
    """Where the training batches come from: the set in (device) memory, or, for a set stored
    as shards that ``training.data_in_memory`` and the memory budget keep on disk, streamed."""
    training = config["training"]
    batch_size, rank, world_size = training["batch_size"], group.rank, group.world_size
    if is_two_domain(model_input):
        domains = {name: _in_memory(domain, training) for name, domain in model_input["domains"].items()}
        return DomainPairBatches({**model_input, "domains": domains}, batch_size, device, rank, world_size)
    use_labels = spec_for(config, model_input)["num_classes"] > 0
    images = model_input["images"]
    if isinstance(images, ShardedImages) and not _fits_in_memory(images, training):
        if group.is_main:
            logger.info("Streaming the training set (%.1f MiB of shards in %s) with %d loader workers "
                        "(training.data_in_memory: %s).", images.nbytes / 1024**2, images.folder,
                        training["data_loader_workers"], training["data_in_memory"])
        return StreamingBatches(model_input, batch_size, device, use_labels, rank, world_size,
                                training["data_loader_workers"])
    return InMemoryBatches(_in_memory(model_input, training), batch_size, device, use_labels, rank, world_size)


def _fits_in_memory(images: ShardedImages, training: dict[str, Any]) -> bool:
    if training["data_in_memory"] == "auto":
        return images.nbytes <= training["memory_budget_gb"] * 1024**3
    return bool(training["data_in_memory"])


def _in_memory(model_input: dict[str, Any], training: dict[str, Any]) -> dict[str, Any]:
    images = model_input["images"]
    if not isinstance(images, ShardedImages):
        return model_input
    logger.info("Reading the %s training set (%.1f MiB) into memory (training.data_in_memory: %s).",
                model_input.get("source", "sharded"), images.nbytes / 1024**2, training["data_in_memory"])
    return {**model_input, "images": images.to_tensor()}


def memory_format(training: dict[str, Any]) -> torch.memory_format:
    """The layout of the networks' convolution weights and of the batches (``training.channels_last``)."""
    return torch.channels_last if training.get("channels_last") else torch.contiguous_format


def _image_count(model_input: dict[str, Any]) -> int:
    if is_two_domain(model_input):
        return min(domain["images"].shape[0] for domain in model_input["domains"].values())
    return int(model_input["images"].shape[0])


def _new_state(config: dict[str, Any], spec: dict[str, Any], device: torch.device, group: ProcessGroup
               ) -> TrainingState:
    training = config["training"]
    torch.manual_seed(training["seed"])
    recipe: Recipe = RECIPES[recipe_of(config["name"])](config, spec)
    networks = {name: network.to(device, memory_format=memory_format(training))
                for name, network in recipe.build_networks().items()}
    if group.is_parallel:
        networks = {name: with_global_batch_norm(network) for name, network in networks.items()}
    # the recipe's steps run through the data-parallel wrappers; everything else uses the networks
    recipe.bind(data_parallel(networks, group, device))
    ema = {}
    if training["ema"]["enabled"]:
        ema = {name: ExponentialMovingAverage(networks[name], training["ema"]["decay"]) for name in recipe.ema_networks}
    return TrainingState(
        recipe=recipe,
        networks=networks,
        optimizers=recipe.build_optimizers(networks),
        ema=ema,
        data_rng=torch.Generator().manual_seed(training["seed"]),
        noise_rng=torch.Generator(device=device).manual_seed(training["seed"] + 2),
        sample_with_ema=bool(config.get("evaluation", {}).get("use_ema", True)),
    )


def train_in_group(
    model_input: dict[str, Any],
    config: dict[str, Any],
    group: ProcessGroup,
    *,
    warm_start: dict[str, Any] | None = None,
    on_epoch_end: Callable[[TrainingState], None] | None = None,
) -> TrainingResult:
    """Training in this process, as ``group``'s member (the whole of it on one process); see
    :func:`ganforge.gan.training.train`."""
    training = config["training"]
    device = resolve_device(training["device"])
    if device.type == "cuda" and group.is_parallel:
        device = torch.device("cuda", group.local_rank)
        torch.cuda.set_device(device)
    if _image_count(model_input) < training["batch_size"] * group.world_size:
        raise ConfigError(
            f"training.batch_size ({training['batch_size']}) × {group.world_size} process(es) is larger than "
            f"the data set ({_image_count(model_input)} images). Lower the batch size or use more data (data.limit)."
        )
    spec = spec_for(config, model_input)
    if training["num_threads"]:
        # On a shared or oversubscribed CPU, fewer intra-op threads can be many times faster.
        torch.set_num_threads(training["num_threads"])
    if device.type == "cuda" and training["deterministic"]:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    state = _new_state(config, spec, device, group)

    warm_start_digest = None
    if warm_start:
        warm_start = upgrade_checkpoint(warm_start)
        _load_warm_start(state, warm_start, spec, group)
        warm_start_digest = content_digest(warm_start["networks"])
    key = _resume_key(config, model_input["fingerprint"], warm_start_digest)
    resume = ResumeFile(training["resume_dir"], config["name"], key, training["resume"], writer=group.is_main)
    try:
        resumed_from = _restore(state, resume, config, group)
        _run_epochs(state, model_input, spec, config, device, resume, group, on_epoch_end)
        checkpoint = {
            "format": CHECKPOINT_FORMAT,
            "variant": config["name"],
            "recipe": recipe_of(config["name"]),
            **state.state_dict(),
            "model_spec": spec,
            "config": config,
            "normalization": model_input["normalization"],
            "data_fingerprint": model_input["fingerprint"],
            "class_names": list(model_input.get("class_names") or []),
            "class_frequencies": _class_frequencies(model_input, spec),
            "warm_start_digest": warm_start_digest,
        }
        if is_two_domain(model_input):
            checkpoint["domains"] = {domain: {key: model_input["domains"][domain].get(key) for key in
                                              ("fingerprint", "source", "normalization", "class_names")}
                                     for domain in DOMAINS}
        distributed = {"world_size": group.world_size, "backend": group.backend} if group.is_parallel else {}
        return TrainingResult(checkpoint, state.history, state.epoch_samples, state.snapshots, str(device),
                              resumed_from, distributed)
    finally:
        resume.release()


def finish_resume_state(checkpoint: dict[str, Any]) -> bool:
    """Mark the resume state that ``checkpoint`` came from finished, once the checkpoint is kept
    (:func:`~ganforge.gan.training.train` does on return; the project's hooks, after the catalog
    stored it). Until then the final state stays unfinished, so a run whose checkpoint was lost
    (a full disk) is returned again by the same command instead of being trained again. Returns
    whether a state was marked."""
    config = checkpoint["config"]
    key = _resume_key(config, checkpoint["data_fingerprint"], checkpoint.get("warm_start_digest"))
    path = resume_path(config["training"]["resume_dir"], config["name"], key)
    return mark_finished(path, key, checkpoint["epoch"], checkpoint["step"])


def _resume_key(config: dict[str, Any], data_fingerprint: str, warm_start_digest: str | None) -> str:
    return resume_key(config, data_fingerprint + (warm_start_digest or ""))


def _class_frequencies(model_input: dict[str, Any], spec: dict[str, Any]) -> list[float]:
    """The real data's class shares: conditional samples draw their labels from them."""
    if not spec["num_classes"] or model_input.get("labels") is None:
        return []
    counts = torch.bincount(model_input["labels"].cpu(), minlength=spec["num_classes"]).double()
    return (counts / counts.sum()).tolist()


def _restore(state: TrainingState, resume: ResumeFile, config: dict[str, Any], group: ProcessGroup) -> int:
    """Continue from the saved state of this experiment, if there is one that fits; returns the
    epoch training continues after."""
    saved = resume.load()
    if saved is None:
        return 0
    epochs = config["training"]["epochs"]
    if saved["finished"] and saved["epoch"] >= epochs:
        # The finished run's model is in the catalog; asking for it again (or for fewer epochs)
        # means a new run of that length, not a copy of the old one.
        if group.is_main:
            logger.info("A finished run of '%s' reached epoch %d; training %d epochs from scratch.",
                        config["name"], saved["epoch"], epochs)
        return 0
    if saved["epoch"] > epochs:
        raise ConfigError(
            f"The resume state of '{config['name']}' ({resume.path}) is at epoch {saved['epoch']}, past "
            f"training.epochs = {epochs}. Set training.epochs to {saved['epoch']} or more to finish that "
            "run, or training.resume: false to train from scratch."
        )
    _require_the_same_schedule(state.recipe, saved, config, resume.path)
    state.load_state_dict(saved)
    state.restore_progress(saved)
    verb = "Continuing the finished run of" if saved["finished"] else "Resuming"
    if group.is_main:
        logger.info("%s '%s' after epoch %d from %s.", verb, config["name"], state.epoch, resume.path)
    return state.epoch


def _require_the_same_schedule(recipe: Recipe, saved: dict[str, Any], config: dict[str, Any], path: Path) -> None:
    """A schedule that reads the run's length (CycleGAN's learning-rate decay) trained the saved
    epochs for the length planned then. Continued to another length, the run is only the run of
    that length if every epoch done would have been scheduled alike; otherwise it is refused."""
    epochs = config["training"]["epochs"]
    # a state written before the length was saved: a finished run had reached its planned length;
    # an unfinished one is taken to be resumed by the command that started it
    planned = int(saved.get("epochs", saved["epoch"] if saved["finished"] else epochs))
    if planned == epochs:
        return
    for epoch in range(1, saved["epoch"] + 1):
        trained, wanted = recipe.length_schedule(epoch, planned), recipe.length_schedule(epoch, epochs)
        if trained != wanted:
            raise ConfigError(
                f"Cannot continue the {planned}-epoch run of '{config['name']}' ({path}) to {epochs} epochs: "
                f"its epoch {epoch} trained with {_settings(trained)}, where a {epochs}-epoch run trains with "
                f"{_settings(wanted)}. Set training.resume: false to train {epochs} epochs from scratch"
                + ("." if saved["finished"] else f", or training.epochs: {planned} to finish that run."))


def _settings(values: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in values.items())


def _load_warm_start(state: TrainingState, checkpoint: dict[str, Any], spec: dict[str, Any], group: ProcessGroup
                     ) -> None:
    if checkpoint.get("model_spec") != spec:
        raise ConfigError(
            f"Cannot warm-start '{checkpoint.get('variant')}' from a checkpoint with a different model "
            f"({checkpoint.get('model_spec')} vs {spec}). Set retrain.warm_start: scratch, or retrain "
            "with the champion's model settings."
        )
    load_weights(state, checkpoint)
    if group.is_main:
        logger.info("Warm start from the checkpoint of epoch %d.", checkpoint["epoch"])


@torch.no_grad()
def _grid(state: TrainingState, inputs: dict[str, Any], recipe: dict) -> torch.Tensor:
    networks = state.sampling_networks
    modes = {name: network.training for name, network in networks.items()}
    for network in networks.values():
        network.eval()
    images = to_uint8(state.recipe.generate(networks, inputs), recipe).cpu()
    for name, network in networks.items():
        network.train(modes[name])
    return images


class _StepLog:
    """The step scalars of one epoch, on the device, with a mask of which step logged what."""

    def __init__(self, columns: tuple[str, ...], steps: int, device: torch.device) -> None:
        self.columns = columns
        self._index = {name: column for column, name in enumerate(columns)}
        self.values = torch.zeros(steps, len(columns), device=device)
        self.logged = torch.zeros(steps, len(columns), dtype=torch.bool)

    def record(self, index: int, logs: dict[str, torch.Tensor]) -> None:
        for name, value in logs.items():
            column = self._index[name]
            self.values[index, column] = value
            self.logged[index, column] = True

    def means(self, upto: int | None = None) -> dict[str, float]:
        values = self.values[:upto].cpu()
        logged = self.logged[:upto]
        return {name: float(values[logged[:, c], c].mean()) if logged[:, c].any() else math.nan
                for c, name in enumerate(self.columns)}


def _run_epochs(
    state: TrainingState,
    model_input: dict[str, Any],
    spec: dict[str, Any],
    config: dict[str, Any],
    device: torch.device,
    resume: ResumeFile,
    group: ProcessGroup,
    on_epoch_end: Callable[[TrainingState], None] | None,
) -> None:
    training, name, recipe = config["training"], config["name"], state.recipe
    batches = batch_source(model_input, config, device, group)
    global_batch = batches.batch_size * group.world_size
    normalization = model_input["normalization"]
    grid_inputs = recipe.grid_inputs(training["grid_size"], training["seed"] + 1, device, batches)
    step = StepContext(state.optimizers, state.networks, state.ema, state.counters, state.noise_rng, device,
                       bf16=training["precision"] == "bf16" and device.type == "cuda",
                       augmentations=tuple(training["augment"]), rank=group.rank, world_size=group.world_size)
    writer = _tensorboard_writer(config) if training["tensorboard"] and group.is_main else None
    recipe.on_train_start(batches.steps_per_epoch * global_batch, training["epochs"])
    if state.epoch == 0 and not state.epoch_samples and group.is_main:
        state.epoch_samples[0] = _grid(state, grid_inputs, normalization)

    for epoch in range(state.epoch + 1, training["epochs"] + 1):
        started = time.perf_counter()
        recipe.on_epoch_start(epoch)
        log = _train_epoch(state, batches, step, config, epoch, resume, group)
        _check_finite_weights(state, epoch, resume, name)

        seconds = time.perf_counter() - started
        means, progress = log.means(), recipe.progress()
        row = {"epoch": epoch, "step": state.step, **{f"{k}_steps": v for k, v in state.counters.items()},
               **means, **progress, "seconds": seconds,
               "images_per_second": batches.steps_per_epoch * global_batch / seconds}
        state.epoch = epoch
        state.history.append(row)
        if not group.is_main:
            continue
        state.epoch_samples[epoch] = _grid(state, grid_inputs, normalization)
        _snapshot_if_due(state, config, epoch)
        logger.info("%s epoch %d/%d: %s, %.1f s, %.0f images/s", name, epoch, training["epochs"],
                    ", ".join([f"{k} {v:.4f}" for k, v in means.items() if not math.isnan(v)]
                              + [f"{k} {v:g}" for k, v in progress.items()]),
                    seconds, row["images_per_second"])
        if writer is not None:
            _write_tensorboard(writer, name, row, state.epoch_samples[epoch], recipe.history_columns)
        # the planned length, which a schedule that reads it needs to tell whether a continued
        # run would train as a run of the new length does (_require_the_same_schedule)
        resume.save({**state.state_dict(), **state.progress(), "epochs": training["epochs"]})
        if on_epoch_end is not None:
            on_epoch_end(state)
    if writer is not None:
        writer.close()


def _train_epoch(state: TrainingState, batches: Any, step: StepContext, config: dict[str, Any], epoch: int,
                 resume: ResumeFile, group: ProcessGroup) -> _StepLog:
    """One pass over the data; every ``log_every`` steps the scalars so far are read back (averaged
    over the processes, so all of them see the same numbers), checked and shown."""
    training, name = config["training"], config["name"]
    global_batch = batches.batch_size * group.world_size
    started = time.perf_counter()
    log = _StepLog(state.recipe.history_columns, batches.steps_per_epoch, step.device)
    bar = tqdm(batches.epoch(state.data_rng), total=batches.steps_per_epoch, desc=f"{name} epoch {epoch}/"
               f"{training['epochs']}", unit="step", leave=False, disable=None if group.is_main else True,
               dynamic_ncols=True)
    checked = 0
    layout = memory_format(training)
    for index, batch in enumerate(bar):
        step.logs = {}
        state.recipe.train_step(batch.in_memory_format(layout), step)
        state.step += 1
        log.record(index, step.logs)
        if (index + 1) % training["log_every"] == 0 or index + 1 == batches.steps_per_epoch:
            log.values[checked:index + 1] = average_across_processes(log.values[checked:index + 1], group)
            _check_finite_logs(log, checked, index + 1, epoch, batches.steps_per_epoch, resume, name)
            checked = index + 1
            means = log.means(checked)
            bar.set_postfix({**{k: f"{v:.3f}" for k, v in means.items() if not math.isnan(v)},
                             "img_s": f"{checked * global_batch / (time.perf_counter() - started):.0f}"})
    bar.close()
    return log


def _snapshot_if_due(state: TrainingState, config: dict[str, Any], epoch: int) -> None:
    every = config.get("evaluation", {}).get("every_n_epochs", 0)
    # below full quality (a progressive generator under full resolution) the curve has no point;
    # it scores one generator's samples, which a two-domain model does not make
    due = every and (epoch % every == 0 or epoch == config["training"]["epochs"])
    if due and state.recipe.at_full_quality and "domain_channels" not in state.recipe.spec:
        state.snapshots[epoch] = {
            # tensors copied to the host; a module's extra state (a growth level) as it is
            "generator": {k: v.detach().cpu().clone() if isinstance(v, torch.Tensor) else copy.deepcopy(v)
                          for k, v in state.sampling_network.state_dict().items()},
            "train_seconds": sum(item["seconds"] for item in state.history),
            "step": state.step,
        }


def _kept_state(resume: ResumeFile, epoch: int) -> str:
    if resume.path.exists():
        return f"The last good state (epoch {epoch - 1}) is kept in {resume.path}."
    return "No epoch had completed, so there is no earlier state to keep."


def _check_finite_logs(
    log: _StepLog, start: int, stop: int, epoch: int, steps_per_epoch: int, resume: ResumeFile, name: str
) -> None:
    window = log.values[start:stop].cpu()
    bad = ~torch.isfinite(window)
    if not bad.any():
        return
    row, column = (int(i) for i in bad.nonzero()[0])
    step_in_epoch = start + row + 1
    raise TrainingDivergedError(
        f"Training of '{name}' diverged: {log.columns[column].replace('_', ' ')} became "
        f"{float(window[row, column])} at epoch {epoch}, step {step_in_epoch} of {steps_per_epoch} "
        f"(global step {(epoch - 1) * steps_per_epoch + step_in_epoch}). {_kept_state(resume, epoch)} Lower the "
        f"learning rates in parameters_{name}.yml or check the data, then run again."
    )


def _check_finite_weights(state: TrainingState, epoch: int, resume: ResumeFile, name: str) -> None:
    """Finite losses do not prove finite weights (the last step's update is never scored), so the
    weights are checked before an epoch's state is saved as good."""
    averages = {f"{network} (EMA)": average.model for network, average in state.ema.items()}
    for network_name, network in {**state.networks, **averages}.items():
        tensors = [*network.parameters(), *(b for b in network.buffers() if b.is_floating_point())]
        if tensors and not bool(torch.stack([t.isfinite().all() for t in tensors]).all()):
            raise TrainingDivergedError(
                f"Training of '{name}' diverged: the {network_name} has non-finite weights after epoch "
                f"{epoch}. {_kept_state(resume, epoch)} Lower the learning rates in parameters_{name}.yml "
                "or check the data, then run again."
            )


def _tensorboard_writer(config: dict[str, Any]):
    from torch.utils.tensorboard import SummaryWriter

    directory = Path(config["training"]["tensorboard_dir"]) / config["name"] / time.strftime("%Y%m%d-%H%M%S")
    logger.info("Writing TensorBoard scalars and grids to %s", directory)
    return SummaryWriter(log_dir=str(directory))


def _write_tensorboard(writer, name: str, row: dict[str, Any], grid: torch.Tensor, columns: tuple[str, ...]) -> None:
    for key in (*columns, "images_per_second"):
        if not math.isnan(row[key]):
            writer.add_scalar(f"{name}/{key}", row[key], row["epoch"])
    writer.add_images(f"{name}/samples", grid, row["epoch"])
    writer.flush()
