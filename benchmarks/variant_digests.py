"""Content digests of what each variant's training produces on a tiny fixed configuration.

    KEDRO_DISABLE_TELEMETRY=true OMP_NUM_THREADS=1 .venv/bin/python benchmarks/variant_digests.py \
        [--output benchmarks/results/variant_digests.json] [--compare benchmarks/results/variant_digests.json]

Recorded before the GAN library moved out of ``pipelines/training`` and compared after: a pure
refactoring must leave every digest unchanged on the same machine (CPU, same torch build). The
digest covers each network's weights and buffers, the EMA weights and buffers, each optimizer's
state, the step counters and the per-epoch losses; it does not depend on how a checkpoint lays
these out. Only run it on CPU: GPUs do not promise bit-identical training.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from ganforge.gan import resolve_experiment_config, train  # noqa: E402
from ganforge.utils import content_digest  # noqa: E402
from tests.training.conftest import TINY_DEFAULTS, make_model_input  # noqa: E402

#: the tiny configurations the recorded digests were made with (frozen here: the tests' own now
#: follow the shipped parameter files, which change as defaults are tuned)
FROZEN_SNIPPETS = {
    "gan": {"name": "gan", "model": {"architecture": "mlp", "generator_hidden": [16, 32],
                                     "discriminator_hidden": [32, 16]},
            "objective": {"loss": "bce"}},
    "dcgan": {"name": "dcgan", "model": {"architecture": "dcgan", "base_channels": 4, "init": "dcgan"},
              "objective": {"loss": "bce"}},
    "wgan": {"name": "wgan", "model": {"architecture": "dcgan", "base_channels": 4},
             "objective": {"loss": "wasserstein", "clip_value": 0.01},
             "optimizer": {"name": "rmsprop", "lr_generator": 5e-5, "lr_discriminator": 5e-5},
             "training": {"n_critic": 2}},
    "wgan_gp": {"name": "wgan_gp", "model": {"architecture": "dcgan", "base_channels": 4,
                                             "discriminator_norm": "layer"},
                "objective": {"loss": "wasserstein", "gradient_penalty": 10.0},
                "optimizer": {"name": "adam", "lr_generator": 1e-4, "lr_discriminator": 1e-4, "betas": [0.0, 0.9]},
                "training": {"n_critic": 2}},
    "cgan": {"name": "cgan", "model": {"architecture": "mlp", "conditional": True, "embedding_dim": 4,
                                       "generator_hidden": [16, 32], "discriminator_hidden": [32, 16]},
             "objective": {"loss": "bce"}},
}


def run(model_input: dict, config: dict) -> tuple[dict, list[dict]]:
    """The parts of a checkpoint that training produced, by the names the digests were first
    recorded under (before the move, the checkpoint held them at its top level)."""
    result = train(model_input, config)
    checkpoint = result.checkpoint
    return {
        "generator": checkpoint["networks"]["generator"],
        "discriminator": checkpoint["networks"]["discriminator"],
        "ema_generator": checkpoint["ema"].get("generator"),
        "optimizer_generator": checkpoint["optimizers"]["generator"],
        "optimizer_discriminator": checkpoint["optimizers"]["discriminator"],
        "counters": [checkpoint["epoch"], checkpoint["step"], checkpoint["counters"]["generator"]],
    }, result.history


LOSS_COLUMNS = ("discriminator_loss", "generator_loss", "wasserstein_estimate")


def variant_digests(variant: str, resume_dir: str) -> dict[str, str]:
    torch.set_num_threads(1)
    model_input = make_model_input()
    config = resolve_experiment_config({**TINY_DEFAULTS, "resume": False, "resume_dir": resume_dir},
                                       FROZEN_SNIPPETS[variant])
    parts, history = run(model_input, config)
    digests = {name: content_digest(value) for name, value in parts.items()}
    digests["losses"] = content_digest([[round(row[c], 10) for c in LOSS_COLUMNS if c in row] for row in history])
    digests["training"] = content_digest({k: v for k, v in parts.items() if k != "ema_generator"})
    return digests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as resume_dir:
        found = {variant: variant_digests(variant, resume_dir) for variant in sorted(FROZEN_SNIPPETS)}
    print(json.dumps(found, indent=2))
    if args.output:
        args.output.write_text(json.dumps(found, indent=2) + "\n")
    if args.compare:
        before = json.loads(args.compare.read_text())
        for variant, digests in found.items():
            changed = [part for part, value in digests.items() if before.get(variant, {}).get(part) != value]
            print(f"{variant}: {'unchanged' if not changed else 'CHANGED: ' + ', '.join(changed)}")


if __name__ == "__main__":
    main()
