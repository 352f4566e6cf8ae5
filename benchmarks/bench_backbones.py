"""Feature-extraction cost per backbone on this machine.

Inception uses seeded random weights: the compute is identical to the real pt_inception
weights (same architecture, inputs resized to 299×299 inside the model), so the timing holds
for real FID. Classifier backbones are timed untrained (same compute as trained).

    .venv/bin/python benchmarks/bench_backbones.py   # defaults: ~2 min on 2 CPU cores
    .venv/bin/python benchmarks/bench_backbones.py --inception-images 1000 --device cuda
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from ganforge.metrics import ClassifierBackbone, FeatureClassifier, build_inception_backbone
from ganforge.metrics.backbones import FeatureBackbone, train_feature_classifier
from ganforge.utils import resolve_device


def _images(count: int, channels: int, size: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randint(
        0, 256, (count, channels, size, size), generator=generator, dtype=torch.uint8
    )


def time_backbone(
    label: str,
    backbone: FeatureBackbone,
    images: torch.Tensor,
    batch_size: int,
    device: torch.device,
) -> None:
    backbone.features(
        images[:batch_size], batch_size=batch_size, device=device, progress=False
    )  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    backbone.features(images, batch_size=batch_size, device=device, progress=False)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    rate = images.shape[0] / seconds
    print(
        f"{label:<44} n={images.shape[0]:>6}  batch={batch_size:>4}  "
        f"{rate:10.1f} img/s  {1000.0 / rate:9.2f} s per 1,000 images"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inception-images", type=int, default=200)
    parser.add_argument("--classifier-images", type=int, default=5000)
    parser.add_argument(
        "--train-images", type=int, default=5000, help="0 skips the training timing"
    )
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    device = resolve_device(args.device)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__}, device {device}, torch threads {torch.get_num_threads()}, "
        f"cpu count {os.cpu_count()}, load average (1 min) {load:.2f}"
    )

    if args.inception_images:
        inception = build_inception_backbone(random_weights=True, seed=0)
        for channels in (1, 3):
            time_backbone(
                f"inception_v3_pool3 (random w.), {channels}x28x28",
                inception,
                _images(args.inception_images, channels, 28),
                args.batch_size,
                device,
            )

    if args.classifier_images:
        torch.manual_seed(0)
        lenet = ClassifierBackbone(FeatureClassifier("lenet", 1, 10, (28, 28)))
        time_backbone(
            "classifier_lenet, 1x28x28",
            lenet,
            _images(args.classifier_images, 1, 28),
            max(args.batch_size, 256),
            device,
        )
        convnet = ClassifierBackbone(FeatureClassifier("convnet", 3, 10, (32, 32)))
        time_backbone(
            "classifier_convnet, 3x32x32",
            convnet,
            _images(args.classifier_images, 3, 32),
            max(args.batch_size, 256),
            device,
        )

    if args.train_images:
        images = _images(args.train_images, 1, 28)
        labels = torch.arange(args.train_images) % 10
        _, report = train_feature_classifier(
            images,
            labels,
            10,
            epochs=1,
            batch_size=128,
            holdout_fraction=0.0,
            seed=0,
            device=device,
            progress=False,
        )
        per_1000 = report["seconds"] / args.train_images * 1000
        print(
            f"{'classifier_lenet training, 1x28x28':<44} n={args.train_images:>6}  1 epoch "
            f"{report['seconds']:.2f} s  ({per_1000:.3f} s per 1,000 images per epoch)"
        )


if __name__ == "__main__":
    main()
