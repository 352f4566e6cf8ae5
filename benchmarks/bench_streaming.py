"""Streaming a training set from memory-mapped shards against holding it in memory.

    KEDRO_DISABLE_TELEMETRY=true .venv/bin/python benchmarks/bench_streaming.py \
        [--variants dcgan wgan_gp] [--epochs 4] [--workers 0 2] [--device cpu] \
        [--output benchmarks/results/streaming_throughput.md]

The default 5,000 digits, written as uint8 shards (``ganforge.gan.shards``) to a temporary
folder; each variant's shipped configuration trained ``--epochs`` epochs with the set in memory
(``training.data_in_memory: true``) and streamed (``false``) with each ``--workers`` count.
Images/s is the engine's own ``images_per_second``, the median over the epochs after the first.
Every run trains the same model (the paths give the same batches), so only the time differs.
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
from ganforge.gan.shards import write_shards  # noqa: E402


def images_per_second(model_input: dict, variant: str, epochs: int, device: str, in_memory: bool,
                      workers: int) -> float:
    with tempfile.TemporaryDirectory() as resume_dir:
        config = variant_config(variant, epochs, resume_dir)
        config["training"].update(device=device, data_in_memory=in_memory, data_loader_workers=workers)
        history = train(model_input, config).history
    return statistics.median(row["images_per_second"] for row in history[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=["dcgan", "wgan_gp"])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--workers", nargs="+", type=int, default=[0, 2])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/streaming_throughput.md"))
    args = parser.parse_args()

    model_input = load_model_input()
    header = " | ".join(f"streamed, {workers} workers" for workers in args.workers)
    lines = [f"# Streaming from shards against in memory ({time.strftime('%Y-%m-%d')})", "",
             f"`python benchmarks/bench_streaming.py --epochs {args.epochs} --workers "
             f"{' '.join(map(str, args.workers))} --device {args.device}`; torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads; images/s.", "",
             f"| variant | in memory | {header} |", "|---|---:|" + "---:|" * len(args.workers)]
    with tempfile.TemporaryDirectory() as folder:
        shards = {**model_input, "images": write_shards(model_input["images"], model_input["labels"], folder)}
        for variant in args.variants:
            memory = images_per_second(shards, variant, args.epochs, args.device, True, 0)
            streamed = [images_per_second(shards, variant, args.epochs, args.device, False, workers)
                        for workers in args.workers]
            cells = " | ".join(f"{value:.0f} ({value / memory:.2f}×)" for value in streamed)
            lines.append(f"| {variant} | {memory:.0f} | {cells} |")
            print(lines[-1], flush=True)
    args.output.write_text("\n".join(lines) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
