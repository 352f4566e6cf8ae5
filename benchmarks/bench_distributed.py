"""Data-parallel training against one process, at the same global batch.

    KEDRO_DISABLE_TELEMETRY=true .venv/bin/python benchmarks/bench_distributed.py \
        [--variants dcgan wgan_gp] [--epochs 4] [--processes 2] [--device cpu] \
        [--output benchmarks/results/distributed_throughput.md]

For each variant, its shipped configuration (parameters_<variant>.yml over
parameters_training.yml) on the default 5,000 digits, trained twice back to back:

* ``one process``: ``training.batch_size`` B, all of the machine's threads (on CUDA: one GPU);
* ``N processes``: ``training.distributed`` with N processes of batch B / N each, the same global
  batch (on CPU the node's threads are split between them; on CUDA one GPU each).

Images/s is the engine's own ``images_per_second`` (global batch × steps / epoch seconds), the
median over the epochs after the first. The launch (starting N Python processes, building the
group) is reported separately as the wall time minus the epochs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_training import load_model_input, variant_config  # noqa: E402

from ganforge.gan import train  # noqa: E402


def measure(variant: str, epochs: int, processes: int, device: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as resume_dir:
        config = variant_config(variant, epochs, resume_dir)
        config["training"]["device"] = device
        if processes > 1:
            config["training"]["batch_size"] //= processes
            config["training"]["distributed"].update(enabled=True, nproc_per_node=processes)
        started = time.perf_counter()
        result = train(load_model_input(), config)
        wall = time.perf_counter() - started
    epoch_seconds = sum(row["seconds"] for row in result.history)
    return {"images_per_second": statistics.median(row["images_per_second"] for row in result.history[1:]),
            "overhead_seconds": wall - epoch_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=["dcgan", "wgan_gp"])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/distributed_throughput.md"))
    args = parser.parse_args()

    lines = [f"# Data-parallel training against one process ({time.strftime('%Y-%m-%d')})", "",
             f"`python benchmarks/bench_distributed.py --epochs {args.epochs} --processes {args.processes} "
             f"--device {args.device}`; torch {torch.__version__}, {torch.get_num_threads()} threads available.", "",
             f"| variant | global batch | one process (images/s) | {args.processes} processes (images/s) | ratio | "
             "launch overhead (s) |", "|---|---:|---:|---:|---:|---:|"]
    for variant in args.variants:
        batch = variant_config(variant, 1, "unused")["training"]["batch_size"]
        one = measure(variant, args.epochs, 1, args.device)
        several = measure(variant, args.epochs, args.processes, args.device)
        ratio = several["images_per_second"] / one["images_per_second"]
        lines.append(f"| {variant} | {batch} | {one['images_per_second']:.0f} | {several['images_per_second']:.0f} | "
                     f"{ratio:.2f} | {several['overhead_seconds'] - one['overhead_seconds']:.1f} |")
        print(lines[-1], flush=True)
    args.output.write_text("\n".join(lines) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
