"""Everything that changes during training, saved together: every network, its EMA, every
optimizer, the step counters, the schedule state of the recipe and the random generators."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ganforge.errors import CheckpointError
from ganforge.gan.ema import ExponentialMovingAverage
from ganforge.gan.networks import normalized_spec
from ganforge.gan.recipes import Recipe

CHECKPOINT_FORMAT = "ganforge-checkpoint-v2"


@dataclass
class TrainingState:
    recipe: Recipe
    networks: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    ema: dict[str, ExponentialMovingAverage]
    data_rng: torch.Generator
    noise_rng: torch.Generator
    #: whether grids, snapshots and scores use the EMA weights (evaluation.use_ema)
    sample_with_ema: bool = True
    epoch: int = 0
    step: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    epoch_samples: dict[int, torch.Tensor] = field(default_factory=dict)
    # sampling-network weights every evaluation.every_n_epochs, for the score-vs-epoch curve
    snapshots: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def sampling_network(self) -> nn.Module:
        return self.sampling_networks[self.recipe.sampling_network]

    @property
    def sampling_networks(self) -> dict[str, nn.Module]:
        """Every network as grids and scores use it: its moving average where it has one."""
        return {name: self.ema[name].model if self.sample_with_ema and name in self.ema else network
                for name, network in self.networks.items()}

    def state_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "step": self.step,
            "counters": dict(self.counters),
            "networks": {name: network.state_dict() for name, network in self.networks.items()},
            "ema": {name: average.model.state_dict() for name, average in self.ema.items()},
            "ema_updates": {name: average.updates for name, average in self.ema.items()},
            "optimizers": {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()},
            "recipe_state": self.recipe.state_dict(),
            "rng": {
                "data": self.data_rng.get_state(),
                "noise": self.noise_rng.get_state(),
                "torch": torch.get_rng_state(),
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.step, self.counters = state["epoch"], state["step"], dict(state["counters"])
        load_weights(self, state)
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        self.recipe.load_state_dict(state.get("recipe_state", {}))
        self.data_rng.set_state(state["rng"]["data"])
        self.noise_rng.set_state(state["rng"]["noise"])
        torch.set_rng_state(state["rng"]["torch"])

    def progress(self) -> dict[str, Any]:
        """What a resume needs besides the state: the history, grids and snapshots so far."""
        return {"history": self.history, "epoch_samples": self.epoch_samples, "snapshots": self.snapshots}

    def restore_progress(self, saved: dict[str, Any]) -> None:
        self.history = list(saved["history"])
        self.epoch_samples = dict(saved["epoch_samples"])
        self.snapshots = dict(saved.get("snapshots", {}))


def load_weights(state: TrainingState, checkpoint: dict[str, Any]) -> None:
    """Networks and their EMAs (with the EMA's update count) from a checkpoint or resume state."""
    for name, network in state.networks.items():
        network.load_state_dict(checkpoint["networks"][name])
    for name, average in state.ema.items():
        saved = checkpoint.get("ema", {}).get(name)
        average.model.load_state_dict(saved if saved is not None else checkpoint["networks"][name])
        average.updates = int(checkpoint.get("ema_updates", {}).get(name, 0)) if saved is not None else 0


def upgrade_checkpoint(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint of an older GAN Forge in today's layout (0.1 had one generator and one
    discriminator at the top level), so old versions can still be sampled, scored and
    warm-started from."""
    if not isinstance(checkpoint, dict) or "model_spec" not in checkpoint:
        # a weights-only torch file of something else (a bare state_dict, another tool's save)
        raise CheckpointError(
            "The file is a PyTorch file but not a GAN Forge checkpoint (it has no model_spec): "
            "choose a version that a GAN Forge training saved."
        )
    if checkpoint.get("format") == "ganforge-checkpoint-v1":
        checkpoint = _from_v1(checkpoint)
    spec = dict(checkpoint["model_spec"])
    spec.setdefault("init", checkpoint.get("config", {}).get("model", {}).get("init", "default"))
    return {**checkpoint, "model_spec": normalized_spec(spec)}


def _from_v1(checkpoint: dict[str, Any]) -> dict[str, Any]:
    upgraded = {key: value for key, value in checkpoint.items() if not key.startswith(("optimizer_", "ema_"))}
    upgraded.update(
        format=CHECKPOINT_FORMAT,
        networks={"generator": checkpoint["generator"], "discriminator": checkpoint["discriminator"]},
        ema={"generator": checkpoint["ema_generator"]} if checkpoint.get("ema_generator") is not None else {},
        ema_updates={"generator": checkpoint.get("ema_updates", 0)},
        optimizers={"generator": checkpoint["optimizer_generator"],
                    "discriminator": checkpoint["optimizer_discriminator"]},
        counters={"discriminator": checkpoint["step"], "generator": checkpoint["generator_steps"]},
        recipe="adversarial",
        recipe_state={},
    )
    for key in ("generator", "discriminator", "generator_steps"):
        upgraded.pop(key, None)
    return upgraded
