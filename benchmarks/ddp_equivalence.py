"""How close data-parallel training comes to one process with the global batch, per variant.

    KEDRO_DISABLE_TELEMETRY=true .venv/bin/python benchmarks/ddp_equivalence.py \
        [--variants gan dcgan ...] [--images 64] [--batch 8] [--epochs 1] \
        [--output benchmarks/results/ddp_equivalence.md]

Each variant's shipped configuration with its networks shrunk as the tests shrink them
(``tests/training/conftest.py``), on random 16×16 images: one process with batch 2·B against two
gloo processes with batch B each, same seed. Reported: the largest absolute difference over every
floating-point tensor of the networks and their moving averages, and the tensor where it is.
The test (``tests/training/test_distributed.py``) holds one configuration to 1e-5; this shows
where and why the others differ.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ganforge.errors import ConfigError  # noqa: E402
from ganforge.gan import VARIANTS, domains_of, pair_domains, resolve_experiment_config, train  # noqa: E402
from tests.training.conftest import TINY_DEFAULTS, make_model_input, shipped_variant  # noqa: E402


def config(variant: dict, batch: int, processes: int, folder: str, epochs: int) -> dict:
    variant = copy.deepcopy(variant)
    variant.setdefault("training", {})["distributed"] = {"enabled": processes > 1, "nproc_per_node": processes}
    defaults = {**TINY_DEFAULTS, "resume_dir": folder, "batch_size": batch, "epochs": epochs, "grid_size": 4}
    return resolve_experiment_config(defaults, variant)


def largest_difference(first: dict, second: dict) -> tuple[float, str]:
    worst, where = 0.0, ""
    for part in ("networks", "ema"):
        for network, weights in first[part].items():
            for name, value in weights.items():
                if value.is_floating_point():
                    difference = (value - second[part][network][name]).abs().max().item()
                    if difference > worst:
                        worst, where = difference, f"{part}.{network}.{name}"
    return worst, where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=VARIANTS.names())
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/ddp_equivalence.md"))
    args = parser.parse_args()
    lines = [f"# Two gloo processes of batch {args.batch} against one of {2 * args.batch} "
             f"({time.strftime('%Y-%m-%d')})", "",
             f"`python benchmarks/ddp_equivalence.py --images {args.images} --batch {args.batch} --epochs "
             f"{args.epochs}`; torch {torch.__version__}.", "",
             "| variant | largest difference | where |", "|---|---:|---|"]
    for name in args.variants:
        variant = shipped_variant(name)
        if domains_of(name) == 2:
            data = pair_domains(make_model_input(count=args.images, classes=0),
                                make_model_input(count=args.images, classes=0, seed=1))
        else:
            data = make_model_input(count=args.images)
        try:
            with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
                single = train(data, config(variant, 2 * args.batch, 1, one, args.epochs)).checkpoint
                double = train(data, config(variant, args.batch, 2, two, args.epochs)).checkpoint
            worst, where = largest_difference(single, double)
            lines.append(f"| {name} | {worst:.1e} | `{where}` |")
        except ConfigError as error:
            lines.append(f"| {name} | refused | {error} |")
        print(lines[-1], flush=True)
    args.output.write_text("\n".join(lines) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
