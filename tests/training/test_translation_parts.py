"""Parts of the two-domain families: least-squares loss, cycle and identity terms, the image
history, and the translation networks."""

import pytest
import torch

from ganforge.gan.image_history import ImageHistory
from ganforge.gan.networks.translation import PatchDiscriminator, ResnetTranslator, patch_receptive_field
from ganforge.gan.objectives import OBJECTIVES, LeastSquaresObjective, cycle_consistency_loss, identity_loss


def test_least_squares_losses_match_hand_computation():
    real = torch.tensor([1.0, 0.0, 2.0])  # (s − 1)²: 0, 1, 1 → 2/3
    fake = torch.tensor([0.0, 1.0, -1.0])  # s²: 0, 1, 1 → 2/3; (s − 1)²: 1, 0, 4 → 5/3
    objective = LeastSquaresObjective()
    assert objective.discriminator_loss(real, fake).item() == pytest.approx(2 / 3 + 2 / 3)
    assert objective.generator_loss(fake).item() == pytest.approx(5 / 3)
    assert isinstance(OBJECTIVES["least_squares"]({}), LeastSquaresObjective)


def test_cycle_and_identity_losses_match_hand_computation():
    real = torch.tensor([[[[0.0, 0.5], [-1.0, 1.0]]]])
    back = torch.tensor([[[[0.5, 0.5], [-0.5, 0.0]]]])  # |Δ| = 0.5, 0, 0.5, 1 → 2/4
    assert cycle_consistency_loss(real, back).item() == pytest.approx(0.5)
    assert identity_loss(real, real).item() == 0.0
    assert identity_loss(real, -real).item() == pytest.approx((0 + 1 + 2 + 2) / 4)


def _batch(start: int, count: int = 4) -> torch.Tensor:
    """Images whose single pixel is their number, so that each returned image names itself."""
    return torch.arange(start, start + count, dtype=torch.float32).view(count, 1, 1, 1)


def test_image_history_fills_first_then_swaps_half_the_images():
    history, rng = ImageHistory(capacity=50), torch.Generator().manual_seed(0)
    assert torch.equal(history.exchange(_batch(0, 50), rng), _batch(0, 50))  # filling: passed on
    returned, from_history = 0, 0
    for step in range(1, 401):
        batch = _batch(50 + 4 * step)
        out = history.exchange(batch, rng).flatten().tolist()
        assert len(history.images) == 50 and len(out) == 4
        # whatever comes back is this batch's own image or one stored before it
        assert all(value in batch or value < 50 + 4 * step for value in out)
        from_history += sum(value < 50 + 4 * step for value in out)
        returned += 4
    # each image is swapped with probability ½ (a swap that returns an image of the same batch,
    # stored a moment earlier, is rare with 50 slots and counts as not swapped)
    assert 0.44 < from_history / returned < 0.53


def test_image_history_resumes_with_the_same_choices():
    first, rng = ImageHistory(3), torch.Generator().manual_seed(1)
    for step in range(3):
        first.exchange(_batch(3 * step, 3), rng)
    saved, rng_state = first.state_dict(), rng.get_state()
    expected = first.exchange(_batch(100, 3), rng)
    resumed, rng = ImageHistory(3), torch.Generator()
    resumed.load_state_dict(saved)
    rng.set_state(rng_state)
    assert torch.equal(resumed.exchange(_batch(100, 3), rng), expected)
    assert torch.equal(ImageHistory(0).exchange(_batch(0), rng), _batch(0))  # no history: unchanged
    with pytest.raises(ValueError, match="3 images cannot be loaded into one of 5"):
        ImageHistory(5).load_state_dict(saved)


def test_patchgan_receptive_field_is_the_papers_70_pixels():
    assert patch_receptive_field(3) == 70
    assert patch_receptive_field(2) == 34
    assert PatchDiscriminator(3, base_channels=8)(torch.randn(2, 3, 128, 128)).shape == (2, 1, 14, 14)
    assert PatchDiscriminator(1, base_channels=8, strided_layers=2)(torch.randn(2, 1, 28, 28)).shape == (2, 1, 5, 5)


def test_translator_keeps_the_size_and_range_and_rejects_sizes_it_cannot_halve():
    digits = ResnetTranslator(1, 1, base_channels=8, downsamplings=2, residual_blocks=2)
    out = digits(torch.randn(3, 1, 28, 28))
    assert out.shape == (3, 1, 28, 28) and out.abs().max() <= 1
    assert ResnetTranslator(3, 3, base_channels=8, residual_blocks=1)(torch.randn(1, 3, 64, 64)).shape == (1, 3, 64, 64)
    with pytest.raises(ValueError, match="not divisible by 2\\^downsamplings = 8"):
        ResnetTranslator(1, 1, base_channels=4, downsamplings=3, residual_blocks=1)(torch.randn(1, 1, 28, 28))
