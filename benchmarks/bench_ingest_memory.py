"""Benchmark: peak memory and time of ingesting an image folder in memory against as shards.

    KEDRO_DISABLE_TELEMETRY=true .venv/bin/python benchmarks/bench_ingest_memory.py \
        [--counts 15000 30000] [--size 64] [--output benchmarks/results/ingest_memory.md]

For each of ``--counts``: writes that many smooth random RGB PNGs of ``--size``² (colour
blobs: upsampled 8×8 noise) into a temporary folder, copies the project there
(bench_data_pipeline.copy_project), and runs the real `kedro run --pipeline=data_processing` on
the folder twice: ``data.storage=memory`` and ``data.storage=shards``. Each run is the only child
of a fresh Python process, whose ``RUSAGE_CHILDREN`` maximum resident set size is therefore that
run's peak. The decoded set's size (N × 3 × size²) is printed beside it: the in-memory peak grows
with it, the streamed one should not.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_data_pipeline import copy_project  # noqa: E402

PEAK_OF_CHILD = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
                 "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)")


def write_folder(folder: Path, count: int, size: int) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for index in range(count):
        coarse = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
        coarse.resize((size, size), Image.Resampling.BILINEAR).save(folder / f"{index:06d}.png")


def peak_run(project: Path, params: str) -> tuple[float, float]:
    """(wall seconds, peak resident MiB) of one `kedro run --pipeline=data_processing`."""
    kedro = Path(sys.executable).with_name("kedro")
    command = [sys.executable, "-c", PEAK_OF_CHILD, str(kedro), "run", "--pipeline=data_processing",
               f"--params={params}"]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=project, capture_output=True, text=True,
                               env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true",
                                    "GANFORGE_BENCH_TIMINGS": str(project / "timings.json")})
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(completed.stdout[-3000:] + completed.stderr[-3000:])
    peak_kb = int(completed.stdout.split("PEAK_KB")[-1].split()[0])
    return wall, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", nargs="+", type=int, default=[15_000, 30_000])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/ingest_memory.md"))
    args = parser.parse_args()

    rows = []
    for count in args.counts:
        workdir = Path(tempfile.mkdtemp(prefix="ganforge-ingest-"))
        try:
            write_folder(workdir / "photos", count, args.size)
            project = workdir / "project"
            project.mkdir()
            copy_project(project)
            decoded_mib = count * 3 * args.size**2 / 1024**2
            base = (f"data.source=image_folder,data.path={workdir / 'photos'},data.image_size={args.size},"
                    "data.channels=3")
            for storage in ("memory", "shards"):
                wall, peak = peak_run(project, f"{base},data.storage={storage}")
                rows.append(f"| {count:,} | {decoded_mib:,.0f} | {storage} | {wall:.1f} | {peak:,.0f} |")
                print(rows[-1], flush=True)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    counts = " ".join(str(count) for count in args.counts)
    table = "\n".join([
        f"Ingest of RGB PNGs of {args.size}×{args.size} by `kedro run --pipeline=data_processing` on "
        f"{os.cpu_count()} CPU cores. Command: `python benchmarks/bench_ingest_memory.py --counts {counts} "
        f"--size {args.size}`.", "",
        "| images | decoded MiB | data.storage | wall s | peak resident MiB |", "|---:|---:|---|---:|---:|", *rows, ""])
    args.output.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
