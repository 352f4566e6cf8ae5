"""The alternating recipe of the classic GANs: a discriminator (critic) step on every batch and a
generator step every ``training.n_critic`` discriminator steps (Goodfellow et al. 2014,
Algorithm 1; Arjovsky et al. 2017, Algorithm 1). The objective decides the losses, any
penalty and any constraint after the critic step.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganforge.gan.data import Batch
from ganforge.gan.networks import INITIALIZERS, build_discriminator, build_generator
from ganforge.gan.objectives import build_objective, orthogonal_regularization
from ganforge.gan.recipes import RECIPES, Recipe, StepContext, build_optimizer


@RECIPES.register("adversarial")
class AdversarialRecipe(Recipe):
    history_columns = ("discriminator_loss", "generator_loss", "wasserstein_estimate", "weighted_gradient_penalty")

    def __init__(self, config: dict[str, Any], spec: dict[str, Any]) -> None:
        super().__init__(config, spec)
        self.objective = build_objective(config["objective"])
        self.n_critic = config["training"]["n_critic"]
        self.orthogonal_strength = config["objective"].get("orthogonal_regularization")

    def build_networks(self) -> dict[str, nn.Module]:
        generator, discriminator = build_generator(self.spec), build_discriminator(self.spec)
        initialize = INITIALIZERS[self.spec["init"]]
        initialize(generator)
        initialize(discriminator)
        return {"generator": generator, "discriminator": discriminator}

    def build_optimizers(self, networks: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        settings = self.config["optimizer"]
        return {
            "generator": build_optimizer(networks["generator"].parameters(), settings, settings["lr_generator"]),
            "discriminator": build_optimizer(
                networks["discriminator"].parameters(), settings, settings["lr_discriminator"]),
        }

    def real_images(self, batch: Batch) -> torch.Tensor:
        """The real images as the discriminator sees them at this step."""
        return batch.real

    def fake_images(self, noise: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The generator's images for this step (in the same form as :meth:`real_images`)."""
        return self.networks["generator"](noise, labels)

    def train_step(self, batch: Batch, step: StepContext) -> None:
        generator, critic, objective = self.networks["generator"], self.networks["discriminator"], self.objective
        noise = step.noise(batch.size, self.spec["latent_dim"])
        real = self.real_images(batch)
        with step.autocast(objective.supports_bf16):
            fake = self.fake_images(noise, batch.labels)
            real_scores = critic(step.augment(real), batch.labels)
            fake_scores = critic(step.augment(fake.detach()), batch.labels)
            critic_loss = objective.discriminator_loss(real_scores.float(), fake_scores.float())
        penalty = objective.penalty(critic, real, fake.float(), batch.labels, step.random)
        step.optimize("discriminator", critic_loss if penalty is None else critic_loss + penalty)
        objective.after_critic_step(critic)
        step.log(discriminator_loss=critic_loss)
        if objective.is_wasserstein:
            step.log(wasserstein_estimate=real_scores.mean() - fake_scores.mean())
        if penalty is not None:
            step.log(weighted_gradient_penalty=penalty)

        if step.counters["discriminator"] % self.n_critic == 0:
            with step.autocast(objective.supports_bf16):
                generator_loss = objective.generator_loss(critic(step.augment(fake), batch.labels).float())
            regularized = generator_loss
            if self.orthogonal_strength:
                regularized = generator_loss + orthogonal_regularization(generator, self.orthogonal_strength)
            step.optimize("generator", regularized)
            step.log(generator_loss=generator_loss)
