"""CycleGAN (Zhu et al. 2017): two translators, G: A → B and F: B → A, and a discriminator per
domain, trained on unpaired images. Each step, as in the paper's §3–4:

1. the translators together: fool the other domain's discriminator (least squares), come back
   to the input after a round trip (cycle consistency, λ_cyc), and leave an image that is
   already in their output domain alone (identity, λ_id, needs equal channel counts);
2. the discriminators together: real images against a mix of new and earlier translations (the
   image history), the loss halved so they learn slower than the translators.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import nn

from ganforge.errors import ConfigError
from ganforge.gan.data import DomainPair
from ganforge.gan.image_history import ImageHistory
from ganforge.gan.networks import INITIALIZERS
from ganforge.gan.networks.translation import build_patch_discriminator, build_translator, domain_channels
from ganforge.gan.objectives import build_objective, cycle_consistency_loss, identity_loss
from ganforge.gan.recipes import (
    RECIPES,
    Recipe,
    RecipeOptions,
    StepContext,
    build_optimizer,
    require_plain_objective,
)

TRANSLATORS = ("generator_ab", "generator_ba")
DISCRIMINATORS = ("discriminator_a", "discriminator_b")


class CycleOptions(RecipeOptions):
    #: λ_cyc, the weight of the cycle-consistency loss of each direction (paper: 10)
    cycle_weight: float = Field(10.0, ge=0)
    #: λ_id, the weight of the identity loss (paper: 0.5·λ_cyc; 0 turns it off)
    identity_weight: float = Field(5.0, ge=0)
    #: generated images each discriminator's history keeps (paper: 50; 0: none)
    history_size: int = Field(50, ge=0)
    #: the last epochs, over which every learning rate falls linearly towards 0 (paper: 100 of
    #: 200; 0: constant rates)
    decay_epochs: int = Field(0, ge=0)


@RECIPES.register("cycle")
class CycleRecipe(Recipe):
    options = CycleOptions
    history_columns = ("discriminator_loss", "generator_loss", "cycle_loss", "identity_loss")
    ema_networks = TRANSLATORS
    sampling_network = "generator_ab"
    equal_channels = False

    def __init__(self, config: dict[str, Any], spec: dict[str, Any]) -> None:
        super().__init__(config, spec)
        require_plain_objective(config)
        self.objective = build_objective(config["objective"])
        settings = config["recipe"]
        self.cycle_weight, self.identity_weight = settings["cycle_weight"], settings["identity_weight"]
        self.histories = {name: ImageHistory(settings["history_size"]) for name in DISCRIMINATORS}
        channels_a, channels_b = domain_channels(spec)
        if self.identity_weight and channels_a != channels_b:
            raise ConfigError(
                f"Variant '{config['name']}': the identity loss feeds B images to the A → B translator, which "
                f"needs equal channel counts, but domain_a has {channels_a} and domain_b {channels_b}. Set "
                "recipe.identity_weight: 0 or the same data.channels in both domains.")

    def build_networks(self) -> dict[str, nn.Module]:
        channels_a, channels_b = domain_channels(self.spec)
        networks = {
            "generator_ab": build_translator(self.spec, channels_a, channels_b),
            "generator_ba": build_translator(self.spec, channels_b, channels_a),
            "discriminator_a": build_patch_discriminator(self.spec, channels_a),
            "discriminator_b": build_patch_discriminator(self.spec, channels_b),
        }
        for network in networks.values():
            INITIALIZERS[self.spec["init"]](network)
        return networks

    def build_optimizers(self, networks: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        settings = self.config["optimizer"]
        self.base_rates = {**dict.fromkeys(TRANSLATORS, settings["lr_generator"]),
                           **dict.fromkeys(DISCRIMINATORS, settings["lr_discriminator"])}
        self.optimizers = {name: build_optimizer(networks[name].parameters(), settings, rate)
                           for name, rate in self.base_rates.items()}
        return self.optimizers

    def on_train_start(self, images_per_epoch: int, epochs: int) -> None:
        self.epochs = epochs
        if self.config["recipe"]["decay_epochs"] > epochs:
            raise ConfigError(f"Variant '{self.config['name']}': recipe.decay_epochs "
                              f"({self.config['recipe']['decay_epochs']}) is longer than training.epochs ({epochs}).")

    def length_schedule(self, epoch: int, epochs: int) -> dict[str, float]:
        """Constant rates, then a linear fall over the last ``decay_epochs`` epochs (the last one
        trains at 1/(decay_epochs + 1) of the rate, never at 0): it reads the run's length."""
        decay = self.config["recipe"]["decay_epochs"]
        return {"learning_rate_factor": 1.0 - max(0, epoch - (epochs - decay)) / (decay + 1)}

    def on_epoch_start(self, epoch: int) -> None:
        factor = self.length_schedule(epoch, self.epochs)["learning_rate_factor"]
        for name, optimizer in self.optimizers.items():
            for group in optimizer.param_groups:
                group["lr"] = self.base_rates[name] * factor

    def progress(self) -> dict[str, float]:
        if not self.config["recipe"]["decay_epochs"]:
            return {}
        return {"lr_generator": self.optimizers["generator_ab"].param_groups[0]["lr"]}

    def train_step(self, batch: DomainPair, step: StepContext) -> None:
        a_to_b, b_to_a = self.networks["generator_ab"], self.networks["generator_ba"]
        judge_a, judge_b = self.networks["discriminator_a"], self.networks["discriminator_b"]
        real_a, real_b, objective = batch.a.real, batch.b.real, self.objective

        for judge in (judge_a, judge_b):  # no weight gradients the translators' step would discard
            judge.requires_grad_(False)
        with step.autocast(objective.supports_bf16):
            fake_b, fake_a = a_to_b(real_a), b_to_a(real_b)
            adversarial = (objective.generator_loss(judge_b(step.augment(fake_b)).float())
                           + objective.generator_loss(judge_a(step.augment(fake_a)).float()))
            cycle = (cycle_consistency_loss(real_a, b_to_a(fake_b).float())
                     + cycle_consistency_loss(real_b, a_to_b(fake_a).float()))
            loss = adversarial + self.cycle_weight * cycle
            if self.identity_weight:
                identity = identity_loss(real_b, a_to_b(real_b).float()) + identity_loss(real_a, b_to_a(real_a).float())
                loss = loss + self.identity_weight * identity
                step.log(identity_loss=identity)
        step.optimize(TRANSLATORS, loss)
        for judge in (judge_a, judge_b):
            judge.requires_grad_(True)

        with step.autocast(objective.supports_bf16):
            loss_a = objective.discriminator_loss(
                judge_a(step.augment(real_a)).float(),
                judge_a(step.augment(self.histories["discriminator_a"].exchange(fake_a, step.noise_rng))).float())
            loss_b = objective.discriminator_loss(
                judge_b(step.augment(real_b)).float(),
                judge_b(step.augment(self.histories["discriminator_b"].exchange(fake_b, step.noise_rng))).float())
        step.optimize(DISCRIMINATORS, 0.5 * (loss_a + loss_b))
        step.log(generator_loss=adversarial, cycle_loss=cycle, discriminator_loss=loss_a + loss_b)

    def grid_inputs(self, count: int, seed: int, device: torch.device, data: Any = None) -> dict[str, Any]:
        """One row of fixed real images per domain (``training.grid_rows`` of them)."""
        examples = data.examples(self.config["training"]["grid_rows"], seed)
        return {"a": examples.a.real, "b": examples.b.real}

    def generate(self, networks: dict[str, nn.Module], inputs: dict[str, Any]) -> torch.Tensor:
        """Rows: real A, A → B, A → B → A, real B, B → A, B → A → B (grey domains shown in RGB
        when the other domain has colour)."""
        return translation_rows(networks["generator_ab"], networks["generator_ba"], inputs["a"], inputs["b"])

    def state_dict(self) -> dict[str, Any]:
        return {name: history.state_dict() for name, history in self.histories.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        device = next(self.networks["generator_ab"].parameters()).device
        for name, history in self.histories.items():
            if name in state:
                history.load_state_dict(state[name], device)


def translation_rows(a_to_b: nn.Module, b_to_a: nn.Module, real_a: torch.Tensor, real_b: torch.Tensor) -> torch.Tensor:
    """real A, A → B, A → B → A, real B, B → A, B → A → B, stacked in that order."""
    fake_b, fake_a = a_to_b(real_a), b_to_a(real_b)
    rows = [real_a, fake_b, b_to_a(fake_b), real_b, fake_a, a_to_b(fake_a)]
    channels = max(row.shape[1] for row in rows)
    return torch.cat([row.expand(-1, channels, -1, -1) for row in rows])
