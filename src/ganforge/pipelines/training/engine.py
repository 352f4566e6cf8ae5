"""The one training loop every GAN variant runs.

Variants differ only in the models and the :class:`~.objectives.Objective` they are given. The data
set lives on the training device as one uint8 tensor and is reshuffled each epoch with a seeded
generator; losses are collected on the device and read back every ``log_every`` steps, so the
loop does not synchronize with the host on every step.
"""

from __future__ import annotations

import copy
import io
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock, Timeout
from torch import nn
from tqdm.auto import tqdm

from ganforge.errors import ConfigError, TrainingDivergedError
from ganforge.images import to_training_range, to_uint8
from ganforge.utils import atomic_write_bytes, content_digest, resolve_device

from .config import resume_key
from .models import Discriminator, Generator, dcgan_init_
from .objectives import Objective, build_objective

logger = logging.getLogger(__name__)

RESUME_FORMAT = "ganforge-resume-v1"
CHECKPOINT_FORMAT = "ganforge-checkpoint-v1"
HISTORY_COLUMNS = ("discriminator_loss", "generator_loss", "wasserstein_estimate", "gradient_penalty")


class EmaGenerator:
    """Exponential moving average of the generator's weights (buffers are copied).

    The decay ramps up as min(decay, (1 + t) / (10 + t)) so that short runs and variants with few
    generator steps (n_critic = 5) are not dominated by the random initialization.
    """

    def __init__(self, generator: nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(generator).eval().requires_grad_(False)
        self.decay = decay
        self.updates = 0
        self._averaged = list(self.model.parameters())

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        # one fused multi-tensor op instead of a Python loop over parameters
        torch._foreach_lerp_(self._averaged, list(generator.parameters()), 1.0 - decay)
        for averaged, current in zip(self.model.buffers(), generator.buffers(), strict=True):
            averaged.copy_(current)


def model_spec(config: dict[str, Any], channels: int, image_size: int, num_classes: int) -> dict[str, Any]:
    """Everything needed to rebuild the networks from a checkpoint (plain data)."""
    model = config["model"]
    conditional_classes = num_classes if model["conditional"] else 0
    return {
        "architecture": model["architecture"],
        "latent_dim": model["latent_dim"],
        "channels": channels,
        "image_size": image_size,
        "base_channels": model["base_channels"],
        "generator_hidden": list(model["generator_hidden"]),
        "discriminator_hidden": list(model["discriminator_hidden"]),
        "discriminator_norm": model["discriminator_norm"],
        "num_classes": conditional_classes,
        "embedding_dim": model["embedding_dim"],
    }


def build_generator(spec: dict[str, Any]) -> Generator:
    return Generator(
        architecture=spec["architecture"],
        latent_dim=spec["latent_dim"],
        channels=spec["channels"],
        image_size=spec["image_size"],
        base_channels=spec["base_channels"],
        hidden_dims=tuple(spec["generator_hidden"]),
        num_classes=spec["num_classes"],
        embedding_dim=spec["embedding_dim"] if spec["num_classes"] else 0,
    )


def build_discriminator(spec: dict[str, Any]) -> Discriminator:
    return Discriminator(
        architecture=spec["architecture"],
        channels=spec["channels"],
        image_size=spec["image_size"],
        base_channels=spec["base_channels"],
        hidden_dims=tuple(spec["discriminator_hidden"]),
        normalization=spec["discriminator_norm"],
        num_classes=spec["num_classes"],
    )


def _optimizer(parameters, optimizer: dict[str, Any], lr: float) -> torch.optim.Optimizer:
    if optimizer["name"] == "adam":
        return torch.optim.Adam(parameters, lr=lr, betas=tuple(optimizer["betas"]))
    return torch.optim.RMSprop(parameters, lr=lr)


@dataclass
class TrainingState:
    """Everything that changes during training; saved each epoch for resuming."""

    generator: Generator
    discriminator: Discriminator
    ema: EmaGenerator | None
    optimizer_generator: torch.optim.Optimizer
    optimizer_discriminator: torch.optim.Optimizer
    data_rng: torch.Generator
    noise_rng: torch.Generator
    epoch: int = 0
    step: int = 0
    generator_steps: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    epoch_samples: dict[int, torch.Tensor] = field(default_factory=dict)
    # sampling-generator weights every evaluation.every_n_epochs, for the score-vs-epoch curve
    snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)

    @property
    def sampling_generator(self) -> nn.Module:
        return self.ema.model if self.ema is not None else self.generator

    def state_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "step": self.step,
            "generator_steps": self.generator_steps,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "ema_generator": self.ema.model.state_dict() if self.ema is not None else None,
            "ema_updates": self.ema.updates if self.ema is not None else 0,
            "optimizer_generator": self.optimizer_generator.state_dict(),
            "optimizer_discriminator": self.optimizer_discriminator.state_dict(),
            "rng": {
                "data": self.data_rng.get_state(),
                "noise": self.noise_rng.get_state(),
                "torch": torch.get_rng_state(),
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.step = state["epoch"], state["step"]
        self.generator_steps = state["generator_steps"]
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        if self.ema is not None and state["ema_generator"] is not None:
            self.ema.model.load_state_dict(state["ema_generator"])
            self.ema.updates = state["ema_updates"]
        self.optimizer_generator.load_state_dict(state["optimizer_generator"])
        self.optimizer_discriminator.load_state_dict(state["optimizer_discriminator"])
        self.data_rng.set_state(state["rng"]["data"])
        self.noise_rng.set_state(state["rng"]["noise"])
        torch.set_rng_state(state["rng"]["torch"])


@dataclass
class TrainingResult:
    checkpoint: dict[str, Any]
    history: list[dict[str, float]]
    epoch_samples: dict[int, torch.Tensor]
    snapshots: dict[int, dict[str, Any]]
    device: str
    resumed_from_epoch: int


class ResumeFile:
    """The per-run resume state: written atomically each epoch, ignored with a warning when
    unreadable, locked so two runs of the same experiment never share (or clobber) one file."""

    def __init__(self, directory: str | os.PathLike, name: str, key: str, enabled: bool) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.key = key
        self.enabled = enabled
        self.path = self.directory / f"{name}-{key}.pt"
        self._lock = FileLock(str(self.path) + ".lock")
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            # Another process is training the same experiment right now: keep our own file.
            self.path = self.directory / f"{name}-{key}-pid{os.getpid()}.pt"
            self._lock = FileLock(str(self.path) + ".lock")
            self._lock.acquire(timeout=0)
            self.enabled = False
            logger.warning(
                "Another run of the same experiment holds its resume file; this run keeps its own "
                "state in %s and starts from scratch.",
                self.path,
            )

    def load(self) -> dict[str, Any] | None:
        if not self.enabled:
            if self.path.exists():
                logger.info("training.resume is false: starting over (ignoring %s).", self.path)
            return None
        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
            if state.get("format") != RESUME_FORMAT or state.get("key") != self.key:
                raise ValueError("not a resume file of this experiment")
            return state
        except Exception as error:  # a killed write or a foreign file must not stop the run
            logger.warning("Ignoring unreadable resume file %s (%s); starting over.", self.path, error)
            return None

    def save(self, state: dict[str, Any]) -> None:
        buffer = io.BytesIO()
        torch.save({"format": RESUME_FORMAT, "key": self.key, **state}, buffer)
        atomic_write_bytes(self.path, buffer.getvalue())

    def finish(self) -> None:
        """The run completed and its checkpoint goes to the catalog: the resume file is done."""
        self.path.unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()
        Path(self._lock.lock_file).unlink(missing_ok=True)


def _fixed_inputs(
    config: dict[str, Any], spec: dict[str, Any], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The same noise (and labels) for every epoch's grid, drawn from its own seeded generator
    so that it never disturbs the training random streams."""
    count, latent = config["training"]["grid_size"], spec["latent_dim"]
    generator = torch.Generator().manual_seed(config["training"]["seed"] + 1)
    noise = torch.randn(count, latent, generator=generator).to(device)
    labels = None
    if spec["num_classes"]:
        per_class = math.ceil(count / spec["num_classes"])
        labels = torch.arange(spec["num_classes"]).repeat_interleave(per_class)[:count].to(device)
    return noise, labels


@torch.no_grad()
def generate(
    generator: nn.Module, noise: torch.Tensor, labels: torch.Tensor | None, recipe: dict
) -> torch.Tensor:
    was_training = generator.training
    generator.eval()
    images = to_uint8(generator(noise, labels), recipe).cpu()
    generator.train(was_training)
    return images


def require_labels_if_conditional(config: dict[str, Any], model_input: dict[str, Any]) -> None:
    """A conditional variant (cGAN) cannot train on data without class labels."""
    labeled = model_input.get("labels") is not None and int(model_input.get("num_classes") or 0) >= 2
    if config["model"]["conditional"] and not labeled:
        raise ConfigError(
            f"Variant '{config['name']}' is conditional (model.conditional: true) but the data "
            f"source '{model_input.get('source')}' has no class labels. Use labeled data (class "
            "subfolders for image_folder) or an unconditional variant."
        )


def train_gan(
    model_input: dict[str, Any],
    config: dict[str, Any],
    *,
    warm_start: dict[str, Any] | None = None,
    on_epoch_end: Callable[[TrainingState], None] | None = None,
) -> TrainingResult:
    """Train the configured GAN on ``model_input`` and return its checkpoint and history.

    ``warm_start`` is an earlier checkpoint of the same architecture (e.g. the champion) whose
    generator, discriminator and EMA weights training starts from; optimizers start fresh.
    ``on_epoch_end`` is called after each epoch's state is safely written (used by tests to
    interrupt a run).
    """
    training = config["training"]
    device = resolve_device(training["device"])
    images: torch.Tensor = model_input["images"]
    labels: torch.Tensor | None = model_input.get("labels")
    recipe = model_input["normalization"]
    num_classes = int(model_input.get("num_classes") or 0)
    require_labels_if_conditional(config, model_input)
    batch_size = training["batch_size"]
    if images.shape[0] < batch_size:
        raise ConfigError(
            f"training.batch_size ({batch_size}) is larger than the data set ({images.shape[0]} "
            "images). Lower the batch size or use more data (data.limit)."
        )
    spec = model_spec(config, images.shape[1], images.shape[2], num_classes)

    if training["num_threads"]:
        # On a shared or oversubscribed CPU, fewer intra-op threads can be many times faster.
        torch.set_num_threads(training["num_threads"])
    torch.manual_seed(training["seed"])
    if device.type == "cuda" and training["deterministic"]:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    generator = build_generator(spec).to(device)
    discriminator = build_discriminator(spec).to(device)
    if config["model"]["init"] == "dcgan":
        dcgan_init_(generator)
        dcgan_init_(discriminator)
    optimizer = config["optimizer"]
    state = TrainingState(
        generator=generator,
        discriminator=discriminator,
        ema=EmaGenerator(generator, training["ema"]["decay"]) if training["ema"]["enabled"] else None,
        optimizer_generator=_optimizer(generator.parameters(), optimizer, optimizer["lr_generator"]),
        optimizer_discriminator=_optimizer(
            discriminator.parameters(), optimizer, optimizer["lr_discriminator"]
        ),
        data_rng=torch.Generator().manual_seed(training["seed"]),
        noise_rng=torch.Generator(device=device).manual_seed(training["seed"] + 2),
    )
    objective = build_objective(
        config["objective"]["loss"], config["objective"]["clip_value"], config["objective"]["gradient_penalty"]
    )

    warm_start_digest = None
    if warm_start:
        _load_warm_start(state, warm_start, spec)
        warm_start_digest = content_digest(warm_start["generator"])
    key = resume_key(config, model_input["fingerprint"] + (warm_start_digest or ""))
    resume = ResumeFile(training["resume_dir"], config["name"], key, training["resume"])
    try:
        saved = resume.load()
        if saved is not None:
            state.load_state_dict(saved)
            state.history = list(saved["history"])
            state.epoch_samples = dict(saved["epoch_samples"])
            state.snapshots = dict(saved.get("snapshots", {}))
            logger.info("Resuming '%s' after epoch %d from %s.", config["name"], state.epoch, resume.path)
        resumed_from = state.epoch
        _run_epochs(state, objective, images, labels, recipe, spec, config, device, resume, on_epoch_end)
        checkpoint = {
            "format": CHECKPOINT_FORMAT,
            "variant": config["name"],
            **state.state_dict(),
            "model_spec": spec,
            "config": config,
            "normalization": recipe,
            "data_fingerprint": model_input["fingerprint"],
            "class_names": list(model_input.get("class_names") or []),
            "warm_start_generator_digest": warm_start_digest,
        }
        result = TrainingResult(
            checkpoint, state.history, state.epoch_samples, state.snapshots, str(device), resumed_from
        )
        resume.finish()
        return result
    finally:
        resume.release()


def _load_warm_start(state: TrainingState, checkpoint: dict[str, Any], spec: dict[str, Any]) -> None:
    if checkpoint.get("model_spec") != spec:
        raise ConfigError(
            f"Cannot warm-start '{checkpoint.get('variant')}' from a checkpoint with a different model "
            f"({checkpoint.get('model_spec')} vs {spec}). Set retrain.warm_start: scratch, or retrain "
            "with the champion's model settings."
        )
    state.generator.load_state_dict(checkpoint["generator"])
    state.discriminator.load_state_dict(checkpoint["discriminator"])
    if state.ema is not None:
        state.ema.model.load_state_dict(checkpoint.get("ema_generator") or checkpoint["generator"])
    logger.info("Warm start from the checkpoint of epoch %d.", checkpoint["epoch"])


def _run_epochs(
    state: TrainingState,
    objective: Objective,
    images: torch.Tensor,
    labels: torch.Tensor | None,
    recipe: dict,
    spec: dict[str, Any],
    config: dict[str, Any],
    device: torch.device,
    resume: ResumeFile,
    on_epoch_end: Callable[[TrainingState], None] | None,
) -> None:
    training = config["training"]
    batch_size, n_critic = training["batch_size"], training["n_critic"]
    conditional = spec["num_classes"] > 0
    # One uint8 copy of the data on the device: 4× smaller than floats, converted per batch.
    images = images.to(device)
    labels = labels.to(device) if (conditional and labels is not None) else None
    steps_per_epoch = images.shape[0] // batch_size
    fixed_noise, fixed_labels = _fixed_inputs(config, spec, device)
    use_bf16 = training["precision"] == "bf16" and device.type == "cuda" and objective.supports_bf16
    writer = _tensorboard_writer(config) if training["tensorboard"] else None
    if state.epoch == 0 and not state.epoch_samples:
        state.epoch_samples[0] = generate(state.sampling_generator, fixed_noise, fixed_labels, recipe)

    for epoch in range(state.epoch + 1, training["epochs"] + 1):
        started = time.perf_counter()
        losses = torch.zeros(steps_per_epoch, len(HISTORY_COLUMNS), device=device)
        generator_mask = torch.zeros(steps_per_epoch, dtype=torch.bool)
        order = torch.randperm(images.shape[0], generator=state.data_rng).to(device)
        bar = tqdm(
            range(steps_per_epoch),
            desc=f"{config['name']} epoch {epoch}/{training['epochs']}",
            unit="step",
            leave=False,
            disable=None,
            dynamic_ncols=True,
        )
        checked = 0
        for index in bar:
            batch = order[index * batch_size : (index + 1) * batch_size]
            real = to_training_range(images[batch], recipe)
            batch_labels = labels[batch] if labels is not None else None
            noise = torch.randn(batch_size, spec["latent_dim"], generator=state.noise_rng, device=device)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
                fake = state.generator(noise, batch_labels)
                real_scores = state.discriminator(real, batch_labels)
                fake_scores = state.discriminator(fake.detach(), batch_labels)
                discriminator_loss = objective.discriminator_loss(real_scores.float(), fake_scores.float())
            penalty = objective.penalty(state.discriminator, real, fake.float(), batch_labels, state.noise_rng)
            total = discriminator_loss if penalty is None else discriminator_loss + penalty
            state.optimizer_discriminator.zero_grad(set_to_none=True)
            total.backward()
            state.optimizer_discriminator.step()
            objective.after_critic_step(state.discriminator)
            state.step += 1
            losses[index, 0] = discriminator_loss.detach()
            if objective.is_wasserstein:
                losses[index, 2] = (real_scores.mean() - fake_scores.mean()).detach()
            if penalty is not None:
                losses[index, 3] = penalty.detach()

            if state.step % n_critic == 0:
                with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    generator_loss = objective.generator_loss(
                        state.discriminator(fake, batch_labels).float()
                    )
                state.optimizer_generator.zero_grad(set_to_none=True)
                generator_loss.backward()
                state.optimizer_generator.step()
                state.generator_steps += 1
                if state.ema is not None:
                    state.ema.update(state.generator)
                losses[index, 1] = generator_loss.detach()
                generator_mask[index] = True

            if (index + 1) % training["log_every"] == 0 or index + 1 == steps_per_epoch:
                window = losses[checked : index + 1].cpu()
                _check_finite(window, checked, epoch, state, steps_per_epoch, resume, config)
                checked = index + 1
                bar.set_postfix(
                    d_loss=f"{window[:, 0].mean():.3f}",
                    g_loss=f"{losses[:checked, 1].sum().item() / max(1, int(generator_mask[:checked].sum())):.3f}",
                    img_s=f"{checked * batch_size / (time.perf_counter() - started):.0f}",
                )
        bar.close()

        seconds = time.perf_counter() - started
        epoch_losses = losses.cpu()
        row = {
            "epoch": epoch,
            "step": state.step,
            "generator_steps": state.generator_steps,
            "discriminator_loss": float(epoch_losses[:, 0].mean()),
            "generator_loss": float(epoch_losses[generator_mask, 1].mean()) if generator_mask.any() else math.nan,
            "wasserstein_estimate": float(epoch_losses[:, 2].mean()) if objective.is_wasserstein else math.nan,
            "gradient_penalty": (
                float(epoch_losses[:, 3].mean()) if config["objective"]["gradient_penalty"] else math.nan
            ),
            "seconds": seconds,
            "images_per_second": steps_per_epoch * batch_size / seconds,
        }
        state.epoch = epoch
        state.history.append(row)
        state.epoch_samples[epoch] = generate(state.sampling_generator, fixed_noise, fixed_labels, recipe)
        every = config.get("evaluation", {}).get("every_n_epochs", 0)
        if every and (epoch % every == 0 or epoch == training["epochs"]):
            state.snapshots[epoch] = {
                "generator": {k: v.detach().cpu().clone() for k, v in state.sampling_generator.state_dict().items()},
                "train_seconds": sum(item["seconds"] for item in state.history),
                "step": state.step,
            }
        logger.info(
            "%s epoch %d/%d: d_loss %.4f, g_loss %.4f%s, %.1f s, %.0f images/s",
            config["name"], epoch, training["epochs"], row["discriminator_loss"], row["generator_loss"],
            f", W-estimate {row['wasserstein_estimate']:.4f}" if objective.is_wasserstein else "",
            seconds, row["images_per_second"],
        )
        if writer is not None:
            for key in (*HISTORY_COLUMNS, "images_per_second"):
                if not math.isnan(row[key]):
                    writer.add_scalar(f"{config['name']}/{key}", row[key], epoch)
            writer.add_images(f"{config['name']}/samples", state.epoch_samples[epoch], epoch)
            writer.flush()
        resume.save(
            {**state.state_dict(), "history": state.history, "epoch_samples": state.epoch_samples,
             "snapshots": state.snapshots}
        )
        if on_epoch_end is not None:
            on_epoch_end(state)
    if writer is not None:
        writer.close()


def _check_finite(
    window: torch.Tensor,
    offset: int,
    epoch: int,
    state: TrainingState,
    steps_per_epoch: int,
    resume: ResumeFile,
    config: dict[str, Any],
) -> None:
    bad = ~torch.isfinite(window)
    if not bad.any():
        return
    row, column = (int(i) for i in bad.nonzero()[0])
    step_in_epoch = offset + row + 1
    global_step = (epoch - 1) * steps_per_epoch + step_in_epoch
    kept = (
        f"The last good state (epoch {epoch - 1}) is kept in {resume.path}."
        if resume.path.exists()
        else "No epoch had completed, so there is no earlier state to keep."
    )
    raise TrainingDivergedError(
        f"Training of '{config['name']}' diverged: {HISTORY_COLUMNS[column].replace('_', ' ')} became "
        f"{float(window[row, column])} at epoch {epoch}, step {step_in_epoch} of {steps_per_epoch} "
        f"(global step {global_step}). {kept} Lower the learning rates in "
        f"parameters_{config['name']}.yml or check the data, then run again."
    )


def _tensorboard_writer(config: dict[str, Any]):
    from torch.utils.tensorboard import SummaryWriter

    directory = Path(config["training"]["tensorboard_dir"]) / config["name"] / time.strftime("%Y%m%d-%H%M%S")
    logger.info("Writing TensorBoard scalars and grids to %s", directory)
    return SummaryWriter(log_dir=str(directory))
