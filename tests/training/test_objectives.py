import pytest
import torch
from torch import nn

from ganforge.errors import ConfigError
from ganforge.gan.networks import build_discriminator, build_generator
from ganforge.gan.networks.dcgan import conv_layout
from ganforge.gan.objectives import (
    HingeObjective,
    MinimaxObjective,
    Objective,
    WassersteinObjective,
    gradient_penalty,
)

from .conftest import VARIANT_SNIPPETS


def spec(architecture="dcgan", channels=1, size=16, classes=0, **options):
    base = {"architecture": architecture, "latent_dim": 8, "embedding_dim": 4, "init": "default",
            "channels": channels, "image_size": size, "num_classes": classes}
    defaults = {"dcgan": {"base_channels": 4, "discriminator_norm": "batch"},
                "mlp": {"generator_hidden": [16], "discriminator_hidden": [16]}}[architecture]
    return {**base, **defaults, **options}


class QuadraticCritic(nn.Module):
    """D(x) = sum(w * x²): its gradient 2·w·x can be written down by hand."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight)

    def forward(self, images, labels=None):
        return (self.weight * images**2).flatten(1).sum(dim=1)


def test_gradient_penalty_matches_hand_computation():
    weight = torch.tensor([[[0.5, -1.0], [2.0, 0.25]]])
    critic = QuadraticCritic(weight)
    real = torch.tensor([[[[1.0, 2.0], [0.0, -1.0]]], [[[0.5, 0.5], [0.5, 0.5]]]])
    fake = torch.tensor([[[[0.0, 0.0], [1.0, 1.0]]], [[[-1.0, 2.0], [0.0, 3.0]]]])
    rng = torch.Generator().manual_seed(3)
    alpha = torch.rand((2, 1, 1, 1), generator=torch.Generator().manual_seed(3))

    penalty = gradient_penalty(critic, real, fake, None, rng)

    expected = 0.0
    for i in range(2):
        x_hat = alpha[i] * real[i] + (1 - alpha[i]) * fake[i]
        grad = 2 * weight * x_hat
        expected += (grad.flatten().norm() - 1) ** 2
    assert penalty.item() == pytest.approx(float(expected / 2), rel=1e-6)


def test_gradient_penalty_weight_is_applied():
    critic = QuadraticCritic(torch.ones(1, 2, 2))
    real, fake = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    objective = WassersteinObjective(gradient_penalty=10.0)
    weighted = objective.penalty(critic, real, fake, None, torch.Generator().manual_seed(0))
    plain = gradient_penalty(critic, real, fake, None, torch.Generator().manual_seed(0))
    assert weighted.item() == pytest.approx(10 * plain.item())


def test_weight_clipping_holds_every_parameter():
    critic = build_discriminator(spec())
    with torch.no_grad():
        for parameter in critic.parameters():
            parameter.normal_(0, 1)
    WassersteinObjective(clip_value=0.01).after_critic_step(critic)
    assert all(parameter.abs().max() <= 0.01 for parameter in critic.parameters())


def test_bce_and_minimax_generator_losses():
    scores = torch.tensor([-2.0, 0.0, 3.0])
    assert Objective().generator_loss(scores).item() == pytest.approx(
        -torch.log(torch.sigmoid(scores)).mean().item(), rel=1e-6)
    assert MinimaxObjective().generator_loss(scores).item() == pytest.approx(
        torch.log(1 - torch.sigmoid(scores)).mean().item(), rel=1e-5)


@pytest.mark.parametrize("size,channels", [(28, 1), (32, 3), (64, 3), (96, 3)])
def test_convolutional_models_adapt_to_resolution(size, channels):
    generator = build_generator(spec(channels=channels, size=size))
    critic = build_discriminator(spec(channels=channels, size=size))
    images = generator(torch.randn(2, 8))
    assert images.shape == (2, channels, size, size)
    assert critic(images).shape == (2,)


def test_unbuildable_resolution_is_a_clear_error():
    with pytest.raises(ConfigError, match="cannot build 100×100"):
        conv_layout(100)


def test_conditional_models_take_labels():
    generator = build_generator(spec("mlp", size=8, classes=3))
    critic = build_discriminator(spec(size=8, classes=3))
    labels = torch.tensor([0, 2])
    assert critic(generator(torch.randn(2, 8), labels), labels).shape == (2,)


def test_hinge_losses_match_hand_computation():
    real = torch.tensor([2.0, 0.5, -1.0])  # margins: 0, 0.5, 2  → mean 2.5 / 3
    fake = torch.tensor([-3.0, 0.0, 1.5])  # margins: 0, 1, 2.5  → mean 3.5 / 3
    objective = HingeObjective()
    assert objective.discriminator_loss(real, fake).item() == pytest.approx(2.5 / 3 + 3.5 / 3)
    assert objective.generator_loss(fake).item() == pytest.approx(-(-3.0 + 0.0 + 1.5) / 3)


def test_hinge_is_a_registered_objective_any_variant_can_name(model_input, tiny_config):
    from ganforge.gan import train

    snippet = {**VARIANT_SNIPPETS["dcgan"], "objective": {"loss": "hinge"}}
    result = train(model_input, tiny_config(snippet, epochs=1, resume=False))
    assert torch.isfinite(torch.tensor(result.history[0]["discriminator_loss"]))
