"""GAN objectives, registered by ``objective.loss``.

An objective turns discriminator scores into the two losses and may add a regularizer (a gradient
penalty) or a constraint applied after each critic step (weight clipping). Recipes call these
hooks and never branch on the loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.gan.networks import raw_weight
from ganforge.gan.randomness import BatchRandom, batch_random
from ganforge.registry import Registry


@dataclass
class Objective:
    """Non-saturating BCE on logits (Goodfellow et al. 2014, §3, the practical form)."""

    is_wasserstein = False
    supports_bf16 = True

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(
            real_scores, torch.ones_like(real_scores)
        ) + F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores))

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        # maximize log D(G(z)) rather than minimize log(1 - D(G(z))): strong early gradients
        return F.binary_cross_entropy_with_logits(fake_scores, torch.ones_like(fake_scores))

    def penalty(
        self,
        critic: nn.Module,
        real: torch.Tensor,
        fake: torch.Tensor,
        labels: torch.Tensor | None,
        rng: torch.Generator | BatchRandom,
    ) -> torch.Tensor | None:
        """The weighted regularization term added to the discriminator loss, if any."""
        return None

    def after_critic_step(self, critic: nn.Module) -> None:
        return None


@dataclass
class MinimaxObjective(Objective):
    """The paper's original generator loss, minimize log(1 − D(G(z))); it saturates early."""

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        # log(1 - sigmoid(s)) == -softplus(s), computed stably
        return -F.softplus(fake_scores).mean()


@dataclass
class WassersteinObjective(Objective):
    """Wasserstein loss (Arjovsky et al. 2017) with weight clipping or a gradient penalty
    (Gulrajani et al. 2017)."""

    clip_value: float | None = None
    gradient_penalty: float | None = None
    #: ε of the drift term ε·E[D(x)²] on real scores (Karras et al. 2018, appendix A.1): keeps
    #: the critic's output near 0, which the Wasserstein loss alone leaves free to wander
    drift: float | None = None
    is_wasserstein = True
    # The penalty's double backward is sensitive to low precision; keep it in fp32.
    supports_bf16 = False

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        loss = fake_scores.mean() - real_scores.mean()
        return loss + self.drift * real_scores.pow(2).mean() if self.drift else loss

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return -fake_scores.mean()

    def penalty(
        self,
        critic: nn.Module,
        real: torch.Tensor,
        fake: torch.Tensor,
        labels: torch.Tensor | None,
        rng: torch.Generator | BatchRandom,
    ) -> torch.Tensor | None:
        if not self.gradient_penalty:
            return None
        return self.gradient_penalty * gradient_penalty(critic, real, fake, labels, rng)

    @torch.no_grad()
    def after_critic_step(self, critic: nn.Module) -> None:
        if self.clip_value is not None:
            for parameter in critic.parameters():
                parameter.clamp_(-self.clip_value, self.clip_value)


@dataclass
class HingeObjective(Objective):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018, eq. 16–17): the discriminator is pushed to
    scores ≥ 1 on real and ≤ −1 on fake images and stops learning from those it already gets
    right by that margin; the generator raises the fake scores."""

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return -fake_scores.mean()


@dataclass
class LeastSquaresObjective(Objective):
    """Least-squares loss (Mao et al. 2017, the a = 0, b = c = 1 form that CycleGAN uses): the
    discriminator regresses real scores to 1 and fake ones to 0, the generator pulls its scores
    to 1. Unlike the sigmoid loss, fakes the discriminator already calls real but that lie far
    from the data still give a gradient."""

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return (real_scores - 1).pow(2).mean() + fake_scores.pow(2).mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return (fake_scores - 1).pow(2).mean()


def cycle_consistency_loss(real: torch.Tensor, reconstructed: torch.Tensor) -> torch.Tensor:
    """‖F(G(x)) − x‖₁, the mean absolute error per pixel (Zhu et al. 2017, eq. 2): translating
    there and back must give the image back, which rules out mappings that forget the input."""
    return F.l1_loss(reconstructed, real)


#: ‖G(y) − y‖₁ for y already in G's target domain (Zhu et al. 2017, §5.2, after Taigman et al.
#: 2017), the same distance: a translator given an image of its own output domain should leave
#: it alone, which keeps colours and intensities from drifting. Called (real y, G(y)).
identity_loss = cycle_consistency_loss


def gradient_penalty(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None,
    rng: torch.Generator | BatchRandom,
) -> torch.Tensor:
    """E[(‖∇ D(x̂)‖₂ − 1)²] on x̂ = α·real + (1 − α)·fake, α ~ U(0, 1) per sample (unweighted)."""
    alpha = batch_random(rng).rand(real.shape[0], *(1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
    interpolates = (alpha * real + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(interpolates, labels)
    (gradients,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
    return ((gradients.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def r1_penalty(critic: nn.Module, real: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """E[‖∇ D(x)‖₂²] on the real images only (Mescheder et al. 2018, R1; unweighted: StyleGAN2
    multiplies it by γ/2). Always in fp32, outside any autocast: the double backward of a bf16
    gradient norm loses the small gradients the penalty is about."""
    with torch.autocast(device_type=real.device.type, enabled=False):
        real = real.detach().float().requires_grad_(True)
        scores = critic(real, labels)
        (gradients,) = torch.autograd.grad(scores.float().sum(), real, create_graph=True)
    return gradients.flatten(1).pow(2).sum(dim=1).mean()


def orthogonal_regularization(network: nn.Module, strength: float) -> torch.Tensor:
    """β Σ_W ‖W Wᵀ ⊙ (1 − I)‖²_F (Brock et al. 2019, eq. 3) over the convolution and linear weights
    of ``network``, each flattened to one row per output unit (filter).

    Only the off-diagonal inner products are penalized: filters are pushed apart (towards
    orthogonality) while their norms stay free, which keeps the generator smooth enough for the
    truncation trick without the full orthogonal constraint's cost in quality.

    Computed as ‖W Wᵀ‖²_F − Σᵢ ‖wᵢ‖⁴ with ‖W Wᵀ‖_F = ‖Wᵀ W‖_F, from the smaller of the two Gram
    matrices: the generator's first linear layer has thousands of output rows.
    """
    penalty = torch.zeros((), device=next(network.parameters()).device)
    for layer in network.modules():
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            rows = raw_weight(layer).flatten(1)
            gram = rows.T @ rows if rows.shape[0] > rows.shape[1] else rows @ rows.T
            penalty = penalty + gram.pow(2).sum() - rows.pow(2).sum(dim=1).pow(2).sum()
    return strength * penalty


#: ``objective.loss`` → a builder taking the whole ``objective:`` section
OBJECTIVES: Registry[Callable[[dict[str, Any]], Objective]] = Registry("objective", "objective.loss")
OBJECTIVES.register("bce", lambda settings: Objective())
OBJECTIVES.register("minimax", lambda settings: MinimaxObjective())
OBJECTIVES.register("hinge", lambda settings: HingeObjective())
OBJECTIVES.register("least_squares", lambda settings: LeastSquaresObjective())
OBJECTIVES.register("wasserstein", lambda settings: WassersteinObjective(
    clip_value=settings.get("clip_value"), gradient_penalty=settings.get("gradient_penalty"),
    drift=settings.get("drift")))


def build_objective(settings: dict[str, Any]) -> Objective:
    """The objective named by ``objective.loss``, configured by the rest of its section."""
    return OBJECTIVES[settings["loss"]](settings)
