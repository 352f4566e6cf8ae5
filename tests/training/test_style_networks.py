"""The style-based networks (model.architecture: style): demodulation, the mapping network's
learning-rate multiplier, the truncation trick in w space, style mixing, and both networks at
the digits' and at photo sizes."""

from __future__ import annotations

import math

import pytest
import torch

from ganforge.errors import ConfigError
from ganforge.gan.data import Batch
from ganforge.gan.networks import ARCHITECTURES, model_spec
from ganforge.gan.networks.equalized import EqualizedLinear
from ganforge.gan.networks.style import ModulatedConv2d, StyleDiscriminator, StyleGenerator
from ganforge.gan.objectives import r1_penalty
from ganforge.gan.recipes import StepContext


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


def style_recipe(**options: object):
    """The style recipe on the tiny 28×28 networks, with its networks, optimizers and a step context."""
    import ganforge.gan.recipes.style as style_recipes

    config = {"name": "stylegan", "objective": {"loss": "bce"},
              "optimizer": {"name": "adam", "lr_generator": 2e-3, "lr_discriminator": 2e-3, "betas": [0.0, 0.99]},
              "recipe": style_recipes.StyleRecipeOptions.model_validate(options).model_dump()}
    recipe = style_recipes.StyleRecipe(config, spec())
    networks = recipe.build_networks()
    recipe.bind(networks)
    optimizers = recipe.build_optimizers(networks)
    context = StepContext(optimizers=optimizers, networks=networks, ema={}, counters={},
                          noise_rng=torch.Generator().manual_seed(0), device=torch.device("cpu"))
    return recipe, context


def test_r1_is_lazy_and_the_optimizer_is_adjusted_for_it(monkeypatch):
    import ganforge.gan.recipes.style as style_recipes

    torch.manual_seed(0)
    recipe, context = style_recipe(r1_interval=4, r1_gamma=1.0, path_length_weight=2.0, path_length_interval=3)
    taken = []
    monkeypatch.setattr(style_recipes, "r1_penalty", lambda *args: (taken.append(recipe.steps), r1_penalty(*args))[1])
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    for _ in range(8):
        recipe.train_step(Batch(real, None), context)
    assert taken == [4, 8]
    assert context.counters == {"discriminator": 8 + 2, "generator": 8 + 2}  # R1 at 4, 8; path length at 3, 6
    assert all(torch.isfinite(value) for value in context.logs.values())
    adam = context.optimizers["discriminator"].param_groups[0]
    assert adam["lr"] == pytest.approx(2e-3 * 4 / 5) and adam["betas"][1] == pytest.approx(0.99 ** (4 / 5))
    assert context.optimizers["generator"].param_groups[0]["lr"] == pytest.approx(2e-3 * 3 / 4)
    assert recipe.networks["generator"].w_avg.abs().sum() > 0  # tracked by every generator step
    assert recipe.state_dict()["steps"] == 8 and recipe.state_dict()["path_length_mean"] > 0


def test_style_mixing_switches_latents_at_one_layer_per_image():
    recipe, context = style_recipe(style_mixing=1.0)
    ws, first = recipe.styles(16, context)
    same_as_first = (ws == first[:, None]).all(dim=2)  # count × layers
    for row in same_as_first:
        switch = int((~row).float().argmax())
        assert row[:switch].all() and not row[switch:].any() and 1 <= switch < ws.shape[1]
    ws, first = style_recipe(style_mixing=0.0)[0].styles(16, context)
    assert (ws == first[:, None]).all()


def test_the_modulated_convolution_equals_each_images_own_modulated_and_demodulated_weights():
    torch.manual_seed(0)
    layer = ModulatedConv2d(6, 5, 3, w_dim=4)
    x, w = torch.randn(3, 6, 8, 8), torch.randn(3, 4)
    with torch.no_grad():
        styles = layer.affine(w)
        for image in range(3):
            weight = layer.weight * layer.scale * styles[image][None, :, None, None]  # scale input maps
            weight = weight / weight.pow(2).sum(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt()  # demodulate
            expected = torch.nn.functional.conv2d(x[image : image + 1], weight, padding=1)
            assert torch.allclose(layer(x, w)[image : image + 1], expected, atol=1e-5)
