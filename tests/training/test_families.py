"""The parts SAGAN, BigGAN and DiffAugment add to the library, each checked on its own."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganforge.errors import ConfigError
from ganforge.gan import build_generator, resolve_experiment_config
from ganforge.gan import train as train_gan
from ganforge.gan.augment import augment, cut_out, translate
from ganforge.gan.networks import apply_spectral_norm
from ganforge.gan.networks.attention import SelfAttention
from ganforge.gan.networks.biggan import latent_chunks
from ganforge.gan.objectives import orthogonal_regularization
from ganforge.gan.sampling import latent_noise
from ganforge.utils import content_digest

from .conftest import VARIANT_SNIPPETS


def test_self_attention_is_the_identity_at_initialization():
    block = SelfAttention(16)
    x = torch.randn(3, 16, 8, 8)
    assert block.gate.item() == 0.0
    assert torch.equal(block(x), x)
    with torch.no_grad():
        block.gate.fill_(1.0)
    assert not torch.allclose(block(x), x)


def test_self_attention_mixes_distant_positions():
    block = SelfAttention(8)
    with torch.no_grad():
        block.gate.fill_(1.0)
    x = torch.randn(1, 8, 8, 8)
    changed = x.clone()
    changed[:, :, 7, 7] += 5.0  # one far corner
    difference = (block(changed) - block(x)).abs().sum(dim=1)[0]
    assert difference[0, 0] > 0  # the opposite corner sees it (a convolution would not)


def test_orthogonal_regularization_matches_hand_computed_value():
    network = nn.Sequential(nn.Linear(2, 3, bias=False), nn.Linear(3, 2, bias=False))
    with torch.no_grad():
        network[0].weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]))  # more rows than columns
        network[1].weight.copy_(torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]]))
    # rows of the first: ⟨r0,r1⟩ = 1, ⟨r0,r2⟩ = 0, ⟨r1,r2⟩ = 2 → 2·(1 + 0 + 4) = 10; second: 2·2² = 8
    assert orthogonal_regularization(network, 0.5).item() == pytest.approx(0.5 * (10 + 8))


def test_orthogonal_regularization_reads_the_weight_under_spectral_norm():
    network = apply_spectral_norm(nn.Sequential(nn.Linear(2, 3, bias=False)))
    with torch.no_grad():
        network[0].parametrizations.weight.original.copy_(torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]))
    assert orthogonal_regularization(network, 1.0).item() == pytest.approx(10.0)


def biggan_spec(**changes) -> dict:
    spec = {"architecture": "biggan", "latent_dim": 12, "embedding_dim": 4, "init": "orthogonal",
            "spectral_norm": "both", "base_channels": 4, "attention_resolution": None,
            "channels": 1, "image_size": 16, "num_classes": 2}
    return {**spec, **changes}


def test_conditional_batchnorm_gives_two_classes_different_images_from_the_same_noise():
    generator = build_generator(biggan_spec()).eval()
    noise = torch.randn(4, 12).repeat(2, 1)
    labels = torch.tensor([0] * 4 + [1] * 4)
    with torch.no_grad():
        images = generator(noise, labels)
    assert not torch.allclose(images[:4], images[4:], atol=1e-4)


def test_every_generator_block_sees_its_own_latent_chunk():
    generator = build_generator(biggan_spec()).eval()
    chunks = latent_chunks(12, 2)
    assert chunks == [4, 4, 4]
    noise, labels = torch.randn(2, 12), torch.tensor([0, 1])
    with torch.no_grad():
        base = generator(noise, labels)
        for start in (4, 8):  # the two block chunks
            changed = noise.clone()
            changed[:, start:start + 4] += 1.0
            assert not torch.allclose(generator(changed, labels), base, atol=1e-5)


def test_biggan_networks_refuse_unlabeled_data():
    with pytest.raises(ConfigError, match="needs labeled data"):
        build_generator(biggan_spec(num_classes=0))


def test_truncation_redraws_only_the_values_beyond_the_threshold():
    plain = latent_noise(500, 16, torch.Generator().manual_seed(3))
    truncated = latent_noise(500, 16, torch.Generator().manual_seed(3), truncation=0.5)
    assert truncated.abs().max() <= 0.5
    inside = plain.abs() <= 0.5
    assert torch.equal(truncated[inside], plain[inside])
    assert not torch.equal(truncated, plain)


def test_translation_shifts_each_image_whole_and_fills_with_zeros():
    images = torch.arange(1.0, 1 + 16 * 16).view(1, 1, 16, 16).repeat(6, 1, 1, 1)
    shifted = translate(images, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(images[0, 0], [2, 2, 2, 2])
    for image in shifted[:, 0]:
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if torch.equal(image, padded[2 + dy:18 + dy, 2 + dx:18 + dx])]
        assert len(matches) == 1


def test_cutout_zeroes_one_square_of_half_the_size_at_most():
    images = torch.ones(20, 3, 16, 16)
    cut = cut_out(images, torch.Generator().manual_seed(0))
    zeroed = (cut == 0).all(dim=1).flatten(1).sum(dim=1)
    assert (zeroed <= 8 * 8).all() and (zeroed > 0).all()
    assert torch.equal(cut[:, 0], cut[:, 1])  # the same square in every channel


def test_augmentation_is_differentiable_and_seeded():
    images = torch.randn(4, 3, 16, 16, requires_grad=True)
    policy = ["color", "translation", "cutout"]
    first = augment(images, policy, torch.Generator().manual_seed(1))
    again = augment(images, policy, torch.Generator().manual_seed(1))
    assert torch.equal(first, again)
    first.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_unknown_augmentation_is_a_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match="training.augment.*color, translation, cutout"):
        resolve_experiment_config({}, {**VARIANT_SNIPPETS["dcgan"], "training": {"augment": ["flip"]}})


def test_training_with_diffaugment_is_reproducible_and_changes_the_result(model_input, tiny_config):
    snippet = {**VARIANT_SNIPPETS["dcgan"], "training": {"augment": ["color", "translation", "cutout"]}}
    augmented = train_gan(model_input, tiny_config(snippet, resume=False)).checkpoint
    again = train_gan(model_input, tiny_config(snippet, resume=False)).checkpoint
    plain = train_gan(model_input, tiny_config(VARIANT_SNIPPETS["dcgan"], resume=False)).checkpoint
    assert content_digest(augmented["networks"]) == content_digest(again["networks"])
    assert content_digest(augmented["networks"]) != content_digest(plain["networks"])


def test_spectral_norm_of_both_networks_leaves_the_generators_class_embedding_free():
    from ganforge.gan import build_discriminator

    spec = biggan_spec()
    generator, discriminator = build_generator(spec), build_discriminator(spec)
    assert not hasattr(generator.shared_embedding, "parametrizations")
    assert hasattr(generator.body.linear, "parametrizations")
    assert hasattr(discriminator.label_projection, "parametrizations")  # projection D: normalized


def _dcgan_spec(**options) -> dict:
    from ganforge.gan.networks import normalized_spec

    return normalized_spec({"architecture": "dcgan", "base_channels": 8, "channels": 3, "image_size": 32,
                            "num_classes": 0, **options})


def test_dcgan_generator_width_and_upsampling_are_options_the_discriminator_ignores():
    from ganforge.gan import build_discriminator

    plain, wide = _dcgan_spec(), _dcgan_spec(generator_base_channels=16, generator_upsampling="nearest")
    plain_g, wide_g = build_generator(plain), build_generator(wide)
    # the full-size maps before the RGB layer: 8 by default, 16 when the generator is widened
    assert [m.out_channels for m in plain_g.modules() if isinstance(m, nn.ConvTranspose2d)][-2] == 8
    assert [m.out_channels for m in wide_g.modules() if isinstance(m, nn.Conv2d)][-2] == 16
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in wide_g.modules())
    assert sum(isinstance(m, nn.Upsample) for m in wide_g.modules()) == 3  # 4 → 8 → 16 → 32
    assert wide_g(torch.randn(2, 100)).shape == plain_g(torch.randn(2, 100)).shape == (2, 3, 32, 32)
    shapes = [[p.shape for p in build_discriminator(spec).parameters()] for spec in (plain, wide)]
    assert shapes[0] == shapes[1]


def test_checkpoints_from_before_the_generator_options_rebuild_as_before():
    old = {"architecture": "dcgan", "base_channels": 8, "channels": 3, "image_size": 32, "num_classes": 0,
           "latent_dim": 100, "embedding_dim": 16, "init": "default", "spectral_norm": "none",
           "discriminator_norm": "batch", "attention_resolution": None}
    rebuilt = _dcgan_spec(**old)
    assert rebuilt["generator_base_channels"] is None and rebuilt["generator_upsampling"] == "transposed"
    torch.manual_seed(0)
    before = [p.shape for p in build_generator(old).parameters()]
    assert [p.shape for p in build_generator(rebuilt).parameters()] == before
