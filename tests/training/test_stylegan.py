"""The stylegan variant through the engine and the sampler: resume between lazy-regularization
steps, sampling with ψ in w space, seeded noise inputs, the style-mixing grid, R1 in fp32 under
bf16 autocast, and the objective it refuses."""

from __future__ import annotations

import copy

import pytest
import torch

from ganforge.errors import ConfigError
from ganforge.gan import build_generator, draw, mix_styles, sampling_weights
from ganforge.gan import train as train_gan
from ganforge.gan.objectives import r1_penalty
from ganforge.images import to_uint8

from .conftest import VARIANT_SNIPPETS, learned_digest, resumed_and_uninterrupted


def stylegan(tiny_config, **recipe: object):
    variant = copy.deepcopy(VARIANT_SNIPPETS["stylegan"])
    variant["recipe"].update(recipe)
    return lambda **training: tiny_config(variant, **training)


def test_a_resumed_run_keeps_the_lazy_regularizers_clock_and_is_bit_identical(model_input, tiny_config):
    # 4 steps an epoch: R1 and the path-length penalty every 3 steps fall on both sides of the
    # resume after epoch 1 (steps 3 | 6, 9, 12), and the running path length carries over
    config = stylegan(tiny_config, r1_interval=3, path_length_weight=2.0, path_length_interval=3)
    resumed, uninterrupted = resumed_and_uninterrupted(lambda: model_input, config)
    assert learned_digest(resumed.checkpoint) == learned_digest(uninterrupted.checkpoint)
    assert resumed.checkpoint["recipe_state"]["steps"] == 12
    assert resumed.checkpoint["recipe_state"]["path_length_mean"] > 0
    assert resumed.history[-1]["r1_penalty"] == uninterrupted.history[-1]["r1_penalty"]


@pytest.fixture
def trained(model_input, tiny_config) -> dict:
    """A one-epoch stylegan checkpoint with its noise inputs silenced (so images depend on w only)
    and a tracked average w away from every sample's."""
    checkpoint = train_gan(model_input, stylegan(tiny_config)(epochs=1)).checkpoint
    weights = checkpoint["ema"]["generator"]
    for name, value in weights.items():
        if name.endswith("noise_strength"):
            value.zero_()
    weights["w_avg"].add_(1.0)
    return checkpoint


def test_sampling_truncates_in_w_space_with_the_same_latents(trained):
    weights, _ = sampling_weights(trained, use_ema=True)
    settings = {"batch_size": 4, "device": "cpu", "seed": 3}
    plain, _ = draw(trained, weights, 6, **settings)
    at_one, _ = draw(trained, weights, 6, truncation=1.0, **settings)
    # ψ = 1 is no truncation (a threshold of 1 on z would have redrawn a third of the latents)
    assert (plain.int() - at_one.int()).abs().max() <= 1
    nearly_average, _ = draw(trained, weights, 6, truncation=1e-6, **settings)
    generator = build_generator(trained["model_spec"])
    generator.load_state_dict(weights)
    with torch.no_grad():
        average = generator.synthesize(generator.broadcast(generator.w_avg[None]))
    expected = to_uint8(average, trained["normalization"]).expand_as(nearly_average)
    assert (nearly_average.int() - expected.int()).abs().max() <= 1
    assert (plain.int() - expected.int()).abs().max() > 20


def test_the_same_seed_gives_the_same_noise_inputs_and_leaves_the_global_generator_alone(model_input, tiny_config):
    checkpoint = train_gan(model_input, stylegan(tiny_config)(epochs=1)).checkpoint
    weights, _ = sampling_weights(checkpoint, use_ema=True)
    assert any(value.abs().sum() > 0 for name, value in weights.items() if name.endswith("noise_strength"))
    torch.manual_seed(0)
    state = torch.get_rng_state()
    first, _ = draw(checkpoint, weights, 5, batch_size=5, device="cpu", seed=11)
    assert torch.equal(torch.get_rng_state(), state)
    torch.randn(7)  # whatever else has drawn meanwhile
    again, _ = draw(checkpoint, weights, 5, batch_size=5, device="cpu", seed=11)
    other, _ = draw(checkpoint, weights, 5, batch_size=5, device="cpu", seed=12)
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_style_mixing_takes_the_rows_coarse_styles_and_the_columns_fine_ones(trained):
    weights, _ = sampling_weights(trained, use_ema=True)
    generator = build_generator(trained["model_spec"])
    generator.load_state_dict(weights)
    count = generator.num_ws
    assert generator.coarse_layers() == 3  # 16×16 images: 4×4 and 8×8 coarse (3 layers), 16×16 fine

    rows, columns, mixed = mix_styles(trained, weights, 2, 3, coarse_layers=2, device="cpu", seed=5)
    assert (rows.shape[0], columns.shape[0], mixed.shape[0]) == (2, 3, 6)
    z = torch.randn(5, trained["model_spec"]["latent_dim"], generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        ws = generator.broadcast(generator.map(z))
        expected = generator.synthesize(torch.cat([ws[1:2, :2], ws[4:5, 2:]], dim=1))  # row 1, column 2
    assert (mixed[1 * 3 + 2].int() - to_uint8(expected, trained["normalization"])[0].int()).abs().max() <= 1
    # every layer from the row: each row's cells are its own sample
    rows, _, mixed = mix_styles(trained, weights, 2, 3, coarse_layers=count, device="cpu", seed=5)
    assert all((mixed[row * 3 + column].int() - rows[row].int()).abs().max() <= 1
               for row in range(2) for column in range(3))


def test_r1_and_its_double_backward_stay_in_fp32_under_bf16_autocast():
    torch.manual_seed(0)
    layers = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Softplus(), torch.nn.Flatten(),
                                 torch.nn.Linear(4 * 6 * 6, 1))
    critic = lambda images, labels=None: layers(images)  # noqa: E731  the critic's call signature
    real = torch.randn(4, 1, 8, 8)
    reference = r1_penalty(critic, real)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        penalty = r1_penalty(critic, real)
    assert penalty.dtype == torch.float32
    assert torch.equal(penalty, reference)
    penalty.backward()
    assert layers[0].weight.grad.dtype == layers[3].weight.grad.dtype == torch.float32


def test_another_loss_is_refused_in_one_line(model_input, tiny_config):
    variant = copy.deepcopy(VARIANT_SNIPPETS["stylegan"])
    variant["objective"] = {"loss": "hinge"}
    with pytest.raises(ConfigError, match=r"objective\.loss: bce"):
        train_gan(model_input, tiny_config(variant))
