"""Training recipes: what a family's networks are and what one training step does.

The engine owns everything families share (data on the device, the loop, EMA, logging, NaN
guard, checkpoints and resume). A recipe declares its networks and their optimizers, and writes
its step as phases, each ending in ``step.optimize(network, loss)``, the way a one-file script
would read; hooks (``on_epoch_start``, ``state_dict``) carry schedules such as resolution growth
or a regularizer every N steps.
"""

from __future__ import annotations

import contextlib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict
from torch import nn

from ganforge.errors import ConfigError
from ganforge.gan.augment import augment
from ganforge.gan.data import Batch
from ganforge.gan.ema import ExponentialMovingAverage
from ganforge.gan.randomness import BatchRandom
from ganforge.registry import Registry


@dataclass
class StepContext:
    """What the engine lends a recipe for one step: the RNG for noise, mixed precision, and
    ``optimize``, which steps one network's optimizer and keeps the counters and the EMA."""

    optimizers: dict[str, torch.optim.Optimizer]
    networks: dict[str, nn.Module]
    ema: dict[str, ExponentialMovingAverage]
    counters: dict[str, int]
    noise_rng: torch.Generator
    device: torch.device
    bf16: bool = False
    #: DiffAugment operations (``training.augment``) applied to every image the discriminator sees
    augmentations: tuple[str, ...] = ()
    #: this process's rank and the number of processes in data-parallel training
    rank: int = 0
    world_size: int = 1
    logs: dict[str, torch.Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        #: per-sample draws (noise, penalty weights, augmentations) from the global batch's stream
        self.random = BatchRandom(self.noise_rng, self.rank, self.world_size)

    def optimize(self, names: str | tuple[str, ...], loss: torch.Tensor) -> None:
        """One backward pass of ``loss`` and a step of the named network's optimizer (or of each
        named network's, for a loss they share, e.g. CycleGAN's two translators)."""
        names = (names,) if isinstance(names, str) else names
        for name in names:
            self.optimizers[name].zero_grad(set_to_none=True)
        loss.backward()
        for name in names:
            self.optimizers[name].step()
            self.counters[name] = self.counters.get(name, 0) + 1
            if name in self.ema:
                self.ema[name].update(self.networks[name])

    def autocast(self, allowed: bool = True) -> contextlib.AbstractContextManager:
        """bf16 autocast where configured, on CUDA, and where the recipe's loss allows it."""
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.bf16 and allowed)

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        """Real and generated images alike, on their way into the discriminator (DiffAugment)."""
        return augment(images, self.augmentations, self.random)

    def noise(self, count: int, dim: int) -> torch.Tensor:
        return self.random.randn(count, dim, device=self.device)

    def log(self, **values: torch.Tensor) -> None:
        """Record this step's scalars (detached, on the device: read back only every log_every)."""
        self.logs.update({key: value.detach() for key, value in values.items()})


def build_optimizer(parameters: Iterator[nn.Parameter], settings: dict[str, Any], lr: float) -> torch.optim.Optimizer:
    if settings["name"] == "adam":
        return torch.optim.Adam(parameters, lr=lr, betas=tuple(settings["betas"]))
    return torch.optim.RMSprop(parameters, lr=lr)


class RecipeOptions(BaseModel):
    """A recipe's own settings, the ``recipe:`` section of a variant (a growth schedule, a
    regularization interval); the alternating recipe has none."""

    model_config = ConfigDict(extra="forbid")


class Recipe(ABC):
    """Base class of a training recipe. Subclasses set ``history_columns`` and implement
    :meth:`build_networks`, :meth:`build_optimizers` and :meth:`train_step`."""

    #: the settings of the variant's ``recipe:`` section, validated before training
    options: type[RecipeOptions] = RecipeOptions
    #: the scalars a step may log, in the order of the training history
    history_columns: tuple[str, ...] = ()
    #: networks whose weights get an exponential moving average
    ema_networks: tuple[str, ...] = ("generator",)
    #: the network that makes images for grids and scores
    sampling_network: str = "generator"
    #: for a two-domain recipe: whether both domains must have the same channel count
    equal_channels: bool = True
    #: whether the recipe trains only through its networks' forward passes, which is what
    #: DistributedDataParallel synchronizes (training.distributed)
    data_parallel: bool = True

    def __init__(self, config: dict[str, Any], spec: dict[str, Any]) -> None:
        self.config = config
        self.spec = spec

    @abstractmethod
    def build_networks(self) -> dict[str, nn.Module]:
        """Every network, built in a fixed order (it fixes the seeded initialization)."""

    @abstractmethod
    def build_optimizers(self, networks: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        """One optimizer per trained network, keyed by the network's name."""

    @abstractmethod
    def train_step(self, batch: Batch, step: StepContext) -> None:
        """One batch: the recipe's phases, each ending in ``step.optimize``; scalars via ``step.log``."""

    def bind(self, networks: dict[str, nn.Module]) -> None:
        """Called once the networks exist (and are on the device)."""
        self.networks = networks

    def on_train_start(self, images_per_epoch: int, epochs: int) -> None:
        """Called once the run's length is known, before the first step: a schedule that cannot
        fit raises ConfigError here."""
        return None

    def on_epoch_start(self, epoch: int) -> None:
        """Schedules (resolution growth, fade-in) hook in here."""
        return None

    def length_schedule(self, epoch: int, epochs: int) -> dict[str, float]:
        """What a schedule that reads the run's length sets for epoch ``epoch`` of an ``epochs``-epoch
        run ({} for none). A run is only continued to another length if this agrees on every
        epoch it has trained; a schedule counted in steps or images belongs in :meth:`state_dict`."""
        return {}

    def progress(self) -> dict[str, float]:
        """Where a schedule stands, recorded with each epoch of the history (e.g. resolution, α)."""
        return {}

    @property
    def at_full_quality(self) -> bool:
        """Whether the sampling network now makes images worth scoring for the score curve
        (a progressive generator is not, below the full resolution)."""
        return True

    def state_dict(self) -> dict[str, Any]:
        """Schedule state that must survive a resume."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None

    def grid_inputs(self, count: int, seed: int, device: torch.device, data: Any = None) -> dict[str, Any]:
        """The fixed inputs of every epoch's grid, from their own seeded generator (``data``, the
        batch source, lends fixed real images to a recipe that transforms them)."""
        generator = torch.Generator().manual_seed(seed)
        noise = torch.randn(count, self.spec["latent_dim"], generator=generator).to(device)
        labels = None
        if self.spec.get("num_classes"):
            per_class = math.ceil(count / self.spec["num_classes"])
            labels = torch.arange(self.spec["num_classes"]).repeat_interleave(per_class)[:count].to(device)
        return {"noise": noise, "labels": labels}

    def generate(self, networks: dict[str, nn.Module], inputs: dict[str, Any]) -> torch.Tensor:
        """The grid's images (in the training range), from ``networks`` as they sample (each
        network's moving average where it has one)."""
        return networks[self.sampling_network](inputs["noise"], inputs["labels"])


def require_plain_objective(config: dict[str, Any]) -> None:
    """For recipes whose step applies the objective's losses only: a Wasserstein critic's clipping
    or gradient penalty would be silently left out, so it is refused."""
    if config["objective"]["loss"] == "wasserstein":
        raise ConfigError(
            f"Variant '{config['name']}' does not apply a Wasserstein critic's weight clipping or gradient "
            "penalty. Set objective.loss to least_squares, bce or hinge.")


RECIPES: Registry[Callable[[dict[str, Any], dict[str, Any]], Recipe]] = Registry("training recipe", "recipe")
