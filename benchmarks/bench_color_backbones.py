"""Which offline backbone orders color images as a person would? Fréchet distances on the emoji.

    KEDRO_DISABLE_TELEMETRY=true .venv/bin/python benchmarks/bench_color_backbones.py \
        [--samples data/07_model_output/dcgan/samples.pt/<version>/samples.pt ...] \
        [--output benchmarks/results/color_backbones.md]

Real data: the Google emoji at 64×64 on white (``conf/emoji``), fetched once like the pipeline
does. Each backbone is trained on all of them, as the pipeline trains it, then scores, against
the Google emoji's statistics, sets that a person would rank from close to far:

1. ``real half``: a seeded half of the Google emoji against the other half (statistics of the
   other half, not of all);
2. ``other style``: the same emoji drawn by Twitter;
3. each ``--samples`` file (a run's 2,000 samples; the best run should land here);
4. ``blurred``: the Google emoji under a Gaussian blur (σ = 2 px);
5. ``one subcategory``: the emoji of the most common subcategory only, repeated to the size;
6. ``noise``: uniform noise images.

Backbones: ``classifier`` (9 categories, the pipeline's default on labeled data),
``classifier_sub`` (the ~100 subcategories), ``rotation`` (0/90/180/270°, no labels), and
``contrastive`` (ganforge.metrics.contrastive, the pipeline's offline default for color): the same
network trained without labels to match two random views of each emoji (shifted, scaled,
recolored) against the other images of the batch (SimCLR's loss, Chen et al. 2020). ``--contrastive
NAME=JSON ...`` adds contrastive backbones with other settings side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganforge.metrics import (
    ClassifierBackbone,
    feature_statistics,
    frechet_distance,
    train_contrastive_backbone,
    train_feature_classifier,
    train_rotation_backbone,
)
from ganforge.metrics.settings import EvaluationConfig
from ganforge.pipelines.data_processing.params import parse_data_params
from ganforge.pipelines.data_processing.sources import load_source

PROJECT = Path(__file__).resolve().parents[1]
CLASSIFIER = {"epochs": 4, "batch_size": 128, "lr": 1e-3, "holdout_fraction": 0.1, "seed": 0}


def emoji(style: str, label_field: str):
    params = parse_data_params({"source": "emoji", "style": style, "label_field": label_field,
                                "path": str(PROJECT / "data/01_raw"), "image_size": 64, "channels": 3})
    return load_source(params)


def blurred(images: torch.Tensor, sigma: float = 2.0) -> torch.Tensor:
    radius = int(3 * sigma)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = (kernel / kernel.sum()).view(1, 1, 1, -1).repeat(3, 1, 1, 1)
    values = F.pad(images.float(), (radius, radius, radius, radius), mode="replicate")
    values = F.conv2d(F.conv2d(values, kernel, groups=3), kernel.transpose(2, 3), groups=3)
    return values.round().clamp(0, 255).to(torch.uint8)


def backbones(google, google_sub, contrastive: dict[str, dict], only_contrastive: bool) -> dict[str, object]:
    """name → (backbone, accuracy on its own held-out task, seconds to train it)."""
    built = {}
    if not only_contrastive:
        for name, data in (("classifier", google), ("classifier_sub", google_sub)):
            started = time.perf_counter()
            model, report = train_feature_classifier(data.images, data.labels, len(data.class_names),
                                                     device="cpu", progress=False, **CLASSIFIER)
            built[name] = (ClassifierBackbone(model, report), report["holdout_accuracy"], time.perf_counter() - started)
        started = time.perf_counter()
        rotation = train_rotation_backbone(google.images, max_images=5000, device="cpu", progress=False, **CLASSIFIER)
        built["rotation"] = (rotation, rotation.training_report["holdout_accuracy"], time.perf_counter() - started)
    for name, settings in contrastive.items():
        started = time.perf_counter()
        backbone = train_contrastive_backbone(google.images, device="cpu", progress=False, **settings)
        built[name] = (backbone, backbone.training_report["holdout_accuracy"], time.perf_counter() - started)
    return built


def score_sets(google, twitter, google_sub, samples: list[Path]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """name → (reference images, compared images)."""
    order = torch.randperm(len(google.images), generator=torch.Generator().manual_seed(0))
    half = len(order) // 2
    sets = {"real half": (google.images[order[:half]], google.images[order[half:]]),
            "other style": (google.images, twitter.images)}
    for path in samples:
        loaded = torch.load(path, weights_only=True)
        images = loaded["images"] if isinstance(loaded, dict) else loaded
        # data/07_model_output/<variant>/samples.pt/<version>/samples.pt → "<variant> <version>"
        name = f"{path.parts[-4]} {path.parts[-2]}" if len(path.parts) > 4 else path.name
        sets[f"samples: {name}"] = (google.images, images)
    sets["blurred"] = (google.images, blurred(google.images))
    most = torch.bincount(google_sub.labels).argmax()
    one = google_sub.images[google_sub.labels == most]
    sets["one subcategory"] = (google.images, one[torch.arange(len(google.images)) % len(one)])
    noise = torch.randint(0, 256, google.images.shape, generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    sets["noise"] = (google.images, noise)
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", nargs="*", type=Path, default=[])
    parser.add_argument("--output", type=Path, default=PROJECT / "benchmarks/results/color_backbones.md")
    parser.add_argument("--contrastive", nargs="*", default=["contrastive={}"],
                        help="NAME=JSON: a contrastive backbone with these settings over the pipeline's "
                             "(evaluation.contrastive), e.g. contrastive_40='{\"epochs\": 40}'")
    parser.add_argument("--only-contrastive", action="store_true", help="leave out the three other backbones")
    args = parser.parse_args()
    torch.manual_seed(0)
    google, google_sub = emoji("google", "category"), emoji("google", "subcategory")
    twitter = emoji("twitter", "none")
    defaults = EvaluationConfig().contrastive.model_dump()
    contrastive = {name: {**defaults, **json.loads(settings)}
                   for name, settings in (item.split("=", 1) for item in args.contrastive)}
    built = backbones(google, google_sub, contrastive, args.only_contrastive)
    sets = score_sets(google, twitter, google_sub, args.samples)
    rows = []
    for name, (reference, compared) in sets.items():
        row = [name]
        for backbone, _, _ in built.values():
            real = feature_statistics(backbone.features(reference, device="cpu", progress=False))
            fake = feature_statistics(backbone.features(compared, device="cpu", progress=False))
            row.append(f"{frechet_distance(*real, *fake):.2f}")
        rows.append(row)
        print(" | ".join(row), flush=True)
    header = "| compared with the Google emoji | " + " | ".join(built) + " |"
    lines = [header, "|---" * (len(built) + 1) + "|"] + ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("| accuracy on its own held-out task (contrastive: a view's twin found in its batch) | "
                 + " | ".join(f"{accuracy:.3f}" for _, accuracy, _ in built.values()) + " |")
    lines.append("| seconds to train it (2 CPU cores) | "
                 + " | ".join(f"{seconds:.0f}" for _, _, seconds in built.values()) + " |")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python", str(Path(__file__).relative_to(PROJECT)), *map(str, sys.argv[1:])])
    args.output.write_text(f"# Offline backbones on color emoji\n\n`{command}`\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
