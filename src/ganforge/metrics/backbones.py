"""Feature extractors ("backbones") whose embeddings feed FID-style scores.

Two kinds:

* ``InceptionBackbone`` — pytorch-fid's own ``InceptionV3`` (pool3, 2048-d) fed exactly as
  pytorch-fid feeds it, so its FID matches ``python -m pytorch_fid``. Only the *source of the
  weights* is configurable (local file, torch hub cache, pytorch-fid's download); the
  architecture is always pytorch-fid's building code. ``random_weights=True`` builds the same
  network with seeded random weights for offline plumbing tests — never a real score.
* ``ClassifierBackbone`` — a small CNN trained on the labeled real data (LeNet-style for
  ≤28 px, a slightly larger conv net above) whose penultimate features stand in for pool3.
  Scores computed with it are "FD-classifier", not FID, and are only comparable between runs
  that share the same classifier weights (see ``weights_fingerprint``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_fid import inception as fid_inception
from torch import nn
from tqdm.auto import tqdm

from ganforge.errors import BackboneUnavailableError, ConfigError
from ganforge.utils import resolve_device

logger = logging.getLogger(__name__)

FID_WEIGHTS_URL: str = fid_inception.FID_WEIGHTS_URL
FID_WEIGHTS_FILENAME: str = Path(urlparse(FID_WEIGHTS_URL).path).name
INCEPTION_FEATURE_DIM = 2048
CLASSIFIER_STATE_FORMAT = "ganforge.feature_classifier/1"
_BACKBONE_KINDS = ("auto", "inception", "classifier")

# Substituting pytorch-fid's module-level functions is process-global; serialise it.
_PATCH_LOCK = threading.Lock()


# --------------------------------------------------------------------------- common interface


def _state_dict_fingerprint(state_dict: Mapping[str, torch.Tensor], *extra: str) -> str:
    """Short sha256 over parameter names, dtypes, shapes and bytes (independent of device)."""
    digest = hashlib.sha256()
    for part in extra:
        digest.update(part.encode())
    for key in sorted(state_dict):
        tensor = state_dict[key].detach().cpu().contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()[:16]


def _as_device(device: str | torch.device) -> torch.device:
    return device if isinstance(device, torch.device) else resolve_device(device)


def _check_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
        raise ConfigError(
            "Backbones take uint8 image tensors shaped N×C×H×W; got "
            f"{type(images).__name__} {getattr(images, 'dtype', '')} "
            f"{tuple(getattr(images, 'shape', ()))}."
        )
    if images.shape[1] not in (1, 3):
        raise ConfigError(f"Images must have 1 or 3 channels, got {images.shape[1]}.")


class FeatureBackbone(ABC):
    """Common interface: ``name``, ``weights_fingerprint``, ``feature_dim`` and ``features()``."""

    name: str
    weights_fingerprint: str
    feature_dim: int
    #: False for anything whose numbers must not be reported as a real score (random weights).
    is_real_score: bool = True
    #: What a distance computed on these features should be called in reports.
    score_label: str = "FID"

    def __init__(self, model: nn.Module) -> None:
        self.model = model.eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)

    @abstractmethod
    def _embed(self, batch_uint8: torch.Tensor) -> torch.Tensor:
        """uint8 batch already on the model's device → float features B×D."""

    def _validate(self, images: torch.Tensor) -> None:
        _check_images(images)

    def describe(self) -> dict[str, Any]:
        """Plain-data identity of the backbone, for metric reports."""
        return {
            "name": self.name,
            "weights_fingerprint": self.weights_fingerprint,
            "feature_dim": self.feature_dim,
            "is_real_score": self.is_real_score,
            "score_label": self.score_label,
        }

    def features(
        self,
        images_uint8: torch.Tensor,
        batch_size: int = 50,
        device: str | torch.device = "auto",
        progress: bool = True,
    ) -> np.ndarray:
        """Embed uint8 N×C×H×W images batch by batch; returns float64 N×feature_dim."""
        self._validate(images_uint8)
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}.")
        target = _as_device(device)
        self.model.to(target)
        count = images_uint8.shape[0]
        out = np.empty((count, self.feature_dim), dtype=np.float64)
        with (
            torch.inference_mode(),
            tqdm(
                total=count,
                unit="img",
                desc=f"features[{self.name}]",
                disable=None if progress else True,  # None: off when not a terminal
                leave=False,
            ) as bar,
        ):
            for start in range(0, count, batch_size):
                batch = images_uint8[start : start + batch_size].to(target, non_blocking=True)
                embedded = self._embed(batch).cpu()  # to CPU first: MPS has no float64
                out[start : start + batch.shape[0]] = embedded.double().numpy()
                bar.update(batch.shape[0])
        if not np.isfinite(out).all():
            logger.warning("Backbone %s produced non-finite features.", self.name)
        return out


# --------------------------------------------------------------------------- Inception (pool3)


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
        f"{FID_WEIGHTS_FILENAME} (download it from {FID_WEIGHTS_URL} on a machine with "
        "internet access);\n"
        f"  2. put that file into the torch hub cache at {inception_hub_cache_path()};\n"
        "  3. or set evaluation.backbone: classifier to score with a domain classifier trained "
        "on the labeled real data (reported as FD-classifier, not FID)."
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


def _build_fid_inception(loader: Callable[..., dict] | None) -> fid_inception.InceptionV3:
    """pytorch-fid's ``InceptionV3`` (pool3, resize + normalize), weights via ``loader``.

    ``loader=None`` keeps pytorch-fid's own ``load_state_dict_from_url`` (may download).
    """
    block = fid_inception.InceptionV3.BLOCK_INDEX_BY_DIM[INCEPTION_FEATURE_DIM]

    def build() -> fid_inception.InceptionV3:
        return fid_inception.InceptionV3(
            output_blocks=[block], resize_input=True, normalize_input=True
        )

    if loader is None:
        return build()
    with _substituted(fid_inception, load_state_dict_from_url=loader):
        return build()


@contextlib.contextmanager
def _random_inception_source(seed: int) -> Iterator[None]:
    """Make pytorch-fid's ``fid_inception_v3()`` end up with seeded random weights.

    ``fid_inception_v3`` builds torchvision's Inception3 via ``_inception_v3``, swaps in the FID
    blocks, then loads a state dict. We capture the network it builds and hand it back its own
    (re-initialised) state dict, so the architecture is still pytorch-fid's code, untouched.
    """
    captured: list[nn.Module] = []
    original_builder = fid_inception._inception_v3

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
            fid_inception, _inception_v3=capturing_builder, load_state_dict_from_url=own_weights
        ),
    ):
        torch.manual_seed(seed)
        yield


def random_inception_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """The full ``fid_inception_v3`` state dict (pt_inception file layout) with random weights.

    Saved with ``torch.save`` it can be loaded through ``weights_path`` like the real file.
    """
    with _random_inception_source(seed):
        network = fid_inception.fid_inception_v3()
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
        self, model: fid_inception.InceptionV3, *, random_weights: bool, source: str
    ) -> None:
        super().__init__(model)
        self.random_weights = random_weights
        self.source = source
        self.weights_fingerprint = _state_dict_fingerprint(model.state_dict())
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
        source, loader = FID_WEIGHTS_URL, None  # pytorch-fid's own load_state_dict_from_url
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


# --------------------------------------------------------------------------- domain classifier


class FeatureClassifier(nn.Module):
    """Small CNN whose penultimate layer is the feature space for FD-classifier.

    ``lenet`` (≤28 px): LeNet-5 as in Caffe — conv5(20, pad 2)-pool-conv5(50)-pool → 128-d.
    ``convnet`` (32+ px): 3 × [conv3-ReLU-pool] with 32/64/128 channels → 256-d.
    Kept deliberately small: on 2 CPU cores training must take minutes, not hours.
    An adaptive pool (to the map size the nominal input gives) makes any input size work.
    """

    def __init__(
        self, arch: str, in_channels: int, num_classes: int, image_size: tuple[int, int]
    ) -> None:
        super().__init__()
        if arch == "lenet":
            feature_dim, last_channels, pooled = 128, 50, 5
            # Valid second conv as in LeNet; pad it for tiny inputs so the map stays non-empty.
            pad2 = 0 if min(image_size) >= 16 else 2
            body: list[nn.Module] = [
                nn.Conv2d(in_channels, 20, 5, padding=2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
                nn.Conv2d(20, 50, 5, padding=pad2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
        elif arch == "convnet":
            feature_dim, last_channels, pooled = 256, 128, 4
            body = []
            channels = in_channels
            for width in (32, 64, 128):
                body += [
                    nn.Conv2d(channels, width, 3, padding=1),
                    nn.ReLU(inplace=True),
                    nn.MaxPool2d(2),
                ]
                channels = width
        else:
            raise ConfigError(f"Unknown classifier arch '{arch}'; use 'lenet' or 'convnet'.")
        self.config = {
            "arch": arch,
            "in_channels": int(in_channels),
            "num_classes": int(num_classes),
            "image_size": [int(image_size[0]), int(image_size[1])],
            "feature_dim": feature_dim,
        }
        self.body = nn.Sequential(
            *body,
            nn.AdaptiveAvgPool2d(pooled),
            nn.Flatten(),
            nn.Linear(last_channels * pooled * pooled, feature_dim),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Linear(feature_dim, num_classes)

    @staticmethod
    def prepare(images_uint8: torch.Tensor) -> torch.Tensor:
        """uint8 pixels → float in [-1, 1], channels-last (see ``_channels_last``)."""
        scaled = images_uint8.float().mul_(2.0 / 255.0).sub_(1.0)
        return scaled.contiguous(memory_format=torch.channels_last)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


# Channels-last makes oneDNN convolutions and max-pooling ~1.5-5× faster on CPU for these small
# nets; weights are stored in the standard layout, so this is invisible outside the module.
def _channels_last(model: FeatureClassifier) -> FeatureClassifier:
    return model.to(memory_format=torch.channels_last)


def _default_arch(image_size: tuple[int, int]) -> str:
    return "lenet" if max(image_size) <= 28 else "convnet"


def _as_label_tensor(labels: Any, count: int, num_classes: int) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(labels)).long().reshape(-1)
    if tensor.shape[0] != count:
        raise ConfigError(f"Got {tensor.shape[0]} labels for {count} images.")
    if count and (int(tensor.min()) < 0 or int(tensor.max()) >= num_classes):
        raise ConfigError(
            f"Labels must lie in [0, {num_classes}); found range "
            f"[{int(tensor.min())}, {int(tensor.max())}]."
        )
    return tensor


def train_feature_classifier(
    images_uint8: torch.Tensor,
    labels: Any,
    num_classes: int,
    *,
    epochs: int = 5,
    batch_size: int = 128,
    lr: float = 1e-3,
    holdout_fraction: float = 0.1,
    seed: int = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
    arch: str | None = None,
) -> tuple[FeatureClassifier, dict[str, Any]]:
    """Train the domain classifier on labeled real images; returns ``(model, report)``.

    ``report`` holds ``holdout_accuracy`` (None if no hold-out), ``train_accuracy``,
    ``n_train``, ``n_holdout``, ``epochs``, ``seconds`` and the settings. Bit-reproducible for
    a given seed on CPU: the split, init and shuffling all come from the seed, and the caller's
    global RNG is left untouched.
    """
    _check_images(images_uint8)
    count = images_uint8.shape[0]
    if num_classes < 2:
        raise ConfigError(f"The feature classifier needs at least 2 classes, got {num_classes}.")
    if not 0.0 <= holdout_fraction < 1.0:
        raise ConfigError(f"holdout_fraction must be in [0, 1), got {holdout_fraction}.")
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ConfigError(
            f"epochs, batch_size and lr must be positive (got {epochs}, {batch_size}, {lr})."
        )
    label_tensor = _as_label_tensor(labels, count, num_classes)
    n_holdout = int(round(count * holdout_fraction))
    if holdout_fraction > 0:
        n_holdout = max(n_holdout, 1)
    n_train = count - n_holdout
    if n_train < 1:
        raise ConfigError(f"Not enough labeled images ({count}) to train the feature classifier.")

    target = _as_device(device)
    image_size = (int(images_uint8.shape[2]), int(images_uint8.shape[3]))
    arch = arch or _default_arch(image_size)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(count, generator=generator)
    train_idx, holdout_idx = order[:n_train], order[n_train:]

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = FeatureClassifier(arch, images_uint8.shape[1], num_classes, image_size)
    _channels_last(model).to(target)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    # Keep the data as one uint8 tensor on the device; batches are index slices (no workers).
    train_x = images_uint8[train_idx].to(target)
    train_y = label_tensor[train_idx].to(target)
    steps_per_epoch = math.ceil(n_train / batch_size)
    started = time.perf_counter()
    last_loss = float("nan")
    correct = 0
    model.train()
    with tqdm(
        total=epochs * steps_per_epoch, desc=f"classifier[{arch}]", disable=None if progress else True
    ) as bar:
        for epoch in range(epochs):
            permutation = torch.randperm(n_train, generator=generator).to(target)
            correct = 0
            for step in range(steps_per_epoch):
                index = permutation[step * batch_size : (step + 1) * batch_size]
                logits = model(FeatureClassifier.prepare(train_x[index]))
                loss = F.cross_entropy(logits, train_y[index])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                last_loss = float(loss.detach())
                correct += int((logits.detach().argmax(1) == train_y[index]).sum())
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{last_loss:.4f}")
            if not math.isfinite(last_loss):
                raise ConfigError(
                    f"Feature classifier loss became {last_loss}; lower the learning rate."
                )
    model.eval()
    holdout_accuracy = (
        _accuracy(model, images_uint8[holdout_idx], label_tensor[holdout_idx], batch_size, target)
        if n_holdout
        else None
    )
    seconds = time.perf_counter() - started
    report = {
        "arch": arch,
        "num_classes": int(num_classes),
        "feature_dim": model.config["feature_dim"],
        "image_size": list(image_size),
        "in_channels": int(images_uint8.shape[1]),
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "lr": float(lr),
        "seed": int(seed),
        "n_train": int(n_train),
        "n_holdout": int(n_holdout),
        "holdout_accuracy": holdout_accuracy,
        "train_accuracy": correct / n_train,  # last epoch, measured while training
        "final_train_loss": last_loss,
        "seconds": seconds,
        "device": str(target),
    }
    logger.info(
        "Feature classifier (%s) trained in %.1fs: hold-out accuracy %s on %d images",
        arch,
        seconds,
        "n/a" if holdout_accuracy is None else f"{holdout_accuracy:.4f}",
        n_holdout,
    )
    return model, report


def _accuracy(
    model: FeatureClassifier,
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    device: torch.device,
) -> float:
    correct = 0
    with torch.inference_mode():
        for start in range(0, images.shape[0], batch_size):
            batch = FeatureClassifier.prepare(images[start : start + batch_size].to(device))
            predicted = model(batch).argmax(1).cpu()
            correct += int((predicted == labels[start : start + batch_size]).sum())
    return correct / images.shape[0]


def classifier_state(model: FeatureClassifier) -> dict[str, Any]:
    """Plain-data snapshot (config + CPU state dict), loadable with ``weights_only=True``."""
    return {
        "format": CLASSIFIER_STATE_FORMAT,
        "config": dict(model.config),
        "state_dict": {
            key: value.detach().cpu().contiguous().clone()  # standard layout, not channels-last
            for key, value in model.state_dict().items()
        },
    }


def classifier_from_state(state: Mapping[str, Any]) -> FeatureClassifier:
    """Rebuild a :class:`FeatureClassifier` from :func:`classifier_state` output (eval mode)."""
    if not isinstance(state, Mapping) or state.get("format") != CLASSIFIER_STATE_FORMAT:
        found = state.get("format") if isinstance(state, Mapping) else type(state).__name__
        raise BackboneUnavailableError(
            f"Not a feature-classifier state (expected format {CLASSIFIER_STATE_FORMAT!r}, "
            f"found {found!r}). Retrain the classifier or point to the right file."
        )
    config = state["config"]
    model = FeatureClassifier(
        config["arch"], config["in_channels"], config["num_classes"], tuple(config["image_size"])
    )
    model.load_state_dict(state["state_dict"])
    return _channels_last(model).eval()


class ClassifierBackbone(FeatureBackbone):
    """Penultimate features of a trained :class:`FeatureClassifier` ("FD-classifier")."""

    score_label = "FD-classifier"

    def __init__(
        self, model: FeatureClassifier, training_report: dict[str, Any] | None = None
    ) -> None:
        super().__init__(_channels_last(model))
        self.config = dict(model.config)
        self.name = f"classifier_{self.config['arch']}"
        self.feature_dim = int(self.config["feature_dim"])
        self.weights_fingerprint = _state_dict_fingerprint(
            model.state_dict(), repr(sorted(self.config.items()))
        )
        self.training_report = training_report

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "classifier_config": dict(self.config)}

    def _validate(self, images: torch.Tensor) -> None:
        super()._validate(images)
        expected = (self.config["in_channels"], *self.config["image_size"])
        if tuple(images.shape[1:]) != tuple(expected):
            # The classifier only knows the real data's geometry; scoring other shapes would
            # silently measure resampling artefacts.
            raise ConfigError(
                f"The feature classifier was trained on C×H×W = {expected}, but images are "
                f"{tuple(images.shape[1:])}. Generate images with the real data's shape."
            )

    def _embed(self, batch_uint8: torch.Tensor) -> torch.Tensor:
        return self.model.embed(FeatureClassifier.prepare(batch_uint8))


# --------------------------------------------------------------------------- resolution


def build_backbone(
    kind: str = "auto",
    *,
    inception_weights: str | Path | None = None,
    random_weights: bool = False,
    seed: int = 0,
    allow_download: bool = True,
    classifier_state: Mapping[str, Any] | None = None,
    labeled_images: torch.Tensor | None = None,
    labels: Any = None,
    num_classes: int | None = None,
    classifier_options: Mapping[str, Any] | None = None,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> FeatureBackbone:
    """Resolve ``kind`` into a ready backbone.

    * ``inception`` — real weights (``inception_weights`` file → hub cache → download if
      allowed), or seeded random weights with ``random_weights=True`` (plumbing only).
    * ``classifier`` — from ``classifier_state`` if given, else trained on
      ``labeled_images``/``labels`` with ``classifier_options`` (keyword arguments of
      :func:`train_feature_classifier`; the report ends up in ``backbone.training_report``).
    * ``auto`` — Inception if its weights load, else the classifier if a state or labels are
      available, else :class:`BackboneUnavailableError`.
    """
    if kind not in _BACKBONE_KINDS:
        raise ConfigError(
            f"evaluation.backbone must be one of {', '.join(_BACKBONE_KINDS)}; got '{kind}'."
        )

    def inception() -> FeatureBackbone:
        return build_inception_backbone(
            inception_weights,
            random_weights=random_weights,
            seed=seed,
            allow_download=allow_download,
        )

    def classifier() -> FeatureBackbone:
        if classifier_state is not None:
            return ClassifierBackbone(classifier_from_state(classifier_state))
        if labeled_images is None or labels is None:
            raise BackboneUnavailableError(
                "The classifier backbone needs a saved classifier state or labeled real images "
                "to train one, and neither is available. Use a labeled data set or provide "
                "Inception weights (evaluation.inception_weights)."
            )
        options = dict(classifier_options or {})
        allowed = {"epochs", "batch_size", "lr", "holdout_fraction", "seed", "arch"}
        unknown = set(options) - allowed
        if unknown:
            raise ConfigError(
                f"Unknown classifier option(s) {sorted(unknown)}; allowed: {sorted(allowed)}."
            )
        classes = num_classes
        if classes is None:
            classes = int(np.asarray(labels).max()) + 1
        model, report = train_feature_classifier(
            labeled_images, labels, classes, device=device, progress=progress, **options
        )
        return ClassifierBackbone(model, training_report=report)

    if kind == "inception":
        return inception()
    if kind == "classifier":
        return classifier()
    try:
        return inception()
    except BackboneUnavailableError as inception_error:
        if classifier_state is None and (labeled_images is None or labels is None):
            raise BackboneUnavailableError(
                f"{inception_error}\n(evaluation.backbone is 'auto' and no labels are available "
                "for the classifier fallback.)"
            ) from inception_error
        logger.warning(
            "Inception weights unavailable; falling back to the domain-classifier backbone "
            "(scores are FD-classifier, not FID)."
        )
        return classifier()
