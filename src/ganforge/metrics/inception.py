"""pytorch-fid's ``InceptionV3`` pool3 features (2048-d), fed exactly as pytorch-fid feeds it, so
its FID matches ``python -m pytorch_fid``. Only the *source of the weights* is configurable (a
local file, the torch hub cache, pytorch-fid's download); the architecture is always pytorch-fid's
building code. ``random_weights=True`` builds the same network with seeded random weights for
offline plumbing tests: never a real score.

pytorch-fid (and torchvision through it) is imported on first use: the data pipeline never pays
for it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import BackboneUnavailableError
from ganforge.metrics.feature_backbone import FeatureBackbone, state_dict_fingerprint

logger = logging.getLogger(__name__)

FID_WEIGHTS_FILENAME = "pt_inception-2015-12-05-6726825d.pth"
INCEPTION_FEATURE_DIM = 2048

# Substituting pytorch-fid's module-level functions is process-global; serialise it.
_PATCH_LOCK = threading.Lock()


def _fid_inception():
    from pytorch_fid import inception

    return inception


def fid_weights_url() -> str:
    return _fid_inception().FID_WEIGHTS_URL


def inception_hub_cache_path() -> Path:
    """Where torch hub (and so pytorch-fid) caches the FID Inception weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / FID_WEIGHTS_FILENAME


def inception_weights_available(weights_path: str | Path | None = None) -> bool:
    """Cheap check (files only, no loading, no network) that real Inception weights are at hand.

    With ``weights_path`` only that file counts (an explicit path that is missing is a
    mistake, not a cue to fall back); without it, the torch hub cache file counts.
    """
    if weights_path:
        return Path(weights_path).expanduser().is_file()
    return inception_hub_cache_path().is_file()


def _unavailable_message(reason: str) -> str:
    return (
        f"Inception weights for FID are not available: {reason}\n"
        "Fix it in one of these ways:\n"
        "  1. set evaluation.inception_weights to a local copy of "
        f"{FID_WEIGHTS_FILENAME} (download it from {fid_weights_url()} on a machine with "
        "internet access);\n"
        f"  2. put that file into the torch hub cache at {inception_hub_cache_path()};\n"
        "  3. or set evaluation.backbone: classifier to score with a domain classifier trained "
        "on the labeled real data (FD-classifier), evaluation.backbone: rotation for a backbone "
        "trained on the real images without labels (FD-rotation), or evaluation.backbone: none "
        "to train and sample without a score;\n"
        "  4. or set evaluation.download_inception: true on a machine with internet access."
    )


@contextlib.contextmanager
def _substituted(module: Any, **replacements: Any) -> Iterator[None]:
    """Temporarily replace module-level names (restored even on error)."""
    with _PATCH_LOCK:
        originals = {name: getattr(module, name) for name in replacements}
        try:
            for name, value in replacements.items():
                setattr(module, name, value)
            yield
        finally:
            for name, value in originals.items():
                setattr(module, name, value)


def _file_loader(path: Path) -> Callable[..., dict]:
    """A stand-in for ``load_state_dict_from_url`` that reads a local state dict safely."""

    def load(url: str, *args: Any, **kwargs: Any) -> dict:
        del url, args, kwargs  # the URL is pytorch-fid's; the bytes come from ``path``
        return torch.load(path, map_location="cpu", weights_only=True)

    return load


def _build_fid_inception(loader: Callable[..., dict] | None) -> nn.Module:
    """pytorch-fid's ``InceptionV3`` (pool3, resize + normalize), weights via ``loader``.

    ``loader=None`` keeps pytorch-fid's own ``load_state_dict_from_url`` (may download).
    """
    block = _fid_inception().InceptionV3.BLOCK_INDEX_BY_DIM[INCEPTION_FEATURE_DIM]

    def build() -> nn.Module:
        return _fid_inception().InceptionV3(
            output_blocks=[block], resize_input=True, normalize_input=True
        )

    if loader is None:
        return build()
    with _substituted(_fid_inception(), load_state_dict_from_url=loader):
        return build()


@contextlib.contextmanager
def _random_inception_source(seed: int) -> Iterator[None]:
    """Make pytorch-fid's ``fid_inception_v3()`` end up with seeded random weights.

    ``fid_inception_v3`` builds torchvision's Inception3 via ``_inception_v3``, swaps in the FID
    blocks, then loads a state dict. We capture the network it builds and hand it back its own
    (re-initialised) state dict, so the architecture is still pytorch-fid's code, untouched.
    """
    captured: list[nn.Module] = []
    original_builder = _fid_inception()._inception_v3

    def capturing_builder(*args: Any, **kwargs: Any) -> nn.Module:
        network = original_builder(*args, **kwargs)
        captured.append(network)
        return network

    def own_weights(url: str, *args: Any, **kwargs: Any) -> dict:
        network = captured[-1]
        # pytorch-fid skips torchvision's init; PyTorch's default conv init shrinks the signal
        # ~1e-8 by pool3. He-init keeps activations O(1) so plumbing tests see real variation.
        for module in network.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        return network.state_dict()

    with (
        torch.random.fork_rng(devices=[]),
        _substituted(
            _fid_inception(), _inception_v3=capturing_builder, load_state_dict_from_url=own_weights
        ),
    ):
        torch.manual_seed(seed)
        yield


def random_inception_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """The full ``fid_inception_v3`` state dict (pt_inception file layout) with random weights.

    Saved with ``torch.save`` it can be loaded through ``weights_path`` like the real file.
    """
    with _random_inception_source(seed):
        network = _fid_inception().fid_inception_v3()
    return {key: value.detach().clone() for key, value in network.state_dict().items()}


def prepare_inception_input(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 N×C×H×W → float N×3×H×W in [0, 1], exactly what pytorch-fid feeds InceptionV3.

    pytorch-fid opens files as RGB PIL images (grayscale replicated to 3 channels) and applies
    ``ToTensor`` (uint8/255); resizing to 299 happens inside the model.
    """
    as_float = images_uint8.float().div_(255.0)
    if as_float.shape[1] == 1:
        as_float = as_float.repeat(1, 3, 1, 1)
    return as_float


class InceptionBackbone(FeatureBackbone):
    """pytorch-fid InceptionV3 pool3 features (2048-d)."""

    feature_dim = INCEPTION_FEATURE_DIM

    def __init__(
        self, model: nn.Module, *, random_weights: bool, source: str
    ) -> None:
        super().__init__(model)
        self.random_weights = random_weights
        self.source = source
        self.weights_fingerprint = state_dict_fingerprint(model.state_dict())
        if random_weights:
            self.name = "inception_v3_pool3_random"
            self.is_real_score = False
            self.score_label = "FID[random-weights Inception: plumbing only, NOT a real score]"
        else:
            self.name = "inception_v3_pool3"
            self.is_real_score = True
            self.score_label = "FID"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "weights_source": self.source}

    def _embed(self, batch_uint8: torch.Tensor) -> torch.Tensor:
        pred = self.model(prepare_inception_input(batch_uint8))[0]
        # Same as pytorch-fid's get_activations (a no-op for pool3, which is already 1×1).
        if pred.shape[2] != 1 or pred.shape[3] != 1:
            pred = F.adaptive_avg_pool2d(pred, output_size=(1, 1))
        return pred.squeeze(3).squeeze(2)


def build_inception_backbone(
    weights_path: str | Path | None = None,
    *,
    random_weights: bool = False,
    seed: int = 0,
    allow_download: bool = True,
) -> InceptionBackbone:
    """Build pytorch-fid's InceptionV3 with weights from the first source that works.

    Order: ``random_weights`` (seeded, plumbing only) → ``weights_path`` (must exist if given)
    → torch hub cache file → pytorch-fid's download (only if ``allow_download``).
    Raises :class:`BackboneUnavailableError` with fix-it instructions when none works.
    """
    if random_weights:
        with _random_inception_source(seed):
            model = _build_fid_inception(None)
        logger.warning(
            "Using Inception with RANDOM weights (seed %d): features exercise the pipeline "
            "only; any FID computed from them is NOT a real score.",
            seed,
        )
        return InceptionBackbone(model, random_weights=True, source=f"random(seed={seed})")

    if weights_path:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise BackboneUnavailableError(
                _unavailable_message(f"evaluation.inception_weights = {path} does not exist.")
            )
        source, loader = str(path), _file_loader(path)
    elif inception_hub_cache_path().is_file():
        cached = inception_hub_cache_path()
        # Load the cached file ourselves (weights_only) rather than via hub: same bytes, and no
        # code path that could reach for the network.
        source, loader = str(cached), _file_loader(cached)
    elif allow_download:
        source, loader = fid_weights_url(), None  # pytorch-fid's own load_state_dict_from_url
    else:
        raise BackboneUnavailableError(
            _unavailable_message(
                f"no weights file given, none at {inception_hub_cache_path()}, and downloading "
                "is disabled."
            )
        )

    try:
        model = _build_fid_inception(loader)
    except Exception as error:  # noqa: BLE001 — any failure here means "no usable weights"
        raise BackboneUnavailableError(
            _unavailable_message(f"loading from {source} failed ({type(error).__name__}: {error}).")
        ) from error
    logger.info("Inception FID weights loaded from %s", source)
    return InceptionBackbone(model, random_weights=False, source=source)
