"""The style-based networks (model.architecture: style): demodulation, the mapping network's
learning-rate multiplier, the truncation trick in w space, style mixing, and both networks at
the digits' and at photo sizes."""

from __future__ import annotations

import math

import pytest
import torch

from ganforge.errors import ConfigError
from ganforge.gan.networks import ARCHITECTURES, model_spec
from ganforge.gan.networks.equalized import EqualizedLinear
from ganforge.gan.networks.style import ModulatedConv2d, StyleDiscriminator, StyleGenerator
from ganforge.gan.objectives import r1_penalty


def spec(image_size: int = 28, channels: int = 1, **model: object) -> dict:
    options = ARCHITECTURES["style"].options.model_validate(
        {"architecture": "style", "latent_dim": 16, "w_dim": 16, "base_channels": 8, "max_channels": 16, **model})
    return model_spec(options.model_dump(), channels, image_size, 0)


def interior_variance(maps: torch.Tensor) -> torch.Tensor:
    """Variance of each output map away from the zero-padded border."""
    return maps[:, :, 1:-1, 1:-1].transpose(0, 1).reshape(maps.shape[1], -1).var(dim=1)


def test_demodulated_maps_have_unit_variance_for_unit_inputs():
    torch.manual_seed(0)
    x = torch.randn(64, 32, 12, 12)
    w = 4 * torch.randn(64, 8)  # styles far from 1: without demodulation the variance wanders
    modulated = ModulatedConv2d(32, 24, 3, w_dim=8, demodulate=False)
    demodulated = ModulatedConv2d(32, 24, 3, w_dim=8)
    demodulated.load_state_dict(modulated.state_dict())
    with torch.no_grad():
        assert interior_variance(demodulated(x, w)) == pytest.approx(torch.ones(24), abs=0.08)
        assert interior_variance(modulated(x, w)).max() > 2


def test_the_mapping_network_learns_at_its_multiplier():
    layer = EqualizedLinear(64, 32, lr_multiplier=0.01)
    # the same function as an ordinary equalized layer at initialization ...
    assert (layer.weight * layer.scale).std().item() == pytest.approx(math.sqrt(2 / 64), rel=0.1)
    # ... but stored 100× larger, so an optimizer step moves it 100× less relative to its size
    assert layer.weight.std().item() == pytest.approx(100, rel=0.1)


def test_truncation_at_zero_gives_the_average_ws_image_for_every_z():
    torch.manual_seed(0)
    generator = StyleGenerator(spec())
    generator.w_avg.copy_(torch.randn(16))
    generator.truncation_psi = 0.0
    with torch.no_grad():
        for layer in generator.layers:  # noise would vary the images; it is not what ψ controls
            layer.noise_strength.zero_()
        images = generator(torch.randn(5, 16))
        average = generator.synthesize(generator.broadcast(generator.w_avg.expand(1, -1)))
    assert torch.allclose(images, average.expand_as(images), atol=1e-6)
    generator.truncation_psi = None
    with torch.no_grad():
        assert not torch.allclose(generator(torch.randn(5, 16)), average.expand(5, -1, -1, -1), atol=1e-3)


def test_the_average_w_follows_the_mapped_latents():
    generator = StyleGenerator(spec(w_avg_beta=0.5))
    w = generator.map(torch.randn(8, 16))
    generator.track_w_avg(w)
    assert torch.allclose(generator.w_avg, 0.5 * w.mean(dim=0), atol=1e-6)


def test_each_layer_takes_its_own_style():
    torch.manual_seed(0)
    generator = StyleGenerator(spec())
    assert generator.num_ws == 5  # 7×7: one layer; 14×14 and 28×28: two each
    a, b = generator.map(torch.randn(1, 16)), generator.map(torch.randn(1, 16))
    mixed = torch.cat([a.expand(3, -1), b.expand(2, -1)])[None]  # coarse from a, fine from b
    with torch.no_grad():
        torch.manual_seed(1)
        from_a = generator.synthesize(generator.broadcast(a))
        torch.manual_seed(1)
        mix = generator.synthesize(mixed)
    assert mix.shape == (1, 1, 28, 28) and not torch.allclose(mix, from_a, atol=1e-4)


@pytest.mark.parametrize(("image_size", "channels"), [(28, 1), (64, 3), (128, 3)])
def test_both_networks_build_and_take_a_step_at_each_size(image_size, channels):
    torch.manual_seed(0)
    settings = spec(image_size, channels)
    generator, critic = StyleGenerator(settings), StyleDiscriminator(settings)
    images = generator(torch.randn(4, 16))
    assert images.shape == (4, channels, image_size, image_size)
    scores = critic(images)
    assert scores.shape == (4,)
    scores.mean().backward()
    assert all(p.grad is not None for p in generator.parameters() if p.requires_grad)


def test_the_style_networks_are_unconditional():
    options = ARCHITECTURES["style"].options.model_validate({"architecture": "style", "conditional": True})
    with pytest.raises(ConfigError, match="unconditional"):
        StyleGenerator(model_spec(options.model_dump(), 1, 28, 10))


class QuadraticCritic(torch.nn.Module):
    """D(x) = Σ a·x², so ∇D(x) = 2a·x and ‖∇D(x)‖² = Σ 4a²x²: R1 by hand."""

    def __init__(self, a: torch.Tensor) -> None:
        super().__init__()
        self.a = torch.nn.Parameter(a)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return (self.a * images.pow(2)).flatten(1).sum(dim=1)


def test_r1_equals_the_hand_computed_value_and_trains_the_critic():
    a = torch.tensor([[[0.5, -1.0], [2.0, 0.25]]])
    real = torch.tensor([[[[1.0, 2.0], [-1.0, 0.5]]], [[[0.0, 1.0], [3.0, -2.0]]]])
    expected = (4 * a.pow(2) * real.pow(2)).flatten(1).sum(dim=1).mean()
    critic = QuadraticCritic(a.clone())
    penalty = r1_penalty(critic, real)
    assert penalty.item() == pytest.approx(expected.item())
    penalty.backward()  # d/da of mean Σ 4a²x² = mean 8a·x²
    assert torch.allclose(critic.a.grad, (8 * a * real.pow(2)).mean(dim=0))
