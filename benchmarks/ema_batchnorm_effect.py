"""The effect of averaging the EMA generator's BatchNorm statistics instead of copying them.

    KEDRO_DISABLE_TELEMETRY=true .venv/bin/python benchmarks/ema_batchnorm_effect.py \
        [--variants gan dcgan wgan wgan_gp cgan] [--output benchmarks/results/ema_batchnorm_effect.md]

Run after `kedro run` (the default runs): for each variant's latest checkpoint it scores the EMA
generator twice with the project's own evaluation settings, backbone and cached real statistics:

* ``averaged`` — as saved: EMA weights with EMA-averaged BatchNorm running statistics (today);
* ``copied`` — the same EMA weights with the live generator's running statistics, which is what
  GAN Forge 0.1 did (it copied every buffer from the live generator on each EMA update).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import yaml

from ganforge.gan import VARIANTS, draw
from ganforge.metrics import backbone_from_record, compute_all
from ganforge.pipelines.evaluation.nodes import configure_evaluation, prepare_real_features, sample_count

PROJECT = Path(__file__).resolve().parents[1]
DATA = PROJECT / "data"


def latest(path: Path) -> Path:
    return sorted(child for child in path.iterdir() if child.is_dir())[-1] / path.name


def load(path: Path):
    return torch.load(path, map_location="cpu", weights_only=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=VARIANTS.names())
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    conf = PROJECT / "conf" / "base"
    evaluation = yaml.safe_load((conf / "parameters_evaluation.yml").read_text())["evaluation"]
    model_input = load(latest(DATA / "05_model_input/model_input.pt"))
    cache = {path.stem: (lambda path=path: load(path)) for path in (DATA / "04_feature/feature_cache").glob("*.pt")}
    lines = ["| variant | FD (averaged BN stats, today) | FD (copied BN stats, 0.1) | change |", "|---|---:|---:|---:|"]
    for variant in args.variants:
        settings = configure_evaluation(evaluation, yaml.safe_load((conf / f"parameters_{variant}.yml").read_text())
                                        [variant]["variant"])
        record, real, _ = prepare_real_features(model_input, settings, cache)
        backbone = backbone_from_record(record)
        checkpoint = load(latest(DATA / f"06_models/{variant}/checkpoint.pt"))
        averaged = checkpoint["ema"]["generator"]
        live = checkpoint["networks"]["generator"]
        copied = {key: (live[key] if "running_" in key or "num_batches" in key else value)
                  for key, value in averaged.items()}
        scores = {}
        for name, weights in (("averaged", averaged), ("copied", copied)):
            images, _ = draw(checkpoint, weights, sample_count(record, settings), batch_size=settings["batch_size"],
                             device="cpu", seed=settings["seed"])
            features = backbone.features(images, settings["batch_size"], "cpu", progress=False)
            scores[name] = compute_all(real, features, settings)["fid"]
        change = scores["averaged"] / scores["copied"] - 1
        lines.append(f"| {variant} | {scores['averaged']:.2f} | {scores['copied']:.2f} | {change:+.1%} |")
        print(lines[-1], flush=True)
    if args.output:
        args.output.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
